#!/bin/sh
# steward lineage import of OpenLineage's static events (spec 2-0-x): a DatasetEvent gives an
# observed dataset with the fields and description of its facets, a JobEvent the edge from its
# inputs to its outputs, the column edges of their columnLineage facet and its job on the
# outputs no run has written. Both count as applied, and importing them again changes nothing.
. "$(dirname "$0")/lib.sh"
require jq

F=$FIXTURES/openlineage/static.ndjson
U=postgres-db-example-com-5432.shop_public_users
init_ws
expect_exit 0 steward lineage import "$F"
expect_stdout_line 'imported 2 events: 2 applied (2 DatasetEvents or JobEvents), 0 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_stdout_line '2 new datasets, 4 fields, 2 column edges'
expect_exit 0 steward show "$U" --json
expect_jq '[.description, [.fields[].path]]' '["One row per user.",["id","email"]]' "$OUT"
expect_exit 0 steward lineage "$U" --down
expect_stdout_line '└── s3-lake.users (table)'
expect_exit 0 steward show s3-lake.users
expect_stdout_line '  job           airflow/etl.users_to_lake'
expect_stdout_contains "<- $U.email (DIRECT/IDENTITY)"
expect_stdout_contains "<- $U.id (DIRECT/IDENTITY)"
expect_exit 1 steward pii check
expect_stdout_line "  's3-lake.users.email' (varchar) is named like email data (direct, user.contact.email); no descriptor tags it"
expect_exit 0 steward lineage import --json "$F"
expect_jq '[.read, .applied, .ignored, .duplicates, .static_events]' '[2,0,2,2,0]' "$OUT"
# A DatasetEvent may carry a run (the schema forbids only a job and a run together): it is
# still a DatasetEvent.
printf '%s\n' '{"eventTime":"2024-05-01T10:00:00Z","producer":"https://x.example/p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent","run":{"runId":"0190b1a2-1c3d-7e4f-8a9b-0c1d2e3f4a5d"},"dataset":{"namespace":"a","name":"with_run"}}' >"$TMP/dsrun.ndjson"
expect_exit 0 steward lineage import "$TMP/dsrun.ndjson"
expect_stdout_line 'imported 1 event: 1 applied (1 DatasetEvent or JobEvent), 0 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_exit 0 steward show a.with_run
# A run that writes a dataset names its job there; a JobEvent's job does not replace it.
P='"producer":"https://x.example/p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs'
{
	printf '{"eventTime":"2024-05-02T10:00:00Z",%s/RunEvent","eventType":"COMPLETE","run":{"runId":"0190b1a2-1c3d-7e4f-8a9b-0c1d2e3f4a5e"},"job":{"namespace":"spark","name":"app.users"},"inputs":[],"outputs":[{"namespace":"s3://lake","name":"users"}]}\n' "$P"
	printf '{"eventTime":"2024-05-03T10:00:00Z",%s/JobEvent","job":{"namespace":"airflow","name":"other"},"outputs":[{"namespace":"s3://lake","name":"users"}]}\n' "$P"
} >"$TMP/run-then-job.ndjson"
expect_exit 0 steward lineage import "$TMP/run-then-job.ndjson"
expect_stdout_line 'imported 2 events: 2 applied (1 DatasetEvent or JobEvent), 0 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_exit 0 steward show s3-lake.users
expect_stdout_line '  job           spark/app.users'
done_testing
