#!/bin/sh
# The kept answers of the search and card APIs (serve/cache.c): a repeated search or card
# answers the same bytes as one run afresh (--no-cache), is still one audit record a
# request and still needs the caller's role; and no answer outlives a change of the catalog,
# whether another process loads the catalog or the server itself imports OpenLineage events:
# each change is seen by the next request.
. "$(dirname "$0")/lib.sh"
require curl jq
OL=$STEWARD_SHARED/interop/openlineage/events/client-python-example_full_event.json
init_ws
me=$(id -un)
cd "$TMP" || exit 99
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
expect_exit 0 steward token new bob
bob=$(cat "$OUT")

start() { # start NAME ARGS...: a server on the socket NAME.sock (and TCP), its URL in $U
	n=$1
	shift
	mkfifo "$n.out"
	"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 --socket "$TMP/$n.sock" --threads 2 \
		"$@" >"$n.out" 2>"$n.err" &
	pid=$!
	exec 3<"$n.out"
	IFS= read -r l1 <&3
	IFS= read -r l2 <&3
	U=http://127.0.0.1:${l1##*:}
}
stop() {
	kill -TERM "$pid"
	wait "$pid" || true
	exec 3<&-
}
get() { # get NAME SOCKET PATH [CURL-ARGS...]: body in NAME.json, status in NAME.code
	n=$1
	s=$2
	p=$3
	shift 3
	curl -s -o "$n.json" -w '%{http_code}' --unix-socket "$TMP/$s.sock" "$@" "http://localhost$p" >"$n.code"
}
searches() { # the catalog.search records so far
	run steward audit log --json --action catalog.search
	jq length "$OUT"
}

# ---- the same bytes as a search run afresh ----
set -- '/api/v1/search?q=revenue&limit=5' '/api/v1/search?q=revenue&limit=2&offset=2' \
	'/api/v1/search?q=revenue&kind=dashboard' '/api/v1/search?q=user&pii=1' \
	'/api/v1/search?q=revenue%20daily' /api/v1/datasets/bi.revenue \
	'/api/v1/datasets/dw.dim_user?version=1'
start fresh --no-cache
i=0
for p in "$@"; do
	i=$((i + 1))
	get "fresh$i" fresh "$p"
	get "fresh$i-again" fresh "$p"
done
stop
start kept
n0=$(searches)
i=0
for p in "$@"; do
	i=$((i + 1))
	get "kept$i" kept "$p"
	get "kept$i-again" kept "$p"
	get "kept$i-third" kept "$p"
	check "answer $i: the answer kept is the answer run afresh" sh -c \
		"cmp fresh$i.json kept$i.json && cmp kept$i.json kept$i-again.json && cmp kept$i.json kept$i-third.json && cmp fresh$i.json fresh$i-again.json"
done
expect_jq '.total > 0' true kept1.json
expect_jq .name '"bi.revenue"' kept6.json
expect_equal $((n0 + 15)) "$(searches)" 'every answer, kept or not, is one audit record'
run steward audit log --json --action catalog.show
expect_jq '[.[] | select(.object == "/api/v1/datasets/bi.revenue")] | length' 5 # 2 afresh, 3 kept
# a caller with no role is refused the answer kept for another, and recorded
curl -s -o bob.json -w '%{http_code}' -H "Authorization: Bearer $bob" "$U/api/v1/search?q=revenue&limit=5" >bob.code
expect_equal 403 "$(cat bob.code)" 'a kept answer still needs the role: 403'
run steward audit log --json --action catalog.search --actor bob
expect_jq '[.[] | .outcome]' '["denied"]'

# ---- another process changes the catalog: the next search and card see it ----
mkdir more
printf 'kind: table\nname: cachetest.first\ndescription: Load 0.\nowner: x\n' >more/first.yaml
expect_exit 0 steward catalog load more
seen=0
cards=0
for i in 1 2 3 4 5; do
	printf 'kind: table\nname: cachetest.revenue_%s\ndescription: Kept answers end here.\nowner: x\n' "$i" \
		>"more/t$i.yaml"
	printf 'kind: table\nname: cachetest.first\ndescription: Load %s.\nowner: x\n' "$i" >more/first.yaml
	get "before$i" kept '/api/v1/search?q=cachetest&limit=50'
	get "cbefore$i" kept /api/v1/datasets/cachetest.first
	get "cbefore$i-again" kept /api/v1/datasets/cachetest.first
	expect_exit 0 steward catalog load more
	get "after$i" kept '/api/v1/search?q=cachetest&limit=50'
	get "after$i-again" kept '/api/v1/search?q=cachetest&limit=50'
	get "cafter$i" kept /api/v1/datasets/cachetest.first
	[ "$(jq .total "before$i.json")" = "$i" ] && [ "$(jq .total "after$i.json")" = $((i + 1)) ] &&
		cmp -s "after$i.json" "after$i-again.json" && seen=$((seen + 1))
	[ "$(jq -r .description "cafter$i.json")" = "Load $i." ] && cards=$((cards + 1))
done
expect_equal 5 "$seen" 'five loads by another process: each seen by the next search'
expect_equal 5 "$cards" 'and by the next card'
expect_jq .description '"Load 1."' cbefore2-again.json
get none kept /api/v1/datasets/cachetest.none
get none2 kept /api/v1/datasets/cachetest.none
expect_equal 404404 "$(cat none.code none2.code | tr -d '\n')" 'a card that is not there: 404, and not kept'
expect_jq .error.message "\"no dataset 'cachetest.none' in the catalog\"" none2.json

# ---- the server itself imports events: the next search sees them ----
name=$(jq -r '.outputs[0].name' "$OL")
q=$(printf '%s' "$name" | jq -sRr @uri)
get olbefore kept "/api/v1/search?q=$q"
get olbefore2 kept "/api/v1/search?q=$q"
expect_jq .total 0 olbefore2.json
get post kept /api/v1/lineage -H 'Content-Type: application/json' --data-binary "@$OL"
expect_equal 200 "$(cat post.code)" 'an event posted'
get olafter kept "/api/v1/search?q=$q"
expect_jq '.total > 0' true olafter.json
stop
expect_exit 0 steward audit verify
expect_stdout_contains 'audit log intact: '
done_testing
