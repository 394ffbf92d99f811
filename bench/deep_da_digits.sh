#!/bin/sh
# bench/deep_da_digits.sh: MNIST <-> USPS (16x16, the JDA split in ../shared/data/digits_mnist_usps)
# with libtl's deep domain adaptation, SEEDS seeds each way: the source-only CNN (the report's
# baseline: the same network trained on the source alone) against DANN, DAN and Deep CORAL,
# through `tl finetune --da` (its --json report). Pixels as stored ([0, 1]); no target label is
# read except to score. lambda is fixed per method (below), not chosen by reverse validation.
#   sh bench/deep_da_digits.sh [SEEDS]     (default 5)
# Writes bench/out/deep_da_digits<TAG>.jsonl and .md (bench/deep_da_digits_table.py). DIRS (default
# both) picks the directions and TAG (default empty) names the files, so the two directions can
# run as two processes and be joined: deep_da_digits_table.py SEEDS FILE1 FILE2.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
SEEDS=${1:-5}
D=${TL_DATA:-../shared/data}/digits_mnist_usps
ARCH="conv:16:5,relu,pool:2,conv:32:5,relu,pool:2,flatten,dense:100,relu,dense:10"
COMMON="--arch $ARCH --input-shape 1x16x16 --epochs 15 --batch 32 --lr 0.01 --val-split 0.1 --threads 1 -q --json"
mkdir -p bench/out
TAG=${TAG:-}
J=bench/out/deep_da_digits$TAG.jsonl
: >"$J"
for dir in ${DIRS:-MNIST_vs_USPS USPS_vs_MNIST}; do
    M="$D/$dir.mat"
    for seed in $(seq 1 "$SEEDS"); do
        for m in "dann --lambda 0.3 --disc dense:100,relu,dense:2" "dan --lambda 1" "coral --lambda 300"; do
            echo "deep_da_digits: $dir seed $seed: $m" >&2
            # shellcheck disable=SC2086
            out=$("$BUILD/tl" finetune --da $m $COMMON --seed "$seed" --data "$M:X_src,Y_src" \
                --target-unlabelled "$M:X_tar" --test "$M:X_tar,Y_tar" --save "$BUILD/digits$TAG.tlm" 2>/dev/null || true)
            printf '{"dir": "%s", "seed": %s, "da": "%s", "report": %s}\n' "$dir" "$seed" "${m%% *}" \
                "${out:-null}" >>"$J"
        done
    done
done
"$PY" bench/deep_da_digits_table.py "$SEEDS" "$J" >bench/out/deep_da_digits$TAG.md
cat bench/out/deep_da_digits$TAG.md
