#!/bin/sh
# Suite "mpi" (issue 17): data-parallel training on this machine, measured, and a cost model.
#   1. Throughput of `tl train` on a Fashion-MNIST CNN (the same global batch of 64, one epoch over
#      3 000 images): one process with 2 threads against `mpirun -np 2` with 1 thread each, and one
#      process with 1 thread (the compute per sample the model uses), alternating, ROUNDS rounds
#      (best and median shown; the load average recorded: this machine is shared).
#      In the same rounds, `mpirun -np 2` once for each way of summing the gradients
#      (TL_MPI_GRADS: overlap = buckets of MPI_BUCKET_KB sent during backward, after = the same
#      buckets after backward, allreduce = one MPI_Allreduce of the block after backward), in an
#      order that turns each round.
#   2. The all-reduce alone (bench/mpi_allreduce.c): the gradient block's bytes and 8 bytes
#      (latency), 2 processes, by MPI_Allreduce and by the bucketed sum.
#   3. bench/mpi_model.py: the ring all-reduce cost model from those figures, its prediction of the
#      measured 2-rank point, and its prediction for 8, 64 and 512 nodes on a 25 Gb/s network.
# Writes bench/out/mpi.md (pasted into bench/RESULTS.md). Needs Open MPI (mpirun, mpicc) and
# Fashion-MNIST. Environment: BUILD, FMNIST, PY, MPI_ROUNDS (default 3).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
PY=${PY:-/usr/bin/python3}
ROUNDS=${MPI_ROUNDS:-3}
BKB=${MPI_BUCKET_KB:-64}
OUT=bench/out
mkdir -p "$OUT" "$BUILD/bench"
command -v mpirun >/dev/null 2>&1 || { echo "bench mpi: Open MPI's mpirun is absent" >&2; exit 1; }
[ -d "$FMNIST" ] || { echo "bench mpi: $FMNIST is absent" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MPIRUN="mpirun --oversubscribe --bind-to none"
make -s BUILD="$BUILD" "$BUILD/tl" >&2
cc -std=c11 -O2 -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude $(pkg-config --cflags openblas matio) \
    -o "$BUILD/bench/mpi_allreduce" bench/mpi_allreduce.c "$BUILD/libtl.a" \
    $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread $(mpicc --showme:link)
TL=$BUILD/tl
A="conv:16:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,flatten,dense:64,bn,relu,dense:10"
T="--arch $A --data $FMNIST:train --per-class 300 --epochs 1 --batch 64 --json -q"
J=$OUT/mpi.jsonl
: >"$J"
sps() { sed -n 's/.*"samples_per_s": \([0-9.e+]*\).*/\1/p'; }
for r in $(seq "$ROUNDS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    a=$(OPENBLAS_NUM_THREADS=2 "$TL" train $T --threads 2 --save "$OUT/mpi_a.tlm" | sps)
    b=$(OPENBLAS_NUM_THREADS=1 $MPIRUN -np 2 -x OPENBLAS_NUM_THREADS "$TL" train $T --threads 1 --save "$OUT/mpi_b.tlm" | sps)
    c=$(OPENBLAS_NUM_THREADS=1 "$TL" train $T --threads 1 --save "$OUT/mpi_c.tlm" | sps)
    modes="overlap after allreduce"
    for i in $(seq $(((r - 1) % 3))); do modes="${modes#* } ${modes%% *}"; done
    g=""
    for m in $modes; do
        v=$(OPENBLAS_NUM_THREADS=1 TL_MPI_GRADS=$m TL_MPI_BUCKET_KB=$BKB $MPIRUN -np 2 -x OPENBLAS_NUM_THREADS \
            -x TL_MPI_GRADS -x TL_MPI_BUCKET_KB "$TL" train $T --threads 1 --save "$OUT/mpi_$m.tlm" | sps)
        g="$g, \"np2_$m\": $v"
    done
    load2=$(cut -d' ' -f1 /proc/loadavg)
    echo "{\"round\": $r, \"load\": $load, \"load_end\": $load2, \"one_2threads\": $a, \"np2_1thread\": $b, \"one_1thread\": $c$g, \"order\": \"$modes\"}" | tee -a "$J" >&2
done
params=$("$TL" train $T --epochs 1 --per-class 2 --save "$OUT/mpi_p.tlm" | sed -n 's/.*"parameters": \([0-9]*\).*/\1/p')
bytes=$((params * 4))
ar=$($MPIRUN -np 2 "$BUILD/bench/mpi_allreduce" "$bytes" 100 5)
lat=$($MPIRUN -np 2 "$BUILD/bench/mpi_allreduce" 8 1000 5)
bk=$($MPIRUN -np 2 "$BUILD/bench/mpi_allreduce" "$bytes" 100 5 $((BKB * 1024)))
echo "{\"params\": $params, \"bn_layers\": $(echo "$A" | tr ',' '\n' | grep -cx bn), \"batch\": 64, \"allreduce\": $ar, \"latency\": $lat, \"buckets\": $bk, \"bucket_kb\": $BKB}" | tee -a "$J" >&2
"$PY" bench/mpi_model.py "$J" "$(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" >"$OUT/mpi.md"
cat "$OUT/mpi.md"
