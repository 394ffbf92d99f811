#!/usr/bin/python3
"""The libtl Python package against the `tl` command on the 12 Office+Caltech SURF tasks.

For JDA (linear kernel, rowsum,zscore,l2, 1-NN: the published protocol of docs/methods/jda.md),
CORAL (rowsum,zscore, 1-NN: docs/methods/coral.md) and KMM (rowsum,zscore, 1-NN: the
surf-kmm-1nn rows of bench/RESULTS.md), each task runs once through `tl adapt|weight --json` and
once through libtl.TransferPipeline on the same .mat files read with scipy.io.loadmat; the
accuracies must be equal (the report's value and the accuracy of Python's own predictions), and
the predictions of the CLI's saved pipeline equal Python's. Then the 12-task JDA run is timed:
Python's fit (arrays in memory) against the library's own time for the same work as the CLI
reports it (total_seconds: preprocessing, baselines, method, learner, guard; no file loading,
no process start), both on one thread, each task `--repeat` times, the fastest kept.

usage: nice /usr/bin/python3 bench/python_parity.py [--repeat N] [--methods jda,coral,kmm]
(after `make && make python`; PYTHONPATH is set from the script's location)"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402
import scipy.io  # noqa: E402

import libtl  # noqa: E402

DATA = os.environ.get("TL_DATA", os.path.join(ROOT, "..", "shared", "data"))
SURF = os.path.join(DATA, "office_caltech10_surf")
if not os.path.isdir(SURF):
    SURF = "/work/shared/data/office_caltech10_surf"
DOMS = ["caltech", "amazon", "webcam", "dslr"]
TL = os.environ.get("TL_BIN", os.path.join(ROOT, "build", "tl"))

CONFIGS = {
    # name: (CLI command words, TransferPipeline keywords)
    "jda": (["adapt", "--method", "jda", "--kernel", "linear", "--preprocess", "rowsum,zscore,l2"],
            dict(method="jda", learner="1nn", preprocess="rowsum,zscore,l2",
                 method_params={"kernel": "linear"})),
    "coral": (["adapt", "--method", "coral", "--preprocess", "rowsum,zscore"],
              dict(method="coral", learner="1nn", preprocess="rowsum,zscore")),
    "kmm": (["weight", "--method", "kmm", "--preprocess", "rowsum,zscore", "--learner", "1nn"],
            dict(method="kmm", learner="1nn", preprocess="rowsum,zscore")),
}


def path(d):
    return os.path.join(SURF, f"{d}_SURF_L10.mat")


def load(d):
    m = scipy.io.loadmat(path(d))
    return np.ascontiguousarray(m["fts"], dtype=np.float64), m["labels"].ravel().astype(np.int64)


def cli(words, s, t, save=None):
    cmd = [TL] + words + ["--source", path(s), "--target", path(t), "--threads", "1", "-q",
                          "--json"] + (["--save", save] if save else [])
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    return json.loads(out), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--methods", default="jda,coral,kmm")
    a = ap.parse_args()
    data = {d: load(d) for d in DOMS}
    tasks = [(s, t) for s in DOMS for t in DOMS if s != t]
    letter = {d: d[0].upper() for d in DOMS}
    print(f"libtl {libtl.version()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()} {os.cpu_count()} cores, threads 1")
    all_equal = True
    timing = {}
    tmp = tempfile.mkdtemp()
    for name in a.methods.split(","):
        words, kw = CONFIGS[name]
        print(f"\n{name}: tl {' '.join(words)} / TransferPipeline({kw})")
        print("| task | CLI accuracy % | Python accuracy % | equal | CLI pipeline's predictions = "
              "Python's | library s (CLI) | Python fit s | library s inside it |")
        print("|---|---|---|---|---|---|---|---|")
        accs_c, accs_p, lib_s, py_s, inner_s = [], [], [], [], []
        for s, t in tasks:
            Xs, ys = data[s]
            Xt, yt = data[t]
            save = os.path.join(tmp, "cli.tlm")
            best_lib = best_py = best_inner = float("inf")
            for r in range(a.repeat):
                rep, _ = cli(words, s, t, save if r == 0 else None)
                best_lib = min(best_lib, rep["total_seconds"])
                p = libtl.TransferPipeline(n_jobs=1, **kw)
                t0 = time.perf_counter()
                p.fit(Xs, ys, Xt, yt)
                wall = time.perf_counter() - t0
                if wall < best_py:
                    best_py, best_inner = wall, p.report_["total_seconds"]
                if r == 0:
                    acc_c = rep["accuracy"]
                    acc_p = p.report_["accuracy"]
                    pred = p.predict(Xt)
                    own = float(np.mean(pred == yt))
                    same_pred = np.array_equal(libtl.TransferPipeline.load(save).predict(Xt), pred)
            eq = acc_c == acc_p and abs(own - acc_c) < 1e-9 and same_pred
            all_equal &= eq
            accs_c.append(acc_c)
            accs_p.append(acc_p)
            lib_s.append(best_lib)
            py_s.append(best_py)
            inner_s.append(best_inner)
            print(f"| {letter[s]}→{letter[t]} | {100 * acc_c:.2f} | {100 * acc_p:.2f} | "
                  f"{'yes' if eq else 'NO'} | {'yes' if same_pred else 'NO'} | {best_lib:.3f} | "
                  f"{best_py:.3f} | {best_inner:.3f} |")
        print(f"| mean | {100 * np.mean(accs_c):.2f} | {100 * np.mean(accs_p):.2f} | | | "
              f"{sum(lib_s):.2f} (sum) | {sum(py_s):.2f} (sum) | {sum(inner_s):.2f} (sum) |")
        timing[name] = (sum(lib_s), sum(py_s), sum(inner_s))
    for name, (ls, ps, ins) in timing.items():
        print(f"{name}: 12 tasks, library {ls:.2f} s (as the CLI reports it), Python fit "
              f"{ps:.2f} s: Python / C = {ps / ls:.3f} ({100 * (ps / ls - 1):+.1f} %); the binding's "
              f"own cost (Python fit - the library's time inside it) {ps - ins:.3f} s = "
              f"{100 * (ps - ins) / ins:.2f} % of {ins:.2f} s")
    print("accuracies equal on every task:", "yes" if all_equal else "NO")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
