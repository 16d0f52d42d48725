/* The HTTP target: one JSON POST per request to the endpoint bound to a dataset, with an
 * idempotency key, an optional bearer token, timeouts, no redirects, a bounded response
 * capture, retries with exponential backoff (or the endpoint's Retry-After, within a
 * bound) on connection errors, timeouts, 429 and 5xx, and an optional verify call. */
#include "target_int.h"
#include "alloc.h"
#include "audit.h"
#include "buf.h"
#include "file.h"
#include "lazy_curl.h"
#include "version.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX ((size_t)1 << 20) /* response bytes kept */
#define DELAY_MAX_MS 60000L        /* longest wait between two attempts */
#define SHOWN_URL_MAX 256
#define RETRY_AFTER_MAX_S 60L      /* longest Retry-After waited for by default */
#define TOKEN_MAX 4096             /* longest bearer token */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int audit_http_check_uri(const char *uri, struct st_error *err)
{
	char shown[SHOWN_URL_MAX];
	CURLU *u;
	char *host = NULL;
	int ret = -1;

	if (st_curl_load(err))
		return -1;
	u = curl_url();
	audit_target_redact(uri, shown, sizeof(shown));
	if (!u)
		return st_error_oom(err);
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK) {
		st_error_set(err, ST_E_INVALID, "invalid url '%s'", shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		st_error_set(err, ST_E_INVALID, "url '%s' names no host", shown);
		goto out;
	}
	ret = 0;
out:
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

/* The response body, kept up to BODY_MAX bytes; the rest is read and dropped. */
struct body {
	struct st_buf b;
	int truncated;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *r = arg;

	if (!r->truncated && st_buf_add(&r->b, p, size * n))
		r->truncated = 1;
	return size * n;
}

/* Failures worth another attempt: the endpoint may be back in a moment. */
static int retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The request body: {"id","action","category","pseudonym"}; action "verify" for the verify
 * URL. NULL on out of memory. */
static char *make_payload(const struct audit_target_job *job, int verify)
{
	static const char *const actions[] = {"erase", "access", "object"};
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", job->request_id, "action",
			      verify ? "verify" : actions[job->kind], "category", job->category,
			      "pseudonym", job->pseudonym);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return text;
}

/* What one exchange needs besides the job: where to, what, and where the answer goes. */
struct call {
	const char *url, *shown; /* shown: url redacted, for messages */
	const char *payload;
	struct curl_slist *headers;
	struct body r;
	char retry_after[64]; /* the last answer's Retry-After value, "" when none */
	char errbuf[CURL_ERROR_SIZE];
};

/* Keeps the Retry-After header of the answer (curl calls this once per header line). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t len = size * n, name = strlen("retry-after:");

	if (len > name && !strncasecmp(p, "retry-after:", name)) {
		size_t k = 0;

		for (size_t i = name; i < len && k + 1 < sizeof(c->retry_after); i++)
			if (p[i] != '\r' && p[i] != '\n')
				c->retry_after[k++] = p[i];
		c->retry_after[k] = '\0';
	}
	return len;
}

static int setup(CURL *h, const struct audit_target_job *job, struct call *c)
{
	long connect_ms = job->connect_timeout_ms > 0 ? job->connect_timeout_ms : 5000;
	long total_ms = job->timeout_ms > 0 ? job->timeout_ms : 30000;

	return curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#else
	       curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
		       CURLE_OK ||
#endif
	       curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_USERAGENT, "steward/" STEWARD_VERSION) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->payload) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->payload)) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->r) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_HEADERDATA, c) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
}

/* The seconds a Retry-After value asks for: delta-seconds or an HTTP-date (a date past is
 * 0). Returns -1 when it is neither. */
static long retry_after_s(const char *v)
{
	size_t i = strspn(v, " \t"), digits = strspn(v + i, "0123456789");
	long s = 0;
	time_t when;

	if (digits && !v[i + digits + strspn(v + i + digits, " \t")]) {
		for (size_t k = 0; k < digits; k++)
			s = s > 100000000L ? s : s * 10 + (v[i + k] - '0'); /* big stays big */
		return s;
	}
	if (!v[i] || (when = curl_getdate(v + i, NULL)) == -1)
		return -1;
	when -= time(NULL);
	return when <= 0 ? 0 : when > 100000000L ? 100000000L : (long)when;
}

/* POSTs c's payload to c's URL until a 2xx answer, retrying what is worth it up to
 * max_attempts times; counts requests in *attempts and the last status in *status.
 * Returns 0, or -1 with err. */
static int exchange(CURL *h, const struct audit_target_job *job, struct call *c,
		    int *attempts, long *status, struct st_error *err)
{
	int max_attempts = job->max_attempts > 0 ? job->max_attempts : 3;
	long delay = job->backoff_ms > 0 ? job->backoff_ms : 500, wait, after;
	long bound = job->retry_after_max_s > 0 ? job->retry_after_max_s
		     : job->retry_after_max_s < 0   ? 0
						    : RETRY_AFTER_MAX_S;
	CURLcode rc;

	if (setup(h, job, c))
		return st_error_set(err, ST_E_SYSTEM, "cannot set up the request to '%s'", c->shown);
	for (;;) {
		st_buf_reset(&c->r.b);
		c->r.truncated = 0;
		c->errbuf[0] = c->retry_after[0] = '\0';
		(*attempts)++;
		rc = curl_easy_perform(h);
		*status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		if (rc == CURLE_OK && *status >= 200 && *status < 300)
			return 0;
		if (rc != CURLE_OK && (!retryable(rc) || *attempts >= max_attempts))
			return st_error_set(err, ST_E_SYSTEM, "cannot reach '%s' (%d attempt%s): %s",
					    c->shown, *attempts, *attempts == 1 ? "" : "s",
					    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		if (rc == CURLE_OK &&
		    ((*status != 429 && *status < 500) || *attempts >= max_attempts))
			return st_error_set(err, ST_E_SYSTEM, "'%s' answered HTTP %ld (%d attempt%s)%s",
					    c->shown, *status, *attempts, *attempts == 1 ? "" : "s",
					    *status >= 300 && *status < 400
						    ? "; redirects are not followed"
						    : "");
		wait = delay;
		delay = delay > DELAY_MAX_MS / 2 ? DELAY_MAX_MS : delay * 2;
		/* The endpoint says when to come back: then, if steward may wait that long. */
		if (rc == CURLE_OK && (*status == 429 || *status == 503) && c->retry_after[0] &&
		    (after = retry_after_s(c->retry_after)) >= 0) {
			if (after > bound)
				return st_error_set(err, ST_E_SYSTEM,
						    "'%s' answered HTTP %ld asking to retry after %ld s, "
						    "longer than the %ld s steward waits "
						    "(requests.http_retry_after_max_s)",
						    c->shown, *status, after, bound);
			wait = after * 1000;
		}
		if (wait > 0)
			sleep_ms(wait);
	}
}

/* A bearer token is visible ASCII (RFC 6750 b64token and a little more), bounded. */
static int token_ok(const char *t, size_t len)
{
	if (!len || len > TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return 0;
	return 1;
}

/* Appends "Authorization: Bearer TOKEN" to *headers when the job names a token, read from
 * its file (only its owner may read it) or its environment variable. Every copy steward
 * makes is wiped (the list's by wipe_headers()). Returns 0, or -1 with err. */
static int add_token(const struct audit_target_job *job, struct curl_slist **headers,
		     struct st_error *err)
{
	char buf[TOKEN_MAX + 2], line[sizeof("Authorization: Bearer ") + TOKEN_MAX + 1];
	const char *t = NULL;
	struct curl_slist *more;
	struct stat sb;
	size_t len = 0;
	ssize_t k;
	int fd = -1, ret = -1;

	if (job->token_file) {
		if ((fd = st_file_open_private(job->token_file, "token file", &sb, err)) < 0)
			goto out;
		while (len < sizeof(buf) - 1 &&
		       (k = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read token file '%s': %s",
					     job->token_file, strerror(errno));
				goto out;
			}
			len += (size_t)k;
		}
		buf[len] = '\0';
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			buf[--len] = '\0';
		t = buf;
	} else if (job->token_env) {
		t = getenv(job->token_env);
		if (!t || !*t) {
			st_error_set(err, ST_E_INVALID,
				     "the environment variable '%s' (token_env) is not set",
				     job->token_env);
			goto out;
		}
		len = strlen(t);
	} else {
		return 0;
	}
	if (!token_ok(t, len)) {
		if (job->token_file)
			st_error_set(err, ST_E_INVALID,
				     "token file '%s' holds no bearer token (one line of at most %d "
				     "visible ASCII characters)",
				     job->token_file, TOKEN_MAX);
		else
			st_error_set(err, ST_E_INVALID,
				     "the environment variable '%s' (token_env) holds no bearer token "
				     "(at most %d visible ASCII characters)",
				     job->token_env, TOKEN_MAX);
		goto out;
	}
	snprintf(line, sizeof(line), "Authorization: Bearer %.*s", (int)len, t);
	if (!(more = curl_slist_append(*headers, line))) {
		st_error_oom(err);
		goto out;
	}
	*headers = more;
	ret = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(line, sizeof(line));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Wipes the header lines (one holds the token), then frees the list. */
static void wipe_headers(struct curl_slist *headers)
{
	for (struct curl_slist *l = headers; l; l = l->next)
		if (l->data)
			sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(headers);
}

/* "Idempotency-Key: ID.HEX": the request id, then 32 hex digits of SHA-256 over the
 * request id, the dataset, the action, the category and the pseudonym, each with its
 * length. The same call gets the same key in every attempt and every run; another target,
 * action or identifier another key. */
static void idempotency_key(const struct audit_target_job *job, const char *action, char *out,
			    size_t n)
{
	const char *parts[] = {"steward-idempotency-v1", job->request_id,
			       job->dataset ? job->dataset : "", action, job->category,
			       job->pseudonym};
	unsigned char h[crypto_hash_sha256_BYTES], len[8];
	char hex[2 * 16 + 1];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++) {
		uint64_t l = strlen(parts[i]);

		for (int b = 0; b < 8; b++)
			len[b] = (unsigned char)(l >> (56 - 8 * b));
		crypto_hash_sha256_update(&st, len, sizeof(len));
		crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], (size_t)l);
	}
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	snprintf(out, n, "Idempotency-Key: %s.%s", job->request_id, hex);
}

/* Asks the verify URL how many records of the subject remain: {"remaining": N}. */
static int verify(CURL *h, const struct audit_target_job *job, struct curl_slist *auth,
		  struct audit_evidence *ev, struct st_error *err)
{
	char shown[SHOWN_URL_MAX];
	struct call c = {0};
	json_t *doc = NULL, *n;
	int attempts = 0, ret = -1;
	long status;

	audit_target_redact(job->verify_uri, shown, sizeof(shown));
	c.url = job->verify_uri;
	c.shown = shown;
	c.headers = auth;
	c.r.b.max = BODY_MAX;
	if (!(c.payload = make_payload(job, 1))) {
		st_error_oom(err);
		goto out;
	}
	if (exchange(h, job, &c, &attempts, &status, err)) {
		st_error_prefix(err, "verify url");
		goto out;
	}
	doc = c.r.truncated ? NULL : json_loadb(c.r.b.p ? c.r.b.p : "", c.r.b.len, 0, NULL);
	n = json_object_get(doc, "remaining");
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) > 1000000000000LL) {
		st_error_set(err, ST_E_SYSTEM,
			     "the verify url '%s' answered no remaining count (want {\"remaining\": N})",
			     shown);
		goto out;
	}
	ev->remaining = (long)json_integer_value(n);
	ret = 0;
out:
	json_decref(doc);
	free((char *)c.payload); /* jansson's allocator */
	st_buf_release(&c.r.b);
	return ret;
}

/* An access request's answer as JSON text: the body when it is JSON, else the body as a
 * JSON string. */
static int access_rows(const struct body *r, const char *shown, struct audit_evidence *ev,
		       struct st_error *err)
{
	json_error_t jerr;
	json_t *v;

	if (r->truncated)
		return st_error_set(err, ST_E_SYSTEM, "the answer of '%s' is over %zu MiB", shown,
				    BODY_MAX >> 20);
	v = json_loadb(r->b.p ? r->b.p : "", r->b.len, JSON_DECODE_ANY, &jerr);
	if (v) {
		json_decref(v);
		ev->rows_json = st_strndup(st_buf_str(&r->b), r->b.len);
		return ev->rows_json ? 0 : st_error_oom(err);
	}
	v = json_stringn(st_buf_str(&r->b), r->b.len);
	if (!v)
		return st_error_set(err, ST_E_SYSTEM,
				    "the answer of '%s' is neither JSON nor UTF-8 text", shown);
	ev->rows_json = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	if (ev->rows_json) {
		/* jansson allocated it; the evidence is freed with st_free */
		char *copy = st_strdup(ev->rows_json);

		sodium_memzero(ev->rows_json, strlen(ev->rows_json));
		free(ev->rows_json);
		ev->rows_json = copy;
	}
	return ev->rows_json ? 0 : st_error_oom(err);
}

int audit_http_run(const struct audit_target_job *job, struct audit_evidence *ev,
		   struct st_error *err)
{
	static const char *const actions[] = {"erase", "access", "object"};
	char shown[SHOWN_URL_MAX], key[sizeof("Idempotency-Key: ") + AUDIT_ID_MAX + 40];
	struct curl_slist *headers = NULL, *auth = NULL, *more;
	struct call c = {0};
	char *payload = NULL;
	CURL *h = NULL;
	int ret = -1;

	if (st_curl_load(err))
		return -1;
	audit_target_redact(job->uri, shown, sizeof(shown));
	c.url = job->uri;
	c.shown = shown;
	c.r.b.max = BODY_MAX;
	if (!job->request_id || !job->category || !job->pseudonym) {
		st_error_set(err, ST_E_INVALID,
			     "http target '%s' needs a request id, a category and a pseudonym",
			     shown);
		goto out;
	}
	payload = make_payload(job, 0);
	if (!payload) {
		st_error_oom(err);
		goto out;
	}
	c.payload = payload;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		st_error_set(err, ST_E_SYSTEM, "cannot initialise libcurl: %s",
			     curl_easy_strerror(curl_init_rc));
		goto out;
	}
	/* Two lists: the verify call gets the token but no idempotency key. */
	h = curl_easy_init();
	auth = curl_slist_append(NULL, "Content-Type: application/json");
	more = auth ? curl_slist_append(auth, "Accept: application/json") : NULL;
	if (!h || !more) {
		st_error_oom(err);
		goto out;
	}
	auth = more;
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	more = headers ? curl_slist_append(headers, "Accept: application/json") : NULL;
	if (!more) {
		st_error_oom(err);
		goto out;
	}
	headers = more;
	idempotency_key(job, actions[job->kind], key, sizeof(key));
	if (!(more = curl_slist_append(headers, key))) {
		st_error_oom(err);
		goto out;
	}
	headers = more;
	if (add_token(job, &headers, err) || add_token(job, &auth, err)) {
		st_error_prefix(err, "target '%s'", shown);
		goto out;
	}
	c.headers = headers;
	if (exchange(h, job, &c, &ev->attempts, &ev->http_status, err))
		goto out;
	ev->visited = 1; /* one endpoint, which answered */
	if (job->kind == AUDIT_JOB_ACCESS && access_rows(&c.r, shown, ev, err))
		goto out;
	if (job->kind == AUDIT_JOB_ERASE) {
		if (!job->verify_uri) {
			snprintf(ev->detail, sizeof(ev->detail), "unverified: no verify url");
		} else {
			if (verify(h, job, auth, ev, err))
				goto out;
			if (ev->remaining > 0) {
				st_error_set(err, ST_E_SYSTEM,
					     "'%s' still holds %ld record%s of the subject after the "
					     "erasure (its verify url says)",
					     shown, ev->remaining, ev->remaining == 1 ? "" : "s");
				goto out;
			}
			snprintf(ev->detail, sizeof(ev->detail), "verified: 0 remaining");
		}
	}
	ret = 0;
out:
	wipe_headers(headers);
	wipe_headers(auth);
	curl_easy_cleanup(h);
	free(payload); /* jansson's allocator */
	if (c.r.b.p)
		sodium_memzero(c.r.b.p, c.r.b.cap);
	st_buf_release(&c.r.b);
	return ret;
}
