#!/bin/sh
# Suite "mpi_kernel" (issue 17, part 4): distributed Nystrom JDA on 70 000 Fashion-MNIST images.
# Protocol: source = the 60 000 training images (the Debian IDX files, gzip'd, read by block),
# target = the 10 000 test images rotated by 30 degrees (an .npy written by bench/mpi_kernel_data.py),
# raw pixels, RBF kernel with the median-heuristic gamma, LANDMARKS Nystrom landmarks (default
# 500), DIM dimensions (default 50), ITERS pseudo-label rounds (default 5), 1-NN learner, seed 42.
# `mpirun -np P tl adapt` for P in NPS (default "1 2 3"), 1 thread each: each process reads only its
# block of both domains. Records the accuracy, the wall time, the fit time and every process's peak
# memory, with the load average; writes bench/out/mpi_kernel.md. The accuracies must be equal
# (the fit is the one-process fit to rounding), and the embedded targets agree within 1e-6 up to
# each column's sign (checked here against P = 1).
# Then (PARTS, default "jda mmd"; "mmd" alone skips the above) the exact RBF MMD (median-heuristic
# gamma, U-statistic) under `mpirun -np P tl distance`, each process reading its block of both
# domains and the blocks passed between the processes (src/measure/kernel_rounds.c), against
# `tl distance` in one process without mpirun: source the first N (default 4000) test images, target
# the same N rotated; the MMD alone and with PERMS (default 100) permutations (2N <= 8000: each
# process keeps its rows of the pooled kernel). ROUNDS (default 3) rounds, the process counts
# alternating (MMD_NPS, default "1 2"; 1 = one process without mpirun); the best wall time of each
# is kept and every round's figures must be equal. Writes bench/out/mpi_mmd.md.
# Environment: BUILD, FMNIST, PY, LANDMARKS, DIM, ITERS, NPS, DATA (where the rotated target goes),
# PARTS, N, PERMS, ROUNDS, MMD_NPS.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
PY=${PY:-/usr/bin/python3}
LANDMARKS=${LANDMARKS:-500}
DIM=${DIM:-50}
ITERS=${ITERS:-5}
NPS=${NPS:-"1 2 3"}
PARTS=${PARTS:-"jda mmd"}
N=${N:-4000}
PERMS=${PERMS:-100}
ROUNDS=${ROUNDS:-3}
MMD_NPS=${MMD_NPS:-"1 2"}
DATA=${DATA:-bench/out/fm_rot30}
OUT=bench/out
mkdir -p "$OUT" "$DATA"
command -v mpirun >/dev/null 2>&1 || { echo "bench mpi_kernel: Open MPI's mpirun is absent" >&2; exit 1; }
[ -d "$FMNIST" ] || { echo "bench mpi_kernel: $FMNIST is absent" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
make -s BUILD="$BUILD" "$BUILD/tl" >&2
[ -f "$DATA/test_rot30.npy" ] || "$PY" bench/mpi_kernel_data.py "$FMNIST" "$DATA"
TL=$BUILD/tl
ARGS="--source $FMNIST:train --target $DATA/test_rot30.npy --method jda --kernel rbf --lowrank nystrom
      --landmarks $LANDMARKS --dim $DIM --iters $ITERS --threads 1 --seed 42"
case " $PARTS " in *" jda "*)
md=$OUT/mpi_kernel.md
{
    echo "Distributed Nystrom JDA, Fashion-MNIST train (60 000) -> test rotated 30 degrees (10 000), raw pixels,"
    echo "RBF (median gamma), $LANDMARKS landmarks, dim $DIM, $ITERS rounds, 1-NN; 1 thread per process;"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| processes | accuracy | wall s | fit s (rank 0) | peak MB per process | embedding vs the first |"
    echo "|---|---|---|---|---|---|"
} >"$md"
for np in $NPS; do
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    mpirun --oversubscribe --bind-to none -np "$np" "$TL" adapt $ARGS --out-target "$OUT/mpi_kernel_e$np.npy" \
        -q >"$OUT/mpi_kernel_np$np.txt"
    t1=$(date +%s.%N)
    cat "$OUT/mpi_kernel_np$np.txt" >&2
    acc=$(sed -n 's/^accuracy *\([0-9.]*\) %.*/\1/p' "$OUT/mpi_kernel_np$np.txt")
    fit=$(sed -n 's/^seconds .*fit \([0-9.]*\),.*/\1/p' "$OUT/mpi_kernel_np$np.txt")
    mem=$(sed -n 's/^peak MB *\(.*\) (per process)/\1/p' "$OUT/mpi_kernel_np$np.txt")
    if [ "$np" = "$(echo $NPS | cut -d' ' -f1)" ]; then cmp="(reference)"; else
        cmp=$("$PY" bench/mpi_kernel_data.py --compare "$OUT/mpi_kernel_e$(echo $NPS | cut -d' ' -f1).npy" \
            "$OUT/mpi_kernel_e$np.npy"); fi
    echo "| $np | $acc % | $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") | $fit | $mem | $cmp |" >>"$md"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$md"
cat "$md"
;; esac

case " $PARTS " in *" mmd "*)
S=$DATA/src_$N.npy T=$DATA/tgt_$N.npy
[ -f "$S" ] && [ -f "$T" ] || "$PY" -c "
import gzip, sys, numpy as np
n = $N
with gzip.open('$FMNIST/t10k-images-idx3-ubyte.gz') as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
np.save('$S', x[:n])
np.save('$T', np.load('$DATA/test_rot30.npy')[:n])"
TL=$BUILD/tl
md=$OUT/mpi_mmd.md
# run P PERMUTATIONS: prints "wall measure_s mmd2 p_value"
run() {
    a="--source $S --target $T --metric mmd-rbf --permutations $2 --threads 1 --json -q"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    if [ "$1" = 1 ]; then "$TL" distance $a >"$OUT/mpi_mmd.json"
    else mpirun --oversubscribe --bind-to none -np "$1" "$TL" distance $a >"$OUT/mpi_mmd.json"; fi
    t1=$(date +%s.%N)
    "$PY" -c "import json; j = json.load(open('$OUT/mpi_mmd.json')); print('%.2f %.2f %.10g %s' % ($t1 - $t0, j['seconds'], j['mmd2_rbf'], j['p_value']))"
}
{
    echo "Exact RBF MMD^2 (median gamma, U-statistic), Fashion-MNIST test[:$N] -> the same rotated 30 degrees,"
    echo "784 raw pixels, 1 thread per process, best of $ROUNDS alternating rounds;"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| processes | permutations | MMD^2 | p-value | wall s (best) | measure s (best, rank 0) | every round's figures equal |"
    echo "|---|---|---|---|---|---|---|"
} >"$md"
for perms in 0 "$PERMS"; do
    for np in $MMD_NPS; do : >"$OUT/mpi_mmd_$np.txt"; done
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        for np in $MMD_NPS; do run "$np" "$perms" | tee -a "$OUT/mpi_mmd_$np.txt" >&2; done
        r=$((r + 1))
    done
    for np in $MMD_NPS; do
        sort -n "$OUT/mpi_mmd_$np.txt" | awk -v np="$np" -v perms="$perms" -v first="$(head -n 1 "$OUT/mpi_mmd_$(echo $MMD_NPS | cut -d' ' -f1).txt")" '
            NR == 1 { w = $1 } { if (m == "" || $2 < m) m = $2; v[$3 " " $4] = 1 }
            END { n = 0; for (k in v) n++; split(first, f, " ")
                  printf "| %s%s | %s | %s | %s | %.2f | %.2f | %s |\n", np, np == 1 ? " (no mpirun)" : "", perms,
                      $3, $4 == "None" ? "-" : $4, w, m, (n == 1 && f[3] == $3 && f[4] == $4) ? "yes, and equal to the first row" : "NO" }' >>"$md"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$md"
cat "$md"
;; esac
