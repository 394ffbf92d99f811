#!/bin/sh
# Part of suite "mpi_kernel" (issue 17): the exact RBF MMD (median-heuristic gamma, U-statistic)
# under `mpirun -np P tl distance`, each process reading its block of both domains and the blocks
# passed between the processes (src/measure/kernel_rounds.c), against `tl distance` in one process
# without mpirun. Data: the first N (default 4000) Fashion-MNIST test images as the source, the
# same N rotated by 30 degrees (bench/mpi_kernel_data.py) as the target, raw pixels (784 columns).
# Two measures: the MMD alone, and the MMD with PERMS (default 100) permutations (the pooled kernel
# rows of each process, 2N <= 8000). ROUNDS (default 3) rounds, the process counts alternating in
# each; the best wall time of each is kept, the figures of every round must be the same. 1 thread
# per process. Writes bench/out/mpi_mmd.md.
# Environment: BUILD, FMNIST, PY, N, PERMS, ROUNDS, NPS (default "1 2"; 1 = one process without
# mpirun), DATA (where the rotated target goes).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
PY=${PY:-/usr/bin/python3}
N=${N:-4000}
PERMS=${PERMS:-100}
ROUNDS=${ROUNDS:-3}
NPS=${NPS:-"1 2"}
DATA=${DATA:-bench/out/fm_rot30}
OUT=bench/out
mkdir -p "$OUT" "$DATA"
command -v mpirun >/dev/null 2>&1 || { echo "bench mpi_mmd: Open MPI's mpirun is absent" >&2; exit 1; }
[ -d "$FMNIST" ] || { echo "bench mpi_mmd: $FMNIST is absent" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
make -s BUILD="$BUILD" "$BUILD/tl" >&2
[ -f "$DATA/test_rot30.npy" ] || "$PY" bench/mpi_kernel_data.py "$FMNIST" "$DATA"
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
    for np in $NPS; do : >"$OUT/mpi_mmd_$np.txt"; done
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        for np in $NPS; do run "$np" "$perms" | tee -a "$OUT/mpi_mmd_$np.txt" >&2; done
        r=$((r + 1))
    done
    for np in $NPS; do
        sort -n "$OUT/mpi_mmd_$np.txt" | awk -v np="$np" -v perms="$perms" -v first="$(head -n 1 "$OUT/mpi_mmd_$(echo $NPS | cut -d' ' -f1).txt")" '
            NR == 1 { w = $1 } { if (m == "" || $2 < m) m = $2; v[$3 " " $4] = 1 }
            END { n = 0; for (k in v) n++; split(first, f, " ")
                  printf "| %s%s | %s | %s | %s | %.2f | %.2f | %s |\n", np, np == 1 ? " (no mpirun)" : "", perms,
                      $3, $4 == "None" ? "-" : $4, w, m, (n == 1 && f[3] == $3 && f[4] == $4) ? "yes, and equal to the first row" : "NO" }' >>"$md"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$md"
cat "$md"
