#!/bin/sh
# References (lineage.upstream, from:, related) to undeclared datasets or fields are
# warnings with a location; the load succeeds and lineage shows them as external nodes.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
cp -R "$FIXTURES/refs" "$TMP/refs"
cd "$TMP" || exit 99

expect_exit 0 steward catalog load refs/refs.yaml
expect_stdout_line 'catalog: 3 datasets (3 versions), 5 warnings'
expect_stderr_line "refs/refs.yaml:14:24: warning: upstream 'ext.outside' of 'ref.derived' is not declared; it stays in the graph as external"
expect_stderr_line "refs/refs.yaml:11:51: warning: 'from' refers to undeclared dataset 'ext.crm'; it stays in the graph as external"
expect_stderr_line "refs/refs.yaml:12:54: warning: 'from' refers to 'ref.base.nope', but 'ref.base' has no such field; it stays in the graph as external"
expect_stderr_line "refs/refs.yaml:18:24: warning: term relates to undeclared dataset 'ref.gone'"
expect_stderr_line "refs/refs.yaml:18:34: warning: term relates to 'ref.base.nothing', but 'ref.base' has no such field"
expect_count 5 ': warning: ' "$ERR" 'exactly 5 warnings'
expect_stderr_lacks 'error' 'no errors'

# Dataset lineage: the undeclared upstream is an external node.
expect_exit 0 steward lineage ref.derived --up
expect_stdout_line '├── ext.outside (external)'
expect_stdout_line '└── ref.base (table)'
expect_exit 0 steward lineage ref.derived --up --json
expect_jq '.nodes[] | select(.name == "ext.outside") | .external == true and .kind == null and .depth == 1' \
	'lineage --json: ext.outside is external'
expect_jq '.nodes[] | select(.name == "ref.base") | .external == false and .kind == "table"' \
	'lineage --json: ref.base is not external'
expect_jq '.edges | index({"from": "ext.outside", "to": "ref.derived"}) != null' \
	'lineage --json: edge ext.outside -> ref.derived'
expect_exit 0 steward lineage ref.derived --dot
expect_stdout_contains '"ext.outside" [label="ext.outside\nexternal", style=dashed];'

# An external node can be the root: it is known through the edges that name it.
expect_exit 0 steward lineage ext.outside --down --json
expect_jq '.nodes[0] == {"name": "ext.outside", "kind": null, "external": true, "depth": 0}' \
	'lineage of an external root'
expect_jq '[.nodes[1:][].name] == ["ref.derived"]'

# Column lineage: an undeclared dataset, and a declared dataset without that field.
expect_exit 0 steward lineage ref.derived.ext_id --up
expect_stdout_line '└── ext.crm.contact_id (external)'
expect_exit 0 steward lineage ref.derived.ext_id --up --json
expect_jq '.column == true and (.nodes[] | select(.name == "ext.crm.contact_id") | .external)' \
	'column lineage --json: ext.crm.contact_id is external'
expect_exit 0 steward lineage ref.derived.bad_field --up --json
expect_jq '.nodes[] | select(.name == "ref.base.nope") | .external == true and .kind == null' \
	'column lineage --json: ref.base.nope (no such field) is external'
expect_exit 0 steward lineage ref.derived.id --up --json
expect_jq '[.nodes[] | select(.external)] == [] and [.nodes[].name] == ["ref.derived.id", "ref.base.id"]' \
	'a declared field is not external'

# The card shows the external upstream too.
expect_exit 0 steward show ref.derived
expect_stdout_line '  ext.outside (external)'
expect_exit 0 steward show ref.derived --json
expect_jq '.upstream == [{"name": "ref.base", "kind": "table", "external": false}, {"name": "ext.outside", "kind": null, "external": true}]' \
	'show --json: upstream with external flags'
expect_exit 0 steward show glossary.ref_term --json
expect_jq '.related[] | select(.name == "ref.gone") | .external' 'show --json: an undeclared related dataset is external'

# Declaring the dataset later turns the external node into a real one.
expect_exit 0 steward catalog load refs/refs.yaml refs/outside.yaml
expect_stdout_line 'loaded 2 files: 1 new, 0 changed, 1 unchanged, 0 removed; 1 document read'
expect_exit 0 steward lineage ref.derived --up --json
expect_jq '.nodes[] | select(.name == "ext.outside") | .external == false and .kind == "source"' \
	'once declared, ext.outside is no longer external'

done_testing
