#!/bin/sh
# Loading the shared sample catalog: counts, no warnings, a second load skips everything,
# and the CSV export folder loads next to it.
. "$(dirname "$0")/lib.sh"

init_ws

expect_exit 0 steward catalog load "$CORPUS"
expect_stdout_line 'loaded 14 files: 14 new, 0 changed, 0 unchanged, 0 removed; 31 documents read'
expect_stdout_line 'catalog: 30 datasets (31 versions)'
expect_stderr_empty 'first load: no warnings or errors on stderr'
expect_stdout_lacks 'warning'

expect_exit 0 steward catalog load "$CORPUS"
expect_stdout_line 'loaded 14 files: 0 new, 0 changed, 14 unchanged, 0 removed; 0 documents read' \
	'second load: 14 unchanged, 0 documents read'
expect_stdout_line 'catalog: 30 datasets (31 versions)'
expect_stderr_empty 'second load: stderr is empty'

# The sample catalog and the CSV export together, in a fresh workspace.
WS=$TMP/ws2
init_ws "$WS"
expect_exit 0 steward catalog load "$CORPUS" "$CSV_DIR"
expect_stdout_line 'loaded 15 files: 15 new, 0 changed, 0 unchanged, 0 removed; 32 documents read'
expect_stdout_line 'catalog: 31 datasets (32 versions)'
expect_stderr_empty 'catalog + csv: stderr is empty'
expect_exit 0 steward show crm.signups_export
expect_stdout_contains 'crm.signups_export  (file, version 1)'

# Adding the CSV folder to a workspace that already holds the catalog reads only the new file.
WS=$TMP/ws
expect_exit 0 steward catalog load "$CORPUS" "$CSV_DIR"
expect_stdout_line 'loaded 15 files: 1 new, 0 changed, 14 unchanged, 0 removed; 1 document read'
expect_stdout_line 'catalog: 31 datasets (32 versions)'

# --check on the sample validates and reports the same totals.
expect_exit 0 steward catalog load --check "$CORPUS" "$CSV_DIR"
expect_stdout_line 'catalog would have: 31 datasets (32 versions)'

done_testing
