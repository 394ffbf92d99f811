#!/usr/bin/python3
"""Golden fixture for tests/test_instance_ref.c: RuLSIF and TrAdaBoost computed by references
written from the papers, on small synthetic shifts.

RuLSIF (Yamada, Suzuki, Kanamori, Hachiya & Sugiyama, NIPS 2011 / Neural Computation 2013,
section 3): the alpha-relative ratio r_a(x) = p_t(x) / (a p_t(x) + (1 - a) p_s(x)) modelled as
sum_l theta_l exp(-gamma ||x - c_l||^2), centres c_l = the target rows;
    H = a/nt Phi_t' Phi_t + (1 - a)/ns Phi_s' Phi_s,  h = mean of Phi_t's rows,
    theta = max(0, solve(H + lambda I, h)),
weights r(x) rescaled so that the source rows have mean 1 (the same factor for new rows).
Centres: libtl draws `centers` target rows with its own RNG when centers < nt; the fixture asks
for centers >= nt, where libtl takes every target row in order, so no RNG port is needed.

TrAdaBoost (Dai, Yang, Xue & Yu, ICML 2007, Algorithm 1) with scikit-learn's
LogisticRegression(multinomial, lbfgs) as the weighted base learner, libtl's default learner:
    rows = source (1..n) then labelled target (n+1..n+m), w = 1;
    each round: p = w / sum w (given to the learner rescaled to mean 1, so C keeps its meaning);
    eps_t = weighted error on the target rows, clipped to [1e-10, 1/2];
    beta_t = eps_t / (1 - eps_t), beta = 1 / (1 + sqrt(2 ln n / N));
    wrong source rows *= beta, wrong target rows /= beta_t;
    the rounds ceil(N/2)..N vote with weight ln(1/beta_t); scores = vote shares.
For two classes the vote is the paper's rule prod beta_t^-h_t(x) >= prod beta_t^-1/2; libtl
extends it to several classes as a weighted majority vote, and so does this reference.
The script refuses data on which a round's prediction is a near tie (the test would then depend on
the solvers' last digits).

Run from the repository root:  /usr/bin/python3 tests/golden/make_rulsif_tab.py
Writes tests/golden/rulsif_tab.txt. bench/ref_rulsif_tab.py imports rulsif, tradaboost_fit and
vote_shares from here, so the benchmark runs the very code the fixture was made with.
"""
import os
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))


def rbf(X, C, gamma):
    d = (X * X).sum(1)[:, None] + (C * C).sum(1)[None, :] - 2 * X @ C.T
    return np.exp(-gamma * np.maximum(d, 0))


def rulsif(Xs, Xt, alpha, gamma, lam, C=None, Xq=None):
    """Source weights (mean 1) and, for query rows Xq, the same ratio with the same factor;
    centres C (default: every target row)."""
    C = Xt if C is None else C
    Ps, Pt = rbf(Xs, C, gamma), rbf(Xt, C, gamma)
    H = alpha / len(Xt) * Pt.T @ Pt + (1 - alpha) / len(Xs) * Ps.T @ Ps
    theta = np.maximum(0, np.linalg.solve(H + lam * np.eye(len(H)), Pt.mean(0)))
    w = Ps @ theta
    scale = len(Xs) / w.sum()
    return w * scale, None if Xq is None else rbf(Xq, C, gamma) @ theta * scale


def tradaboost_fit(Xs, ys, Xl, yl, rounds, learner, watch=None):
    """Algorithm 1 with learner() a fresh sklearn classifier that takes sample_weight; watch(clf),
    when given, sees every round's fitted learner. Returns the classes, the voting rounds'
    (learner, ln(1/beta_t)) and every round's eps_t."""
    X, y = np.vstack([Xs, Xl]), np.r_[ys, yl]
    n, N = len(Xs), rounds
    w = np.ones(len(y))
    beta = 1 / (1 + np.sqrt(2 * np.log(n) / N))
    voters, eps_all = [], []
    for t in range(1, N + 1):
        p = w / w.sum() * len(w)
        clf = learner().fit(X, y, sample_weight=p)
        if watch:
            watch(clf)
        wrong = clf.predict(X) != y
        eps = min(0.5, max(1e-10, p[n:][wrong[n:]].sum() / p[n:].sum()))
        eps_all.append(eps)
        bt = eps / (1 - eps)
        w = p.copy()
        w[:n][wrong[:n]] *= beta
        w[n:][wrong[n:]] /= bt
        if t >= (N + 1) // 2:
            voters.append((clf, np.log(1 / bt)))
    return np.unique(y), voters, eps_all


def vote_shares(classes, voters, X):
    """(n, classes): each class's share of the weighted vote (equal votes when every weight is 0)."""
    votes = np.zeros((len(X), len(classes)))
    total = sum(a for _, a in voters)
    for clf, a in voters:
        votes[np.arange(len(X)), np.searchsorted(classes, clf.predict(X))] += a if total > 0 else 1
    return votes / votes.sum(1, keepdims=True)


def write(f, name, m):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    f.write("%s %d %d\n" % (name, m.shape[0], m.shape[1]))
    for row in m:
        f.write(" ".join("%.17g" % v for v in row) + "\n")


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20261213)
    out = []
    # RuLSIF: a source wider than the target and a shifted target
    ns, nt, nq, d = 50, 30, 8, 3
    Xs = rng.normal(size=(ns, d))
    Xt = rng.normal(size=(nt, d)) * 0.7 + np.array([0.9, -0.3, 0.0])
    Xq = rng.normal(size=(nq, d))
    out += [("rXs", Xs), ("rXt", Xt), ("rXq", Xq)]
    gamma = 0.4
    for tag, a, lam in [("a0", 0.0, 1e-3), ("a01", 0.1, 1e-3), ("a05", 0.5, 1e-3),
                        ("a05l", 0.5, 0.1)]:
        w, wq = rulsif(Xs, Xt, a, gamma, lam, Xq=Xq)
        out += [("r_" + tag, w[None, :]), ("rq_" + tag, wq[None, :]), ("rp_" + tag, [[a, lam]])]
    out.append(("r_gamma", [[gamma]]))
    # TrAdaBoost: 2 classes (the paper's setting) and 3 classes; the target's class means moved
    for tag, k in [("t2", 2), ("t3", 3)]:
        ns, nl, nq, d = 90, 8 * k, 40, 3
        mu = rng.normal(size=(k, d)) * 1.0
        ys = np.arange(ns) % k
        yl = np.arange(nl) % k
        yq = np.arange(nq) % k
        shift = rng.normal(size=(k, d)) * 2.0
        Xs = mu[ys] + rng.normal(size=(ns, d))
        Xl = mu[yl] + shift[yl] + rng.normal(size=(nl, d)) * 1.6
        Xq = mu[yq] + shift[yq] + rng.normal(size=(nq, d)) * 1.6
        ys, yl = ys * 2 + 1, yl * 2 + 1  # labels 1, 3, 5: not 0..k-1
        C, rounds = 0.5, 6
        gap = [np.inf]

        def margin(clf):  # the gap between the two most probable classes, training and query rows
            for Z in (np.vstack([Xs, Xl]), Xq):
                P = np.sort(clf.predict_proba(Z), 1)
                gap[0] = min(gap[0], (P[:, -1] - P[:, -2]).min())

        learner = lambda: LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs",
                                             tol=1e-12, max_iter=100000)
        classes, voters, eps = tradaboost_fit(Xs, ys, Xl, yl, rounds, learner, margin)
        S, gap = vote_shares(classes, voters, Xq), gap[0]
        assert gap > 1e-4, (tag, gap)
        assert 0.02 < max(eps) and min(eps) < 0.5, (tag, eps)  # rounds that make errors
        print(tag, "eps per round", np.round(eps, 4), "smallest margin", gap)
        out += [(tag + "Xs", Xs), (tag + "ys", ys[None, :]), (tag + "Xl", Xl),
                (tag + "yl", yl[None, :]), (tag + "Xq", Xq), (tag + "S", S),
                (tag + "set", [[C, rounds]])]
    with open(os.path.join(HERE, "rulsif_tab.txt"), "w") as f:
        f.write("# RuLSIF weights and TrAdaBoost vote shares (sklearn LogisticRegression base)\n"
                "# generated by tests/golden/make_rulsif_tab.py; do not edit by hand\n")
        for name, m in out:
            write(f, name, m)


if __name__ == "__main__":
    main()
