/* Verifying audit.db: recomputing the chain and, with the key, every record's mac, checking
 * the rows each record covers and every checkpoint (signatures on worker threads) and an
 * optional external anchor, and writing and reading anchors. */
#include "audit.h"
#include "audit_int.h"
#include "alloc.h"
#include "sql.h"
#include "merkle.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUDIT_ANCHOR_MAX (64 << 10) /* an anchor is a few hundred bytes */

/* ---- Anchors ------------------------------------------------------------------------- */

int audit_checkpoint_export(const struct audit_checkpoint *cp, const char *path,
			    const struct st_output_guard *g, struct st_error *err)
{
	char hash[2 * AUDIT_HASH_BYTES + 1], pk[2 * AUDIT_PK_BYTES + 1],
		sig[2 * AUDIT_SIG_BYTES + 1], root[2 * AUDIT_HASH_BYTES + 1];
	json_t *doc;
	int ret;

	sodium_bin2hex(hash, sizeof(hash), cp->hash, sizeof(cp->hash));
	sodium_bin2hex(pk, sizeof(pk), cp->public_key, sizeof(cp->public_key));
	sodium_bin2hex(sig, sizeof(sig), cp->signature, sizeof(cp->signature));
	doc = json_pack("{s:s, s:i, s:I, s:I, s:s, s:s, s:s}", "format", "steward-audit-anchor",
			"version", 1, "seq", (json_int_t)cp->seq, "ts_ms", (json_int_t)cp->ts_ms,
			"hash", hash, "public_key", pk, "signature", sig);
	/* A format 2 checkpoint adds its tree; the anchor format stays 1, extended. */
	if (doc && cp->version == 2) {
		sodium_bin2hex(root, sizeof(root), cp->root, sizeof(cp->root));
		if (json_object_set_new(doc, "checkpoint_version", json_integer(2)) ||
		    json_object_set_new(doc, "tree_size", json_integer(cp->tree_size)) ||
		    json_object_set_new(doc, "root", json_string(root))) {
			json_decref(doc);
			doc = NULL;
		}
	}
	ret = audit_write_json(path, "anchor file", g, doc, 0, err);
	json_decref(doc);
	return ret;
}

static int hex_field(json_t *doc, const char *key, unsigned char *out, size_t n)
{
	const char *s = json_string_value(json_object_get(doc, key));
	size_t got = 0;

	if (!s || strlen(s) != 2 * n)
		return -1;
	if (sodium_hex2bin(out, n, s, strlen(s), NULL, &got, NULL) || got != n)
		return -1;
	return 0;
}

int audit_anchor_read(const char *path, struct audit_checkpoint *cp, struct st_error *err)
{
	struct stat sb;
	json_error_t jerr;
	json_t *doc, *seq, *ts;
	int ret = -1;

	memset(cp, 0, sizeof(*cp));
	if (!stat(path, &sb) && sb.st_size > AUDIT_ANCHOR_MAX)
		return st_error_set(err, ST_E_INVALID,
				    "'%s' is not a steward anchor (over %d KiB)", path,
				    AUDIT_ANCHOR_MAX >> 10);
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		if (jerr.line < 0 || !strncmp(jerr.text, "unable to open", 14))
			return st_error_set(err, ST_E_NOTFOUND, "cannot read the anchor '%s'", path);
		return st_error_set_at(err, ST_E_INVALID, path, (unsigned)jerr.line,
				       (unsigned)jerr.column, "not a steward anchor: %s", jerr.text);
	}
	seq = json_object_get(doc, "seq");
	ts = json_object_get(doc, "ts_ms");
	if (!json_is_object(doc) ||
	    strcmp(json_string_value(json_object_get(doc, "format")) ? json_string_value(
		   json_object_get(doc, "format")) : "", "steward-audit-anchor") ||
	    !json_is_integer(seq) || json_integer_value(seq) < 1 || !json_is_integer(ts) ||
	    hex_field(doc, "hash", cp->hash, sizeof(cp->hash)) ||
	    hex_field(doc, "public_key", cp->public_key, sizeof(cp->public_key)) ||
	    hex_field(doc, "signature", cp->signature, sizeof(cp->signature))) {
		st_error_set(err, ST_E_INVALID, "'%s' is not a steward anchor", path);
		goto out;
	}
	cp->seq = json_integer_value(seq);
	cp->ts_ms = json_integer_value(ts);
	cp->version = 1;
	if (json_object_get(doc, "checkpoint_version")) {
		json_t *v = json_object_get(doc, "checkpoint_version"),
		       *size = json_object_get(doc, "tree_size");

		if (!json_is_integer(v) || json_integer_value(v) != 2 || !json_is_integer(size) ||
		    hex_field(doc, "root", cp->root, sizeof(cp->root))) {
			st_error_set(err, ST_E_INVALID, "'%s' is not a steward anchor", path);
			goto out;
		}
		cp->version = 2;
		cp->tree_size = json_integer_value(size);
	}
	if (!audit_checkpoint_valid(cp)) {
		st_error_set(err, ST_E_INVALID, "the anchor '%s' has a bad signature", path);
		goto out;
	}
	ret = 0;
out:
	json_decref(doc);
	return ret;
}

/* ---- Verification -------------------------------------------------------------------- */

static void tampered(struct audit_verify_result *res, int64_t seq, const char *fmt, ...)
	ST_PRINTF(3, 4);

static void tampered(struct audit_verify_result *res, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (res->bad_seq && res->bad_seq <= seq)
		return; /* keep the first */
	res->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->problem, sizeof(res->problem), fmt, ap);
	va_end(ap);
}

static const char *col_text(sqlite3_stmt *st, int i, int *bad)
{
	int t = sqlite3_column_type(st, i);

	if (t == SQLITE_NULL)
		return NULL;
	if (t != SQLITE_TEXT)
		*bad = 1;
	return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_int(sqlite3_stmt *st, int i, int *bad)
{
	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		*bad = 1;
	return sqlite3_column_int64(st, i);
}

/* ---- Signature checks in parallel ------------------------------------------------------
 * An Ed25519 verification costs about as much as reading and hashing a hundred records, and
 * a log with many PII commands has a checkpoint every few records, so the signatures are
 * checked by worker threads while the calling thread recomputes the chain and the tree. The
 * workers also fold the Merkle root a format 2 checkpoint signs (about 10 hashes at 1M
 * records) from the complete subtrees the calling thread hands over with it. */

#define SIG_BATCH 64 /* checkpoints handed over at once */
#define SIG_QUEUE 16 /* batches waiting */
#define SIG_THREADS_MAX 8
#define FRONTIER_MAX 24 /* subtrees handed over: trees of up to 2^24 - 1 records */

struct sigitem {
	struct audit_checkpoint cp;
	int sig;     /* check the signature: the checkpoint has no mac that verifies */
	int mac_bad; /* it has a mac, and a wrong one */
	int nf; /* the subtrees in f, lowest first, whose fold must be cp.root; -1: none */
	unsigned char f[FRONTIER_MAX][MERKLE_HASH];
};

struct sigbatch {
	struct sigitem v[SIG_BATCH];
	size_t n;
};

struct sigpool {
	pthread_mutex_t mu;
	pthread_cond_t have;
	struct sigbatch q[SIG_QUEUE];
	size_t head, count;
	struct sigbatch fill; /* being filled by the calling thread */
	int done;
	int64_t bad_seq; /* the lowest seq whose signature does not verify; 0 if none */
	int64_t bad_root; /* the lowest seq whose signed root is not the records'; 0 if none */
	int64_t bad_mac;  /* the lowest seq whose mac alone is wrong; 0 if none */
	pthread_t th[SIG_THREADS_MAX];
	int nth;
};

/* Whether the fold of the item's subtrees is the root its checkpoint signs. */
static int root_matches(const struct sigitem *it)
{
	unsigned char acc[MERKLE_HASH];

	if (it->nf < 1)
		return it->nf < 0;
	memcpy(acc, it->f[0], MERKLE_HASH);
	for (int i = 1; i < it->nf; i++)
		merkle_node(it->f[i], acc, acc);
	return !memcmp(acc, it->cp.root, MERKLE_HASH);
}

static void lowest(int64_t *at, int64_t seq)
{
	if (seq && (!*at || seq < *at))
		*at = seq;
}

/* Checks a batch; returns the lowest seq in it whose signature does not verify (or 0), and
 * sets *bad_root to the lowest whose root does not match and *bad_mac to the lowest whose
 * mac alone is wrong (or 0). */
static int64_t sig_check(const struct sigbatch *b, int64_t *bad_root, int64_t *bad_mac)
{
	int64_t bad = 0;

	*bad_root = *bad_mac = 0;
	for (size_t i = 0; i < b->n; i++) {
		int64_t seq = b->v[i].cp.seq;

		if (b->v[i].sig && !audit_checkpoint_valid(&b->v[i].cp))
			lowest(&bad, seq);
		else if (!root_matches(&b->v[i]))
			lowest(bad_root, seq);
		else if (b->v[i].mac_bad)
			lowest(bad_mac, seq);
	}
	return bad;
}

static void sig_bad(struct sigpool *p, int64_t bad, int64_t bad_root, int64_t bad_mac)
{
	lowest(&p->bad_seq, bad);
	lowest(&p->bad_root, bad_root);
	lowest(&p->bad_mac, bad_mac);
}

static void *sig_worker(void *arg)
{
	struct sigpool *p = arg;
	struct sigbatch batch, *b = &batch;
	int64_t bad, bad_root, bad_mac;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->count && !p->done)
			pthread_cond_wait(&p->have, &p->mu);
		if (!p->count) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		*b = p->q[p->head];
		p->head = (p->head + 1) % SIG_QUEUE;
		p->count--;
		pthread_mutex_unlock(&p->mu);
		bad = sig_check(b, &bad_root, &bad_mac);
		pthread_mutex_lock(&p->mu);
		sig_bad(p, bad, bad_root, bad_mac);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* Starts the workers; with none (one CPU, or threads unavailable) signatures are checked
 * on the calling thread. */
static void sigpool_start(struct sigpool *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > SIG_THREADS_MAX ? SIG_THREADS_MAX : (int)cpus;

	memset(p, 0, sizeof(*p));
	if (cpus < 2 || pthread_mutex_init(&p->mu, NULL))
		return;
	pthread_cond_init(&p->have, NULL);
	for (int i = 0; i < want; i++)
		if (!pthread_create(&p->th[p->nth], NULL, sig_worker, p))
			p->nth++;
	if (!p->nth) {
		pthread_cond_destroy(&p->have);
		pthread_mutex_destroy(&p->mu);
	}
}

/* Hands the batch being filled to the workers (or checks it here without any). */
static void sigpool_flush(struct sigpool *p)
{
	if (!p->fill.n)
		return;
	if (p->nth)
		pthread_mutex_lock(&p->mu);
	if (!p->nth || p->count == SIG_QUEUE) {
		/* No workers, or they are behind: check this batch here rather than wait. */
		int64_t bad, bad_root, bad_mac;

		if (p->nth)
			pthread_mutex_unlock(&p->mu);
		bad = sig_check(&p->fill, &bad_root, &bad_mac);
		if (p->nth)
			pthread_mutex_lock(&p->mu);
		sig_bad(p, bad, bad_root, bad_mac);
	} else {
		p->q[(p->head + p->count) % SIG_QUEUE] = p->fill;
		p->count++;
		pthread_cond_signal(&p->have);
	}
	if (p->nth)
		pthread_mutex_unlock(&p->mu);
	p->fill.n = 0;
}

/* Queues cp; with tree, also the check that its root is the root of tree (whose size is
 * cp's seq). A tree with more subtrees than a batch item holds is folded here. */
static void sigpool_push(struct sigpool *p, const struct audit_checkpoint *cp,
			 const struct merkle_stream *tree, int sig, int mac_bad)
{
	struct sigitem *it = &p->fill.v[p->fill.n++];

	it->cp = *cp;
	it->sig = sig;
	it->mac_bad = mac_bad;
	it->nf = -1;
	if (tree && cp->version == 2) {
		it->nf = 0;
		for (int level = 0; level < 64 && it->nf <= FRONTIER_MAX; level++) {
			if (!(((uint64_t)tree->size >> level) & 1))
				continue;
			if (it->nf == FRONTIER_MAX) {
				it->nf = 1;
				merkle_stream_root(tree, it->f[0]);
				break;
			}
			memcpy(it->f[it->nf++], tree->stack[level], MERKLE_HASH);
		}
	}
	if (p->fill.n == SIG_BATCH)
		sigpool_flush(p);
}

/* Waits for every queued check. Returns the lowest bad seq, or 0. */
static int64_t sigpool_finish(struct sigpool *p)
{
	sigpool_flush(p);
	if (!p->nth)
		return p->bad_seq;
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	pthread_cond_broadcast(&p->have);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->have);
	pthread_mutex_destroy(&p->mu);
	p->nth = 0;
	return p->bad_seq;
}

/* Checks one checkpoint against the record it names (hash of seq, or NULL if missing) and
 * the Merkle tree of the records up to it (tree, or NULL when unknown); the fold of its root
 * goes to the pool, and so does its signature unless its mac verifies under mk (only the
 * key's holder can make either; the mac costs a hash, the signature an Ed25519 check). */
static void check_checkpoint(sqlite3_stmt *cst, const unsigned char *pk, const unsigned char *hash,
			     const struct merkle_stream *tree, const unsigned char *mk,
			     struct sigpool *pool, struct audit_verify_result *res)
{
	unsigned char mac[AUDIT_MAC_BYTES];
	struct audit_checkpoint cp;
	int sig = 1, mac_bad = 0;

	if (audit_read_checkpoint(cst, &cp)) {
		tampered(res, cp.seq, "the checkpoint at seq %lld is malformed", (long long)cp.seq);
		return;
	}
	res->checkpoints++;
	if (mk && sqlite3_column_bytes(cst, 6) == AUDIT_MAC_BYTES) {
		audit_checkpoint_mac(mk, &cp, mac);
		mac_bad = sig = crypto_verify_32(mac, sqlite3_column_blob(cst, 6)) != 0;
	} else if (mk && sqlite3_column_type(cst, 6) != SQLITE_NULL) {
		mac_bad = 1;
	}
	res->signatures += sig;
	sigpool_push(pool, &cp, hash && tree ? tree : NULL, sig, mac_bad);
	if (pk && memcmp(cp.public_key, pk, AUDIT_PK_BYTES)) {
		tampered(res, cp.seq, "the checkpoint at seq %lld is signed by another key",
			 (long long)cp.seq);
	} else if (!hash) {
		tampered(res, cp.seq, "the checkpoint at seq %lld names a record that is missing",
			 (long long)cp.seq);
	} else if (memcmp(cp.hash, hash, AUDIT_HASH_BYTES)) {
		tampered(res, cp.seq,
			 "record %lld does not match its signed checkpoint (a record up to it was "
			 "changed and the chain recomputed)",
			 (long long)cp.seq);
	} else if (cp.version == 2 && !tree) {
		tampered(res, cp.seq,
			 "the Merkle root signed at seq %lld is not the root of records 1 to %lld",
			 (long long)cp.seq, (long long)cp.seq);
	} else if (!res->bad_seq || cp.seq < res->bad_seq) {
		res->head = cp;
	}
}

/* After a bad signature: the newest checkpoint below res->bad_seq whose signature
 * verifies and whose hash is the record's becomes the head (seq 0 if none). */
static int find_head(sqlite3 *db, struct audit_verify_result *res, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	memset(&res->head, 0, sizeof(res->head));
	if (st_sql_prepare(db, &st,
			    "SELECT c.seq, c.ts_ms, c.hash, c.public_key, c.signature, c.root"
			    " FROM checkpoints c"
			    " JOIN records r ON r.seq = c.seq AND r.hash = c.hash WHERE c.seq < ?"
			    " ORDER BY c.seq DESC",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, res->bad_seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_checkpoint cp;

		if (!audit_read_checkpoint(st, &cp) && audit_checkpoint_valid(&cp)) {
			res->head = cp;
			break;
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

/* A covered row that is wrong (cover.c): rows no record wrote are named at the last seq. */
static void cover_bad(void *ctx, int64_t seq, const char *msg)
{
	struct audit_verify_result *res = ctx;

	tampered(res, seq ? seq : res->head_seq ? res->head_seq : 1, "%s", msg);
}

/* Pending rows must carry steward's mac: a forged one could become a record. */
static int check_pending(sqlite3 *db, const unsigned char *mk, struct audit_verify_result *res,
			 struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (st_sql_prepare(db, &st,
			    "SELECT id, " AUDIT_PENDING_COLUMNS ", mac FROM pending ORDER BY id", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		char msg[128];

		if (audit_pending_valid(mk, id, st, 1))
			continue;
		snprintf(msg, sizeof(msg), "pending row %lld was not written by steward",
			 (long long)id);
		cover_bad(res, 0, msg);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_verify_db(struct sqlite3 *db, const struct audit_checkpoint *anchor,
		    struct audit_verify_result *res, struct st_error *err)
{
	unsigned char prev[AUDIT_HASH_BYTES] = {0}, hash[AUDIT_HASH_BYTES],
		pk[AUDIT_PK_BYTES], *pkp = NULL, prev_mac[AUDIT_MAC_BYTES] = {0},
		mac[AUDIT_MAC_BYTES], covers[AUDIT_HASH_BYTES];
	char pkhex[2 * AUDIT_PK_BYTES + 8];
	unsigned char nodes[64][MERKLE_HASH];
	sqlite3_stmt *st = NULL, *cst = NULL, *mst = NULL, *vst = NULL;
	struct sigpool *pool = st_malloc(sizeof(*pool));
	struct merkle_stream *tree = st_malloc(sizeof(*tree));
	const unsigned char *mk = audit_mac_key(db);
	crypto_generichash_state keyed;
	int ret = -1, rc, crc, mrc, vrc, anchor_seen = 0, txn = 0;
	int64_t bad_sig, npos = 0;
	size_t got = 0;

	memset(res, 0, sizeof(*res));
	if (!pool || !tree) {
		st_free(pool);
		st_free(tree);
		if (mk)
			audit_mac_key_done(db);
		return st_error_oom(err);
	}
	if (mk)
		audit_mac_keyed(&keyed, mk);
	merkle_stream_init(tree);
	sigpool_start(pool);
	/* One read transaction, so records and checkpoints are read from one snapshot. */
	if (sqlite3_get_autocommit(db)) {
		if (st_sql_exec(db, "BEGIN", err))
			goto out;
		txn = 1;
	}
	if (audit_meta_get(db, "public_key", pkhex, sizeof(pkhex), err))
		goto out;
	if (pkhex[0]) {
		if (sodium_hex2bin(pk, sizeof(pk), pkhex, strlen(pkhex), NULL, &got, NULL) ||
		    got != sizeof(pk)) {
			tampered(res, 1, "the log's public key is malformed");
		} else {
			pkp = pk;
		}
	}
	if (st_sql_prepare(db, &st,
			    "SELECT seq, ts_ms, actor, uid, role, action, object, purpose, outcome,"
			    " reason, counts, host, pid, version, pii, prev, hash, covers, mac FROM records"
			    " ORDER BY seq",
			    err) ||
	    st_sql_prepare(db, &cst,
			    "SELECT " AUDIT_CHECKPOINT_COLUMNS ", mac FROM checkpoints ORDER BY seq",
			    err) ||
	    st_sql_prepare(db, &mst, "SELECT pos, hash FROM merkle ORDER BY pos", err) ||
	    st_sql_prepare(db, &vst,
			    "SELECT seq, tbl, key, digest FROM covered ORDER BY seq, tbl, key", err))
		goto out;
	crc = sqlite3_step(cst);
	mrc = sqlite3_step(mst);
	vrc = sqlite3_step(vst);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r = {0};
		int bad = 0;
		int64_t want = res->head_seq + 1;

		r.seq = col_int(st, 0, &bad);
		r.ts_ms = col_int(st, 1, &bad);
		r.actor = col_text(st, 2, &bad);
		r.uid = col_int(st, 3, &bad);
		r.role = col_text(st, 4, &bad);
		r.action = col_text(st, 5, &bad);
		r.object = col_text(st, 6, &bad);
		r.purpose = col_text(st, 7, &bad);
		r.outcome = col_text(st, 8, &bad);
		r.reason = col_text(st, 9, &bad);
		r.counts = col_text(st, 10, &bad);
		r.host = col_text(st, 11, &bad);
		r.pid = col_int(st, 12, &bad);
		r.version = col_text(st, 13, &bad);
		r.pii = (int)col_int(st, 14, &bad);
		res->records++;
		if (r.seq != want) {
			tampered(res, want, r.seq > want ? "record %lld is missing"
							 : "record %lld is out of order",
				 (long long)want);
		} else if (bad || sqlite3_column_bytes(st, 15) != AUDIT_HASH_BYTES ||
			   sqlite3_column_bytes(st, 16) != AUDIT_HASH_BYTES) {
			tampered(res, r.seq, "record %lld is malformed", (long long)r.seq);
		} else if (memcmp(sqlite3_column_blob(st, 15), prev, AUDIT_HASH_BYTES)) {
			tampered(res, r.seq, "record %lld does not link to record %lld",
				 (long long)r.seq, (long long)r.seq - 1);
		} else {
			audit_record_hash(&r, prev, hash);
			if (memcmp(hash, sqlite3_column_blob(st, 16), AUDIT_HASH_BYTES))
				tampered(res, r.seq, "record %lld was changed", (long long)r.seq);
		}
		/* Later records chain from what is stored, so one change names one record. */
		if (sqlite3_column_bytes(st, 16) == AUDIT_HASH_BYTES)
			memcpy(prev, sqlite3_column_blob(st, 16), AUDIT_HASH_BYTES);
		res->head_seq = r.seq > res->head_seq ? r.seq : res->head_seq + 1;
		/* The rows this record covers: the entries of covered under its seq. */
		{
			crypto_hash_sha256_state ch;
			int has = 0, stored = sqlite3_column_type(st, 17) != SQLITE_NULL;

			/* Entries under a seq with no record: a missing one (named already) or
			 * made up. */
			for (; vrc == SQLITE_ROW && sqlite3_column_int64(vst, 0) < r.seq;
			     vrc = sqlite3_step(vst)) {
				int64_t at = sqlite3_column_int64(vst, 0);

				tampered(res, at > 0 ? at : 1,
					 "covered rows name record %lld, which is not in the log",
					 (long long)at);
			}
			for (; vrc == SQLITE_ROW && sqlite3_column_int64(vst, 0) == r.seq;
			     vrc = sqlite3_step(vst)) {
				const char *t = (const char *)sqlite3_column_text(vst, 1);

				if (!has)
					audit_covers_init(&ch);
				has = 1;
				audit_covers_add(&ch, t ? t : "", sqlite3_column_blob(vst, 2),
						 (size_t)sqlite3_column_bytes(vst, 2),
						 sqlite3_column_bytes(vst, 3) == AUDIT_HASH_BYTES
							 ? sqlite3_column_blob(vst, 3)
							 : NULL);
			}
			if (has) /* most records cover no row: no digest to make */
				crypto_hash_sha256_final(&ch, covers);
			if (stored && sqlite3_column_bytes(st, 17) != AUDIT_HASH_BYTES)
				tampered(res, r.seq, "record %lld is malformed", (long long)r.seq);
			else if (has != stored ||
				 (has && memcmp(covers, sqlite3_column_blob(st, 17), AUDIT_HASH_BYTES)))
				tampered(res, r.seq, "the list of rows record %lld covers was changed",
					 (long long)r.seq);
		}
		/* The mac: only the holder of audit.key can make it. */
		if (mk) {
			if (sqlite3_column_bytes(st, 18) != AUDIT_MAC_BYTES) {
				tampered(res, r.seq, "record %lld is malformed", (long long)r.seq);
			} else if (sqlite3_column_bytes(st, 16) == AUDIT_HASH_BYTES &&
				   (sqlite3_column_type(st, 17) == SQLITE_NULL ||
				    sqlite3_column_bytes(st, 17) == AUDIT_HASH_BYTES)) {
				audit_record_mac_keyed(&keyed, r.seq, prev_mac,
						       sqlite3_column_blob(st, 16),
						 sqlite3_column_type(st, 17) == SQLITE_NULL
							 ? NULL
							 : sqlite3_column_blob(st, 17),
						 mac);
				if (crypto_verify_32(mac, sqlite3_column_blob(st, 18)))
					tampered(res, r.seq,
						 "record %lld does not verify under the audit key (it "
						 "was rewritten and its hash recomputed)",
						 (long long)r.seq);
			}
			if (sqlite3_column_bytes(st, 18) == AUDIT_MAC_BYTES)
				memcpy(prev_mac, sqlite3_column_blob(st, 18), AUDIT_MAC_BYTES);
		}
		/* The Merkle tree is recomputed from the stored hashes, and the nodes stored
		 * for proofs must be the same. Nodes beyond the last record are not read: the
		 * next append replaces them (a cut tail is caught by an anchor). */
		for (int i = 0, k = merkle_stream_push(tree, prev, nodes); i < k; i++, npos++) {
			while (mrc == SQLITE_ROW && sqlite3_column_int64(mst, 0) < npos)
				mrc = sqlite3_step(mst);
			if (mrc == SQLITE_ROW && sqlite3_column_int64(mst, 0) == npos &&
			    sqlite3_column_bytes(mst, 1) == MERKLE_HASH &&
			    !memcmp(sqlite3_column_blob(mst, 1), nodes[i], MERKLE_HASH)) {
				mrc = sqlite3_step(mst);
			} else {
				tampered(res, r.seq, "the stored Merkle tree does not match record %lld",
					 (long long)r.seq);
			}
		}
		while (crc == SQLITE_ROW && sqlite3_column_int64(cst, 0) <= r.seq) {
			int match = sqlite3_column_int64(cst, 0) == r.seq;

			check_checkpoint(cst, pkp, match ? prev : NULL,
					 match && tree->size == r.seq ? tree : NULL, mk, pool, res);
			crc = sqlite3_step(cst);
		}
		if (anchor && anchor->seq == r.seq) {
			anchor_seen = 1;
			if (memcmp(anchor->hash, prev, AUDIT_HASH_BYTES))
				tampered(res, r.seq, "record %lld differs from the anchor",
					 (long long)r.seq);
		}
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	for (; crc == SQLITE_ROW; crc = sqlite3_step(cst))
		check_checkpoint(cst, pkp, NULL, NULL, mk, pool, res);
	/* Covered entries under a record that does not exist (yet): not steward's. */
	if (vrc == SQLITE_ROW)
		tampered(res, sqlite3_column_int64(vst, 0),
			 "covered rows name record %lld, which is not in the log",
			 (long long)sqlite3_column_int64(vst, 0));
	if (crc != SQLITE_DONE || (mrc != SQLITE_ROW && mrc != SQLITE_DONE) ||
	    (vrc != SQLITE_ROW && vrc != SQLITE_DONE)) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	if (audit_cover_check(db, cover_bad, res, err) || (mk && check_pending(db, mk, res, err)))
		goto out;
	bad_sig = sigpool_finish(pool);
	/* The head's signature is checked even when its mac verified: it is what anchors and
	 * proofs hand to others. */
	if (res->head.seq && !audit_checkpoint_valid(&res->head) &&
	    (!bad_sig || res->head.seq < bad_sig))
		bad_sig = res->head.seq;
	res->signatures += res->head.seq != 0;
	/* A wrong mac on a checkpoint whose signature and root are right is said last. */
	if (pool->bad_mac)
		tampered(res, pool->bad_mac,
			 "the checkpoint at seq %lld does not verify under the audit key",
			 (long long)pool->bad_mac);
	if (pool->bad_root)
		tampered(res, pool->bad_root,
			 "the Merkle root signed at seq %lld is not the root of records 1 to %lld",
			 (long long)pool->bad_root, (long long)pool->bad_root);
	/* A bad signature is the first thing to say about its seq, whatever else is wrong. */
	if (bad_sig && (!res->bad_seq || bad_sig <= res->bad_seq)) {
		res->bad_seq = 0;
		tampered(res, bad_sig, "the checkpoint signature at seq %lld does not verify",
			 (long long)bad_sig);
	}
	if (res->bad_seq && res->head.seq >= res->bad_seq && find_head(db, res, err))
		goto out;
	if (anchor) {
		if (pkp && memcmp(anchor->public_key, pkp, AUDIT_PK_BYTES))
			tampered(res, 1, "the log is signed by another key than the anchor's");
		else if (!anchor_seen)
			tampered(res, anchor->seq,
				 "the log ends at seq %lld, before the anchor's seq %lld: records "
				 "were removed",
				 (long long)res->head_seq, (long long)anchor->seq);
		else if (!res->bad_seq)
			res->anchored = 1;
	}
	ret = res->bad_seq ? 1 : 0;
out:
	if (mk) {
		sodium_memzero(&keyed, sizeof(keyed));
		audit_mac_key_done(db);
	}
	sodium_memzero(mac, sizeof(mac));
	sigpool_finish(pool);
	st_free(pool);
	st_free(tree);
	sqlite3_finalize(st);
	sqlite3_finalize(cst);
	sqlite3_finalize(mst);
	sqlite3_finalize(vst);
	if (txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return ret;
}
