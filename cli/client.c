/* The command line as a client of `steward serve`: when the workspace's steward.yaml names
 * the server's socket (server: {socket: PATH}), a command is sent there (POST /api/v1/cli),
 * run by the server as the service user that owns .steward/, and what it printed is printed
 * here. The kernel tells the server who is asking; no workspace file is opened here. */
#include "cli.h"
#include "alloc.h"
#include "lazy_curl.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BODY_MAX ((size_t)1 << 20)             /* the server's limit on a request body */
#define STDIN_MAX (BODY_MAX / 4 * 3 - 65536)   /* standard input, base64 in such a body */
#define ANSWER_MAX ((size_t)24 << 20)          /* the most the server answers (2 x 8 MiB) */

/* The workspace directory: home, else $STEWARD_HOME, else the nearest directory at or above
 * the current one that holds .steward/ or steward.yaml (a client's workspace may hold only
 * steward.yaml). Writes it into dir; returns 0, or -1 when there is none. */
static int workspace_dir(const char *home, char *dir, size_t n)
{
	const char *env = getenv("STEWARD_HOME");
	char probe[PATH_MAX + 32];
	struct stat sb;

	if (home || (env && *env))
		return (size_t)snprintf(dir, n, "%s", home ? home : env) < n ? 0 : -1;
	if (!getcwd(dir, n))
		return -1;
	for (;;) {
		char *slash;

		if ((size_t)snprintf(probe, sizeof(probe), "%s/.steward", dir) < sizeof(probe) &&
		    !lstat(probe, &sb))
			return 0;
		if ((size_t)snprintf(probe, sizeof(probe), "%s/steward.yaml", dir) < sizeof(probe) &&
		    !lstat(probe, &sb))
			return 0;
		if (!strcmp(dir, "/") || !(slash = strrchr(dir, '/')))
			return -1;
		slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	}
}

/* The server socket steward.yaml in dir names, copied into sock: 0 when it names one and
 * this user cannot use .steward/ in dir itself; 1 when the command runs here (no socket, a
 * .steward/ this user may write, or a steward.yaml that is not this user's to trust: the
 * command then says why it cannot run); -1 with err when the steward.yaml of a client's
 * workspace (no .steward/) is invalid. */
static int server_socket(char *dir, char *sock, size_t n, struct st_error *err)
{
	struct catalog_workspace ws = {0};
	struct catalog_config cfg = {0};
	char config[PATH_MAX + 16], state[PATH_MAX + 16];
	struct stat sb;
	const char *s;
	int ret = 1;

	if ((size_t)snprintf(config, sizeof(config), "%s/steward.yaml", dir) >= sizeof(config) ||
	    (size_t)snprintf(state, sizeof(state), "%s/.steward", dir) >= sizeof(state) ||
	    access(config, R_OK))
		return 1;
	/* A user who can write .steward/ runs commands here (the service user, an admin). */
	if (!access(state, R_OK | W_OK | X_OK))
		return 1;
	ws.home = dir;
	ws.config = config;
	ws.state_dir = state;
	if (catalog_config_load(&cfg, &ws, err)) {
		/* Where there is a .steward/, the command itself says what is wrong; in a
		 * client's workspace (steward.yaml alone) nothing else would. */
		ret = err->code != ST_E_DENIED && lstat(state, &sb) && errno == ENOENT ? -1 : 1;
		if (ret > 0)
			st_error_init(err);
		goto out;
	}
	if ((s = catalog_config_str(&cfg, "server.socket")) && *s) {
		if ((size_t)snprintf(sock, n, "%s", s) >= n) {
			ret = st_error_set(err, ST_E_INVALID, "%s: server.socket is too long a path",
					   config);
			goto out;
		}
		ret = 0;
	}
out:
	catalog_config_release(&cfg);
	return ret;
}

/* Reads all of standard input (ingest's records), at most STDIN_MAX bytes. Returns a new
 * buffer with *len, or NULL after printing. */
static unsigned char *read_stdin(size_t *len)
{
	size_t cap = 65536;
	unsigned char *buf = st_malloc(cap);
	ssize_t r;

	*len = 0;
	while (buf) {
		if (*len == cap) {
			unsigned char *nb;

			if (cap >= STDIN_MAX + 1)
				break;
			if (!(nb = st_realloc(buf, cap * 2)))
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(0, buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				break;
			return buf;
		}
		*len += (size_t)r;
		if (*len > STDIN_MAX)
			break;
	}
	if (buf && *len > STDIN_MAX)
		cli_error("standard input is over %zu bytes, the most a command sent to the server "
			  "may read; run it where the workspace is",
			  (size_t)STDIN_MAX);
	else
		cli_error("cannot read standard input: %s", buf ? strerror(errno) : "out of memory");
	if (buf)
		sodium_memzero(buf, cap);
	st_free(buf);
	return NULL;
}

struct answer {
	char *buf;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *u)
{
	struct answer *a = u;
	size_t n = size * nmemb;
	char *nb;

	if (a->len + n > ANSWER_MAX || !(nb = st_realloc(a->buf, a->len + n + 1)))
		return 0;
	memcpy(nb + a->len, p, n);
	a->buf = nb;
	a->len += n;
	a->buf[a->len] = '\0';
	return n;
}

/* Writes the base64 in v to f raw (the server's command escaped it as it printed). */
static int put_b64(const json_t *v, FILE *f)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0, len = 0;
	unsigned char *bin = st_malloc(n + 1);
	int ret = -1;

	if (s && bin &&
	    !sodium_base642bin(bin, n + 1, s, n, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) &&
	    fwrite(bin, 1, len, f) == len && !fflush(f))
		ret = 0;
	st_free(bin);
	return ret;
}

/* The exit status for an answer the server gave instead of running the command. */
static int status_code(long http)
{
	return http == 403 || http == 401 ? ST_E_DENIED
	       : http == 404	      ? ST_E_NOTFOUND
	       : http >= 400 && http < 500 ? ST_E_USAGE
				      : ST_E_SYSTEM;
}

/* POSTs body to the server on sock and prints its answer. Returns the exit status. */
static int send_command(const char *sock, const char *body)
{
	struct answer a = {NULL, 0};
	struct curl_slist *h = NULL;
	CURL *curl = curl_easy_init();
	json_t *doc = NULL, *e;
	long http = 0;
	int code = ST_E_SYSTEM;
	CURLcode rc;

	if (!curl || !(h = curl_slist_append(NULL, "Content-Type: application/json"))) {
		cli_error("out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/api/v1/cli");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	if ((rc = curl_easy_perform(curl)) != CURLE_OK) {
		cli_error("cannot reach the server at '%s' (server.socket in steward.yaml): %s", sock,
			  curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
	doc = a.buf ? json_loadb(a.buf, a.len, 0, NULL) : NULL;
	if (http != 200) {
		e = json_object_get(json_object_get(doc, "error"), "message");
		cli_error("the server at '%s' refused the command: %s", sock,
			  json_string_value(e) ? json_string_value(e) : "(no reason given)");
		code = status_code(http);
		goto out;
	}
	if (!json_is_integer(json_object_get(doc, "exit")) ||
	    put_b64(json_object_get(doc, "stdout"), stdout) ||
	    put_b64(json_object_get(doc, "stderr"), stderr)) {
		cli_error("the server at '%s' gave an answer that is not a command's", sock);
		goto out;
	}
	code = (int)json_integer_value(json_object_get(doc, "exit"));
out:
	json_decref(doc);
	st_free(a.buf);
	curl_slist_free_all(h);
	if (curl)
		curl_easy_cleanup(curl);
	return code;
}

int cli_client_run(const char *home, int argc, char **argv, int *code)
{
	struct st_error err = ST_ERROR_INIT;
	char dir[PATH_MAX], sock[PATH_MAX];
	unsigned char *in = NULL;
	size_t inlen = 0;
	json_t *body = NULL, *arr;
	char *text = NULL;
	int r;

	/* init and version never concern the served workspace: they run here. */
	if (getenv(CLI_DELEGATE_ENV) || !strcmp(argv[0], "init") || !strcmp(argv[0], "version") ||
	    workspace_dir(home, dir, sizeof(dir)))
		return 0;
	if ((r = server_socket(dir, sock, sizeof(sock), &err)) > 0)
		return 0;
	if (r < 0 || st_curl_load(&err)) {
		*code = cli_fail(&err);
		return 1;
	}
	*code = ST_E_SYSTEM;
	if (!(body = json_object()) || !(arr = json_array()) ||
	    json_object_set_new(body, "argv", arr)) {
		cli_error("out of memory");
		goto out;
	}
	for (int i = 0; i < argc; i++)
		if (json_array_append_new(arr, json_string(argv[i]))) {
			cli_error("argument %d is not UTF-8 text, which the server takes", i + 1);
			*code = ST_E_USAGE;
			goto out;
		}
	if (!strcmp(argv[0], "ingest") && !(argc > 1 && (!strcmp(argv[1], "--help") ||
							  !strcmp(argv[1], "-h")))) {
		size_t n;
		char *s;

		if (!(in = read_stdin(&inlen)))
			goto out;
		n = sodium_base64_encoded_len(inlen, sodium_base64_VARIANT_ORIGINAL);
		if (!(s = st_malloc(n))) {
			cli_error("out of memory");
			goto out;
		}
		sodium_bin2base64(s, n, in, inlen, sodium_base64_VARIANT_ORIGINAL);
		r = json_object_set_new(body, "stdin", json_string(s));
		sodium_memzero(s, n);
		st_free(s);
		if (r) {
			cli_error("out of memory");
			goto out;
		}
	}
	if (!(text = json_dumps(body, JSON_COMPACT))) {
		cli_error("out of memory");
		goto out;
	}
	*code = send_command(sock, text);
out:
	if (text)
		sodium_memzero(text, strlen(text));
	free(text);
	if (in)
		sodium_memzero(in, inlen);
	st_free(in);
	json_decref(body);
	return 1;
}
