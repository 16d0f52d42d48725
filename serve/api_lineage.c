/* POST /api/v1/lineage: OpenLineage RunEvents from the clients that emit them (Airflow,
 * Spark, dbt), one event, a JSON array of them or JSON lines, through the import of
 * `steward lineage import`: the same validation, rejects and transaction. */
#include "serve_int.h"
#include "catalog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define REJECTS_SHOWN 100 /* rejects listed in an answer; the count says how many in all */

struct rejects {
	const struct catalog_ol_stats *stats;
	json_t *list;
	int unparsed; /* some event was not JSON at all */
};

/* One rejected event: where it is in the body (its place among the events, and its array
 * index or line) and why. The event itself is not echoed: it may hold personal data. */
static int on_reject(const struct catalog_ol_reject *x, void *u, struct st_error *err)
{
	struct rejects *rj = u;
	json_t *o;

	rj->unparsed |= !x->event;
	if (json_array_size(rj->list) >= REJECTS_SHOWN)
		return 0;
	o = json_pack("{s:I, s:s}", "event", (json_int_t)(rj->stats->read - 1), "reason",
		      x->reason);
	if (o && x->index >= 0)
		json_object_set_new(o, "index", json_integer(x->index));
	else if (o && x->line)
		json_object_set_new(o, "line", json_integer((json_int_t)x->line));
	if (json_array_append_new(rj->list, o))
		return st_error_oom(err);
	return 0;
}

/* Whether the Content-Type (when given) is one that holds events. */
static int events_type(const char *ct)
{
	static const char *const ok[] = {"application/json", "application/x-ndjson",
					 "application/jsonl", "application/json-lines"};

	if (!ct)
		return 1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		size_t n = strlen(ok[i]);

		if (!strncasecmp(ct, ok[i], n) && (!ct[n] || ct[n] == ';' || ct[n] == ' '))
			return 1;
	}
	return 0;
}

/* The answer: the counts of `lineage import --json` and the rejects. 200 when every event
 * was imported or ignored; 400 when some part of the body is not JSON, 422 when events are
 * JSON but invalid (the valid ones are imported all the same: importing one twice changes
 * nothing, so a client may send the batch again once it is fixed). */
static enum MHD_Result post_lineage(struct server *s, struct MHD_Connection *c,
				    struct request *r, const struct audit_actor *a,
				    const char *name)
{
	struct catalog_ol_stats stats;
	struct rejects rj = {&stats, json_array(), 0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog_ol_import *im = NULL;
	struct catalog *cat;
	enum MHD_Result ret;
	json_t *doc = NULL;
	int status = MHD_HTTP_OK;

	(void)a;
	(void)name;
	memset(&stats, 0, sizeof(stats));
	if (!events_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_CONTENT_TYPE))) {
		ret = serve_reply_error(c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					"'/api/v1/lineage' takes application/json or "
					"application/x-ndjson");
		goto out;
	}
	if (!r->body_len) {
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					"no events given (a RunEvent, a JSON array of them or JSON "
					"lines in the request body)");
		goto out;
	}
	if (!rj.list || !(cat = serve_worker_catalog(s, &err)) ||
	    catalog_ol_import_new(cat, &im, &err) ||
	    catalog_ol_import_mem(im, "body", r->body, r->body_len, on_reject, &rj, &stats, &err)) {
		if (!rj.list)
			st_error_oom(&err);
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	if (!stats.read) { /* only white space */
		ret = serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					"no events given (a RunEvent, a JSON array of them or JSON "
					"lines in the request body)");
		goto out;
	}
	snprintf(r->counts, sizeof(r->counts),
		 "{\"read\":%zu,\"applied\":%zu,\"rejected\":%zu,\"ignored\":%zu}", stats.read,
		 stats.applied, stats.rejected, stats.ignored);
	doc = catalog_ol_stats_json(&stats);
	if (doc && json_object_set(doc, "rejects", rj.list)) {
		json_decref(doc);
		doc = NULL;
	}
	if (doc && stats.rejected) {
		char msg[SERVE_TEXT_MAX];

		status = rj.unparsed ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_UNPROCESSABLE_CONTENT;
		snprintf(msg, sizeof(msg), "%zu of %zu event%s rejected%s", stats.rejected,
			 stats.read, stats.read == 1 ? "" : "s",
			 rj.unparsed ? " (some of the body is not JSON)" : "");
		if (json_object_set_new(doc, "error",
					json_pack("{s:i, s:s}", "status", status, "message", msg))) {
			json_decref(doc);
			doc = NULL;
		}
	}
	ret = serve_reply_json(c, r, status, doc);
out:
	catalog_ol_import_free(im);
	json_decref(rj.list);
	return ret;
}

const struct serve_route serve_api_lineage_routes[] = {
	{"/api/v1/lineage", 0, "catalog.import", post_lineage, SERVE_POST},
};

const size_t serve_api_lineage_route_count =
	sizeof(serve_api_lineage_routes) / sizeof(*serve_api_lineage_routes);
