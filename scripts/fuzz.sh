#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 300), then merges the inputs that add coverage
# into the committed corpus tests/fuzz/corpus/<name>/ (which `make test` replays). Crashes are left
# in tests/fuzz/artifacts/. Appends one line per target to bench/out/fuzz.log.
set -e
secs=${1:-300}; [ $# -gt 0 ] && shift
targets=${*:-"csv svmlight npy idx mat tlm"}
make -s fuzz
export LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp
mkdir -p bench/out tests/fuzz/artifacts
for t in $targets; do
    bin=build-fuzz/fuzz_$t; new=build-fuzz/new-$t
    rm -rf "$new"; mkdir -p "$new"
    start=$(date +%s)
    "$bin" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
        -artifact_prefix=tests/fuzz/artifacts/$t- -print_final_stats=1 "$new" "tests/fuzz/corpus/$t" \
        > "build-fuzz/$t.log" 2>&1 && rc=0 || rc=$?
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "build-fuzz/$t.log" | tail -n 1)
    before=$(ls "tests/fuzz/corpus/$t" | wc -l)
    "$bin" -merge=1 "tests/fuzz/corpus/$t" "$new" > "build-fuzz/$t.merge.log" 2>&1 || true
    after=$(ls "tests/fuzz/corpus/$t" | wc -l)
    line="$(date -u +%F) fuzz_$t: $((end - start)) s, ${runs:-?} executions, $cov, exit $rc, corpus $before -> $after files"
    echo "$line" | tee -a bench/out/fuzz.log
    [ "$rc" -eq 0 ] || { echo "fuzz_$t failed: see build-fuzz/$t.log and tests/fuzz/artifacts/" >&2; }
done
