#!/bin/sh
# The real-user battery (issue 18): one case per problem a new user met on data nobody tuned libtl
# for - an unlabelled target, predictions to keep, labels, defaults that fit the data, outputs that
# appear only on success, the guard's words, consistent exit codes and keys. Each case: the
# command, the exit code expected and the message or result. Data are generated here (a shifted
# 5-feature two-class problem). Uses $TL_BIN (default build/tl). Prints "N passed, N failed, N
# skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh
# no_file NAME PATH: a failed command left nothing at PATH
no_file() { [ ! -e "$2" ] && ok || bad "$1 (left $2 behind)"; }

# data: source N(0,1), target N(0.5,1.5); the class is the sign of x0 + x1 (- 1 in the target)
awk 'BEGIN { srand(7); for (i = 0; i < 120; i++) { s = ""; for (k = 0; k < 5; k++) {
        u = 0; for (j = 0; j < 12; j++) u += rand(); x[k] = u - 6; s = s x[k] "," }
    print s (x[0] + x[1] > 0 ? 1 : 0) } }' >"$TMP/src.csv"
awk 'BEGIN { srand(8); for (i = 0; i < 90; i++) { s = ""; for (k = 0; k < 5; k++) {
        u = 0; for (j = 0; j < 12; j++) u += rand(); x[k] = 1.5 * (u - 6) + 0.5; s = s x[k] "," }
    print s (x[0] + x[1] > 1 ? 1 : 0) } }' >"$TMP/tgt.csv"
sed 's/,[01]$//' "$TMP/tgt.csv" >"$TMP/tgt_nolab.csv"
S="--source $TMP/src.csv"

# ---- an unlabelled target ----
for c in adapt weight; do
    m=coral; [ $c = weight ] && m=kliep
    expect "$c-unlabelled-target" 0 "predictions only" -- "$TL" $c --method $m $S \
        --target "$TMP/tgt_nolab.csv:label=none"
done
expect tradaboost-unlabelled-target 0 "predictions only" -- "$TL" tradaboost $S \
    --target "$TMP/tgt_nolab.csv:label=none" --target-labelled "$TMP/tgt.csv" --rounds 3
expect adapt-unlabelled-save-only 0 "pipeline saved to" -- "$TL" adapt --method coral $S \
    --target "$TMP/tgt_nolab.csv:label=none" --save "$TMP/u.tlm"
printf '1,2,3,4,5\n4,5,6,7,8\n2,2,2,2,2\n' >"$TMP/int_nolab.csv"
expect unlabelled-csv-hint 1 "int_nolab.csv:label=none'" -- "$TL" adapt --method coral $S --target "$TMP/int_nolab.csv"
expect unlabelled-csv-float-hint 1 "':label=none' after its name" -- "$TL" adapt --method coral $S --target "$TMP/tgt_nolab.csv"

# ---- predictions you can keep: the whole pipeline, one row at a time as in a batch ----
expect adapt-save-pipeline 0 "pipeline saved to" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" \
    --preprocess zscore --learner logreg --save "$TMP/p.tlm"
"$TL" predict --model "$TMP/p.tlm" --input "$TMP/tgt_nolab.csv" -q >"$TMP/batch.txt" 2>&1
: >"$TMP/one.txt"
while read -r row; do
    echo "$row" >"$TMP/row.csv"
    "$TL" predict --model "$TMP/p.tlm" --input "$TMP/row.csv" -q >>"$TMP/one.txt" 2>&1
done <"$TMP/tgt_nolab.csv"
[ "$(wc -l <"$TMP/batch.txt")" -eq 90 ] && cmp -s "$TMP/batch.txt" "$TMP/one.txt" && ok ||
    bad "predict-one-row-at-a-time-equals-batch" "$(paste "$TMP/batch.txt" "$TMP/one.txt" | head -3)"
expect predict-labelled-accuracy 0 '"accuracy": 0\.[0-9]' -- "$TL" predict --model "$TMP/p.tlm" \
    --input "$TMP/tgt.csv" --json
expect predict-proba 0 "" -- "$TL" predict --model "$TMP/p.tlm" --input "$TMP/tgt.csv" --out "$TMP/pr.csv" --proba
[ "$(head -1 "$TMP/pr.csv")" = "sample,label,p_0,p_1" ] && ok || bad "predict-proba-header" "$(head -2 "$TMP/pr.csv")"
expect predict-proba-needs-out 2 "needs --out" -- "$TL" predict --model "$TMP/p.tlm" --input "$TMP/tgt.csv" --proba
cut -d, -f1-3 "$TMP/tgt.csv" >"$TMP/narrow.csv"
expect predict-wrong-width 1 "features" -- "$TL" predict --model "$TMP/p.tlm" --input "$TMP/narrow.csv" --label-col none
expect transform-pipeline-own-scaling 0 "" -- "$TL" transform --model "$TMP/p.tlm" --input "$TMP/row.csv" \
    --label-col none --out "$TMP/row_t.csv"
expect transform-pipeline-refuses-preprocess 2 "is a pipeline" -- "$TL" transform --model "$TMP/p.tlm" \
    --input "$TMP/row.csv" --label-col none --preprocess zscore --out "$TMP/row_t2.csv"
no_file transform-refused-no-output "$TMP/row_t2.csv"
expect adapt-save-mapping 0 "" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" --preprocess zscore \
    --save-mapping "$TMP/map.tlm" -q
expect transform-one-row-refits-refused 1 "a lone row becomes zeros" -- "$TL" transform --model "$TMP/map.tlm" \
    --input "$TMP/row.csv" --label-col none --preprocess zscore --out "$TMP/row_t3.csv"
for m in kliep domain-clf; do
    expect "weight-$m-save" 0 "" -- "$TL" weight --method $m $S --target "$TMP/tgt.csv" --learner logreg --save "$TMP/w_$m.tlm" -q
    expect "predict-weight-$m" 0 "" -- "$TL" predict --model "$TMP/w_$m.tlm" --input "$TMP/tgt_nolab.csv" --out "$TMP/w_$m.csv"
done
expect tradaboost-save 0 "" -- "$TL" tradaboost $S --target "$TMP/tgt.csv" --labelled 10 --rounds 3 --save "$TMP/tab.tlm" -q
expect predict-tradaboost-proba 0 "" -- "$TL" predict --model "$TMP/tab.tlm" --input "$TMP/tgt.csv" --out "$TMP/tab.csv" --proba
[ "$(head -1 "$TMP/tab.csv")" = "sample,label,p_0,p_1" ] && ok || bad "predict-tradaboost-proba-header" "$(head -2 "$TMP/tab.csv")"

# ---- outputs appear only on success, and are checked before the work ----
expect adapt-bad-out-before-work 1 "nodir" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" \
    --save "$TMP/ok.tlm" --out-target "$TMP/nodir/t.csv"
no_file adapt-bad-out-no-model "$TMP/ok.tlm"
expect train-bad-save-before-work 1 "folder does not exist" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" \
    --input-shape 1x1x5 --save "$TMP/nodir/m.tlm"
expect adapt-out-is-folder 1 "is a folder" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" --save "$TMP"
expect weight-failed-leaves-nothing 1 "" -- "$TL" weight --method kliep $S --target "$TMP/tgt.csv" \
    --out "$TMP/w.csv" --save "$TMP/w.tlm" --columns 0-9
no_file weight-failed-no-weights "$TMP/w.csv"
no_file weight-failed-no-model "$TMP/w.tlm"
[ -z "$(ls "$TMP" | grep '\.tmp\.')" ] && ok || bad "no-temporary-files-left" "$(ls "$TMP")"

# ---- defaults that fit the data (5 features) ----
for m in pca sa gfk tca jda bda; do
    expect "adapt-$m-default-dim-fits" 0 '"dim": [1-5][,}]' -- "$TL" adapt --method $m $S --target "$TMP/tgt.csv" --json -q
done
expect gfk-reports-its-dim 0 '"model": {"dim": 2, "embedded_dim": 4}' -- "$TL" adapt --method gfk --dim 2 $S \
    --target "$TMP/tgt.csv" --json -q
expect coral-no-dim 2 "coral has no parameter 'dim'" -- "$TL" adapt --method coral --dim 2 $S --target "$TMP/tgt.csv"
expect coral-no-lambda 2 "coral has no parameter 'lambda'" -- "$TL" adapt --method coral --lambda 2 $S --target "$TMP/tgt.csv"
expect weight-default-learner 0 "default: logreg" -- "$TL" help weight
expect weight-1nn-warns 0 "1nn uses sample weights only" -- "$TL" weight --method kliep --learner 1nn $S --target "$TMP/tgt.csv"
expect domain-clf-uniform-says-why 0 "try --preprocess-fit source" -- "$TL" weight --method domain-clf $S \
    --target "$TMP/tgt.csv" --preprocess zscore
expect adapt-no-guard 0 '"negative_transfer": null' -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" --no-guard --json -q

# ---- the guard's words: a measured drop is negative transfer, whatever the label-free evidence ----
# (PCA to 1 dimension keeps a loud feature that has nothing to do with the class, which sits in a
# quiet one: logistic regression on both features does well, on the loud one at chance)
for k in 1 2; do
    awk -v seed=$k 'BEGIN { srand(seed); for (i = 0; i < 150; i++) { u = 0; for (j = 0; j < 12; j++) u += rand()
        x = u - 6; print x "," 100 * (rand() - 0.5) "," (x > 0 ? 1 : 0) } }' >"$TMP/loud$k.csv"
done
expect measured-negative-transfer 0 "negative transfer      MEASURED" -- "$TL" adapt --method pca --dim 1 \
    --source "$TMP/loud1.csv" --target "$TMP/loud2.csv" --learner logreg
expect worse-than-names-the-baseline 0 '"worse_than": "source_only"' -- "$TL" adapt --method pca --dim 1 \
    --source "$TMP/loud1.csv" --target "$TMP/loud2.csv" --learner logreg --json -q
out=$("$TL" tradaboost $S --target "$TMP/tgt.csv" --labelled 6 --rounds 3 2>&1)
case "$out" in *"classes do not match"*) bad "tradaboost-no-false-class-claim" "$out" ;; *) ok ;; esac

# ---- labels: names round-trip, per-file label options, files read together ----
D=tests/cli/data
expect string-labels-info 0 "cat (3) dog (3)" -- "$TL" info $D/animals_src.csv
expect info-says-index-base 0 "1-based feature indices (guessed: no index 0" -- "$TL" info $D/one_based.svmlight
expect info-says-sample-shape 0 "each sample 2x2" -- "$TL" info $D/stack3d.npy
expect string-labels-adapt-save 0 "pipeline saved to" -- "$TL" adapt --method coral --source $D/animals_src.csv \
    --target $D/animals_tgt_nolabels.csv:label=none --save "$TMP/animals.tlm"
expect predict-prints-class-names 0 "^cat$" -- "$TL" predict --model "$TMP/animals.tlm" --input $D/animals_tgt_nolabels.csv -q
expect predict-names-accuracy 0 '"accuracy": 1,' -- "$TL" predict --model "$TMP/animals.tlm" --input $D/animals_tgt.csv --json
expect predict-names-proba-header 0 "" -- "$TL" predict --model "$TMP/animals.tlm" --input $D/animals_tgt.csv \
    --out "$TMP/an.csv" --proba
[ "$(head -1 "$TMP/an.csv")" = "sample,label,p_cat,p_dog" ] && ok || bad "predict-names-proba-header-line" "$(head -2 "$TMP/an.csv")"
expect convert-keeps-names 0 "" -- "$TL" convert $D/animals_src.csv "$TMP/a.csv"
grep -q ',cat$' "$TMP/a.csv" && ok || bad "convert-writes-names" "$(head -2 "$TMP/a.csv")"
expect names-vs-integers 1 "has class names" -- "$TL" baseline --source $D/animals_src.csv --target $D/small.csv
expect spec-unknown-key 1 'unknown option "lable"' -- "$TL" info $D/small.csv:lable=x
expect spec-bad-header 1 "not one of yes, no, auto" -- "$TL" info $D/small.csv:header=maybe
expect spec-label-by-name-missing 1 'no column named "nope"' -- "$TL" info $D/small.csv:label=nope
expect spec-label-on-svmlight 1 "label= does not apply to svmlight" -- "$TL" info $D/one_based.svmlight:label=none
expect label-names-count 2 "label" -- "$TL" train --arch "flatten,dense:2" --data "$TMP/src.csv" --input-shape 1x1x5 \
    --epochs 1 --label-names a,b,c --save "$TMP/ln.tlm"

# ---- files a user has: missing values, gzip, standard input, image stacks, svmlight bases ----
expect csv-first-row-empty-field 1 "missing_first.csv:1: column 2: empty field" -- "$TL" info $D/missing_first.csv
expect csv-first-row-NA 1 'na_first.csv:1: column 2: missing value "NA"' -- "$TL" info $D/na_first.csv
expect csv-first-row-question 1 'column 2: missing value "?"' -- "$TL" info $D/question_first.csv
expect csv-later-missing 1 'missing_later.csv:3: column 2 ("f2"): empty field' -- "$TL" info $D/missing_later.csv
expect csv-gzip 0 "4 x 2" -- "$TL" info $D/small.csv.gz
expect stdin-csv 0 "4 x 2" -- sh -c "'$TL' info - <$D/small.csv"
expect stdin-gzip 0 "4 x 2" -- sh -c "'$TL' info - <$D/small.csv.gz"
expect stdin-error-names-it 1 "<stdin>:2:" -- sh -c "printf '1,2,0\n3,x,1\n' | '$TL' info -"
expect npy-3d-stack 0 "4 x 4" -- "$TL" info $D/stack3d.npy
expect svmlight-base-conflict 1 "index 0 in a 1-based file" -- "$TL" info $D/zero_based.svmlight:base=1
expect svmlight-bases-unified 0 "accuracy" -- "$TL" baseline --source $D/one_based.svmlight --target $D/zero_based.svmlight
expect convert-no-gzip-output 1 "compressed" -- "$TL" convert $D/small.csv "$TMP/o.csv.gz"
no_file convert-no-gzip-output-nothing "$TMP/o.csv.gz"

# ---- consistency: exit codes, JSON, version, the library's name ----
expect usage-missing-target 2 "required" -- "$TL" adapt --method coral $S
expect usage-unknown-option 2 "unknown option" -- "$TL" predict --nope
expect version-json 0 '"version":' -- "$TL" version --json
expect model-is-a-folder 1 "is a directory" -- "$TL" predict --model "$TMP" --input "$TMP/tgt.csv"

# ---- learner settings that fit the data ----
expect learner-C-chosen-by-cv 0 "chosen by cross-validation" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" --learner logreg
expect learner-C-in-json 0 '"learner_fit": {"C": [0-9.e-]*, "C_auto": true' -- "$TL" adapt --method coral $S \
    --target "$TMP/tgt.csv" --learner svm --json -q
expect baseline-says-C 0 "chosen by cross-validation" -- "$TL" baseline $S --target "$TMP/tgt.csv" --learner svm
expect learner-C-given 0 "C = 0.5, as given" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" --learner svm --C 0.5
expect learner-not-converged-said 0 "without converging" -- "$TL" adapt --method coral $S --target "$TMP/tgt.csv" \
    --learner logreg --max-iter 1
expect learner-max-iter-apart 0 "without converging" -- "$TL" weight --method kliep $S --target "$TMP/tgt.csv" \
    --learner-max-iter 1
expect knn-k-above-rows 1 "k = 500 neighbours, but the training set has only 120 rows" -- "$TL" adapt --method coral $S \
    --target "$TMP/tgt.csv" --learner knn --k 500

# ---- regression targets (--task regression): real values, ridge by default, RMSE against the baselines ----
# source N(0,1), target N(0.7,1.3), columns 1-3 leaning on column 0 (correlated features, as real
# ones are); y = 2 x0 - x1 + 0.5 x2 + noise, written with decimals
awk 'BEGIN { srand(11); for (i = 0; i < 150; i++) { s = ""; for (k = 0; k < 4; k++) {
        u = 0; for (j = 0; j < 12; j++) u += rand(); x[k] = u - 6 + (k ? 0.8 * x[0] : 0); s = s x[k] "," }
    printf "%s%.4f\n", s, 2 * x[0] - x[1] + 0.5 * x[2] + 0.3 * (rand() - 0.5) } }' >"$TMP/rsrc.csv"
awk 'BEGIN { srand(12); for (i = 0; i < 100; i++) { s = ""; for (k = 0; k < 4; k++) {
        u = 0; for (j = 0; j < 12; j++) u += rand(); x[k] = 1.3 * (u - 6) + 0.7 + (k ? 0.8 * x[0] : 0)
        s = s x[k] "," }
    printf "%s%.4f\n", s, 2 * x[0] - x[1] + 0.5 * x[2] + 0.3 * (rand() - 0.5) } }' >"$TMP/rtgt.csv"
sed 's/,[^,]*$//' "$TMP/rtgt.csv" >"$TMP/rtgt_nolab.csv"
R="--task regression --source $TMP/rsrc.csv"
expect regression-adapt 0 "no transfer            RMSE" -- "$TL" adapt --method coral $R --target "$TMP/rtgt.csv"
expect regression-default-learner-ridge 0 "learner ridge" -- "$TL" adapt --method sa --dim 3 $R --target "$TMP/rtgt.csv"
expect regression-weight-json 0 '"task": "regression", .*"rmse": [0-9]' -- "$TL" weight --method kliep $R \
    --target "$TMP/rtgt.csv" --json -q
expect regression-knn 0 "learner 5nn" -- "$TL" adapt --method coral $R --target "$TMP/rtgt.csv" --learner knn
expect regression-unlabelled-target 0 "no targets: predictions only" -- "$TL" adapt --method coral $R \
    --target "$TMP/rtgt_nolab.csv:label=none"
expect regression-guard-label-free 0 "reverse validation does not apply to regression" -- "$TL" adapt \
    --method coral $R --target "$TMP/rtgt.csv"
expect regression-class-method-refused 1 "jda uses class labels in its fit" -- "$TL" adapt --method jda $R \
    --target "$TMP/rtgt.csv"
expect regression-classifier-refused 1 "logreg is a classifier" -- "$TL" adapt --method coral $R \
    --target "$TMP/rtgt.csv" --learner logreg
expect regression-read-as-classes-hint 1 "regression targets: --task regression" -- "$TL" adapt --method coral \
    --source "$TMP/rsrc.csv" --target "$TMP/rtgt.csv"
expect regression-bad-task 2 "not one of classification, regression" -- "$TL" adapt --method coral \
    --task ordinal --source "$TMP/rsrc.csv" --target "$TMP/rtgt.csv"
printf '1,2,3,4,0.5\n1,2,3,4,abc\n' >"$TMP/rbad.csv"
expect regression-bad-target-names-line 1 "rbad.csv:2: column 5: target \"abc\" is not a finite number" -- \
    "$TL" adapt --method coral --task regression --source "$TMP/rbad.csv" --target "$TMP/rtgt.csv"
expect regression-baseline 0 "RMSE  " -- "$TL" baseline $R --target "$TMP/rtgt.csv"
expect regression-baseline-json 0 '"task": "regression", .*"rmse": [0-9]' -- "$TL" baseline $R \
    --target "$TMP/rtgt.csv" --learner knn --json
expect regression-baseline-classes-source 1 "has no regression targets" -- "$TL" baseline --task regression \
    --source "$TMP/rtgt_nolab.csv:label=none" --target "$TMP/rtgt.csv"
expect regression-tradaboost-has-no-task 2 "unknown option" -- "$TL" tradaboost $R --target "$TMP/rtgt.csv"
expect regression-save 0 "pipeline saved to" -- "$TL" adapt --method coral $R --target "$TMP/rtgt.csv" \
    --preprocess zscore --save "$TMP/r.tlm"
"$TL" predict --model "$TMP/r.tlm" --input "$TMP/rtgt_nolab.csv" -q >"$TMP/rbatch.txt" 2>&1
: >"$TMP/rone.txt"
while read -r row; do
    echo "$row" >"$TMP/rrow.csv"
    "$TL" predict --model "$TMP/r.tlm" --input "$TMP/rrow.csv" -q >>"$TMP/rone.txt" 2>&1
done <"$TMP/rtgt_nolab.csv"
[ "$(wc -l <"$TMP/rbatch.txt")" -eq 100 ] && cmp -s "$TMP/rbatch.txt" "$TMP/rone.txt" && ok ||
    bad "regression-predict-one-row-at-a-time-equals-batch" "$(paste "$TMP/rbatch.txt" "$TMP/rone.txt" | head -3)"
expect regression-predict-scores 0 '"task": "regression", "accuracy": null, "rmse": [0-9]' -- "$TL" predict \
    --model "$TMP/r.tlm" --input "$TMP/rtgt.csv" --json
expect regression-predict-out 0 "" -- "$TL" predict --model "$TMP/r.tlm" --input "$TMP/rtgt.csv" --out "$TMP/rp.csv"
[ "$(head -1 "$TMP/rp.csv")" = "sample,value" ] && [ "$(wc -l <"$TMP/rp.csv")" -eq 101 ] && ok ||
    bad "regression-predict-out-file" "$(head -2 "$TMP/rp.csv")"
expect regression-predict-no-proba 2 "predicts regression values, not class probabilities" -- "$TL" predict \
    --model "$TMP/r.tlm" --input "$TMP/rtgt.csv" --json --proba
expect regression-convert-keeps-targets 0 "" -- "$TL" convert --task regression "$TMP/rsrc.csv" "$TMP/rsrc.svmlight"
[ "$(head -1 "$TMP/rsrc.svmlight" | cut -d' ' -f1)" = "$(head -1 "$TMP/rsrc.csv" | sed 's/.*,//')" ] && ok ||
    bad "regression-convert-target-value" "$(head -1 "$TMP/rsrc.svmlight")"
expect regression-svmlight-reads-back 0 "RMSE" -- "$TL" adapt --method coral --task regression \
    --source "$TMP/rsrc.svmlight" --target "$TMP/rtgt.csv"
"$TL" adapt --method coral $R --target "$TMP/rtgt.csv" --json -q >"$TMP/r_adapt.json" 2>/dev/null
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
out=$("$CHECKER" --validate docs/report.schema.json "$TMP/r_adapt.json" 2>&1) && ok || bad "regression-schema" "$out"

harness_summary
