#!/bin/sh
# Builds and runs grantd's libFuzzer targets, without make: the library sources are
# compiled with clang, ASan and UBSan into $FUZZ_BUILD (default build-fuzz; only changed
# files are rebuilt), then each target runs for $FUZZ_SECONDS (default 30) with leak
# detection on, on a corpus seeded from the tree:
#   fuzz_filter  the filter parser and compiler   tests/fuzz/corpus/ + tests/api/cases/filters.json
#   fuzz_params  query string, urlencoded, multipart and JSON bodies, Rails keys, getters
#                                                 tests/fuzz/corpus_params/
#   fuzz_http    the request pipeline end to end (routes, cols, relation, sort, group,
#                aggregation, OAuth bodies, method override) on an in-process server
#                                                 tests/fuzz/corpus_http/
# FUZZ_TARGETS="params http" runs some of them; FUZZ_JOBS=N runs N processes per target.
# Prints one summary line per target. Exit status: 0 when no input crashed or tripped an
# assertion, else 1, naming each crashing input ($FUZZ_BUILD/<target>-crash-*); see
# docs/fuzzing.md for reproducing a crash and for long runs.
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${FUZZ_BUILD:-build-fuzz}
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
SECONDS_TO_RUN=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_JOBS:-1}
CC=${FUZZ_CC:-clang}
TARGETS=${FUZZ_TARGETS:-filter params http}
PKGS="libh2o-evloop sqlite3 libpq jansson libsodium openssl"

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
mkdir -p "$OUT/obj" "$OUT/seeds"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -O1 -g $SAN -DH2O_USE_LIBUV=0 -Isrc $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lunistring -lpthread -lm"

# Compile the library (all of src/ but main.c, or FUZZ_SOURCES), in parallel, only what
# changed.
newest_h=$(ls -t src/*.h src/models/*.h 2>/dev/null | head -1)
: > "$OUT/objs.txt"
: > "$OUT/todo.txt"
for c in ${FUZZ_SOURCES:-src/*.c src/models/*.c}; do
    [ -f "$c" ] || continue
    [ "$c" = src/main.c ] && continue
    o="$OUT/obj/$(echo "$c" | tr / _ | sed 's/\.c$/.o/')"
    echo "$o" >> "$OUT/objs.txt"
    if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || { [ -n "$newest_h" ] && [ "$newest_h" -nt "$o" ]; }; then
        echo "$c $o" >> "$OUT/todo.txt"
    fi
done
if [ -s "$OUT/todo.txt" ]; then
    echo "fuzz: compiling $(wc -l < "$OUT/todo.txt") files with $CC and sanitizers"
    # shellcheck disable=SC2086
    xargs -P "$(nproc 2>/dev/null || echo 2)" -L 1 sh -c 'exec '"$CC $CFLAGS"' -fsanitize=fuzzer-no-link -c "$0" -o "$1"' \
        < "$OUT/todo.txt"
fi
rm -f "$OUT/libgrantd-fuzz.a"
# shellcheck disable=SC2046
ar rcs "$OUT/libgrantd-fuzz.a" $(cat "$OUT/objs.txt")
for t in $TARGETS; do
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer -o "$OUT/fuzz_$t" "tests/fuzz/fuzz_$t.c" \
        "$OUT/libgrantd-fuzz.a" $LIBS
done

# Seeds of fuzz_filter: every filter of the API cases file, besides its checked-in corpus.
if command -v python3 >/dev/null 2>&1 && [ -f tests/api/cases/filters.json ]; then
    python3 - "$OUT/seeds" <<'EOF'
import json, sys, os
doc = json.load(open("tests/api/cases/filters.json", encoding="utf-8"))
for i, c in enumerate(doc["cases"]):
    with open(os.path.join(sys.argv[1], "case-%03d.json" % i), "w", encoding="utf-8") as f:
        json.dump(c["filter"], f, ensure_ascii=False)
EOF
fi

# Runs one target: its growing corpus in $OUT, the checked-in one read-only.
# -jobs (even -jobs=1) switches libFuzzer to fork mode, which logs to fuzz-<n>.log in the
# current directory: each target runs from a directory of its own, so the logs land there.
failed=""
run_target() {
    t=$1
    extra=""
    case $t in
    filter) corpus="$OUT/corpus"; seeds="$ROOT/tests/fuzz/corpus $OUT/seeds"; max_len=4096 ;;
    *) corpus="$OUT/corpus_$t"; seeds="$ROOT/tests/fuzz/corpus_$t"; max_len=8192 ;;
    esac
    # The server's caches and its connections' deferred frees make most requests end with
    # more allocations than frees, so a per-input leak check would re-run nearly every
    # input under a full LeakSanitizer scan (a third of the speed). LeakSanitizer still
    # checks the whole run at exit (ASAN_OPTIONS detect_leaks=1) and fails it on a leak.
    [ "$t" = http ] && extra="-detect_leaks=0"
    dict="$ROOT/tests/fuzz/$t.dict"
    log="$OUT/fuzz_$t.log"
    mkdir -p "$corpus" "$OUT/run_$t"
    rm -f "$OUT/run_$t"/fuzz-*.log
    PAR=""
    [ "$JOBS" -gt 1 ] && PAR="-jobs=$JOBS -workers=$JOBS"
    DICT=""
    [ -f "$dict" ] && DICT="-dict=$dict"
    set +e
    # shellcheck disable=SC2086
    (cd "$OUT/run_$t" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$OUT/fuzz_$t" -max_total_time="$SECONDS_TO_RUN" -timeout=25 -rss_limit_mb=2048 \
        -max_len=$max_len $DICT -artifact_prefix="$OUT/fuzz_$t-" -print_final_stats=1 \
        $extra $PAR "$corpus" $seeds) > "$log" 2>&1
    rc=$?
    set -e
    [ -z "$PAR" ] || cat "$OUT/run_$t"/fuzz-*.log >> "$log" 2>/dev/null || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | sort -n | tail -1)
    if [ $rc -ne 0 ]; then
        # (without the access log lines of fuzz_http's server, which fill the log)
        grep -vE '^[A-Z]+ [^ ]* [0-9]{3} [0-9]+ [0-9]+us ' "$log" | tail -80
        inputs=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tr '\n' ' ')
        echo "fuzz: fuzz_$t FAILED (exit $rc) after $runs runs; input: ${inputs:-none written}; log: $log"
        failed="$failed fuzz_$t"
    else
        echo "fuzz: fuzz_$t ok: $runs runs in ${SECONDS_TO_RUN}s ($rate exec/s), corpus $(ls "$corpus" | wc -l) inputs, peak RSS ${rss:-?} MB"
    fi
}

echo "fuzz: running $TARGETS for ${SECONDS_TO_RUN}s each ($JOBS job(s))"
for t in $TARGETS; do
    run_target "$t"
done
if [ -n "$failed" ]; then
    echo "fuzz: FAILED:$failed"
    exit 1
fi
