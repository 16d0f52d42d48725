/* steward's audit library: the hash-chained, signed access log in audit.db, roles and
 * permissions, data-subject requests and compliance reports. It never prints or exits, and
 * never stores a raw personal value: subjects are pseudonyms everywhere in audit.db. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "error.h"

struct sqlite3;

/* ---- Roles (roles.c) ---------------------------------------------------------------- */

/* Roles, weakest first: each one may do everything the ones before it may. */
enum audit_role {
	AUDIT_ROLE_NONE,     /* not in steward.yaml: denied everything */
	AUDIT_ROLE_VIEWER,   /* search, show, lineage */
	AUDIT_ROLE_ENGINEER, /* + load, ingest */
	AUDIT_ROLE_STEWARD,  /* + pii map/scan/check, keys */
	AUDIT_ROLE_DPO,      /* + requests, pseudonym look-ups, audit, reports */
	AUDIT_ROLE_ADMIN     /* everything */
};

/* The name of a role ("viewer", ...; "none" for AUDIT_ROLE_NONE). Static string. */
const char *audit_role_name(int role);
/* The role called name, or -1. */
int audit_role_parse(const char *name);
/* The weakest role allowed to perform action (an audit vocabulary word such as
 * "catalog.search"), or -1 when action is not in the vocabulary. */
int audit_action_role(const char *action);
/* Whether action reads or changes personal data, so that its record ends in a signed
 * checkpoint. */
int audit_action_touches_pii(const char *action);
/* Whether action's only effect is what it prints (search, show, lineage, lists): such a
 * command may be recorded by one audit_append() before its output is released, instead of
 * audit_begin() and audit_end() around it. */
int audit_action_output_only(const char *action);

/* Who is running this process: the login name of the real uid from the password database
 * (never from the environment), or "uid:N" when it has none. */
struct audit_actor {
	char name[64];
	uid_t uid;
	int role; /* enum audit_role, from audit_role_resolve() */
};

/* Fills actor's name and uid for the real uid. */
void audit_actor_self(struct audit_actor *actor);
/* Sets actor->role from the `roles:` section of cfg: `users:` maps login names and
 * `groups:` maps group names to roles; the strongest that applies wins, and someone in
 * neither gets AUDIT_ROLE_NONE. Returns 0, or -1 with err (ST_E_INVALID, located) when the
 * section is malformed or names an unknown role. */
int audit_role_resolve(const struct catalog_config *cfg, const char *config_path,
		       struct audit_actor *actor, struct st_error *err);

/* ---- The log (log.c) ---------------------------------------------------------------- */

enum audit_outcome { AUDIT_OK, AUDIT_DENIED, AUDIT_ERROR };

#define AUDIT_HASH_BYTES 32
#define AUDIT_PK_BYTES 32
#define AUDIT_SIG_BYTES 64
/* A checkpoint is signed every this many records when steward.yaml sets no
 * audit.checkpoint_every. */
#define AUDIT_CHECKPOINT_EVERY 1000

/* What a command is; the library adds the time, host, pid and version. Strings are
 * borrowed. object and purpose may be NULL and must never hold a raw personal value. */
struct audit_entry {
	const struct audit_actor *actor;
	const char *action; /* vocabulary word, e.g. "pii.ingest" */
	const char *object; /* a dataset, a category, a request id, ... */
	const char *purpose;
};

struct audit_log;

/* Opens (creating on first use) audit.db and the checkpoint signing key audit.key in
 * state_dir. version is this program's version, stored in every record. Fails closed:
 * an audit.db without owner write permission, a signing key readable or writable by
 * others, or a database that cannot be written is refused (ST_E_DENIED or ST_E_SYSTEM),
 * because a command that cannot be recorded must not run. While audit.key exists, a
 * missing or empty audit.db, a fresh one, or one whose record 1 does not verify under the
 * key is refused too (ST_E_DENIED, naming 'steward audit recover'). Rows left in `pending`
 * by killed processes are chained as interrupted errors. checkpoint_every is how often a
 * checkpoint is signed (0: AUDIT_CHECKPOINT_EVERY). Returns 0 with *out (free with
 * audit_free()), or -1 with err. */
int audit_open(struct audit_log **out, const char *state_dir, const char *version,
	       long checkpoint_every, struct st_error *err);
/* Closes the log. A command begun and not ended stays pending, and is chained as
 * interrupted by the next open. NULL is fine. */
void audit_free(struct audit_log *log);
/* The underlying database, for the request and report code. */
struct sqlite3 *audit_db(struct audit_log *log);

/* Writes e as a pending command before it returns any data. Returns 0, or -1 with err:
 * the caller must then not go on. At most one command is pending per handle. */
int audit_begin(struct audit_log *log, const struct audit_entry *e, struct st_error *err);
/* Ends the pending command: appends its chained record with outcome, reason (a short
 * cause, no PII; may be NULL) and counts (a small JSON object, may be NULL), and signs a
 * checkpoint when the action touches PII or the periodic interval is reached. Returns 0,
 * or -1 with err (the pending row then stays, to be chained as interrupted). */
int audit_end(struct audit_log *log, int outcome, const char *reason, const char *counts,
	      struct st_error *err);
/* Appends a finished record at once (a denied attempt, or a command whose output was held
 * until now). Same contract as audit_end(): the record is durable when it returns 0. When
 * the caller has begun a write transaction on audit_db(log) (BEGIN IMMEDIATE), the record
 * joins it and is kept only if the caller commits (and syncs it with audit_free()); bulk
 * writers use this. */
int audit_append(struct audit_log *log, const struct audit_entry *e, int outcome,
		 const char *reason, const char *counts, struct st_error *err);

/* One finished record of a batch: what audit_append() takes. */
struct audit_item {
	const struct audit_entry *e;
	int outcome;
	const char *reason, *counts;
};
/* Appends n finished records in one write transaction and one sync, in order, each chained,
 * mac'd and checkpointed exactly as audit_append() would (the server's group commit,
 * group.c). All or none: when it returns 0 every record is durable (in the WAL: it never
 * folds the WAL into audit.db; call audit_fold() after); on -1 (with err) none was written.
 * Not inside a transaction of the caller's. */
int audit_append_many(struct audit_log *log, const struct audit_item *items, size_t n,
		      struct st_error *err);
/* Folds the WAL into audit.db and empties it when its last commit left it past the fold
 * size, as audit_end() does; waits for no one (another connection's reader or writer leaves
 * it as it is, to be tried again). Durability is not at stake: the frames were synced. */
void audit_fold(struct audit_log *log);

/* Group commit for the threads of one process that share a log file (the server's workers,
 * each with its own audit_log of the same audit.db): concurrent appends are written by
 * whichever thread comes first, in one transaction and one sync (group.c). */
struct audit_group;
/* A new group (NULL on out of memory); free with audit_group_free() once no thread uses it. */
struct audit_group *audit_group_new(void);
void audit_group_free(struct audit_group *g);
/* audit_append() through group g: the record joins those queued by other threads, and one of
 * them (perhaps this one, with its log) appends the batch with audit_append_many(). Returns
 * 0 once this record is durable, or -1 with err when it was not written. */
int audit_group_append(struct audit_group *g, struct audit_log *log, const struct audit_entry *e,
		       int outcome, const char *reason, const char *counts, struct st_error *err);

/* Why audit.db cannot be used while the workspace has its audit key: the states that
 * audit_recover() repairs. */
enum audit_log_state {
	AUDIT_LOG_USABLE,   /* it can be used, or fails for another reason */
	AUDIT_LOG_MISSING,  /* removed */
	AUDIT_LOG_EMPTY,    /* 0 bytes, or a log without records made without the key */
	AUDIT_LOG_TRUNCATED, /* shorter than its SQLite header says */
	AUDIT_LOG_REPLACED, /* record 1 does not verify under the key */
	AUDIT_LOG_FOREIGN,  /* signed with another key */
	AUDIT_LOG_DAMAGED   /* not a database, or a damaged one */
};

/* What audit_recover() did. */
struct audit_recovery {
	int old_state;         /* enum audit_log_state */
	char moved_to[1024];   /* where the old audit.db went; empty when it was missing */
	int64_t old_size;      /* its size in bytes */
	unsigned char old_sha256[AUDIT_HASH_BYTES]; /* and SHA-256 */
};

/* Starts a new audit.db in state_dir when the old one cannot be used while the workspace
 * has its audit key (missing, empty, replaced, signed with another key, or damaged), for
 * an admin: the old file (with its -wal) is moved aside to audit.db.bad-TIME, and the new
 * log's record 1, action audit.recover by actor with reason as its purpose (no personal
 * data), names the old file's state, size and SHA-256, and is signed by a checkpoint.
 * The key stays. Returns 0 with *out filled, or -1 with err: ST_E_INVALID when the log is
 * usable (nothing to recover), else the error that stops the log from opening or the
 * recovery. */
int audit_recover(const char *state_dir, const char *version, const struct audit_actor *actor,
		  const char *reason, struct audit_recovery *out, struct st_error *err);

/* A signed checkpoint. Format 1 signs seq, hash and ts_ms; format 2 (written since the
 * Merkle tree) also the tree size (= seq: records are the leaves 0..seq-1) and the tree's
 * root. docs/audit.md gives both byte for byte. */
struct audit_checkpoint {
	int64_t seq, ts_ms;
	unsigned char hash[AUDIT_HASH_BYTES];
	unsigned char public_key[AUDIT_PK_BYTES];
	unsigned char signature[AUDIT_SIG_BYTES];
	int version;       /* 1 or 2 */
	int64_t tree_size; /* version 2: seq; 0 in version 1 */
	unsigned char root[AUDIT_HASH_BYTES]; /* version 2: the Merkle root; zeros in version 1 */
};

/* Signs the head of the chain unless it already has a format 2 checkpoint, and fills cp
 * with the head checkpoint. A format 1 checkpoint of the head (left by a log made before
 * the Merkle tree) is replaced by a format 2 one over the same record. Returns 0 (seq 0
 * when the log is empty), or -1 with err. */
int audit_checkpoint(struct audit_log *log, struct audit_checkpoint *cp, struct st_error *err);
/* The newest checkpoint in db, or seq 0 when there is none. Returns 0, or -1 with err. */
int audit_checkpoint_head(struct sqlite3 *db, struct audit_checkpoint *cp, struct st_error *err);
/* The last record of db: its seq and time (both 0 when the log is empty), read without
 * verifying anything. Returns 0, or -1 with err. */
int audit_head(struct sqlite3 *db, int64_t *seq, int64_t *ts_ms, struct st_error *err);
struct st_output_guard;
/* Writes cp to path as a small JSON document for someone else to hold (the anchor),
 * through st_file_write_output() with guard g (a path the user named). Returns 0, or -1
 * with err. */
int audit_checkpoint_export(const struct audit_checkpoint *cp, const char *path,
			    const struct st_output_guard *g, struct st_error *err);
/* Reads an anchor written by audit_checkpoint_export() and checks its own signature.
 * Returns 0, or -1 with err (ST_E_INVALID for a malformed or badly signed anchor). */
int audit_anchor_read(const char *path, struct audit_checkpoint *cp, struct st_error *err);

struct audit_verify_result {
	int64_t records;     /* records read */
	int64_t checkpoints; /* checkpoints checked */
	int64_t signatures;  /* of which Ed25519 signatures verified (the others by their mac) */
	int64_t bad_seq;     /* the first seq found wrong; 0 when intact */
	char problem[256];   /* what is wrong there; empty when intact */
	struct audit_checkpoint head; /* the newest valid checkpoint (seq 0 if none) */
	int64_t head_seq;    /* the last record's seq */
	int anchored;        /* an anchor was given and matched */
};

/* Recomputes the whole chain of db and its Merkle tree, every record's covered rows and the
 * request tables and suppression list against them, checks every stored tree node and every
 * checkpoint's hash, (format 2) root and signature, and,
 * when anchor is not NULL, that the log still holds the anchor's record unchanged and was
 * signed by the anchor's key. When db is an open log's (audit_db()), every record's mac and
 * every pending row's mac are checked under its key too, and a checkpoint whose mac verifies
 * under it has only the head's signature checked (res->signatures counts the Ed25519 checks). Returns 0 when intact, 1 when
 * tampered (res->bad_seq and res->problem say where and how), or -1 with err when db cannot
 * be read as an audit log. Reads only; db may be any handle, such as a deserialized image
 * (whose macs are then not checked). */
int audit_verify_db(struct sqlite3 *db, const struct audit_checkpoint *anchor,
		    struct audit_verify_result *res, struct st_error *err);

/* ---- Proofs of the Merkle tree (proof.c, merkle.c) ----------------------------------- */

struct json_t;

/* Builds the inclusion proof of record seq against checkpoint cp (a format 2 checkpoint of
 * db's log; seq <= cp->seq) as a JSON document (docs/audit.md, "Proofs"): the record, its
 * hash (the leaf data), leaf index, tree size, root, the audit path and the checkpoint with
 * its signature and public key. Returns 0 with *out (the caller decrefs it), or -1 with err
 * (ST_E_NOTFOUND when seq is not in the signed tree). */
int audit_prove(struct sqlite3 *db, const struct audit_checkpoint *cp, int64_t seq,
		struct json_t **out, struct st_error *err);
/* Builds the consistency proof that the log of checkpoint cp extends the one of old (both
 * format 2, signed with the same key, old->seq <= cp->seq) as a JSON document. Returns 0
 * with *out, or -1 with err. */
int audit_prove_consistency(struct sqlite3 *db, const struct audit_checkpoint *old,
			    const struct audit_checkpoint *cp, struct json_t **out,
			    struct st_error *err);
/* Writes to root the Merkle root of db's first size (>= 1) records, from the stored tree.
 * Returns 0, or -1 with err. */
int audit_merkle_root_at(struct sqlite3 *db, int64_t size, unsigned char *root,
			 struct st_error *err);

enum audit_proof_type { AUDIT_PROOF_INCLUSION = 1, AUDIT_PROOF_CONSISTENCY };

/* What audit_proof_check() found; the sizes, times and roots are filled as far as read. */
struct audit_proof_result {
	int type;          /* enum audit_proof_type, 0 when unknown */
	int64_t seq;       /* inclusion: the record */
	int64_t tree_size, ts_ms; /* the (new) checkpoint */
	int64_t old_size, old_ts_ms; /* consistency: the old checkpoint */
	unsigned char root[AUDIT_HASH_BYTES], old_root[AUDIT_HASH_BYTES];
	unsigned char public_key[AUDIT_PK_BYTES]; /* the key the signatures were checked with */
	int key_given;      /* public_key was given, not taken from the proof */
	int key_seen;       /* public_key is set */
	int record_checked; /* inclusion: the record's content was hashed to the leaf */
	char problem[256];  /* why the proof is rejected */
};

/* Checks a proof document on its own: every signature (with public_key when not NULL,
 * which every checkpoint must then be signed with; else with the key in the proof), the
 * record's hash, and the path against the signed root(s). Needs no audit log. Returns 0
 * when the proof holds, 1 when it is rejected (res->problem says why). */
int audit_proof_check(struct json_t *doc, const unsigned char *public_key,
		      struct audit_proof_result *res) ST_WUR;
/* Reads a proof document from path (a JSON object with "format": "steward-audit-proof").
 * Returns 0 with *out (the caller decrefs it), or -1 with err (ST_E_NOTFOUND when it cannot
 * be read, ST_E_INVALID when it is not a proof). */
int audit_proof_read(const char *path, struct json_t **out, struct st_error *err);
/* Reads a public key given as 64 hex digits, or as a file holding them or an anchor.
 * Returns 0 with pk (AUDIT_PK_BYTES), or -1 with err. */
int audit_public_key_read(const char *arg, unsigned char *pk, struct st_error *err);

/* One record, as audit_query() reports it. Strings live until the callback returns. */
struct audit_row {
	int64_t seq, ts_ms, uid, pid;
	const char *actor, *role, *action, *object, *purpose, *outcome, *reason, *counts, *host,
		*version;
	int pii;
};

struct audit_filter {
	int64_t since_ms, until_ms; /* 0: unbounded; until is exclusive */
	const char *actor, *action, *object; /* NULL: any; action may end in ".*" */
	const char *outcome;
	int pii_only;
	int64_t limit; /* 0: all */
};

/* Calls cb for every record that passes f, oldest first, until cb returns non-zero.
 * Returns 0, or -1 with err. */
int audit_query(struct sqlite3 *db, const struct audit_filter *f,
		int (*cb)(void *ctx, const struct audit_row *row), void *ctx, struct st_error *err);
/* The outcome's name ("ok", "denied", "error"). */
const char *audit_outcome_name(int outcome);
/* The current UTC time in milliseconds. */
int64_t audit_now_ms(void);

/* ---- Dates (dates.c) ---------------------------------------------------------------- */

/* A calendar date (proleptic Gregorian, UTC). */
struct audit_date {
	int y, m, d;
};

/* Parses YYYY-MM-DD (years 1970 to 9000), checking the day against the month (leap years
 * included). Returns 0, or -1 when s is not such a date. */
int audit_date_parse(const char *s, struct audit_date *out);
/* Writes YYYY-MM-DD into out (11 bytes). */
void audit_date_format(struct audit_date d, char *out);
/* d plus months calendar months, clamped to the end of the month: 31 Jan + 1 month is
 * 28 Feb, or 29 Feb in a leap year. */
struct audit_date audit_date_add_months(struct audit_date d, int months);
/* d plus days days (negative goes back). */
struct audit_date audit_date_add_days(struct audit_date d, long days);
/* Days from a to b (negative when b is earlier). */
long audit_date_diff(struct audit_date a, struct audit_date b);
/* The UTC date of a time in milliseconds since the epoch. */
struct audit_date audit_date_from_ms(int64_t ms);
/* Midnight UTC at the start of d, in milliseconds since the epoch. */
int64_t audit_date_to_ms(struct audit_date d);
/* Parses YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM[:SS][Z] (UTC). Returns 0, or -1. */
int audit_time_parse(const char *s, int64_t *ms);
/* Writes ms as YYYY-MM-DDTHH:MM:SS.mmmZ into out (at least 25 bytes). */
void audit_time_format(int64_t ms, char *out, size_t n);

/* ---- Data-subject requests (request.c) ---------------------------------------------- */

enum audit_req_kind { AUDIT_REQ_ERASE, AUDIT_REQ_ACCESS, AUDIT_REQ_OBJECT };
enum audit_regime { AUDIT_GDPR, AUDIT_CCPA };

#define AUDIT_ID_MAX 32
#define AUDIT_PSEUDONYM_MAX 48 /* as PII_PSEUDONYM_MAX */

struct audit_request {
	char id[AUDIT_ID_MAX];
	int kind, regime;
	char category[128];
	char pseudonym[AUDIT_PSEUDONYM_MAX]; /* under the key current when it was received */
	struct audit_date received, due; /* due: the statutory deadline */
	int extended;
	struct audit_date extended_due;  /* when extended */
	char extension_reason[512];
	int completed;
	int64_t created_ms, completed_ms;
	char created_by[64];
	char bundle[1024]; /* access requests: where the bundle was written, or empty */
};

/* The names of kinds ("erase", "access", "object") and regimes ("gdpr", "ccpa"), and the
 * reverse (-1 when unknown). */
const char *audit_req_kind_name(int kind);
int audit_req_kind_parse(const char *s);
const char *audit_regime_name(int regime);
int audit_regime_parse(const char *s);
/* The statutory deadline: GDPR one calendar month after receipt, clamped to the month's
 * end (Art. 12(3)); CCPA 45 days. */
struct audit_date audit_request_due(int regime, struct audit_date received);
/* The deadline after the one extension: GDPR two more months, CCPA 45 more days. */
struct audit_date audit_request_extended_due(int regime, struct audit_date due);
/* The deadline in force (extended or not). */
struct audit_date audit_request_deadline(const struct audit_request *r);
/* Whether r is open past its deadline on day today. */
int audit_request_overdue(const struct audit_request *r, struct audit_date today);

/* Records a new request for the subject known by pseudonyms (one per live key, the current
 * key's first, all in category) and writes its id (R-YYYYMMDD-NNNN) into id. Returns 0, or
 * -1 with err. */
int audit_request_create(struct audit_log *log, const struct audit_actor *actor, int kind,
			 int regime, const char *category, const char *const *pseudonyms,
			 size_t npseudonyms, struct audit_date received, char *id,
			 struct st_error *err);
/* Reads request id. Returns 0, or -1 with err (ST_E_NOTFOUND when there is none). */
int audit_request_get(struct sqlite3 *db, const char *id, struct audit_request *r,
		      struct st_error *err);
/* Extends request id's deadline once, recording reason. The extension must be decided
 * within the first deadline. Returns 0, or -1 with err (ST_E_INVALID when it was extended
 * already, is completed, or is past its first deadline). */
int audit_request_extend(struct audit_log *log, const struct audit_actor *actor,
			 const char *id, const char *reason, struct st_error *err);
/* Calls cb for every request (oldest first) until it returns non-zero. Returns 0, or -1. */
int audit_request_each(struct sqlite3 *db, int (*cb)(void *ctx, const struct audit_request *r),
		       void *ctx, struct st_error *err);
/* Appends an event to request id's timeline. Returns 0, or -1 with err. */
int audit_request_event(struct sqlite3 *db, const char *id, const char *actor,
			const char *event, const char *detail, struct st_error *err);

/* One entry of a request's timeline or target evidence, for `request show`. */
struct audit_req_event {
	int64_t ts_ms;
	const char *actor, *event, *detail;
};
struct audit_req_target {
	const char *dataset, *uri, *status, *detail;
	int64_t matched, changed, files, http_status, attempts, elapsed_ms, runs, updated_ms;
	int has_counts; /* matched/changed were recorded */
	/* The verified evidence (schema 2): tables or files visited, rows erased, rows a
	 * re-scan found left (-1: unverified), files skipped; has_remaining is 0 when not an
	 * erasure or recorded before verification existed. */
	int64_t visited, erased, remaining, skipped;
	int has_remaining;
};
/* Calls ev for each event of request id's timeline, then tg for each of its targets;
 * either may be NULL. Returns 0, or -1. */
int audit_request_history(struct sqlite3 *db, const char *id,
			  int (*ev)(void *ctx, const struct audit_req_event *e),
			  int (*tg)(void *ctx, const struct audit_req_target *t), void *ctx,
			  struct st_error *err);

/* The suppression list: subjects ingest must drop. Loads every (category, pseudonym) into
 * two parallel new arrays sorted by category then pseudonym (free with st_free_strv()).
 * Returns 0, or -1 with err. */
int audit_suppression_load(struct sqlite3 *db, char ***categories, char ***pseudonyms,
			   size_t *n, struct st_error *err);

/* ---- Plans and runs (plan.c, run.c) --------------------------------------------------- */

/* One dataset that may hold the subject, and how a request reaches it. */
struct audit_plan_item {
	char *dataset, *kind, *description, *domain, *owner;
	char *match_field;    /* the field compared with the subject's identifier */
	char *match_category; /* its data category; NULL when it has none (manual work) */
	int match_mode;       /* enum audit_match_mode: raw values or pseudonyms */
	int direct;           /* matched by the request's own category (else resolved) */
	/* When the match field is of another category: a field of the request's category,
	 * used to find the subject (and resolve the match field's identifier) when no other
	 * target gives that identifier. NULL when there is none. */
	char *alt_field;
	int alt_mode;
	int erase_action;     /* enum audit_erase_action */
	int erasure_declared; /* the descriptor has an erasure: block (else delete is assumed) */
	char **nullify;       /* nullify: the fields set to null */
	size_t nnullify;
	char *erasure_reason;
	char *subject_field, *subject_category; /* the dataset's subject field, if any */
	int subject_mode;
	char **fields, **categories; /* every field with a category, for access bundles */
	size_t nfields;
	char *uri; /* the bound target as shown and stored (audit_target_redact() of target_uri:
		    * no credentials); NULL when none (manual work) */
	char *verify; /* its verify URL as shown (redacted); NULL when none */
	/* The target as steward.yaml gives it, credentials included: for the target alone,
	 * never shown, stored or put in a message. token_file is absolute or relative to the
	 * current directory (plan.c resolves it against steward.yaml's directory). */
	char *target_uri, *verify_uri, *token_file, *token_env;
	/* A postgres target (kind: postgres): where its connection string comes from, a file
	 * (resolved like token_file) or an environment variable; never the string itself. */
	char *dsn_file, *dsn_env;
	char *location; /* the descriptor's location: a postgres target's table by default */
};

struct audit_plan {
	struct audit_plan_item *v;
	size_t n, cap;
	char **stray; /* targets in steward.yaml naming datasets not in the catalog */
	size_t nstray;
};

struct catalog;
struct pii_keyring;

/* Builds the plan for request r from the catalog (the latest version of every dataset)
 * and the `targets:` map of cfg: every dataset with a field of r's category, and every
 * dataset with a `subject` field. Each is matched on its erasure `match` field, else its
 * subject field, else a field of r's category, else a join key (a relationships
 * constraint whose referenced field has a category); a match field of another category is
 * reached through identifiers resolved from other targets (alt_field). Direct matches
 * come first. Fills plan (release with audit_plan_release()).
 * Returns 0, or -1 with err (ST_E_INVALID, located in config_path, for a malformed
 * targets map or URI). */
int audit_plan_build(struct catalog *c, const struct catalog_config *cfg,
		     const char *config_path, const struct audit_request *r,
		     struct audit_plan *plan, struct st_error *err);
/* Frees everything in plan. */
void audit_plan_release(struct audit_plan *plan);

/* ---- As JSON (request_json.c): what the CLI's --json prints and `steward serve` answers --- */

struct json_t;
/* Request r in a list (`request list --json`): id, kind, regime, category, received, due,
 * extended, status, and whether it is overdue on day today. NULL on out of memory. */
struct json_t *audit_request_list_json(const struct audit_request *r, struct audit_date today);
/* Request r as `request show --json` prints it: the list's facts, its timeline and the
 * evidence of each target (an erasure's verification included) read from db. Returns 0
 * with *out (the caller decrefs it), or -1 with err. */
int audit_request_json(struct sqlite3 *db, const struct audit_request *r,
		       struct audit_date today, struct json_t **out, struct st_error *err);
/* Plan p of request r as `request plan --json` prints it: the bound targets, the datasets
 * that need manual work and the targets of steward.yaml no dataset has. No credential is in
 * it (p's shown URIs only). NULL on out of memory. */
struct json_t *audit_plan_json(const struct audit_request *r, const struct audit_plan *p);
/* Checkpoint cp: {seq, time, hash} and, format 2, {tree_size, root}. NULL on out of memory. */
struct json_t *audit_checkpoint_json(const struct audit_checkpoint *cp);
/* A verification as `audit verify --json` prints it (tampered: audit_verify_db() returned
 * 1). NULL on out of memory. */
struct json_t *audit_verify_json(const struct audit_verify_result *res, int tampered);
/* One record as `audit log --json` prints it. NULL on out of memory. */
struct json_t *audit_row_json(const struct audit_row *r);

struct audit_run_opts {
	const char *exports_dir;  /* access bundles are written here (created 0700) */
	const struct st_output_guard *exports_guard; /* checks on a bundle path; NULL: none */
	const char *country_code; /* for phone numbers without one; may be NULL */
	long connect_timeout_ms, timeout_ms, backoff_ms; /* HTTP; 0: defaults */
	int max_attempts;                                /* HTTP; 0: 3 */
	long retry_after_max_s; /* HTTP: longest Retry-After waited for; 0: 60; -1: none */
	int skip_held;          /* a request another run holds is skipped (res->held), not an error */
};

struct audit_run_result {
	size_t targets, done, failed, manual; /* bound targets, and datasets without one */
	size_t run;       /* targets carried out by this run */
	size_t unverified; /* erasures: targets done whose erasure no re-scan verified */
	int completed;    /* the request is completed (now or before) */
	char bundle[1024]; /* access: the bundle written by this run */
	char held[1024];   /* skip_held: why the request was skipped (who runs it); else "" */
};

/* Carries request req (as audit_request_get() read it; plan was built from it) out
 * against every bound target of plan that is not done yet, with
 * the secrets of kr (current and previous keys). Erase and object requests put every
 * pseudonym of the subject on the suppression list first. Each target's outcome and
 * evidence is committed as soon as it is known, so an interrupted run resumes where it
 * stopped, and a target done before is not run again. Identifiers found in the subject
 * fields of matched rows are kept (as pseudonyms) to reach datasets keyed by another
 * identifier. An access request re-reads every target and writes one JSON bundle. An
 * erasure's target is re-scanned after it: one where rows of the subject remain is failed
 * (and runs again next time), one that cannot verify is done but counted in
 * res->unverified. The request is completed when every bound target is done. One run per
 * request at a time: the run takes the request's lock (.steward/locks/ID.lock,
 * audit/run_lock.h) and reads the request again under it; when another process holds it,
 * fails with ST_E_DENIED naming that run (pid, user, host, since) before anything is run or
 * written, or with o->skip_held returns 0 with that message in res->held. Returns 0 (res says what happened; failed targets are not an error), or -1 with
 * err. */
int audit_request_run(struct audit_log *log, const struct audit_actor *actor,
		      const struct audit_plan *plan, const struct audit_request *req,
		      const struct pii_keyring *kr, const struct audit_run_opts *o,
		      struct audit_run_result *res,
		      struct st_error *err);

/* ---- Reports (report.c) ------------------------------------------------------------- */

/* The formats a report is rendered in (docs/reports.md describes each). */
enum audit_report_format {
	AUDIT_REPORT_MD,   /* GitHub-flavoured Markdown */
	AUDIT_REPORT_HTML, /* one self-contained page: inline style, no script, prints well */
	AUDIT_REPORT_JSON, /* one document with stable keys */
	AUDIT_REPORT_CSV   /* one RFC 4180 table of section,table,row,key,value */
};

/* The name of a format ("md", "html", "json", "csv"; "?" when unknown), and the reverse
 * (-1 when unknown). */
const char *audit_report_format_name(int format);
int audit_report_format_parse(const char *s);
/* Parses a period, YYYY-MM with a year from 1970 and a month 01-12. Returns 0 with *year
 * and *month set, or -1 when s is not one. */
int audit_report_period_parse(const char *s, int *year, int *month);

/* What the header of a report says besides the period. Strings are borrowed for the build. */
struct audit_report_meta {
	const char *workspace;           /* the workspace directory */
	const char *version;             /* the version of the program making the report */
	const struct audit_actor *actor; /* who makes it; NULL leaves it out */
	int64_t now_ms;                  /* when it is made; 0: now */
};

struct audit_report;

/* Builds the compliance report of the calendar month year-month (UTC: records with ts_ms
 * from its first midnight to the next month's, exclusive) from the audit log db and the
 * catalog c: accesses to personal data by actor, role, action and object; denied attempts;
 * ingest runs with their counts; data-subject requests against their deadlines (open and
 * overdue as of the month's end, or of now_ms while it runs); the PII map of the latest
 * catalog; and the verified state of the audit chain. Reads only. Subjects appear by
 * request id and category, never by pseudonym or value. Returns 0 with *out (free with
 * audit_report_free()), or -1 with err and *out NULL: ST_E_USAGE when the month is not a
 * month or has not begun at now_ms. */
int audit_report_build(struct sqlite3 *db, struct catalog *c, int year, int month,
		       const struct audit_report_meta *meta, struct audit_report **out,
		       struct st_error *err);
/* Renders r in format (enum audit_report_format) into a new string *text of *len bytes,
 * NUL-terminated, that the caller frees with st_free(). Every value is escaped for the
 * format. Returns 0, or -1 with err (ST_E_SYSTEM when out of memory or over 512 MiB) and
 * *text NULL. */
int audit_report_render(const struct audit_report *r, int format, char **text, size_t *len,
			struct st_error *err);
/* Renders r in format and writes it to path through a temporary file in the same
 * directory and a rename, so path is either the old file or the whole new one, mode 0600;
 * path is a user's, checked with guard g (st_file_write_output()). Returns 0, or -1 with
 * err (path is then untouched and no temporary file is left). */
int audit_report_save(const struct audit_report *r, int format, const char *path,
		      const struct st_output_guard *g, struct st_error *err);
/* Frees a report. NULL is fine. */
void audit_report_free(struct audit_report *r);

/* ---- API tokens (token.c) ----------------------------------------------------------- */

/* A token's text with its NUL: "stw_" + 16 hex digits (its id) + "_" + 43 base64url
 * characters (its secret). */
#define AUDIT_TOKEN_MAX 80

struct audit_token {
	char id[17];
	char user[64];
	int64_t created_ms, expires_ms, revoked_ms; /* expires 0: never; revoked 0: not */
};

/* Makes a token for user that expires at expires_ms (0: never), writes its text into out
 * (outn >= AUDIT_TOKEN_MAX; shown once: only its SHA-256 is kept, with a mac under the
 * audit key) and its id into id_out (17 bytes). Inside the caller's audit record (the log
 * must be open). Returns 0, or -1 with err. */
int audit_token_new(struct audit_log *log, const char *user, int64_t expires_ms, char *out,
		    size_t outn, char *id_out, struct st_error *err);
/* Checks token (its text) and fills t. Returns 0 when it is known, intact, not revoked and
 * not expired, else -1 with err (ST_E_DENIED: "not a steward token", "unknown token",
 * "token 'ID' was revoked", "... has expired", "... was changed in audit.db"). */
int audit_token_check(struct audit_log *log, const char *token, struct audit_token *t,
		      struct st_error *err);
/* Revokes token id (a revoked one stays so). Returns 0, or -1 with err (ST_E_NOTFOUND). */
int audit_token_revoke(struct audit_log *log, const char *id, struct st_error *err);
/* Calls fn for every token, oldest first, until it returns nonzero. Returns 0, or -1 with
 * err. */
int audit_token_each(struct audit_log *log, int (*fn)(void *u, const struct audit_token *t),
		     void *u, struct st_error *err);

#endif
