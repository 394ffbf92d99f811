#!/usr/bin/python3
"""The table of bench/hetero.sh: per task and method, libtl's mean accuracy over the draws, the
target-only baseline, the gain; the method's fit time beside the numpy version's on the draws
both ran, and the ratio; whether the two sides agree on those draws; then the issue's checks."""
import collections
import json
import os
import platform
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cmd = sys.argv[2] if len(sys.argv) > 2 else "sh bench/hetero.sh"
short = {"amazon": "A", "caltech": "C", "webcam": "W", "dslr": "D"}
by = {}
for r in rows:
    by[(r["side"], r["method"], r["source"], r["target"], r["seed"])] = r
methods = sorted({r["method"] for r in rows})
tasks = sorted({(r["source"], r["target"]) for r in rows}, key=lambda t: (t[1], t[0]))
seeds = sorted({r["seed"] for r in rows if r["side"] == "libtl"})
nseeds = sorted({r["seed"] for r in rows if r["side"] == "numpy"})


def mean(v):
    v = list(v)
    return sum(v) / len(v) if v else float("nan")


cpu = "unknown"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
print(f"Command: `{cmd}`  ")
print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
      f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '?')}, load average at the end "
      f"{load} (a shared machine: times are noisy); libtl on draws {seeds[0]}-{seeds[-1]}, numpy on "
      f"draws {', '.join(map(str, nseeds)) or 'none'}  ")
print()
hdr = "| task | target only |"
for m in methods:
    hdr += f" {m} | gain | {m} s libtl | s numpy | numpy / libtl |"
print(hdr)
print("|---|---|" + "---|---|---|---|---|" * len(methods))
tot = collections.defaultdict(list)
same = collections.Counter()
shared = collections.Counter()
maxdiff = collections.defaultdict(float)
for s, t in tasks:
    base = [by[("libtl", methods[0], s, t, k)]["target_only"] for k in seeds if ("libtl", methods[0], s, t, k) in by]
    cells = [f"{short[s]}→{short[t]}", f"{100 * mean(base):.2f}"]
    tot["base"].append(mean(base))
    for m in methods:
        L = [by[("libtl", m, s, t, k)] for k in seeds if ("libtl", m, s, t, k) in by]
        P = [(by[("libtl", m, s, t, k)], by[("numpy", m, s, t, k)]) for k in nseeds
             if ("numpy", m, s, t, k) in by and ("libtl", m, s, t, k) in by]
        la = mean(r["accuracy"] for r in L)
        tot[m].append(la)
        for a, b in P:
            shared[m] += 1
            same[m] += abs(a["accuracy"] - b["accuracy"]) < 1e-9
            maxdiff[m] = max(maxdiff[m], abs(a["accuracy"] - b["accuracy"]))
        lt = mean(a["seconds_method"] for a, _ in P)
        nt = mean(b["seconds_method"] for _, b in P)
        tot[m + "lt"].append(lt)
        tot[m + "nt"].append(nt)
        cells += [f"{100 * la:.2f}", f"{100 * (la - mean(base)):+.2f}",
                  f"{lt:.3f}" if P else "–", f"{nt:.3f}" if P else "–",
                  f"{nt / lt:.2f}" if P and lt > 0 else "–"]
    print("| " + " | ".join(cells) + " |")
cells = ["**mean**", f"{100 * mean(tot['base']):.2f}"]
for m in methods:
    lt, nt = mean(tot[m + "lt"]), mean(tot[m + "nt"])
    cells += [f"{100 * mean(tot[m]):.2f}", f"{100 * (mean(tot[m]) - mean(tot['base'])):+.2f}",
              f"{lt:.3f}", f"{nt:.3f}", f"{nt / lt:.2f}" if lt > 0 else "–"]
print("| " + " | ".join(cells) + " |")
print()
base = mean(tot["base"])
best = max(methods, key=lambda m: mean(tot[m]))
print(f"Checks: best method {best} {100 * mean(tot[best]):.2f} against target only {100 * base:.2f}: "
      f"{100 * (mean(tot[best]) - base):+.2f} points (needs >= +5: "
      f"{'yes' if mean(tot[best]) - base >= 0.05 else 'NO'}); every method above target only on "
      f"average: {'yes' if all(mean(tot[m]) > base for m in methods) else 'NO'}.  ")
print("libtl and numpy on the same draws: " + "; ".join(
    f"{m} the same accuracy on {same[m]} of {shared[m]} runs (largest difference "
    f"{100 * maxdiff[m]:.2f} points)" for m in methods) + ". Times: the method's fit alone, seconds.")
