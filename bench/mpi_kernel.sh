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
# Environment: BUILD, FMNIST, PY, LANDMARKS, DIM, ITERS, NPS, DATA (where the rotated target goes).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
PY=${PY:-/usr/bin/python3}
LANDMARKS=${LANDMARKS:-500}
DIM=${DIM:-50}
ITERS=${ITERS:-5}
NPS=${NPS:-"1 2 3"}
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
