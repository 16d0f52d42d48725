/* Data-subject requests, their plans, the verification of the log and its records as JSON:
 * what `request list|show|plan --json` and `audit verify|log --json` print and `steward
 * serve` answers, built once here from the library's records. */
#include "audit.h"
#include "target.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

json_t *audit_request_list_json(const struct audit_request *r, struct audit_date today)
{
	char rec[11], due[11];

	audit_date_format(r->received, rec);
	audit_date_format(audit_request_deadline(r), due);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "id", r->id, "kind",
			 audit_req_kind_name(r->kind), "regime", audit_regime_name(r->regime),
			 "category", r->category, "received", rec, "due", due, "extended",
			 r->extended, "status", r->completed ? "completed" : "open", "overdue",
			 audit_request_overdue(r, today));
}

struct history {
	json_t *events, *targets;
	size_t unverified; /* erasure targets done without verification */
};

static int event_json(void *u, const struct audit_req_event *e)
{
	struct history *h = u;
	char when[40];

	audit_time_format(e->ts_ms, when, sizeof(when));
	return json_array_append_new(h->events, json_pack("{s:s, s:s, s:s, s:s?}", "time", when,
							  "actor", e->actor, "event", e->event,
							  "detail", e->detail));
}

/* A target's evidence: its status and runs, and (recorded since) the counts and the
 * verification of an erasure. */
static int target_json(void *u, const struct audit_req_target *t)
{
	struct history *h = u;
	char when[40];
	json_t *o;

	h->unverified += !strcmp(t->status, "done") && t->has_remaining && t->remaining < 0;
	audit_time_format(t->updated_ms, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s?}", "dataset", t->dataset, "uri", t->uri,
		      "status", t->status, "runs", (json_int_t)t->runs, "attempts",
		      (json_int_t)t->attempts, "updated", when, "detail", t->detail);
	if (o && t->has_counts) {
		json_object_set_new(o, "matched", json_integer(t->matched));
		json_object_set_new(o, "changed", json_integer(t->changed));
		json_object_set_new(o, "files", json_integer(t->files));
		json_object_set_new(o, "http_status", json_integer(t->http_status));
		json_object_set_new(o, "elapsed_ms", json_integer(t->elapsed_ms));
		json_object_set_new(o, "visited", json_integer(t->visited));
		json_object_set_new(o, "skipped", json_integer(t->skipped));
		/* an unverified target does not know that it matched nothing */
		json_object_set_new(o, "matched_nothing",
				    json_boolean(!t->matched && audit_target_counts_rows(t->uri) &&
						 !(t->has_remaining && t->remaining < 0)));
	}
	if (o && t->has_counts && t->has_remaining) {
		json_object_set_new(o, "erased", json_integer(t->erased));
		/* remaining: null when unverified, and "verified" says which */
		json_object_set_new(o, "remaining",
				    t->remaining < 0 ? json_null() : json_integer(t->remaining));
		json_object_set_new(o, "verified", json_boolean(t->remaining >= 0));
	}
	return json_array_append_new(h->targets, o);
}

int audit_request_json(struct sqlite3 *db, const struct audit_request *r, struct audit_date today,
		       json_t **out, struct st_error *err)
{
	struct history h = {json_array(), json_array(), 0};
	char rec[11], due[11], first[11], done[40];
	json_t *doc = NULL;
	int ret = -1;

	*out = NULL;
	if (!h.events || !h.targets) {
		st_error_oom(err);
		goto out;
	}
	if (audit_request_history(db, r->id, event_json, target_json, &h, err))
		goto out;
	audit_date_format(r->received, rec);
	audit_date_format(audit_request_deadline(r), due);
	audit_date_format(r->due, first);
	audit_time_format(r->completed_ms, done, sizeof(done));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:s, s:b, s:s?, s:s?,"
			" s:O, s:O}",
			"id", r->id, "kind", audit_req_kind_name(r->kind), "regime",
			audit_regime_name(r->regime), "category", r->category, "pseudonym",
			r->pseudonym, "received", rec, "due", due, "statutory_due", first,
			"extended", r->extended, "extension_reason",
			r->extended ? r->extension_reason : NULL, "status",
			r->completed ? "completed" : "open", "overdue",
			audit_request_overdue(r, today), "completed", r->completed ? done : NULL,
			"bundle", r->bundle[0] ? r->bundle : NULL, "timeline", h.events, "targets",
			h.targets);
	/* erasures are verified: how many targets could not be (HTTP without verify) */
	if (!doc || (r->kind == AUDIT_REQ_ERASE &&
		     json_object_set_new(doc, "unverified_targets",
					 json_integer((json_int_t)h.unverified)))) {
		st_error_oom(err);
		goto out;
	}
	*out = doc;
	doc = NULL;
	ret = 0;
out:
	json_decref(doc);
	json_decref(h.events);
	json_decref(h.targets);
	return ret;
}

json_t *audit_plan_json(const struct audit_request *r, const struct audit_plan *p)
{
	json_t *items = json_array(), *manual = json_array(), *stray = json_array();

	for (size_t i = 0; items && manual && i < p->n; i++) {
		const struct audit_plan_item *it = &p->v[i];
		json_t *nl = json_array();

		for (size_t k = 0; nl && k < it->nnullify; k++)
			json_array_append_new(nl, json_string(it->nullify[k]));
		json_array_append_new(
			it->uri ? items : manual,
			json_pack("{s:s, s:s?, s:s, s:s?, s:s, s:b, s:s?, s:s, s:o, s:s?, s:s?, "
				  "s:s?, s:s?, s:s?}",
				  "dataset", it->dataset, "kind", it->kind, "match_field",
				  it->match_field, "match_category", it->match_category, "match",
				  it->match_mode == AUDIT_MATCH_PSEUDONYM ? "pseudonym" : "raw",
				  "resolved", !it->direct, "or_field", it->alt_field, "erasure",
				  it->erase_action == AUDIT_ERASE_NULLIFY ? "nullify" : "delete",
				  "nullify", nl ? nl : json_null(), "reason", it->erasure_reason,
				  "target", it->uri, "verify", it->verify, "token",
				  it->token_file ? "file" : it->token_env ? "env" : NULL, "dsn",
				  it->dsn_file ? "file" : it->dsn_env ? "env" : NULL));
	}
	for (size_t i = 0; stray && i < p->nstray; i++)
		json_array_append_new(stray, json_string(p->stray[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "request", r->id, "kind",
			 audit_req_kind_name(r->kind), "category", r->category, "pseudonym",
			 r->pseudonym, "targets", items ? items : json_null(), "manual",
			 manual ? manual : json_null(), "unknown_targets",
			 stray ? stray : json_null());
}

json_t *audit_checkpoint_json(const struct audit_checkpoint *cp)
{
	char h[2 * AUDIT_HASH_BYTES + 1], when[40];
	json_t *o;

	sodium_bin2hex(h, sizeof(h), cp->hash, sizeof(cp->hash));
	audit_time_format(cp->ts_ms, when, sizeof(when));
	o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)cp->seq, "time", when, "hash", h);
	/* A format 2 checkpoint also names the Merkle tree it signed. */
	if (o && cp->version == 2) {
		sodium_bin2hex(h, sizeof(h), cp->root, sizeof(cp->root));
		json_object_set_new(o, "tree_size", json_integer(cp->tree_size));
		json_object_set_new(o, "root", json_string(h));
	}
	return o;
}

json_t *audit_verify_json(const struct audit_verify_result *res, int tampered)
{
	json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "status",
				tampered ? "tampered" : "intact", "records",
				(json_int_t)res->records, "checkpoints",
				(json_int_t)res->checkpoints, "signatures",
				(json_int_t)res->signatures, "last_seq", (json_int_t)res->head_seq,
				"anchored", res->anchored);

	if (doc && tampered) {
		json_object_set_new(doc, "bad_seq", json_integer(res->bad_seq));
		json_object_set_new(doc, "problem", json_string(res->problem));
	}
	if (doc && res->head.seq && json_object_set_new(doc, "checkpoint",
							 audit_checkpoint_json(&res->head))) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

json_t *audit_row_json(const struct audit_row *r)
{
	char when[40];

	audit_time_format(r->ts_ms, when, sizeof(when));
	return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:o?, s:s, s:I, s:s,"
			 " s:b}",
			 "seq", (json_int_t)r->seq, "time", when, "actor", r->actor, "uid",
			 (json_int_t)r->uid, "role", r->role, "action", r->action, "object",
			 r->object, "purpose", r->purpose, "outcome", r->outcome, "reason",
			 r->reason, "counts", r->counts ? json_loads(r->counts, 0, NULL) : NULL,
			 "host", r->host, "pid", (json_int_t)r->pid, "version", r->version, "pii",
			 r->pii);
}
