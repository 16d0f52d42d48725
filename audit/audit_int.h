/* Internals shared by the audit library's files; not part of its public API. */
#ifndef AUDIT_INT_H
#define AUDIT_INT_H

#include "error.h"

#include <stddef.h>

struct json_t;
struct sqlite3;
struct sqlite3_stmt;
struct audit_row;
struct audit_checkpoint;

/* Writes doc as indented JSON and a newline to path (mode 0600) through a temporary file
 * and rename; with wipe, the text is wiped from memory afterwards (it holds personal
 * data). NULL doc means out of memory. Returns 0, or -1 with err. */
int audit_write_json(const char *path, struct json_t *doc, int wipe, struct st_error *err);

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

#endif
