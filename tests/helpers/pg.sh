# PostgreSQL for the CLI tests (sourced after lib.sh): pg_start runs initdb into a directory
# under $TMP as an unprivileged user (steward-pg, created if missing, else nobody, when the
# tests run as root) and starts a server that listens on a Unix socket in that directory
# only (no TCP), waiting with pg_ctl -w; it is stopped when the script exits. A script skips
# (exit 77, visibly) only when PostgreSQL is not installed or cannot start here.
#
#   pg_start            the server; sets PG_DIR (its socket directory) and PG_DSN
#   pg_sql DB SQL       runs SQL as the cluster's superuser (pgadmin), rows as a|b lines
#   pg_stop             stops it (-m immediate), safe to call twice
#
# The cluster has a database `steward` and a role `eraser` that logs in with the password
# $PG_PASSWORD (scram-sha-256): PG_DSN is its connection string, which the tests check
# never appears in any output or in the audit log. pgadmin logs in without one (trust).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_USER=
PG_UP=
PG_PASSWORD='pw-Canary-7f3Kq9x'
PG_DSN=

# the server's user runs the server's programs; the tests run as that user or as root
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u "$PG_USER" -- "$@")
	else
		"$@"
	fi
}

pg_stop() {
	[ -n "$PG_UP" ] || return 0
	PG_UP=
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
}

# pg_skip REASON: skips the whole script, visibly.
pg_skip() {
	echo "1..0 # SKIP $1"
	exit 77
}

pg_start() {
	local u
	for u in initdb pg_ctl postgres; do
		[ -x "$PG_BIN/$u" ] || pg_skip "PostgreSQL is not installed ($PG_BIN/$u; Debian's postgresql package)"
	done
	command -v psql >/dev/null 2>&1 || pg_skip "psql is not installed"
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=steward-pg
		if ! id -u "$PG_USER" >/dev/null 2>&1 &&
			! useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null; then
			PG_USER=nobody
		fi
		chmod 711 "$TMP" # the server's user passes through to its own directory only
	else
		PG_USER=$(id -un)
	fi
	PG_DIR=$TMP/pg
	mkdir -m 700 "$PG_DIR" || pg_skip "cannot create $PG_DIR"
	[ "$(id -u)" -ne 0 ] || chown "$PG_USER" "$PG_DIR" || pg_skip "cannot give $PG_DIR to $PG_USER"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U pgadmin -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$TMP/.initdb.log" 2>&1 || pg_skip "initdb failed: $(tail -n 1 "$TMP/.initdb.log")"
	pg_as sh -c 'cat >>"$1/data/postgresql.conf" && printf "%s\n" \
		"local all pgadmin trust" "local all all scram-sha-256" >"$1/data/pg_hba.conf"' sh "$PG_DIR" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_DIR'
unix_socket_permissions = 0777
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
maintenance_work_mem = 128MB
max_connections = 20
shared_buffers = 32MB
CONF
	# pg_ctl puts the server in a session of its own, out of reach of a test runner that
	# kills this script's process group: a watchdog in another session stops it when this
	# script ends however it ends (SIGKILL included), as the script's end of a fifo closes.
	# The server and pg_ctl never hold that end (9>&-).
	mkfifo "$PG_DIR/.alive" || pg_skip "cannot create a fifo in $PG_DIR"
	setsid sh -c 'cat "$1" >/dev/null; if [ "$(id -u)" -eq 0 ]; then cd / && runuser -u "$2" -- "$3/pg_ctl" -D "$4" -m immediate -w stop; else "$3/pg_ctl" -D "$4" -m immediate -w stop; fi' \
		sh "$PG_DIR/.alive" "$PG_USER" "$PG_BIN" "$PG_DIR/data" </dev/null >/dev/null 2>&1 &
	exec 9>"$PG_DIR/.alive"
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
		>/dev/null 2>&1 9>&- || pg_skip "the PostgreSQL server did not start: $(tail -n 1 "$PG_DIR/server.log" 2>/dev/null)"
	PG_UP=1
	trap 'pg_stop; [ -z "$HTTP_PID" ] || kill "$HTTP_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
	pg_sql postgres "CREATE DATABASE steward" >/dev/null &&
		pg_sql steward "CREATE ROLE eraser LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null ||
		{ echo "Bail out! cannot set up the test database"; exit 99; }
	# a long connect timeout: under valgrind, SCRAM authentication alone takes seconds
	PG_DSN="host=$PG_DIR dbname=steward user=eraser password=$PG_PASSWORD connect_timeout=120"
}

# pg_restart: starts the stopped server again.
pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null 2>&1 9>&- ||
		{ echo "Bail out! the PostgreSQL server did not start again"; exit 99; }
	PG_UP=1
}

pg_sql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -U pgadmin -d "$1" -c "$2"
}
