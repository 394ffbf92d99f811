#!/bin/sh
# bench/user_path.sh: the 12 Office+Caltech SURF JDA tasks as a user runs them - one `tl adapt`
# process per task, loading both .mat files, preprocessing, the no-transfer baseline, 10 JDA
# rounds and the negative-transfer guard - against ../shared/benchmarks/ref/da_ref.py surf jda
# (numpy/scipy, one process for all 12 tasks, the MMD matrix kept as a low-rank factor, eigh for
# the needed pairs only), each side timed as whole processes in the same run. The command names
# --kernel primal, the reference's form (and JDA's default), so that the pair stays the same
# algorithm whatever the default.
#
#   sh bench/user_path.sh [R]      R rounds (default 3), the two sides alternating in each; the
#                                  table reports the best round of each side and lists every one
#
# The same 12 processes run again with --no-guard. Also runs bench/user_split (the command's
# stages timed inside one process on the same inputs, best of 3 each) for the per-task method /
# guard split beside the command's own "seconds" and "guard_seconds". Checks that every accuracy equals the expected 12 figures on both libtl
# runs. Output: Markdown on stdout (bench/run.sh feature appends it to bench/out/feature.md).
# Environment: BUILD (default build), TL_DATA (default ../shared/data), PY (default
# /usr/bin/python3), STANDALONE=1 (print report.py's header with the command, machine and load).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${TL_DATA:-../shared/data}
PY=${PY:-/usr/bin/python3}
R=${1:-3}
TL="$BUILD/tl"
SPLIT="$BUILD/bench/user_split"
S="$DATA/office_caltech10_surf"
OUT=bench/out
J="$OUT/user_path.jsonl"
mkdir -p "$OUT"
[ -x "$TL" ] || { echo "user_path: $TL is missing (make)" >&2; exit 1; }
[ -x "$SPLIT" ] || { echo "user_path: $SPLIT is missing (sh bench/run.sh builds it)" >&2; exit 1; }
[ -d "$S" ] || { echo "user_path: $S is absent" >&2; exit 1; }
T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a - b }'; }
: >"$J"
r=1
while [ "$r" -le "$R" ]; do
    echo "user_path: round $r/$R: reference" >&2
    t0=$(now)
    "$PY" ../shared/benchmarks/ref/da_ref.py surf jda >"$OUT/user_path_ref.txt"
    t1=$(now)
    avg=$(sed -n 's/^avg \([0-9.]*\).*/\1/p' "$OUT/user_path_ref.txt")
    printf '{"side":"ref","round":%s,"wall":%s,"avg":%s}\n' "$r" "$(sub "$t1" "$t0")" \
        "$avg" >>"$J"
    echo "user_path: round $r/$R: 12 tl adapt processes" >&2
    tall0=$(now)
    for s in caltech amazon webcam dslr; do
        for t in caltech amazon webcam dslr; do
            [ "$s" = "$t" ] && continue
            p0=$(now)
            o=$("$TL" adapt --method jda --kernel primal --source "$S/${s}_SURF_L10.mat" --target "$S/${t}_SURF_L10.mat" \
                --preprocess rowsum,zscore,l2 --json -q 2>/dev/null)
            p1=$(now)
            printf '{"side":"tl","round":%s,"task":"%s->%s","wall":%s,"out":%s}\n' "$r" \
                "$(echo "$s" | cut -c1 | tr a-z A-Z)" "$(echo "$t" | cut -c1 | tr a-z A-Z)" \
                "$(sub "$p1" "$p0")" "$o" >>"$J"
        done
    done
    tall1=$(now)
    printf '{"side":"tl-total","round":%s,"wall":%s}\n' "$r" "$(sub "$tall1" "$tall0")" >>"$J"
    echo "user_path: round $r/$R: 12 tl adapt --no-guard processes" >&2
    tng0=$(now)
    for s in caltech amazon webcam dslr; do
        for t in caltech amazon webcam dslr; do
            [ "$s" = "$t" ] && continue
            "$TL" adapt --method jda --kernel primal --source "$S/${s}_SURF_L10.mat" --target "$S/${t}_SURF_L10.mat" \
                --preprocess rowsum,zscore,l2 --no-guard --json -q >/dev/null 2>&1
        done
    done
    tng1=$(now)
    printf '{"side":"tl-noguard-total","round":%s,"wall":%s}\n' "$r" "$(sub "$tng1" "$tng0")" >>"$J"
    r=$((r + 1))
done
echo "user_path: method / guard split (bench/user_split, best of 3 per stage)" >&2
"$SPLIT" "$DATA" 3 | sed 's/^/{"side":"split","line":/; s/$/}/' >>"$J"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "${STANDALONE:-0}" = 1 ]; then
    "$PY" bench/report.py --header-only --seconds "$(($(date +%s) - T0))" \
        --command "sh bench/user_path.sh $R" --load "$LOAD0"
    echo
fi
"$PY" bench/user_path_report.py --load0 "$LOAD0" --load1 "$LOAD1" "$J"
