#!/bin/sh
# bench/auto.sh: `tl auto` on the 12 Office+Caltech SURF pairs (--preprocess rowsum,zscore, the
# published protocol's scaling; 1-NN, the published learner), one default budget, nothing tuned
# on target labels. Each task's JSON (every candidate with its criteria and, for the report only,
# its accuracy on the target's labels) goes to bench/out/auto/<S>_<T>.json; bench/auto_report.py
# then prints: auto against the oracle (the best candidate of the same search chosen with the
# target labels), no transfer and the best single method at its defaults, and how often each
# criterion alone picks within 1 point of the oracle.
#
#   sh bench/auto.sh [BUDGET_SECONDS]     (default 30; runs the tasks one after another, nice)
#
# The budget is counted in the process's CPU seconds (--budget-clock cpu) with one BLAS thread:
# on a shared, loaded machine the wall clock measures the other users' load, not the search.
set -eu
cd "$(dirname "$0")/.."
BUDGET=${1:-30}
DATA=${TL_DATA:-/work/shared/data}/office_caltech10_surf
OUT=bench/out/auto
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=${BENCH_THREADS:-1} OMP_NUM_THREADS=${BENCH_THREADS:-1}
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
