#!/usr/bin/python3
"""The libtl Python package against the `tl` command on the 12 Office+Caltech SURF tasks.

For JDA (linear kernel, rowsum,zscore,l2, 1-NN: the published protocol of docs/methods/jda.md),
CORAL (rowsum,zscore, 1-NN: docs/methods/coral.md) and KMM (rowsum,zscore, 1-NN: the
surf-kmm-1nn rows of bench/RESULTS.md), each task runs once through `tl adapt|weight --json` and
once through libtl.TransferPipeline on the same .mat files read with scipy.io.loadmat; the
accuracies must be equal (the report's value, the accuracy of Python's own predictions, and the
same run called from C), and the CLI's saved pipeline must predict as Python's. Timing: Python's
fit (arrays in memory) against the same tl_transfer_run + report called from C with the data in
memory (bench/pyparity_c.c, built here against build/libtl.a), both on one thread with the guard
on, each task `--repeat` times per side, interleaved task by task, the fastest kept.

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
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def build_c():
    """bench/pyparity_c.c against build/libtl.a, with the project's flags (as bench/run.sh)."""
    exe = os.path.join(ROOT, "build", "bench", "pyparity_c")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    pc = subprocess.run(["pkg-config", "--cflags", "--libs", "openblas", "matio"], check=True,
                        capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow",
                    "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "include"), "-o", exe,
                    os.path.join(HERE, "pyparity_c.c"), os.path.join(ROOT, "build", "libtl.a")]
                   + pc + ["-llapacke", "-lz", "-lm", "-lpthread"], check=True)
    return exe


def c_run(exe, kw, s, t, repeat):
    """(accuracy, best seconds) of the same run called from C, data in memory."""
    args = [exe, kw["method"], kw["preprocess"], kw["learner"], path(s), path(t), str(repeat)]
    args += [f"{k}={v}" for k, v in kw.get("method_params", {}).items()]
    acc, best, _ = subprocess.run(args, check=True, capture_output=True,
                                  text=True).stdout.split()
    return float(acc), float(best)


CALL = []  # the wall time of each C call of a fit (libtl._tl.transfer_run, wrapped below)


def _timed(fn):
    def wrapper(*args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            CALL.append(time.perf_counter() - t0)
    return wrapper


libtl._tl.transfer_run = _timed(libtl._tl.transfer_run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per task and side")
    ap.add_argument("--methods", default="jda,coral,kmm")
    a = ap.parse_args()
    exe = build_c()
    data = {d: load(d) for d in DOMS}
    tasks = [(s, t) for s in DOMS for t in DOMS if s != t]
    letter = {d: d[0].upper() for d in DOMS}
    print(f"libtl {libtl.version()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()} {os.cpu_count()} cores (load average "
          f"{os.getloadavg()[0]:.1f}), threads 1, best of {a.repeat} per task and side")
    all_equal = True
    timing = {}
    tmp = tempfile.mkdtemp()
    for name in a.methods.split(","):
        words, kw = CONFIGS[name]
        print(f"\n{name}: tl {' '.join(words)} / TransferPipeline({kw})")
        print("| task | CLI accuracy % | Python accuracy % | equal (report, Python's own "
              "predictions, C call) | CLI's saved pipeline predicts as Python | C library s | "
              "Python fit s | of which Python outside the C call s |")
        print("|---|---|---|---|---|---|---|---|")
        accs_c, accs_p, c_s, py_s, out_s = [], [], [], [], []
        for s, t in tasks:
            Xs, ys = data[s]
            Xt, yt = data[t]
            save = os.path.join(tmp, "cli.tlm")
            rep = cli(words, s, t, save)
            acc_c = rep["accuracy"]
            acc_lib, best_c = c_run(exe, kw, s, t, a.repeat)
            best_py = float("inf")
            for r in range(a.repeat):
                p = libtl.TransferPipeline(n_jobs=1, **kw)
                CALL.clear()
                t0 = time.perf_counter()
                p.fit(Xs, ys, Xt, yt)
                wall = time.perf_counter() - t0
                if wall < best_py:
                    best_py, outside = wall, wall - sum(CALL)
            acc_p = p.report_["accuracy"]
            pred = p.predict(Xt)
            own = float(np.mean(pred == yt))
            same_pred = np.array_equal(libtl.TransferPipeline.load(save).predict(Xt), pred)
            eq = acc_c == acc_p and abs(own - acc_c) < 1e-9 and abs(acc_lib - acc_c) < 1e-9
            all_equal &= eq and same_pred
            accs_c.append(acc_c)
            accs_p.append(acc_p)
            c_s.append(best_c)
            py_s.append(best_py)
            out_s.append(outside)
            print(f"| {letter[s]}→{letter[t]} | {100 * acc_c:.2f} | {100 * acc_p:.2f} | "
                  f"{'yes' if eq else 'NO'} | {'yes' if same_pred else 'NO'} | {best_c:.3f} | "
                  f"{best_py:.3f} | {outside:.4f} |", flush=True)
        print(f"| mean | {100 * np.mean(accs_c):.2f} | {100 * np.mean(accs_p):.2f} | | | "
              f"{sum(c_s):.2f} (sum) | {sum(py_s):.2f} (sum) | {sum(out_s):.3f} (sum) |")
        timing[name] = (sum(c_s), sum(py_s), sum(out_s))
    for name, (cs, ps, os_) in timing.items():
        print(f"{name}: 12 tasks, C library {cs:.2f} s, Python {ps:.2f} s: Python / C = "
              f"{ps / cs:.3f} ({100 * (ps / cs - 1):+.1f} %); Python's own work around the C "
              f"calls {os_:.3f} s = {100 * os_ / ps:.2f} % of the Python time")
    print("accuracies and predictions equal on every task:", "yes" if all_equal else "NO")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
