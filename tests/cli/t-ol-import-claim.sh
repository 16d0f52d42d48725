#!/bin/sh
# A descriptor claims an observed dataset, by its openlineage: key or through the events'
# symlinks facet (or namespace 'steward', steward's own names), and the two become one; the
# claim survives the descriptor's reloads and, when the descriptor goes, the observed dataset
# comes back. A steward_pii facet (what `export openlineage` writes) gives classes back.
. "$(dirname "$0")/lib.sh"
require jq sqlite3

F=$FIXTURES/openlineage
DB=$WS/.steward/catalog.db
q() { sqlite3 "$DB" "$1"; }
init_ws
mkdir "$TMP/cat"
cp "$F/crm.yaml" "$TMP/cat/"
expect_exit 0 steward catalog load "$TMP/cat"

# ---- symlinks and namespace steward: events about crm.users join the declared dataset ----
expect_exit 0 steward lineage import "$F/events-claim.ndjson"
expect_stdout_line 'imported 2 events: 2 applied, 0 rejected, 0 ignored (0 already imported, 0 superseded)'
expect_equal 'crm.users|0
hr.staff|1
kafka-broker-example-9092.users|1' "$(q 'SELECT name, observed FROM datasets ORDER BY name')" \
	's3://lake raw/users names crm.users in its symlinks: no observed dataset for it'
expect_equal 'kafka-broker-example-9092.users|email_address|crm.users|email|DIRECT|IDENTITY|0' \
	"$(q 'SELECT src_ds, src_field, dst_ds, dst_field, ttype, tsubtype, masking FROM field_edges')" \
	'its column lineage goes into the declared crm.users (deprecated transformationType: the subtype)'
expect_exit 0 steward lineage crm.users.email
expect_stdout_line '└── kafka-broker-example-9092.users.email_address (external)'
expect_exit 0 steward show crm.users --json
expect_jq '[.observed, .openlineage.namespace, .openlineage.name, .openlineage.last_run.state]' \
	'[false,"s3://lake","raw/users","COMPLETE"]'

# The descriptor changes and reloads: the imported lineage stays.
printf '# edited\n' >>"$TMP/cat/crm.yaml"
expect_exit 0 steward catalog load "$TMP/cat"
expect_stdout_contains '1 changed'
expect_equal 1 "$(q "SELECT count(*) FROM field_edges WHERE dst_ds = 'crm.users' AND observed = 1")" \
	'column edges from events outlive a reload of the descriptor'
# The descriptor goes: the events' dataset is observed again, under its own name, with the
# lineage; when it comes back, the two are one again.
rm "$TMP/cat/crm.yaml"
expect_exit 0 steward catalog load "$TMP/cat"
expect_stdout_line 'removed 1 dataset whose descriptor is gone: crm.users'
expect_equal 's3-lake.raw_users|1|2' \
	"$(q "SELECT d.name, d.observed, (SELECT count(*) FROM fields f WHERE f.dataset_id = d.id)
		FROM datasets d WHERE d.name LIKE 's3%'")" 'without its descriptor: observed, with its fields'
expect_equal 's3-lake.raw_users.email' "$(q "SELECT dst_ds || '.' || dst_field FROM field_edges")" \
	'and its column lineage'
cp "$F/crm.yaml" "$TMP/cat/"
expect_exit 0 steward catalog load "$TMP/cat"
expect_equal 'crm.users.email' "$(q "SELECT dst_ds || '.' || dst_field FROM field_edges")" \
	'the descriptor back: one dataset again'

# ---- steward_pii: classes come back, derived ones are recomputed, none is untagged ----
expect_equal 'staff_id|indirect|user.unique_id||2
email|direct|user.contact.email|hash|2
home|none|||1
home.city|indirect|user.contact.address.city||2
email_copy|none|||1' \
	"$(q "SELECT f.path, f.pii, f.category, f.transform, f.observed FROM fields f
		JOIN datasets d ON d.id = f.dataset_id WHERE d.name = 'hr.staff' ORDER BY f.ord")" \
	'hr.staff: classes, categories and transforms from the facet; a derived class is not kept'
expect_exit 0 steward pii map --json
expect_jq '[.categories[].fields[] | select(.dataset == "hr.staff") | [.field, .class, .derived]] | sort' \
	'[["email","direct",false],["home.city","indirect",false],["staff_id","indirect",false]]'
expect_exit 0 steward pii check
expect_stdout_lacks 'untagged personal data observed in lineage:'

# ---- the openlineage: key ----
cat >"$TMP/staff.yaml" <<'YAML'
kind: table
name: people.staff
openlineage: {namespace: steward, name: hr.staff}
columns:
  - {name: staff_id, type: int64, pii: indirect, category: user.unique_id}
  - {name: email, type: string, pii: direct, category: user.contact.email}
YAML
expect_exit 0 steward catalog load "$TMP/staff.yaml"
expect_equal 'people.staff|0' "$(q "SELECT name, observed FROM datasets WHERE name LIKE '%staff'")" \
	'claimed: the observed hr.staff is now people.staff'
expect_exit 0 steward search staff --json
expect_jq '[.[] | [.name, (.observed // false)]]' '[["people.staff",false]]'
expect_exit 0 steward lineage import "$F/events-claim.ndjson"
expect_stdout_line 'imported 2 events: 0 applied, 0 rejected, 2 ignored (2 already imported, 0 superseded)'
expect_exit 4 steward show hr.staff
expect_stderr_contains "error: no dataset 'hr.staff' in the catalog"

# A malformed key is a load error at its place.
cat >"$TMP/bad.yaml" <<'YAML'
kind: table
name: people.bad
openlineage: {namespace: steward}
YAML
expect_exit 3 steward catalog load "$TMP/bad.yaml"
expect_stderr_line "$TMP/bad.yaml:3:14: error: missing required key 'name'"

done_testing
