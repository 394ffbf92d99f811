#!/usr/bin/python3
"""bench/ref_auto.py: the search of `tl auto` written as the numpy / scikit-learn loop a user would
write (fit each candidate, score it), run by bench/auto_speed.sh beside `tl auto` on the same task.

  ref_auto.py AUTO_JSON SOURCE TARGET

AUTO_JSON is `tl auto --json` on the same pair (Office+Caltech SURF .mat files SOURCE, TARGET);
its candidate list (e.g. "none", "tca dim=20", "kliep centers=200") is the grid this script runs,
so both sides search the same candidates. Per candidate, as libtl's protocol does:
  - fit the method (numpy/scipy: PCA, SA, GFK, CORAL, TCA/JDA/BDA primal; KMM with cvxopt's QP,
    KLIEP, uLSIF, RuLSIF, a domain classifier; bench/ref_feature.py's and ref_instance.py's code
    where they have it), map or weight, 1-NN (sklearn) on the source, predict the target;
  - the probe: sklearn LogisticRegression (C = 1) on the candidate's source rows in 2 folds
    (held-out log-losses) and on all of them (target probabilities); importance weights from a
    domain classifier in the candidate's space;
  - the criteria: entropy, SND (tau 0.05), IWCV, DEV, MixVal (lambda 0.55), reverse validation
    (1-NN trained on the target's predicted labels, scored on the source);
then the same rank-mean choice among the candidates that did not collapse.
The data preparation (rowsum, then z-score per domain, population std) is outside the timed span,
as in tl auto (which loads and scales before its clock starts). Prints one JSON line: seconds
(wall), cpu_seconds (this process, every thread), candidates, the choice, and the per-candidate target accuracies (to compare with libtl's).
Standard scientific stack only (numpy, scipy, scikit-learn, cvxopt)."""
import json
import warnings
import os
import sys
import time

import numpy as np
import scipy.io as sio
import scipy.linalg as sl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.datasets import load_svmlight_file
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_instance import kliep, kmm, ulsif  # noqa: E402


AMAZON = False  # set by main(): Amazon review .svmlight files, raw counts, linear SVM (C = 0.01)


def load(path):
    if path.endswith('.svmlight'):
        X, y = load_svmlight_file(path, n_features=5000)
        return X.toarray(), y.astype(int)
    m = sio.loadmat(path)
    X = m['fts'].astype(np.float64)
    X = X / np.maximum(X.sum(1, keepdims=True), 1e-300)
    sd = X.std(0)
    sd[sd == 0] = 1
    return (X - X.mean(0)) / sd, m['labels'].ravel().astype(int)


def l2(Z):
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def pcs(X, dim):
    Xc = X - X.mean(0)
    w, V = np.linalg.eigh(Xc.T @ Xc / len(X))
    return V[:, ::-1][:, :dim]


def pca(Xs, Xt, dim=100):
    P = pcs(np.vstack([Xs, Xt]), dim)
    mu = np.vstack([Xs, Xt]).mean(0)
    return (Xs - mu) @ P, (Xt - mu) @ P


def sa(Xs, Xt, dim=30):
    Ps, Pt = pcs(Xs, dim), pcs(Xt, dim)
    return Xs @ Ps @ (Ps.T @ Pt), Xt @ Pt


def gfk(Xs, Xt, dim=20):
    """Gong et al. 2012, closed form; the embedding is X G^(1/2)."""
    d = Xs.shape[1]
    Ps = np.linalg.svd(Xs - Xs.mean(0), full_matrices=True)[2].T  # (d, d) source basis
    Pt = pcs(Xt, dim)
    Q = Ps
    A, B = Ps[:, :dim].T @ Pt, Ps[:, dim:].T @ Pt
    U1, g, Vt = np.linalg.svd(A)
    U2 = -B @ Vt.T / np.maximum(np.sqrt(np.maximum(1 - g ** 2, 0)), 1e-12)
    th = np.arccos(np.clip(g, -1, 1))
    th2 = np.maximum(2 * th, 1e-12)
    l1 = 0.5 * (1 + np.sin(2 * th) / th2)
    l2_ = 0.5 * (np.cos(2 * th) - 1) / th2
    l3 = 0.5 * (1 - np.sin(2 * th) / th2)
    # G = [Ps Rs] [[U1 L1 U1', -U1 L2 U2'], [-U2 L2 U1', U2 L3 U2']] [Ps Rs]'
    M = np.zeros((d, d))
    M[:dim, :dim] = U1 @ np.diag(l1) @ U1.T
    M[:dim, dim:] = -(U1 @ np.diag(l2_) @ U2.T)
    M[dim:, :dim] = M[:dim, dim:].T
    M[dim:, dim:] = U2 @ np.diag(l3) @ U2.T
    G = Q @ M @ Q.T
    w, V = np.linalg.eigh((G + G.T) / 2)
    R = V * np.sqrt(np.maximum(w, 0))
    return Xs @ R, Xt @ R


def coral(Xs, Xt, eps=1.0):
    def cov(X):
        C = np.cov(X, rowvar=False)
        return C + eps * np.mean(np.diag(C)) * np.eye(len(C))
    ws, Vs = np.linalg.eigh(cov(Xs))
    wt, Vt = np.linalg.eigh(cov(Xt))
    A = (Vs / np.sqrt(ws)) @ Vs.T @ (Vt * np.sqrt(wt)) @ Vt.T
    return Xs @ A, Xt


def tca_family(Xs, ys, Xt, kind, dim=100, lam=1.0, iters=10, mu=0.5):
    """TCA / JDA / BDA, primal (d x d) generalised eigenproblem, L2-normalised embeddings."""
    Xs, Xt = l2(Xs), l2(Xt)
    X = np.vstack([Xs, Xt])
    ns, nt = len(Xs), len(Xt)
    n = ns + nt
    dim = min(dim, X.shape[1])
    e = np.r_[np.ones(ns) / ns, -np.ones(nt) / nt]
    Xc = X - X.mean(0)
    b = Xc.T @ Xc
    classes = np.unique(ys)
    yp = None
    for _ in range(1 if kind == 'tca' else iters):
        v = X.T @ e
        a = np.outer(v, v) * (1 if kind == 'tca' else len(classes))
        if kind == 'bda':
            a *= 1 - mu
        if yp is not None:
            N = np.zeros_like(a)
            for c in classes:
                ec = np.zeros(n)
                ec[:ns][ys == c] = 1 / max((ys == c).sum(), 1)
                idx = np.where(yp == c)[0]
                if len(idx):
                    ec[ns + idx] = -1 / len(idx)
                u = X.T @ ec
                N += np.outer(u, u)
            a += mu * N if kind == 'bda' else N
        a = a / np.linalg.norm(a) + lam * np.eye(len(a))
        w, V = sl.eigh(b, a)
        A = V[:, ::-1][:, :dim]
        Zs, Zt = l2(Xs @ A), l2(Xt @ A)
        yp = KNeighborsClassifier(n_neighbors=1).fit(Zs, ys).predict(Zt)
    return Zs, Zt


def median_gamma(Xs, Xt):
    X = np.vstack([Xs[:500], Xt[:500]])
    n2 = (X * X).sum(1)  # |x|^2 + |y|^2 - 2 x.y: a (1000, 1000, d) difference array is 37 GB at d = 5000
    sq = np.maximum(n2[:, None] + n2[None, :] - 2 * X @ X.T, 0)
    return 1.0 / np.median(sq[sq > 0])


def rulsif(Xs, Xt, gamma, alpha=0.1, lam=1e-3, centers=100, seed=0):
    C = Xt[np.random.default_rng(seed).choice(len(Xt), min(centers, len(Xt)), replace=False)]
    Ps, Pt = rbf_kernel(Xs, C, gamma=gamma), rbf_kernel(Xt, C, gamma=gamma)
    H = alpha * Pt.T @ Pt / len(Xt) + (1 - alpha) * Ps.T @ Ps / len(Xs)
    th = np.linalg.solve(H + lam * np.eye(len(H)), Pt.mean(0))
    return np.maximum(Ps @ th, 0)


def domain_weights(Zs, Zt, C=1.0):
    y = np.r_[np.zeros(len(Zs)), np.ones(len(Zt))]
    p = LogisticRegression(C=C, max_iter=1000).fit(np.vstack([Zs, Zt]), y).predict_proba(Zs)
    w = len(Zs) / len(Zt) * p[:, 1] / np.maximum(p[:, 0], 1e-12)
    return w / w.mean()


def parse(label):
    parts = label.split()
    return parts[0], dict(p.split('=', 1) for p in parts[1:])


def fit(method, kv, Xs, ys, Xt):
    """(Zs, Zt, w): the candidate's source and target rows and the source weights (or None)."""
    num = {k: float(v) for k, v in kv.items() if k not in ('kernel', 'eps-scale', 'lowrank')}
    dim = int(num.get('dim', 0)) or None
    if method == 'none':
        return Xs, Xt, None
    if method in ('pca', 'sa', 'gfk'):
        f = {'pca': pca, 'sa': sa, 'gfk': gfk}[method]
        return (*f(Xs, Xt, dim or {'pca': 100, 'sa': 30, 'gfk': 20}[method]), None)
    if method == 'coral':
        return (*coral(Xs, Xt, num.get('eps', 1.0)), None)
    if method in ('tca', 'jda', 'bda'):
        return (*tca_family(Xs, ys, Xt, method, dim or 100, num.get('lambda', 1.0),
                            int(num.get('iters', 10)), num.get('mu', 0.5)), None)
    g = num.get('gamma', 0) or median_gamma(Xs, Xt)
    cen = int(num.get('centers', 100))
    C = Xt[np.random.default_rng(0).choice(len(Xt), min(cen, len(Xt)), replace=False)]
    if method == 'kmm':
        w = kmm(Xs, Xt, g, num.get('B', 1000.0))
    elif method == 'kliep':
        w = kliep(Xs, Xt, g, C=C)
    elif method == 'ulsif':
        w = ulsif(Xs, Xt, g, num.get('lambda', 1e-3), C=C)
    elif method == 'rulsif':
        w = rulsif(Xs, Xt, g, num.get('alpha', 0.1), num.get('lambda', 1e-3), cen)
    elif method == 'domain-clf':
        w = domain_weights(Xs, Xt, num.get('clf-C', 1.0))
    else:
        raise SystemExit('ref_auto: no reference for method %s' % method)
    return Xs, Xt, np.maximum(w, 0)


def learner(Z, y, w=None):
    """The user's learner: 1-NN on SURF (weights do not enter), the linear SVM on Amazon."""
    if AMAZON:
        return LinearSVC(C=0.01, max_iter=2000).fit(Z, y, sample_weight=w)
    return KNeighborsClassifier(n_neighbors=1).fit(Z, y)


def score(Zs, ys, Zt, w, Xs, Xt, seed=0):
    """1-NN predictions and the label-free criteria of one candidate (Xs, Xt: the no-transfer
    space, where the common reverse validation is computed for every candidate)."""
    pred = learner(Zs, ys, w).predict(Zt)
    dr = domain_weights(Zs, Zt)
    perm = np.random.default_rng(seed).permutation(len(Zs))
    loss = np.zeros(len(Zs))
    for f in range(2):
        tr, te = perm[np.arange(len(perm)) % 2 != f], perm[np.arange(len(perm)) % 2 == f]
        pr = LogisticRegression(C=1.0, max_iter=200).fit(Zs[tr], ys[tr], None if w is None else w[tr])
        P = pr.predict_proba(Zs[te])
        col = np.searchsorted(pr.classes_, ys[te])
        loss[te] = -np.log(np.maximum(P[np.arange(len(te)), np.minimum(col, P.shape[1] - 1)], 1e-12))
    probe = LogisticRegression(C=1.0, max_iter=200).fit(Zs, ys, w)
    P = probe.predict_proba(Zt)
    c = {'entropy': float(np.mean(-(P * np.log(np.maximum(P, 1e-300))).sum(1)))}
    F = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
    S = F @ F.T / 0.05
    np.fill_diagonal(S, -1 / 0.05)
    S -= S.max(1, keepdims=True)
    Q = np.exp(S)
    Q /= Q.sum(1, keepdims=True)
    c['snd'] = float(np.mean(-(Q * np.log(np.maximum(Q, 1e-300))).sum(1)))
    wl = dr * loss
    c['iwcv'] = float(wl.mean())
    cv = np.cov(np.vstack([wl, dr]), bias=True)
    eta = -cv[0, 1] / cv[1, 1] if cv[1, 1] > 0 else 0
    c['dev'] = float(wl.mean() + eta * dr.mean() - eta)
    pt = probe.predict(Zt)
    part = np.random.default_rng(seed).permutation(len(Zt))
    keep = part != np.arange(len(Zt))
    M = 0.55 * Zt[keep] + 0.45 * Zt[part[keep]]
    pm = probe.predict(M)
    inter = pt[keep] != pt[part[keep]]
    hits = pm == pt[keep]
    c['mixval'] = float(np.mean([hits[inter == q].mean() for q in (False, True) if (inter == q).any()]))
    c['rv'] = float((learner(Zt, pred).predict(Zs) == ys).mean()) if len(np.unique(pred)) > 1 else \
        float((ys == pred[0]).mean())
    if len(np.unique(pred)) > 1:
        c['crv'] = float((LogisticRegression(C=1.0, max_iter=200).fit(Xt, pred).predict(Xs) == ys).mean())
    else:
        c['crv'] = float((ys == pred[0]).mean())
    top = np.bincount(pred - pred.min()).max() / len(pred)
    return pred, c, top


def main():
    warnings.filterwarnings('ignore')  # lbfgs's max_iter notices: the probe's 200 steps, as libtl's
    global AMAZON
    js, spath, tpath = sys.argv[1:4]
    AMAZON = spath.endswith('.svmlight')
    labels = [c['candidate'] for c in json.load(open(js))['candidates']]
    Xs, ys = load(spath)
    Xt, yt = load(tpath)
    k = len(np.unique(ys))
    t0, c0 = time.perf_counter(), time.process_time()
    rows = []
    for lab in labels:
        m, kv = parse(lab)
        Zs, Zt, w = fit(m, kv, Xs, ys, Xt)
        pred, c, top = score(Zs, ys, Zt, w, Xs, Xt)
        rows.append((lab, c, top > max(0.5, (1 + 1 / k) / 2), float((pred == yt).mean())))
    # the rank-mean choice over entropy, SND, IWCV, DEV, RV, CRV among the candidates not
    # collapsed and not more than two standard errors below no transfer's CRV
    hi = {'entropy': False, 'snd': True, 'iwcv': False, 'dev': False, 'rv': True, 'crv': True}
    crv0 = next(r[1]['crv'] for r in rows if r[0] == 'none')
    se = np.sqrt(crv0 * (1 - crv0) / len(ys))
    el = [r for r in rows if not r[2] and (r[0] == 'none' or r[1]['crv'] >= crv0 - 2 * se)]
    best, best_s = None, -1
    for r in el:
        s = 0
        for name, h in hi.items():
            d = [(r[1][name] - o[1][name]) * (1 if h else -1) for o in el if o is not r]
            s += np.mean([1 if x > 0 else 0.5 if x == 0 else 0 for x in d]) if d else 1
        if s > best_s:
            best, best_s = r, s
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({'seconds': secs, 'cpu_seconds': cpu, 'candidates': len(rows), 'chosen': best[0],
                      'accuracy': {r[0]: r[3] for r in rows}}))


if __name__ == '__main__':
    main()
