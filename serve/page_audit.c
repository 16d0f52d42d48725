/* The audit pages: the chain's verify status and last checkpoint, a filterable view of the
 * log (every value escaped; records hold no raw PII, as the CLI writes them), and the monthly
 * compliance report (the HTML report the CLI renders, as it is). */
#include "pages_int.h"
#include "alloc.h"
#include "catalog.h"

#include <stdio.h>
#include <string.h>

#define LOG_SHOWN 200 /* the newest records the log view shows */

/* GET /audit: audit verify and the last checkpoint, and links to the reports. */
enum MHD_Result page_audit(struct server *s, struct MHD_Connection *c, struct request *r,
			   const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_verify_result res = {0};
	struct audit_log *log;
	struct audit_date today = audit_date_from_ms(audit_now_ms());
	struct page p;
	char when[32], hex[2 * AUDIT_HASH_BYTES + 1];
	int v;

	(void)name;
	if (!(log = serve_worker_log(s, &err)) ||
	    (v = audit_verify_db(audit_db(log), NULL, &res, &err)) < 0)
		return serve_reply_failure(c, r, &err);
	page_begin(&p, c, r, a, "Audit");
	if (v == 0)
		html_f(&p.h, "<p class=\"ok\" id=\"verify\">The log is intact: %lld records, %lld "
			     "checkpoints checked.</p>",
		       (long long)res.records, (long long)res.checkpoints);
	else
		html_f(&p.h, "<p class=\"error\" id=\"verify\">The log was tampered with at record "
			     "%lld: %s</p>",
		       (long long)res.bad_seq, res.problem);
	if (res.head.seq) {
		audit_time_format(res.head.ts_ms, when, sizeof(when));
		for (size_t i = 0; i < AUDIT_HASH_BYTES; i++)
			snprintf(hex + 2 * i, 3, "%02x", res.head.hash[i]);
		html_f(&p.h, "<p id=\"checkpoint\">Last checkpoint: record %lld, signed %s, hash "
			     "<code>%s</code>.</p>",
		       (long long)res.head.seq, when, hex);
	} else {
		html_raw(&p.h, "<p id=\"checkpoint\">No checkpoint yet.</p>");
	}
	html_raw(&p.h, "<p><a href=\"/audit/log\">The log</a></p><h2>Monthly reports</h2><ul "
		       "id=\"reports\">");
	for (int i = 0; i < 12; i++) {
		int y = today.y, m = today.m - i;

		while (m < 1) {
			m += 12;
			y--;
		}
		snprintf(when, sizeof(when), "%04d-%02d", y, m);
		html_f(&p.h, "<li><a href=\"/audit/reports/%U\">%s</a></li>", when, when);
	}
	html_raw(&p.h, "</ul>\n");
	return page_end(&p);
}

/* The newest records that pass the filter, in a ring. */
struct ring {
	struct page *p;
	char *rows[LOG_SHOWN];
	size_t n, total;
};

static int keep_row(void *u, const struct audit_row *row)
{
	struct ring *k = u;
	struct html h;
	char when[32];

	html_init(&h);
	audit_time_format(row->ts_ms, when, sizeof(when));
	html_f(&h, "<tr class=\"outcome-%s\"><td>%lld</td><td>%s</td><td>%s</td><td>%s</td><td>%s"
		   "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
	       row->outcome, (long long)row->seq, when, row->actor, row->role, row->action,
	       row->object, row->purpose, row->outcome, row->reason);
	st_free(k->rows[k->total % LOG_SHOWN]);
	k->rows[k->total % LOG_SHOWN] = h.failed ? NULL : st_buf_detach(&h.b);
	html_release(&h);
	k->total++;
	return 0;
}

/* GET /audit/log[?actor=A&action=X&outcome=O&since=DATE&until=DATE]: the newest records
 * that match, newest first. */
enum MHD_Result page_audit_log(struct server *s, struct MHD_Connection *c, struct request *r,
			       const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_filter f = {0};
	struct ring k = {0};
	struct audit_log *log;
	const char *since = serve_arg(c, "since"), *until = serve_arg(c, "until");
	enum MHD_Result ret;
	struct page p;
	size_t shown;

	(void)name;
	f.actor = serve_arg(c, "actor");
	f.action = serve_arg(c, "action");
	f.outcome = serve_arg(c, "outcome");
	if ((since && audit_time_parse(since, &f.since_ms)) ||
	    (until && audit_time_parse(until, &f.until_ms)))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameters 'since' and 'until' take a date such as "
					 "2026-01-31 or 2026-01-31T12:00");
	if (f.outcome && strcmp(f.outcome, "ok") && strcmp(f.outcome, "denied") &&
	    strcmp(f.outcome, "error"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter 'outcome' must be ok, denied or error");
	if (!(log = serve_worker_log(s, &err)) || audit_query(audit_db(log), &f, keep_row, &k, &err)) {
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	page_begin(&p, c, r, a, "Audit log");
	html_f(&p.h, "<form method=\"get\" action=\"/audit/log\" id=\"filter\">"
		     "<label>who <input name=\"actor\" value=\"%s\" size=\"10\"></label> "
		     "<label>action <input name=\"action\" value=\"%s\" size=\"12\" "
		     "placeholder=\"request.*\"></label> "
		     "<label>outcome <input name=\"outcome\" value=\"%s\" size=\"6\"></label> "
		     "<label>since <input name=\"since\" value=\"%s\" size=\"10\"></label> "
		     "<label>until <input name=\"until\" value=\"%s\" size=\"10\"></label> "
		     "<button type=\"submit\">Filter</button></form>\n",
	       f.actor, f.action, f.outcome, since, until);
	shown = k.total < LOG_SHOWN ? k.total : LOG_SHOWN;
	html_f(&p.h, "<p id=\"count\">%zu records match; the newest %zu, newest first.</p>", k.total,
	       shown);
	html_raw(&p.h, "<table id=\"log\"><tr><th>seq</th><th>when (UTC)</th><th>who</th><th>role"
		       "</th><th>action</th><th>object</th><th>purpose</th><th>outcome</th>"
		       "<th>reason</th></tr>\n");
	for (size_t i = 0; i < shown; i++) {
		const char *row = k.rows[(k.total - 1 - i) % LOG_SHOWN];

		html_raw(&p.h, row ? row : ""); /* built above by the escaping writer */
	}
	html_raw(&p.h, "</table>\n");
	ret = page_end(&p);
out:
	for (size_t i = 0; i < LOG_SHOWN; i++)
		st_free(k.rows[i]);
	return ret;
}

/* GET /audit/reports/YYYY-MM: the month's report, as `report --format html` renders it: a
 * page of its own with inline style and no script, served under a policy that allows just
 * that. */
enum MHD_Result page_report(struct server *s, struct MHD_Connection *c, struct request *r,
			    const struct audit_actor *a, const char *name)
{
	struct audit_report_meta meta = {s->o->ws->home, s->o->version, a, 0};
	struct st_error err = ST_ERROR_INIT;
	struct audit_report *rep = NULL;
	struct audit_log *log;
	struct catalog *cat;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	int y, m;

	if (audit_report_period_parse(name, &y, &m))
		return serve_reply_error(c, r, MHD_HTTP_NOT_FOUND,
					 "no report '%.20s' (a month is YYYY-MM)", name);
	if (!(log = serve_worker_log(s, &err)) || !(cat = serve_worker_catalog(s, &err)) ||
	    audit_report_build(audit_db(log), cat, y, m, &meta, &rep, &err) ||
	    audit_report_render(rep, AUDIT_REPORT_HTML, &text, &len, &err)) {
		ret = err.code == ST_E_USAGE
			      ? serve_reply_error(c, r, MHD_HTTP_NOT_FOUND, "%s", err.msg)
			      : serve_reply_failure(c, r, &err);
		goto out;
	}
	{
		struct html h;

		html_init(&h);
		html_raw(&h, text); /* the report renderer escapes every value for HTML */
		ret = serve_reply_html(c, r, MHD_HTTP_OK, &h,
				       "default-src 'none'; style-src 'unsafe-inline'; "
				       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
		html_release(&h);
	}
out:
	st_free(text);
	audit_report_free(rep);
	return ret;
}
