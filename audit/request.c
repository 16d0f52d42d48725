/* Data-subject requests in audit.db: creation with the legal deadline, the one extension,
 * the timeline, per-target evidence and the suppression list. Subjects are pseudonyms. */
#include "audit.h"
#include "alloc.h"
#include "sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"erase", "access", "object"};
static const char *const regimes[] = {"gdpr", "ccpa"};

/* The index of s in names[0..n), or -1. */
static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *audit_req_kind_name(int kind)
{
	return kind >= 0 && kind <= AUDIT_REQ_OBJECT ? kinds[kind] : "?";
}

int audit_req_kind_parse(const char *s)
{
	return name_index(kinds, AUDIT_REQ_OBJECT + 1, s);
}

const char *audit_regime_name(int regime)
{
	return regime >= 0 && regime <= AUDIT_CCPA ? regimes[regime] : "?";
}

int audit_regime_parse(const char *s)
{
	return name_index(regimes, AUDIT_CCPA + 1, s);
}

struct audit_date audit_request_due(int regime, struct audit_date received)
{
	return regime == AUDIT_CCPA ? audit_date_add_days(received, 45)
				    : audit_date_add_months(received, 1);
}

struct audit_date audit_request_extended_due(int regime, struct audit_date due)
{
	return regime == AUDIT_CCPA ? audit_date_add_days(due, 45) : audit_date_add_months(due, 2);
}

struct audit_date audit_request_deadline(const struct audit_request *r)
{
	return r->extended ? r->extended_due : r->due;
}

int audit_request_overdue(const struct audit_request *r, struct audit_date today)
{
	return !r->completed && audit_date_diff(audit_request_deadline(r), today) > 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct st_error *err)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return st_sql_error(err, db, "cannot write the audit log");
	return 0;
}

int audit_request_event(struct sqlite3 *db, const char *id, const char *actor,
			const char *event, const char *detail, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (st_sql_prepare(db, &st,
			    "INSERT INTO request_events (request_id, ts_ms, actor, event, detail)"
			    " VALUES (?, ?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, audit_now_ms());
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	ret = step_done(db, st, err);
out:
	sqlite3_finalize(st);
	return ret;
}

/* The next free id for today: R-YYYYMMDD-NNNN. */
static int next_id(sqlite3 *db, char *id, struct st_error *err)
{
	char day[11], prefix[16];
	sqlite3_stmt *st = NULL;
	int ret = -1, n = 0;

	audit_date_format(audit_date_from_ms(audit_now_ms()), day);
	snprintf(prefix, sizeof(prefix), "R-%.4s%.2s%.2s-", day, day + 5, day + 8);
	if (st_sql_prepare(db, &st,
			    "SELECT max(CAST(substr(id, 12) AS INTEGER)) FROM requests"
			    " WHERE substr(id, 1, 11) = ?",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	snprintf(id, AUDIT_ID_MAX, "%s%04d", prefix, n + 1);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_request_create(struct audit_log *log, const struct audit_actor *actor, int kind,
			 int regime, const char *category, const char *const *pseudonyms,
			 size_t npseudonyms, struct audit_date received, char *id,
			 struct st_error *err)
{
	sqlite3 *db = audit_db(log);
	sqlite3_stmt *st = NULL, *ids = NULL;
	char rec[11], due[11], detail[256];
	int ret = -1, began = 0;

	if (!npseudonyms)
		return st_error_set(err, ST_E_SYSTEM, "a request needs the subject's pseudonym");
	if (st_sql_exec(db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (next_id(db, id, err))
		goto out;
	audit_date_format(received, rec);
	audit_date_format(audit_request_due(regime, received), due);
	if (st_sql_prepare(db, &st,
			    "INSERT INTO requests (id, kind, regime, category, pseudonym, received, due,"
			    " status, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
			    err) ||
	    st_sql_prepare(db, &ids,
			    "INSERT OR IGNORE INTO request_ids (request_id, category, pseudonym, source)"
			    " VALUES (?, ?, ?, 'request')",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, audit_req_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, audit_regime_name(regime), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, pseudonyms[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rec, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, due, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, audit_now_ms());
	sqlite3_bind_text(st, 9, actor->name, -1, SQLITE_STATIC);
	if (step_done(db, st, err))
		goto out;
	for (size_t i = 0; i < npseudonyms; i++) {
		sqlite3_bind_text(ids, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ids, 2, category, -1, SQLITE_STATIC);
		sqlite3_bind_text(ids, 3, pseudonyms[i], -1, SQLITE_STATIC);
		if (step_done(db, ids, err))
			goto out;
		sqlite3_reset(ids);
	}
	snprintf(detail, sizeof(detail), "%s request under %s for %s %s, received %s, due %s",
		 audit_req_kind_name(kind), audit_regime_name(regime), category, pseudonyms[0],
		 rec, due);
	if (audit_request_event(db, id, actor->name, "received", detail, err) ||
	    st_sql_exec(db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ids);
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(out, n, "%s", s ? (const char *)s : "");
}

static int date_col(sqlite3_stmt *st, int i, struct audit_date *d)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s && !audit_date_parse((const char *)s, d) ? 0 : -1;
}

#define REQUEST_COLUMNS                                                                     \
	"id, kind, regime, category, pseudonym, received, due, extended_due, extension_reason," \
	" status, created_ms, completed_ms, created_by, bundle"

/* Reads a row of REQUEST_COLUMNS. */
static int read_request(sqlite3_stmt *st, struct audit_request *r, struct st_error *err)
{
	char kind[16], regime[16], status[16];

	memset(r, 0, sizeof(*r));
	copy_col(st, 0, r->id, sizeof(r->id));
	copy_col(st, 1, kind, sizeof(kind));
	copy_col(st, 2, regime, sizeof(regime));
	copy_col(st, 3, r->category, sizeof(r->category));
	copy_col(st, 4, r->pseudonym, sizeof(r->pseudonym));
	r->kind = audit_req_kind_parse(kind);
	r->regime = audit_regime_parse(regime);
	r->extended = sqlite3_column_type(st, 7) != SQLITE_NULL;
	if (r->kind < 0 || r->regime < 0 || date_col(st, 5, &r->received) ||
	    date_col(st, 6, &r->due) || (r->extended && date_col(st, 7, &r->extended_due)))
		return st_error_set(err, ST_E_SYSTEM, "request '%s' is damaged in audit.db", r->id);
	copy_col(st, 8, r->extension_reason, sizeof(r->extension_reason));
	copy_col(st, 9, status, sizeof(status));
	r->completed = !strcmp(status, "completed");
	r->created_ms = sqlite3_column_int64(st, 10);
	r->completed_ms = sqlite3_column_int64(st, 11);
	copy_col(st, 12, r->created_by, sizeof(r->created_by));
	copy_col(st, 13, r->bundle, sizeof(r->bundle));
	return 0;
}

int audit_request_get(struct sqlite3 *db, const char *id, struct audit_request *r,
		      struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	memset(r, 0, sizeof(*r));
	if (st_sql_prepare(db, &st, "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?", err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		st_error_set(err, ST_E_NOTFOUND, "no request '%s' (see 'steward request list')", id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = read_request(st, r, err);
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_request_extend(struct audit_log *log, const struct audit_actor *actor,
			 const char *id, const char *reason, struct st_error *err)
{
	sqlite3 *db = audit_db(log);
	struct audit_request r;
	sqlite3_stmt *st = NULL;
	char due[11], detail[700];
	int ret = -1, began = 0;

	if (st_sql_exec(db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (audit_request_get(db, id, &r, err))
		goto out;
	if (r.completed) {
		st_error_set(err, ST_E_INVALID, "request '%s' is completed", id);
		goto out;
	}
	if (audit_date_diff(r.due, audit_date_from_ms(audit_now_ms())) > 0) {
		audit_date_format(r.due, due);
		st_error_set(err, ST_E_INVALID,
			     "request '%s' is past its deadline (%s); an extension must be decided "
			     "before it",
			     id, due);
		goto out;
	}
	if (r.extended) {
		audit_date_format(r.extended_due, due);
		st_error_set(err, ST_E_INVALID,
			     "request '%s' was extended already (to %s); the law allows one extension",
			     id, due);
		goto out;
	}
	audit_date_format(audit_request_extended_due(r.regime, r.due), due);
	if (st_sql_prepare(db, &st,
			    "UPDATE requests SET extended_due = ?, extension_reason = ? WHERE id = ?",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, due, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (step_done(db, st, err))
		goto out;
	snprintf(detail, sizeof(detail), "deadline extended to %s: %s", due, reason);
	if (audit_request_event(db, id, actor->name, "extended", detail, err) ||
	    st_sql_exec(db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int audit_request_each(struct sqlite3 *db, int (*cb)(void *ctx, const struct audit_request *r),
		       void *ctx, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (st_sql_prepare(db, &st,
			    "SELECT " REQUEST_COLUMNS " FROM requests ORDER BY created_ms, id", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_request r;

		if (read_request(st, &r, err))
			goto out;
		if (cb(ctx, &r))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_request_history(struct sqlite3 *db, const char *id,
			  int (*ev)(void *ctx, const struct audit_req_event *e),
			  int (*tg)(void *ctx, const struct audit_req_target *t), void *ctx,
			  struct st_error *err)
{
	sqlite3_stmt *st = NULL, *ts = NULL;
	int ret = -1, rc = SQLITE_DONE;

	if (st_sql_prepare(db, &st,
			    "SELECT ts_ms, actor, event, detail FROM request_events"
			    " WHERE request_id = ? ORDER BY id",
			    err) ||
	    st_sql_prepare(db, &ts,
			    "SELECT dataset, uri, status, detail, matched, changed, files, http_status,"
			    " attempts, elapsed_ms, runs, updated_ms, visited, erased, remaining,"
			    " skipped FROM request_targets"
			    " WHERE request_id = ? ORDER BY dataset",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (ev && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_req_event e = {sqlite3_column_int64(st, 0),
					    (const char *)sqlite3_column_text(st, 1),
					    (const char *)sqlite3_column_text(st, 2),
					    (const char *)sqlite3_column_text(st, 3)};

		if (ev(ctx, &e))
			break;
	}
	if (ev && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	sqlite3_bind_text(ts, 1, id, -1, SQLITE_STATIC);
	while (tg && (rc = sqlite3_step(ts)) == SQLITE_ROW) {
		struct audit_req_target t = {0};

		t.dataset = (const char *)sqlite3_column_text(ts, 0);
		t.uri = (const char *)sqlite3_column_text(ts, 1);
		t.status = (const char *)sqlite3_column_text(ts, 2);
		t.detail = (const char *)sqlite3_column_text(ts, 3);
		t.has_counts = sqlite3_column_type(ts, 4) != SQLITE_NULL;
		t.matched = sqlite3_column_int64(ts, 4);
		t.changed = sqlite3_column_int64(ts, 5);
		t.files = sqlite3_column_int64(ts, 6);
		t.http_status = sqlite3_column_int64(ts, 7);
		t.attempts = sqlite3_column_int64(ts, 8);
		t.elapsed_ms = sqlite3_column_int64(ts, 9);
		t.runs = sqlite3_column_int64(ts, 10);
		t.updated_ms = sqlite3_column_int64(ts, 11);
		t.visited = sqlite3_column_int64(ts, 12);
		t.erased = sqlite3_column_int64(ts, 13);
		t.has_remaining = sqlite3_column_type(ts, 14) != SQLITE_NULL;
		t.remaining = sqlite3_column_int64(ts, 14);
		t.skipped = sqlite3_column_int64(ts, 15);
		if (tg(ctx, &t))
			break;
	}
	if (tg && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ts);
	return ret;
}

int audit_suppression_load(struct sqlite3 *db, char ***categories, char ***pseudonyms,
			   size_t *n, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0, capp = 0;
	int ret = -1, rc, oom = 0;

	*categories = *pseudonyms = NULL;
	*n = 0;
	if (st_sql_prepare(db, &st,
			    "SELECT category, pseudonym FROM suppressed ORDER BY category, pseudonym",
			    err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(categories, &cap, *n + 1, sizeof(char *)) ||
		    st_grow(pseudonyms, &capp, *n + 1, sizeof(char *))) {
			st_error_oom(err);
			goto out;
		}
		(*categories)[*n] = st_sql_col_strdup(st, 0, &oom);
		(*pseudonyms)[*n] = st_sql_col_strdup(st, 1, &oom);
		(*n)++;
		if (oom || !(*categories)[*n - 1] || !(*pseudonyms)[*n - 1]) {
			st_error_oom(err);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the suppression list");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret) {
		st_free_strv(*categories, *n);
		st_free_strv(*pseudonyms, *n);
		*categories = *pseudonyms = NULL;
		*n = 0;
	}
	return ret;
}
