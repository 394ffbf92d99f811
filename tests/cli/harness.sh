# The shell cases' shared harness, sourced by tests/cli/*.sh and tests/build.sh: a scratch folder
# removed on exit ($TMP), the counters, and expect NAME EXIT_CODE PATTERN -- COMMAND..., which runs
# the command and checks its exit code and (when PATTERN is not empty) that its output, stdout and
# stderr together, holds PATTERN. A case script ends with `harness_summary`, which prints
# "N passed, N failed, N skipped" and fails when a case failed.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0; fail=0; skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "$2" ] && printf '  %s\n' "$2" | head -n 5; }
# skip NAME REASON: a group of cases that cannot run here; counted as one skip, never as a pass
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }
expect() {
    name=$1 code=$2 pat=$3; shift 4
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name (exit $rc, expected $code)" "$out"; return; fi
    if [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; then bad "$name (output lacks '$pat')" "$out"; return; fi
    ok
}
harness_summary() {
    echo "$pass passed, $fail failed, $skipped skipped"
    [ "$fail" -eq 0 ]
}
