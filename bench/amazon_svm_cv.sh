#!/bin/sh
# bench/amazon_svm_cv.sh: the no-transfer linear SVM on the 12 Amazon 5000-d pairs (DANN protocol:
# train on the source's _train file, 2000 rows; score the target's _test file; raw counts, no
# preprocessing), with C chosen by 5-fold cross-validation on the source (the default, C = auto)
# and with C = 1 (the old default), beside the DANN paper's SVM column
# (../shared/benchmarks/published.md) and a scikit-learn reference run in the same call:
# LinearSVC (the same squared-hinge dual solver) with C chosen by 5-fold stratified
# cross_val_score over the same grid 1e-4..1e2 (ties to the smaller C).
#
#   sh bench/amazon_svm_cv.sh          one `tl baseline` process per pair and setting
#   REF=0 sh bench/amazon_svm_cv.sh    without the scikit-learn side
#
# Output: a Markdown table on stdout (per pair and the 12-pair mean, seconds per process).
# Environment: BUILD (default build), TL_DATA (default ../shared/data), PY (/usr/bin/python3).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${TL_DATA:-../shared/data}
PY=${PY:-/usr/bin/python3}
REF=${REF:-1}
TL="$BUILD/tl"
A="$DATA/amazon_review_dann_5000"
[ -x "$TL" ] || { echo "amazon_svm_cv: $TL is missing (make)" >&2; exit 1; }
[ -d "$A" ] || { echo "amazon_svm_cv: $A is absent" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
# published SVM column (DANN, JMLR 2016, Table 2)
pub() {
    case "$1" in
    books-dvd) echo 79.9 ;; books-electronics) echo 74.8 ;; books-kitchen) echo 76.9 ;;
    dvd-books) echo 74.3 ;; dvd-electronics) echo 74.8 ;; dvd-kitchen) echo 74.6 ;;
    electronics-books) echo 70.5 ;; electronics-dvd) echo 72.6 ;; electronics-kitchen) echo 84.7 ;;
    kitchen-books) echo 70.7 ;; kitchen-dvd) echo 73.6 ;; kitchen-electronics) echo 84.2 ;;
    esac
}
acc_of() { sed -n 's/.*"accuracy": \([0-9.e-]*\),.*/\1/p' "$1"; }
secs_of() { sed -n 's/.*"seconds": \([0-9.e-]*\)}.*/\1/p' "$1"; }
DOMS="books dvd electronics kitchen"
T0=$(now)
: >"$TMP/rows"
for s in $DOMS; do
    for t in $DOMS; do
        [ "$s" = "$t" ] && continue
        echo "amazon_svm_cv: $s -> $t" >&2
        t0=$(now)
        "$TL" baseline --source "$A/${s}_train.svmlight" --target "$A/${t}_test.svmlight" \
            --learner svm --json -q >"$TMP/auto.json"
        t1=$(now)
        "$TL" baseline --source "$A/${s}_train.svmlight" --target "$A/${t}_test.svmlight" \
            --learner svm --C 1 --json -q >"$TMP/c1.json"
        t2=$(now)
        echo "$s $t $(acc_of "$TMP/auto.json") $(acc_of "$TMP/c1.json") $(pub "$s-$t")" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" \
            "$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b-a}')" >>"$TMP/rows"
    done
done
T1=$(now)
if [ "$REF" = 1 ]; then
    echo "amazon_svm_cv: scikit-learn reference" >&2
    "$PY" - "$A" >"$TMP/ref" <<'PYEOF'
import sys, time, warnings
import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import LinearSVC
warnings.filterwarnings("ignore")  # LinearSVC at C >= 1 stops at max_iter on raw counts
d = sys.argv[1]
doms = ["books", "dvd", "electronics", "kitchen"]
load = lambda f: load_svmlight_file("%s/%s.svmlight" % (d, f), n_features=5000, zero_based=True)
grid = [10.0 ** k for k in range(-4, 3)]
for s in doms:
    t0 = time.time()
    X, y = load(s + "_train")
    cv = [cross_val_score(LinearSVC(C=C), X, y,
                          cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean() for C in grid]
    C = grid[int(np.argmax(cv))]  # argmax: the first (smallest C) of equal scores
    clf = LinearSVC(C=C).fit(X, y)
    sec = time.time() - t0
    for t in doms:
        if t != s:
            Xt, yt = load(t + "_test")
            print(s, t, C, "%.6f" % (clf.predict(Xt) == yt).mean(), "%.2f" % sec)
PYEOF
fi
T2=$(now)
awk -v ref="$REF" -v reff="$TMP/ref" -v tl_s="$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.0f", b-a}')" \
    -v ref_s="$(awk -v a="$T1" -v b="$T2" 'BEGIN{printf "%.0f", b-a}')" '
BEGIN {
    if (ref == 1) while ((getline line < reff) > 0) {
        split(line, f, " "); rc[f[1] " " f[2]] = f[3]; ra[f[1] " " f[2]] = 100 * f[4]
    }
    ab["books"] = "B"; ab["dvd"] = "D"; ab["electronics"] = "E"; ab["kitchen"] = "K"
    print "| pair | libtl C = auto (source 5-fold CV) | libtl C = 1 | DANN paper SVM |" \
          (ref == 1 ? " sklearn LinearSVC, CV C (chosen C) |" : "") " s auto | s C=1 |"
    print "|---|---|---|---|" (ref == 1 ? "---|" : "") "---|---|"
}
{
    k = $1 " " $2; a = 100 * $3; c = 100 * $4
    sa += a; sc += c; sp += $5; n++
    r = ""
    if (ref == 1) { r = sprintf(" %.2f (%g) |", ra[k], rc[k]); sr += ra[k] }
    printf "| %s→%s | %.2f | %.2f | %.1f |%s %s | %s |\n", ab[$1], ab[$2], a, c, $5, r, $6, $7
}
END {
    r = ref == 1 ? sprintf(" **%.2f** |", sr / n) : ""
    printf "| **mean (%d pairs)** | **%.2f** | **%.2f** | **%.2f** |%s | |\n", n, sa / n, sc / n, sp / n, r
    printf "\nlibtl: %s s for the %d x 2 `tl baseline` processes", tl_s, n
    if (ref == 1) printf "; scikit-learn reference: %s s (one process, 4 CV searches)", ref_s
    printf ".\n"
}' "$TMP/rows"
