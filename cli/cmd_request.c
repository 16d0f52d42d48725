/* `steward request new|extend|plan|run|list|show`: data-subject requests (erasure, access,
 * objection) from receipt to evidence, within their legal deadline. */
#include "cli.h"
#include "alloc.h"
#include "audit.h"
#include "file.h"
#include "pii.h"
#include "target.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_cmd cli_cmd_request_new, cli_cmd_request_extend, cli_cmd_request_plan,
	cli_cmd_request_run, cli_cmd_request_list, cli_cmd_request_show;

#define VALUE_MAX 1024

/* Everything a request command may hold open; released by session_release(). */
struct session {
	struct catalog_workspace ws;
	const struct catalog_config *cfg; /* cli_config() */
	struct catalog *cat;
	struct pii_keyring kr;
	char *keydir;
	int have_ws;
};

static void session_release(struct session *s)
{
	catalog_free(s->cat);
	pii_keyring_release(&s->kr);
	st_free(s->keydir);
	if (s->have_ws)
		catalog_workspace_release(&s->ws);
	memset(s, 0, sizeof(*s));
}

/* Finds the workspace (recording the command), then opens what is asked for. Returns 0, or
 * an exit code after printing. */
static int session_open(struct session *s, const struct cli_ctx *ctx, int catalog, int keys)
{
	struct st_error err = ST_ERROR_INIT;
	int code;

	memset(s, 0, sizeof(*s));
	if ((code = cli_find_workspace(ctx, &s->ws)))
		return code;
	s->have_ws = 1;
	s->cfg = cli_config();
	if (catalog && catalog_open(&s->cat, &s->ws, &err))
		return cli_fail(&err);
	if (keys) {
		if (!(s->keydir = catalog_workspace_state_path(&s->ws, "keys"))) {
			st_error_oom(&err);
			return cli_fail(&err);
		}
		if (pii_keyring_open(&s->kr, s->keydir, 1, &err))
			return cli_fail(&err);
		if (!pii_keyring_current(&s->kr)) {
			st_error_set(&err, ST_E_NOTFOUND, "no current key (run 'steward key init')");
			return cli_fail(&err);
		}
	}
	return 0;
}


static int one_id(int argc, char **argv, struct cli_ctx *ctx, const char **id)
{
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc == optind ? "which request? give its id"
							   : "give one request id");
	*id = argv[optind];
	if (strlen(*id) >= AUDIT_ID_MAX)
		return cli_usage_error(ctx, "'%.40s...' is not a request id", *id);
	return -1;
}


/* ---- new ------------------------------------------------------------------------------- */

static const char new_usage[] =
	"usage: steward request new erase|access|object --subject CATEGORY:VALUE\n"
	"                           [--received YYYY-MM-DD] [--regime gdpr|ccpa]\n\n"
	"Records a data-subject request and prints its id alone. The subject is given by one\n"
	"identifier, e.g. user.unique_id:12345 or user.contact.email:a@b.com; only its\n"
	"pseudonym is kept. With CATEGORY:- the value is read from standard input, so it stays\n"
	"out of shell history and the process list.\n\n"
	"  --received DATE   when the request arrived (default: today, UTC)\n"
	"  --regime R        gdpr (default): due one calendar month after receipt, clamped to\n"
	"                    the month's end; ccpa: due 45 days after receipt\n";

struct new_opts {
	const char *subject, *received, *regime;
};

static int new_opt(int c, const char *arg, void *u)
{
	struct new_opts *o = u;

	if (c == 's')
		o->subject = arg;
	else if (c == 'r')
		o->received = arg;
	else
		o->regime = arg;
	return -1;
}

/* Reads the subject's value from stdin (one line) into buf. */
static int read_value(char *buf, size_t n, size_t *len)
{
	size_t k = 0;
	int ch;

	while ((ch = getchar()) != EOF && ch != '\n') {
		if (k + 1 >= n)
			return -1;
		buf[k++] = (char)ch;
	}
	if (k && buf[k - 1] == '\r')
		k--;
	buf[k] = '\0';
	*len = k;
	return 0;
}

static int cmd_new(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"subject", required_argument, NULL, 's'},
					     {"received", required_argument, NULL, 'r'},
					     {"regime", required_argument, NULL, 'g'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct new_opts o = {0};
	struct session s = {0};
	struct audit_date received;
	char category[128], value[VALUE_MAX], id[AUDIT_ID_MAX];
	char pseu[8][AUDIT_PSEUDONYM_MAX];
	const char *list[8], *colon;
	size_t len = 0, np;
	int code, kind, regime = AUDIT_GDPR;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_new, opts, new_opt, &o)) >= 0)
		return code;
	if (argc - optind != 1)
		return cli_usage_error(ctx, "give one kind: erase, access or object");
	if ((kind = audit_req_kind_parse(argv[optind])) < 0)
		return cli_usage_error(ctx, "unknown request kind '%s' (erase, access or object)",
				       argv[optind]);
	if (!o.subject)
		return cli_usage_error(ctx, "--subject CATEGORY:VALUE is required");
	colon = strchr(o.subject, ':');
	if (!colon || colon == o.subject || (size_t)(colon - o.subject) >= sizeof(category) ||
	    !colon[1])
		return cli_usage_error(ctx, "--subject needs CATEGORY:VALUE, e.g. "
					    "user.unique_id:12345");
	memcpy(category, o.subject, (size_t)(colon - o.subject));
	category[colon - o.subject] = '\0';
	if (o.regime && (regime = audit_regime_parse(o.regime)) < 0)
		return cli_usage_error(ctx, "unknown regime '%s' (gdpr or ccpa)", o.regime);
	received = audit_date_from_ms(audit_now_ms());
	if (o.received && audit_date_parse(o.received, &received))
		return cli_usage_error(ctx, "--received needs a date such as 2026-01-31, not '%s'",
				       o.received);
	if (audit_date_diff(audit_date_from_ms(audit_now_ms()), received) > 0)
		return cli_usage_error(ctx, "--received '%s' is in the future", o.received);
	if (catalog_category_check(category, &err))
		return cli_fail(&err);
	ctx->action = "request.new";
	ctx->object = argv[optind];
	if ((code = session_open(&s, ctx, 0, 1)))
		goto out;
	if (!strcmp(colon + 1, "-")) {
		if (read_value(value, sizeof(value), &len) || !len) {
			st_error_set(&err, ST_E_INVALID, len ? "the subject is too long"
							     : "no subject on standard input");
			code = cli_fail(&err);
			goto out;
		}
	} else {
		len = strlen(colon + 1);
		if (len >= sizeof(value)) {
			st_error_set(&err, ST_E_INVALID, "the subject is too long");
			code = cli_fail(&err);
			goto out;
		}
		memcpy(value, colon + 1, len + 1);
	}
	if (pii_subject_check(value, len, &err)) {
		st_error_prefix(&err, "the subject is refused");
		code = cli_fail(&err);
		goto out;
	}
	if (pii_subject_pseudonyms(&s.kr, category, value, len,
			       pii_country_calling_code(
				       catalog_config_str(s.cfg, "pii.default_country")),
			       pseu, 8, &np, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < np; i++)
		list[i] = pseu[i];
	if (audit_request_create(cli_audit_log(), cli_audit_actor(), kind, regime, category, list,
				 np, received, id, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	puts(id);
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"request\":\"%s\",\"pseudonym\":\"%s\"}", id,
		 pseu[0]);
out:
	sodium_memzero(value, sizeof(value));
	session_release(&s);
	return code;
}

/* ---- extend ---------------------------------------------------------------------------- */

static const char extend_usage[] =
	"usage: steward request extend ID --reason TEXT\n\n"
	"Extends the request's deadline once: by two months under GDPR (Art. 12(3)), by 45 days\n"
	"under CCPA. The reason is recorded and shown in reports; keep personal data out of it.\n";

static int reason_opt(int c, const char *arg, void *u)
{
	(void)c;
	*(const char **)u = arg;
	return -1;
}

static int cmd_extend(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"reason", required_argument, NULL, 'r'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct session s = {0};
	struct audit_request r;
	const char *reason = NULL, *id = NULL;
	char due[11], *clean = NULL;
	size_t found = 0;
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_extend, opts, reason_opt, &reason)) >=
	    0)
		return code;
	if ((code = one_id(argc, argv, ctx, &id)) >= 0)
		return code;
	if (!reason || !*reason)
		return cli_usage_error(ctx, "--reason is required: the law asks why");
	if (strlen(reason) > 500)
		return cli_usage_error(ctx, "--reason is limited to 500 characters");
	ctx->action = "request.extend";
	ctx->object = id;
	if ((code = session_open(&s, ctx, 0, 0)))
		goto out;
	/* The reason is free text shown in reports: personal data typed into it is replaced. */
	if ((clean = pii_redact(reason, strlen(reason), &found)))
		reason = clean;
	if (found && !clean) {
		code = cli_fail((st_error_oom(&err), &err));
		goto out;
	}
	if (audit_request_extend(cli_audit_log(), cli_audit_actor(), id, reason, &err) ||
	    audit_request_get(audit_db(cli_audit_log()), id, &r, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	audit_date_format(r.extended_due, due);
	cli_printf("%s: deadline extended to %s\n", id, due);
out:
	st_free(clean);
	session_release(&s);
	return code;
}

/* ---- plan ------------------------------------------------------------------------------ */

static const char plan_usage[] =
	"usage: steward request plan ID [--json]\n\n"
	"Shows every dataset of the catalog that may hold the request's subject: the field the\n"
	"subject is matched on (raw values are hashed and compared; pseudonymous fields are\n"
	"compared as they are), the erasure action, and the target bound in steward.yaml.\n"
	"Datasets without a target need manual work and are listed apart.\n";

static int json_opt(int c, const char *arg, void *u)
{
	(void)c;
	(void)arg;
	*(int *)u = 1;
	return -1;
}

static const char *erase_text(const struct audit_plan_item *it, char *buf, size_t n)
{
	if (it->erase_action == AUDIT_ERASE_NULLIFY) {
		size_t k = (size_t)snprintf(buf, n, "nullify ");

		for (size_t i = 0; i < it->nnullify && k < n; i++)
			k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "", it->nullify[i]);
		return buf;
	}
	return it->erasure_declared ? "delete" : "delete (default)";
}

static const char *match_text(const struct audit_plan_item *it, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s (%s%s", it->match_field,
			 !it->match_category			    ? "no category"
			 : it->match_mode == AUDIT_MATCH_PSEUDONYM ? "pseudonym"
								    : "raw, hashed",
			 it->direct ? "" : ", resolved");

	if (k > 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, it->alt_field ? ", or %s)" : ")",
			 it->alt_field);
	return buf;
}

static int load_request_plan(struct session *s, const char *id, struct audit_request *r,
			     struct audit_plan *p)
{
	struct st_error err = ST_ERROR_INIT;

	if (audit_request_get(audit_db(cli_audit_log()), id, r, &err) ||
	    audit_plan_build(s->cat, s->cfg, s->ws.config, r, p, &err))
		return cli_fail(&err);
	return 0;
}

static int cmd_plan(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct session s = {0};
	struct audit_request r;
	struct audit_plan p = {0};
	const char *id = NULL;
	char a[256], b[256], due[11];
	int code, json = 0, manual = 0;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_plan, opts, json_opt, &json)) >= 0)
		return code;
	if ((code = one_id(argc, argv, ctx, &id)) >= 0)
		return code;
	ctx->action = "request.plan";
	ctx->object = id;
	if ((code = session_open(&s, ctx, 1, 0)) || (code = load_request_plan(&s, id, &r, &p)))
		goto out;
	if (json) {
		code = cli_print_json(audit_plan_json(&r, &p));
		goto out;
	}
	audit_date_format(audit_request_deadline(&r), due);
	cli_printf("request %s: %s %s, subject %s %s, due %s\n\n", r.id, audit_regime_name(r.regime),
	       audit_req_kind_name(r.kind), r.category, r.pseudonym, due);
	cli_printf("%-26s %-40s %-28s %s\n", "DATASET", "MATCH", "ERASURE", "TARGET");
	for (size_t i = 0; i < p.n; i++) {
		if (!p.v[i].uri) {
			manual++;
			continue;
		}
		cli_printf("%-26s %-40s %-28s %s%s%s%s\n", p.v[i].dataset,
		       match_text(&p.v[i], a, sizeof(a)), erase_text(&p.v[i], b, sizeof(b)),
		       p.v[i].uri, p.v[i].verify ? " (verify " : "",
		       p.v[i].verify ? p.v[i].verify : "", p.v[i].verify ? ")" : "");
	}
	if (manual) {
		cli_printf("\nno target bound (manual work, or bind one under 'targets' in "
		       "steward.yaml):\n");
		for (size_t i = 0; i < p.n; i++)
			if (!p.v[i].uri)
				cli_printf("  %-24s %-40s %s\n", p.v[i].dataset,
				       match_text(&p.v[i], a, sizeof(a)),
				       erase_text(&p.v[i], b, sizeof(b)));
	}
	for (size_t i = 0; i < p.nstray; i++)
		cli_fprintf(stderr, "warning: steward.yaml binds a target to '%s', which is not in the "
				"catalog\n",
			p.stray[i]);
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"datasets\":%zu,\"manual\":%d}", p.n,
		 manual);
out:
	audit_plan_release(&p);
	session_release(&s);
	return code;
}

/* ---- run ------------------------------------------------------------------------------- */

static const char run_usage[] =
	"usage: steward request run (ID | --due) [--exports DIR]\n\n"
	"Carries the request out against every target bound in steward.yaml, and records\n"
	"evidence for each: rows matched and changed, files rewritten, HTTP status, attempts,\n"
	"time. Running it again retries only what failed. A request is completed when every\n"
	"target is done. Erase and object requests put the subject on the suppression list, so\n"
	"'steward ingest' drops their records from then on. An access request writes a JSON\n"
	"bundle of the subject's records (default: .steward/exports/ID.json, mode 0600: it\n"
	"holds personal data, so deliver it and delete it). --due runs every open request,\n"
	"the nearest deadline first. One run per request at a time: a second run of a request\n"
	"being run is refused (exit 6), naming the run that holds it; --due skips it and runs\n"
	"the others.\n"
	"Exit status: 0 when every request run is completed, 1 when a target failed.\n";

struct run_opts {
	int due;
	const char *exports;
};

static int run_opt(int c, const char *arg, void *u)
{
	struct run_opts *o = u;

	if (c == 'd')
		o->due = 1;
	else
		o->exports = arg;
	return -1;
}

static long config_long(const struct catalog_config *cfg, const char *path)
{
	const char *s = catalog_config_str(cfg, path);
	char *end;
	long v;

	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	return *end || v < 0 ? -1 : v;
}

struct due_list {
	char (*ids)[AUDIT_ID_MAX];
	struct audit_date *deadline;
	size_t n, cap, capd;
	int oom;
};

static int collect_open(void *u, const struct audit_request *r)
{
	struct due_list *d = u;

	if (r->completed)
		return 0;
	if (st_grow(&d->ids, &d->cap, d->n + 1, sizeof(*d->ids)) ||
	    st_grow(&d->deadline, &d->capd, d->n + 1, sizeof(*d->deadline))) {
		d->oom = 1;
		return 1;
	}
	memcpy(d->ids[d->n], r->id, AUDIT_ID_MAX);
	d->deadline[d->n++] = audit_request_deadline(r);
	return 0;
}

static int run_request(struct session *s, const char *id, const struct audit_run_opts *ro,
		       struct audit_run_result *res)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_request r;
	struct audit_plan p = {0};
	int code;

	if ((code = load_request_plan(s, id, &r, &p)))
		return code;
	for (size_t i = 0; i < p.nstray; i++)
		cli_fprintf(stderr, "warning: steward.yaml binds a target to '%s', which is not in the "
				"catalog\n",
			p.stray[i]);
	if (audit_request_run(cli_audit_log(), cli_audit_actor(), &p, &r, &s->kr, ro, res, &err))
		code = cli_fail(&err);
	audit_plan_release(&p);
	return code;
}

static int print_targets(void *u, const struct audit_req_target *t)
{
	(void)u;
	if (strcmp(t->status, "done"))
		cli_printf("  %-24s %-7s %s\n", t->dataset, t->status, t->detail ? t->detail : "");
	return 0;
}


static int cmd_run(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"due", no_argument, NULL, 'd'},
					     {"exports", required_argument, NULL, 'e'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct session s = {0};
	struct run_opts o = {0};
	struct audit_run_opts ro = {0};
	struct st_output_guard exports_guard = {0};
	struct due_list due = {0};
	char *exports = NULL;
	const char *id = NULL;
	size_t total_run = 0, failed = 0;
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_run, opts, run_opt, &o)) >= 0)
		return code;
	if (o.due && optind < argc)
		return cli_usage_error(ctx, "give a request id or --due, not both");
	if (!o.due && (code = one_id(argc, argv, ctx, &id)) >= 0)
		return code;
	ctx->action = "request.run";
	ctx->object = o.due ? "due" : id;
	if ((code = session_open(&s, ctx, 1, 1)))
		goto out;
	ro.country_code = pii_country_calling_code(catalog_config_str(s.cfg,
								       "pii.default_country"));
	ro.connect_timeout_ms = config_long(s.cfg, "requests.http_connect_timeout_ms");
	ro.timeout_ms = config_long(s.cfg, "requests.http_timeout_ms");
	ro.backoff_ms = config_long(s.cfg, "requests.http_backoff_ms");
	ro.max_attempts = (int)config_long(s.cfg, "requests.http_attempts");
	ro.retry_after_max_s = config_long(s.cfg, "requests.http_retry_after_max_s");
	if (ro.connect_timeout_ms < 0 || ro.timeout_ms < 0 || ro.backoff_ms < 0 ||
	    ro.max_attempts < 0 || ro.max_attempts > 20 || ro.retry_after_max_s < 0 ||
	    ro.retry_after_max_s > 3600) {
		st_error_set(&err, ST_E_INVALID,
			     "'requests' settings in '%s' need whole numbers (http_attempts at most 20, "
			     "http_retry_after_max_s at most 3600)",
			     s.ws.config);
		code = cli_fail(&err);
		goto out;
	}
	if (!ro.retry_after_max_s && catalog_config_str(s.cfg, "requests.http_retry_after_max_s"))
		ro.retry_after_max_s = -1; /* 0 given: no Retry-After is waited for */
	exports = o.exports ? st_strdup(o.exports) : catalog_workspace_state_path(&s.ws, "exports");
	if (!exports) {
		st_error_oom(&err);
		code = cli_fail(&err);
		goto out;
	}
	ro.exports_dir = exports;
	ro.skip_held = o.due;
	if (o.exports) { /* the default is steward's own place in .steward/ */
		exports_guard.state_dir = s.ws.state_dir;
		ro.exports_guard = &exports_guard;
		if (st_file_check_output_dir(o.exports, "exports directory", &exports_guard, &err)) {
			code = cli_fail(&err);
			goto out;
		}
	}
	if (o.due) {
		if (audit_request_each(audit_db(cli_audit_log()), collect_open, &due, &err) ||
		    (due.oom && st_error_oom(&err))) {
			code = cli_fail(&err);
			goto out;
		}
		/* Nearest deadline first (insertion sort: the list is short). */
		for (size_t i = 1; i < due.n; i++)
			for (size_t j = i; j > 0 && audit_date_diff(due.deadline[j],
								    due.deadline[j - 1]) > 0;
			     j--) {
				char t[AUDIT_ID_MAX];
				struct audit_date d = due.deadline[j];

				memcpy(t, due.ids[j], AUDIT_ID_MAX);
				memcpy(due.ids[j], due.ids[j - 1], AUDIT_ID_MAX);
				memcpy(due.ids[j - 1], t, AUDIT_ID_MAX);
				due.deadline[j] = due.deadline[j - 1];
				due.deadline[j - 1] = d;
			}
	}
	for (size_t i = 0; i < (o.due ? due.n : 1); i++) {
		struct audit_run_result res;
		const char *rid = o.due ? due.ids[i] : id;

		if ((code = run_request(&s, rid, &ro, &res)))
			goto out;
		if (res.held[0]) { /* --due: that run carries it out */
			cli_printf("%s: skipped: %s\n", rid, res.held);
			continue;
		}
		total_run += res.run;
		failed += res.failed;
		cli_printf("%s: %zu target%s, %zu done, %zu not done%s; %s\n", rid, res.targets,
		       res.targets == 1 ? "" : "s", res.done, res.failed,
		       res.manual ? " (and datasets needing manual work: see 'request plan')" : "",
		       res.completed ? "completed" : "open");
		if (res.unverified)
			cli_printf("  %zu target%s unverified (no re-scan could check the erasure): see "
			       "'request show %s'\n",
			       res.unverified, res.unverified == 1 ? "" : "s", rid);
		if (res.failed)
			audit_request_history(audit_db(cli_audit_log()), rid, NULL,
					      print_targets, NULL, &err);
		if (res.bundle[0])
			cli_printf("access bundle: %s\n", res.bundle);
	}
	if (o.due && !due.n)
		cli_printf("no open requests\n");
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"targets_run\":%zu,\"not_done\":%zu}",
		 total_run, failed);
	code = failed ? ST_FINDINGS : 0;
out:
	st_free(due.ids);
	st_free(due.deadline);
	st_free(exports);
	session_release(&s);
	return code;
}

/* ---- list ------------------------------------------------------------------------------ */

static const char list_usage[] =
	"usage: steward request list [--overdue] [--json]\n\n"
	"Lists requests with their deadlines. Exit status 1 when any request is overdue, so\n"
	"cron and monitoring can alert.\n";

struct list_state {
	int overdue_only, json;
	struct audit_date today;
	json_t *arr;
	size_t n, overdue;
};

static int list_opt(int c, const char *arg, void *u)
{
	struct list_state *l = u;

	(void)arg;
	if (c == 'o')
		l->overdue_only = 1;
	else
		l->json = 1;
	return -1;
}

static int list_one(void *u, const struct audit_request *r)
{
	struct list_state *l = u;
	int overdue = audit_request_overdue(r, l->today);
	char rec[11], due[11];

	l->overdue += overdue;
	if (l->overdue_only && !overdue)
		return 0;
	l->n++;
	audit_date_format(r->received, rec);
	audit_date_format(audit_request_deadline(r), due);
	if (l->json)
		return json_array_append_new(l->arr, audit_request_list_json(r, l->today));
	cli_printf("%-16s %-7s %-5s %-26s %-10s %-10s%s %s\n", r->id, audit_req_kind_name(r->kind),
	       audit_regime_name(r->regime), r->category, rec, due, r->extended ? "*" : " ",
	       r->completed ? "completed" : overdue ? "OVERDUE" : "open");
	return 0;
}

static int cmd_list(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"overdue", no_argument, NULL, 'o'},
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct session s = {0};
	struct list_state l = {0};
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_list, opts, list_opt, &l)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	ctx->action = "request.list";
	if ((code = session_open(&s, ctx, 0, 0)))
		goto out;
	l.today = audit_date_from_ms(audit_now_ms());
	if (l.json && !(l.arr = json_array())) {
		code = cli_fail((st_error_oom(&err), &err));
		goto out;
	}
	if (!l.json)
		cli_printf("%-16s %-7s %-5s %-26s %-10s %-11s %s\n", "ID", "KIND", "LAW", "SUBJECT",
		       "RECEIVED", "DUE", "STATUS");
	if (audit_request_each(audit_db(cli_audit_log()), list_one, &l, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (l.json) {
		code = cli_print_json(l.arr);
		l.arr = NULL;
		if (code)
			goto out;
	} else if (l.overdue) {
		cli_fprintf(stderr, "%zu request%s overdue\n", l.overdue, l.overdue == 1 ? " is" : "s are");
	}
	snprintf(ctx->counts, sizeof(ctx->counts), "{\"listed\":%zu,\"overdue\":%zu}", l.n,
		 l.overdue);
	code = l.overdue ? ST_FINDINGS : 0;
out:
	json_decref(l.arr);
	session_release(&s);
	return code;
}

/* ---- show ------------------------------------------------------------------------------ */

static const char show_usage[] =
	"usage: steward request show ID [--json]\n\n"
	"Shows a request: its subject (as a pseudonym), deadline, timeline and the evidence\n"
	"recorded for each target.\n";

struct show_state {
	int json;
	size_t unverified; /* erasure targets done without verification */
};

static int show_event(void *u, const struct audit_req_event *e)
{
	char when[40];

	(void)u;
	audit_time_format(e->ts_ms, when, sizeof(when));
	cli_printf("  %s  %-9s %-10s %s\n", when, e->actor, e->event, e->detail ? e->detail : "");
	return 0;
}

static int count_unverified(void *u, const struct audit_req_target *t)
{
	struct show_state *st = u;

	st->unverified += !strcmp(t->status, "done") && t->has_remaining && t->remaining < 0;
	return 0;
}

/* What a target visits: "table", "file" or "endpoint", by its URI. */
static const char *visited_noun(const char *uri, int64_t n)
{
	if (!strncmp(uri, "sqlite:", 7) || !strncmp(uri, "postgres:", 9))
		return n == 1 ? "table" : "tables";
	if (!strncmp(uri, "jsonl:", 6))
		return n == 1 ? "file" : "files";
	return n == 1 ? "endpoint" : "endpoints";
}

/* An erasure's verified evidence: visited, matched (0 said as such), erased, remaining.
 * Skipped files are named in the detail. */
static void print_verified(const struct audit_req_target *t)
{
	cli_printf(" visited %lld %s, ", (long long)t->visited, visited_noun(t->uri, t->visited));
	if (!audit_target_counts_rows(t->uri) && t->remaining >= 0)
		cli_printf("remaining %lld (its verify url says)", (long long)t->remaining);
	else if (t->remaining < 0 && !t->matched && !t->erased)
		cli_printf("unverified"); /* the endpoint said nothing about rows */
	else if (t->remaining < 0)
		cli_printf("matched %lld, erased %lld, unverified", (long long)t->matched,
		       (long long)t->erased);
	else if (t->matched)
		cli_printf("matched %lld, erased %lld, remaining %lld", (long long)t->matched,
		       (long long)t->erased, (long long)t->remaining);
	else
		cli_printf("matched 0 rows, remaining %lld", (long long)t->remaining);
}

static int show_target(void *u, const struct audit_req_target *t)
{
	char when[40];

	(void)u;
	audit_time_format(t->updated_ms, when, sizeof(when));
	cli_printf("  %-24s %-7s", t->dataset, t->status);
	if (t->has_counts && t->has_remaining)
		print_verified(t);
	else if (t->has_counts && !t->matched)
		cli_printf(" matched 0 rows, changed 0");
	else if (t->has_counts)
		cli_printf(" matched %lld, changed %lld", (long long)t->matched, (long long)t->changed);
	if (t->http_status)
		cli_printf(", HTTP %lld", (long long)t->http_status);
	if (t->attempts)
		cli_printf(", %lld attempt%s", (long long)t->attempts, t->attempts == 1 ? "" : "s");
	if (t->has_counts)
		cli_printf(", %lld ms", (long long)t->elapsed_ms);
	cli_printf("  (%s)%s%s\n", t->uri, t->detail ? "  " : "", t->detail ? t->detail : "");
	return 0;
}

static int cmd_show(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {CLI_COMMON_OPTIONS,
					     {"json", no_argument, NULL, 'j'},
					     {0}};
	struct st_error err = ST_ERROR_INIT;
	struct session s = {0};
	struct show_state st = {0};
	struct audit_request r;
	const char *id = NULL;
	char rec[11], due[11], done[40];
	int code, overdue;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_request_show, opts, json_opt, &st.json)) >= 0)
		return code;
	if ((code = one_id(argc, argv, ctx, &id)) >= 0)
		return code;
	ctx->action = "request.show";
	ctx->object = id;
	if ((code = session_open(&s, ctx, 0, 0)))
		goto out;
	if (audit_request_get(audit_db(cli_audit_log()), id, &r, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	audit_date_format(r.received, rec);
	audit_date_format(audit_request_deadline(&r), due);
	audit_time_format(r.completed_ms, done, sizeof(done));
	overdue = audit_request_overdue(&r, audit_date_from_ms(audit_now_ms()));
	if (st.json) {
		json_t *doc;

		if (audit_request_json(audit_db(cli_audit_log()), &r,
				       audit_date_from_ms(audit_now_ms()), &doc, &err)) {
			code = cli_fail(&err);
			goto out;
		}
		code = cli_print_json(doc);
		goto out;
	}
	if (audit_request_history(audit_db(cli_audit_log()), id, NULL, count_unverified, &st,
				  &err)) {
		code = cli_fail(&err);
		goto out;
	}
	cli_printf("request %s\n  kind:      %s (%s)\n  subject:   %s %s\n  received:  %s\n"
		   "  due:       %s%s%s%s\n  status:    %s",
		   r.id, audit_req_kind_name(r.kind), audit_regime_name(r.regime), r.category,
		   r.pseudonym, rec, due, r.extended ? " (extended: " : "",
		   r.extended ? r.extension_reason : "", r.extended ? ")" : "",
		   r.completed ? "completed" : overdue ? "OVERDUE" : "open");
	if (st.unverified)
		cli_printf(", %zu target%s unverified", st.unverified, st.unverified == 1 ? "" : "s");
	cli_printf("\n");
	if (r.completed)
		cli_printf("  completed: %s\n", done);
	if (r.bundle[0])
		cli_printf("  bundle:    %s\n", r.bundle);
	cli_printf("\ntimeline:\n");
	if (audit_request_history(audit_db(cli_audit_log()), id, show_event, NULL, &st, &err)) {
		code = cli_fail(&err);
		goto out;
	}
	cli_printf("\ntargets:\n");
	if (audit_request_history(audit_db(cli_audit_log()), id, NULL, show_target, &st,
				  &err)) {
		code = cli_fail(&err);
		goto out;
	}
out:
	session_release(&s);
	return code;
}

/* ---- the verb -------------------------------------------------------------------------- */

const struct cli_cmd cli_cmd_request_new = {"new", "record a request", new_usage, cmd_new};
const struct cli_cmd cli_cmd_request_extend = {"extend", "extend a deadline once", extend_usage,
					       cmd_extend};
const struct cli_cmd cli_cmd_request_plan = {"plan", "show where the subject is", plan_usage,
					     cmd_plan};
const struct cli_cmd cli_cmd_request_run = {"run", "carry a request out", run_usage, cmd_run};
const struct cli_cmd cli_cmd_request_list = {"list", "list requests and deadlines", list_usage,
					     cmd_list};
const struct cli_cmd cli_cmd_request_show = {"show", "show a request's timeline and evidence",
					     show_usage, cmd_show};

static const struct cli_cmd *const request_cmds[] = {
	&cli_cmd_request_new,  &cli_cmd_request_extend, &cli_cmd_request_plan,
	&cli_cmd_request_run,  &cli_cmd_request_list,   &cli_cmd_request_show,
};

static int cmd_request(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(request_cmds, sizeof(request_cmds) / sizeof(*request_cmds), argc, argv,
			    ctx, "request");
}

const struct cli_cmd cli_cmd_request = {"request", "data-subject requests (erase, access, object)",
					"usage: steward request <command> [<args>]\n", cmd_request};
