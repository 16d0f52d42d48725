/* `steward ingest DATASET`: the ETL pre-ingest hook. Records on stdin, records with their
 * PII replaced on stdout, rejected records in a 0600 rejects file, a summary on stderr; or,
 * with --pipeline NAME, a member of a Kafka consumer group (kafka/), same record core. */
#include "cli.h"
#include "audit.h"
#include "alloc.h"
#include "file.h"
#include "ingest.h"
#include "kafka.h"
#include "pii.h"

#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: steward ingest DATASET [--purpose TEXT] [--format jsonl|csv] [--label FIELD]\n"
	"                      [--rejects FILE] [--unknown reject|drop] [--max-record BYTES]\n"
	"                      [--threads N]\n"
	"       steward ingest --pipeline NAME [DATASET] [--brokers HOSTS] [--source-topic T]\n"
	"                      [--output-topic T] [--rejects-topic T] [--group G]\n"
	"                      [--status-interval MS] [--json] [--purpose TEXT]\n\n"
	"Reads records on standard input and writes them to standard output with every field\n"
	"transformed as its descriptor says (hash, drop, mask, truncate, keep) and free-text\n"
	"fields scanned for PII. Each record is validated against the latest version of its\n"
	"schema; records that fail go to the rejects file with their line number and reason.\n"
	"DATASET may be a pattern such as 'events.*': the label field then names the dataset.\n\n"
	"  --purpose TEXT   why these records are pseudonymized, recorded in the audit log;\n"
	"                   needed below the admin role unless steward.yaml declares the\n"
	"                   pipeline under ingest.pipelines (see docs/ingest.md)\n"
	"  --format F       jsonl (default) or csv\n"
	"  --label FIELD    the field that names the dataset under a pattern (event_type)\n"
	"  --rejects FILE   the rejects file for rejected records, created with mode 0600; it\n"
	"                   holds raw PII (default: a new file in .steward/quarantine/)\n"
	"  --unknown P      a field that is not in the schema: reject the record (default)\n"
	"                   or drop the field\n"
	"  --max-record N   the longest record accepted, in bytes (default 1048576)\n"
	"  --threads N      worker threads (output order is kept)\n\n"
	"With --pipeline NAME, ingest is a member of a Kafka consumer group, configured under\n"
	"pipelines.NAME in steward.yaml; the other options override its settings. Each batch of\n"
	"records, their rewrites, their rejects (to the dead-letter topic) and the consumer's\n"
	"offsets are one Kafka transaction. A status line goes to standard error every\n"
	"status interval; SIGTERM or SIGINT commits the open transaction, leaves the group and\n"
	"exits 0. --json prints the run's counts on standard output at the end.\n\n"
	"A summary goes to standard error. Exit status: 0 all records passed, 1 some were\n"
	"rejected, 3 the plan is refused (PII without a transform), 4 no such dataset or key,\n"
	"6 refused (no role that may ingest, or no purpose).\n";

static int cmd_ingest(int argc, char **argv, struct cli_ctx *ctx);

const struct cli_cmd cli_cmd_ingest = {"ingest", "pseudonymize records before they land",
				       usage, cmd_ingest};

static void progress(void *ctx, uint64_t records, uint64_t bytes)
{
	(void)ctx;
	cli_fprintf(stderr, "\r  %llu records, %.1f MB", (unsigned long long)records, (double)bytes / 1e6);
}

/* Opens the rejects file through st_file_open_output(): a user's path is never in
 * .steward/, never standard input or output, never another user's file; the default is a
 * new file in .steward/quarantine/. Writes its path to shown. */
static int open_rejects(const char *path, const struct catalog_workspace *ws,
			struct st_file_output *out, char *shown, size_t n, struct st_error *err)
{
	const struct st_output_guard guard = {path ? ws->state_dir : NULL, NULL, 0};
	char def[4096];

	if (!path) {
		char *dir = catalog_workspace_state_path(ws, "quarantine");
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];

		if (!dir)
			return st_error_oom(err);
		if (mkdir(dir, 0700) && errno != EEXIST) {
			st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", dir, strerror(errno));
			st_free(dir);
			return -1;
		}
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(def, sizeof(def), "%s/rejects-%s-%ld.jsonl", dir, stamp, (long)getpid());
		st_free(dir);
		path = def;
	}
	if (st_file_open_output(out, path, "rejects file", &guard, 0, err))
		return -1;
	snprintf(shown, n, "%s", path);
	return 0;
}

static void summary(const char *dataset, const struct pii_ingest_stats *s, const char *rejects,
		    double secs)
{
	cli_fprintf(stderr, "ingest %s: %llu records in, %llu out, %llu rejected", dataset,
		(unsigned long long)s->in, (unsigned long long)s->out,
		(unsigned long long)s->rejected);
	if (s->suppressed)
		cli_fprintf(stderr, ", %llu suppressed (subjects who objected or were erased)",
			(unsigned long long)s->suppressed);
	if (s->rejected)
		cli_fprintf(stderr, " (rejects in '%s')", rejects);
	fputc('\n', stderr);
	for (int r = 0; r < PII_R_COUNT; r++)
		if (s->by_reason[r])
			cli_fprintf(stderr, "  %-18s %llu\n", pii_reject_code(r),
				(unsigned long long)s->by_reason[r]);
	cli_fprintf(stderr, "  %.1f MB in %.2f s (%.1f MB/s)\n", (double)s->bytes_in / 1e6, secs,
		secs > 0 ? (double)s->bytes_in / 1e6 / secs : 0.0);
}

struct pipeline_match {
	const char *dataset, *purpose;
	const char *file;
};

static int pipeline_entry(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct pipeline_match *m = u;

	if (!e->value || e->is_null || !*e->value) /* located at the key when there is no value */
		return st_error_set_at(err, ST_E_INVALID, m->file,
				       e->is_null ? e->key_line : e->line,
				       e->is_null ? e->key_col : e->col,
				       "ingest.pipelines: the purpose of '%s' must be a text",
				       e->key);
	if (!m->purpose && !fnmatch(e->key, m->dataset, 0))
		m->purpose = e->value;
	return 0;
}

/* The ingest's purpose (cli_ctx.admit): --purpose, else the first ingest.pipelines entry
 * whose pattern matches the dataset argument. A role below admin needs one (an admin too
 * with ingest.require_purpose: always): records of chosen values come back pseudonymized,
 * which is a pseudonym look-up, and pii hash needs a purpose for that. */
static int admit_purpose(const struct cli_ctx *ctx, const struct catalog_config *cfg, int role,
			 const char **purpose, char *reason, size_t reason_len, struct st_error *err)
{
	struct pipeline_match m = {ctx->object, NULL, cfg->file};
	const char *req = catalog_config_str(cfg, "ingest.require_purpose");
	int always;

	if (req && strcmp(req, "always") && strcmp(req, "below_admin"))
		return st_error_set(err, ST_E_INVALID,
				    "ingest.require_purpose in '%s' must be always or below_admin, "
				    "not '%s'",
				    cfg->file, req);
	always = req && !strcmp(req, "always");
	if (catalog_config_each(cfg, "ingest.pipelines",
				"ingest.pipelines must map dataset names or patterns to purposes",
				pipeline_entry, &m, err))
		return -1;
	if (!*purpose)
		*purpose = m.purpose;
	if (*purpose || (role >= AUDIT_ROLE_ADMIN && !always))
		return 0;
	snprintf(reason, reason_len, "needs a purpose");
	return st_error_set(err, ST_E_DENIED,
			    "'steward ingest' of '%s' needs a purpose ('%s' role): give --purpose "
			    "TEXT, or declare the pipeline under ingest.pipelines in steward.yaml",
			    ctx->object, audit_role_name(role));
}

struct ingest_args {
	struct cli_ctx *ctx;
	struct pii_ingest_opts *o;
	const char *rejects, *unknown;
	long threads, max_record;
	/* --pipeline and its overrides */
	const char *pipeline, *brokers, *source, *output, *dlq, *group;
	long status_ms;
	int json, threads_given;
};

static int ingest_opt(int c, const char *arg, void *u)
{
	struct ingest_args *a = u;

	switch (c) {
	case 'f':
		if (!strcmp(arg, "jsonl"))
			a->o->format = PII_FMT_JSONL;
		else if (!strcmp(arg, "csv"))
			a->o->format = PII_FMT_CSV;
		else
			return cli_usage_error(a->ctx, "unknown format '%s' (jsonl or csv)", arg);
		break;
	case 'l': a->o->label = arg; break;
	case 'p':
		if (!*arg)
			return cli_usage_error(a->ctx, "--purpose needs a text: why the records are "
						       "pseudonymized");
		a->ctx->purpose = arg;
		break;
	case 'r': a->rejects = arg; break;
	case 'u': a->unknown = arg; break;
	case 'm':
		if (cli_parse_count(a->ctx, "--max-record", arg, &a->max_record))
			return ST_E_USAGE;
		break;
	case 't':
		if (cli_parse_count(a->ctx, "--threads", arg, &a->threads))
			return ST_E_USAGE;
		a->threads_given = 1;
		break;
	case 'P': a->pipeline = arg; break;
	case 'B': a->brokers = arg; break;
	case 'S': a->source = arg; break;
	case 'O': a->output = arg; break;
	case 'D': a->dlq = arg; break;
	case 'G': a->group = arg; break;
	case 'I':
		if (cli_parse_count(a->ctx, "--status-interval", arg, &a->status_ms))
			return ST_E_USAGE;
		break;
	case 'j': a->json = 1; break;
	}
	return -1;
}

/* ---- the plan, built at the start and again when the key or the suppression list changes ---- */

struct plan_src {
	struct catalog *cat;
	struct pii_ingest_opts o;
	char *keydir;
	struct pii_keyring kr;
	char **sup_cat, **sup_pseu;
	size_t nsup;
	struct stat key_sb;  /* the keyring index when the plan was built */
	int data_version;    /* audit.db's, when the suppression list was read */
};

static int audit_data_version(void)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(audit_db(cli_audit_log()), "PRAGMA data_version", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void keyring_stat(const struct plan_src *ps, struct stat *sb)
{
	char path[4096];

	memset(sb, 0, sizeof(*sb));
	snprintf(path, sizeof(path), "%s/keyring", ps->keydir);
	stat(path, sb);
}

static void plan_src_release(struct plan_src *ps)
{
	pii_keyring_release(&ps->kr);
	st_free_strv(ps->sup_cat, ps->nsup);
	st_free_strv(ps->sup_pseu, ps->nsup);
	ps->sup_cat = ps->sup_pseu = NULL;
	ps->nsup = 0;
}

/* Reads the keyring and the suppression list and builds the plan into *ing. Prints the
 * fields that stop it. Returns 0, or -1 with err. */
static int plan_build(struct plan_src *ps, struct pii_ingest **ing, struct st_error *err)
{
	struct st_diags problems;
	int ret = -1;

	st_diags_init(&problems, 0);
	plan_src_release(ps);
	keyring_stat(ps, &ps->key_sb);
	ps->data_version = audit_data_version();
	if (pii_keyring_open(&ps->kr, ps->keydir, 1, err) ||
	    audit_suppression_load(audit_db(cli_audit_log()), &ps->sup_cat, &ps->sup_pseu,
				   &ps->nsup, err))
		goto out;
	ps->o.suppress_categories = (const char *const *)ps->sup_cat;
	ps->o.suppress_pseudonyms = (const char *const *)ps->sup_pseu;
	ps->o.nsuppress = ps->nsup;
	if (pii_ingest_new(ing, ps->cat, pii_keyring_current(&ps->kr), &ps->o, &problems, err)) {
		for (size_t i = 0; i < problems.n; i++)
			cli_error("%s", problems.v[i].msg);
		goto out;
	}
	ret = 0;
out:
	st_diags_release(&problems);
	return ret;
}

/* ---- --pipeline: the Kafka consumer group member ---- */

#define SECRET_MAX 1024

struct pipeline {
	const char *file, *name;
	int found;
	const char *brokers, *source, *output, *dlq, *group, *dataset, *purpose;
	long session_ms, batch, batch_ms, status_ms;
	int mirror_offsets;
	/* client properties; the values of secret ones are in secrets[] and wiped */
	const char *prop_names[12], *prop_values[12];
	size_t nprops;
	char *secrets[4];
	size_t nsecrets;
};

static int number(const struct catalog_config_entry *e, const char *file, long *out,
		  struct st_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = e->value ? strtol(e->value, &end, 10) : 0;
	if (!e->value || !*e->value || *end || errno || v <= 0 || v > 3600000)
		return st_error_set_at(err, ST_E_INVALID, file, e->line, e->col,
				       "pipelines: '%s' must be a positive number", e->key);
	*out = v;
	return 0;
}

/* Reads a secret from a file only its owner may read, or from an environment variable,
 * into a new buffer (wiped and freed with the pipeline). */
static int read_secret(struct pipeline *p, const char *setting, const char *src, int from_env,
		       const char **out, struct st_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat sb;
	int fd = -1, ret = -1;

	if (sodium_init() < 0 || p->nsecrets >= sizeof(p->secrets) / sizeof(*p->secrets) ||
	    !(buf = sodium_malloc(SECRET_MAX + 1)))
		return st_error_oom(err);
	p->secrets[p->nsecrets++] = buf;
	if (from_env) {
		const char *v = getenv(src);

		if (!v || !*v) {
			st_error_set(err, ST_E_INVALID,
				     "pipeline '%s': the environment variable '%s' (%s) is not set",
				     p->name, src, setting);
			goto out;
		}
		len = strlen(v);
		if (len > SECRET_MAX)
			goto toolong;
		memcpy(buf, v, len);
	} else {
		ssize_t k;

		if ((fd = st_file_open_private(src, "secret file", &sb, err)) < 0)
			goto out;
		while (len <= SECRET_MAX && (k = read(fd, buf + len, SECRET_MAX + 1 - len)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read secret file '%s': %s", src,
					     strerror(errno));
				goto out;
			}
			len += (size_t)k;
		}
		if (len > SECRET_MAX)
			goto toolong;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
	}
	buf[len] = '\0';
	*out = buf;
	ret = 0;
	goto out;
toolong:
	st_error_set(err, ST_E_INVALID, "pipeline '%s': the %s is longer than %d bytes", p->name,
		     setting, SECRET_MAX);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int add_prop(struct pipeline *p, const char *name, const char *value)
{
	if (p->nprops >= sizeof(p->prop_names) / sizeof(*p->prop_names))
		return -1;
	p->prop_names[p->nprops] = name;
	p->prop_values[p->nprops++] = value;
	return 0;
}

/* pipelines.NAME.security: TLS and SASL settings; secrets only from files or the
 * environment, so that steward.yaml (which roles and targets also live in) holds none. */
static int security_entry(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	static const char *const plain[][2] = {
		{"protocol", "security.protocol"},       {"sasl_mechanism", "sasl.mechanism"},
		{"sasl_username", "sasl.username"},      {"ssl_ca_file", "ssl.ca.location"},
		{"ssl_certificate_file", "ssl.certificate.location"},
		{"ssl_key_file", "ssl.key.location"},
	};
	static const char *const secret[][3] = {
		{"sasl_password", "sasl.password", "SASL password"},
		{"ssl_key_password", "ssl.key.password", "TLS key password"},
	};
	struct pipeline *p = u;
	size_t klen = strlen(e->key);

	if (!e->value || e->is_null || !*e->value)
		return st_error_set_at(err, ST_E_INVALID, p->file, e->key_line, e->key_col,
				       "pipelines: the security setting '%s' of '%s' must be a text",
				       e->key, p->name);
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		if (!strcmp(e->key, plain[i][0]))
			return add_prop(p, plain[i][1], e->value) ? st_error_oom(err) : 0;
	for (size_t i = 0; i < sizeof(secret) / sizeof(*secret); i++) {
		size_t n = strlen(secret[i][0]);
		const char *v = NULL;

		if (strncmp(e->key, secret[i][0], n))
			continue;
		if (klen == n)
			return st_error_set_at(err, ST_E_INVALID, p->file, e->key_line, e->key_col,
					       "pipelines: '%s' of '%s' must not be written in "
					       "steward.yaml: name a file (%s_file) or an environment "
					       "variable (%s_env)",
					       e->key, p->name, e->key, e->key);
		if (strcmp(e->key + n, "_file") && strcmp(e->key + n, "_env"))
			break;
		if (read_secret(p, secret[i][2], e->value, !strcmp(e->key + n, "_env"), &v, err))
			return -1;
		return add_prop(p, secret[i][1], v) ? st_error_oom(err) : 0;
	}
	return st_error_set_at(err, ST_E_INVALID, p->file, e->key_line, e->key_col,
			       "pipelines: unknown security setting '%s' of '%s'", e->key, p->name);
}

static const struct catalog_config *pipeline_cfg; /* for kpipe_entry's each_in */

static int pipeline_field(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	static const char *const names[] = {"brokers", "source", "output", "rejects",
					    "group",   "dataset", "purpose"};
	struct pipeline *p = u;
	const char **slot[] = {&p->brokers, &p->source, &p->output, &p->dlq,
			       &p->group,   &p->dataset, &p->purpose};

	if (!strcmp(e->key, "security"))
		return catalog_config_each_in(pipeline_cfg, e, "pipelines: security must map settings to "
						       "values",
					      security_entry, p, err);
	if (!strcmp(e->key, "session_timeout_ms"))
		return number(e, p->file, &p->session_ms, err);
	if (!strcmp(e->key, "batch_records"))
		return number(e, p->file, &p->batch, err);
	if (!strcmp(e->key, "batch_ms"))
		return number(e, p->file, &p->batch_ms, err);
	if (!strcmp(e->key, "status_interval_ms"))
		return number(e, p->file, &p->status_ms, err);
	if (!strcmp(e->key, "mirror_offsets")) {
		if (e->value && (!strcmp(e->value, "true") || !strcmp(e->value, "false"))) {
			p->mirror_offsets = !strcmp(e->value, "true");
			return 0;
		}
		return st_error_set_at(err, ST_E_INVALID, p->file, e->line, e->col,
				       "pipelines: 'mirror_offsets' must be true or false");
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (strcmp(e->key, names[i]))
			continue;
		if (!e->value || e->is_null || !*e->value)
			return st_error_set_at(err, ST_E_INVALID, p->file, e->key_line, e->key_col,
					       "pipelines: '%s' of '%s' must be a text", e->key,
					       p->name);
		*slot[i] = e->value;
		return 0;
	}
	return st_error_set_at(err, ST_E_INVALID, p->file, e->key_line, e->key_col,
			       "pipelines: unknown setting '%s' of '%s' (brokers, source, output, "
			       "rejects, group, dataset, purpose, security, session_timeout_ms, "
			       "batch_records, batch_ms, status_interval_ms, mirror_offsets)",
			       e->key, p->name);
}

static int kpipe_entry(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct pipeline *p = u;

	if (strcmp(e->key, p->name))
		return 0;
	p->found = 1;
	return catalog_config_each_in(pipeline_cfg, e, "pipelines: a pipeline must map settings "
						     "to values",
				      pipeline_field, p, err);
}

static void pipeline_release(struct pipeline *p)
{
	for (size_t i = 0; i < p->nsecrets; i++)
		sodium_free(p->secrets[i]); /* sodium_free wipes */
	p->nsecrets = 0;
}

/* Reads pipelines.NAME from steward.yaml and applies the command line's overrides. */
static int pipeline_load(struct pipeline *p, const struct catalog_config *cfg,
			 const struct ingest_args *a, const char *dataset, struct st_error *err)
{
	static const char *const what[] = {"brokers (brokers:, or --brokers)",
					   "source topic (source:, or --source-topic)",
					   "output topic (output:, or --output-topic)",
					   "dead-letter topic (rejects:, or --rejects-topic)",
					   "consumer group (group:, or --group)",
					   "dataset (dataset:, or the DATASET argument)"};
	const char **need[6];

	p->file = cfg->file;
	p->name = a->pipeline;
	pipeline_cfg = cfg;
	if (catalog_config_each(cfg, "pipelines", "pipelines must map pipeline names to settings",
				kpipe_entry, p, err))
		return -1;
	if (!p->found)
		return st_error_set(err, ST_E_NOTFOUND, "no pipeline '%s' in '%s' (pipelines:)",
				    p->name, cfg->file ? cfg->file : "steward.yaml");
	if (a->brokers)
		p->brokers = a->brokers;
	if (a->source)
		p->source = a->source;
	if (a->output)
		p->output = a->output;
	if (a->dlq)
		p->dlq = a->dlq;
	if (a->group)
		p->group = a->group;
	if (dataset)
		p->dataset = dataset;
	if (a->status_ms)
		p->status_ms = a->status_ms;
	need[0] = &p->brokers, need[1] = &p->source, need[2] = &p->output, need[3] = &p->dlq;
	need[4] = &p->group, need[5] = &p->dataset;
	for (int i = 0; i < 6; i++)
		if (!*need[i])
			return st_error_set(err, ST_E_USAGE, "pipeline '%s' names no %s", p->name,
					    what[i]);
	if (!strcmp(p->source, p->output) || !strcmp(p->source, p->dlq) ||
	    !strcmp(p->output, p->dlq))
		return st_error_set(err, ST_E_USAGE,
				    "pipeline '%s': the source, output and dead-letter topics must "
				    "be three different topics",
				    p->name);
	return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct kafka_ui {
	const char *name;
	struct plan_src *ps;
};

static void k_status(void *u, const struct kafka_stats *st)
{
	const struct kafka_ui *ui = u;
	char lag[32] = "?";

	if (st->lag >= 0)
		snprintf(lag, sizeof(lag), "%lld", (long long)st->lag);
	cli_fprintf(stderr,
		    "ingest %s: %d partitions, lag %s, %llu in, %llu out, %llu rejected, %llu "
		    "suppressed, %.0f records/s, %llu transactions, %llu aborted, %llu in the open "
		    "one\n",
		    ui->name, st->partitions, lag, (unsigned long long)st->in,
		    (unsigned long long)st->out, (unsigned long long)st->rejected,
		    (unsigned long long)st->suppressed, st->rate, (unsigned long long)st->txns,
		    (unsigned long long)st->aborted, (unsigned long long)st->open);
}

static void k_event(void *u, int warning, const char *msg)
{
	const struct kafka_ui *ui = u;

	cli_fprintf(stderr, "%singest %s: %s\n", warning ? "warning: " : "", ui->name, msg);
}

/* The plan is rebuilt when the keyring index changed (a rotation) or audit.db did (the
 * suppression list may have grown). */
static int k_changed(void *u)
{
	const struct kafka_ui *ui = u;
	struct stat sb;

	keyring_stat(ui->ps, &sb);
	return sb.st_ino != ui->ps->key_sb.st_ino || sb.st_size != ui->ps->key_sb.st_size ||
	       sb.st_mtim.tv_sec != ui->ps->key_sb.st_mtim.tv_sec ||
	       sb.st_mtim.tv_nsec != ui->ps->key_sb.st_mtim.tv_nsec ||
	       audit_data_version() != ui->ps->data_version;
}

static int k_reload(void *u, struct pii_ingest **ing, struct st_error *err)
{
	const struct kafka_ui *ui = u;

	pii_ingest_free(*ing);
	*ing = NULL;
	return plan_build(ui->ps, ing, err);
}

static void kafka_json(const struct pipeline *p, const struct kafka_stats *st)
{
	json_t *reasons = json_object(), *doc;

	for (int r = 0; r < PII_R_COUNT; r++)
		if (st->by_reason[r])
			json_object_set_new(reasons, pii_reject_code(r), json_integer((json_int_t)st->by_reason[r]));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, "
			"s:I, s:I, s:I, s:I, s:f}",
			"pipeline", p->name, "dataset", p->dataset, "source", p->source, "output",
			p->output, "rejects", p->dlq, "group", p->group, "in", (json_int_t)st->in,
			"out", (json_int_t)st->out, "rejected", (json_int_t)st->rejected,
			"suppressed", (json_int_t)st->suppressed, "by_reason", reasons,
			"transactions", (json_int_t)st->txns, "aborted_transactions",
			(json_int_t)st->aborted, "aborted_records", (json_int_t)st->aborted_records,
			"broker_errors", (json_int_t)st->broker_errors, "rebalances",
			(json_int_t)st->rebalances, "reloads", (json_int_t)st->reloads,
			"producers_replaced", (json_int_t)st->producers_replaced, "seconds",
			st->secs);
	cli_json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
}

static int run_pipeline(struct cli_ctx *ctx, struct pipeline *p, struct plan_src *ps,
			struct pii_ingest **ing, int json, struct st_error *err)
{
	struct kafka_pipeline_conf kc = {0};
	struct kafka_ui ui = {p->name, ps};
	struct kafka_hooks h = {&ui, k_status, k_event, k_changed, k_reload, &stop_flag};
	struct kafka_stats st;
	struct sigaction sa;
	int ret;

	kc.brokers = p->brokers;
	kc.source = p->source;
	kc.output = p->output;
	kc.rejects = p->dlq;
	kc.group = p->group;
	kc.prop_names = p->prop_names;
	kc.prop_values = p->prop_values;
	kc.nprops = p->nprops;
	kc.session_timeout_ms = (int)p->session_ms;
	kc.batch_max = (int)p->batch;
	kc.batch_ms = (int)p->batch_ms;
	kc.status_ms = (int)p->status_ms;
	kc.mirror_offsets = p->mirror_offsets;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ret = kafka_pipeline_run(&kc, ing, &h, &st, err);
	if (!st.started)
		return ret;
	/* the counts, also when the run stopped on an error: what was committed stays */
	cli_fprintf(stderr,
		    "ingest %s: %llu records in, %llu out, %llu rejected, %llu suppressed; %llu "
		    "transactions committed, %llu aborted\n",
		    p->name, (unsigned long long)st.in, (unsigned long long)st.out,
		    (unsigned long long)st.rejected, (unsigned long long)st.suppressed,
		    (unsigned long long)st.txns, (unsigned long long)st.aborted);
	if (json)
		kafka_json(p, &st);
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"in\":%llu,\"out\":%llu,\"rejected\":%llu,\"suppressed\":%llu}",
		 (unsigned long long)st.in, (unsigned long long)st.out,
		 (unsigned long long)st.rejected, (unsigned long long)st.suppressed);
	return ret;
}

/* With --pipeline, the dataset and the purpose come from pipelines.NAME: read before the
 * audit record is begun, so that the record names the dataset. */
static int pipeline_preload(struct cli_ctx *ctx, struct ingest_args *a, const char *dataset,
			    struct pipeline *p, struct catalog_config *cfg)
{
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	int code = 0;

	if (catalog_workspace_find(&ws, ctx->home, &err) || catalog_config_load(cfg, &ws, &err) ||
	    pipeline_load(p, cfg, a, dataset, &err))
		code = cli_fail(&err);
	catalog_workspace_release(&ws);
	return code;
}

static int cmd_ingest(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},  {"label", required_argument, NULL, 'l'},
		{"rejects", required_argument, NULL, 'r'}, {"unknown", required_argument, NULL, 'u'},
		{"max-record", required_argument, NULL, 'm'},
		{"threads", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"pipeline", required_argument, NULL, 'P'},
		{"brokers", required_argument, NULL, 'B'},
		{"source-topic", required_argument, NULL, 'S'},
		{"output-topic", required_argument, NULL, 'O'},
		{"rejects-topic", required_argument, NULL, 'D'},
		{"group", required_argument, NULL, 'G'},
		{"status-interval", required_argument, NULL, 'I'},
		{"json", no_argument, NULL, 'j'}, CLI_COMMON_OPTIONS,
		{0}};
	struct catalog_workspace ws = {0};
	const struct catalog_config *cfg;
	struct catalog_config pcfg = {0};
	struct pipeline pipe = {0};
	struct plan_src ps = {0};
	struct pii_ingest_stats stats;
	struct st_error err = ST_ERROR_INIT;
	struct pii_ingest *ing = NULL;
	struct timespec t0, t1;
	const char *rejects = NULL, *unknown = NULL;
	char shown[4096] = "";
	struct ingest_args a = {0};
	long threads, max_record;
	struct st_file_output rej = {.fd = -1, .dirfd = -1};
	int code = 0;

	a.ctx = ctx;
	a.o = &ps.o;
	a.threads = 1;
	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_ingest, opts, ingest_opt, &a)) >= 0)
		return code;
	rejects = a.rejects;
	unknown = a.unknown;
	threads = a.threads;
	max_record = a.max_record;
	if (a.pipeline) {
		if (argc - optind > 1)
			return cli_usage_error(ctx, "give at most one dataset with --pipeline");
		if (ps.o.format == PII_FMT_CSV)
			return cli_usage_error(ctx, "a pipeline reads JSON records, one per message, "
						    "not csv");
		if (rejects)
			return cli_usage_error(ctx, "a pipeline's rejects go to its dead-letter topic "
						    "(--rejects-topic), not to a file");
		if (a.threads_given)
			return cli_usage_error(ctx, "a pipeline runs on one thread: start more "
						    "processes in the same group instead");
		if ((code = pipeline_preload(ctx, &a, argc - optind ? argv[optind] : NULL, &pipe,
					     &pcfg)))
			goto out;
		ps.o.dataset = pipe.dataset;
		if (!ctx->purpose)
			ctx->purpose = pipe.purpose;
	} else {
		if (a.brokers || a.source || a.output || a.dlq || a.group || a.status_ms || a.json)
			return cli_usage_error(ctx, "--brokers, --source-topic, --output-topic, "
						    "--rejects-topic, --group, --status-interval and "
						    "--json go with --pipeline");
		if (argc - optind != 1)
			return cli_usage_error(ctx, "give one dataset name or pattern");
		ps.o.dataset = argv[optind];
	}
	if (threads > 64)
		return cli_usage_error(ctx, "--threads is at most 64");
	ctx->action = "pii.ingest";
	ctx->object = ps.o.dataset;
	ctx->admit = admit_purpose;
	if ((code = cli_open_catalog(ctx, &ws, &ps.cat)))
		goto out;
	cfg = cli_config();
	if (!unknown)
		unknown = catalog_config_str(cfg, "ingest.unknown_fields");
	if (unknown && strcmp(unknown, "reject") && strcmp(unknown, "drop")) {
		code = cli_usage_error(ctx, "unknown-field policy must be reject or drop, not '%s'",
				       unknown);
		goto out;
	}
	ps.o.unknown = unknown && !strcmp(unknown, "drop") ? PII_UNKNOWN_DROP : PII_UNKNOWN_REJECT;
	if (!max_record && catalog_config_str(cfg, "ingest.max_record_bytes") &&
	    cli_parse_count(ctx, "ingest.max_record_bytes in steward.yaml",
			    catalog_config_str(cfg, "ingest.max_record_bytes"), &max_record)) {
		code = ST_E_USAGE;
		goto out;
	}
	if (max_record > (64L << 20)) {
		code = cli_usage_error(ctx, "the record limit is at most %ld bytes", 64L << 20);
		goto out;
	}
	ps.o.max_record = (size_t)max_record;
	ps.o.country_code = pii_country_calling_code(catalog_config_str(cfg, "pii.default_country"));
	ps.o.region = catalog_config_str(cfg, "pii.default_country");
	if (isatty(STDERR_FILENO) && !a.pipeline) {
		ps.o.progress = progress;
		ps.o.progress_every = 100000;
	}
	if (!(ps.keydir = catalog_workspace_state_path(&ws, "keys"))) {
		st_error_oom(&err);
		goto fail;
	}
	if (plan_build(&ps, &ing, &err))
		goto fail;
	if (a.pipeline) {
		if (run_pipeline(ctx, &pipe, &ps, &ing, a.json, &err))
			goto fail;
		code = 0;
		goto out;
	}
	if (open_rejects(rejects, &ws, &rej, shown, sizeof(shown), &err))
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pii_ingest_run(ing, STDIN_FILENO, STDOUT_FILENO, rej.fd, (int)threads, &stats, &err)) {
		if (ps.o.progress)
			fputc('\n', stderr);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ps.o.progress && stats.in >= ps.o.progress_every)
		fputc('\n', stderr);
	if (st_file_output_commit(&rej, &err))
		goto fail;
	summary(ps.o.dataset, &stats, shown,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (!stats.rejected && !rejects)
		unlink(shown); /* an empty default rejects file is just noise */
	code = stats.rejected ? ST_FINDINGS : 0;
	snprintf(ctx->counts, sizeof(ctx->counts),
		 "{\"in\":%llu,\"out\":%llu,\"rejected\":%llu,\"suppressed\":%llu}",
		 (unsigned long long)stats.in, (unsigned long long)stats.out,
		 (unsigned long long)stats.rejected, (unsigned long long)stats.suppressed);
	goto out;
fail:
	code = cli_fail(&err);
out:
	st_file_output_release(&rej);
	pii_ingest_free(ing);
	plan_src_release(&ps);
	st_free(ps.keydir);
	catalog_free(ps.cat);
	catalog_workspace_release(&ws);
	pipeline_release(&pipe);
	catalog_config_release(&pcfg);
	return code;
}
