/* The pages' layout (head, navigation, who is asking), the login form that keeps a token in
 * a cookie for a browser, and the search page with the CLI's filters and ranking. */
#include "pages_int.h"
#include "alloc.h"
#include "catalog.h"
#include "pii_map.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void page_begin(struct page *p, struct MHD_Connection *c, struct request *r,
		const struct audit_actor *a, const char *title)
{
	static const struct {
		const char *href, *label;
	} nav[] = {{"/search", "Search"},	  {"/pii/map", "PII map"},
		   {"/pii/untagged", "Untagged data"}, {"/requests", "Requests"},
		   {"/audit", "Audit"}};

	p->c = c;
	p->r = r;
	p->a = a;
	html_init(&p->h);
	html_f(&p->h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		      "<title>%s · steward</title>"
		      "<link rel=\"stylesheet\" href=\"/static/steward.css\">"
		      "<script src=\"/static/steward.js\" defer></script></head>\n<body>"
		      "<header><a class=\"brand\" href=\"/\">steward</a><nav>",
	       title);
	for (size_t i = 0; i < sizeof(nav) / sizeof(*nav); i++)
		html_f(&p->h, "<a href=\"%s\">%s</a>", nav[i].href, nav[i].label);
	html_raw(&p->h, "</nav>");
	if (a) {
		html_f(&p->h, "<span class=\"who\" id=\"who\">%s (%s)</span>", a->name,
		       a->role ? audit_role_name(a->role) : "no role");
		if (!r->on_socket) {
			html_raw(&p->h, "<form method=\"post\" action=\"/logout\" class=\"logout\">");
			page_csrf_field(p);
			html_raw(&p->h, "<button type=\"submit\">Log out</button></form>");
		}
	}
	html_f(&p->h, "</header>\n<main>\n<h1>%s</h1>\n", title);
}

enum MHD_Result page_end(struct page *p)
{
	enum MHD_Result ret;

	html_raw(&p->h, "</main>\n</body></html>\n");
	ret = serve_reply_html(p->c, p->r, MHD_HTTP_OK, &p->h, NULL);
	html_release(&p->h);
	return ret;
}

void page_csrf_field(struct page *p)
{
	char tok[SERVE_CSRF_LEN];

	serve_csrf_token(p->c, p->r, tok);
	html_f(&p->h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", tok);
}

void page_class_badge(struct page *p, const char *cls)
{
	if (!cls || !*cls || !strcmp(cls, "none"))
		html_raw(&p->h, "<span class=\"muted\">–</span>");
	else
		html_f(&p->h, "<span class=\"pii pii-%s\">%s</span>",
		       pii_map_class_parse(cls) >= 0 ? cls : "other", cls);
}

void page_dataset_link(struct page *p, const char *name, const char *kind)
{
	html_f(&p->h, "<a class=\"ds\" href=\"/datasets/%U\">%s</a>", name, name);
	if (kind)
		html_f(&p->h, " <span class=\"kind\">%s</span>", kind);
	else
		html_raw(&p->h, " <span class=\"kind external\">external</span>");
}

/* ---- Login ---------------------------------------------------------------------------- */

#define NONCE_COOKIE "steward_login"

/* GET /login: the form. A browser that is not logged in gets a nonce cookie, which the
 * form's CSRF token is bound to (a page of another site can read neither). */
enum MHD_Result page_login_form(struct server *s, struct MHD_Connection *c, struct request *r,
				const struct audit_actor *a, const char *name)
{
	unsigned char raw[16];
	char nonce[33], tok[SERVE_CSRF_LEN], cookie[128];
	struct MHD_Response *res;
	struct page p;
	enum MHD_Result ret;
	size_t len;
	char *text;

	(void)s;
	(void)name;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(nonce, sizeof(nonce), raw, sizeof(raw));
	serve_csrf_login_token(nonce, tok);
	page_begin(&p, c, r, a, "Log in");
	html_f(&p.h, "<p>Over TCP the server names you by a token (<code>steward token new "
		     "USER</code>, from an admin). It is kept in a cookie that scripts cannot read "
		     "and that no other site's page sends.</p>"
		     "<form method=\"post\" action=\"/login\" class=\"login\">"
		     "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		     "<label>Token <input type=\"password\" name=\"token\" id=\"token\" "
		     "autocomplete=\"off\" required></label> <button type=\"submit\">Log in</button>"
		     "</form>",
	       tok);
	html_raw(&p.h, "</main>\n</body></html>\n");
	len = p.h.b.len;
	if (p.h.failed || !(text = st_buf_detach(&p.h.b))) {
		html_release(&p.h);
		return serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	html_release(&p.h);
	if (!(res = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE))) {
		st_free(text);
		return MHD_NO;
	}
	snprintf(cookie, sizeof(cookie), NONCE_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict",
		 nonce);
	MHD_add_response_header(res, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(res, "Cache-Control", "no-store");
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "X-Frame-Options", "DENY");
	MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(res, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; script-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(res, "Set-Cookie", cookie);
	r->status = MHD_HTTP_OK;
	r->bytes = len;
	ret = MHD_queue_response(c, MHD_HTTP_OK, res);
	MHD_destroy_response(res);
	return ret;
}

/* Records the login of user (or of "(anonymous)" when the token was refused for reason).
 * Returns 0, or -1 with err. */
static int record_login(struct server *s, const char *user, const char *reason,
			struct st_error *err)
{
	struct audit_actor a = {.uid = (uid_t)-1};
	struct audit_entry e = {&a, "serve.login", "/login", NULL};
	struct audit_log *log = serve_worker_log(s, err);
	char why[SERVE_TEXT_MAX];

	snprintf(a.name, sizeof(a.name), "%s", user ? user : "(anonymous)");
	if (!log)
		return -1;
	return audit_append(log, &e, reason ? AUDIT_DENIED : AUDIT_OK,
			    reason ? serve_escaped(reason, why, sizeof(why)) : NULL, NULL, err);
}

/* POST /login: checks the form's CSRF token against its nonce cookie and the token against
 * audit.db, records the login either way, and keeps the token in an HttpOnly, SameSite=Strict
 * cookie for the pages (never for the API). */
enum MHD_Result page_login(struct server *s, struct MHD_Connection *c, struct request *r,
			   const struct audit_actor *a, const char *name)
{
	const char *nonce = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, NONCE_COOKIE);
	char token[AUDIT_TOKEN_MAX + 8], given[SERVE_CSRF_LEN + 8], want[SERVE_CSRF_LEN];
	char cookie[AUDIT_TOKEN_MAX + 128];
	struct st_error err = ST_ERROR_INIT, rec = ST_ERROR_INIT;
	struct audit_token t;
	struct audit_log *log;
	enum MHD_Result ret;

	(void)a;
	(void)name;
	if (!nonce || strlen(nonce) != 32 || serve_form(r, "csrf", given, sizeof(given)) != 1 ||
	    (serve_csrf_login_token(nonce, want), !serve_csrf_equal(given, want))) {
		if (record_login(s, NULL, "no valid csrf token", &rec))
			return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
						 "the audit log cannot be written: %s", rec.msg);
		return serve_reply_error(c, r, MHD_HTTP_FORBIDDEN,
					 "the form's csrf token is missing or wrong; load the "
					 "page again and resend it");
	}
	if (serve_form(r, "token", token, sizeof(token)) != 1 || !(log = serve_worker_log(s, &err)) ||
	    audit_token_check(log, token, &t, &err)) {
		if (!err.msg[0])
			st_error_set(&err, ST_E_DENIED, "not a steward token");
		ret = record_login(s, NULL, err.msg, &rec)
			      ? serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
						  "the audit log cannot be written: %s", rec.msg)
			      : serve_reply_error(c, r,
						  err.code == ST_E_DENIED
							  ? MHD_HTTP_UNAUTHORIZED
							  : MHD_HTTP_SERVICE_UNAVAILABLE,
						  "%s", err.msg);
		sodium_memzero(token, sizeof(token));
		return ret;
	}
	snprintf(r->user, sizeof(r->user), "%s", t.user);
	if (record_login(s, t.user, NULL, &rec)) {
		sodium_memzero(token, sizeof(token));
		return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "the audit log cannot be written: %s", rec.msg);
	}
	snprintf(cookie, sizeof(cookie),
		 SERVE_TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", token);
	ret = serve_reply_redirect(c, r, "/search", cookie);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

/* POST /logout: the token cookie is dropped (the token itself stays good until it expires
 * or is revoked). */
enum MHD_Result page_logout(struct server *s, struct MHD_Connection *c, struct request *r,
			    const struct audit_actor *a, const char *name)
{
	(void)s;
	(void)a;
	(void)name;
	return serve_reply_redirect(c, r, "/login",
				    SERVE_TOKEN_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

/* ---- Search --------------------------------------------------------------------------- */

struct strongest {
	int cls;
	int64_t id;
};

static int take_id(const struct catalog_graph_dataset *d, void *u, struct st_error *err)
{
	(void)err;
	((struct strongest *)u)->id = d->id;
	return 0;
}

static int take_class(const struct catalog_graph_field *f, void *u, struct st_error *err)
{
	struct strongest *st = u;
	int cls = f->pii ? pii_map_class_parse(f->pii) : -1;

	(void)err;
	if (cls > st->cls)
		st->cls = cls;
	return 0;
}

/* The strongest class a field of dataset name declares (PII_MAP_NONE when none, or -1 when
 * it cannot be read). */
static int strongest_class(struct catalog_graph_reader *rd, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct strongest st = {PII_MAP_NONE, 0};

	if (!rd || catalog_graph_latest(rd, name, take_id, &st, &err) != 1 ||
	    catalog_graph_fields(rd, st.id, take_class, &st, &err))
		return -1;
	return st.cls;
}

static void select_kind(struct page *p, const char *kind)
{
	static const char *const kinds[] = {"event", "table", "topic", "file", "model",
					    "dashboard", "source", "term", "application"};

	html_raw(&p->h, "<label>kind <select name=\"kind\" id=\"kind\"><option value=\"\">any"
			"</option>");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		html_f(&p->h, "<option%s>%s</option>",
		       kind && !strcmp(kind, kinds[i]) ? " selected" : "", kinds[i]);
	html_raw(&p->h, "</select></label> ");
}

/* GET /search?q=Q[&kind=K&tag=T&owner=O&domain=D&pii=1&limit=N]: search as the CLI ranks
 * it, with certified badges, owners and a PII marker (the strongest declared class). */
enum MHD_Result page_search(struct server *s, struct MHD_Connection *c, struct request *r,
			    const struct audit_actor *a, const char *name)
{
	struct catalog_search_opts o = {0};
	struct catalog_hits hits = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_graph_reader *rd = NULL;
	struct catalog *cat;
	const char *q = serve_arg(c, "q"), *pii = serve_arg(c, "pii");
	enum MHD_Result ret;
	struct page p;
	long limit;

	(void)name;
	if (serve_arg_count(c, r, "limit", 1, 1000, 20, &limit, &ret))
		return ret;
	o.kind = serve_arg(c, "kind");
	o.tag = serve_arg(c, "tag");
	o.owner = serve_arg(c, "owner");
	o.domain = serve_arg(c, "domain");
	o.pii_only = pii && (!strcmp(pii, "1") || !strcmp(pii, "on") || !strcmp(pii, "true"));
	o.limit = (size_t)limit;
	if (!(cat = serve_worker_catalog(s, &err)) ||
	    (q && catalog_search(cat, q, &o, &hits, &err))) {
		catalog_hits_release(&hits);
		return serve_reply_failure(c, r, &err);
	}
	page_begin(&p, c, r, a, "Search");
	html_f(&p.h, "<form method=\"get\" action=\"/search\" class=\"search\" role=\"search\">"
		     "<input type=\"search\" name=\"q\" id=\"q\" value=\"%s\" placeholder=\"words "
		     "to find\" autofocus> ",
	       q);
	select_kind(&p, o.kind);
	html_f(&p.h, "<label>tag <input name=\"tag\" value=\"%s\" size=\"10\"></label> "
		     "<label>owner <input name=\"owner\" value=\"%s\" size=\"10\"></label> "
		     "<label>domain <input name=\"domain\" value=\"%s\" size=\"10\"></label> "
		     "<label><input type=\"checkbox\" name=\"pii\" value=\"1\"%s> with PII</label> "
		     "<button type=\"submit\">Search</button></form>\n",
	       o.tag, o.owner, o.domain, o.pii_only ? " checked" : "");
	if (!q) {
		html_raw(&p.h, "<p class=\"muted\">Every word must match, as a prefix, in names, "
			       "descriptions, fields, tags, owners or glossary terms; certified "
			       "datasets rank higher.</p>");
		goto done;
	}
	catalog_graph_reader_new(cat, &rd, &err); /* the markers are extra: none without it */
	html_f(&p.h, "<p class=\"count\" id=\"count\">%zu of %zu matches</p>\n", hits.n,
	       hits.total);
	if (hits.restricted)
		html_f(&p.h, "<p class=\"note\">Over %d datasets match, so only those matching in "
			     "their name, tags or glossary terms were ranked.</p>",
		       CATALOG_SEARCH_RANK_ALL);
	html_raw(&p.h, "<ol class=\"hits\" id=\"hits\">\n");
	for (size_t i = 0; i < hits.n; i++) {
		const struct catalog_hit *h = &hits.v[i];
		int cls = strongest_class(rd, h->name);

		html_f(&p.h, "<li class=\"hit\"><a class=\"hit-name\" href=\"/datasets/%U\">%s</a> "
			     "<span class=\"kind\">%s</span>",
		       h->name, h->name, h->kind);
		if (h->certified)
			html_raw(&p.h, " <span class=\"badge certified\">certified</span>");
		if (h->observed)
			html_raw(&p.h, " <span class=\"badge observed\">observed</span>");
		if (cls > PII_MAP_NONE)
			html_f(&p.h, " <span class=\"pii pii-%s\" title=\"its strongest declared "
				     "class\">PII: %s</span>",
			       pii_map_class_name(cls), pii_map_class_name(cls));
		if (h->owner)
			html_f(&p.h, " <span class=\"owner\">owner %s</span>", h->owner);
		html_f(&p.h, "<div class=\"desc\">%s</div></li>\n", h->description);
	}
	html_raw(&p.h, "</ol>\n");
done:
	catalog_graph_reader_free(rd);
	catalog_hits_release(&hits);
	return page_end(&p);
}
