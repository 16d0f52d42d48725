#!/bin/sh
# A subject is valid UTF-8 of 1 to 255 bytes without NUL or control characters, or it is
# refused with a message that names the problem and never the value: before, a subject
# `x@example.com\0junk` read from standard input got another pseudonym than
# `x@example.com`, so that its erasure matched nobody and still completed. The same check
# guards `pii hash`.
. "$(dirname "$0")/lib.sh"
require sqlite3
init_ws
cd "$TMP" || exit 99
expect_exit 0 steward key init
db=$WS/.steward/audit.db
requests() { sqlite3 "$db" 'SELECT count(*) FROM requests'; }

printf 'x@example.com\000junk\n' >nul.txt
expect_exit_stdin 3 nul.txt steward request new erase --subject user.contact.email:-
expect_stderr_line 'error: the subject is refused: it holds a NUL byte (byte 14)'
expect_stdout_empty
printf 'x@exa\377mple.com\n' >bad-utf8.txt
expect_exit_stdin 3 bad-utf8.txt steward request new erase --subject user.contact.email:-
expect_stderr_line 'error: the subject is refused: it is not valid UTF-8 (character 6)'
expect_exit 3 steward request new erase --subject "user.contact.email:$(printf 'x\033[2J@example.com')"
expect_stderr_line 'error: the subject is refused: it holds a control character (byte 2)'
expect_exit 3 steward request new erase --subject "user.unique_id:$(printf '12\302\20534')"
expect_stderr_line 'error: the subject is refused: it holds a control character (byte 3)'
expect_exit 3 steward request new erase --subject "user.unique_id:$(printf '12\t34')"
expect_stderr_line 'error: the subject is refused: it holds a control character (byte 3)'
long=$(printf '%0256d' 7)
expect_exit 3 steward request new erase --subject "user.unique_id:$long"
expect_stderr_line 'error: the subject is refused: it is longer than 255 bytes'
expect_stderr_lacks "$long"
expect_equal 0 "$(requests)" 'no request was recorded'

# the same value without the junk is accepted, and is one person whatever its spelling
printf 'x@example.com\n' >ok.txt
expect_exit_stdin 0 ok.txt steward request new erase --subject user.contact.email:-
expect_exit 0 steward request new erase --subject 'user.contact.email: X@Example.com '
expect_equal 1 "$(sqlite3 "$db" 'SELECT count(DISTINCT pseudonym) FROM requests')" \
	'both requests name one pseudonym'

# pii hash: values from the command line and from standard input
expect_exit 3 steward pii hash --purpose t --category user.unique_id "$(printf 'a\033b')"
expect_stderr_line 'error: value 1 is refused: it holds a control character (byte 2)'
expect_stdout_empty
printf '1234\nx@example.com\000junk\n' >hash.txt
expect_exit_stdin 3 hash.txt steward pii hash --purpose t --category user.contact.email --stdin
expect_stderr_line 'error: value 1 is not a valid e-mail address'
printf 'a@example.com\nx@example.com\000junk\n' >hash.txt
expect_exit_stdin 3 hash.txt steward pii hash --purpose t --category user.contact.email --stdin
expect_stderr_line 'error: value 2 is refused: it holds a NUL byte (byte 14)'
expect_count 1 '^k1:' "$OUT" 'only the first value got a pseudonym'
done_testing
