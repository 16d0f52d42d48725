/* Unit tests for audit/dates.c, the deadlines of audit/request.c and the log of
 * audit/log.c: calendar arithmetic (month-end clamping, leap years, century years), date and
 * time parsing, overdue requests; then the log itself in a temporary directory: records,
 * checkpoints, anchors, verification and what it catches, interrupted commands and the
 * fail-closed refusals of audit_open(), the key-bound macs, covered rows and recovery. */
#include "audit.h"
#include "harness.h"

#include <sqlite3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct st_error err;

/* ---- dates ------------------------------------------------------------------------------ */

static struct audit_date D(const char *s)
{
	struct audit_date d = {0, 0, 0};

	if (audit_date_parse(s, &d)) {
		printf("# fixture date '%s' does not parse\n", s);
		exit(2);
	}
	return d;
}

/* The date as text, in one of four rotating buffers. */
static const char *S(struct audit_date d)
{
	static char bufs[4][16];
	static int next;
	char *p = bufs[next++ % 4];

	audit_date_format(d, p);
	return p;
}

static void check_due(int regime, const char *received, const char *want)
{
	char what[128];

	snprintf(what, sizeof(what), "%s due for %s is %s", audit_regime_name(regime), received,
		 want);
	t_streq(S(audit_request_due(regime, D(received))), want, what, __FILE__, __LINE__);
}

static void check_ext(int regime, const char *due, const char *want)
{
	char what[128];

	snprintf(what, sizeof(what), "%s extension of %s is %s", audit_regime_name(regime), due,
		 want);
	t_streq(S(audit_request_extended_due(regime, D(due))), want, what, __FILE__, __LINE__);
}

static void check_bad_date(const char *s)
{
	struct audit_date d = {1, 2, 3};
	char what[128];

	snprintf(what, sizeof(what), "audit_date_parse rejects '%s'", s);
	t_check(audit_date_parse(s, &d) == -1, what, __FILE__, __LINE__);
}

static void check_time(const char *s, int64_t want)
{
	int64_t ms = -1;
	char what[128];

	snprintf(what, sizeof(what), "audit_time_parse('%s') == %lld", s, (long long)want);
	t_check(audit_time_parse(s, &ms) == 0 && ms == want, what, __FILE__, __LINE__);
	if (ms != want)
		printf("#   got %lld\n", (long long)ms);
}

static void check_bad_time(const char *s)
{
	int64_t ms = 0;
	char what[128];

	snprintf(what, sizeof(what), "audit_time_parse rejects '%s'", s);
	t_check(audit_time_parse(s, &ms) == -1, what, __FILE__, __LINE__);
}

static void test_dates(void)
{
	struct audit_date d;
	char buf[40];
	int64_t ms;

	/* GDPR: one calendar month, clamped to the end of the month. */
	check_due(AUDIT_GDPR, "2026-01-31", "2026-02-28");
	check_due(AUDIT_GDPR, "2028-01-31", "2028-02-29"); /* leap year */
	check_due(AUDIT_GDPR, "2026-03-31", "2026-04-30");
	check_due(AUDIT_GDPR, "2026-12-15", "2027-01-15"); /* across the year end */
	check_due(AUDIT_GDPR, "2100-01-31", "2100-02-28"); /* a century year is not leap */
	check_due(AUDIT_GDPR, "2000-01-31", "2000-02-29"); /* ... unless divisible by 400 */
	check_due(AUDIT_GDPR, "2026-01-15", "2026-02-15");
	check_due(AUDIT_GDPR, "2028-02-29", "2028-03-29");
	check_due(AUDIT_GDPR, "2026-08-31", "2026-09-30");
	check_due(AUDIT_GDPR, "2026-12-31", "2027-01-31");

	/* CCPA: 45 days, across month ends, year ends and leap days. */
	check_due(AUDIT_CCPA, "2028-01-20", "2028-03-05");
	check_due(AUDIT_CCPA, "2026-01-20", "2026-03-06");
	check_due(AUDIT_CCPA, "2026-12-31", "2027-02-14");
	check_due(AUDIT_CCPA, "2027-12-20", "2028-02-03");
	check_due(AUDIT_CCPA, "2100-02-01", "2100-03-18"); /* no 29 Feb in 2100 */

	/* The one extension: GDPR two more months (clamped), CCPA 45 more days. */
	check_ext(AUDIT_GDPR, "2026-02-28", "2026-04-28");
	check_ext(AUDIT_GDPR, "2025-12-31", "2026-02-28");
	check_ext(AUDIT_GDPR, "2027-12-31", "2028-02-29");
	check_ext(AUDIT_GDPR, "2026-11-30", "2027-01-30");
	check_ext(AUDIT_GDPR, "2026-07-31", "2026-09-30");
	check_ext(AUDIT_CCPA, "2028-01-20", "2028-03-05");
	check_ext(AUDIT_CCPA, "2026-12-01", "2027-01-15");

	/* add_months and add_days directly, including backwards. */
	CHECK_STR(S(audit_date_add_months(D("2026-01-31"), 13)), "2027-02-28");
	CHECK_STR(S(audit_date_add_months(D("2028-02-29"), 12)), "2029-02-28");
	CHECK_STR(S(audit_date_add_months(D("2028-02-29"), 48)), "2032-02-29");
	CHECK_STR(S(audit_date_add_months(D("2026-03-31"), -1)), "2026-02-28");
	CHECK_STR(S(audit_date_add_months(D("2026-01-15"), -1)), "2025-12-15");
	CHECK_STR(S(audit_date_add_days(D("2028-03-01"), -1)), "2028-02-29");
	CHECK_STR(S(audit_date_add_days(D("2026-03-01"), -1)), "2026-02-28");
	CHECK_STR(S(audit_date_add_days(D("2026-12-31"), 1)), "2027-01-01");
	CHECK_STR(S(audit_date_add_days(D("2026-01-01"), 365)), "2027-01-01");
	CHECK_STR(S(audit_date_add_days(D("2028-01-01"), 365)), "2028-12-31");

	/* Differences. */
	CHECK(audit_date_diff(D("2026-03-01"), D("2027-03-01")) == 365);
	CHECK(audit_date_diff(D("2027-03-01"), D("2028-03-01")) == 366);
	CHECK(audit_date_diff(D("2028-02-01"), D("2028-03-01")) == 29);
	CHECK(audit_date_diff(D("2100-02-01"), D("2100-03-01")) == 28);
	CHECK(audit_date_diff(D("2000-02-01"), D("2000-03-01")) == 29);
	CHECK(audit_date_diff(D("2100-01-01"), D("2000-01-01")) == -36525);
	CHECK(audit_date_diff(D("2026-05-05"), D("2026-05-05")) == 0);
	CHECK(audit_date_diff(D("2026-01-31"), D("2026-02-28")) == 28);
	CHECK(audit_date_diff(D("1970-01-01"), D("2026-01-31")) == 20484);

	/* Parsing: exact form, the day checked against the month. */
	CHECK(audit_date_parse("2028-02-29", &d) == 0 && d.y == 2028 && d.m == 2 && d.d == 29);
	CHECK(audit_date_parse("2000-02-29", &d) == 0);
	CHECK(audit_date_parse("2026-12-31", &d) == 0 && d.y == 2026 && d.m == 12 && d.d == 31);
	check_bad_date("2026-02-29");
	check_bad_date("2100-02-29");
	check_bad_date("2026-04-31");
	check_bad_date("2026-13-01");
	check_bad_date("2026-00-10");
	check_bad_date("2026-01-00");
	check_bad_date("2026-01-32");
	check_bad_date("2026-1-01");
	check_bad_date("2026-01-1");
	check_bad_date("26-01-01");
	check_bad_date("2026-01-01x");
	check_bad_date("2026-01-01 ");
	check_bad_date(" 2026-01-01");
	check_bad_date("2026-01-01T00:00");
	check_bad_date("2026/01/01");
	check_bad_date("2026-+1-01");
	check_bad_date("");
	check_bad_date("yesterday");
	check_bad_date("2026-02-30");

	/* Formatting round trip. */
	CHECK_STR(S(D("2026-01-05")), "2026-01-05");

	/* Times: a date (midnight UTC), with hours and minutes, seconds, a Z, a space. */
	check_time("2026-01-31", 1769817600000LL);
	check_time("2026-01-31T10:20", 1769854800000LL);
	check_time("2026-01-31T10:20Z", 1769854800000LL);
	check_time("2026-01-31T10:20:30", 1769854830000LL);
	check_time("2026-01-31T10:20:30Z", 1769854830000LL);
	check_time("2026-01-31 10:20:30", 1769854830000LL);
	check_time("2000-02-29T00:00:00Z", 951782400000LL);
	check_time("1970-01-01", 0);
	check_bad_time("2026-01-31T24:00");
	check_bad_time("2026-01-31T10:60");
	check_bad_time("2026-01-31T10:20:60");
	check_bad_time("2026-01-31T10");
	check_bad_time("2026-01-31T1:20");
	check_bad_time("2026-01-31T10:20:30+01:00");
	check_bad_time("2026-01-31T10:20:30.5Z");
	check_bad_time("2026-01-31Z");
	check_bad_time("2026-01-31T10:20ZZ");
	check_bad_time("2026-02-29");
	check_bad_time("2026-1-31");
	check_bad_time("");

	/* Formatting a time, and the date of a time. */
	audit_time_format(1769854830123LL, buf, sizeof(buf));
	CHECK_STR(buf, "2026-01-31T10:20:30.123Z");
	audit_time_format(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
	CHECK_STR(S(audit_date_from_ms(1769854830123LL)), "2026-01-31");
	CHECK_STR(S(audit_date_from_ms(1769817600000LL - 1)), "2026-01-30");
	CHECK_STR(S(audit_date_from_ms(-1)), "1969-12-31");
	CHECK(audit_date_to_ms(D("2026-01-31")) == 1769817600000LL);
	ms = 0;
	CHECK(audit_time_parse("2028-02-29T23:59:59Z", &ms) == 0);
	CHECK_STR(S(audit_date_from_ms(ms)), "2028-02-29");
	CHECK_STR(S(audit_date_from_ms(ms + 1000)), "2028-03-01");
}

static void test_overdue(void)
{
	struct audit_request r;

	memset(&r, 0, sizeof(r));
	r.regime = AUDIT_GDPR;
	r.received = D("2026-01-31");
	r.due = audit_request_due(r.regime, r.received);
	CHECK_STR(S(audit_request_deadline(&r)), "2026-02-28");
	CHECK(!audit_request_overdue(&r, D("2026-02-27")));
	CHECK(!audit_request_overdue(&r, D("2026-02-28"))); /* due on the day: not yet late */
	CHECK(audit_request_overdue(&r, D("2026-03-01")));
	CHECK(audit_request_overdue(&r, D("2027-01-01")));

	/* Extended: the extended deadline is the one in force. */
	r.extended = 1;
	r.extended_due = audit_request_extended_due(r.regime, r.due);
	CHECK_STR(S(audit_request_deadline(&r)), "2026-04-28");
	CHECK(!audit_request_overdue(&r, D("2026-03-01")));
	CHECK(!audit_request_overdue(&r, D("2026-04-28")));
	CHECK(audit_request_overdue(&r, D("2026-04-29")));

	/* Completed requests are never overdue. */
	r.completed = 1;
	CHECK(!audit_request_overdue(&r, D("2030-01-01")));

	/* CCPA. */
	memset(&r, 0, sizeof(r));
	r.regime = AUDIT_CCPA;
	r.received = D("2028-01-20");
	r.due = audit_request_due(r.regime, r.received);
	CHECK(!audit_request_overdue(&r, D("2028-03-05")));
	CHECK(audit_request_overdue(&r, D("2028-03-06")));

	/* Names both ways. */
	CHECK(audit_regime_parse("gdpr") == AUDIT_GDPR && audit_regime_parse("ccpa") == AUDIT_CCPA);
	CHECK(audit_regime_parse("GDPR") == -1 && audit_regime_parse("lgpd") == -1);
	CHECK(audit_req_kind_parse("erase") == AUDIT_REQ_ERASE &&
	      audit_req_kind_parse("access") == AUDIT_REQ_ACCESS &&
	      audit_req_kind_parse("object") == AUDIT_REQ_OBJECT);
	CHECK(audit_req_kind_parse("delete") == -1);
	CHECK_STR(audit_req_kind_name(AUDIT_REQ_OBJECT), "object");
	CHECK_STR(audit_regime_name(AUDIT_CCPA), "ccpa");
}

static void test_roles_vocabulary(void)
{
	CHECK_STR(audit_role_name(AUDIT_ROLE_NONE), "none");
	CHECK_STR(audit_role_name(AUDIT_ROLE_DPO), "dpo");
	CHECK(audit_role_parse("viewer") == AUDIT_ROLE_VIEWER);
	CHECK(audit_role_parse("admin") == AUDIT_ROLE_ADMIN);
	CHECK(audit_role_parse("none") == -1); /* not a role one can be given */
	CHECK(audit_role_parse("Admin") == -1);
	CHECK(audit_action_role("catalog.search") == AUDIT_ROLE_VIEWER);
	CHECK(audit_action_role("catalog.load") == AUDIT_ROLE_ENGINEER);
	CHECK(audit_action_role("pii.ingest") == AUDIT_ROLE_ENGINEER);
	CHECK(audit_action_role("pii.map") == AUDIT_ROLE_STEWARD);
	CHECK(audit_action_role("key.list") == AUDIT_ROLE_STEWARD);
	CHECK(audit_action_role("pii.hash") == AUDIT_ROLE_DPO);
	CHECK(audit_action_role("request.new") == AUDIT_ROLE_DPO);
	CHECK(audit_action_role("audit.verify") == AUDIT_ROLE_DPO);
	CHECK(audit_action_role("workspace.init") == AUDIT_ROLE_ADMIN);
	CHECK(audit_action_role("catalog.drop") == -1);
	CHECK(audit_action_touches_pii("pii.hash") && audit_action_touches_pii("pii.ingest") &&
	      audit_action_touches_pii("request.new") && audit_action_touches_pii("request.run"));
	CHECK(!audit_action_touches_pii("catalog.search") && !audit_action_touches_pii("audit.log"));
}

/* ---- the log ---------------------------------------------------------------------------- */

static struct audit_actor actor;
static char dir[600], dbpath[700], keypath[700];

static int open_log(struct audit_log **log, const char *d, long every)
{
	st_error_init(&err);
	return audit_open(log, d, "9.9.9-test", every, &err);
}

static int entry(struct audit_log *log, const char *action, const char *object,
		 const char *purpose, int outcome, const char *reason, const char *counts)
{
	struct audit_entry e = {&actor, action, object, purpose};

	st_error_init(&err);
	if (outcome == AUDIT_DENIED)
		return audit_append(log, &e, outcome, reason, counts, &err);
	if (audit_begin(log, &e, &err))
		return -1;
	return audit_end(log, outcome, reason, counts, &err);
}

static int verify(struct audit_log *log, const struct audit_checkpoint *anchor,
		  struct audit_verify_result *res)
{
	st_error_init(&err);
	return audit_verify_db(audit_db(log), anchor, res, &err);
}

static int exec(struct audit_log *log, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(audit_db(log), sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("# sql '%s': %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

static int64_t count(struct audit_log *log, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(audit_db(log), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Flips one bit in the signature of the checkpoint at seq. */
static void flip_signature(struct audit_log *log, int64_t seq)
{
	unsigned char sig[AUDIT_SIG_BYTES];
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (sqlite3_prepare_v2(audit_db(log), "SELECT signature FROM checkpoints WHERE seq = ?", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_SIG_BYTES) {
			memcpy(sig, sqlite3_column_blob(st, 0), sizeof(sig));
			ok = 1;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	sig[10] ^= 0x01;
	if (!ok || sqlite3_prepare_v2(audit_db(log),
				      "UPDATE checkpoints SET signature = ? WHERE seq = ?", -1, &st,
				      NULL) != SQLITE_OK) {
		printf("# cannot read the checkpoint at seq %lld\n", (long long)seq);
		exit(2);
	}
	sqlite3_bind_blob(st, 1, sig, sizeof(sig), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		exit(2);
	sqlite3_finalize(st);
}

struct rows {
	int n;
	char actions[16][40], outcomes[16][16];
	int64_t seqs[16];
};

static int collect(void *u, const struct audit_row *r)
{
	struct rows *rs = u;

	if (rs->n < 16) {
		snprintf(rs->actions[rs->n], sizeof(rs->actions[0]), "%s", r->action);
		snprintf(rs->outcomes[rs->n], sizeof(rs->outcomes[0]), "%s", r->outcome);
		rs->seqs[rs->n] = r->seq;
	}
	rs->n++;
	return 0;
}

static void test_log_basics(void)
{
	struct audit_log *log = NULL;
	struct audit_verify_result res;
	struct audit_checkpoint cp, cp2, anchor;
	struct audit_entry e = {&actor, "catalog.search", NULL, NULL};
	struct audit_filter f;
	struct rows rows;
	struct stat sb;
	char anchor_path[700];

	snprintf(dir, sizeof(dir), "%s/state", t_tmpdir());
	mkdir(dir, 0700);
	snprintf(dbpath, sizeof(dbpath), "%s/audit.db", dir);
	snprintf(keypath, sizeof(keypath), "%s/audit.key", dir);
	snprintf(anchor_path, sizeof(anchor_path), "%s/anchor.json", t_tmpdir());

	if (!CHECK(open_log(&log, dir, 0) == 0)) {
		printf("#   %s\n", err.msg);
		return;
	}
	CHECK(stat(dbpath, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(stat(keypath, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 64);

	/* An empty log verifies, and has no checkpoint to sign. */
	CHECK(verify(log, NULL, &res) == 0 && res.records == 0 && res.checkpoints == 0);
	st_error_init(&err);
	CHECK(audit_checkpoint(log, &cp, &err) == 0 && cp.seq == 0);

	/* Misuse is refused. */
	st_error_init(&err);
	CHECK(audit_end(log, AUDIT_OK, NULL, NULL, &err) == -1);
	CHECK_STR(err.msg, "no command is being recorded");
	st_error_init(&err);
	CHECK(audit_begin(log, &e, &err) == 0);
	CHECK(count(log, "SELECT count(*) FROM pending") == 1);
	CHECK(count(log, "SELECT count(*) FROM records") == 0);
	st_error_init(&err);
	CHECK(audit_begin(log, &e, &err) == -1);
	CHECK_STR(err.msg, "a command is already being recorded");
	st_error_init(&err);
	CHECK(audit_end(log, AUDIT_OK, NULL, "{\"results\":3}", &err) == 0);
	CHECK(count(log, "SELECT count(*) FROM pending") == 0);
	CHECK(count(log, "SELECT count(*) FROM records") == 1);

	/* More records: a denied attempt, an error, and a PII action, which is signed. */
	CHECK(entry(log, "catalog.load", "x.yaml", NULL, AUDIT_DENIED, "needs the 'engineer' role",
		    NULL) == 0);
	CHECK(entry(log, "catalog.show", "dw.users", NULL, AUDIT_ERROR, "exit 4", NULL) == 0);
	CHECK(count(log, "SELECT count(*) FROM checkpoints") == 0);
	CHECK(entry(log, "pii.hash", "user.contact.email", "ticket 7", AUDIT_OK, NULL,
		    "{\"values\":1}") == 0);
	CHECK(count(log, "SELECT count(*) FROM checkpoints") == 1);
	CHECK(count(log, "SELECT max(seq) FROM checkpoints") == 4);
	CHECK(count(log, "SELECT pii FROM records WHERE seq = 4") == 1);
	CHECK(count(log, "SELECT pii FROM records WHERE seq = 1") == 0);
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 4 AND purpose = 'ticket 7'") == 1);
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 1 AND prev = zeroblob(32)") == 1);
	CHECK(count(log, "SELECT count(*) FROM records r JOIN records p ON p.seq = r.seq - 1"
			 " WHERE r.prev = p.hash") == 3);
	CHECK(entry(log, "catalog.lineage", NULL, NULL, AUDIT_OK, NULL, NULL) == 0);

	CHECK(verify(log, NULL, &res) == 0);
	CHECK(res.records == 5 && res.checkpoints == 1 && res.bad_seq == 0 && res.head_seq == 5);
	CHECK(res.head.seq == 4 && res.problem[0] == '\0' && !res.anchored);

	/* Queries: by outcome, by action prefix, with a limit. */
	memset(&f, 0, sizeof(f));
	memset(&rows, 0, sizeof(rows));
	f.outcome = "denied";
	st_error_init(&err);
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0);
	CHECK(rows.n == 1 && rows.seqs[0] == 2 && !strcmp(rows.actions[0], "catalog.load"));
	memset(&f, 0, sizeof(f));
	memset(&rows, 0, sizeof(rows));
	f.action = "catalog.*";
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0);
	CHECK(rows.n == 4 && rows.seqs[0] == 1 && rows.seqs[3] == 5);
	memset(&rows, 0, sizeof(rows));
	f.action = "catalog"; /* not a prefix without ".*" */
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0 && rows.n == 0);
	memset(&f, 0, sizeof(f));
	memset(&rows, 0, sizeof(rows));
	f.pii_only = 1;
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0);
	CHECK(rows.n == 1 && !strcmp(rows.actions[0], "pii.hash"));
	memset(&f, 0, sizeof(f));
	memset(&rows, 0, sizeof(rows));
	f.limit = 2;
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0);
	CHECK(rows.n == 2 && rows.seqs[1] == 2 && !strcmp(rows.outcomes[1], "denied"));

	/* The head is signed on demand, once. */
	st_error_init(&err);
	CHECK(audit_checkpoint(log, &cp, &err) == 0 && cp.seq == 5);
	CHECK(count(log, "SELECT count(*) FROM checkpoints") == 2);
	st_error_init(&err);
	CHECK(audit_checkpoint(log, &cp2, &err) == 0 && cp2.seq == 5 && cp2.ts_ms == cp.ts_ms &&
	      !memcmp(cp2.signature, cp.signature, sizeof(cp.signature)));
	CHECK(count(log, "SELECT count(*) FROM checkpoints") == 2);
	st_error_init(&err);
	CHECK(audit_checkpoint_head(audit_db(log), &cp2, &err) == 0 && cp2.seq == 5 &&
	      !memcmp(cp2.hash, cp.hash, sizeof(cp.hash)));

	/* The anchor: exported, read back, checked. */
	st_error_init(&err);
	CHECK(audit_checkpoint_export(&cp, anchor_path, NULL, &err) == 0);
	CHECK(stat(anchor_path, &sb) == 0 && sb.st_size > 0);
	st_error_init(&err);
	CHECK(audit_anchor_read(anchor_path, &anchor, &err) == 0);
	CHECK(anchor.seq == cp.seq && anchor.ts_ms == cp.ts_ms &&
	      !memcmp(anchor.hash, cp.hash, sizeof(cp.hash)) &&
	      !memcmp(anchor.public_key, cp.public_key, sizeof(cp.public_key)) &&
	      !memcmp(anchor.signature, cp.signature, sizeof(cp.signature)));
	CHECK(verify(log, &anchor, &res) == 0 && res.anchored && res.checkpoints == 2);

	/* More records after the anchor keep it valid. */
	CHECK(entry(log, "catalog.search", "q", NULL, AUDIT_OK, NULL, NULL) == 0);
	CHECK(verify(log, &anchor, &res) == 0 && res.anchored && res.records == 6);

	audit_free(log);

	/* Reopened: same key, same chain. */
	CHECK(open_log(&log, dir, 0) == 0);
	CHECK(entry(log, "catalog.search", "again", NULL, AUDIT_OK, NULL, NULL) == 0);
	CHECK(verify(log, &anchor, &res) == 0 && res.records == 7 && res.anchored);
	audit_free(log);
}

/* Rewrites the anchor file at path with field key's value changed by one hex digit. */
static void corrupt_anchor(const char *src, const char *dst, const char *key)
{
	char text[4096], needle[64], *p;
	size_t n;
	FILE *f = fopen(src, "r");

	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	snprintf(needle, sizeof(needle), "\"%s\": \"", key);
	p = strstr(text, needle);
	if (p) {
		p += strlen(needle) + 5;
		*p = *p == '0' ? '1' : '0';
	}
	t_write(t_tmpdir(), dst, text);
}

static void test_anchors(void)
{
	struct audit_checkpoint a;
	char src[700], path[700], msg[1200];

	snprintf(src, sizeof(src), "%s/anchor.json", t_tmpdir());

	corrupt_anchor(src, "bad-sig.json", "signature");
	snprintf(path, sizeof(path), "%s/bad-sig.json", t_tmpdir());
	st_error_init(&err);
	CHECK(audit_anchor_read(path, &a, &err) == -1 && err.code == ST_E_INVALID);
	snprintf(msg, sizeof(msg), "the anchor '%s' has a bad signature", path);
	CHECK_STR(err.msg, msg);

	/* A changed hash (or seq) breaks the signature too. */
	corrupt_anchor(src, "bad-hash.json", "hash");
	snprintf(path, sizeof(path), "%s/bad-hash.json", t_tmpdir());
	st_error_init(&err);
	CHECK(audit_anchor_read(path, &a, &err) == -1 && err.code == ST_E_INVALID);
	snprintf(msg, sizeof(msg), "the anchor '%s' has a bad signature", path);
	CHECK_STR(err.msg, msg);

	snprintf(path, sizeof(path), "%s",
		 t_write(t_tmpdir(), "not-anchor.json", "{\"format\": \"something-else\"}\n"));
	st_error_init(&err);
	CHECK(audit_anchor_read(path, &a, &err) == -1 && err.code == ST_E_INVALID);
	snprintf(msg, sizeof(msg), "'%s' is not a steward anchor", path);
	CHECK_STR(err.msg, msg);

	snprintf(path, sizeof(path), "%s", t_write(t_tmpdir(), "garbage.json", "garbage\n"));
	st_error_init(&err);
	CHECK(audit_anchor_read(path, &a, &err) == -1 && err.code == ST_E_INVALID);
	CHECK_HAS(err.msg, "not a steward anchor: ");
	CHECK(err.line == 1);

	snprintf(path, sizeof(path), "%s/no-such-anchor.json", t_tmpdir());
	st_error_init(&err);
	CHECK(audit_anchor_read(path, &a, &err) == -1 && err.code == ST_E_NOTFOUND);
	snprintf(msg, sizeof(msg), "cannot read the anchor '%s'", path);
	CHECK_STR(err.msg, msg);
}

/* A fresh log in dir/name with n search records (every = checkpoint interval). */
static struct audit_log *fresh(const char *name, int n, long every)
{
	struct audit_log *log = NULL;
	char d[700];

	snprintf(d, sizeof(d), "%s/%s", t_tmpdir(), name);
	mkdir(d, 0700);
	if (open_log(&log, d, every)) {
		printf("# audit_open %s: %s\n", d, err.msg);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		if (entry(log, i == 2 ? "pii.hash" : "catalog.search", "obj", NULL, AUDIT_OK, NULL,
			  NULL)) {
			printf("# entry: %s\n", err.msg);
			audit_free(log);
			return NULL;
		}
	return log;
}

/* Copies from/name to to/name, mode 0600. */
static void copy_file(const char *from, const char *to, const char *name)
{
	char a[800], b[800], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(a, sizeof(a), "%s/%s", from, name);
	snprintf(b, sizeof(b), "%s/%s", to, name);
	in = fopen(a, "rb");
	out = fopen(b, "wb");
	if (!in || !out) {
		printf("# cannot copy %s to %s\n", a, b);
		exit(2);
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out) || chmod(b, 0600)) {
		printf("# cannot write %s\n", b);
		exit(2);
	}
}

static void expect_tampered(struct audit_log *log, const struct audit_checkpoint *anchor,
			    int64_t seq, const char *problem, int line)
{
	struct audit_verify_result res;
	int r = verify(log, anchor, &res);

	t_check(r == 1 && res.bad_seq == seq, "verify finds the tampered seq", __FILE__, line);
	if (r != 1 || res.bad_seq != seq)
		printf("#   verify returned %d, bad_seq %lld (want %lld): %s %s\n", r,
		       (long long)res.bad_seq, (long long)seq, res.problem, err.msg);
	t_streq(res.problem, problem, "verify names the problem", __FILE__, line);
}

static void test_tamper(void)
{
	struct audit_log *log, *other;
	struct audit_checkpoint cp, anchor;
	struct audit_verify_result res;

	/* A changed field: the record no longer hashes to its stored hash. */
	if ((log = fresh("t-change", 6, 0))) {
		exec(log, "UPDATE records SET actor = 'mallory' WHERE seq = 3");
		expect_tampered(log, NULL, 3, "record 3 was changed", __LINE__);
		audit_free(log);
	}
	if ((log = fresh("t-counts", 6, 0))) {
		exec(log, "UPDATE records SET counts = '{\"results\":0}' WHERE seq = 5");
		expect_tampered(log, NULL, 5, "record 5 was changed", __LINE__);
		exec(log, "UPDATE records SET outcome = 'denied' WHERE seq = 2");
		expect_tampered(log, NULL, 2, "record 2 was changed", __LINE__); /* the first */
		audit_free(log);
	}
	if ((log = fresh("t-null", 6, 0))) { /* NULL and "" hash differently */
		exec(log, "UPDATE records SET reason = '' WHERE seq = 4");
		expect_tampered(log, NULL, 4, "record 4 was changed", __LINE__);
		audit_free(log);
	}
	if ((log = fresh("t-short", 6, 0))) { /* a hash that is not 32 bytes */
		exec(log, "UPDATE records SET hash = x'00' WHERE seq = 2");
		expect_tampered(log, NULL, 2, "record 2 is malformed", __LINE__);
		audit_free(log);
	}
	/* A deleted record. */
	if ((log = fresh("t-delete", 6, 0))) {
		exec(log, "DELETE FROM records WHERE seq = 4");
		expect_tampered(log, NULL, 4, "record 4 is missing", __LINE__);
		audit_free(log);
	}
	/* Two records swapped, seq kept: the first no longer links. */
	if ((log = fresh("t-swap", 6, 0))) {
		exec(log, "UPDATE records SET seq = -2 WHERE seq = 2;"
			  "UPDATE records SET seq = 2 WHERE seq = 5;"
			  "UPDATE records SET seq = 5 WHERE seq = -2");
		expect_tampered(log, NULL, 2, "record 2 does not link to record 1", __LINE__);
		audit_free(log);
	}
	/* A forged checkpoint signature. */
	if ((log = fresh("t-sig", 6, 0))) {
		flip_signature(log, 3);
		expect_tampered(log, NULL, 3, "the checkpoint signature at seq 3 does not verify",
				__LINE__);
		audit_free(log);
	}
	/* A checkpoint whose record is gone. */
	if ((log = fresh("t-cpmissing", 4, 0))) {
		exec(log, "DELETE FROM records WHERE seq >= 3");
		expect_tampered(log, NULL, 3, "the checkpoint at seq 3 names a record that is missing",
				__LINE__);
		audit_free(log);
	}
	/* Periodic checkpoints: every 2nd record is signed. */
	if ((log = fresh("t-every", 5, 2))) {
		CHECK(count(log, "SELECT count(*) FROM checkpoints") == 3); /* 2, 3 (pii), 4 */
		CHECK(verify(log, NULL, &res) == 0 && res.checkpoints == 3 && res.head.seq == 4);
		audit_free(log);
	}
	/* A truncated tail is invisible without an anchor, caught with one. */
	if ((log = fresh("t-trunc", 6, 0))) {
		st_error_init(&err);
		CHECK(audit_checkpoint(log, &cp, &err) == 0 && cp.seq == 6);
		anchor = cp;
		CHECK(entry(log, "catalog.search", NULL, NULL, AUDIT_OK, NULL, NULL) == 0);
		exec(log, "DELETE FROM records WHERE seq >= 5; DELETE FROM checkpoints WHERE seq >= 5");
		CHECK(verify(log, NULL, &res) == 0 && res.records == 4);
		expect_tampered(log, &anchor,
				6, "the log ends at seq 4, before the anchor's seq 6: records were removed",
				__LINE__);
		audit_free(log);
	}
	/* An anchor from another log (another key). */
	if ((log = fresh("t-key-a", 4, 0)) && (other = fresh("t-key-b", 4, 0))) {
		st_error_init(&err);
		CHECK(audit_checkpoint(other, &anchor, &err) == 0 && anchor.seq == 4);
		expect_tampered(log, &anchor, 1, "the log is signed by another key than the anchor's",
				__LINE__);
		audit_free(other);
		audit_free(log);
	}
	/* Someone holding the key rewrites the log: two copies of one log (same key) that
	 * go on differently both verify alone, but the anchor of one catches the other. */
	if ((log = fresh("t-fork-a", 2, 0))) {
		char a[700], b[700];

		audit_free(log);
		snprintf(a, sizeof(a), "%s/t-fork-a", t_tmpdir());
		snprintf(b, sizeof(b), "%s/t-fork-b", t_tmpdir());
		mkdir(b, 0700);
		copy_file(a, b, "audit.db");
		copy_file(a, b, "audit.db-wal"); /* the last commands' records, not yet folded in */
		copy_file(a, b, "audit.key");
		log = NULL;
		other = NULL;
		if (CHECK(open_log(&log, a, 0) == 0) && CHECK(open_log(&other, b, 0) == 0)) {
			CHECK(entry(log, "catalog.search", "a", NULL, AUDIT_OK, NULL, NULL) == 0);
			CHECK(entry(log, "catalog.search", "a", NULL, AUDIT_OK, NULL, NULL) == 0);
			CHECK(entry(other, "catalog.lineage", "b", NULL, AUDIT_OK, NULL, NULL) == 0);
			CHECK(entry(other, "catalog.lineage", "b", NULL, AUDIT_OK, NULL, NULL) == 0);
			st_error_init(&err);
			CHECK(audit_checkpoint(other, &cp, &err) == 0 && cp.seq == 4);
			st_error_init(&err);
			CHECK(audit_checkpoint(log, &anchor, &err) == 0 && anchor.seq == 4);
			CHECK(verify(other, NULL, &res) == 0 && res.checkpoints == 1);
			CHECK(verify(log, &anchor, &res) == 0 && res.anchored);
			expect_tampered(other, &anchor, 4, "record 4 differs from the anchor",
					__LINE__);
		}
		audit_free(other);
		audit_free(log);
	}
}

/* A process that begins a command and dies: the next open chains it as interrupted. */
static void test_interrupted(void)
{
	struct audit_log *log;
	struct audit_verify_result res;
	struct rows rows;
	struct audit_filter f;
	char d[700];
	pid_t pid;
	int status = -1;

	if (!(log = fresh("t-interrupted", 2, 0)))
		return;
	audit_free(log);
	snprintf(d, sizeof(d), "%s/t-interrupted", t_tmpdir());
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct audit_log *l = NULL;
		struct audit_entry e = {&actor, "pii.hash", "user.name", "killed"};

		if (open_log(&l, d, 0) || audit_begin(l, &e, &err))
			_exit(3);
		_exit(0); /* no audit_end, no audit_free: as if killed */
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	if (!CHECK(open_log(&log, d, 0) == 0))
		return;
	CHECK(count(log, "SELECT count(*) FROM pending") == 0);
	CHECK(count(log, "SELECT count(*) FROM records") == 3);
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 3 AND action = 'pii.hash'"
			 " AND outcome = 'error' AND reason = 'interrupted before it ended'"
			 " AND purpose = 'killed' AND pii = 1") == 1);
	CHECK(count(log, "SELECT max(seq) FROM checkpoints") == 3);
	CHECK(verify(log, NULL, &res) == 0 && res.records == 3);
	memset(&f, 0, sizeof(f));
	memset(&rows, 0, sizeof(rows));
	f.outcome = "error";
	st_error_init(&err);
	CHECK(audit_query(audit_db(log), &f, collect, &rows, &err) == 0 && rows.n == 1 &&
	      rows.seqs[0] == 3);
	audit_free(log);
}

/* audit_open() refuses what would let a command run unrecorded or a log be re-signed. */
static void test_fail_closed(void)
{
	struct audit_log *log = NULL;
	char want[4096], d[700], db[800], key[800], other[800];

	if (!(log = fresh("t-closed", 2, 0)))
		return;
	audit_free(log);
	log = NULL;
	snprintf(d, sizeof(d), "%s/t-closed", t_tmpdir());
	snprintf(db, sizeof(db), "%s/audit.db", d);
	snprintf(key, sizeof(key), "%s/audit.key", d);

	chmod(db, 0400);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want),
		 "the audit log '%s' is read-only; commands that cannot be recorded do not run", db);
	CHECK_STR(err.msg, want);
	chmod(db, 0600);

	chmod(key, 0644);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want),
		 "audit log '%s': audit signing key '%s' is accessible by group or others (mode 0644); "
		 "run 'chmod 600 %s'",
		 db, key, key);
	CHECK_STR(err.msg, want);
	chmod(key, 0600);

	/* A missing key while the log names its public key: no new key is made. */
	snprintf(other, sizeof(other), "%s/audit.key.away", d);
	rename(key, other);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want),
		 "audit log '%s': cannot open audit signing key '%s': No such file or directory",
		 db, key);
	CHECK_STR(err.msg, want);
	CHECK(access(key, F_OK) == -1);

	/* Another log's key is not this log's key. */
	snprintf(want, sizeof(want), "%s/t-key-b", t_tmpdir());
	copy_file(want, d, "audit.key");
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want),
		 "audit log '%s': '%s' is not the key this audit log is signed with", db, key);
	CHECK_STR(err.msg, want);
	unlink(key);
	rename(other, key);

	/* A truncated key. */
	if (truncate(key, 10) == 0) {
		CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
		snprintf(want, sizeof(want), "audit log '%s': '%s' is not an audit signing key (it must be 64 bytes)", db,
			 key);
		CHECK_STR(err.msg, want);
	}

	/* Garbage in place of the database. */
	snprintf(d, sizeof(d), "%s/t-garbage", t_tmpdir());
	mkdir(d, 0700);
	snprintf(db, sizeof(db), "%s/audit.db", d);
	t_write(d, "audit.db", "this is not a database, just some text long enough to matter\n");
	chmod(db, 0600);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_SYSTEM && !log);
	CHECK_HAS(err.msg, "file is not a database");

	/* Where the log would be is a directory. */
	snprintf(d, sizeof(d), "%s/t-dir", t_tmpdir());
	mkdir(d, 0700);
	snprintf(db, sizeof(db), "%s/audit.db", d);
	mkdir(db, 0700);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want), "'%s' is not a regular file", db);
	CHECK_STR(err.msg, want);
	audit_free(log);
}

/* Many checkpoints: the signatures are checked in batches on worker threads, and the
 * calling thread checks batches itself when the workers fall behind. A bad signature deep
 * in the log is still the one named, and the head is the newest good checkpoint before it. */
static void test_many_checkpoints(void)
{
	struct audit_log *log = fresh("t-many", 0, 0);
	struct audit_entry e = {&actor, "pii.ingest", "events.*", NULL};
	struct audit_verify_result res;
	int ok = 1;

	if (!log)
		return;
	CHECK(exec(log, "BEGIN IMMEDIATE") == SQLITE_OK);
	for (int i = 0; i < 6000 && ok; i++) {
		st_error_init(&err);
		ok = !audit_append(log, &e, AUDIT_OK, NULL, "{\"in\":1}", &err);
	}
	CHECK(ok && exec(log, "COMMIT") == SQLITE_OK);
	CHECK(verify(log, NULL, &res) == 0 && res.records == 6000 && res.checkpoints == 6000 &&
	      res.head.seq == 6000);
	CHECK(exec(log, "UPDATE checkpoints SET signature = zeroblob(64) WHERE seq IN (4321, 5000)") ==
	      SQLITE_OK);
	expect_tampered(log, NULL, 4321, "the checkpoint signature at seq 4321 does not verify",
			__LINE__);
	CHECK(verify(log, NULL, &res) == 1 && res.head.seq == 4320);
	audit_free(log);
}

/* The key binding (issue 11): macs, covered rows, forged pending rows, the refusal of
 * an emptied log and its recovery. */
static void test_key_binding(void)
{
	struct audit_log *log = NULL;
	struct audit_verify_result res;
	struct audit_recovery rec;
	struct audit_entry e = {&actor, "request.new", NULL, NULL};
	const char *ps[] = {"k1:test-pseudonym"};
	char d[700], db[800], id[AUDIT_ID_MAX], want[1200];
	struct stat sb;
	pid_t pid;
	int status = -1;

	/* A mac changed, or missing: named at its record. */
	if ((log = fresh("t-mac", 4, 0))) {
		CHECK(count(log, "SELECT count(*) FROM records WHERE length(mac) = 32") == 4);
		exec(log, "UPDATE records SET mac = zeroblob(32) WHERE seq = 3");
		expect_tampered(log, NULL, 3,
				"record 3 does not verify under the audit key (it was rewritten and its "
				"hash recomputed)",
				__LINE__);
		exec(log, "UPDATE records SET mac = NULL WHERE seq = 2");
		expect_tampered(log, NULL, 2, "record 2 is malformed", __LINE__);
		audit_free(log);
	}
	/* Rows written by a request command killed before it ended are covered by the record
	 * the next open chains for it. */
	if (!(log = fresh("t-cover", 1, 0)))
		return;
	audit_free(log);
	snprintf(d, sizeof(d), "%s/t-cover", t_tmpdir());
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct audit_log *l = NULL;

		if (open_log(&l, d, 0) || audit_begin(l, &e, &err) ||
		    audit_request_create(l, &actor, AUDIT_REQ_OBJECT, AUDIT_GDPR, "user.name", ps, 1,
					 audit_date_from_ms(audit_now_ms()), id, &err))
			_exit(3);
		_exit(0); /* killed: no audit_end */
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	if (!CHECK(open_log(&log, d, 0) == 0))
		return;
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 2 AND action = 'request.new'"
			 " AND covers IS NOT NULL") == 1);
	CHECK(count(log, "SELECT count(*) FROM covered WHERE seq = 2") == 3);
	CHECK(count(log, "SELECT count(*) FROM pending_rows") == 0);
	CHECK(verify(log, NULL, &res) == 0);
	exec(log, "UPDATE request_events SET detail = 'x'");
	expect_tampered(log, NULL, 2, "request_events row (1) was changed after record 2 wrote it",
			__LINE__);
	exec(log, "DELETE FROM request_events");
	expect_tampered(log, NULL, 2, "request_events row (1) written by record 2 was deleted",
			__LINE__);
	audit_free(log);
	log = NULL;
	/* A pending row steward did not write is not chained, and verify names it. */
	if ((log = fresh("t-pending", 2, 0))) {
		exec(log, "INSERT INTO pending (ts_ms, actor, uid, role, action, host, pid, version,"
			  " pii) VALUES (0, 'm', 0, 'admin', 'catalog.search', 'elsewhere', 1, '0', 0)");
		snprintf(want, sizeof(want), "pending row %lld was not written by steward",
			 (long long)count(log, "SELECT max(id) FROM pending"));
		audit_free(log);
		snprintf(db, sizeof(db), "%s/t-pending", t_tmpdir());
		log = NULL;
		if (CHECK(open_log(&log, db, 0) == 0)) {
			CHECK(count(log, "SELECT count(*) FROM pending WHERE actor = 'm'") == 1);
			CHECK(count(log, "SELECT count(*) FROM records WHERE actor = 'm'") == 0);
			expect_tampered(log, NULL, 2, want, __LINE__);
		}
		audit_free(log);
		log = NULL;
	}

	/* Emptied while the key is there: refused, untouched, then recovered. */
	snprintf(db, sizeof(db), "%s/audit.db", d);
	CHECK(truncate(db, 0) == 0);
	CHECK(open_log(&log, d, 0) == -1 && err.code == ST_E_DENIED && !log);
	snprintf(want, sizeof(want),
		 "the audit log '%s' is empty but the workspace has an audit key; the log was "
		 "truncated or replaced (see 'steward audit recover --help')",
		 db);
	CHECK_STR(err.msg, want);
	CHECK(stat(db, &sb) == 0 && sb.st_size == 0);
	st_error_init(&err);
	CHECK(audit_recover(d, "9.9.9-test", &actor, "test", &rec, &err) == 0 &&
	      rec.old_state == AUDIT_LOG_EMPTY && rec.old_size == 0 && rec.moved_to[0]);
	CHECK(stat(rec.moved_to, &sb) == 0 && sb.st_size == 0);
	if (!CHECK(open_log(&log, d, 0) == 0))
		return;
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 1 AND action = 'audit.recover'"
			 " AND purpose = 'test'") == 1);
	CHECK(count(log, "SELECT count(*) FROM checkpoints WHERE seq = 1") == 1);
	CHECK(verify(log, NULL, &res) == 0 && res.records == 1);
	/* A usable log has nothing to recover. */
	st_error_init(&err);
	CHECK(audit_recover(d, "9.9.9-test", &actor, "test", &rec, &err) == -1 &&
	      err.code == ST_E_INVALID);
	audit_free(log);
}

/* Threads with a log each on one file (the server's workers): they take turns at the
 * writer lock and share syncs; every record is there and the log verifies. */
struct worker {
	const char *dir;
	int records, failed;
	char msg[sizeof(((struct st_error *)0)->msg)];
};

static void *work(void *p)
{
	struct worker *w = p;
	struct st_error e = ST_ERROR_INIT;
	struct audit_log *log = NULL;
	struct audit_entry en = {&actor, "catalog.search", "obj", NULL};

	if (audit_open(&log, w->dir, "9.9.9-test", 0, &e)) {
		w->failed = 1;
		snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
		return NULL;
	}
	for (int i = 0; i < w->records && !w->failed; i++)
		if (audit_begin(log, &en, &e) || audit_end(log, AUDIT_OK, NULL, NULL, &e)) {
			w->failed = 1;
			snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
		}
	audit_free(log);
	return NULL;
}

static void test_threads(void)
{
	struct audit_log *log = fresh("t-threads", 1, 0);
	struct audit_verify_result res;
	struct worker w[4];
	pthread_t th[4];
	char d[700];

	if (!CHECK(log))
		return;
	snprintf(d, sizeof(d), "%s/t-threads", t_tmpdir());
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){d, 40, 0, ""};
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (!CHECK(!w[i].failed))
			printf("# thread %d: %s\n", i, w[i].msg);
	}
	CHECK(verify(log, NULL, &res) == 0 && res.records == 1 + 4 * 40);
	audit_free(log);
}

/* Group commit (group.c): threads with a log each queue records through one group; they
 * are written in batches, each one transaction, with a checkpoint every 7 records and one
 * for each PII action; every record is there, in one chain, and the log verifies. A batch
 * written directly is all of its records, in order. */
struct grouper {
	const char *dir;
	struct audit_group *g;
	int records, failed;
	char msg[sizeof(((struct st_error *)0)->msg)];
};

static void *group_work(void *p)
{
	struct grouper *w = p;
	struct st_error e = ST_ERROR_INIT;
	struct audit_log *log = NULL;

	if (audit_open(&log, w->dir, "9.9.9-test", 7, &e)) {
		w->failed = 1;
		snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
		return NULL;
	}
	for (int i = 0; i < w->records && !w->failed; i++) {
		struct audit_entry en = {&actor, i % 10 == 3 ? "pii.hash" : "catalog.show", "obj",
					 NULL};

		if (audit_group_append(w->g, log, &en, i % 5 ? AUDIT_OK : AUDIT_DENIED,
				       i % 5 ? NULL : "no", "{\"n\":1}", &e)) {
			w->failed = 1;
			snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
		}
	}
	audit_free(log);
	return NULL;
}

static void test_group(void)
{
	struct audit_log *log = fresh("t-group", 1, 7);
	struct audit_verify_result res;
	struct audit_group *g = audit_group_new();
	struct grouper w[6];
	pthread_t th[6];
	struct audit_entry a = {&actor, "catalog.search", "first", NULL},
			   b = {&actor, "pii.hash", "second", NULL};
	struct audit_item items[2] = {{&a, AUDIT_OK, NULL, NULL}, {&b, AUDIT_ERROR, "why", NULL}};
	char d[700];

	if (!CHECK(log && g))
		goto out;
	snprintf(d, sizeof(d), "%s/t-group", t_tmpdir());
	for (int i = 0; i < 6; i++) {
		w[i] = (struct grouper){d, g, 30, 0, ""};
		CHECK(pthread_create(&th[i], NULL, group_work, &w[i]) == 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		if (!CHECK(!w[i].failed))
			printf("# thread %d: %s\n", i, w[i].msg);
	}
	CHECK(verify(log, NULL, &res) == 0 && res.records == 1 + 6 * 30);
	CHECK(count(log, "SELECT count(*) FROM records WHERE action = 'pii.hash'") == 6 * 3);
	CHECK(count(log, "SELECT count(*) FROM records WHERE outcome = 'denied' AND reason = 'no'") ==
	      6 * 6);
	st_error_init(&err);
	CHECK(audit_append_many(log, items, 2, &err) == 0);
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 182 AND object = 'first'"
			 " AND outcome = 'ok'") == 1);
	CHECK(count(log, "SELECT count(*) FROM records WHERE seq = 183 AND object = 'second'"
			 " AND outcome = 'error' AND reason = 'why'") == 1);
	CHECK(count(log, "SELECT count(*) FROM checkpoints WHERE seq = 183") == 1);
	CHECK(verify(log, NULL, &res) == 0 && res.records == 183);
out:
	audit_group_free(g);
	audit_free(log);
}

int main(void)
{
	test_dates();
	test_overdue();
	test_roles_vocabulary();

	audit_actor_self(&actor);
	actor.role = AUDIT_ROLE_ADMIN;
	test_log_basics();
	test_anchors();
	test_tamper();
	test_interrupted();
	test_fail_closed();
	test_many_checkpoints();
	test_key_binding();
	test_threads();
	test_group();
	return t_done();
}
