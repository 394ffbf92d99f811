#!/bin/sh
# CLI cases of the relational commands (tl rel-learn, rel-transfer, rel-infer): bad input in -
# malformed atoms, unknown predicates in the facts and in the modes, a target absent from the
# modes, an empty fold, a missing fold, damaged models, bad options - and the exit code and the
# message (with file and line) out; then a small end-to-end run on a generated domain pair (learn,
# save, transfer with --json, infer with --out). Uses $TL_BIN (default build/tl). Prints
# "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh

# a tiny domain: folder $1, target pred $2, pred names $3 (unary) $4 (binary), constants prefix $5
mkdomain() {
    d=$1; t=$2; u=$3; b=$4; c=$5
    mkdir -p "$d/fold1" "$d/fold2"
    echo "$t" > "$d/target.txt"
    printf '%s(+person,+person).\n%s(+person).\n%s(+thing,+person).\n%s(+thing,-person).\n%s(-thing,+person).\n' \
        "$t" "$u" "$b" "$b" "$b" > "$d/modes.txt"
    for f in 1 2; do
        : > "$d/fold$f/facts.txt"; : > "$d/fold$f/pos.txt"; : > "$d/fold$f/neg.txt"
        for g in 0 1 2 3 4; do
            h=$c$f$g
            echo "$b(t$h,${h}0)." >> "$d/fold$f/facts.txt"
            for a in 1 2 3; do
                echo "$u(${h}$a)." >> "$d/fold$f/facts.txt"
                echo "$b(t$h,${h}$a)." >> "$d/fold$f/facts.txt"
                echo "$t(${h}$a,${h}0)." >> "$d/fold$f/pos.txt"
            done
            echo "$t(${h}0,${h}1)." >> "$d/fold$f/neg.txt"
            echo "$t(${h}1,${h}2)." >> "$d/fold$f/neg.txt"
            echo "$t(${h}1,$c$f$(( (g + 1) % 5 ))0)." >> "$d/fold$f/neg.txt"
        done
    done
}
S=$TMP/film; T=$TMP/school
mkdomain "$S" workedunder actor movie p
mkdomain "$T" advisedby student publication q

expect rel-help 0 "rel-transfer" -- "$TL" help
expect rel-help-learn 0 "default: 10" -- "$TL" help rel-learn
expect rel-help-transfer 0 "source-model" -- "$TL" help rel-transfer
expect rel-learn-no-data 2 "--data is required" -- "$TL" rel-learn
expect rel-learn-bad-folds 2 "not a comma list of folds 1..2" -- "$TL" rel-learn --data "$S" --folds 3
expect rel-learn-overlap 2 "also a training fold" -- "$TL" rel-learn --data "$S" --folds 1 --test-folds 1
expect rel-learn-bad-trees 2 "trees" -- "$TL" rel-learn --data "$S" --trees 0
expect rel-learn-bad-node-size 2 "node-size" -- "$TL" rel-learn --data "$S" --node-size 3
expect rel-learn-no-folds 1 "no fold<k> folder" -- "$TL" rel-learn --data "$TMP"

# malformed atoms, unknown predicates, arity and type clashes: exit 1 with file:line
B=$TMP/bad; cp -r "$S" "$B"
echo "movie(tx,px" >> "$B/fold1/facts.txt"; n=$(wc -l < "$B/fold1/facts.txt")
expect rel-malformed-atom 1 "fold1/facts.txt:$n: malformed atom" -- "$TL" rel-learn --data "$B" --folds 1
cp "$S/fold1/facts.txt" "$B/fold1/facts.txt"; echo "directed(tx,px)." >> "$B/fold1/facts.txt"
expect rel-unknown-predicate 1 "fold1/facts.txt:$((n)): unknown predicate directed" -- "$TL" rel-learn --data "$B" --folds 1
cp "$S/fold1/facts.txt" "$B/fold1/facts.txt"; echo "actor(px,py)." >> "$B/fold1/facts.txt"
expect rel-arity-clash 1 "actor has 2 arguments, its mode declaration 1" -- "$TL" rel-learn --data "$B" --folds 1
cp "$S/fold1/facts.txt" "$B/fold1/facts.txt"; echo "actor(tp10)." >> "$B/fold1/facts.txt"
expect rel-type-clash 1 "constant tp10 is a person here" -- "$TL" rel-learn --data "$B" --folds 1
cp "$S/fold1/facts.txt" "$B/fold1/facts.txt"
printf 'workedunder(+person,+person).\nactor(+person).\nmovie(+thing,+person).\nmovie(-person,+person).\n' > "$B/modes.txt"
expect rel-modes-type-clash 1 "modes.txt:4: argument 1 of movie has type person here and thing before" -- "$TL" rel-learn --data "$B"
printf 'workedunder(+person,+person).\nactor(+person).\nmovie(+thing,+person).\ndirector(person).\n' > "$B/modes.txt"
expect rel-modes-malformed 1 "modes.txt:4: argument 1 of director: a mode argument is" -- "$TL" rel-learn --data "$B"
cp "$S/modes.txt" "$B/modes.txt"; echo "samevenue" > "$B/target.txt"
expect rel-target-absent 1 "the target predicate 'samevenue' has no mode declaration" -- "$TL" rel-learn --data "$B"
echo "workedunder" > "$B/target.txt"; : > "$B/fold2/pos.txt"
expect rel-empty-fold 1 "fold2/pos.txt: empty fold" -- "$TL" rel-learn --data "$B"
cp "$S/fold2/pos.txt" "$B/fold2/pos.txt"; echo "actor(p999)." >> "$B/fold2/neg.txt"; n=$(wc -l < "$B/fold2/neg.txt")
expect rel-example-other-pred 1 "fold2/neg.txt:$n: an example of actor" -- "$TL" rel-learn --data "$B"

# learn, save, infer, transfer
expect rel-learn-ok 0 "AUC-ROC 1.0000" -- "$TL" rel-learn --data "$S" --folds 1 --test-folds 2 --out "$TMP/film.model" --rules
expect rel-learn-rules 0 "movie(C,A), movie(C,B)" -- "$TL" rel-learn -q --data "$S" --folds 1 --rules
expect rel-learn-json 0 '"command": "rel-learn"' -- "$TL" rel-learn -q --data "$S" --json
expect rel-infer-ok 0 "AUC-ROC 1.0000" -- "$TL" rel-infer --model "$TMP/film.model" --data "$S" --folds 2 --out "$TMP/probs.txt"
expect rel-infer-out 0 "workedunder(p201,p200) 0" -- cat "$TMP/probs.txt"
expect rel-infer-wrong-domain 1 "predicate workedunder is not in the data" -- "$TL" rel-infer --model "$TMP/film.model" --data "$T"
echo "tl-rel-model 1" > "$TMP/empty.model"
expect rel-infer-damaged-model 1 "no predicate or no tree" -- "$TL" rel-infer --model "$TMP/empty.model" --data "$S"
expect rel-infer-no-model 1 "cannot open" -- "$TL" rel-infer --model "$TMP/none.model" --data "$S"
expect rel-transfer-missing 2 "are required" -- "$TL" rel-transfer --source-model "$TMP/film.model" --target "$T"
expect rel-transfer-bad-fold 2 "--fold: '7'" -- "$TL" rel-transfer --source-model "$TMP/film.model" --target "$T" --fold 7
expect rel-transfer-ok 0 "movie            -> publication" -- "$TL" rel-transfer -q --source-model "$TMP/film.model" --target "$T" --fold 1 --out "$TMP/school.model"
expect rel-transfer-guard 0 "guard: " -- "$TL" rel-transfer -q --source-model "$TMP/film.model" --target "$T" --fold all
expect rel-transfer-json 0 '"verdict": "' -- "$TL" rel-transfer -q --source-model "$TMP/film.model" --target "$T" --fold 2 --json
expect rel-transfer-json-map 0 '"source": "workedunder", "target": "advisedby"' -- "$TL" rel-transfer -q --source-model "$TMP/film.model" --target "$T" --fold 2 --json
expect rel-transfer-saved 0 "map movie publication" -- cat "$TMP/school.model"
expect rel-infer-transferred 0 "AUC-ROC 1.0000" -- "$TL" rel-infer --model "$TMP/school.model" --data "$T" --folds 2
harness_summary
