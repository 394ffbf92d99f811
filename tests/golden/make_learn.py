#!/usr/bin/python3
"""Golden fixtures for tests/test_learn.c: scikit-learn's LogisticRegression (multinomial, lbfgs),
LinearSVC (squared hinge, dual) and RidgeClassifier fitted on small fixed data sets with sample
weights and non-contiguous labels; the fixtures hold the data, the hyper-parameters and the
expected class scores (probabilities / decision values) on held-out query rows.

Run from the repository root:  /usr/bin/python3 tests/golden/make_learn.py
Writes tests/golden/learn_logreg.txt, learn_svm.txt, learn_ridge.txt.

Format (whitespace separated), per case:
    case <name> n d c m <param> <fit_intercept> <nblocks>
    n lines:  x_1 .. x_d  y  w
    m lines:  q_1 .. q_d
    nblocks times m lines:  s_1 .. s_c  (scores in sorted-label order; two-class decision values
                                         as [-f, f])
The logistic-regression cases carry two blocks: sklearn's predict_proba (its L-BFGS stops on
scipy's default relative-decrease test, ~1e-5 from the optimum here) and the probabilities at the
optimum solved to gtol 1e-12 by scipy's L-BFGS-B with ftol = 0 (a tighter check of our solver).
The file ends with a line "end".
"""
import os
import sys

import numpy as np
import sklearn
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.svm import LinearSVC

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)))


def blobs(rng, n, d, labels, spread):
    c = len(labels)
    centers = rng.normal(0, 1.5, size=(c, d))
    y = np.array([labels[i % c] for i in range(n)])
    idx = np.array([i % c for i in range(n)])
    X = centers[idx] + spread * rng.normal(size=(n, d))
    return X, y


def make_case(rng, n, d, labels, m, spread=1.2):
    X, y = blobs(rng, n + m, d, labels, spread)
    perm = rng.permutation(n + m)
    X, y = X[perm], y[perm]
    w = rng.uniform(0.2, 2.0, size=n)
    return X[:n], y[:n], w, X[n:]


def two_col(s):
    s = np.asarray(s)
    if s.ndim == 1:
        return np.column_stack([-s, s])
    return s


def logreg_exact(X, y, w, Q, C, fi):
    """Probabilities on Q at the optimum of 0.5||W||^2 + C sum_i w_i CE_i, solved tightly."""
    cl = np.unique(y)
    c = len(cl)
    Y = (y[:, None] == cl[None, :]).astype(float)
    Xa = np.column_stack([X, np.ones(len(X))]) if fi else X
    D, d = Xa.shape[1], X.shape[1]

    def f(v):
        W = v.reshape(D, c)
        Z = Xa @ W
        lse = logsumexp(Z, axis=1)
        P = np.exp(Z - lse[:, None])
        g = C * (Xa.T @ ((P - Y) * w[:, None]))
        g[:d] += W[:d]
        return 0.5 * np.sum(W[:d] ** 2) + C * np.sum(w * (lse - np.sum(Z * Y, 1))), g.ravel()

    r = minimize(f, np.zeros(D * c), jac=True, method="L-BFGS-B",
                 options=dict(gtol=1e-12, ftol=0, maxiter=100000))
    Qa = np.column_stack([Q, np.ones(len(Q))]) if fi else Q
    return softmax(Qa @ r.x.reshape(D, c), axis=1)


def write(f, name, X, y, w, Q, S, param, fi):
    n, d = X.shape
    m = Q.shape[0]
    blocks = S if isinstance(S, list) else [S]
    c = blocks[0].shape[1]
    f.write(f"case {name} {n} {d} {c} {m} {param!r} {int(fi)} {len(blocks)}\n")
    for i in range(n):
        f.write(" ".join(f"{v:.17g}" for v in X[i]) + f" {int(y[i])} {w[i]:.17g}\n")
    for i in range(m):
        f.write(" ".join(f"{v:.17g}" for v in Q[i]) + "\n")
    for S_ in blocks:
        for i in range(m):
            f.write(" ".join(f"{v:.17g}" for v in S_[i]) + "\n")


def main():
    rng = np.random.default_rng(20240607)
    cases = [
        # name, n, d, labels, m
        ("bin", 40, 3, [2, 5], 12),
        ("multi", 60, 4, [-1, 3, 7], 15),
        ("wide", 12, 20, [0, 1, 4], 8),  # n < d: ridge takes the dual path
    ]
    data = {name: make_case(rng, n, d, labels, m) for name, n, d, labels, m in cases}
    hdr = f"# made by tests/golden/make_learn.py with sklearn {sklearn.__version__}\n"

    with open(os.path.join(OUT, "learn_logreg.txt"), "w") as f:
        f.write(hdr)
        for name, C, fi in [("bin", 0.5, True), ("multi", 2.0, True), ("wide", 1.0, False)]:
            X, y, w, Q = data[name]
            lr = LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs", tol=1e-10,
                                    max_iter=10000, fit_intercept=fi)
            lr.fit(X, y, sample_weight=w)
            write(f, name, X, y, w, Q, [lr.predict_proba(Q), logreg_exact(X, y, w, Q, C, fi)], C,
                  fi)
        f.write("end\n")

    with open(os.path.join(OUT, "learn_svm.txt"), "w") as f:
        f.write(hdr)
        for name, C, fi in [("bin", 0.3, True), ("multi", 1.0, True), ("wide", 0.5, False)]:
            X, y, w, Q = data[name]
            svm = LinearSVC(C=C, loss="squared_hinge", dual=True, tol=1e-10, max_iter=1000000,
                            fit_intercept=fi, intercept_scaling=1.0)
            svm.fit(X, y, sample_weight=w)
            write(f, name, X, y, w, Q, two_col(svm.decision_function(Q)), C, fi)
        f.write("end\n")

    with open(os.path.join(OUT, "learn_ridge.txt"), "w") as f:
        f.write(hdr)
        for name, a, fi in [("bin", 0.7, True), ("multi", 2.5, True), ("wide", 1.5, True),
                            ("multi", 0.3, False)]:
            X, y, w, Q = data[name]
            rc = RidgeClassifier(alpha=a, fit_intercept=fi, solver="cholesky")
            rc.fit(X, y, sample_weight=w)
            write(f, name, X, y, w, Q, two_col(rc.decision_function(Q)), a, fi)
        f.write("end\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
