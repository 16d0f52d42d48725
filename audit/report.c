/* The monthly compliance report: built from audit.db and the catalog into sections of facts
 * and tables (rendered in report_render.c). It holds no raw personal value: subjects appear
 * only by request id and category. */
#include "audit.h"
#include "report_int.h"
#include "target.h"
#include "alloc.h"
#include "buf.h"
#include "escape.h"
#include "pii_map.h"
#include "sql.h"
#include "file.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- The model: sections of facts and tables (report_int.h) --------------------------- */

static const char *const format_names[] = {"md", "html", "json", "csv"};

const char *audit_report_format_name(int format)
{
	return format >= 0 && format <= AUDIT_REPORT_CSV ? format_names[format] : "?";
}

int audit_report_format_parse(const char *s)
{
	for (int i = 0; i <= AUDIT_REPORT_CSV; i++)
		if (!strcmp(s, format_names[i]))
			return i;
	return -1;
}

int audit_report_period_parse(const char *s, int *year, int *month)
{
	int y = 0, m = 0;

	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	for (int i = 0; i < 7; i++) {
		if (i == 4)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (i < 4)
			y = y * 10 + (s[i] - '0');
		else
			m = m * 10 + (s[i] - '0');
	}
	if (y < 1970 || m < 1 || m > 12)
		return -1;
	*year = y;
	*month = m;
	return 0;
}

/* A copy of s that every format can show as it is: control characters, bytes that are not
 * UTF-8 and characters that reorder or hide text escaped as st_escape() does for every
 * value on its way to a terminal (common/escape.h), the one escaping step there is. NULL
 * when out of memory. */
static char *clean_text(const char *s)
{
	size_t n = strlen(s), k = 0, used = 0, cap = 4 * n + 16; /* \xHH: 4 bytes a byte */
	char *out = st_malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += used) {
		k += st_escape(s + i, n - i, &used, out + k, cap - k - 1, 0);
		if (!used)
			break;
	}
	out[k] = '\0';
	return out;
}

static void set_int(struct value *v, int64_t i)
{
	v->type = V_INT;
	v->i = i;
}

/* Sets v to a copy of s (NULL: null). On out of memory v stays null and r->oom is set. */
static void set_text(struct audit_report *r, struct value *v, const char *s)
{
	v->type = V_NULL;
	if (!s)
		return;
	if (!(v->s = clean_text(s))) {
		r->oom = 1;
		return;
	}
	v->type = V_TEXT;
}

static void set_time(struct audit_report *r, struct value *v, int64_t ms)
{
	char buf[40];

	audit_time_format(ms, buf, sizeof(buf));
	set_text(r, v, buf);
}

static void set_date(struct audit_report *r, struct value *v, struct audit_date d)
{
	char buf[16];

	audit_date_format(d, buf);
	set_text(r, v, buf);
}

static void value_release(struct value *v)
{
	if (v->type == V_TEXT)
		st_free(v->s);
	v->type = V_NULL;
}

static struct section *section(struct audit_report *r, int i, const char *key, const char *title,
			       const char *note)
{
	struct section *s = &r->sec[i];

	s->key = key;
	s->title = title;
	s->note = note;
	return s;
}

/* The next fact of s, a null value until set. */
static struct value *fact(struct audit_report *r, struct section *s, const char *key,
			  const char *label)
{
	struct fact *f = &r->spill;

	if (s->nfacts < MAX_FACTS) {
		f = &s->facts[s->nfacts++];
	} else {
		r->overflow = 1;
		value_release(&f->v);
	}
	f->key = key;
	f->label = label;
	return &f->v;
}

static struct table *table(struct audit_report *r, struct section *s, const char *key,
			   const char *title, const struct column *cols, size_t ncols)
{
	struct table *t;

	if (s->ntables >= MAX_TABLES) {
		r->overflow = 1;
		return NULL;
	}
	t = &s->tables[s->ntables++];
	t->key = key;
	t->title = title;
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

/* Appends a row of null values to t and returns its cells, or NULL when out of memory
 * (r->oom is set) or when t is NULL (a table past MAX_TABLES; r->overflow is set). */
static struct value *row(struct audit_report *r, struct table *t)
{
	struct value *v;

	if (!t)
		return NULL;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 16;
		void *p = ncap <= SIZE_MAX / (t->ncols * sizeof(*v))
				  ? st_realloc(t->cells, ncap * t->ncols * sizeof(*v))
				  : NULL;

		if (!p) {
			r->oom = 1;
			return NULL;
		}
		t->cells = p;
		t->cap = ncap;
	}
	v = &t->cells[t->nrows++ * t->ncols];
	memset(v, 0, t->ncols * sizeof(*v));
	return v;
}

void audit_report_free(struct audit_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < NSEC; i++) {
		struct section *s = &r->sec[i];

		for (size_t k = 0; k < s->nfacts; k++)
			value_release(&s->facts[k].v);
		for (size_t k = 0; k < s->ntables; k++) {
			struct table *t = &s->tables[k];

			for (size_t c = 0; c < t->nrows * t->ncols; c++)
				value_release(&t->cells[c]);
			st_free(t->cells);
		}
	}
	value_release(&r->spill.v);
	st_free(r);
}

/* ---- Building ----------------------------------------------------------------------- */

/* The period and the moment the report speaks for. */
struct span {
	int64_t start, end; /* [start, end), the calendar month in UTC */
	int64_t as_of;	    /* end - 1, or now while the month is running */
	struct audit_date as_of_date;
};

/* Binds ?1 and ?2 to the period and runs sql, each result row a row of t: columns in
 * order, SQL NULL as null, integers as numbers, anything else as text. */
static int sql_rows(sqlite3 *db, const char *sql, const struct span *sp, struct audit_report *r,
		    struct table *t, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (st_sql_prepare(db, &st, sql, err))
		goto out;
	sqlite3_bind_int64(st, 1, sp->start);
	sqlite3_bind_int64(st, 2, sp->end);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct value *v = row(r, t);

		if (!v)
			break;
		for (size_t c = 0; c < t->ncols; c++) {
			int type = sqlite3_column_type(st, (int)c);

			if (type == SQLITE_INTEGER)
				set_int(&v[c], sqlite3_column_int64(st, (int)c));
			else if (type != SQLITE_NULL)
				set_text(r, &v[c], (const char *)sqlite3_column_text(st, (int)c));
		}
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

/* One integer from sql with the period bound to ?1 and ?2. */
static int sql_count(sqlite3 *db, const char *sql, const struct span *sp, int64_t *n,
		     struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*n = 0;
	if (st_sql_prepare(db, &st, sql, err))
		goto out;
	sqlite3_bind_int64(st, 1, sp->start);
	sqlite3_bind_int64(st, 2, sp->end);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	*n = sqlite3_column_int64(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static void build_header(struct audit_report *r, const struct span *sp,
			 const struct audit_report_meta *meta, int64_t now)
{
	struct section *s = section(r, SEC_HEADER, "header", "Compliance report", NULL);

	snprintf(r->generator, sizeof(r->generator), "steward %s",
		 meta->version ? meta->version : "?");
	set_text(r, fact(r, s, "workspace", "Workspace"), meta->workspace);
	set_text(r, fact(r, s, "period", "Period"), r->period);
	set_time(r, fact(r, s, "from", "From (UTC, inclusive)"), sp->start);
	set_time(r, fact(r, s, "to", "To (UTC, exclusive)"), sp->end);
	set_time(r, fact(r, s, "generated", "Generated (UTC)"), now);
	set_text(r, fact(r, s, "generator", "Generator"), r->generator);
	set_text(r, fact(r, s, "actor", "Generated by"), meta->actor ? meta->actor->name : NULL);
	set_text(r, fact(r, s, "role", "Role"),
		 meta->actor ? audit_role_name(meta->actor->role) : NULL);
}

static const struct column access_cols[] = {
	{"actor", "Actor", 0},	 {"role", "Role", 0},	{"action", "Action", 0},
	{"object", "Object", 0}, {"ok", "OK", 1},	{"denied", "Denied", 1},
	{"error", "Error", 1},	 {"total", "Total", 1},
};
static const struct column action_cols[] = {
	{"action", "Action", 0}, {"ok", "OK", 1},	{"denied", "Denied", 1},
	{"error", "Error", 1},	 {"total", "Total", 1},
};

/* Section 1: every record of an action that reads or changes personal data. */
static int build_access(struct audit_report *r, sqlite3 *db, const struct span *sp,
			struct st_error *err)
{
	struct section *s = section(
		r, SEC_ACCESS, "pii_access", "Accesses to personal data",
		"Every audit record of the period whose action reads or changes personal data "
		"(ingest, scans, pseudonym look-ups, request intake and runs), whatever its "
		"outcome. The object is a dataset, a dataset pattern, a data category or a "
		"request kind or id.");
	struct value *records = fact(r, s, "record_count", "Records");
	struct value *actors = fact(r, s, "actor_count", "Distinct actors");
	struct table *by = table(r, s, "by_actor", "By actor, role, action and object", access_cols,
				 sizeof(access_cols) / sizeof(*access_cols));
	struct table *act = table(r, s, "by_action", "Total per action", action_cols,
				  sizeof(action_cols) / sizeof(*action_cols));
	int64_t n = 0, na = 0;

	if (sql_rows(db,
		     "SELECT actor, role, action, object, sum(outcome = 'ok'),"
		     " sum(outcome = 'denied'), sum(outcome = 'error'), count(*) FROM records"
		     " WHERE pii = 1 AND ts_ms >= ?1 AND ts_ms < ?2"
		     " GROUP BY actor, role, action, object ORDER BY actor, role, action, object",
		     sp, r, by, err) ||
	    sql_rows(
		    db,
		    "SELECT action, sum(outcome = 'ok'), sum(outcome = 'denied'),"
		    " sum(outcome = 'error'), count(*) FROM records"
		    " WHERE pii = 1 AND ts_ms >= ?1 AND ts_ms < ?2 GROUP BY action ORDER BY action",
		    sp, r, act, err) ||
	    sql_count(db,
		      "SELECT count(DISTINCT actor) FROM records"
		      " WHERE pii = 1 AND ts_ms >= ?1 AND ts_ms < ?2",
		      sp, &na, err))
		return -1;
	for (size_t i = 0; act && i < act->nrows; i++)
		n += act->cells[i * act->ncols + 4].i;
	set_int(records, n);
	set_int(actors, na);
	return 0;
}

static const struct column denied_cols[] = {
	{"time", "Time (UTC)", 0}, {"actor", "Actor", 0},   {"role", "Role", 0},
	{"action", "Action", 0},   {"object", "Object", 0}, {"reason", "Reason", 0},
};

struct query_ctx {
	struct audit_report *r;
	struct table *t;
	int64_t n, in, out, rejected, suppressed, failed_runs;
};

static int denied_row(void *u, const struct audit_row *a)
{
	struct query_ctx *q = u;
	struct value *v = row(q->r, q->t);

	if (!v)
		return 1; /* out of memory: row() set r->oom */
	set_time(q->r, &v[0], a->ts_ms);
	set_text(q->r, &v[1], a->actor);
	set_text(q->r, &v[2], a->role);
	set_text(q->r, &v[3], a->action);
	set_text(q->r, &v[4], a->object);
	set_text(q->r, &v[5], a->reason);
	q->n++;
	return 0;
}

/* Section 2: attempts refused by a role or permission check. */
static int build_denied(struct audit_report *r, sqlite3 *db, const struct span *sp,
			struct st_error *err)
{
	struct section *s = section(r, SEC_DENIED, "denied", "Denied attempts",
				    "Commands refused because the actor's role does not allow "
				    "them, oldest first.");
	struct value *n = fact(r, s, "attempt_count", "Attempts");
	struct audit_filter f = {0};
	struct query_ctx q = {0};

	q.r = r;
	q.t = table(r, s, "attempts", "Attempts", denied_cols,
		    sizeof(denied_cols) / sizeof(*denied_cols));
	f.since_ms = sp->start;
	f.until_ms = sp->end;
	f.outcome = "denied";
	if (audit_query(db, &f, denied_row, &q, err))
		return -1;
	set_int(n, q.n);
	return 0;
}

static const struct column ingest_cols[] = {
	{"time", "Time (UTC)", 0},
	{"actor", "Actor", 0},
	{"dataset", "Dataset", 0},
	{"outcome", "Outcome", 0},
	{"in", "In", 1},
	{"out", "Out", 1},
	{"rejected", "Rejected", 1},
	{"suppressed", "Suppressed", 1},
};

/* Sets v to the non-negative integer key of the counts object doc; null when absent. */
static int64_t count_of(json_t *doc, const char *key, struct value *v)
{
	json_t *n = json_object_get(doc, key);

	if (!json_is_integer(n) || json_integer_value(n) < 0)
		return 0;
	set_int(v, json_integer_value(n));
	return json_integer_value(n);
}

static int ingest_row(void *u, const struct audit_row *a)
{
	struct query_ctx *q = u;
	struct value *v;
	json_t *doc;

	if (!strcmp(a->outcome, "denied"))
		return 0; /* not a run: it is among the denied attempts */
	if (!(v = row(q->r, q->t)))
		return 1; /* out of memory: row() set r->oom */
	set_time(q->r, &v[0], a->ts_ms);
	set_text(q->r, &v[1], a->actor);
	set_text(q->r, &v[2], a->object);
	set_text(q->r, &v[3], a->outcome);
	doc = a->counts ? json_loads(a->counts, 0, NULL) : NULL;
	q->in += count_of(doc, "in", &v[4]);
	q->out += count_of(doc, "out", &v[5]);
	q->rejected += count_of(doc, "rejected", &v[6]);
	q->suppressed += count_of(doc, "suppressed", &v[7]);
	json_decref(doc);
	q->n++;
	q->failed_runs += strcmp(a->outcome, "ok") != 0;
	return 0;
}

/* Section 3: runs of the pre-ingest hook and the counts each recorded. */
static int build_ingest(struct audit_report *r, sqlite3 *db, const struct span *sp,
			struct st_error *err)
{
	struct section *s = section(
		r, SEC_INGEST, "ingest", "Ingest runs",
		"Runs of 'steward ingest', oldest first (denied attempts are in section 2): "
		"records read, written with personal data replaced, rejected to the rejects file "
		"and dropped for suppressed subjects. A run that failed before it counted has no "
		"counts.");
	struct value *runs = fact(r, s, "run_count", "Runs");
	struct value *failed = fact(r, s, "failed_runs", "Runs not ok");
	struct value *in = fact(r, s, "in", "Records in");
	struct value *out = fact(r, s, "out", "Records out");
	struct value *rej = fact(r, s, "rejected", "Records rejected");
	struct value *sup = fact(r, s, "suppressed", "Records suppressed");
	struct audit_filter f = {0};
	struct query_ctx q = {0};

	q.r = r;
	q.t = table(r, s, "runs", "Runs", ingest_cols, sizeof(ingest_cols) / sizeof(*ingest_cols));
	f.since_ms = sp->start;
	f.until_ms = sp->end;
	f.action = "pii.ingest";
	if (audit_query(db, &f, ingest_row, &q, err))
		return -1;
	set_int(runs, q.n);
	set_int(failed, q.failed_runs);
	set_int(in, q.in);
	set_int(out, q.out);
	set_int(rej, q.rejected);
	set_int(sup, q.suppressed);
	return 0;
}

static const struct column completed_cols[] = {
	{"id", "Request", 0},	     {"kind", "Kind", 0},	   {"regime", "Law", 0},
	{"received", "Received", 0}, {"deadline", "Deadline", 0},  {"completed", "Completed", 0},
	{"days", "Days", 1},	     {"timeliness", "On time", 0},
};
static const struct column extension_cols[] = {
	{"id", "Request", 0},
	{"kind", "Kind", 0},
	{"regime", "Law", 0},
	{"category", "Category", 0},
	{"received", "Received", 0},
	{"due", "Due", 0},
	{"extended_to", "Extended to", 0},
	{"extended_on", "Extended on", 0},
	{"reason", "Reason", 0},
};
static const struct column overdue_cols[] = {
	{"id", "Request", 0},
	{"kind", "Kind", 0},
	{"regime", "Law", 0},
	{"category", "Category", 0},
	{"received", "Received", 0},
	{"deadline", "Deadline", 0},
	{"days_overdue", "Days overdue", 1},
};

static const struct column evidence_cols[] = {
	{"id", "Request", 0},	       {"dataset", "Dataset", 0}, {"status", "Status", 0},
	{"visited", "Visited", 1},     {"matched", "Matched", 1}, {"erased", "Erased", 1},
	{"remaining", "Remaining", 1}, {"result", "Result", 0},
};

struct req_ctx {
	struct audit_report *r;
	sqlite3 *db;
	const struct span *sp;
	struct table *completed, *extensions, *overdue, *evidence;
	const char *req_id;		      /* the request evidence_row() is called for */
	int64_t targets, unverified, nothing; /* erasure targets of completed erasures */
	int64_t received, done, on_time, late, open, late_open;
	long *days;
	size_t ndays, capdays;
	int64_t extended_ms; /* the extension event's time, from ext_event() */
	struct st_error *err;
	int failed; /* err is set; out of memory is r->oom */
};

static int ext_event(void *u, const struct audit_req_event *e)
{
	struct req_ctx *q = u;

	if (!strcmp(e->event, "extended"))
		q->extended_ms = e->ts_ms;
	return 0;
}

/* The result column of the erasure evidence. */
static const char *evidence_result(const struct audit_req_target *t, int unverified, int nothing)
{
	if (!t->has_counts)
		return "not run: no identifier of its category is known";
	if (!t->has_remaining)
		return nothing ? "matched 0 rows" : "erased before verification existed";
	if (unverified)
		return "unverified";
	return nothing ? "matched 0 rows, verified" : "erased, verified";
}

/* One target of an erasure completed in the period: its verified evidence. A target that
 * matched 0 rows, and one that no re-scan could verify, say so and are counted apart. */
static int evidence_row(void *u, const struct audit_req_target *t)
{
	struct req_ctx *q = u;
	struct audit_report *r = q->r;
	struct value *v = row(r, q->evidence);
	int unverified = t->has_counts && t->has_remaining && t->remaining < 0;
	int nothing = t->has_counts && !t->matched && !unverified && /* unverified: not known */
		      audit_target_counts_rows(t->uri);

	if (!v)
		return 1;
	q->targets++;
	q->unverified += unverified;
	q->nothing += nothing;
	set_text(r, &v[0], q->req_id);
	set_text(r, &v[1], t->dataset);
	set_text(r, &v[2], t->status);
	if (t->has_counts) {
		set_int(&v[3], t->visited);
		if (audit_target_counts_rows(t->uri)) /* else not known: left empty */
			set_int(&v[4], t->matched);
	}
	if (t->has_counts && t->has_remaining) {
		if (audit_target_counts_rows(t->uri))
			set_int(&v[5], t->erased);
		if (t->remaining >= 0)
			set_int(&v[6], t->remaining);
	}
	set_text(r, &v[7], evidence_result(t, unverified, nothing));
	return 0;
}

static int in_span(const struct span *sp, int64_t ms)
{
	return ms >= sp->start && ms < sp->end;
}

static int request_row(void *u, const struct audit_request *req)
{
	struct req_ctx *q = u;
	struct audit_report *r = q->r;
	struct audit_date deadline = audit_request_deadline(req), done;
	int64_t received_ms = audit_date_to_ms(req->received);
	struct value *v;
	int open;

	q->received += in_span(q->sp, received_ms);
	if (req->completed && in_span(q->sp, req->completed_ms)) {
		long days;
		int late;

		done = audit_date_from_ms(req->completed_ms);
		days = audit_date_diff(req->received, done);
		late = audit_date_diff(deadline, done) > 0;
		if (st_grow(&q->days, &q->capdays, q->ndays + 1, sizeof(*q->days)) ||
		    !(v = row(r, q->completed)))
			return r->oom = 1;
		q->days[q->ndays++] = days;
		q->done++;
		q->late += late;
		q->on_time += !late;
		set_text(r, &v[0], req->id);
		set_text(r, &v[1], audit_req_kind_name(req->kind));
		set_text(r, &v[2], audit_regime_name(req->regime));
		set_date(r, &v[3], req->received);
		set_date(r, &v[4], deadline);
		set_date(r, &v[5], done);
		set_int(&v[6], days);
		set_text(r, &v[7], late ? "late" : "on time");
		if (req->kind == AUDIT_REQ_ERASE) {
			q->req_id = req->id;
			if (audit_request_history(q->db, req->id, NULL, evidence_row, q, q->err))
				return q->failed = 1;
			if (r->oom)
				return 1;
		}
	}
	/* Open at the moment the report speaks for: received by then, not completed by then. */
	open = received_ms <= q->sp->as_of &&
	       !(req->completed && req->completed_ms <= q->sp->as_of);
	q->open += open;
	if (open && audit_date_diff(deadline, q->sp->as_of_date) > 0) {
		if (!(v = row(r, q->overdue)))
			return 1;
		q->late_open++;
		set_text(r, &v[0], req->id);
		set_text(r, &v[1], audit_req_kind_name(req->kind));
		set_text(r, &v[2], audit_regime_name(req->regime));
		set_text(r, &v[3], req->category);
		set_date(r, &v[4], req->received);
		set_date(r, &v[5], deadline);
		set_int(&v[6], audit_date_diff(deadline, q->sp->as_of_date));
	}
	if (req->extended) {
		q->extended_ms = 0;
		if (audit_request_history(q->db, req->id, ext_event, NULL, q, q->err))
			return q->failed = 1;
		if (q->extended_ms && in_span(q->sp, q->extended_ms)) {
			if (!(v = row(r, q->extensions)))
				return 1;
			set_text(r, &v[0], req->id);
			set_text(r, &v[1], audit_req_kind_name(req->kind));
			set_text(r, &v[2], audit_regime_name(req->regime));
			set_text(r, &v[3], req->category);
			set_date(r, &v[4], req->received);
			set_date(r, &v[5], req->due);
			set_date(r, &v[6], req->extended_due);
			set_date(r, &v[7], audit_date_from_ms(q->extended_ms));
			set_text(r, &v[8], req->extension_reason);
		}
	}
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Section 4: data-subject requests against their deadlines. */
static int build_requests(struct audit_report *r, sqlite3 *db, const struct span *sp,
			  struct st_error *err)
{
	struct section *s = section(
		r, SEC_REQUESTS, "requests", "Data-subject requests",
		"Received: requests received in the period. Completed: requests completed in the "
		"period, on time when completed on or before the deadline in force (the extended "
		"one after an extension). Open and overdue: as of the end of the period, or of the "
		"generation time while the period runs. Days to complete count calendar days from "
		"receipt to completion. Extensions: those granted in the period. Erasure evidence: "
		"each target of the erasures completed in the period, re-scanned after the erasure "
		"(remaining is what the re-scan found; unverified targets, such as HTTP endpoints "
		"without a verify URL, and targets that matched 0 rows are counted apart). "
		"Subjects are shown by data category only.");
	struct value *as_of = fact(r, s, "as_of", "As of");
	struct value *received = fact(r, s, "received", "Received");
	struct value *completed = fact(r, s, "completed_count", "Completed");
	struct value *on_time = fact(r, s, "completed_on_time", "Completed on time");
	struct value *late = fact(r, s, "completed_late", "Completed late");
	struct value *open = fact(r, s, "open", "Open");
	struct value *overdue = fact(r, s, "overdue_count", "Overdue");
	struct value *median = fact(r, s, "median_days_to_complete", "Median days to complete");
	struct value *extensions = fact(r, s, "extension_count", "Extensions granted");
	struct value *etargets =
		fact(r, s, "erasure_targets", "Erasure targets (completed erasures)");
	struct value *unverified = fact(r, s, "targets_unverified", "Erasure targets unverified");
	struct value *nothing =
		fact(r, s, "targets_matched_nothing", "Erasure targets that matched 0 rows");
	struct req_ctx q = {0};
	int ret = -1;

	q.r = r;
	q.db = db;
	q.sp = sp;
	q.err = err;
	q.completed = table(r, s, "completed", "Completed in the period", completed_cols,
			    sizeof(completed_cols) / sizeof(*completed_cols));
	q.overdue = table(r, s, "overdue", "Overdue", overdue_cols,
			  sizeof(overdue_cols) / sizeof(*overdue_cols));
	q.extensions = table(r, s, "extensions", "Extensions", extension_cols,
			     sizeof(extension_cols) / sizeof(*extension_cols));
	q.evidence = table(r, s, "erasure_evidence", "Erasure evidence", evidence_cols,
			   sizeof(evidence_cols) / sizeof(*evidence_cols));
	if (audit_request_each(db, request_row, &q, err) || q.failed)
		goto out;
	set_date(r, as_of, sp->as_of_date);
	set_int(received, q.received);
	set_int(completed, q.done);
	set_int(on_time, q.on_time);
	set_int(late, q.late);
	set_int(open, q.open);
	set_int(overdue, q.late_open);
	if (q.ndays) {
		long lo, hi;

		qsort(q.days, q.ndays, sizeof(*q.days), cmp_long);
		lo = q.days[(q.ndays - 1) / 2]; /* the middle one, or the two middle ones */
		hi = q.days[q.ndays / 2];
		median->type = V_REAL;
		median->r = ((double)lo + (double)hi) / 2;
	}
	set_int(extensions, q.extensions ? (int64_t)q.extensions->nrows : 0);
	set_int(etargets, q.targets);
	set_int(unverified, q.unverified);
	set_int(nothing, q.nothing);
	ret = 0;
out:
	st_free(q.days);
	return ret;
}

static const struct column class_cols[] = {
	{"class", "Class", 0},
	{"fields", "Fields", 1},
	{"datasets", "Datasets (strongest class)", 1},
};
static const struct column derived_cols[] = {
	{"dataset", "Dataset", 0},     {"field", "Field", 0},		{"declared", "Declared", 0},
	{"effective", "Effective", 0}, {"source", "Inherited from", 0},
};
static const struct column untagged_cols[] = {
	{"dataset", "Dataset", 0},   {"field", "Field", 0},	{"declared", "Declared", 0},
	{"category", "Category", 0}, {"problem", "Problem", 0},
};

struct fref {
	struct pii_field f;
	size_t i;
};

static int cmp_fref(const void *a, const void *b)
{
	const struct fref *x = a, *y = b;
	int c = strcmp(x->f.dataset, y->f.dataset);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Whether category is personal data in the fideslang taxonomy (user or below it). */
static int personal_category(const char *category)
{
	return !strncmp(category, "user", 4) && (!category[4] || category[4] == '.');
}

/* Section 5: the PII map of the latest version of every dataset. */
static int build_map(struct audit_report *r, struct catalog *c, struct st_error *err)
{
	struct section *s = section(
		r, SEC_MAP, "pii_map", "PII map",
		"The latest version of every dataset with fields, as of generation. Effective "
		"class: the declared one, or the stronger one a field inherits through lineage. "
		"Untagged: a field with a personal-data category (user.*) declared 'pii: none', or "
		"a field declared personal without a category, which data-subject requests "
		"cannot find.");
	struct value *datasets = fact(r, s, "datasets", "Datasets with fields");
	struct value *with_pii = fact(r, s, "datasets_with_pii", "Datasets with personal data");
	struct value *fields = fact(r, s, "fields", "Fields");
	struct value *fields_pii = fact(r, s, "fields_with_pii", "Fields with personal data");
	struct value *nderived = fact(r, s, "derived_count", "Fields inheriting a stronger class");
	struct value *nuntagged = fact(r, s, "untagged_count", "Untagged fields");
	struct table *cls = table(r, s, "by_class", "By effective class", class_cols,
				  sizeof(class_cols) / sizeof(*class_cols));
	struct table *der = table(r, s, "derived", "Inheriting a stronger class", derived_cols,
				  sizeof(derived_cols) / sizeof(*derived_cols));
	struct table *unt = table(r, s, "untagged", "Untagged", untagged_cols,
				  sizeof(untagged_cols) / sizeof(*untagged_cols));
	int64_t nfields[PII_MAP_NCLASSES] = {0}, nds[PII_MAP_NCLASSES] = {0};
	int64_t nd = 0, npii = 0, nfpii = 0;
	struct pii_graph *g = NULL;
	struct fref *v = NULL;
	size_t n;
	int ret = -1;

	if (pii_graph_catalog(c, &g, err))
		goto out;
	n = pii_graph_count(g);
	if (n && !(v = st_calloc(n, sizeof(*v)))) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		pii_graph_field(g, i, &v[i].f);
		v[i].i = i;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_fref);
	for (size_t i = 0, first = 0; i < n; i++) {
		const struct pii_field *f = &v[i].f;
		int cl = f->cls >= 0 && f->cls < PII_MAP_NCLASSES ? f->cls : PII_MAP_NONE;
		const char *problem = NULL;
		struct value *w;

		if (i == first) { /* a dataset begins: find its strongest class */
			int top = PII_MAP_NONE;
			size_t k = i;

			for (; k < n && !strcmp(v[k].f.dataset, f->dataset); k++)
				if (v[k].f.cls > top && v[k].f.cls < PII_MAP_NCLASSES)
					top = v[k].f.cls;
			first = k;
			nd++;
			nds[top]++;
			npii += top != PII_MAP_NONE;
		}
		nfields[cl]++;
		nfpii += cl != PII_MAP_NONE;
		if (f->derived) {
			struct pii_field src;
			struct st_buf b;

			st_buf_init(&b, (size_t)1 << 16);
			if (f->from != PII_MAP_NO_FIELD) {
				pii_graph_field(g, f->from, &src);
				if (st_buf_addf(&b, "%s.%s", src.dataset, src.path))
					r->oom = 1;
			}
			if ((w = row(r, der))) {
				set_text(r, &w[0], f->dataset);
				set_text(r, &w[1], f->path);
				set_text(r, &w[2], pii_map_class_name(f->declared));
				set_text(r, &w[3], pii_map_class_name(f->cls));
				set_text(r, &w[4], b.len ? st_buf_str(&b) : NULL);
			}
			st_buf_release(&b);
		}
		if (f->declared == PII_MAP_NONE && f->category && personal_category(f->category))
			problem = "category without class";
		else if (f->declared != PII_MAP_NONE && !f->category)
			problem = "class without category";
		if (problem && (w = row(r, unt))) {
			set_text(r, &w[0], f->dataset);
			set_text(r, &w[1], f->path);
			set_text(r, &w[2], pii_map_class_name(f->declared));
			set_text(r, &w[3], f->category);
			set_text(r, &w[4], problem);
		}
	}
	for (int k = PII_MAP_NONE; k < PII_MAP_NCLASSES; k++) {
		struct value *w = row(r, cls);

		if (!w)
			break;
		set_text(r, &w[0], pii_map_class_name(k));
		set_int(&w[1], nfields[k]);
		set_int(&w[2], nds[k]);
	}
	set_int(datasets, nd);
	set_int(with_pii, npii);
	set_int(fields, (int64_t)n);
	set_int(fields_pii, nfpii);
	set_int(nderived, der ? (int64_t)der->nrows : 0);
	set_int(nuntagged, unt ? (int64_t)unt->nrows : 0);
	ret = 0;
out:
	st_free(v);
	pii_graph_free(g);
	return ret;
}

/* Section 6: the audit log's own integrity. */
static int build_chain(struct audit_report *r, sqlite3 *db, const struct span *sp,
		       struct st_error *err)
{
	struct section *s = section(
		r, SEC_CHAIN, "audit_chain", "Audit chain",
		"The whole log, verified when the report was generated: every record's hash "
		"chain and every checkpoint's signature. The head checkpoint is the newest valid "
		"one; hold it outside this machine ('steward audit checkpoint --export') to "
		"detect a log cut short or rewritten.");
	struct audit_verify_result res;
	struct value *bad, *seq, *when, *hash, *pk;
	char hex[2 * AUDIT_PK_BYTES + 1];
	int64_t in_period = 0;
	int rc;

	if ((rc = audit_verify_db(db, NULL, &res, err)) < 0 ||
	    sql_count(db, "SELECT count(*) FROM records WHERE ts_ms >= ?1 AND ts_ms < ?2", sp,
		      &in_period, err))
		return -1;
	set_text(r, fact(r, s, "status", "Status"), rc ? "tampered" : "intact");
	bad = fact(r, s, "bad_seq", "First bad record");
	if (rc)
		set_int(bad, res.bad_seq);
	set_text(r, fact(r, s, "problem", "Problem"), rc ? res.problem : NULL);
	set_int(fact(r, s, "records", "Records"), res.records);
	set_int(fact(r, s, "records_in_period", "Records in the period"), in_period);
	set_int(fact(r, s, "checkpoints", "Checkpoints"), res.checkpoints);
	set_int(fact(r, s, "last_seq", "Last record"), res.head_seq);
	seq = fact(r, s, "checkpoint_seq", "Head checkpoint record");
	when = fact(r, s, "checkpoint_time", "Head checkpoint time (UTC)");
	hash = fact(r, s, "checkpoint_hash", "Head checkpoint hash");
	pk = fact(r, s, "checkpoint_public_key", "Signing public key");
	if (res.head.seq) { /* else they stay null: nothing was signed yet */
		set_int(seq, res.head.seq);
		set_time(r, when, res.head.ts_ms);
		sodium_bin2hex(hex, sizeof(hex), res.head.hash, sizeof(res.head.hash));
		set_text(r, hash, hex);
		sodium_bin2hex(hex, sizeof(hex), res.head.public_key, sizeof(res.head.public_key));
		set_text(r, pk, hex);
	}
	return 0;
}

int audit_report_build(struct sqlite3 *db, struct catalog *c, int year, int month,
		       const struct audit_report_meta *meta, struct audit_report **out,
		       struct st_error *err)
{
	struct audit_report *r = NULL;
	struct audit_date first = {year, month, 1};
	struct audit_date next = {month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1};
	int64_t now = meta->now_ms ? meta->now_ms : audit_now_ms();
	struct span sp;
	int ret = -1;

	*out = NULL;
	if (year < 1970 || year > 9999 || month < 1 || month > 12) {
		st_error_set(err, ST_E_USAGE, "'%d-%02d' is not a month", year, month);
		goto out;
	}
	sp.start = audit_date_to_ms(first);
	sp.end = audit_date_to_ms(next);
	if (now < sp.start) {
		st_error_set(err, ST_E_USAGE, "the period '%04d-%02d' has not begun", year, month);
		goto out;
	}
	sp.as_of = now < sp.end ? now : sp.end - 1;
	sp.as_of_date = audit_date_from_ms(sp.as_of);
	if (!(r = st_calloc(1, sizeof(*r)))) {
		st_error_oom(err);
		goto out;
	}
	snprintf(r->period, sizeof(r->period), "%04d-%02d", year, month);
	build_header(r, &sp, meta, now);
	if (build_access(r, db, &sp, err) || build_denied(r, db, &sp, err) ||
	    build_ingest(r, db, &sp, err) || build_requests(r, db, &sp, err) ||
	    build_map(r, c, err) || build_chain(r, db, &sp, err))
		goto out;
	if (r->oom) {
		st_error_oom(err);
		goto out;
	}
	if (r->overflow) {
		st_error_set(err, ST_E_SYSTEM, "the report has more parts than it has room for");
		goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	audit_report_free(r);
	return ret;
}
