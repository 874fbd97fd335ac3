#!/bin/bash
# A/B of three read scenarios between two grantd binaries on one database: fetch-one,
# list-25 and relation (list-25 with an expansion), wrk -t2 -c64 -d8s, the binaries taking
# turns for ROUNDS rounds. Not part of make check; a quick check that a change to the
# request path costs nothing (make bench is the full measurement against nginx).
#   OLD=path/to/grantd NEW=build/grantd [GRANTS=100000] [ROUNDS=2] bash bench/ab.sh
set -u
OLD=${OLD:?set OLD to the baseline binary} NEW=${NEW:-build/grantd}
GRANTS=${GRANTS:-100000} ROUNDS=${ROUNDS:-2}
D=${AB_DIR:-/tmp/grantd-ab}
mkdir -p "$D"
if [ ! -f "$D/g.db" ]; then
    "$NEW" init --db "$D/g.db" >/dev/null
    "$NEW" seed --db "$D/g.db" --grants "$GRANTS" --random-seed 7 >/dev/null 2>&1
    printf 'pw-for-bench-12345\n' |
        "$NEW" user add benchadmin --role admin --db "$D/g.db" --password-stdin >/dev/null
    "$NEW" client add bench --owner benchadmin --db "$D/g.db" >"$D/client.txt"
fi
CID=$(grep client_id "$D/client.txt" | cut -d= -f2)
SEC=$(grep client_secret "$D/client.txt" | cut -d= -f2)
GID=$(sqlite3 "$D/g.db" "SELECT id FROM grant_request WHERE deleted_at IS NULL AND id >= \
      (SELECT max(id) / 2 FROM grant_request) ORDER BY id LIMIT 1")
COLS='%5B%22amount_requested%22%2C%22state%22%2C%22program_organization_id%22%2C%22project_summary%22%5D'
REL='%7B%22program_organization_id%22%3A%5B%22name%22%2C%22city%22%5D%7D'
run() { # binary label
    "$1" serve --db "$D/g.db" --listen 127.0.0.1:18555 --threads 2 --rate-limits off \
        2>"$D/log-$2.txt" &
    pid=$!
    sleep 1.5
    tok=$(curl -s -d grant_type=client_credentials -d client_id="$CID" -d client_secret="$SEC" \
        http://127.0.0.1:18555/oauth/token | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
    for sc in fetch list relation; do
        case $sc in
        fetch) u="/api/rest/v2/grant_request/$GID?cols=$COLS" ;;
        list) u="/api/rest/v2/grant_request?cols=$COLS&per_page=25" ;;
        relation) u="/api/rest/v2/grant_request?cols=$COLS&per_page=25&relation=$REL" ;;
        esac
        BENCH_TOKEN=$tok wrk -t2 -c64 -d8s -s bench/auth.lua "http://127.0.0.1:18555$u" 2>&1 |
            awk -v l="$2 $sc" '/Requests\/sec/ {print l, $2}'
    done
    kill "$pid"
    wait "$pid" 2>/dev/null
}
for r in $(seq "$ROUNDS"); do
    run "$OLD" old
    run "$NEW" new
done
