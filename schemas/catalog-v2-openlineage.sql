-- steward catalog.db, step to schema version 2: OpenLineage events in (`lineage import`).
-- What the events said is kept by OpenLineage identity in the ol_* tables; catalog/openlineage.c
-- turns it into rows of datasets, fields, edges and field_edges marked observed = 1, and
-- rebuilds those rows after every import and every catalog load, so that a descriptor that
-- claims an observed dataset takes its place.

ALTER TABLE datasets ADD COLUMN observed INTEGER NOT NULL DEFAULT 0;  -- 1: no descriptor
ALTER TABLE fields ADD COLUMN observed INTEGER NOT NULL DEFAULT 0;    -- 1: from an event
ALTER TABLE edges ADD COLUMN observed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE field_edges ADD COLUMN observed INTEGER NOT NULL DEFAULT 0;
-- columnLineage transformations: DIRECT|INDIRECT, IDENTITY|TRANSFORMATION|..., masking.
-- A descriptor's from: is DIRECT; with a hashing transform it counts as masking.
ALTER TABLE field_edges ADD COLUMN ttype TEXT;
ALTER TABLE field_edges ADD COLUMN tsubtype TEXT;
ALTER TABLE field_edges ADD COLUMN masking INTEGER NOT NULL DEFAULT 0;

-- A descriptor's `openlineage: {namespace, name}` key: the declared dataset is that one.
CREATE TABLE ol_claims (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  namespace  TEXT NOT NULL,
  name       TEXT NOT NULL,
  PRIMARY KEY (namespace, name, dataset_id)
) WITHOUT ROWID;
CREATE INDEX ol_claims_dataset ON ol_claims(dataset_id);

-- Every dataset an event named, by its OpenLineage identity, with the steward name it is
-- observed under and what its facets and the last run that wrote it said.
CREATE TABLE ol_datasets (
  id          INTEGER PRIMARY KEY,
  namespace   TEXT NOT NULL,
  name        TEXT NOT NULL,
  steward     TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL DEFAULT 'table',
  description TEXT,
  owner       TEXT,
  tags        TEXT NOT NULL DEFAULT '',
  system      TEXT,             -- dataSource facet: name
  location    TEXT,             -- dataSource facet: uri
  job         TEXT,             -- namespace/name of the job of the last run that wrote it
  run_id      TEXT,
  run_state   TEXT,
  run_time    TEXT,
  facets_hash BLOB,             -- of the facets last applied: the same facets again are skipped
  UNIQUE (namespace, name)
);

-- Other identities of a dataset (its symlinks facet).
CREATE TABLE ol_aliases (
  namespace TEXT NOT NULL,
  name      TEXT NOT NULL,
  ds        INTEGER NOT NULL REFERENCES ol_datasets(id),
  PRIMARY KEY (namespace, name, ds)
) WITHOUT ROWID;
CREATE INDEX ol_aliases_ds ON ol_aliases(ds);

-- The schema facet's fields (nested fields by dotted path), with the classes of a
-- steward_pii facet when the event carried one.
CREATE TABLE ol_fields (
  ds          INTEGER NOT NULL REFERENCES ol_datasets(id),
  path        TEXT NOT NULL,
  ord         INTEGER NOT NULL,
  depth       INTEGER NOT NULL,
  type        TEXT,
  description TEXT,
  pii         TEXT,
  category    TEXT,
  transform   TEXT,
  PRIMARY KEY (ds, path)
) WITHOUT ROWID;

-- Dataset lineage: every input of a run feeds every output.
CREATE TABLE ol_edges (
  ds  INTEGER NOT NULL REFERENCES ol_datasets(id),
  src INTEGER NOT NULL REFERENCES ol_datasets(id),
  PRIMARY KEY (ds, src)
) WITHOUT ROWID;

-- Column lineage (columnLineage facet): src.src_field feeds ds.field.
CREATE TABLE ol_field_edges (
  ds          INTEGER NOT NULL REFERENCES ol_datasets(id),
  field       TEXT NOT NULL,
  src         INTEGER NOT NULL REFERENCES ol_datasets(id),
  src_field   TEXT NOT NULL,
  ttype       TEXT NOT NULL,
  tsubtype    TEXT NOT NULL,
  masking     INTEGER NOT NULL,
  description TEXT,
  PRIMARY KEY (ds, field, src, src_field, ttype, tsubtype)
) WITHOUT ROWID;

-- The latest state of each run, and the events already applied (BLAKE2b of the event's
-- parsed JSON, keys in document order), which make an import idempotent.
CREATE TABLE ol_runs (
  run_id TEXT PRIMARY KEY,
  job    TEXT NOT NULL,
  state  TEXT NOT NULL,
  time   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE ol_events (
  hash BLOB PRIMARY KEY
) WITHOUT ROWID;
