#!/bin/sh
# grantd benchmark (issues 6 and 13): eight scenarios against a seeded database of a million
# grant requests, each compared with nginx serving the very same answer bytes at the same URL
# in the same run, on both storage engines: SQLite (a file) and PostgreSQL (a private cluster
# started here, its data on the same disk). On SQLite the read scenarios also run against a
# tenth of that size, to see how time grows with the table. Also: peak RSS, start-up time,
# seed time, the machine's own rate of flushed single-row commits, PostgreSQL's own ceiling
# in the same run (pgbench: fetch-one's SELECT by primary key, and the rows a create
# inserts), grantd on PostgreSQL with more worker threads than CPUs, and a check that every
# acknowledged create is stored.
# Writes bench/results.md and bench/results.png. Measures; asserts nothing (tests live in
# tests/).
#
#   sh bench/run.sh                       (or: make bench)
#   BENCH_GRANTS=20000 BENCH_SECONDS=2 BENCH_ROUNDS=1 sh bench/run.sh     (a quick look)
#
# Environment (defaults in brackets):
#   BENCH_GRANTS [1000000]       grant requests in the large database
#   BENCH_GRANTS_SMALL [1/10th]  grant requests in the small one (read scenarios only)
#   BENCH_SECONDS [10]           seconds per measured wrk run
#   BENCH_ROUNDS [3]             rounds; each round runs every server back to back per
#                                scenario, in alternating order (see below)
#   BENCH_WARMUP [2]             seconds of unmeasured warm-up per scenario and server
#   BENCH_THREADS [2]            wrk threads        BENCH_CONNS [64]  wrk connections
#   BENCH_SERVER_THREADS [2]     grantd --threads and nginx worker_processes
#   BENCH_PERF [auto]            auto: profile grantd (perf) on each scenario that misses a
#                                target; 1: on every scenario; 0: never
#   BENCH_RESEED [0]             1: seed again even when a cached database matches
#   BENCH_KEEP [0]               1: keep the working directory (databases, bodies, logs)
#   BENCH_OUT [bench/results.md] the chart goes next to it, .png instead of .md
#   BENCH_ENGINES [sqlite postgresql]   the engines to measure grantd on (one or both)
#   BENCH_PG_THREADS [8]         grantd --threads for the PostgreSQL threading comparison
#                                (fetch-one, against BENCH_SERVER_THREADS)
#   BENCH_PG_OPTS []             extra server settings for the bench cluster, as
#                                "-c name=value ..." (none: PostgreSQL's defaults, see below)
#
# Seeded databases are cached in bench/out/db/ (gitignored), keyed by the grant count and a
# hash of what decides their content: the storage engines (src/store*), src/settings.c,
# src/seed.c, the registry (src/registry.*, src/models/), and bench/markers.sql; for
# PostgreSQL also the server version and tools/pg-cluster.sh. SQLite: a database file;
# PostgreSQL: a cleanly stopped cluster directory (seeding it takes far longer than SQLite;
# the time is printed and reported). A commit that touches none of these reuses the cache; an
# uncommitted change to one of them does not. Every run works on copies.
#
# The PostgreSQL cluster (tools/pg-cluster.sh, as tools/pg-test.sh): PostgreSQL 15 from
# /usr/lib/postgresql/15/bin, run as the unprivileged user grantd-test when started as root,
# unix socket only, fsync=on, synchronous_commit=on, defaults otherwise (shared_buffers
# 128MB) except max_connections (BENCH_CONNS + 40, for pgbench).

# Figures per target and scenario live in variables named by eval (gport_big, uri_fetch_pg...).
# shellcheck disable=SC2154,SC2034
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
big=${BENCH_GRANTS:-1000000}
small=${BENCH_GRANTS_SMALL:-$((big / 10))}
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
warm=${BENCH_WARMUP:-2}
wthreads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
sthreads=${BENCH_SERVER_THREADS:-2}
pgthreads=${BENCH_PG_THREADS:-8}
engines=${BENCH_ENGINES:-sqlite postgresql}
pgopts=${BENCH_PG_OPTS:-}
perf_mode=${BENCH_PERF:-auto}
out=${BENCH_OUT:-$repo/bench/results.md}
png=${out%.md}.png
outdir=$repo/bench/out
bin=$repo/build-bench/grantd
crbin=$repo/build-bench/commitrate
t_start=$(date +%s)

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
has() { case " $engines " in *" $1 "*) return 0 ;; esac; return 1; } # engine
for e in $engines; do
    case $e in sqlite | postgresql) ;; *) die "BENCH_ENGINES: unknown engine $e (sqlite, postgresql)" ;; esac
done
has sqlite || has postgresql || die "BENCH_ENGINES names no engine"
# Targets: big and small (grantd on SQLite), pg (grantd on PostgreSQL, large database), pgx
# (the same with BENCH_PG_THREADS threads), nginx, pgbench (BENCH_CONNS connections) and pgbt
# (pgbench with as many connections as grantd has worker threads, for context). nginx serves the answers of the
# first engine measured (ref), and queries that only need the seeded data ask it.
ref=big
has sqlite || ref=pg
only() { # targets... -> those of the engines measured, in order
    for t in "$@"; do
        case $t in big | small) has sqlite && printf '%s ' "$t" ;; pg | pgbench | pgbt) has postgresql && printf '%s ' "$t" ;; *) printf '%s ' "$t" ;; esac
    done
    return 0
}

# ---------------------------------------------------------------- tools and binaries
sh tools/deps.sh wrk nginx-light curl sqlite3 gnuplot-nox >&2 || die "cannot install the bench tools"
if has postgresql; then
    sh tools/deps.sh postgresql postgresql-contrib >&2 || die "cannot install PostgreSQL"
    # shellcheck source=SCRIPTDIR/../tools/pg-cluster.sh
    . tools/pg-cluster.sh
    pgc_check || die "cannot run PostgreSQL"
fi
command -v perf >/dev/null 2>&1 || sh tools/deps.sh linux-perf >&2 || say "no perf: no profiles"
nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

say "building optimised binary in build-bench/"
# What the binary is built from, taken now: src/ may change while the run measures.
built_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
built_dirty=$(git status --porcelain -- src 2>/dev/null | head -n 1)
make -C "$repo" --no-print-directory BUILD=build-bench CFLAGS='-O2 -DNDEBUG' >&2 ||
    die "build failed"
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -Wall -Wextra -o "$crbin" bench/commitrate.c $(pkg-config --cflags --libs sqlite3) ||
    die "cannot build bench/commitrate.c"
cfbin=$repo/build-bench/createfloor
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -Wall -Wextra -Isrc -o "$cfbin" bench/createfloor.c build-bench/libgrantd.a \
    -lh2o-evloop $(pkg-config --libs sqlite3 libpq jansson libsodium openssl) -lunistring -lpthread -lm ||
    die "cannot build bench/createfloor.c"

# ---------------------------------------------------------------- working dirs, cleanup
mkdir -p "$outdir/db"
work=$(mktemp -d "$outdir/run.XXXXXX")   # databases: on the disk the cache is on
chmod 755 "$work" # the PostgreSQL server user reaches its copy of the cluster in here
www=$(mktemp -d "${TMPDIR:-/tmp}/grantd-bench.XXXXXX")
chmod 755 "$www" # nginx workers may run as another user and must read the bodies
gpid_big="" gpid_small="" gpid_pg="" gpid_pgx="" npid=""
pg_live="" pgsock=""   # the data directory of the running cluster; its socket directory
if has postgresql; then
    # unix socket paths are short (107 bytes): the socket lives in /tmp, the data in bench/out
    pgsock=$(mktemp -d /tmp/grantd-bench-pg.XXXXXX)
    pgc_own "$pgsock"
    pgurl=$(pgc_url "$pgsock" grantd)
fi
cleanup() {
    set +e
    for p in "$npid" "$gpid_big" "$gpid_small" "$gpid_pg" "$gpid_pgx"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    [ -n "$pg_live" ] && pgc_stop "$pg_live"
    [ -n "$pgsock" ] && rm -rf "$pgsock"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $work and $www"
    else
        rm -rf "$work" "$www"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- seeded databases (cached)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
key=$(for f in src/store*.c src/store*.h src/settings.c src/settings.h src/seed.c src/seed.h \
    src/registry.c src/registry.h src/models/*.c src/models/*.h bench/markers.sql; do
    if [ -f "$f" ]; then cat "$f"; fi
done | sha256sum | cut -c1-12)
tables="organization user user_organization program sub_program initiative fund funding_source
geo_country geo_state geo_city grant_request request_transaction request_report workflow_event note"

cached() { # grants -> path of the SQLite cache entry, seeding it first when missing
    d=$outdir/db/g$1-$key
    [ "${BENCH_RESEED:-0}" = 1 ] && rm -rf "$d"
    if [ ! -f "$d/ready" ]; then
        rm -rf "$d"
        mkdir -p "$d"
        say "seeding $1 grant requests into $d (cached for later runs; a million takes minutes)"
        "$bin" init --db "$d/seed.db" >/dev/null
        t0=$(now_ms)
        "$bin" seed --db "$d/seed.db" --grants "$1" >/dev/null 2>"$d/seed.err" ||
            { cat "$d/seed.err" >&2; die "seed failed"; }
        t1=$(now_ms)
        { echo 'BEGIN IMMEDIATE;'; cat bench/markers.sql; echo 'COMMIT;'; echo 'PRAGMA wal_checkpoint(TRUNCATE);'; } |
            sqlite3 "$d/seed.db" >/dev/null || die "markers failed"
        # The markers are a bulk edit: merge the full-text index again, as after any bulk load.
        "$bin" optimize --db "$d/seed.db" || die "optimize failed"
        t2=$(now_ms)
        {
            echo "seed_ms=$((t1 - t0))"
            echo "markers_ms=$((t2 - t1))"
            echo "seeded_at='$(date -u '+%Y-%m-%d %H:%M UTC')'"
            echo "seeded_by='$commit'"
            echo "db_bytes=$(stat -c %s "$d/seed.db")"
        } >"$d/info"
        for t in $tables; do
            echo "$t $(sqlite3 "$d/seed.db" "SELECT count(*) FROM \"$t\"")"
        done >"$d/counts"
        touch "$d/ready"
        for o in "$outdir"/db/g"$1"-*; do # older entries of this size
            [ "$o" = "$d" ] || rm -rf "$o"
        done
    fi
    echo "$d"
}

psql_() { psql -X -q -v ON_ERROR_STOP=1 "$pgurl" "$@"; } # psql on the running bench cluster

pg_cached() { # grants; sets pg_entry, the PostgreSQL cache entry (a stopped cluster in data/)
    # Not in a command substitution: cleanup must see pg_live if seeding fails.
    d=$outdir/db/pg-g$1-$pgkey
    [ "${BENCH_RESEED:-0}" = 1 ] && rm -rf "$d"
    if [ ! -f "$d/ready" ]; then
        rm -rf "$d"
        mkdir -p "$d"
        pgc_own "$d"
        say "seeding $1 grant requests into PostgreSQL in $d (cached for later runs; slow: a million takes long)"
        pgc_initdb "$d/data" "$d/initdb.log" || die "initdb failed"
        pg_live=$d/data
        pgc_start "$d/data" "$pgsock" "$d/server.log" || die "PostgreSQL did not start"
        $pgc_as "$pgc_bin/createdb" -h "$pgsock" -p 5432 -U grantd grantd || die "createdb failed"
        "$bin" init --db "$pgurl" >/dev/null || die "init on PostgreSQL failed"
        t0=$(now_ms)
        "$bin" seed --db "$pgurl" --grants "$1" >/dev/null 2>"$d/seed.err" ||
            { cat "$d/seed.err" >&2; die "seed on PostgreSQL failed"; }
        t1=$(now_ms)
        say "seeded $1 grant requests into PostgreSQL in $(awk -v m="$((t1 - t0))" 'BEGIN { printf "%.1f s", m / 1000 }')"
        psql_ -1 -f bench/markers.sql >/dev/null || die "markers failed on PostgreSQL"
        "$bin" optimize --db "$pgurl" || die "optimize failed on PostgreSQL"
        t2=$(now_ms)
        {
            echo "seed_ms=$((t1 - t0))"
            echo "markers_ms=$((t2 - t1))"
            echo "seeded_at='$(date -u '+%Y-%m-%d %H:%M UTC')'"
            echo "seeded_by='$commit'"
            echo "db_bytes=$(psql_ -At -c 'SELECT pg_database_size(current_database())')"
        } >"$d/info"
        for t in $tables; do
            echo "$t $(psql_ -At -c "SELECT count(*) FROM \"$t\"")"
        done >"$d/counts"
        pgc_stop "$d/data" || die "PostgreSQL did not stop"
        pg_live=""
        touch "$d/ready"
        for o in "$outdir"/db/pg-g"$1"-*; do # older entries of this size
            [ "$o" = "$d" ] || rm -rf "$o"
        done
    fi
    pg_entry=$d
}
if has sqlite; then
    cache_small=$(cached "$small")
    cache_big=$(cached "$big")
fi
if has postgresql; then
    pgkey=$({ echo "$key"; "$pgc_bin/postgres" --version; cat tools/pg-cluster.sh; } | sha256sum | cut -c1-12)
    pg_cached "$big"
    cache_pg=$pg_entry
fi

# ---------------------------------------------------------------- working copies
sizes="" # grantd targets of the scenarios: SQLite small and big, PostgreSQL pg
if has sqlite; then
    sizes="small big"
    for s in small big; do
        eval "c=\$cache_$s"
        cp "$c/seed.db" "$work/$s.db"
        eval "db_$s=\$work/\$s.db"
    done
fi
if has postgresql; then
    sizes="$sizes pg"
    # A copy of the cached cluster next to the SQLite copies (same disk), started for the run.
    mkdir "$work/pg"
    t0=$(now_ms)
    cp -a "$cache_pg/data" "$work/pg/data"
    pgc_own "$work/pg"
    pg_live=$work/pg/data
    # shellcheck disable=SC2086 # options, one word each
    pgc_start "$work/pg/data" "$pgsock" "$work/pg/server.log" -c max_connections=$((conns + 40)) $pgopts ||
        die "PostgreSQL did not start"
    say "PostgreSQL cluster copied and started in $(($(now_ms) - t0)) ms: $pgurl"
    db_pg=$pgurl
fi
for s in $sizes; do
    eval "db=\$db_$s"
    echo bench-password | "$bin" user add bench --role admin --password-stdin --db "$db" >/dev/null
    creds=$("$bin" client add bench --owner bench --db "$db")
    cid=$(echo "$creds" | sed -n 's/^client_id=//p')
    csec=$(echo "$creds" | sed -n 's/^client_secret=//p')
    { [ -n "$cid" ] && [ -n "$csec" ]; } || die "client add printed no credentials"
    eval "cid_$s=\$cid csec_$s=\$csec"
done

q() { # target sql -> value(s), "|" between columns
    case $1 in
    pg | pgx) psql_ -At -c "$2" ;;
    *) sqlite3 "$work/$1.db" "$2" ;;
    esac
}
day() { # target sql-expression(a datetime column: unix seconds on SQLite, timestamptz on PostgreSQL) -> SQL for its UTC date, YYYY-MM-DD
    case $1 in
    pg | pgx) echo "to_char(($2) AT TIME ZONE 'UTC', 'YYYY-MM-DD')" ;;
    *) echo "date($2, 'unixepoch')" ;;
    esac
}

# ---------------------------------------------------------------- grantd, start-up time
start_grantd() { # target database threads
    log=$work/grantd-$1.log
    : >"$log"
    t0=$(now_ms)
    # Appending, so the access log can be truncated between runs without a sparse file.
    "$bin" serve --db "$2" --listen 127.0.0.1:0 --threads "$3" \
        --rate-limits off 2>>"$log" &
    pid=$!
    port=""
    i=0
    while [ $i -lt 12000 ]; do
        if grep -q 'listening on' "$log"; then
            port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
            break
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "grantd serve exited"; }
        sleep 0.005
        i=$((i + 1))
    done
    t1=$(now_ms)
    [ -n "$port" ] || die "grantd did not print its port"
    eval "gpid_$1=$pid gport_$1=$port startup_$1=$((t1 - t0)) glog_$1=\$log"
    say "grantd $1 ($3 threads): http://127.0.0.1:$port (pid $pid), listening after $((t1 - t0)) ms"
}
for s in $sizes; do
    eval "start_grantd $s \"\$db_$s\" $sthreads"
done

token_of() { # target
    eval "base=http://127.0.0.1:\$gport_$1 cid=\$cid_$1 csec=\$csec_$1"
    tj=$(curl -s -d grant_type=client_credentials -d "client_id=$cid" -d "client_secret=$csec" "$base/oauth/token")
    t=$(echo "$tj" | sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p')
    [ ${#t} -eq 64 ] || die "no token: $tj"
    echo "$t"
}
for s in $sizes; do
    eval "tok_$s=\$(token_of $s)"
done

# ---------------------------------------------------------------- scenarios
urlenc() { # text -> application/x-www-form-urlencoded value (ASCII input)
    printf '%s' "$1" | LC_ALL=C awk 'BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
        { for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
              if (c ~ /[A-Za-z0-9_.~-]/) printf "%s", c; else printf "%%%02X", ord[c] } }'
}

# Ten real columns of grant_request that the seed fills in (strings, decimals, dates,
# an integer, a boolean, a foreign key).
cols='["base_request_id","state","granted","project_summary","amount_requested","amount_recommended","request_received_at","grant_begins_at","duration_in_months","program_organization_id"]'
cols_q=$(urlenc "$cols")
relation='{"program_organization_id":["name","city"]}'
query='kestrel cohort'
api=/api/rest/v2/grant_request
list_q="cols=$cols_q&per_page=25"

reads="fetch list filter relation fulltext"
writes="create update token"
wsizes=$(only big pg) # targets of the write scenarios
name() { # scenario id -> name shown
    case $1 in
    fetch) echo fetch-one ;; thr) echo "fetch-one (threads)" ;; list) echo list-25 ;; filter) echo filter ;;
    relation) echo relation ;; fulltext) echo full-text ;; create) echo create ;;
    update) echo update ;; token) echo token ;;
    esac
}
target_ratio() { # scenario id -> issue 6's target for grantd/nginx, or "-"
    case $1 in
    fetch) echo 0.5 ;; list) echo 0.25 ;; filter) echo 0.2 ;; relation) echo 0.15 ;;
    token) echo 0.15 ;; *) echo - ;;
    esac
}

org_m=$(q "$ref" "SELECT min(id) FROM organization")
org_c=$(q "$ref" "SELECT min(id) FROM organization WHERE id > $org_m") # creates: not the marked one
prog=$(q "$ref" "SELECT min(id) FROM program")
if has sqlite && has postgresql; then
    if [ "$(q pg "SELECT min(id) FROM organization")" != "$org_m" ] ||
        [ "$(q pg "SELECT min(id) FROM organization WHERE id > $org_m")" != "$org_c" ] ||
        [ "$(q pg "SELECT min(id) FROM program")" != "$prog" ]; then
        die "the PostgreSQL and SQLite databases were seeded differently"
    fi
fi
for s in $sizes; do
    # fetch-one: a live record from the middle of the table
    gid=$(q "$s" "SELECT id FROM grant_request WHERE deleted_at IS NULL AND id >= (SELECT (min(id) + max(id)) / 2 FROM grant_request) ORDER BY id LIMIT 1")
    # filter: the marked organization (bench/markers.sql), granted, and the dates its
    # marked requests span
    range=$(q "$s" "SELECT $(day "$s" 'min(updated_at)') || ' - ' || $(day "$s" 'max(updated_at)') FROM grant_request WHERE program_organization_id = $org_m AND state = 'granted' AND id > (SELECT max(id) / 2 FROM grant_request)")
    filter="{\"group_type\":\"and\",\"conditions\":[[\"state\",\"eq\",\"granted\"],[\"program_organization_id\",\"eq\",$org_m],[\"updated_at\",\"range\",\"$range\"]]}"
    n=$(q "$s" "SELECT count(*) FROM grant_request WHERE deleted_at IS NULL")
    # update: from the middle record on, up to 50,000 ids in turn
    ulo=$gid
    uhi=$((gid + (n / 10 > 50000 ? 50000 : n / 10) - 1))
    eval "gid_$s=$gid range_$s='$range' filter_$s=\$filter n_$s=$n ulo_$s=$ulo uhi_$s=$uhi"
    eval "uri_fetch_$s=\"$api/$gid?cols=$cols_q\""
    eval "uri_list_$s=\"$api?$list_q\""
    eval "uri_relation_$s=\"$api?$list_q&relation=$(urlenc "$relation")\""
    eval "uri_fulltext_$s=\"$api?$list_q&query=$(urlenc "$query")\""
    eval "uri_filter_$s=$api/list"
    printf '%s' "filter=$(urlenc "$filter")&cols=$cols_q&per_page=25" >"$www/filter-$s.body"
done
create_data="{\"project_summary\":\"To expand community solar for rural communities in Denver.\",\"amount_requested\":\"45000\",\"program_organization_id\":$org_c,\"program_id\":$prog,\"request_received_at\":\"$(date -u +%Y-%m-%d)\",\"duration_in_months\":12}"
update_data='{"amount_recommended":"24500"}'
for s in $wsizes; do
    printf '%s' "data=$(urlenc "$create_data")&cols=$cols_q" >"$www/create-$s.body"
    printf '%s' "data=$(urlenc "$update_data")&cols=$cols_q" >"$www/update-$s.body"
    eval "printf '%s' \"grant_type=client_credentials&client_id=\$cid_$s&client_secret=\$csec_$s\"" >"$www/token-$s.body"
    eval "uri_create_$s=$api uri_update_$s=$api uri_token_$s=/oauth/token"
done
has postgresql && uri_thr_pg=$uri_fetch_pg # the threading comparison: fetch-one on PostgreSQL
method() { case $1 in fetch | thr | list | relation | fulltext) echo GET ;; update) echo PUT ;; *) echo POST ;; esac; }

# One request with curl, as wrk will send it; saves body and headers, prints the status.
request() { # scenario size base bodyout headersout [token]
    m=$(method "$1")
    eval "u=\$uri_$1_$2"
    [ "$1" = update ] && eval "u=\$u/\$ulo_$2"
    set -- "$@" ""
    tk=$6
    [ "$1" = token ] && tk=""
    if [ "$m" = GET ]; then
        curl -s -o "$4" -D "$5" -w '%{http_code}' ${tk:+-H "Authorization: Bearer $tk"} \
            -H 'Accept: application/json' "$3$u"
    else
        curl -s -o "$4" -D "$5" -w '%{http_code}' -X "$m" ${tk:+-H "Authorization: Bearer $tk"} \
            -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' \
            --data-binary "@$www/$1-$2.body" "$3$u"
    fi
}

# Save grantd's exact answer; refuse to measure anything but a 200 JSON answer with every
# requested column known, of the expected shape.
capture() { # scenario size
    eval "base=http://127.0.0.1:\$gport_$2 tk=\$tok_$2"
    f=$www/$1-$2.json
    code=$(request "$1" "$2" "$base" "$f" "$f.headers" "$tk")
    [ "$code" = 200 ] || die "$1 ($2): HTTP $code: $(cut -c1-300 "$f")"
    grep -qi '^content-type: application/json' "$f.headers" || die "$1 ($2): not JSON"
    ! grep -qi '^x-ignored-fields:' "$f.headers" ||
        die "$1 ($2): grantd ignored: $(grep -i '^x-ignored-fields:' "$f.headers")"
    chmod 644 "$f"
    nrec=$(grep -o '{"id":' "$f" | wc -l | tr -d ' ')
    total=$(sed -n 's/.*"total_entries":\([0-9]*\).*/\1/p' "$f")
    case $1 in
    fetch)
        eval "g=\$gid_$2"
        grep -q "^{\"grant_request\":{\"id\":$g," "$f" || die "fetch ($2): unexpected body" ;;
    list) [ "$nrec" = 25 ] || die "list ($2): $nrec records, expected 25" ;;
    filter | fulltext)
        [ "$nrec" = 25 ] || [ "$nrec" = "${total:-x}" ] || die "$1 ($2): $nrec records on the page"
        eval "total_$1_$2=$total" ;;
    relation)
        nrel=$(grep -o '"program_organization_id":\[{"id":[0-9]*,"name":' "$f" | wc -l | tr -d ' ')
        [ "$nrel" = 25 ] || die "relation ($2): $nrel expanded organizations, expected 25" ;;
    create | update) grep -q '^{"grant_request":{"id":[0-9]*,' "$f" || die "$1: unexpected body" ;;
    token) grep -q '"access_token":"[0-9a-f]\{64\}"' "$f" || die "token: unexpected body" ;;
    esac
    eval "bytes_$1_$2=$(wc -c <"$f" | tr -d ' ')"
}
for sc in $reads; do
    for s in $sizes; do capture "$sc" "$s"; done
done
for sc in $writes; do
    for s in $wsizes; do capture "$sc" "$s"; done
done
for s in $sizes; do
    eval "say \"$s: filter matches \$total_filter_$s records, full-text \$total_fulltext_$s\""
done
# Both engines hold the same seeded data: their answers should be the same bytes (the nginx
# runs serve ref's). Reported, not enforced.
answers_differ=""
if has sqlite && has postgresql; then
    for sc in $reads; do
        cmp -s "$www/$sc-big.json" "$www/$sc-pg.json" || answers_differ="$answers_differ $sc"
    done
    [ -z "$answers_differ" ] || say "PostgreSQL's answers differ from SQLite's for:$answers_differ"
fi

# pgbench scripts (PostgreSQL's ceiling). Select: fetch-one's statement, the same columns of
# the same record by primary key (grantd also runs BEGIN, its change stamp, two settings
# reads, the token lookup and COMMIT per request: each a round trip). Insert: the rows a
# create writes, as grantd's INSERTs name them (server log with log_statement=all): the
# grant_request row, then its workflow_event, in one transaction (COMMIT flushed:
# synchronous_commit=on); the table's triggers (full-text row, live count) fire as for
# grantd. Not included: grantd's reads around them (the organization and program exist,
# lastval(), the answer's SELECT) and its savepoints.
if has postgresql; then
    sel_cols=$(echo "$cols" | tr -d '[]')
    echo "SELECT id, $sel_cols FROM grant_request WHERE id = $gid_pg;" >"$work/pgbench-select.sql"
    uid_pg=$(q pg "SELECT max(id) FROM \"user\"") # the bench user, added last
    today=$(date -u -d "$(date -u +%Y-%m-%d)" +%s)
    cat >"$work/pgbench-insert.sql" <<SQL
\\set now $(date -u +%s)
BEGIN;
INSERT INTO grant_request(created_at, updated_at, created_by_id, updated_by_id, state, project_summary, amount_requested, program_organization_id, program_id, request_received_at, duration_in_months) VALUES (to_timestamp(:now), to_timestamp(:now), $uid_pg, $uid_pg, 'new', 'To expand community solar for rural communities in Denver.', 45000.0000, $org_c, $prog, to_timestamp($today), 12) RETURNING id \\gset
INSERT INTO workflow_event(created_at, updated_at, workflowable_type, workflowable_id, old_state, new_state, created_by_id, updated_by_id, change_type, grant_request_id) VALUES (to_timestamp(:now), to_timestamp(:now), 'GrantRequest', :id, NULL, 'new', $uid_pg, $uid_pg, 'state', :id);
COMMIT;
SQL
fi

# ---------------------------------------------------------------- nginx, same bytes
# One server per scenario, each answering every request with that scenario's saved body.
# POST and PUT to a static file are 405 in nginx; error_page turns that into the file, 200.
all="$reads $writes"
nsc=0
for sc in $all; do nsc=$((nsc + 1)); done
nport=""
tries=0
while [ -z "$nport" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    port=$(awk -v s="$$" 'BEGIN { srand(); srand(int(rand() * 100000) + s); print 20000 + int(rand() * 40000) }')
    {
        echo "worker_processes $sthreads;"
        echo "daemon off;"
        echo "pid $www/nginx.pid;"
        echo "error_log $www/nginx-error.log warn;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        echo "    sendfile on;"
        echo "    tcp_nopush on;"
        echo "    tcp_nodelay on;"
        echo "    keepalive_timeout 75s;"
        echo "    keepalive_requests 100000000;"
        echo "    open_file_cache max=64 inactive=60s;"
        echo "    open_file_cache_valid 3600s;"
        echo "    client_body_temp_path $www/nginx-body;"
        echo "    types { }"
        echo "    default_type \"application/json; charset=utf-8\";"
        p=$port
        for sc in $all; do
            echo "    server {"
            echo "        listen 127.0.0.1:$p;"
            echo "        root $www;"
            echo "        location / { try_files /$sc-$ref.json =404; error_page 405 =200 \$uri; }"
            echo "    }"
            eval "nport_$sc=$p"
            p=$((p + 1))
        done
        echo "}"
    } >"$www/nginx.conf"
    "$nginx_bin" -e "$www/nginx-error.log" -p "$www" -c "$www/nginx.conf" 2>/dev/null &
    npid=$!
    i=0
    while [ $i -lt 50 ]; do
        if ! kill -0 "$npid" 2>/dev/null; then npid=""; break; fi
        if curl -s -o /dev/null "http://127.0.0.1:$((port + nsc - 1))/"; then nport=$port; break; fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$nport" ] && [ -n "$npid" ]; then
        kill "$npid" 2>/dev/null
        wait "$npid" 2>/dev/null || true
        npid=""
    fi
done
[ -n "$nport" ] || { cat "$www/nginx-error.log" >&2 2>/dev/null; die "nginx did not start"; }
say "nginx on 127.0.0.1:$nport-$((nport + nsc - 1)) (pid $npid)"
for sc in $all; do
    eval "b=http://127.0.0.1:\$nport_$sc"
    eval "tk=\$tok_$ref"
    code=$(request "$sc" "$ref" "$b" "$www/$sc.nginx" "$www/$sc.nginx.headers" "$tk")
    [ "$code" = 200 ] || die "nginx answers $code for $sc"
    cmp -s "$www/$sc-$ref.json" "$www/$sc.nginx" || die "nginx does not serve grantd's $sc bytes"
done

# ---------------------------------------------------------------- wrk runs
to_ms() { # wrk latency (e.g. 512.00us, 1.23ms, 1.01s) -> milliseconds
    echo "$1" | awk '{ v = $1 + 0
        if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v += 0
        else if ($1 ~ /m$/) v *= 60000; else if ($1 ~ /s$/) v *= 1000
        printf "%.3f", v }'
}
tsv=$work/results.tsv
: >"$tsv"
crtsv=$work/commitrate.tsv
: >"$crtsv"

# CPU time (clock ticks, user + system) used so far by a server: grantd is one process
# (its stat sums all threads); nginx is the master plus its worker children.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { # target
    if [ "$1" = nginx ]; then
        cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$npid" '$1 == p || $4 == p { s += $14 + $15 } END { print s + 0 }'
    else
        eval "awk '{ print \$14 + \$15 }' /proc/\$gpid_$1/stat"
    fi
}
io_bytes() { # target -> bytes the server has caused to be written to storage so far
    [ "$1" = nginx ] && { echo 0; return; }
    eval "awk '\$1 == \"write_bytes:\" { print \$2 }' /proc/\$gpid_$1/io"
}
vm_kib() { # size field(VmHWM|VmRSS)
    eval "awk -v f=\"$2:\" '\$1 == f { print \$2 }' /proc/\$gpid_$1/status"
}
pg_ticks() { # CPU ticks used so far by the bench cluster: the postmaster, its live children
    # and (cutime, cstime) the children it has reaped, such as pgbench's closed connections
    [ -n "$pg_live" ] || { echo 0; return; }
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$(head -n 1 "$pg_live/postmaster.pid")" '
        $1 == p { s += $14 + $15 + $16 + $17 } $4 == p { s += $14 + $15 } END { print s + 0 }'
}

live_rows() { q "$1" "SELECT count(*) FROM grant_request"; } # target
stored_ids() { # target idsfile -> "distinct acknowledged ids" "how many of them are stored"
    if [ "$1" = pg ]; then
        psql_ -At -c "CREATE TEMP TABLE a(id bigint)" -c "\\copy a FROM '$2'" \
            -c "SELECT count(DISTINCT id), (SELECT count(*) FROM a WHERE id IN (SELECT id FROM grant_request)) FROM a" |
            tail -n 1 | tr '|' ' '
    else
        sqlite3 :memory: "ATTACH 'file:$work/$1.db?mode=ro' AS g" "CREATE TABLE a(id INTEGER)" \
            ".import $2 a" "SELECT count(DISTINCT id), (SELECT count(*) FROM a WHERE id IN (SELECT id FROM g.grant_request)) FROM a" | tr '|' ' '
    fi
}

# PostgreSQL's own ceiling, pgbench on the bench cluster with wrk's connection and thread
# counts: fetch-one's SELECT (same record, same columns) by primary key, and the rows a
# create inserts (see pgbench_scripts). Per-transaction logs (one in ten sampled) give p50/p99.
run_pgbench() { # scenario(fetch|create) pgbench|pgbt round seconds
    sc=$1 tg=$2 rd=$3 d=$4
    nc=$conns
    [ "$tg" = pgbt ] && nc=$sthreads
    nj=$((wthreads < nc ? wthreads : nc))
    case $sc in fetch) script=$work/pgbench-select.sql ;; create) script=$work/pgbench-insert.sql ;; *) die "no pgbench script for $sc" ;; esac
    f=$work/$tg-$sc-$rd.txt
    lg=$work/pgblog-$tg-$sc-$rd
    rm -f "$lg".*
    c0=$(pg_ticks)
    pgbench -n -M prepared -c "$nc" -j "$nj" -T "$d" -f "$script" -l --sampling-rate 0.1 \
        --log-prefix "$lg" -h "$pgsock" -p 5432 -U grantd grantd >"$f" 2>&1 || { cat "$f" >&2; die "pgbench failed"; }
    c1=$(pg_ticks)
    [ "$rd" -gt 0 ] || { rm -f "$lg".*; return 0; }
    rps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$f")
    nreq=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$f")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$f")
    # shellcheck disable=SC2046 # two words
    set -- $(cat "$lg".* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END {
        if (!NR) { print "- -"; exit }
        i = int(NR * 0.5); if (i < 1) i = 1; j = int(NR * 0.99); if (j < 1) j = 1
        printf "%.3f %.3f", v[i] / 1000, v[j] / 1000 }')
    rm -f "$lg".*
    p50=$1 p99=$2
    cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="${nreq:-0}" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$sc" "$tg" "$rd" "${rps:-0}" "$p50" "$p99" "${failed:-0}" none - - - "$cpu_us" - - - - - - "${nreq:-0}" - - - - - "$cpu_us" >>"$tsv"
    say "$(basename "$script" .sql) -c $nc round $rd: ${rps:-?} tps, p50 $p50 ms, p99 $p99 ms, failed ${failed:-?}, PostgreSQL CPU $cpu_us us/transaction"
}

run() { # scenario target(big|small|pg|pgx|nginx|pgbench|pgbt) round seconds(recorded when round > 0)
    sc=$1 tg=$2 rd=$3 d=$4
    case $tg in pgbench | pgbt) run_pgbench "$@"; return ;; esac
    case $tg in nginx) size=$ref ;; pgx) size=pg ;; *) size=$tg ;; esac
    if [ "$tg" = nginx ]; then eval "base=http://127.0.0.1:\$nport_$sc"; else eval "base=http://127.0.0.1:\$gport_$tg"; fi
    eval "u=\$uri_${sc}_$size tk=\$tok_$size"
    [ "$sc" = token ] && tk=""
    f=$work/wrk-$sc-$tg-$rd.txt
    ids=""
    [ "$tg" != nginx ] && eval ": >\"\$glog_$tg\""
    if [ "$sc" = create ] && [ "$tg" != nginx ]; then
        rows0=$(live_rows "$tg")
        ids=$work/ids-$tg-$rd.txt
    fi
    c0=$(cpu_ticks "$tg")
    pc0=$(pg_ticks)
    w0=$(io_bytes "$tg")
    pst=""
    if [ "$tg" = big ] && [ "$rd" -gt 0 ] && ! is_read "$sc" && command -v perf >/dev/null 2>&1; then
        # syscalls of grantd during the run: flushes, page writes, busy-handler sleeps
        pst=$work/perfstat-$sc-$rd.txt
        perf stat -x, -o "$pst" -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_clock_nanosleep \
            -p "$gpid_big" -- sleep "$d" >/dev/null 2>&1 &
        pspid=$!
    fi
    if [ "$(method "$sc")" = GET ]; then
        BENCH_TOKEN=$tk wrk -t"$wthreads" -c"$conns" -d"${d}s" --latency -s bench/auth.lua \
            "$base$u" >"$f" 2>&1 || { cat "$f" >&2; die "wrk failed"; }
    else
        count=0
        case $sc in create | update | token) count=1 ;; esac
        idr=""
        [ "$sc" = update ] && eval "idr=\$ulo_$size:\$uhi_$size"
        BENCH_TOKEN=$tk BENCH_METHOD=$(method "$sc") BENCH_BODY_FILE=$www/$sc-$size.body \
            BENCH_IDS=$idr BENCH_COUNT=$count BENCH_IDS_OUT=$ids \
            wrk -t"$wthreads" -c"$conns" -d"${d}s" --latency -s bench/write.lua \
            "$base$u" >"$f" 2>&1 || { cat "$f" >&2; die "wrk failed"; }
    fi
    c1=$(cpu_ticks "$tg")
    pc1=$(pg_ticks)
    w1=$(io_bytes "$tg")
    [ -n "$pst" ] && { wait "$pspid" || true; }
    [ "$rd" -gt 0 ] || return 0
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    sockerr=$(awk -F'Socket errors: ' 'NF > 1 { print $2 }' "$f" | tr ' ' '_')
    nreq=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$f")
    ok200=$(awk '$1 == "answers:" { print $2 }' "$f")
    other=$(awk '$1 == "answers:" { print $4 }' "$f")
    cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="${nreq:-0}" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print 0 }')
    pg_us=""
    case $tg in pg | pgx) pg_us=$(awk -v a="$pc0" -v b="$pc1" -v n="${nreq:-0}" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print 0 }') ;; esac
    logged="-" bad="-" srv_us="-" lbytes="-" added="-" found="-" uniq="-" hwm="-" wb="-"
    fsyncs="-" pwrites="-" sleeps="-"
    if [ -n "$pst" ] && [ -s "$pst" ]; then
        fsyncs=$(awk -F, '$3 ~ /fdatasync/ { print $1 }' "$pst")
        pwrites=$(awk -F, '$3 ~ /pwrite64/ { print $1 }' "$pst")
        sleeps=$(awk -F, '$3 ~ /clock_nanosleep/ { print $1 }' "$pst")
    fi
    if [ "$tg" != nginx ]; then
        eval "gl=\$glog_$tg"
        # shellcheck disable=SC2046 # four words
        set -- $(awk '$1 ~ /^(GET|POST|PUT)$/ && $5 ~ /us$/ { t = $5; sub(/us$/, "", t); s += t; b += $4; n++; if ($3 != 200) bad++ }
            END { if (n) printf "%d %d %.0f %.0f", n, bad, s / n, b / n; else print "0 0 - -" }' "$gl")
        logged=$1 bad=$2 srv_us=$3 lbytes=$4
        hwm=$(vm_kib "$tg" VmHWM)
        wb=$(awk -v a="$w0" -v b="$w1" -v n="${nreq:-0}" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / n; else print "-" }')
    fi
    if [ -n "$ids" ]; then
        rows1=$(live_rows "$tg")
        added=$((rows1 - rows0))
        # shellcheck disable=SC2046 # two words
        set -- $(stored_ids "$tg" "$ids")
        uniq=$1 found=$2
    fi
    # columns: 1 scenario 2 target 3 round 4 req/s 5 p50 6 p99 7 non-2xx 8 socket errors
    # 9 logged 10 non-200 logged 11 server us 12 CPU us/request 13 answers 200 14 other answers
    # 15 rows added 16 acked ids found 17 distinct acked ids 18 logged bytes/answer 19 requests
    # 20 VmHWM KiB 21 storage write bytes/request 22 fdatasync 23 pwrite64 24 sleeps
    # 25 PostgreSQL CPU us/request (its server processes; pg, pgx and pgbench runs)
    # (pgbench runs: 4 is tps, 7 failed transactions, 12 and 25 PostgreSQL's CPU)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$sc" "$tg" "$rd" "${rps:-0}" "$p50" "$p99" "${non2xx:-0}" "${sockerr:-none}" \
        "$logged" "$bad" "$srv_us" "$cpu_us" "${ok200:--}" "${other:--}" "$added" "$found" \
        "$uniq" "$lbytes" "${nreq:-0}" "$hwm" "$wb" "${fsyncs:--}" "${pwrites:--}" "${sleeps:--}" "${pg_us:--}" >>"$tsv"
    say "$(name "$sc") $tg round $rd: ${rps:-?} req/s, p50 $p50 ms, p99 $p99 ms, non-2xx ${non2xx:-0}, server CPU $cpu_us us/request${pg_us:+, PostgreSQL CPU $pg_us us/request}${ok200:+, answers 200: $ok200}${ids:+, rows added $added, acknowledged ids stored $found/$uniq}"
}

commitrate() { # round seconds
    rm -f "$work/commitrate.db" "$work/commitrate.db-wal" "$work/commitrate.db-shm"
    crout=$("$crbin" "$work/commitrate.db" "$2") || die "commitrate failed"
    [ "$1" -gt 0 ] || return 0
    printf '%s\t%s\n' "$1" "$(echo "$crout" | awk '{ print $6 }')" >>"$crtsv"
    say "flushed single-row commits, round $1: $(echo "$crout" | awk '{ print $6 }')/s"
}

# ---------------------------------------------------------------- figures
agg() { # scenario target column -> mean over rounds
    awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t && $3 > 0 { x += $c; n++ } END { if (n) printf "%.3f", x / n }' "$tsv"
}
sum() { # scenario target column -> sum over rounds
    awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t && $3 > 0 { x += $c } END { printf "%d", x }' "$tsv"
}
pairs() { # scenario targetA targetB [column, 4] -> "mean r1 r2 ..." of per-round A/B ratios, sorted
    awk -F'\t' -v s="$1" -v a="$2" -v b="$3" -v c="${4:-4}" '$1 == s && $2 == a && $3 > 0 { x[$3] = $c } $1 == s && $2 == b && $3 > 0 { y[$3] = $c }
        END { k = 0
              for (r in x) if (y[r] > 0) { k++; v[k] = x[r] / y[r]; sum += v[k] }
              for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
              if (!k) { print "-"; exit }
              printf "%.3f", sum / k; for (i = 1; i <= k; i++) printf " %.2f", v[i]; print "" }' "$tsv"
}
ratio() { pairs "$1" big nginx | cut -d' ' -f1; }
growth() { pairs "$1" small big | cut -d' ' -f1; } # rate at the small size / rate at the large
growth_cpu() { pairs "$1" big small 12 | cut -d' ' -f1; } # CPU per request, large / small
growth_srv() { pairs "$1" big small 11 | cut -d' ' -f1; } # server time per request, large / small
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a + 0 < b + 0) }'; }
mark() { if "$@"; then echo met; else echo "**not met**"; fi; }
create_x() { # mean over rounds of create's rate / the same round's flushed-commit rate
    awk -F'\t' 'NR == FNR { c[$1] = $2; next } $1 == "create" && $2 == "big" && $3 > 0 && c[$3] > 0 { s += $4 / c[$3]; n++ }
        END { if (n) printf "%.2f", s / n; else print "-" }' "$crtsv" "$tsv"
}
is_read() { case " $reads " in *" $1 "*) return 0 ;; esac; return 1; }
missed() { # scenario -> true when the runs so far miss one of its targets
    tr_=$(target_ratio "$1")
    if [ "$tr_" != - ] && ! ge "$(ratio "$1")" "$tr_"; then return 0; fi
    if is_read "$1"; then
        lt "$(agg "$1" big 6)" 10 || return 0
        lt "$(growth_cpu "$1")" 1.5001 || return 0
    fi
    if [ "$1" = create ] && ! ge "$(create_x)" 2; then return 0; fi
    return 1
}
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "" || v == "-") print "-"; else printf f, v }'; }


# ---------------------------------------------------------------- profiles
# A separate, unmeasured run per scenario with perf attached to grantd (large database):
# DWARF call graphs (the bench build has no frame pointers), reported as self time by
# shared object, inclusive time of grantd's functions, and the hottest symbols. Read
# scenarios are profiled right after the read rounds, before any write changes the data.
perf_secs=$((secs < 5 ? secs : 5))
profiled=""
profile() { # scenarios...
    list=""
    for sc in "$@"; do
        if [ "$perf_mode" = 1 ] || { [ "$perf_mode" = auto ] && missed "$sc"; }; then list="$list $sc"; fi
    done
    [ -n "$list" ] || return 0
    command -v perf >/dev/null 2>&1 || { say "perf is not installed: no profile"; return 0; }
    say "profiling grantd (perf record, ${perf_secs}s) on:$list"
    for sc in $list; do
        run "$sc" big 0 "$((perf_secs + 3))" &
        rpid=$!
        sleep 1
        pd=$work/perf-$sc.data
        if perf record -q -F 499 --call-graph dwarf,16384 -p "$gpid_big" -o "$pd" \
            -- sleep "$perf_secs" >/dev/null 2>&1; then
            perf report -i "$pd" --no-children --stdio --sort dso -g none 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -n 8 >"$work/perf-$sc-dso.txt" || true
            perf report -i "$pd" --children --stdio --sort dso,symbol -g none 2>/dev/null |
                grep -E '^ +[0-9.]+%' | awk '$3 == "grantd"' | head -n 22 >"$work/perf-$sc-grantd.txt" || true
            perf report -i "$pd" --no-children --stdio --sort dso,symbol -g none 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -n 18 >"$work/perf-$sc-self.txt" || true
            profiled="$profiled $sc"
        else
            say "perf record failed (perf_event_paranoid?); no profile"
        fi
        wait "$rpid" || true
        rm -f "$pd"
    done
}

load_before=$(cut -d" " -f1-3 /proc/loadavg)
t_measure=$(date +%s)
# The order of the targets per scenario: odd rounds one way, even rounds the reverse, each
# grantd next to the nginx run it is compared with, pgbench next to grantd on PostgreSQL.
order() { # scenario round(0: warm-up)
    o="big nginx pg"
    case $1 in fetch | create) o="$o pgbench pgbt" ;; esac
    is_read "$1" && o="$o small"
    if [ "$2" -gt 0 ] && [ $(($2 % 2)) = 0 ]; then
        o=$(echo "$o" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
    fi
    # shellcheck disable=SC2086 # a list
    only $o
}
say "warming up (${warm}s per scenario and server)"
for sc in $all; do
    for tg in $(order "$sc" 0); do run "$sc" "$tg" 0 "$warm"; done
done

# Reads first (writes add rows): odd rounds large, nginx, PostgreSQL, pgbench (fetch-one),
# small; even rounds the reverse.
r=1
while [ $r -le "$rounds" ]; do
    for sc in $reads; do
        for tg in $(order "$sc" $r); do run "$sc" "$tg" $r "$secs"; done
    done
    r=$((r + 1))
done
if has sqlite; then
    hwm_reads_big=$(vm_kib big VmHWM)
    hwm_reads_small=$(vm_kib small VmHWM)
    # shellcheck disable=SC2086 # a list
    profile $reads
fi
has postgresql && hwm_reads_pg=$(vm_kib pg VmHWM)

# The threading decision (grantd on PostgreSQL: one blocking libpq connection per worker
# thread, no pipelining): fetch-one with BENCH_SERVER_THREADS workers (pg) and with
# BENCH_PG_THREADS (pgx, a second grantd on the same database, only for this), alternating.
if has postgresql; then
    start_grantd pgx "$pgurl" "$pgthreads"
    for tg in pg pgx; do run thr "$tg" 0 "$warm"; done
    r=1
    while [ $r -le "$rounds" ]; do
        if [ $((r % 2)) = 1 ]; then order="pg pgx"; else order="pgx pg"; fi
        for tg in $order; do run thr "$tg" $r "$secs"; done
        r=$((r + 1))
    done
    hwm_pgx=$(vm_kib pgx VmHWM)
    kill "$gpid_pgx" 2>/dev/null
    wait "$gpid_pgx" 2>/dev/null || true
    gpid_pgx=""
fi

# Writes: the machine's flushed-commit rate (SQLite) next to every create run.
r=1
while [ $r -le "$rounds" ]; do
    has sqlite && commitrate $r "$secs"
    for sc in $writes; do
        for tg in $(order "$sc" $r); do run "$sc" "$tg" $r "$secs"; done
    done
    r=$((r + 1))
done
if has sqlite; then
    hwm_big=$(vm_kib big VmHWM)
    rss_big=$(vm_kib big VmRSS)
fi
if has postgresql; then
    hwm_pg=$(vm_kib pg VmHWM)
    rss_pg=$(vm_kib pg VmRSS)
fi
t_measured=$(date +%s)
load_after=$(cut -d" " -f1-3 /proc/loadavg)
# shellcheck disable=SC2086 # a list
has sqlite && profile $writes

# ---------------------------------------------------------------- verdicts
set +e # from here on a missing figure prints as such; it must not lose the run
# Targets, one line each: name|verdict|detail
targets=$work/targets.txt
: >"$targets"
p99_line() { # label scenario target
    p=$(agg "$2" "$3" 6)
    p_max=$(awk -F'\t' -v s="$2" -v t="$3" '$1 == s && $2 == t && $3 > 0 && $6 > m { m = $6 } END { printf "%.2f", m }' "$tsv")
    echo "$1|$(mark lt "$p" 10)|mean $(fmt "$p" %.2f) ms, worst round $p_max ms (nginx in the same rounds: $(fmt "$(agg "$2" nginx 6)" %.2f) ms)" >>"$targets"
}
acked_line() { # label target
    acks=$(sum create "$2" 13)
    added=$(sum create "$2" 15)
    found=$(sum create "$2" 16)
    uniq_ids=$(sum create "$2" 17)
    lost=$((uniq_ids - found))
    echo "$1|$(mark [ "$lost" = 0 -a "$found" -gt 0 ])|$found of $uniq_ids acknowledged ids found, $added rows added for $acks answers 200" >>"$targets"
}
if has sqlite; then
    cr_mean=$(awk -F'\t' '{ s += $2; n++ } END { if (n) printf "%.0f", s / n }' "$crtsv")
    cr_list=$(awk -F'\t' '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $2 }' "$crtsv")
    create_x=$(create_x)
    for sc in $all; do
        tr_=$(target_ratio "$sc")
        [ "$tr_" = - ] && continue
        rt=$(ratio "$sc")
        echo "SQLite: $(name "$sc") at least $tr_ of nginx's rate|$(mark ge "$rt" "$tr_")|$rt" >>"$targets"
    done
    echo "SQLite: create at least 2x the flushed single-commit rate ($cr_mean/s)|$(mark ge "$create_x" 2)|${create_x}x" >>"$targets"
    acked_line "SQLite: every acknowledged create stored" big
    for sc in $reads; do p99_line "SQLite: $(name "$sc") p99 under 10 ms at $conns connections" "$sc" big; done
    echo "SQLite: RSS under 100 MiB serving the $big database|$(mark lt "$hwm_big" 102400)|peak (VmHWM) $(fmt "$hwm_big" '%.0f') KiB = $(awk -v k="$hwm_big" 'BEGIN { printf "%.1f", k / 1024 }') MiB" >>"$targets"
    for sc in $reads; do
        gc=$(growth_cpu "$sc")
        echo "SQLite: $(name "$sc") at most 1.5x slower at $big than at $small (CPU per request)|$(mark lt "$gc" 1.5001)|${gc}x CPU per request; rate $(growth "$sc")x, server time $(growth_srv "$sc")x" >>"$targets"
    done
    p99_line "SQLite: create p99 under 10 ms at $conns connections (issue 13)" create big
fi
if has postgresql; then
    pr=$(pairs fetch pg pgbench)
    echo "PostgreSQL: fetch-one at least 0.5x pgbench's select by primary key (issue 13)|$(mark ge "${pr%% *}" 0.5)|${pr%% *} (per round: ${pr#* }); $(fmt "$(agg fetch pg 4)" %.0f) req/s vs $(fmt "$(agg fetch pgbench 4)" %.0f) tps" >>"$targets"
    pr=$(pairs create pg pgbench)
    echo "PostgreSQL: create at least 0.5x pgbench's insert of the same rows (issue 13)|$(mark ge "${pr%% *}" 0.5)|${pr%% *} (per round: ${pr#* }); $(fmt "$(agg create pg 4)" %.0f) req/s vs $(fmt "$(agg create pgbench 4)" %.0f) tps" >>"$targets"
    pr=$(pairs list pg nginx)
    echo "PostgreSQL: list-25 at least 0.15 of nginx's rate (issue 13)|$(mark ge "${pr%% *}" 0.15)|${pr%% *} (per round: ${pr#* })" >>"$targets"
    p99_line "PostgreSQL: create p99 under 10 ms at $conns connections (issue 13)" create pg
    acked_line "PostgreSQL: every acknowledged create stored" pg
fi

# The create runs are over: kill -9 grantd and count again; nothing acknowledged may be gone.
for s in $wsizes; do
    eval "rows_live_$s=\$(live_rows $s)"
    eval "kill -9 \"\$gpid_$s\"" 2>/dev/null
    eval "wait \"\$gpid_$s\"" 2>/dev/null || true
    eval "gpid_$s=''"
    eval "rows_after_kill_$s=\$(live_rows $s)"
done

if has sqlite; then
    # What SQLite alone needs per create (bench/createfloor.c): the same statements without the
    # server, on a copy of the small database, at batch sizes 1, 8 and 64.
    floor=""
    cp "$cache_small/seed.db" "$work/floor.db"
    for b in 1 8 64; do
        f=$("$cfbin" "$work/floor.db" 5 "$b" 2>&1 | awk '/^creates/ { print $4 }')
        floor="$floor${floor:+, }batch $b: ${f:-?} us"
        say "SQLite alone per create, $b per transaction: ${f:-?} us CPU"
    done
    # The same create committed alone, one flush per commit (no group commit), for context: the
    # rate a server without group commit could reach at best on this machine.
    f=$("$cfbin" "$work/floor.db" 5 1 flush 2>&1 | awk '/^creates/ { print $8 }')
    alone_rate=${f:-?}
    say "SQLite alone, one create per flushed commit: ${alone_rate}/s"
    rm -f "$work/floor.db" "$work/floor.db-wal" "$work/floor.db-shm"
fi

# ---------------------------------------------------------------- chart
dat=$work/chart.dat
for sc in $all; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(name "$sc")" "$(agg "$sc" big 4)" "$(agg "$sc" small 4)" \
        "$(agg "$sc" nginx 4)" "$(ratio "$sc")" "$(target_ratio "$sc")" "$(agg "$sc" pg 4)" \
        "$(pairs "$sc" pg nginx | cut -d' ' -f1)"
done | awk -F'\t' -v OFS='\t' '{ for (i = 1; i <= NF; i++) if ($i == "") $i = "-"; print }' >"$dat"
# the series of the engines measured
rates="" ratios=""
if has sqlite; then
    rates="\"$dat\" using 2:xtic(1) title \"grantd on SQLite, $big grant requests\" lc rgb \"#1f77b4\", \"\" using 3 title \"grantd on SQLite, $small\" lc rgb \"#9ecae1\", "
    ratios="\"$dat\" using 5:xtic(1) title \"SQLite / nginx\" lc rgb \"#1f77b4\", "
fi
if has postgresql; then
    rates="$rates\"$dat\" using 7:xtic(1) title \"grantd on PostgreSQL, $big\" lc rgb \"#2ca02c\", "
    ratios="$ratios\"$dat\" using 8:xtic(1) title \"PostgreSQL / nginx\" lc rgb \"#2ca02c\", "
fi
gnuplot <<EOF 2>"$work/gnuplot.err" || say "gnuplot failed: $(cat "$work/gnuplot.err")"
set terminal pngcairo size 1100,820 font "DejaVu Sans,10"
set output "$png"
set datafile separator "\t"
set datafile missing "-"
set multiplot layout 2,1 title "grantd vs nginx serving the same bytes ($(date -u +%Y-%m-%d), $(nproc) CPUs, wrk -t$wthreads -c$conns, means of $rounds rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [10:*]
set ylabel "requests/s (log scale)"
set grid ytics
set key outside bottom center horizontal
set xtics nomirror
plot $rates"$dat" using 4:xtic(1) title "nginx, static file of the same bytes" lc rgb "#7f7f7f"
unset logscale y
set yrange [0:*]
set ylabel "grantd / nginx (same round)"
set style histogram clustered gap 2
plot $ratios"$dat" using 6:xtic(1) title "issue 6 target" lc rgb "#d62728"
unset multiplot
EOF

# ---------------------------------------------------------------- results.md
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
gcommit=$built_commit
[ -n "$built_dirty" ] && gcommit="$built_commit + uncommitted changes in src/"
nginx_ver=$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')
wrk_ver=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }' | sed 's/^debian\///')
sqlite_ver=$(sqlite3 --version | cut -d' ' -f1)
disk=$(df -P "$work" | awk 'NR == 2 { print $1 }')
fstype=$(stat -f -c %T "$work")
cmdline="BENCH_ENGINES='$engines' BENCH_GRANTS=$big BENCH_GRANTS_SMALL=$small BENCH_SECONDS=$secs BENCH_ROUNDS=$rounds sh bench/run.sh"
if has sqlite; then
    # shellcheck source=/dev/null
    . "$cache_big/info"
    seed_big_ms=$seed_ms markers_big_ms=$markers_ms seeded_big_at=$seeded_at seeded_big_by=$seeded_by bytes_big_db=$db_bytes
    # shellcheck source=/dev/null
    . "$cache_small/info"
    seed_small_ms=$seed_ms seeded_small_at=$seeded_at bytes_small_db=$db_bytes
fi
if has postgresql; then
    # shellcheck source=/dev/null
    . "$cache_pg/info"
    seed_pg_ms=$seed_ms markers_pg_ms=$markers_ms seeded_pg_at=$seeded_at seeded_pg_by=$seeded_by bytes_pg_db=$db_bytes
    pg_ver=$("$pgc_bin/postgres" --version | awk '{ print $3 }')
    pg_settings=$(psql_ -At -F' ' -c "SELECT name || '=' || setting || COALESCE(unit, '') FROM pg_settings WHERE name IN ('shared_buffers', 'max_connections', 'fsync', 'synchronous_commit', 'wal_level', 'full_page_writes', 'checkpoint_timeout', 'max_wal_size', 'work_mem') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')
    pg_bytes_now=$(psql_ -At -c 'SELECT pg_database_size(current_database())')
fi
sq_note=""
has sqlite && sq_note="; SQLite $sqlite_ver"
secs_s() { awk -v m="$1" 'BEGIN { if (m == "") print "-"; else printf "%.1f s", m / 1000 }'; }
total_min=$(awk -v a="$t_start" -v b="$(date +%s)" 'BEGIN { printf "%.1f", (b - a) / 60 }')
measure_min=$(awk -v a="$t_measure" -v b="$t_measured" 'BEGIN { printf "%.1f", (b - a) / 60 }')
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "-") print "-"; else printf "%.1f MiB", k / 1024 }'; }
pngname=$(basename "$png")

{
    echo "# grantd benchmark results"
    echo
    echo "Generated by \`bench/run.sh\` (\`make bench\`); each run overwrites this file and"
    echo "\`$pngname\`. Figures are only comparable as ratios within one run: grantd and nginx"
    echo "are measured alternately on the same machine, with the same wrk settings, the same"
    echo "requests and the same answer bytes, and the machine is shared with other work."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); whole run $total_min min, of which measuring $measure_min min"
    echo "- machine: $(nproc) CPUs ($cpu), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); databases on $disk ($fstype)"
    echo "- load average (1, 5, 15 min): $load_before before the measured runs, $load_after after"
    echo "- load: wrk $wrk_ver, \`wrk -t$wthreads -c$conns -d${secs}s --latency -s bench/auth.lua URL\` (GET) or \`-s bench/write.lua\` (body from a file, same for both servers)"
    echo "- engines: $engines. grantd: $gcommit, built \`make BUILD=build-bench CFLAGS='-O2 -DNDEBUG'\`, \`serve --threads $sthreads --rate-limits off\`, access log to a file, one process per database$sq_note"
    if has postgresql; then
        echo "- PostgreSQL $pg_ver (\`tools/pg-cluster.sh\`): a private cluster, its data directory copied per run from the cached seeded one into the run directory on $disk, next to the SQLite copies; unix socket only; settings: $pg_settings${pgopts:+ (BENCH_PG_OPTS: $pgopts)}. grantd holds one blocking libpq connection per worker thread; a read's BEGIN, change stamp and first statement go in one pipeline (lazy reads, docs/architecture.md)."
        echo "- pgbench $pg_ver on the same cluster: \`pgbench -n -M prepared -c $conns -j $wthreads -T $secs -f SCRIPT -l --sampling-rate 0.1\` (p50/p99 from the sampled per-transaction log), and the same with \`-c $sthreads\`; custom scripts on grantd's own tables (not pgbench's built-in tables), shown below"
    fi
    echo "- nginx $nginx_ver: $sthreads workers, access_log off, sendfile, open_file_cache, keepalive_requests unlimited; one server per scenario answering every request with grantd's saved answer; POST and PUT through \`error_page 405 =200 \$uri;\`"
    echo "- command: \`$cmdline\`"
    seq=""
    for t in $(order fetch 1); do
        case $t in
        big) l="grantd on SQLite ($big)" ;; small) l="grantd on SQLite ($small)" ;; pg) l="grantd on PostgreSQL ($big)" ;;
        pgbench) l="pgbench -c $conns" ;; pgbt) l="pgbench -c $sthreads" ;; *) l=$t ;;
        esac
        seq="$seq${seq:+, }$l"
    done
    thr="" cr=""
    has postgresql && thr="; then the threading comparison on PostgreSQL (below)"
    has sqlite && cr=", with the SQLite flushed-commit measurement before each round's create runs"
    echo "- $rounds rounds after a ${warm} s warm-up of each server on each scenario. Reads: odd rounds run $seq back to back per scenario (pgbench for fetch-one and create only; the small database for reads only), even rounds the reverse$thr; then writes likewise$cr. Figures are means over rounds."
    echo
    echo "![grantd vs nginx per scenario]($pngname)"
    echo
    echo "## Targets (issues 6 and 13)"
    echo
    echo "| target | verdict | measured |"
    echo "|---|---|---|"
    awk -F'|' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$targets"
    if has postgresql; then
        echo
        if has sqlite; then echo "## Both engines, $big grant requests"; else echo "## grantd on PostgreSQL, $big grant requests"; fi
        echo
        echo "Each scenario against grantd on each engine, and against nginx serving the same bytes in"
        echo "the same rounds. Ratios are means of per-round ratios to the neighbouring nginx run."
        echo "grantd CPU/request is grantd's own; on PostgreSQL the server's backends work besides"
        echo "(PostgreSQL CPU/request: the whole cluster during the run / requests)."
        echo
        echo "| scenario | nginx req/s | SQLite req/s | SQLite / nginx | PostgreSQL req/s | PostgreSQL / nginx (per round) | target / nginx (issue 6; issue 13 on PostgreSQL) | SQLite p99 | PostgreSQL p50 | PostgreSQL p99 | grantd CPU/request, SQLite | grantd CPU/request, PostgreSQL | PostgreSQL CPU/request |"
        echo "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        for sc in $all; do
            pr=$(pairs "$sc" pg nginx)
            tgt=$(target_ratio "$sc")
            [ "$sc" = list ] && tgt="$tgt; PostgreSQL 0.15"
            printf '| %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n' "$(name "$sc")" \
                "$(fmt "$(agg "$sc" nginx 4)" %.0f)" "$(fmt "$(agg "$sc" big 4)" %.0f)" "$(fmt "$(pairs "$sc" big nginx | cut -d' ' -f1)" %.3f)" \
                "$(fmt "$(agg "$sc" pg 4)" %.0f)" "${pr%% *}" "${pr#* }" "$tgt" \
                "$(fmt "$(agg "$sc" big 6)" '%.2f ms')" "$(fmt "$(agg "$sc" pg 5)" '%.2f ms')" "$(fmt "$(agg "$sc" pg 6)" '%.2f ms')" \
                "$(fmt "$(agg "$sc" big 12)" '%.1f us')" "$(fmt "$(agg "$sc" pg 12)" '%.1f us')" "$(fmt "$(agg "$sc" pg 25)" '%.1f us')"
        done
        echo
        if [ -n "$answers_differ" ]; then
            echo "grantd's answers on PostgreSQL differ from those on SQLite for:$answers_differ (nginx serves the SQLite bytes)."
        elif has sqlite; then
            echo "grantd's answers to the read scenarios are byte-identical on both engines (same seed)."
        fi
        echo
        echo "## PostgreSQL's own ceiling (pgbench, same run, same cluster)"
        echo
        echo "| measurement | grantd on PostgreSQL req/s | pgbench tps | grantd / pgbench (per round) | target (issue 13) | grantd p50 / p99 | pgbench p50 / p99 | CPU per request: grantd + PostgreSQL | PostgreSQL CPU per pgbench transaction |"
        echo "|---|---:|---:|---|---:|---:|---:|---:|---:|"
        for sc in fetch create; do
            for pb in pgbench pgbt; do
                pr=$(pairs "$sc" pg "$pb")
                case $sc in fetch) lbl="fetch-one vs select by primary key" ;; *) lbl="create vs insert of the same rows" ;; esac
                tgt=0.5
                if [ "$pb" = pgbt ]; then lbl="$lbl, pgbench -c $sthreads (grantd's connections)"; tgt="(context)"; else lbl="$lbl, pgbench -c $conns"; fi
                printf '| %s | %s | %s | %s (%s) | %s | %s / %s | %s / %s | %s + %s | %s |\n' "$lbl" \
                    "$(fmt "$(agg "$sc" pg 4)" %.0f)" "$(fmt "$(agg "$sc" "$pb" 4)" %.0f)" "${pr%% *}" "${pr#* }" "$tgt" \
                    "$(fmt "$(agg "$sc" pg 5)" '%.2f ms')" "$(fmt "$(agg "$sc" pg 6)" '%.2f ms')" \
                    "$(fmt "$(agg "$sc" "$pb" 5)" '%.2f ms')" "$(fmt "$(agg "$sc" "$pb" 6)" '%.2f ms')" \
                    "$(fmt "$(agg "$sc" pg 12)" '%.1f us')" "$(fmt "$(agg "$sc" pg 25)" '%.1f us')" "$(fmt "$(agg "$sc" "$pb" 12)" '%.1f us')"
            done
        done
        echo
        echo "pgbench runs custom scripts on grantd's own tables in the seeded database (not pgbench's"
        echo "built-in tables), with wrk's connection and thread counts (the targets' baseline) and,"
        echo "for context, with as many connections as grantd has ($sthreads: one per worker thread),"
        echo "prepared statements, next to the grantd run it is compared with in every round."
        echo "Every create, grantd's or pgbench's, adds to a row of grantd_count (the live-row count,"
        echo "kept by a trigger, one row per class and backend shard), as grantd's writers do."
        echo
        echo "Select (\`-M prepared\`, one statement"
        echo "per transaction, autocommit): fetch-one's query, the same record and columns by primary key;"
        echo "grantd runs besides, per request, BEGIN, its change stamp and (owed from the previous"
        echo "read) COMMIT, in the same pipeline and round trip as the select (lazy reads):"
        echo
        echo '```sql'
        cat "$work/pgbench-select.sql"
        echo '```'
        echo
        echo "Insert: the rows a create writes, as grantd's statements name them (taken from the server"
        echo "log with \`log_statement=all\`): the grant_request row, then its workflow_event, in one"
        echo "transaction flushed at COMMIT (\`synchronous_commit=on\`); the table's triggers (full-text"
        echo "row, live-row count) fire as they do for grantd. grantd besides checks that the"
        echo "organization and the program exist, reads \`lastval()\` inside a savepoint, wraps the"
        echo "request in a savepoint and reads the new row back for the answer:"
        echo
        echo '```sql'
        cat "$work/pgbench-insert.sql"
        echo '```'
        echo
        echo "## Threading on PostgreSQL: fetch-one with $sthreads and with $pgthreads worker threads"
        echo
        echo "grantd gives each worker thread one blocking libpq connection (a read's first statement"
        echo "goes in one pipeline with its BEGIN): a worker waits for each round trip. Two grantd"
        echo "processes on the same database, one with"
        echo "\`--threads $sthreads\` (the one measured above), one with \`--threads $pgthreads\` (started for this"
        echo "only), measured alternately on fetch-one after the read rounds; $(nproc) CPUs."
        echo
        echo "| grantd --threads | req/s | per round | p50 | p99 | grantd CPU/request | PostgreSQL CPU/request |"
        echo "|---:|---:|---|---:|---:|---:|---:|"
        for tg in pg pgx; do
            if [ "$tg" = pg ]; then th=$sthreads; else th=$pgthreads; fi
            per=$(awk -F'\t' -v t="$tg" '$1 == "thr" && $2 == t && $3 > 0 { printf "%s%.0f", (n++ ? ", " : ""), $4 }' "$tsv")
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$th" "$(fmt "$(agg thr "$tg" 4)" %.0f)" "${per:--}" \
                "$(fmt "$(agg thr "$tg" 5)" '%.2f ms')" "$(fmt "$(agg thr "$tg" 6)" '%.2f ms')" \
                "$(fmt "$(agg thr "$tg" 12)" '%.1f us')" "$(fmt "$(agg thr "$tg" 25)" '%.1f us')"
        done
        echo
        pr=$(pairs thr pgx pg)
        echo "$pgthreads threads / $sthreads threads, request rate: **${pr%% *}** (per round: ${pr#* })."
        echo
        echo "## Writes and durability on PostgreSQL"
        echo
        echo "- acknowledged creates: wrk's \`response\` callback counted $(sum create pg 13) answers 200 over the"
        echo "  measured create runs; all $(sum create pg 16) of the $(sum create pg 17) distinct acknowledged ids are in"
        echo "  grant_request (checked with psql after each run); the table grew by $(sum create pg 15) rows."
        echo "  After the last write, grantd got SIGKILL: rows $rows_live_pg before, $rows_after_kill_pg after (PostgreSQL"
        echo "  commits are durable at COMMIT: grantd has no group commit of its own on this engine)."
        echo "- create: $(fmt "$(agg create pg 4)" %.0f) req/s, p99 $(fmt "$(agg create pg 6)" '%.2f ms'); pgbench's insert of the same rows: $(fmt "$(agg create pgbench 4)" %.0f) tps, p99 $(fmt "$(agg create pgbench 6)" '%.2f ms')."
    fi
    echo
    if has sqlite; then
        echo "## Scenarios on SQLite, $big grant requests"
        echo
        echo "| scenario | grantd req/s | nginx req/s | ratio (per-round, lowest to highest) | target | grantd p50 | grantd p99 | nginx p99 | grantd CPU/request | nginx CPU/request | answer bytes |"
        echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        for sc in $all; do
            pr=$(pairs "$sc" big nginx)
            eval "by=\$bytes_${sc}_big"
            lb=$(agg "$sc" big 18)
            [ "$sc" = update ] && by="$by (grantd mean $(fmt "$lb" %.0f))"
            printf '| %s | %.0f | %.0f | %s (%s) | %s | %.2f ms | %.2f ms | %.2f ms | %.1f us | %.1f us | %s |\n' \
                "$(name "$sc")" "$(agg "$sc" big 4)" "$(agg "$sc" nginx 4)" "${pr%% *}" "${pr#* }" \
                "$(target_ratio "$sc")" "$(agg "$sc" big 5)" "$(agg "$sc" big 6)" "$(agg "$sc" nginx 6)" \
                "$(agg "$sc" big 12)" "$(agg "$sc" nginx 12)" "$by"
        done
        echo
        echo "The ratio is the mean of per-round ratios, each grantd run divided by the nginx run"
        echo "next to it (the machine's background load drifts, and neighbouring runs share it)."
        echo "CPU/request is the server's user + system time over the run (from /proc; grantd all"
        echo "threads, nginx master and workers) divided by the requests wrk completed: less"
        echo "sensitive than req/s to other work on the machine and to wrk sharing the CPUs."
        echo
    fi
    echo "Requests:"
    echo
    for sc in $all; do
        eval "u=\$uri_${sc}_$ref ulo=\$ulo_$ref uhi=\$uhi_$ref"
        m=$(method "$sc")
        case $sc in
        update) echo "- $(name "$sc"): \`$m $u/{id}\` with ids $ulo..$uhi in turn (each wrk thread from its own offset), body \`$(cat "$www/$sc-$ref.body")\`" ;;
        token) echo "- $(name "$sc"): \`$m $u\`, body \`grant_type=client_credentials&client_id=…&client_secret=…\`" ;;
        filter | create) echo "- $(name "$sc"): \`$m $u\`, body \`$(cat "$www/$sc-$ref.body")\`" ;;
        *) echo "- $(name "$sc"): \`$m $u\`" ;;
        esac
    done
    echo
    eval "fl=\$filter_$ref"
    rs=""
    has sqlite && rs=" (at $small: range \`$range_small\`)"
    echo "Decoded: cols \`$cols\`; filter \`$fl\`$rs;"
    echo "relation \`$relation\`; query \`$query\`; create data \`$create_data\`; update data \`$update_data\`."
    echo "GET requests carry \`Authorization: Bearer …\` and \`Accept: application/json\`; the others also"
    echo "\`Content-Type: application/x-www-form-urlencoded\`; token issue has no bearer."
    echo
    if has sqlite; then
        echo "## Growth from $small to $big grant requests (read scenarios)"
        echo
        echo "Both databases were served at once by two grantd processes and measured in the same"
        echo "rounds, next to each other. Each factor is the mean over rounds of the ratio of the two"
        echo "neighbouring runs (1.00 = no growth): CPU per request (grantd's user + system time over"
        echo "the run / requests; the verdict above uses it, as the figure least moved by other work"
        echo "on the shared machine), the mean time grantd's access log reports per request (inside"
        echo "grantd, without queueing), and the request rate (rate at $small / rate at $big)."
        echo
        echo "| scenario | matches | CPU/request at $small | at $big | factor | server time at $small | at $big | factor | req/s at $small | at $big | factor |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for sc in $reads; do
            case $sc in
            fetch) mt="1 record" ;; list | relation) mt="all (25 on the page)" ;;
            *) eval "mt=\"\$total_${sc}_small / \$total_${sc}_big (25 on the page)\"" ;;
            esac
            printf '| %s | %s | %s us | %s us | %s | %s us | %s us | %s | %.0f | %.0f | %s |\n' "$(name "$sc")" "$mt" \
                "$(fmt "$(agg "$sc" small 12)" %.1f)" "$(fmt "$(agg "$sc" big 12)" %.1f)" "$(growth_cpu "$sc")" \
                "$(fmt "$(agg "$sc" small 11)" %.0f)" "$(fmt "$(agg "$sc" big 11)" %.0f)" "$(growth_srv "$sc")" \
                "$(agg "$sc" small 4)" "$(agg "$sc" big 4)" "$(growth "$sc")"
        done
        echo
        echo "How the filter and the full-text query match about 1,000 records at both sizes: the"
        echo "seed's own values grow with the table (an organization has ~4 grant requests at any"
        echo "size, a summary word is in a fixed share of them), so the cached database gets two"
        echo "deterministic markers after seeding (\`bench/markers.sql\`, plain SQL; the schema's"
        echo "triggers keep the full-text index and the live-row count in step): 1,000 \`granted\`"
        echo "requests of the newer half, evenly spaced by id, move to the first organization"
        echo "(id $org_m), and 1,000 requests evenly spaced over the whole table end their summary with"
        echo "\"Kestrel cohort.\". The filter asks for \`state\` = granted (indexed), \`program_organization_id\`"
        echo "= that organization (indexed) and \`updated_at\` (indexed) within the dates those requests"
        echo "span, computed from the database (\`$range_big\` at $big, \`$range_small\` at $small);"
        echo "the index \`(program_organization_id, state, deleted_at)\` serves it. The full-text query is"
        echo "\`$query\` (two words, the last as a prefix)."
        echo
        echo "## Writes and durability"
        echo
        echo "- flushed single-row commits on this machine: **$cr_mean/s** (mean; per round: $cr_list)."
        echo "  \`bench/commitrate.c\`: one writer, SQLite WAL, \`synchronous=FULL\`, one INSERT per"
        echo "  transaction for ${secs} s, on the same file system as grantd's database, right before"
        echo "  each round's create runs."
        echo "- create: $(fmt "$(agg create big 4)" %.0f) req/s = **${create_x}x** the flushed-commit rate of the same round (target 2x)."
        echo "- the database work of a create alone (\`bench/createfloor.c\`: the statements of a batched"
        echo "  create, savepoint per create, deferred full text and COMMIT per transaction, no server,"
        echo "  no fsync; on a copy of the $small database), CPU per create: $floor."
        echo "- the same create committed alone, every COMMIT flushed (\`createfloor DB 5 1 flush\`: no"
        echo "  server, no group commit): $(fmt "$alone_rate" %.0f)/s; grantd's creates/s are"
        echo "  $(awk -v a="$(agg create big 4)" -v b="$alone_rate" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "?" }')x that. This is context, not the target: the target's"
        echo "  baseline is the one-row commit above, whatever the size of grantd's create."
        echo "- acknowledged creates: wrk's \`response\` callback (\`bench/write.lua\`) counted $(sum create big 13) answers 200"
        echo "  over the measured create runs and kept the id of each; all $(sum create big 16) of the $(sum create big 17) distinct ids are"
        echo "  in the database (checked with sqlite3 after each run), and the table grew by $(sum create big 15) rows"
        echo "  (more rows than answers: requests still in flight when wrk stopped were committed but"
        echo "  not counted). After the last write, grantd got SIGKILL: live rows $rows_live_big before,"
        echo "  $rows_after_kill_big after reopening the database."
        echo
        echo "What grantd did per write request (sums over the measured runs; system calls counted with"
        echo "\`perf stat -e syscalls:sys_enter_*\` on grantd during each run; storage writes from"
        echo "\`write_bytes\` in /proc/PID/io, WAL appends and checkpoints together):"
        echo
        echo "| scenario | req/s | CPU/request | storage writes/request | pwrite64/request | requests per fdatasync | busy-handler sleeps/request |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        for sc in $writes; do
            awk -F'\t' -v s="$sc" -v nm="$(name "$sc")" '$1 == s && $2 == "big" && $3 > 0 { n += $19; rps += $4; cpu += $12; k++
                    if ($21 != "-") { wb += $21 * $19; nw += $19 }
                    if ($22 != "-") { fs += $22; pw += $23; sl += $24; np += $19 } }
                END { if (!k) exit
                      printf "| %s | %.0f | %.1f us | %s | %s | %s | %s |\n", nm, rps / k, cpu / k,
                          nw ? sprintf("%.1f KiB", wb / nw / 1024) : "-",
                          np ? sprintf("%.1f", pw / np) : "-",
                          (np && fs) ? sprintf("%.2f", np / fs) : "-",
                          np ? sprintf("%.3f", sl / np) : "-" }' "$tsv"
        done
        echo
    fi
    echo "## Memory, start-up, seeding"
    echo
    row() { # label sqlite-large sqlite-small postgresql: a table row of the engines measured
        r="| $1 |"
        has sqlite && r="$r $2 | $3 |"
        has postgresql && r="$r $4 |"
        echo "$r"
    }
    row "" "SQLite, $big grant requests" "SQLite, $small grant requests" "PostgreSQL, $big grant requests"
    row "---" "---:" "---:" "---:" | tr -d ' '
    row "peak RSS of grantd (VmHWM), after the read runs" "$(mib "${hwm_reads_big:-}")" "$(mib "${hwm_reads_small:-}")" "$(mib "${hwm_reads_pg:-}")"
    row "peak RSS of grantd (VmHWM), after the write runs too" "$(mib "${hwm_big:-}") (VmRSS then $(mib "${rss_big:-}"))" - \
        "$(mib "${hwm_pg:-}") (VmRSS then $(mib "${rss_pg:-}")); with $pgthreads threads (fetch-one only): $(mib "${hwm_pgx:-}")"
    row "start-up, \`serve\` until \"listening on\" (polled every 5 ms)" "${startup_big:-} ms (file in the page cache)" "${startup_small:-} ms" \
        "${startup_pg:-} ms (server running); $pgthreads threads: ${startup_pgx:-} ms"
    row "\`grantd seed\` (one transaction; cached)" "$(secs_s "${seed_big_ms:-}"), seeded ${seeded_big_at:-} by ${seeded_big_by:-}" "$(secs_s "${seed_small_ms:-}")" \
        "**$(secs_s "${seed_pg_ms:-}")**, seeded ${seeded_pg_at:-} by ${seeded_pg_by:-}"
    row "markers and \`grantd optimize\` after seeding" "$(secs_s "${markers_big_ms:-}")" - "$(secs_s "${markers_pg_ms:-}")"
    row "database size" "$(awk -v b="${bytes_big_db:-0}" 'BEGIN { printf "%.0f MiB", b / 1048576 }') (file)" \
        "$(awk -v b="${bytes_small_db:-0}" 'BEGIN { printf "%.0f MiB", b / 1048576 }')" \
        "$(awk -v b="${bytes_pg_db:-0}" -v n="${pg_bytes_now:-0}" 'BEGIN { printf "%.0f MiB (pg_database_size after seeding; %.0f MiB after the run)", b / 1048576, n / 1048576 }')"
    echo
    echo "Rows the seeder wrote (\`grantd seed --grants N\` as of the commit above, before the"
    echo "markers): organizations (N/4 + 3) with one or two contacts each (user, user_organization),"
    echo "6 programs with 3 sub-programs and 3 initiatives each, funds, funding sources, geography;"
    echo "one workflow_event per grant request, organization and user; **only the granted and closed requests** (about"
    echo "73% of them, not every one as issue 6 words it) get 2 payments (request_transaction) and"
    echo "1 report; notes on every 25th request and every 40th organization."
    echo
    row table "rows at $big (SQLite)" "rows at $small (SQLite)" "rows at $big (PostgreSQL)"
    row "---" "---:" "---:" "---:" | tr -d ' '
    for t in $tables; do
        row "$t" "$(awk -v t="$t" '$1 == t { print $2 }' "${cache_big:-/dev/null}/counts" 2>/dev/null)" \
            "$(awk -v t="$t" '$1 == t { print $2 }' "${cache_small:-/dev/null}/counts" 2>/dev/null)" \
            "$(awk -v t="$t" '$1 == t { print $2 }' "${cache_pg:-/dev/null}/counts" 2>/dev/null)"
    done
    if [ -f bench/analysis.md ]; then
        echo
        cat bench/analysis.md
    fi
    echo
    echo "## Every run"
    echo
    echo "pgbench rows: req/s is tps, non-2xx the failed transactions, CPU/request PostgreSQL's."
    echo
    echo "| scenario | server | round | req/s | p50 | p99 | CPU/request | PostgreSQL CPU/request | non-2xx (wrk) | socket errors | answers 200 (Lua) | grantd log: requests / non-200 / mean server time | VmHWM |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|"
    awk -F'\t' -v B="$big" -v S="$small" -v T="$sthreads" -v X="$pgthreads" -v C="$conns" 'BEGIN { split("fetch fetch-one list list-25 fulltext full-text thr fetch-one", m, " "); for (i = 1; i < 8; i += 2) nm[m[i]] = m[i + 1] }
        { lg = ($2 != "nginx" && $2 !~ /^pgb/) ? sprintf("%s / %s / %s us", $9, $10, $11) : "-"
        sv = ($2 == "pgbench") ? "pgbench -c " C : ($2 == "pgbt") ? "pgbench -c " T : ($2 == "big") ? "grantd SQLite " B : ($2 == "small") ? "grantd SQLite " S : ($2 == "pg") ? "grantd PostgreSQL " B " (" T " threads)" : ($2 == "pgx") ? "grantd PostgreSQL " B " (" X " threads)" : $2
        if ($1 in nm) $1 = nm[$1]
        printf "| %s | %s | %s | %.0f | %.2f ms | %.2f ms | %s us | %s | %s | %s | %s | %s | %s |\n", $1, sv, $3, $4, $5, $6, $12, ($25 == "-" || $25 == "" ? "-" : $25 " us"), $7, $8, $13, lg, ($20 == "-" || $20 == "" ? "-" : sprintf("%.1f MiB", $20 / 1024)) }' "$tsv"
    if [ -n "$profiled" ]; then
        echo
        echo "## Profiles of grantd"
        echo
        echo "\`perf record -F 499 --call-graph dwarf -p <grantd>\` for ${perf_secs} s per scenario on the"
        echo "$big database, during a separate unmeasured wrk run (perf slows grantd, so these runs"
        echo "are not in the tables), for each scenario that missed a target."
        for sc in $profiled; do
            [ -s "$work/perf-$sc-dso.txt" ] || continue
            echo
            echo "### $(name "$sc")"
            echo
            echo "Self time by shared object:"
            echo
            echo '```'
            sed 's/[[:space:]]*$//' "$work/perf-$sc-dso.txt"
            echo '```'
            echo
            echo "grantd functions, inclusive (children) and self time:"
            echo
            echo '```'
            sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//' "$work/perf-$sc-grantd.txt"
            echo '```'
            echo
            echo "Hottest symbols, self time:"
            echo
            echo '```'
            sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//' "$work/perf-$sc-self.txt"
            echo '```'
        done
    fi
    echo
    echo "## Notes"
    echo
    echo "- wrk, grantd and nginx share the same $(nproc) CPUs, so the load generator competes with"
    echo "  the server under test; the ratio, not the absolute rate, is the figure to track."
    echo "- grantd writes one access-log line per request (to a file here); nginx logs nothing."
    echo "- Both servers get byte-identical requests (same URL, query string, headers and body);"
    echo "  nginx ignores all but the path. The update answers differ in length from record to"
    echo "  record (the summary); nginx serves the first one's bytes."
    echo "- The write scenarios run after all read rounds (and after the read profiles), on the"
    echo "  $big databases only; before them, the only writes are the captured answers (one create,"
    echo "  one update, one token per engine) and the unmeasured warm-up runs of the write scenarios"
    echo "  (and of pgbench's insert, on PostgreSQL). Creates go to another organization than the filter's."
    if has postgresql; then
        echo "- On PostgreSQL, wrk, grantd, the PostgreSQL server and pgbench all share the same CPUs:"
        echo "  pgbench's figures are the ceiling of PostgreSQL on this machine with the load generator"
        echo "  beside it, as grantd's are. grantd's CPU/request on PostgreSQL is its own; the work of the"
        echo "  server's backends is the separate PostgreSQL CPU/request (all of the cluster's processes"
        echo "  during the run, from /proc)."
    fi
} >"$out"

say "wrote $out and $png"
cat "$out"
