/* The data-subject request pages: the list in groups (overdue, due within 7 days, open,
 * extended, completed) with days left or late, one request's plan, timeline, evidence per
 * target and verification, and the form that files a request (the dpo role, audited, with a
 * CSRF token; the subject's value is turned into pseudonyms at once and never kept). */
#include "pages_int.h"
#include "alloc.h"
#include "catalog.h"
#include "pii.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SOON_DAYS 7 /* "due soon": within this many days */
#define LIST_MAX 10000

enum group { G_OVERDUE, G_SOON, G_OPEN, G_EXTENDED, G_COMPLETED, G_N };

struct listing {
	struct audit_request *v;
	size_t n, cap;
};

static int collect(void *u, const struct audit_request *r)
{
	struct listing *l = u;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct audit_request *v;

		if (cap > LIST_MAX || !(v = st_realloc(l->v, cap * sizeof(*v))))
			return 1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return 0;
}

static enum group group_of(const struct audit_request *q, struct audit_date today)
{
	long left = audit_date_diff(today, audit_request_deadline(q));

	if (q->completed)
		return G_COMPLETED;
	if (audit_request_overdue(q, today))
		return G_OVERDUE;
	if (left <= SOON_DAYS)
		return G_SOON;
	return q->extended ? G_EXTENDED : G_OPEN;
}

static void row(struct page *p, const struct audit_request *q, struct audit_date today)
{
	char rec[11], due[11];
	long left = audit_date_diff(today, audit_request_deadline(q));

	audit_date_format(q->received, rec);
	audit_date_format(audit_request_deadline(q), due);
	html_f(&p->h, "<tr class=\"request\" id=\"req-%s\"><td><a href=\"/requests/%U\">%s</a></td>"
		      "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s</td><td>",
	       q->id, q->id, q->id, audit_req_kind_name(q->kind), audit_regime_name(q->regime),
	       q->category, rec, due, q->extended ? " (extended)" : "");
	if (q->completed)
		html_raw(&p->h, "completed");
	else if (left < 0)
		html_f(&p->h, "<span class=\"late\">%ld day%s late</span>", -left, left == -1 ? "" : "s");
	else
		html_f(&p->h, "%ld day%s left", left, left == 1 ? "" : "s");
	html_raw(&p->h, "</td></tr>\n");
}

static void new_form(struct page *p)
{
	html_raw(&p->h, "<h2>File a request</h2><form method=\"post\" action=\"/requests\" "
			"id=\"new-request\" autocomplete=\"off\">");
	page_csrf_field(p);
	html_raw(&p->h, "<label>kind <select name=\"kind\"><option>erase</option><option>access"
			"</option><option>object</option></select></label> "
			"<label>law <select name=\"regime\"><option>gdpr</option><option>ccpa"
			"</option></select></label> "
			"<label>subject category <input name=\"category\" placeholder=\"user.contact.email\" "
			"required></label> "
			"<label>subject's identifier <input type=\"password\" name=\"value\" "
			"autocomplete=\"off\" required></label> "
			"<label>received <input type=\"date\" name=\"received\"></label> "
			"<button type=\"submit\">File</button>"
			"<p class=\"muted\">Only the identifier's pseudonyms are kept.</p></form>\n");
}

/* GET /requests: every request in its group. */
enum MHD_Result page_requests(struct server *s, struct MHD_Connection *c, struct request *r,
			      const struct audit_actor *a, const char *name)
{
	static const char *const titles[G_N] = {"Overdue", "Due within 7 days", "Open",
						"Extended", "Completed"};
	static const char *const ids[G_N] = {"overdue", "soon", "open", "extended", "completed"};
	struct listing l = {0};
	struct st_error err = ST_ERROR_INIT;
	struct audit_log *log;
	struct audit_date today = audit_date_from_ms(audit_now_ms());
	struct page p;

	(void)name;
	if (!(log = serve_worker_log(s, &err)) ||
	    audit_request_each(audit_db(log), collect, &l, &err)) {
		st_free(l.v);
		return serve_reply_failure(c, r, &err);
	}
	page_begin(&p, c, r, a, "Requests");
	for (int gr = 0; gr < G_N; gr++) {
		size_t n = 0;

		for (size_t i = 0; i < l.n; i++)
			n += group_of(&l.v[i], today) == (enum group)gr;
		html_f(&p.h, "<section class=\"group\" id=\"%s\"><h2>%s (%zu)</h2>", ids[gr],
		       titles[gr], n);
		if (n) {
			html_raw(&p.h, "<table><tr><th>id</th><th>kind</th><th>law</th><th>subject "
				       "category</th><th>received</th><th>due</th><th></th></tr>\n");
			for (size_t i = 0; i < l.n; i++)
				if (group_of(&l.v[i], today) == (enum group)gr)
					row(&p, &l.v[i], today);
			html_raw(&p.h, "</table>");
		}
		html_raw(&p.h, "</section>\n");
	}
	if (a->role >= AUDIT_ROLE_DPO)
		new_form(&p);
	st_free(l.v);
	return page_end(&p);
}

/* ---- One request ---------------------------------------------------------------------- */

static int show_event(void *u, const struct audit_req_event *e)
{
	struct page *p = u;
	char when[32];

	audit_time_format(e->ts_ms, when, sizeof(when));
	html_f(&p->h, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", when, e->actor,
	       e->event, e->detail);
	return 0;
}

static int show_target(void *u, const struct audit_req_target *t)
{
	struct page *p = u;

	html_f(&p->h, "<tr><td>%s</td><td>%s</td><td>%s</td><td>", t->dataset, t->uri, t->status);
	if (t->has_counts)
		html_f(&p->h, "matched %lld, changed %lld", (long long)t->matched,
		       (long long)t->changed);
	if (t->http_status)
		html_f(&p->h, ", HTTP %lld", (long long)t->http_status);
	html_f(&p->h, ", %lld run%s", (long long)t->runs, t->runs == 1 ? "" : "s");
	if (t->detail)
		html_f(&p->h, "<div class=\"muted\">%s</div>", t->detail);
	html_raw(&p->h, "</td><td>");
	if (t->has_counts && t->has_remaining) {
		html_f(&p->h, "visited %lld, erased %lld, ", (long long)t->visited,
		       (long long)t->erased);
		if (t->remaining < 0)
			html_raw(&p->h, "<span class=\"note\">unverified</span>");
		else
			html_f(&p->h, "<span class=\"%s\">remaining %lld</span>",
			       t->remaining ? "late" : "ok", (long long)t->remaining);
	} else {
		html_raw(&p->h, "<span class=\"muted\">–</span>");
	}
	html_raw(&p->h, "</td></tr>\n");
	return 0;
}

static void plan(struct page *p, struct server *s, const struct audit_request *q)
{
	struct catalog_config cfg = {0};
	struct audit_plan pl = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat = serve_worker_catalog(s, &err);

	html_raw(&p->h, "<h2>Plan</h2>");
	if (!cat || catalog_config_load(&cfg, s->o->ws, &err) ||
	    audit_plan_build(cat, &cfg, s->o->ws->config, q, &pl, &err)) {
		html_f(&p->h, "<p class=\"error\">the plan cannot be made: %s</p>", err.msg);
		goto out;
	}
	html_raw(&p->h, "<table id=\"plan\"><tr><th>dataset</th><th>matched on</th><th>how</th>"
			"<th>target</th></tr>");
	for (size_t i = 0; i < pl.n; i++) {
		const struct audit_plan_item *it = &pl.v[i];

		html_raw(&p->h, "<tr><td>");
		page_dataset_link(p, it->dataset, it->kind);
		html_f(&p->h, "</td><td>%s%s%s%s</td><td>%s</td><td>%s</td></tr>\n",
		       it->match_field ? it->match_field : "(no match field: manual)",
		       it->match_category ? " (" : "", it->match_category ? it->match_category : "",
		       it->match_category ? ")" : "", it->direct ? "direct" : "resolved",
		       it->uri ? it->uri : "manual work");
	}
	html_raw(&p->h, "</table>");
	if (!pl.n)
		html_raw(&p->h, "<p class=\"muted\">No dataset holds this subject's category.</p>");
out:
	audit_plan_release(&pl);
	catalog_config_release(&cfg);
}

/* GET /requests/ID: the request, its deadline, plan, timeline and evidence per target. */
enum MHD_Result page_request(struct server *s, struct MHD_Connection *c, struct request *r,
			     const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_request q;
	struct audit_log *log;
	struct audit_date today = audit_date_from_ms(audit_now_ms());
	struct page p;
	char rec[11], due[11], title[64];

	if (strlen(name) >= AUDIT_ID_MAX)
		return serve_reply_error(c, r, MHD_HTTP_NOT_FOUND, "no request '%.40s'", name);
	if (!(log = serve_worker_log(s, &err)) || audit_request_get(audit_db(log), name, &q, &err))
		return serve_reply_failure(c, r, &err);
	snprintf(title, sizeof(title), "Request %s", q.id);
	page_begin(&p, c, r, a, title);
	audit_date_format(q.received, rec);
	audit_date_format(audit_request_deadline(&q), due);
	html_f(&p.h, "<table id=\"request\"><tr><th>kind</th><td>%s</td></tr><tr><th>law</th>"
		     "<td>%s</td></tr><tr><th>subject</th><td>%s (by pseudonym)</td></tr>"
		     "<tr><th>received</th><td>%s</td></tr><tr><th>due</th><td>%s",
	       audit_req_kind_name(q.kind), audit_regime_name(q.regime), q.category, rec, due);
	if (q.extended)
		html_f(&p.h, " (extended: %s)", q.extension_reason);
	html_f(&p.h, "</td></tr><tr><th>status</th><td id=\"status\">%s%s</td></tr></table>\n",
	       q.completed ? "completed" : "open",
	       !q.completed && audit_request_overdue(&q, today) ? ", overdue" : "");
	if (!q.completed)
		plan(&p, s, &q);
	html_raw(&p.h, "<h2>Evidence per target</h2><table id=\"targets\"><tr><th>dataset</th>"
		       "<th>target</th><th>status</th><th>evidence</th><th>verification</th></tr>");
	if (audit_request_history(audit_db(log), q.id, NULL, show_target, &p, &err))
		html_f(&p.h, "<tr><td colspan=\"5\" class=\"error\">%s</td></tr>", err.msg);
	html_raw(&p.h, "</table><h2>Timeline</h2><table id=\"timeline\"><tr><th>when</th><th>who"
		       "</th><th>event</th><th>detail</th></tr>");
	st_error_init(&err);
	if (audit_request_history(audit_db(log), q.id, show_event, NULL, &p, &err))
		html_f(&p.h, "<tr><td colspan=\"4\" class=\"error\">%s</td></tr>", err.msg);
	html_raw(&p.h, "</table>\n");
	return page_end(&p);
}

/* ---- Filing --------------------------------------------------------------------------- */

/* POST /requests (kind, regime, category, value, received): request new, from the form. */
enum MHD_Result page_request_new(struct server *s, struct MHD_Connection *c, struct request *r,
				 const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_config cfg = {0};
	struct pii_keyring kr = {0};
	struct audit_date received = audit_date_from_ms(audit_now_ms());
	struct audit_log *log;
	char kind_s[16], regime_s[16], category[128], value[PII_SUBJECT_MAX + 8], date[16];
	char pseu[8][PII_PSEUDONYM_MAX], id[AUDIT_ID_MAX], loc[64];
	const char *list[8];
	char *keydir = NULL;
	size_t np = 0, len;
	int kind, regime = AUDIT_GDPR, vr;
	enum MHD_Result ret;

	(void)name;
	vr = serve_form(r, "value", value, sizeof(value));
	if (serve_form(r, "kind", kind_s, sizeof(kind_s)) != 1 ||
	    (kind = audit_req_kind_parse(kind_s)) < 0) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					"give one kind: erase, access or object");
		goto out;
	}
	if (serve_form(r, "regime", regime_s, sizeof(regime_s)) == 1 &&
	    (regime = audit_regime_parse(regime_s)) < 0) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "unknown regime (gdpr or ccpa)");
		goto out;
	}
	if (serve_form(r, "category", category, sizeof(category)) != 1 || !category[0] ||
	    catalog_category_check(category, &err)) {
		ret = err.msg[0] ? serve_reply_failure(c, r, &err)
				 : serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
						     "the subject's category is needed");
		goto out;
	}
	if (serve_form(r, "received", date, sizeof(date)) < 0 ||
	    (date[0] && audit_date_parse(date, &received)) ||
	    audit_date_diff(audit_date_from_ms(audit_now_ms()), received) > 0) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					"the date received must be a date such as 2026-01-31, "
					"not in the future");
		goto out;
	}
	if (vr != 1 || !(len = strlen(value))) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					vr < 0 ? "the subject is too long" : "no subject given");
		goto out;
	}
	if (pii_subject_check(value, len, &err)) {
		st_error_prefix(&err, "the subject is refused");
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	if (!(keydir = catalog_workspace_state_path(s->o->ws, "keys"))) {
		ret = serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		goto out;
	}
	if (pii_keyring_open(&kr, keydir, 1, &err) || catalog_config_load(&cfg, s->o->ws, &err) ||
	    (!pii_keyring_current(&kr) &&
	     st_error_set(&err, ST_E_NOTFOUND, "no current key (run 'steward key init')")) ||
	    pii_subject_pseudonyms(&kr, category, value, len,
				   pii_country_calling_code(
					   catalog_config_str(&cfg, "pii.default_country")),
				   pseu, 8, &np, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	for (size_t i = 0; i < np; i++)
		list[i] = pseu[i];
	if (!(log = serve_worker_log(s, &err)) ||
	    audit_request_create(log, a, kind, regime, category, list, np, received, id, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	snprintf(loc, sizeof(loc), "/requests/%s", id);
	ret = serve_reply_redirect(c, r, loc, NULL);
out:
	sodium_memzero(value, sizeof(value));
	sodium_memzero(pseu, sizeof(pseu));
	if (r->body)
		sodium_memzero(r->body, r->body_len); /* the form held the raw value */
	st_free(keydir);
	pii_keyring_release(&kr);
	catalog_config_release(&cfg);
	return ret;
}
