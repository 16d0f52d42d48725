#!/bin/sh
# Compatibility between versions of one dataset, following the table in
# docs/descriptor-format.md ("Versions and compatibility"), for every mode.
. "$(dirname "$0")/lib.sh"
require jq

init_ws
mkdir "$TMP/versions"
cd "$TMP" || exit 99
V=$FIXTURES/versions

# ---- the default mode, with real loads ----
cp "$V/add-optional.yaml" "$V/add-required.yaml" "$V/remove-required.yaml" \
	"$V/other-type-change.yaml" "$V/int-to-int64.yaml" versions/
for f in versions/*.yaml; do
	grep -v '^compatibility: ' "$f" >"$f.new" && mv "$f.new" "$f"
done

expect_exit 0 steward catalog load versions/add-optional.yaml
expect_stderr_empty 'default mode: adding an optional field is fine'
expect_exit 0 steward show ver.add_optional --json
expect_jq '.version == 2 and .versions == [1, 2] and .compatibility == "backward"' 'both versions are stored; backward is the default'
expect_jq '[.fields[].path] == ["id", "note"]' 'the latest version has the new field'

expect_exit 3 steward catalog load versions/add-required.yaml
expect_stderr_line "versions/add-required.yaml:14:5: error: version 2 of 'ver.add_required' is not backward compatible with version 1: field 'email' was added as required"
expect_stderr_line 'error: 1 error found; the catalog was not changed'
expect_exit 4 steward show ver.add_required

expect_exit 3 steward catalog load versions/remove-required.yaml
expect_stderr_line "versions/remove-required.yaml:10:1: error: version 2 of 'ver.remove_required' is not backward compatible with version 1: required field 'email' was removed"

expect_exit 3 steward catalog load versions/other-type-change.yaml
expect_stderr_line "versions/other-type-change.yaml:15:5: error: version 2 of 'ver.other_type_change' is not backward compatible with version 1: field 'n' changed type from int to string"

expect_exit 0 steward catalog load versions/int-to-int64.yaml
expect_stderr_empty 'default mode: int -> int64 is allowed'

# ---- the table, for every mode (--check, in a fresh workspace; version 2 carries the mode) ----
WS=$TMP/ws-table
init_ws "$WS"
# try FIXTURE MODE [LOCATION MESSAGE]: no message means the change is compatible.
try() {
	out=versions/$1.$2.yaml
	sed "s/^compatibility: backward\$/compatibility: $2/" "$V/$1.yaml" >"$out"
	if [ $# -eq 2 ]; then
		expect_exit 0 steward catalog load --check "$out"
		expect_stderr_empty "$1 under $2: compatible"
	else
		expect_exit 3 steward catalog load --check "$out"
		adverb=$2
		[ "$2" = full ] && adverb=fully
		expect_stderr_line "$out:$3: error: version 2 of 'ver.$(echo "$1" | tr - _)' is not $adverb compatible with version 1: $4"
		expect_count 2 '' "$ERR" "$1 under $2: exactly one error"
	fi
}

for mode in backward forward full none; do
	try add-optional "$mode"
	try remove-optional "$mode"
done
for mode in backward forward full; do
	try add-required "$mode" 14:5 "field 'email' was added as required"
	try remove-required "$mode" 10:1 "required field 'email' was removed"
	try other-type-change "$mode" 15:5 "field 'n' changed type from int to string"
done
try int-to-int64 backward
try int-to-int64 forward 15:5 "field 'n' changed type from int to int64"
try int-to-int64 full 15:5 "field 'n' changed type from int to int64"
try int64-to-int backward 15:5 "field 'n' changed type from int64 to int"
try int64-to-int forward
try int64-to-int full 15:5 "field 'n' changed type from int64 to int"
try optional-to-required backward 15:5 "field 'n' became required"
try optional-to-required forward
try optional-to-required full 15:5 "field 'n' became required"
try required-to-optional backward
try required-to-optional forward 15:5 "field 'n' became optional"
try required-to-optional full 15:5 "field 'n' became optional"
try nullable-to-not-nullable backward 15:5 "field 'n' is no longer nullable"
try nullable-to-not-nullable forward
try nullable-to-not-nullable full 15:5 "field 'n' is no longer nullable"
try not-nullable-to-nullable backward
try not-nullable-to-nullable forward 15:5 "field 'n' became nullable"
try not-nullable-to-nullable full 15:5 "field 'n' became nullable"
# compatibility: none allows every change.
for f in add-required remove-required int-to-int64 int64-to-int other-type-change \
	optional-to-required required-to-optional nullable-to-not-nullable not-nullable-to-nullable; do
	try "$f" none
done

# ---- which versions are compared, and with which mode ----
WS=$TMP/ws
expect_exit 3 steward catalog load --check "$V/mode-from-newer.yaml"
expect_stderr_line "$V/mode-from-newer.yaml:11:1: error: version 2 of 'ver.mode_from_newer' is not backward compatible with version 1: required field 'legacy' was removed"
expect_exit 0 steward catalog load --check "$V/newer-none.yaml"
expect_stderr_empty 'the newer version says none: not checked'
expect_exit 0 steward catalog load "$V/three-versions.yaml"
expect_stderr_empty 'three versions: each compared with the previous one only'
expect_exit 0 steward show ver.three --json
expect_jq '.version == 3 and .versions == [1, 2, 3]'
expect_exit 0 steward show ver.three --version 1 --json
expect_jq '[.fields[].path] == ["id", "legacy"]' 'show --version 1 gives the first version'

# Nested fields and array elements are compared by path.
expect_exit 3 steward catalog load --check "$V/nested-type-change.yaml"
expect_stderr_line "$V/nested-type-change.yaml:21:9: error: version 2 of 'ver.nested' is not backward compatible with version 1: field 'context.ip' changed type from string to int64"
expect_stderr_line "$V/nested-type-change.yaml:22:5: error: version 2 of 'ver.nested' is not backward compatible with version 1: field 'course_ids' changed type from array of int to array of string"

# ---- versions in two files: in one load, and in two loads in either order ----
cp "$V/split-v1.yaml" "$V/split-v2.yaml" versions/
expect_exit 3 steward catalog load versions/split-v1.yaml versions/split-v2.yaml
expect_stderr_line "versions/split-v2.yaml:7:5: error: version 2 of 'ver.split' is not backward compatible with version 1: field 'user_id' was added as required"
expect_exit 0 steward catalog load versions/split-v1.yaml
expect_exit 3 steward catalog load versions/split-v2.yaml
expect_stderr_line "versions/split-v2.yaml:7:5: error: version 2 of 'ver.split' is not backward compatible with version 1: field 'user_id' was added as required" \
	'version 2 loaded after version 1 is checked against it'

WS=$TMP/ws2
init_ws "$WS"
expect_exit 0 steward catalog load versions/split-v2.yaml
expect_exit 3 steward catalog load versions/split-v1.yaml
expect_stderr_line "versions/split-v2.yaml:7:5: error: version 2 of 'ver.split' is not backward compatible with version 1: field 'user_id' was added as required" \
	'version 1 loaded after version 2 is checked too'

# The sample's events.signup 2 -> 3 (two optional fields added) is compatible.
# (Alone, the file's upstream web.tracking_sdk is undeclared: warnings, but no error.)
expect_exit 0 steward catalog load --check "$CORPUS/events/signup.yaml"
expect_stderr_lacks 'error' 'events.signup versions 2 and 3 are compatible'

done_testing
