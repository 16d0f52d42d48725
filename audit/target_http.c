/* The HTTP target: one JSON POST per request to the endpoint bound to a dataset, with
 * timeouts, no redirects, a bounded response capture, and retries with exponential
 * backoff on connection errors, timeouts, 429 and 5xx. */
#include "target_int.h"
#include "alloc.h"
#include "buf.h"
#include "version.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BODY_MAX ((size_t)1 << 20) /* response bytes kept */
#define DELAY_MAX_MS 60000L        /* longest wait between two attempts */
#define SHOWN_URL_MAX 256

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void audit_http_redact(const char *uri, char *out, size_t n)
{
	const char *auth = strstr(uri, "://"), *host, *end;
	size_t keep;

	if (!auth) {
		keep = strcspn(uri, "?#");
		snprintf(out, n, "%.*s", (int)(keep < n ? keep : n), uri);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	host = auth;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			host = p + 1; /* user:password@ stays out */
	keep = strcspn(host, "?#");
	snprintf(out, n, "%.*s%.*s", (int)(auth - uri < (long)n ? auth - uri : (long)n), uri,
		 (int)(keep < n ? keep : n), host);
}

int audit_http_check_uri(const char *uri, struct st_error *err)
{
	char shown[SHOWN_URL_MAX];
	CURLU *u = curl_url();
	char *host = NULL;
	int ret = -1;

	audit_http_redact(uri, shown, sizeof(shown));
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

/* The request body: {"id","action","category","pseudonym"}. NULL on out of memory. */
static char *make_payload(const struct audit_target_job *job)
{
	static const char *const actions[] = {"erase", "access", "object"};
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", job->request_id, "action",
			      actions[job->kind], "category", job->category, "pseudonym",
			      job->pseudonym);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return text;
}

static int setup(CURL *h, const struct audit_target_job *job, const char *payload,
		 struct curl_slist *headers, struct body *r, char *errbuf)
{
	long connect_ms = job->connect_timeout_ms > 0 ? job->connect_timeout_ms : 5000;
	long total_ms = job->timeout_ms > 0 ? job->timeout_ms : 30000;

	return curl_easy_setopt(h, CURLOPT_URL, job->uri) != CURLE_OK ||
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
	       curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload)) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	       curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
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
	char shown[SHOWN_URL_MAX], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL, *more;
	struct body r = {{NULL, 0, 0, BODY_MAX}, 0};
	int max_attempts = job->max_attempts > 0 ? job->max_attempts : 3;
	long delay = job->backoff_ms > 0 ? job->backoff_ms : 500, status;
	char *payload = NULL;
	CURL *h = NULL;
	CURLcode rc;
	int ret = -1;

	audit_http_redact(job->uri, shown, sizeof(shown));
	if (!job->request_id || !job->category || !job->pseudonym) {
		st_error_set(err, ST_E_INVALID,
			     "http target '%s' needs a request id, a category and a pseudonym",
			     shown);
		goto out;
	}
	payload = make_payload(job);
	if (!payload) {
		st_error_oom(err);
		goto out;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		st_error_set(err, ST_E_SYSTEM, "cannot initialise libcurl: %s",
			     curl_easy_strerror(curl_init_rc));
		goto out;
	}
	h = curl_easy_init();
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	more = headers ? curl_slist_append(headers, "Accept: application/json") : NULL;
	if (!h || !more) {
		st_error_oom(err);
		goto out;
	}
	headers = more;
	if (setup(h, job, payload, headers, &r, errbuf)) {
		st_error_set(err, ST_E_SYSTEM, "cannot set up the request to '%s'", shown);
		goto out;
	}
	for (;;) {
		st_buf_reset(&r.b);
		r.truncated = 0;
		errbuf[0] = '\0';
		ev->attempts++;
		rc = curl_easy_perform(h);
		status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		ev->http_status = status;
		if (rc == CURLE_OK && status >= 200 && status < 300)
			break;
		if (rc != CURLE_OK && (!retryable(rc) || ev->attempts >= max_attempts)) {
			st_error_set(err, ST_E_SYSTEM, "cannot reach '%s' (%d attempt%s): %s", shown,
				     ev->attempts, ev->attempts == 1 ? "" : "s",
				     errbuf[0] ? errbuf : curl_easy_strerror(rc));
			goto out;
		}
		if (rc == CURLE_OK &&
		    ((status != 429 && status < 500) || ev->attempts >= max_attempts)) {
			st_error_set(err, ST_E_SYSTEM, "'%s' answered HTTP %ld (%d attempt%s)%s",
				     shown, status, ev->attempts, ev->attempts == 1 ? "" : "s",
				     status >= 300 && status < 400 ? "; redirects are not followed"
								   : "");
			goto out;
		}
		sleep_ms(delay);
		delay = delay > DELAY_MAX_MS / 2 ? DELAY_MAX_MS : delay * 2;
	}
	if (job->kind == AUDIT_JOB_ACCESS && access_rows(&r, shown, ev, err))
		goto out;
	ret = 0;
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	free(payload); /* jansson's allocator */
	if (r.b.p)
		sodium_memzero(r.b.p, r.b.cap);
	st_buf_release(&r.b);
	return ret;
}
