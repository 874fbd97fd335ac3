#!/bin/sh
# Builds and runs the libFuzzer target for the filter parser and compiler, without make:
# grantd's library sources are compiled with clang, ASan and UBSan into $FUZZ_BUILD (default
# build-fuzz; only changed files are rebuilt), then fuzz_filter runs for $FUZZ_SECONDS
# (default 30) on a corpus seeded from tests/fuzz/corpus and tests/api/cases/filters.json.
# Exit status: 0 when no input crashed or tripped an assertion; the crashing input is left
# in $FUZZ_BUILD (crash-*, see docs/filters.md for reproducing and for long runs).
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${FUZZ_BUILD:-build-fuzz}
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
SECONDS_TO_RUN=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_JOBS:-1}
CC=${FUZZ_CC:-clang}
PKGS="libh2o-evloop sqlite3 jansson libsodium openssl"

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/seeds"

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
# shellcheck disable=SC2086
$CC $CFLAGS -fsanitize=fuzzer -o "$OUT/fuzz_filter" tests/fuzz/fuzz_filter.c \
    "$OUT/libgrantd-fuzz.a" $LIBS

# Seeds: the checked-in corpus plus every filter of the API cases file.
if command -v python3 >/dev/null 2>&1 && [ -f tests/api/cases/filters.json ]; then
    python3 - "$OUT/seeds" <<'EOF'
import json, sys, os
doc = json.load(open("tests/api/cases/filters.json", encoding="utf-8"))
for i, c in enumerate(doc["cases"]):
    with open(os.path.join(sys.argv[1], "case-%03d.json" % i), "w", encoding="utf-8") as f:
        json.dump(c["filter"], f, ensure_ascii=False)
EOF
fi

# -jobs (even -jobs=1) switches libFuzzer to fork mode, which logs to fuzz-<n>.log in the
# current directory: run from $OUT then, so the logs land there.
PAR=""
[ "$JOBS" -gt 1 ] && PAR="-jobs=$JOBS -workers=$JOBS"
echo "fuzz: running fuzz_filter for ${SECONDS_TO_RUN}s ($JOBS job(s))"
set +e
# shellcheck disable=SC2086
(cd "$OUT" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    ./fuzz_filter -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -dict="$ROOT/tests/fuzz/filter.dict" -artifact_prefix="$OUT/" \
    -print_final_stats=1 $PAR corpus "$ROOT/tests/fuzz/corpus" seeds) > "$OUT/fuzz.log" 2>&1
rc=$?
set -e
[ -z "$PAR" ] || cat "$OUT"/fuzz-*.log >> "$OUT/fuzz.log" 2>/dev/null || true
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)' \
    "$OUT/fuzz.log" | tail -3 || true
if [ $rc -ne 0 ]; then
    tail -60 "$OUT/fuzz.log"
    echo "fuzz: FAILED (exit $rc); log in $OUT/fuzz.log, input in $OUT/crash-*"
    exit 1
fi
echo "fuzz: ok, corpus $(ls "$OUT/corpus" | wc -l) inputs"
