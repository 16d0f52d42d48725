/* `steward serve`: runs the HTTP server (serve/) on the workspace until SIGTERM. The command
 * itself is one audit record, from start to stop; each request is one more. */
#include "cli.h"
#include "serve.h"
#include "version.h"

#include <getopt.h>
#include <stdlib.h>

struct serve_args {
	struct cli_ctx *ctx;
	const char *listen, *socket;
	int no_tcp, no_cache;
	long threads;
};

static int serve_opt(int c, const char *arg, void *u)
{
	struct serve_args *a = u;

	switch (c) {
	case 'l': a->listen = arg; break;
	case 's': a->socket = arg; break;
	case 'n': a->no_tcp = 1; break;
	case 'c': a->no_cache = 1; break;
	case 't':
		if (cli_parse_count(a->ctx, "--threads", arg, &a->threads))
			return ST_E_USAGE;
		break;
	}
	return -1;
}

static int cmd_serve(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
					     {"socket", required_argument, NULL, 's'},
					     {"no-tcp", no_argument, NULL, 'n'},
					     {"threads", required_argument, NULL, 't'},
					     {"no-cache", no_argument, NULL, 'c'},
					     CLI_COMMON_OPTIONS,
					     {0}};
	struct serve_args a = {ctx, "127.0.0.1:8080", NULL, 0, 0, 0};
	struct catalog_workspace ws = {0};
	struct st_error err = ST_ERROR_INIT;
	struct serve_opts o = {0};
	int code;

	if ((code = cli_getopt(argc, argv, ctx, &cli_cmd_serve, opts, serve_opt, &a)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(ctx, "'serve' takes no arguments");
	if (a.threads > 256)
		return cli_usage_error(ctx, "--threads must be at most 256");
	if (a.no_tcp && !a.socket)
		return cli_usage_error(ctx, "--no-tcp needs --socket");
	ctx->action = "serve";
	if ((code = cli_find_workspace(ctx, &ws)))
		return code;
	o.ws = &ws;
	o.listen = a.no_tcp ? NULL : a.listen;
	o.socket = a.socket;
	o.threads = (unsigned)a.threads;
	o.no_cache = a.no_cache;
	o.version = STEWARD_VERSION;
	o.exe = "/proc/self/exe"; /* this binary, even once replaced on disk */
	if (serve_run(&o, &err))
		code = cli_fail(&err);
	catalog_workspace_release(&ws);
	return code;
}

const struct cli_cmd cli_cmd_serve = {
	"serve", "serve the workspace over HTTP (an API; a Unix socket for local users)",
	"usage: steward serve [--listen HOST:PORT] [--socket PATH] [--no-tcp] [--threads N]\n"
	"                     [--no-cache]\n\n"
	"Serves the workspace over HTTP until SIGTERM or SIGINT, then lets the requests in\n"
	"flight finish and exits 0. It prints 'listening on URL' for each endpoint once it\n"
	"accepts connections, and one access line per request on stderr (Common Log Format;\n"
	"a URL's query is never logged). Every request but /api/v1/health is an audit record\n"
	"under the caller's name. See docs/serve.md.\n\n"
	"  --listen HOST:PORT  TCP address (default 127.0.0.1:8080; port 0 picks a free one).\n"
	"                      Over TCP a caller needs a bearer token\n"
	"  --socket PATH       also listen on a Unix socket (mode 0660): the caller is the\n"
	"                      connecting OS user, by the kernel's peer credentials\n"
	"  --no-tcp            only the Unix socket\n"
	"  --threads N         a pool of N worker threads (default: a thread a connection)\n"
	"  --no-cache          compute every answer: keep no search or card answer of the\n"
	"                      API until the catalog changes (to measure, or to rule it out)\n",
	cmd_serve,
};
