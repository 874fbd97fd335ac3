#!/bin/sh
# Runs every unit-test binary and prints one summary line: "N passed, N failed".
pass=0; fail=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
    if [ $rc -ne 0 ] || [ -z "$p" ]; then
        printf '%s\n' "$out"; echo "FAILED: $t (exit $rc)"; [ -z "$p" ] && fail=$((fail + 1))
    fi
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
