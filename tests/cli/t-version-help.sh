#!/bin/sh
# KNOWN BUG (not in meson.build until fixed): `steward version --help` exits 2 with
# "error: 'version' takes no arguments", while every other command prints its usage and
# exits 0 (cli/cmd_version.c rejects any argument before looking for --help).
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$STEWARD" version --help
expect_stdout_contains 'usage: steward version'
expect_stderr_empty
expect_exit 0 "$STEWARD" version -h
expect_stdout_contains 'usage: steward version'

done_testing
