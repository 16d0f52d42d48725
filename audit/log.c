/* audit.db: one hash-chained record per command, Ed25519-signed checkpoints and queries
 * over the log; verifying the chain and anchors is in verify.c. */
#include "audit.h"
#include "audit_int.h"
#include "alloc.h"
#include "embedded.h"
#include "sql.h"
#include "file.h"
#include "merkle.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AUDIT_SCHEMA_VERSION 2
#define SK_BYTES crypto_sign_SECRETKEYBYTES
#define RECORD_DOMAIN "steward.audit.v1"
#define CHECKPOINT_DOMAIN "steward.checkpoint.v1"
#define CHECKPOINT_DOMAIN_V2 "steward.checkpoint.v2"
#define NULL_LEN 0xffffffffu

struct audit_log {
	sqlite3 *db;
	char *path, *key_path;
	char version[32];
	char host[256];
	long every;
	unsigned char *sk; /* sodium_malloc'd signing key, read-only */
	unsigned char pk[AUDIT_PK_BYTES];
	int64_t pending_id; /* 0 when no command is pending */
	int pending_pii;
};

static const char *const outcome_names[] = {"ok", "denied", "error"};

const char *audit_outcome_name(int outcome)
{
	if (outcome < 0 || outcome > AUDIT_ERROR)
		return "?";
	return outcome_names[outcome];
}

int64_t audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sqlite3 *audit_db(struct audit_log *log)
{
	return log->db;
}

/* ---- Canonical encoding -------------------------------------------------------------- */

static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	crypto_hash_sha256_update(h, b, sizeof(b));
}

static void put_str(crypto_hash_sha256_state *h, const char *s)
{
	unsigned char b[4];
	uint32_t n = s ? (uint32_t)strlen(s) : NULL_LEN;

	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
	crypto_hash_sha256_update(h, b, sizeof(b));
	if (s)
		crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

/* The record hash: SHA-256 over the domain tag, seq, prev and every column in table order,
 * integers as 8 big-endian bytes and strings as a 4-byte big-endian length (0xffffffff
 * for NULL) and their bytes. docs/audit.md gives the same in Python. */
void audit_record_hash(const struct audit_row *r, const unsigned char *prev, unsigned char *out)
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)RECORD_DOMAIN, sizeof(RECORD_DOMAIN));
	put_u64(&h, (uint64_t)r->seq);
	crypto_hash_sha256_update(&h, prev, AUDIT_HASH_BYTES);
	put_u64(&h, (uint64_t)r->ts_ms);
	put_str(&h, r->actor);
	put_u64(&h, (uint64_t)r->uid);
	put_str(&h, r->role);
	put_str(&h, r->action);
	put_str(&h, r->object);
	put_str(&h, r->purpose);
	put_str(&h, r->outcome);
	put_str(&h, r->reason);
	put_str(&h, r->counts);
	put_str(&h, r->host);
	put_u64(&h, (uint64_t)r->pid);
	put_str(&h, r->version);
	put_u64(&h, (uint64_t)(r->pii != 0));
	crypto_hash_sha256_final(&h, out);
}

static size_t put_be64(unsigned char *at, int64_t v)
{
	for (int i = 0; i < 8; i++)
		at[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
	return 8;
}

/* The signed message of a checkpoint: domain tag, seq, hash and time; in format 2 also the
 * tree size and root. */
static void checkpoint_message(const struct audit_checkpoint *cp, unsigned char *msg, size_t *len)
{
	size_t n = cp->version == 2 ? sizeof(CHECKPOINT_DOMAIN_V2) : sizeof(CHECKPOINT_DOMAIN);

	memcpy(msg, cp->version == 2 ? CHECKPOINT_DOMAIN_V2 : CHECKPOINT_DOMAIN, n);
	n += put_be64(msg + n, cp->seq);
	memcpy(msg + n, cp->hash, AUDIT_HASH_BYTES);
	n += AUDIT_HASH_BYTES;
	n += put_be64(msg + n, cp->ts_ms);
	if (cp->version == 2) {
		n += put_be64(msg + n, cp->tree_size);
		memcpy(msg + n, cp->root, AUDIT_HASH_BYTES);
		n += AUDIT_HASH_BYTES;
	}
	*len = n;
}

#define CHECKPOINT_MSG_MAX (sizeof(CHECKPOINT_DOMAIN_V2) + 24 + 2 * AUDIT_HASH_BYTES)

int audit_checkpoint_valid(const struct audit_checkpoint *cp)
{
	unsigned char msg[CHECKPOINT_MSG_MAX];
	size_t len;

	checkpoint_message(cp, msg, &len);
	return crypto_sign_verify_detached(cp->signature, msg, len, cp->public_key) == 0;
}

/* ---- Opening ------------------------------------------------------------------------- */

/* Schema 1 to 2: the Merkle tree (built from the records in the same transaction) and the
 * root of format 2 checkpoints. Fresh logs get schemas/audit-v1.sql, which has both. */
#define MIGRATE_1_2 \
	"ALTER TABLE checkpoints ADD COLUMN root BLOB;" \
	" CREATE TABLE merkle (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;"

static int migrate(sqlite3 *db, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, version = 0;

	if (st_sql_prepare(db, &st, "PRAGMA user_version", err))
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	if (version > AUDIT_SCHEMA_VERSION) {
		st_error_set(err, ST_E_SYSTEM,
			     "audit.db has schema version %d, newer than this steward supports (%d)",
			     version, AUDIT_SCHEMA_VERSION);
		goto out;
	}
	if (version == AUDIT_SCHEMA_VERSION) {
		ret = 0;
		goto out;
	}
	if (st_sql_exec(db, "BEGIN IMMEDIATE", err))
		goto out;
	/* Another process may have migrated it meanwhile: read the version again, locked. */
	sqlite3_reset(st);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (version == 0 ? st_sql_exec(db, (const char *)st_embed_audit_v1, err)
	    : version == 1 ? st_sql_exec(db, MIGRATE_1_2, err) || merkle_build(db, err)
			   : 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (st_sql_exec(db, "PRAGMA user_version = 2", err) || st_sql_exec(db, "COMMIT", err)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_meta_get(sqlite3 *db, const char *key, char *out, size_t n, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	out[0] = '\0';
	if (st_sql_prepare(db, &st, "SELECT value FROM meta WHERE key = ?", err))
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int meta_put(sqlite3 *db, const char *key, const char *value, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (st_sql_prepare(db, &st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", err))
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Writes a new signing key to path (mode 0600, never through a symlink) and keeps it. */
static int key_create(struct audit_log *log, struct st_error *err)
{
	int fd = -1, ret = -1;

	if (crypto_sign_keypair(log->pk, log->sk)) {
		st_error_set(err, ST_E_SYSTEM, "cannot make the audit signing key");
		goto out;
	}
	fd = open(log->key_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", log->key_path,
			     strerror(errno));
		goto out;
	}
	if (write(fd, log->sk, SK_BYTES) != (ssize_t)SK_BYTES || fsync(fd)) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", log->key_path,
			     strerror(errno));
		unlink(log->key_path);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Reads the signing key, refusing one that others could read or replace. */
static int key_load(struct audit_log *log, struct st_error *err)
{
	unsigned char pk[AUDIT_PK_BYTES];
	struct stat sb;
	int fd, ret = -1;
	ssize_t n;

	fd = st_file_open_private(log->key_path, "audit signing key", &sb, err);
	if (fd < 0) {
		if (err->code == ST_E_NOTFOUND) /* a log that cannot be signed is not written */
			err->code = ST_E_DENIED;
		return -1;
	}
	n = read(fd, log->sk, SK_BYTES);
	if (n != (ssize_t)SK_BYTES || sb.st_size != (off_t)SK_BYTES) {
		st_error_set(err, ST_E_DENIED, "'%s' is not an audit signing key (it must be %d bytes)",
			     log->key_path, (int)SK_BYTES);
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(pk, log->sk);
	memcpy(log->pk, pk, sizeof(pk));
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Loads or creates the signing key and checks it against the public key the log records. */
static int setup_key(struct audit_log *log, struct st_error *err)
{
	char hex[2 * AUDIT_PK_BYTES + 1], want[2 * AUDIT_PK_BYTES + 8];
	int ret = -1;

	if (audit_meta_get(log->db, "public_key", want, sizeof(want), err))
		return -1;
	if (!want[0] && access(log->key_path, F_OK) && errno == ENOENT) {
		if (key_create(log, err))
			goto out;
	} else if (key_load(log, err)) {
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), log->pk, sizeof(log->pk));
	if (!want[0]) {
		if (meta_put(log->db, "public_key", hex, err))
			goto out;
	} else if (strcmp(want, hex)) {
		st_error_set(err, ST_E_DENIED,
			     "'%s' is not the key this audit log is signed with", log->key_path);
		goto out;
	}
	ret = 0;
out:
	sodium_mprotect_readonly(log->sk);
	return ret;
}

#define PENDING_COLUMNS \
	"ts_ms, actor, uid, role, action, object, purpose, host, pid, version, pii"

/* Reads PENDING_COLUMNS, starting at column at, into r (strings borrowed from st). */
static void pending_row(sqlite3_stmt *st, int at, struct audit_row *r)
{
	r->ts_ms = sqlite3_column_int64(st, at);
	r->actor = (const char *)sqlite3_column_text(st, at + 1);
	r->uid = sqlite3_column_int64(st, at + 2);
	r->role = (const char *)sqlite3_column_text(st, at + 3);
	r->action = (const char *)sqlite3_column_text(st, at + 4);
	r->object = (const char *)sqlite3_column_text(st, at + 5);
	r->purpose = (const char *)sqlite3_column_text(st, at + 6);
	r->host = (const char *)sqlite3_column_text(st, at + 7);
	r->pid = sqlite3_column_int64(st, at + 8);
	r->version = (const char *)sqlite3_column_text(st, at + 9);
	r->pii = sqlite3_column_int(st, at + 10);
}

static int append_locked(struct audit_log *log, struct audit_row *r, struct st_error *err);

/* Chains the rows that killed processes left in `pending` as interrupted errors. */
static int recover_pending(struct audit_log *log, struct st_error *err)
{
	sqlite3_stmt *st = NULL, *del = NULL;
	int ret = -1, rc, began = 0;

	if (st_sql_prepare(log->db, &st,
			    "SELECT id, " PENDING_COLUMNS " FROM pending ORDER BY id",
			    err) ||
	    st_sql_prepare(log->db, &del, "DELETE FROM pending WHERE id = ?", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r = {0};
		const char *host = (const char *)sqlite3_column_text(st, 8);
		pid_t pid = (pid_t)sqlite3_column_int64(st, 9);

		if (host && !strcmp(host, log->host) && (pid == getpid() || !kill(pid, 0) ||
							 errno != ESRCH))
			continue; /* still running */
		if (!began) {
			sqlite3_reset(st);
			if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
				goto out;
			began = 1;
			continue; /* re-read under the write lock */
		}
		pending_row(st, 1, &r);
		r.outcome = "error";
		r.reason = "interrupted before it ended";
		if (!r.actor || !r.role || !r.action || !r.host || !r.version) {
			st_error_set(err, ST_E_SYSTEM, "audit.db holds a malformed pending record");
			goto out;
		}
		if (append_locked(log, &r, err))
			goto out;
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(st, 0));
		if (sqlite3_step(del) != SQLITE_DONE) {
			st_sql_error(err, log->db, "cannot write the audit log");
			goto out;
		}
		sqlite3_reset(del);
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	if (began && st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

void audit_free(struct audit_log *log)
{
	if (!log)
		return;
	sqlite3_close(log->db);
	sodium_free(log->sk);
	st_free(log->path);
	st_free(log->key_path);
	st_free(log);
}

static char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = st_malloc(a + b + 2);

	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

int audit_open(struct audit_log **out, const char *state_dir, const char *version,
	       long checkpoint_every, struct st_error *err)
{
	struct audit_log *log;
	struct stat sb;
	int ret = -1;

	*out = NULL;
	if (sodium_init() < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
	log = st_calloc(1, sizeof(*log));
	if (!log)
		return st_error_oom(err);
	log->every = checkpoint_every > 0 ? checkpoint_every : AUDIT_CHECKPOINT_EVERY;
	snprintf(log->version, sizeof(log->version), "%s", version);
	if (gethostname(log->host, sizeof(log->host) - 1))
		snprintf(log->host, sizeof(log->host), "unknown");
	log->path = path_join(state_dir, "audit.db");
	log->key_path = path_join(state_dir, "audit.key");
	log->sk = sodium_malloc(SK_BYTES);
	if (!log->path || !log->key_path || !log->sk) {
		st_error_oom(err);
		goto out;
	}
	if (!lstat(log->path, &sb)) {
		if (!S_ISREG(sb.st_mode)) {
			st_error_set(err, ST_E_DENIED, "'%s' is not a regular file", log->path);
			goto out;
		}
		if (sb.st_mode & 0026) {
			st_error_set(err, ST_E_DENIED,
				     "the audit log '%s' is open to others (mode %04o); run 'chmod 600 %s'",
				     log->path, (unsigned)(sb.st_mode & 07777), log->path);
			goto out;
		}
		if (!(sb.st_mode & S_IWUSR)) {
			st_error_set(err, ST_E_DENIED,
				     "the audit log '%s' is read-only; commands that cannot be "
				     "recorded do not run",
				     log->path);
			goto out;
		}
	} else if (!lstat(log->key_path, &sb)) {
		st_error_set(err, ST_E_DENIED,
			     "the audit log '%s' is missing but its signing key is there: the log was "
			     "removed; restore it, or move '%s' away to start a new log",
			     log->path, log->key_path);
		goto out;
	} else {
		/* Created here first, so the log and its -wal and -shm files are 0600. */
		int fd = open(log->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0 && errno != EEXIST) {
			st_error_set(err, ST_E_SYSTEM, "cannot create the audit log '%s': %s",
				     log->path, strerror(errno));
			goto out;
		}
		if (fd >= 0)
			close(fd);
	}
	if (sqlite3_open_v2(log->path, &log->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		st_error_set(err, ST_E_SYSTEM, "cannot open the audit log '%s': %s", log->path,
			     log->db ? sqlite3_errmsg(log->db) : "out of memory");
		goto out;
	}
	if (sqlite3_db_readonly(log->db, "main")) {
		st_error_set(err, ST_E_DENIED, "the audit log '%s' cannot be written", log->path);
		goto out;
	}
	sqlite3_busy_timeout(log->db, 10000);
	/* Every command opens and closes the log: keeping the WAL file saves creating and
	 * syncing it anew each time. Closing still folds it into audit.db, so a copy of
	 * audit.db alone holds every record of the commands that ended. */
	sqlite3_file_control(log->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){1});
	if (st_sql_exec(log->db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			 " PRAGMA foreign_keys = ON",
			 err) ||
	    migrate(log->db, err) || setup_key(log, err) || recover_pending(log, err)) {
		st_error_prefix(err, "audit log '%s'", log->path);
		goto out;
	}
	*out = log;
	log = NULL;
	ret = 0;
out:
	audit_free(log);
	return ret;
}

/* ---- Appending ----------------------------------------------------------------------- */

/* The Merkle root of records 1..seq (the head) for a new checkpoint. Stored nodes are
 * trusted only as far as the newest valid format 2 checkpoint at or before seq vouches for
 * them: otherwise a writer of audit.db without the key could change old nodes and have
 * steward sign a root over records that never were. Without such a checkpoint, or when the
 * nodes do not fold to its root, the tree is rebuilt from the records. */
static int tree_root(struct audit_log *log, int64_t seq, unsigned char *root, struct st_error *err)
{
	struct audit_checkpoint prev;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, got = 0;

	if (st_sql_prepare(log->db, &st,
			    "SELECT " AUDIT_CHECKPOINT_COLUMNS " FROM checkpoints"
			    " WHERE root IS NOT NULL AND seq <= ? ORDER BY seq DESC LIMIT 1",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !audit_read_checkpoint(st, &prev) && prev.version == 2 &&
	    !memcmp(prev.public_key, log->pk, AUDIT_PK_BYTES) && audit_checkpoint_valid(&prev)) {
		if ((got = merkle_root_after(log->db, prev.seq, prev.root, seq, root, err)) < 0)
			goto out;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	if (!got && (merkle_build(log->db, err) || merkle_root(log->db, seq, root, err)))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Signs a format 2 checkpoint of record seq (whose hash is hash) and the Merkle tree of
 * records 1..seq, and stores it; with replace, over a checkpoint already there (a format 1
 * one of the same record). */
static int sign_head(struct audit_log *log, int64_t seq, const unsigned char *hash, int replace,
		     struct audit_checkpoint *cp, struct st_error *err)
{
	unsigned char msg[CHECKPOINT_MSG_MAX];
	sqlite3_stmt *st = NULL;
	size_t len;
	int ret = -1;

	memset(cp, 0, sizeof(*cp));
	cp->version = 2;
	cp->seq = seq;
	cp->tree_size = seq;
	cp->ts_ms = audit_now_ms();
	memcpy(cp->hash, hash, AUDIT_HASH_BYTES);
	memcpy(cp->public_key, log->pk, AUDIT_PK_BYTES);
	if (tree_root(log, seq, cp->root, err))
		goto out;
	checkpoint_message(cp, msg, &len);
	sodium_mprotect_readonly(log->sk);
	if (crypto_sign_detached(cp->signature, NULL, msg, len, log->sk)) {
		st_error_set(err, ST_E_SYSTEM, "cannot sign the audit checkpoint");
		goto out;
	}
	if (st_sql_prepare(log->db, &st,
			    replace ? "INSERT OR REPLACE INTO checkpoints"
				      " (seq, ts_ms, hash, public_key, signature, root)"
				      " VALUES (?, ?, ?, ?, ?, ?)"
				    : "INSERT OR IGNORE INTO checkpoints"
				      " (seq, ts_ms, hash, public_key, signature, root)"
				      " VALUES (?, ?, ?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, cp->seq);
	sqlite3_bind_int64(st, 2, cp->ts_ms);
	sqlite3_bind_blob(st, 3, cp->hash, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, cp->public_key, AUDIT_PK_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, cp->signature, AUDIT_SIG_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, cp->root, AUDIT_HASH_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit checkpoint");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Reads the last record's seq and hash (0 and zeros for an empty log). */
static int chain_head(sqlite3 *db, int64_t *seq, unsigned char *hash, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	*seq = 0;
	memset(hash, 0, AUDIT_HASH_BYTES);
	if (st_sql_prepare(db, &st, "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
			    err))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != AUDIT_HASH_BYTES) {
			st_error_set(err, ST_E_SYSTEM,
				     "the audit log's last record is damaged; run 'steward audit verify'");
			goto out;
		}
		*seq = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASH_BYTES);
	} else if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Appends r (seq, host, pid and version are filled here) inside an open write transaction,
 * and signs a checkpoint when r touches PII or the interval is reached. */
static int append_locked(struct audit_log *log, struct audit_row *r, struct st_error *err)
{
	unsigned char prev[AUDIT_HASH_BYTES], hash[AUDIT_HASH_BYTES];
	struct audit_checkpoint cp;
	sqlite3_stmt *st = NULL;
	int64_t last;
	int ret = -1;

	if (chain_head(log->db, &last, prev, err))
		goto out;
	r->seq = last + 1;
	audit_record_hash(r, prev, hash);
	if (st_sql_prepare(log->db, &st,
			    "INSERT INTO records (seq, ts_ms, actor, uid, role, action, object, purpose,"
			    " outcome, reason, counts, host, pid, version, pii, prev, hash)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, r->seq);
	sqlite3_bind_int64(st, 2, r->ts_ms);
	sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->uid);
	sqlite3_bind_text(st, 5, r->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->counts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, r->pid);
	sqlite3_bind_text(st, 14, r->version, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, r->pii != 0);
	sqlite3_bind_blob(st, 16, prev, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 17, hash, AUDIT_HASH_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	if (merkle_append(log->db, r->seq, prev, hash, err))
		goto out;
	if ((r->pii || r->seq % log->every == 0) && sign_head(log, r->seq, hash, 0, &cp, err))
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static void row_from_entry(struct audit_log *log, const struct audit_entry *e,
			   struct audit_row *r)
{
	memset(r, 0, sizeof(*r));
	r->ts_ms = audit_now_ms();
	r->actor = e->actor->name;
	r->uid = (int64_t)e->actor->uid;
	r->role = audit_role_name(e->actor->role);
	r->action = e->action;
	r->object = e->object;
	r->purpose = e->purpose;
	r->host = log->host;
	r->pid = (int64_t)getpid();
	r->version = log->version;
	r->pii = audit_action_touches_pii(e->action);
}

int audit_begin(struct audit_log *log, const struct audit_entry *e, struct st_error *err)
{
	struct audit_row r;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (log->pending_id)
		return st_error_set(err, ST_E_SYSTEM, "a command is already being recorded");
	row_from_entry(log, e, &r);
	if (st_sql_prepare(log->db, &st,
			    "INSERT INTO pending (" PENDING_COLUMNS ")"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, r.ts_ms);
	sqlite3_bind_text(st, 2, r.actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r.uid);
	sqlite3_bind_text(st, 4, r.role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r.object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r.purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r.host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r.pid);
	sqlite3_bind_text(st, 10, r.version, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, r.pii);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	log->pending_id = sqlite3_last_insert_rowid(log->db);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_end(struct audit_log *log, int outcome, const char *reason, const char *counts,
	      struct st_error *err)
{
	sqlite3_stmt *st = NULL, *del = NULL;
	struct audit_row r = {0};
	int ret = -1, began = 0;

	if (!log->pending_id)
		return st_error_set(err, ST_E_SYSTEM, "no command is being recorded");
	if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (st_sql_prepare(log->db, &st,
			    "SELECT " PENDING_COLUMNS " FROM pending WHERE id = ?",
			    err) ||
	    st_sql_prepare(log->db, &del, "DELETE FROM pending WHERE id = ?", err))
		goto out;
	sqlite3_bind_int64(st, 1, log->pending_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_error_set(err, ST_E_SYSTEM, "the pending audit record vanished");
		goto out;
	}
	pending_row(st, 0, &r);
	r.outcome = audit_outcome_name(outcome);
	r.reason = reason;
	r.counts = counts;
	if (append_locked(log, &r, err))
		goto out;
	sqlite3_bind_int64(del, 1, log->pending_id);
	if (sqlite3_step(del) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	if (st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	log->pending_id = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int audit_append(struct audit_log *log, const struct audit_entry *e, int outcome,
		 const char *reason, const char *counts, struct st_error *err)
{
	struct audit_row r;
	int ret = -1, began = 0;

	row_from_entry(log, e, &r);
	r.outcome = audit_outcome_name(outcome);
	r.reason = reason;
	r.counts = counts;
	if (!sqlite3_get_autocommit(log->db)) /* the caller's transaction holds the lock */
		return append_locked(log, &r, err);
	if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (append_locked(log, &r, err) || st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* ---- Checkpoints --------------------------------------------------------------------- */

int audit_read_checkpoint(sqlite3_stmt *st, struct audit_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->seq = sqlite3_column_int64(st, 0);
	cp->ts_ms = sqlite3_column_int64(st, 1);
	cp->version = 1;
	if (sqlite3_column_bytes(st, 2) != AUDIT_HASH_BYTES ||
	    sqlite3_column_bytes(st, 3) != AUDIT_PK_BYTES ||
	    sqlite3_column_bytes(st, 4) != AUDIT_SIG_BYTES)
		return -1;
	memcpy(cp->hash, sqlite3_column_blob(st, 2), AUDIT_HASH_BYTES);
	memcpy(cp->public_key, sqlite3_column_blob(st, 3), AUDIT_PK_BYTES);
	memcpy(cp->signature, sqlite3_column_blob(st, 4), AUDIT_SIG_BYTES);
	if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
		if (sqlite3_column_bytes(st, 5) != AUDIT_HASH_BYTES)
			return -1;
		cp->version = 2;
		cp->tree_size = cp->seq;
		memcpy(cp->root, sqlite3_column_blob(st, 5), AUDIT_HASH_BYTES);
	}
	return 0;
}

int audit_checkpoint_head(struct sqlite3 *db, struct audit_checkpoint *cp, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	memset(cp, 0, sizeof(*cp));
	if (st_sql_prepare(db, &st,
			    "SELECT " AUDIT_CHECKPOINT_COLUMNS " FROM checkpoints"
			    " ORDER BY seq DESC LIMIT 1",
			    err))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && audit_read_checkpoint(st, cp)) {
		st_error_set(err, ST_E_SYSTEM, "the newest audit checkpoint is damaged");
		goto out;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int audit_checkpoint(struct audit_log *log, struct audit_checkpoint *cp, struct st_error *err)
{
	unsigned char hash[AUDIT_HASH_BYTES];
	int64_t seq;
	int ret = -1, began = 0;

	if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (chain_head(log->db, &seq, hash, err) || audit_checkpoint_head(log->db, cp, err))
		goto out;
	if (seq && (cp->seq != seq || cp->version < 2) &&
	    sign_head(log, seq, hash, cp->seq == seq, cp, err))
		goto out;
	if (st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int audit_write_json(const char *path, struct json_t *doc, int wipe, struct st_error *err)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	size_t len = text ? strlen(text) : 0;
	char *nl = text ? realloc(text, len + 2) : NULL;
	int ret = -1;

	if (!nl) {
		st_error_oom(err);
		goto out;
	}
	text = nl;
	memcpy(text + len, "\n", 2);
	ret = st_file_write_private(path, text, len + 1, err);
out:
	if (text && wipe)
		sodium_memzero(text, len);
	free(text);
	return ret;
}

/* ---- Queries ------------------------------------------------------------------------- */

int audit_query(struct sqlite3 *db, const struct audit_filter *f,
		int (*cb)(void *ctx, const struct audit_row *row), void *ctx, struct st_error *err)
{
	char sql[1024];
	char action_like[128];
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, k = 1;
	size_t len;

	len = (size_t)snprintf(sql, sizeof(sql),
			       "SELECT seq, ts_ms, actor, uid, role, action, object, purpose, outcome,"
			       " reason, counts, host, pid, version, pii FROM records WHERE 1");
#define ADD(cond) len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s", cond)
	if (f->since_ms)
		ADD(" AND ts_ms >= ?");
	if (f->until_ms)
		ADD(" AND ts_ms < ?");
	if (f->actor)
		ADD(" AND actor = ?");
	if (f->action)
		ADD(" AND (action = ? OR action LIKE ? ESCAPE '\\')");
	if (f->object)
		ADD(" AND object = ?");
	if (f->outcome)
		ADD(" AND outcome = ?");
	if (f->pii_only)
		ADD(" AND pii = 1");
	ADD(" ORDER BY seq");
	if (f->limit > 0)
		ADD(" LIMIT ?");
#undef ADD
	if (st_sql_prepare(db, &st, sql, err))
		goto out;
	if (f->since_ms)
		sqlite3_bind_int64(st, k++, f->since_ms);
	if (f->until_ms)
		sqlite3_bind_int64(st, k++, f->until_ms);
	if (f->actor)
		sqlite3_bind_text(st, k++, f->actor, -1, SQLITE_STATIC);
	if (f->action) {
		size_t n = strlen(f->action);

		/* "pii.*" matches every pii action; other text matches only itself. */
		action_like[0] = '\0';
		if (n >= 2 && n < sizeof(action_like) && !strcmp(f->action + n - 2, ".*"))
			snprintf(action_like, sizeof(action_like), "%.*s.%%", (int)(n - 2),
				 f->action);
		sqlite3_bind_text(st, k++, f->action, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, action_like, -1, SQLITE_STATIC);
	}
	if (f->object)
		sqlite3_bind_text(st, k++, f->object, -1, SQLITE_STATIC);
	if (f->outcome)
		sqlite3_bind_text(st, k++, f->outcome, -1, SQLITE_STATIC);
	if (f->limit > 0)
		sqlite3_bind_int64(st, k++, f->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r;

		r.seq = sqlite3_column_int64(st, 0);
		r.ts_ms = sqlite3_column_int64(st, 1);
		r.actor = (const char *)sqlite3_column_text(st, 2);
		r.uid = sqlite3_column_int64(st, 3);
		r.role = (const char *)sqlite3_column_text(st, 4);
		r.action = (const char *)sqlite3_column_text(st, 5);
		r.object = (const char *)sqlite3_column_text(st, 6);
		r.purpose = (const char *)sqlite3_column_text(st, 7);
		r.outcome = (const char *)sqlite3_column_text(st, 8);
		r.reason = (const char *)sqlite3_column_text(st, 9);
		r.counts = (const char *)sqlite3_column_text(st, 10);
		r.host = (const char *)sqlite3_column_text(st, 11);
		r.pid = sqlite3_column_int64(st, 12);
		r.version = (const char *)sqlite3_column_text(st, 13);
		r.pii = sqlite3_column_int(st, 14);
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
