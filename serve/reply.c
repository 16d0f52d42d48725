/* What a handler answers with: JSON answers and errors (with the security headers), the
 * answer to a library error, query parameters, and the escaping of any text shown. */
#include "serve_int.h"
#include "alloc.h"
#include "escape.h"
#include "html.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s escaped (st_escape()) into out, cut to fit: what a log line or a record may show. */
const char *serve_escaped(const char *s, char *out, size_t n)
{
	size_t used, k;

	k = st_escape(s, strlen(s), &used, out, n - 1, 0);
	out[k] = '\0';
	return out;
}

/* ---- Responses ------------------------------------------------------------------------ */

/* Queues len bytes at data as the answer with status and Content-Type type; the security
 * headers go on every answer. mode says who frees data (libmicrohttpd's MHD_RESPMEM_*). */
enum MHD_Result serve_reply_bytes(struct MHD_Connection *c, struct request *r, int status,
				  const char *type, void *data, size_t len,
				  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(len, data, mode);
	enum MHD_Result ret;

	if (!res) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(data);
		return MHD_NO;
	}
	MHD_add_response_header(res, "Content-Type", type);
	MHD_add_response_header(res, "Cache-Control", "no-store");
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "Content-Security-Policy", "default-src 'none'");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(res, "WWW-Authenticate", "Bearer realm=\"steward\"");
	r->status = status;
	r->bytes = len;
	ret = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return ret;
}

/* The pages' headers: a strict policy, nothing cached, sniffed, framed or referred. */
#define PAGE_CSP                                                                          \
	"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "        \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void page_headers(struct MHD_Response *res, const char *csp)
{
	MHD_add_response_header(res, "Cache-Control", "no-store");
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "Content-Security-Policy", csp ? csp : PAGE_CSP);
	MHD_add_response_header(res, "X-Frame-Options", "DENY");
	MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
}

enum MHD_Result serve_reply_data(struct MHD_Connection *c, struct request *r, int status,
				 const char *type, const char *data, size_t len,
				 const char *filename)
{
	struct MHD_Response *res =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!res)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", type);
	page_headers(res, "default-src 'none'; style-src 'self'");
	if (filename) {
		char disp[256];

		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename);
		MHD_add_response_header(res, "Content-Disposition", disp);
	}
	r->status = status;
	r->bytes = len;
	ret = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return ret;
}

enum MHD_Result serve_reply_html(struct MHD_Connection *c, struct request *r, int status,
				 struct html *h, const char *csp)
{
	struct MHD_Response *res;
	enum MHD_Result ret;
	size_t len = h->b.len;
	char *text;

	if (h->failed || !(text = st_buf_detach(&h->b))) {
		static const char oom[] = "<!DOCTYPE html><title>error</title><p>the page is too "
					  "large or memory ran out</p>\n";

		return serve_reply_data(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					"text/html; charset=utf-8", oom, sizeof(oom) - 1, NULL);
	}
	res = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!res) {
		st_free(text);
		return MHD_NO;
	}
	MHD_add_response_header(res, "Content-Type", "text/html; charset=utf-8");
	page_headers(res, csp);
	r->status = status;
	r->bytes = len;
	ret = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return ret;
}

enum MHD_Result serve_reply_redirect(struct MHD_Connection *c, struct request *r,
				     const char *location, const char *cookie)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!res)
		return MHD_NO;
	page_headers(res, NULL);
	MHD_add_response_header(res, "Location", location);
	if (cookie)
		MHD_add_response_header(res, "Set-Cookie", cookie);
	r->status = MHD_HTTP_SEE_OTHER;
	ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, res);
	MHD_destroy_response(res);
	return ret;
}

/* A page's error: the message (escaped) in a page of its own, with the way to log in when
 * no one could be named. */
static enum MHD_Result error_page(struct MHD_Connection *c, struct request *r, int status,
				  const char *msg)
{
	struct html h;
	enum MHD_Result ret;

	html_init(&h);
	html_f(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<title>%d: steward</title><link rel=\"stylesheet\" href=\"/static/steward.css\">"
		   "</head><body><header><a class=\"brand\" href=\"/\">steward</a></header><main>"
		   "<h1>Error %d</h1><p class=\"error\" id=\"error\">%s</p>",
	       status, status, msg);
	if (status == MHD_HTTP_UNAUTHORIZED)
		html_raw(&h, "<p><a href=\"/login\">Log in with a token</a></p>");
	html_raw(&h, "</main></body></html>\n");
	ret = serve_reply_html(c, r, status, &h, NULL);
	html_release(&h);
	return ret;
}

/* Queues doc (taken) as the JSON answer with status. */
char *serve_json_text(json_t *doc)
{
	return doc ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6))
		   : NULL;
}

enum MHD_Result serve_reply_json(struct MHD_Connection *c, struct request *r, int status,
				 json_t *doc)
{
	char *text = serve_json_text(doc);

	json_decref(doc);
	if (!text) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		text = strdup("{\"error\":{\"status\":500,\"message\":\"out of memory\"}}");
		if (!text)
			return MHD_NO;
	}
	return serve_reply_bytes(c, r, status, "application/json", text, strlen(text),
				 MHD_RESPMEM_MUST_FREE);
}

enum MHD_Result serve_reply_error(struct MHD_Connection *c, struct request *r, int status,
				  const char *fmt, ...)
{
	char msg[SERVE_TEXT_MAX], clean[SERVE_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->html)
		return error_page(c, r, status, serve_escaped(msg, clean, sizeof(clean)));
	return serve_reply_json(c, r, status,
				json_pack("{s:{s:i, s:s}}", "error", "status", status, "message",
					  serve_escaped(msg, clean, sizeof(clean))));
}

/* ---- Query parameters ------------------------------------------------------------------ */

const char *serve_arg(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

/* A whole number in [lo, hi] from parameter name (def when absent). Returns 0, or -1 after
 * queueing a 400 answer into *ret. */
int serve_arg_count(struct MHD_Connection *c, struct request *r, const char *name, long lo, long hi,
		    long def, long *out, enum MHD_Result *ret)
{
	const char *v = serve_arg(c, name);
	char *end;
	long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi) {
		*ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter '%s' must be a whole number from %ld to %ld",
					 name, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

int serve_arg_page(struct MHD_Connection *c, struct request *r, long offset_max, long *limit,
		   long *offset, enum MHD_Result *ret)
{
	return serve_arg_count(c, r, "limit", 1, SERVE_PAGE_MAX, SERVE_PAGE_DEFAULT, limit, ret) ||
			       serve_arg_count(c, r, "offset", 0, offset_max, 0, offset, ret)
		       ? -1
		       : 0;
}

int serve_arg_flag(struct MHD_Connection *c, struct request *r, const char *name, int *out,
		   enum MHD_Result *ret)
{
	const char *v = serve_arg(c, name);

	*out = v && (!strcmp(v, "1") || !strcmp(v, "true"));
	if (v && !*out && strcmp(v, "0") && strcmp(v, "false")) {
		*ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "parameter '%s' must be 1 or 0",
					 name);
		return -1;
	}
	return 0;
}

struct arg_scan {
	const char *names[SERVE_ARGS_MAX]; /* the names seen (the connection keeps them) */
	size_t n;
	int bad; /* 1: too many, 2: twice, 3: a NUL byte */
	char which[64];
};

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				size_t key_size, const char *value, size_t value_size)
{
	struct arg_scan *a = cls;

	(void)kind;
	snprintf(a->which, sizeof(a->which), "%s", key);
	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		a->bad = 3;
		return MHD_NO;
	}
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->names[i], key)) {
			a->bad = 2;
			return MHD_NO;
		}
	if (a->n == SERVE_ARGS_MAX) {
		a->bad = 1;
		return MHD_NO;
	}
	a->names[a->n++] = key;
	return MHD_YES;
}

int serve_check_args(struct MHD_Connection *c, struct request *r, enum MHD_Result *ret)
{
	struct arg_scan a;

	a.n = 0;
	a.bad = 0;
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, scan_arg, &a);
	if (!a.bad)
		return 0;
	if (a.bad == 1)
		*ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "too many query parameters (at most %d)", SERVE_ARGS_MAX);
	else
		*ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 a.bad == 2 ? "parameter '%s' is given twice"
						    : "parameter '%s' holds a NUL byte",
					 a.which);
	return -1;
}

/* The answer to a library error: 404 for what is not there, 400 for bad input, else 500. */
enum MHD_Result serve_reply_failure(struct MHD_Connection *c, struct request *r,
				    const struct st_error *err)
{
	int status = err->code == ST_E_NOTFOUND	 ? MHD_HTTP_NOT_FOUND
		     : err->code == ST_E_INVALID ? MHD_HTTP_BAD_REQUEST
		     : err->code == ST_E_DENIED	 ? MHD_HTTP_FORBIDDEN
						 : MHD_HTTP_INTERNAL_SERVER_ERROR;

	return serve_reply_error(c, r, status, "%s", err->msg);
}

/* ---- Forms ----------------------------------------------------------------------------- */

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9'	? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
					: -1;
}

int serve_form(const struct request *r, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = r->body;

	while (p && *p) {
		const char *end = strchr(p, '&'), *eq;

		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
			size_t k = 0;

			for (const char *q = eq + 1; q < end; q++) {
				int hi, lo;
				char ch = *q;

				if (ch == '+')
					ch = ' ';
				else if (ch == '%' && end - q >= 3 &&
					 (hi = hexval(q[1])) >= 0 && (lo = hexval(q[2])) >= 0) {
					ch = (char)(hi << 4 | lo);
					q += 2;
				}
				if (k + 1 >= n)
					return -1;
				out[k++] = ch;
			}
			out[k] = '\0';
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	if (n)
		out[0] = '\0';
	return 0;
}
