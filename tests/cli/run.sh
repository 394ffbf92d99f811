#!/bin/sh
# CLI cases: arguments in, exit code and output out. Uses $TL_BIN (default build/tl) and the
# fixtures in tests/cli/data; cases on the shared benchmark data are skipped, with a message, when
# ../shared/data is absent. Prints "N passed, N failed".
TL=${TL_BIN:-build/tl}
D=tests/cli/data
DATA=${TL_DATA_DIR:-../shared/data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "$2" ] && printf '  %s\n' "$2" | head -n 5; }

# expect NAME EXIT_CODE PATTERN_IN_OUTPUT -- command...
expect() {
    name=$1 code=$2 pat=$3; shift 4
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name (exit $rc, expected $code)" "$out"; return; fi
    if [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; then bad "$name (output lacks '$pat')" "$out"; return; fi
    ok
}

expect help 0 "baseline" -- "$TL" help
expect help-cmd-defaults 0 "default: 1nn" -- "$TL" help baseline
expect no-command 2 "usage" -- "$TL"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$TL" frobnicate
expect unknown-option 2 "unknown option --nope" -- "$TL" baseline --nope
expect missing-source 1 "required" -- "$TL" baseline --target $D/small.csv
expect bad-learner 2 "learner" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --learner forest
expect bad-seed 2 "seed" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --seed -3
expect version 0 "tl " -- "$TL" version

expect info-csv 0 "4 x 2" -- "$TL" info $D/small.csv
expect info-json 0 '"rows": 4' -- "$TL" info --json $D/small.csv
expect info-missing-file 1 "nope.csv" -- "$TL" info $D/nope.csv
expect info-empty 1 "empty.csv" -- "$TL" info $D/empty.csv
expect info-ragged 1 "ragged.csv:2" -- "$TL" info $D/ragged.csv
expect info-nonnumeric 1 "nonnumeric.csv:2" -- "$TL" info $D/nonnumeric.csv
expect info-nan 1 "nan.csv:2" -- "$TL" info $D/nan.csv
expect info-label-col-missing 1 "label" -- "$TL" info --label-col 7 $D/small.csv
expect info-svm-order 1 "bad_order.svmlight:2" -- "$TL" info $D/bad_order.svmlight

expect baseline-small 0 "accuracy" -- "$TL" baseline --source $D/small.csv --target $D/small.csv
j=$("$TL" baseline --source $D/small.csv --target $D/small.csv --json -q 2>&1)
case "$j" in *'"accuracy": 1,'*|*'"accuracy": 1}'*) ok ;; *) bad "baseline-json-accuracy" "$j" ;; esac
expect baseline-feature-mismatch 1 "features" -- "$TL" baseline --source $D/small.csv --target $D/three_features.csv
expect baseline-unknown-label 1 "label 3" -- "$TL" baseline --source $D/small.csv --target $D/unknown_label.csv
expect baseline-unknown-label-allowed 0 "accuracy" -- "$TL" baseline --source $D/small.csv --target $D/unknown_label.csv --allow-unknown-labels

# measures and instance weighting
expect distance-feature-mismatch 1 "features" -- "$TL" distance --source $D/small.csv --target $D/three_features.csv
expect distance-small 0 '"mmd"' -- "$TL" distance --source $D/small.csv --target $D/small.csv --metric mmd --json
expect weight-unknown-method 2 "kmeans" -- "$TL" weight --method kmeans --source $D/small.csv --target $D/small.csv
expect weight-bad-out 1 "cannot write" -- "$TL" weight --method kliep --source $D/small.csv --target $D/small.csv --out "$TMP/nodir/w.csv"
[ ! -e "$TMP/nodir" ] && ok || bad "weight-bad-out-leaves-nothing"
expect tradaboost-no-labelled 1 "target-labelled" -- "$TL" tradaboost --source $D/small.csv --target $D/small.csv
expect rank-sources-json 0 '"ranking"' -- "$TL" rank-sources --target $D/small.csv $D/small.csv $D/small.csv --json

# convert round trip and atomic failure
expect convert-svm 0 "" -- "$TL" convert $D/small.csv "$TMP/s.svmlight"
expect convert-back 0 "" -- "$TL" convert "$TMP/s.svmlight" "$TMP/s.csv"
a=$("$TL" info --json $D/small.csv); b=$("$TL" info --json "$TMP/s.csv")
[ "$(echo "$a" | sed 's/"spec": "[^"]*"//')" = "$(echo "$b" | sed 's/"spec": "[^"]*"//')" ] && ok || bad "convert-roundtrip-same-info" "$a / $b"
expect convert-npy 0 "" -- "$TL" convert $D/small.csv "$TMP/s.npy"
expect convert-npy-back 0 "4 x 2" -- "$TL" info "$TMP/s.npy"
expect convert-bad-dir 1 "nodir" -- "$TL" convert $D/small.csv "$TMP/nodir/x.csv"
expect convert-bad-input 1 "ragged.csv:2" -- "$TL" convert $D/ragged.csv "$TMP/r.csv"
[ ! -e "$TMP/r.csv" ] && ok || bad "convert-bad-input-leaves-no-file"
[ -z "$(ls "$TMP" | grep -v -e '^s\.' )" ] && ok || bad "no-temp-files-left" "$(ls "$TMP")"

# The loaders' and preprocessing's proof: the published 1-NN accuracies, exactly.
if [ -d "$DATA/office_caltech10_surf" ]; then
    S=$DATA/office_caltech10_surf
    for task in "caltech amazon 23.70" "caltech webcam 25.76" "caltech dslr 25.48" \
                "amazon caltech 26.00" "amazon webcam 29.83" "amazon dslr 25.48" \
                "webcam caltech 19.86" "webcam amazon 22.96" "webcam dslr 59.24" \
                "dslr caltech 26.27" "dslr amazon 28.50" "dslr webcam 63.39"; do
        set -- $task
        got=$("$TL" baseline --source $S/$1_SURF_L10.mat --target $S/$2_SURF_L10.mat \
              --preprocess rowsum,zscore --learner 1nn --json -q | sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' |
              awk '{printf "%.2f", 100*$1}')
        [ "$got" = "$3" ] && ok || bad "surf-1nn $1->$2" "got $got, published $3"
    done
    expect surf-vs-decaf-features 1 "features" -- "$TL" baseline --source $S/dslr_SURF_L10.mat \
        --target $DATA/office_caltech10_decaf/webcam_decaf.mat
else
    echo "SKIP surf-1nn: $DATA/office_caltech10_surf not found"
fi
if [ -d "$DATA/digits_mnist_usps" ]; then
    M=$DATA/digits_mnist_usps/MNIST_vs_USPS.mat
    got=$("$TL" baseline --source $M:X_src,Y_src --target $M:X_tar,Y_tar --preprocess l2 --json -q |
          sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.2f", 100*$1}')
    [ "$got" = "65.94" ] && ok || bad "mnist->usps 1-NN" "got $got, published 65.94"
    got=$("$TL" baseline --source $M:X_tar,Y_tar --target $M:X_src,Y_src --preprocess l2 --json -q |
          sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.2f", 100*$1}')
    [ "$got" = "44.70" ] && ok || bad "usps->mnist 1-NN" "got $got, published 44.70"
    expect mat-missing-var 1 "X_foo" -- "$TL" info $M:X_foo,Y_src
else
    echo "SKIP mnist-usps: $DATA/digits_mnist_usps not found"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
