#!/bin/sh
# CLI cases of the neural-network commands (train, finetune, embed, predict, evaluate,
# transferability): arguments in, exit code and output out, on tiny generated 4x4 "images" (two
# bright-top / bright-bottom classes; labels 0/1 for the source, 7/8 for the target), plus the bad
# inputs the issue names: architecture errors naming the token, a label outside the head, the
# wrong input shape, a NaN loss (stops, keeps the last good model), truncated model files; and
# multi-task training (tl train --tasks, at the end).
# Uses $TL_BIN (default build/tl). Prints "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh
# N rows of 16 pixels + label; class c has a bright top (c even) or bottom half; deterministic noise
gen() { awk -v n="$1" -v l0="$2" -v l1="$3" -v s="$4" 'BEGIN { x = s
    for (i = 0; i < n; i++) { c = i % 2; line = ""
        for (p = 0; p < 16; p++) { x = (x * 1103515245 + 12345) % 2147483648
            v = ((p < 8) == (c == 0) ? 200 : 30) + (x % 50); line = line v "," }
        print line (c ? l1 : l0) } }'; }
gen 200 0 1 1 >"$TMP/src.csv"
gen 100 0 1 2 >"$TMP/src_test.csv"
gen 60 7 8 3 >"$TMP/tgt.csv"
gen 100 7 8 4 >"$TMP/tgt_test.csv"
awk -F, '{ $1 = ""; print substr($0, 2) }' OFS=, "$TMP/src.csv" >"$TMP/fifteen.csv"
A="conv:4:3,bn,relu,pool:2,flatten,dense:8,relu,dense:2"

expect nn-help 0 "finetune" -- "$TL" help
expect nn-help-train 0 "default: 64" -- "$TL" help train
expect train 0 "test accuracy" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 8 --batch 16 \
    --lr 0.05 --save "$TMP/src.tlm" --test "$TMP/src_test.csv" --log "$TMP/log.csv" -q
[ -f "$TMP/src.tlm" ] && ok || bad "train-writes-model"
[ "$(wc -l <"$TMP/log.csv")" -eq 9 ] && ok || bad "train-csv-log-lines" "$(cat "$TMP/log.csv")"
# stderr not a terminal: plain progress lines (TL_PROGRESS_EVERY=0: every update), each ending in
# a newline, never a carriage return, and the last one at 100 %
TL_PROGRESS_EVERY=0 "$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 4 --batch 16 --lr 0.05 --save "$TMP/pg.tlm" \
    2>"$TMP/progress.txt" >/dev/null
grep -q '^ *[0-9]*% ' "$TMP/progress.txt" && ! grep -q "$(printf '\r')" "$TMP/progress.txt" &&
    grep -q '^100% ' "$TMP/progress.txt" && ok || bad "train-plain-progress-lines" "$(head -3 "$TMP/progress.txt")"
expect train-progress-every-bad 0 "TL_PROGRESS_EVERY: 'soon' is not a number" -- env TL_PROGRESS_EVERY=soon \
    "$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 1 --batch 16 --save "$TMP/pg2.tlm"
# a log on a descriptor (here fd 3, a pipe) is a stream: each line once, as the epochs end
"$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 8 --batch 16 --lr 0.05 --save "$TMP/fd.tlm" \
    --log /dev/fd/3 -q 3>&1 >/dev/null 2>&1 | cat >"$TMP/log_fd.csv"
[ "$(wc -l <"$TMP/log_fd.csv")" -eq 9 ] && [ "$(head -1 "$TMP/log_fd.csv")" = "$(head -1 "$TMP/log.csv")" ] &&
    ok || bad "train-log-to-a-descriptor" "$(cat "$TMP/log_fd.csv")"
j=$("$TL" evaluate --model "$TMP/src.tlm" --data "$TMP/src_test.csv" --json -q 2>&1)
acc=$(echo "$j" | sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a > 0.9) }' && ok || bad "evaluate-accuracy" "$j"
# --rotation-labels: 4x the rows and classes; class 0 turned twice looks like class 1 unturned, so
# at most half the joint labels can be told apart - and at most a quarter if the turns were lost
j=$("$TL" train --arch "flatten,dense:8" --data "$TMP/src.csv" --rotation-labels --epochs 30 --batch 16 \
    --lr 0.05 --save "$TMP/rot.tlm" --test "$TMP/src_test.csv" --json -q 2>&1)
echo "$j" | grep -q '"n_rows": 800, "n_classes": 8' && ok || bad "train-rotation-labels-rows" "$j"
acc=$(echo "$j" | sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a > 0.4 && a < 0.6) }' && ok || bad "train-rotation-labels-accuracy" "$j"
# class names saved with the model are what predict prints; a name count that is not the head's is refused
expect train-label-names 0 "" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" --epochs 1 \
    --label-names top,bottom --save "$TMP/named.tlm" -q
expect predict-prints-names 0 "^top$" -- "$TL" predict --model "$TMP/named.tlm" --input "$TMP/src.csv" -q
expect train-label-names-count 2 "3 names for a head of 2 classes" -- "$TL" train --arch "flatten,dense:2" \
    --data "$TMP/src.csv" --epochs 1 --label-names a,b,c --save "$TMP/named2.tlm"
[ ! -e "$TMP/named2.tlm" ] && ok || bad "train-label-names-count-leaves-nothing"
expect train-rotation-square 1 "square images" -- "$TL" train --arch "flatten,dense:8" --data "$TMP/src.csv" \
    --input-shape 1x2x8 --rotation-labels --save "$TMP/x.tlm" -q
expect train-rotation-head 1 "dense:8" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" \
    --rotation-labels --save "$TMP/x.tlm" -q
expect train-shape-arg 0 "" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" --input-shape 16x1x1 \
    --epochs 1 --save "$TMP/flat.tlm" -q
expect train-arch-file 0 "" -- sh -c "printf '# a comment\nconv:4:3, relu,\n flatten, dense:2\n' >'$TMP/a.arch' && '$TL' train --arch '$TMP/a.arch' --data '$TMP/src.csv' --epochs 1 --save '$TMP/f.tlm' -q"

# bad architecture strings name the token
expect arch-bad-pool 1 "'pool:0'" -- "$TL" train --arch "conv:4:3,pool:0,flatten,dense:2" --data "$TMP/src.csv" --save "$TMP/x.tlm"
expect arch-unknown 1 "unknown layer 'convv'" -- "$TL" train --arch "convv:4:3,flatten,dense:2" --data "$TMP/src.csv" --save "$TMP/x.tlm"
expect arch-shape 1 "'dense:2'" -- "$TL" train --arch "conv:4:3,dense:2" --data "$TMP/src.csv" --save "$TMP/x.tlm"
expect arch-head-size 1 "dense:2" -- "$TL" train --arch "flatten,dense:3" --data "$TMP/tgt.csv" --save "$TMP/x.tlm"
[ ! -e "$TMP/x.tlm" ] && ok || bad "failed-train-leaves-no-model"
expect train-missing-save 2 "save" -- "$TL" train --arch "$A" --data "$TMP/src.csv"
expect train-bad-augment 2 "augment" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm" --augment rotate
expect train-bad-optimizer 2 "optimizer" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm" --optimizer adam
expect train-bad-shape 1 "input-shape" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm" --input-shape 2x3x3
expect classes-bad 1 "classes" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm" --classes 5-x
expect classes-none 1 "no sample" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --save "$TMP/x.tlm" --classes 5-6

# wrong input shape, label outside the head
expect eval-wrong-shape 1 "15 features" -- "$TL" evaluate --model "$TMP/src.tlm" --data "$TMP/fifteen.csv"
expect eval-label-outside-head 1 "label 7" -- "$TL" evaluate --model "$TMP/src.tlm" --data "$TMP/tgt.csv"
expect finetune-label-outside-head 1 "new head" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --save "$TMP/t.tlm"

# fine-tuning: linear probe, top, full with L2-SP, lr multipliers; per-class budget
expect finetune-probe 0 "test accuracy" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head auto \
    --freeze-until -2 --epochs 5 --batch 8 --save "$TMP/probe.tlm" --test "$TMP/tgt_test.csv" -q
# --report FILE: the learning curve, one entry an epoch, in the documented schema, drawn on the page
expect finetune-report 0 "" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head auto \
    --epochs 5 --batch 8 --val-split 0.2 --save "$TMP/rep.tlm" --report "$TMP/ft.json" -q
n=$(grep -o '"val_loss": \[[^]]*\]' "$TMP/ft.json" | tr -cd ',' | wc -c)
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
[ "$n" -eq 4 ] && out=$("$CHECKER" --validate docs/report.schema.json "$TMP/ft.json" 2>&1) && ok ||
    bad "finetune-report-curve" "${out:-$n commas in val_loss}"
"$TL" report "$TMP/ft.json" --out "$TMP/ft.html" >/dev/null 2>&1 && grep -q 'id="curve"' "$TMP/ft.html" && ok ||
    bad "finetune-report-page" "no learning curve on the page"
expect finetune-full 0 "accuracy" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head 2 \
    --reg l2sp=0.01,beta=0.001 --lr-mult conv1=0.1 --freeze 0 --per-class 5 --seed 3 --epochs 5 \
    --save "$TMP/full.tlm" --test "$TMP/tgt_test.csv" --json -q
# finetune goes through the library's protocol: baselines (the pre-trained network, the same network
# from scratch), the guard on the validation rows, and the one JSON schema of the transferring commands
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
"$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head auto --epochs 5 --batch 8 --val-split 0.25 \
    --save "$TMP/ftj.tlm" --test "$TMP/tgt_test.csv" --json -q >"$TMP/ft.json" 2>/dev/null
out=$("$CHECKER" --validate docs/report.schema.json "$TMP/ft.json" 2>&1) && ok || bad "finetune-schema" "$out"
j=$(cat "$TMP/ft.json")
case "$j" in *'"family": "model"'*'"target_only_accuracy": '[0-9]*'"negative_transfer": '[tf]*'"labelled": {"n": 15'*) ok ;;
    *) bad "finetune-baseline-and-guard" "$j" ;; esac
expect finetune-no-val-guard-unsure 0 "unsure: no held-out labelled rows" -- "$TL" finetune --from "$TMP/src.tlm" \
    --data "$TMP/tgt.csv" --new-head auto --epochs 2 --batch 8 --save "$TMP/ftu.tlm" --test "$TMP/tgt_test.csv" -q
expect finetune-bad-layer 1 "no layer named 'nope'" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --freeze-until nope --save "$TMP/t.tlm"
expect finetune-bad-reg 2 "reg" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head auto \
    --reg l1=3 --save "$TMP/t.tlm"
expect finetune-freeze-both 1 "not both" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --freeze 2 \
    --freeze-until conv1 --save "$TMP/t.tlm"
expect predict-target 0 "" -- "$TL" predict --model "$TMP/probe.tlm" --data "$TMP/tgt_test.csv"
n7=$("$TL" predict --model "$TMP/probe.tlm" --data "$TMP/tgt_test.csv" 2>/dev/null | grep -c '^7$')
[ "$n7" -gt 30 ] && [ "$n7" -lt 70 ] && ok || bad "predict-labels-are-target-labels" "$n7 sevens"
expect predict-out 0 "" -- "$TL" predict --model "$TMP/probe.tlm" --data "$TMP/tgt_test.csv" --out "$TMP/p.csv" -q
[ "$(head -1 "$TMP/p.csv")" = "sample,label" ] && ok || bad "predict-csv-header"
"$TL" predict --model "$TMP/probe.tlm" --data "$TMP/tgt_test.csv" --out /dev/stdout -q | cat >"$TMP/p_piped.csv"
cmp -s "$TMP/p_piped.csv" "$TMP/p.csv" && ok || bad "predict-out-dev-stdout-piped" "$(head -3 "$TMP/p_piped.csv")"

# features for other learners
expect embed 0 "wrote" -- "$TL" embed --model "$TMP/src.tlm" --data "$TMP/tgt.csv" --out "$TMP/f.npy"
expect embed-info 0 "60 x 8" -- "$TL" info "$TMP/f.npy"
expect embed-layer 0 "60 x 16" -- sh -c "'$TL' embed --model '$TMP/src.tlm' --layer maxpool1 --data '$TMP/tgt.csv' --out '$TMP/g.csv' -q && '$TL' info '$TMP/g.csv'"
expect embed-bad-layer 1 "layer" -- "$TL" embed --model "$TMP/src.tlm" --layer 99 --data "$TMP/tgt.csv" --out "$TMP/h.npy"
expect transferability 0 '"logme"' -- "$TL" transferability --model "$TMP/src.tlm" --data "$TMP/tgt.csv" --json -q
# the JSON keys every non-transferring command shares with the report (docs/cli.md)
expect transferability-keys 0 '"source": .*"target": .*"n_target": 60, "n_features": 8, .*"seconds": ' -- \
    "$TL" transferability --model "$TMP/src.tlm" --data "$TMP/tgt.csv" --json -q
expect evaluate-keys 0 '"evaluated_on": .*"n_eval": 100, "accuracy": .*"seconds": ' -- \
    "$TL" evaluate --model "$TMP/src.tlm" --data "$TMP/src_test.csv" --json -q
expect embed-keys 0 '"output": .*"n_rows": 60, "n_features": 8, "seconds": ' -- \
    "$TL" embed --model "$TMP/src.tlm" --data "$TMP/tgt.csv" --out "$TMP/k.npy" --json -q
expect train-keys 0 '"output": .*"n_rows": 200, .*"accuracy": .*"n_eval": 100, "seconds": ' -- "$TL" train --arch "flatten,dense:2" \
    --data "$TMP/src.csv" --epochs 1 --save "$TMP/k.tlm" --test "$TMP/src_test.csv" --json -q
# usage errors exit 2 (missing required options), a folder as a model is named as one (exit 1)
expect evaluate-needs-model 2 "required" -- "$TL" evaluate --data "$TMP/src.csv"
expect evaluate-needs-data 2 "required" -- "$TL" evaluate --model "$TMP/src.tlm"
expect embed-needs-out 2 "required" -- "$TL" embed --model "$TMP/src.tlm" --data "$TMP/src.csv"
expect transferability-unexpected-arg 2 "unexpected argument" -- "$TL" transferability --model "$TMP/src.tlm" --data "$TMP/tgt.csv" x
mkdir "$TMP/mdir"
expect evaluate-model-is-dir 1 "mdir: is a directory, not a file" -- "$TL" evaluate --model "$TMP/mdir" --data "$TMP/src.csv"
expect finetune-from-dir 1 "mdir: is a directory, not a file" -- "$TL" finetune --from "$TMP/mdir" --data "$TMP/tgt.csv" --save "$TMP/t.tlm"
expect train-init-dir 1 "mdir: is a directory, not a file" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" \
    --init "$TMP/mdir" --save "$TMP/t.tlm"
# the help says what padding the nets use, against PyTorch's default
expect help-train-padding 0 "PyTorch's nn.Conv2d defaults to padding=0" -- "$TL" help train
expect help-finetune-padding 0 "conv:32:3:1:0" -- "$TL" help finetune

# NaN loss: training stops, exits 1, and the model holds the last finite epoch
# (weight decay with lr x wd > 2 multiplies every weight by -(lr wd - 1) a step: overflow)
expect nan-stop 1 "NaN" -- "$TL" train --arch "flatten,dense:16,relu,dense:2" --data "$TMP/src.csv" --lr 1e6 \
    --wd 1 --momentum 0 --epochs 50 --save "$TMP/nan.tlm" -q
[ -f "$TMP/nan.tlm" ] && ok || bad "nan-stop-keeps-model"
expect nan-model-usable 0 "accuracy" -- "$TL" evaluate --model "$TMP/nan.tlm" --data "$TMP/src.csv"

# model files: truncated and corrupted are refused naming the file
head -c 300 "$TMP/src.tlm" >"$TMP/trunc.tlm"
expect model-truncated 1 "trunc.tlm" -- "$TL" evaluate --model "$TMP/trunc.tlm" --data "$TMP/src.csv"
expect model-missing 1 "nope.tlm" -- "$TL" predict --model "$TMP/nope.tlm" --data "$TMP/src.csv"
cp "$TMP/src.tlm" "$TMP/flip.tlm"
printf '\377' | dd of="$TMP/flip.tlm" bs=1 seek=200 conv=notrunc 2>/dev/null
expect model-corrupted 1 "flip.tlm" -- "$TL" evaluate --model "$TMP/flip.tlm" --data "$TMP/src.csv"

# PyTorch interop through safetensors: export, then fine-tune from the export
expect export 0 "" -- "$TL" train --arch "$A" --data "$TMP/src.csv" --epochs 1 --save "$TMP/e.tlm" \
    --export-safetensors "$TMP/e.safetensors" -q
expect from-safetensors 0 "accuracy" -- "$TL" finetune --from "$TMP/e.safetensors" --arch "$A" --input-shape 1x4x4 \
    --data "$TMP/src.csv" --epochs 1 --save "$TMP/e2.tlm" -q
# a libtl export records its architecture and input shape: nothing to give again
expect from-safetensors-own-arch 0 "accuracy" -- "$TL" finetune --from "$TMP/e.safetensors" --data "$TMP/src.csv" \
    --epochs 1 --save "$TMP/e3.tlm" -q
expect from-safetensors-arch-alone 1 "go together" -- "$TL" finetune --from "$TMP/e.safetensors" --arch "$A" \
    --data "$TMP/src.csv" --save "$TMP/e3.tlm"
expect from-safetensors-wrong-arch 1 "expects \[2,16\]" -- "$TL" finetune --from "$TMP/e.safetensors" --arch "flatten,dense:2" \
    --input-shape 1x4x4 --data "$TMP/src.csv" --save "$TMP/e3.tlm"
# a new head below the penultimate layer, imprinted from the labelled samples
expect finetune-head-at 0 '"arch": "conv:4:3,bn,relu,maxpool:2,flatten,dense:2"' -- "$TL" finetune \
    --from "$TMP/src.tlm" --data "$TMP/tgt.csv" --new-head auto --head-at maxpool1 --head-init imprint:5 \
    --freeze-until -2 --epochs 3 --batch 8 --save "$TMP/cut.tlm" --test "$TMP/tgt_test.csv" --json -q
expect finetune-head-at-needs-new-head 2 "needs --new-head" -- "$TL" finetune --from "$TMP/src.tlm" \
    --data "$TMP/tgt.csv" --head-at maxpool1 --save "$TMP/t.tlm"
expect finetune-head-at-bad-layer 1 "no layer named 'nope'" -- "$TL" finetune --from "$TMP/src.tlm" \
    --data "$TMP/tgt.csv" --new-head auto --head-at nope --save "$TMP/t.tlm"
expect finetune-head-init-bad 2 "head-init" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --head-init imprint:0 --save "$TMP/t.tlm"
expect finetune-head-init-unknown 2 "head-init" -- "$TL" finetune --from "$TMP/src.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --head-init xavier --save "$TMP/t.tlm"
# a ResNet downsampling block (projection shortcut after '|'): train, save/load, fine-tune with
# freezing through the shortcut and L2-SP, head surgery on and inside the block, embed, PyTorch export
R="conv:4:3,bn,relu,[conv:6:3:2:1,bn,relu,conv:6:3,bn|conv:6:1:2:0,bn],relu,gap,dense:2"
RC='conv:4:3,bn,relu,\[conv:6:3:2,bn,relu,conv:6:3,bn|conv:6:1:2,bn\],relu,gap,dense:2' # a grep pattern
expect res-train 0 "test accuracy" -- "$TL" train --arch "$R" --data "$TMP/src.csv" --epochs 4 --batch 16 \
    --lr 0.05 --save "$TMP/res.tlm" --test "$TMP/src_test.csv" --export-safetensors "$TMP/res.safetensors" -q
expect res-load 0 "accuracy" -- "$TL" evaluate --model "$TMP/res.tlm" --data "$TMP/src_test.csv"
expect res-finetune 0 '"arch": "'"$RC"'"' -- "$TL" finetune --from "$TMP/res.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --freeze-until conv4 --reg l2sp=0.01,beta=0.001 --epochs 3 --batch 8 \
    --save "$TMP/res_ft.tlm" --test "$TMP/tgt_test.csv" --json -q
expect res-head-at-inside 1 "residual block" -- "$TL" finetune --from "$TMP/res.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --head-at bn3 --save "$TMP/t.tlm"
expect res-head-at-shortcut 1 "residual block" -- "$TL" finetune --from "$TMP/res.tlm" --data "$TMP/tgt.csv" \
    --new-head auto --head-at bn4 --save "$TMP/t.tlm"
expect res-head-at-add 0 '|conv:6:1:2,bn\],flatten,dense:2"' -- "$TL" finetune --from "$TMP/res.tlm" \
    --data "$TMP/tgt.csv" --new-head auto --head-at add1 --freeze-until -2 --epochs 2 --batch 8 \
    --save "$TMP/res_cut.tlm" --json -q
expect res-embed-add 0 "60 x 24" -- sh -c "'$TL' embed --model '$TMP/res.tlm' --layer add1 --data '$TMP/tgt.csv' --out '$TMP/r.csv' -q && '$TL' info '$TMP/r.csv'"
expect res-from-safetensors 0 "accuracy" -- "$TL" finetune --from "$TMP/res.safetensors" --arch "$R" \
    --input-shape 1x4x4 --data "$TMP/src.csv" --epochs 1 --save "$TMP/res2.tlm" -q
expect res-arch-error 1 "'|'" -- "$TL" train --arch "conv:4:3|conv:4:1,gap,dense:2" --data "$TMP/src.csv" \
    --save "$TMP/x.tlm"
# Multi-task learning (`tl train --tasks NAME=SPEC ...`): the source rows (labels 0/1) and the
# target rows (7/8) as two tasks on one shared trunk, the saved model read back by `tl evaluate` /
# `tl predict --model-task`, the one-network-per-task comparison, and the bad inputs: a task of
# another width, a head whose outputs do not match the task's labels, weights or tests that do not
# match the task list, a multi-task model read without --model-task.
T="--input-shape 16x1x1 --arch dense:8,relu --epochs 6 --batch 16 --lr 0.05 -q"

expect mtl-train 0 "one network per task" -- "$TL" train $T --tasks a="$TMP/src.csv" --tasks b="$TMP/tgt.csv" \
    --task-test a="$TMP/src_test.csv" --task-test b="$TMP/tgt_test.csv" --task-weights 1,0.5 --compare \
    --save "$TMP/mt.tlm"
[ -f "$TMP/mt.tlm" ] && ok || bad "mtl-train-writes-model"
acc=$("$TL" train $T --tasks a="$TMP/src.csv" --tasks b="$TMP/tgt.csv" --task-test b="$TMP/tgt_test.csv" \
    --save "$TMP/mt2.tlm" --json | sed -n 's/.*"name": "b".*"accuracy": \([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a > 0.9) }' && ok || bad "mtl-train-json-task-accuracy" "accuracy '$acc'"
expect mtl-evaluate-task 0 "accuracy" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task b --data "$TMP/tgt_test.csv"
expect mtl-predict-task 0 "" -- "$TL" predict --model "$TMP/mt.tlm" --model-task a --input "$TMP/src_test.csv" --out "$TMP/p.csv"
[ "$(wc -l <"$TMP/p.csv")" -ge 100 ] && ok || bad "mtl-predict-task-rows" "$(head -3 "$TMP/p.csv")"
expect mtl-evaluate-no-task 1 "multi-task network (tasks a,b)" -- "$TL" evaluate --model "$TMP/mt.tlm" --data "$TMP/tgt_test.csv"
expect mtl-evaluate-bad-task 1 "no task named 'c' (the tasks: a, b)" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task c --data "$TMP/tgt_test.csv"
expect mtl-evaluate-labels-of-other-task 1 "label" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task a --data "$TMP/tgt_test.csv"
expect mtl-width 1 "same input width" -- "$TL" train $T --tasks a="$TMP/src.csv" --tasks f="$TMP/fifteen.csv" --save "$TMP/x.tlm"
expect mtl-head-classes 1 "task a: its head has 3 outputs" -- "$TL" train $T --tasks a="$TMP/src.csv" --tasks b="$TMP/tgt.csv" \
    --head dense:3 --save "$TMP/x.tlm"
expect mtl-weights-count 2 "give 2 weights" -- "$TL" train $T --tasks a="$TMP/src.csv" --tasks b="$TMP/tgt.csv" \
    --task-weights 1 --save "$TMP/x.tlm"
expect mtl-test-unknown 2 "no task named 'z'" -- "$TL" train $T --tasks a="$TMP/src.csv" --task-test z="$TMP/src.csv" --save "$TMP/x.tlm"
expect mtl-spec-syntax 2 "expected NAME=SPEC" -- "$TL" train $T --tasks "$TMP/src.csv" --save "$TMP/x.tlm"
expect mtl-duplicate 2 "given twice" -- "$TL" train $T --tasks a="$TMP/src.csv" --tasks a="$TMP/tgt.csv" --save "$TMP/x.tlm"
[ ! -f "$TMP/x.tlm" ] && ok || bad "mtl-errors-write-no-model"
harness_summary
