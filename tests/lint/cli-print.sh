#!/bin/sh
# The printing check: every verb prints through cli/print.c (cli_printf, cli_fprintf,
# cli_line, cli_json_dumpf), which escapes the values it is given (docs/cli.md, "Output"),
# so no file in cli/ but print.c calls printf(), fprintf(), vprintf(), vfprintf() or
# json_dumpf() itself.
src=${STEWARD_SRC:?}
hits=$(grep -nE '(^|[^_[:alnum:]])(printf|fprintf|vprintf|vfprintf|json_dumpf)\(' "$src"/cli/*.c |
	grep -v "^$src/cli/print.c:")
if [ -n "$hits" ]; then
	echo "not ok 1 - cli/ prints only through cli/print.c"
	echo "$hits" | sed 's/^/#   /'
	echo "1..1"
	exit 1
fi
echo "ok 1 - cli/ prints only through cli/print.c"
echo "1..1"
