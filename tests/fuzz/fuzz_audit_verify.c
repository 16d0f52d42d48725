/* Fuzz target for audit verify: the input is an audit.db image, deserialized into an
 * in-memory SQLite handle and verified without an anchor, then against its own head
 * checkpoint and against a corrupted copy of it. Any answer is fine; crashes are not. With
 * STEWARD_FUZZ_AUDIT_SEEDS=DIR set, the initializer writes the seed images there. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "fuzz.h"

/* Seeds: the log built below, and tampered copies of it, each (name, SQL). */
/* STEWARD_FUZZ_DEBUG set: print each verdict (counts and the problem, never record
 * contents), to check what the seeds reach. */
static int debug;

static const char *const variants[][2] = {
	{"intact", ""},
	{"record-edited", "UPDATE records SET object = 'events.other' WHERE seq = 2"},
	{"record-deleted", "DELETE FROM records WHERE seq = 3"},
	{"records-swapped", "UPDATE records SET seq = -seq WHERE seq IN (4, 5);"
			    "UPDATE records SET seq = 9 + seq WHERE seq IN (-4, -5)"},
	{"tail-cut", "DELETE FROM records WHERE seq > 5"},
	{"signature-zeroed", "UPDATE checkpoints SET signature = zeroblob(64)"
			     " WHERE seq = (SELECT max(seq) FROM checkpoints)"},
	{"checkpoint-hash", "UPDATE checkpoints SET hash = zeroblob(32)"
			    " WHERE seq = (SELECT min(seq) FROM checkpoints)"},
	{"checkpoint-key-short", "UPDATE checkpoints SET public_key = x'00'"},
	{"prev-null", "UPDATE records SET prev = x'' WHERE seq = 4"},
	{"types-wrong", "PRAGMA writable_schema = ON;"
			"UPDATE sqlite_schema SET sql = replace(sql, 'STRICT', '') WHERE name = 'records';"
			"PRAGMA writable_schema = OFF"},
	{"no-checkpoints", "DELETE FROM checkpoints"},
	{"no-records", "DELETE FROM records"},
	{"no-table", "DROP TABLE records"},
};

/* Reads path's database into a rollback-journal image (the in-memory VFS has no WAL) of
 * 512-byte pages, so that mutations land in few kilobytes. Returns it (sqlite3_free()). */
static unsigned char *image_of(const char *path, sqlite3_int64 *len)
{
	sqlite3 *db = NULL;
	unsigned char *img = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM", NULL,
			 NULL, NULL) != SQLITE_OK)
		goto out;
	img = sqlite3_serialize(db, "main", len, 0);
out:
	sqlite3_close(db);
	return img;
}

/* Applies sql to a copy of img and writes the result to dir/name.db. */
static void write_variant(const char *dir, const char *name, const char *sql,
			  const unsigned char *img, sqlite3_int64 len)
{
	unsigned char *copy = sqlite3_malloc64((sqlite3_uint64)len), *out = NULL;
	sqlite3 *db = NULL;
	sqlite3_int64 outlen = 0;
	char path[4096];

	if (!copy)
		fuzz_die("out of memory", NULL);
	memcpy(copy, img, (size_t)len);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_deserialize(db, "main", copy, len, len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK ||
	    !(out = sqlite3_serialize(db, "main", &outlen, 0))) {
		fprintf(stderr, "fuzz setup: variant %s: %s\n", name, sqlite3_errmsg(db));
		abort();
	}
	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (fuzz_write_file(path, out, (size_t)outlen, 0644))
		fuzz_die("cannot write a seed", NULL);
	sqlite3_free(out);
	sqlite3_close(db);
}

/* Writes a log of n commands (PII ones every third, a checkpoint every `every`, one denied
 * attempt, one command left pending when pending is set) in a new state directory. */
static const char *build_log(const char *name, int n, long every, int pending)
{
	const char *state = fuzz_path(name);
	struct audit_actor actor = {"fuzz", 0, AUDIT_ROLE_ADMIN};
	struct audit_log *log = NULL;
	struct st_error err = ST_ERROR_INIT;
	char db[64];
	static const char *const actions[] = {"catalog.search", "catalog.show", "pii.ingest"};

	actor.uid = getuid(); /* the name is fixed: the seeds are committed */
	if (mkdir(state, 0700) || audit_open(&log, state, "0.0.0-fuzz", every, &err))
		fuzz_die("cannot open an audit log", &err);
	for (int i = 0; i < n; i++) {
		struct audit_entry e = {&actor, actions[i % 3], "events.click", NULL};

		if (i == 3) {
			e.action = "pii.hash";
			if (audit_append(log, &e, AUDIT_DENIED, "needs the 'dpo' role", NULL, &err))
				fuzz_die("cannot append a record", &err);
			continue;
		}
		e.purpose = i % 3 == 2 ? "fuzz seed" : NULL;
		if (audit_begin(log, &e, &err) ||
		    audit_end(log, i % 4 == 1 ? AUDIT_ERROR : AUDIT_OK, i % 4 == 1 ? "failed" : NULL,
			      i % 3 == 2 ? "{\"in\":3,\"out\":2}" : NULL, &err))
			fuzz_die("cannot record a command", &err);
	}
	if (pending) {
		struct audit_entry e = {&actor, "catalog.load", "dw", NULL};

		if (audit_begin(log, &e, &err))
			fuzz_die("cannot record a command", &err);
	}
	audit_free(log);
	snprintf(db, sizeof(db), "%s/audit.db", name);
	return fuzz_path(db);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("STEWARD_FUZZ_AUDIT_SEEDS");
	const char *full = build_log("full", 8, 3, 0);
	sqlite3_int64 len = 0;
	unsigned char *img = image_of(full, &len);

	(void)argc;
	(void)argv;
	debug = getenv("STEWARD_FUZZ_DEBUG") != NULL;
	if (!img)
		fuzz_die("cannot read the audit log just built", NULL);
	if (seeds) {
		const char *small = build_log("small", 3, 0, 0), *pending = build_log("pending", 5, 2, 1);
		sqlite3_int64 n = 0;
		unsigned char *other;

		for (size_t i = 0; i < sizeof(variants) / sizeof(*variants); i++)
			write_variant(seeds, variants[i][0], variants[i][1], img, len);
		if (!(other = image_of(small, &n)))
			fuzz_die("cannot read the audit log just built", NULL);
		write_variant(seeds, "small", "", other, n);
		sqlite3_free(other);
		if (!(other = image_of(pending, &n)))
			fuzz_die("cannot read the audit log just built", NULL);
		write_variant(seeds, "pending", "", other, n);
		sqlite3_free(other);
	}
	sqlite3_free(img);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_verify_result res;
	struct audit_checkpoint cp;
	struct st_error err = ST_ERROR_INIT;
	unsigned char *img = sqlite3_malloc64(size ? size : 1);
	sqlite3 *db = NULL;
	int rc;

	if (!img)
		return 0;
	memcpy(img, data, size);
	/* A WAL-mode header would make every read fail in the in-memory VFS; read it as a
	 * rollback-journal database, as SQLite's own fuzzers do. */
	if (size > 19 && img[18] == 2 && img[19] == 2)
		img[18] = img[19] = 1;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		sqlite3_free(img);
		goto out;
	}
	/* On failure sqlite3_deserialize() frees img itself. */
	if (sqlite3_deserialize(db, "main", img, (sqlite3_int64)size, (sqlite3_int64)size,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE))
		goto out;
	memset(&res, 0, sizeof(res));
	rc = audit_verify_db(db, NULL, &res, &err);
	if (debug)
		fprintf(stderr, "verify: %d, %lld records, %lld checkpoints, bad seq %lld: %s%s\n",
			rc, (long long)res.records, (long long)res.checkpoints,
			(long long)res.bad_seq, res.problem, rc < 0 ? err.msg : "");
	memset(&cp, 0, sizeof(cp));
	st_error_init(&err);
	if (audit_checkpoint_head(db, &cp, &err) || cp.seq <= 0)
		goto out;
	audit_verify_db(db, &cp, &res, &err); /* its own head as the anchor */
	cp.hash[0] ^= 1;
	audit_verify_db(db, &cp, &res, &err); /* an anchor the log does not hold */
out:
	sqlite3_close(db);
	return 0;
}
