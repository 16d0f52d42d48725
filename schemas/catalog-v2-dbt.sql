-- steward catalog.db, migration step: dbt artifacts (catalog/dbt.c) and dataset constraints.
-- Self-contained: only new tables and indexes.

-- One row per dbt manifest loaded: how it was read, and the digest of the descriptor
-- extensions applied to it (a change there re-materializes the manifest).
CREATE TABLE dbt_manifests (
  file_id        INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
  schema_version INTEGER NOT NULL,   -- the N of .../manifest/vN.json
  adapter        TEXT,
  project        TEXT,
  catalog_path   TEXT,               -- the catalog.json read beside it, if any
  overlays       BLOB NOT NULL       -- digest of the extensions applied
);

-- Other names a dataset answers to: a dbt unique_id (model.shop.orders) and the like.
CREATE TABLE aliases (
  alias      TEXT NOT NULL,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  origin     TEXT NOT NULL,          -- 'dbt'
  PRIMARY KEY (alias, dataset_id)
) WITHOUT ROWID;
CREATE INDEX aliases_dataset ON aliases(dataset_id);

-- Free-form properties of a dataset (dbt.resource_type, dbt.materialized, dbt.path,
-- dbt.meta, dbt.stats.<id>, ...), in the order they were written.
CREATE TABLE dataset_props (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  ord        INTEGER NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (dataset_id, ord)
) WITHOUT ROWID;

-- Properties of a field (tags, meta as JSON).
CREATE TABLE field_props (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  path       TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (dataset_id, path, key)
) WITHOUT ROWID;

-- Constraints on a dataset: not_null, unique, accepted_values, relationships (dbt generic
-- tests). A relationships constraint says field holds values of ref_ds.ref_field: a join
-- key that erasure planning follows.
CREATE TABLE constraints (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  ord        INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  field      TEXT,
  detail     TEXT,                   -- accepted_values: the values, as a JSON array
  ref_ds     TEXT,
  ref_field  TEXT,
  origin     TEXT,                   -- the dbt test's unique_id
  PRIMARY KEY (dataset_id, ord)
) WITHOUT ROWID;
CREATE INDEX constraints_ref ON constraints(ref_ds);

-- Descriptor documents that extend a dbt dataset (`extends:`), one row per value they set:
-- key is subject, owner, domain, retention, description, erasure (JSON), tag, or
-- field.<path>.<pii|category|transform|normalize|pii_reason|description>.
CREATE TABLE dbt_extends (
  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  ord     INTEGER NOT NULL,
  target  TEXT NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  line    INTEGER NOT NULL,
  col     INTEGER NOT NULL,
  PRIMARY KEY (file_id, ord)
) WITHOUT ROWID;
