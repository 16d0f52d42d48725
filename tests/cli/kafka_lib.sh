# Helpers for the Kafka pipeline tests (t-kafka-*.sh), sourced after lib.sh: librdkafka's mock
# cluster (tests/helpers/mock_cluster.c) and kcat as the independent client. Nothing here
# sleeps: every wait is on a readiness line, a status line or a count of records.
#
#   start_mock TOPIC...     the cluster, its topics (6 partitions each); sets KAFKA
#   mock CMD                a command to the cluster (error APIKEY CODE..., down ID, up ID)
#   produce TOPIC FILE      FILE's lines as records, keyed
#   start_member NAME ARGS  steward ingest --pipeline ARGS in the background; NAME.out,
#                           NAME.err in $TMP, its pid in PID_<NAME>
#   wait_line FILE ERE [FROM]  until FILE has a line matching ERE (from line FROM on)
#   wait_committed N NAME...  until the members' committed "in" counts add up to N
#   stop_member NAME        SIGTERM, then its exit status in RC
#   dump TOPIC FILE         the topic's committed records (kcat -J) to FILE
#   check_content DESC ARGS tests/helpers/kafka_check.py, as a check
require kcat python3 jq
MOCK_CLUSTER=${STEWARD_BUILD_ROOT:-$STEWARD_SRC/build}/tests/cli/mock_cluster
[ -x "$MOCK_CLUSTER" ] || { echo "Bail out! no mock cluster helper at $MOCK_CLUSTER"; exit 99; }
MOCK_PID=
MEMBERS=
# shellcheck disable=SC2154
trap 'for p in $MEMBERS; do kill -9 "$p" 2>/dev/null; done; [ -z "$MOCK_PID" ] || kill "$MOCK_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
# A watchdog for each wait: far above what any wait takes, so that a broken run fails
# instead of hanging; never a measure of time.
WAIT_LIMIT=${WAIT_LIMIT:-60}

start_mock() {
	local line=
	mkfifo "$TMP/.mock-in" "$TMP/.mock-out" || { echo "Bail out! cannot create fifos"; exit 99; }
	"$MOCK_CLUSTER" "$@" <"$TMP/.mock-in" >"$TMP/.mock-out" 2>"$TMP/mock.err" &
	MOCK_PID=$!
	exec 7>"$TMP/.mock-in" 8<"$TMP/.mock-out"
	IFS= read -r line <&8
	case $line in
	'ready '*) KAFKA=${line#ready } ;;
	*) echo "Bail out! the mock cluster did not start (it said '$line')"; exit 99 ;;
	esac
}

mock() {
	local ack=
	printf '%s\n' "$*" >&7
	IFS= read -r ack <&8
	[ "$ack" = "ok $*" ] || { echo "Bail out! mock cluster: '$*' gave '$ack'"; exit 99; }
}

produce() {
	# keyed by line, so that the records spread over the partitions (keyless records stick
	# to one partition at a time)
	awk '{ printf "%s-%d|%s\n", FILENAME, NR, $0 }' "$2" |
		kcat -P -q -b "$KAFKA" -t "$1" -K '|' -X message.timeout.ms=30000 ||
		{ echo "Bail out! kcat could not produce to $1"; exit 99; }
}

start_member() {
	local name="$1"
	shift
	"$STEWARD" --home "$WS" ingest --pipeline "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	eval "PID_$name=$!"
	MEMBERS="$MEMBERS $!"
}

wait_line() {
	local file="$1" re="$2" from="${3:-1}"
	if timeout "$WAIT_LIMIT" sh -c 'tail -n +"$1" -F "$2" 2>/dev/null | grep -m1 -qE -e "$3"' \
		_ "$from" "$file" "$re"; then
		return 0
	fi
	echo "# waited in vain for /$re/ in $(basename "$file"):"
	tail -n 5 "$file" | sed 's/^/#   /'
	return 1
}

# the committed "in" count of a member's last status line
committed_in() {
	sed -n 's/^ingest [^:]*: [0-9]* partitions, lag [^,]*, \([0-9]*\) in,.*/\1/p' "$TMP/$1.err" |
		tail -n 1
}

wait_committed() {
	local want="$1" n name lines
	shift
	while :; do
		n=0
		for name in "$@"; do
			n=$((n + $(committed_in "$name" || echo 0)))
		done
		[ "$n" -ge "$want" ] && return 0
		# the next status line of the first member
		lines=$(wc -l <"$TMP/$1.err")
		wait_line "$TMP/$1.err" ' partitions, lag ' $((lines + 1)) || return 1
	done
}

stop_member() {
	local pid
	eval "pid=\$PID_$1"
	kill -TERM "$pid"
	RC=0
	wait "$pid" || RC=$?
}

dump() {
	kcat -C -q -b "$KAFKA" -t "$1" -o beginning -e -J -X isolation.level=read_committed >"$2"
}

check_content() {
	local desc="$1"
	shift
	if python3 "$STEWARD_SRC/tests/helpers/kafka_check.py" "$@" >"$TMP/.kcheck" 2>&1; then
		pass "$desc"
		sed 's/^/# /' "$TMP/.kcheck"
	else
		fail "$desc" "$(head -n 25 "$TMP/.kcheck")"
	fi
}

# pipeline_config NAME [YAML]: steward.yaml with pipeline NAME on the mock cluster (topics
# raw, clean, dlq; group g; dataset k.click; status every 200 ms; the offsets mirrored
# outside the transaction, which the mock cluster needs: docs/ingest.md) and YAML added.
pipeline_config() {
	write_config <<EOF
version: 1
pipelines:
  $1:
    brokers: "$KAFKA"
    source: raw
    output: clean
    rejects: dlq
    group: g
    dataset: k.click
    session_timeout_ms: 3500
    batch_ms: 50
    batch_records: 200
    status_interval_ms: 200
    mirror_offsets: true
${2:-}
EOF
}

# expected FIRST N NAME: NAME.in (the records), NAME.exp and NAME.rej (what the stdin hook
# makes of them, under the current key) in $TMP.
expected() {
	python3 "$STEWARD_SRC/tests/helpers/kafka_gen.py" "$1" "$2" >"$TMP/$3.in"
	"$STEWARD" --home "$WS" ingest k.click --rejects "$TMP/$3.rej" <"$TMP/$3.in" \
		>"$TMP/$3.exp" 2>/dev/null
}
