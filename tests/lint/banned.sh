#!/bin/sh
# The banned-function check: every function in common/banned.h fails to compile when a
# source file uses it, and no source file escapes the ban (#undef of a banned name, or a
# build that does not pass -include banned.h).
src=${STEWARD_SRC:?}
cc=${CC:-cc}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
check() { # NAME CALL
	n=$((n + 1))
	printf '#include <stdio.h>\n#include <string.h>\n#include <time.h>\nvoid f(char *a, const char *b, time_t *t);\nvoid f(char *a, const char *b, time_t *t) { (void)a; (void)b; (void)t; %s; }\n' "$2" >"$tmp/$1.c"
	if $cc -D_GNU_SOURCE -include "$src/common/banned.h" -c "$tmp/$1.c" -o "$tmp/$1.o" 2>"$tmp/$1.err" &&
		! grep -q "sorry_$1_is_a_banned_function" "$tmp/$1.err"; then
		echo "not ok $n - $1 is banned"
		fail=1
	elif grep -q "sorry_$1_is_a_banned_function" "$tmp/$1.err"; then
		echo "ok $n - $1 is banned"
	else
		echo "not ok $n - $1 is banned (the compiler failed for another reason)"
		sed 's/^/#   /' "$tmp/$1.err"
		fail=1
	fi
}
check strcpy 'strcpy(a, b)'
check strcat 'strcat(a, b)'
check strncpy 'strncpy(a, b, 1)'
check strncat 'strncat(a, b, 1)'
check strtok 'strtok(a, b)'
check sprintf 'sprintf(a, "%s", b)'
check vsprintf 'vsprintf(a, b, NULL)'
check gets 'gets(a)'
check gmtime 'gmtime(t)'
check localtime 'localtime(t)'
check ctime 'ctime(t)'
check asctime 'asctime(NULL)'

n=$((n + 1))
escapes=$(grep -rnE '#[[:space:]]*undef[[:space:]]+(strcpy|strcat|strncpy|strncat|strtok|sprintf|vsprintf|gets|gmtime|localtime|ctime|asctime)\b' \
	--include='*.c' --include='*.h' "$src" 2>/dev/null | grep -v "^$src/common/banned.h:" | grep -v "/build")
if [ -n "$escapes" ]; then
	echo "not ok $n - no source file lifts the ban"
	echo "$escapes" | sed 's/^/#   /'
	fail=1
else
	echo "ok $n - no source file lifts the ban"
fi
n=$((n + 1))
if grep -q "banned.h" "$src/meson.build"; then
	echo "ok $n - meson.build passes -include banned.h to every C file"
else
	echo "not ok $n - meson.build passes -include banned.h to every C file"
	fail=1
fi
echo "1..$n"
exit $fail
