#!/usr/bin/python3
"""deep_da_rv.py: how decisive reverse validation was, per Amazon pair, in a run of
bench/deep_da.sh - to see whether a joint (lambda, lr) search picks settings on evidence or on
noise. Reads the run's JSON lines and its log of every setting's risk (bench/deep_da.c writes one
line per setting tried; a pair's lines start with its lambda = 0 block), and the earlier DANN
table in bench/RESULTS.md ("### The DANN paper's Table 1") for the same pairs.

    deep_da_rv.py RESULTS.md RUN.jsonl RUN.log [RUN2.jsonl RUN2.log ...]

Per pair: the setting chosen for the lambda-0 network and for DANN, the best risk and its standard
error on the held-out source rows (sqrt(r (1 - r) / n), n = 10 % of the source), how many settings
lie within one standard error of the best and which rates they use, the target test accuracies,
and the earlier run's; the settings tied at the best risk and what tl_nn_da_select's tie rule
(a tie keeps the caller's rate, 0.01) picks from the same logged risks.
"""
import json
import math
import os
import re
import sys

SHORT = {"books": "B", "dvd": "D", "electronics": "E", "kitchen": "K"}
text = open(sys.argv[1]).read()
sec = text.split("### The DANN paper's Table 1", 1)[1].split("\n### ", 1)[0]
old = {}
for m in re.finditer(r"^\| ([BDEK] -> [BDEK]) \| ([0-9.]+) \| [0-9.]+ \| ([0-9.]+) \| [0-9.]+ \| "
                     r"([0-9.]+) \| ([0-9.]+) \|", sec, re.M):
    old[m.group(1)] = (float(m.group(2)), float(m.group(3)), m.group(4), m.group(5))



def own(settings, lr0=0.01):
    """The setting tl_nn_da_select keeps now: the lowest risk, a tie going to the caller's lr."""
    best, pick = None, None
    for s in settings:
        if best is None or s[2] < best or (s[2] == best and s[1] == lr0 and pick[1] != lr0):
            best, pick = s[2], s
    return pick


line_re = re.compile(r"lambda ([0-9.e+-]+), lr ([0-9.e+-]+): risk ([0-9.]+)")
print("| pair | NN lr (RV) | NN test | earlier NN (lr by RV of 0.01,0.03) | DANN lambda, lr | DANN test | "
      "earlier DANN (lambda, lr) | best risk +- 1 SE | settings within 1 SE of best | their lr | settings tried | "
      "tied at the best | tie to lr 0.01: DANN, NN |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
tot = {"nn": 0.0, "dann": 0.0, "onn": 0.0, "odann": 0.0}
n = 0
for jpath, lpath in zip(sys.argv[2::2], sys.argv[3::2]):
    rows = [json.loads(l) for l in open(jpath) if l.strip()]
    pairs, cur, prev0 = [], None, False
    for l in open(lpath):
        m = line_re.search(l)
        if not m:
            continue
        lam, lr, risk = float(m.group(1)), float(m.group(2)), float(m.group(3))
        if lam == 0 and not prev0:  # a new pair begins with its lambda-0 block
            cur = []
            pairs.append(cur)
        prev0 = lam == 0
        cur.append((lam, lr, risk))
    for r, settings in zip(rows, pairs):
        k = "%s -> %s" % (SHORT[os.path.basename(r["source"]).split("_")[0]],
                          SHORT[os.path.basename(r["target"]).split("_")[0]])
        ad = [s for s in settings if s[0] > 0]
        best = min(s[2] for s in ad)
        nv = 200  # 10 % of the 2000 source rows
        se = math.sqrt(best * (1 - best) / nv)
        near = [s for s in ad if s[2] <= best + se]
        close = len(near)
        lrs = ",".join("%g" % v for v in sorted(set(s[1] for s in near)))
        o = old.get(k, (float("nan"), float("nan"), "?", "?"))
        ties = [s for s in ad if s[2] == best]
        print("| %s | %g | %.1f | %.1f | %g, %g | %.1f | %.1f (%s, %s) | %.3f +- %.3f | %d | %s | %d | %s | %s, %s |" % (
            k, r["source_only_lr"], r["source_only"], o[0], r["lambda"], r["lr"], r["adapted"], o[1], o[2],
            o[3], best, se, close, lrs, len(ad), "; ".join("%g, %g" % s[:2] for s in ties),
            "%g, %g" % own(ad)[:2], "%g" % own([s for s in settings if s[0] == 0])[1]))
        tot["nn"] += r["source_only"]
        tot["dann"] += r["adapted"]
        tot["onn"] += o[0]
        tot["odann"] += o[1]
        n += 1
if n:
    print("| **mean (%d pairs)** | | **%.2f** | %.2f | | **%.2f** | %.2f | | | | | | |" % (
        n, tot["nn"] / n, tot["onn"] / n, tot["dann"] / n, tot["odann"] / n))
