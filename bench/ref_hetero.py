#!/usr/bin/python3
"""Heterogeneous transfer on Office+Caltech (SURF source -> DeCAF target): the splits, and numpy /
scipy versions of CDSPP and CDLS written for the benchmark, run side by side with libtl by
bench/hetero.sh.

    ref_hetero.py prep DATA OUT SEED     write the seed's splits as .npy (+ .labels.npy):
        OUT/s{SEED}_src_{dom}.npy        20 source rows per class (SURF, raw counts)
        OUT/s{SEED}_lab_{dom}.npy        3 labelled target rows per class (DeCAF)
        OUT/s{SEED}_unl_{dom}.npy        the other target rows: unlabelled at fit, scored
    ref_hetero.py run OUT SEED SRC TGT METHOD
        one task with the numpy version: prints one JSON line (accuracy, target_only, seconds)

The protocol is the CDSPP authors' (HDA_surf2decaf_office10.m): rows L2-normalised, 20 source
rows per class, 3 labelled target rows per class, the rest of the target unlabelled and scored.
The numpy versions solve the same models through another numerical route than libtl's C, so the
accuracies check the C as well as time it: CDSPP's generalised eigenproblem with
scipy.linalg.eigh(B, A) on each domain's row span (libtl: A^-1/2 and an SVD); CDLS's ridge in the
primal, as the authors (libtl: the dual), with the same projected-gradient landmark QP.
"""
import json
import sys
import time

import numpy as np
import scipy.io
import scipy.linalg
from sklearn.neighbors import KNeighborsClassifier

SURF = {"amazon": "amazon_SURF_L10.mat", "caltech": "caltech_SURF_L10.mat",
        "webcam": "webcam_SURF_L10.mat", "dslr": "dslr_SURF_L10.mat"}


def per_class(y, k, rng):
    pick = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        pick[rng.permutation(idx)[:k]] = True
    return pick


def save(path, X, y):
    np.save(path + ".npy", np.ascontiguousarray(X, dtype=np.float64))
    np.save(path + ".labels.npy", y.astype(np.int32))


def prep(data, out, seed):
    for dom, f in SURF.items():
        m = scipy.io.loadmat(f"{data}/office_caltech10_surf/{f}")
        X, y = m["fts"].astype(float), m["labels"].ravel().astype(int)
        pick = per_class(y, 20, np.random.default_rng([seed, 1]))
        save(f"{out}/s{seed}_src_{dom}", X[pick], y[pick])
    for dom in ("dslr", "webcam"):
        m = scipy.io.loadmat(f"{data}/office_caltech10_decaf/{dom}_decaf.mat")
        X, y = m["feas"].astype(float), m["labels"].ravel().astype(int)
        pick = per_class(y, 3, np.random.default_rng([seed, 2]))
        save(f"{out}/s{seed}_lab_{dom}", X[pick], y[pick])
        save(f"{out}/s{seed}_unl_{dom}", X[~pick], y[~pick])


def l2(X):
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1
    return X / n


def span(X):
    """orthonormal basis of the rows' span (identity when rows >= width) and the coordinates"""
    if X.shape[0] >= X.shape[1]:
        return None, X
    w, U = np.linalg.eigh(X @ X.T)
    keep = w > 1e-10 * w.max()
    w, U = w[keep], U[:, keep]
    return X.T @ (U / np.sqrt(w)), U * np.sqrt(w)


def nearest_mean(Zm, cm, wm, C, Z):
    M = np.zeros((C, Z.shape[1]))
    cnt = np.zeros(C)
    for c in range(C):
        sel = cm == c
        M[c] = (wm[sel, None] * Zm[sel]).sum(0)
        cnt[c] = wm[sel].sum()
    M = l2(M)
    D = np.sqrt(np.maximum(((Z[:, None, :] - M[None]) ** 2).sum(-1), 0))
    D[:, cnt <= 0] = np.inf
    pred = D.argmin(1)
    E = np.exp(-(D - D.min(1, keepdims=True)))
    return pred, 1 / E.sum(1)


def select(pred, prob, C, p):
    sel = np.full(len(pred), -1)
    for c in range(C):
        idx = np.flatnonzero(pred == c)
        if len(idx) == 0:
            continue
        srt = np.sort(prob[idx])
        thr = srt[min(len(idx), int(np.floor(len(idx) * p)) + 1) - 1]
        sel[idx[prob[idx] >= thr]] = c
    return sel


def cdspp(Xs, cs, Xl, cl, Xu, C, dim=10, alpha=10.0, lam=0.5, iters=5):
    Xt = np.vstack([Xl, Xu])
    ct = np.concatenate([cl, -np.ones(len(Xu), int)])
    Qs, Ys = span(Xs)
    Qt, Yt = span(Xt)
    rs, rt = Ys.shape[1], Yt.shape[1]
    dim = min(dim, C, rs, rt)
    nsc = np.bincount(cs, minlength=C).astype(float)
    nl = len(Xl)
    for it in range(1, iters + 1):
        ntc = np.bincount(ct[ct >= 0], minlength=C).astype(float)
        # the authors' matrices, built as written (n x n Laplacians) on the row-span coordinates
        Ws = (cs[:, None] == cs[None]).astype(float)
        act = ct >= 0
        Yta, cta = Yt[act], ct[act]
        Wt = (cta[:, None] == cta[None]).astype(float)
        Wc = (cs[:, None] == cta[None]).astype(float)
        Ls = np.diag(Ws.sum(1)) - Ws + lam * np.diag(Wc.sum(1))
        Lt = np.diag(Wt.sum(1)) - Wt + lam * np.diag(Wc.sum(0))
        A = scipy.linalg.block_diag(Ys.T @ Ls @ Ys, Yta.T @ Lt @ Yta) + alpha * np.eye(rs + rt)
        B = np.zeros((rs + rt, rs + rt))
        B[:rs, rs:] = Ys.T @ Wc @ Yta
        B[rs:, :rs] = B[:rs, rs:].T
        w, V = scipy.linalg.eigh(B, A, subset_by_index=[rs + rt - dim, rs + rt - 1])
        V = V[:, ::-1]
        Ps, Pt = V[:rs], V[rs:]
        Zs, Zt = Ys @ Ps, Yt @ Pt
        off = np.vstack([Zs, Zt[act]]).mean(0)
        if it == iters or len(Xu) == 0:
            break
        Zs, Zt = l2(Zs - off), l2(Zt - off)
        pred, prob = nearest_mean(np.vstack([Zs, Zt]), np.concatenate([cs, ct]),
                                  np.concatenate([np.ones(len(cs)), (ct >= 0).astype(float)]), C,
                                  Zt[nl:])
        ct[nl:] = select(pred, prob, C, max(0.0, 1 - it / iters))
    Ws_ = Ps if Qs is None else Qs @ Ps
    Wt_ = Pt if Qt is None else Qt @ Pt
    return lambda X: l2(X @ Ws_ - off), lambda X: l2(X @ Wt_ - off)


def project_box_sum(v, gid, target, ngroups):
    """every group g of v onto {0 <= z <= 1, sum z = target[g]}: z = clip(v - tau[g], 0, 1),
    the taus found by one vectorised bisection"""
    lo = np.full(ngroups, np.inf)
    hi = np.full(ngroups, -np.inf)
    np.minimum.at(lo, gid, v)
    np.maximum.at(hi, gid, v)
    lo -= 1
    for _ in range(100):
        tau = 0.5 * (lo + hi)
        s = np.bincount(gid, np.clip(v - tau[gid], 0, 1), ngroups)
        big = s > target
        lo = np.where(big, tau, lo)
        hi = np.where(big, hi, tau)
    return np.clip(v - 0.5 * (lo + hi)[gid], 0, 1)


def landmarks(E, cs, cl, cu, C, delta):
    ns, nl, nu = len(cs), len(cl), len(cu)
    K = E @ E.T
    idx = np.concatenate([np.arange(ns), ns + nl + np.arange(nu)])
    cz = np.concatenate([cs, cu])
    src = np.arange(ns + nu) < ns
    nsc = np.bincount(cs, minlength=C).astype(float)
    nuc = np.bincount(cu, minlength=C).astype(float)
    nlc = np.bincount(cl, minlength=C).astype(float)
    a0, b0 = 1 / (ns * delta), 1 / (nu * delta + nl)
    with np.errstate(divide="ignore"):
        ac, bc = 1 / (nsc * delta), 1 / (nuc * delta + nlc)
        den = nsc * delta * nuc * delta + nuc * delta * nlc + nlc * nsc * delta
        ec = np.where(den > 0, 1 / np.where(den > 0, den, 1), 0)
    Kz = K[np.ix_(idx, idx)]
    dz = np.diag(K)[idx]
    same = cz[:, None] == cz[None]
    ss, uu = np.outer(src, src), np.outer(~src, ~src)
    q = cz
    H = np.where(ss, a0 * a0 * Kz + same * (ac[q][:, None] ** 2) * Kz, 0.0)
    H += np.where(uu, b0 * b0 * Kz + same * (bc[q][:, None] ** 2) * Kz, 0.0)
    cross = ~(ss | uu)
    pair = ec[q][:, None] * (0.5 * (dz[:, None] + dz[None]) - Kz)
    H += np.where(cross, -a0 * b0 * Kz + same * (-ac[q] * bc[q])[:, None] * Kz + same * pair, 0.0)
    Kzl = K[np.ix_(idx, ns + np.arange(nl))]
    dl = np.diag(K)[ns:ns + nl]
    samel = cz[:, None] == cl[None]
    f = np.where(src, (-a0 * b0 * Kzl).sum(1) + (samel * (-ac[q] * bc[q])[:, None] * Kzl).sum(1),
                 (b0 * b0 * Kzl).sum(1) + (samel * (bc[q] ** 2)[:, None] * Kzl).sum(1))
    f += (samel * ec[q][:, None] * (0.5 * (dz[:, None] + dl[None]) - Kzl)).sum(1)
    ev = np.linalg.eigvalsh(H)
    step = 1 / max(abs(ev[0]), abs(ev[-1]))
    z = np.full(ns + nu, delta)
    gid = np.where(src, cz, C + cz)
    target = delta * np.bincount(gid, minlength=2 * C)
    for _ in range(500):
        g = project_box_sum(z - step * (H @ z + f), gid, target, 2 * C)
        moved = np.abs(g - z).max()
        z = g
        if moved < 1e-9:
            break
    return z[:ns], z[ns:]


def cdls(Xs, cs, Xl, cl, Xu, C, dim=100, reg=0.5, delta=1.0, iters=5):
    ns, nl, nu = len(Xs), len(Xl), len(Xu)
    Xt = np.vstack([Xl, Xu])
    m = min(dim, Xt.shape[1], len(Xt) - 1)
    Xc = Xt - Xt.mean(0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    Pt = Vt[:m].T
    Zl, Zu = Xl @ Pt, Xu @ Pt
    al, be, cu = np.ones(ns), np.ones(nu), -np.ones(nu, int)
    for it in range(1, iters + 1):
        sa = np.bincount(cs, al, C)
        sb = np.bincount(cu[cu >= 0], be[cu >= 0], C)
        nlc = np.bincount(cl, minlength=C).astype(float)
        with np.errstate(divide="ignore"):
            ac = np.where(sa > 0, 1 / np.where(sa > 0, sa, 1), 0)
            bc = np.where(sb + nlc > 0, 1 / np.where(sb + nlc > 0, sb + nlc, 1), 0)
            den = sa * sb + sb * nlc + nlc * sa
            ec = np.where(den > 0, 1 / np.where(den > 0, den, 1), 0)
        A0, B0 = al.sum(), be.sum() + nl
        same = cs[:, None] == cs[None]
        Hss = np.outer(al, al) / A0 ** 2 + same * (ac[cs] ** 2)[:, None] * np.outer(al, al) \
            + np.diag(ec[cs] * (sb[cs] + nlc[cs]) * al)
        Hsl = al[:, None] / (A0 * B0) + (cs[:, None] == cl[None]) * ((ac[cs] * bc[cs] + ec[cs]) * al)[:, None]
        Hsu = np.outer(al, be) / (A0 * B0) + (cs[:, None] == cu[None]) * \
            ((ac[cs] * bc[cs] + ec[cs]) * al)[:, None] * be[None]
        # the authors' primal ridge: (S H S^T + reg I) \ (S Hl T^T + S Hu U^T) Pt
        lhs = Xs.T @ Hss @ Xs + reg * np.eye(Xs.shape[1])
        rhs = Xs.T @ (Hsl @ Zl + Hsu @ Zu)
        Ps = np.linalg.solve(lhs, rhs)
        if it == iters or nu == 0:
            break
        Zs = Xs @ Ps
        E = l2(np.vstack([Zs, Zl, Zu]))
        cm = np.concatenate([cs, cl, -np.ones(nu, int)])
        wm = np.concatenate([al * ac[cs], 1 / nlc[cl], np.zeros(nu)])
        cu, _ = nearest_mean(E, cm, wm, C, E[ns + nl:])
        if delta < 1:
            al, be = landmarks(np.vstack([Zs, Zl, Zu]), cs, cl, cu, C, delta)
    return lambda X: l2(X @ Ps), lambda X: l2(X @ Pt)


def run(out, seed, src, tgt, method):
    def load(p):
        return np.load(p + ".npy"), np.load(p + ".labels.npy")
    Xs, ys = load(f"{out}/s{seed}_src_{src}")
    Xl, yl = load(f"{out}/s{seed}_lab_{tgt}")
    Xu, yu = load(f"{out}/s{seed}_unl_{tgt}")
    Xs, Xl, Xu = l2(Xs), l2(Xl), l2(Xu)
    cls = np.unique(ys)
    cs, cl = np.searchsorted(cls, ys), np.searchsorted(cls, yl)
    knn = KNeighborsClassifier(1, algorithm="brute")
    t0 = time.perf_counter()
    to = knn.fit(Xl, yl).score(Xu, yu)
    t1 = time.perf_counter()
    fit = cdspp if method == "cdspp" else cdls
    fs, ft = fit(Xs, cs, Xl, cl, Xu, len(cls))
    t2 = time.perf_counter()
    Z = np.vstack([fs(Xs), ft(Xl)])
    acc = knn.fit(Z, np.concatenate([ys, yl])).score(ft(Xu), yu)
    t3 = time.perf_counter()
    print(json.dumps({"seed": seed, "source": src, "target": tgt, "method": method,
                      "accuracy": acc, "target_only": to, "seconds_method": t2 - t1,
                      "seconds": t3 - t0}))


if __name__ == "__main__":
    if sys.argv[1] == "prep":
        prep(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
