#!/bin/sh
# bench/deep_da_speed.sh: DANN training speed and peak memory, libtl (bench/deep_da_speed.c)
# against PyTorch 1.13 CPU (bench/ref_deep_da.py) in one run: the DANN paper's shallow network on
# Amazon reviews (books -> dvd, 2000 + 2000 rows, 5000-d), 32 + 32 rows a step, ROUNDS rounds
# alternating the two (fresh processes), THREADS threads each (OPENBLAS/OMP and
# torch.set_num_threads). Table: every round's samples/s, the median, the ratio of medians, peak
# RSS. Then the same for the CNN DANN on MNIST -> USPS digits (NETS="mlp cnn" by default; "mlp"
# or "cnn" runs one). Called by `sh bench/run.sh deep_da`; writes bench/out/deep_da_speed.md.
# Input: libtl takes the reviews as read, sparse (tl_nn_da_train_csr; LIBTL_DENSE=1: dense float32
# rows through tl_nn_da_train, the path before), PyTorch dense float32 rows (its torch.sparse.mm
# on COO batches was no faster here: 24.0 against 23.7 ms a step for the first layer, one thread).
# OpenBLAS's kernels: OpenBLAS 0.3.21 predates this CPU (AMD Zen 5) and picks its AVX2 (Haswell)
# kernels; OPENBLAS_CORETYPE=SkylakeX in the environment selects its AVX-512 ones, for both sides
# alike (PyTorch's dense layers go through the same OpenBLAS; its convolutions through oneDNN,
# which finds AVX-512 by itself). The table names the kernels each run used.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${ROUNDS:-3}
EPOCHS=${EPOCHS:-5}
A=${TL_DATA:-../shared/data}/amazon_review_dann_5000
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
mkdir -p bench/out "$BUILD/bench"
[ -f "$BUILD/libtl.a" ] || make -s BUILD="$BUILD" lib >&2
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BUILD/bench/deep_da_speed" bench/deep_da_speed.c \
    "$BUILD/libtl.a" $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
J=bench/out/deep_da_speed.jsonl
: >"$J"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
CORE=$(printf '#include <stdio.h>\nchar *openblas_get_corename(void);int main(void){puts(openblas_get_corename());}' |
    cc -x c - -o "$BUILD/bench/obcore" -lopenblas 2>/dev/null && "$BUILD/bench/obcore" || echo "?")
M=${TL_DATA:-../shared/data}/digits_mnist_usps/MNIST_vs_USPS.mat
for net in ${NETS:-mlp cnn}; do # mlp: Amazon books -> dvd; cnn: MNIST -> USPS digits
    if [ "$net" = cnn ]; then
        C=1 S="$M:X_src,Y_src" T="$M:X_tar" PS=$M PT=$M
    else
        C=0 S=$A/books_train.svmlight T=$A/dvd_train.svmlight PS=$S PT=$T
    fi
    for r in $(seq 1 "$ROUNDS"); do
        echo "deep_da_speed: $net round $r/$ROUNDS: libtl" >&2
        "$BUILD/bench/deep_da_speed" --cnn $C --dense "${LIBTL_DENSE:-0}" --source "$S" --target "$T" \
            --epochs "$EPOCHS" --threads "$THREADS" >>"$J"
        if [ "${PT_DEFAULT:-1}" = 1 ]; then # PT_DEFAULT=0 skips it (minutes a round under load)
            echo "deep_da_speed: $net round $r/$ROUNDS: pytorch" >&2
            "$PY" bench/ref_deep_da.py --cnn $C --source "$PS" --target "$PT" --epochs "$EPOCHS" \
                --threads "$THREADS" >>"$J"
        fi
        # OpenMP's default wait policy spins; on a machine whose cores are shared it can lose most
        # of its time to the spinning, so PyTorch also runs with passive waiting (its best here)
        echo "deep_da_speed: $net round $r/$ROUNDS: pytorch, OMP_WAIT_POLICY=PASSIVE" >&2
        OMP_WAIT_POLICY=PASSIVE "$PY" bench/ref_deep_da.py --cnn $C --source "$PS" --target "$PT" \
            --epochs "$EPOCHS" --threads "$THREADS" --tag passive >>"$J"
        # glibc malloc keeping freed memory (no mmap/munmap and page faults per step): PyTorch's
        # allocator knob, up to 2x on the Amazon network here (PT_KEEP=0 skips it)
        if [ "${PT_KEEP:-1}" = 1 ]; then
            echo "deep_da_speed: $net round $r/$ROUNDS: pytorch, passive, malloc keeping memory" >&2
            OMP_WAIT_POLICY=PASSIVE GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \
                "$PY" bench/ref_deep_da.py --cnn $C --source "$PS" --target "$PT" --epochs "$EPOCHS" \
                --threads "$THREADS" --tag keep >>"$J"
        fi
        if [ "${PT_ONE:-0}" = 1 ]; then # PT_ONE=1: PyTorch on one thread too (shown, not compared)
            echo "deep_da_speed: $net round $r/$ROUNDS: pytorch, passive, 1 thread" >&2
            OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" bench/ref_deep_da.py \
                --cnn $C --source "$PS" --target "$PT" --epochs "$EPOCHS" --threads 1 --tag passive1 >>"$J"
        fi
    done
done
"$PY" - "$J" "$THREADS" "$LOAD" "$CORE" "$(cut -d' ' -f1-3 /proc/loadavg)" >bench/out/deep_da_speed.md <<'PYEOF'
import json, platform, statistics, sys
allrows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
TITLE = {"mlp": "DANN training, Amazon books -> dvd (5000-d sparse input: libtl %s, PyTorch dense float32; "
                "dense:100,sigmoid,dense:2 + grl,dense:2 head), 32 + 32 rows a step"
                % ("dense float32 rows" if any(r.get("input") == "dense" for r in allrows) else "CSR rows as read"),
         "cnn": "CNN DANN training, MNIST -> USPS digits (1x16x16, conv:16:5,relu,pool:2,conv:32:5,relu,pool:2,"
                "flatten,dense:100,relu,dense:10 + grl,dense:100,relu,dense:2 head), 32 + 32 rows a step"}
def cmed(rs):
    """median samples per CPU-second (the CPU time of the training, all threads), None without it"""
    v = [r["samples_per_s"] * r["seconds"] / r["cpu_s"] for r in rs if r.get("cpu_s")]
    return statistics.median(v) if v else None
for net in ("mlp", "cnn"):
    rows = [r for r in allrows if r.get("net", "mlp") == net]
    if not rows:
        continue
    lt = [r for r in rows if r["impl"].startswith("libtl")]
    pd = [r for r in rows if r["impl"].startswith("pytorch") and not r.get("tag")]
    pp = [r for r in rows if r["impl"].startswith("pytorch") and r.get("tag") == "passive"]
    p1 = [r for r in rows if r["impl"].startswith("pytorch") and r.get("tag") == "passive1"]
    pk = [r for r in rows if r["impl"].startswith("pytorch") and r.get("tag") == "keep"]
    print("%s; %s, %s threads, OpenBLAS %s kernels, load average at start %s, at the end %s"
          % (TITLE[net], cpu, sys.argv[2], sys.argv[4], sys.argv[3], sys.argv[5]))
    print("Command: sh bench/run.sh deep_da\n")
    print("| side | samples/s, each round | median | min-max | samples per CPU-second, median | peak RSS (MB, max) | last epoch source loss |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in (("libtl", lt), ("pytorch (OpenMP default wait)", pd), ("pytorch, OMP_WAIT_POLICY=PASSIVE", pp),
                     ("pytorch, passive, malloc keeping memory", pk), ("pytorch, passive, 1 thread", p1)):
        if not rs:
            continue
        sp = [r["samples_per_s"] for r in rs]
        print("| %s | %s | %.0f | %.0f-%.0f | %s | %.0f | %.4f |" % (name, ", ".join("%.0f" % v for v in sp),
              statistics.median(sp), min(sp), max(sp), "%.0f" % cmed(rs) if cmed(rs) else "",
              max(r["peak_rss_mb"] for r in rs), rs[-1]["final_loss"]))
    med = lambda rs: statistics.median(r["samples_per_s"] for r in rs)
    best = max((rs for rs in (pd, pp, pk) if rs), key=med, default=None)
    if lt and best:
        # each round runs libtl and then PyTorch back to back, so the per-round ratios share a load
        rr = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(lt, best)]
        print("\nlibtl / PyTorch at its best configuration here (%s): samples/s %.2fx (medians), %.2fx (best "
              "rounds); per round %s; peak memory %.2fx\n" % (
            {id(pp): "passive wait", id(pk): "passive wait, malloc keeping memory"}.get(id(best), "default wait"),
            med(lt) / med(best),
            max(r["samples_per_s"] for r in lt) / max(r["samples_per_s"] for r in best),
            ", ".join("%.2f" % v for v in rr),
            max(r["peak_rss_mb"] for r in lt) / max(r["peak_rss_mb"] for r in best)))
    if lt and best and cmed(lt) and cmed(best):
        print("Per CPU-second (the work each side spends, which other jobs on the cores disturb less than "
              "wall time): libtl / PyTorch %.2fx\n" % (cmed(lt) / cmed(best)))
    if lt and p1:
        print("libtl (%s threads) / PyTorch on 1 thread (passive): samples/s %.2fx (medians)\n" % (sys.argv[2], med(lt) / med(p1)))
PYEOF
cat bench/out/deep_da_speed.md
