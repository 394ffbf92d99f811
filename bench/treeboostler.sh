#!/bin/sh
# bench/treeboostler.sh: TreeBoostler itself (Python + its BoostSRL fork) against `tl rel-transfer`
# on the same target folds, fold by fold in one run (TreeBoostler's fold, then tl's best of 3).
#
#   TREEBOOSTLER=DIR TB_JAR=JAR sh bench/treeboostler.sh ID SOURCE TARGET PRED TO_PRED [FOLDS]
#   e.g. ... sh bench/treeboostler.sh 2 uwcse imdb advisedby workedunder 1,2,3,4,5
#
# TREEBOOSTLER: a checkout of github.com/ThaisLuca/TreeBoostler (its git history holds the
# resources/ source trees; its boostsrl/v1-0.jar is not in the public snapshot). TB_JAR: that jar
# built from github.com/rodrigoazs/BoostSRL: `javac -encoding ISO-8859-1 -cp 'lib/*'` over
# code/src with BoostSRL's lib/ jars (starling-lab/BoostSRL's), after three edits JDK 17 needs -
# the sun.reflect NotImplementedException imports replaced by UnsupportedOperationException, the
# unused com.sun.org.apache.bcel and org.omg imports deleted, graphdbInt's org.apache.jena
# packages renamed com.hp.hpl.jena (the jena 2.12 in lib/) - with the *.fopcLibrary resources
# copied into the classes and a manifest naming RunBoostedModels and the lib/ jars.
# tl uses its own source model (bench/out/relational/SOURCE.model from bench/relational.sh).
# Output: bench/out/treeboostler_ID.jsonl and a table on stdout.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}/relational
TB=${TREEBOOSTLER:?set TREEBOOSTLER to a TreeBoostler checkout}
JAR=${TB_JAR:?set TB_JAR to the rodrigoazs/BoostSRL jar}
ID=$1; SRC=$2; TGT=$3; PRED=$4; TO=$5; FOLDS=${6:-1,2,3,4,5}
MODEL=bench/out/relational/$SRC.model
[ -f "$MODEL" ] || { echo "bench/treeboostler.sh: $MODEL missing (run bench/relational.sh)" >&2; exit 1; }
RUN=$(mktemp -d /tmp/tl_treeboostler.XXXXXX)
cp -r "$TB/boostsrl" "$TB/datasets" "$TB/resources" "$TB"/*.py "$RUN"/
cp "$JAR" "$RUN/boostsrl/v1-0.jar"
cp bench/treeboostler_time.py "$RUN/"
mkdir -p "$RUN/shim"
for m in pandas unidecode psutil; do
    "$PY" -c "import $m" 2>/dev/null || echo "# stand-in: imported, never called here" > "$RUN/shim/$m.py"
done
OUT=bench/out/treeboostler_$ID.jsonl
mkdir -p bench/out; : > "$OUT"
cut -d' ' -f1-3 /proc/loadavg > bench/out/treeboostler_load_start.txt
for k in $(echo "$FOLDS" | tr ',' ' '); do
    tb=$(cd "$RUN" && "$PY" treeboostler_time.py "$ID" "$SRC" "$TGT" "$PRED" "$TO" "$k")
    best=""
    for r in 1 2 3; do
        t0=$(date +%s.%N)
        "$BUILD/tl" rel-transfer -q --source-model "$MODEL" --target "$DATA/$TGT" --fold "$k" --reps 1 --json > "$RUN/tl_$k.json"
        t1=$(date +%s.%N)
        best=$(awk -v a="$t0" -v b="$t1" -v c="$best" 'BEGIN { t = b - a; if (c == "" || t < c) print t; else print c }')
    done
    echo "{\"tb\": $tb, \"tl_wall_s\": $best, \"tl\": $(cat "$RUN/tl_$k.json")}" >> "$OUT"
done
"$PY" - "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print('| fold | TreeBoostler s | tl s | ratio | TreeBoostler AUC-ROC | tl AUC-ROC |')
print('|---|---|---|---|---|---|')
for r in rows:
    tl = r['tl']
    auc = float(tl.get('summary', {}).get('transfer', {}).get('auc_roc', float('nan')))
    print('| %d | %.1f | %.3f | %.0fx | %.3f | %.3f |' % (r['tb']['fold'], r['tb']['wall_s'], r['tl_wall_s'],
          r['tb']['wall_s'] / r['tl_wall_s'], r['tb']['revision']['AUC ROC'], auc))
PYEOF
rm -rf "$RUN"
