#!/bin/sh
# bench/hetero.sh: heterogeneous transfer on Office+Caltech, libtl against numpy/scipy versions
# of the same methods (bench/ref_hetero.py), same splits, side by side.
#
#   sh bench/hetero.sh [SEEDS] [METHODS]      defaults: "1 2 3 4 5 6 7 8 9 10", "cdspp cdls"
#
# Protocol (issue 13; the CDSPP authors' HDA_surf2decaf_office10.m): source SURF (800-d),
# 20 labelled rows per class drawn per seed; target DeCAF (4096-d) of D or W, 3 labelled rows per
# class drawn per seed, the other target rows unlabelled at fit time and scored; rows
# L2-normalised; every source A, C, W, D that is not the target: 6 tasks x 10 draws. The splits
# are written once per seed by ref_hetero.py (prep) and read by both sides. libtl's baseline is
# the target-only learner (1-NN on the 30 labelled target rows), in the same report.
#
# Output: one JSON line per (seed, task, method, side) in bench/out/hetero.jsonl and the table
# (bench/hetero_report.py) on stdout and in bench/out/hetero.md, which RESULTS.md holds verbatim.
# Environment: BUILD (default build), TL_BIN (a built tl to use instead), TL_DATA (default ../shared/data), PY (/usr/bin/python3),
# HETERO_REF=0 skips the numpy side; HETERO_REF_SEEDS="1 2" runs it on those seeds only.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}
SEEDS=${1:-"1 2 3 4 5 6 7 8 9 10"}
METHODS=${2:-"cdspp cdls"}
REF=${HETERO_REF:-1}
REF_SEEDS=${HETERO_REF_SEEDS:-$SEEDS} # the seeds the numpy side runs (its timing needs fewer)
THREADS=${BENCH_THREADS:-2}
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
[ -d "$DATA/office_caltech10_decaf" ] || { echo "hetero: $DATA/office_caltech10_decaf is absent" >&2; exit 1; }
# TL_BIN: a tl binary to use as it is (a copy, so that rebuilding the tree does not disturb a run)
if [ -n "${TL_BIN:-}" ]; then TL=$TL_BIN; else make -s BUILD="$BUILD" "$BUILD/tl" >&2; TL=$BUILD/tl; fi
mkdir -p bench/out
OUT=bench/out/hetero.jsonl
: >"$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for seed in $SEEDS; do
    "$PY" bench/ref_hetero.py prep "$DATA" "$TMP" "$seed"
    for t in dslr webcam; do
        for s in amazon caltech webcam dslr; do
            [ "$s" = "$t" ] && continue
            for m in $METHODS; do
                "$TL" adapt --method "$m" --source "$TMP/s${seed}_src_$s.npy" \
                    --target "$TMP/s${seed}_unl_$t.npy" --target-labelled "$TMP/s${seed}_lab_$t.npy" \
                    --preprocess l2 --seed "$seed" --threads "$THREADS" --json -q |
                    "$PY" -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'side':'libtl','seed':$seed,'source':'$s','target':'$t','method':'$m','accuracy':r['accuracy'],'target_only':r['target_only_accuracy'],'seconds_method':r['seconds'],'seconds':r['total_seconds']}))" >>"$OUT"
                if [ "$REF" = 1 ] && case " $REF_SEEDS " in *" $seed "*) true ;; *) false ;; esac; then
                    "$PY" bench/ref_hetero.py run "$TMP" "$seed" "$s" "$t" "$m" |
                        "$PY" -c "import json,sys; r=json.load(sys.stdin); r['side']='numpy'; print(json.dumps(r))" >>"$OUT"
                fi
            done
        done
    done
    echo "hetero: seed $seed done" >&2
done
"$PY" bench/hetero_report.py "$OUT" "sh bench/hetero.sh \"$SEEDS\" \"$METHODS\"" | tee bench/out/hetero.md
