/* API tokens for `steward serve`: made once and shown once, kept as a hash in audit.db with
 * a mac under the audit key (so a writer of audit.db without the key can neither mint one
 * nor bring a revoked one back), checked on every request over TCP, revocable. */
#include "audit.h"
#include "audit_int.h"
#include "alloc.h"
#include "sql.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_PREFIX "stw_"
#define ID_BYTES 8      /* the public part: 16 hex digits */
#define SECRET_BYTES 32 /* the secret part: 43 base64url characters */
#define TOKEN_DOMAIN "steward.token.v1"
#define SECRET_B64 sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
#define VERIFIED_MAX 8 /* token rows a thread remembers having verified */

/* Digests of the token rows this thread found intact: each over the log's public key and
 * every column of the row, its mac included. A row read again byte for byte the same, under
 * the same key, verifies the same, so its mac is not computed again: the server checks a
 * token on every request, and the mac key is only readable (an mprotect() each way, which
 * flushes every CPU's TLB) while a mac is computed. Nothing secret is kept. */
static _Thread_local struct {
	unsigned char digest[VERIFIED_MAX][crypto_generichash_BYTES];
	unsigned next, n;
} verified;

/* The digest of a token row that verified or is to be verified (see verified). */
static void row_digest(const unsigned char *pk, const char *id, const struct audit_token *t,
		       const unsigned char *hash, const unsigned char *mac, unsigned char *out)
{
	crypto_generichash_state h;
	unsigned char b[24];

	audit_put_be64(b, t->created_ms);
	audit_put_be64(b + 8, t->expires_ms);
	audit_put_be64(b + 16, t->revoked_ms);
	crypto_generichash_init(&h, NULL, 0, crypto_generichash_BYTES);
	crypto_generichash_update(&h, pk, AUDIT_PK_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)id, strlen(id) + 1);
	crypto_generichash_update(&h, (const unsigned char *)t->user, strlen(t->user) + 1);
	crypto_generichash_update(&h, hash, crypto_hash_sha256_BYTES);
	crypto_generichash_update(&h, b, sizeof(b));
	crypto_generichash_update(&h, mac, AUDIT_MAC_BYTES);
	crypto_generichash_final(&h, out, crypto_generichash_BYTES);
}

static int was_verified(const unsigned char *digest)
{
	for (unsigned i = 0; i < verified.n; i++)
		if (!memcmp(verified.digest[i], digest, crypto_generichash_BYTES))
			return 1;
	return 0;
}

static void remember_verified(const unsigned char *digest)
{
	memcpy(verified.digest[verified.next], digest, crypto_generichash_BYTES);
	verified.next = (verified.next + 1) % VERIFIED_MAX;
	if (verified.n < VERIFIED_MAX)
		verified.n++;
}

/* The mac of a token row: keyed BLAKE2b under the log's subkey over every column but the mac,
 * revoked included, so a changed row is never accepted. */
static void token_mac(const unsigned char *mk, const char *id, const char *user,
		      const unsigned char *hash, int64_t created, int64_t expires, int64_t revoked,
		      unsigned char *out)
{
	crypto_generichash_state h;
	unsigned char b[24];

	audit_put_be64(b, created);
	audit_put_be64(b + 8, expires);
	audit_put_be64(b + 16, revoked);
	crypto_generichash_init(&h, mk, AUDIT_MAC_BYTES, AUDIT_MAC_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)TOKEN_DOMAIN, sizeof(TOKEN_DOMAIN));
	crypto_generichash_update(&h, (const unsigned char *)id, strlen(id) + 1);
	crypto_generichash_update(&h, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&h, hash, crypto_hash_sha256_BYTES);
	crypto_generichash_update(&h, b, sizeof(b));
	crypto_generichash_final(&h, out, AUDIT_MAC_BYTES);
	sodium_memzero(&h, sizeof(h));
}

int audit_token_new(struct audit_log *log, const char *user, int64_t expires_ms, char *out,
		    size_t outn, char *id_out, struct st_error *err)
{
	unsigned char id_raw[ID_BYTES], secret[SECRET_BYTES], hash[crypto_hash_sha256_BYTES],
		mac[AUDIT_MAC_BYTES];
	char id[2 * ID_BYTES + 1], b64[SECRET_B64];
	sqlite3 *db = audit_db(log);
	sqlite3_stmt *st = NULL;
	const unsigned char *mk = NULL;
	int64_t now = audit_now_ms();
	int ret = -1;

	if (outn < AUDIT_TOKEN_MAX)
		return st_error_set(err, ST_E_SYSTEM, "no room for a token");
	if (!user[0] || strlen(user) >= 64)
		return st_error_set(err, ST_E_INVALID, "'%s' is not a user name", user);
	randombytes_buf(id_raw, sizeof(id_raw));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(id, sizeof(id), id_raw, sizeof(id_raw));
	sodium_bin2base64(b64, sizeof(b64), secret, sizeof(secret),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(hash, secret, sizeof(secret));
	if (!(mk = audit_mac_key(db))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	token_mac(mk, id, user, hash, now, expires_ms, 0, mac);
	if (st_sql_prepare(db, &st,
			    "INSERT INTO tokens (id, user, hash, created_ms, expires_ms, revoked_ms, mac)"
			    " VALUES (?, ?, ?, ?, ?, 0, ?)",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, expires_ms);
	sqlite3_bind_blob(st, 6, mac, sizeof(mac), SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the token");
		goto out;
	}
	snprintf(out, outn, TOKEN_PREFIX "%s_%s", id, b64);
	snprintf(id_out, 2 * ID_BYTES + 1, "%s", id);
	ret = 0;
out:
	if (mk)
		audit_mac_key_done(db);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(b64, sizeof(b64));
	sqlite3_finalize(st);
	return ret;
}

/* Reads token id's row of log into *t and checks its mac (unless this thread found the
 * same row intact under the same key before). Returns 1 found and intact, 0 missing, -1 with
 * err (a changed row is ST_E_DENIED). */
static int token_row(struct audit_log *log, const char *id, struct audit_token *t,
		     unsigned char *hash, struct st_error *err)
{
	unsigned char mac[AUDIT_MAC_BYTES], digest[crypto_generichash_BYTES];
	sqlite3 *db = audit_db(log);
	sqlite3_stmt *st = NULL;
	const unsigned char *mk = NULL;
	int ret = -1, rc;

	memset(t, 0, sizeof(*t));
	if (st_sql_cached(db, &st,
			    "SELECT user, hash, created_ms, expires_ms, revoked_ms, mac FROM tokens"
			    " WHERE id = ?",
			    err))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		st_sql_error(err, db, "cannot read the tokens");
		goto out;
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->user, sizeof(t->user), "%s",
		 sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
	t->created_ms = sqlite3_column_int64(st, 2);
	t->expires_ms = sqlite3_column_int64(st, 3);
	t->revoked_ms = sqlite3_column_int64(st, 4);
	if (sqlite3_column_bytes(st, 1) != crypto_hash_sha256_BYTES ||
	    sqlite3_column_bytes(st, 5) != AUDIT_MAC_BYTES) {
		st_error_set(err, ST_E_DENIED, "token '%s' was changed in audit.db", id);
		goto out;
	}
	memcpy(hash, sqlite3_column_blob(st, 1), crypto_hash_sha256_BYTES);
	row_digest(audit_log_public_key(log), id, t, hash, sqlite3_column_blob(st, 5), digest);
	if (was_verified(digest)) {
		ret = 1;
		goto out;
	}
	if (!(mk = audit_mac_key(db))) {
		st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
		goto out;
	}
	token_mac(mk, id, t->user, hash, t->created_ms, t->expires_ms, t->revoked_ms, mac);
	if (crypto_verify_32(mac, sqlite3_column_blob(st, 5))) {
		st_error_set(err, ST_E_DENIED, "token '%s' was changed in audit.db", id);
		goto out;
	}
	remember_verified(digest);
	ret = 1;
out:
	if (mk)
		audit_mac_key_done(db);
	st_sql_done(st);
	return ret;
}

int audit_token_check(struct audit_log *log, const char *token, struct audit_token *t,
		      struct st_error *err)
{
	unsigned char secret[SECRET_BYTES + 8], want[crypto_hash_sha256_BYTES],
		got[crypto_hash_sha256_BYTES];
	char id[2 * ID_BYTES + 1];
	size_t len = strlen(token), n = 0;
	const char *end = NULL;
	int r, ret = -1;

	if (len != strlen(TOKEN_PREFIX) + 2 * ID_BYTES + 1 + SECRET_B64 - 1 ||
	    strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) ||
	    token[strlen(TOKEN_PREFIX) + 2 * ID_BYTES] != '_')
		return st_error_set(err, ST_E_DENIED, "not a steward token");
	memcpy(id, token + strlen(TOKEN_PREFIX), 2 * ID_BYTES);
	id[2 * ID_BYTES] = '\0';
	if (strspn(id, "0123456789abcdef") != 2 * ID_BYTES ||
	    sodium_base642bin(secret, sizeof(secret), token + strlen(TOKEN_PREFIX) + 2 * ID_BYTES + 1,
			      SECRET_B64 - 1, NULL, &n, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
	    n != SECRET_BYTES || *end) {
		st_error_set(err, ST_E_DENIED, "not a steward token");
		goto out;
	}
	if ((r = token_row(log, id, t, want, err)) < 0)
		goto out;
	crypto_hash_sha256(got, secret, SECRET_BYTES);
	/* A missing id and a wrong secret read alike, and take alike. */
	if (!r || crypto_verify_32(got, want)) {
		st_error_set(err, ST_E_DENIED, "unknown token");
		goto out;
	}
	if (t->revoked_ms) {
		st_error_set(err, ST_E_DENIED, "token '%s' was revoked", id);
		goto out;
	}
	if (t->expires_ms && audit_now_ms() >= t->expires_ms) {
		st_error_set(err, ST_E_DENIED, "token '%s' has expired", id);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(secret, sizeof(secret));
	return ret;
}

int audit_token_revoke(struct audit_log *log, const char *id, struct st_error *err)
{
	unsigned char hash[crypto_hash_sha256_BYTES], mac[AUDIT_MAC_BYTES];
	struct audit_token t;
	sqlite3 *db = audit_db(log);
	sqlite3_stmt *st = NULL;
	const unsigned char *mk = NULL;
	int64_t now = audit_now_ms();
	int r, ret = -1;

	if ((r = token_row(log, id, &t, hash, err)) < 0)
		return -1;
	if (!r)
		return st_error_set(err, ST_E_NOTFOUND, "no token '%s'", id);
	if (t.revoked_ms)
		return 0; /* revoked already: nothing to do */
	if (!(mk = audit_mac_key(db)))
		return st_error_set(err, ST_E_SYSTEM, "the audit mac key is not loaded");
	token_mac(mk, id, t.user, hash, t.created_ms, t.expires_ms, now, mac);
	if (st_sql_prepare(db, &st, "UPDATE tokens SET revoked_ms = ?, mac = ? WHERE id = ?", err))
		goto out;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_blob(st, 2, mac, sizeof(mac), SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		st_sql_error(err, db, "cannot write the token");
		goto out;
	}
	ret = 0;
out:
	audit_mac_key_done(db);
	sqlite3_finalize(st);
	return ret;
}

int audit_token_each(struct audit_log *log, int (*fn)(void *u, const struct audit_token *t),
		     void *u, struct st_error *err)
{
	sqlite3 *db = audit_db(log);
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;

	if (st_sql_prepare(db, &st,
			    "SELECT id, user, created_ms, expires_ms, revoked_ms FROM tokens"
			    " ORDER BY created_ms, id",
			    err))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_token t = {0};

		snprintf(t.id, sizeof(t.id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(t.user, sizeof(t.user), "%s", (const char *)sqlite3_column_text(st, 1));
		t.created_ms = sqlite3_column_int64(st, 2);
		t.expires_ms = sqlite3_column_int64(st, 3);
		t.revoked_ms = sqlite3_column_int64(st, 4);
		if (fn(u, &t))
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		st_sql_error(err, db, "cannot read the tokens");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
