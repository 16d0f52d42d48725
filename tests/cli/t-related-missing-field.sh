#!/bin/sh
# QUESTIONABLE (not in meson.build until decided): a glossary term that relates to a field
# that does not exist (`related: [ref.base.nothing]`, ref.base declared without that field)
# gets a load warning, and lineage treats such field references as external, but the
# term's card shows it as "ref.base.nothing (table)" / "external": false.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
expect_exit 0 steward catalog load "$FIXTURES/refs/refs.yaml"
expect_stderr_contains "term relates to 'ref.base.nothing', but 'ref.base' has no such field"
expect_exit 0 steward show glossary.ref_term --json
expect_jq '.related[] | select(.name == "ref.base.nothing") | .external == true' \
	'a related field that does not exist is external'
expect_exit 0 steward show glossary.ref_term
expect_stdout_line '  ref.base.nothing (external)'

done_testing
