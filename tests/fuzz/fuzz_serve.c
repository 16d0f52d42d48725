/* Fuzz target for steward serve's routing and query parsing: the input is one raw HTTP
 * request, sent over the Unix socket of a real server (serve_run() in a thread of this
 * process, on a workspace of its own holding the embedded example events). The server must
 * answer with a status line, or close the connection; a JSON answer must parse; and it must
 * not crash, leak or hang (ASan, UBSan, libFuzzer's timeout). /api/v1/cli runs no command
 * here (serve_opts.exe is NULL). */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz.h"
#include "fuzz_embedded.h"
#include "serve.h"

#define ANSWER_MAX ((size_t)4 << 20)

static struct catalog_workspace ws;
static struct serve_opts opts;
static struct sockaddr_un addr = {.sun_family = AF_UNIX};

static void *serve_thread(void *u)
{
	struct st_error err = ST_ERROR_INIT;

	(void)u;
	if (serve_run(&opts, &err))
		fuzz_die("cannot start the server", &err);
	return NULL;
}

/* Starts the server and returns once it listens: its readiness line is read from a pipe
 * that stands in for standard output meanwhile. */
static void start_server(void)
{
	int p[2], saved = dup(1);
	char line[256];
	pthread_t t;
	FILE *f;

	if (saved < 0 || pipe(p) || dup2(p[1], 1) < 0)
		fuzz_die("cannot redirect standard output", NULL);
	close(p[1]);
	if (pthread_create(&t, NULL, serve_thread, NULL) || pthread_detach(t))
		fuzz_die("cannot start the server thread", NULL);
	if (!(f = fdopen(p[0], "r")) || !fgets(line, sizeof(line), f) ||
	    strncmp(line, "listening on unix:", 18))
		fuzz_die("the server did not say it listens", NULL);
	fflush(stdout);
	if (dup2(saved, 1) < 0)
		fuzz_die("cannot restore standard output", NULL);
	close(saved);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *schema = fuzz_path("ws/events.yaml"), *paths[1] = {schema};
	struct catalog_load_stats stats = {0};
	struct st_error err = ST_ERROR_INIT;
	struct passwd *pw = getpwuid(getuid());
	struct catalog *cat = NULL;
	struct st_diags diags;
	int existed = 0;

	(void)argc;
	(void)argv;
	if (!pw || catalog_workspace_create(fuzz_path("ws"), pw->pw_name, &existed, &err) ||
	    catalog_workspace_find(&ws, fuzz_path("ws"), &err))
		fuzz_die("cannot make the workspace", &err);
	st_diags_init(&diags, 0);
	if (fuzz_write_file(schema, st_embed_fuzz_events, st_embed_fuzz_events_len, 0600) ||
	    catalog_open(&cat, &ws, &err) ||
	    catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &stats, &diags, &err))
		fuzz_die("cannot load the embedded schema", &err);
	catalog_load_stats_release(&stats);
	st_diags_release(&diags);
	catalog_free(cat);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", fuzz_path("s.sock"));
	opts.ws = &ws;
	opts.socket = addr.sun_path;
	opts.threads = 2;
	opts.version = "fuzz";
	start_server();
	return 0;
}

/* Sends the input, shuts the write side (so a request without "Connection: close" does not
 * keep the connection waiting) and reads the whole answer. A body shorter than its
 * Content-Length keeps libmicrohttpd waiting for the rest until its connection timeout (the
 * end of the input does not end it): after 2 s the answer is taken as none. */
static char *exchange(const uint8_t *data, size_t size, size_t *len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval wait = {2, 0};
	size_t cap = 65536, sent = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	*len = 0;
	if (fd < 0 || !buf || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)))
		fuzz_die("cannot connect to the server", NULL);
	while (sent < size && (r = send(fd, data + sent, size - sent, MSG_NOSIGNAL)) > 0)
		sent += (size_t)r;
	shutdown(fd, SHUT_WR);
	while ((r = recv(fd, buf + *len, cap - *len, 0)) > 0) {
		*len += (size_t)r;
		if (*len == cap) {
			char *nb;

			if (cap >= ANSWER_MAX || !(nb = realloc(buf, cap * 2 + 1)))
				fuzz_die("an answer too large", NULL);
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	char *answer = exchange(data, size, &len), *body, *cl;

	if (len) {
		if (len < 12 || strncmp(answer, "HTTP/1.", 7))
			fuzz_die("an answer without a status line", NULL);
		body = strstr(answer, "\r\n\r\n");
		cl = body ? strstr(answer, "Content-Length: ") : NULL;
		/* The first answer's JSON body (a pipelined request's answer may follow it). */
		if (cl && cl < body && strstr(answer, "Content-Type: application/json") &&
		    strstr(answer, "Content-Type: application/json") < body &&
		    (size < 4 || memcmp(data, "HEAD", 4)) && strncmp(answer + 9, "204", 3)) {
			size_t n = strtoul(cl + 16, NULL, 10), have = len - (size_t)(body + 4 - answer);
			json_t *j;

			if (n > have)
				fuzz_die("an answer shorter than its Content-Length", NULL);
			if (n && !(j = json_loadb(body + 4, n, 0, NULL)))
				fuzz_die("a JSON answer that does not parse", NULL);
			if (n)
				json_decref(j);
		}
	}
	free(answer);
	return 0;
}
