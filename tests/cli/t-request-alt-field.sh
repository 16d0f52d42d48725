#!/bin/sh
# A target that runs first on its field of the request's own category and matches nothing
# there runs again on its match field once a later target finds the subject's identifier of
# that category: dw.dim_user, keyed by user_key (user.unique_id) with an email_key that does
# not hold the subject, before prod.users, which gives the id. It used to be done after the
# first run, and the subject's row keyed by user_key was left.
. "$(dirname "$0")/lib.sh"
require sqlite3 jq
init_ws
expect_exit 0 steward key init
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog"
cd "$TMP" || exit 99

c_email='alt-field.q7@example.com'
c_id=4242
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id "$c_id"
k_id=$(cat "$OUT")
expect_exit 0 steward pii hash --purpose test-fixture --category user.unique_id 2
k_bob=$(cat "$OUT")
mkdir targets
sqlite3 targets/t.db <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, phone TEXT);
INSERT INTO users VALUES ($c_id, '$c_email', 'Alt Field', NULL), (2, 'bob@example.com', 'Bob B', NULL);
CREATE TABLE dim_user (user_key TEXT, email_key TEXT, country TEXT);
INSERT INTO dim_user VALUES ('$k_id', NULL, 'FR'), ('$k_bob', NULL, 'DE');
SQL
write_config <<YAML
version: 1
targets:
  prod.users: "sqlite:$TMP/targets/t.db?table=users"
  dw.dim_user: "sqlite:$TMP/targets/t.db?table=dim_user"
YAML

expect_exit 0 steward request new erase --subject "user.contact.email:$c_email"
id=$(cat "$OUT")
expect_exit 0 steward request plan "$id" --json
expect_jq '.targets[] | select(.dataset == "dw.dim_user") | [.match_field, .or_field]' '["user_key","email_key"]'
expect_exit 0 steward request run "$id"
expect_stdout_line "$id: 2 targets, 2 done, 0 not done (and datasets needing manual work: see 'request plan'); completed"
expect_equal "$(sqlite3 targets/t.db 'SELECT id FROM users')" '2' 'prod.users: the subject deleted, Bob kept'
expect_equal "$(sqlite3 targets/t.db 'SELECT country FROM dim_user')" 'DE' \
	'dw.dim_user: the subject row, keyed by the id prod.users gave, deleted too; Bob kept'
expect_exit 0 steward request show "$id" --json
expect_jq '.status' '"completed"'
expect_jq '[.targets[] | select(.dataset == "dw.dim_user") | .status] ' '["done"]'
expect_exit 0 steward audit verify
done_testing
