#!/bin/sh
# The optional libraries are loaded on first use (common/lazy.h), not at start-up: the binary
# needs none of libcurl, libpq, librdkafka, libmicrohttpd and Graphviz's, a search loads
# none of them (glibc's LD_DEBUG=libs names every library it initialises), and `version`
# loads librdkafka for its version. tests/unit/test_lazy.c loads every table.
. "$(dirname "$0")/lib.sh"
command -v readelf >/dev/null 2>&1 || { echo '1..0 # SKIP readelf is missing'; exit 0; }
optional='libcurl|libpq|librdkafka|libmicrohttpd|libgvc|libcgraph|libgvplugin'
needed=$(readelf -d "$STEWARD" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
check 'the binary needs libsqlite3 (the readelf reading works)' \
	sh -c "printf '%s\n' '$needed' | grep -q '^libsqlite3'"
check_not 'the binary needs none of the optional libraries' \
	sh -c "printf '%s\n' '$needed' | grep -Eq '^($optional)'"

init_ws
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
# glibc's loader trace (LD_DEBUG=libs, on stderr) names every library it initialises
run env LD_DEBUG=libs "$STEWARD" --home "$WS" search order
expect_equal 0 "$RC" 'search runs'
check 'the trace names libsqlite3 (it works)' grep -q 'calling init: .*libsqlite3' "$ERR"
check_not 'a search loads none of the optional libraries' \
	grep -Eq "calling init: .*($optional)" "$ERR"
run env LD_DEBUG=libs "$STEWARD" version
expect_equal 0 "$RC" 'version runs'
check 'version loads librdkafka for its version' grep -q 'calling init: .*librdkafka' "$ERR"
check_not 'and nothing else optional' \
	grep -Eq 'calling init: .*(libcurl|libpq|libmicrohttpd|libgvc)' "$ERR"
expect_stdout_contains 'librdkafka 2.'
done_testing
