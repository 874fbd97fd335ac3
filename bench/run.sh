#!/bin/sh
# grantd benchmark: fetch-one and list-25 against a seeded database, compared with nginx
# serving the very same response bytes at the very same URLs, in the same run.
# Writes bench/results.md. Measures; asserts nothing (tests live in tests/).
#
#   sh bench/run.sh                       (or: make bench)
#
# Environment (defaults in brackets):
#   BENCH_GRANTS [10000]   grant requests seeded
#   BENCH_SECONDS [10]     seconds per measured wrk run
#   BENCH_ROUNDS [3]       rounds; each round runs both servers back to back, per scenario
#                          (grantd first in odd rounds, nginx first in even rounds)
#   BENCH_THREADS [2]      wrk threads        BENCH_CONNS [64]  wrk connections
#   BENCH_SERVER_THREADS [2]   grantd --threads and nginx worker_processes
#   BENCH_PERF [0]         1: afterwards, profile grantd under each scenario with perf
#   BENCH_KEEP [0]         1: keep the temporary directory (database, bodies, logs)
#   BENCH_OUT [bench/results.md]
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
grants=${BENCH_GRANTS:-10000}
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
wthreads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
sthreads=${BENCH_SERVER_THREADS:-2}
perf_on=${BENCH_PERF:-0}
out=${BENCH_OUT:-$repo/bench/results.md}
bin=$repo/build-bench/grantd

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- tools and binary
need=""
command -v wrk >/dev/null 2>&1 || need="$need wrk"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
# shellcheck disable=SC2086 # one argument per package
[ -z "$need" ] || sh "$repo/tools/deps.sh" $need || die "cannot install:$need"
nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
command -v curl >/dev/null 2>&1 || die "curl is required"

say "building optimised binary in build-bench/"
make -C "$repo" --no-print-directory BUILD=build-bench CFLAGS='-O2 -DNDEBUG' >&2 \
    || die "build failed"

# ---------------------------------------------------------------- temp dir, cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/grantd-bench.XXXXXX")
chmod 755 "$tmp" # nginx workers may run as another user and must read the bodies
gpid=""
npid=""
cleanup() {
    set +e
    [ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
    [ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- seeded database
db=$tmp/bench.db
say "seeding $grants grant requests in $db"
"$bin" init --db "$db" >/dev/null
"$bin" seed --db "$db" --grants "$grants" >/dev/null 2>&1 || die "seed failed"
echo bench-password | "$bin" user add bench --role admin --password-stdin --db "$db" >/dev/null
creds=$("$bin" client add bench --owner bench --db "$db")
client_id=$(echo "$creds" | sed -n 's/^client_id=//p')
client_secret=$(echo "$creds" | sed -n 's/^client_secret=//p')
{ [ -n "$client_id" ] && [ -n "$client_secret" ]; } || die "client add printed no credentials"

# ---------------------------------------------------------------- grantd
glog=$tmp/grantd.log
# Appending, so the access log can be truncated between runs without a sparse file.
"$bin" serve --db "$db" --listen 127.0.0.1:0 --threads "$sthreads" --rate-limits off 2>>"$glog" &
gpid=$!
gport=""
i=0
while [ $i -lt 100 ]; do
    gport=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$glog" | head -n 1)
    [ -n "$gport" ] && break
    kill -0 "$gpid" 2>/dev/null || { cat "$glog" >&2; die "grantd serve exited"; }
    sleep 0.1
    i=$((i + 1))
done
[ -n "$gport" ] || die "grantd did not print its port"
gbase=http://127.0.0.1:$gport
say "grantd on $gbase (pid $gpid)"

tokjson=$(curl -s -d grant_type=client_credentials -d "client_id=$client_id" \
    -d "client_secret=$client_secret" "$gbase/oauth/token")
token=$(echo "$tokjson" | sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p')
[ ${#token} -eq 64 ] || die "no token: $tokjson"
export BENCH_TOKEN="$token"
auth="Authorization: Bearer $token"

# Ten real columns of grant_request that the seed fills in (strings, decimals, dates,
# an integer, a boolean, a foreign key).
cols='["base_request_id","state","granted","project_summary","amount_requested","amount_recommended","request_received_at","grant_begins_at","duration_in_months","program_organization_id"]'
cols_q=$(printf '%s' "$cols" | sed 's/\[/%5B/g; s/\]/%5D/g; s/"/%22/g; s/,/%2C/g')

# An id from the middle of the table, picked by a list call.
first=$(curl -s -H "$auth" "$gbase/api/rest/v2/grant_request?per_page=1")
total=$(echo "$first" | sed -n 's/.*"total_entries":\([0-9]*\).*/\1/p')
{ [ -n "$total" ] && [ "$total" -gt 0 ]; } || die "list call failed: $(echo "$first" | cut -c1-300)"
mid=$(curl -s -H "$auth" "$gbase/api/rest/v2/grant_request?per_page=1&page=$(((total + 1) / 2))")
gid=$(echo "$mid" | sed -n 's/.*"grant_request":\[{"id":\([0-9]*\).*/\1/p')
[ -n "$gid" ] || die "no grant_request id in: $(echo "$mid" | cut -c1-300)"

fetch_path=/api/rest/v2/grant_request/$gid
list_path=/api/rest/v2/grant_request
fetch_uri="$fetch_path?cols=$cols_q"
list_uri="$list_path?cols=$cols_q&per_page=25"

# Save grantd's exact answer; refuse to measure anything but a 200 JSON answer with
# every requested column known.
capture() { # name uri
    code=$(curl -s -o "$tmp/$1.json" -D "$tmp/$1.headers" -w '%{http_code}' -H "$auth" "$gbase$2")
    [ "$code" = 200 ] || die "$1: HTTP $code: $(cut -c1-300 "$tmp/$1.json")"
    grep -qi '^content-type: application/json' "$tmp/$1.headers" || die "$1: not JSON"
    ! grep -qi '^x-ignored-fields:' "$tmp/$1.headers" ||
        die "$1: grantd ignored columns: $(grep -i '^x-ignored-fields:' "$tmp/$1.headers")"
    chmod 644 "$tmp/$1.json"
}
capture fetch "$fetch_uri"
capture list "$list_uri"
grep -q "^{\"grant_request\":{\"id\":$gid," "$tmp/fetch.json" || die "fetch: unexpected body"
nrec=$(grep -o '{"id":' "$tmp/list.json" | wc -l | tr -d ' ')
[ "$nrec" = 25 ] || die "list: $nrec records, expected 25"
fetch_bytes=$(wc -c <"$tmp/fetch.json" | tr -d ' ')
list_bytes=$(wc -c <"$tmp/list.json" | tr -d ' ')
fetch_keys=$(grep -o '"[a-z_]*":' "$tmp/fetch.json" | wc -l | tr -d ' ')
say "fetch-one id=$gid: $fetch_bytes bytes, $((fetch_keys - 2)) members besides id; list-25: $list_bytes bytes"

# ---------------------------------------------------------------- nginx, same bytes
pick_port() {
    awk -v s="$$" 'BEGIN { srand(); srand(int(rand() * 100000) + s); print 20000 + int(rand() * 40000) }'
}
nport=""
tries=0
while [ -z "$nport" ] && [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    port=$(pick_port)
    [ "$port" = "$gport" ] && continue
    cat >"$tmp/nginx.conf" <<EOF
worker_processes $sthreads;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 100000000;
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 3600s;
    client_body_temp_path $tmp/nginx-body;
    types { }
    default_type "application/json; charset=utf-8";
    server {
        listen 127.0.0.1:$port;
        location = $fetch_path { alias $tmp/fetch.json; }
        location = $list_path { alias $tmp/list.json; }
        location / { return 404; }
    }
}
EOF
    "$nginx_bin" -e "$tmp/nginx-error.log" -p "$tmp" -c "$tmp/nginx.conf" &
    npid=$!
    i=0
    while [ $i -lt 50 ]; do
        if ! kill -0 "$npid" 2>/dev/null; then npid=""; break; fi
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then nport=$port; break; fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$nport" ] && [ -n "$npid" ]; then kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null || true; npid=""; fi
done
[ -n "$nport" ] || { cat "$tmp/nginx-error.log" >&2 2>/dev/null; die "nginx did not start"; }
nbase=http://127.0.0.1:$nport
say "nginx on $nbase (pid $npid)"

for s in fetch list; do
    [ $s = fetch ] && u=$fetch_uri || u=$list_uri
    curl -s -o "$tmp/$s.nginx" -H "$auth" "$nbase$u"
    cmp -s "$tmp/$s.json" "$tmp/$s.nginx" || die "nginx does not serve grantd's $s bytes"
done

# ---------------------------------------------------------------- wrk runs
to_ms() { # wrk latency (e.g. 512.00us, 1.23ms, 1.01s) -> milliseconds
    echo "$1" | awk '{ v = $1 + 0
        if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v += 0
        else if ($1 ~ /m$/) v *= 60000; else if ($1 ~ /s$/) v *= 1000
        printf "%.3f", v }'
}

tsv=$tmp/results.tsv
: >"$tsv"
wrk_cmd="wrk -t$wthreads -c$conns -d${secs}s --latency -s bench/auth.lua"

# CPU time (clock ticks, user + system) used so far by a server: grantd is one process
# (its stat sums all threads); nginx is the master plus its worker children.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { # target
    if [ "$1" = grantd ]; then
        awk '{ print $14 + $15 }' "/proc/$gpid/stat"
    else
        cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$npid" '$1 == p || $4 == p { s += $14 + $15 } END { print s + 0 }'
    fi
}

run() { # scenario target round seconds(record if round>0)
    sc=$1 tg=$2 rd=$3 d=$4
    [ "$tg" = grantd ] && base=$gbase || base=$nbase
    [ "$sc" = fetch-one ] && u=$fetch_uri || u=$list_uri
    f=$tmp/wrk-$sc-$tg-$rd.txt
    [ "$tg" = grantd ] && : >"$glog"
    c0=$(cpu_ticks "$tg")
    wrk -t"$wthreads" -c"$conns" -d"${d}s" --latency -s "$repo/bench/auth.lua" "$base$u" >"$f" 2>&1 ||
        { cat "$f" >&2; die "wrk failed"; }
    c1=$(cpu_ticks "$tg")
    [ "$rd" -gt 0 ] || return 0
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    sockerr=$(awk -F'Socket errors: ' 'NF > 1 { print $2 }' "$f" | tr ' ' '_')
    nreq=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$f")
    cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="${nreq:-0}" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print 0 }')
    logged="-" bad="-" srv_us="-"
    if [ "$tg" = grantd ]; then
        logged=$(grep -c '^GET ' "$glog" || true)
        bad=$(awk '$1 == "GET" && $3 != 200' "$glog" | wc -l | tr -d ' ')
        srv_us=$(awk '$1 == "GET" { t = $5; sub(/us$/, "", t); s += t; n++ } END { if (n) printf "%.0f", s / n; else print "-" }' "$glog")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$tg" "$rd" "${rps:-0}" "$p50" "$p99" \
        "${non2xx:-0}" "${sockerr:-none}" "$logged" "$bad" "$srv_us" "$cpu_us" >>"$tsv"
    say "$sc $tg round $rd: ${rps:-?} req/s, p50 ${p50} ms, p99 ${p99} ms, non-2xx ${non2xx:-0}, server CPU ${cpu_us} us/request"
}

load_before=$(cut -d" " -f1-3 /proc/loadavg)
say "warming up"
for sc in fetch-one list-25; do
    run $sc grantd 0 2
    run $sc nginx 0 2
done
r=1
while [ $r -le "$rounds" ]; do
    for sc in fetch-one list-25; do
        if [ $((r % 2)) = 1 ]; then
            run $sc grantd $r "$secs"
            run $sc nginx $r "$secs"
        else
            run $sc nginx $r "$secs"
            run $sc grantd $r "$secs"
        fi
    done
    r=$((r + 1))
done

load_after=$(cut -d" " -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- optional profile
# A separate, unmeasured run per scenario: perf with DWARF call graphs (the bench build
# has no frame pointers), reported as self time by shared object and as inclusive time
# of grantd's own functions.
perf_txt=""
perf_secs=$((secs < 5 ? secs : 5))
profile() { # scenario uri
    : >"$glog"
    wrk -t"$wthreads" -c"$conns" -d"$((perf_secs + 2))s" -s "$repo/bench/auth.lua" "$gbase$2" \
        >"$tmp/perf-$1.wrk" 2>&1 &
    wpid=$!
    sleep 1
    if perf record -q --call-graph dwarf,8192 -F 299 -p "$gpid" -o "$tmp/perf-$1.data" \
        -- sleep "$perf_secs" >/dev/null 2>&1; then
        perf report -i "$tmp/perf-$1.data" --no-children --stdio --sort dso -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -n 10 >"$tmp/perf-$1-dso.txt" || true
        perf report -i "$tmp/perf-$1.data" --children --stdio --sort dso,symbol -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | awk '$3 == "grantd"' | head -n 25 >"$tmp/perf-$1-grantd.txt" || true
        perf report -i "$tmp/perf-$1.data" --no-children --stdio --sort dso,symbol -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | head -n 20 >"$tmp/perf-$1-self.txt" || true
        perf_txt=yes
    else
        say "perf record failed (perf_event_paranoid?); no profile"
    fi
    wait "$wpid" 2>/dev/null || true
}
if [ "$perf_on" = 1 ]; then
    if command -v perf >/dev/null 2>&1; then
        say "profiling grantd (perf record, ${perf_secs}s per scenario)"
        profile fetch-one "$fetch_uri"
        profile list-25 "$list_uri"
    else
        say "perf not installed; no profile"
    fi
fi

# ---------------------------------------------------------------- results.md
agg() { # scenario target column -> mean over rounds
    awk -F'\t' -v s="$1" -v t="$2" -v c="$3" '$1 == s && $2 == t { x += $c; n++ } END { if (n) printf "%.3f", x / n }' "$tsv"
}
ratios() { # scenario -> "mean r1 r2 ..." of per-round grantd/nginx rate ratios, sorted
    awk -F'\t' -v s="$1" '$1 == s && $2 == "grantd" { g[$3] = $4 } $1 == s && $2 == "nginx" { n[$3] = $4 }
        END { k = 0
              for (r in g) if (n[r] > 0) { k++; v[k] = g[r] / n[r]; sum += v[k] }
              for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
              if (!k) { print "-"; exit }
              printf "%.2f", sum / k; for (i = 1; i <= k; i++) printf " %.2f", v[i]; print "" }' "$tsv"
}
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain -- src 2>/dev/null | head -n 1)
[ -n "$dirty" ] && commit="$commit + uncommitted changes in src/"
nginx_ver=$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')
wrk_ver=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }' | sed 's/^debian\///')
cmdline="BENCH_GRANTS=$grants BENCH_SECONDS=$secs BENCH_ROUNDS=$rounds"
[ "$perf_on" = 1 ] && cmdline="$cmdline BENCH_PERF=1"
cmdline="$cmdline sh bench/run.sh"

{
    echo "# grantd benchmark results"
    echo
    echo "Generated by \`bench/run.sh\`; each run overwrites this file. Figures are only"
    echo "comparable as ratios within one run (grantd and nginx measured alternately on the"
    echo "same machine, with the same wrk settings, requests and response bytes)."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs ($cpu), Linux $(uname -r)"
    echo "- load: wrk $wrk_ver; \`$wrk_cmd URL\`"
    echo "- load average (1, 5, 15 min): $load_before before the measured runs, $load_after after"
    echo "- grantd: $commit, built \`make BUILD=build-bench CFLAGS='-O2 -DNDEBUG'\`," \
        "\`serve --threads $sthreads --rate-limits off\`, access log to a file"
    echo "- nginx $nginx_ver: $sthreads workers, access_log off, sendfile, open_file_cache," \
        "keepalive_requests unlimited, serving the saved bodies at the same URLs"
    echo "- database: \`grantd seed --grants $grants\` (total_entries $total)"
    echo "- command: \`$cmdline\`"
    echo "- $rounds rounds, each running both servers back to back per scenario (grantd first in odd rounds, nginx first in even);" \
        "2 s warm-up of each first; figures are means over rounds"
    echo "- fetch-one: \`GET $fetch_uri\` ($fetch_bytes bytes)"
    echo "- list-25: \`GET $list_uri\` ($list_bytes bytes)"
    echo "- cols: \`$cols\`"
    echo
    echo "| scenario | grantd req/s | nginx req/s | ratio | grantd p50 | grantd p99 |"
    echo "|---|---:|---:|---:|---:|---:|"
    for sc in fetch-one list-25; do
        printf '| %s | %.0f | %.0f | %s | %.2f ms | %.2f ms |\n' "$sc" "$(agg $sc grantd 4)" \
            "$(agg $sc nginx 4)" "$(ratios $sc | cut -d' ' -f1)" "$(agg $sc grantd 5)" "$(agg $sc grantd 6)"
    done
    echo
    echo "req/s and latencies are means over the rounds. The ratio is the mean of the per-round"
    echo "ratios, each grantd run divided by the nginx run next to it (the machine's background"
    echo "load drifts, and neighbouring runs share it). Per-round ratios, lowest to highest:"
    for sc in fetch-one list-25; do
        echo "$sc $(ratios $sc | cut -d' ' -f2-)."
    done
    echo
    echo "Server CPU time per request (user + system, from /proc, over each measured run; grantd"
    echo "all threads, nginx master and workers). It is less sensitive than req/s to other work on"
    echo "the machine and to wrk sharing the CPUs, so its ratio is a second view of the same question:"
    echo
    echo "| scenario | grantd CPU/request | nginx CPU/request | nginx/grantd |"
    echo "|---|---:|---:|---:|"
    for sc in fetch-one list-25; do
        gc=$(agg $sc grantd 12)
        nc=$(agg $sc nginx 12)
        printf '| %s | %.1f us | %.1f us | %s |\n' "$sc" "$gc" "$nc" \
            "$(awk -v g="$gc" -v n="$nc" 'BEGIN { if (g > 0) printf "%.2f", n / g; else print "-" }')"
    done
    echo
    fr=$(ratios fetch-one | cut -d' ' -f1)
    if awk -v r="$fr" 'BEGIN { exit !(r >= 0.4) }'; then
        echo "Target (fetch-one at least 0.4 of nginx's rate in the same run): **met** ($fr)."
    else
        echo "Target (fetch-one at least 0.4 of nginx's rate in the same run): **not met** ($fr)."
    fi
    echo
    echo "## Every run"
    echo
    echo "| scenario | server | round | req/s | p50 | p99 | server CPU per request | non-2xx (wrk) | socket errors | grantd log: requests / non-200 / mean server time |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---|---|"
    awk -F'\t' '{ lg = ($2 == "grantd") ? sprintf("%s / %s / %s us", $9, $10, $11) : "-"
        printf "| %s | %s | %s | %.0f | %.2f ms | %.2f ms | %s us | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $12, $7, $8, lg }' "$tsv"
    echo
    echo "## Notes"
    echo
    echo "- wrk, grantd and nginx share the same $(nproc) CPUs, so the load generator competes with"
    echo "  the server under test; the ratio, not the absolute rate, is the figure to track."
    echo "- grantd answers with \`Transfer-Encoding: chunked\`, and writes one access-log line per"
    echo "  request (to a file here); nginx sends \`Content-Length\` and logs nothing."
    echo "- Both servers get byte-identical requests (same URL, query string and bearer header via"
    echo "  \`bench/auth.lua\`); nginx ignores the query string and the header."
    echo "- \"mean server time\" is the mean of the microseconds grantd's access log reports for the"
    echo "  measured GETs (time inside grantd, not counting queueing in the kernel or in wrk)."
    if [ -n "$perf_txt" ]; then
        echo
        echo "## Profile of grantd"
        echo
        echo "\`perf record --call-graph dwarf -F 299 -p <grantd>\` for ${perf_secs} s per scenario, during a"
        echo "separate unmeasured wrk run (perf slows grantd, so these runs are not in the table)."
        for sc in fetch-one list-25; do
            [ -s "$tmp/perf-$sc-dso.txt" ] || continue
            echo
            echo "### $sc"
            echo
            echo "Self time by shared object:"
            echo
            echo '```'
            sed 's/[[:space:]]*$//' "$tmp/perf-$sc-dso.txt"
            echo '```'
            echo
            echo "grantd functions, inclusive (children) and self time:"
            echo
            echo '```'
            sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//' "$tmp/perf-$sc-grantd.txt"
            echo '```'
            echo
            echo "Hottest symbols, self time:"
            echo
            echo '```'
            sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//; s/[[:space:]]*$//' "$tmp/perf-$sc-self.txt"
            echo '```'
        done
    fi
} >"$out"

say "wrote $out"
cat "$out"
