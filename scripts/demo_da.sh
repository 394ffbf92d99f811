#!/bin/sh
# The deep domain adaptation part of `make demo` (issue 12): a small CNN trained on labelled MNIST
# digits and adapted to unlabelled USPS digits (a real shift: other writers, other scanning; the
# JDA paper's 16x16 split in ../shared/data/digits_mnist_usps), by DANN (domain-adversarial, a
# discriminator behind gradient reversal) and by Deep CORAL. Each run of `tl finetune --da` trains
# the same CNN on the source alone as its baseline and checks the adapted network with the guard
# on held-out source rows (the target has no labels to check it on); both are printed. The target
# labels are read only to score. Short on purpose: 5 epochs each, one thread, well under a minute
# on a quiet 2-core machine (bench/deep_da_digits.sh runs the 15-epoch, 5-seed study).
# Environment: BUILD, TL, TL_DATA (default ../shared/data).
set -e
BUILD=${BUILD:-build}
TL=${TL:-$BUILD/tl}
M=${TL_DATA:-../shared/data}/digits_mnist_usps/MNIST_vs_USPS.mat
echo "== deep domain adaptation: MNIST -> USPS digits (source labelled, target unlabelled), CNN, 5 epochs"
if [ ! -f "$M" ]; then
    echo "(skipped: $M not found; set TL_DATA to the folder holding digits_mnist_usps)"
    exit 0
fi
mkdir -p "$BUILD/demo"
# the first "KEY": NUMBER of a one-line JSON object (the report's own, not the guard's below it)
field() { tr ',' '\n' | sed -n "s/^ *\"$1\": \\([-0-9.e]*\\)\$/\\1/p" | head -n 1; }
row() { printf '%-12s %9s %12s %8s  %s\n' "$@"; }
row method "accuracy" "source only" "gain" "guard (held-out source rows; no target label read)"
for m in "dann --lambda 0.3 --disc dense:100,relu,dense:2" "coral --lambda 300"; do
    # shellcheck disable=SC2086
    j=$("$TL" finetune --da $m --arch "conv:16:5,relu,pool:2,conv:32:5,relu,pool:2,flatten,dense:100,relu,dense:10" \
        --input-shape 1x16x16 --epochs 5 --batch 32 --lr 0.01 --val-split 0.1 --threads 1 \
        --data "$M:X_src,Y_src" --target-unlabelled "$M:X_tar" --test "$M:X_tar,Y_tar" \
        --save "$BUILD/demo/da_${m%% *}.tlm" --json -q 2>/dev/null) || true
    acc=$(echo "$j" | field accuracy) base=$(echo "$j" | field baseline_accuracy)
    verdict=$(echo "$j" | sed -n 's/.*"guard": {"verdict": "\([a-z]*\)".*/\1/p')
    if [ -z "$acc" ]; then
        row "${m%% *}" "-" "-" "-" "the run failed (run it without --json -q to see why)"
        continue
    fi
    row "${m%% *}" "$(awk -v v="$acc" 'BEGIN { printf "%.2f", 100 * v }')" \
        "$(awk -v v="$base" 'BEGIN { printf "%.2f", 100 * v }')" \
        "$(awk -v a="$acc" -v b="$base" 'BEGIN { printf "%+.2f", 100 * (a - b) }')" "$verdict"
done
echo "(the source-only column is the same CNN trained on MNIST alone, scored on the same USPS digits)"
