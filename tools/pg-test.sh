#!/bin/sh
# Runs a command against a throw-away PostgreSQL 15: initdb in a temp dir (as the unprivileged
# system user grantd-test when run as root: initdb refuses root), a server on a unix socket in
# that dir only (no TCP), fsync on; exports GRANTD_PG_URL, runs "$@", then stops the server
# and removes the dir whatever happened. Exits with the command's status. (initdb skips its
# own fsync: the cluster is thrown away; the server runs with fsync on.)
#   sh tools/pg-test.sh build/tests/test_store_pg
set -eu
[ $# -ge 1 ] || { echo "usage: $0 command [args...]" >&2; exit 2; }
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$bin/initdb" ] || { echo "pg-test: no $bin/initdb (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/grantd-pg.XXXXXX)
as=""
if [ "$(id -u)" = 0 ]; then
    id grantd-test >/dev/null 2>&1 ||
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin grantd-test
    chown grantd-test "$dir"
    as="runuser -u grantd-test --"
fi
stop() {
    $as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

$as "$bin/initdb" -D "$dir/data" -U grantd -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
if ! $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses= -p 5432 -c fsync=on -c synchronous_commit=on" start >/dev/null; then
    cat "$dir/server.log" >&2
    exit 1
fi
$as "$bin/createdb" -h "$dir" -p 5432 -U grantd grantd

GRANTD_PG_URL="postgresql:///grantd?host=$dir&port=5432&user=grantd"
export GRANTD_PG_URL
echo "pg-test: GRANTD_PG_URL=$GRANTD_PG_URL"
set +e
"$@"
rc=$?
set -e
exit $rc
