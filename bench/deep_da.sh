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
# reverse validation on a 90/10 source split (grids below); early stopping on 10 % of the source
# (patience 5); the source-only network ("NN", lambda = 0) is trained the same way with its lr
# chosen by the same reverse validation. Accuracy on the target _test file. Batches of 32 source
# + 32 target rows, SGD momentum 0.9, seed 42, one thread.
# Output: one JSON line per pair in bench/out/deep_da_<DA>.jsonl, a Markdown table in
# bench/out/deep_da_<DA>.md (pasted verbatim into bench/RESULTS.md).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}/amazon_review_dann_5000
DA=${1:-dann}
[ $# -gt 0 ] && shift
PAIRS=${*:-"books:dvd books:electronics books:kitchen dvd:books dvd:electronics dvd:kitchen electronics:books electronics:dvd electronics:kitchen kitchen:books kitchen:dvd kitchen:electronics"}
LAMBDAS=${LAMBDAS:-0.01,0.0316,0.1,0.316,1}
LRS=${LRS:-0.01,0.03}
mkdir -p "$BUILD/bench" bench/out
[ -f "$BUILD/libtl.a" ] || make lib
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BUILD/bench/deep_da" bench/deep_da.c \
    "$BUILD/libtl.a" $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
J=bench/out/deep_da_$DA.jsonl
: >"$J"
export OPENBLAS_NUM_THREADS=1
for pr in $PAIRS; do
    s=${pr%%:*}
    t=${pr##*:}
    echo "deep_da: $DA $s -> $t" >&2
    "$BUILD/bench/deep_da" --da "$DA" --source "$DATA/${s}_train.svmlight" --target "$DATA/${t}_train.svmlight" \
        --test "$DATA/${t}_test.svmlight" --lambdas "$LAMBDAS" --lrs "$LRS" --threads 1 >>"$J"
done
"$PY" - "$J" "$DA" "$LAMBDAS" "$LRS" >"bench/out/deep_da_$DA.md" <<'PYEOF'
import json, os, platform, sys
pub = {("books", "dvd"): (78.4, 79.0), ("books", "electronics"): (73.3, 74.7),
       ("books", "kitchen"): (77.9, 77.8), ("dvd", "books"): (72.3, 72.0),
       ("dvd", "electronics"): (75.4, 73.2), ("dvd", "kitchen"): (78.3, 77.8),
       ("electronics", "books"): (71.3, 70.9), ("electronics", "dvd"): (73.8, 73.3),
       ("electronics", "kitchen"): (85.4, 85.4), ("kitchen", "books"): (70.9, 70.8),
       ("kitchen", "dvd"): (74.0, 73.9), ("kitchen", "electronics"): (84.3, 84.1)}
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
da = sys.argv[2]
name = lambda p: os.path.basename(p).split("_")[0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("Amazon reviews (DANN paper Table 1 protocol), libtl %s vs published; %s, %s, 1 thread" % (da, cpu, platform.machine()))
print("lambda grid %s, lr grid %s (reverse validation)\n" % (sys.argv[3], sys.argv[4]))
print("| pair | libtl NN (lambda 0) | published NN | libtl %s | published DANN | lambda | lr | RV risk | seconds |" % da)
print("|---|---|---|---|---|---|---|---|---|")
a = b = c = d = 0.0
near = 0
for r in rows:
    s, t = name(r["source"]), name(r["target"])
    dp, nn = pub[(s, t)]
    a += r["source_only"]; b += nn; c += r["adapted"]; d += dp
    near += abs(r["adapted"] - dp) <= 1.5
    print("| %s -> %s | %.1f | %.1f | %.1f | %.1f | %g | %g | %.3f | %.0f |" % (
        s[0].upper(), t[0].upper(), r["source_only"], nn, r["adapted"], dp, r["lambda"], r["lr"],
        r["rv_risk"], r["seconds_source_only"] + r["seconds_adapted"]))
n = len(rows)
print("| mean (%d pairs) | %.1f | %.1f | %.1f | %.1f | | | | |" % (n, a / n, b / n, c / n, d / n))
print("\npairs with libtl %s within 1.5 points of the published DANN: %d of %d" % (da, near, n))
PYEOF
cat "bench/out/deep_da_$DA.md"
