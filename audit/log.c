/* audit.db: one hash-chained record per command, each bound to audit.key by a keyed mac,
 * Ed25519-signed checkpoints, the refusal of a missing, emptied or replaced log and its
 * audited recovery, and queries over the log; verifying is in verify.c. */
/* SHA256_Init and co. are deprecated in OpenSSL 3 in favour of EVP, whose per-call cost is
 * more than hashing a whole record; they run the CPU's SHA instructions (as merkle.c does). */
#define OPENSSL_SUPPRESS_DEPRECATED
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
#include <limits.h>
#include <pthread.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AUDIT_SCHEMA_VERSION 6
#define STR_(x) #x
#define STR(x) STR_(x)
#define SK_BYTES crypto_sign_SECRETKEYBYTES
#define RECORD_DOMAIN "steward.audit.v1"
#define CHECKPOINT_DOMAIN "steward.checkpoint.v1"
#define CHECKPOINT_DOMAIN_V2 "steward.checkpoint.v2"
#define MAC_DOMAIN "steward.mac.v1"
#define CHECKPOINT_MAC_DOMAIN "steward.checkpoint-mac.v1"
#define PENDING_DOMAIN "steward.pending.v1"
#define KDF_CONTEXT "stewaudt" /* crypto_kdf context of the mac subkey, id 1 */
#define KDF_MAC_ID 1
#define NULL_LEN 0xffffffffu
#define RECOVER_SEE "(see 'steward audit recover --help')"
/* Frames (pages) the WAL may hold before a command's end folds it into audit.db: each
 * command adds about five, and the next open reads them all back. */
#define WAL_FOLD_FRAMES 64
/* The same when logs of the file share a writer in this process (the server's workers):
 * there commits come many a second, each fold syncs two files under the write lock, and
 * the next command to open the log alone reads at most this many frames (4 MiB) back. */
#define WAL_FOLD_FRAMES_SHARED 1024
/* What a command writes as zeros into an empty WAL before its first commit (wal_prepare()):
 * the frames (4 KiB pages) of WAL_FOLD_FRAMES and a command more. journal_size_limit is
 * WAL_KEEP_BYTES, above it, so that SQLite does not cut the file back at that commit. */
#define WAL_PREPARE_BYTES ((WAL_FOLD_FRAMES + 16) * (4096 + 24) + 32)
#define WAL_KEEP_BYTES 524288
#define BUSY_MS 10000 /* how long a command waits for another one's write */

struct audit_log {
	sqlite3 *db;
	char *path, *key_path;
	char version[32];
	char host[256];
	long every;
	unsigned char *sk; /* sodium_malloc'd signing key, read-only */
	unsigned char *mk; /* sodium_malloc'd mac subkey, no access but while in use */
	int mk_ready, mk_users;
	int sk_prot, mk_prot; /* the protection each has now (enum prot): each change is a syscall */
	unsigned char pk[AUDIT_PK_BYTES];
	int64_t pending_id; /* 0 when no command is pending */
	int pending_pii;
	int noting;             /* the covered-row triggers are set up (audit_cover_setup()) */
	int state;              /* enum audit_log_state: why the log cannot be used */
	int opened;             /* audit_open() succeeded: closing makes the WAL durable */
	int wal_frames;         /* frames in the WAL after the last commit (the WAL hook) */
	int unsynced;           /* a commit since the last sync of the WAL */
	uint64_t commit_gen;    /* the writer's count of commits at this log's last one */
	struct writer *writer;  /* shared with the other logs of this file in this process */
	struct audit_log *next; /* in open_logs */
};

/* The logs of one file in this process (the server's workers) share a writer: threads take
 * turns at the file's write lock on a mutex, which wakes the next one at once, rather than
 * in SQLite's busy handler, which sleeps between tries (up to 100 ms a try) and serialises
 * them all the same; processes still meet at SQLite's lock. And they share syncs (group
 * commit): a thread that needs its commit durable waits for a sync in progress, and one
 * sync covers every commit made before it started. */
struct writer {
	pthread_mutex_t mu;      /* taken around each record's write transaction */
	pthread_mutex_t sync_mu; /* guards what follows */
	pthread_cond_t synced;   /* a sync ended */
	uint64_t committed;      /* commits to the file by these logs so far */
	uint64_t durable;        /* the commits a finished sync covers */
	int syncing;             /* a sync is in progress */
	int refs;
};

/* The open logs, so that verifying an open log's database finds its mac subkey, and that a
 * second log of one file in this process (the server's workers) is not opened by hand; with
 * the mutex that guards the list. */
static struct audit_log *open_logs;
static pthread_mutex_t open_logs_mu = PTHREAD_MUTEX_INITIALIZER;

static void writer_lock(struct audit_log *log)
{
	if (log->writer)
		pthread_mutex_lock(&log->writer->mu);
}

static void writer_unlock(struct audit_log *log)
{
	if (log->writer)
		pthread_mutex_unlock(&log->writer->mu);
}

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

const unsigned char *audit_log_public_key(const struct audit_log *log)
{
	return log->pk;
}

/* ---- Canonical encoding -------------------------------------------------------------- */

static void put_u64(SHA256_CTX *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	SHA256_Update(h, b, sizeof(b));
}

static void put_str(SHA256_CTX *h, const char *s)
{
	unsigned char b[4];
	uint32_t n = s ? (uint32_t)strlen(s) : NULL_LEN;

	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
	SHA256_Update(h, b, sizeof(b));
	if (s)
		SHA256_Update(h, s, n);
}

/* The record hash: SHA-256 over the domain tag, seq, prev and every column in table order,
 * integers as 8 big-endian bytes and strings as a 4-byte big-endian length (0xffffffff
 * for NULL) and their bytes. docs/audit.md gives the same in Python. */
void audit_record_hash(const struct audit_row *r, const unsigned char *prev, unsigned char *out)
{
	SHA256_CTX h;

	SHA256_Init(&h);
	SHA256_Update(&h, RECORD_DOMAIN, sizeof(RECORD_DOMAIN));
	put_u64(&h, (uint64_t)r->seq);
	SHA256_Update(&h, prev, AUDIT_HASH_BYTES);
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
	SHA256_Final(out, &h);
}

size_t audit_put_be64(unsigned char *at, int64_t v)
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
	n += audit_put_be64(msg + n, cp->seq);
	memcpy(msg + n, cp->hash, AUDIT_HASH_BYTES);
	n += AUDIT_HASH_BYTES;
	n += audit_put_be64(msg + n, cp->ts_ms);
	if (cp->version == 2) {
		n += audit_put_be64(msg + n, cp->tree_size);
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

/* ---- The key binding ------------------------------------------------------------------ */

/* Schema 1 -> 2: the verified evidence of each target (files or tables visited, rows
 * erased, rows a re-scan still found, -1 when the target cannot verify, files skipped). */
#define MIGRATE_1_2                                                                   \
	"ALTER TABLE request_targets ADD COLUMN visited INTEGER;"                    \
	"ALTER TABLE request_targets ADD COLUMN erased INTEGER;"                     \
	"ALTER TABLE request_targets ADD COLUMN remaining INTEGER;"                  \
	"ALTER TABLE request_targets ADD COLUMN skipped INTEGER;"

/* Schema 3 to 4: the Merkle tree (built from the records in the same transaction, by
 * merkle_build()) and the root of format 2 checkpoints. */
#define MIGRATE_3_4 \
	"ALTER TABLE checkpoints ADD COLUMN root BLOB;" \
	" CREATE TABLE merkle (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;"

/* Schema 4 to 5: the mac of each checkpoint (audit_checkpoint_mac(), filled by
 * upgrade_v5()). */
#define MIGRATE_4_5 "ALTER TABLE checkpoints ADD COLUMN mac BLOB"

/* Schema 5 to 6: the API tokens of `steward serve` (token.c). */
#define MIGRATE_5_6                                                                        \
	"CREATE TABLE tokens (id TEXT PRIMARY KEY, user TEXT NOT NULL, hash BLOB NOT NULL,"  \
	" created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"                        \
	" revoked_ms INTEGER NOT NULL, mac BLOB NOT NULL) STRICT"

/* The domain tag, a constant prefix, goes into the keyed state: BLAKE2b compresses the key
 * block once more input comes, so a record's mac then costs one compression, not two. */
void audit_mac_keyed(crypto_generichash_state *keyed, const unsigned char *mk)
{
	crypto_generichash_init(keyed, mk, AUDIT_MAC_BYTES, AUDIT_MAC_BYTES);
	crypto_generichash_update(keyed, (const unsigned char *)MAC_DOMAIN, sizeof(MAC_DOMAIN));
}

/* mac = BLAKE2b-256 keyed with the subkey over "steward.mac.v1\0" || seq || prev mac ||
 * hash || covers (zeros when NULL). prev mac chains the macs, so no record can be dropped
 * or moved without the key either. */
void audit_record_mac_keyed(const crypto_generichash_state *keyed, int64_t seq,
			    const unsigned char *prev_mac, const unsigned char *hash,
			    const unsigned char *covers, unsigned char *out)
{
	static const unsigned char zeros[AUDIT_HASH_BYTES];
	crypto_generichash_state h = *keyed;
	unsigned char b[8];

	audit_put_be64(b, seq);
	crypto_generichash_update(&h, b, sizeof(b));
	crypto_generichash_update(&h, prev_mac, AUDIT_MAC_BYTES);
	crypto_generichash_update(&h, hash, AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, covers ? covers : zeros, AUDIT_HASH_BYTES);
	crypto_generichash_final(&h, out, AUDIT_MAC_BYTES);
	sodium_memzero(&h, sizeof(h));
}

void audit_record_mac(const unsigned char *mk, int64_t seq, const unsigned char *prev_mac,
		      const unsigned char *hash, const unsigned char *covers, unsigned char *out)
{
	crypto_generichash_state keyed;

	audit_mac_keyed(&keyed, mk);
	audit_record_mac_keyed(&keyed, seq, prev_mac, hash, covers, out);
	sodium_memzero(&keyed, sizeof(keyed));
}

void audit_checkpoint_mac(const unsigned char *mk, const struct audit_checkpoint *cp,
			  unsigned char *out)
{
	unsigned char msg[CHECKPOINT_MSG_MAX];
	crypto_generichash_state h;
	size_t len;

	checkpoint_message(cp, msg, &len);
	crypto_generichash_init(&h, mk, AUDIT_MAC_BYTES, AUDIT_MAC_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)CHECKPOINT_MAC_DOMAIN,
				  sizeof(CHECKPOINT_MAC_DOMAIN));
	crypto_generichash_update(&h, msg, len);
	crypto_generichash_update(&h, cp->signature, AUDIT_SIG_BYTES);
	crypto_generichash_final(&h, out, AUDIT_MAC_BYTES);
	sodium_memzero(&h, sizeof(h));
}

/* Protections of the guarded key buffers. An mprotect() costs 15-20 us in some VMs, so a
 * buffer's protection is changed only when it differs, and an operation that uses the subkey
 * several times holds it open once (mk_open() nests). */
enum prot { PROT_RW, PROT_RO, PROT_NONE_ };

static void protect(unsigned char *p, int *now, int want)
{
	if (*now == want)
		return;
	if (want == PROT_RO)
		sodium_mprotect_readonly(p);
	else if (want == PROT_NONE_)
		sodium_mprotect_noaccess(p);
	else
		sodium_mprotect_readwrite(p);
	*now = want;
}

/* Makes the subkey readable for a while; mk_close() takes access away again. */
static const unsigned char *mk_open(struct audit_log *log)
{
	if (!log->mk_ready)
		return NULL;
	if (!log->mk_users++)
		protect(log->mk, &log->mk_prot, PROT_RO);
	return log->mk;
}

static void mk_close(struct audit_log *log)
{
	if (log->mk_users > 0 && !--log->mk_users)
		protect(log->mk, &log->mk_prot, PROT_NONE_);
}

/* The open log whose database is db, or NULL. */
static struct audit_log *log_of(sqlite3 *db)
{
	struct audit_log *l;

	pthread_mutex_lock(&open_logs_mu);
	for (l = open_logs; l && l->db != db; l = l->next)
		;
	pthread_mutex_unlock(&open_logs_mu);
	return l;
}

/* Whether this process has a log of the file at path open. */
static int path_open(const char *path)
{
	struct audit_log *l;

	pthread_mutex_lock(&open_logs_mu);
	for (l = open_logs; l && strcmp(l->path, path); l = l->next)
		;
	pthread_mutex_unlock(&open_logs_mu);
	return l != NULL;
}

const unsigned char *audit_mac_key(sqlite3 *db)
{
	struct audit_log *l = log_of(db);

	return l ? mk_open(l) : NULL;
}

void audit_mac_key_done(sqlite3 *db)
{
	struct audit_log *l = log_of(db);

	if (l)
		mk_close(l);
}

/* Derives the mac subkey from the signing key's 32-byte seed (the first half of audit.key):
 * crypto_kdf_derive_from_key(32, 1, "stewaudt", seed). */
static int derive_mac_key(struct audit_log *log, struct st_error *err)
{
	int rc;

	protect(log->sk, &log->sk_prot, PROT_RO);
	protect(log->mk, &log->mk_prot, PROT_RW);
	rc = crypto_kdf_derive_from_key(log->mk, AUDIT_MAC_BYTES, KDF_MAC_ID, KDF_CONTEXT, log->sk);
	/* readable still while an opener holds it (log_open()) */
	protect(log->mk, &log->mk_prot, log->mk_users ? PROT_RO : PROT_NONE_);
	if (rc)
		return st_error_set(err, ST_E_SYSTEM, "cannot derive the audit mac key");
	log->mk_ready = 1;
	return 0;
}

/* The mac of a pending row: keyed BLAKE2b over the SHA-256 of its id and columns, so that
 * a pending row steward did not write is never chained as a record. */
static void pending_mac(const unsigned char *mk, int64_t id, const struct audit_row *r,
			unsigned char *out);

/* ---- Opening ------------------------------------------------------------------------- */

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

/* Reads the last record's seq, hash and mac (0 and zeros for an empty log). */
static int chain_head(sqlite3 *db, int64_t *seq, unsigned char *hash, unsigned char *mac,
		      struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	*seq = 0;
	memset(hash, 0, AUDIT_HASH_BYTES);
	memset(mac, 0, AUDIT_MAC_BYTES);
	if (st_sql_cached(db, &st,
			    "SELECT seq, hash, mac FROM records ORDER BY seq DESC LIMIT 1", err))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != AUDIT_HASH_BYTES ||
		    sqlite3_column_bytes(st, 2) != AUDIT_MAC_BYTES) {
			st_error_set(err, ST_E_SYSTEM,
				     "the audit log's last record is damaged; run 'steward audit verify'");
			goto out;
		}
		*seq = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASH_BYTES);
		memcpy(mac, sqlite3_column_blob(st, 2), AUDIT_MAC_BYTES);
	} else if (rc != SQLITE_DONE) {
		st_sql_error(err, db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	st_sql_done(st);
	return ret;
}

/* Reads AUDIT_PENDING_COLUMNS, starting at column at, into r (strings borrowed from st). */
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

static void pending_mac(const unsigned char *mk, int64_t id, const struct audit_row *r,
			unsigned char *out)
{
	SHA256_CTX h;
	unsigned char d[AUDIT_HASH_BYTES];

	SHA256_Init(&h);
	SHA256_Update(&h, PENDING_DOMAIN, sizeof(PENDING_DOMAIN));
	put_u64(&h, (uint64_t)id);
	put_u64(&h, (uint64_t)r->ts_ms);
	put_str(&h, r->actor);
	put_u64(&h, (uint64_t)r->uid);
	put_str(&h, r->role);
	put_str(&h, r->action);
	put_str(&h, r->object);
	put_str(&h, r->purpose);
	put_str(&h, r->host);
	put_u64(&h, (uint64_t)r->pid);
	put_str(&h, r->version);
	put_u64(&h, (uint64_t)(r->pii != 0));
	SHA256_Final(d, &h);
	crypto_generichash(out, AUDIT_MAC_BYTES, d, sizeof(d), mk, AUDIT_MAC_BYTES);
}

int audit_pending_valid(const unsigned char *mk, int64_t id, sqlite3_stmt *st, int at)
{
	unsigned char mac[AUDIT_MAC_BYTES];
	struct audit_row r = {0};

	if (sqlite3_column_bytes(st, at + 11) != AUDIT_MAC_BYTES)
		return 0;
	pending_row(st, at, &r);
	pending_mac(mk, id, &r, mac);
	return !crypto_verify_32(mac, sqlite3_column_blob(st, at + 11));
}

/* Runs up, an "UPDATE ... SET mac = ?1 WHERE <key> = ?2" of an upgrade, for one row. */
static int set_mac(struct audit_log *log, sqlite3_stmt *up, const unsigned char *mac, int64_t key,
		   struct st_error *err)
{
	sqlite3_bind_blob(up, 1, mac, AUDIT_MAC_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(up, 2, key);
	if (sqlite3_step(up) != SQLITE_DONE)
		return st_sql_error(err, log->db, "cannot write the audit log");
	sqlite3_reset(up);
	return 0;
}

/* Version 4 to 5: the mac of each checkpoint whose signature verifies under the log's key
 * (one that does not keeps no mac, so that verify still names its signature). Runs inside
 * setup()'s transaction, with the key loaded. */
static int upgrade_v5(struct audit_log *log, struct st_error *err)
{
	unsigned char mac[AUDIT_MAC_BYTES];
	sqlite3_stmt *st = NULL, *up = NULL;
	const unsigned char *mk = NULL;
	int ret = -1, rc;

	if (st_sql_exec(log->db, MIGRATE_4_5, err) ||
	    st_sql_prepare(log->db, &st,
			    "SELECT " AUDIT_CHECKPOINT_COLUMNS " FROM checkpoints ORDER BY seq", err) ||
	    st_sql_prepare(log->db, &up, "UPDATE checkpoints SET mac = ? WHERE seq = ?", err))
		goto out;
	if (!(mk = mk_open(log))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_checkpoint cp;

		if (audit_read_checkpoint(st, &cp) ||
		    memcmp(cp.public_key, log->pk, AUDIT_PK_BYTES) || !audit_checkpoint_valid(&cp))
			continue;
		audit_checkpoint_mac(mk, &cp, mac);
		if (set_mac(log, up, mac, cp.seq, err))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	if (mk)
		mk_close(log);
	sodium_memzero(mac, sizeof(mac));
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return ret;
}

/* Version 2 to 3: the mac, covers and covered rows. Every record is bound to the key as it
 * stands, and the rows of the covered tables are listed under the last record. Runs inside
 * setup()'s transaction, with the key loaded. */
static int upgrade_v3(struct audit_log *log, struct st_error *err)
{
	unsigned char prev[AUDIT_MAC_BYTES] = {0}, mac[AUDIT_MAC_BYTES], covers[AUDIT_HASH_BYTES];
	sqlite3_stmt *st = NULL, *up = NULL, *pend = NULL, *pup = NULL;
	const unsigned char *mk = NULL;
	int64_t last = 0;
	int ret = -1, rc, has = 0;

	if (st_sql_exec(log->db,
			 "ALTER TABLE records ADD COLUMN covers BLOB;"
			 " ALTER TABLE records ADD COLUMN mac BLOB;"
			 " ALTER TABLE pending ADD COLUMN mac BLOB;"
			 " CREATE TABLE covered (seq INTEGER NOT NULL, tbl TEXT NOT NULL,"
			 "  key BLOB NOT NULL, rid INTEGER NOT NULL, digest BLOB,"
			 "  PRIMARY KEY (seq, tbl, key)) STRICT;"
			 " CREATE INDEX covered_key ON covered (tbl, key, seq);"
			 " CREATE TABLE pending_rows (pending_id INTEGER NOT NULL, tbl TEXT NOT NULL,"
			 "  rid INTEGER NOT NULL, PRIMARY KEY (pending_id, tbl, rid))"
			 "  STRICT, WITHOUT ROWID;",
			 err) ||
	    st_sql_prepare(log->db, &st, "SELECT max(seq) FROM records", err))
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (last && audit_cover_all(log->db, last, covers, &has, err))
		goto out;
	mk = mk_open(log);
	if (st_sql_prepare(log->db, &st, "SELECT seq, hash FROM records ORDER BY seq", err) ||
	    st_sql_prepare(log->db, &up, "UPDATE records SET covers = ?, mac = ? WHERE seq = ?",
			    err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const unsigned char *c = seq == last && has ? covers : NULL;

		if (sqlite3_column_bytes(st, 1) != AUDIT_HASH_BYTES) {
			st_error_set(err, ST_E_SYSTEM,
				     "record %lld is damaged; the log cannot be upgraded", (long long)seq);
			goto out;
		}
		audit_record_mac(mk, seq, prev, sqlite3_column_blob(st, 1), c, mac);
		if (c)
			sqlite3_bind_blob(up, 1, c, AUDIT_HASH_BYTES, SQLITE_STATIC);
		else
			sqlite3_bind_null(up, 1);
		sqlite3_bind_blob(up, 2, mac, AUDIT_MAC_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, seq);
		if (sqlite3_step(up) != SQLITE_DONE) {
			st_sql_error(err, log->db, "cannot write the audit log");
			goto out;
		}
		sqlite3_reset(up);
		memcpy(prev, mac, sizeof(prev));
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	if (st_sql_prepare(log->db, &pend, "SELECT id, " AUDIT_PENDING_COLUMNS " FROM pending",
			    err) ||
	    st_sql_prepare(log->db, &pup, "UPDATE pending SET mac = ? WHERE id = ?", err))
		goto out;
	while ((rc = sqlite3_step(pend)) == SQLITE_ROW) {
		struct audit_row r = {0};

		pending_row(pend, 1, &r);
		pending_mac(mk, sqlite3_column_int64(pend, 0), &r, mac);
		if (set_mac(log, pup, mac, sqlite3_column_int64(pend, 0), err))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	ret = 0;
out:
	if (mk)
		mk_close(log);
	sodium_memzero(mac, sizeof(mac));
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	sqlite3_finalize(pend);
	sqlite3_finalize(pup);
	return ret;
}

/* The log's refusals while the workspace has an audit key (state: enum audit_log_state). */
static int refuse(struct audit_log *log, int state, struct st_error *err)
{
	log->state = state;
	switch (state) {
	case AUDIT_LOG_MISSING:
		return st_error_set(err, ST_E_DENIED,
				    "the audit log '%s' is missing but the workspace has an audit key; "
				    "the log was removed " RECOVER_SEE,
				    log->path);
	case AUDIT_LOG_EMPTY:
		return st_error_set(err, ST_E_DENIED,
				    "the audit log '%s' is empty but the workspace has an audit key; "
				    "the log was truncated or replaced " RECOVER_SEE,
				    log->path);
	case AUDIT_LOG_TRUNCATED:
		return st_error_set(err, ST_E_DENIED,
				    "the audit log '%s' is shorter than its header says but the "
				    "workspace has an audit key; the log was truncated " RECOVER_SEE,
				    log->path);
	default:
		return st_error_set(err, ST_E_DENIED,
				    "the audit log '%s' was not written with the workspace's audit key "
				    "(record 1 does not verify); the log was replaced " RECOVER_SEE,
				    log->path);
	}
}

/* Whether the SQLite file at path is shorter than the page count its header gives (a file
 * cut short: a clean one is never shorter, whatever its WAL holds). */
static int cut_short(const char *path, off_t size)
{
	unsigned char h[100];
	uint32_t page, pages;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, h, sizeof(h)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) ||
	    memcmp(h + 24, h + 92, 4)) /* the page count is valid only when these agree */
		return 0;
	page = (uint32_t)h[16] << 8 | h[17];
	page = page == 1 ? 65536 : page;
	pages = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
	return (uint64_t)size < (uint64_t)page * pages;
}

/* Record 1 must verify under the key: a log put in place of this one does not. */
static int check_first(struct audit_log *log, struct st_error *err)
{
	static const unsigned char zeros[AUDIT_MAC_BYTES];
	unsigned char mac[AUDIT_MAC_BYTES];
	sqlite3_stmt *st = NULL;
	const unsigned char *mk = NULL;
	int ret = -1, rc, ok;

	if (st_sql_prepare(log->db, &st, "SELECT hash, covers, mac FROM records WHERE seq = 1",
			    err))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		st_sql_error(err, log->db, "cannot read the audit log");
		goto out;
	}
	mk = mk_open(log);
	ok = mk && sqlite3_column_bytes(st, 0) == AUDIT_HASH_BYTES &&
	     sqlite3_column_bytes(st, 2) == AUDIT_MAC_BYTES &&
	     (sqlite3_column_type(st, 1) == SQLITE_NULL ||
	      sqlite3_column_bytes(st, 1) == AUDIT_HASH_BYTES);
	if (ok) {
		audit_record_mac(mk, 1, zeros, sqlite3_column_blob(st, 0),
				 sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL
									   : sqlite3_column_blob(st, 1),
				 mac);
		ok = !crypto_verify_32(mac, sqlite3_column_blob(st, 2));
	}
	if (!ok) {
		refuse(log, AUDIT_LOG_REPLACED, err);
		goto out;
	}
	ret = 0;
out:
	if (mk)
		mk_close(log);
	sqlite3_finalize(st);
	return ret;
}

/* Under the write lock: creates or upgrades the schema, loads or creates the signing key and
 * derives the mac subkey, and refuses a log that is not this key's: an empty or fresh one
 * while the key is there, one signed with another key, one whose record 1 does not verify. */
static int setup(struct audit_log *log, struct st_error *err)
{
	char hex[2 * AUDIT_PK_BYTES + 1], want[2 * AUDIT_PK_BYTES + 8];
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int ret = -1, version = 0, began = 0, have_key;

	if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (st_sql_prepare(log->db, &st, "PRAGMA user_version", err))
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > AUDIT_SCHEMA_VERSION) {
		st_error_set(err, ST_E_SYSTEM,
			     "audit.db has schema version %d, newer than this steward supports (%d)",
			     version, AUDIT_SCHEMA_VERSION);
		goto out;
	}
	have_key = !lstat(log->key_path, &sb);
	if (!version) {
		if (have_key) {
			refuse(log, AUDIT_LOG_EMPTY, err);
			goto out;
		}
		/* The schema is committed before the key exists, so that a log is never empty
		 * while its key is there (audit_open() refuses that before opening it). */
		if (st_sql_exec(log->db, (const char *)st_embed_audit_v1, err) ||
		    st_sql_exec(log->db, "PRAGMA user_version = " STR(AUDIT_SCHEMA_VERSION), err) ||
		    st_sql_exec(log->db, "COMMIT", err))
			goto out;
		began = 0;
		if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
			goto out;
		began = 1;
		version = AUDIT_SCHEMA_VERSION;
	}
	if (audit_meta_get(log->db, "public_key", want, sizeof(want), err))
		goto out;
	if (!want[0] && have_key) { /* a log made without the key: empty, or someone else's */
		int64_t n = 0;

		if (st_sql_prepare(log->db, &st, "SELECT count(*) FROM records", err))
			goto out;
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		refuse(log, n ? AUDIT_LOG_REPLACED : AUDIT_LOG_EMPTY, err);
		goto out;
	}
	if (!want[0] ? key_create(log, err) : key_load(log, err))
		goto out;
	protect(log->sk, &log->sk_prot, PROT_RO);
	sodium_bin2hex(hex, sizeof(hex), log->pk, sizeof(log->pk));
	if (!want[0]) {
		if (meta_put(log->db, "public_key", hex, err))
			goto out;
	} else if (strcmp(want, hex)) {
		log->state = AUDIT_LOG_FOREIGN;
		st_error_set(err, ST_E_DENIED,
			     "'%s' is not the key this audit log is signed with", log->key_path);
		goto out;
	}
	/* A log with macs (schema 3 on) is checked before any upgrade writes to it; an older
	 * one gets its macs from the upgrade, so record 1 verifies after it. */
	if (derive_mac_key(log, err) || (version >= 3 && check_first(log, err)) ||
	    (version < 2 && st_sql_exec(log->db, MIGRATE_1_2, err)) ||
	    (version < 3 && upgrade_v3(log, err)) ||
	    (version < 4 &&
	     (st_sql_exec(log->db, MIGRATE_3_4, err) || merkle_build(log->db, err))) ||
	    (version < 5 && upgrade_v5(log, err)) ||
	    (version < 6 && st_sql_exec(log->db, MIGRATE_5_6, err)) ||
	    (version < AUDIT_SCHEMA_VERSION &&
	     st_sql_exec(log->db, "PRAGMA user_version = " STR(AUDIT_SCHEMA_VERSION), err)) ||
	    (version < 3 && check_first(log, err)) || st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	protect(log->sk, &log->sk_prot, PROT_RO);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int append_locked(struct audit_log *log, struct audit_row *r, int64_t pending_id,
			 struct st_error *err);

/* Chains the rows that killed processes left in `pending` as interrupted errors. A row
 * whose mac does not verify was not written by steward and is left alone (verify names it). */
static int recover_pending(struct audit_log *log, struct st_error *err)
{
	sqlite3_stmt *st = NULL, *del = NULL;
	const unsigned char *mk = mk_open(log);
	int ret = -1, rc, began = 0;

	if (st_sql_prepare(log->db, &st,
			    "SELECT id, " AUDIT_PENDING_COLUMNS ", mac FROM pending ORDER BY id",
			    err) ||
	    st_sql_prepare(log->db, &del, "DELETE FROM pending WHERE id = ?", err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r = {0};
		const char *host = (const char *)sqlite3_column_text(st, 8);
		pid_t pid = (pid_t)sqlite3_column_int64(st, 9);
		int64_t id = sqlite3_column_int64(st, 0);

		if (host && !strcmp(host, log->host) && (pid == getpid() || !kill(pid, 0) ||
							 errno != ESRCH))
			continue; /* still running */
		if (!mk || !audit_pending_valid(mk, id, st, 1))
			continue; /* forged */
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
		if (append_locked(log, &r, id, err))
			goto out;
		sqlite3_bind_int64(del, 1, id);
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
	if (mk)
		mk_close(log);
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* Syncs the WAL file by its own descriptor: SQLite's first sync of a WAL it opened also
 * syncs the directory, which the WAL, kept from command to command, does not need (SQLite
 * syncs a new WAL's header, and the directory with it, itself). Closing the descriptor drops
 * no lock: SQLite locks audit.db and the -shm file, never the WAL. Returns 0 or -1. */
static int sync_wal_file(struct audit_log *log, sqlite3_file *wal)
{
	char path[PATH_MAX];
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s-wal", log->path) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) == SQLITE_OK ? 0 : -1;
	rc = st_fdatasync(fd);
	close(fd);
	return rc;
}

/* The log's open WAL file, or NULL when there is none (a log not in WAL mode). */
static sqlite3_file *wal_file(struct audit_log *log)
{
	sqlite3_file *wal = NULL;

	if (sqlite3_file_control(log->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) !=
		    SQLITE_OK ||
	    !wal || !wal->pMethods)
		return NULL;
	return wal;
}

/* Inside a write transaction (which holds the WAL's write lock, so no other connection
 * writes it or rebuilds its index from it): when the WAL is empty, as a fold leaves it, fills
 * its first WAL_PREPARE_BYTES with zeros. The commits up to the next fold then write blocks
 * the file has, and syncing them changes no size: on ext4 a flush of the data alone, about
 * 100 us here, where a sync that grows the file commits the journal too (about 160 us). The
 * zeros are no WAL header, so a crash before the commit leaves an empty WAL. Best effort: a
 * failed write changes nothing but the speed of the syncs. */
static void wal_prepare(struct audit_log *log)
{
	static const unsigned char zeros[16384];
	sqlite3_file *wal = wal_file(log);
	sqlite3_int64 size = -1;

	if (!wal || wal->pMethods->xFileSize(wal, &size) != SQLITE_OK || size)
		return;
	for (int off = 0; off < WAL_PREPARE_BYTES; off += (int)sizeof(zeros)) {
		int n = WAL_PREPARE_BYTES - off < (int)sizeof(zeros) ? WAL_PREPARE_BYTES - off
								     : (int)sizeof(zeros);

		if (wal->pMethods->xWrite(wal, zeros, n, off) != SQLITE_OK)
			return;
	}
}

/* Makes every committed write to the log durable: under synchronous = NORMAL a commit
 * leaves its WAL frames unsynced, and this syncs the WAL file (checkpoints sync by
 * themselves), or waits for another thread's sync that covers this log's last commit. */
static int wal_sync(struct audit_log *log, struct st_error *err)
{
	struct writer *w = log->writer;
	sqlite3_file *wal;
	int rc = 0;

	/* No WAL open: the log is not in WAL mode (a file system without shared memory), and
	 * its rollback journal syncs every commit itself. */
	if (!(wal = wal_file(log))) {
		log->unsynced = 0;
		return 0;
	}
	if (!w)
		rc = sync_wal_file(log, wal);
	else {
		pthread_mutex_lock(&w->sync_mu);
		while (!rc && w->durable < log->commit_gen) {
			uint64_t target;

			if (w->syncing) {
				pthread_cond_wait(&w->synced, &w->sync_mu);
				continue;
			}
			w->syncing = 1;
			target = w->committed;
			pthread_mutex_unlock(&w->sync_mu);
			rc = sync_wal_file(log, wal);
			pthread_mutex_lock(&w->sync_mu);
			w->syncing = 0;
			if (!rc && target > w->durable)
				w->durable = target;
			pthread_cond_broadcast(&w->synced);
		}
		pthread_mutex_unlock(&w->sync_mu);
	}
	if (rc)
		return st_error_set(err, ST_E_SYSTEM, "cannot sync the audit log '%s-wal'",
				    log->path);
	log->unsynced = 0;
	return 0;
}

/* The WAL hook: after each commit, the frames the WAL holds. Setting it also turns off
 * SQLite's automatic checkpoints; wal_settle() folds the WAL in instead. */
static int on_wal_commit(void *p, sqlite3 *db, const char *name, int frames)
{
	struct audit_log *log = p;

	(void)db;
	(void)name;
	log->wal_frames = frames;
	log->unsynced = 1;
	if (log->writer) { /* its frames are written: a sync from now on covers them */
		pthread_mutex_lock(&log->writer->sync_mu);
		log->commit_gen = ++log->writer->committed;
		pthread_mutex_unlock(&log->writer->sync_mu);
	}
	return SQLITE_OK;
}

/* Makes every commit so far durable, once a command's record is complete. Past
 * WAL_FOLD_FRAMES the WAL is folded into audit.db and emptied (a checkpoint syncs both
 * files; emptying matters because the next command to open the log alone rebuilds the WAL
 * index from the frames, forgetting they were folded in). It waits for no one: a reader or
 * writer in another process that holds the WAL leaves it as it is, and what was not folded
 * is synced in place. Below WAL_FOLD_FRAMES the WAL alone is synced, and the next command
 * reads back those few frames when it opens the log. Returns 0, or -1 with err. */
static int wal_settle(struct audit_log *log, struct st_error *err)
{
	int frames = -1, done = -1, fold = WAL_FOLD_FRAMES;

	if (!log->unsynced)
		return 0;
	if (log->writer) {
		pthread_mutex_lock(&open_logs_mu);
		if (log->writer->refs > 1)
			fold = WAL_FOLD_FRAMES_SHARED;
		pthread_mutex_unlock(&open_logs_mu);
	}
	if (log->wal_frames >= fold) {
		int rc;

		sqlite3_busy_timeout(log->db, 0);
		rc = sqlite3_wal_checkpoint_v2(log->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &frames,
					       &done);
		sqlite3_busy_timeout(log->db, BUSY_MS);
		if ((rc == SQLITE_OK || rc == SQLITE_BUSY) && frames >= 0 && done >= frames) {
			log->unsynced = 0;
			return 0;
		}
	}
	return wal_sync(log, err);
}

void audit_free(struct audit_log *log)
{
	if (!log)
		return;
	/* What was written since the last sync (records appended outside a command, or a
	 * command that did not end) is made durable; closing does not checkpoint. */
	if (log->opened) {
		struct st_error ignored = ST_ERROR_INIT;

		wal_settle(log, &ignored);
	}
	pthread_mutex_lock(&open_logs_mu);
	for (struct audit_log **p = &open_logs; *p; p = &(*p)->next)
		if (*p == log) {
			*p = log->next;
			break;
		}
	if (log->writer && !--log->writer->refs) {
		pthread_mutex_destroy(&log->writer->mu);
		pthread_mutex_destroy(&log->writer->sync_mu);
		pthread_cond_destroy(&log->writer->synced);
		st_free(log->writer);
	}
	pthread_mutex_unlock(&open_logs_mu);
	st_sql_cache_drop(log->db);
	sqlite3_close(log->db);
	sodium_free(log->sk);
	sodium_free(log->mk); /* wipes it */
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

/* A log handle with its paths and key buffers, not opened yet. */
static struct audit_log *log_new(const char *state_dir, const char *version, long every,
				 struct st_error *err)
{
	struct audit_log *log = st_calloc(1, sizeof(*log));

	if (!log) {
		st_error_oom(err);
		return NULL;
	}
	log->every = every > 0 ? every : AUDIT_CHECKPOINT_EVERY;
	snprintf(log->version, sizeof(log->version), "%s", version);
	if (gethostname(log->host, sizeof(log->host) - 1))
		snprintf(log->host, sizeof(log->host), "unknown");
	log->path = path_join(state_dir, "audit.db");
	log->key_path = path_join(state_dir, "audit.key");
	log->sk = sodium_malloc(SK_BYTES);
	log->mk = sodium_malloc(AUDIT_MAC_BYTES);
	if (!log->path || !log->key_path || !log->sk || !log->mk) {
		st_error_oom(err);
		audit_free(log);
		return NULL;
	}
	/* mk holds zeros until derive_mac_key() fills it and takes access away */
	log->sk_prot = log->mk_prot = PROT_RW;
	return log;
}

/* audit_open(), also telling in *state why a log that cannot be used cannot (0 when that is
 * not something `audit recover` repairs). */
static int log_open(struct audit_log **out, const char *state_dir, const char *version,
		    long checkpoint_every, int *state, struct st_error *err)
{
	struct audit_log *log;
	struct stat sb;
	int ret = -1;

	*out = NULL;
	*state = AUDIT_LOG_USABLE;
	if (sodium_init() < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
	if (!(log = log_new(state_dir, version, checkpoint_every, err)))
		return -1;
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
		/* Empty: refused before SQLite opens it, which would delete a -wal file beside an
		 * empty database (the old log's last frames) and write a header. Cut short: its
		 * header is read by hand, unless this process has the file open in SQLite
		 * already, which checked it then: closing a descriptor of the file would drop
		 * every POSIX lock SQLite holds on it in this process. */
		if (!sb.st_size && !lstat(log->key_path, &sb)) {
			refuse(log, AUDIT_LOG_EMPTY, err);
			goto out;
		}
		if (!path_open(log->path) && cut_short(log->path, sb.st_size) &&
		    !lstat(log->key_path, &sb)) {
			refuse(log, AUDIT_LOG_TRUNCATED, err);
			goto out;
		}
	} else if (!lstat(log->key_path, &sb)) {
		refuse(log, AUDIT_LOG_MISSING, err);
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
	sqlite3_busy_timeout(log->db, BUSY_MS);
	/* Every command opens and closes the log: keeping the WAL file saves creating it anew
	 * each time, and closing does not fold it into audit.db (a checkpoint syncs two files
	 * and restarts the WAL, whose new header is synced again by the next command). Commits
	 * are not synced one by one (synchronous NORMAL): wal_sync() makes a command's pending
	 * record durable before the command acts, and wal_settle() its complete record before
	 * it ends, folding the WAL in once it holds WAL_FOLD_FRAMES, which empties it; the next
	 * command's first write lays zeros where its frames will go (wal_prepare()). */
	sqlite3_file_control(log->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){1});
	sqlite3_db_config(log->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(log->db, on_wal_commit, log);
	/* setup() comes before the switch to WAL, so a log it refuses is not written to. The
	 * subkey, once derived, stays readable until the pending rows are recovered. */
	log->mk_users++;
	if (st_sql_exec(log->db,
			"PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
			" PRAGMA journal_size_limit = " STR(WAL_KEEP_BYTES),
			err) ||
	    setup(log, err) || st_sql_exec(log->db, "PRAGMA journal_mode = WAL", err) ||
	    recover_pending(log, err)) {
		int rc = sqlite3_errcode(log->db);

		if (!log->state && (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT))
			log->state = AUDIT_LOG_DAMAGED;
		if (!log->state || log->state >= AUDIT_LOG_FOREIGN)
			st_error_prefix(err, "audit log '%s'", log->path);
		goto out; /* closing never folds the WAL into a file that is not this log */
	}
	mk_close(log);
	pthread_mutex_lock(&open_logs_mu);
	for (struct audit_log *l = open_logs; l && !log->writer; l = l->next)
		if (l->writer && !strcmp(l->path, log->path))
			log->writer = l->writer;
	if (!log->writer && (log->writer = st_calloc(1, sizeof(*log->writer)))) {
		pthread_mutex_init(&log->writer->mu, NULL);
		pthread_mutex_init(&log->writer->sync_mu, NULL);
		pthread_cond_init(&log->writer->synced, NULL);
	}
	if (log->writer) {
		log->writer->refs++;
		log->next = open_logs;
		open_logs = log;
		if (log->unsynced) { /* what opening wrote (a recovered record) is counted too */
			pthread_mutex_lock(&log->writer->sync_mu);
			log->commit_gen = ++log->writer->committed;
			pthread_mutex_unlock(&log->writer->sync_mu);
		}
	}
	pthread_mutex_unlock(&open_logs_mu);
	if (!log->writer) {
		st_error_set(err, ST_E_SYSTEM, "out of memory");
		goto out;
	}
	log->opened = 1;
	*out = log;
	log = NULL;
	ret = 0;
out:
	if (log)
		*state = log->state;
	audit_free(log);
	return ret;
}

int audit_open(struct audit_log **out, const char *state_dir, const char *version,
	       long checkpoint_every, struct st_error *err)
{
	int state;

	return log_open(out, state_dir, version, checkpoint_every, &state, err);
}


/* ---- Appending ----------------------------------------------------------------------- */

/* The Merkle root of records 1..seq (the head) for a new checkpoint. Stored nodes are
 * trusted only as far as the newest valid format 2 checkpoint at or before seq vouches for
 * them: otherwise a writer of audit.db without the key could change old nodes and have
 * steward sign a root over records that never were. Without such a checkpoint, or when the
 * nodes do not fold to its root, the tree is rebuilt from the records. */
static int tree_root(struct audit_log *log, int64_t seq, unsigned char *root, struct st_error *err)
{
	unsigned char mac[AUDIT_MAC_BYTES];
	struct audit_checkpoint prev;
	const unsigned char *mk;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc, got = 0, vouched = 0;

	if (st_sql_prepare(log->db, &st,
			    "SELECT " AUDIT_CHECKPOINT_COLUMNS ", mac FROM checkpoints"
			    " WHERE root IS NOT NULL AND seq <= ? ORDER BY seq DESC LIMIT 1",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	/* Its mac (keyed like the records' macs) vouches for it as well as its signature would,
	 * for a fraction of an Ed25519 verification: only the key's holder makes either. */
	if (rc == SQLITE_ROW && !audit_read_checkpoint(st, &prev) && prev.version == 2 &&
	    !memcmp(prev.public_key, log->pk, AUDIT_PK_BYTES) &&
	    sqlite3_column_bytes(st, 6) == AUDIT_MAC_BYTES && (mk = mk_open(log))) {
		audit_checkpoint_mac(mk, &prev, mac);
		mk_close(log);
		vouched = !crypto_verify_32(mac, sqlite3_column_blob(st, 6));
	}
	if (vouched) {
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
	unsigned char msg[CHECKPOINT_MSG_MAX], mac[AUDIT_MAC_BYTES];
	const unsigned char *mk;
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
	protect(log->sk, &log->sk_prot, PROT_RO);
	if (crypto_sign_detached(cp->signature, NULL, msg, len, log->sk)) {
		st_error_set(err, ST_E_SYSTEM, "cannot sign the audit checkpoint");
		goto out;
	}
	if (!(mk = mk_open(log))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	audit_checkpoint_mac(mk, cp, mac);
	mk_close(log);
	if (st_sql_prepare(log->db, &st,
			    replace ? "INSERT OR REPLACE INTO checkpoints"
				      " (seq, ts_ms, hash, public_key, signature, root, mac)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?)"
				    : "INSERT OR IGNORE INTO checkpoints"
				      " (seq, ts_ms, hash, public_key, signature, root, mac)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?)",
			    err))
		goto out;
	sqlite3_bind_int64(st, 1, cp->seq);
	sqlite3_bind_int64(st, 2, cp->ts_ms);
	sqlite3_bind_blob(st, 3, cp->hash, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, cp->public_key, AUDIT_PK_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, cp->signature, AUDIT_SIG_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, cp->root, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, mac, AUDIT_MAC_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit checkpoint");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Appends r (seq, host, pid and version are filled here) inside an open write transaction,
 * and signs a checkpoint when r touches PII or the interval is reached. */
static int append_locked(struct audit_log *log, struct audit_row *r, int64_t pending_id,
			 struct st_error *err)
{
	unsigned char prev[AUDIT_HASH_BYTES], hash[AUDIT_HASH_BYTES], prev_mac[AUDIT_MAC_BYTES],
		mac[AUDIT_MAC_BYTES], covers[AUDIT_HASH_BYTES];
	struct audit_checkpoint cp;
	sqlite3_stmt *st = NULL;
	const unsigned char *mk;
	int64_t last;
	int ret = -1, has;

	if (chain_head(log->db, &last, prev, prev_mac, err))
		goto out;
	r->seq = last + 1;
	audit_record_hash(r, prev, hash);
	if (audit_cover_claim(log->db, pending_id, r->seq, covers, &has, err))
		goto out;
	if (!(mk = mk_open(log))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	audit_record_mac(mk, r->seq, prev_mac, hash, has ? covers : NULL, mac);
	mk_close(log);
	if (st_sql_cached(log->db, &st,
			    "INSERT INTO records (seq, ts_ms, actor, uid, role, action, object, purpose,"
			    " outcome, reason, counts, host, pid, version, pii, prev, hash, covers, mac)"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
	if (has)
		sqlite3_bind_blob(st, 18, covers, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 19, mac, AUDIT_MAC_BYTES, SQLITE_STATIC);
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
	st_sql_done(st);
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

/* The row of a record to append: the entry's, with its outcome, reason and counts. */
static void row_from_item(struct audit_log *log, const struct audit_item *it,
			  struct audit_row *r)
{
	row_from_entry(log, it->e, r);
	r->outcome = audit_outcome_name(it->outcome);
	r->reason = it->reason;
	r->counts = it->counts;
}

int audit_begin(struct audit_log *log, const struct audit_entry *e, struct st_error *err)
{
	unsigned char mac[AUDIT_MAC_BYTES];
	struct audit_row r;
	sqlite3_stmt *st = NULL, *up = NULL, *stale = NULL;
	const unsigned char *mk = NULL;
	int64_t id;
	int ret = -1, began = 0, locked = 0;

	if (log->pending_id)
		return st_error_set(err, ST_E_SYSTEM, "a command is already being recorded");
	row_from_entry(log, e, &r);
	/* Only the request commands write covered rows; setting up the triggers that note
	 * them costs about half a millisecond, which the other commands are spared. */
	if (!log->noting && !strncmp(e->action, "request.", 8)) {
		if (audit_cover_setup(log->db, err))
			return -1;
		log->noting = 1;
	}
	writer_lock(log);
	locked = 1;
	if (st_sql_run(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	wal_prepare(log);
	if (st_sql_cached(log->db, &st,
			    "INSERT INTO pending (" AUDIT_PENDING_COLUMNS ")"
			    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    err) ||
	    st_sql_cached(log->db, &up, "UPDATE pending SET mac = ? WHERE id = ?", err) ||
	    st_sql_cached(log->db, &stale, "DELETE FROM pending_rows WHERE pending_id = ?", err))
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
	id = sqlite3_last_insert_rowid(log->db);
	/* Notes under a new id were put there by someone guessing it, to have rows covered. */
	sqlite3_bind_int64(stale, 1, id);
	if (sqlite3_step(stale) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	if (!(mk = mk_open(log))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	pending_mac(mk, id, &r, mac);
	sqlite3_bind_blob(up, 1, mac, AUDIT_MAC_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(up, 2, id);
	if (sqlite3_step(up) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	if ((log->noting && audit_cover_set_pending(log->db, id, err)) ||
	    st_sql_run(log->db, "COMMIT", err))
		goto out;
	began = 0;
	log->pending_id = id;
	/* Synced outside the writer lock, so that the other threads' commits go on meanwhile
	 * and one sync often covers several of them. */
	writer_unlock(log);
	locked = 0;
	/* On disk before the command acts: a crash or power cut from here on still leaves a
	 * pending record, chained as interrupted by the next open. */
	if (wal_sync(log, err))
		goto out;
	ret = 0;
out:
	if (mk)
		mk_close(log);
	st_sql_done(st);
	st_sql_done(up);
	st_sql_done(stale);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	if (locked)
		writer_unlock(log);
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
	mk_open(log); /* held while the record, its tree and checkpoint are made */
	writer_lock(log);
	if (st_sql_run(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (st_sql_cached(log->db, &st,
			    "SELECT " AUDIT_PENDING_COLUMNS " FROM pending WHERE id = ?",
			    err) ||
	    st_sql_cached(log->db, &del, "DELETE FROM pending WHERE id = ?", err))
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
	if (append_locked(log, &r, log->pending_id, err))
		goto out;
	sqlite3_bind_int64(del, 1, log->pending_id);
	if (sqlite3_step(del) != SQLITE_DONE) {
		st_sql_error(err, log->db, "cannot write the audit log");
		goto out;
	}
	if ((log->noting && audit_cover_set_pending(log->db, 0, err)) ||
	    st_sql_run(log->db, "COMMIT", err))
		goto out;
	began = 0;
	log->pending_id = 0;
	ret = 0;
out:
	st_sql_done(st);
	st_sql_done(del);
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	mk_close(log);
	/* The record is complete: on disk before the command says it is done (after the
	 * statements are finalized, which a checkpoint needs). */
	writer_unlock(log); /* the sync below is outside it, as in audit_begin() */
	if (!ret && wal_settle(log, err))
		ret = -1;
	return ret;
}

/* Appends items[0..n) in one write transaction of this connection, under the writer lock,
 * with the mac subkey held once for them all. Nothing is synced here. Returns 0, or -1 with
 * err (and none of them written). */
static int append_batch(struct audit_log *log, const struct audit_item *items, size_t n,
			struct st_error *err)
{
	struct audit_row r;
	int ret = -1, began = 0;

	writer_lock(log);
	mk_open(log); /* append_locked()'s opens nest inside this one */
	if (st_sql_run(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	wal_prepare(log);
	for (size_t i = 0; i < n; i++) {
		row_from_item(log, &items[i], &r);
		if (append_locked(log, &r, 0, err))
			goto out;
	}
	if (st_sql_run(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	mk_close(log);
	writer_unlock(log);
	return ret;
}

int audit_append(struct audit_log *log, const struct audit_entry *e, int outcome,
		 const char *reason, const char *counts, struct st_error *err)
{
	const struct audit_item item = {e, outcome, reason, counts};
	struct audit_row r;

	if (!sqlite3_get_autocommit(log->db)) { /* the caller's transaction holds the lock */
		row_from_item(log, &item, &r);
		return append_locked(log, &r, 0, err);
	}
	/* on disk before the caller acts on it (as audit_end(), outside the writer lock) */
	return append_batch(log, &item, 1, err) || wal_settle(log, err) ? -1 : 0;
}

int audit_append_many(struct audit_log *log, const struct audit_item *items, size_t n,
		      struct st_error *err)
{
	if (!n)
		return 0;
	if (!sqlite3_get_autocommit(log->db))
		return st_error_set(err, ST_E_SYSTEM, "a batch of audit records needs the log to itself");
	/* Durable before any of them is acted on: the WAL synced, never folded here (see
	 * audit_fold()). */
	return append_batch(log, items, n, err) || wal_sync(log, err) ? -1 : 0;
}

void audit_fold(struct audit_log *log)
{
	int frames = -1, done = -1, fold = WAL_FOLD_FRAMES;

	if (log->writer) {
		pthread_mutex_lock(&open_logs_mu);
		if (log->writer->refs > 1)
			fold = WAL_FOLD_FRAMES_SHARED;
		pthread_mutex_unlock(&open_logs_mu);
	}
	if (log->wal_frames < fold)
		return;
	/* As in wal_settle(): waits for no one; what another connection holds stays. The frames
	 * are copied first while the other threads go on writing (PASSIVE), so that the fold
	 * that empties the WAL, which holds their writes off, copies only those that came since. */
	sqlite3_busy_timeout(log->db, 0);
	sqlite3_wal_checkpoint_v2(log->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	sqlite3_wal_checkpoint_v2(log->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &frames, &done);
	sqlite3_busy_timeout(log->db, BUSY_MS);
	log->wal_frames = 0; /* tried: the next commit's hook says how many remain */
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

int audit_head(struct sqlite3 *db, int64_t *seq, int64_t *ts_ms, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	*seq = *ts_ms = 0;
	if (st_sql_prepare(db, &st, "SELECT seq, ts_ms FROM records ORDER BY seq DESC LIMIT 1",
			    err))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*ts_ms = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
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
	unsigned char hash[AUDIT_HASH_BYTES], mac[AUDIT_MAC_BYTES];
	int64_t seq;
	int ret = -1, began = 0;

	if (st_sql_exec(log->db, "BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	if (chain_head(log->db, &seq, hash, mac, err) || audit_checkpoint_head(log->db, cp, err))
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

/* ---- Recovery ------------------------------------------------------------------------- */

/* Size and SHA-256 of the file at path (never through a symlink). */
static int file_digest(const char *path, int64_t *size, unsigned char *sha,
		       struct st_error *err)
{
	crypto_hash_sha256_state h;
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ret = -1;
	ssize_t n;

	*size = 0;
	if (fd < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", path, strerror(errno));
	crypto_hash_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&h, buf, (size_t)n);
		*size += n;
	}
	if (n < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	crypto_hash_sha256_final(&h, sha);
	ret = 0;
out:
	close(fd);
	return ret;
}

static const char *const state_names[] = {"usable",   "missing", "empty",    "truncated",
					  "replaced", "foreign", "damaged"};

/* Writes the new log into log->path (a temporary name): the schema, the public key, and
 * record 1 saying what was recovered, signed. */
static int recover_write(struct audit_log *log, const struct audit_actor *actor,
			 const char *reason, const char *counts, const char *object,
			 struct st_error *err)
{
	unsigned char hash[AUDIT_HASH_BYTES], mac[AUDIT_MAC_BYTES];
	char hex[2 * AUDIT_PK_BYTES + 1];
	struct audit_checkpoint cp;
	struct audit_row r = {0};
	int64_t seq;
	int ret = -1, began = 0;

	if (sqlite3_open_v2(log->path, &log->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		st_error_set(err, ST_E_SYSTEM, "cannot open '%s': %s", log->path,
			     log->db ? sqlite3_errmsg(log->db) : "out of memory");
		goto out;
	}
	if (st_sql_exec(log->db, "PRAGMA synchronous = FULL; BEGIN IMMEDIATE", err))
		goto out;
	began = 1;
	sodium_bin2hex(hex, sizeof(hex), log->pk, sizeof(log->pk));
	if (st_sql_exec(log->db, (const char *)st_embed_audit_v1, err) ||
	    st_sql_exec(log->db, "PRAGMA user_version = " STR(AUDIT_SCHEMA_VERSION), err) ||
	    meta_put(log->db, "public_key", hex, err))
		goto out;
	r.ts_ms = audit_now_ms();
	r.actor = actor->name;
	r.uid = (int64_t)actor->uid;
	r.role = audit_role_name(actor->role);
	r.action = "audit.recover";
	r.object = object;
	r.purpose = reason;
	r.outcome = "ok";
	r.counts = counts;
	r.host = log->host;
	r.pid = (int64_t)getpid();
	r.version = log->version;
	if (append_locked(log, &r, 0, err) || chain_head(log->db, &seq, hash, mac, err) ||
	    sign_head(log, seq, hash, 0, &cp, err))
		goto out;
	if (st_sql_exec(log->db, "COMMIT", err))
		goto out;
	began = 0;
	ret = 0;
out:
	if (began)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	if (log->db)
		st_sql_cache_drop(log->db);
	if (log->db && sqlite3_close(log->db) != SQLITE_OK && !ret)
		ret = st_error_set(err, ST_E_SYSTEM, "cannot close '%s'", log->path);
	log->db = NULL;
	return ret;
}

/* Renames from to to when from exists. */
static int move_aside(const char *from, const char *to, struct st_error *err)
{
	if (rename(from, to) && errno != ENOENT)
		return st_error_set(err, ST_E_SYSTEM, "cannot move '%s' to '%s': %s", from, to,
				    strerror(errno));
	return 0;
}

int audit_recover(const char *state_dir, const char *version, const struct audit_actor *actor,
		  const char *reason, struct audit_recovery *out, struct st_error *err)
{
	char sha[2 * AUDIT_HASH_BYTES + 1], counts[1536], stamp[32], from[1200], to[1200];
	struct audit_log *log = NULL, *probe = NULL;
	const char *base;
	struct stat sb;
	struct tm tm;
	time_t now = time(NULL);
	int ret = -1, state, fd, n;

	memset(out, 0, sizeof(*out));
	if (!log_open(&probe, state_dir, version, 0, &state, err)) {
		audit_free(probe);
		return st_error_set(err, ST_E_INVALID,
				    "the audit log in '%s' opens under the workspace's audit key; there "
				    "is nothing to recover (run 'steward audit verify')",
				    state_dir);
	}
	if (state == AUDIT_LOG_USABLE)
		return -1; /* err says why it does not open */
	st_error_init(err);
	out->old_state = state;
	if (!(log = log_new(state_dir, version, 0, err)))
		return -1;
	if (key_load(log, err))
		goto out;
	protect(log->sk, &log->sk_prot, PROT_RO);
	if (derive_mac_key(log, err))
		goto out;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (!lstat(log->path, &sb)) {
		if (file_digest(log->path, &out->old_size, out->old_sha256, err))
			goto out;
		for (int i = 1; i < 100; i++) {
			n = i == 1 ? snprintf(out->moved_to, sizeof(out->moved_to), "%s.bad-%s",
					      log->path, stamp)
				   : snprintf(out->moved_to, sizeof(out->moved_to), "%s.bad-%s-%d",
					      log->path, stamp, i);
			if (n < 0 || (size_t)n >= sizeof(out->moved_to) - 8) {
				st_error_set(err, ST_E_SYSTEM, "the path '%s' is too long", log->path);
				goto out;
			}
			if (lstat(out->moved_to, &sb))
				break;
		}
		sodium_bin2hex(sha, sizeof(sha), out->old_sha256, sizeof(out->old_sha256));
		base = strrchr(out->moved_to, '/');
		base = base ? base + 1 : out->moved_to;
		snprintf(counts, sizeof(counts),
			 "{\"old_state\":\"%s\",\"old_file\":\"%s\",\"old_size\":%lld,"
			 "\"old_sha256\":\"%s\"}",
			 state_names[state], base, (long long)out->old_size, sha);
	} else {
		base = NULL;
		snprintf(counts, sizeof(counts), "{\"old_state\":\"%s\"}", state_names[state]);
	}
	/* The new log is written under a temporary name, then renamed into place. */
	snprintf(from, sizeof(from), "%s", log->path);
	n = snprintf(to, sizeof(to), "%s.recover", from);
	if (n < 0 || (size_t)n >= sizeof(to)) {
		st_error_set(err, ST_E_SYSTEM, "the path '%s' is too long", from);
		goto out;
	}
	unlink(to); /* left by a recovery that failed */
	fd = open(to, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", to, strerror(errno));
		goto out;
	}
	close(fd);
	st_free(log->path);
	if (!(log->path = st_strdup(to))) {
		st_error_oom(err);
		unlink(to);
		goto out;
	}
	if (recover_write(log, actor, reason, counts, base, err)) {
		unlink(to);
		goto out;
	}
	if (base) {
		char a[1300], b[1300];

		snprintf(a, sizeof(a), "%s-wal", from);
		snprintf(b, sizeof(b), "%s-wal", out->moved_to);
		if (move_aside(from, out->moved_to, err) || move_aside(a, b, err))
			goto out;
		snprintf(a, sizeof(a), "%s-shm", from);
		unlink(a);
	}
	if (rename(to, from)) {
		st_error_set(err, ST_E_SYSTEM, "cannot move '%s' to '%s': %s", to, from,
			     strerror(errno));
		goto out;
	}
	fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	ret = 0;
out:
	audit_free(log);
	return ret;
}

int audit_write_json(const char *path, const char *what, const struct st_output_guard *g,
		     struct json_t *doc, int wipe, struct st_error *err)
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
	ret = st_file_write_output(path, what, g, text, len + 1, err);
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
