#!/bin/sh
# steward pii hash: pseudonyms reproduced independently in Python (hashlib), normalization
# equivalences, categories that do not link, --stdin, and errors that never echo a value.
. "$(dirname "$0")/lib.sh"
init_ws
expect_exit 0 steward key init

expected() { # CATEGORY NORMALIZED-VALUE
	python3 - "$WS/.steward/keys/k1.key" "$1" "$2" <<'PY'
import base64, hashlib, sys
key = open(sys.argv[1], "rb").read()
cid = hashlib.sha256(sys.argv[2].encode()).digest()[:8]
sub = hashlib.blake2b(b"", key=key, digest_size=32, salt=cid + bytes(8),
                      person=b"stwdpii1" + bytes(8)).digest()
tag = hashlib.blake2b(sys.argv[3].encode(), key=sub, digest_size=18).digest()
print("k1:" + base64.urlsafe_b64encode(tag).decode().rstrip("="))
PY
}

want=$(expected user.contact.email jiho.kim@example.com)
expect_exit 0 steward pii hash --purpose test --category user.contact.email ' Jiho.Kim@Example.COM' jiho.kim@example.com
expect_equal "$want
$want" "$(cat "$OUT")" 'e-mail: equivalent inputs, one pseudonym, the one Python computes'

want=$(expected user.contact.phone_number +821012345678)
write_config <<'YAML'
version: 1
pii:
  default_country: KR
YAML
expect_exit 0 steward pii hash --purpose test --category user.contact.phone_number '+82 10-1234-5678' '010-1234-5678' '0082 10 1234 5678'
expect_equal "$want
$want
$want" "$(cat "$OUT")" 'phone: E.164 with the default country'

want=$(expected user.device.ip_address 2001:db8::1)
expect_exit 0 steward pii hash --purpose test --category user.device.ip_address '2001:0DB8:0:0:0:0:0:1'
expect_equal "$want" "$(cat "$OUT")" 'ip: canonical IPv6 text'

expect_exit 0 steward pii hash --purpose test --category user.name 'jiho.kim@example.com'
check 'the same string in another category does not link' \
	sh -c "[ \"\$(cat '$OUT')\" != \"$(expected user.contact.email jiho.kim@example.com)\" ]"
expect_equal "$(expected user.name jiho.kim@example.com)" "$(cat "$OUT")" 'user.name is not normalized'

printf 'a@b.com\n A@B.COM\r\n' | steward pii hash --purpose test --category user.contact.email --stdin >"$TMP/stdin.out"
expect_equal "$(expected user.contact.email a@b.com)
$(expected user.contact.email a@b.com)" "$(cat "$TMP/stdin.out")" '--stdin, with CRLF'

expect_exit 0 steward pii hash --purpose test --category user.contact.email --normalize none ' A@B.com'
expect_equal "$(expected user.contact.email ' A@B.com')" "$(cat "$OUT")" '--normalize none'

# After a rotation the current key changes the pseudonym; --key k1 still looks up.
old=$(expected user.name x)
expect_exit 0 steward key rotate
expect_exit 0 steward pii hash --purpose test --category user.name x
check 'the new key gives a k2 pseudonym' grep -q '^k2:' "$OUT"
expect_exit 0 steward pii hash --purpose test --key k1 --category user.name x
expect_equal "$old" "$(cat "$OUT")" '--key k1 after rotation'

# ---- errors: the value is never echoed ----
expect_exit 3 steward pii hash --purpose test --category user.contact.email 'ok@example.com' 'canary-not-an-email'
expect_stderr_line 'error: value 2 is not a valid e-mail address'
check 'the bad value is not in the message' sh -c "! grep -q canary '$ERR'"
expect_exit 3 steward pii hash --purpose test --category user.contact.emial x
expect_stderr_line "error: unknown category 'user.contact.emial' (did you mean 'user.contact.email'?)"
expect_exit 2 steward pii hash --purpose test x
expect_stderr_line 'error: --category is required'
expect_exit 2 steward pii hash --purpose test --category user.name
expect_stderr_line 'error: no values given (or use --stdin)'
expect_exit 2 steward pii hash --purpose test --category user.name --normalize zip x
expect_stderr_line "error: unknown normalizer 'zip' (email, phone, ip or none)"
expect_exit 4 steward pii hash --purpose test --key k7 --category user.name x
expect_stderr_line "error: no key 'k7' (see 'steward key list')"

# The values hashed leave no trace in the workspace.
check 'no raw value anywhere in the workspace' sh -c "! grep -rqa -e 'jiho.kim@example.com' -e 'canary-not-an-email' '$WS'"

done_testing
