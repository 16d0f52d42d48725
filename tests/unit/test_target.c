/* Unit tests for audit/target.c and target_http.c: the matcher, target URIs, erase, access
 * and object requests against real SQLite files and JSON lines directories, and the HTTP
 * target against tests/helpers/http_target.py (retries, timeouts, what the endpoint gets). */
#include "alloc.h"
#include "harness.h"
#include "pii.h"
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define EMAIL "user.contact.email"
#define UID "user.unique_id"
#define RAW_EMAIL "jiho.kim@example.com"

static const char *tmp;
static struct pii_keyring kr;
static struct pii_pseudonymizer *pseudonymizer;
static struct st_error err;
static struct audit_evidence ev;

/* The subject: one e-mail address and one user id, and their pseudonyms. */
static char p_email[PII_PSEUDONYM_MAX], p_uid[PII_PSEUDONYM_MAX], p_other[PII_PSEUDONYM_MAX];
static char *emails[1] = {p_email}, *uids[1] = {p_uid};

static void pseudo(const char *category, const char *value, char *out)
{
	struct st_error e = ST_ERROR_INIT;

	if (pii_pseudonym(pseudonymizer, category, value, strlen(value), out, &e) < 0) {
		fprintf(stderr, "pii_pseudonym: %s\n", e.msg);
		exit(2);
	}
}

static struct audit_matcher matcher(int mode, const char *category, int norm, char **ps,
				    size_t n)
{
	struct audit_matcher m = {mode, category, norm, NULL, ps, n, pseudonymizer};

	return m;
}

static int run(const struct audit_target_job *job)
{
	audit_evidence_release(&ev);
	st_error_init(&err);
	return audit_target_run(job, &ev, &err);
}

static char *path_in(const char *name)
{
	static char bufs[4][600];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tmp, name);
	return p;
}

static char *uri_of(const char *fmt, const char *arg)
{
	static char bufs[4][700];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), fmt, arg);
	return p;
}

static void db_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, msg ? msg : sqlite3_errmsg(db));
		exit(2);
	}
	sqlite3_close(db);
}

/* The first column of the first row of sql, as an integer (-1 on error). */
static long long db_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = st_malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n)
		p[n] = '\0';
	else {
		st_free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

static int file_is(const char *path, const char *want)
{
	char *got = slurp(path);
	int ok = CHECK_STR(got, want);

	st_free(got);
	return ok;
}

static ino_t inode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? 0 : sb.st_ino;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static size_t count_in_file(const char *path, const char *needle)
{
	char *text = slurp(path);
	size_t n = count_of(text, needle);

	st_free(text);
	return n;
}

/* The names in dir, sorted and joined with spaces. */
static const char *ls(const char *dir)
{
	static char out[1024];
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
				 out[0] ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return out;
}

/* ---- Matcher and URIs --------------------------------------------------------------- */

static void test_matcher(void)
{
	char *ps[3] = {"k0:aaaa", p_email, "k9:zzzz"}; /* sorted: "k0" < "k1" < "k9" */
	struct audit_matcher raw = matcher(AUDIT_MATCH_RAW, EMAIL, PII_NORM_EMAIL, ps, 3);
	struct audit_matcher pm = matcher(AUDIT_MATCH_PSEUDONYM, EMAIL, PII_NORM_NONE, ps, 3);
	struct audit_matcher none = matcher(AUDIT_MATCH_RAW, EMAIL, PII_NORM_EMAIL, ps, 0);
	struct audit_matcher nohash = raw;
	const char *v = "  Jiho.Kim@Example.COM ";

	st_error_init(&err);
	CHECK(audit_matcher_test(&raw, RAW_EMAIL, strlen(RAW_EMAIL), &err) == 1);
	CHECK(audit_matcher_test(&raw, v, strlen(v), &err) == 1);
	CHECK(audit_matcher_test(&raw, "mina@example.com", 16, &err) == 0);
	CHECK(audit_matcher_test(&raw, "not an address", 14, &err) == 0);
	CHECK(audit_matcher_test(&raw, "", 0, &err) == 0);
	/* the length counts, not a NUL: a longer buffer holding the address matches */
	CHECK(audit_matcher_test(&raw, RAW_EMAIL "xyz", strlen(RAW_EMAIL), &err) == 1);
	CHECK(audit_matcher_test(&pm, p_email, strlen(p_email), &err) == 1);
	CHECK(audit_matcher_test(&pm, p_email, strlen(p_email) - 1, &err) == 0);
	CHECK(audit_matcher_test(&pm, "k9:zzzz", 7, &err) == 1);
	CHECK(audit_matcher_test(&pm, "k0:aaa", 6, &err) == 0);
	CHECK(audit_matcher_test(&pm, RAW_EMAIL, strlen(RAW_EMAIL), &err) == 0);
	CHECK(audit_matcher_test(&none, RAW_EMAIL, strlen(RAW_EMAIL), &err) == 0);
	nohash.pseudonymizer = NULL;
	CHECK(audit_matcher_test(&nohash, RAW_EMAIL, strlen(RAW_EMAIL), &err) == -1);
	CHECK(err.code == ST_E_INVALID);
}

static void check_bad_uri(const char *uri, const char *want)
{
	st_error_init(&err);
	CHECK(audit_target_check_uri(uri, &err) == -1);
	CHECK(err.code == ST_E_INVALID);
	CHECK_HAS(err.msg, want);
}

static void test_uris(void)
{
	static const char *const good[] = {
		"sqlite:/var/lib/app.db?table=users", "sqlite:rel/app.db?table=_t1",
		"sqlite:/odd?name.db?table=t",        "jsonl:/data/events",
		"jsonl:relative",                     "http://127.0.0.1:8080/erase",
		"https://example.com/dsr?token=abc",  "HTTPS://example.com/",
		"postgres:users",                     "postgres:analytics.dim_user",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		st_error_init(&err);
		if (!CHECK(audit_target_check_uri(good[i], &err) == 0))
			printf("#   %s: %s\n", good[i], err.msg);
	}
	check_bad_uri("ftp://example.com/x",
		      "unsupported target 'ftp://example.com/x' (use sqlite:PATH?table=NAME, "
		      "jsonl:DIR, http://... or https://...)");
	check_bad_uri("/var/lib/app.db", "unsupported target '/var/lib/app.db'");
	check_bad_uri("", "empty target");
	check_bad_uri("sqlite:/x.db", "target 'sqlite:/x.db' names no table");
	check_bad_uri("sqlite:/x.db?tables=t", "names no table");
	check_bad_uri("sqlite:?table=t", "target 'sqlite:?table=t' names no database file");
	check_bad_uri("sqlite:/x.db?table=1users", "invalid table name '1users'");
	check_bad_uri("sqlite:/x.db?table=t;drop", "invalid table name 't;drop'");
	check_bad_uri("sqlite:/x.db?table=", "invalid table name ''");
	check_bad_uri("jsonl:", "target 'jsonl:' names no directory");
	check_bad_uri("http://", "invalid url 'http://'");
	check_bad_uri("http:example.com", "invalid url 'http:example.com'");
	/* credentials and query strings stay out of messages */
	check_bad_uri("https://user:secret@bad host/x?token=t0k", "invalid url 'https://bad host/x'");
	CHECK(!strstr(err.msg, "secret") && !strstr(err.msg, "t0k"));
	check_bad_uri("postgres:", "invalid table name '' in target 'postgres:'");
	check_bad_uri("postgres:a.b.c", "invalid table name 'a.b.c'");
	check_bad_uri("postgres:1t", "invalid table name '1t'");
	check_bad_uri("postgres:s.t;drop", "invalid table name 's.t;drop'");
	check_bad_uri("postgres:.t", "invalid table name '.t'");
	/* a connection string as a target: refused, without its password */
	check_bad_uri("postgresql://eraser:s3cret@db:5432/prod?sslmode=require",
		      "target 'postgresql://db:5432/prod' is a connection string");
	CHECK(!strstr(err.msg, "s3cret"));
	check_bad_uri("redshift://u:s3cret@cluster/dw", "target 'redshift://cluster/dw' is a connection");
}

/* The table a dataset's location names, for a postgres target's default. */
static void test_location_table(void)
{
	static const char *const cases[][2] = {
		{"redshift://dw/analytics.dim_user", "analytics.dim_user"},
		{"mysql://prod-main/lectra.users", "lectra.users"},
		{"analytics.dim_user", "analytics.dim_user"},
		{"users", "users"},
		{"\"jaffle\".\"main\".\"customers\"", "main.customers"},
		{"postgres://h/db/s.t?x=1", "s.t"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		out[0] = '\0';
		CHECK(audit_location_table(cases[i][0], out, sizeof(out)) == 0);
		CHECK_STR(out, cases[i][1]);
	}
	CHECK(audit_location_table("redshift://dw", out, sizeof(out)) == -1);
	CHECK(audit_location_table("s3://bucket/", out, sizeof(out)) == -1);
	CHECK(audit_location_table("a.b.c.d", out, sizeof(out)) == -1);
	CHECK(audit_location_table("analytics.dim_user", out, 8) == -1);
}

/* A postgres job whose connection string cannot be had fails before any connection. */
static void test_pg_no_dsn(void)
{
	const char *uid = p_uid;
	struct audit_matcher m = {AUDIT_MATCH_PSEUDONYM, UID, 0, NULL, (char **)&uid, 1, NULL};
	struct audit_target_job job = {0};

	job.kind = AUDIT_JOB_ERASE;
	job.uri = "postgres:lectra.users";
	job.match_field = "id";
	job.match = &m;
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	CHECK_STR(err.msg, "target 'postgres:lectra.users' has no dsn_file or dsn_env");
	CHECK_STR(ev.detail, err.msg);
	CHECK(ev.remaining == -1);
	job.dsn_env = "STEWARD_UNIT_NO_SUCH_DSN";
	unsetenv(job.dsn_env);
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	CHECK_STR(err.msg, "the environment variable 'STEWARD_UNIT_NO_SUCH_DSN' (dsn_env) is not set");
	setenv(job.dsn_env, "host=/nonexistent password=s3cret-pw nonsense", 1);
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	CHECK_STR(err.msg, "the environment variable 'STEWARD_UNIT_NO_SUCH_DSN' (dsn_env) holds no "
			   "valid connection string");
	setenv(job.dsn_env, "host=/nonexistent-steward-dir password=s3cret-pw", 1);
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	CHECK(strstr(err.msg, "cannot connect to the database of 'postgres:lectra.users': ") == err.msg);
	CHECK(!strstr(err.msg, "s3cret") && !strchr(err.msg, '\n'));
	/* a one-letter password is cut out of the message everywhere, and the scrub ends */
	setenv(job.dsn_env, "host=/nonexistent-steward-dir password=o", 1);
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	CHECK(strstr(err.msg, "cannot connect to the database of 'postgres:lectra.users': ") == err.msg);
	CHECK(!strchr(strstr(err.msg, "': ") + 3, 'o')); /* libpq's cause, scrubbed */
	CHECK(strstr(err.msg, "c***nnecti***n t*** server") != NULL);
	setenv(job.dsn_env, "host=/nonexistent-steward-dir password=*", 1);
	st_error_init(&err);
	CHECK(audit_target_run(&job, &ev, &err) == -1);
	unsetenv(job.dsn_env);
	CHECK(audit_target_counts_rows("postgres:t") == 1);
	CHECK(audit_target_counts_rows("postgres://h/db") == 0);
}

/* The one redaction of target URIs: what is shown and stored holds no credentials. */
static void test_redact(void)
{
	static const char *const cases[][2] = {
		{"https://user:secret@example.com/dsr?token=t0k#frag", "https://example.com/dsr"},
		{"http://u:p/ss@host:8080/x?y", "http://host:8080/x"},  /* '/' in the password */
		{"http://u:p?w@host/x", "http://host/x"},                 /* '?' in the password */
		{"HTTPS://a:b@c@host/", "HTTPS://host/"},
		{"https://host/erase?api_key=k3y&access_token=a", "https://host/erase"},
		{"http:host?token=x", "http:host"},
		{"sqlite:/odd?name.db?table=t", "sqlite:/odd?name.db?table=t"},
		{"jsonl:/data/a@b", "jsonl:/data/a@b"},
		{"postgresql://eraser:pw@db:5432/prod?sslmode=require", "postgresql://db:5432/prod"},
		{"postgres://u:p@h/d", "postgres://h/d"},
		{"postgres:lectra.users", "postgres:lectra.users"},
	};
	char out[64], *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK(audit_target_redact(cases[i][0], out, sizeof(out)) == strlen(cases[i][1]));
		CHECK_STR(out, cases[i][1]);
		s = audit_target_redacted(cases[i][0]);
		CHECK_STR(s, cases[i][1]);
		st_free(s);
	}
	/* cut short, always terminated, the full length returned */
	CHECK(audit_target_redact("https://u:p@example.com/long", out, 9) == 24);
	CHECK_STR(out, "https://");
	CHECK(audit_target_redact("https://u:p@example.com/long", NULL, 0) == 24);
}

/* ---- SQLite ------------------------------------------------------------------------- */

static const char *make_db(const char *name)
{
	const char *path = path_in(name);
	char sql[4096], lower[PII_PSEUDONYM_MAX];

	/* the same pseudonym in other case: a NOCASE column must not make it match */
	snprintf(lower, sizeof(lower), "%s", p_uid);
	for (char *c = lower + 3; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
		else if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT,"
		 "  city TEXT NOT NULL, avatar BLOB);"
		 "INSERT INTO users VALUES(1, '" RAW_EMAIL "', 'Jiho', 'Seoul', x'0102ff');"
		 "INSERT INTO users VALUES(2, ' Jiho.Kim@Example.com', 'Jiho K', 'Busan', NULL);"
		 "INSERT INTO users VALUES(3, 'mina@example.com', 'Mina', 'Seoul', NULL);"
		 "INSERT INTO users VALUES(4, 'not-an-email', 'X', 'Jeju', NULL);"
		 "INSERT INTO users VALUES(5, NULL, 'Z', 'Jeju', NULL);"
		 "CREATE TABLE orders(order_id INTEGER PRIMARY KEY, user_pid TEXT COLLATE NOCASE,"
		 "  ship_to TEXT, phone TEXT, total REAL);"
		 "CREATE INDEX orders_user ON orders(user_pid);"
		 "INSERT INTO orders VALUES(10, '%s', 'addr 1', '010-1234-5678', 12.5);"
		 "INSERT INTO orders VALUES(11, '%s', 'addr 2', NULL, 3);"
		 "INSERT INTO orders VALUES(12, '%s', 'addr 3', '010-0000-0000', 1);"
		 "INSERT INTO orders VALUES(13, '%s', 'addr 4', '010-9999-9999', 2);"
		 "CREATE TABLE accounts(uid INTEGER, plan TEXT);"
		 "INSERT INTO accounts VALUES(12345, 'pro'), (777, 'free'), (NULL, 'none');",
		 p_uid, p_uid, p_other, lower);
	db_exec(path, sql);
	return path;
}

static void test_sqlite_access(void)
{
	const char *db = make_db("access.db");
	struct audit_matcher m = matcher(AUDIT_MATCH_RAW, EMAIL, PII_NORM_EMAIL, emails, 1);
	struct audit_target_job job = {.request_id = "R-1", .kind = AUDIT_JOB_ACCESS,
				       .uri = uri_of("sqlite:%s?table=users", db),
				       .match_field = "email", .subject_field = "id", .match = &m};
	json_t *rows;
	json_error_t jerr;

	CHECK(run(&job) == 0);
	CHECK(ev.matched == 2 && ev.changed == 0 && ev.attempts == 1);
	CHECK_STR(ev.rows_json,
		  "[{\"id\":1,\"email\":\"" RAW_EMAIL "\",\"name\":\"Jiho\",\"city\":\"Seoul\","
		  "\"avatar\":\"AQL/\"},{\"id\":2,\"email\":\" Jiho.Kim@Example.com\",\"name\":"
		  "\"Jiho K\",\"city\":\"Busan\",\"avatar\":null}]");
	rows = ev.rows_json ? json_loads(ev.rows_json, 0, &jerr) : NULL;
	CHECK(json_is_array(rows) && json_array_size(rows) == 2);
	json_decref(rows);
	CHECK(ev.nsubject_values == 2);
	if (ev.nsubject_values == 2) {
		CHECK_STR(ev.subject_values[0], "1");
		CHECK_STR(ev.subject_values[1], "2");
	}
	CHECK(db_int(db, "SELECT count(*) FROM users") == 5);

	/* pseudonym mode through the index; the case-swapped pseudonym does not match */
	m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	job.uri = uri_of("sqlite:%s?table=orders", db);
	job.match_field = "user_pid";
	job.subject_field = NULL;
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 2 && ev.nsubject_values == 0);
	CHECK_HAS(ev.rows_json, "\"order_id\":10,");
	CHECK_HAS(ev.rows_json, "\"order_id\":11,");
	CHECK_HAS(ev.rows_json, "\"total\":12.5");
	CHECK(!strstr(ev.rows_json ? ev.rows_json : "", "addr 4"));

	/* nothing of the subject: an empty array */
	job.match_field = "phone";
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 0);
	CHECK_STR(ev.rows_json, "[]");

	/* object: counted, nothing changed, no rows */
	job.kind = AUDIT_JOB_OBJECT;
	job.match_field = "user_pid";
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 2 && ev.changed == 0 && !ev.rows_json);
	CHECK(db_int(db, "SELECT count(*) FROM orders WHERE ship_to IS NOT NULL") == 4);

	/* a relative path is taken from the current directory */
	{
		char cwd[1024];
		int ok = getcwd(cwd, sizeof(cwd)) && !chdir(tmp);

		job.kind = AUDIT_JOB_ACCESS;
		job.uri = "sqlite:access.db?table=orders";
		CHECK(ok && run(&job) == 0 && ev.matched == 2);
		CHECK(ok && !chdir(cwd));
	}
}

static void test_sqlite_delete(void)
{
	const char *db = make_db("delete.db");
	struct audit_matcher m = matcher(AUDIT_MATCH_RAW, EMAIL, PII_NORM_EMAIL, emails, 1);
	struct audit_target_job job = {.request_id = "R-2", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("sqlite:%s?table=users", db),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "email",
				       .subject_field = "name", .match = &m};

	CHECK(run(&job) == 0);
	CHECK(ev.matched == 2 && ev.changed == 2 && ev.files == 0 && !ev.rows_json);
	CHECK(ev.nsubject_values == 2);
	if (ev.nsubject_values == 2) {
		CHECK_STR(ev.subject_values[0], "Jiho");
		CHECK_STR(ev.subject_values[1], "Jiho K");
	}
	CHECK(ev.elapsed_ms >= 0 && !ev.detail[0]);
	CHECK(db_int(db, "SELECT count(*) FROM users") == 3);
	CHECK(db_int(db, "SELECT count(*) FROM users WHERE id IN (3, 4, 5)") == 3);

	/* idempotent */
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 0 && ev.changed == 0 && ev.nsubject_values == 0);

	/* integers are matched as their decimal text */
	{
		char p[PII_PSEUDONYM_MAX], *ps[1] = {p};
		struct audit_matcher mi = matcher(AUDIT_MATCH_RAW, UID, PII_NORM_NONE, ps, 1);

		pseudo(UID, "12345", p);
		job.uri = uri_of("sqlite:%s?table=accounts", db);
		job.match_field = "uid";
		job.subject_field = "plan";
		job.match = &mi;
		CHECK(run(&job) == 0);
		CHECK(ev.matched == 1 && ev.changed == 1);
		CHECK(ev.nsubject_values == 1 && !strcmp(ev.subject_values[0], "pro"));
		CHECK(db_int(db, "SELECT count(*) FROM accounts") == 2);
	}

	/* more pseudonyms than an IN list takes: matched through steward_match() */
	{
		char *many[300], fill[299][16];

		for (int i = 0; i < 299; i++) {
			snprintf(fill[i], sizeof(fill[i]), "k0:%05d", i);
			many[i] = fill[i];
		}
		many[299] = p_uid; /* "k1:..." sorts after every "k0:" */
		m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, many, 300);
		job.uri = uri_of("sqlite:%s?table=orders", db);
		job.match_field = "user_pid";
		job.subject_field = NULL;
		job.match = &m;
		CHECK(run(&job) == 0);
		CHECK(ev.matched == 2 && ev.changed == 2);
		CHECK(db_int(db, "SELECT count(*) FROM orders") == 2);
		CHECK(db_int(db, "SELECT count(*) FROM orders WHERE order_id IN (12, 13)") == 2);
	}
}

static void test_sqlite_nullify(void)
{
	const char *db = make_db("nullify.db");
	const char *cols[] = {"ship_to", "phone"};
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-3", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("sqlite:%s?table=orders", db),
				       .erase_action = AUDIT_ERASE_NULLIFY, .match_field = "user_pid",
				       .nullify = cols, .nnullify = 2, .match = &m};

	CHECK(run(&job) == 0);
	CHECK(ev.matched == 2 && ev.changed == 2);
	CHECK(db_int(db, "SELECT count(*) FROM orders") == 4);
	CHECK(db_int(db, "SELECT count(*) FROM orders WHERE order_id IN (10, 11) AND "
			 "ship_to IS NULL AND phone IS NULL AND total > 0") == 2);
	CHECK(db_int(db, "SELECT count(*) FROM orders WHERE order_id IN (12, 13) AND "
			 "ship_to IS NOT NULL AND phone IS NOT NULL") == 2);
	/* the rows stay the subject's, but nothing is left to erase */
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 0 && ev.changed == 0);
}

static void test_sqlite_errors(void)
{
	const char *db = make_db("errors.db");
	const char *city[] = {"city"}, *nope[] = {"name", "nope"};
	struct audit_matcher m = matcher(AUDIT_MATCH_RAW, EMAIL, PII_NORM_EMAIL, emails, 1);
	struct audit_target_job job = {.request_id = "R-4", .kind = AUDIT_JOB_ERASE,
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "email",
				       .match = &m};
	char want[1024];

	job.uri = uri_of("sqlite:%s?table=users", path_in("missing.db"));
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_SYSTEM);
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory",
		 path_in("missing.db"));
	CHECK_STR(err.msg, want);
	CHECK_HAS(ev.detail, "cannot open '");
	CHECK(access(path_in("missing.db"), F_OK) != 0); /* not created */

	job.uri = uri_of("sqlite:%s?table=nope", db);
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_INVALID);
	snprintf(want, sizeof(want), "no table 'nope' in '%s'", db);
	CHECK_STR(err.msg, want);

	job.uri = uri_of("sqlite:%s?table=users", db);
	job.match_field = "mail";
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_INVALID);
	snprintf(want, sizeof(want), "no column 'mail' in table 'users' of '%s'", db);
	CHECK_STR(err.msg, want);
	CHECK_STR(ev.detail, want);

	job.match_field = "email";
	job.subject_field = "uid";
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "no column 'uid' in table 'users'");

	job.subject_field = NULL;
	job.erase_action = AUDIT_ERASE_NULLIFY;
	job.nullify = nope;
	job.nnullify = 2;
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "no column 'nope' in table 'users'");
	CHECK(db_int(db, "SELECT count(*) FROM users WHERE name IS NULL") == 0);

	job.nnullify = 0;
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_INVALID);
	CHECK_HAS(err.msg, "names no fields");

	/* a constraint fails half way: nothing changes */
	job.nullify = city;
	job.nnullify = 1;
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_SYSTEM);
	CHECK_HAS(err.msg, "cannot erase from table 'users' of '");
	CHECK_HAS(err.msg, "NOT NULL constraint failed: users.city");
	CHECK(ev.matched == 0 && ev.changed == 0);
	CHECK(db_int(db, "SELECT count(*) FROM users WHERE city IS NOT NULL") == 5);

	/* a trigger refuses the second row: the first stays too */
	db_exec(db, "CREATE TRIGGER keep BEFORE DELETE ON users WHEN old.id = 2 "
		    "BEGIN SELECT RAISE(ABORT, 'kept by policy'); END;");
	job.erase_action = AUDIT_ERASE_DELETE;
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "kept by policy");
	CHECK(db_int(db, "SELECT count(*) FROM users") == 5);

	/* steward_match() is not for the target's own schema */
	db_exec(db, "DROP TRIGGER keep; CREATE TRIGGER sneaky AFTER DELETE ON users "
		    "BEGIN SELECT steward_match(old.email); END;");
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "steward_match");
	CHECK(db_int(db, "SELECT count(*) FROM users") == 5);

	/* a file that is not a database */
	job.uri = uri_of("sqlite:%s?table=users", t_write(tmp, "text.db", "hello\n"));
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_SYSTEM);
	CHECK_HAS(err.msg, "file is not a database");

	/* a directory is not a database */
	job.uri = uri_of("sqlite:%s?table=users", tmp);
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "not a regular file");

	job.uri = "gopher://x";
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_INVALID);
	CHECK_HAS(ev.detail, "unsupported target");
}

/* ---- JSON lines --------------------------------------------------------------------- */

/* Lines of a JSON lines file: the subject's (P), someone else's, odd spacing that must
 * survive byte for byte, a blank line, CRLF, and a last line without its newline. (A line
 * that is not a JSON object fails the target: test_jsonl_unparsable.) */
static char *jsonl_text(void)
{
	static char text[4096];

	snprintf(text, sizeof(text),
		 "{\"user\": \"%s\", \"email\": \"x@y.com\", \"n\": 1}\n"
		 "{ \"user\":\"%s\" ,\"email\":\"o@y.com\"}\n"
		 "\n"
		 "{\"user\": \"%s\", \"email\": null, \"note\": \"hi\"}\r\n"
		 "{\"user\": 42}\n"
		 "{\"user\": \"%s\", \"user2\": 1, \"email\": \"z@y.com\"}",
		 p_uid, p_other, p_uid, p_uid);
	return text;
}

static const char *make_jsonl_dir(const char *name)
{
	const char *dir = path_in(name);
	char other[700];
	static char saved[600];

	snprintf(saved, sizeof(saved), "%s", dir);
	mkdir(saved, 0755);
	t_write(saved, "a.jsonl", jsonl_text());
	snprintf(other, sizeof(other), "{\"user\": \"%s\"}\n", p_other);
	t_write(saved, "b.jsonl", other);
	snprintf(other, sizeof(other), "{\"user\": \"%s\"}\n", p_uid);
	t_write(saved, "c.txt", other);           /* not a .jsonl file */
	t_write(saved, "d.jsonl/inner", other);   /* a directory */
	snprintf(other, sizeof(other), "%s/a.jsonl", saved);
	chmod(other, 0640);
	return saved;
}

static void test_jsonl_delete(void)
{
	const char *dir = make_jsonl_dir("jd");
	char a[700], b[700], c[700], want[4096];
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-5", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("jsonl:%s", dir),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "user",
				       .subject_field = "email", .match = &m};
	ino_t ib, ia;
	struct stat sb;

	snprintf(a, sizeof(a), "%s/a.jsonl", dir);
	snprintf(b, sizeof(b), "%s/b.jsonl", dir);
	snprintf(c, sizeof(c), "%s/c.txt", dir);
	ia = inode(a);
	ib = inode(b);
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 3 && ev.changed == 3 && ev.files == 1);
	CHECK(ev.visited == 2 && ev.erased == 3 && ev.remaining == 0 && ev.skipped == 2);
	CHECK_STR(ev.detail, "skipped 2 files the globs do not match: c.txt, d.jsonl/inner");
	CHECK(ev.nsubject_values == 2);
	if (ev.nsubject_values == 2) {
		CHECK_STR(ev.subject_values[0], "x@y.com");
		CHECK_STR(ev.subject_values[1], "z@y.com");
	}
	snprintf(want, sizeof(want),
		 "{ \"user\":\"%s\" ,\"email\":\"o@y.com\"}\n"
		 "\n"
		 "{\"user\": 42}\n",
		 p_other);
	file_is(a, want);
	CHECK(inode(a) != ia);
	CHECK(inode(b) == ib);
	CHECK(stat(a, &sb) == 0 && (sb.st_mode & 07777) == 0640);
	CHECK(count_in_file(c, p_uid) == 1);
	CHECK_STR(ls(dir), "a.jsonl b.jsonl c.txt d.jsonl"); /* no temporary file left */

	ia = inode(a);
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 0 && ev.changed == 0 && ev.files == 0);
	CHECK(inode(a) == ia);
}

static void test_jsonl_nullify_access(void)
{
	const char *dir = make_jsonl_dir("jn");
	const char *keys[] = {"email", "phone"};
	char a[700], want[4096];
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-6", .kind = AUDIT_JOB_ACCESS,
				       .uri = uri_of("jsonl:%s", dir), .match_field = "user",
				       .match = &m};
	ino_t ia;

	snprintf(a, sizeof(a), "%s/a.jsonl", dir);
	ia = inode(a);
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 3 && ev.changed == 0 && ev.files == 0);
	snprintf(want, sizeof(want),
		 "[{\"user\":\"%s\",\"email\":\"x@y.com\",\"n\":1},"
		 "{\"user\":\"%s\",\"email\":null,\"note\":\"hi\"},"
		 "{\"user\":\"%s\",\"user2\":1,\"email\":\"z@y.com\"}]",
		 p_uid, p_uid, p_uid);
	CHECK_STR(ev.rows_json, want);
	file_is(a, jsonl_text());
	CHECK(inode(a) == ia);

	job.kind = AUDIT_JOB_ERASE;
	job.erase_action = AUDIT_ERASE_NULLIFY;
	job.nullify = keys;
	job.nnullify = 2;
	CHECK(run(&job) == 0);
	/* the line whose e-mail is null already has nothing to erase */
	CHECK(ev.matched == 2 && ev.changed == 2 && ev.files == 1 && !ev.rows_json);
	snprintf(want, sizeof(want),
		 "{\"user\":\"%s\",\"email\":null,\"n\":1}\n"
		 "{ \"user\":\"%s\" ,\"email\":\"o@y.com\"}\n"
		 "\n"
		 "{\"user\": \"%s\", \"email\": null, \"note\": \"hi\"}\r\n"
		 "{\"user\": 42}\n"
		 "{\"user\":\"%s\",\"user2\":1,\"email\":null}",
		 p_uid, p_other, p_uid, p_uid);
	file_is(a, want);
	ia = inode(a);
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 0 && ev.changed == 0 && ev.files == 0);
	CHECK(inode(a) == ia);

	/* raw mode on an integer key */
	{
		char p[PII_PSEUDONYM_MAX], *ps[1] = {p};
		struct audit_matcher mi = matcher(AUDIT_MATCH_RAW, UID, PII_NORM_NONE, ps, 1);

		pseudo(UID, "42", p);
		job.match = &mi;
		job.kind = AUDIT_JOB_ERASE;
		job.erase_action = AUDIT_ERASE_DELETE;
		CHECK(run(&job) == 0);
		CHECK(ev.matched == 1 && ev.changed == 1 && ev.files == 1);
		CHECK(count_in_file(a, "\"user\": 42") == 0);
	}
}

static void test_jsonl_errors(void)
{
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-7", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("jsonl:%s", path_in("no-such-dir")),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "user",
				       .match = &m};
	const char *dir = make_jsonl_dir("jl");
	char link[700], a[700];

	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_SYSTEM);
	CHECK_HAS(err.msg, "cannot open directory '");
	CHECK_HAS(err.msg, "no-such-dir': No such file or directory");

	snprintf(a, sizeof(a), "%s/a.jsonl", dir);
	snprintf(link, sizeof(link), "%s/link.jsonl", dir);
	CHECK(symlink(a, link) == 0);
	job.uri = uri_of("jsonl:%s", dir);
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "link.jsonl' is a symbolic link");
	file_is(a, jsonl_text());

	/* a read-only directory: the temporary file cannot be made, the original stays */
	unlink(link);
	if (geteuid() != 0) {
		CHECK(chmod(dir, 0555) == 0);
		CHECK(run(&job) == -1);
		CHECK_HAS(err.msg, "cannot create '");
		CHECK(ev.changed == 0 && ev.files == 0);
		file_is(a, jsonl_text());
		chmod(dir, 0755);
	}
}

/* Writes text to path gzip-compressed. */
static void write_gz(const char *path, const char *text)
{
	gzFile gz = gzopen(path, "wb");

	if (!gz || gzwrite(gz, text, (unsigned)strlen(text)) != (int)strlen(text) ||
	    gzclose(gz) != Z_OK) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

/* Reads a gzip file whole; NULL when it is not valid gzip. */
static char *read_gz(const char *path)
{
	static char buf[8192];
	gzFile gz = gzopen(path, "rb");
	int n, direct;

	if (!gz)
		return NULL;
	n = gzread(gz, buf, sizeof(buf) - 1);
	direct = gzdirect(gz);
	if (gzclose(gz) != Z_OK || n < 0 || direct)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* A tree of partitions: gzip, upper case, BOM, CRLF, repeated keys, a file of another
 * kind, a symbolic link to a directory; every subject line found at any depth, verified. */
static void test_jsonl_tree(void)
{
	const char *dir = path_in("tree");
	char p[700], line[2048], want[2048], *gz;
	const char *keys[] = {"email"};
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-8", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("jsonl:%s", dir),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "user",
				       .match = &m};

	mkdir(dir, 0755);
	snprintf(line, sizeof(line), "{\"user\":\"%s\",\"n\":1}\n{\"user\":\"%s\",\"n\":2}\n", p_uid,
		 p_other);
	snprintf(p, sizeof(p), "%s/dt=2026-11-01", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dt=2026-11-01/part-0.jsonl.gz", dir);
	write_gz(p, line);
	snprintf(line, sizeof(line),
		 "\xEF\xBB\xBF{\"user\":\"%s\"}\r\n{\"user\": \"%s\"}\r\n"
		 "{\"user\":\"%s\",\"user\":\"%s\"}\r\n",
		 p_uid, p_other, p_uid, p_other);
	t_write(dir, "dt=2026-11-02/h=1/PART-1.NDJSON", line);
	t_write(dir, "dt=2026-11-02/_SUCCESS", "");
	snprintf(p, sizeof(p), "%s/elsewhere", tmp);
	mkdir(p, 0755);
	snprintf(line, sizeof(line), "{\"user\":\"%s\"}\n", p_uid);
	t_write(p, "out.jsonl", line);
	snprintf(want, sizeof(want), "%s/dt=2026-11-02/outside", dir);
	CHECK(symlink(p, want) == 0);

	CHECK(run(&job) == 0);
	CHECK(ev.visited == 2 && ev.matched == 3 && ev.erased == 3 && ev.remaining == 0);
	CHECK(ev.files == 2 && ev.skipped == 2);
	CHECK_STR(ev.detail, "skipped 2 files the globs do not match: dt=2026-11-02/_SUCCESS, "
			     "dt=2026-11-02/outside (symbolic link, not followed)");
	snprintf(p, sizeof(p), "%s/dt=2026-11-01/part-0.jsonl.gz", dir);
	gz = read_gz(p);
	snprintf(want, sizeof(want), "{\"user\":\"%s\",\"n\":2}\n", p_other);
	CHECK_STR(gz, want);
	snprintf(p, sizeof(p), "%s/dt=2026-11-02/h=1/PART-1.NDJSON", dir);
	snprintf(want, sizeof(want), "{\"user\": \"%s\"}\r\n", p_other);
	file_is(p, want);
	snprintf(p, sizeof(p), "%s/elsewhere/out.jsonl", tmp);
	CHECK(count_in_file(p, p_uid) == 1); /* a link out of the tree is not followed */
	CHECK_STR(ls(path_in("tree/dt=2026-11-02/h=1")), "PART-1.NDJSON");

	/* nullify: a repeated key counts when any occurrence still holds something */
	snprintf(line, sizeof(line), "\xEF\xBB\xBF{\"user\":\"%s\",\"email\":\"a@b.c\",\"email\":null}\n",
		 p_uid);
	t_write(dir, "n.json", line);
	job.erase_action = AUDIT_ERASE_NULLIFY;
	job.nullify = keys;
	job.nnullify = 1;
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 1 && ev.erased == 1 && ev.remaining == 0);
	snprintf(p, sizeof(p), "%s/n.json", dir);
	snprintf(want, sizeof(want), "\xEF\xBB\xBF{\"user\":\"%s\",\"email\":null}\n", p_uid);
	file_is(p, want);

	/* the globs are configurable */
	job.erase_action = AUDIT_ERASE_DELETE;
	job.uri = uri_of("jsonl:%s?match=*.json", dir);
	CHECK(run(&job) == 0);
	CHECK(ev.visited == 1 && ev.matched == 1 && ev.remaining == 0 && ev.skipped == 4);
	file_is(p, "");
}

/* A line that is not a JSON object fails the job with FILE:LINE, and nothing changes. */
static void test_jsonl_unparsable(void)
{
	const char *dir = path_in("bad");
	char a[700], b[700], line[1024], bad[1024];
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-9", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("jsonl:%s", dir),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "user",
				       .match = &m};
	static const char *const lines[] = {"not json at all\n", "[1, 2]\n", "{\"user\": 1,}\n",
					    "{\"user\": \"\\u0000\"}\n"};
	static const char *const causes[] = {":2:3: invalid JSON; the target was not changed",
					     ":2: not a JSON object; the target was not changed",
					     ":2:12: invalid JSON; the target was not changed",
					     ":2:17: a NUL character; the target was not changed"};

	mkdir(dir, 0755);
	snprintf(line, sizeof(line), "{\"user\":\"%s\"}\n", p_uid);
	t_write(dir, "a.jsonl", line);
	snprintf(a, sizeof(a), "%s/a.jsonl", dir);
	snprintf(b, sizeof(b), "%s/p/b.jsonl", dir);
	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		snprintf(bad, sizeof(bad), "%s%s", line, lines[i]);
		t_write(dir, "p/b.jsonl", bad);
		CHECK(run(&job) == -1);
		CHECK(err.code == ST_E_INVALID);
		CHECK(!strncmp(err.msg, b, strlen(b)));
		CHECK_STR(err.msg + strlen(b), causes[i]);
		CHECK_STR(ev.detail, err.msg);
		file_is(a, line);
		file_is(b, bad);
		CHECK_STR(ls(dir), "a.jsonl p");
	}

	/* a .gz file that is not gzip */
	t_write(dir, "p/b.jsonl", line);
	t_write(dir, "c.jsonl.gz", line);
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "c.jsonl.gz' is not gzip data; the target was not changed");
	file_is(a, line);
	unlink(path_in("bad/c.jsonl.gz"));

	/* a gzip file cut short is a read error, not the end of the file */
	{
		char gzp[700], big[1024], text[4096];
		struct stat sb;

		for (size_t i = 0; i + 1 < sizeof(big); i++)
			big[i] = "0123456789abcdef"[(i * 7 + i / 13) % 16];
		big[sizeof(big) - 1] = '\0';
		snprintf(text, sizeof(text), "%s{\"user\":\"x\",\"pad\":\"%s\"}\n", line, big);
		snprintf(gzp, sizeof(gzp), "%s/d.jsonl.gz", dir);
		write_gz(gzp, text);
		CHECK(stat(gzp, &sb) == 0 && truncate(gzp, sb.st_size - 12) == 0);
		CHECK(run(&job) == -1);
		CHECK_HAS(err.msg, "cannot read '");
		CHECK_HAS(err.msg, "d.jsonl.gz': ");
		file_is(a, line);
		unlink(gzp);
	}

	/* partitions deeper than the bound */
	{
		char deep[700];
		size_t n = (size_t)snprintf(deep, sizeof(deep), "%s", dir);

		for (int i = 0; i <= AUDIT_JSONL_MAX_DEPTH; i++) {
			n += (size_t)snprintf(deep + n, sizeof(deep) - n, "/d");
			mkdir(deep, 0755);
		}
		CHECK(run(&job) == -1);
		CHECK_HAS(err.msg, "is more than 16 folders deep; the target was not changed");
		file_is(a, line);
	}

	/* bad glob lists */
	job.uri = uri_of("jsonl:%s?match=", dir);
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "has an empty glob in its match list");
	job.uri = uri_of("jsonl:%s?match=a/*.jsonl", dir);
	CHECK(run(&job) == -1);
	CHECK_HAS(err.msg, "a glob matches file names and cannot hold '/'");
}

/* The re-scan after an erase finds what a trigger put back. */
static void test_sqlite_verify(void)
{
	const char *db = path_in("verify.db");
	struct audit_matcher m = matcher(AUDIT_MATCH_PSEUDONYM, UID, PII_NORM_NONE, uids, 1);
	struct audit_target_job job = {.request_id = "R-10", .kind = AUDIT_JOB_ERASE,
				       .uri = uri_of("sqlite:%s?table=t", db),
				       .erase_action = AUDIT_ERASE_DELETE, .match_field = "u",
				       .match = &m};
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT);"
		 "INSERT INTO t VALUES (1, '%s'), (2, '%s'), (3, '%s');"
		 "CREATE TRIGGER back AFTER DELETE ON t WHEN old.id = 1 BEGIN "
		 "INSERT INTO t VALUES (100, old.u); END;",
		 p_uid, p_uid, p_other);
	db_exec(db, sql);
	CHECK(run(&job) == 0);
	CHECK(ev.visited == 1 && ev.matched == 2 && ev.erased == 2 && ev.remaining == 1);
	db_exec(db, "DROP TRIGGER back");
	CHECK(run(&job) == 0);
	CHECK(ev.matched == 1 && ev.erased == 1 && ev.remaining == 0);
	CHECK(db_int(db, "SELECT count(*) FROM t") == 1);

	/* not an erasure: unverified, nothing to verify */
	job.kind = AUDIT_JOB_OBJECT;
	CHECK(run(&job) == 0);
	CHECK(ev.remaining == -1 && ev.erased == 0);
}

/* ---- HTTP --------------------------------------------------------------------------- */

static pid_t server = -1;
static int server_out = -1; /* the helper's stdout, kept open while it runs */
static char portfile[600], logfile[600];
static int port;

/* The port in the helper's PORTFILE, or -1 while there is none. The helper renames the file
 * into place once written, so a file that exists holds the whole number. */
static int read_portfile(void)
{
	FILE *f = fopen(portfile, "r");
	int p = -1;

	if (f) {
		if (fscanf(f, "%d", &p) != 1 || p <= 0)
			p = -1;
		fclose(f);
	}
	return p;
}

/* Starts tests/helpers/http_target.py and waits, with no clock, until it listens: until it
 * prints its readiness line "ready PORT" on stdout or renames PORTFILE into place (seen with
 * inotify), whichever comes first. The end of its stdout before either means it died.
 * Returns 0 once PORTFILE holds the port (the one of the readiness line, if there was one). */
static int start_server(void)
{
	const char *src = getenv("STEWARD_SRC");
	char script[1024], line[128];
	size_t have = 0;
	int fds[2], watch, ready = -1, died = 0;

	if (!src) {
		printf("# STEWARD_SRC is not set: no http tests\n");
		return -1;
	}
	snprintf(script, sizeof(script), "%s/tests/helpers/http_target.py", src);
	snprintf(portfile, sizeof(portfile), "%s", path_in("http.port"));
	snprintf(logfile, sizeof(logfile), "%s", path_in("http.log"));
	/* watched before the helper starts, so that its rename cannot be missed */
	watch = inotify_init1(IN_CLOEXEC);
	if (watch < 0 || inotify_add_watch(watch, tmp, IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
	    pipe(fds)) {
		printf("# cannot watch for the http helper: %s\n", strerror(errno));
		return -1;
	}
	fflush(stdout);
	server = fork();
	if (server < 0)
		return -1;
	if (server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives the test */
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("python3", "python3", script, portfile, logfile, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	server_out = fds[0];
	while (ready < 0 && !died) {
		struct pollfd pf[2] = {{server_out, POLLIN, 0}, {watch, POLLIN, 0}};
		char events[4096];

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pf[1].revents & POLLIN) && read(watch, events, sizeof(events)) > 0 &&
		    read_portfile() > 0)
			break; /* the port file arrived first */
		if (pf[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(server_out, line + have, sizeof(line) - 1 - have);

			if (n <= 0) {
				died = 1;
				break;
			}
			have += (size_t)n;
			line[have] = '\0';
			if (strchr(line, '\n') || have == sizeof(line) - 1) {
				if (sscanf(line, "ready %d", &ready) != 1 || ready <= 0) {
					printf("# the http helper said: %s\n", line);
					died = 1;
				}
			}
		}
	}
	close(watch);
	port = read_portfile();
	if (!CHECK(port > 0)) {
		if (ready > 0)
			printf("# the http helper said 'ready %d' with no port file\n", ready);
		else
			printf("# the http helper %s before its port file arrived\n",
			       died ? "ended" : "could not be watched");
		return -1;
	}
	if (ready > 0 && !CHECK(ready == port))
		printf("# the readiness line says port %d, the port file %d\n", ready, port);
	return 0;
}

static void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (server_out >= 0) {
		close(server_out);
		server_out = -1;
	}
}

static char *url(const char *path)
{
	static char bufs[4][128];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "http://127.0.0.1:%d%s", port, path);
	return p;
}

static void test_http(void)
{
	struct audit_target_job job = {.request_id = "R-20261122-0001", .kind = AUDIT_JOB_ERASE,
				       .dataset = "crm.contacts", .category = EMAIL,
				       .pseudonym = p_email, .timeout_ms = 5000,
				       .max_attempts = 3, .backoff_ms = 10};
	char *log;
	char want[256];

	setenv("no_proxy", "*", 1); /* a proxy in the environment must not answer for the fixture */
	if (!CHECK(start_server() == 0))
		return;

	job.uri = url("/ok");
	CHECK(run(&job) == 0);
	CHECK(ev.http_status == 200 && ev.attempts == 1 && !ev.rows_json && ev.remaining == -1);
	CHECK_STR(ev.detail, "unverified: no verify url"); /* an erasure without a verify url */
	log = slurp(logfile);
	snprintf(want, sizeof(want),
		 "{\"path\": \"/ok\", \"content_type\": \"application/json\", \"body\": "
		 "{\"id\": \"R-20261122-0001\", \"action\": \"erase\", \"category\": "
		 "\"" EMAIL "\", \"pseudonym\": \"%s\"}}\n",
		 p_email);
	CHECK_STR(log, want);
	CHECK(!strstr(log ? log : "", RAW_EMAIL) && !strstr(log ? log : "", "jiho"));
	st_free(log);

	job.kind = AUDIT_JOB_ACCESS;
	CHECK(run(&job) == 0);
	CHECK_STR(ev.rows_json, "{\"ok\": true}");
	job.uri = url("/text");
	CHECK(run(&job) == 0);
	CHECK_STR(ev.rows_json, "\"done\"");

	job.kind = AUDIT_JOB_OBJECT;
	job.uri = url("/fail-twice");
	CHECK(run(&job) == 0);
	CHECK(ev.attempts == 3 && ev.http_status == 200 && !ev.rows_json);

	job.uri = url("/always-500");
	CHECK(run(&job) == -1);
	CHECK(ev.attempts == 3 && ev.http_status == 500);
	CHECK(err.code == ST_E_SYSTEM);
	CHECK_STR(err.msg, uri_of("'%s' answered HTTP 500 (3 attempts)", url("/always-500")));
	CHECK_STR(ev.detail, err.msg);

	job.kind = AUDIT_JOB_ERASE;
	job.uri = url("/404");
	CHECK(run(&job) == -1);
	CHECK(ev.attempts == 1 && ev.http_status == 404);
	CHECK_HAS(err.msg, "answered HTTP 404 (1 attempt)");

	job.uri = url("/redirect");
	CHECK(run(&job) == -1);
	CHECK(ev.attempts == 1 && ev.http_status == 302);
	CHECK_HAS(err.msg, "redirects are not followed");

	job.uri = url("/slow");
	job.timeout_ms = 300;
	job.max_attempts = 2;
	CHECK(run(&job) == -1);
	/* both attempts were cut by the client's timeout: the endpoint answers 200 only after
	 * 3 s, so an attempt that waited for it would have succeeded */
	CHECK(ev.attempts == 2 && ev.http_status == 0);
	CHECK_HAS(err.msg, "cannot reach '");
	CHECK_HAS(err.msg, "Operation timed out"); /* curl's words for its total timeout */
	CHECK_HAS(err.msg, "(2 attempts)");

	/* credentials in the URL stay out of messages */
	snprintf(want, sizeof(want), "http://someone:hunter2@127.0.0.1:%d/404", port);
	job.uri = want;
	job.timeout_ms = 5000;
	CHECK(run(&job) == -1);
	CHECK(ev.http_status == 404);
	CHECK_HAS(err.msg, uri_of("'%s' answered HTTP 404", url("/404")));
	CHECK(!strstr(err.msg, "hunter2") && !strstr(ev.detail, "hunter2"));

	job.pseudonym = NULL;
	job.uri = url("/ok");
	CHECK(run(&job) == -1);
	CHECK(err.code == ST_E_INVALID && ev.attempts == 0);
	job.pseudonym = p_email;

	log = slurp(logfile);
	CHECK(count_of(log, "\"path\": \"/fail-twice\"") == 3);
	CHECK(count_of(log, "\"path\": \"/always-500\"") == 3);
	CHECK(count_of(log, "\"path\": \"/404\"") == 2);
	CHECK(count_of(log, "\"path\": \"/ok\"") == 2);
	CHECK(!strstr(log ? log : "", "hunter2"));
	st_free(log);

	/* nobody listening: connection errors are retried, then reported */
	stop_server();
	job.uri = url("/ok");
	job.max_attempts = 3;
	CHECK(run(&job) == -1);
	CHECK(ev.attempts == 3 && ev.http_status == 0);
	CHECK_HAS(err.msg, "cannot reach '");
}

int main(void)
{
	const struct pii_key *key;
	char keys[600];

	tmp = t_tmpdir();
	snprintf(keys, sizeof(keys), "%s/keys", tmp);
	if (pii_keyring_create(keys, &err) || pii_keyring_open(&kr, keys, 1, &err) ||
	    !(key = pii_keyring_current(&kr)) || pii_pseudonymizer_new(&pseudonymizer, key, &err)) {
		fprintf(stderr, "keyring: %s\n", err.msg);
		return 2;
	}
	pseudo(EMAIL, RAW_EMAIL, p_email);
	pseudo(UID, "u-1", p_uid);
	pseudo(UID, "u-2", p_other);

	test_matcher();
	test_uris();
	test_redact();
	test_location_table();
	test_pg_no_dsn();
	test_sqlite_access();
	test_sqlite_delete();
	test_sqlite_nullify();
	test_sqlite_errors();
	test_jsonl_delete();
	test_jsonl_nullify_access();
	test_jsonl_errors();
	test_jsonl_tree();
	test_jsonl_unparsable();
	test_sqlite_verify();
	test_http();

	stop_server();
	audit_evidence_release(&ev);
	pii_pseudonymizer_free(pseudonymizer);
	pii_keyring_release(&kr);
	return t_done();
}
