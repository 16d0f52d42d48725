#!/bin/sh
# Workspace discovery trusts only what the user (or root) owns, as git does since
# CVE-2022-24765: a .steward/ or steward.yaml owned by someone else is refused with a message
# that says how to allow it (STEWARD_SAFE_DIRECTORIES, or safe_directories in the user's own
# config.yaml); steward.yaml and .steward/ are never followed through a symbolic link; and a
# workspace the user may not read is "permission denied" (exit 6), never "not found".
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (chown, and running as another user)"
	exit 77
fi
require setpriv
init_ws
cd "$TMP" || exit 99
export XDG_CONFIG_HOME="$TMP/xdg"
unset STEWARD_SAFE_DIRECTORIES
CONF=$XDG_CONFIG_HOME/steward/config.yaml
hint="if you trust it, add '$WS' to safe_directories in '$CONF' or to STEWARD_SAFE_DIRECTORIES"
expect_exit 0 steward search person
records() { sqlite3 "$WS/.steward/audit.db" 'SELECT count(*) FROM records'; }

# ---- .steward/ owned by someone else: refused, found by --home or by walking up ----
chown 65534 "$WS/.steward"
n=$(records)
expect_exit 6 steward search person
expect_stderr_line "error: the workspace '$WS' is owned by someone else (uid 65534); $hint"
mkdir -p "$WS/deep/er"
(cd "$WS/deep/er" && expect_exit 6 "$STEWARD" search person)
expect_stderr_line "error: the workspace '$WS' is owned by someone else (uid 65534); $hint"
STEWARD_HOME=$WS expect_exit 6 "$STEWARD" search person
expect_stderr_line "error: the workspace '$WS' is owned by someone else (uid 65534); $hint"
expect_equal "$n" "$(records)" 'nothing is read or recorded in a refused workspace'

# Allowed by the environment: the path, '*', or one entry of several.
STEWARD_SAFE_DIRECTORIES=$WS expect_exit 0 "$STEWARD" --home "$WS" search person
STEWARD_SAFE_DIRECTORIES='*' expect_exit 0 "$STEWARD" --home "$WS" search person
STEWARD_SAFE_DIRECTORIES="/nowhere:$WS/deep/..:" expect_exit 0 "$STEWARD" --home "$WS" search person
STEWARD_SAFE_DIRECTORIES="/nowhere:$WS/deep" expect_exit 6 "$STEWARD" --home "$WS" search person
expect_stderr_line "error: the workspace '$WS' is owned by someone else (uid 65534); $hint"

# Allowed by the user's own configuration.
mkdir -p "$XDG_CONFIG_HOME/steward"
printf 'safe_directories:\n  - /elsewhere\n  - %s\n' "$WS" >"$CONF"
expect_exit 0 steward search person
(cd "$WS/deep" && expect_exit 0 "$STEWARD" search person)
printf 'safe_directories: ["*"]\n' >"$CONF"
expect_exit 0 steward search person
printf 'safe_directories: [/elsewhere]\n' >"$CONF"
expect_exit 6 steward search person
expect_stderr_line "error: the workspace '$WS' is owned by someone else (uid 65534); $hint"
# The user's configuration is checked as strictly: a typo, another user's file.
printf 'safe_directory: [%s]\n' "$WS" >"$CONF"
expect_exit 3 steward search person
expect_stderr_line "error: $CONF:1:1: unknown setting 'safe_directory'"
printf 'safe_directories: %s\n' "$WS" >"$CONF"
expect_exit 3 steward search person
expect_stderr_line "error: $CONF:1:19: 'safe_directories' must be a list of directories"
printf 'safe_directories: ["*"]\n' >"$CONF"
chmod 666 "$CONF"
expect_exit 6 steward search person
expect_stderr_line "error: '$CONF' may be changed by another user; it can only be trusted when only you (or root) can change it"
chmod 644 "$CONF"
chown 65534 "$CONF"
expect_exit 6 steward search person
expect_stderr_line "error: '$CONF' may be changed by another user; it can only be trusted when only you (or root) can change it"
rm "$CONF"
chown 0 "$WS/.steward"
expect_exit 0 steward search person

# ---- steward.yaml owned by someone else: refused the same way; allowed, it is read ----
chown 65534 "$WS/steward.yaml"
expect_exit 6 steward search person
expect_stderr_line "error: the workspace's configuration '$WS/steward.yaml' is owned by someone else (uid 65534); $hint"
STEWARD_SAFE_DIRECTORIES=$WS expect_exit 0 "$STEWARD" --home "$WS" search person
chown 0 "$WS/steward.yaml"

# ---- symbolic links: steward.yaml and .steward/ are not followed ----
mv "$WS/steward.yaml" real.yaml
ln -s "$TMP/real.yaml" "$WS/steward.yaml"
expect_exit 6 steward search person
expect_stderr_line "error: '$WS/steward.yaml' is a symbolic link; steward reads its configuration only from a regular file in the workspace"
rm "$WS/steward.yaml"
mv real.yaml "$WS/steward.yaml"
mv "$WS/.steward" "$TMP/state"
ln -s "$TMP/state" "$WS/.steward"
expect_exit 6 steward search person
expect_stderr_line "error: '$WS/.steward' is a symbolic link; a workspace's state directory must be a directory of its own"
rm "$WS/.steward"
mv "$TMP/state" "$WS/.steward"
expect_exit 0 steward search person

# ---- permission denied is not "not found" ----
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 711 "$TMP"
# The workspace directory cannot be searched.
chmod 700 "$WS"
run as_nobody "$STEWARD" --home "$WS" search person
expect_equal 6 "$RC" 'a workspace that cannot be searched: exit 6'
expect_stderr_line "error: cannot use the workspace '$WS': permission denied"
# Its state directory is visible but not usable (root's, mode 0700).
chmod 755 "$WS"
run as_nobody "$STEWARD" --home "$WS" search person
expect_equal 6 "$RC" 'a state directory that cannot be used: exit 6'
expect_stderr_line "error: cannot use the workspace '$WS': permission denied (it belongs to uid 0)"
(cd "$WS/deep" && run as_nobody "$STEWARD" search person)
expect_equal 6 "$RC" 'found by walking up: exit 6 too'
expect_stderr_line "error: cannot use the workspace '$WS': permission denied (it belongs to uid 0)"
# A workspace shared with a group lets the user into .steward/ but not into its databases.
chgrp 65534 "$WS/.steward" "$WS/steward.yaml"
chmod 770 "$WS/.steward"
chmod 640 "$WS/steward.yaml"
run as_nobody "$STEWARD" --home "$WS" search person
expect_equal 6 "$RC" 'a database that cannot be opened: exit 6'
expect_stderr_line "error: cannot use the workspace '$WS': permission denied on 'audit.db' (it belongs to uid 0)"
chmod 700 "$WS" "$TMP" "$WS/.steward"
chmod 600 "$WS/steward.yaml"
expect_exit 0 steward search person

done_testing
