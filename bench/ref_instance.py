#!/usr/bin/python3
"""ref_instance.py: the reference half of the instance benchmark (bench/bench_instance.c).

Runs one operation the way Python users write it -- numpy / scipy / scikit-learn, and KMM with
cvxopt.solvers.qp -- with the same data and hyper-parameters as bench_instance.c, times it
in-process and prints the same one-line JSON:

    ref_instance.py [-r REPEATS] [-w WARMUPS] [--compare DUMP] OP ARGS...

Ops (GAMMA: the RBF bandwidth, normally the one libtl reported, so both sides solve the same
problem; the libtl side also timed its median heuristic):
  noop
  kmm-surf SRC TGT GAMMA         K = rbf_kernel(Xs, Xs), kappa = ns/nt rbf_kernel(Xs, Xt).sum(1),
                                 G = [1; -1; I; -I], h = [ns(1+eps); ns(eps-1); B 1; 0],
                                 cvxopt.solvers.qp(K, -kappa, G, h), B = 1000,
                                 eps = (sqrt(ns)-1)/sqrt(ns); SURF rowsum + z-score per domain
  kmm-fmnist DIR NS NT GAMMA     the same on Fashion-MNIST (bench_instance.c's selection rule)
  kliep-surf SRC TGT GAMMA       KLIEP.m's projected gradient ascent, centres = every target row
  ulsif-surf SRC TGT GAMMA       alpha = solve(Phi_s'Phi_s/ns + 1e-3 I, mean Phi_t), centres idem
  kliep-cv-surf SRC TGT GAMMA IDX  the authors' protocol, a numpy port of KLIEP.m: squared
                                 distances to the 100 centres once, then for each of 9 widths
                                 GAMMA * 2^(-4..4) (np.exp per width) 5-fold likelihood
                                 cross-validation with KLIEP_learning (max_iteration 100), refit at
                                 the best width; IDX: libtl's centre indices and fold order
  ulsif-cv-surf SRC TGT GAMMA IDX  a numpy port of uLSIF.m: 9 widths x lambda_list =
                                 logspace(-3, 1, 9), the closed-form leave-one-out score (inv(C) per
                                 lambda, as uLSIF.m), refit at the best pair
  kliep-cv-fmnist DIR NS NT GAMMA IDX, ulsif-cv-fmnist ...: the same on Fashion-MNIST
  dclf-amazon SRC TGT            sklearn LogisticRegression(C=1, multinomial, lbfgs) on source vs
                                 target (sparse 5000-d), w = ns/nt p(t|x)/p(s|x)
  dclf-surf SRC TGT              the same on dense SURF (800-d), rowsum
  mmd-surf SRC TGT GAMMA PERMS   unbiased RBF MMD^2 and a permutation p-value as usually written:
                                 the pooled kernel once, then per permutation the block sums
                                 K[np.ix_(s, s)].sum() etc.; SURF rowsum
Weights are rescaled to mean 1 like libtl's. --compare DUMP reads libtl's weights (one per line)
and adds "corr" (Pearson) and "maxdiff" (max absolute difference) and an "equal" summary; for the
-cv ops, DUMP.sel (libtl's chosen width and lambda) is compared with the reference's choice.

Timing: WARMUPS untimed runs then REPEATS timed (time.perf_counter); "seconds" is the best.
Loading is untimed; the peak-RSS high-water mark is reset after it (/proc/self/clear_refs "5").
"""
import argparse
import gzip
import json
import resource
import struct
import sys
import time

import numpy as np
import scipy.io
from sklearn.metrics.pairwise import rbf_kernel


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def surf(path, zscore):
    m = scipy.io.loadmat(path)
    X = m["fts"].astype(np.float64)
    X = X / X.sum(1, keepdims=True)
    if zscore:
        sd = X.std(0)
        X = (X - X.mean(0)) / np.where(sd == 0, 1, sd)
        X[:, sd == 0] = 0
    return np.ascontiguousarray(X)


def idx(path):
    with gzip.open(path) as f:
        b = f.read()
    nd = b[3]
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def fmnist(d, split, n, select):
    X = idx(f"{d}/{split}-images-idx3-ubyte.gz").reshape(-1, 784)
    y = idx(f"{d}/{split}-labels-idx1-ubyte.gz")
    keep = np.arange(len(y)) if not select else np.where((y < 5) | (np.arange(len(y)) % 4 == 0))[0]
    return np.ascontiguousarray(X[keep[:n]].astype(np.float64) / 255.0)


def kmm(Xs, Xt, gamma, B=1000.0):
    from cvxopt import matrix, solvers
    solvers.options["show_progress"] = False
    ns, nt = len(Xs), len(Xt)
    eps = (np.sqrt(ns) - 1) / np.sqrt(ns)
    K = rbf_kernel(Xs, Xs, gamma=gamma)
    kappa = ns / nt * rbf_kernel(Xs, Xt, gamma=gamma).sum(1)
    G = np.vstack([np.ones((1, ns)), -np.ones((1, ns)), np.eye(ns), -np.eye(ns)])
    h = np.r_[ns * (1 + eps), ns * (eps - 1), B * np.ones(ns), np.zeros(ns)]
    sol = solvers.qp(matrix(K), matrix(-kappa), matrix(G), matrix(h))
    return np.array(sol["x"]).ravel()


def kliep_learning(bv, P, max_iter):
    """KLIEP.m's KLIEP_learning: projected gradient ascent over step sizes 10^3 .. 10^-3."""
    c = bv @ bv

    def project(a):
        a = np.maximum(0, a + bv * (1 - bv @ a) / c)
        a = a / (bv @ a)
        Pa = np.maximum(P @ a, 1e-300)
        return a, Pa, np.mean(np.log(Pa))

    a, Pa, score = project(np.ones(P.shape[1]))
    for e in range(3, -4, -1):
        for _ in range(max_iter):
            an, Pan, sn = project(a + 10.0 ** e * (P.T @ (1 / Pa)))
            if sn <= score:
                break
            a, Pa, score = an, Pan, sn
    return a


def kliep(Xs, Xt, gamma, max_iter=1000, C=None):
    """KLIEP at one width; centres C (default: every target row)."""
    C = Xt if C is None else C
    Ps, Pt = rbf_kernel(Xs, C, gamma=gamma), rbf_kernel(Xt, C, gamma=gamma)
    return Ps @ kliep_learning(Ps.mean(0), Pt, max_iter)


def ulsif(Xs, Xt, gamma, lam=1e-3, C=None):
    """uLSIF at one width and lambda; centres C (default: every target row)."""
    C = Xt if C is None else C
    Ps, Pt = rbf_kernel(Xs, C, gamma=gamma), rbf_kernel(Xt, C, gamma=gamma)
    H = Ps.T @ Ps / len(Xs)
    a = np.maximum(0, np.linalg.solve(H + lam * np.eye(len(H)), Pt.mean(0)))
    return Ps @ a


def sqdist(X, C):
    return np.maximum((X * X).sum(1)[:, None] + (C * C).sum(1)[None, :] - 2 * X @ C.T, 0)


def width_grid(gamma, widths=9):
    return gamma * 2.0 ** (np.arange(widths) - (widths - 1) / 2)


def kliep_cv(Xs, Xt, gamma, centres, order, folds=5, max_iter=100):
    """KLIEP.m with sigma_chosen = 0: likelihood cross-validation over the width grid."""
    C = Xt[centres]
    Ds, Dt = sqdist(Xs, C), sqdist(Xt, C)
    nt = len(Xt)
    split = np.arange(nt) * folds // nt  # KLIEP.m's cv_split over the permuted rows
    best, chosen = -np.inf, None
    for g in width_grid(gamma):
        Ps, Pt = np.exp(-g * Ds), np.exp(-g * Dt)
        bv = Ps.mean(0)
        if not bv @ bv > 0:
            continue
        score = 0.0
        for f in range(folds):
            a = kliep_learning(bv, Pt[order[split != f]], max_iter)
            score += np.mean(np.log(np.maximum(Pt[order[split == f]] @ a, 1e-300))) / folds
        if score > best:
            best, chosen = score, g
    Ps, Pt = np.exp(-chosen * Ds), np.exp(-chosen * Dt)
    return Ps @ kliep_learning(Ps.mean(0), Pt, max_iter), (chosen, -1.0)


def ulsif_cv(Xs, Xt, gamma, centres, order):
    """uLSIF.m with fold = 0: closed-form leave-one-out over widths x lambdas."""
    del order  # uLSIF.m holds out the first min(ns, nt) rows of each side
    C = Xt[centres]
    Ds, Dt = sqdist(Xs, C), sqdist(Xt, C)
    ns, nt, b = len(Xs), len(Xt), len(centres)
    n = min(ns, nt)
    grid, lams = width_grid(gamma), np.logspace(-3, 1, 9)
    scores = np.full((len(grid), len(lams)), np.inf)
    for k, g in enumerate(grid):
        K_de, K_nu = np.exp(-g * Ds).T, np.exp(-g * Dt).T  # (b, ns), (b, nt) as in uLSIF.m
        K_de2, K_nu2 = K_de[:, :n], K_nu[:, :n]
        H = K_de @ K_de.T / ns
        h = K_nu.mean(1)
        for i, lam in enumerate(lams):
            invC = np.linalg.inv(H + lam * (ns - 1) / ns * np.eye(b))
            beta = invC @ h
            invCK_de = invC @ K_de2
            tmp = ns - (K_de2 * invCK_de).sum(0)
            B0 = beta[:, None] + invCK_de * ((beta @ K_de2) / tmp)
            B1 = invC @ K_nu2 + invCK_de * ((K_nu2 * invCK_de).sum(0) / tmp)
            A = np.maximum(0, (ns - 1) / (ns * (nt - 1)) * (nt * B0 - B1))
            scores[k, i] = ((K_de2 * A).sum(0) ** 2).mean() / 2 - (K_nu2 * A).sum(0).mean()
    scores[np.isnan(scores)] = np.inf
    k, i = np.unravel_index(np.argmin(scores), scores.shape)  # uLSIF.m's min over lambda, sigma
    g, lam = grid[k], lams[i]
    Ps, Pt = np.exp(-g * Ds), np.exp(-g * Dt)
    a = np.maximum(0, np.linalg.solve(Ps.T @ Ps / ns + lam * np.eye(b), Pt.mean(0)))
    return Ps @ a, (g, lam)


def read_indices(path):
    with open(path) as f:
        centres, order = (np.array(line.split(), dtype=np.intp) for line in f.read().splitlines()[:2])
    return centres, order


def dclf(Xs, Xt):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    X = sp.vstack([Xs, Xt]).tocsr() if sp.issparse(Xs) else np.vstack([Xs, Xt])
    y = np.r_[np.zeros(Xs.shape[0]), np.ones(Xt.shape[0])]
    clf = LogisticRegression(C=1.0, multi_class="multinomial", max_iter=1000).fit(X, y)
    p = clf.predict_proba(Xs)
    return Xs.shape[0] / Xt.shape[0] * p[:, 1] / np.maximum(p[:, 0], 1e-12)


def mmd_perm(Xs, Xt, gamma, perms, seed=0):
    ns, nt = len(Xs), len(Xt)
    P = np.vstack([Xs, Xt])
    K = rbf_kernel(P, P, gamma=gamma)

    def stat(s, t):
        Kss, Ktt, Kst = K[np.ix_(s, s)], K[np.ix_(t, t)], K[np.ix_(s, t)]
        return ((Kss.sum() - np.trace(Kss)) / (ns * (ns - 1))
                + (Ktt.sum() - np.trace(Ktt)) / (nt * (nt - 1)) - 2 * Kst.mean())

    obs = stat(np.arange(ns), np.arange(ns, ns + nt))
    rng = np.random.default_rng(seed)
    ge = 0
    for _ in range(perms):
        p = rng.permutation(ns + nt)
        ge += stat(p[:ns], p[ns:]) >= obs
    return obs, (1 + ge) / (1 + perms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("-w", type=int, default=1)
    ap.add_argument("--compare")
    ap.add_argument("op")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    op, v = a.op, a.args
    extra = {}
    if op == "noop":
        run = lambda: None
    elif op in ("kmm-surf", "kliep-surf", "ulsif-surf"):
        Xs, Xt, g = surf(v[0], True), surf(v[1], True), float(v[2])
        f = {"kmm-surf": kmm, "kliep-surf": kliep, "ulsif-surf": ulsif}[op]
        run = lambda: f(Xs, Xt, g)
    elif op == "sqdist-surf":
        Xs, Xt = surf(v[0], True), surf(v[1], True)
        C = Xt[read_indices(v[3])[0]]
        run = lambda: (sqdist(Xs, C), sqdist(Xt, C)) and None
    elif "-def-" in op or "-cv-" in op:  # {kliep,ulsif}-{def,cv}-{surf,fmnist}
        if op.endswith("surf"):
            Xs, Xt, rest = surf(v[0], True), surf(v[1], True), v[2:]
        else:
            Xs = fmnist(v[0], "train", int(v[1]), False)
            Xt = fmnist(v[0], "t10k", int(v[2]), True)
            rest = v[3:]
        g, (ci, order) = float(rest[0]), read_indices(rest[1])
        if "-def-" in op:  # the library's defaults: one width, the given centres
            f = kliep if op.startswith("kliep") else ulsif
            run = lambda: f(Xs, Xt, g, C=Xt[ci])
        else:
            f = kliep_cv if op.startswith("kliep") else ulsif_cv
            run = lambda: f(Xs, Xt, g, ci, order)
    elif op == "kmm-fmnist":
        Xs = fmnist(v[0], "train", int(v[1]), False)
        Xt = fmnist(v[0], "t10k", int(v[2]), True)
        g = float(v[3])
        run = lambda: kmm(Xs, Xt, g)
    elif op == "dclf-amazon":
        from sklearn.datasets import load_svmlight_file
        Xs = load_svmlight_file(v[0], n_features=5000, zero_based=True)[0]
        Xt = load_svmlight_file(v[1], n_features=5000, zero_based=True)[0]
        run = lambda: dclf(Xs, Xt)
    elif op == "dclf-surf":
        Xs, Xt = surf(v[0], False), surf(v[1], False)
        run = lambda: dclf(Xs, Xt)
    elif op == "mmd-surf":
        Xs, Xt, g, perms = surf(v[0], False), surf(v[1], False), float(v[2]), int(v[3])
        run = lambda: mmd_perm(Xs, Xt, g, perms)
    else:
        sys.exit("ref_instance.py: unknown op " + op)
    setup = peak_mb()
    hwm = reset_peak()
    runs, out = [], None
    for i in range(a.w + a.r):
        out = None
        t0 = time.perf_counter()
        out = run()
        t = time.perf_counter() - t0
        if i >= a.w:
            runs.append(t)
    peak = peak_mb()
    if op == "mmd-surf":
        extra.update(mmd2=float(out[0]), p_value=float(out[1]))
    elif out is not None:
        sel = None
        if isinstance(out, tuple):
            out, sel = out
        w = np.asarray(out, dtype=np.float64)
        w = w / w.mean()
        if a.compare:
            c = np.loadtxt(a.compare)
            corr = float(np.corrcoef(w, c)[0, 1])
            md = float(np.abs(w - c).max())
            same = ""
            if sel is not None:
                extra.update(chosen_gamma=float(sel[0]))
                if sel[1] > 0:
                    extra.update(chosen_lambda=float(sel[1]))
                try:
                    lg, ll = np.loadtxt(a.compare + ".sel")
                    ok = np.isclose(lg, sel[0], rtol=1e-5, atol=0) and (sel[1] < 0 or np.isclose(ll, sel[1], rtol=1e-5, atol=0))
                    what = f"gamma {sel[0]:.3g}" + (f", lambda {sel[1]:.3g}" if sel[1] > 0 else "")
                    same = f"; both chose {what}" if ok else f"; **choices differ**: {what} vs {lg:.3g}"
                except OSError:
                    same = "; libtl's choice unknown"
            extra.update(corr=corr, maxdiff=md,
                         equal=f"{'yes' if corr >= 0.99 else '**NO**'}: weight corr {corr:.6f}, "
                               f"max abs diff {md:.1e}{same}")
    line = {"side": "reference", "impl": "numpy/scipy/sklearn/cvxopt", "op": op,
            "seconds": min(runs), "runs": runs, "warmups": a.w, "peak_mb": peak,
            "setup_mb": setup, "hwm_reset": hwm}
    line.update(extra)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
