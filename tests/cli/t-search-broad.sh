#!/bin/sh
# Broad queries: over 2000 matches rank only name, tag and term matches, certified datasets
# are ranked on everything, and the user is told how many matched.
. "$(dirname "$0")/lib.sh"
init_ws

# 2100 datasets named *widget*; one certified dataset mentions widgets only in its
# description; one plain dataset does too, and must not be ranked.
python3 - "$TMP/broad.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    docs = ["kind: table\nname: gen.widget_%d\ndescription: generated\n" % i for i in range(2100)]
    docs.append("kind: table\nname: gold.sales\ntags: [certified]\n"
                "description: The trusted widget sales table.\n")
    docs.append("kind: table\nname: plain.sales\ndescription: Another widget sales table.\n")
    f.write("---\n".join(docs))
PY
expect_exit 0 steward catalog load "$TMP/broad.yaml"
expect_stdout_line 'catalog: 2102 datasets (2102 versions)'

expect_exit 0 steward search widget
expect_count 21 '' "$OUT" 'a header and 20 rows'
check 'the certified description-only match is ranked first' \
	sh -c "sed -n 2p '$OUT' | grep -q 'gold.sales'"
expect_stdout_lacks 'plain.sales' 'a description-only match is not ranked among 2100'
expect_stderr_line '20 of 2102 matches; use --limit for more'
expect_stderr_contains 'note: over 2000 datasets match, so only those matching in their name, tags or'

expect_exit 0 steward search widget --json --limit 5
expect_jq 'length == 5 and .[0].name == "gold.sales" and .[0].certified'
expect_stderr_contains 'note: over 2000 datasets match'

# A narrower query ranks everything again, description matches included.
expect_exit 0 steward search 'widget sales'
expect_stdout_contains 'plain.sales'
expect_stderr_lacks 'note:'
expect_stderr_empty 'two matches: nothing on stderr'

done_testing
