#!/usr/bin/python3
"""libtl against ADAPT (adapt-python) on the 12 Office+Caltech SURF tasks, side by side in one run.

skada's releases cannot run here: every one needs scikit-learn >= 1.4 (metadata routing), and
Debian 12 ships 1.2.1; bench/skada_compare.py runs an older commit of its source instead. ADAPT's shallow methods (CORAL, SA, KMM) need only numpy, scipy, scikit-learn and
cvxopt (Debian's), but the package imports TensorFlow at load time (adapt/base.py, utils.py),
which Debian does not ship: this script gives it a stand-in `tensorflow` module whose objects do
nothing and count every call made to them once the timed part starts - the run fails if any is
made, so the figures are ADAPT's numpy/scipy/cvxopt code alone. ADAPT is read from its public
source (ADAPT_SRC: a folder holding `adapt/`, e.g. `git archive HEAD adapt | tar -x -C DIR` of
github.com/adapt-python/adapt; the commit is printed).

Same data and hyper-parameters on both sides: each domain z-scored with its own statistics
(rowsum,zscore, the CORAL/KMM protocol of bench/python_parity.py) in numpy once; CORAL with
lambda = eps = 1 added to both covariances (libtl: eps_scale=absolute); SA with 30 components
(libtl's default dim); KMM with an RBF kernel of the same gamma (the median heuristic, computed
here), B = 1000, eps = (sqrt(ns) - 1)/sqrt(ns), ADAPT's max_size raised to the source size so it
solves one QP as libtl does. The learner is the same scikit-learn one on both outputs: 1-NN on
the mapped rows (CORAL, SA), logistic regression (C = 1) with the weights (KMM). Time: the
method's fit and transform (or weights) only, both on one BLAS thread, alternating sides,
best of --repeat.

usage: OPENBLAS_NUM_THREADS=1 ADAPT_SRC=DIR nice /usr/bin/python3 bench/adapt_compare.py
       [--repeat N] [--methods coral,sa,kmm] [--tasks N]   (after `make && make python`)"""
import argparse
import importlib.abc
import importlib.machinery
import os
import platform
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402
import scipy.io  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

import libtl  # noqa: E402

CALLS = {"armed": False, "n": 0, "what": []}


class _Stub:
    """Any TensorFlow/Keras object: a class (so ADAPT can subclass keras.Model) whose every
    attribute is another stub; a call is counted once the timed part starts."""

    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        _count("call")
        return a[0] if a and callable(a[0]) else _Stub()

    def __getattr__(self, name):
        return _stub_class(name)


def _count(what):
    if CALLS["armed"]:
        CALLS["n"] += 1
        CALLS["what"].append(what)


class _StubMeta(type):
    def __getattr__(cls, name):
        return _stub_class(name)

    def __call__(cls, *a, **k):
        _count(cls.__name__)
        if a and callable(a[0]) and not k and len(a) == 1:
            return a[0]  # used as a decorator (tf.function): the function itself
        return type.__call__(cls, *a, **k)


def _stub_class(name):
    return _StubMeta(name, (_Stub,), {})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _stub_class(name)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    ROOTS = ("tensorflow", "scikeras", "keras")

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.ROOTS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _StubModule(spec.name)
        m.__path__ = []
        m.__version__ = "0.0-stub"
        return m

    def exec_module(self, module):
        pass


DATA = os.environ.get("TL_DATA", os.path.join(ROOT, "..", "shared", "data"))
SURF = os.path.join(DATA, "office_caltech10_surf")
DOMS = ["caltech", "amazon", "webcam", "dslr"]


def load(d):
    m = scipy.io.loadmat(os.path.join(SURF, f"{d}_SURF_L10.mat"))
    X = np.asarray(m["fts"], dtype=np.float64)
    X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-300)  # rowsum
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)  # zscore, per domain
    return np.ascontiguousarray(X), m["labels"].ravel().astype(np.int64)


def median_gamma(Xs, Xt):
    Z = np.vstack([Xs, Xt])
    rng = np.random.default_rng(0)
    idx = rng.choice(len(Z), size=min(len(Z), 1000), replace=False)
    A = Z[idx]
    d2 = (A * A).sum(1)[:, None] + (A * A).sum(1)[None, :] - 2 * A @ A.T
    return 1.0 / np.median(d2[np.triu_indices(len(A), 1)])


def nn1(Zs, ys, Zt, yt):
    return (KNeighborsClassifier(1).fit(Zs, ys).predict(Zt) == yt).mean()


def logreg(Xs, ys, w, Xt, yt):
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(Xs, ys, sample_weight=w)
    return (clf.predict(Xt) == yt).mean()


def run_adapt(A, m, Xs, ys, Xt, gamma):
    if m == "coral":
        c = A.feature_based.CORAL(lambda_=1.0, verbose=0)
        return c.fit_transform(Xs, Xt), c.transform(Xt, domain="tgt")
    if m == "sa":
        s = A.feature_based.SA(n_components=30, verbose=0)
        return s.fit_transform(Xs, Xt), s.transform(Xt, domain="tgt")
    k = A.instance_based.KMM(kernel="rbf", gamma=gamma, B=1000, max_size=len(Xs), verbose=0)
    return k.fit_weights(Xs, Xt)


def run_libtl(m, Xs, ys, Xt, gamma):
    if m == "coral":
        c = libtl.CORAL(eps=1.0, eps_scale="absolute", n_jobs=1).fit(Xs, ys, Xt)
        return c.transform(Xs, domain="source"), c.transform(Xt)
    if m == "sa":
        s = libtl.SA(dim=30, n_jobs=1).fit(Xs, ys, Xt)
        return s.transform(Xs, domain="source"), s.transform(Xt)
    return libtl.KMM(gamma=gamma, B=1000, n_jobs=1).fit(Xs, ys, Xt).weights_


def side_by_side(name, run_l, run_other, methods, n_tasks, repeat, weighted):
    """The 12 SURF tasks (the first n_tasks), each method run by libtl and by the other package
    (run_l / run_other(m, Xs, ys, Xt, gamma)), sides alternating, best of repeat; accuracy of 1-NN on
    the mapped rows, or of logistic regression with the weights for the methods in weighted.
    Prints one row a task and the totals a method."""
    data = {d: load(d) for d in DOMS}
    tasks = [(s, t) for s in DOMS for t in DOMS if s != t][:n_tasks]
    print(f"{'method':6} {'task':18} {'acc libtl':>9} {'acc ' + name:>9} {'s libtl':>8} "
          f"{'s ' + name:>8} {'ratio':>6}")
    for m in methods:
        accs_l, accs_a, tl_l, tl_a = [], [], 0.0, 0.0
        for s, t in tasks:
            (Xs, ys), (Xt, yt) = data[s], data[t]
            g = median_gamma(Xs, Xt)
            best = {"l": float("inf"), "a": float("inf")}
            out = {}
            for _ in range(repeat):
                for side in ("l", "a"):
                    t0 = time.perf_counter()
                    out[side] = (run_l(m, Xs, ys, Xt, g) if side == "l"
                                 else run_other(m, Xs, ys, Xt, g))
                    best[side] = min(best[side], time.perf_counter() - t0)
            if m in weighted:
                acc = {k: logreg(Xs, ys, np.asarray(v).ravel(), Xt, yt) for k, v in out.items()}
            else:
                acc = {k: nn1(v[0], ys, v[1], yt) for k, v in out.items()}
            accs_l.append(acc["l"])
            accs_a.append(acc["a"])
            tl_l += best["l"]
            tl_a += best["a"]
            print(f"{m:6} {s + '->' + t:18} {100 * acc['l']:9.2f} {100 * acc['a']:9.2f} "
                  f"{best['l']:8.3f} {best['a']:8.3f} {best['a'] / best['l']:6.1f}", flush=True)
        print(f"{m:6} {'mean / total':18} {100 * np.mean(accs_l):9.2f} {100 * np.mean(accs_a):9.2f} "
              f"{tl_l:8.3f} {tl_a:8.3f} {tl_a / tl_l:6.1f}", flush=True)


def bench_args(script, methods, env, package):
    """The command line of a side-by-side script, and the folder ($env) holding package/."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", default=methods)
    ap.add_argument("--tasks", type=int, default=12)
    args = ap.parse_args()
    src = os.environ.get(env)
    if not src or not os.path.isdir(os.path.join(src, package)):
        sys.exit(f"{script}: set {env} to a folder holding the {package}/ package")
    return args, src


def main():
    args, src = bench_args("adapt_compare", "coral,sa,kmm", "ADAPT_SRC", "adapt")
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, src)
    import adapt as A
    print(f"# ADAPT from {src} (TensorFlow stubbed), libtl {libtl.version()}, numpy "
          f"{np.__version__}, {platform.processor() or platform.machine()}, load "
          f"{os.getloadavg()[0]:.2f}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    CALLS["armed"] = True
    side_by_side("ADAPT", run_libtl, lambda m, Xs, ys, Xt, g: run_adapt(A, m, Xs, ys, Xt, g),
                 args.methods.split(","), args.tasks, args.repeat, weighted=("kmm",))
    if CALLS["n"]:
        sys.exit(f"adapt_compare: the TensorFlow stand-in was called {CALLS['n']} times "
                 f"({sorted(set(CALLS['what']))[:5]}): the figures are not ADAPT's numpy code alone")
    print(f"# TensorFlow stand-in calls during the timed part: 0; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
