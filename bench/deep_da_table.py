#!/usr/bin/python3
"""deep_da_table.py JSONL DA [LAMBDAS LRS]: the Markdown table of bench/deep_da.sh - libtl's 12 Amazon
pairs (source-only network and the adapted one) beside the DANN paper's Table 1 (JMLR 2016) DANN and
NN columns, the lambda and lr each pair used, and how many pairs land within 1.5 points of the
published DANN."""
import json
import os
import platform
import sys

PUB = {("books", "dvd"): (78.4, 79.0), ("books", "electronics"): (73.3, 74.7),
       ("books", "kitchen"): (77.9, 77.8), ("dvd", "books"): (72.3, 72.0),
       ("dvd", "electronics"): (75.4, 73.2), ("dvd", "kitchen"): (78.3, 77.8),
       ("electronics", "books"): (71.3, 70.9), ("electronics", "dvd"): (73.8, 73.3),
       ("electronics", "kitchen"): (85.4, 85.4), ("kitchen", "books"): (70.9, 70.8),
       ("kitchen", "dvd"): (74.0, 73.9), ("kitchen", "electronics"): (84.3, 84.1)}
rows = [json.loads(l.replace(": nan", ": NaN")) for l in open(sys.argv[1]) if l.strip()]
da = sys.argv[2]
# the grids tried: given (LAMBDAS LRS), else what the rows say they tried (the library's grids)
lambdas = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else \
    ",".join("%g" % v for v in rows[0].get("lambdas_tried", [])) if rows else ""
lrs = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else \
    ",".join("%g" % v for v in rows[0].get("lrs_tried", [])) if rows else ""
rv = "," in lambdas or "," in lrs


def name(p):
    return os.path.basename(p).split("_")[0]


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("Amazon reviews (DANN paper Table 1 protocol), libtl %s against the published columns; %s, %s, "
      "1 thread per process" % (da, cpu, platform.machine()))
print("lambda %s, lr %s%s\n" % (lambdas, lrs, " (chosen per pair by reverse validation on a 90/10 "
                                "source split)" if rv else " (fixed: no model selection)"))
print("| pair | libtl NN (lambda 0) | published NN | libtl %s | published DANN | lambda | lr | RV risk | seconds |" % da)
print("|---|---|---|---|---|---|---|---|---|")
a = b = c = d = 0.0
near = near_nn = 0
for r in rows:
    s, t = name(r["source"]), name(r["target"])
    dp, nn = PUB[(s, t)]
    a += r["source_only"]
    b += nn
    c += r["adapted"]
    d += dp
    near += abs(r["adapted"] - dp) <= 1.5
    near_nn += abs(r["source_only"] - nn) <= 1.5
    print("| %s -> %s | %.1f | %.1f | %.1f | %.1f | %g | %g | %s | %.0f |" % (
        s[0].upper(), t[0].upper(), r["source_only"], nn, r["adapted"], dp, r["lambda"], r["lr"],
        "%.3f" % r["rv_risk"] if r["rv_risk"] is not None and r["rv_risk"] == r["rv_risk"] else "-",
        r["seconds_source_only"] + r["seconds_adapted"]))
n = len(rows)
if n:
    print("| **mean (%d pairs)** | **%.2f** | %.2f | **%.2f** | %.2f | | | | |" % (n, a / n, b / n, c / n, d / n))
    print("\npairs within 1.5 points of the published column: libtl %s vs DANN %d of %d; libtl NN vs NN %d of %d"
          % (da, near, n, near_nn, n))
