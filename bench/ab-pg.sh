#!/bin/sh
# Interleaved A/B of two grantd binaries on PostgreSQL: each binary seeds and serves a
# database of its own in one throw-away cluster (their schemas may differ), and they take
# turns per round on fetch-one, list-25 and create (wrk -t2 -c64). Run it inside
# tools/pg-test.sh, which provides the cluster:
#
#   sh tools/pg-test.sh sh bench/ab-pg.sh OLD_BINARY NEW_BINARY
#
# Environment: GRANTS [20000], ROUNDS [3], AB_SECONDS [5], THREADS [8] (grantd --threads),
# SCENARIOS ["fetch list create"; also "mixed": fetch-one at -c56 while creates run at -c8,
# reads under a stream of commits]. Prints one line per round, binary and scenario.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY (inside tools/pg-test.sh)" >&2; exit 2; }
old=$1 new=$2
url=${GRANTD_PG_URL:?run inside tools/pg-test.sh}
grants=${GRANTS:-20000} rounds=${ROUNDS:-3} secs=${AB_SECONDS:-5} threads=${THREADS:-8}
scenarios=${SCENARIOS:-fetch list create}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/grantd-ab-pg.XXXXXX)
trap 'rm -rf "$work"' EXIT
port=18191

db_url() { # a or b -> the URL of that binary's database
    echo "$url" | sed "s#:///\([^?]*\)?#:///\1_$1?#"
}

for side in a b; do
    bin=$old
    [ "$side" = b ] && bin=$new
    u=$(db_url $side)
    psql "$url" -qc "CREATE DATABASE $(echo "$u" | sed 's#.*:///\([^?]*\)?.*#\1#')"
    "$bin" init --db "$u" >/dev/null
    "$bin" seed --db "$u" --grants "$grants" --random-seed 7 >/dev/null 2>&1
    printf 'pw-for-bench-12345\n' | "$bin" user add ab --role admin --db "$u" --password-stdin >/dev/null
    "$bin" client add ab --owner ab --db "$u" >"$work/client.$side"
    org=$(psql "$u" -Atc "SELECT min(id) + 1 FROM organization")
    prog=$(psql "$u" -Atc "SELECT min(id) FROM program")
    data=$(printf '{"project_summary":"To expand community solar for rural communities in Denver.","amount_requested":"45000","program_organization_id":%s,"program_id":%s,"request_received_at":"2026-12-07","duration_in_months":12}' "$org" "$prog")
    printf 'data=%s' "$(printf '%s' "$data" | /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read()), end="")')" >"$work/create.$side"
done

value() { # client file, key
    grep "^$2=" "$1" | cut -d= -f2
}

for r in $(seq 1 "$rounds"); do
    for side in a b; do
        bin=$old name=OLD
        [ "$side" = b ] && bin=$new name=NEW
        u=$(db_url $side)
        "$bin" serve --db "$u" --listen 127.0.0.1:$port --rate-limits off --threads "$threads" \
            >"$work/serve.log" 2>&1 &
        sp=$!
        sleep 1
        BENCH_TOKEN=$(curl -s -d grant_type=client_credentials \
            -d client_id="$(value "$work/client.$side" client_id)" \
            -d client_secret="$(value "$work/client.$side" client_secret)" \
            http://127.0.0.1:$port/oauth/token | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
        export BENCH_TOKEN
        for sc in $scenarios; do
            case $sc in
            fetch) script=auth.lua path=grant_request/1234 ;;
            list) script=auth.lua path='grant_request?per_page=25' ;;
            create) script=write.lua path=grant_request ;;
            mixed) script=auth.lua path=grant_request/1234 ;;
            *) echo "unknown scenario $sc" >&2; exit 2 ;;
            esac
            export BENCH_BODY_FILE="$work/create.$side" BENCH_METHOD=POST
            wrk -t2 -c64 -d1s -s "$here/$script" "http://127.0.0.1:$port/api/rest/v2/$path" >/dev/null
            printf 'round %s %s %s: ' "$r" "$name" "$sc"
            conns=64
            if [ "$sc" = mixed ]; then
                conns=56
                BENCH_METHOD=POST wrk -t1 -c8 -d"${secs}s" -s "$here/write.lua" \
                    "http://127.0.0.1:$port/api/rest/v2/grant_request" >"$work/mixed.w" &
                wp=$!
            fi
            wrk -t2 -c$conns -d"${secs}s" --latency -s "$here/$script" \
                "http://127.0.0.1:$port/api/rest/v2/$path" |
                grep -E "Requests/sec|^ +99%|Non-2xx" | tr -s ' \n' ' '
            if [ "$sc" = mixed ]; then
                wait "$wp"
                printf '| creates: '
                grep -E "Requests/sec|Non-2xx" "$work/mixed.w" | tr -s ' \n' ' '
            fi
            echo
        done
        kill "$sp"
        wait "$sp" 2>/dev/null || true
    done
done
