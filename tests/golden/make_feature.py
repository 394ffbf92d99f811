#!/usr/bin/python3
"""Golden fixtures for tests/test_feature.c: a small two-domain data set and numpy/scipy reference
results of the feature-based methods, written as plain text (tests/golden/feature_*.txt).

The references are written the straightforward way (explicit n x n MMD matrix M and centring
matrix H, scipy.linalg.eigh on the generalised problem, full eigen-decompositions), independent of
libtl's structured solver, so agreement checks the algebra, not a shared shortcut. Eigenvectors
have sign (and, for PCA bases, rotation) freedom, so only invariant quantities are stored:
projectors V V^T, A A^T of unit-norm eigenvector columns, the GFK matrix G, Gram matrices of
embeddings, the CORAL map (unique), and JDA's pseudo-labels.

Run from the repository root:  /usr/bin/python3 tests/golden/make_feature.py
"""
import os
import numpy as np
import scipy.linalg as sl

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240601)

# ---- data: 3 classes, 12 features, a shifted and rescaled target ----
d, C = 12, 3
centres = rng.normal(0, 3, size=(C, d))
def domain(n, shift, scale):
    y = np.arange(n) % C
    X = centres[y] + rng.normal(0, 1, size=(n, d))
    return X * scale + shift, y + 1          # labels 1..3
Xs, ys = domain(60, 0.0, 1.0)
Xt, yt = domain(45, rng.normal(0, 1.5, size=d), 1.3)
ns, nt, n = len(Xs), len(Xt), len(Xs) + len(Xt)
X = np.vstack([Xs, Xt])

def unit_cols(A):
    return A / np.linalg.norm(A, axis=0)

def pca_basis(Z, k):
    Zc = Z - Z.mean(0)
    w, V = np.linalg.eigh(Zc.T @ Zc)
    return Z.mean(0), V[:, ::-1][:, :k]

def nn(Zs, y, Zt):
    D = ((Zt[:, None, :] - Zs[None, :, :]) ** 2).sum(-1)
    return y[np.argmin(D, 1)]

def l2r(Z):
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)

def mmd_ref(F, lam, k, kind, T=1, mu=0.5):
    """TCA/JDA/BDA, n x n form: eigh(F^T H F, F^T M F + lam I), k largest, unit columns."""
    H = np.eye(n) - np.ones((n, n)) / n
    e0 = np.r_[np.ones(ns) / ns, -np.ones(nt) / nt][:, None]
    yp = None
    for t in range(T):
        M = e0 @ e0.T * (1.0 if kind == 'tca' else C)
        if kind == 'bda':
            M = M * (1 - mu)
        N = np.zeros((n, n))
        if yp is not None:
            for c in range(1, C + 1):
                e = np.zeros((n, 1))
                e[:ns][ys == c] = 1.0 / (ys == c).sum()
                if (yp == c).sum():
                    e[ns:][yp == c] = -1.0 / (yp == c).sum()
                N += e @ e.T
        M = M + (mu if kind == 'bda' else 1.0) * N
        M = M / np.linalg.norm(M, 'fro')
        p = F.shape[1]
        w, A = sl.eigh(F.T @ H @ F, F.T @ M @ F + lam * np.eye(p))
        A = unit_cols(A[:, ::-1][:, :k])
        if kind == 'tca':
            break
        Z = l2r(F @ A)
        yp = nn(Z[:ns], ys, Z[ns:])
    return A, yp

# Gram matrices of embeddings are stored on a subset of the samples (first 25 source, first 20
# target) to keep the fixture small.
SUB = np.r_[np.arange(25), ns + np.arange(20)]

def write(f, name, M):
    M = np.atleast_2d(np.asarray(M, dtype=float))
    f.write('%s %d %d\n' % (name, M.shape[0], M.shape[1]))
    for row in M:
        f.write(' '.join('%.15g' % v for v in row) + '\n')

with open(os.path.join(OUT, 'feature_data.txt'), 'w') as f:
    write(f, 'Xs', Xs); write(f, 'ys', ys[None, :])
    write(f, 'Xt', Xt); write(f, 'yt', yt[None, :])

with open(os.path.join(OUT, 'feature_ref.txt'), 'w') as f:
    # PCA (pooled, k = 5): projector and mean
    m, V = pca_basis(X, 5)
    write(f, 'pca_P', V @ V.T); write(f, 'pca_mean', m[None, :])
    # SA (k = 4): Ws Ws^T, Wt Wt^T, per-domain means
    ms, Ps = pca_basis(Xs, 4); mt, Pt = pca_basis(Xt, 4)
    Ws = Ps @ Ps.T @ Pt
    write(f, 'sa_WsWsT', Ws @ Ws.T); write(f, 'sa_PtPtT', Pt @ Pt.T)
    write(f, 'sa_ms', ms[None, :]); write(f, 'sa_mt', mt[None, :])
    # GFK (k = 3): G by Gong et al.'s gsvd-free closed form through the null space of Ps^T
    _, Ps = pca_basis(Xs, 3); _, Pt = pca_basis(Xt, 3)
    Rs = sl.null_space(Ps.T)
    U1, g, Vt = np.linalg.svd(Ps.T @ Pt); V_ = Vt.T
    th = np.arccos(np.clip(g, -1, 1))
    # Rs^T Pt = -U2 diag(sin th) V^T  ->  U2 = -Rs^T Pt V / sin th
    U2 = -(Rs.T @ Pt @ V_) / np.sin(th)
    th = np.maximum(th, 1e-20)
    L1 = np.diag(0.5 * (1 + np.sin(2 * th) / (2 * th)))
    L2 = np.diag(0.5 * (np.cos(2 * th) - 1) / (2 * th))
    L3 = np.diag(0.5 * (1 - np.sin(2 * th) / (2 * th)))
    Om = np.hstack([Ps @ U1, Rs @ U2])
    G = Om @ np.block([[L1, L2], [L2, L3]]) @ Om.T
    write(f, 'gfk_G', G)
    # CORAL (eps = 1): the map is unique
    Cs = np.cov(Xs, rowvar=False) + np.eye(d); Ct = np.cov(Xt, rowvar=False) + np.eye(d)
    def spow(S, p):
        w, Q = np.linalg.eigh(S); return (Q * w ** p) @ Q.T
    write(f, 'coral_W', spow(Cs, -0.5) @ spow(Ct, 0.5))
    # TCA primal (lambda 1, k 4): A A^T
    A, _ = mmd_ref(X, 1.0, 4, 'tca')
    write(f, 'tca_AAT', A @ A.T)
    # JDA primal (lambda 0.5, k 4, 3 rounds): Gram of the L2-normalised embedding, pseudo-labels
    A, yp = mmd_ref(X, 0.5, 4, 'jda', T=3)
    Z = l2r(X @ A)
    write(f, 'jda_ZZT', (Z @ Z.T)[np.ix_(SUB, SUB)]); write(f, 'jda_pseudo', yp[None, :])
    # BDA primal (mu 0.3, lambda 1, k 4, 3 rounds)
    A, yp = mmd_ref(X, 1.0, 4, 'bda', T=3, mu=0.3)
    Z = l2r(X @ A)
    write(f, 'bda_ZZT', (Z @ Z.T)[np.ix_(SUB, SUB)]); write(f, 'bda_pseudo', yp[None, :])
    # TCA, exact RBF kernel (gamma 0.02, k 4): Gram of the embedding of the fitting samples
    sq = (X ** 2).sum(1)
    K = np.exp(-0.02 * np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0))
    A, _ = mmd_ref(K, 1.0, 4, 'tca')
    Z = K @ A
    write(f, 'ktca_ZZT', (Z @ Z.T)[np.ix_(SUB, SUB)])
    # TCA, exact LINEAR kernel K = X X^T (n x n, lambda 1, k 4): embedding Gram on the subset
    K = X @ X.T
    A, _ = mmd_ref(K, 1.0, 4, 'tca')
    Z = K @ A
    write(f, 'ltca_ZZT', (Z @ Z.T)[np.ix_(SUB, SUB)])
print('wrote', os.path.join(OUT, 'feature_data.txt'), 'and feature_ref.txt')
