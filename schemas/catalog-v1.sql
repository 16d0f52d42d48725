-- steward catalog.db, schema version 1 (PRAGMA user_version = 1).
-- Names are stored as text, not foreign keys, wherever a reference may point outside the
-- catalog: lineage keeps undeclared datasets and fields as external nodes.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per descriptor file. size/mtime/inode let an unchanged file be skipped without
-- reading it; hash (BLAKE2b-256 of the bytes) decides when the stat data changed.
CREATE TABLE files (
  id        INTEGER PRIMARY KEY,
  path      TEXT NOT NULL UNIQUE,   -- absolute, symlinks resolved
  display   TEXT NOT NULL,          -- as the user named it, for messages
  hash      BLOB NOT NULL,
  size      INTEGER NOT NULL,
  mtime_ns  INTEGER NOT NULL,
  inode     INTEGER NOT NULL,
  ndocs     INTEGER NOT NULL,
  loaded_at TEXT NOT NULL
);

-- One row per (name, version). Glossary terms are datasets of kind 'term'.
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  version       INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  description   TEXT,
  owner         TEXT,
  domain        TEXT,
  system        TEXT,
  location      TEXT,
  format        TEXT,
  retention     TEXT,
  subject       TEXT,
  compatibility TEXT NOT NULL DEFAULT 'backward',
  job           TEXT,
  erasure       TEXT,                 -- JSON object, as declared
  tags          TEXT NOT NULL DEFAULT '', -- space-separated, for display and search
  certified     INTEGER NOT NULL DEFAULT 0,
  npii          INTEGER NOT NULL DEFAULT 0, -- fields whose pii is not 'none'
  file_id       INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  line          INTEGER NOT NULL,
  col           INTEGER NOT NULL,
  gen           INTEGER NOT NULL,     -- the load that wrote it
  UNIQUE (name, version)
);
CREATE INDEX datasets_file ON datasets(file_id);
CREATE INDEX datasets_gen ON datasets(gen);
CREATE INDEX datasets_certified ON datasets(certified);

CREATE TABLE tags (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  tag        TEXT NOT NULL,
  PRIMARY KEY (tag, dataset_id)
) WITHOUT ROWID;
CREATE INDEX tags_dataset ON tags(dataset_id);

-- Fields in document order; nested fields have dotted paths (context.ip, units.course_ids).
CREATE TABLE fields (
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  ord         INTEGER NOT NULL,
  path        TEXT NOT NULL,
  depth       INTEGER NOT NULL,
  type        TEXT,
  item_type   TEXT,
  required    INTEGER NOT NULL DEFAULT 0,
  nullable    INTEGER NOT NULL DEFAULT 0,
  pii         TEXT NOT NULL,
  category    TEXT,
  transform   TEXT,
  normalize   TEXT,
  pii_reason  TEXT,
  scan        INTEGER NOT NULL DEFAULT 0,
  description TEXT,
  line        INTEGER NOT NULL,
  col         INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, ord)
) WITHOUT ROWID;

-- Dataset-level lineage (lineage.upstream): src feeds dst, the dataset that declares it.
-- Edges into a dataset are found through dataset_id, so dst needs no index of its own.
CREATE TABLE edges (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  src        TEXT NOT NULL,
  dst        TEXT NOT NULL,
  line       INTEGER NOT NULL,
  col        INTEGER NOT NULL
);
CREATE INDEX edges_src ON edges(src);
CREATE INDEX edges_dataset ON edges(dataset_id);

-- Column-level lineage (a field's from:): src_ds.src_field feeds dst_ds.dst_field, where
-- dst_ds is the dataset that declares it; lookups by destination go through dataset_id.
CREATE TABLE field_edges (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  src_ds     TEXT NOT NULL,
  src_field  TEXT NOT NULL,
  dst_ds     TEXT NOT NULL,
  dst_field  TEXT NOT NULL,
  line       INTEGER NOT NULL,
  col        INTEGER NOT NULL
);
CREATE INDEX field_edges_src ON field_edges(src_ds, src_field);
CREATE INDEX field_edges_dst ON field_edges(dataset_id, dst_field);

-- A glossary term's related: entries (a dataset, or dataset.field).
CREATE TABLE term_links (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  target     TEXT NOT NULL,
  field      TEXT,
  line       INTEGER NOT NULL,
  col        INTEGER NOT NULL
);
CREATE INDEX term_links_target ON term_links(target);
CREATE INDEX term_links_dataset ON term_links(dataset_id);

-- Full-text index over the latest version of each name; rowid = datasets.id.
CREATE VIRTUAL TABLE search_fts USING fts5(
  name, description, fields, tags, owner, terms,
  tokenize = 'unicode61 remove_diacritics 2'
);
