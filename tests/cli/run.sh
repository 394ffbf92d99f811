#!/bin/sh
# CLI cases: arguments in, exit code and output out. Uses $TL_BIN (default build/tl) and the
# fixtures in tests/cli/data; each group of cases on the shared benchmark data ($TL_DATA_DIR, default
# ../shared/data) is skipped when its data set is absent, counted as one skip with its reason (never
# as a pass). Prints "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
D=tests/cli/data
DATA=${TL_DATA_DIR:-../shared/data}
. tests/cli/harness.sh


expect help 0 "baseline" -- "$TL" help
expect help-cmd-defaults 0 "default: 1nn" -- "$TL" help baseline
expect no-command 2 "usage" -- "$TL"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$TL" frobnicate
expect unknown-option 2 "unknown option --nope" -- "$TL" baseline --nope
expect missing-source 2 "required" -- "$TL" baseline --target $D/small.csv
expect bad-learner 2 "learner" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --learner forest
expect bad-seed 2 "seed" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --seed -3
expect version 0 "tl " -- "$TL" version
# one exit-code table (docs/cli.md): 0 success, 1 runtime or data error, 2 usage error
expect help-exit-status 0 "2 usage error" -- "$TL" help
expect help-cmd-exit-status 0 "exit status: 0 success, 1 runtime or data error, 2 usage error" -- "$TL" help info
expect version-json 0 '^{"version": "[0-9.]*", .*"blas": "' -- "$TL" version --json
expect version-bad-option 2 "unknown option" -- "$TL" version --nope
expect usage-unexpected-argument 2 "unexpected argument 'extra'" -- "$TL" baseline --source $D/small.csv --target $D/small.csv extra
expect usage-distance-missing-target 2 "required" -- "$TL" distance --source $D/small.csv
expect usage-info-no-spec 2 "expects one data spec" -- "$TL" info
expect usage-convert-one-arg 2 "expects IN and OUT" -- "$TL" convert $D/small.csv
expect usage-convert-bad-to 2 "unknown format 'xls'" -- "$TL" convert $D/small.csv "$TMP/u.csv" --to xls
expect usage-bad-format 2 "--format: unknown format 'xls'" -- "$TL" info --format xls $D/small.csv
expect usage-bad-header 2 "--header: 'maybe'" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --header maybe
expect usage-bad-index-base 2 "--index-base" -- "$TL" info --index-base 2 $D/small.csv
expect usage-bad-preprocess 2 "--preprocess" -- "$TL" distance --source $D/small.csv --target $D/small.csv --preprocess bogus
expect usage-bad-preprocess-fit 2 "--preprocess-fit" -- "$TL" baseline --source $D/small.csv --target $D/small.csv --preprocess-fit both
expect usage-bad-threads 2 "--threads" -- "$TL" info --threads -1 $D/small.csv
expect usage-bad-metric 2 "--metric" -- "$TL" distance --source $D/small.csv --target $D/small.csv --metric cosine
# checked before any file is read: a usage error wins over a missing file
expect usage-before-data 2 "--header" -- "$TL" info --header maybe $D/nope.csv
expect runtime-missing-file 1 "nope.csv" -- "$TL" baseline --source $D/nope.csv --target $D/small.csv
# a directory where a file is expected, named as such
mkdir "$TMP/adir" "$TMP/adir.csv"
expect dir-as-csv 1 "adir: is a directory" -- "$TL" info --format csv "$TMP/adir"
expect dir-as-svmlight 1 "adir: is a directory" -- "$TL" info --format svmlight "$TMP/adir"
expect dir-as-model 1 "adir: is a directory, not a file" -- "$TL" transform --model "$TMP/adir" --input $D/small.csv --out "$TMP/dm.csv"
expect dir-as-output 1 "adir.csv': it is a directory" -- "$TL" convert $D/small.csv "$TMP/adir.csv"
rmdir "$TMP/adir" "$TMP/adir.csv"; [ -z "$(ls "$TMP")" ] && ok || bad "usage-and-dir-cases-leave-nothing" "$(ls "$TMP")"

expect info-csv 0 "4 x 2" -- "$TL" info $D/small.csv
expect info-json 0 '"n_rows": 4' -- "$TL" info --json $D/small.csv
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
expect distance-small 0 '"mmd2"' -- "$TL" distance --source $D/small.csv --target $D/small.csv --metric mmd --json
expect distance-json-keys 0 '"n_source": 4, "n_target": 4, "n_features": 2, .*"mmd2": .*"mmd2_rbf": null, .*"p_value": null, .*"seconds": ' -- \
    "$TL" distance --source $D/small.csv --target $D/small.csv --metric mmd --json
expect distance-text-says-squared 0 "MMD^2 linear" -- "$TL" distance --source $D/small.csv --target $D/small.csv --metric mmd
expect baseline-json-keys 0 '"source": .*"target": .*"evaluated_on": .*"n_source": 4, "n_target": 4, "n_eval": 4, .*"seconds": ' -- \
    "$TL" baseline --source $D/small.csv --target $D/small.csv --json
expect convert-json-keys 0 '"command": "convert", "input": .*"output": .*"n_rows": 4, "n_features": 2, "seconds": ' -- \
    "$TL" convert $D/small.csv "$TMP/k.csv" --json
rm -f "$TMP/k.csv"
expect weight-unknown-method 2 "kmeans" -- "$TL" weight --method kmeans --source $D/small.csv --target $D/small.csv
expect weight-bad-out 1 "cannot write" -- "$TL" weight --method kliep --source $D/small.csv --target $D/small.csv --out "$TMP/nodir/w.csv"
[ ! -e "$TMP/nodir" ] && ok || bad "weight-bad-out-leaves-nothing"
expect weight-widths-range 2 "not an integer in \[1, 32\]" -- "$TL" weight --method kliep --widths 40 --source $D/small.csv --target $D/small.csv
expect weight-folds-range 2 "\-\-folds" -- "$TL" weight --method kliep --widths 3 --folds 1 --source $D/small.csv --target $D/small.csv
expect tradaboost-no-labelled 2 "target-labelled" -- "$TL" tradaboost --source $D/small.csv --target $D/small.csv
expect rank-sources-json 0 '"ranking"' -- "$TL" rank-sources --target $D/small.csv $D/small.csv $D/small.csv --json

# convert round trip and atomic failure
expect convert-svm 0 "" -- "$TL" convert $D/small.csv "$TMP/s.svmlight"
expect convert-back 0 "" -- "$TL" convert "$TMP/s.svmlight" "$TMP/s.csv"
a=$("$TL" info --json $D/small.csv); b=$("$TL" info --json "$TMP/s.csv")
[ "$(echo "$a" | sed 's/"input": "[^"]*"//')" = "$(echo "$b" | sed 's/"input": "[^"]*"//')" ] && ok || bad "convert-roundtrip-same-info" "$a / $b"
expect convert-npy 0 "" -- "$TL" convert $D/small.csv "$TMP/s.npy"
expect convert-npy-back 0 "4 x 2" -- "$TL" info "$TMP/s.npy"
expect convert-bad-dir 1 "nodir" -- "$TL" convert $D/small.csv "$TMP/nodir/x.csv"
expect convert-bad-input 1 "ragged.csv:2" -- "$TL" convert $D/ragged.csv "$TMP/r.csv"
[ ! -e "$TMP/r.csv" ] && ok || bad "convert-bad-input-leaves-no-file"
[ -z "$(ls "$TMP" | grep -v -e '^s\.' )" ] && ok || bad "no-temp-files-left" "$(ls "$TMP")"

# outputs that are not regular files are written through, not replaced; a symlink stays a link
mkdir "$TMP/w"
"$TL" convert -q $D/small.csv "$TMP/w/file.csv"
"$TL" convert -q $D/small.csv /dev/stdout --to csv | cat >"$TMP/w/piped.csv"
cmp -s "$TMP/w/piped.csv" "$TMP/w/file.csv" && ok || bad "convert-to-dev-stdout-piped" "$(cat "$TMP/w/piped.csv")"
expect convert-npy-labels-to-stream 1 "stream" -- "$TL" convert $D/small.csv /dev/stdout --to npy
echo old >"$TMP/w/target.csv"
ln -s target.csv "$TMP/w/link.csv"
expect convert-to-symlink 0 "" -- "$TL" convert -q $D/small.csv "$TMP/w/link.csv"
[ -L "$TMP/w/link.csv" ] && [ "$(readlink "$TMP/w/link.csv")" = target.csv ] && ok || bad "convert-symlink-stays-a-link"
cmp -s "$TMP/w/target.csv" "$TMP/w/file.csv" && ok || bad "convert-symlink-target-written" "$(cat "$TMP/w/target.csv")"
mkfifo "$TMP/w/fifo.csv"
cat "$TMP/w/fifo.csv" >"$TMP/w/from_fifo.csv" &
reader=$!
"$TL" convert -q $D/small.csv "$TMP/w/fifo.csv" --to csv; rc=$?
if [ "$rc" -eq 0 ] && [ -p "$TMP/w/fifo.csv" ]; then
    wait "$reader"
    cmp -s "$TMP/w/from_fifo.csv" "$TMP/w/file.csv" && ok || bad "convert-to-fifo-content" "$(cat "$TMP/w/from_fifo.csv")"
else # a FIFO replaced (or not opened) leaves its reader waiting on the old one
    kill "$reader" 2>/dev/null
    bad "convert-to-fifo" "exit $rc; $(ls -l "$TMP/w/fifo.csv")"
fi
[ -z "$(ls "$TMP/w" | grep -e '\.tmp')" ] && ok || bad "streams-no-temp-files" "$(ls "$TMP/w")"

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
    skip surf-1nn "$DATA/office_caltech10_surf not found (set TL_DATA_DIR)"
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
    skip mnist-usps "$DATA/digits_mnist_usps not found (set TL_DATA_DIR)"
fi
# negative-transfer guard: --columns, --labelled-per-class; an unrelated source (DeCAF cut to 800
# columns) flagged without labels, a normal SURF task not flagged, a source with permuted classes
# flagged once a few labelled target rows are given
expect columns-one 0 "4 x 1" -- "$TL" info --columns 1 $D/small.csv
expect columns-bad 2 "increasing list" -- "$TL" info --columns 3-1 $D/small.csv
expect columns-beyond 1 "beyond the 2 features" -- "$TL" info --columns 0-5 $D/small.csv
expect adapt-labelled-exclusive 2 "exclude" -- "$TL" adapt --method pca --source $D/small.csv \
    --target $D/small.csv --target-labelled $D/small.csv --labelled-per-class 1
if [ -d "$DATA/office_caltech10_surf" ] && [ -d "$DATA/office_caltech10_decaf" ]; then
    S=$DATA/office_caltech10_surf
    JDA="adapt --method jda --kernel linear --preprocess rowsum,zscore,l2 --json -q"
    j=$("$TL" $JDA --source $DATA/office_caltech10_decaf/webcam_decaf.mat --columns 0-799 \
        --target $S/amazon_SURF_L10.mat 2>&1)
    case "$j" in *'"negative_transfer": true'*'"unrelated_source": true'*) ok ;;
        *) bad "guard-decaf800-flagged" "$j" ;; esac
    j=$("$TL" $JDA --source $S/caltech_SURF_L10.mat --target $S/amazon_SURF_L10.mat 2>&1)
    case "$j" in *'"negative_transfer": false'*'"unrelated_source": false'*) ok ;;
        *) bad "guard-surf-c-a-not-flagged" "$j" ;; esac
    "$TL" convert -q $S/amazon_SURF_L10.mat "$TMP/amazon.csv" &&
        awk -F, 'BEGIN { OFS = "," } { $NF = $NF % 10 + 1; print }' "$TMP/amazon.csv" >"$TMP/amazon_perm.csv"
    j=$("$TL" $JDA --source "$TMP/amazon_perm.csv" --target $S/caltech_SURF_L10.mat 2>&1)
    case "$j" in *'"negative_transfer": false'*) ok ;;
        *) bad "guard-permuted-invisible-without-labels" "$j" ;; esac
    j=$("$TL" $JDA --source "$TMP/amazon_perm.csv" --target $S/caltech_SURF_L10.mat --labelled-per-class 3 2>&1)
    case "$j" in *'"negative_transfer": true'*'"n": 30'*'"harmful": true'*) ok ;;
        *) bad "guard-permuted-flagged-with-labels" "$j" ;; esac
    expect guard-weight-json 0 '"negative_transfer"' -- "$TL" weight --method kliep \
        --source $S/webcam_SURF_L10.mat --target $S/dslr_SURF_L10.mat --preprocess rowsum,zscore --json -q
    expect weight-widths-ulsif 0 '"gamma": [0-9].*"lambda": [0-9]' -- "$TL" weight --method ulsif --widths 5 --lambda -1 \
        --source $S/webcam_SURF_L10.mat --target $S/dslr_SURF_L10.mat --preprocess rowsum,zscore --json -q
    expect guard-tradaboost-permuted 0 '"negative_transfer": true' -- "$TL" tradaboost \
        --source "$TMP/amazon_perm.csv" --target $S/dslr_SURF_L10.mat --labelled 30 --rounds 4 \
        --preprocess rowsum,zscore --json -q
else
    skip guard-cases "$DATA/office_caltech10_surf or $DATA/office_caltech10_decaf not found (set TL_DATA_DIR)"
fi
# feature-based transfer: tl adapt / tl transform
# a small two-domain problem made here: 3 classes x 12 rows, 6 features; the target is the source
# pattern scaled and shifted (no shared data needed)
awk 'BEGIN { print "f1,f2,f3,f4,f5,f6,label"
    for (i = 0; i < 36; i++) { c = i % 3; s = ""
        for (j = 0; j < 6; j++) s = s sprintf("%.6f,", (j % 3 == c ? 2 : 0) + sin(7 * i + 3 * j)); print s (c + 1) } }' \
    >"$TMP/fsrc.csv"
awk 'BEGIN { print "f1,f2,f3,f4,f5,f6,label"
    for (i = 0; i < 30; i++) { c = i % 3; s = ""
        for (j = 0; j < 6; j++) s = s sprintf("%.6f,", 0.7 * ((j % 3 == c ? 2 : 0) + sin(5 * i + j)) + 0.4); print s (c + 1) } }' \
    >"$TMP/ftgt.csv"
FS="--source $TMP/fsrc.csv --target $TMP/ftgt.csv"
expect adapt-tca-small 0 '"baseline_accuracy"' -- "$TL" adapt --method tca --dim 3 $FS --json
for m in pca sa gfk jda bda; do
    expect "adapt-$m-small" 0 '"accuracy"' -- "$TL" adapt --method $m --dim 2 $FS --json
done
# CORAL keeps every feature: it has no dimension, and says so rather than ignoring --dim
expect adapt-coral-small 0 '"accuracy"' -- "$TL" adapt --method coral $FS --json
expect adapt-coral-no-dim 2 "coral has no parameter 'dim'" -- "$TL" adapt --method coral --dim 2 $FS
expect adapt-tca-rbf-small 0 '"accuracy"' -- "$TL" adapt --method tca --kernel rbf --dim 3 $FS --json
expect adapt-augment-small 0 '"target_only_accuracy"' -- "$TL" adapt --method augment $FS \
    --target-labelled "$TMP/ftgt.csv" --json
# save -> transform: the saved model maps the target to exactly what --out-target wrote
for k in primal rbf; do
    expect "adapt-save-$k" 0 "" -- "$TL" adapt --method jda --kernel $k --dim 3 $FS --preprocess zscore \
        --save-mapping "$TMP/f_$k.tlm" --out-target "$TMP/zt_$k.csv" -q
    expect "transform-$k" 0 "" -- "$TL" transform --model "$TMP/f_$k.tlm" --input "$TMP/ftgt.csv" \
        --preprocess zscore --out "$TMP/zt2_$k.csv" -q
    cmp -s "$TMP/zt_$k.csv" "$TMP/zt2_$k.csv" && ok || bad "transform-$k-equals-out-target" \
        "$(head -n 3 "$TMP/zt_$k.csv" "$TMP/zt2_$k.csv")"
done
expect transform-json 0 '"n_features": 3' -- "$TL" transform --model "$TMP/f_primal.tlm" --input "$TMP/ftgt.csv" \
    --out "$TMP/zt3.csv" --json
expect transform-wrong-features 1 "features" -- "$TL" transform --model "$TMP/f_primal.tlm" \
    --input $D/small.csv --out "$TMP/zbad.csv"
[ ! -e "$TMP/zbad.csv" ] && ok || bad "transform-wrong-features-leaves-no-file"
# corrupted model files: truncated, one byte changed -> non-zero exit naming the file, no output
head -c 200 "$TMP/f_primal.tlm" >"$TMP/trunc.tlm"
expect transform-truncated-model 1 "trunc.tlm" -- "$TL" transform --model "$TMP/trunc.tlm" \
    --input "$TMP/ftgt.csv" --out "$TMP/ztrunc.csv"
[ ! -e "$TMP/ztrunc.csv" ] && ok || bad "transform-truncated-model-leaves-no-file"
cp "$TMP/f_primal.tlm" "$TMP/flip.tlm"
off=$(($(wc -c <"$TMP/flip.tlm") / 2))
byte=$(od -An -tx1 -j "$off" -N1 "$TMP/flip.tlm" | tr -d ' ')
[ "$byte" = 41 ] && nb=B || nb=A
printf '%s' "$nb" | dd of="$TMP/flip.tlm" bs=1 seek="$off" conv=notrunc 2>/dev/null
cmp -s "$TMP/f_primal.tlm" "$TMP/flip.tlm" && bad "flip-byte-changed-nothing" || ok
expect transform-flipped-byte 1 "flip.tlm" -- "$TL" transform --model "$TMP/flip.tlm" \
    --input "$TMP/ftgt.csv" --out "$TMP/zflip.csv"
[ ! -e "$TMP/zflip.csv" ] && ok || bad "transform-flipped-byte-leaves-no-file"
expect transform-missing-model 1 "nope.tlm" -- "$TL" transform --model "$TMP/nope.tlm" \
    --input "$TMP/ftgt.csv" --out "$TMP/znope.csv"
expect transform-no-args 2 "required" -- "$TL" transform --model "$TMP/f_primal.tlm"
# bad parameters: clear message, non-zero exit
expect adapt-dim-too-large 2 "dim = 7 exceeds the feature count 6" -- "$TL" adapt --method tca --dim 7 $FS
expect adapt-negative-lambda 2 "lambda" -- "$TL" adapt --method jda --lambda -1 $FS
expect adapt-unknown-kernel 2 "'sigmoid' is not one of primal, linear, rbf, poly" -- \
    "$TL" adapt --method tca --kernel sigmoid $FS
expect adapt-unknown-method 2 "unknown adaptation method 'foo'" -- "$TL" adapt --method foo $FS
expect adapt-mu-above-1 2 "mu" -- "$TL" adapt --method bda --mu 2 $FS
expect adapt-augment-unlabelled 2 "needs labelled target rows (--target-labelled" -- \
    "$TL" adapt --method augment $FS
expect adapt-feature-mismatch 1 "features" -- "$TL" adapt --method tca --source $D/small.csv \
    --target "$TMP/ftgt.csv"
[ -z "$(ls "$TMP" | grep -e '\.tmp' -e '^z.*\.tlm')" ] && ok || bad "adapt-no-temp-files-left" "$(ls "$TMP")"
# the published SURF C->A figures: JDA with the linear kernel gives the published 44.78 exactly;
# TCA (primal) gives libtl's reproduced figure (its 12-task average reproduces the published one)
if [ -d "$DATA/office_caltech10_surf" ]; then
    S=$DATA/office_caltech10_surf
    SA="--source $S/caltech_SURF_L10.mat --target $S/amazon_SURF_L10.mat --preprocess rowsum,zscore,l2"
    acc() { sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.2f", 100*$1}'; }
    got=$("$TL" adapt --method jda --kernel linear $SA --json -q --save "$TMP/jda.tlm" \
          --out-target "$TMP/jda_t.csv" | acc)
    [ "$got" = "44.78" ] && ok || bad "surf-jda-linear C->A" "got $got, published 44.78"
    expect surf-jda-transform 0 "" -- "$TL" transform --model "$TMP/jda.tlm" --input $S/amazon_SURF_L10.mat \
        --out "$TMP/jda_t2.csv" -q
    cmp -s "$TMP/jda_t.csv" "$TMP/jda_t2.csv" && ok || bad "surf-jda-transform-equals-out-target"
    got=$("$TL" adapt --method tca $SA --json -q | acc)
    [ "$got" = "43.42" ] && ok || bad "surf-tca C->A" "got $got, expected 43.42 (published 38.20)"
else
    skip surf-adapt "$DATA/office_caltech10_surf not found (set TL_DATA_DIR)"
fi
# every transferring command's --json validates against the documented schema
# (docs/report.schema.json; checker: tests/test_report_schema.c)
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
schema_ok() { # NAME FILE
    out=$("$CHECKER" --validate docs/report.schema.json "$2" 2>&1) && ok || bad "schema-$1" "$out"
}
"$TL" adapt --method jda --dim 2 $FS --json -q >"$TMP/s_adapt.json" 2>/dev/null; schema_ok adapt "$TMP/s_adapt.json"
"$TL" adapt --method pca --dim 2 $FS --labelled-per-class 2 --json -q >"$TMP/s_adapt_l.json" 2>/dev/null
schema_ok adapt-labelled "$TMP/s_adapt_l.json"
"$TL" weight --method kliep $FS --json -q >"$TMP/s_weight.json" 2>/dev/null; schema_ok weight "$TMP/s_weight.json"
"$TL" weight --method rulsif $FS --no-guard --json -q >"$TMP/s_weight_ng.json" 2>/dev/null
schema_ok weight-no-guard "$TMP/s_weight_ng.json"
"$TL" tradaboost $FS --labelled 6 --rounds 3 --json -q >"$TMP/s_tab.json" 2>/dev/null; schema_ok tradaboost "$TMP/s_tab.json"
"$TL" rank-sources --target "$TMP/ftgt.csv" --target-labelled "$TMP/ftgt.csv" "$TMP/fsrc.csv" "$TMP/ftgt.csv" --json -q \
    >"$TMP/s_rank.json" 2>/dev/null; schema_ok rank-sources "$TMP/s_rank.json"
"$TL" rank-sources --target "$TMP/ftgt.csv" "$TMP/fsrc.csv" --no-a-distance --json -q >"$TMP/s_rank2.json" 2>/dev/null
schema_ok rank-sources-no-a "$TMP/s_rank2.json"
# the schema check fails on a document that breaks it
sed 's/"gain"/"gainz"/' "$TMP/s_adapt.json" >"$TMP/s_bad.json"
"$CHECKER" --validate docs/report.schema.json "$TMP/s_bad.json" >/dev/null 2>&1 && bad "schema-catches-a-broken-report" || ok
# the method added as one file (relative uLSIF) appears in help, JSON, saved models and the guard
expect rulsif-help 0 "rulsif" -- "$TL" help weight
j=$("$TL" weight --method rulsif --alpha 0.5 $FS --save "$TMP/rulsif.tlm" --json -q 2>&1)
case "$j" in *'"method": "rulsif"'*'"alpha": 0.5'*'"negative_transfer": '[tf]*'"effective_sample_size": '[0-9]*) ok ;;
    *) bad "rulsif-json-guard" "$j" ;; esac
[ -s "$TMP/rulsif.tlm" ] && ok || bad "rulsif-saved"
expect rulsif-bad-alpha 2 "alpha = '1.5' is not a number in \[0, 0.999\]" -- "$TL" weight --method rulsif --alpha 1.5 $FS
# the pipeline: saved whole, it maps new rows with its own fitted scaling
expect adapt-save-pipeline 0 "" -- "$TL" adapt --method coral $FS --preprocess zscore --save "$TMP/pipe.tlm" \
    --out-target "$TMP/pipe_t.csv" -q
expect transform-pipeline 0 "" -- "$TL" transform --model "$TMP/pipe.tlm" --input "$TMP/ftgt.csv" --out "$TMP/pipe_t2.csv" -q
cmp -s "$TMP/pipe_t.csv" "$TMP/pipe_t2.csv" && ok || bad "pipeline-transform-equals-out-target"
# heterogeneous transfer: source and target of different widths (3 and 6 features)
HS="--source $D/het_src.csv --target $D/het_tgt.csv"
expect het-homogeneous-refused 1 "needs one feature space; the heterogeneous methods (cdspp, cdls)" -- \
    "$TL" adapt --method jda $HS --labelled-per-class 2 --save "$TMP/het_jda.tlm"
[ ! -e "$TMP/het_jda.tlm" ] && ok || bad "het-homogeneous-refused-leaves-no-file"
expect het-no-labelled-rows 2 "cdspp needs labelled target rows" -- "$TL" adapt --method cdspp $HS --save "$TMP/het_nl.tlm"
[ ! -e "$TMP/het_nl.tlm" ] && ok || bad "het-no-labelled-rows-leaves-no-file"
for m in cdspp cdls; do
    expect het-$m 0 "gain .* over the target-only learner" -- "$TL" adapt --method $m $HS --labelled-per-class 2 \
        --dim 2 --save "$TMP/het_$m.tlm" --out-target "$TMP/het_$m.csv"
    expect het-$m-predict 0 "" -- "$TL" predict --model "$TMP/het_$m.tlm" --input $D/het_tgt.csv -q
    expect het-$m-predict-source-width 1 "the pipeline's domain 1 has 6" -- \
        "$TL" predict --model "$TMP/het_$m.tlm" --input $D/het_src.csv -q
done
"$TL" adapt --method cdspp $HS --labelled-per-class 2 --dim 2 --json -q >"$TMP/het.json" 2>&1 &&
    "$CHECKER" --validate docs/report.schema.json "$TMP/het.json" >/dev/null 2>&1 && ok ||
    bad "het-json-follows-the-schema" "$(cat "$TMP/het.json")"
# several sources: combined, a mismatched label set refused, only tl adapt combines
expect ms-two-sources 0 "weighted .* (best single source" -- "$TL" adapt --method coral --source $D/het_src.csv \
    --source $D/het_src.csv --target $D/het_src.csv --combine weighted
expect ms-json 0 '"combine": "vote".*"sources": \[{' -- "$TL" adapt --method coral --source $D/het_src.csv \
    --source $D/het_src.csv --target $D/het_src.csv --combine vote --json -q
expect ms-label-sets 1 "label sets differ" -- "$TL" adapt --method coral --source $D/het_src.csv \
    --source $D/ms_other_labels.csv --target $D/het_src.csv
expect ms-bad-combine 2 "'mean' is not a combination" -- "$TL" adapt --method coral --source $D/het_src.csv \
    --source $D/het_src.csv --target $D/het_src.csv --combine mean
expect ms-save 0 "pipeline saved to" -- "$TL" adapt --method coral \
    --source $D/het_src.csv --source $D/het_src.csv --target $D/het_src.csv --save "$TMP/ms.tlm"
expect ms-predict 0 "accuracy 100.00 % on the 15 labelled rows" -- "$TL" predict --model "$TMP/ms.tlm" --input $D/het_src.csv
expect ms-predict-source 1 "predicts target rows" -- "$TL" predict --model "$TMP/ms.tlm" --input $D/het_src.csv --domain source
rm -f "$TMP/ms.tlm"
expect ms-no-save-mapping 2 "--save-mapping is not available with several sources" -- "$TL" adapt --method coral \
    --source $D/het_src.csv --source $D/het_src.csv --target $D/het_src.csv --save-mapping "$TMP/ms.tlm"
[ ! -e "$TMP/ms.tlm" ] && ok || bad "ms-no-save-leaves-no-file"
expect ms-weight 0 "weighted .* (best single source" -- "$TL" weight --method kmm --source $D/het_src.csv \
    --source $D/het_src.csv --target $D/het_src.csv
expect ms-weight-no-out 2 "--out is not available with several sources" -- "$TL" weight --method kmm \
    --source $D/het_src.csv --source $D/het_src.csv --target $D/het_src.csv --out "$TMP/w.csv"
[ ! -e "$TMP/w.csv" ] && ok || bad "ms-weight-no-out-leaves-no-file"
expect ms-tradaboost 0 '"combine": "vote".*"sources": \[{' -- "$TL" tradaboost --source $D/het_src.csv \
    --source $D/het_src.csv --target $D/het_src.csv --labelled 6 --combine vote --json -q

# automatic transfer: tl auto on the same small problem
expect auto-json 0 '"chosen": ' -- "$TL" auto $FS --json -q
expect auto-table 0 "runners-up\|rank candidate" -- "$TL" auto $FS -q --show 3
expect auto-save 0 "pipeline saved to" -- "$TL" auto $FS -q --save "$TMP/auto.tlm"
expect auto-predict 0 "accuracy" -- "$TL" predict --model "$TMP/auto.tlm" --input "$TMP/ftgt.csv"
expect auto-budget-zero 0 "budget 0 s too small for any transfer candidate" -- "$TL" auto $FS --budget 0
expect auto-budget-zero-json 0 '"budget_too_small": true, "all_harmful": false, "skipped": [1-9][0-9]*, "chosen": "none"' -- "$TL" auto $FS --budget 0 --json -q
expect auto-two-sources 0 '"sources": ' -- "$TL" auto $FS "$TMP/fsrc.csv" --json -q --grid 0
expect auto-widths 1 "has 6 features and the target .* 3: every candidate method needs domains of the same width" -- "$TL" auto --source "$TMP/fsrc.csv" --target $D/three_features.csv
head -n 1 "$TMP/ftgt.csv" >"$TMP/auto_empty.csv"
expect auto-empty-target 1 "no data rows" -- "$TL" auto --source "$TMP/fsrc.csv" --target "$TMP/auto_empty.csv"
expect auto-missing-target 2 "required" -- "$TL" auto --source "$TMP/fsrc.csv"
expect auto-bad-budget 2 "budget" -- "$TL" auto $FS --budget -1
expect auto-bad-clock 2 "--budget-clock" -- "$TL" auto $FS --budget-clock sun
expect auto-cpu-clock 0 "cpu clock" -- "$TL" auto $FS --budget-clock cpu -q --show 1
# network candidates: the network trained on the source alone and DANN / DAN / Deep CORAL join
# the search, each scored by the criteria (a number, not NaN, for entropy); a wrong network refused
AN="--arch flatten,dense:8,relu,dense:3 --net-epochs 30 --net-batch 12"
expect auto-net-candidates 0 '"candidate": "deep-da da=dann lambda=0 epochs=30 batch=12", "method": "deep-da", "rung": 0, "entropy": [0-9]' -- "$TL" auto $FS $AN --json -q
expect auto-net-adaptations 0 '"candidate": "deep-da da=coral lambda=30000 epochs=30 batch=12", "method": "deep-da", "rung": 0, "entropy": [0-9]' -- "$TL" auto $FS $AN --json -q
expect auto-net-table 0 "deep-da da=dan lambda=[0-9.]" -- "$TL" auto $FS $AN -q --show 0
expect auto-net-outputs 2 "has 4 outputs but the source .* has 3 classes: end --arch with dense:3" -- "$TL" auto $FS --arch flatten,dense:4 -q
expect auto-net-missing 1 "cannot open" -- "$TL" auto $FS --net "$TMP/no_such_net.tlm" -q
expect auto-net-both 2 "give one network" -- "$TL" auto $FS --net "$TMP/x.tlm" --arch dense:3 -q
# through intermediate domains (issue 13): --via walks them in order, --pool chooses the path by
# distances (the far-off copy left out), the pipeline saves; bad input refused with no output file
R="$D/rot_src.csv" RN=":label=none"
expect via-gradual 0 "gradual  *100.00 %" -- "$TL" adapt --source $R --via $D/rot_18.csv$RN \
    $D/rot_36.csv$RN $D/rot_54.csv$RN $D/rot_72.csv$RN --target $D/rot_tgt.csv --learner logreg --C 1
expect via-direct-fails 0 "direct self-training  *3[0-9]" -- "$TL" adapt --source $R --via $D/rot_18.csv$RN \
    $D/rot_36.csv$RN $D/rot_54.csv$RN $D/rot_72.csv$RN --target $D/rot_tgt.csv --learner logreg --C 1
expect pool-path 0 '"path": \["[^"]*rot_18[^"]*", "[^"]*rot_36[^"]*", "[^"]*rot_54[^"]*", "[^"]*rot_72[^"]*"\]' -- \
    "$TL" adapt --source $R --pool $D/rot_54.csv$RN $D/rot_far.csv$RN $D/rot_18.csv$RN $D/rot_72.csv$RN \
    $D/rot_36.csv$RN --target $D/rot_tgt.csv --learner logreg --C 1 --json -q
expect pool-saves 0 "pipeline saved to" -- "$TL" adapt --source $R --pool $D/rot_54.csv$RN $D/rot_18.csv$RN \
    $D/rot_72.csv$RN $D/rot_36.csv$RN --target $D/rot_tgt.csv --learner logreg --C 1 --save "$TMP/gr.tlm"
expect pool-predicts 0 "accuracy 100.00 %" -- "$TL" predict --model "$TMP/gr.tlm" --input $D/rot_tgt.csv
rm -f "$TMP/gr.tlm"
expect pool-of-one 2 "--pool needs at least two domains" -- "$TL" adapt --source $R --pool $D/rot_18.csv$RN \
    --target $D/rot_tgt.csv --learner logreg --save "$TMP/g1.tlm"
[ ! -e "$TMP/g1.tlm" ] && ok || bad "pool-of-one-leaves-no-file"
expect via-and-pool 2 "exclude each other" -- "$TL" adapt --source $R --via $D/rot_18.csv$RN --pool \
    $D/rot_36.csv$RN --target $D/rot_tgt.csv
expect via-method 0 "gradual coral  *100.00 %" -- "$TL" adapt --method coral --source $R \
    --via $D/rot_18.csv$RN $D/rot_36.csv$RN $D/rot_54.csv$RN $D/rot_72.csv$RN --target $D/rot_tgt.csv \
    --learner logreg --C 1
expect via-width 1 "has 3 features" -- "$TL" adapt --source $R --via $D/het_src.csv --target $D/rot_tgt.csv \
    --learner logreg --save "$TMP/g2.tlm"
[ ! -e "$TMP/g2.tlm" ] && ok || bad "via-width-leaves-no-file"
expect via-bad-keep 2 "--keep" -- "$TL" adapt --source $R --via $D/rot_18.csv$RN --target $D/rot_tgt.csv --keep 2
# --preprocess with --via/--pool: fitted as tl adapt fits it (on the source, or per domain), saved
# in the pipeline, which scales raw target rows as the walk did
V4="$D/rot_18.csv$RN $D/rot_36.csv$RN $D/rot_54.csv$RN $D/rot_72.csv$RN"
expect via-preprocess-source 0 "gradual  *100.00 %" -- "$TL" adapt --source $R --via $V4 --target $D/rot_tgt.csv \
    --learner logreg --C 1 --preprocess zscore --preprocess-fit source --save "$TMP/gp.tlm"
expect via-preprocess-source-predicts 0 "accuracy 100.00 %" -- "$TL" predict --model "$TMP/gp.tlm" --input $D/rot_tgt.csv
expect via-preprocess-domain 0 "gradual  *92.50 %" -- "$TL" adapt --source $R --via $V4 --target $D/rot_tgt.csv \
    --learner logreg --C 1 --preprocess zscore --save "$TMP/gp.tlm"
expect via-preprocess-domain-predicts 0 "accuracy 92.50 %" -- "$TL" predict --model "$TMP/gp.tlm" --input $D/rot_tgt.csv
expect pool-preprocess-path 0 '"path": \["[^"]*rot_18[^"]*", "[^"]*rot_36[^"]*", "[^"]*rot_54[^"]*", "[^"]*rot_72[^"]*"\]' -- \
    "$TL" adapt --source $R --pool $D/rot_54.csv$RN $D/rot_far.csv$RN $D/rot_18.csv$RN $D/rot_72.csv$RN \
    $D/rot_36.csv$RN --target $D/rot_tgt.csv --learner logreg --C 1 --preprocess zscore --preprocess-fit source --json -q
rm -f "$TMP/gp.tlm"
expect via-bad-preprocess 2 "--preprocess" -- "$TL" adapt --source $R --via $V4 --target $D/rot_tgt.csv \
    --preprocess cube --save "$TMP/gp.tlm"
[ ! -e "$TMP/gp.tlm" ] && ok || bad "via-bad-preprocess-leaves-no-file"
expect ms-label-sets-no-file 1 "label sets differ" -- "$TL" adapt --method coral --source $D/het_src.csv \
    --source $D/ms_other_labels.csv --target $D/het_src.csv --save "$TMP/ms_ls.tlm"
[ ! -e "$TMP/ms_ls.tlm" ] && ok || bad "ms-label-sets-leaves-no-file"

# tl auto's JSON follows the documented schema (docs/report.schema.json, $defs/auto)
"$TL" auto $FS --json -q >"$TMP/s_auto.json" 2>/dev/null; schema_ok auto "$TMP/s_auto.json"
"$TL" auto $FS "$TMP/fsrc.csv" --grid 0 --json -q --save "$TMP/auto2.tlm" >"$TMP/s_auto2.json" 2>/dev/null
schema_ok auto-two-sources-saved "$TMP/s_auto2.json"
"$TL" auto $FS --budget 0 --json -q >"$TMP/s_auto0.json" 2>/dev/null; schema_ok auto-budget-zero "$TMP/s_auto0.json"
"$TL" auto $FS --target-test "$TMP/ftgt.csv" --json -q >"$TMP/s_auto_t.json" 2>/dev/null
schema_ok auto-target-test "$TMP/s_auto_t.json"
sed 's/"top_share"/"top_shares"/' "$TMP/s_auto.json" >"$TMP/s_auto_bad.json"
"$CHECKER" --validate docs/report.schema.json "$TMP/s_auto_bad.json" >/dev/null 2>&1 && bad "schema-catches-a-broken-auto" || ok
harness_summary
