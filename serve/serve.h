/* steward's HTTP server (`steward serve`): a front end beside cli/, on libmicrohttpd, that
 * answers the API with the same library calls the CLI makes. It prints (its access log and
 * readiness lines) as cli/ does; the libraries below it still never do. */
#ifndef SERVE_H
#define SERVE_H

#include "catalog.h"
#include "error.h"

struct serve_opts {
	const struct catalog_workspace *ws; /* the workspace served (owned by the caller) */
	const char *listen;  /* "HOST:PORT" for TCP (loopback by default); NULL: no TCP */
	const char *socket;  /* a Unix socket path; NULL: none */
	unsigned threads;    /* a pool of worker threads; 0: a thread a connection */
	int no_cache;        /* 1: no search or card answer is kept (serve/cache.c) */
	const char *version; /* steward's version, for records and /api/v1/health */
	const char *exe;     /* the steward binary POST /api/v1/cli runs commands with
			      * ("/proc/self/exe"); NULL: that route runs none (503) */
};

/* Serves ws until SIGTERM or SIGINT: prints "listening on URL" on stdout for each endpoint
 * once it accepts connections, one access line per request on stderr, and stops cleanly
 * (in-flight requests finish, every audit log is closed). Returns 0, or -1 with err when
 * the server cannot start (a bad address, a port in use, a socket path taken). */
int serve_run(const struct serve_opts *o, struct st_error *err);

#endif
