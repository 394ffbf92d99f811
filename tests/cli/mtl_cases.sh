#!/bin/sh
# CLI cases of multi-task learning (`tl train --tasks NAME=SPEC ...`, issue 12): two tasks on one
# shared trunk (tiny generated 4x4 "images", labels 0/1 and 7/8), the saved model read back by
# `tl evaluate` / `tl predict --model-task`, the one-network-per-task comparison, and the bad inputs: a
# task of another width, a head whose outputs do not match the task's labels, weights or tests
# that do not match the task list, a multi-task model read without --model-task.
# Uses $TL_BIN (default build/tl). Prints "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh
gen() { awk -v n="$1" -v l0="$2" -v l1="$3" -v s="$4" 'BEGIN { x = s
    for (i = 0; i < n; i++) { c = i % 2; line = ""
        for (p = 0; p < 16; p++) { x = (x * 1103515245 + 12345) % 2147483648
            v = ((p < 8) == (c == 0) ? 200 : 30) + (x % 50); line = line v "," }
        print line (c ? l1 : l0) } }'; }
gen 200 0 1 1 >"$TMP/a.csv"
gen 100 0 1 2 >"$TMP/a_test.csv"
gen 120 7 8 3 >"$TMP/b.csv"
gen 100 7 8 4 >"$TMP/b_test.csv"
awk -F, '{ $1 = ""; print substr($0, 2) }' OFS=, "$TMP/a.csv" >"$TMP/fifteen.csv"
T="--input-shape 16x1x1 --arch dense:8,relu --epochs 6 --batch 16 --lr 0.05 -q"

expect mtl-train 0 "one network per task" -- "$TL" train $T --tasks a="$TMP/a.csv" --tasks b="$TMP/b.csv" \
    --task-test a="$TMP/a_test.csv" --task-test b="$TMP/b_test.csv" --task-weights 1,0.5 --compare \
    --save "$TMP/mt.tlm"
[ -f "$TMP/mt.tlm" ] && ok || bad "mtl-train-writes-model"
acc=$("$TL" train $T --tasks a="$TMP/a.csv" --tasks b="$TMP/b.csv" --task-test b="$TMP/b_test.csv" \
    --save "$TMP/mt2.tlm" --json | sed -n 's/.*"name": "b".*"accuracy": \([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a > 0.9) }' && ok || bad "mtl-train-json-task-accuracy" "accuracy '$acc'"
expect mtl-evaluate-task 0 "accuracy" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task b --data "$TMP/b_test.csv"
expect mtl-predict-task 0 "" -- "$TL" predict --model "$TMP/mt.tlm" --model-task a --input "$TMP/a_test.csv" --out "$TMP/p.csv"
[ "$(wc -l <"$TMP/p.csv")" -ge 100 ] && ok || bad "mtl-predict-task-rows" "$(head -3 "$TMP/p.csv")"
expect mtl-evaluate-no-task 1 "multi-task network (tasks a,b)" -- "$TL" evaluate --model "$TMP/mt.tlm" --data "$TMP/b_test.csv"
expect mtl-evaluate-bad-task 1 "no task named 'c' (the tasks: a, b)" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task c --data "$TMP/b_test.csv"
expect mtl-evaluate-labels-of-other-task 1 "label" -- "$TL" evaluate --model "$TMP/mt.tlm" --model-task a --data "$TMP/b_test.csv"
expect mtl-width 1 "same input width" -- "$TL" train $T --tasks a="$TMP/a.csv" --tasks f="$TMP/fifteen.csv" --save "$TMP/x.tlm"
expect mtl-head-classes 1 "task a: its head has 3 outputs" -- "$TL" train $T --tasks a="$TMP/a.csv" --tasks b="$TMP/b.csv" \
    --head dense:3 --save "$TMP/x.tlm"
expect mtl-weights-count 2 "give 2 weights" -- "$TL" train $T --tasks a="$TMP/a.csv" --tasks b="$TMP/b.csv" \
    --task-weights 1 --save "$TMP/x.tlm"
expect mtl-test-unknown 2 "no task named 'z'" -- "$TL" train $T --tasks a="$TMP/a.csv" --task-test z="$TMP/a.csv" --save "$TMP/x.tlm"
expect mtl-spec-syntax 2 "expected NAME=SPEC" -- "$TL" train $T --tasks "$TMP/a.csv" --save "$TMP/x.tlm"
expect mtl-duplicate 2 "given twice" -- "$TL" train $T --tasks a="$TMP/a.csv" --tasks a="$TMP/b.csv" --save "$TMP/x.tlm"
[ ! -f "$TMP/x.tlm" ] && ok || bad "mtl-errors-write-no-model"
harness_summary
