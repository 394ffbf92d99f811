#!/usr/bin/python3
"""libtl against skada on the 12 Office+Caltech SURF tasks, side by side in one run.

Why an old skada: every skada release (0.2, 2024-02, onwards) and its current source need
scikit-learn >= 1.4 (metadata routing for `sample_domain`, merged into skada's main branch on
2023-11-14 by PR #58, "domain-aware API"), and Debian 12 ships scikit-learn 1.2.1. The last
commit of skada's main branch before that merge, d387da1 (2023-10-25), has the old API
(`fit(X, y, X_target)`, `fit_adapt` / `predict_adapt`) and needs only numpy, scipy,
scikit-learn and POT (Debian's python3-pot 0.8.2): it runs unchanged, no shim. Its shallow
methods are CORAL, SubspaceAlignment and KLIEP (no KMM at that commit). SKADA_SRC: a folder
holding `skada/`, e.g. `git archive d387da1 skada | tar -x -C DIR` of
github.com/scikit-adaptation/skada.

Same rows as bench/adapt_compare.py (rowsum, zscore per domain, in numpy once) and the same
learners on both outputs (1-NN on the mapped rows; logistic regression with the weights).
Parameters matched:
  CORAL  skada reg = s shrinks each covariance to (1 - s) C + s (tr C / d) I; the map
         Cs^-1/2 Ct^1/2 is unchanged by the common factor (1 - s), so s = 0.5 is libtl's
         eps = s / (1 - s) = 1 in units of the mean feature variance (eps_scale=relative, the
         default).
  SA     30 components both (skada's PCA: scikit-learn's randomized SVD, random_state 0).
  KLIEP  RBF gamma from the median heuristic (one width, no selection), 100 centres drawn from
         the target, 1000 iterations (both draw their own centres: weights differ by the draw).
Time: the method's fit and the mapped rows (or weights) only (skada's fit_adapt +
predict_adapt [+ transform of the target], libtl's fit + transform), one BLAS thread, sides
alternating, best of --repeat.

usage: OPENBLAS_NUM_THREADS=1 SKADA_SRC=DIR nice /usr/bin/python3 bench/skada_compare.py
       [--repeat N] [--methods coral,sa,kliep] [--tasks N]   (after `make && make python`)"""
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

import adapt_compare as ac  # noqa: E402  (data, learners, and libtl on sys.path)
import libtl  # noqa: E402


def run_skada(S, m, Xs, ys, Xt, gamma):
    base = KNeighborsClassifier(1)
    if m == "coral":
        c = S.CORAL(base, reg=0.5).fit_adapt(Xs, ys, Xt)
        return c.predict_adapt(Xs, ys, Xt)[0], Xt
    if m == "sa":
        s = S.SubspaceAlignment(base, n_components=30, random_state=0).fit_adapt(Xs, ys, Xt)
        return s.predict_adapt(Xs, ys, Xt)[0], s.transform(Xt, domain="target")
    k = S.KLIEP(base, gamma=gamma, n_centers=100, max_iter=1000, random_state=0)
    k.fit_adapt(Xs, ys, Xt)  # returns None at this commit
    return k.predict_adapt(Xs, ys, Xt)[2]


def run_libtl(m, Xs, ys, Xt, gamma):
    if m == "coral":
        c = libtl.CORAL(eps=1.0, n_jobs=1).fit(Xs, ys, Xt)
        return c.transform(Xs, domain="source"), c.transform(Xt)
    if m == "sa":
        s = libtl.SA(dim=30, n_jobs=1).fit(Xs, ys, Xt)
        return s.transform(Xs, domain="source"), s.transform(Xt)
    return libtl.KLIEP(gamma=gamma, centers=100, max_iter=1000, random_state=0,
                       n_jobs=1).fit(Xs, ys, Xt).weights_


def main():
    args, src = ac.bench_args("skada_compare", "coral,sa,kliep", "SKADA_SRC", "skada")
    sys.path.insert(0, src)
    import skada as S
    import sklearn
    print(f"# skada from {src}, libtl {libtl.version()}, scikit-learn {sklearn.__version__}, "
          f"numpy {np.__version__}, {platform.processor() or platform.machine()}, load "
          f"{os.getloadavg()[0]:.2f}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    ac.side_by_side("skada", run_libtl, lambda m, Xs, ys, Xt, g: run_skada(S, m, Xs, ys, Xt, g),
                    args.methods.split(","), args.tasks, args.repeat, weighted=("kliep",))
    print(f"# load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
