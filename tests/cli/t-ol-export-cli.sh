#!/bin/sh
# steward export openlineage, the command: two exports of one catalog are byte-identical,
# on standard output and with --out; NAME... selects the events of jobs and datasets;
# unknown names, refused and unwritable --out paths and usage errors have exact messages;
# an existing output file is replaced whole. t-ol-export.sh validates what it writes.
. "$(dirname "$0")/lib.sh"

require jq sqlite3
# event JOB [FILE]: the event of job JOB (default: the whole export), as one line.
event() { jq -c --arg j "$1" 'select(.job.name == $j)' "${2:-$TMP/all.ndjson}"; }

init_ws
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward export openlineage
cp "$OUT" "$TMP/all.ndjson"

# ---- deterministic: the same catalog gives the same bytes, on stdout or in a file ----
expect_exit 0 steward export openlineage
test_cmp "$TMP/all.ndjson" "$OUT" 'a second export is byte-identical'
expect_exit 0 steward export openlineage --out "$TMP/out.ndjson"
expect_stdout_line "exported 17 events (22 datasets) to '$TMP/out.ndjson'"
test_cmp "$TMP/all.ndjson" "$TMP/out.ndjson" '--out holds the same bytes as standard output'
expect_equal 600 "$(stat -c %a "$TMP/out.ndjson")" 'the output file is mode 0600'
# loading again changes nothing, so the export does not change either
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward export openlineage
test_cmp "$TMP/all.ndjson" "$OUT" 'an export after an unchanged load is byte-identical'

# ---- NAME...: the events of these datasets and jobs ----
expect_exit 0 steward export openlineage dw.dim_user
expect_count 1 . "$OUT" 'a dataset: the one event that writes it'
expect_stdout_line "$(event airflow:dim_user_daily)" 'and it is the line of the full export'
expect_exit 0 steward export openlineage event-collector
expect_jq '.job.name' '"event-collector"'
expect_exit 0 steward export openlineage prod.users
jq -s '[.[].job.name]' "$OUT" >"$TMP/jobs.json"
expect_jq . '["airflow:dim_user_daily","crm-export"]' "$TMP/jobs.json"
expect_exit 0 steward export openlineage events.click airflow:revenue_daily events.signup \
	airflow:revenue_daily
jq -s '[.[].job.name]' "$OUT" >"$TMP/jobs.json"
expect_jq . '["airflow:revenue_daily","event-collector"]' "$TMP/jobs.json"
expect_exit 0 steward export openlineage steward:bi.revenue --out "$TMP/one.ndjson"
expect_stdout_line "exported 1 event (1 dataset) to '$TMP/one.ndjson'"

# ---- errors, with exact messages ----
expect_exit 4 steward export openlineage dw.dim_usr
expect_stderr_line "error: no dataset or job 'dw.dim_usr' in the catalog (did you mean 'dw.dim_user'?)"
expect_stdout_empty 'an unknown name: nothing is written'
expect_exit 4 steward export openlineage airflow:revenue_dayly
expect_stderr_line "error: no dataset or job 'airflow:revenue_dayly' in the catalog (did you mean 'airflow:revenue_daily'?)"
expect_exit 4 steward export openlineage dw.dim_user nothing.like.it
expect_stderr_line "error: no dataset or job 'nothing.like.it' in the catalog"
expect_stdout_empty 'one unknown name among known ones: nothing is written'
# a name that holds personal data is not repeated in the message (nor in the audit log)
expect_exit 4 steward export openlineage ann.k7@example.com
expect_stderr_line "error: no dataset or job '<email>' in the catalog"
expect_exit 0 steward audit log --action catalog.export --json
expect_stdout_contains '"reason": "no dataset or job '\''<email>'\'' in the catalog"'
expect_stdout_lacks 'ann.k7'
expect_exit 4 steward export openlineage glossary.revenue
expect_stderr_line "error: 'glossary.revenue' is a glossary term, which OpenLineage has no place for"
rm -f "$TMP/none.ndjson"
expect_exit 4 steward export openlineage nope.nope --out "$TMP/none.ndjson"
check_not 'an unknown name leaves no output file' test -e "$TMP/none.ndjson"
expect_exit 5 steward export openlineage --out "$TMP/no/such/dir/x.ndjson"
expect_stderr_line "error: cannot write '$TMP/no/such/dir/x.ndjson': No such file or directory"
expect_exit 2 steward export openlineage --out "$WS/.steward/x.ndjson"
expect_stderr_line "error: output file '$WS/.steward/x.ndjson' is inside the workspace's state directory '$WS/.steward'; choose a path outside it"
echo keep >"$TMP/target"
ln -s "$TMP/target" "$TMP/link.ndjson"
expect_exit 2 steward export openlineage --out "$TMP/link.ndjson"
expect_stderr_line "error: output file '$TMP/link.ndjson' is a symbolic link; give a regular file"
expect_equal keep "$(cat "$TMP/target")" 'the symbolic link target is untouched'
expect_exit 2 steward export openlineage --out "$TMP"
expect_stderr_line "error: output file '$TMP' is a directory"
# an existing file of the user is replaced whole, and made 0600
printf 'old\n' >"$TMP/old.ndjson"
chmod 644 "$TMP/old.ndjson"
expect_exit 0 steward export openlineage --out "$TMP/old.ndjson"
test_cmp "$TMP/all.ndjson" "$TMP/old.ndjson" 'an existing output file is replaced whole'
expect_equal 600 "$(stat -c %a "$TMP/old.ndjson")" 'and is mode 0600 afterwards'
ls -A "$TMP" | grep -F '.tmp-' >"$TMP/tmps" || true
expect_count 0 . "$TMP/tmps" 'no temporary file is left beside it'
if [ "$(id -u)" = 0 ]; then
	printf 'theirs\n' >"$TMP/theirs.ndjson"
	chmod 666 "$TMP/theirs.ndjson"
	chown 65534 "$TMP/theirs.ndjson"
	expect_exit 6 steward export openlineage --out "$TMP/theirs.ndjson"
	expect_stderr_line "error: output file '$TMP/theirs.ndjson' belongs to another user (uid 65534); remove it or choose another path"
	expect_equal theirs "$(cat "$TMP/theirs.ndjson")" "another user's file is untouched"
else
	skip "an output file owned by another user is refused" "needs root to chown"
fi
expect_exit 2 steward export openlineage --out ''
expect_stderr_line 'error: --out needs a file name'
expect_exit 2 steward export openlineage --output x
expect_stderr_line "error: unknown option '--output'"
expect_exit 2 steward export
expect_stderr_line 'usage: steward export <command> [<args>]'
expect_exit 2 steward export dot
expect_stderr_line "error: 'dot' is not a 'steward export' command"
expect_exit 0 steward export openlineage --help
expect_stdout_line 'usage: steward export openlineage [NAME...] [--out FILE]'

# ---- stored text is escaped as in every JSON output, and stays the same string ----
WS=$TMP/ws-escape
init_ws "$WS"
cat >"$TMP/esc.yaml" <<'EOF'
kind: table
name: x.esc
description: "right-to-left \u202E override, a C1 \u0085 control, a tab\t and a bell \a"
columns:
  - {name: a, type: string, pii: none}
EOF
expect_exit 0 steward catalog load "$TMP/esc.yaml"
expect_exit 0 steward export openlineage
expect_count 0 "$(printf '\342\200\256')" "$OUT" 'no raw U+202E reaches the output'
expect_stdout_contains 'right-to-left \u202e override, a C1 \u0085 control, a tab\t and a bell \u0007'
expect_jq '.outputs[0].facets.documentation.description | explode | map(select(. == 8238 or . == 133 or . == 7)) | length' 3
WS=$TMP/ws

# ---- bash completion: the verb, its subcommand, its option, dataset names ----
cat >"$TMP/complete.bash" <<'EOF'
. "$STEWARD_SRC/completion/steward.bash" || exit 3
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_steward steward "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
EOF
export STEWARD_SRC
tab() { run bash --norc --noprofile "$TMP/complete.bash" "$@"; }
tab "$STEWARD" ex
expect_stdout_line export 'steward ex<TAB> proposes export'
tab "$STEWARD" export ''
expect_stdout_line openlineage 'steward export <TAB> proposes openlineage'
tab "$STEWARD" export openlineage --o
expect_stdout_line --out 'steward export openlineage --o<TAB> proposes --out'
tab "$STEWARD" --home "$WS" export openlineage dw.dim_
expect_stdout_line dw.dim_user 'steward export openlineage dw.dim_<TAB> proposes dataset names'

# a source that nothing writes selects the events that read it
WS=$TMP/ws-cases
init_ws "$WS"
expect_exit 0 steward export openlineage
expect_stdout_empty 'an empty catalog exports no events'
expect_exit 0 steward catalog load "$FIXTURES/olout"
expect_exit 0 steward export openlineage src.people
expect_count 1 . "$OUT" 'a source: the event that reads it'
expect_jq '.outputs[0].name' '"mart.people"'

done_testing
