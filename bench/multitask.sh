#!/bin/sh
# bench/multitask.sh: multi-task learning on the four Amazon review domains (issue 12; the MAN
# paper's protocol: 2000 labelled reviews per domain, 5-fold cross-validation) - libtl's
# shared-trunk network against one network per domain trained the same way (bench/multitask.c).
#
#   sh bench/multitask.sh [extra options of bench/multitask, e.g. --trunk dense:200,relu]
#
# Writes bench/out/multitask.md (pasted verbatim into bench/RESULTS.md).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DATA=${TL_DATA:-../shared/data}/amazon_review_dann_5000
THREADS=${BENCH_THREADS:-1}
mkdir -p "$BUILD/bench" bench/out
[ -f "$BUILD/libtl.a" ] || make lib
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BUILD/bench/multitask" bench/multitask.c \
    "$BUILD/libtl.a" $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
export OPENBLAS_NUM_THREADS="$THREADS"
"$BUILD/bench/multitask" --data "$DATA" --threads "$THREADS" "$@" >bench/out/multitask.md
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>bench/out/multitask.md
cat bench/out/multitask.md
