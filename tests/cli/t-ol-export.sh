#!/bin/sh
# steward export openlineage: the example catalog, the sample corpus and steward's own cases
# as RunEvents that an independent validator (tests/helpers/ol_validate.py, with
# python3-jsonschema) accepts against the spec's JSON Schema and every facet's schema, and
# altered events that it rejects; what the events say: jobs and their input sets, the
# steward_pii facet, column lineage and its masking (contract 4), the other facets, event
# times. t-ol-export-cli.sh has the command's behaviour: determinism, NAME..., errors.
. "$(dirname "$0")/lib.sh"

require jq sqlite3 python3
if ! python3 -c 'import jsonschema' 2>/dev/null; then
	echo "1..0 # SKIP python3-jsonschema is not installed (tools/install-deps)"
	exit 77
fi
SPEC=$STEWARD_SHARED/interop/openlineage/spec
if [ ! -f "$SPEC/OpenLineage.json" ]; then
	echo "1..0 # SKIP the OpenLineage spec is not in $SPEC"
	exit 77
fi
# validate FILE...: the independent validator, output in $OUT, status in $RC.
validate() {
	run python3 "$STEWARD_SRC/tests/helpers/ol_validate.py" --spec "$SPEC" \
		--facet-schema "$STEWARD_SRC/schemas/openlineage-steward-pii-facet.json" "$@"
}
# event JOB [FILE]: the event of job JOB (default: the whole export), as one line.
event() { jq -c --arg j "$1" 'select(.job.name == $j)' "${2:-$TMP/all.ndjson}"; }

init_ws
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"

# ---- the example catalog ----
expect_exit 0 steward export openlineage
expect_stderr_empty 'export to standard output: nothing on stderr'
cp "$OUT" "$TMP/all.ndjson"
jq -s . "$TMP/all.ndjson" >"$TMP/all.json"
expect_count 17 . "$TMP/all.ndjson" '17 events: one per job and input set'
expect_jq '[.[].eventType] | unique' '["COMPLETE"]' "$TMP/all.json"
expect_jq '[.[].job.namespace] | unique' '["steward"]' "$TMP/all.json"
expect_jq '[.[].outputs[].name] | length' 22 "$TMP/all.json"
# every dataset of the catalog but the glossary terms is an output, or an input with facets
sqlite3 "$WS/.steward/catalog.db" \
	"SELECT DISTINCT name FROM datasets WHERE kind <> 'term' ORDER BY name" >"$TMP/declared"
jq -r '(.outputs[], (.inputs[] | select(.facets))) | .name' "$TMP/all.ndjson" | sort -u \
	>"$TMP/exported"
test_cmp "$TMP/declared" "$TMP/exported" 'every declared dataset is exported with its facets'
expect_jq '[.[].run.runId] | unique | length' 17 "$TMP/all.json"
expect_jq 'all(.[].run.runId; test("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))' \
	'run ids are UUIDs of version 8 (derived from content)' "$TMP/all.json"

validate "$TMP/all.ndjson"
expect_equal 0 "$RC" 'the export of the example catalog validates against the spec and facet schemas'
expect_stdout_line '17 events valid, 269 facets valid'

# ---- an altered event fails: the test can fail ----
# (one run of the validator over every altered event: python3 and its schemas take a while)
i=0
for change in 'del(.eventTime)' '.eventType = "DONE"' '.producer = "not a uri"' \
	'.run.runId = "run-1"' 'del(.outputs[0].facets.schema._producer)' \
	'.outputs[0].facets.steward_pii.fields.user_key.class = 3' \
	'.outputs[0].facets.steward_pii._schemaURL = "https://example.com/x.json"' \
	'.outputs[0].facets.columnLineage.fields.user_key.inputFields[0] |= del(.field)' \
	'.outputs[0].facets.steward_pii.fields.user_key.category = "User Email"' \
	'.outputs[0].facets.tags = .outputs[0].facets.ownership' \
	'.outputs[0].facets.steward_pii |= del(.fields)' \
	'.eventTime = "2026-13-01T00:00:00Z"'; do
	i=$((i + 1))
	jq -c "select(.job.name == \"airflow:dim_user_daily\") | $change" "$TMP/all.ndjson" \
		>"$TMP/bad-$i.ndjson"
	printf '%s\t%s\n' "$i" "$change" >>"$TMP/changes"
done
validate "$TMP"/bad-*.ndjson
expect_equal 1 "$RC" 'the validator rejects the altered events'
expect_stdout_line "$i of $i events invalid"
while IFS='	' read -r i change; do
	if grep -q "^$TMP/bad-$i.ndjson:1: " "$OUT"; then
		pass "the validator rejects an event altered by: $change"
	else
		fail "the validator rejects an event altered by: $change" "$(last_output)"
	fi
done <"$TMP/changes"
expect_stdout_line "$TMP/bad-1.ndjson:1: 'eventTime' is a required property"
expect_stdout_contains "$TMP/bad-9.ndjson:1: outputs[0].facets.steward_pii: steward_pii.fields.user_key.category: 'User Email' does not match"
expect_stdout_line "$TMP/bad-10.ndjson:1: outputs[0].facets.tags: is named 'tags', but OwnershipDatasetFacet.json defines the facet ownership"
expect_stdout_line "$TMP/bad-11.ndjson:1: outputs[0].facets.steward_pii: steward_pii: 'fields' is a required property"

# ---- what the events say ----
event airflow:dim_user_daily >"$TMP/e.json"
expect_jq '[.inputs[].name]' '["prod.instructors","prod.users"]' "$TMP/e.json"
expect_jq '[.outputs[].name]' '["dw.dim_user"]' "$TMP/e.json"
expect_jq '.outputs[0].namespace' '"steward"' "$TMP/e.json"
# the PII facet of dw.dim_user: each field's class, category and transform, as declared
expect_jq '.outputs[0].facets.steward_pii.fields' \
	'{"user_key":{"class":"pseudonymous","category":"user.unique_id","derived":false},"email_key":{"class":"pseudonymous","category":"user.contact.email","derived":false},"country":{"class":"indirect","category":"user.location.imprecise","derived":false},"birth_year":{"class":"indirect","category":"user.demographic.date_of_birth","derived":false},"signup_date":{"class":"none","derived":false},"is_instructor":{"class":"none","derived":false}}' \
	"$TMP/e.json"
expect_jq '.outputs[0].facets.steward_pii.subject' '"user_key"' "$TMP/e.json"
expect_jq '.outputs[0].facets.steward_pii._schemaURL' \
	'"https://steward.dev/spec/facets/1-0-0/StewardPiiDatasetFacet.json#/$defs/StewardPiiDatasetFacet"' \
	"$TMP/e.json"
expect_jq '.outputs[0].facets.steward_pii._producer' '"https://github.com/steward-dev/steward/tree/0.1.0"' \
	"$TMP/e.json"
# a source nothing writes carries its facets where it is read: prod.users' PII
expect_jq '.inputs[] | select(.name == "prod.users") | .facets.steward_pii.fields.email' \
	'{"class":"direct","category":"user.contact.email","normalize":"email","derived":false}' \
	"$TMP/e.json"
# column lineage (contract 4): a pseudonymous key hashed from a direct id masks it; a plain
# copy is an identity
expect_jq '.outputs[0].facets.columnLineage.fields.user_key.inputFields' \
	'[{"namespace":"steward","name":"prod.users","field":"id","transformations":[{"type":"DIRECT","subtype":"TRANSFORMATION","masking":true}]}]' \
	"$TMP/e.json"
expect_jq '.outputs[0].facets.columnLineage.fields.country.inputFields[0].transformations' \
	'[{"type":"DIRECT","subtype":"IDENTITY","masking":false}]' "$TMP/e.json"
expect_jq '.outputs[0].facets.columnLineage.fields | has("is_instructor")' false "$TMP/e.json"
# a pii_reason travels with its field
event airflow:revenue_daily >"$TMP/e.json"
expect_jq '.outputs[0].facets.steward_pii.fields.paying_learners.reason' \
	'"distinct count of learners per day and category"' "$TMP/e.json"
# the other facets of a card
expect_jq '.outputs[0].facets | keys' \
	'["columnLineage","dataSource","datasetType","documentation","ownership","schema","steward_pii","tags","version"]' \
	"$TMP/e.json"
expect_jq '.outputs[0].facets.ownership.owners' '[{"name":"data-eng"}]' "$TMP/e.json"
expect_jq '[.outputs[0].facets.tags.tags[].key]' '["certified","kpi","revenue"]' "$TMP/e.json"
expect_jq '.outputs[0].facets.dataSource | [.name, .uri]' \
	'["redshift","redshift://dw/analytics.revenue_daily"]' "$TMP/e.json"
expect_jq '.outputs[0].facets.datasetType.datasetType' '"TABLE"' "$TMP/e.json"
# one job writing six event streams from one input: one event
event event-collector >"$TMP/e.json"
expect_jq '[.outputs[].name]' \
	'["events.click","events.course_view","events.impression","events.purchase","events.search","events.signup"]' \
	"$TMP/e.json"
# only the latest version of events.signup (3), and its nested fields nested in the schema
expect_jq '.outputs[] | select(.name == "events.signup") | .facets.version.datasetVersion' '"3"' \
	"$TMP/e.json"
expect_jq '.outputs[] | select(.name == "events.signup") | .facets.schema.fields[] | select(.name == "context") | [.fields[].name]' \
	'["ip","user_agent","device","country","page","referrer"]' "$TMP/e.json"
expect_jq '.outputs[] | select(.name == "events.signup") | .facets.steward_pii.fields["context.ip"].transform' \
	'"hash"' "$TMP/e.json"
# a dataset with upstream datasets and no job: a synthetic one, documented as such
event steward:bi.revenue >"$TMP/e.json"
expect_jq '.job.facets.documentation.description' \
	"\"steward's synthetic job for 'bi.revenue', whose descriptor names no lineage.job\"" \
	"$TMP/e.json"
# eventTime: when the outputs' descriptor file was loaded
want=$(sqlite3 "$WS/.steward/catalog.db" \
	"SELECT f.loaded_at FROM files f JOIN datasets d ON d.file_id = f.id WHERE d.name = 'dw.dim_user'")
event airflow:dim_user_daily >"$TMP/e.json"
expect_jq '.eventTime' "\"$want\"" "$TMP/e.json"

# ---- steward's own cases (tests/fixtures/olout) ----
WS=$TMP/ws-cases
init_ws "$WS"
expect_exit 0 steward catalog load "$FIXTURES/olout"
expect_exit 0 steward export openlineage
cp "$OUT" "$TMP/cases.ndjson"
jq -s '[.[] | [.job.name, [.inputs[].name], [.outputs[].name]]]' "$TMP/cases.ndjson" >"$TMP/jobs.json"
# a job whose outputs read different inputs: one event per input set, so that no event says
# an output reads what it does not; a dataset nothing reads and that reads nothing: a
# synthetic job of its own, so that every dataset is exported
expect_jq . '[["dbt:build",["ext.weblog","src.people"],["mart.people"]],["dbt:build",["mart.people"],["mart.people_counts"]],["steward:misc.lonely",[],["misc.lonely"]]]' \
	"$TMP/jobs.json"
event dbt:build "$TMP/cases.ndjson" | head -n 1 >"$TMP/e.json"
expect_jq '.inputs[] | select(.name == "ext.weblog") | has("facets")' false "$TMP/e.json"
expect_jq '.inputs[] | select(.name == "src.people") | .facets.steward_pii.fields["address.street"]' \
	'{"class":"direct","category":"user.contact.address.street","derived":false}' "$TMP/e.json"
# every transform of contract 4: [subtype, masking] per field
expect_jq '.outputs[0].facets.columnLineage.fields | map_values(.inputFields[0].transformations[0] | [.type, .subtype, .masking])' \
	'{"person_key":["DIRECT","TRANSFORMATION",true],"email_hash":["DIRECT","TRANSFORMATION",true],"birth_year":["DIRECT","TRANSFORMATION",false],"card_last4":["DIRECT","TRANSFORMATION",false],"notes":["DIRECT","TRANSFORMATION",true],"city":["DIRECT","IDENTITY",false],"source_ip":["DIRECT","IDENTITY",false]}' \
	"$TMP/e.json"
expect_jq '.outputs[0].facets.columnLineage.fields.city.inputFields[0] | [.namespace, .name, .field]' \
	'["steward","src.people","address.city"]' "$TMP/e.json"
expect_jq '.outputs[0].facets.columnLineage.fields.source_ip.inputFields[0] | [.namespace, .name]' \
	'["steward","ext.weblog"]' "$TMP/e.json"
# a location that is no URI: the dataSource facet keeps the system's name only
expect_jq '.outputs[0].facets.dataSource | [.name, has("uri")]' '["snowflake",false]' "$TMP/e.json"
expect_jq '.outputs[0].facets | has("documentation")' false "$TMP/e.json"
event dbt:build "$TMP/cases.ndjson" | tail -n 1 >"$TMP/e.json"
expect_jq '.outputs[0].facets | [.version.datasetVersion, .datasetType.datasetType, [.schema.fields[].name]]' \
	'["2","MODEL",["n","day"]]' "$TMP/e.json"

# ---- the sample corpus ----
WS=$TMP/ws-corpus
init_ws "$WS"
expect_exit 0 steward catalog load "$CORPUS"
expect_exit 0 steward export openlineage --out "$TMP/corpus.ndjson"
validate "$TMP/corpus.ndjson" "$TMP/cases.ndjson"
expect_equal 0 "$RC" "the exports of the sample corpus and of steward's own cases validate"
expect_stdout_contains ' events valid, '
sqlite3 "$WS/.steward/catalog.db" \
	"SELECT DISTINCT name FROM datasets WHERE kind <> 'term' ORDER BY name" >"$TMP/declared"
jq -r '(.outputs[], (.inputs[] | select(.facets))) | .name' "$TMP/corpus.ndjson" | sort -u \
	>"$TMP/exported"
test_cmp "$TMP/declared" "$TMP/exported" 'every declared dataset of the corpus is exported'

done_testing
