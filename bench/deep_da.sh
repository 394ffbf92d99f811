#!/bin/sh
# bench/deep_da.sh: the DANN paper's Table 1 (Ganin et al., JMLR 2016, Amazon reviews, raw 5000-d
# features) with libtl's deep domain adaptation, beside the published DANN and NN columns.
#
#   sh bench/deep_da.sh [DA] [PAIRS...]     DA: dann (default), dan, coral, cdan, cdan-e
#                                           PAIRS: e.g. books:dvd (default: all 12)
#
# Protocol (the paper's Section 5.1.2-5.1.3, as the issue states it): one hidden layer of 100
# sigmoid units; 2000 labelled source reviews (the source _train file) and 2000 unlabelled target
# reviews (the target _train file, labels never read); lambda and the learning rate chosen by
# reverse validation on a 90/10 source split (LAMBDAS / LRS, by default the library's grids); early stopping on 10 % of the source
# (patience 5); the source-only network ("NN", lambda = 0) is trained the same way with its lr
# chosen by the same reverse validation. Accuracy on the target _test file. Batches of 32 source
# + 32 target rows, SGD momentum 0.9, seed 42, one thread. LAMBDAS / LRS of one value each train
# that setting without model selection (how the first DAN, CORAL and CDAN rows were made). LAYER
# (default: the hidden layer) names the layers DAN / CORAL adapt, e.g. dense2 (the output).
# Output: one JSON line per pair in bench/out/deep_da_<DA><TAG>.jsonl, a Markdown table in
# bench/out/deep_da_<DA><TAG>.md (pasted verbatim into bench/RESULTS.md), every setting's
# reverse-validation risk in bench/out/deep_da_<DA><TAG>.log. TAG (default empty)
# keeps apart the files of runs that share the pairs of one method between two processes; the
# bench program is compiled to a temporary name and renamed, so a run starting beside another
# never executes a half-written binary.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}/amazon_review_dann_5000
DA=${1:-dann}
[ $# -gt 0 ] && shift
PAIRS=${*:-"books:dvd books:electronics books:kitchen dvd:books dvd:electronics dvd:kitchen electronics:books electronics:dvd electronics:kitchen kitchen:books kitchen:dvd kitchen:electronics"}
LAMBDAS=${LAMBDAS:-} # empty: the library's grids (the adaptation's lambda grid, deep-da's lr-grid)
LRS=${LRS:-}
mkdir -p "$BUILD/bench" bench/out
[ -f "$BUILD/libtl.a" ] || make lib
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BUILD/bench/deep_da.$$" bench/deep_da.c \
    "$BUILD/libtl.a" $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
mv -f "$BUILD/bench/deep_da.$$" "$BUILD/bench/deep_da"
TAG=${TAG:-}
J=bench/out/deep_da_$DA$TAG.jsonl
: >"$J"
: >"bench/out/deep_da_$DA$TAG.log"
export OPENBLAS_NUM_THREADS=1
for pr in $PAIRS; do
    s=${pr%%:*}
    t=${pr##*:}
    echo "deep_da: $DA $s -> $t" >&2
    "$BUILD/bench/deep_da" --da "$DA" --source "$DATA/${s}_train.svmlight" --target "$DATA/${t}_train.svmlight" \
        --test "$DATA/${t}_test.svmlight" ${LAMBDAS:+--lambdas "$LAMBDAS"} ${LRS:+--lrs "$LRS"} --threads 1 \
        ${LAYER:+--layer "$LAYER"} >>"$J" 2>>"bench/out/deep_da_$DA$TAG.log"
done
"$PY" bench/deep_da_table.py "$J" "$DA" >"bench/out/deep_da_$DA$TAG.md"
cat "bench/out/deep_da_$DA$TAG.md"
