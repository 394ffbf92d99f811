#!/bin/sh
# bench/coral_eps.sh: CORAL on the 12 Office+Caltech SURF tasks with its regulariser relative to
# each domain's feature variance (the default since issue 18) and absolute (the authors' code), for
# the CORAL protocol's scaling (rowsum,zscore) and with L2-normalised rows, with 1-NN and the
# linear SVM. Prints a Markdown table (accuracy %, per task and mean).
#   sh bench/coral_eps.sh [TL] [DATA]      defaults: build/tl ../shared/data
TL=${1:-build/tl}
DATA=${2:-../shared/data}
S=$DATA/office_caltech10_surf
[ -d "$S" ] || { echo "coral_eps: $S not found" >&2; exit 1; }
D="caltech amazon webcam dslr"
printf '| scaling | learner | eps | '
for s in $D; do for t in $D; do [ $s = $t ] || printf '%s→%s | ' "$(echo $s | cut -c1 | tr a-z A-Z)" "$(echo $t | cut -c1 | tr a-z A-Z)"; done; done
printf 'mean |\n|---|---|---|'
for i in $(seq 13); do printf -- '---:|'; done
printf '\n'
for pre in rowsum,zscore rowsum,zscore,l2; do for l in 1nn svm; do for e in relative absolute; do
    printf '| %s | %s | %s | ' "$pre" "$l" "$e"
    tot=0
    for s in $D; do for t in $D; do
        [ $s = $t ] && continue
        a=$("$TL" adapt --method coral --eps-scale $e --source "$S/${s}_SURF_L10.mat" \
            --target "$S/${t}_SURF_L10.mat" --preprocess $pre --learner $l --no-guard --json -q |
            sed -n 's/.*"accuracy": \([0-9.e-]*\).*/\1/p' | head -1)
        printf '%s | ' "$(echo "$a" | awk '{printf "%.2f", 100*$1}')"
        tot=$(echo "$tot $a" | awk '{print $1+$2}')
    done; done
    echo "$tot" | awk '{printf "**%.2f** |\n", 100*$1/12}'
done; done; done
