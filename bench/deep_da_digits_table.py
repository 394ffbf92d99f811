#!/usr/bin/python3
"""deep_da_digits_table.py SEEDS JSONL...: the Markdown table of bench/deep_da_digits.sh (mean, min
and max target accuracy per direction and method over the seeds) from one or more of its JSON-line
files (runs split by direction over two processes are joined here)."""
import json, statistics, sys
rows = [json.loads(l) for p in sys.argv[2:] for l in open(p) if l.strip()]
def acc(r, key):
    v = (r["report"] or {}).get(key)
    return 100 * v if v is not None else float("nan")
print("MNIST <-> USPS (16x16), %s seeds, CNN conv16-5/pool/conv32-5/pool/dense100; mean (min-max) target accuracy %%\n" % sys.argv[1])
print("| direction | source only | DANN | DAN | Deep CORAL |")
print("|---|---|---|---|---|")
for d in ("MNIST_vs_USPS", "USPS_vs_MNIST"):
    cells = []
    so = [acc(r, "baseline_accuracy") for r in rows if r["dir"] == d and r["da"] == "dann"]
    cells.append(so)
    for m in ("dann", "dan", "coral"):
        cells.append([acc(r, "accuracy") for r in rows if r["dir"] == d and r["da"] == m])
    f = lambda v: "%.1f (%.1f-%.1f)" % (statistics.mean(v), min(v), max(v)) if v else "-"
    print("| %s | %s |" % ("M -> U" if d.startswith("MNIST") else "U -> M", " | ".join(f(v) for v in cells)))
# the bar: each method at least 2 points above the source-only CNN on average, both ways
for d in ("MNIST_vs_USPS", "USPS_vs_MNIST"):
    base = {r["seed"]: acc(r, "baseline_accuracy") for r in rows if r["dir"] == d and r["da"] == "dann"}
    gains = []
    for m, name in (("dann", "DANN"), ("dan", "DAN"), ("coral", "CORAL")):
        g = [acc(r, "accuracy") - base[r["seed"]] for r in rows if r["dir"] == d and r["da"] == m and r["seed"] in base]
        if g:
            gains.append("%s %+.1f (seeds above: %d of %d)" % (name, statistics.mean(g), sum(x > 0 for x in g), len(g)))
    print("\n%s mean gain over source only: %s" % ("M -> U" if d.startswith("MNIST") else "U -> M", ", ".join(gains)), end="")
print()
