#!/bin/sh
# bench/auto.sh: `tl auto` on the 12 Office+Caltech SURF pairs (--preprocess rowsum,zscore, the
# published protocol's scaling; 1-NN, the published learner), one default budget, nothing tuned
# on target labels. Each task's JSON (every candidate with its criteria and, for the report only,
# its accuracy on the target's labels) goes to bench/out/auto/<S>_<T>.json; bench/auto_report.py
# then prints: auto against the oracle (the best candidate of the same search chosen with the
# target labels), no transfer and the best single method at its defaults, and how often each
# criterion alone picks within 1 point of the oracle.
#
#   sh bench/auto.sh [BUDGET_SECONDS [digits]]  (default 30; the tasks one after another, nice)
#
# `digits`: MNIST->USPS and USPS->MNIST instead (the JDA paper's split, rows L2-normalised, the
# published protocol), written to bench/out/auto_digits/.
#
# The budget is counted in the process's CPU seconds (--budget-clock cpu) with one BLAS thread:
# on a shared, loaded machine the wall clock measures the other users' load, not the search.
set -eu
cd "$(dirname "$0")/.."
BUDGET=${1:-30}
DATA=${TL_DATA:-/work/shared/data}/office_caltech10_surf
OUT=bench/out/auto
export OPENBLAS_NUM_THREADS=${BENCH_THREADS:-1} OMP_NUM_THREADS=${BENCH_THREADS:-1}
if [ "${2:-}" = digits ]; then
    OUT=bench/out/auto_digits
    mkdir -p "$OUT"
    DG=${TL_DATA:-/work/shared/data}/digits_mnist_usps/MNIST_vs_USPS.mat
    for pair in "M_U X_src,Y_src X_tar,Y_tar" "U_M X_tar,Y_tar X_src,Y_src"; do
        set -- "$BUDGET" $pair
        nice bin/tl auto -q --json --source "$DG:$3" --target "$DG:$4" --preprocess l2 \
            --budget "$BUDGET" --budget-clock cpu --threads "$OPENBLAS_NUM_THREADS" \
            >"$OUT/$2.json.tmp"
        mv "$OUT/$2.json.tmp" "$OUT/$2.json"
        echo "$2 done" >&2
    done
    python3 bench/auto_report.py "$OUT" "$BUDGET"
    exit 0
fi
mkdir -p "$OUT"
for pair in C:A C:W C:D A:C A:W A:D W:C W:A W:D D:C D:A D:W; do
    s=${pair%%:*}; t=${pair##*:}
    name() { case $1 in A) echo amazon;; C) echo caltech;; W) echo webcam;; D) echo dslr;; esac; }
    nice bin/tl auto -q --json --source "$DATA/$(name "$s")_SURF_L10.mat" \
        --target "$DATA/$(name "$t")_SURF_L10.mat" --preprocess rowsum,zscore --budget "$BUDGET" --budget-clock cpu \
        --threads "$OPENBLAS_NUM_THREADS" \
        >"$OUT/${s}_${t}.json.tmp"
    mv "$OUT/${s}_${t}.json.tmp" "$OUT/${s}_${t}.json"
    echo "$s->$t done" >&2
done
python3 bench/auto_report.py "$OUT" "$BUDGET"
