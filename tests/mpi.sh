#!/bin/sh
# Data-parallel training under MPI (src/dist/, issue 17): `mpirun -np 1|2|3 tl train` on a small
# CNN with batch norm (Fashion-MNIST, 30 images a class) gives per-step losses equal to the
# one-process run (relative 1e-5), the same model and the same report; a rank killed mid-run ends
# the job with mpirun's message, the checkpoint written by rank 0 stays whole, and rerunning
# resumes from it to the same final loss as an uninterrupted run. Deep adaptation (DANN, DAN,
# Deep CORAL, CDAN, CDAN+E) likewise, and its resume from a checkpoint. With a libtl built without MPI
# the run must stop and say so. Distributed kernel methods (part 4, at the end): `tl adapt` (Nystrom
# JDA) and `tl distance` (exact RBF MMD and permutation p-values included) on rows split over 1-3
# processes equal the one-process figures. Multi-task training (`tl train --tasks`) on 1-3
# processes equals one process and resumes from its checkpoint; the gradient sum overlapped with
# backward (TL_MPI_GRADS=overlap) gives the same bits as the sum after it. Skipped, with the
# reason, where Open MPI's mpirun or the data is absent. Uses $TL_BIN (default build/tl). Prints
# "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
. tests/cli/harness.sh
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
# root may run mpirun only when told; --oversubscribe: more ranks than this machine's cores;
# yield when idle: ranks waiting in a collective give the core to the others
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MPIRUN="mpirun --oversubscribe"
# a sanitizer build: Open MPI's own components (loaded with dlopen, unloaded at MPI_Finalize) leave
# allocations LeakSanitizer reports with "<unknown module>" frames, which no suppression can name;
# the ranks keep every other AddressSanitizer check, and the one-process runs below keep the leak
# check on libtl's own code
case "$TL" in
*asan*) MPIRUN="$MPIRUN -x ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" ;;
esac

# same_losses NAME A.csv B.csv: both step logs have the same steps, losses within 1e-5 relative
same_losses() {
    if awk -F, 'NR == FNR { if (FNR > 1) a[$1] = $2; n++; next }
        FNR > 1 { m++; if (!($1 in a)) exit 1; d = a[$1] - $2; if (d < 0) d = -d
                  s = $2 < 0 ? -$2 : $2; if (d > 1e-5 * s) { print "step " $1 ": " a[$1] " vs " $2; exit 1 } }
        END { exit (m + 1 == n && m > 0) ? 0 : 1 }' "$2" "$3" >"$TMP/cmp.txt" 2>&1; then ok
    else bad "$1" "$(cat "$TMP/cmp.txt") ($(wc -l <"$2") vs $(wc -l <"$3") lines)"; fi
}

# kill_one_rank NAME CHECKPOINT OUT -- COMMAND...: run COMMAND (an mpirun job writing CHECKPOINT)
# in the background, kill one of its ranks once the checkpoint exists, and check that the job
# ends with mpirun's message (skipped when it finished first) and the checkpoint stays whole
kill_one_rank() {
    kname=$1 kck=$2 kout=$3
    shift 4
    "$@" >"$kout" 2>&1 &
    job=$!
    i=0
    while [ ! -f "$kck" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    victim=$(pgrep -P $job | tail -n 1)
    [ -n "$victim" ] && kill -9 "$victim"
    wait $job; rc=$?
    if [ "$rc" -ne 0 ] && grep -q "signal 9" "$kout"; then ok
    elif [ "$rc" -eq 0 ]; then skip "$kname" "the run ended before a rank could be killed (a fast machine): nothing to resume"
    else bad "$kname-message" "exit $rc: $(tail -n 5 "$kout")"; fi
    [ -f "$kck" ] && ok || bad "$kname-checkpoint-kept" "$(ls "$TMP")"
}

if ! command -v mpirun >/dev/null 2>&1; then
    skip mpi "Open MPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"
    harness_summary; exit
fi
if [ ! -d "$FM" ]; then
    skip mpi "$FM not found (apt-get install dataset-fashion-mnist)"
    harness_summary; exit
fi
D="--data $FM:test --per-class 30 --threads 1 -q"
A="conv:8:3,bn,relu,pool:2,conv:16:3,bn,relu,pool:2,flatten,dense:32,bn,relu,dense:10"
if ! ldd "$TL" 2>/dev/null | grep -q libmpi; then
    # built without MPI: asked to distribute, it says so and fails
    expect mpi-not-built 1 "built without MPI" -- $MPIRUN -np 2 "$TL" train --arch "$A" $D --epochs 1 \
        --save "$TMP/x.tlm"
    expect mpi-adapt-not-built 1 "built without MPI" -- $MPIRUN -np 2 "$TL" adapt --source "$TMP/s.npy" \
        --target "$TMP/t.npy" --method jda
    skip mpi-training "this tl was built without MPI (mpicc was absent at build time)"
    harness_summary; exit
fi

# per-step losses: one process without mpirun, then 1, 2 and 3 ranks, same global batch
T="--arch $A $D --epochs 2 --batch 32"
expect mpi-single 0 "last epoch" -- "$TL" train $T --save "$TMP/m0.tlm" --step-log "$TMP/s0.csv"
for np in 1 2 3; do
    expect "mpi-np$np" 0 "last epoch" -- $MPIRUN -np $np "$TL" train $T --save "$TMP/m$np.tlm" \
        --step-log "$TMP/s$np.csv"
    same_losses "mpi-np$np-losses" "$TMP/s0.csv" "$TMP/s$np.csv"
done
# the gradient block summed in 4 KB buckets sent while backward runs (TL_MPI_GRADS=overlap): the
# same per-step losses, and the same model, bit for bit, as the buckets sent after backward
for np in 3; do
    expect "mpi-overlap-np$np" 0 "last epoch" -- env TL_MPI_GRADS=overlap TL_MPI_BUCKET_KB=4 $MPIRUN -x TL_MPI_GRADS \
        -x TL_MPI_BUCKET_KB -np $np "$TL" train $T --save "$TMP/o$np.tlm" --step-log "$TMP/o$np.csv"
    same_losses "mpi-overlap-np$np-losses" "$TMP/s0.csv" "$TMP/o$np.csv"
    expect "mpi-after-np$np" 0 "last epoch" -- env TL_MPI_GRADS=after TL_MPI_BUCKET_KB=4 $MPIRUN -x TL_MPI_GRADS \
        -x TL_MPI_BUCKET_KB -np $np "$TL" train $T --save "$TMP/a$np.tlm"
    cmp -s "$TMP/o$np.tlm" "$TMP/a$np.tlm" && ok || bad "mpi-overlap-np$np-bits" "the overlapped run's model differs"
done
expect mpi-grads-bad 1 "TL_MPI_GRADS" -- env TL_MPI_GRADS=sometimes $MPIRUN -x TL_MPI_GRADS -np 2 "$TL" train $T \
    --epochs 1 --save "$TMP/x.tlm"
# the models agree too: their test accuracy on the same rows
for np in 0 2 3; do
    "$TL" evaluate --model "$TMP/m$np.tlm" --data "$FM:test" --classes 0-9 --per-class 20 --json -q \
        2>/dev/null | sed -n 's/.*"accuracy": \([0-9.]*\),.*/\1/p' >"$TMP/acc$np.txt"
done
[ -s "$TMP/acc0.txt" ] && cmp -s "$TMP/acc0.txt" "$TMP/acc2.txt" && cmp -s "$TMP/acc0.txt" "$TMP/acc3.txt" &&
    ok || bad mpi-models-agree "$(cat "$TMP"/acc*.txt)"
# only rank 0 reports
expect mpi-one-report 0 "" -- sh -c "$MPIRUN -np 2 $TL train $T --epochs 1 --save $TMP/r.tlm | grep -c '^model' | grep -qx 1"
# bad input on one rank's side still ends the whole job with the reason
expect mpi-bad-data 1 "cannot load" -- $MPIRUN -np 2 "$TL" train --arch "$A" --data "$TMP/none.csv" \
    --save "$TMP/x.tlm" -q

# deep adaptation (the shallow network, Amazon books -> dvd, 300 rows of each): per-step losses of
# the source loss plus the adaptation loss, through the library (tests/test_dist.c), against one
# process: DANN on 1 to 3 processes; DAN (linear and quadratic MK-MMD), Deep CORAL, CDAN and
# CDAN+E (with target entropy) on 2 and 3 (the quadratic estimate on 2), their losses computed on
# the whole global batch's features (src/nn/da_dist.c)
AM=${TL_DATA_DIR:-../shared/data}/amazon_review_dann_5000
if [ -f "$AM/books_train.svmlight" ] && [ -x "${BUILD:-build}/tests/test_dist" ]; then
    TD=${BUILD:-build}/tests/test_dist
    AMD="$AM/books_train.svmlight $AM/dvd_train.svmlight"
    for m in dann dan dan-quad coral cdan cdan-e; do
        expect "mpi-$m-single" 0 "" -- "$TD" da $m $AMD "$TMP/$m-0.csv"
        case $m in dann) nps="1 2 3" ;; dan-quad) nps=2 ;; *) nps="2 3" ;; esac
        for np in $nps; do
            expect "mpi-$m-np$np" 0 "" -- $MPIRUN -np $np "$TD" da $m $AMD "$TMP/$m-$np.csv"
            same_losses "mpi-$m-np$np-losses" "$TMP/$m-0.csv" "$TMP/$m-$np.csv"
        done
    done
    # resume: every process of a CDAN+E run (a discriminator with its momentum, the target order)
    # ends abruptly once epoch 2 is trained, before its checkpoint; rank 0's checkpoint of epoch 1
    # is whole, and rerunning resumes from it to the losses of the uninterrupted run, bit for bit
    $MPIRUN -np 2 "$TD" da cdan-e $AMD "$TMP/dk.csv" "$TMP/dck.bin" 2 >"$TMP/halt.out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && [ -f "$TMP/dck.bin" ] && ok || bad mpi-da-halt "exit $rc, $(ls "$TMP")"
    expect mpi-da-resume 0 "resumed after epoch 1" -- $MPIRUN -np 2 "$TD" da cdan-e $AMD "$TMP/dk.csv" \
        "$TMP/dck.bin"
    cmp -s "$TMP/dk.csv" "$TMP/cdan-e-2.csv" && ok || bad mpi-da-resume-losses "$(diff "$TMP/dk.csv" "$TMP/cdan-e-2.csv" | head -n 4)"
    # a checkpoint of another adaptation (no discriminator in DAN) is refused, not trained from
    expect mpi-da-other-checkpoint 1 "a checkpoint of cdan-e adaptation, but this run is dan" -- $MPIRUN -np 2 "$TD" da dan $AMD "$TMP/x.csv" \
        "$TMP/dck.bin"
else
    skip mpi-da "$AM or ${BUILD:-build}/tests/test_dist is absent"
fi

# the same through the command line's protocol: `tl finetune` (fine-tuning the network trained
# above on 20 images a class) and `tl finetune --da dann` (Amazon books -> dvd), on 1 process and
# on 2 and 3; the models they save score the same (accuracy equal, loss within 1e-5 relative)
# same_model NAME A.tlm B.tlm DATA [OPTIONS]
same_model() {
    ea=$("$TL" evaluate --model "$2" --data "$4" $5 --json -q 2>&1); eb=$("$TL" evaluate --model "$3" --data "$4" $5 --json -q 2>&1)
    if printf '%s\n%s\n' "$ea" "$eb" | awk '{ a = $0; sub(/.*"accuracy": /, "", a); sub(/,.*/, "", a)
            l = $0; sub(/.*"loss": /, "", l); sub(/,.*/, "", l); acc[NR] = a; loss[NR] = l }
        END { d = loss[1] - loss[2]; if (d < 0) d = -d
              exit !(NR == 2 && acc[1] != "" && acc[1] == acc[2] && d <= 1e-5 * loss[1]) }'; then ok
    else bad "$1" "$ea / $eb"; fi
}
FT="--from $TMP/m0.tlm --data $FM:test --per-class 20 --test $FM:test --epochs 2 --batch 32 --threads 1 --no-guard -q"
expect mpi-finetune-single 0 "test accuracy" -- "$TL" finetune $FT --save "$TMP/f0.tlm"
for np in 2; do
    expect "mpi-finetune-np$np" 0 "processes  *$np" -- $MPIRUN -np $np "$TL" finetune $FT --save "$TMP/f$np.tlm"
    same_model "mpi-finetune-np$np-model" "$TMP/f0.tlm" "$TMP/f$np.tlm" "$FM:test"
done
expect mpi-finetune-needs-test 1 "give --test" -- $MPIRUN -np 2 "$TL" finetune --from "$TMP/m0.tlm" \
    --data "$FM:test" --per-class 20 --epochs 1 --save "$TMP/x.tlm" -q
if [ -f "$AM/books_train.svmlight" ]; then
    DA="--da dann --arch dense:50,sigmoid,dense:2 --data $AM/books_train.svmlight --target-unlabelled \
        $AM/dvd_train.svmlight --test $AM/dvd_test.svmlight --lambda 0.5 --epochs 2 --batch 32 --threads 1 --no-guard -q"
    expect mpi-dann-cli-single 0 "source only" -- "$TL" finetune $DA --save "$TMP/g0.tlm"
    expect mpi-dann-cli-np2 0 "processes  *2" -- $MPIRUN -np 2 "$TL" finetune $DA --save "$TMP/g2.tlm"
    same_model mpi-dann-cli-np2-model "$TMP/g0.tlm" "$TMP/g2.tlm" "$AM/dvd_test.svmlight"
    # Deep CORAL through the command line too (its refusal is gone)
    CO=$(echo "$DA" | sed 's/--da dann/--da coral/')
    expect mpi-coral-cli-single 0 "source only" -- "$TL" finetune $CO --save "$TMP/c0.tlm"
    expect mpi-coral-cli-np2 0 "processes  *2" -- $MPIRUN -np 2 "$TL" finetune $CO --save "$TMP/c2.tlm"
    same_model mpi-coral-cli-np2-model "$TMP/c0.tlm" "$TMP/c2.tlm" "$AM/dvd_test.svmlight"
    # `tl finetune --da --checkpoint` (the training descriptors' checkpoint and step-log): one rank
    # killed once the first checkpoint is written ends the job; rank 0's checkpoint is whole and
    # the rerun resumes from it to the losses of an uninterrupted run (40 epochs: the DANN
    # schedules depend on the total, so both runs are given the same)
    DK=$(echo "$DA" | sed 's/--epochs 2/--epochs 40/')
    expect mpi-dann-cli-uninterrupted 0 "processes  *2" -- $MPIRUN -np 2 "$TL" finetune $DK \
        --save "$TMP/du.tlm" --step-log "$TMP/du.csv"
    kill_one_rank mpi-dann-cli-kill "$TMP/dkk.bin" "$TMP/dkill.out" -- $MPIRUN -np 2 "$TL" finetune $DK \
        --save "$TMP/dk.tlm" --checkpoint "$TMP/dkk.bin" --step-log "$TMP/dkl.csv"
    expect mpi-dann-cli-resume 0 "processes  *2" -- $MPIRUN -np 2 "$TL" finetune $DK \
        --save "$TMP/dk.tlm" --checkpoint "$TMP/dkk.bin" --step-log "$TMP/dkl.csv"
    same_losses mpi-dann-cli-resume-losses "$TMP/du.csv" "$TMP/dkl.csv"
    same_model mpi-dann-cli-resume-model "$TMP/du.tlm" "$TMP/dk.tlm" "$AM/dvd_test.svmlight"
    # what is not data-parallel yet says so: reverse validation
    expect mpi-dann-auto-lambda 1 "give the adaptation weight" -- $MPIRUN -np 2 "$TL" finetune \
        $(echo "$DA" | sed 's/--lambda 0.5//') --save "$TMP/x.tlm"
fi

# faults: kill one rank after the first checkpoint; the job ends, the checkpoint stays whole,
# rerunning resumes from it and ends where an uninterrupted run ends
F="--arch $A $D --epochs 6 --batch 32"
expect mpi-uninterrupted 0 "last epoch" -- $MPIRUN -np 2 "$TL" train $F --save "$TMP/u.tlm" \
    --step-log "$TMP/u.csv"
kill_one_rank mpi-kill "$TMP/ck.bin" "$TMP/kill.out" -- $MPIRUN -np 2 "$TL" train $F --save "$TMP/k.tlm" \
    --checkpoint "$TMP/ck.bin" --step-log "$TMP/k.csv"
[ ! -f "$TMP/k.tlm" ] && ok || bad mpi-killed-run-saved-no-model "$(ls "$TMP")"
expect mpi-resume 0 "resumed  *after epoch" -- $MPIRUN -np 2 "$TL" train $F --save "$TMP/k.tlm" \
    --checkpoint "$TMP/ck.bin" --step-log "$TMP/k.csv"
same_losses mpi-resume-losses "$TMP/u.csv" "$TMP/k.csv"
tail -n 1 "$TMP/u.csv" >"$TMP/u.last"; tail -n 1 "$TMP/k.csv" >"$TMP/k.last"
cmp -s "$TMP/u.last" "$TMP/k.last" && ok || bad mpi-resume-final-loss "$(cat "$TMP/u.last" "$TMP/k.last")"
# a damaged checkpoint is refused with the reason, not trained from
printf 'garbage' >>"$TMP/ck.bin"
expect mpi-damaged-checkpoint 1 "damaged" -- $MPIRUN -np 2 "$TL" train $F --save "$TMP/k2.tlm" \
    --checkpoint "$TMP/ck.bin"
# distributed kernel methods (part 4): `tl adapt --method jda --kernel rbf --lowrank nystrom` and
# `tl distance` on rows split over 1, 2 and 3 processes, each reading only its block of the .npy
# files, against one process holding every row (the library's protocol): the same accuracy, the
# embedded target within 1e-6 (up to each column's sign: eigenvectors have sign freedom), the same
# distances (relative 1e-9). Synthetic: 3 classes, 6 features, 300 rows a domain, target shifted.
awk -v dir="$TMP" 'BEGIN { srand(7); for (d = 0; d < 2; d++) { f = d ? "t.csv" : "s.csv"
        for (i = 0; i < 300; i++) { c = i % 3; l = ""
            for (j = 0; j < 6; j++) l = l sprintf("%.5f,", (j == c ? 2 : 0) + (d ? 0.7 * (j % 2) + 0.3 : 0) + rand() + rand() + rand() - 1.5)
            print l c > (dir "/" f) } } }'
"$TL" convert "$TMP/s.csv" "$TMP/ks.npy" -q && "$TL" convert "$TMP/t.csv" "$TMP/kt.npy" -q
K="--source $TMP/ks.npy --target $TMP/kt.npy --method jda --kernel rbf --lowrank nystrom --landmarks 60 --dim 5 --iters 5 --threads 1"
# same_embedding NAME A.csv B.csv: rows, labels equal; values within 1e-6 up to a column's sign
same_embedding() {
    if awk -F, 'NR == FNR { for (j = 1; j <= NF; j++) a[FNR, j] = $j; n = FNR; nf = NF; next }
        { if (NF != nf || $NF != a[FNR, NF]) bad = 1
          for (j = 1; j < NF; j++) { d = a[FNR, j] - $j; e = a[FNR, j] + $j; if (d < 0) d = -d
              if (e < 0) e = -e; if (d > dm[j]) dm[j] = d; if (e > em[j]) em[j] = e }; m = FNR }
        END { w = 0; for (j = 1; j < nf; j++) { x = dm[j] < em[j] ? dm[j] : em[j]; if (x > w) w = x }
              if (bad || m != n || n == 0 || w > 1e-6) { print "rows " m " of " n ", largest difference " w; exit 1 } }' \
        "$2" "$3" >"$TMP/cmp.txt" 2>&1; then ok; else bad "$1" "$(cat "$TMP/cmp.txt")"; fi
}
expect mpi-jda-single 0 "jda  *[0-9]" -- "$TL" adapt $K --no-guard --out-target "$TMP/e0.csv"
acc0=$("$TL" adapt $K --no-guard -q 2>/dev/null | sed -n 's/^jda  *\([0-9.]*\) %.*/\1/p')
for np in 1 2 3; do
    expect "mpi-jda-np$np" 0 "accuracy  *$acc0 %" -- $MPIRUN -np $np "$TL" adapt $K --out-target "$TMP/e$np.csv" -q
    same_embedding "mpi-jda-np$np-embedding" "$TMP/e0.csv" "$TMP/e$np.csv"
done
# what is not distributed says so
expect mpi-adapt-coral-refused 1 "only tca, jda and bda" -- $MPIRUN -np 2 "$TL" adapt --source "$TMP/ks.npy" \
    --target "$TMP/kt.npy" --method coral -q
expect mpi-adapt-exact-refused 1 "low-rank map" -- $MPIRUN -np 2 "$TL" adapt $K --lowrank none -q
# distances: linear MMD, CORAL, RBF MMD through random features (--rff-above below the rows),
# then the exact RBF MMD (the blocks passed between the processes) with permutation p-values,
# also between two samples of one distribution (ku: p well above the smallest)
# same_json NAME A.json B.json KEYS: each key's number within 1e-9 relative
same_json() {
    if awk -v keys="$4" 'function v(s, k) { if (!match(s, "\"" k "\": [-0-9.e+]+")) return "x"; s = substr(s, RSTART, RLENGTH); sub(/.*: /, "", s); return s + 0 }
        { t = t $0 } NR == FNR { a = t; t = ""; next }
        END { n = split(keys, ks, " "); for (i = 1; i <= n; i++) { x = v(a, ks[i]); y = v(t, ks[i])
              d = x - y; if (d < 0) d = -d; s = x < 0 ? -x : x; if (x == "x" || y == "x" || d > 1e-9 * s) { print ks[i] ": " x " vs " y; exit 1 } } }' \
        "$2" "$3" >"$TMP/cmp.txt" 2>&1; then ok
    else bad "$1" "$(cat "$TMP/cmp.txt")"; fi
}
awk -v dir="$TMP" 'BEGIN { srand(8); for (i = 0; i < 300; i++) { l = ""
    for (j = 0; j < 6; j++) l = l sprintf("%.5f,", (j == i % 3 ? 2 : 0) + rand() + rand() + rand() - 1.5)
    print l (i % 3) > (dir "/u.csv") } }'
"$TL" convert "$TMP/u.csv" "$TMP/ku.npy" -q
DI="--source $TMP/ks.npy --target $TMP/kt.npy --rff-above 100 --json -q"
DX="--source $TMP/ks.npy --target $TMP/kt.npy --permutations 200 --json -q"
DU="--source $TMP/ks.npy --target $TMP/ku.npy --metric mmd-rbf --permutations 200 --json -q"
"$TL" distance $DI --metric all >"$TMP/dist0.json" 2>&1
"$TL" distance $DX --metric all >"$TMP/exact0.json" 2>&1
"$TL" distance $DU >"$TMP/same0.json" 2>&1
for np in 2 3; do
    $MPIRUN -np $np "$TL" distance $DI >"$TMP/dist$np.json" 2>/dev/null
    same_json "mpi-distance-np$np" "$TMP/dist0.json" "$TMP/dist$np.json" "mmd2 mmd2_rbf coral"
    $MPIRUN -np $np "$TL" distance $DX >"$TMP/exact$np.json" 2>/dev/null
    same_json "mpi-distance-exact-np$np" "$TMP/exact0.json" "$TMP/exact$np.json" \
        "mmd2 mmd2_rbf gamma coral p_value p_value_linear"
    # the same rows from the CSV files, each process parsing only its block's lines
    $MPIRUN -np $np "$TL" distance $(echo "$DX" | sed "s|ks.npy|s.csv|; s|kt.npy|t.csv|") \
        >"$TMP/csv$np.json" 2>/dev/null
    same_json "mpi-distance-csv-np$np" "$TMP/exact0.json" "$TMP/csv$np.json" "mmd2 mmd2_rbf coral p_value"
    $MPIRUN -np $np "$TL" distance $DU >"$TMP/same$np.json" 2>/dev/null
    same_json "mpi-distance-same-np$np" "$TMP/same0.json" "$TMP/same$np.json" "mmd2_rbf gamma p_value"
    # the A-distance, its domain classifier fitted over the processes (sums in another order): within
    # one held-out row's worth, 4 / 600 (measured: equal), on the shifted pair and the unshifted one
    for pair in "kt exact" "ku adist"; do set -- $pair
        [ "$1" = ku ] && "$TL" distance --source "$TMP/ks.npy" --target "$TMP/ku.npy" --metric a-distance \
            --json -q >"$TMP/adist0.json" 2>&1 && $MPIRUN -np $np "$TL" distance --source "$TMP/ks.npy" \
            --target "$TMP/ku.npy" --metric a-distance --json -q >"$TMP/adist$np.json" 2>/dev/null
        if awk 'function v(s) { if (!match(s, /"a_distance": [-0-9.e+]+/)) return "x"; s = substr(s, RSTART + 14, RLENGTH - 14); return s + 0 }
            NR == FNR { a = v($0); next } { b = v($0) } END { d = a - b; if (d < 0) d = -d
                if (a == "x" || b == "x" || d > 4 / 600 + 1e-9) { print a " vs " b; exit 1 } }' \
            "$TMP/${2}0.json" "$TMP/$2$np.json" >"$TMP/cmp.txt" 2>&1; then ok
        else bad "mpi-distance-adist-$1-np$np" "$(cat "$TMP/cmp.txt")"; fi
    done
done
# the p-value between two samples of one distribution is not the smallest one (1/201)
awk '{ if (match($0, /"p_value": [0-9.e+-]+/)) { p = substr($0, RSTART + 11, RLENGTH - 11) + 0; exit !(p > 0.02) } else exit 1 }' \
    "$TMP/same0.json" && ok || bad mpi-distance-same-p "$(cat "$TMP/same0.json")"
# part 3: `tl train` with no row selection reads only its block of the .npy (cli_nn_load_shard):
# the same step losses as one process holding every row
NT="--arch dense:8,relu,dense:3 --data $TMP/ks.npy --epochs 2 --batch 32 --threads 1 -q"
expect mpi-train-block-single 0 "" -- "$TL" train $NT --save "$TMP/b0.tlm" --step-log "$TMP/b0.csv"
for np in 2 3; do
    expect "mpi-train-block-np$np" 0 "" -- $MPIRUN -np $np "$TL" train $NT --save "$TMP/b$np.tlm" --step-log "$TMP/b$np.csv"
    same_losses "mpi-train-block-np$np-losses" "$TMP/b0.csv" "$TMP/b$np.csv"
done
# multi-task (`tl train --tasks`, two tasks on a shared trunk, batch norm in the trunk and in each
# head): every task's rows split over 1-3 processes, each reading its block of the .npy files; the
# per-step losses equal one process's (relative 1e-5), and a run stopped after epoch 3 and rerun
# to 6 from rank 0's checkpoint ends where an uninterrupted run ends
MT="--tasks a=$TMP/ks.npy --tasks b=$TMP/kt.npy --arch dense:16,bn,relu --head dense:8,bn,relu,dense:3 --batch 32 --threads 1 --val-split 0.1 --patience 10 -q"
expect mpi-mtl-single 0 "shared by 2 tasks" -- "$TL" train $MT --epochs 6 --save "$TMP/t0.tlm" --step-log "$TMP/t0.csv"
for np in 1 2 3; do
    expect "mpi-mtl-np$np" 0 "shared by 2 tasks" -- $MPIRUN -np $np "$TL" train $MT --epochs 6 --save "$TMP/t$np.tlm" \
        --step-log "$TMP/t$np.csv"
    same_losses "mpi-mtl-np$np-losses" "$TMP/t0.csv" "$TMP/t$np.csv"
done
for k in a b; do same_model "mpi-mtl-np3-model-$k" "$TMP/t0.tlm" "$TMP/t3.tlm" "$TMP/ks.npy" "--model-task $k"; done
expect mpi-mtl-stopped 0 "processes  *2" -- $MPIRUN -np 2 "$TL" train $MT --epochs 3 --save "$TMP/tk.tlm" \
    --checkpoint "$TMP/tck.bin" --step-log "$TMP/tk.csv"
expect mpi-mtl-resume 0 "resumed  *after epoch 3" -- $MPIRUN -np 2 "$TL" train $MT --epochs 6 --save "$TMP/tk.tlm" \
    --checkpoint "$TMP/tck.bin" --step-log "$TMP/tk.csv"
same_losses mpi-mtl-resume-losses "$TMP/t0.csv" "$TMP/tk.csv"
# overlapped with backward in 1 KB buckets (a bucket spans the trunk and the heads): the same bits
for np in 2 3; do
    for g in overlap after; do
        env TL_MPI_GRADS=$g TL_MPI_BUCKET_KB=1 $MPIRUN -x TL_MPI_GRADS -x TL_MPI_BUCKET_KB -np $np "$TL" train $MT \
            --epochs 6 --save "$TMP/t$np$g.tlm" >/dev/null 2>&1
    done
    [ -s "$TMP/t${np}after.tlm" ] && cmp -s "$TMP/t${np}overlap.tlm" "$TMP/t${np}after.tlm" && ok ||
        bad "mpi-mtl-overlap-np$np-bits" "the overlapped run's model differs or is missing"
done
same_model mpi-mtl-resume-model "$TMP/t2.tlm" "$TMP/tk.tlm" "$TMP/kt.npy" "--model-task b"
harness_summary
