/* Internals shared by the audit library's files; not part of its public API. */
#ifndef AUDIT_INT_H
#define AUDIT_INT_H

#include "error.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;
struct sqlite3;
struct sqlite3_stmt;
struct audit_row;
struct audit_checkpoint;

struct st_output_guard;
/* Writes doc as indented JSON and a newline to path (mode 0600) through
 * st_file_write_output() with guard g (what names the file in messages); with wipe, the
 * text is wiped from memory afterwards (it holds personal data). NULL doc means out of
 * memory. Returns 0, or -1 with err. */
int audit_write_json(const char *path, const char *what, const struct st_output_guard *g,
		     struct json_t *doc, int wipe, struct st_error *err);

/* The log's canonical encoding and reads, defined in log.c for verify.c. */

/* Writes to out (AUDIT_HASH_BYTES) the hash of record r chained from prev: SHA-256 over
 * the domain tag, seq, prev and every column in table order (see log.c). */
void audit_record_hash(const struct audit_row *r, const unsigned char *prev, unsigned char *out);
/* Returns 1 when cp's signature verifies under its own public key over its seq, hash and
 * time, 0 otherwise. */
int audit_checkpoint_valid(const struct audit_checkpoint *cp);
/* The checkpoints columns audit_read_checkpoint() reads, in its order. */
#define AUDIT_CHECKPOINT_COLUMNS "seq, ts_ms, hash, public_key, signature, root"
/* Fills cp from the current row of st (AUDIT_CHECKPOINT_COLUMNS; a NULL root is a format 1
 * checkpoint). Returns 0, or -1 when a blob has the wrong length (cp->seq and ts_ms are
 * still set). */
int audit_read_checkpoint(struct sqlite3_stmt *st, struct audit_checkpoint *cp);
/* Copies the meta value of key into out (n bytes); empty when there is none. Returns 0,
 * or -1 with err when db cannot be read. */
int audit_meta_get(struct sqlite3 *db, const char *key, char *out, size_t n,
		   struct st_error *err);

struct audit_log;
/* The public half of log's signing key (AUDIT_PK_BYTES): it names the key, and with it the
 * mac subkey derived from the same seed (log.c). */
const unsigned char *audit_log_public_key(const struct audit_log *log);

/* The columns of a pending row, in the order the pending mac encodes them. */
#define AUDIT_PENDING_COLUMNS \
	"ts_ms, actor, uid, role, action, object, purpose, host, pid, version, pii"

/* Writes v as 8 big-endian bytes at at, the encoding of integers in every hashed or signed
 * message of the log (log.c). Returns 8. */
size_t audit_put_be64(unsigned char *at, int64_t v);

/* The key binding (log.c). AUDIT_MAC_BYTES of keyed BLAKE2b under a subkey of audit.key. */
#define AUDIT_MAC_BYTES 32
/* Writes to out the mac of record seq: keyed BLAKE2b under mk over the domain tag, seq, the
 * previous record's mac (zeros for seq 1), its hash and its covers digest (zeros when
 * covers is NULL). See docs/audit.md. */
void audit_record_mac(const unsigned char *mk, int64_t seq, const unsigned char *prev_mac,
		      const unsigned char *hash, const unsigned char *covers, unsigned char *out);
/* The same in two steps, for many records: the BLAKE2b state keyed with mk (secret: wipe it
 * with sodium_memzero()), then each record's mac from a copy of it. */
void audit_mac_keyed(crypto_generichash_state *keyed, const unsigned char *mk);
void audit_record_mac_keyed(const crypto_generichash_state *keyed, int64_t seq,
			    const unsigned char *prev_mac, const unsigned char *hash,
			    const unsigned char *covers, unsigned char *out);
/* Writes to out the mac of a checkpoint: keyed BLAKE2b under mk over the domain tag, the
 * checkpoint's signed message and its signature. It lets the key's holder check a
 * checkpoint without an Ed25519 verification; only the key's holder can make either. */
void audit_checkpoint_mac(const unsigned char *mk, const struct audit_checkpoint *cp,
			  unsigned char *out);
/* The mac subkey of the open log whose database is db, readable until
 * audit_mac_key_done(db); NULL when db is not an open log's (a copy, an image): the macs
 * are then not checked. */
const unsigned char *audit_mac_key(struct sqlite3 *db);
void audit_mac_key_done(struct sqlite3 *db);
/* Returns 1 when the mac of pending row id (its columns read from st at column at, as
 * log.c's PENDING_COLUMNS, then its mac) verifies under mk, 0 otherwise. */
int audit_pending_valid(const unsigned char *mk, int64_t id, struct sqlite3_stmt *st, int at);

/* Covered rows (cover.c): the tables whose rows are bound to the record of the command that
 * wrote them. */
#define AUDIT_COVERED_TABLES 5
#define AUDIT_KEY_MAX 1024 /* bytes of an encoded primary key */
extern const char *const audit_covered_tables[AUDIT_COVERED_TABLES];
/* Creates db's temporary triggers that note every row a command writes to a covered table
 * in pending_rows, under the pending id set with audit_cover_set_pending() (0 at first).
 * Only this connection's writes are noted. audit_begin() sets them up for the request.*
 * actions, the ones that write covered tables. Returns 0, or -1 with err. */
int audit_cover_setup(struct sqlite3 *db, struct st_error *err);
int audit_cover_set_pending(struct sqlite3 *db, int64_t pending_id, struct st_error *err);
/* Inside a write transaction: lists every row noted under pending_id in `covered` under
 * record seq (a deleted row as a deletion), drops the notes, and writes the covers digest of
 * seq to out, with *has 1; *has 0 when nothing was noted or pending_id is 0 (no recorded
 * command). Entries already under seq or later were forged and are dropped first. Returns
 * 0, or -1 with err. */
int audit_cover_claim(struct sqlite3 *db, int64_t pending_id, int64_t seq, unsigned char *out,
		      int *has, struct st_error *err);
/* Lists every row of every covered table under seq (upgrading a log), as claim does. */
int audit_cover_all(struct sqlite3 *db, int64_t seq, unsigned char *out, int *has,
		    struct st_error *err);
/* The covers digest: SHA-256 over the domain tag and, for each entry of a record in
 * (tbl, key) order, the table, the key, and the row digest (NULL: deleted). */
void audit_covers_init(crypto_hash_sha256_state *h);
void audit_covers_add(crypto_hash_sha256_state *h, const char *tbl, const void *key,
		      size_t keylen, const unsigned char *digest);
/* Checks every covered table against the newest entry of each row's key: calls bad with the
 * seq of the record concerned (0 when none) and what is wrong for a row changed, deleted or
 * written by no record. Rows a command under way is writing are skipped. Returns 0, or -1
 * with err when db cannot be read. */
int audit_cover_check(struct sqlite3 *db, void (*bad)(void *ctx, int64_t seq, const char *msg),
		      void *ctx, struct st_error *err);

#endif
