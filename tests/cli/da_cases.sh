#!/bin/sh
# CLI cases of deep domain adaptation (tl finetune --da): arguments in, exit code and output out,
# on tiny generated 4x4 "images" - two classes (bright top / bright bottom); the target is the
# source with a brightness shift and more noise. Every adaptation runs end to end through the
# report (source-only baseline, guard); the bad inputs the issue names: a target of another width
# or image shape, a feature layer (tap) that does not exist, a discriminator without 2 outputs, a
# NaN run (stops, keeps the last good model, saves it), and the option combinations that make no
# sense. (Task heads that do not match the labels: tests/cli/nn_cases.sh, mtl-head-classes.)
# Uses $TL_BIN (default build/tl). Prints "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh
# N rows of 16 pixels + label; class c has a bright top (c even) or bottom half; shift s, noise m
gen() { awk -v n="$1" -v s="$2" -v sh="$3" -v m="$4" 'BEGIN { x = s
    for (i = 0; i < n; i++) { c = i % 2; line = ""
        for (p = 0; p < 16; p++) { x = (x * 1103515245 + 12345) % 2147483648
            v = ((p < 8) == (c == 0) ? 200 : 30) + sh + (x % m); line = line v / 255 "," }
        print line c } }'; }
gen 120 1 0 50 >"$TMP/src.csv"
gen 120 2 60 90 >"$TMP/tgt.csv"
gen 100 3 60 90 >"$TMP/tgt_test.csv"
awk -F, '{ $1 = ""; print substr($0, 2) }' OFS=, "$TMP/tgt.csv" >"$TMP/fifteen.csv"
A="flatten,dense:8,sigmoid,dense:2"
C="--data $TMP/src.csv --target-unlabelled $TMP/tgt.csv --test $TMP/tgt_test.csv --epochs 4 --batch 16 --val-split 0.2 -q"

for da in dann dan coral cdan cdan-e; do
    expect "da-$da" 0 "source only" -- "$TL" finetune --da $da --arch "$A" $C --lambda 0.3 --save "$TMP/$da.tlm"
    [ -f "$TMP/$da.tlm" ] && ok || bad "da-$da-writes-model"
done
# --report: the learning curve of the adaptation, one entry an epoch, with DANN's domain loss
# (the discriminator's cross-entropy: near ln 2 = 0.69 on these near domains), valid, drawn
expect da-report-curve 0 "test accuracy" -- "$TL" finetune --da dann --arch "$A" $C --lambda 0.3 \
    --save "$TMP/rep.tlm" --report "$TMP/da.json"
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
dl=$(sed -n 's/.*"domain_loss": \[\([^]]*\)\].*/\1/p' "$TMP/da.json")
echo "$dl" | awk -F', ' 'NF == 4 { for (i = 1; i <= 4; i++) if (!($i > 0.3 && $i < 1.5)) exit 1; exit 0 } { exit 1 }' &&
    out=$("$CHECKER" --validate docs/report.schema.json "$TMP/da.json" 2>&1) &&
    "$TL" report "$TMP/da.json" --out "$TMP/da.html" 2>/dev/null && grep -q 'id="curve"' "$TMP/da.html" &&
    grep -q 'domain loss (before lambda)' "$TMP/da.html" && ok ||
    bad "da-report-curve-saved" "domain_loss [$dl] ${out:-}"
# the adapted model is an ordinary network: it evaluates on the target's test rows
expect da-model-evaluates 0 "accuracy" -- "$TL" evaluate --model "$TMP/dann.tlm" --data "$TMP/tgt_test.csv" -q
# lambda by reverse validation (no target label read), quadratic MMD, a fixed lambda, entropy
expect da-reverse-validation 0 "reverse_validation_risk 0" -- "$TL" finetune --da dann --arch "$A" $C \
    --lambda-grid 0.1,1 --save "$TMP/rv.tlm"
# lambda auto without a grid: each adaptation's own (CORAL's loss, / (4 d^2), needs thousands)
expect da-coral-own-grid 0 "lambda \(3000\|10000\|30000\|100000\)," -- "$TL" finetune --da coral --arch "$A" $C \
    --save "$TMP/rvc.tlm"
# lambda auto without lr: the rate searched jointly with lambda (deep-da's lr-grid), the report
# names every value tried and the pair chosen; a given lr is kept; lr with lr-grid is refused
expect da-lr-grid 0 "selection  *reverse validation over lambda 0.1,1 x lr 0.01,0.03: chose lambda \(0.1\|1\), lr \(0.01\|0.03\) (score" \
    -- "$TL" finetune --da dann --arch "$A" $C --lambda-grid 0.1,1 --save "$TMP/lrg.tlm"
expect da-lr-given 0 "over lambda 0.1,1 x lr 0.05: chose lambda \(0.1\|1\), lr 0.05 " -- "$TL" finetune --da dann \
    --arch "$A" $C --lambda-grid 0.1,1 --lr 0.05 --save "$TMP/lrg.tlm"
expect da-lr-grid-json 0 '"selection": {"criterion": "reverse validation", "score": [0-9.]*, "lambda": {"tried": \[0.1, 1\], "chosen": [0-9.]*}, "lr": {"tried": \[0.003, 0.03\], "chosen": \(0.003\|0.03\)}}' \
    -- "$TL" finetune --da dann --arch "$A" $C --lambda-grid 0.1,1 --lr-grid 0.003,0.03 --json --save "$TMP/lrg.tlm"
expect da-lr-and-grid 2 "give lr (a fixed rate) or lr-grid" -- "$TL" finetune --da dann --arch "$A" $C \
    --lr 0.05 --lr-grid 0.01,0.1 --save "$TMP/x.tlm"
expect da-dan-quadratic 0 "test accuracy" -- "$TL" finetune --da dan --mmd-estimate quadratic --arch "$A" $C \
    --lambda 1 --lambda-schedule fixed --entropy 0.1 --save "$TMP/q.tlm"
# DAN and CORAL on several layers (DAN's fc6-fc8), the output among them; DANN reads one
expect da-dan-layers 0 "test accuracy" -- "$TL" finetune --da dan --arch "$A" $C --lambda 1 \
    --layer sigmoid1,dense2 --save "$TMP/l.tlm"
expect da-dann-one-layer 1 "a list (sigmoid1,dense2) is for dan and coral" -- "$TL" finetune --da dann \
    --arch "$A" $C --lambda 1 --layer sigmoid1,dense2 --save "$TMP/x.tlm"
expect da-json 0 '"method": "deep-da"' -- "$TL" finetune --da coral --arch "$A" $C --lambda 1 --json \
    --save "$TMP/j.tlm"
# from a saved model: a network trained on the source, adapted
"$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 3 --batch 16 --save "$TMP/pre.tlm" -q >/dev/null 2>&1
expect da-from-model 0 "source only" -- "$TL" finetune --da dann --from "$TMP/pre.tlm" $C --lambda 0.1 \
    --save "$TMP/fm.tlm"
# bad inputs
expect da-target-width 1 "same feature width" -- "$TL" finetune --da dann --arch "$A" --data "$TMP/src.csv" \
    --target-unlabelled "$TMP/fifteen.csv" --lambda 0.1 --save "$TMP/x.tlm" -q
# a target of the same width in another image shape: two uint8 .npy stacks written here (4x4 and
# 2x8 images of 16 values; npy FILE SHAPE reads the values, each < 128, from stdin)
npy() {
    h="{'descr': '|u1', 'fortran_order': False, 'shape': $2, }"
    while [ $(( (${#h} + 11) % 16 )) -ne 0 ]; do h="$h "; done
    { printf '\223NUMPY\001\000'
      printf "\\$(printf %o $(( (${#h} + 1) % 256 )))\\$(printf %o $(( (${#h} + 1) / 256 )))"
      printf '%s\n' "$h"; awk '{ for (i = 1; i <= NF; i++) printf "%c", $i }'; } >"$1"
}
awk 'BEGIN { for (i = 0; i < 640; i++) printf "%d%s", 10 + (i * 7) % 100, i % 16 == 15 ? "\n" : " " }' |
    npy "$TMP/img44.npy" "(40, 4, 4)"
awk 'BEGIN { for (i = 0; i < 40; i++) print i % 2 }' | npy "$TMP/img44.labels.npy" "(40,)"
awk 'BEGIN { for (i = 0; i < 640; i++) printf "%d%s", 10 + (i * 11) % 100, i % 16 == 15 ? "\n" : " " }' |
    npy "$TMP/img28.npy" "(40, 2, 8)"
expect da-target-image-shape 1 "holds 2x8 images, the source .* 4x4" -- "$TL" finetune --da dann --arch "$A" \
    --data "$TMP/img44.npy" --target-unlabelled "$TMP/img28.npy" --lambda 0.1 --epochs 2 --batch 8 --save "$TMP/x.tlm" -q
expect da-no-such-layer 1 "no layer named 'nosuch'" -- "$TL" finetune --da coral --arch "$A" $C --lambda 1 \
    --layer nosuch --save "$TMP/x.tlm"
expect da-disc-outputs 1 "needs 2" -- "$TL" finetune --da dann --arch "$A" $C --lambda 1 --disc dense:3 \
    --save "$TMP/x.tlm"
expect da-head-classes 1 "dense:2" -- "$TL" finetune --da dann --arch "flatten,dense:8,sigmoid,dense:3" $C --save "$TMP/x.tlm"
expect da-bad-lambda 2 "lambda" -- "$TL" finetune --da dann --arch "$A" $C --lambda lots --save "$TMP/x.tlm"
expect da-needs-target 2 "target-unlabelled" -- "$TL" finetune --da dann --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm"
expect da-needs-network 2 "--from MODEL or --arch" -- "$TL" finetune --da dann $C --save "$TMP/x.tlm"
expect target-without-da 2 "goes with --da" -- "$TL" finetune --from "$TMP/pre.tlm" --data "$TMP/src.csv" \
    --target-unlabelled "$TMP/tgt.csv" --save "$TMP/x.tlm"
# a run that diverges (an absurd rate): stops, keeps the last good parameters, saves them
rm -f "$TMP/nan.tlm"
expect da-nan-keeps-last-good 0 "stopped_nonfinite 1" -- "$TL" finetune --da dann --arch "flatten,dense:8,relu,dense:2" $C --lambda 1 \
    --lr 1e6 --save "$TMP/nan.tlm"
[ -f "$TMP/nan.tlm" ] && "$TL" evaluate --model "$TMP/nan.tlm" --data "$TMP/tgt_test.csv" -q >/dev/null 2>&1 &&
    ok || bad "da-nan-model-usable"
harness_summary
