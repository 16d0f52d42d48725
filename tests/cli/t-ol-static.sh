#!/bin/sh
# steward lineage import of OpenLineage's static events (spec 2-0-x): a DatasetEvent gives an
# observed dataset with the fields and description of its facets, a JobEvent the edge from its
# inputs to its outputs and the column edges of their columnLineage facet, with no run. Both
# count as applied, and importing them again changes nothing.
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
expect_stdout_contains "<- $U.email (DIRECT/IDENTITY)"
expect_stdout_contains "<- $U.id (DIRECT/IDENTITY)"
expect_exit 1 steward pii check
expect_stdout_line "  's3-lake.users.email' (varchar) is named like email data (direct, user.contact.email); no descriptor tags it"
expect_exit 0 steward lineage import --json "$F"
expect_jq '[.read, .applied, .ignored, .duplicates, .static_events]' '[2,0,2,2,0]' "$OUT"
done_testing
