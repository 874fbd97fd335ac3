#!/bin/sh
# Runs a command against a throw-away PostgreSQL 15: initdb in a temp dir (as the unprivileged
# system user grantd-test when run as root: initdb refuses root), a server on a unix socket in
# that dir only (no TCP), fsync on; exports GRANTD_PG_URL, runs "$@", then stops the server
# and removes the dir whatever happened. Exits with the command's status. (initdb skips its
# own fsync: the cluster is thrown away; the server runs with fsync on.) The cluster helpers
# are tools/pg-cluster.sh, shared with bench/run.sh.
#   sh tools/pg-test.sh build/tests/test_store_pg
set -eu
[ $# -ge 1 ] || { echo "usage: $0 command [args...]" >&2; exit 2; }
# shellcheck source=SCRIPTDIR/pg-cluster.sh
. "$(dirname "$0")/pg-cluster.sh"
pgc_check || { echo "pg-test: cannot run PostgreSQL" >&2; exit 1; }

dir=$(mktemp -d /tmp/grantd-pg.XXXXXX)
pgc_own "$dir"
# shellcheck disable=SC2317 # run by the trap
stop() {
    pgc_stop "$dir/data" || true
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

pgc_initdb "$dir/data" "$dir/initdb.log" || exit 1
pgc_start "$dir/data" "$dir" "$dir/server.log" || exit 1
$pgc_as "$pgc_bin/createdb" -h "$dir" -p 5432 -U grantd grantd

GRANTD_PG_URL=$(pgc_url "$dir" grantd)
export GRANTD_PG_URL
echo "pg-test: GRANTD_PG_URL=$GRANTD_PG_URL"
set +e
"$@"
rc=$?
set -e
exit $rc
