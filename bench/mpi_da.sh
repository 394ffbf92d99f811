#!/bin/sh
# Data-parallel deep adaptation on Amazon reviews (issue 17): for each method (DANN, DAN with the
# linear and the quadratic MK-MMD estimate, Deep CORAL, CDAN, CDAN+E with target entropy), the
# shallow network (dense:50,sigmoid,dense:2) trained on books -> dvd (ROWS rows of each, all 2 000
# by default; 3 epochs, global batch 32 a domain, seed 42) by the library's driver
# tests/test_dist.c on one process and under `mpirun -np 2` (1 thread each), and the largest
# relative difference of their per-step losses (the source loss plus the adaptation loss of each
# step's global batch). Equality, not speed: this is the check tests/mpi.sh makes on 300 rows, at
# full size. Writes bench/out/mpi_da.md. Environment: BUILD, TL_DATA_DIR, ROWS.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
AM=${TL_DATA_DIR:-../shared/data}/amazon_review_dann_5000
ROWS=${ROWS:-2000}
OUT=bench/out
mkdir -p "$OUT"
command -v mpirun >/dev/null 2>&1 || { echo "bench mpi_da: Open MPI's mpirun is absent" >&2; exit 1; }
[ -f "$AM/books_train.svmlight" ] || { echo "bench mpi_da: $AM is absent" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 TL_DA_ROWS=$ROWS
make -s BUILD="$BUILD" "$BUILD/tests/test_dist" >&2
TD=$BUILD/tests/test_dist
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
{
    echo "Deep adaptation, Amazon books -> dvd, $ROWS rows a domain, dense:50,sigmoid,dense:2, 3 epochs, batch 32, 1 thread per process."
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| method | lambda | steps | np 1 wall s | np 2 wall s | max relative difference of the step losses, np 2 vs np 1: epoch 1 | all 3 epochs | last step loss np 1 / np 2 |"
    echo "|---|---|---|---|---|---|---|---|"
    # the driver's weights (dann, cdan 0.5; dan 1; coral 3000), then DAN (linear) at 2 and 0.5
    for ml in dann: dan: dan:2 dan:0.5 dan-quad: coral: cdan: cdan-e:; do
        m=${ml%%:*} l=${ml#*:}
        t0=$(date +%s.%N)
        TL_DA_LAMBDA=$l "$TD" da $m "$AM/books_train.svmlight" "$AM/dvd_train.svmlight" "$W/$m-1.csv"
        t1=$(date +%s.%N)
        TL_DA_LAMBDA=$l mpirun --oversubscribe --bind-to none -np 2 -x OPENBLAS_NUM_THREADS -x TL_DA_ROWS \
            ${l:+-x TL_DA_LAMBDA} "$TD" da $m "$AM/books_train.svmlight" "$AM/dvd_train.svmlight" "$W/$m-2.csv"
        t2=$(date +%s.%N)
        awk -F, -v m=$m -v l="${l:-driver}" -v a="$t0" -v b="$t1" -v c="$t2" 'NR == FNR { if (FNR > 1) x[$1] = $2; next }
            FNR > 1 { n++; d = x[$1] - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2; r = d / s; if (r > mx) mx = r
                      if (n * 3 <= N) e1 = mx; l1 = x[$1]; l2 = $2 }
            END { printf "| %s | %s | %d | %.1f | %.1f | %.2e | %.2e | %s / %s |\n", m, l, n, b - a, c - b, e1, mx, l1, l2 }' \
            N=$(($(wc -l <"$W/$m-1.csv") - 1)) "$W/$m-1.csv" "$W/$m-2.csv"
    done
    echo
    echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/mpi_da.md"
