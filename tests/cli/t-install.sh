#!/bin/sh
# `meson install` into a staging directory: the binary, a man page per verb (rendered without
# warnings, naming every option its --help names), the bash completion and the schema.
. "$(dirname "$0")/lib.sh"

require meson
: "${STEWARD_BUILD_ROOT:=$(cd "$(dirname "$STEWARD")/.." && pwd)}"
DEST=$TMP/dest

# ---- the install ----
expect_exit 0 meson install -C "$STEWARD_BUILD_ROOT" --destdir "$DEST" --no-rebuild --quiet
# installed NAME: the one installed file whose path ends in /NAME (meson decides the prefix).
installed() { find "$DEST" -path "*/$1" -type f | head -n 1; }
BIN=$(installed bin/steward)
SCHEMA=$(installed share/steward/descriptor.schema.json)
COMPLETION=$(installed bash-completion/completions/steward)
MAN1=$(dirname "$(installed man/man1/steward.1)")
if [ -x "$BIN" ] && [ "$("$BIN" --version)" = "$("$STEWARD" --version)" ]; then
	pass "the binary is installed and runs: ${BIN#"$DEST"}"
else
	fail "the binary is installed and runs: ${BIN#"$DEST"}" "$(find "$DEST" -type f)"
fi
if [ -n "$COMPLETION" ]; then
	pass "the bash completion is installed: ${COMPLETION#"$DEST"}"
else
	fail "the bash completion is installed under bash-completion/completions/" \
		"$(find "$DEST" -type f)"
fi
check "the descriptor schema is installed: ${SCHEMA#"$DEST"}" \
	cmp "$STEWARD_SRC/schemas/descriptor.schema.json" "$SCHEMA"
# shellcheck disable=SC2016 # expanded by that sh
check "the installed schema is what 'steward catalog schema' prints" \
	sh -c '"$1" catalog schema | cmp - "$2"' sh "$BIN" "$SCHEMA"

# ---- a man page per verb ----
# The verbs of `steward --help`, and the subcommands of a verb's --help ("commands:").
commands_of() {
	sed -n '/^commands:$/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'
}
"$STEWARD" --help | commands_of >"$TMP/verbs"
expect_count 15 . "$TMP/verbs" "steward --help lists the 15 verbs of the command table"
PAGES=
for page in steward $(sed 's/^/steward-/' "$TMP/verbs"); do
	if [ -f "$MAN1/$page.1" ]; then
		pass "$page(1) is installed"
		PAGES="$PAGES $MAN1/$page.1"
	else
		fail "$page(1) is installed" "missing: ${MAN1#"$DEST"}/$page.1" "$(ls "$MAN1" 2>&1)"
	fi
done
# lint DESC CMD...: CMD over all the pages at once must print nothing on stderr and succeed;
# when it does not, it is run on each page to name the ones at fault.
lint() {
	local desc="$1" f bad=
	shift
	# shellcheck disable=SC2086 # one path per word
	if "$@" $PAGES >"$TMP/lint.out" 2>"$TMP/lint.err" && [ ! -s "$TMP/lint.err" ]; then
		pass "$desc"
		return
	fi
	for f in $PAGES; do
		"$@" "$f" >/dev/null 2>"$TMP/lint.err" && [ ! -s "$TMP/lint.err" ] ||
			bad="$bad $(basename "$f"): $(head -n 5 "$TMP/lint.err")"
	done
	fail "$desc" "${bad:-$(head -n 20 "$TMP/lint.err")}"
}
# man(1) prints the pages on stdout, warnings and errors on stderr. Its seccomp sandbox
# doubles its CPU time and protects nothing here: the pages are ours.
MANWIDTH=80 MAN_DISABLE_SECCOMP=1
export MANWIDTH MAN_DISABLE_SECCOMP
lint "every page renders with man -l without warnings" man --warnings -l
# shellcheck disable=SC2086 # one path per word
expect_count "$(echo $PAGES | wc -w)" '^NAME$' "$TMP/lint.out" "and each has a NAME section"
expect_count 0 '@[A-Z]+@' "$TMP/lint.out" "and no unsubstituted @VARIABLE@"
if command -v groff >/dev/null 2>&1; then
	lint "every page passes groff -ww -z -man" groff -ww -z -man
fi
if command -v mandoc >/dev/null 2>&1; then
	lint "every page passes mandoc -Tlint" mandoc -Tlint -Wwarning
fi

# Every option that a verb's --help (or one of its subcommands' --help) names appears in the
# verb's page, as do its subcommands, so the pages cannot silently drift from the binary.
# The page's source is compared with its escapes removed (\- is a minus, \fB a font).
page_text() { sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$1"; }
"$STEWARD" --help >"$TMP/help"
page_text "$MAN1/steward.1" >"$TMP/page.src" 2>/dev/null
missing=
for o in $(grep -oE -- '--[a-z][a-z-]*' "$TMP/help" | sort -u); do
	grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$TMP/page.src" || missing="$missing $o"
done
if [ -z "$missing" ]; then
	pass "steward(1) names every option of steward --help"
else
	fail "steward(1) names every option of steward --help" "missing:$missing"
fi
while read -r verb; do
	f=$MAN1/steward-$verb.1
	[ -f "$f" ] || continue
	"$STEWARD" "$verb" --help >"$TMP/help"
	missing=
	for sub in $(commands_of <"$TMP/help"); do
		"$STEWARD" "$verb" "$sub" --help >>"$TMP/help"
		page_text "$f" | grep -qE "^\.SS steward $verb $sub( |\$)" ||
			missing="$missing (section) $sub"
	done
	page_text "$f" >"$TMP/page.src"
	for o in $(grep -oE -- '--[a-z][a-z-]*' "$TMP/help" | sort -u); do
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$TMP/page.src" || missing="$missing $o"
	done
	if [ -z "$missing" ]; then
		pass "steward-$verb(1) names every subcommand and option of its --help"
	else
		fail "steward-$verb(1) names every subcommand and option of its --help" \
			"missing:$missing"
	fi
done <"$TMP/verbs"

# ---- bash completion ----
# tab WORD...: the candidates bash completion proposes for the command line WORD...,
# the last word being the one under the cursor; one per line in $OUT, errors in $ERR.
cat >"$TMP/complete.bash" <<'EOF'
. "$COMPLETION" || exit 3
fn=$(complete -p steward | sed -n 's/.*-F \([^ ]*\).*/\1/p')
[ -n "$fn" ] || exit 4
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$fn" steward "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
EOF
export COMPLETION
tab() { run bash --norc --noprofile "$TMP/complete.bash" "$@"; }
# proposes FILE DESC: every word of FILE is among the candidates, and nothing went to stderr.
proposes() {
	local w missing=
	for w in $(cat "$1"); do
		grep -qFx -e "$w" "$OUT" || missing="$missing $w"
	done
	if [ "$RC" -eq 0 ] && [ -z "$missing" ] && [ ! -s "$ERR" ]; then
		pass "$2"
	else
		fail "$2" "missing:$missing" "$(last_output)"
	fi
}
# words WORD...: writes the words, one per line, to $TMP/words.
words() { printf '%s\n' "$@" >"$TMP/words"; }

if [ -n "$COMPLETION" ]; then
	check "the completion script parses" bash -n "$COMPLETION"
	tab "$BIN" ''
	proposes "$TMP/verbs" "steward <TAB> proposes every verb"
	tab "$BIN" ingest --
	"$STEWARD" ingest --help | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$TMP/words"
	proposes "$TMP/words" "steward ingest --<TAB> proposes every option of its --help"
	tab "$BIN" ingest --format ''
	words jsonl csv
	proposes "$TMP/words" "steward ingest --format <TAB> proposes jsonl and csv"
	expect_count 2 . "$OUT" "and nothing else"
	tab "$BIN" pii ''
	words hash map check scan
	proposes "$TMP/words" "steward pii <TAB> proposes its subcommands"

	# Dataset names come from `steward search --json` on the workspace of the command line.
	init_ws
	expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
	tab "$BIN" --home "$WS" show d
	words dw.revenue_daily dw.dim_user
	proposes "$TMP/words" "steward --home WS show d<TAB> proposes dataset names of WS"
	expect_count 0 '^[^d]' "$OUT" "and only names that start with d"
	tab "$BIN" show --home "$WS" dw.rev
	expect_stdout_line dw.revenue_daily "steward show --home WS dw.rev<TAB> completes the name"
	expect_count 1 . "$OUT" "and proposes nothing else"
	tab "$BIN" "--home=$WS" lineage bi.rev
	words bi.revenue
	proposes "$TMP/words" "steward --home=WS lineage bi.rev<TAB> proposes bi.revenue"
	export STEWARD_HOME="$WS"
	tab "$BIN" ingest ev
	unset STEWARD_HOME
	words events.signup events.click
	proposes "$TMP/words" "STEWARD_HOME=WS steward ingest ev<TAB> proposes events.*"
	tab "$BIN" --home "$WS" show ''
	expect_stderr_empty "steward show <TAB> prints no error (search needs a word)"
	tab "$BIN" --home "$TMP/nowhere" show d
	expect_stdout_empty "without a workspace, steward show d<TAB> proposes nothing"
	expect_stderr_empty "and prints no error"
else
	skip "the completion proposes verbs, options and dataset names" "it was not installed"
fi

done_testing
