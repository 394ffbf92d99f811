#!/usr/bin/python3
"""deep_da_compare.py: one Markdown table of the 12 Amazon pairs with every deep adaptation libtl
ran on them - the source-only network, DANN (its rows read from the DANN table already in
bench/RESULTS.md, made by `sh bench/deep_da.sh dann`), and DAN, Deep CORAL and CDAN from
bench/out/deep_da_{dan,coral,cdan}.jsonl (made by `sh bench/deep_da.sh METHOD`) - beside the DANN
paper's DANN column. The paper has no DAN / CORAL / CDAN rows for this data.

    deep_da_compare.py [RESULTS.md] [OUT_DIR] [TAG]

TAG (e.g. _rv) reads bench/out/deep_da_<METHOD><TAG>*.jsonl instead, every file of the method joined
(runs split over two processes: _rv1, _rv2); where the lambda differs between pairs (chosen by
reverse validation) each cell shows it in brackets.
"""
import glob
import json
import os
import re
import sys

res = sys.argv[1] if len(sys.argv) > 1 else "bench/RESULTS.md"
out = sys.argv[2] if len(sys.argv) > 2 else "bench/out"
tag = sys.argv[3] if len(sys.argv) > 3 else ""
SHORT = {"books": "B", "dvd": "D", "electronics": "E", "kitchen": "K"}
PAIRS = ["B -> D", "B -> E", "B -> K", "D -> B", "D -> E", "D -> K",
         "E -> B", "E -> D", "E -> K", "K -> B", "K -> D", "K -> E"]
PUB_DANN = dict(zip(PAIRS, [78.4, 73.3, 77.9, 72.3, 75.4, 78.3, 71.3, 73.8, 85.4, 70.9, 74.0, 84.3]))

# the DANN rows (reverse-validated) of the table under "### The DANN paper's Table 1"
dann, nn_rv = {}, {}
text = open(res).read()
sec = text.split("### The DANN paper's Table 1", 1)[1].split("\n### ", 1)[0]
for m in re.finditer(r"^\| ([BDEK] -> [BDEK]) \| ([0-9.]+) \| [0-9.]+ \| ([0-9.]+) \|", sec, re.M):
    nn_rv[m.group(1)], dann[m.group(1)] = float(m.group(2)), float(m.group(3))

cols, src_only, lam = {}, {}, {}
for da in ("dan", "coral", "cdan"):
    files = sorted(glob.glob(os.path.join(out, "deep_da_%s%s*.jsonl" % (da, tag)))) if tag else \
        [p for p in [os.path.join(out, "deep_da_%s.jsonl" % da)] if os.path.exists(p)]
    if not files:
        continue
    cols[da], lam[da] = {}, {}
    for line in (l for p in files for l in open(p)):
        if not line.strip():
            continue
        r = json.loads(line.replace(": nan", ": NaN"))
        s = os.path.basename(r["source"]).split("_")[0]
        t = os.path.basename(r["target"]).split("_")[0]
        k = "%s -> %s" % (SHORT[s], SHORT[t])
        cols[da][k] = r["adapted"]
        src_only.setdefault(k, r["source_only"])
        lam[da][k] = r["lambda"]

names = [("dan", "DAN"), ("coral", "Deep CORAL"), ("cdan", "CDAN")]
names = [(k, v) for k, v in names if k in cols]
one = {d: not tag and len(set(lam[d].values())) == 1 for d, _ in names}
print("| pair | source only (lr 0.01) | source only (lr by RV) | DANN (RV) | %s | published DANN |" %
      " | ".join("%s (lambda %g)" % (v, next(iter(lam[k].values()))) if one[k] else "%s (RV: lambda)" % v
                 for k, v in names))
print("|---|---|---|---|%s---|" % ("---|" * len(names)))
sums = {}
def f(v):
    return "-" if v is None else "%.1f" % v
for k in PAIRS:
    vals = [src_only.get(k), nn_rv.get(k), dann.get(k)] + [cols[d].get(k) for d, _ in names] + [PUB_DANN[k]]
    for i, v in enumerate(vals):
        if v is not None:
            sums.setdefault(i, []).append(v)
    cells = [f(v) for v in vals]
    for i, (d, _) in enumerate(names):
        if not one[d] and k in lam[d]:
            cells[3 + i] += " (%g)" % lam[d][k]
    print("| %s | %s |" % (k, " | ".join(cells)))
n = len(PAIRS)
print("| **mean** | %s |" % " | ".join(("**%.2f**" % (sum(sums[i]) / len(sums[i]))) + ("" if len(sums[i]) == n else " (%d pairs)" % len(sums[i]))
                                     if i in sums else "-" for i in range(3 + len(names) + 1)))
for d, v in names:
    got = [k for k in PAIRS if k in cols[d] and k in src_only]
    wins = sum(cols[d][k] > src_only[k] for k in got)
    print("\n%s above the source-only network (lr 0.01) on %d of %d pairs, mean gain %+.2f" % (
        v, wins, len(got), sum(cols[d][k] - src_only[k] for k in got) / max(len(got), 1)), end="")
print()
