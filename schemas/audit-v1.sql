-- audit.db, schema version 6 (a fresh install; audit/log.c upgrades versions 1 to 5): the
-- hash-chained, key-bound access log, the Merkle tree over it and its signed checkpoints,
-- data-subject requests with their evidence, and the suppression list ingest honours.
-- Nothing here holds a raw personal value: subjects appear only as pseudonyms.

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- One row per command. hash = SHA-256 over the canonical encoding in docs/audit.md,
-- which covers seq, prev (the previous record's hash, 32 zero bytes for seq 1) and every
-- other column up to pii. covers = SHA-256 over the rows of `covered` with this seq (NULL
-- when the command wrote no covered row). mac = keyed BLAKE2b under a subkey of audit.key
-- over seq, the previous record's mac, hash and covers: only the key holder can make it.
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  uid INTEGER NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT,
  purpose TEXT,
  outcome TEXT NOT NULL,
  reason TEXT,
  counts TEXT,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  version TEXT NOT NULL,
  pii INTEGER NOT NULL,
  prev BLOB NOT NULL,
  hash BLOB NOT NULL,
  covers BLOB,
  mac BLOB
) STRICT;
CREATE INDEX records_ts ON records (ts_ms);

-- The rows of the request tables and the suppression list each record's command wrote:
-- the row's primary key and a digest of all its columns (digest NULL: the command deleted
-- it). The newest entry of a key must match the row as it is now.
CREATE TABLE covered (
  seq INTEGER NOT NULL,
  tbl TEXT NOT NULL,
  key BLOB NOT NULL,
  rid INTEGER NOT NULL,
  digest BLOB,
  PRIMARY KEY (seq, tbl, key)
) STRICT;
CREATE INDEX covered_key ON covered (tbl, key, seq);

-- Ed25519 signatures over (seq, hash, ts_ms) of a record and, from format v2 on, the root
-- of the Merkle tree of records 1..seq (tree size = seq): see docs/audit.md. root is NULL
-- in a v1 checkpoint. mac = keyed BLAKE2b under the subkey over the signed message and the
-- signature (audit_checkpoint_mac()), so the key's holder checks a checkpoint without an
-- Ed25519 verification; NULL for one whose signature did not verify when schema 5 came.
CREATE TABLE checkpoints (
  seq INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  hash BLOB NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL,
  root BLOB,
  mac BLOB
) STRICT;

-- The RFC 6962 Merkle tree over the records (leaf data: each record's hash), as the roots of
-- its complete subtrees above the leaves, numbered in the order they complete: the node at
-- level L >= 1 and index i is at pos m - popcount(m) - 1 - (ctz(m) - L) with m = (i + 1) << L.
-- Written in the transaction that chains the record; proofs read O(log n) rows.
CREATE TABLE merkle (
  pos INTEGER PRIMARY KEY,
  hash BLOB NOT NULL
) STRICT;

-- Commands under way. A command writes its row here before it returns any data and turns
-- it into a chained record when it ends; a row left by a killed process is chained as an
-- interrupted error by the next command.
CREATE TABLE pending (
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  uid INTEGER NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT,
  purpose TEXT,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  version TEXT NOT NULL,
  pii INTEGER NOT NULL,
  mac BLOB
) STRICT;

-- The covered rows (table and rowid) a pending command wrote, written in the same
-- transaction as the row; its record lists them in `covered` when it is chained.
CREATE TABLE pending_rows (
  pending_id INTEGER NOT NULL,
  tbl TEXT NOT NULL,
  rid INTEGER NOT NULL,
  PRIMARY KEY (pending_id, tbl, rid)
) STRICT, WITHOUT ROWID;

CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('erase', 'access', 'object')),
  regime TEXT NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
  category TEXT NOT NULL,
  pseudonym TEXT NOT NULL,
  received TEXT NOT NULL,          -- YYYY-MM-DD
  due TEXT NOT NULL,               -- YYYY-MM-DD, the statutory deadline
  extended_due TEXT,               -- set once by `request extend`
  extension_reason TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'completed')),
  created_ms INTEGER NOT NULL,
  completed_ms INTEGER,
  created_by TEXT NOT NULL,
  bundle TEXT                      -- access requests: the path of the written bundle
) STRICT;

-- Every pseudonym the subject is known by: the one given, and those resolved from the
-- subject fields of matched rows.
CREATE TABLE request_ids (
  request_id TEXT NOT NULL REFERENCES requests (id),
  category TEXT NOT NULL,
  pseudonym TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (request_id, category, pseudonym)
) STRICT;

-- Per-target state and evidence of the latest attempt.
CREATE TABLE request_targets (
  request_id TEXT NOT NULL REFERENCES requests (id),
  dataset TEXT NOT NULL,
  uri TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  matched INTEGER,
  changed INTEGER,
  files INTEGER,
  http_status INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  elapsed_ms INTEGER,
  detail TEXT,
  runs INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER,
  -- schema 2: the verified evidence. visited: tables or files read (or endpoints asked);
  -- erased: rows deleted or nullified; remaining: the subject's rows a re-scan after the
  -- erasure found, -1 when the target cannot verify (unverified), NULL when not an
  -- erasure; skipped: files in a jsonl tree that its globs do not match.
  visited INTEGER,
  erased INTEGER,
  remaining INTEGER,
  skipped INTEGER,
  PRIMARY KEY (request_id, dataset)
) STRICT;

-- The timeline shown by `request show`.
CREATE TABLE request_events (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests (id),
  ts_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT
) STRICT;
CREATE INDEX request_events_req ON request_events (request_id, id);

-- Subjects whose records ingest drops from now on (objections and completed erasures).
CREATE TABLE suppressed (
  category TEXT NOT NULL,
  pseudonym TEXT NOT NULL,
  request_id TEXT NOT NULL,
  added_ms INTEGER NOT NULL,
  PRIMARY KEY (category, pseudonym)
) STRICT;

-- API tokens of `steward serve` (audit/token.c): only the SHA-256 of a token's secret is
-- kept; mac = keyed BLAKE2b under the audit subkey over every other column, so a token
-- written or revived without the key is refused. expires_ms and revoked_ms are 0 for never.
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  hash BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL,
  mac BLOB NOT NULL
) STRICT;
