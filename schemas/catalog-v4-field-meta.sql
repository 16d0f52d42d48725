-- steward catalog.db, step to schema version 4: a field's dbt tags and meta are columns of
-- its row. They were rows of their own (field_props, a row per field and key): the largest
-- table a dbt manifest fills, and a fifth of the rows its load writes.

ALTER TABLE fields ADD COLUMN tags TEXT;  -- a dbt column's tags, as a JSON array
ALTER TABLE fields ADD COLUMN meta TEXT;  -- its meta, as a JSON object
UPDATE fields SET
  tags = (SELECT value FROM field_props p
          WHERE p.dataset_id = fields.dataset_id AND p.path = fields.path AND p.key = 'tags'),
  meta = (SELECT value FROM field_props p
          WHERE p.dataset_id = fields.dataset_id AND p.path = fields.path AND p.key = 'meta')
  WHERE dataset_id IN (SELECT dataset_id FROM field_props);
DROP TABLE field_props;
