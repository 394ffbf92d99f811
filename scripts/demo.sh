#!/bin/sh
# `make demo`: the main job on real data a fresh machine has — Fashion-MNIST from Debian's
# dataset-fashion-mnist. Source: the 60 000 training images. Target: the 10 000 test images under a
# visible domain shift (contrast inversion, v -> 255 - v). Every transfer result is printed next
# to its no-transfer baseline and to the in-domain reference (same test images, no shift).
set -e
BUILD=${BUILD:-build}
TL=${TL:-$BUILD/tl}
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
OUT=$BUILD/demo
mkdir -p "$OUT"
[ -d "$FM" ] || { echo "demo: $FM not found (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
make -s "$BUILD/examples/shift_images" BUILD="$BUILD"

echo "== data"
$TL info "$FM:train"
"$BUILD/examples/shift_images" "$FM:test" "$OUT/target_inverted.npy" invert
echo "target: $FM:test, contrast-inverted -> $OUT/target_inverted.npy"

row() { printf '%-44s %8s %8s\n' "$1" "$2" "$3"; }
acc() { sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.2f", 100*$1}'; }
secs() { sed -n 's/.*"seconds": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.1f", $1}'; }

echo
echo "== no-transfer baselines (train on the 60 000 source images)"
row "setting" "acc %" "time s"
for L in logreg 1nn; do
  j=$($TL baseline --source "$FM:train" --target "$FM:test" --learner $L --preprocess minmax --preprocess-fit source --json -q)
  row "$L, in-domain reference (unshifted test)" "$(echo "$j" | acc)" "$(echo "$j" | secs)"
  j=$($TL baseline --source "$FM:train" --target "$OUT/target_inverted.npy" --learner $L --preprocess minmax --preprocess-fit source --json -q)
  row "$L, source only -> inverted target" "$(echo "$j" | acc)" "$(echo "$j" | secs)"
  j=$($TL baseline --source "$FM:train" --target "$OUT/target_inverted.npy" --learner $L --preprocess minmax --preprocess-fit domain --json -q)
  row "$L, per-domain min-max scaling" "$(echo "$j" | acc)" "$(echo "$j" | secs)"
done
