/* POST /api/v1/cli: the command line as a client. A CLI whose steward.yaml names the
 * server's socket sends its command here; the server runs it as itself (the service user that
 * owns .steward/), acting for the caller the kernel names, and hands back its output and exit
 * status. Only the read verbs and ingest (from the request, never a file) are taken, each
 * with the options that write nothing: the caller needs no access to any workspace file. */
#include "serve_int.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGS_MAX 64                       /* arguments of one command */
#define OUTPUT_MAX ((size_t)8 << 20)      /* bytes of its standard output, and of its errors */
#define DELEGATE_ENV "STEWARD_DELEGATE"   /* cli/cli.c reads it: who the command acts for */

/* A verb the server runs for a client: its words, the options it may be given (those that
 * take a value end in '='), how many other arguments, and whether it reads standard input. */
struct verb {
	const char *words[2];
	const char *const *opts;
	int max_args;
	int reads_stdin;
};

static const char *const search_opts[] = {"--kind=",  "--tag=", "--owner=", "--domain=",
					  "--pii",    "--limit=", "--json",   NULL};
static const char *const show_opts[] = {"--version=", "--json", NULL};
static const char *const lineage_opts[] = {"--up",     "--down", "--both", "--depth=",
					   "--json",   "--dot",  NULL};
static const char *const json_opts[] = {"--json", NULL};
/* Not --rejects: it names a file, which the server would write as itself. */
static const char *const ingest_opts[] = {"--purpose=", "--format=", "--label=", "--unknown=",
					  "--max-record=", "--threads=", NULL};

static const struct verb verbs[] = {
	{{"search", NULL}, search_opts, 64, 0},     {{"show", NULL}, show_opts, 1, 0},
	{{"lineage", NULL}, lineage_opts, 1, 0},    {{"pii", "map"}, json_opts, 0, 0},
	{{"pii", "check"}, json_opts, 0, 0},        {{"ingest", NULL}, ingest_opts, 1, 1},
};

/* The verb argv[0..] names (NULL when it is none the server runs) and how many words. */
static const struct verb *find_verb(char **argv, size_t argc, size_t *nwords)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++) {
		const struct verb *v = &verbs[i];

		if (!argc || strcmp(argv[0], v->words[0]))
			continue;
		if (v->words[1] && (argc < 2 || strcmp(argv[1], v->words[1])))
			continue;
		*nwords = v->words[1] ? 2 : 1;
		return v;
	}
	return NULL;
}

/* Whether option a (as given: "--name" or "--name=value") is one of v's; *takes_next says
 * that its value is the next argument. */
static int option_ok(const struct verb *v, const char *a, int *takes_next)
{
	const char *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);

	*takes_next = 0;
	if (!strcmp(a, "-h") || !strcmp(a, "--help"))
		return 1;
	for (size_t i = 0; v->opts[i]; i++) {
		size_t k = strlen(v->opts[i]);
		int wants = v->opts[i][k - 1] == '=';

		if (wants)
			k--;
		if (n != k || strncmp(a, v->opts[i], k))
			continue;
		if (!wants && eq)
			return 0;
		*takes_next = wants && !eq;
		return 1;
	}
	return 0;
}

/* Checks argv against the verbs the server runs. Returns NULL, or the verb (for messages)
 * after writing why it is refused into why. */
static const struct verb *check_args(char **argv, size_t argc, char *why, size_t n)
{
	size_t words, positional = 0;
	const struct verb *v = find_verb(argv, argc, &words);
	int options = 1, takes_next;

	if (!v) {
		snprintf(why, n,
			 "'steward %s%s%s' is not run through the server (search, show, lineage, "
			 "pii map, pii check and ingest are)",
			 argc ? argv[0] : "", argc > 1 && argv[1][0] != '-' ? " " : "",
			 argc > 1 && argv[1][0] != '-' ? argv[1] : "");
		return NULL;
	}
	if (!strcmp(argv[0], "lineage") && argc > 1 && !strcmp(argv[1], "import")) {
		snprintf(why, n, "'steward lineage import' is not run through the server (post the "
				 "events to /api/v1/lineage)");
		return NULL;
	}
	for (size_t i = words; i < argc; i++) {
		const char *a = argv[i];

		if (options && !strcmp(a, "--")) {
			options = 0;
		} else if (options && a[0] == '-' && a[1]) {
			if (!option_ok(v, a, &takes_next)) {
				snprintf(why, n, "'steward %s%s%s' takes no '%.*s' through the server",
					 v->words[0], v->words[1] ? " " : "",
					 v->words[1] ? v->words[1] : "",
					 (int)(strchr(a, '=') ? (size_t)(strchr(a, '=') - a) : strlen(a)), a);
				return NULL;
			}
			i += (size_t)takes_next;
		} else if (++positional > (size_t)v->max_args) {
			snprintf(why, n, "'steward %s%s%s' takes %s through the server%s",
				 v->words[0], v->words[1] ? " " : "", v->words[1] ? v->words[1] : "",
				 v->reads_stdin ? "no file" : "no more arguments",
				 v->reads_stdin ? " (its records come on standard input)" : "");
			return NULL;
		}
	}
	return v;
}

/* Output read from a child, bounded. */
struct sink {
	char *buf;
	size_t len, cap;
	int fd, over;
};

static int sink_read(struct sink *k)
{
	char chunk[65536];
	ssize_t r = read(k->fd, chunk, sizeof(chunk));

	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (r == 0) {
		close(k->fd);
		k->fd = -1;
		return 0;
	}
	if (k->len + (size_t)r > OUTPUT_MAX) {
		k->over = 1;
		return -1;
	}
	if (k->len + (size_t)r > k->cap) {
		size_t cap = k->cap ? k->cap : 65536;
		char *nb;

		while (cap < k->len + (size_t)r)
			cap *= 2;
		if (!(nb = st_realloc(k->buf, cap)))
			return -1;
		k->buf = nb;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, chunk, (size_t)r);
	k->len += (size_t)r;
	return 0;
}

/* Runs exe (steward) with args (NULL-terminated) and env, feeding it in
 * (inlen bytes) on standard input and collecting its output. Returns 0 with *status (its
 * exit status, 128 + signal when killed), or -1 with err. */
static int run_child(const char *exe, char *const *args, char *const *env,
		     const unsigned char *in, size_t inlen, struct sink *out, struct sink *errs,
		     int *status, struct st_error *err)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, ret = -1, wstatus;
	size_t sent = 0;
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		st_error_set(err, ST_E_SYSTEM, "cannot make pipes: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot start a process: %s", strerror(errno));
		goto out;
	}
	if (!pid) { /* only async-signal-safe calls until execve() */
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL); /* the server blocks SIGTERM in its threads */
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
			_exit(127);
		close_range(3, ~0u, 0);
		execve(exe, args, env);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (!inlen) {
		close(pin[1]);
		pin[1] = -1;
	}
	out->fd = pout[0];
	errs->fd = perr[0];
	pout[0] = perr[0] = -1;
	while (out->fd >= 0 || errs->fd >= 0) {
		struct pollfd p[3] = {{out->fd, POLLIN, 0}, {errs->fd, POLLIN, 0}, {pin[1], POLLOUT, 0}};

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if ((p[0].revents && sink_read(out)) || (p[1].revents && sink_read(errs)))
			break;
		if (p[2].revents) {
			ssize_t w = (p[2].revents & POLLOUT) ? write(pin[1], in + sent, inlen - sent) : -1;

			if (w > 0)
				sent += (size_t)w;
			if (w < 0 ? errno != EAGAIN : sent == inlen) { /* all of it, or it stopped reading */
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	if (out->fd >= 0 || errs->fd >= 0) /* too much output, or out of memory: stop it */
		kill(pid, SIGKILL);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (out->over || errs->over) {
		st_error_set(err, ST_E_INVALID, "the command wrote over %zu bytes", OUTPUT_MAX);
		goto out;
	}
	if (out->fd >= 0 || errs->fd >= 0) {
		st_error_oom(err);
		goto out;
	}
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	if (out->fd >= 0)
		close(out->fd);
	if (errs->fd >= 0)
		close(errs->fd);
	out->fd = errs->fd = -1;
	return ret;
}

/* len bytes at b as base64 (standard alphabet, padded) in a JSON string. */
static json_t *b64(const char *b, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = st_malloc(n);
	json_t *j;

	if (!s)
		return NULL;
	sodium_bin2base64(s, n, (const unsigned char *)(b ? b : ""), len,
			  sodium_base64_VARIANT_ORIGINAL);
	j = json_string(s);
	st_free(s);
	return j;
}

/* POST /api/v1/cli {"argv": ["search", "revenue"], "stdin": BASE64}: the command run for the
 * caller, as {"exit": N, "stdout": BASE64, "stderr": BASE64}. Over the Unix socket only,
 * where the kernel names the caller. */
static enum MHD_Result post_cli(struct server *s, struct MHD_Connection *c, struct request *r,
				const struct audit_actor *a, const char *name)
{
	char *args[ARGS_MAX + 5] = {0}, *env[4] = {0}, why[SERVE_TEXT_MAX];
	char delegate[128], path[] = "PATH=/usr/bin:/bin", homevar[4096 + 8];
	struct sink out = {NULL, 0, 0, -1, 0}, errs = {NULL, 0, 0, -1, 0};
	struct st_error err = ST_ERROR_INIT;
	unsigned char *in = NULL;
	size_t argc, inlen = 0, k = 0;
	const char *home = getenv("HOME"), *in64 = NULL;
	json_error_t jerr;
	json_t *body = NULL, *arr, *v;
	enum MHD_Result ret;
	int status = 0;

	(void)name;
	if (!r->on_socket) {
		ret = serve_reply_error(c, r, MHD_HTTP_FORBIDDEN,
					"'/api/v1/cli' is served on the Unix socket only");
		goto out;
	}
	if (!s->o->exe) {
		ret = serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					"this server runs no commands");
		goto out;
	}
	if (!(body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr))) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "invalid JSON: %d:%d: %s",
					jerr.line, jerr.column, jerr.text);
		goto out;
	}
	arr = json_object_get(body, "argv");
	v = json_object_get(body, "stdin");
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > ARGS_MAX ||
	    (v && !(in64 = json_string_value(v)))) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					"the body must be {\"argv\": [1 to %d strings], \"stdin\": "
					"BASE64}",
					ARGS_MAX);
		goto out;
	}
	argc = json_array_size(arr);
	args[k++] = "steward";
	args[k++] = "--home";
	args[k++] = (char *)s->o->ws->home;
	for (size_t i = 0; i < argc; i++) {
		const char *w = json_string_value(json_array_get(arr, i));

		if (!w || strlen(w) != json_string_length(json_array_get(arr, i))) {
			ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
						"argument %zu is not a string without NUL bytes", i);
			goto out;
		}
		args[k++] = (char *)w;
	}
	if (!check_args(args + 3, argc, why, sizeof(why))) {
		ret = serve_reply_error(c, r, MHD_HTTP_FORBIDDEN, "%s", why);
		goto out;
	}
	if (in64 && *in64) {
		size_t n = strlen(in64);

		if (!(in = st_malloc(n)) ||
		    sodium_base642bin(in, n, in64, n, NULL, &inlen, NULL,
				      sodium_base64_VARIANT_ORIGINAL)) {
			ret = in ? serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
						     "'stdin' is not base64")
				 : serve_reply_json(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
			goto out;
		}
	}
	/* A fresh environment: nothing of the server's but HOME, and who it acts for. */
	snprintf(delegate, sizeof(delegate), "%s=%lu:%s", DELEGATE_ENV, (unsigned long)a->uid,
		 a->name);
	env[0] = delegate;
	env[1] = path;
	if (home && (size_t)snprintf(homevar, sizeof(homevar), "HOME=%s", home) < sizeof(homevar))
		env[2] = homevar;
	if (run_child(s->o->exe, args, env, in, inlen, &out, &errs, &status, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	snprintf(r->counts, sizeof(r->counts), "{\"exit\":%d}", status);
	ret = serve_reply_json(c, r, MHD_HTTP_OK,
			       json_pack("{s:i, s:o, s:o}", "exit", status, "stdout",
					 b64(out.buf, out.len), "stderr", b64(errs.buf, errs.len)));
out:
	/* Records on their way to ingest are raw personal data: wiped wherever they were. */
	if (in64)
		sodium_memzero((char *)(uintptr_t)in64, strlen(in64));
	if (in64 && r->body)
		sodium_memzero(r->body, r->body_len);
	if (in)
		sodium_memzero(in, inlen);
	st_free(in);
	st_free(out.buf);
	st_free(errs.buf);
	json_decref(body);
	return ret;
}

const struct serve_route serve_api_cli_routes[] = {
	{"/api/v1/cli", 0, "serve.cli", post_cli, SERVE_POST},
};

const size_t serve_api_cli_route_count =
	sizeof(serve_api_cli_routes) / sizeof(*serve_api_cli_routes);
