"""Cost model of data-parallel training (issue 17), from bench/mpi.sh's measurements.

A step of synchronous data-parallel SGD on P nodes is compute, then one all-reduce of the
gradient block (S bytes, float32), plus batch norm's small all-reduces (3 per batch-norm layer:
two forward, one backward):
    T(P) = b * t + ring(P) + 3 * n_bn * ceil(log2 P) * alpha
    ring(P) = 2 (P - 1) alpha + 2 (P - 1) / P * S / BW       (ring all-reduce: reduce-scatter +
                                                              all-gather, each node sends and
                                                              receives 2 (P-1)/P * S bytes)
with t the compute per sample of one node (measured: one process, one thread), b the samples a
node computes per step. Throughput = global batch / T(P). The 2-process point on this machine is
predicted with the all-reduce measured here (shared memory) and compared with the measured one;
8, 64 and 512 nodes are predicted for a 25 Gb/s network (BW = 3.125 GB/s) with a per-message
latency alpha = 20 us (an assumption: MPI over TCP on 25 GbE; the model shows both terms apart),
at b = 64 samples per node (weak scaling: global batch 64 P).
Usage: mpi_model.py mpi.jsonl "machine description"  -> Markdown on stdout."""
import json
import math
import statistics
import sys

rows, meta = [], None
for line in open(sys.argv[1]):
    j = json.loads(line)
    if "round" in j:
        rows.append(j)
    else:
        meta = j
machine = sys.argv[2] if len(sys.argv) > 2 else ""


def best_med(key):
    v = [r[key] for r in rows]
    return max(v), statistics.median(v)


a_best, a_med = best_med("one_2threads")
b_best, b_med = best_med("np2_1thread")
c_best, c_med = best_med("one_1thread")
S = 4 * meta["params"]
nbn = meta["bn_layers"]
B = meta["batch"]
t = 1.0 / c_best  # s per sample, one thread
t_ar2 = meta["allreduce"]["median_s"]  # gradient block, 2 processes, this machine
t_lat2 = meta["latency"]["median_s"]  # 8 bytes, 2 processes
step2 = (B / 2) * t + t_ar2 + 3 * nbn * t_lat2
pred2 = B / step2

print("## mpi: data-parallel training (issue 17)\n")
print(f"Machine: {machine}; load average at each round in the table. Command: `sh bench/run.sh mpi`.")
print(f"CNN `conv:16:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,flatten,dense:64,bn,relu,dense:10` "
      f"({meta['params']} parameters, gradient block {S} bytes, {nbn} batch-norm layers), "
      f"Fashion-MNIST 3 000 images, one epoch, global batch {B}.\n")
print("| round | load | 1 process, 2 threads (img/s) | `mpirun -np 2`, 1 thread each (img/s) | np 2 / 1x2 | 1 process, 1 thread (img/s) |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['round']} | {r['load']} | {r['one_2threads']:.0f} | {r['np2_1thread']:.0f} | "
          f"{r['np2_1thread'] / r['one_2threads']:.2f} | {r['one_1thread']:.0f} |")
print(f"| best | | {a_best:.0f} | {b_best:.0f} | {b_best / a_best:.2f} | {c_best:.0f} |")
print(f"| median | | {a_med:.0f} | {b_med:.0f} | {b_med / a_med:.2f} | {c_med:.0f} |\n")
print(f"All-reduce alone, 2 processes on this machine (median): the gradient block {S} B in "
      f"{t_ar2 * 1e6:.1f} us, 8 B in {t_lat2 * 1e6:.1f} us.\n")
print("### Cost model against the measured points\n")
print(f"- compute per sample t = 1 / {c_best:.0f} = {t * 1e6:.1f} us (1 process, 1 thread, best round);")
print(f"- 1 node: predicted {1 / t:.0f} img/s = measured {c_best:.0f} (the calibration point);")
print(f"- 2 processes here: T = {B // 2} t + all-reduce {t_ar2 * 1e6:.1f} us + {3 * nbn} x "
      f"{t_lat2 * 1e6:.1f} us = {step2 * 1e3:.2f} ms a step -> predicted {pred2:.0f} img/s, "
      f"measured {b_best:.0f} (best) / {b_med:.0f} (median): measured / predicted = {b_best / pred2:.2f}.\n")
BW, alpha, b = 25e9 / 8, 20e-6, 64
print("### Predicted on a 25 Gb/s network (alpha 20 us, 64 samples per node per step)\n")
print("| nodes | compute (ms) | ring bandwidth term (ms) | ring latency term (ms) | batch-norm syncs (ms) | step (ms) | img/s | efficiency | with a log2-P latency all-reduce: img/s |")
print("|---|---|---|---|---|---|---|---|---|")
for P in (1, 2, 8, 64, 512):
    comp = b * t
    bw = 2 * (P - 1) / P * S / BW
    lat = 2 * (P - 1) * alpha
    lg = math.ceil(math.log2(P)) if P > 1 else 0
    bn = 3 * nbn * lg * alpha
    T = comp + bw + lat + bn
    T_tree = comp + bw + 2 * lg * alpha + bn
    thr = b * P / T
    print(f"| {P} | {comp * 1e3:.2f} | {bw * 1e3:.3f} | {lat * 1e3:.2f} | {bn * 1e3:.2f} | {T * 1e3:.2f} | "
          f"{thr:.0f} | {thr / (P / t):.2f} | {b * P / T_tree:.0f} |")

# Issue 17, part 5: the gradient sum overlapped with backward, measured (the same rounds) and modelled.
if rows and "np2_overlap" in rows[0]:
    kb = meta.get("bucket_kb", 64)
    print(f"\n### The gradient sum overlapped with backward (`TL_MPI_GRADS`, buckets of {kb} KB)\n")
    print("`mpirun -np 2`, 1 thread each, in the same rounds as above, in an order that turns each round.\n")
    print("| round | load (start, end) | order | overlap (img/s) | after (img/s) | allreduce (img/s) | overlap / after | overlap / allreduce |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['round']} | {r['load']}, {r.get('load_end', '')} | {r['order']} | {r['np2_overlap']:.0f} | "
              f"{r['np2_after']:.0f} | {r['np2_allreduce']:.0f} | {r['np2_overlap'] / r['np2_after']:.2f} | "
              f"{r['np2_overlap'] / r['np2_allreduce']:.2f} |")
    ov, af, al = (best_med("np2_" + m) for m in ("overlap", "after", "allreduce"))
    print(f"| best | | | {ov[0]:.0f} | {af[0]:.0f} | {al[0]:.0f} | {ov[0] / af[0]:.2f} | {ov[0] / al[0]:.2f} |")
    print(f"| median | | | {ov[1]:.0f} | {af[1]:.0f} | {al[1]:.0f} | {ov[1] / af[1]:.2f} | {ov[1] / al[1]:.2f} |\n")
    if "buckets" in meta:
        print(f"The sum alone, 2 processes (median): `MPI_Allreduce` of the block {t_ar2 * 1e6:.0f} us, "
              f"in {kb} KB buckets (alltoall + allgather each) {meta['buckets']['median_s'] * 1e6:.0f} us.\n")
    # model: k buckets, each a ring's 2(P-1) messages and its share of the bytes; overlap hides
    # the buckets but the last behind backward (about 2/3 of a step's compute)
    k = max(1, math.ceil(S / (kb * 1024)))
    print(f"Model, 25 Gb/s, alpha 20 us, {k} buckets: a bucket costs 2(P-1) alpha + 2(P-1)/P (S/k)/BW; "
          "after = every bucket after backward; overlap = the last bucket exposed and the others "
          "hidden behind backward (2/3 of the compute) as far as it lasts.\n")
    print("| nodes | one all-reduce: step (ms) | buckets after: step (ms) | buckets overlapped: step (ms) |")
    print("|---|---|---|---|")
    for P in (2, 8, 64, 512):
        comp = b * t
        lg = math.ceil(math.log2(P))
        bn = 3 * nbn * lg * alpha
        one = 2 * (P - 1) * alpha + 2 * (P - 1) / P * S / BW
        per = 2 * (P - 1) * alpha + 2 * (P - 1) / P * (S / k) / BW
        after = comp + bn + k * per
        over = comp + bn + per + max(0.0, (k - 1) * per - 2 / 3 * comp)
        print(f"| {P} | {(comp + bn + one) * 1e3:.2f} | {after * 1e3:.2f} | {over * 1e3:.2f} |")
