#!/bin/sh
# bench/gradual.sh: transfer through intermediate domains on rotated Fashion-MNIST (issue 13),
# the gradual-domain-adaptation protocol of Kumar et al. (ICML 2020): source 5000 images at
# 0-5 degrees, 42000 intermediate images with angles rising from 5 to 55 degrees in 21 windows
# of 2000 (each window one domain), target 3000 unlabelled images at 55-60 degrees, scored on
# 3000 held-out ones; logistic regression (C given, default 0.1), 90 % most confident rows kept
# per step. Data: bench/rotfmnist_make.py, written once into $GRADUAL_DATA.
#
#   sh bench/gradual.sh [C]
#
# Rows: `tl adapt --via` (the known order) and `--pool` (the 21 windows shuffled, plus three
# distractors: inverted, blurred, salt-and-pepper images), each beside bench/ref_gradual.py (the
# same method in numpy/scikit-learn) in the same run; source-only and direct self-training on
# the same rows. Checks printed: gradual >= source-only + 20 and >= direct + 10 points; the
# pool's chosen path is the windows in angle order; pool within 2 points of the known order.
# Output: bench/out/gradual.md. Environment: TL_BIN (build/tl), PY (/usr/bin/python3),
# GRADUAL_DATA (/tmp/tl-rotfmnist), BENCH_THREADS (2), GRADUAL_SIZES ("5000 42000 21 3000").
set -eu
cd "$(dirname "$0")/.."
TL=${TL_BIN:-build/tl}
PY=${PY:-/usr/bin/python3}
D=${GRADUAL_DATA:-/tmp/tl-rotfmnist}
C=${1:-0.1}
THREADS=${BENCH_THREADS:-2}
SIZES=${GRADUAL_SIZES:-5000 42000 21 3000}
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
[ -f "$D/target_test.npy" ] || $PY bench/rotfmnist_make.py "$D" $SIZES
mkdir -p bench/out
OUT=bench/out/gradual.jsonl
: >"$OUT"
steps=$(ls "$D"/step*.npy | grep -v labels | sort)
# the pool: the windows in a fixed shuffled order, the distractors among them
pool=$(printf '%s\n' $steps "$D/inverted.npy" "$D/blurred.npy" "$D/noise.npy" | $PY -c '
import random, sys
p = sys.stdin.read().split(); random.Random(13).shuffle(p); print(" ".join(p))')
for mode in via pool; do
    if [ $mode = via ]; then list=$steps; else list=$pool; fi
    j=$("$TL" adapt --source "$D/source.npy" --$mode $list --target "$D/target.npy" \
        --target-test "$D/target_test.npy" --learner logreg --C "$C" --keep 0.9 \
        --threads "$THREADS" --json -q)
    r=$($PY bench/ref_gradual.py "$C" 0.9 300 "$D/source.npy" "$D/target.npy" \
        "$D/target_test.npy" --$mode $list 2>/dev/null)
    printf '{"mode": "%s", "tl": %s, "ref": %s}\n' "$mode" "$j" "$r" >>"$OUT"
done
$PY - "$OUT" "$C" "$THREADS" <<'PYEOF' | tee bench/out/gradual.md
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("Rotated Fashion-MNIST, source 0-5 deg -> target 55-60 deg, 21 intermediate windows 5-55 deg;"
      " logreg C=%s, keep 0.9, %s threads, load average %.1f" % (sys.argv[2], sys.argv[3], os.getloadavg()[0]))
print()
print("| path | source only | direct self-training | gradual | ref gradual | tl s | ref s | ref/tl | guard |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    t, f = r["tl"], r["ref"]
    print("| %s | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %s |" % (
        "--via (known order)" if r["mode"] == "via" else "--pool (shuffled + 3 distractors)",
        100 * t["source_only_accuracy"], 100 * t["direct_accuracy"], 100 * t["accuracy"],
        100 * f["gradual"], t["seconds"], f["seconds"], f["seconds"] / t["seconds"],
        "harmful" if t["negative_transfer"] else "ok"))
via = [r for r in rows if r["mode"] == "via"][0]["tl"]
pool = [r for r in rows if r["mode"] == "pool"][0]["tl"]
print()
print("- gradual - source only: %+.2f points (>= +20 asked)" % (100 * via["gain"]))
print("- gradual - direct self-training: %+.2f points (>= +10 asked)" % (100 * via["gain_vs_direct"]))
names = [os.path.basename(p) for p in pool["path"]]
print("- pool path: %s" % " -> ".join(names))
print("- pool path in angle order, no distractor: %s (%d of %d windows)" % (
    names == sorted(names) and all(n.startswith("step") for n in names), len(names), len(via["path"])))
print("- pool - known order: %+.2f points (within 2 asked)" % (100 * (pool["accuracy"] - via["accuracy"])))
PYEOF
