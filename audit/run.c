/* `request run`: carries a data-subject request out against its bound targets, resolving
 * the subject's other identifiers along the way, committing each target's evidence as it
 * is known, and writing the access bundle. Identifiers are only ever pseudonyms here. */
#include "audit.h"
#include "audit_int.h"
#include "alloc.h"
#include "pii.h"
#include "run_lock.h"
#include "target.h"
#include "sql.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The subject's identifiers: (category, pseudonym) pairs. */
struct idset {
	char **cat, **pseu;
	size_t n, cap, capp;
};

struct run {
	struct audit_log *log;
	sqlite3 *db;
	const struct audit_actor *actor;
	const struct audit_plan *plan;
	const struct audit_run_opts *o;
	struct audit_request req;
	struct idset ids;
	struct pii_pseudonymizers pseudonymizers; /* v[0]: the current key's */
	int *state;   /* per plan item: 0 to do, 1 done, 2 failed, 3 waiting */
	json_t *bundle_items;
};

/* A target's state in this run. ST_ALT: it ran on its field of the request's own category
 * (to find the identifier the others wait for), matched nothing there, and runs again on its
 * match field once an identifier of that category is known: before, it was done, and the
 * rows keyed by the identifier a later target found were left. */
enum { ST_TODO, ST_DONE, ST_FAILED, ST_WAITING, ST_ALT };

static void idset_release(struct idset *s)
{
	st_free_strv(s->cat, s->n);
	st_free_strv(s->pseu, s->n);
	memset(s, 0, sizeof(*s));
}

static int idset_has(const struct idset *s, const char *cat, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->cat[i], cat) && !strcmp(s->pseu[i], p))
			return 1;
	return 0;
}

/* Adds a pair; returns 1 if new, 0 if known, -1 on out of memory. */
static int idset_add(struct idset *s, const char *cat, const char *p)
{
	if (idset_has(s, cat, p))
		return 0;
	if (st_grow(&s->cat, &s->cap, s->n + 1, sizeof(char *)) ||
	    st_grow(&s->pseu, &s->capp, s->n + 1, sizeof(char *)))
		return -1;
	s->cat[s->n] = st_strdup(cat);
	s->pseu[s->n] = st_strdup(p);
	s->n++;
	return s->cat[s->n - 1] && s->pseu[s->n - 1] ? 1 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pseudonyms of category, sorted, into a new array of borrowed strings. */
static char **idset_for(const struct idset *s, const char *cat, size_t *n)
{
	char **v = st_calloc(s->n + 1, sizeof(char *));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->cat[i], cat))
			v[(*n)++] = s->pseu[i];
	qsort(v, *n, sizeof(char *), cmp_str);
	return v;
}

static int load_ids(struct run *R, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (st_sql_prepare(R->db, &st,
			    "SELECT category, pseudonym FROM request_ids WHERE request_id = ?"
			    " ORDER BY rowid",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, R->req.id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (idset_add(&R->ids, (const char *)sqlite3_column_text(st, 0),
			      (const char *)sqlite3_column_text(st, 1)) < 0) {
			st_error_oom(err);
			goto out;
		}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, R->db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Stores an identifier (and suppresses it for erase and object requests). */
static int store_id(struct run *R, const char *cat, const char *p, const char *source,
		    struct st_error *err)
{
	sqlite3_stmt *st = NULL, *sup = NULL;
	int ret = -1;

	if (st_sql_prepare(R->db, &st,
			    "INSERT OR IGNORE INTO request_ids (request_id, category, pseudonym, source)"
			    " VALUES (?, ?, ?, ?)",
			    err) ||
	    st_sql_prepare(R->db, &sup,
			    "INSERT OR IGNORE INTO suppressed (category, pseudonym, request_id, added_ms)"
			    " VALUES (?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, R->req.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, R->db, "cannot write the audit log");
		goto out;
	}
	if (R->req.kind != AUDIT_REQ_ACCESS) {
		sqlite3_bind_text(sup, 1, cat, -1, SQLITE_STATIC);
		sqlite3_bind_text(sup, 2, p, -1, SQLITE_STATIC);
		sqlite3_bind_text(sup, 3, R->req.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(sup, 4, audit_now_ms());
		if (sqlite3_step(sup) != SQLITE_DONE) {
			st_sql_error(err, R->db, "cannot write the suppression list");
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(sup);
	return ret;
}

/* Puts every identifier known so far on the suppression list (erase and object). */
static int suppress_all(struct run *R, struct st_error *err)
{
	for (size_t i = 0; i < R->ids.n; i++)
		if (store_id(R, R->ids.cat[i], R->ids.pseu[i], "request", err))
			return -1;
	return 0;
}

/* Turns the subject-field values a target returned into identifiers. */
static int resolve(struct run *R, const struct audit_plan_item *it, struct audit_evidence *ev,
		   size_t *added, struct st_error *err)
{
	int norm = pii_norm_for_category(it->subject_category);

	for (size_t i = 0; i < ev->nsubject_values; i++) {
		const char *v = ev->subject_values[i];

		if (it->subject_mode == AUDIT_MATCH_PSEUDONYM) {
			int r = idset_add(&R->ids, it->subject_category, v);

			if (r < 0)
				return st_error_oom(err);
			if (r > 0 && store_id(R, it->subject_category, v, it->dataset, err))
				return -1;
			*added += (size_t)r;
			continue;
		}
		for (size_t k = 0; k < R->pseudonymizers.n; k++) {
			char out[PII_PSEUDONYM_MAX];
			int r = pii_pseudonymize(R->pseudonymizers.v[k], norm, it->subject_category, v,
						 strlen(v), R->o->country_code, out, err);

			if (r == PII_NOT_OF_KIND)
				break; /* not a value of that kind: it identifies nobody */
			if (r < 0)
				return -1;
			r = idset_add(&R->ids, it->subject_category, out);
			if (r < 0)
				return st_error_oom(err);
			if (r > 0 && store_id(R, it->subject_category, out, it->dataset, err))
				return -1;
			*added += (size_t)r;
		}
	}
	return 0;
}

/* Commits a target's outcome and evidence with a timeline event. */
static int record_target(struct run *R, const struct audit_plan_item *it, const char *status,
			 const struct audit_evidence *ev, const char *detail, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	char event[512];
	int ret = -1, began = 0;

	if (st_sql_exec(R->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (st_sql_prepare(R->db, &st,
			    "INSERT INTO request_targets (request_id, dataset, uri, status, matched,"
			    " changed, files, http_status, attempts, elapsed_ms, detail, runs, updated_ms,"
			    " visited, erased, remaining, skipped)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, 0), ?10, ?11, 1, ?12,"
			    " ?13, ?14, ?15, ?16)"
			    " ON CONFLICT (request_id, dataset) DO UPDATE SET uri = ?3, status = ?4,"
			    " matched = ?5, changed = ?6, files = ?7, http_status = ?8,"
			    " attempts = coalesce(?9, attempts),"
			    " elapsed_ms = ?10, detail = ?11, runs = runs + 1, updated_ms = ?12,"
			    " visited = ?13, erased = ?14, remaining = ?15, skipped = ?16",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, R->req.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, it->dataset, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, it->uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	if (ev) {
		sqlite3_bind_int64(st, 5, ev->matched);
		sqlite3_bind_int64(st, 6, ev->changed);
		sqlite3_bind_int64(st, 7, ev->files);
		sqlite3_bind_int64(st, 8, ev->http_status);
		sqlite3_bind_int64(st, 9, ev->attempts);
		sqlite3_bind_int64(st, 10, ev->elapsed_ms);
		sqlite3_bind_int64(st, 13, ev->visited);
		sqlite3_bind_int64(st, 16, ev->skipped);
		/* remaining and erased are an erasure's: NULL for access and objection */
		if (R->req.kind == AUDIT_REQ_ERASE) {
			sqlite3_bind_int64(st, 14, ev->erased);
			sqlite3_bind_int64(st, 15, ev->remaining);
		}
	}
	sqlite3_bind_text(st, 11, detail && *detail ? detail : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, audit_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, R->db, "cannot write the audit log");
		goto out;
	}
	if (ev && ev->http_status)
		snprintf(event, sizeof(event), "%s %s: HTTP %ld after %d attempt%s%s%s", it->dataset,
			 status, ev->http_status, ev->attempts, ev->attempts == 1 ? "" : "s",
			 detail && *detail ? "; " : "", detail ? detail : "");
	else if (ev && R->req.kind == AUDIT_REQ_ERASE && ev->remaining >= 0)
		snprintf(event, sizeof(event), "%s %s: %ld matched, %ld erased, %ld remaining%s%s",
			 it->dataset, status, ev->matched, ev->erased, ev->remaining,
			 detail && *detail ? "; " : "", detail ? detail : "");
	else if (ev)
		snprintf(event, sizeof(event), "%s %s: %ld matched, %lld changed%s%s%s", it->dataset,
			 status, ev->matched, (long long)ev->changed,
			 R->req.kind == AUDIT_REQ_ERASE ? ", unverified" : "",
			 detail && *detail ? "; " : "", detail ? detail : "");
	else
		snprintf(event, sizeof(event), "%s %s: %s", it->dataset, status, detail);
	if (audit_request_event(R->db, R->req.id, R->actor->name, "target", event, err) ||
	    st_sql_exec(R->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(R->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* Reads which targets are done already (access requests read everything again). */
static int load_state(struct run *R, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (st_sql_prepare(R->db, &st,
			    "SELECT status FROM request_targets WHERE request_id = ? AND dataset = ?",
			    err))
		goto out;
	for (size_t i = 0; i < R->plan->n; i++) {
		R->state[i] = ST_TODO;
		if (!R->plan->v[i].uri || R->req.kind == AUDIT_REQ_ACCESS)
			continue;
		sqlite3_bind_text(st, 1, R->req.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, R->plan->v[i].dataset, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    !strcmp((const char *)sqlite3_column_text(st, 0), "done"))
			R->state[i] = ST_DONE;
		sqlite3_reset(st);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Adds a target's rows to the access bundle. */
static int bundle_add(struct run *R, const struct audit_plan_item *it, const char *rows_json,
		      struct st_error *err)
{
	json_t *rows = rows_json ? json_loads(rows_json, JSON_DECODE_ANY, NULL) : json_array();
	json_t *cats = json_object(), *item;

	for (size_t i = 0; cats && i < it->nfields; i++)
		json_object_set_new(cats, it->fields[i], json_string(it->categories[i]));
	item = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:o}", "dataset", it->dataset, "kind",
			 it->kind, "purpose", it->description, "domain", it->domain,
			 "controller_contact", it->owner, "categories", cats ? cats : json_null(),
			 "records", rows ? rows : json_null());
	if (!item || json_array_append_new(R->bundle_items, item))
		return st_error_oom(err);
	return 0;
}

/* Writes the access bundle through a temporary file and rename; mode 0600. */
static int bundle_write(struct run *R, char *path, size_t pathn, struct st_error *err)
{
	char when[40];
	json_t *doc = NULL, *manual = json_array();
	int ret = -1;

	if (mkdir(R->o->exports_dir, 0700) && errno != EEXIST)
		return st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", R->o->exports_dir,
				    strerror(errno));
	for (size_t i = 0; manual && i < R->plan->n; i++)
		if (!R->plan->v[i].uri)
			json_array_append_new(manual, json_string(R->plan->v[i].dataset));
	audit_time_format(audit_now_ms(), when, sizeof(when));
	doc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:O, s:o}", "request", R->req.id,
			"generated", when, "regime", audit_regime_name(R->req.regime), "subject",
			"category", R->req.category, "pseudonym", R->req.pseudonym, "datasets",
			R->bundle_items, "not_covered_manual_work", manual ? manual : json_null());
	if ((size_t)snprintf(path, pathn, "%s/%s.json", R->o->exports_dir, R->req.id) >= pathn) {
		st_error_set(err, ST_E_SYSTEM, "'%s' is too long a path", R->o->exports_dir);
		goto out;
	}
	if (audit_write_json(path, "access bundle", R->o->exports_guard, doc, 1, err))
		goto out;
	ret = 0;
out:
	json_decref(doc);
	return ret;
}

/* Runs one target, on its match field or (use_alt) on the field of the request's
 * category. Sets R->state[i]; *added counts new identifiers. */
static int run_one(struct run *R, size_t i, int use_alt, size_t *added, struct st_error *err)
{
	const struct audit_plan_item *it = &R->plan->v[i];
	const char *cat = use_alt ? R->req.category : it->match_category;
	struct audit_target_job job = {0};
	struct audit_evidence ev = {0};
	struct audit_matcher m = {0};
	struct st_error terr = ST_ERROR_INIT;
	char **pseu;
	size_t np;
	int ret = -1, ok;

	pseu = idset_for(&R->ids, cat, &np);
	if (!pseu)
		return st_error_oom(err);
	m.mode = use_alt ? it->alt_mode : it->match_mode;
	m.category = cat;
	m.norm = pii_norm_for_category(cat);
	m.country_code = R->o->country_code;
	m.pseudonyms = pseu;
	m.npseudonyms = np;
	m.pseudonymizer = R->pseudonymizers.v[0];
	job.request_id = R->req.id;
	job.kind = R->req.kind == AUDIT_REQ_ERASE    ? AUDIT_JOB_ERASE
		   : R->req.kind == AUDIT_REQ_ACCESS ? AUDIT_JOB_ACCESS
						     : AUDIT_JOB_OBJECT;
	job.dataset = it->dataset;
	job.uri = it->target_uri; /* it->uri is the redacted form, for records */
	job.verify_uri = it->verify_uri;
	job.token_file = it->token_file;
	job.token_env = it->token_env;
	job.dsn_file = it->dsn_file;
	job.dsn_env = it->dsn_env;
	job.retry_after_max_s = R->o->retry_after_max_s;
	job.erase_action = it->erase_action;
	job.match_field = use_alt ? it->alt_field : it->match_field;
	job.nullify = (const char *const *)it->nullify;
	job.nnullify = it->nnullify;
	if (it->subject_field && it->subject_category && strcmp(it->subject_category, cat))
		job.subject_field = it->subject_field;
	job.match = &m;
	job.category = cat;
	/* HTTP gets the pseudonym under the current key: the first one stored for it. */
	job.pseudonym = np ? pseu[0] : NULL;
	for (size_t k = 0; k < R->ids.n; k++)
		if (!strcmp(R->ids.cat[k], cat)) {
			job.pseudonym = R->ids.pseu[k];
			break;
		}
	job.connect_timeout_ms = R->o->connect_timeout_ms;
	job.timeout_ms = R->o->timeout_ms;
	job.max_attempts = R->o->max_attempts;
	job.backoff_ms = R->o->backoff_ms;
	/* The identifiers an erasure finds must be kept before it deletes the rows holding
	 * them: a run killed in between could not find them again. So a local target that
	 * resolves identifiers is read first (as for an objection, which changes nothing). */
	ok = 1;
	if (job.kind == AUDIT_JOB_ERASE && job.subject_field && strncmp(job.uri, "http", 4)) {
		job.kind = AUDIT_JOB_OBJECT;
		ok = !audit_target_run(&job, &ev, &terr);
		if (ok && resolve(R, it, &ev, added, err))
			goto out;
		audit_evidence_release(&ev);
		memset(&ev, 0, sizeof(ev));
		job.kind = AUDIT_JOB_ERASE;
	}
	if (ok)
		ok = !audit_target_run(&job, &ev, &terr);
	if (ok && resolve(R, it, &ev, added, err))
		goto out;
	if (ok && R->req.kind == AUDIT_REQ_ACCESS && bundle_add(R, it, ev.rows_json, err))
		goto out;
	/* Verified, never assumed: an erasure that leaves rows of the subject behind (a
	 * trigger put them back, a writer added them) is not done, and runs again. */
	if (ok && job.kind == AUDIT_JOB_ERASE && ev.remaining > 0) {
		size_t n = strlen(ev.detail);

		ok = 0;
		snprintf(terr.msg, sizeof(terr.msg),
			 "verification found %ld row%s of the subject left after the erasure%s%s",
			 ev.remaining, ev.remaining == 1 ? "" : "s", n ? "; " : "", ev.detail);
		ev.detail[0] = '\0';
	}
	/* Run on its other field and matched nothing: it runs again on its match field once an
	 * identifier of that category is known (one the targets after it may find). */
	R->state[i] = !ok ? ST_FAILED : use_alt && ev.matched <= 0 ? ST_ALT : ST_DONE;
	if (R->state[i] == ST_ALT) {
		snprintf(terr.msg, sizeof(terr.msg),
			 "ran on '%s'; runs again on '%s' once a %s identifier is known",
			 it->alt_field, it->match_field, it->match_category);
		if (record_target(R, it, "pending", &ev, terr.msg, err))
			goto out;
	} else if (record_target(R, it, ok ? "done" : "failed", &ev,
				 ok ? (ev.detail[0] ? ev.detail : NULL)
				    : (ev.detail[0] ? ev.detail : terr.msg),
				 err))
		goto out;
	ret = 0;
out:
	audit_evidence_release(&ev);
	st_free(pseu);
	return ret;
}

static int has_ids(const struct run *R, const char *cat)
{
	for (size_t i = 0; cat && i < R->ids.n; i++)
		if (!strcmp(R->ids.cat[i], cat))
			return 1;
	return 0;
}

/* How many targets of the request are done without a verification (erasures only). */
static int count_unverified(struct run *R, size_t *n, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*n = 0;
	if (st_sql_prepare(R->db, &st,
			    "SELECT count(*) FROM request_targets WHERE request_id = ? AND"
			    " status = 'done' AND remaining = -1",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, R->req.id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_sql_error(err, R->db, "cannot read the audit log");
		goto out;
	}
	*n = (size_t)sqlite3_column_int64(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int complete(struct run *R, size_t unverified, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	char due[11], detail[128];
	int ret = -1, began = 0, n;
	struct audit_date today = audit_date_from_ms(audit_now_ms());

	if (st_sql_exec(R->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (st_sql_prepare(R->db, &st,
			    "UPDATE requests SET status = 'completed', completed_ms = ?, bundle = ?"
			    " WHERE id = ?",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, audit_now_ms());
	sqlite3_bind_text(st, 2, R->req.bundle[0] ? R->req.bundle : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, R->req.id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, R->db, "cannot write the audit log");
		goto out;
	}
	audit_date_format(audit_request_deadline(&R->req), due);
	n = snprintf(detail, sizeof(detail), "every target done, %s (due %s)",
		     audit_date_diff(audit_request_deadline(&R->req), today) > 0 ? "late" : "on time",
		     due);
	if (unverified && n > 0 && (size_t)n < sizeof(detail))
		snprintf(detail + n, sizeof(detail) - (size_t)n, "; %zu target%s unverified",
			 unverified, unverified == 1 ? "" : "s");
	if (audit_request_event(R->db, R->req.id, R->actor->name, "completed", detail, err) ||
	    st_sql_exec(R->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(R->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int audit_request_run(struct audit_log *log, const struct audit_actor *actor,
		      const struct audit_plan *plan, const struct audit_request *req,
		      const struct pii_keyring *kr, const struct audit_run_opts *o,
		      struct audit_run_result *res, struct st_error *err)
{
	struct run R = {0};
	struct audit_run_lock *lock = NULL;
	size_t added;
	int ret = -1, progress, locked;

	memset(res, 0, sizeof(*res));
	R.log = log;
	R.db = audit_db(log);
	R.actor = actor;
	R.plan = plan;
	R.o = o;
	/* One run per request at a time; the request is read again under the lock, as the
	 * run that held it may have changed it. */
	if ((locked = audit_run_lock_acquire(R.db, req->id, actor->name, &lock, err)) > 0 &&
	    o->skip_held) {
		snprintf(res->held, sizeof(res->held), "%s", err->msg);
		ret = 0;
		goto out;
	}
	if (locked || audit_request_get(R.db, req->id, &R.req, err))
		goto out;
	for (size_t i = 0; i < plan->n; i++) {
		if (plan->v[i].uri)
			res->targets++;
		else
			res->manual++;
	}
	if (R.req.completed && R.req.kind != AUDIT_REQ_ACCESS) {
		res->completed = 1;
		res->done = res->targets;
		ret = 0;
		goto out;
	}
	R.state = st_calloc(plan->n + 1, sizeof(int));
	R.bundle_items = json_array();
	if (!R.state || !R.bundle_items) {
		st_error_oom(err);
		goto out;
	}
	if (pii_pseudonymizers_init(&R.pseudonymizers, kr, err) || load_ids(&R, err) || load_state(&R, err))
		goto out;
	if (R.req.kind != AUDIT_REQ_ACCESS && suppress_all(&R, err))
		goto out;
	/* Rounds: a target runs once identifiers of its match category are known, and new
	 * identifiers found in matched rows let waiting targets run. When nothing can run,
	 * the first waiting target with a field of the request's own category runs on that
	 * field instead, to find the identifier the others wait for. */
	for (;;) {
		progress = 0;
		for (size_t i = 0; i < plan->n; i++) {
			if (!plan->v[i].uri || (R.state[i] != ST_TODO && R.state[i] != ST_ALT) ||
			    !has_ids(&R, plan->v[i].match_category))
				continue;
			added = 0;
			if (run_one(&R, i, 0, &added, err))
				goto out;
			res->run++;
			progress = 1;
		}
		if (progress)
			continue;
		for (size_t i = 0; i < plan->n && !progress; i++) {
			if (!plan->v[i].uri || R.state[i] != ST_TODO || !plan->v[i].alt_field ||
			    !has_ids(&R, R.req.category))
				continue;
			added = 0;
			if (run_one(&R, i, 1, &added, err))
				goto out;
			res->run++;
			progress = 1;
		}
		if (!progress)
			break;
	}
	for (size_t i = 0; i < plan->n; i++) {
		const struct audit_plan_item *it = &plan->v[i];
		char detail[300];
		int failures = 0;

		if (!it->uri || (R.state[i] != ST_TODO && R.state[i] != ST_ALT))
			continue;
		for (size_t k = 0; k < plan->n; k++)
			failures += R.state[k] == ST_FAILED;
		if (R.state[i] == ST_ALT && !failures) {
			/* It ran, and erased and verified what its other field found; no target
			 * knows the subject by its match category. */
			snprintf(detail, sizeof(detail),
				 "ran on '%s'; no target knows the subject by %s", it->alt_field,
				 it->match_category);
			R.state[i] = ST_DONE;
			if (record_target(&R, it, "done", NULL, detail, err))
				goto out;
		} else if (!it->match_category) {
			snprintf(detail, sizeof(detail), "its match field '%s' has no category",
				 it->match_field);
			R.state[i] = ST_FAILED;
			if (record_target(&R, it, "failed", NULL, detail, err))
				goto out;
		} else if (failures) {
			snprintf(detail, sizeof(detail),
				 "waiting: no %s identifier is known yet, and a target that may give "
				 "one failed",
				 it->match_category);
			R.state[i] = ST_WAITING;
			if (record_target(&R, it, "pending", NULL, detail, err))
				goto out;
		} else {
			/* Every target ran and none knows the subject by this category. */
			snprintf(detail, sizeof(detail),
				 "nothing to match: no target knows the subject by %s",
				 it->match_category);
			R.state[i] = ST_DONE;
			if (record_target(&R, it, "done", NULL, detail, err))
				goto out;
		}
	}
	for (size_t i = 0; i < plan->n; i++) {
		if (!plan->v[i].uri)
			continue;
		res->done += R.state[i] == ST_DONE;
		res->failed += R.state[i] != ST_DONE;
	}
	if (R.req.kind == AUDIT_REQ_ACCESS && !res->failed) {
		if (bundle_write(&R, res->bundle, sizeof(res->bundle), err))
			goto out;
		snprintf(R.req.bundle, sizeof(R.req.bundle), "%s", res->bundle);
	}
	if (R.req.kind == AUDIT_REQ_ERASE && count_unverified(&R, &res->unverified, err))
		goto out;
	/* An unverified target (an HTTP endpoint without a verify URL) does not hold the
	 * request open: it completes, and the evidence, `request show` and the report count
	 * the unverified targets apart. A target with rows left is failed, and does. */
	if (!res->failed && !R.req.completed) {
		if (complete(&R, res->unverified, err))
			goto out;
	}
	res->completed = !res->failed;
	ret = 0;
out:
	audit_run_lock_release(lock);
	pii_pseudonymizers_release(&R.pseudonymizers);
	idset_release(&R.ids);
	st_free(R.state);
	json_decref(R.bundle_items);
	return ret;
}
