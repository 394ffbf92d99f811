#!/bin/sh
# bench/auto_speed.sh: the speed of `tl auto`'s search against the same search written as a
# numpy / scikit-learn loop (bench/ref_auto.py: fit each candidate, score it with the same
# criteria, choose), on Office+Caltech SURF pairs, both sides in the same run, alternating, one
# BLAS thread each. tl auto runs with a budget that holds every candidate (on SURF the default
# search never hits its budget), and ref_auto.py runs exactly the candidate list tl auto's JSON
# names. Timed span on both sides: the search, data loaded and scaled. The ratio is taken on CPU
# seconds (the machine is shared and loaded: wall seconds measure the other users too) and shown
# on wall seconds as well; best of ROUNDS per side; the load average is recorded.
#
#   sh bench/auto_speed.sh [PAIRS]     (default "W:D C:A"; ROUNDS=1)
#
# A pair written B_E is an Amazon review pair (amazon_review_dann_5000: raw counts, the linear SVM
# with C = 0.01, the target's _test rows held out), run as bench/auto.sh runs it: budget 60 CPU s
# (the 5000-d feature mappings would take many minutes each without one), so both sides search
# the candidates that fit that budget.
#
# Output: a Markdown table on stdout and in bench/out/auto_speed.md.
# Environment: BUILD (default build), TL_DATA (default ../shared/data), PY (/usr/bin/python3).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${TL_DATA:-../shared/data}/office_caltech10_surf
PY=${PY:-/usr/bin/python3}
ROUNDS=${ROUNDS:-1}
TL=${TL:-$BUILD/tl}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
[ -x "$TL" ] || { echo "auto_speed: $TL is missing (make)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "auto_speed: $DATA is absent" >&2; exit 1; }
mkdir -p bench/out
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
name() { case $1 in A) echo amazon;; C) echo caltech;; W) echo webcam;; D) echo dslr;; esac; }
now() { date +%s.%N; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
{
echo "| pair | candidates | tl auto CPU s | numpy/sklearn CPU s | ratio (CPU) | tl auto wall s | numpy/sklearn wall s | ratio (wall) | same choice |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
dom() { case $1 in B) echo books;; D) echo dvd;; E) echo electronics;; K) echo kitchen;; esac; }
AM=${TL_DATA:-../shared/data}/amazon_review_dann_5000
for pair in ${1:-W:D C:A}; do
    case $pair in
    *_*) S="$AM/$(dom "${pair%_*}")_train.svmlight"; T="$AM/$(dom "${pair#*_}")_train.svmlight"
         set -- --learner svm --C 0.01 --target-test "$AM/$(dom "${pair#*_}")_test.svmlight" --budget 60 ;;
    *) s=$(name "${pair%%:*}"); t=$(name "${pair##*:}")
       S="$DATA/${s}_SURF_L10.mat"; T="$DATA/${t}_SURF_L10.mat"
       set -- --preprocess rowsum,zscore --budget 100000 ;;
    esac
    opts="$*"
    bc=""; bw=""; rc=""; rw=""
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        t0=$(now)
        # shellcheck disable=SC2086 # opts: the options above, word-split on purpose
        "$TL" auto -q --json --source "$S" --target "$T" $opts --budget-clock cpu --threads 1 \
            >"$TMP/c.json"
        t1=$(now)
        "$PY" bench/ref_auto.py "$TMP/c.json" "$S" "$T" >"$TMP/p.json"
        t2=$(now)
        line=$("$PY" - "$TMP/c.json" "$TMP/p.json" "$t0" "$t1" "$t2" <<'PYEOF'
import json, sys
c, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t0, t1, t2 = map(float, sys.argv[3:6])
print(c["seconds"], t1 - t0, p["cpu_seconds"], p["seconds"], len(c["candidates"]),
      "yes" if c["chosen"] == p["chosen"] else "no (%s / %s)" % (c["chosen"], p["chosen"]))
PYEOF
)
        set -- $line
        # best of ROUNDS per side (the smallest time)
        bc=$(echo "${bc:-$1} $1" | awk '{print ($1<$2)?$1:$2}'); bw=$(echo "${bw:-$2} $2" | awk '{print ($1<$2)?$1:$2}')
        rc=$(echo "${rc:-$3} $3" | awk '{print ($1<$2)?$1:$2}'); rw=$(echo "${rw:-$4} $4" | awk '{print ($1<$2)?$1:$2}')
        n=$5; shift 5; same="$*"
        r=$((r + 1))
    done
    p=$(echo "$pair" | sed 's/[:_]/→/')
    awk -v p="$p" -v n="$n" -v bc="$bc" -v rc="$rc" -v bw="$bw" -v rw="$rw" -v same="$same" \
        'BEGIN { printf "| %s | %d | %.1f | %.1f | **%.1f×** | %.1f | %.1f | %.1f× | %s |\n", p, n, bc, rc, rc / bc, bw, rw, rw / bw, same }'
done
echo
echo "Load average at the start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg). $(getconf _NPROCESSORS_ONLN) cores, one BLAS thread per side, best of $ROUNDS."
} | tee bench/out/auto_speed.md
