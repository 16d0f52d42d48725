#!/bin/sh
# steward lineage import: every real event in ../shared/interop/openlineage (its two events
# and the spec's facet examples made whole events) imports with the datasets, fields, column
# edges and dataset edges that tests/helpers/ol_figures.py computes on its own; the same
# events again (as NDJSON, a JSON array, standard input) change nothing; counts reconcile.
. "$(dirname "$0")/lib.sh"
require jq sqlite3 python3

OL=$STEWARD_SHARED/interop/openlineage
FIG=$STEWARD_SRC/tests/helpers/ol_figures.py
DB=$WS/.steward/catalog.db
q() { sqlite3 "$DB" "$1"; }

init_ws
python3 "$STEWARD_SRC/tests/helpers/ol_spec_events.py" "$OL/spec" >"$TMP/spec.ndjson"
check 'the spec facet examples make 46 events' test "$(wc -l <"$TMP/spec.ndjson")" -eq 46
cp "$FIXTURES/openlineage/events-pii.ndjson" "$TMP/pii.ndjson"

# ---- the two real events, one a file, from a directory ----
expect_exit 0 steward lineage import "$OL/events"
expect_stdout_line 'imported 2 events: 2 applied, 0 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_stderr_empty
expect_equal 'my-datasource-namespace.instance_schema_table|table|1' \
	"$(q 'SELECT name, kind, observed FROM datasets')" \
	'client example: its one dataset (input and output) is observed under namespace.name'
expect_equal 'column1|VARCHAR|none|1' "$(q 'SELECT path, type, pii, observed FROM fields')" \
	'client example: the schema facet gives the field, untagged'
expect_equal 'my-datasource-namespace|instance.schema.table|my-scheduler-namespace/myjob.mytask|ea041791-68bc-4ae1-bd89-4c8106a157e4|COMPLETE|2020-12-28T19:51:01.641000Z' \
	"$(q 'SELECT namespace, name, job, run_id, run_state, run_time FROM ol_datasets')" \
	'the job and its last run are recorded on the dataset it writes'
expect_exit 0 steward show my-datasource-namespace.instance_schema_table --json
expect_jq '[.observed, .openlineage.namespace, .openlineage.name, .openlineage.job, .openlineage.last_run.state, .fields[0].untagged]' \
	'[true,"my-datasource-namespace","instance.schema.table","my-scheduler-namespace/myjob.mytask","COMPLETE",true]'
expect_exit 0 steward show my-datasource-namespace.instance_schema_table
expect_stdout_line '  observed in   OpenLineage events only, no descriptor (observed)'
expect_stdout_line '  last run      my-scheduler-namespace/myjob.mytask COMPLETE at 2020-12-28T19:51:01.641000Z (run ea041791-68bc-4ae1-bd89-4c8106a157e4)'
# The observed datasets' file row says when, as every file row does: UTC to the millisecond
# (it had whole seconds, "…:05Z", which sorts after "…:05.123Z" of the same second).
expect_equal 1 "$(q "SELECT loaded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' FROM files WHERE path = 'openlineage:'")" \
	"the openlineage file row's loaded_at is in the form of every file row's"

# ---- then the spec's facet examples and the PII fixture ----
expect_exit 0 steward lineage import --json "$TMP/spec.ndjson" "$TMP/pii.ndjson"
expect_jq '.read == .applied + .rejected + .ignored and .read == 48 and .rejected == 0' \
	'counts reconcile: read = applied + rejected + ignored'

# Every figure against the independent script, in the OpenLineage tables and in the rows
# the catalog shows (datasets, fields, column and dataset edges).
python3 "$FIG" "$OL/events" "$TMP/spec.ndjson" "$TMP/pii.ndjson" >"$TMP/want.json"
check 'ol_figures.py ran' test -s "$TMP/want.json"
got=$(q "SELECT json_object('datasets', (SELECT count(*) FROM ol_datasets),
	'fields', (SELECT count(*) FROM ol_fields), 'column_edges', (SELECT count(*) FROM ol_field_edges),
	'edges', (SELECT count(*) FROM ol_edges))")
expect_equal "$(jq -c '{datasets, fields, column_edges, edges}' "$TMP/want.json")" "$got" \
	'datasets, fields, column edges and dataset edges as the events describe them'
got=$(q "SELECT json_object('datasets', (SELECT count(*) FROM datasets WHERE observed = 1),
	'fields', (SELECT count(*) FROM fields WHERE observed > 0),
	'column_edges', (SELECT count(*) FROM field_edges WHERE observed = 1),
	'edges', (SELECT count(*) FROM edges WHERE observed = 1))")
expect_equal "$(jq -c '{datasets, fields, column_edges, edges}' "$TMP/want.json")" "$got" \
	'the same figures as observed catalog rows'

# The spec's column lineage example: its edges with type, subtype and description.
expect_equal 'NAME|SnowflakeOpenLineage.CUSTOMERS|NAME|DIRECT|IDENTITY|0
NAME|SnowflakeOpenLineage.CUSTOMERS|ID|INDIRECT|JOIN|0
NAME|SnowflakeOpenLineage.DISCOUNTS|CUSTOMERS_ID|INDIRECT|JOIN|0' \
	"$(q "SELECT e.field, s.namespace || '.' || s.name, e.src_field, e.ttype, e.tsubtype, e.masking
		FROM ol_field_edges e JOIN ol_datasets d ON d.id = e.ds JOIN ol_datasets s ON s.id = e.src
		WHERE d.name = 'ColumnLineageDatasetFacet.1' AND e.field = 'NAME'
		ORDER BY s.name, e.src_field DESC")" \
	'columnLineage: one edge per transformation, with type and subtype'
expect_exit 0 steward lineage spec-tests.ColumnLineageDatasetFacet_1.NAME
expect_stdout_line '├── SnowflakeOpenLineage.CUSTOMERS.NAME (external)'
# Nested schema fields get dotted paths; card facets fill the card.
expect_exit 0 steward show spec-tests.OwnershipDatasetFacet_1 --json
expect_jq '.owner | type == "string" and length > 0' 'ownership facet: the owner'
expect_exit 0 steward show spec-tests.DocumentationDatasetFacet_1 --json
expect_jq '.description | type == "string" and length > 0' 'documentation facet: the description'
expect_exit 0 steward show spec-tests.DatasourceDatasetFacet_1 --json
expect_jq '(.system | type == "string") and (.location | type == "string")' \
	'dataSource facet: system and location'
expect_exit 0 steward show spec-tests.TagsDatasetFacet_1 --json
expect_jq '.tags | length > 0' 'tags facet: the tags'
# Observed datasets come after declared ones in search, marked.
expect_exit 0 steward search contacts --json
expect_jq '.[0].observed == true' 'search marks an observed dataset'

# ---- idempotent: the same events again change nothing ----
dump() {
	sqlite3 "$DB" "SELECT * FROM ol_datasets; SELECT * FROM ol_fields; SELECT * FROM ol_field_edges;
		SELECT * FROM ol_edges; SELECT * FROM ol_runs; SELECT count(*) FROM ol_events;
		SELECT name, kind, description, owner, tags, job FROM datasets ORDER BY name;
		SELECT d.name, f.path, f.type, f.pii FROM fields f JOIN datasets d ON d.id = f.dataset_id ORDER BY 1, 2;
		SELECT src_ds, src_field, dst_ds, dst_field, ttype, tsubtype, masking FROM field_edges ORDER BY 1, 2, 3, 4, 5, 6;
		SELECT src, dst FROM edges ORDER BY 1, 2"
}
dump >"$TMP/before"
expect_exit 0 steward lineage import "$OL/events" "$TMP/spec.ndjson" "$TMP/pii.ndjson"
expect_stdout_line 'imported 50 events: 0 applied, 0 rejected, 50 ignored (50 already imported, 0 superseded)'
dump >"$TMP/after"
test_cmp "$TMP/before" "$TMP/after" 'the same events twice: nothing changed'
# The same events as one JSON array on standard input are the same events.
jq -s . "$TMP/pii.ndjson" >"$TMP/pii-array.json"
expect_exit_stdin 0 "$TMP/pii-array.json" steward lineage import -
expect_stdout_line 'imported 2 events: 0 applied, 0 rejected, 2 ignored (2 already imported, 0 superseded)'
dump >"$TMP/after"
test_cmp "$TMP/before" "$TMP/after" 'as an array on standard input: nothing changed'
# Pretty-printed, one event a file: the same.
jq -c . "$OL/events/client-python-example_full_event.json" >"$TMP/one.ndjson"
expect_exit 0 steward lineage import "$TMP/one.ndjson"
expect_stdout_line 'imported 1 event: 0 applied, 0 rejected, 1 ignored (1 already imported, 0 superseded)'

# ---- a run's events out of order: the START after its COMPLETE is ignored ----
jq -c 'select(.eventType == "COMPLETE")' "$TMP/pii.ndjson" >"$TMP/late.ndjson"
jq -c 'select(.eventType == "START") | .run.runId = "0191f1a2-0000-7000-8000-0000000000ff"' \
	"$TMP/pii.ndjson" >"$TMP/late-start.ndjson"
jq -c 'select(.eventType == "COMPLETE") | .run.runId = "0191f1a2-0000-7000-8000-0000000000ff"' \
	"$TMP/pii.ndjson" >>"$TMP/late-start.ndjson"
tac "$TMP/late-start.ndjson" >"$TMP/reversed.ndjson"
expect_exit 0 steward lineage import "$TMP/reversed.ndjson"
expect_stdout_line 'imported 2 events: 1 applied, 0 rejected, 1 ignored (0 already imported, 1 superseded)'
expect_equal 'COMPLETE' "$(q "SELECT state FROM ol_runs WHERE run_id = '0191f1a2-0000-7000-8000-0000000000ff'")" \
	'the run stays COMPLETE'
python3 "$FIG" "$TMP/reversed.ndjson" >"$TMP/rev.json"
expect_jq '[.applied, .ignored]' '[1,1]' "$TMP/rev.json"

# ---- read in chunks: pretty-printed events across the 4 MB reads, and a broken one ----
python3 - "$OL/events/client-python-example_full_event.json" "$TMP/many.json" <<'PY'
import json, sys, uuid
ev = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    for i in range(3000):
        ev["run"]["runId"] = str(uuid.UUID(int=(7 << 100) + i, version=4))
        out.write(json.dumps(ev, indent=2) + "\n")
        if i == 2000:
            out.write('{"eventType": "START", oops\n')
PY
check 'the file is larger than one read' test "$(stat -c %s "$TMP/many.json")" -gt 4194304
expect_exit 1 steward lineage import "$TMP/many.json"
expect_stdout_line 'imported 3001 events: 3000 applied, 1 rejected, 0 ignored (0 already imported, 0 superseded)'
line=$(grep -n 'oops' "$TMP/many.json" | cut -d: -f1)
expect_stderr_line "$TMP/many.json:$line: rejected: invalid JSON: $line:27: string or '}' expected near 'oops'"

done_testing
