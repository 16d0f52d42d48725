/* The steward command-line program: one file per verb, one command table (main.c).
 * Only this directory prints or exits. */
#ifndef CLI_H
#define CLI_H

#include <stdarg.h>
#include <stdio.h>

#include "catalog.h"
#include "error.h"
#include "escape.h"

struct cli_ctx {
	const char *home;   /* --home, or NULL */
	const char *verb;   /* full verb for messages, e.g. "catalog load" */
	const char *action; /* audit vocabulary, e.g. "catalog.search"; set by each command */
	const char *object; /* what it acts on (a dataset, a category), or NULL; never PII */
	const char *purpose; /* why, when the command takes --purpose */
	char counts[256];    /* a small JSON object of what it did, for the audit record */
	/* Called by cli_audit_begin() once steward.yaml is read and the actor's role (role)
	 * allows the verb, before the record is written: may set *purpose (which starts as
	 * ctx->purpose) from the configuration, or refuse the command (err; ST_E_DENIED is
	 * recorded as a denial, with reason when it is set). NULL for most verbs. */
	int (*admit)(const struct cli_ctx *ctx, const struct catalog_config *cfg, int role,
		     const char **purpose, char *reason, size_t reason_len, struct st_error *err);
};

/* The environment variable through which `steward serve` runs a command for the CLI that
 * sent it: UID:NAME of the caller (cli.c honours it for the workspace's owner only). */
#define CLI_DELEGATE_ENV "STEWARD_DELEGATE"

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* full help text, printed by --help */
	int (*exec)(int argc, char **argv, struct cli_ctx *ctx);
};

/* Command entries, each defined in its cmd_*.c file. */
extern const struct cli_cmd cli_cmd_init, cli_cmd_catalog, cli_cmd_search, cli_cmd_show,
	cli_cmd_lineage, cli_cmd_version, cli_cmd_key, cli_cmd_pii, cli_cmd_ingest, cli_cmd_audit,
	cli_cmd_request, cli_cmd_report, cli_cmd_export, cli_cmd_serve, cli_cmd_token;
/* Subcommands of `steward pii`, each in its cmd_pii_*.c file. */
extern const struct cli_cmd cli_cmd_pii_hash, cli_cmd_pii_map, cli_cmd_pii_check,
	cli_cmd_pii_scan;
/* `steward lineage import` (cmd_lineage_import.c); `steward lineage NAME` dispatches to it. */
extern const struct cli_cmd cli_cmd_lineage_import;

/* When the workspace's steward.yaml names a server socket (server: {socket: PATH}) and this
 * process is not itself a command the server runs: sends the command (argv[0] the verb) to
 * the server, prints what it printed and sets *code to its exit status, returning 1.
 * Returns 0 when there is no server to send it to (the command runs here). home is --home or
 * NULL. (client.c) */
int cli_client_run(const char *home, int argc, char **argv, int *code);

/* Registers the command line (main() does, first): the arguments whose personal data
 * the audit record and error messages replace (cli.c says which). */
void cli_args(int argc, char **argv);
/* The diagnostics printer: prints the formatted text and a newline to f (stderr), with
 * personal data replaced (the arguments', and any the free-text detectors find) and control
 * characters escaped. Every error, warning and load problem goes through it. */
void cli_line(FILE *f, const char *fmt, ...) ST_PRINTF(2, 3);
void cli_vline(FILE *f, const char *fmt, va_list ap) ST_PRINTF(2, 0);
/* cli_line(stderr, "error: <formatted>"). */
void cli_error(const char *fmt, ...) ST_PRINTF(1, 2);
/* Prints "error: <message>" (with file:line:col when located) to stderr as cli_error()
 * does, keeps the message as the audit record's reason, and returns the exit code for
 * err's code. */
int cli_fail(const struct st_error *err);
/* Prints "error: <formatted>" and the usage hint for ctx's verb; returns ST_E_USAGE. */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...) ST_PRINTF(2, 3);
/* Prints a command's help text to stdout; returns 0. */
int cli_help(const struct cli_cmd *cmd);
/* Finds the workspace, then passes through cli_audit_begin() before any data is read.
 * Returns 0, or an exit code after printing. */
int cli_find_workspace(const struct cli_ctx *ctx, struct catalog_workspace *ws);
/* The audit seam. Every command that reads or changes a workspace passes through
 * cli_audit_begin() once, before it returns data (from cli_find_workspace()): it opens
 * audit.db, resolves the actor's role from steward.yaml, and either records a denied
 * attempt (printing which role is needed; ST_E_DENIED) or writes the command as pending.
 * When the record cannot be written the command fails closed. Returns 0, or an exit code
 * after printing. main() then calls cli_audit_end() once with the exit code, which chains
 * the record with its outcome and returns the exit code to use (ST_E_SYSTEM, printed, if
 * the record could not be completed). */
int cli_audit_begin(const struct cli_ctx *ctx, const struct catalog_workspace *ws);
int cli_audit_end(const struct cli_ctx *ctx, int exit_code);
struct audit_log;
struct audit_actor;
/* The open audit log and the actor, after cli_audit_begin() succeeded (else NULL). */
/* The size of the buffer cli_audit_text() fills; longer texts are cut. */
#define CLI_AUDIT_TEXT_MAX 2048
/* What an audit record keeps of text (an object, a purpose, a reason): the personal data
 * of every argument and whatever the detectors find replaced by typed redactions, then
 * escaped like any output, so that the log holds neither personal data nor control
 * characters nor invalid UTF-8. The one way text reaches an audit record; commands that
 * write a record without cli_audit_begin() (audit recover) use it too. Writes into out
 * (CLI_AUDIT_TEXT_MAX bytes) and returns it, or NULL when text is NULL. */
const char *cli_audit_text(const char *text, char *out);
struct audit_log *cli_audit_log(void);
const struct audit_actor *cli_audit_actor(void);
/* The workspace's steward.yaml as cli_audit_begin() parsed it (empty before that, or when
 * there is no file); valid until cli_audit_end(). Verbs read settings here rather than
 * parsing the file again. */
const struct catalog_config *cli_config(void);
/* Finds the workspace and opens its catalog. Returns 0, or an exit code after printing. */
int cli_open_catalog(const struct cli_ctx *ctx, struct catalog_workspace *ws,
		     struct catalog **cat);
/* Runs a verb from a table of subcommands (argv[0] is the parent verb). */
int cli_dispatch(const struct cli_cmd *const *table, size_t n, int argc, char **argv,
		 struct cli_ctx *ctx, const char *parent);
/* Parses a positive decimal number for option opt. Returns 0, or prints and returns -1. */
int cli_parse_count(const struct cli_ctx *ctx, const char *opt, const char *s, long *out);
/* Terminal width for stdout (80 when not a terminal or unknown). */
int cli_term_width(void);
/* Whether stdout is a terminal. */
int cli_isatty_out(void);

/* Shared long options: every command accepts --home DIR and --help. Use in option tables
 * as CLI_COMMON_OPTIONS, and handle 'H' and 'h' with cli_common_option(). */
#define CLI_OPT_HOME 0x100
#define CLI_COMMON_OPTIONS {"home", required_argument, NULL, CLI_OPT_HOME}, {"help", no_argument, NULL, 'h'}
/* Handles a common option. Returns 1 if it was one (and help was printed when asked,
 * with *exit_code set to 0), else 0. */
int cli_common_option(int c, const char *arg, struct cli_ctx *ctx, const struct cli_cmd *cmd,
		      int *exit_code);

struct option;
/* Parses options with getopt_long() (opts must include CLI_COMMON_OPTIONS): the common
 * ones are handled here, errors reported, and every other option goes to own(c, optarg,
 * u), which returns -1 to go on or an exit code to stop with. Leaves optind at the first
 * argument. Returns -1 to go on, or an exit code (0 after --help). */
int cli_getopt(int argc, char **argv, struct cli_ctx *ctx, const struct cli_cmd *cmd,
	       const struct option *opts, int (*own)(int c, const char *arg, void *u), void *u);
/* own() callbacks for cli_getopt(): cli_no_options for a command with only the common
 * options; cli_json_option for one whose only own option is --json ('j'), which sets the
 * int that u points to. */
int cli_no_options(int c, const char *arg, void *u);
int cli_json_option(int c, const char *arg, void *u);
struct json_t;
/* Prints doc as indented JSON and a newline on stdout, then releases it; NULL means out
 * of memory. Returns 0, or an exit code after printing. */
int cli_print_json(struct json_t *doc);

/* Printing (print.c). Every value that comes from the user or from storage is printed
 * through these, so that control characters reach no terminal: cli_printf() and
 * cli_fprintf() are printf() with every %s and %c argument escaped by st_escape() (the
 * format itself is the program's and passes unchanged); width pads the escaped text.
 * They return 0, or -1 after a write error. */
int cli_printf(const char *fmt, ...) ST_PRINTF(1, 2);
int cli_fprintf(FILE *f, const char *fmt, ...) ST_PRINTF(2, 3);
int cli_vfprintf(FILE *f, const char *fmt, va_list ap) ST_PRINTF(2, 0);
/* Writes s (NULL: nothing) to f escaped, as a value on one line. */
void cli_fputs_value(const char *s, FILE *f);
/* Writes len bytes of s to f escaped with st_escape() flags (ST_ESC_KEEP_NL for text whose
 * lines are its own). Returns 0, or -1 after a write error. */
int cli_fwrite_escaped(const char *s, size_t len, unsigned flags, FILE *f);
/* json_dumpf() with DEL, C1 controls and text-reordering characters also written as \u
 * escapes (jansson escapes the C0 ones). Returns 0, or -1 (out of memory, write error). */
int cli_json_dumpf(const struct json_t *doc, FILE *f, size_t flags);

/* Reports a getopt_long() failure ('?' or ':'; the option string must start with ':').
 * Returns ST_E_USAGE. */
int cli_option_error(const struct cli_ctx *ctx, int c, char **argv);

#endif
