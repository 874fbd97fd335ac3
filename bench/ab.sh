#!/bin/bash
# A/B of scenarios between two grantd binaries on one SQLite database: fetch-one, list-25
# and relation (list-25 with an expansion), and with SCENARIOS="... create" grant-request
# creates (bench/write.lua), wrk -t2 -c64 -d8s, the binaries taking turns for ROUNDS
# rounds. Not part of make check; a quick check that a change to the request path costs
# nothing (make bench is the full measurement against nginx).
#   OLD=path/to/grantd NEW=build/grantd [GRANTS=100000] [ROUNDS=2] [SCENARIOS="fetch list
#   relation"] bash bench/ab.sh
set -u
OLD=${OLD:?set OLD to the baseline binary} NEW=${NEW:-build/grantd}
GRANTS=${GRANTS:-100000} ROUNDS=${ROUNDS:-2} SCENARIOS=${SCENARIOS:-fetch list relation}
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
ORG=$(sqlite3 "$D/g.db" "SELECT min(id) + 1 FROM organization")
PROG=$(sqlite3 "$D/g.db" "SELECT min(id) FROM program")
DATA=$(printf '{"project_summary":"To expand community solar for rural communities in Denver.","amount_requested":"45000","program_organization_id":%s,"program_id":%s,"request_received_at":"2026-12-07","duration_in_months":12}' "$ORG" "$PROG")
printf 'data=%s' "$(printf '%s' "$DATA" | /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read()), end="")')" >"$D/create.body"
COLS='%5B%22amount_requested%22%2C%22state%22%2C%22program_organization_id%22%2C%22project_summary%22%5D'
REL='%7B%22program_organization_id%22%3A%5B%22name%22%2C%22city%22%5D%7D'
run() { # binary label
    "$1" serve --db "$D/g.db" --listen 127.0.0.1:18555 --threads 2 --rate-limits off \
        2>"$D/log-$2.txt" &
    pid=$!
    sleep 1.5
    tok=$(curl -s -d grant_type=client_credentials -d client_id="$CID" -d client_secret="$SEC" \
        http://127.0.0.1:18555/oauth/token | sed 's/.*"access_token":"\([0-9a-f]*\)".*/\1/')
    for sc in $SCENARIOS; do
        script=bench/auth.lua
        case $sc in
        fetch) u="/api/rest/v2/grant_request/$GID?cols=$COLS" ;;
        list) u="/api/rest/v2/grant_request?cols=$COLS&per_page=25" ;;
        relation) u="/api/rest/v2/grant_request?cols=$COLS&per_page=25&relation=$REL" ;;
        create) u="/api/rest/v2/grant_request" script=bench/write.lua ;;
        esac
        BENCH_TOKEN=$tok BENCH_BODY_FILE="$D/create.body" BENCH_METHOD=POST \
            wrk -t2 -c64 -d8s -s "$script" "http://127.0.0.1:18555$u" 2>&1 |
            awk -v l="$2 $sc" '/Requests\/sec/ {print l, $2}'
    done
    kill "$pid"
    wait "$pid" 2>/dev/null
}
for r in $(seq "$ROUNDS"); do
    run "$OLD" old
    run "$NEW" new
done
