#!/bin/sh
# steward key: init, rotate, retire, list, and the ssh-style refusals of key files.
. "$(dirname "$0")/lib.sh"
init_ws
K=$WS/.steward/keys

expect_exit 4 steward key list
expect_stderr_line "error: no keys in '$K' (run 'steward key init')"

expect_exit 0 steward key init
expect_stdout_line "created key k1 in '$K'"
expect_equal 700 "$(stat -c %a "$K")" 'the key directory is mode 0700'
expect_equal 600 "$(stat -c %a "$K/k1.key")" 'the key file is mode 0600'
expect_equal 32 "$(stat -c %s "$K/k1.key")" 'a key is 32 bytes'
expect_exit 3 steward key init
expect_stderr_line "error: keys already exist in '$K'; use 'steward key rotate' for a new one"

expect_exit 0 steward key rotate
expect_stdout_line 'k2 is the current key; older keys stay for look-ups until retired'
expect_exit 0 steward key list --json
expect_jq '[.[] | {id, status}] == [{"id": "k1", "status": "previous"}, {"id": "k2", "status": "current"}]'
expect_exit 0 steward key list
expect_stdout_contains 'k2     2        current'

# ---- refusals: each says why, and nothing is used ----
chmod 640 "$K/k2.key"
expect_exit 6 steward key list
expect_stderr_line "error: key file '$K/k2.key' is accessible by group or others (mode 0640); run 'chmod 600 $K/k2.key'"
expect_exit 6 steward pii hash --purpose test --category user.name x
chmod 600 "$K/k2.key"

mv "$K/k1.key" "$TMP/k1.real"
ln -s "$TMP/k1.real" "$K/k1.key"
expect_exit 6 steward key list
expect_stderr_line "error: key file '$K/k1.key' is a symbolic link; refusing to use it"
rm "$K/k1.key"

mkdir "$K/k1.key"
expect_exit 6 steward key list
expect_stderr_line "error: key file '$K/k1.key' is not a regular file"
rmdir "$K/k1.key"

head -c 31 "$TMP/k1.real" >"$K/k1.key"
chmod 600 "$K/k1.key"
expect_exit 6 steward key list
expect_stderr_line "error: key file '$K/k1.key' has 31 bytes; a key has 32"
mv "$TMP/k1.real" "$K/k1.key"

if [ "$(id -u)" -eq 0 ]; then
	chown 65534 "$K/k1.key"
	expect_exit 6 steward key list
	expect_stderr_line "error: key file '$K/k1.key' belongs to another user (uid 65534)"
	chown 0 "$K/k1.key"
else
	skip 'a key file owned by another user (needs root to chown)'
fi

chmod 777 "$K"
expect_exit 6 steward key list
expect_stderr_line "error: key directory '$K' is writable by group or others (mode 0777); run 'chmod 700 $K'"
chmod 700 "$K"
expect_exit 0 steward key list

# ---- retire ----
expect_exit 3 steward key retire k2
expect_stderr_line "error: 'k2' is the current key; rotate to a new one before retiring it"
expect_exit 4 steward key retire k9
expect_stderr_line "error: no key 'k9'"
expect_exit 0 steward key retire k1
check 'the retired key file is gone' test ! -e "$K/k1.key"
expect_exit 4 steward pii hash --purpose test --key k1 --category user.name x
expect_stderr_line "error: key 'k1' is retired"
expect_exit 3 steward key retire k1
expect_stderr_line "error: key 'k1' is already retired"

# Key material never appears in any output.
secret=$(od -An -tx1 "$K/k2.key" | tr -d ' \n')
expect_exit 0 steward key list --json
check 'key list does not print the secret' sh -c "! grep -qi '$secret' '$OUT' '$ERR'"

done_testing
