/* The governance reads of the API: the PII map and `pii check`, data-subject requests (a
 * page of them, one with its evidence and plan), the audit log's status and its records,
 * each the same library call and JSON builder as the CLI's --json. */
#include "serve_int.h"
#include "audit.h"
#include "catalog.h"
#include "pii_map.h"

#include <stdint.h>
#include <string.h>

/* Adds {total, offset, limit} to doc (taken) for a page of a list of total items. */
static json_t *paged(json_t *doc, size_t total, long offset, long limit)
{
	if (doc && (json_object_set_new(doc, "total", json_integer((json_int_t)total)) ||
		    json_object_set_new(doc, "offset", json_integer(offset)) ||
		    json_object_set_new(doc, "limit", json_integer(limit)))) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* GET /api/v1/pii/map: `pii map --json`, its fields paged (the totals count them all). */
static enum MHD_Result get_pii_map(struct server *s, struct MHD_Connection *c, struct request *r,
				   const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_map m = {0};
	struct catalog *cat;
	enum MHD_Result ret;
	long limit, offset;

	(void)a;
	(void)name;
	if (serve_arg_page(c, r, SERVE_OFFSET_MAX, &limit, &offset, &ret))
		return ret;
	if (!(cat = serve_worker_catalog(s, &err)) || pii_graph_catalog(cat, &g, &err) ||
	    pii_map_build(cat, g, &m, &err))
		ret = serve_reply_failure(c, r, &err);
	else
		ret = serve_reply_json(c, r, MHD_HTTP_OK,
				       paged(pii_map_json(g, &m, (size_t)offset, (size_t)limit),
					     m.n, offset, limit));
	pii_map_release(&m);
	pii_graph_free(g);
	return ret;
}

/* GET /api/v1/pii/check: `pii check --json`, its findings paged (count is all of them). */
static enum MHD_Result get_pii_check(struct server *s, struct MHD_Connection *c,
				     struct request *r, const struct audit_actor *a,
				     const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_findings fs = {0};
	struct catalog *cat;
	enum MHD_Result ret;
	long limit, offset;

	(void)a;
	(void)name;
	if (serve_arg_page(c, r, SERVE_OFFSET_MAX, &limit, &offset, &ret))
		return ret;
	if (!(cat = serve_worker_catalog(s, &err)) || pii_graph_catalog(cat, &g, &err) ||
	    pii_check(cat, g, &fs, &err))
		ret = serve_reply_failure(c, r, &err);
	else
		ret = serve_reply_json(c, r, MHD_HTTP_OK,
				       paged(pii_findings_json(g, &fs, (size_t)offset,
							       (size_t)limit),
					     fs.n, offset, limit));
	pii_findings_release(&fs);
	pii_graph_free(g);
	return ret;
}

struct request_page {
	struct audit_date today;
	int overdue_only;
	long offset, limit;
	size_t total, overdue;
	json_t *results;
};

static int request_one(void *u, const struct audit_request *q)
{
	struct request_page *p = u;
	int overdue = audit_request_overdue(q, p->today);

	p->overdue += overdue;
	if (p->overdue_only && !overdue)
		return 0;
	if (p->total++ < (size_t)p->offset || json_array_size(p->results) >= (size_t)p->limit)
		return 0;
	return json_array_append_new(p->results, audit_request_list_json(q, p->today));
}

/* GET /api/v1/requests[?overdue=1]: `request list --json` in a page, oldest first, with how
 * many are overdue in all. */
static enum MHD_Result get_requests(struct server *s, struct MHD_Connection *c, struct request *r,
				    const struct audit_actor *a, const char *name)
{
	struct request_page p = {0};
	struct st_error err = ST_ERROR_INIT;
	struct audit_log *log;
	enum MHD_Result ret;

	(void)a;
	(void)name;
	if (serve_arg_page(c, r, SERVE_OFFSET_MAX, &p.limit, &p.offset, &ret) ||
	    serve_arg_flag(c, r, "overdue", &p.overdue_only, &ret))
		return ret;
	p.today = audit_date_from_ms(audit_now_ms());
	if (!(p.results = json_array()))
		return serve_reply_json(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	if (!(log = serve_worker_log(s, &err)) ||
	    audit_request_each(audit_db(log), request_one, &p, &err)) {
		json_decref(p.results);
		return serve_reply_failure(c, r, &err);
	}
	return serve_reply_json(c, r, MHD_HTTP_OK,
				json_pack("{s:I, s:i, s:i, s:I, s:o}", "total",
					  (json_int_t)p.total, "offset", (int)p.offset, "limit",
					  (int)p.limit, "overdue", (json_int_t)p.overdue, "results",
					  p.results));
}

/* The plan of request q as `request plan --json` prints it, from the catalog and the
 * `targets:` of steward.yaml as they are now. Returns 0 with *out, or -1 with err. */
static int request_plan(struct server *s, const struct audit_request *q, json_t **out,
			struct st_error *err)
{
	struct catalog_config cfg = {0};
	struct audit_plan plan = {0};
	struct catalog *cat;
	int ret = -1;

	if (!(cat = serve_worker_catalog(s, err)) || catalog_config_load(&cfg, s->o->ws, err) ||
	    audit_plan_build(cat, &cfg, s->o->ws->config, q, &plan, err))
		goto out;
	if (!(*out = audit_plan_json(q, &plan))) {
		st_error_oom(err);
		goto out;
	}
	ret = 0;
out:
	audit_plan_release(&plan);
	catalog_config_release(&cfg);
	return ret;
}

/* GET /api/v1/requests/ID[?plan=1]: `request show --json` (its timeline and the evidence
 * and verification of each target), with the plan of `request plan --json` when asked. */
static enum MHD_Result get_request(struct server *s, struct MHD_Connection *c, struct request *r,
				   const struct audit_actor *a, const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_request q;
	struct audit_log *log;
	enum MHD_Result ret;
	json_t *doc = NULL, *plan = NULL;
	int want_plan;

	(void)a;
	if (serve_arg_flag(c, r, "plan", &want_plan, &ret))
		return ret;
	if (strlen(name) >= AUDIT_ID_MAX || strchr(name, '/'))
		return serve_reply_error(c, r, MHD_HTTP_NOT_FOUND,
					 "no request '%.40s' (see 'steward request list')", name);
	if (!(log = serve_worker_log(s, &err)) || audit_request_get(audit_db(log), name, &q, &err) ||
	    audit_request_json(audit_db(log), &q, audit_date_from_ms(audit_now_ms()), &doc, &err) ||
	    (want_plan && request_plan(s, &q, &plan, &err))) {
		json_decref(doc);
		return serve_reply_failure(c, r, &err);
	}
	if (plan && json_object_set_new(doc, "plan", plan)) {
		json_decref(doc);
		doc = NULL;
	}
	return serve_reply_json(c, r, MHD_HTTP_OK, doc);
}

/* GET /api/v1/audit/status[?verify=1]: the last record and the newest checkpoint, read
 * without verifying anything (cheap enough for every page view); with verify=1, also a full
 * verification, as `audit verify --json` prints it ("verify"; null when not asked). */
static enum MHD_Result get_audit_status(struct server *s, struct MHD_Connection *c,
					struct request *r, const struct audit_actor *a,
					const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	struct audit_checkpoint cp;
	struct audit_verify_result res;
	struct audit_log *log;
	enum MHD_Result ret;
	int64_t seq, ts_ms;
	int verify, tampered = 0;
	char when[40];
	json_t *doc;

	(void)a;
	(void)name;
	if (serve_arg_flag(c, r, "verify", &verify, &ret))
		return ret;
	memset(&res, 0, sizeof(res));
	if (!(log = serve_worker_log(s, &err)) || audit_head(audit_db(log), &seq, &ts_ms, &err) ||
	    audit_checkpoint_head(audit_db(log), &cp, &err) ||
	    (verify && (tampered = audit_verify_db(audit_db(log), NULL, &res, &err)) < 0))
		return serve_reply_failure(c, r, &err);
	audit_time_format(ts_ms, when, sizeof(when));
	doc = json_pack("{s:I, s:s?, s:o, s:I, s:o}", "records", (json_int_t)seq, "last_record",
			seq ? when : NULL, "checkpoint",
			cp.seq ? audit_checkpoint_json(&cp) : json_null(), "unsigned_records",
			(json_int_t)(seq - cp.seq), "verify",
			verify ? audit_verify_json(&res, tampered) : json_null());
	return serve_reply_json(c, r, MHD_HTTP_OK, doc);
}

struct log_page {
	long offset, limit;
	size_t total;
	json_t *results;
};

static int log_row(void *u, const struct audit_row *row)
{
	struct log_page *p = u;

	if (p->total++ < (size_t)p->offset || json_array_size(p->results) >= (size_t)p->limit)
		return 0;
	return json_array_append_new(p->results, audit_row_json(row));
}

/* A time parameter (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC) into *ms (0 when absent).
 * Returns 0, or -1 after queueing a 400 answer into *ret. */
static int arg_time(struct MHD_Connection *c, struct request *r, const char *name, int64_t *ms,
		    enum MHD_Result *ret)
{
	const char *v = serve_arg(c, name);

	*ms = 0;
	if (v && audit_time_parse(v, ms)) {
		*ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter '%s' must be a date such as 2026-11-01 or "
					 "2026-11-01T09:30Z",
					 name);
		return -1;
	}
	return 0;
}

/* GET /api/v1/audit/log[?since&until&actor&action&object&outcome]: `audit log --json` in a
 * page, oldest first, with the CLI's filters (action may end in ".*"; until is exclusive). */
static enum MHD_Result get_audit_log(struct server *s, struct MHD_Connection *c,
				     struct request *r, const struct audit_actor *a,
				     const char *name)
{
	struct log_page p = {0};
	struct audit_filter f;
	struct st_error err = ST_ERROR_INIT;
	struct audit_log *log;
	enum MHD_Result ret;

	(void)a;
	(void)name;
	memset(&f, 0, sizeof(f));
	if (serve_arg_page(c, r, SERVE_OFFSET_MAX, &p.limit, &p.offset, &ret) ||
	    arg_time(c, r, "since", &f.since_ms, &ret) || arg_time(c, r, "until", &f.until_ms, &ret))
		return ret;
	f.actor = serve_arg(c, "actor");
	f.action = serve_arg(c, "action");
	f.object = serve_arg(c, "object");
	f.outcome = serve_arg(c, "outcome");
	if (f.outcome && strcmp(f.outcome, "ok") && strcmp(f.outcome, "denied") &&
	    strcmp(f.outcome, "error"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter 'outcome' must be ok, denied or error");
	if (!(p.results = json_array()))
		return serve_reply_json(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	if (!(log = serve_worker_log(s, &err)) || audit_query(audit_db(log), &f, log_row, &p, &err)) {
		json_decref(p.results);
		return serve_reply_failure(c, r, &err);
	}
	return serve_reply_json(c, r, MHD_HTTP_OK,
				json_pack("{s:I, s:i, s:i, s:o}", "total", (json_int_t)p.total,
					  "offset", (int)p.offset, "limit", (int)p.limit, "results",
					  p.results));
}

const struct serve_route serve_api_data_routes[] = {
	{"/api/v1/pii/map", 0, "pii.map", get_pii_map, SERVE_GET},
	{"/api/v1/pii/check", 0, "pii.check", get_pii_check, SERVE_GET},
	{"/api/v1/requests", 0, "request.list", get_requests, SERVE_GET},
	{"/api/v1/requests/", 1, "request.show", get_request, SERVE_GET},
	{"/api/v1/audit/status", 0, "audit.verify", get_audit_status, SERVE_GET},
	{"/api/v1/audit/log", 0, "audit.log", get_audit_log, SERVE_GET},
};

const size_t serve_api_data_route_count =
	sizeof(serve_api_data_routes) / sizeof(*serve_api_data_routes);
