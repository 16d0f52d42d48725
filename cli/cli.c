/* Helpers shared by the verbs: error printing, usage, workspace opening, dispatch. */
#include "cli.h"
#include "alloc.h"
#include "audit.h"
#include "pii.h"
#include "version.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <getopt.h>
#include <jansson.h>
#include <unistd.h>

/* The command's audit state: the log it is recorded in and the last error it printed,
 * which becomes the record's reason. A command whose only effect is its output
 * (audit_action_output_only()) is recorded once, at its end: its stdout is held in memory
 * until then (held_fd; out_fd is the real stdout meanwhile) and released only once the
 * record is durable, so no output is ever shown without its record. */
static struct {
	struct audit_log *log;
	struct catalog_config cfg; /* steward.yaml, parsed once per command */
	struct audit_actor actor;
	int begun;
	int held_fd;                   /* the memory file stdout goes to, or -1 */
	int out_fd;                    /* the real stdout while it is held */
	char action[64];               /* the held command's entry, recorded at its end */
	char object[CLI_AUDIT_TEXT_MAX], purpose[CLI_AUDIT_TEXT_MAX];
	int has_object, has_purpose;
	char reason[1024];
} audit_state = {.held_fd = -1, .out_fd = STDOUT_FILENO};

/* ---- Redaction of arguments ------------------------------------------------------------
 * The one place where what a person typed is kept out of the audit log and of error
 * messages: the command line is registered with cli_args(), and every text that goes into
 * an audit record (object, purpose, reason) or an error message passes through redact().
 * Personal data in an argument is any value the free-text detectors find (an e-mail, a
 * phone, card or resident registration number, an IP address...), the VALUE of a
 * --subject CATEGORY:VALUE, and a bare number of 5 digits or more (a user id). Each is
 * replaced by a typed redaction ("<email>", "<subject>", "<number>"), never by a pseudonym:
 * no key is needed, and the log does not link a mistyped value to a person. */

#define ARG_SPANS_MAX 64

struct arg_span {
	const char *p; /* inside argv */
	size_t len;
	const char *label; /* a pii kind name, "subject" or "number" */
};

static struct {
	int argc;
	char **argv;
} args;

void cli_args(int argc, char **argv)
{
	args.argc = argc;
	args.argv = argv;
}

/* Adds the personal data in one argument (its value after '=' for --opt=value) to v;
 * subject says that it is the value of --subject. */
static size_t arg_spans(const char *a, int subject, struct arg_span *v, size_t n, size_t max)
{
	struct pii_match m[8];
	const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
	const char *val = eq ? eq + 1 : a, *colon = strchr(val, ':');
	size_t len = strlen(val), digits = strspn(val, "0123456789"), k;

	if (eq && !strncmp(a, "--subject=", 10))
		subject = 1;

	/* the detectors' kinds first: of two spans as long, the first found is used */
	k = pii_detect(a, strlen(a), m, sizeof(m) / sizeof(*m));
	for (size_t i = 0; i < k && i < sizeof(m) / sizeof(*m) && n < max; i++)
		v[n++] = (struct arg_span){a + m[i].start, m[i].end - m[i].start,
					   pii_kind_name(m[i].kind)};
	/* a subject of 1 or 2 characters says little, and would be found all over a message;
	 * "-" is standard input */
	if (subject && colon && strlen(colon + 1) >= 3 && n < max)
		v[n++] = (struct arg_span){colon + 1, strlen(colon + 1), "subject"};
	if (digits >= 5 && digits == len && n < max)
		v[n++] = (struct arg_span){val, len, "number"};
	return n;
}

#define REDACT_MAX CLI_AUDIT_TEXT_MAX /* longer texts are cut, in messages and audit records */

/* Appends len bytes of s to out (REDACT_MAX bytes) at *o, as many as fit. */
static void put(char *out, size_t *o, const char *s, size_t len)
{
	if (len > REDACT_MAX - 1 - *o)
		len = REDACT_MAX - 1 - *o;
	memcpy(out + *o, s, len);
	*o += len;
	out[*o] = '\0';
}

/* Writes text into out (REDACT_MAX bytes) with the personal data of every argument
 * replaced, and with detectors also every value the free-text detectors find in text
 * itself. Allocates nothing, so that it works when memory has run out. */
static void redact(const char *text, int detectors, char *out)
{
	struct arg_span v[ARG_SPANS_MAX];
	struct pii_match m[32];
	char tmp[REDACT_MAX], label[32];
	size_t n = 0, o = 0, k, done = 0;

	for (int i = 1; i < args.argc; i++)
		n = arg_spans(args.argv[i], !strcmp(args.argv[i - 1], "--subject"), v, n,
			      ARG_SPANS_MAX);
	out[0] = '\0';
	while (*text && o < REDACT_MAX - 1) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) /* the longest span that starts here */
			if (v[i].len && !strncmp(text, v[i].p, v[i].len) &&
			    (best == n || v[i].len > v[best].len))
				best = i;
		if (best < n) {
			snprintf(label, sizeof(label), "<%s>", v[best].label);
			put(out, &o, label, strlen(label));
			text += v[best].len;
		} else {
			put(out, &o, text++, 1);
		}
	}
	if (!detectors)
		return;
	k = pii_detect(out, o, m, sizeof(m) / sizeof(*m));
	if (k > sizeof(m) / sizeof(*m))
		k = sizeof(m) / sizeof(*m); /* more than that: cut after the last one replaced */
	if (!k)
		return;
	memcpy(tmp, out, o + 1);
	o = 0;
	for (size_t i = 0; i < k; i++) {
		put(out, &o, tmp + done, m[i].start - done);
		snprintf(label, sizeof(label), "<%s>", pii_kind_name(m[i].kind));
		put(out, &o, label, strlen(label));
		done = m[i].end;
	}
	if (k < sizeof(m) / sizeof(*m))
		put(out, &o, tmp + done, strlen(tmp + done));
}

const char *cli_audit_text(const char *text, char *out)
{
	char tmp[REDACT_MAX];
	size_t used, n;

	if (!text)
		return NULL;
	redact(text, 1, tmp);
	n = st_escape(tmp, strlen(tmp), &used, out, REDACT_MAX - 1, 0);
	out[n] = '\0';
	return out;
}

void cli_vline(FILE *f, const char *fmt, va_list ap)
{
	char line[REDACT_MAX], clean[REDACT_MAX];

	vsnprintf(line, sizeof(line), fmt, ap);
	redact(line, 1, clean);
	cli_fprintf(f, "%s\n", clean);
}

void cli_line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vline(f, fmt, ap);
	va_end(ap);
}

void cli_error(const char *fmt, ...)
{
	char line[REDACT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cli_line(stderr, "error: %s", line);
}

int cli_fail(const struct st_error *err)
{
	char line[2048];

	st_error_format(err, line, sizeof(line));
	cli_error("%s", line);
	snprintf(audit_state.reason, sizeof(audit_state.reason), "%s", err->msg);
	return err->code > 0 ? err->code : ST_E_SYSTEM;
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(audit_state.reason, sizeof(audit_state.reason), fmt, ap);
	va_end(ap);
	cli_error("%s", audit_state.reason);
	cli_fprintf(stderr, "see 'steward %s --help'\n", ctx->verb ? ctx->verb : "");
	return ST_E_USAGE;
}

int cli_help(const struct cli_cmd *cmd)
{
	fputs(cmd->usage, stdout);
	return 0;
}

int cli_common_option(int c, const char *arg, struct cli_ctx *ctx, const struct cli_cmd *cmd,
		      int *exit_code)
{
	if (c == CLI_OPT_HOME) {
		ctx->home = arg;
		return 1;
	}
	if (c == 'h') {
		*exit_code = cli_help(cmd);
		return 1;
	}
	return 0;
}

int cli_find_workspace(const struct cli_ctx *ctx, struct catalog_workspace *ws)
{
	struct st_error err = ST_ERROR_INIT;
	int code;

	if (catalog_workspace_find(ws, ctx->home, &err))
		return cli_fail(&err);
	if ((code = cli_audit_begin(ctx, ws))) {
		catalog_workspace_release(ws);
		return code;
	}
	return 0;
}

struct audit_log *cli_audit_log(void)
{
	return audit_state.begun ? audit_state.log : NULL;
}

const struct audit_actor *cli_audit_actor(void)
{
	return audit_state.begun ? &audit_state.actor : NULL;
}

/* Who the command acts for: this process's user, or (STEWARD_DELEGATE=UID:NAME, which
 * `steward serve` sets for a command a CLI sent it) the server's caller, whom the kernel
 * named. Only the owner of .steward/ may act for another user: the owner can write the log
 * anyway, while to anyone else the variable would be a way to sign as someone else.
 * Returns 0, or -1 with err (ST_E_DENIED). */
static int command_actor(const struct catalog_workspace *ws, struct audit_actor *a,
			 struct st_error *err)
{
	const char *d = getenv(CLI_DELEGATE_ENV), *colon;
	struct stat sb;
	char *end;
	unsigned long uid;

	audit_actor_self(a);
	if (!d)
		return 0;
	if (stat(ws->state_dir, &sb))
		return st_error_set(err, ST_E_SYSTEM, "cannot use the workspace '%s': %s", ws->home,
				    strerror(errno));
	if (sb.st_uid != getuid())
		return st_error_set(err, ST_E_DENIED,
				    "%s is set, but only the workspace's owner (uid %lu) may act for "
				    "another user",
				    CLI_DELEGATE_ENV, (unsigned long)sb.st_uid);
	errno = 0;
	uid = strtoul(d, &end, 10);
	colon = end;
	if (errno || colon == d || *colon != ':' || !colon[1] ||
	    strlen(colon + 1) >= sizeof(a->name))
		return st_error_set(err, ST_E_USAGE, "%s must be UID:NAME", CLI_DELEGATE_ENV);
	a->uid = (uid_t)uid;
	snprintf(a->name, sizeof(a->name), "%s", colon + 1);
	return 0;
}

static long checkpoint_every(const struct catalog_config *cfg)
{
	const char *s = catalog_config_str(cfg, "audit.checkpoint_every");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : 0;
}

/* Sends stdout to a memory file until release_output(). Returns 0, or -1 (nothing is
 * held: the command is then recorded with audit_begin() and audit_end()). */
static int hold_output(void)
{
	int mem = -1, real = -1;

	fflush(stdout);
	if ((mem = memfd_create("steward-output", MFD_CLOEXEC)) < 0 ||
	    (real = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    dup2(mem, STDOUT_FILENO) < 0) {
		if (mem >= 0)
			close(mem);
		if (real >= 0)
			close(real);
		return -1;
	}
	audit_state.held_fd = mem;
	audit_state.out_fd = real;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Puts the real stdout back; when show is set, first copies what the command printed to it.
 * Returns 0, or -1 when it could not all be written (errno set). */
static int release_output(int show)
{
	char buf[65536];
	int ret = 0, saved = 0;

	if (audit_state.held_fd < 0)
		return 0;
	fflush(stdout);
	if (dup2(audit_state.out_fd, STDOUT_FILENO) < 0) {
		ret = -1;
		saved = errno;
	}
	if (show && !ret && lseek(audit_state.held_fd, 0, SEEK_SET) == 0) {
		ssize_t n;

		while ((n = read(audit_state.held_fd, buf, sizeof(buf))) > 0 && !ret)
			if (write_all(STDOUT_FILENO, buf, (size_t)n)) {
				ret = -1;
				saved = errno;
			}
		if (n < 0 && !ret) {
			ret = -1;
			saved = errno;
		}
	}
	close(audit_state.held_fd);
	close(audit_state.out_fd);
	audit_state.held_fd = -1;
	audit_state.out_fd = STDOUT_FILENO;
	errno = saved;
	return ret;
}

int cli_audit_begin(const struct cli_ctx *ctx, const struct catalog_workspace *ws)
{
	struct st_error err = ST_ERROR_INIT, cfg_err = ST_ERROR_INIT;
	struct catalog_config *cfg = &audit_state.cfg;
	struct audit_entry e = {&audit_state.actor, ctx->action, ctx->object, ctx->purpose};
	char purpose[REDACT_MAX], object[REDACT_MAX], reason[REDACT_MAX];
	int need, code = 0, cfg_failed;

	if (audit_state.log) { /* one record per command */
		st_error_set(&err, ST_E_SYSTEM, "a command is already being recorded");
		return cli_fail(&err);
	}
	need = ctx->action ? audit_action_role(ctx->action) : -1;
	if (need < 0) {
		st_error_set(&err, ST_E_SYSTEM, "'%s' has no audit action",
			     ctx->verb ? ctx->verb : "?");
		return cli_fail(&err);
	}
	/* What the person typed is recorded with its personal data replaced. */
	e.purpose = cli_audit_text(ctx->purpose, purpose);
	e.object = cli_audit_text(ctx->object, object);
	if (command_actor(ws, &audit_state.actor, &err))
		return cli_fail(&err);
	cfg_failed = catalog_config_load(cfg, ws, &cfg_err) ||
		     audit_role_resolve(cfg, ws->config, &audit_state.actor, &cfg_err);
	if (audit_open(&audit_state.log, ws->state_dir, STEWARD_VERSION,
		       cfg_failed ? 0 : checkpoint_every(cfg), &err)) {
		code = cli_fail(&err);
		goto out;
	}
	if (cfg_failed) {
		code = cli_fail(&cfg_err);
		cli_audit_text(audit_state.reason, reason);
		if (audit_append(audit_state.log, &e,
				 cfg_err.code == ST_E_DENIED ? AUDIT_DENIED : AUDIT_ERROR, reason, NULL,
				 &err))
			cli_fail(&err);
		goto out;
	}
	if (audit_state.actor.role < need) {
		const int has = audit_state.actor.role;

		st_error_set(&err, ST_E_DENIED, "'steward %s' needs the '%s' role; '%s' has %s%s%s",
			     ctx->verb, audit_role_name(need), audit_state.actor.name,
			     has ? "the '" : "no role", has ? audit_role_name(has) : "",
			     has ? "' role" : " (see 'roles' in steward.yaml)");
		code = cli_fail(&err);
		snprintf(audit_state.reason, sizeof(audit_state.reason), "needs the '%s' role",
			 audit_role_name(need));
		/* the reason names a role: no argument in it */
		if (audit_append(audit_state.log, &e, AUDIT_DENIED, audit_state.reason, NULL, &err))
			cli_fail(&err);
		goto out;
	}
	if (ctx->admit) {
		const char *p = ctx->purpose;
		char why[256] = "";

		if (ctx->admit(ctx, cfg, audit_state.actor.role, &p, why, sizeof(why), &err)) {
			const int outcome = err.code == ST_E_DENIED ? AUDIT_DENIED : AUDIT_ERROR;

			code = cli_fail(&err);
			if (why[0])
				snprintf(audit_state.reason, sizeof(audit_state.reason), "%s", why);
			if (audit_append(audit_state.log, &e, outcome, audit_state.reason, NULL, &err))
				cli_fail(&err);
			goto out;
		}
		if (p != ctx->purpose) /* from steward.yaml: redacted like --purpose */
			e.purpose = cli_audit_text(p, purpose);
	}
	if (audit_action_output_only(ctx->action) &&
	    strlen(ctx->action) < sizeof(audit_state.action) && !hold_output()) {
		/* recorded at its end, before what it printed is shown (cli_audit_end()) */
		snprintf(audit_state.action, sizeof(audit_state.action), "%s", ctx->action);
		if ((audit_state.has_object = e.object != NULL))
			snprintf(audit_state.object, sizeof(audit_state.object), "%s", e.object);
		if ((audit_state.has_purpose = e.purpose != NULL))
			snprintf(audit_state.purpose, sizeof(audit_state.purpose), "%s", e.purpose);
	} else if (audit_begin(audit_state.log, &e, &err)) {
		st_error_prefix(&err, "cannot write the audit record, so the command does not run");
		code = cli_fail(&err);
		goto out;
	}
	audit_state.begun = 1;
	audit_state.reason[0] = '\0';
out:
	if (code) {
		catalog_config_release(cfg);
		audit_free(audit_state.log);
		audit_state.log = NULL;
	}
	return code;
}

const struct catalog_config *cli_config(void)
{
	return &audit_state.cfg;
}

int cli_audit_end(const struct cli_ctx *ctx, int exit_code)
{
	struct st_error err = ST_ERROR_INIT;
	char reason[1100], clean[REDACT_MAX];
	int outcome = exit_code == 0 || exit_code == ST_FINDINGS ? AUDIT_OK : AUDIT_ERROR;

	if (!audit_state.begun)
		goto out;
	if (outcome == AUDIT_ERROR && !audit_state.reason[0])
		snprintf(reason, sizeof(reason), "exit %d", exit_code);
	else
		snprintf(reason, sizeof(reason), "%s", audit_state.reason);
	cli_audit_text(reason, clean);
	if (audit_state.held_fd >= 0) {
		struct audit_entry e = {&audit_state.actor, audit_state.action,
					audit_state.has_object ? audit_state.object : NULL,
					audit_state.has_purpose ? audit_state.purpose : NULL};

		if (audit_append(audit_state.log, &e, outcome, clean[0] ? clean : NULL,
				 ctx->counts[0] ? ctx->counts : NULL, &err)) {
			/* what it printed is dropped: nothing is shown without its record */
			release_output(0);
			st_error_prefix(&err, "cannot write the audit record, so the output is not shown");
			cli_fail(&err);
			exit_code = ST_E_SYSTEM;
		} else if (release_output(1) && errno != EPIPE) {
			st_error_set(&err, ST_E_SYSTEM, "cannot write the output: %s", strerror(errno));
			cli_fail(&err);
			if (!exit_code)
				exit_code = ST_E_SYSTEM;
		}
	} else if (audit_end(audit_state.log, outcome, clean[0] ? clean : NULL,
			     ctx->counts[0] ? ctx->counts : NULL, &err)) {
		st_error_prefix(&err, "cannot complete the audit record");
		cli_fail(&err);
		exit_code = ST_E_SYSTEM;
	}
	audit_state.begun = 0;
out:
	catalog_config_release(&audit_state.cfg);
	audit_free(audit_state.log);
	audit_state.log = NULL;
	return exit_code;
}

int cli_open_catalog(const struct cli_ctx *ctx, struct catalog_workspace *ws,
		     struct catalog **cat)
{
	struct st_error err = ST_ERROR_INIT;
	int code;

	*cat = NULL;
	if ((code = cli_find_workspace(ctx, ws)))
		return code;
	if (catalog_open(cat, ws, &err)) {
		catalog_workspace_release(ws);
		return cli_fail(&err);
	}
	return 0;
}

int cli_dispatch(const struct cli_cmd *const *table, size_t n, int argc, char **argv,
		 struct cli_ctx *ctx, const char *parent)
{
	static char verb[128];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		FILE *out = argc < 2 ? stderr : stdout;

		cli_fprintf(out, "usage: steward %s <command> [<args>]\n\ncommands:\n", parent);
		for (size_t i = 0; i < n; i++)
			cli_fprintf(out, "  %-10s %s\n", table[i]->name, table[i]->summary);
		return argc < 2 ? ST_E_USAGE : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], table[i]->name)) {
			snprintf(verb, sizeof(verb), "%s %s", parent, table[i]->name);
			ctx->verb = verb;
			return table[i]->exec(argc - 1, argv + 1, ctx);
		}
	cli_error("'%s' is not a 'steward %s' command", argv[1], parent);
	cli_fprintf(stderr, "see 'steward %s --help'\n", parent);
	return ST_E_USAGE;
}

int cli_parse_count(const struct cli_ctx *ctx, const char *opt, const char *s, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (!*s || *end || v <= 0 || v > (1L << 30)) {
		cli_usage_error(ctx, "%s needs a positive number, not '%s'", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_isatty_out(void)
{
	return isatty(audit_state.out_fd); /* the real stdout, while the output is held */
}

int cli_term_width(void)
{
	struct winsize ws;

	if (isatty(audit_state.out_fd) && !ioctl(audit_state.out_fd, TIOCGWINSZ, &ws) &&
	    ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

int cli_option_error(const struct cli_ctx *ctx, int c, char **argv)
{
	const char *opt = argv[optind - 1];
	const char *eq = strchr(opt, '=');

	if (c == ':')
		return cli_usage_error(ctx, "option '%s' needs a value", opt);
	if (!strncmp(opt, "--", 2) && eq && optopt)
		return cli_usage_error(ctx, "option '%.*s' takes no value", (int)(eq - opt), opt);
	if (strncmp(opt, "--", 2) && optopt && optopt != '?')
		return cli_usage_error(ctx, "unknown option '-%c'", optopt);
	return cli_usage_error(ctx, "unknown option '%s'", opt);
}

int cli_getopt(int argc, char **argv, struct cli_ctx *ctx, const struct cli_cmd *cmd,
	       const struct option *opts, int (*own)(int c, const char *arg, void *u), void *u)
{
	int c, code;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (cli_common_option(c, optarg, ctx, cmd, &code)) {
			if (c == 'h')
				return code;
			continue;
		}
		if (c == '?' || c == ':')
			return cli_option_error(ctx, c, argv);
		if ((code = own(c, optarg, u)) >= 0)
			return code;
	}
	return -1;
}

int cli_print_json(struct json_t *doc)
{
	struct st_error err = ST_ERROR_INIT;
	int r = !doc || cli_json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(doc);
	if (r) {
		st_error_oom(&err);
		return cli_fail(&err);
	}
	putchar('\n');
	return 0;
}

int cli_no_options(int c, const char *arg, void *u)
{
	(void)c;
	(void)arg;
	(void)u;
	return -1;
}

int cli_json_option(int c, const char *arg, void *u)
{
	(void)arg;
	if (c == 'j')
		*(int *)u = 1;
	return -1;
}
