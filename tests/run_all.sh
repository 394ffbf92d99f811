#!/bin/sh
# Runs every test binary, the fuzz-corpus replays and the CLI cases (examples are only built); prints each
# one's own summary and the grand total as "N passed, N failed". Exits non-zero on any failure.
BUILD=${BUILD:-build}
export TL_BIN=${TL_BIN:-$BUILD/tl}
total_p=0; total_f=0; crashed=""
run_one() {
    name=$1; shift
    out=$("$@" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$name: no summary line (exit $rc)"; total_f=$((total_f + 1)); crashed="$crashed $name"; return
    fi
    p=$(echo "$line" | sed 's/ passed.*//'); f=$(echo "$line" | sed 's/.* passed, \([0-9]*\) failed.*/\1/')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; crashed="$crashed $name"; fi
    [ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -E 'FAIL|check failed|returned|expected|ERROR|Sanitizer' | head -n 40
    printf '%-28s %s\n' "$name" "$line"
    total_p=$((total_p + p)); total_f=$((total_f + f))
}
for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && run_one "$(basename "$t")" "$t"; done
for t in "$BUILD"/fuzz-replay/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t"); c=tests/fuzz/corpus/${n#fuzz_}
    run_one "replay:$n" "$t" "$c"
done
[ -f tests/cli/run.sh ] && run_one "cli" sh tests/cli/run.sh
[ -f tests/cli/nn_cases.sh ] && run_one "cli-nn" sh tests/cli/nn_cases.sh
[ -n "$crashed" ] && echo "crashed or unsummarised:$crashed"
echo "total: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
