#!/bin/sh
# bench/auto.sh: `tl auto` on the 12 Office+Caltech SURF pairs (--preprocess rowsum,zscore, the
# published protocol's scaling; 1-NN, the published learner), one default budget, nothing tuned
# on target labels. Each task's JSON (every candidate with its criteria and, for the report only,
# its accuracy on the target's labels) goes to bench/out/auto/<S>_<T>.json; bench/auto_report.py
# then prints: auto against the oracle (the best candidate of the same search chosen with the
# target labels), no transfer and the best single method at its defaults, and how often each
# criterion alone picks within 1 point of the oracle.
#
#   sh bench/auto.sh [BUDGET_SECONDS [digits|amazon]]  (default 30; the tasks one after another, nice)
#
# `digits`: MNIST->USPS and USPS->MNIST instead (the JDA paper's split, rows L2-normalised, the
# published protocol), written to bench/out/auto_digits/. With NET=1 the network candidates join
# (--arch: bench/deep_da_digits.sh's CNN on the pixels as stored, 15 epochs, batch 32), written to
# bench/out/auto_digits_net/.
# `amazon`: the 12 Amazon review pairs (DANN protocol: the source's _train file, the target's
# _train rows unlabelled, every candidate scored on the target's _test file through --target-test;
# raw counts; linear SVM with C = 0.01, the C that 5-fold cross-validation on the source picks
# for every source, bench/amazon_svm_cv.sh - fixed so that the search does not repeat that CV for
# every candidate), written to bench/out/auto_amazon/. PAIRS="B_D K_E" runs a subset (SURF:
# PAIRS="W:D C:A").
# TL=path/to/tl runs another build (a copy, so that a rebuild during the run changes nothing).
#
# The budget is counted in the process's CPU seconds (--budget-clock cpu) with one BLAS thread:
# on a shared, loaded machine the wall clock measures the other users' load, not the search.
set -eu
cd "$(dirname "$0")/.."
BUDGET=${1:-30}
TL=${TL:-bin/tl}
DATA=${TL_DATA:-/work/shared/data}/office_caltech10_surf
OUT=bench/out/auto
export OPENBLAS_NUM_THREADS=${BENCH_THREADS:-1} OMP_NUM_THREADS=${BENCH_THREADS:-1}
if [ "${2:-}" = digits ]; then
    OUT=bench/out/auto_digits
    ARCH="conv:16:5,relu,pool:2,conv:32:5,relu,pool:2,flatten,dense:100,relu,dense:10"
    [ "${NET:-0}" = 1 ] && OUT=bench/out/auto_digits_net
    mkdir -p "$OUT"
    DG=${TL_DATA:-/work/shared/data}/digits_mnist_usps/MNIST_vs_USPS.mat
    for pair in "M_U X_src,Y_src X_tar,Y_tar" "U_M X_tar,Y_tar X_src,Y_src"; do
        set -- "$BUDGET" $pair
        [ "${NET:-0}" = 1 ] && set -- "$@" --arch "$ARCH" --input-shape 1x16x16 --net-epochs 15 \
            --net-batch 32
        p=$2; s=$3; t=$4; shift 4
        nice "$TL" auto -q --json --source "$DG:$s" --target "$DG:$t" --preprocess l2 \
            --budget "$BUDGET" --budget-clock cpu --threads "$OPENBLAS_NUM_THREADS" "$@" \
            >"$OUT/$p.json.tmp"
        mv "$OUT/$p.json.tmp" "$OUT/$p.json"
        echo "$p done" >&2
    done
    python3 bench/auto_report.py "$OUT" "$BUDGET"
    exit 0
fi
if [ "${2:-}" = amazon ]; then
    OUT=bench/out/auto_amazon
    mkdir -p "$OUT"
    AM=${TL_DATA:-/work/shared/data}/amazon_review_dann_5000
    dom() { case $1 in B) echo books;; D) echo dvd;; E) echo electronics;; K) echo kitchen;; esac; }
    for p in ${PAIRS:-B_D B_E B_K D_B D_E D_K E_B E_D E_K K_B K_D K_E}; do
        s=$(dom "${p%_*}"); t=$(dom "${p#*_}")
        nice "$TL" auto -q --json --source "$AM/${s}_train.svmlight" --target "$AM/${t}_train.svmlight" \
            --target-test "$AM/${t}_test.svmlight" --learner svm --C 0.01 --budget "$BUDGET" \
            --budget-clock cpu --threads "$OPENBLAS_NUM_THREADS" >"$OUT/$p.json.tmp"
        mv "$OUT/$p.json.tmp" "$OUT/$p.json"
        echo "$p done" >&2
    done
    python3 bench/auto_report.py "$OUT" "$BUDGET"
    exit 0
fi
mkdir -p "$OUT"
for pair in ${PAIRS:-C:A C:W C:D A:C A:W A:D W:C W:A W:D D:C D:A D:W}; do
    s=${pair%%:*}; t=${pair##*:}
    name() { case $1 in A) echo amazon;; C) echo caltech;; W) echo webcam;; D) echo dslr;; esac; }
    nice "$TL" auto -q --json --source "$DATA/$(name "$s")_SURF_L10.mat" \
        --target "$DATA/$(name "$t")_SURF_L10.mat" --preprocess rowsum,zscore --budget "$BUDGET" --budget-clock cpu \
        --threads "$OPENBLAS_NUM_THREADS" \
        >"$OUT/${s}_${t}.json.tmp"
    mv "$OUT/${s}_${t}.json.tmp" "$OUT/${s}_${t}.json"
    echo "$s->$t done" >&2
done
python3 bench/auto_report.py "$OUT" "$BUDGET"
