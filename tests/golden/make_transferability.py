#!/usr/bin/python3
"""Golden values for the transferability scores (tests/test_nn_transferability.c).

Reference implementations in numpy: LogME as in the authors' code (You et al. 2021,
github.com/thuml/LogME, LogME.py, fixed-point version: each_evidence below is theirs up to
naming), LEEP (Nguyen et al. 2020), NCE (Tran et al. 2019), H-score as commonly implemented
(tr(pinv(cov f) cov g), g = class-conditional mean, n - 1 normalisation; pinv cut-off 1e-10 x the
largest eigenvalue), Kendall tau-b from scipy.stats.kendalltau.
Writes tests/golden/transferability.txt: lines "name n v1 v2 ...".
Run: /usr/bin/python3 tests/golden/make_transferability.py
"""
import os

import numpy as np
from scipy.stats import kendalltau

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "transferability.txt")


def each_evidence(y_, f, fh, v, s, vh, N, D):
    epsilon = 1e-5
    alpha, beta = 1.0, 1.0
    lam = alpha / beta
    tmp = vh @ (f @ y_)
    for _ in range(11):
        gamma = (s / (s + lam)).sum()
        m = v @ (tmp * beta / (alpha + beta * s))
        alpha_de = (m * m).sum()
        alpha = gamma / (alpha_de + epsilon)
        beta_de = ((y_ - fh @ m) ** 2).sum()
        beta = (N - gamma) / (beta_de + epsilon)
        new_lam = alpha / beta
        if np.abs(new_lam - lam) / lam < 0.01:
            break
        lam = new_lam
    evidence = (D / 2.0 * np.log(alpha) + N / 2.0 * np.log(beta)
                - 0.5 * np.sum(np.log(alpha + beta * s)) - beta / 2.0 * (beta_de + epsilon)
                - alpha / 2.0 * (alpha_de + epsilon) - N / 2.0 * np.log(2 * np.pi))
    return evidence / N


def logme(F, y):
    f = F.astype(np.float64)
    fh = f
    f = f.T
    D, N = f.shape
    s, v = np.linalg.eigh(f @ fh)  # the authors use svd of the PSD matrix; identical up to order
    s = np.clip(s, 0, None)
    vh = v.T
    return np.mean([each_evidence((y == c).astype(np.float64), f, fh, v, s, vh, N, D)
                    for c in np.unique(y)])


def leep(P, y):
    n = len(y)
    cls = np.unique(y)
    J = np.stack([P[y == c].sum(0) for c in cls]) / n
    cond = J / J.sum(0, keepdims=True)
    yi = np.searchsorted(cls, y)
    return np.mean(np.log((cond[yi] * P).sum(1)))


def nce(P, y):
    z = P.argmax(1)
    n = len(y)
    total = 0.0
    for zz in np.unique(z):
        pz = np.mean(z == zz)
        for c in np.unique(y):
            pyz = np.mean((z == zz) & (y == c))
            if pyz > 0:
                total += pyz * np.log(pyz / pz)
    return total


def hscore(F, y):
    def cov(X):
        Xm = X - X.mean(0, keepdims=True)
        return Xm.T @ Xm / (len(X) - 1)
    g = np.zeros_like(F)
    for c in np.unique(y):
        g[y == c] = F[y == c].mean(0)
    C = cov(F)
    w = np.linalg.eigvalsh(C)
    return np.trace(np.linalg.pinv(C, rcond=1e-10, hermitian=True) @ cov(g))


rng = np.random.default_rng(5)
n, d, z = 60, 7, 4
y = rng.integers(0, 3, n) * 2 + 5          # labels 5, 7, 9
F = rng.normal(size=(n, d)) + 0.8 * (y[:, None] == 7) * np.arange(d) / d
logits = rng.normal(size=(n, z)) + 1.5 * (y[:, None] == 5) * np.eye(z)[0]
P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
# a rank-deficient feature matrix (duplicated column) for H-score's pseudo-inverse
F2 = np.hstack([F, F[:, :1]])
# wide features (d > n) for LogME
Fw = rng.normal(size=(20, 30))
yw = np.arange(20) % 2
a = rng.normal(size=9)
b = a + rng.normal(size=9)
b[3] = b[4]  # a tie
tau = kendalltau(a, b).correlation


def line(name, v):
    v = np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()
    return name + " " + str(len(v)) + " " + " ".join("%.17g" % x for x in v) + "\n"


with open(OUT, "w") as f:
    f.write("# made by tests/golden/make_transferability.py (numpy %s)\n" % np.__version__)
    f.write(line("F", F) + line("P", P) + line("y", y) + line("Fw", Fw) + line("yw", yw))
    f.write(line("a", a) + line("b", b))
    f.write(line("logme", logme(F, y)) + line("logme_wide", logme(Fw, yw)))
    f.write(line("leep", leep(P, y)) + line("nce", nce(P, y)))
    f.write(line("hscore", hscore(F, y)) + line("hscore_rankdef", hscore(F2, y)))
    f.write(line("hscore_wide", hscore(Fw, yw)))
    f.write(line("kendall", tau))
