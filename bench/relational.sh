#!/bin/sh
# bench/relational.sh: relation-based transfer on the literature's protocol, and RDN-Boost speed
# against BoostSRL (Java) on the same folds, in one run.
#
#   sh bench/relational.sh [REPS]            (default 5 repetitions)
#
# 1. Learns each source domain (IMDB, UW-CSE, Cora) on all its folds with `tl rel-learn`.
# 2. For IMDB->UW-CSE, UW-CSE->IMDB, IMDB->Cora, Cora->IMDB runs `tl rel-transfer --fold all
#    --reps REPS`: on the target, train on one fold and test on all the others, every fold in
#    turn, REPS seeds each (the negative samples differ): transfer with revision, mapping +
#    parameter learning, learning from scratch.
# 3. When BoostSRL is built (BOOSTSRL: a folder with classes/ and lib/, compiled from
#    starling-lab/BoostSRL with `javac -encoding ISO-8859-1 -cp 'lib/*'` and its *.fopcLibrary
#    resources copied into classes/), learns every target fold from scratch with BoostSRL
#    (10 trees, maxTreeDepth 3, nodeSize 2, numOfClauses 8; its negatives sampled 2 per positive
#    from the clock), scores its test-fold probabilities with the same AUC code, and times it
#    beside `tl rel-learn` on the same fold (both as whole processes: files read, model written).
# 4. bench/relational_report.py writes the Markdown table to bench/out/relational.md.
#
# Environment: BUILD (default build), TL_DATA (default ../shared/data), PY (default
# /usr/bin/python3), BOOSTSRL (default /tmp/boostsrl; absent: step 3 is skipped and says so),
# BOOSTSRL_TIMEOUT (seconds per BoostSRL fold, default 600).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${TL_DATA:-../shared/data}/relational
PY=${PY:-/usr/bin/python3}
REPS=${1:-5}
BSRL=${BOOSTSRL:-/tmp/boostsrl}
BTO=${BOOSTSRL_TIMEOUT:-600}
OUT=bench/out/relational
TL=$BUILD/tl
mkdir -p "$OUT"
cut -d' ' -f1-3 /proc/loadavg > "$OUT/load_start.txt" 2>/dev/null || true
git rev-parse --short HEAD > "$OUT/commit.txt" 2>/dev/null || true
git diff --quiet HEAD -- src include cli 2>/dev/null || echo "(with uncommitted changes)" >> "$OUT/commit.txt"
[ -x "$TL" ] || make -s BUILD="$BUILD" "$BUILD/tl" >&2
[ -d "$DATA/imdb" ] || { echo "bench/relational.sh: $DATA not found (set TL_DATA)" >&2; exit 1; }

for s in imdb uwcse cora; do
    echo "rel-learn $s (all folds)" >&2
    "$TL" rel-learn -q --data "$DATA/$s" --out "$OUT/$s.model" --json > "$OUT/learn_$s.json"
done
for pair in "imdb uwcse" "uwcse imdb" "imdb cora" "cora imdb"; do
    set -- $pair
    echo "rel-transfer $1 -> $2 (5 folds x $REPS repetitions)" >&2
    "$TL" rel-transfer -q --source-model "$OUT/$1.model" --target "$DATA/$2" --fold all --reps "$REPS" \
        --json > "$OUT/transfer_$1_$2.json"
done

# BoostSRL beside tl rel-learn, per target fold
rm -f "$OUT"/speed.jsonl
if [ -d "$BSRL/classes" ] && command -v java >/dev/null 2>&1; then
    CP="$BSRL/classes:$BSRL/lib/*"
    for d in uwcse imdb cora; do
        t=$(cat "$DATA/$d/target.txt")
        for k in 1 2 3 4 5; do
            w="$OUT/bsrl_${d}_$k"; rm -rf "$w"; mkdir -p "$w/train" "$w/test"
            { printf 'setParam: maxTreeDepth=3.\nsetParam: nodeSize=2.\nsetParam: numOfClauses=8.\n'
              sed 's/^/mode: /' "$DATA/$d/modes.txt"; } > "$w/train/train_bk.txt"
            cp "$w/train/train_bk.txt" "$w/test/test_bk.txt"
            cp "$DATA/$d/fold$k/facts.txt" "$w/train/train_facts.txt"
            cp "$DATA/$d/fold$k/pos.txt" "$w/train/train_pos.txt"
            cp "$DATA/$d/fold$k/neg.txt" "$w/train/train_neg.txt"
            others=""; for j in 1 2 3 4 5; do [ "$j" = "$k" ] || others="$others $j"; done
            : > "$w/test/test_facts.txt"; : > "$w/test/test_pos.txt"; : > "$w/test/test_neg.txt"
            for j in $others; do
                cat "$DATA/$d/fold$j/facts.txt" >> "$w/test/test_facts.txt"
                cat "$DATA/$d/fold$j/pos.txt" >> "$w/test/test_pos.txt"
                cat "$DATA/$d/fold$j/neg.txt" >> "$w/test/test_neg.txt"
            done
            echo "BoostSRL $d fold $k" >&2
            b0=$(date +%s.%N)
            rc=0; timeout "$BTO" java -cp "$CP" edu.wisc.cs.will.Boosting.Common.RunBoostedModels -l \
                -train "$w/train/" -target "$t" -trees 10 > "$w/learn.log" 2>&1 || rc=$?
            b1=$(date +%s.%N)
            # inference writes the probabilities, then stops at its missing auc.jar: exit status ignored
            timeout "$BTO" java -cp "$CP" edu.wisc.cs.will.Boosting.Common.RunBoostedModels -i \
                -model "$w/train/models/" -test "$w/test/" -target "$t" -trees 10 > "$w/infer.log" 2>&1 || true
            t0=$(date +%s.%N)
            "$TL" rel-learn -q --data "$DATA/$d" --folds "$k" --out "$w/tl.model" > /dev/null
            t1=$(date +%s.%N)
            testf=$(echo $others | tr ' ' ',')
            "$TL" rel-infer -q --model "$w/tl.model" --data "$DATA/$d" --folds "$testf" --json > "$w/tl_infer.json"
            echo "{\"domain\": \"$d\", \"fold\": $k, \"boostsrl_rc\": $rc, \"boostsrl_learn_s\": $(awk "BEGIN { printf \"%.3f\", $b1 - $b0 }"), \"tl_learn_s\": $(awk "BEGIN { printf \"%.4f\", $t1 - $t0 }"), \"dir\": \"$w\"}" >> "$OUT/speed.jsonl"
        done
    done
else
    echo "bench/relational.sh: BoostSRL not found in $BSRL (classes/, lib/): speed comparison skipped" >&2
fi
"$PY" bench/relational_report.py "$OUT" "$REPS" > bench/out/relational.md
cat bench/out/relational.md
