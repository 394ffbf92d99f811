#!/bin/sh
# bench/run_nn.sh: libtl's neural-network engine against PyTorch (Debian's python3-torch, CPU),
# same CNN, same data, batch 64, both on the same number of threads (2), side by side.
#
#   sh bench/run_nn.sh            full run (ROUNDS=3 alternating rounds, 10240 images each way)
#   BENCH_QUICK=1 sh bench/run_nn.sh   one round on 2048 images (trying the script, not for RESULTS)
#
# Each round runs bench_nn (libtl) and then ref_nn.py (PyTorch) in each of its configurations
# (PT_CONFIGS below), in fresh processes; the table reports the best round of each side (the
# machine may be shared: the best round is the least disturbed one) and the spread of all and every round is kept in bench/out/nn.jsonl. Both sides:
# OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 2 and their own thread setting 2 (tl_ctx.threads /
# torch.set_num_threads). Definitions of every figure are in bench/bench_nn.c. The Markdown table
# goes to bench/out/nn.md; bench/RESULTS.md holds it pasted verbatim - never edit a number by hand.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${ROUNDS:-3}
N=${BENCH_NN_N:-10240}
ARCH=${BENCH_NN_ARCH:-conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,conv:64:3,bn,relu,gap,dense:10}
if [ "${BENCH_QUICK:-0}" = 1 ]; then ROUNDS=1; N=2048; fi
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
OUT=bench/out
mkdir -p "$OUT" "$BUILD/bench"
make -s BUILD="$BUILD" lib >&2
cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
    $(pkg-config --cflags openblas matio) -o "$BUILD/bench/bench_nn" bench/bench_nn.c \
    "$BUILD/libtl.a" $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
"$PY" -c "import torch" 2>/dev/null || { echo "bench: $PY lacks torch (apt-get install python3-torch)" >&2; exit 1; }
J=$OUT/nn.jsonl
: >"$J"
T0=$(date +%s)
# PyTorch's configurations (name, environment, arguments), each run every round, so that libtl is
# compared with the fastest of them (highest median training rate), not with its default alone:
# OpenMP's wait policy (its default spins, which on shared cores loses time), the NHWC layout
# oneDNN prefers, oneDNN off, glibc malloc keeping freed blocks (no mmap/munmap and page faults
# per step: the allocator knob, as no jemalloc/tcmalloc is installed here) and one thread.
# PT_CONFIGS picks some by name ("default passive" ...).
KEEP=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296
pt_run() { # name: one PyTorch run of that configuration
    case $1 in
    default) "$PY" bench/ref_nn.py --arch "$ARCH" --train "$N" --infer "$N" --threads "$THREADS" --tag "$1" ;;
    passive) OMP_WAIT_POLICY=PASSIVE "$PY" bench/ref_nn.py --arch "$ARCH" --train "$N" --infer "$N" \
        --threads "$THREADS" --tag "$1" ;;
    passive+channels-last) OMP_WAIT_POLICY=PASSIVE "$PY" bench/ref_nn.py --arch "$ARCH" --train "$N" \
        --infer "$N" --threads "$THREADS" --channels-last --tag "$1" ;;
    passive+no-onednn) OMP_WAIT_POLICY=PASSIVE "$PY" bench/ref_nn.py --arch "$ARCH" --train "$N" \
        --infer "$N" --threads "$THREADS" --no-mkldnn --tag "$1" ;;
    passive+malloc-keep) OMP_WAIT_POLICY=PASSIVE GLIBC_TUNABLES=$KEEP "$PY" bench/ref_nn.py --arch "$ARCH" \
        --train "$N" --infer "$N" --threads "$THREADS" --tag "$1" ;;
    passive+1-thread) OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" bench/ref_nn.py \
        --arch "$ARCH" --train "$N" --infer "$N" --threads 1 --tag "$1" ;;
    *) echo "bench: unknown PyTorch configuration $1" >&2; exit 1 ;;
    esac
}
PT_CONFIGS=${PT_CONFIGS:-default passive passive+channels-last passive+no-onednn passive+malloc-keep passive+1-thread}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    echo "bench_nn: round $r/$ROUNDS: libtl" >&2
    "$BUILD/bench/bench_nn" --arch "$ARCH" --train "$N" --infer "$N" --threads "$THREADS" >>"$J"
    for c in $PT_CONFIGS; do
        echo "bench_nn: round $r/$ROUNDS: pytorch $c" >&2
        pt_run "$c" >>"$J"
    done
done
"$PY" - "$J" "$(($(date +%s) - T0))" "$ARCH" "$LOAD0" >"$OUT/nn.md" <<'EOF'
import json, os, platform, statistics, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
lt = [r for r in rows if r["impl"] == "libtl"]
ptall = [r for r in rows if r["impl"].startswith("pytorch")]
tags = list(dict.fromkeys(r.get("tag", "") for r in ptall))
med = lambda rs, k: statistics.median(r[k] for r in rs)
# PyTorch at its fastest stable configuration: the highest median training rate over the rounds
ptag = max(tags, key=lambda t: med([r for r in ptall if r.get("tag", "") == t], "train_sps"))
pt = [r for r in ptall if r.get("tag", "") == ptag]
def best(rs, key, hi=True):
    return (max if hi else min)(rs, key=lambda r: r[key])
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""
cpu = sh("sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1")
core = sh("printf '#include <stdio.h>\\nchar *openblas_get_corename(void);int main(void){puts(openblas_get_corename());}' "
          "| cc -x c - -o /tmp/obcore -lopenblas 2>/dev/null && /tmp/obcore")
load = open("/proc/loadavg").read().split()[:3]
print("## Neural networks: libtl vs PyTorch %s (CPU)" % pt[0]["impl"].split()[1] if pt else "## Neural networks")
print()
print("Command: `sh bench/run_nn.sh` (%d rounds, %s s). Machine: %s, %d CPUs, OpenBLAS %s kernels, "
      "load average at the end %s. Network: `%s` on 1x28x28 Fashion-MNIST images (/255), batch %d, "
      "SGD momentum 0.9, cross-entropy; both sides on %d threads; best round of each side. Load average "
      "at the start %s. PyTorch below is its fastest configuration here by median training rate (`%s`, "
      "out of %d tried every round; the spread of every one is in the second table)."
      % (len(lt), sys.argv[2], cpu, os.cpu_count(), core or "?", " ".join(load), sys.argv[3],
         lt[0]["batch"], lt[0]["threads"], sys.argv[4], ptag, len(tags)))
print()
L = {k: best(lt, k) for k in ("train_sps", "infer_sps")}
P = {k: best(pt, k) for k in ("train_sps", "infer_sps")}
lpk = min(r["peak_mb"] for r in lt); ppk = min(r["peak_mb"] for r in pt)
print("| figure | libtl | PyTorch | libtl / PyTorch |")
print("|---|---:|---:|---:|")
print("| training, images/s (%d images, 1 epoch) | %.0f | %.0f | %.2f |" % (lt[0]["train_samples"], L["train_sps"]["train_sps"], P["train_sps"]["train_sps"], L["train_sps"]["train_sps"] / P["train_sps"]["train_sps"]))
print("| inference, images/s (eval mode, batch %d) | %.0f | %.0f | %.2f |" % (lt[0]["batch"], L["infer_sps"]["infer_sps"], P["infer_sps"]["infer_sps"], L["infer_sps"]["infer_sps"] / P["infer_sps"]["infer_sps"]))
print("| peak resident memory, MB (lowest round) | %.0f | %.0f | %.2f |" % (lpk, ppk, lpk / ppk))
print("| resident at start of the timed part, MB | %.0f | %.0f | |" % (min(r["start_mb"] for r in lt), min(r["start_mb"] for r in pt)))
print("| training loss after the epoch | %.3f | %.3f | |" % (L["train_sps"]["train_loss"], P["train_sps"]["train_loss"]))
print("| accuracy on the training images after it | %.3f | %.3f | |" % (L["infer_sps"]["infer_acc"], P["infer_sps"]["infer_acc"]))
f = L["train_sps"]
print()
print("GFLOP/s of the convolution and dense products (2 per multiply-add; %.2f MFLOP per image forward): "
      "libtl training %.1f, inference %.1f; PyTorch training %.1f, inference %.1f; sgemm peak on the same "
      "threads (2048^3) %.1f GFLOP/s, so libtl training reaches %.0f %% of it."
      % (f["fwd_mflop"], f["train_gflops"], L["infer_sps"]["infer_gflops"],
         f["train_gflops"] * P["train_sps"]["train_sps"] / f["train_sps"],
         L["infer_sps"]["infer_gflops"] * P["infer_sps"]["infer_sps"] / L["infer_sps"]["infer_sps"],
         f["sgemm_peak_gflops"], 100 * f["train_gflops"] / f["sgemm_peak_gflops"]))
print()
print("Every round, training images/s (inference in brackets), the spread, and the training's images per "
      "CPU-second (the process's CPU time, all threads: less disturbed by other jobs on the cores):")
print()
cps = lambda rs: statistics.median(r["train_samples"] * r["epochs"] / r["train_cpu_s"] for r in rs) if all(r.get("train_cpu_s") for r in rs) else None
print("| side | rounds, train (inference) | train median | train min-max | median ratio libtl / this | train images per CPU-second, median | ratio libtl / this |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, rs in [("libtl", lt)] + [("pytorch " + t, [r for r in ptall if r.get("tag", "") == t]) for t in tags]:
    print("| %s | %s | %.0f | %.0f-%.0f | %s | %s | %s |" % (name, ", ".join("%.0f (%.0f)" % (r["train_sps"], r["infer_sps"]) for r in rs),
          med(rs, "train_sps"), min(r["train_sps"] for r in rs), max(r["train_sps"] for r in rs),
          "" if rs is lt else "%.2f" % (med(lt, "train_sps") / med(rs, "train_sps")),
          "%.0f" % cps(rs) if cps(rs) else "",
          "%.2f" % (cps(lt) / cps(rs)) if rs is not lt and cps(rs) and cps(lt) else ""))
EOF
cat "$OUT/nn.md"
