/* A helper for bench/audit.sh: fills a workspace's audit log with realistic records in bulk
 * (`fill`), times the audit work that one command adds, phase by phase (`append`), and the
 * Merkle proofs of a log (`prove`).
 * Usage: audit_bench fill HOME N [--batch B] [--pii PERMILLE] | append HOME ACTION [--repeat K]
 *      | prove HOME K | fsync DIR K (the disk's commit latency, for context) */
#include "audit.h"
#include "catalog.h"
#include "sql.h"
#include "version.h"

#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Wall time; with AUDIT_BENCH_CLOCK=faults, the page faults so far (a count, not ms; each
 * costs tens of microseconds in some VMs); with AUDIT_BENCH_CLOCK=cpu, this process's CPU
 * time (user and system), which a busy machine disturbs less but which leaves out the time
 * waiting for the disk. */
static double now_ms(void)
{
	static int cpu = -1;
	struct timespec ts;

	if (cpu < 0) {
		const char *c = getenv("AUDIT_BENCH_CLOCK");

		cpu = c && !strcmp(c, "cpu") ? 1 : c && !strcmp(c, "faults") ? 2 : 0;
	}
	if (cpu == 2) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		return (double)(ru.ru_minflt + ru.ru_majflt);
	}
	clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* xorshift64*: deterministic, so every fill of the same size holds the same mix. */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

/* checkpoint_every as the CLI reads it from steward.yaml (0: the default). */
static long checkpoint_every(const struct catalog_config *cfg)
{
	const char *s = catalog_config_str(cfg, "audit.checkpoint_every");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? v : 0;
}

static int fail(const char *what, const struct st_error *err)
{
	char line[2048];

	st_error_format(err, line, sizeof(line));
	fprintf(stderr, "audit_bench: %s: %s\n", what, line);
	return 1;
}

/* ---- fill ------------------------------------------------------------------------------ */

static const struct {
	const char *name;
	int role;
} actors[] = {
	{"alice", AUDIT_ROLE_VIEWER},
	{"bob", AUDIT_ROLE_VIEWER},
	{"chen", AUDIT_ROLE_VIEWER},
	{"dara", AUDIT_ROLE_VIEWER},
	{"emeka", AUDIT_ROLE_VIEWER},
	{"fatima", AUDIT_ROLE_ENGINEER},
	{"gustavo", AUDIT_ROLE_ENGINEER},
	{"hana", AUDIT_ROLE_ENGINEER},
	{"svc-airflow", AUDIT_ROLE_ENGINEER},
	{"svc-ingest", AUDIT_ROLE_ENGINEER},
	{"ivan", AUDIT_ROLE_STEWARD},
	{"jun", AUDIT_ROLE_STEWARD},
	{"kofi", AUDIT_ROLE_DPO},
	{"lena", AUDIT_ROLE_DPO},
	{"root", AUDIT_ROLE_ADMIN},
};

static const char *const namespaces[] = {"prod", "dw", "events", "lake", "ml", "bi", "crm", "stg"};
static const char *const tables[] = {
	"users",	   "orders",	    "enrollments",   "dim_user",
	"fact_enrollment", "revenue_daily", "click",	     "signup",
	"course_view",	   "search",	    "user_features", "recommendations",
	"signups_export",  "client_log",    "courses",	     "payments"};

/* The command mix, in records per 1000. The PII actions (ingest, scan, hash, request new
 * and run) each end in a signed checkpoint; --pii scales their share. */
static const struct {
	const char *action;
	unsigned weight;
} mix[] = {
	{"catalog.search", 450}, {"catalog.show", 180}, {"catalog.lineage", 100},
	{"catalog.load", 30},	 {"catalog.check", 10}, {"pii.map", 20},
	{"pii.check", 20},	 {"key.list", 5},	{"request.plan", 5},
	{"request.list", 5},	 {"request.show", 5},	{"audit.verify", 5},
	{"audit.log", 10},	 {"pii.ingest", 60},	{"pii.scan", 5},
	{"pii.hash", 10},	 {"request.new", 5},	{"request.run", 5},
};

static void fake_pseudonym(char *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	memcpy(out, "k1:", 3);
	for (int i = 0; i < 24; i++)
		out[3 + i] = b64[rnd(64)];
	out[27] = '\0';
}

/* Picks an action: PII actions with probability pii/1000, the rest by their weights. */
static const char *pick_action(unsigned pii)
{
	unsigned pii_total = 0, other_total = 0, r;
	int want_pii = rnd(1000) < pii;

	for (size_t i = 0; i < sizeof(mix) / sizeof(*mix); i++) {
		if (audit_action_touches_pii(mix[i].action))
			pii_total += mix[i].weight;
		else
			other_total += mix[i].weight;
	}
	r = rnd(want_pii ? pii_total : other_total);
	for (size_t i = 0; i < sizeof(mix) / sizeof(*mix); i++) {
		if (!!audit_action_touches_pii(mix[i].action) != want_pii)
			continue;
		if (r < mix[i].weight)
			return mix[i].action;
		r -= mix[i].weight;
	}
	return "catalog.search";
}

/* One record's object and counts, as the CLI would write them for action. */
static void describe(const char *action, long i, char *object, size_t on, char *counts, size_t cn,
		     const char **purpose)
{
	char pseu[32];
	unsigned in, rej, sup;

	counts[0] = '\0';
	*purpose = NULL;
	snprintf(object, on, "%s.%s", namespaces[rnd(8)], tables[rnd(16)]);
	if (!strcmp(action, "pii.ingest")) {
		in = 1000 + rnd(200000);
		rej = rnd(20);
		sup = rnd(3);
		snprintf(object, on, "events.%s", tables[rnd(16)]);
		snprintf(counts, cn, "{\"in\":%u,\"out\":%u,\"rejected\":%u,\"suppressed\":%u}", in,
			 in - rej - sup, rej, sup);
	} else if (!strcmp(action, "pii.hash")) {
		snprintf(object, on, "%s", rnd(2) ? "user.unique_id" : "user.contact.email");
		*purpose = rnd(2) ? "support ticket" : "fraud review";
	} else if (!strcmp(action, "request.new")) {
		fake_pseudonym(pseu);
		snprintf(counts, cn, "{\"request\":\"R-2026%02u%02u-%04ld\",\"pseudonym\":\"%s\"}",
			 1 + rnd(12), 1 + rnd(28), i % 10000, pseu);
		snprintf(object, on, "erase");
	} else if (!strncmp(action, "request.", 8) && strcmp(action, "request.list")) {
		snprintf(object, on, "R-2026%02u%02u-%04ld", 1 + rnd(12), 1 + rnd(28), i % 10000);
		if (!strcmp(action, "request.run"))
			snprintf(counts, cn, "{\"targets_run\":%u,\"not_done\":0}", 1 + rnd(6));
		else if (!strcmp(action, "request.plan"))
			snprintf(counts, cn, "{\"datasets\":%u,\"manual\":%u}", 3 + rnd(8), rnd(3));
	} else if (!strcmp(action, "catalog.show") || !strcmp(action, "catalog.lineage") ||
		   !strcmp(action, "pii.scan")) {
		/* the dataset is the object */
	} else {
		object[0] = '\0'; /* search, load, map, check, key list, audit: no object */
		if (!strcmp(action, "request.list"))
			snprintf(counts, cn, "{\"listed\":%u,\"overdue\":%u}", rnd(40), rnd(2));
		else if (!strcmp(action, "audit.verify"))
			snprintf(counts, cn, "{\"records\":%ld,\"checkpoints\":%ld,\"bad_seq\":0}",
				 i, i / 12);
		else if (!strcmp(action, "audit.log"))
			snprintf(counts, cn, "{\"records\":%u}", rnd(500));
	}
}

static int cmd_fill(struct catalog_workspace *ws, long n, long batch, unsigned pii)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_config cfg = {0};
	struct audit_log *log = NULL;
	struct audit_actor who[sizeof(actors) / sizeof(*actors)];
	sqlite3_stmt *st = NULL;
	long long checkpoints = 0, records = 0;
	double t0, t1;
	int ret = -1, in_tx = 0;

	if (catalog_config_load(&cfg, ws, &err)) {
		fail("steward.yaml", &err);
		goto out;
	}
	for (size_t i = 0; i < sizeof(who) / sizeof(*who); i++) {
		memset(&who[i], 0, sizeof(who[i]));
		snprintf(who[i].name, sizeof(who[i].name), "%s", actors[i].name);
		who[i].uid = (uid_t)(1000 + i);
		who[i].role = actors[i].role;
	}
	if (audit_open(&log, ws->state_dir, STEWARD_VERSION, checkpoint_every(&cfg), &err)) {
		fail("open", &err);
		goto out;
	}
	t0 = now_ms();
	for (long i = 0; i < n; i++) {
		char object[128], counts[256];
		const char *purpose, *action = pick_action(pii), *reason = NULL;
		const struct audit_actor *a = &who[rnd(sizeof(who) / sizeof(*who))];
		struct audit_entry e = {a, action, NULL, NULL};
		int outcome = AUDIT_OK;
		unsigned r = rnd(100);

		describe(action, i, object, sizeof(object), counts, sizeof(counts), &purpose);
		e.object = object[0] ? object : NULL;
		e.purpose = purpose;
		if (a->role < audit_action_role(action)) {
			outcome = AUDIT_DENIED;
			reason = "needs a stronger role";
		} else if (r < 2) {
			outcome = AUDIT_ERROR;
			reason = r ? "exit 4" : "no dataset with that name";
		}
		if (!in_tx) {
			if (sqlite3_exec(audit_db(log), "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			    SQLITE_OK) {
				fprintf(stderr, "audit_bench: BEGIN: %s\n",
					sqlite3_errmsg(audit_db(log)));
				goto out;
			}
			in_tx = 1;
		}
		if (audit_append(log, &e, outcome, reason,
				 outcome == AUDIT_OK && counts[0] ? counts : NULL, &err)) {
			fail("append", &err);
			goto out;
		}
		if ((i + 1) % batch == 0 || i + 1 == n) {
			if (sqlite3_exec(audit_db(log), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
				fprintf(stderr, "audit_bench: COMMIT: %s\n",
					sqlite3_errmsg(audit_db(log)));
				goto out;
			}
			in_tx = 0;
		}
	}
	t1 = now_ms();
	if (sqlite3_prepare_v2(
		    audit_db(log),
		    "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM checkpoints)", -1,
		    &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "audit_bench: count: %s\n", sqlite3_errmsg(audit_db(log)));
		goto out;
	}
	records = sqlite3_column_int64(st, 0);
	checkpoints = sqlite3_column_int64(st, 1);
	printf("filled %ld records in %.3f s: %.0f records/s; the log holds %lld records and %lld "
	       "checkpoints\n",
	       n, (t1 - t0) / 1e3, (double)n / ((t1 - t0) / 1e3), records, checkpoints);
	ret = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(audit_db(log), "ROLLBACK", NULL, NULL, NULL);
	audit_free(log);
	catalog_config_release(&cfg);
	return ret ? 1 : 0;
}

/* ---- append ---------------------------------------------------------------------------- */

/* What cli_audit_begin() and cli_audit_end() do around one command, timed phase by phase
 * into t[0..5]: roles (steward.yaml and the actor's role), open, begin, end, close (begin
 * is empty, and end one audit_append(), for an action whose only effect is its output). */
static int append_once(const char *home, const char *action, const char *counts, double *t)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws = {0};
	struct catalog_config cfg = {0};
	struct audit_log *log = NULL;
	struct audit_actor actor;
	struct audit_entry e = {&actor, action, NULL, NULL};
	int ret = -1, have_ws = 0;

	t[0] = now_ms();
	if (catalog_workspace_find(&ws, home, &err)) {
		fail("workspace", &err);
		goto out;
	}
	have_ws = 1;
	audit_actor_self(&actor);
	if (catalog_config_load(&cfg, &ws, &err) ||
	    audit_role_resolve(&cfg, ws.config, &actor, &err)) {
		fail("roles", &err);
		goto out;
	}
	t[1] = now_ms();
	if (audit_open(&log, ws.state_dir, STEWARD_VERSION, checkpoint_every(&cfg), &err)) {
		fail("open", &err);
		goto out;
	}
	t[2] = now_ms();
	/* A command whose only effect is its output is recorded once, at its end (cli.c). */
	if (!audit_action_output_only(action) && audit_begin(log, &e, &err)) {
		fail("begin", &err);
		goto out;
	}
	t[3] = now_ms();
	if (audit_action_output_only(action) ? audit_append(log, &e, AUDIT_OK, NULL, counts, &err)
					      : audit_end(log, AUDIT_OK, NULL, counts, &err)) {
		fail("end", &err);
		goto out;
	}
	t[4] = now_ms();
	audit_free(log);
	log = NULL;
	t[5] = now_ms();
	ret = 0;
out:
	audit_free(log);
	catalog_config_release(&cfg);
	if (have_ws)
		catalog_workspace_release(&ws);
	return ret;
}

/* Runs append_once() repeat times, printing one line each: "total roles open begin end
 * close" in ms. */
static int cmd_append(const char *home, const char *action, long repeat)
{
	const char *counts = audit_action_touches_pii(action)
				     ? "{\"in\":1000,\"out\":998,\"rejected\":2,\"suppressed\":0}"
				     : NULL;
	double t[6];

	if (audit_action_role(action) < 0) {
		fprintf(stderr, "audit_bench: '%s' is not an audit action\n", action);
		return 2;
	}
	for (long k = 0; k < repeat; k++) {
		if (append_once(home, action, counts, t))
			return 1;
		printf("%.3f %.3f %.3f %.3f %.3f %.3f\n", t[5] - t[0], t[1] - t[0], t[2] - t[1],
		       t[3] - t[2], t[4] - t[3], t[5] - t[4]);
	}
	return 0;
}

/* ---- prove ----------------------------------------------------------------------------- */

/* Signs the head of HOME's log (unless it is signed), then k times builds the inclusion
 * proof of a record spread over the log and checks it, and a consistency proof from a
 * checkpoint-sized prefix, printing one line each: "inclusion_ms consistency_ms path_len"
 * (what `steward audit prove` and `consistency` do between opening the log and printing). */
static int cmd_prove(const char *home, long k)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws = {0};
	struct audit_log *log = NULL;
	struct audit_checkpoint cp, old;
	struct audit_proof_result res;
	json_t *doc = NULL;
	double t0, t1, t2;
	int ret = -1, have_ws = 0;

	if (catalog_workspace_find(&ws, home, &err)) {
		fail("workspace", &err);
		goto out;
	}
	have_ws = 1;
	if (audit_open(&log, ws.state_dir, STEWARD_VERSION, 0, &err) ||
	    audit_checkpoint(log, &cp, &err)) {
		fail("open", &err);
		goto out;
	}
	for (long i = 0; i < k; i++) {
		int64_t seq = 1 + (int64_t)rnd((unsigned)cp.tree_size);
		size_t n;

		t0 = now_ms();
		if (audit_prove(audit_db(log), &cp, seq, &doc, &err)) {
			fail("prove", &err);
			goto out;
		}
		if (audit_proof_check(doc, cp.public_key, &res)) {
			fprintf(stderr, "audit_bench: the proof of %lld does not hold: %s\n",
				(long long)seq, res.problem);
			goto out;
		}
		n = json_array_size(json_object_get(doc, "path"));
		json_decref(doc);
		doc = NULL;
		t1 = now_ms();
		/* A consistency proof from a signed prefix, as from an old anchor. */
		old = cp;
		old.seq = old.tree_size = seq;
		if (audit_merkle_root_at(audit_db(log), seq, old.root, &err) ||
		    audit_prove_consistency(audit_db(log), &old, &cp, &doc, &err)) {
			fail("consistency", &err);
			goto out;
		}
		json_decref(doc);
		doc = NULL;
		t2 = now_ms();
		printf("%.3f %.3f %zu\n", t1 - t0, t2 - t1, n);
	}
	ret = 0;
out:
	json_decref(doc);
	audit_free(log);
	if (have_ws)
		catalog_workspace_release(&ws);
	return ret ? 1 : 0;
}

/* ---- fsync ----------------------------------------------------------------------------- */

/* The disk's own commit latency, for context: k times, appends 4 KiB to DIR/fsync-probe
 * (emptied first) and fdatasync()s it, as SQLite does with a WAL, printing the ms of each. */
static int cmd_fsync(const char *dir, long k)
{
	char path[4096], block[4096];
	int fd = -1, ret = -1;
	double t0;

	memset(block, 'x', sizeof(block));
	if ((size_t)snprintf(path, sizeof(path), "%s/fsync-probe", dir) >= sizeof(path)) {
		fprintf(stderr, "audit_bench: '%s' is too long a path\n", dir);
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "audit_bench: cannot open '%s': %s\n", path, strerror(errno));
		goto out;
	}
	for (long i = 0; i < k; i++) {
		t0 = now_ms();
		if (pwrite(fd, block, sizeof(block), (off_t)(i * 4096)) != (ssize_t)sizeof(block) ||
		    fdatasync(fd)) {
			fprintf(stderr, "audit_bench: cannot write '%s': %s\n", path,
				strerror(errno));
			goto out;
		}
		printf("%.3f\n", now_ms() - t0);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret ? 1 : 0;
}

static int usage(void)
{
	fputs("usage: audit_bench fill HOME N [--batch B] [--pii PERMILLE]\n"
	      "       audit_bench append HOME ACTION [--repeat K]\n"
	      "       audit_bench prove HOME K\n"
	      "       audit_bench fsync DIR K\n",
	      stderr);
	return 2;
}

static int number(const char *s, long *out)
{
	char *end;

	*out = strtol(s, &end, 10);
	return *s && !*end && *out >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws = {0};
	long n = 0, batch = 100000, pii = -1, repeat = 1;
	int code;

	st_sql_process_init(); /* as the steward binary does (cli/main.c) */
	if (argc == 4 && !strcmp(argv[1], "fsync"))
		return number(argv[3], &n) || n < 1 ? usage() : cmd_fsync(argv[2], n);
	if (argc == 4 && !strcmp(argv[1], "prove"))
		return number(argv[3], &n) || n < 1 ? usage() : cmd_prove(argv[2], n);
	if (argc < 4)
		return usage();
	for (int i = 4; i < argc; i += 2) {
		long *v = !strcmp(argv[i], "--batch")	 ? &batch
			  : !strcmp(argv[i], "--pii")	 ? &pii
			  : !strcmp(argv[i], "--repeat") ? &repeat
							 : NULL;

		if (!v || i + 1 >= argc || number(argv[i + 1], v))
			return usage();
	}
	if (!strcmp(argv[1], "append"))
		return repeat > 0 ? cmd_append(argv[2], argv[3], repeat) : usage();
	if (strcmp(argv[1], "fill") || number(argv[3], &n) || batch < 1 || pii > 1000)
		return usage();
	if (pii < 0) { /* the mix's own share */
		pii = 0;
		for (size_t i = 0; i < sizeof(mix) / sizeof(*mix); i++)
			if (audit_action_touches_pii(mix[i].action))
				pii += mix[i].weight;
	}
	if (catalog_workspace_find(&ws, argv[2], &err))
		return fail("workspace", &err);
	code = cmd_fill(&ws, n, batch, (unsigned)pii);
	catalog_workspace_release(&ws);
	return code;
}
