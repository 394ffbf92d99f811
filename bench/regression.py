#!/usr/bin/python3
"""bench/regression.py: regression targets on real data with a made-up shift (issue 18).

scikit-learn's bundled diabetes data (442 patients, 10 features, disease progression after a year)
split into two domains by a feature - age, BMI or sex - in both directions. For each split, libtl's
`tl adapt` / `tl weight --task regression` (ridge, alpha 1, each domain z-scored on its own unless
said) against scikit-learn's Ridge on the same rows in one run: the no-transfer RMSE must agree
(same solver, same data), then every method that applies to regression targets, with the time of
the whole command beside scikit-learn's fit+predict. The feature maps scale each domain with its
own statistics; the weightings with the source's (per-domain z-scoring would erase the very shift
they weight for). Prints a Markdown table.

    /usr/bin/python3 bench/regression.py [TL]        (default build/tl)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

TL = sys.argv[1] if len(sys.argv) > 1 else "build/tl"
X, y = load_diabetes(return_X_y=True, scaled=False)
names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
splits = [("age < median -> age >= median", X[:, 0] < np.median(X[:, 0])),
          ("bmi < median -> bmi >= median", X[:, 2] < np.median(X[:, 2])),
          ("sex 1 -> sex 2", X[:, 1] == 1)]
METHODS = [("adapt", "coral"), ("adapt", "sa"), ("adapt", "tca"), ("weight", "kmm"),
           ("weight", "kliep"), ("weight", "ulsif"), ("weight", "domain-clf")]


def tl_run(cmd, method, src, tgt, pre):
    args = [TL, cmd, "--method", method, "--task", "regression", "--source", src, "--target", tgt,
            "--preprocess", pre, "--json", "-q"]
    if cmd == "weight":  # a weighting compares the domains on one scale: the source's
        args += ["--preprocess-fit", "source"]
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        return None, dt, out.stderr.strip()
    return json.loads(out.stdout), dt, ""


def zscore(A):
    sd = A.std(0)
    sd[sd == 0] = 1
    return (A - A.mean(0)) / sd


rows = []
with tempfile.TemporaryDirectory() as tmp:
    for title, m in splits:
        for direction in (0, 1):
            s, t = (m, ~m) if direction == 0 else (~m, m)
            label = title if direction == 0 else " -> ".join(reversed(title.split(" -> ")))
            src, tgt = os.path.join(tmp, "s.csv"), os.path.join(tmp, "t.csv")
            np.savetxt(src, np.column_stack([X[s], y[s]]), delimiter=",", fmt="%.17g")
            np.savetxt(tgt, np.column_stack([X[t], y[t]]), delimiter=",", fmt="%.17g")
            t0 = time.perf_counter()
            ref = Ridge(alpha=1.0).fit(zscore(X[s]), y[s]).predict(zscore(X[t]))
            mu, sd = X[s].mean(0), X[s].std(0)
            scale = np.where(sd > 0, 1 / np.where(sd > 0, sd, 1), 0)  # constant columns -> 0
            ref_src = Ridge(alpha=1.0).fit((X[s] - mu) * scale, y[s]).predict((X[t] - mu) * scale)
            ref_dt = time.perf_counter() - t0
            ref_rmse = float(np.sqrt(np.mean((ref - y[t]) ** 2)))
            ref_rmse_src = float(np.sqrt(np.mean((ref_src - y[t]) ** 2)))
            # the target's own ridge under 5-fold CV: what the target's labels could give
            from sklearn.model_selection import cross_val_predict
            oracle = cross_val_predict(Ridge(alpha=1.0), zscore(X[t]), y[t], cv=5)
            orc = float(np.sqrt(np.mean((oracle - y[t]) ** 2)))
            for cmd, meth in METHODS:
                rep, dt, err = tl_run(cmd, meth, src, tgt, "zscore")
                if rep is None:
                    rows.append((label, meth, None, None, None, None, dt, ref_dt, err, orc))
                    continue
                rows.append((label, meth, rep["baseline_rmse"],
                             ref_rmse_src if cmd == "weight" else ref_rmse, rep["rmse"],
                             rep["negative_transfer"], dt, ref_dt, rep["guard"]["verdict"], orc))

print("| shift (source -> target) | method | no transfer RMSE: libtl | sklearn Ridge | "
      "method RMSE | gain | guard | target-only CV RMSE | tl command s | sklearn fit+predict s |")
print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|")
for (label, meth, base, ref, got, neg, dt, rdt, verdict, orc) in rows:
    if base is None:
        print(f"| {label} | {meth} | failed: {verdict} | | | | | | {dt:.3f} | |")
        continue
    gain = base - got
    mark = "" if gain >= 0 else " (worse)"
    print(f"| {label} | {meth} | {base:.3f} | {ref:.3f} | {got:.3f} | {gain:+.3f}{mark} | "
          f"{verdict} | {orc:.3f} | {dt:.3f} | {rdt:.4f} |")
agree = max(abs(r[2] - r[3]) for r in rows if r[2] is not None)
print(f"\nlargest |libtl - sklearn| no-transfer RMSE: {agree:.2e} (the JSON prints 10 significant "
      "digits)")
worse = sum(1 for r in rows if r[2] is not None and r[4] > r[2])
flagged = sum(1 for r in rows if r[2] is not None and r[4] > r[2] and r[8] != "ok")
print(f"transfers worse than no transfer: {worse} of {len(rows)}; the guard said harmful or unsure "
      f"on {flagged} of them")
