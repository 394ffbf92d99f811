#!/bin/sh
# Runs every test binary, the fuzz-corpus replays, the build checks (SONAME, man page, install),
# the CLI cases and the example programs; prints
# each one's own summary ("N passed, N failed, N skipped"), the skipped tests with their reasons,
# and the grand total as "total: N passed, N failed, N skipped". A skip is neither a pass nor a
# failure. A binary that exits non-zero, dies on a signal or prints no summary line counts as a
# failure even when its summary says otherwise. Exits non-zero on any failure.
BUILD=${BUILD:-build}
export TL_BIN=${TL_BIN:-$BUILD/tl}
total_p=0; total_f=0; total_s=0; crashed=""; skips=""
nl='
'
run_one() {
    name=$1; shift
    out=$("$@" 2>&1); rc=$?
    # "N passed, N failed" with an optional ", N skipped" (older summaries lack it)
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$name: no summary line (exit $rc)"; total_f=$((total_f + 1)); crashed="$crashed $name"; return
    fi
    p=$(echo "$line" | sed 's/ passed.*//'); f=$(echo "$line" | sed 's/.* passed, \([0-9]*\) failed.*/\1/')
    s=$(echo "$line" | sed -n 's/^[0-9]* passed, [0-9]* failed, \([0-9]*\) skipped.*/\1/p'); s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; crashed="$crashed $name"; fi
    [ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -E 'FAIL|check failed|returned|expected|ERROR|Error|Sanitizer' | head -n 40
    # the "SKIP name: reason" lines, named by binary; a count without its lines is still reported
    sl=$(printf '%s\n' "$out" | grep -E '^SKIP ' | sed "s/^SKIP /  $name: /")
    [ -n "$sl" ] && skips="$skips$sl$nl"
    if [ "$s" -gt 0 ] && [ -z "$sl" ]; then skips="$skips  $name: $s skipped without a SKIP line$nl"; fi
    printf '%-28s %s\n' "$name" "$line"
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
}
for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && run_one "$(basename "$t")" "$t"; done
for t in "$BUILD"/fuzz-replay/fuzz_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t"); c=tests/fuzz/corpus/${n#fuzz_}
    run_one "replay:$n" "$t" "$c"
done
[ -f tests/build.sh ] && run_one "build" env BUILD="$BUILD" sh tests/build.sh
[ -f tests/cli/run.sh ] && run_one "cli" sh tests/cli/run.sh
[ -f tests/cli/nn_cases.sh ] && run_one "cli-nn" sh tests/cli/nn_cases.sh
[ -f tests/cli/da_cases.sh ] && run_one "cli-da" sh tests/cli/da_cases.sh
[ -f tests/cli/user_cases.sh ] && run_one "cli-users" sh tests/cli/user_cases.sh
[ -f tests/cli/rel_cases.sh ] && run_one "cli-rel" sh tests/cli/rel_cases.sh
[ -f tests/cli/report_cases.sh ] && run_one "cli-report" sh tests/cli/report_cases.sh
[ -f tests/examples.sh ] && run_one "examples" env BUILD="$BUILD" sh tests/examples.sh
[ -f tests/docs.sh ] && run_one "docs" env BUILD="$BUILD" sh tests/docs.sh
[ -f tests/apidoc.sh ] && run_one "api-reference" sh tests/apidoc.sh
[ -f tests/python.sh ] && run_one "python" env BUILD="$BUILD" sh tests/python.sh
[ -f tests/mpi.sh ] && run_one "mpi" sh tests/mpi.sh
if [ -n "$skips" ]; then
    echo "skipped (not run, not counted as passed):"
    printf '%s' "$skips"
fi
[ -n "$crashed" ] && echo "crashed or unsummarised:$crashed"
echo "total: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
