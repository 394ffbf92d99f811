#!/usr/bin/python3
"""The table of bench/hetero.sh: per task and method, mean accuracy over the seeds (libtl and
numpy side by side), the target-only baseline, the gain, the method's time and the ratio;
then the issue's checks, computed, and the machine."""
import collections
import json
import os
import platform
import subprocess
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cmd = sys.argv[2] if len(sys.argv) > 2 else "sh bench/hetero.sh"
short = {"amazon": "A", "caltech": "C", "webcam": "W", "dslr": "D"}
acc = collections.defaultdict(list)
for r in rows:
    acc[(r["side"], r["method"], r["source"], r["target"])].append(r)
methods = sorted({r["method"] for r in rows})
tasks = sorted({(r["source"], r["target"]) for r in rows}, key=lambda t: (t[1], t[0]))
seeds = sorted({r["seed"] for r in rows})


def mean(v):
    return sum(v) / len(v) if v else float("nan")


cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(f"Command: `{cmd}`  ")
print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
      f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '?')}; "
      f"{len(seeds)} seeded draws per task  ")
print()
print("| task | target only | " + " | ".join(f"{m} libtl | {m} numpy | {m} gain | {m} s libtl | {m} s numpy | ratio" for m in methods) + " |")
print("|---|---|" + "---|" * (6 * len(methods)))
tot = collections.defaultdict(list)
for s, t in tasks:
    base = [r["target_only"] for r in acc[("libtl", methods[0], s, t)]]
    cells = [f"{short[s]}→{short[t]}", f"{100 * mean(base):.2f}"]
    tot["base"].append(mean(base))
    for m in methods:
        L, N = acc[("libtl", m, s, t)], acc[("numpy", m, s, t)]
        la, na = mean([r["accuracy"] for r in L]), mean([r["accuracy"] for r in N])
        lt, nt = mean([r["seconds_method"] for r in L]), mean([r["seconds_method"] for r in N])
        tot[m].append(la)
        tot[m + "n"].append(na)
        tot[m + "t"].append(lt)
        tot[m + "tn"].append(nt)
        cells += [f"{100 * la:.2f}", f"{100 * na:.2f}" if N else "–", f"{100 * (la - mean(base)):+.2f}",
                  f"{lt:.3f}", f"{nt:.3f}" if N else "–", f"{nt / lt:.2f}" if N and lt > 0 else "–"]
    print("| " + " | ".join(cells) + " |")
cells = ["mean", f"{100 * mean(tot['base']):.2f}"]
for m in methods:
    nn = [x for x in tot[m + "n"] if x == x]
    cells += [f"{100 * mean(tot[m]):.2f}", f"{100 * mean(nn):.2f}" if nn else "–",
              f"{100 * (mean(tot[m]) - mean(tot['base'])):+.2f}", f"{mean(tot[m + 't']):.3f}",
              f"{mean(tot[m + 'tn']):.3f}" if nn else "–",
              f"{mean(tot[m + 'tn']) / mean(tot[m + 't']):.2f}" if nn else "–"]
print("| " + " | ".join(f"**{c}**" if i == 0 else c for i, c in enumerate(cells)) + " |")
print()
base = mean(tot["base"])
best = max(methods, key=lambda m: mean(tot[m]))
print(f"Checks: best method {best} {100 * mean(tot[best]):.2f} against target only {100 * base:.2f}: "
      f"{100 * (mean(tot[best]) - base):+.2f} points (needs >= +5: "
      f"{'yes' if mean(tot[best]) - base >= 0.05 else 'NO'}); every method above target only on "
      f"average: {'yes' if all(mean(tot[m]) > base for m in methods) else 'NO'}. "
      f"Time: method fit only (seconds), ratio = numpy / libtl.")
