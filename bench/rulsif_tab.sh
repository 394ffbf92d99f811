#!/bin/sh
# bench/rulsif_tab.sh: RuLSIF and TrAdaBoost on the 12 Office+Caltech SURF tasks, libtl
# (bench/bench_rulsif_tab.c) against references written from the papers in numpy / scikit-learn
# (bench/ref_rulsif_tab.py), same files, side by side, task by task.
#
#   sh bench/rulsif_tab.sh [OPS] [SEED]        defaults: "rulsif tradaboost augment", 1
#
# RuLSIF: the method's defaults (alpha 0.1, lambda 1e-3, 100 centres, median-heuristic gamma);
# the reference takes libtl's centres and gamma and recomputes the rest; both then train
# logistic regression (C = 1) on the weighted source and score every target row (the instance
# weighting protocol of the KMM table in RESULTS.md, on rowsum + z-scored rows).
# TrAdaBoost: 3 labelled target rows per class (drawn with SEED by ref_rulsif_tab.py prep), 20
# rounds, logistic regression with C = TAB_C (default 1e-3) on both sides (the CLI's default C is
# chosen by cross-validation; fixed here so that both sides fit the same learner), scored on the
# other target rows. Why 1e-3: at C = 1 (and 0.01) the learner separates the 800-d training rows,
# no row is ever misclassified, no weight changes, and TrAdaBoost is the pooled learner (TAB_C=1
# shows it); at 1e-3 rows are misclassified and the boosting reweights. Augment (feature augmentation, the same split): `tl adapt --method augment` (logistic
# regression, C = 1) against sklearn on the augmented rows, with the source-only, target-only and
# pooled learners of both sides (accuracy only: the CLI's time includes loading).
# Timings: in-process, fit only (RuLSIF best of 5 after one untimed fit; TrAdaBoost one fit), both
# sides in the same run, alternating task by task.
# Output: bench/out/rulsif_tab.jsonl and the tables, with the machine and the load, on stdout and
# in bench/out/rulsif_tab.md.
# Environment: BUILD (default build), TL_DATA (default ../shared/data), PY (/usr/bin/python3),
# BENCH_THREADS (default 2).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}
OPS=${1:-"rulsif tradaboost augment"}
SEED=${2:-1}
TAB_C=${TAB_C:-0.001}
THREADS=${BENCH_THREADS:-2}
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
[ -d "$DATA/office_caltech10_surf" ] || { echo "rulsif_tab: $DATA/office_caltech10_surf is absent" >&2; exit 1; }
make -s BUILD="$BUILD" lib "$BUILD/tl" >&2
mkdir -p "$BUILD/bench" bench/out
BIN=$BUILD/bench/bench_rulsif_tab
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BIN" bench/bench_rulsif_tab.c "$BUILD/libtl.a" \
    $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
OUT=bench/out/rulsif_tab.jsonl
: >"$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
"$PY" bench/ref_rulsif_tab.py prep "$DATA" "$TMP" "$SEED"
letter() { printf '%s' "$1" | cut -c1 | tr a-z A-Z; }
tag() { "$PY" -c "import json,sys; r=json.loads(sys.stdin.readline()); r['task']='$1'; print(json.dumps(r))"; }
for s in amazon caltech webcam dslr; do
    for t in amazon caltech webcam dslr; do
        [ "$s" = "$t" ] && continue
        task="$(letter "$s")→$(letter "$t")"
        for op in $OPS; do
            if [ "$op" = augment ]; then
                "$BUILD/tl" adapt --method augment --source "$TMP/$s.npy" --target "$TMP/${t}_unl.npy" \
                    --target-labelled "$TMP/${t}_lab.npy" --learner logreg --C 1 --no-guard --json -q \
                    --threads "$THREADS" |
                    "$PY" bench/ref_rulsif_tab.py augment "$TMP/$s.npy" "$TMP/${t}_lab.npy" "$TMP/${t}_unl.npy" |
                    while read -r line; do printf '%s\n' "$line" | tag "$task"; done >>"$OUT"
            elif [ "$op" = rulsif ]; then
                lib=$("$BIN" -r 5 rulsif "$TMP/$s.npy" "$TMP/$t.npy" "$TMP/r")
                printf '%s\n' "$lib" | tag "$task" >>"$OUT"
                printf '%s\n' "$lib" | "$PY" bench/ref_rulsif_tab.py rulsif "$TMP/$s.npy" "$TMP/$t.npy" "$TMP/r" 5 |
                    tag "$task" >>"$OUT"
            else
                "$BIN" tradaboost "$TMP/$s.npy" "$TMP/${t}_lab.npy" "$TMP/${t}_unl.npy" 20 "$TAB_C" "$TMP/b" |
                    tag "$task" >>"$OUT"
                "$PY" bench/ref_rulsif_tab.py tradaboost "$TMP/$s.npy" "$TMP/${t}_lab.npy" \
                    "$TMP/${t}_unl.npy" 20 "$TAB_C" "$TMP/b" | tag "$task" >>"$OUT"
            fi
        done
        echo "rulsif_tab: $task done" >&2
    done
done
{
    "$PY" bench/ref_rulsif_tab.py report "$OUT" "TAB_C=$TAB_C sh bench/rulsif_tab.sh \"$OPS\" $SEED"
    echo
    echo "Run $STARTED, libtl commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
        "OPENBLAS_NUM_THREADS=$THREADS; $("$PY" -c 'import numpy, sklearn; print("numpy", numpy.__version__ + ", scikit-learn", sklearn.__version__)')." \
        "Load average (1/5/15 min) $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (the machine is shared: the times are loose)."
} | tee bench/out/rulsif_tab.md
