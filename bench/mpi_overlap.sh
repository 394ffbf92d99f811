#!/bin/sh
# Issue 17, part 5: is the gradient sum overlapped with backward worth it on this machine?
# `mpirun -np 2 tl train` (1 thread each; bench/mpi.sh's CNN, 3 000 Fashion-MNIST images, one
# epoch, global batch 64) once per way of summing the gradients a round - TL_MPI_GRADS=overlap in
# buckets of each size in BUCKETS (KB), after (buckets of the largest size, sent after backward),
# allreduce (one MPI_Allreduce) - the order turned each round, the load average recorded before and
# after each round. Prints one JSON line a round, then a Markdown table (best and median of each).
# Environment: BUILD, FMNIST, ROUNDS (default 6), BUCKETS (default "64 256").
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
ROUNDS=${ROUNDS:-6}
BUCKETS=${BUCKETS:-64 256}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MPIRUN="mpirun --oversubscribe --bind-to none"
make -s BUILD="$BUILD" "$BUILD/tl" >&2
A="conv:16:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,flatten,dense:64,bn,relu,dense:10"
T="--arch $A --data $FMNIST:train --per-class 300 --epochs 1 --batch 64 --threads 1 --json -q"
big=0
modes=""
for k in $BUCKETS; do modes="$modes overlap:$k"; [ "$k" -gt "$big" ] && big=$k; done
modes="${modes# } after:$big allreduce:$big"
out=$(mktemp)
for r in $(seq "$ROUNDS"); do
    l0=$(cut -d' ' -f1 /proc/loadavg)
    line="{\"round\": $r, \"load\": $l0"
    for m in $modes; do
        v=$(OPENBLAS_NUM_THREADS=1 TL_MPI_GRADS=${m%:*} TL_MPI_BUCKET_KB=${m#*:} $MPIRUN -np 2 -x OPENBLAS_NUM_THREADS \
            -x TL_MPI_GRADS -x TL_MPI_BUCKET_KB "$BUILD/tl" train $T --save "$out.tlm" |
            sed -n 's/.*"samples_per_s": \([0-9.e+]*\).*/\1/p')
        line="$line, \"$m\": $v"
    done
    echo "$line, \"load_end\": $(cut -d' ' -f1 /proc/loadavg), \"order\": \"$modes\"}" | tee -a "$out"
    modes="${modes#* } ${modes%% *}"
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [k for k in rows[0] if ":" in k]
print("\n| round | load (start, end) | " + " | ".join(keys) + " |")
print("|---|---|" + "---|" * len(keys))
for r in rows:
    print(f"| {r['round']} | {r['load']}, {r['load_end']} | " + " | ".join(f"{r[k]:.0f}" for k in keys) + " |")
for name, f in (("best", max), ("median", statistics.median)):
    print(f"| {name} | | " + " | ".join(f"{f([r[k] for r in rows]):.0f}" for k in keys) + " |")
ref = "allreduce:" + keys[-1].split(":")[1]
print("\nmedian of the per-round ratios to " + ref + ": " + ", ".join(
    f"{k} {statistics.median([r[k] / r[ref] for r in rows]):.3f}" for k in keys if k != ref))
PY
rm -f "$out" "$out.tlm"
