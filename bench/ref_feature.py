#!/usr/bin/python3
"""bench/ref_feature.py: numpy/scipy reference of TCA and JDA, written the way the widely used
Python ports do it (explicit n x n MMD matrix M and centring matrix H, K M K^T and K H K^T products,
scipy.linalg.eigh on the generalised problem, sklearn 1-NN), run side by side with libtl's
bench/repro_feature on the same data and protocol.

  ref_feature.py surf tca|jda [--kernel primal|linear] [--c-bin build-feature/repro_feature]
                 [--subset]
      Office+Caltech-10 SURF, 12 tasks, rowsum + z-score per domain then L2 per sample, dim 100,
      lambda 1, 10 JDA rounds; primal form (X M X^T, d x d) or the linear-kernel form the ports
      run with kernel_type='linear' (K = X^T X, n x n; the form of the JDA paper's table).
      Prints one JSON line per task; with --c-bin also runs `repro_feature speed CONFIG`
      (tca, jda, tca-linear or jda-linear) and prints a Markdown table: accuracy and seconds of
      each side and the speed ratio. The timed span is the same on both sides: fit + transform +
      1-NN, data already loaded and preprocessed.
  ref_feature.py fmnist NS NT [--c-bin ...] [--landmarks M]
      Kernel TCA with an RBF kernel (median-heuristic gamma), exact n x n (this script) against
      libtl's Nystrom form (`repro_feature fmnist NS NT nystrom tca M`) on Fashion-MNIST: the first
      NS train images as source (pixels / 255), the first NT test images with lowered contrast and
      raised brightness as target (0.5 x / 255 + 0.4). The RBF bandwidth (median heuristic over
      the first 1000 rows of each domain) is computed here and passed to libtl, so both sides
      use the same kernel.

Generalised problem: the `dim` smallest eigenpairs of (K M K^T + lambda I) a = phi (K H K^T) a are
the `dim` largest of (K H K^T) a = (1/phi) (K M K^T + lambda I) a, whose right-hand matrix is SPD,
so scipy.linalg.eigh(KHK, KMK + lambda I) applies (K H K^T is singular when n < d). By default all
eigenpairs are computed, as the ports do; --subset asks eigh for the `dim` needed ones only (a
stronger reference). Eigenvector columns are scaled to unit norm and embeddings L2-normalised,
the JDA authors' protocol.
Threads: OPENBLAS_NUM_THREADS as the environment sets it, the same for both sides.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.io as sio
import scipy.linalg as sl
from sklearn.neighbors import KNeighborsClassifier

DATA = os.environ.get('TL_DATA', '../shared/data')
TASKS = [('caltech', 'amazon'), ('caltech', 'webcam'), ('caltech', 'dslr'), ('amazon', 'caltech'),
         ('amazon', 'webcam'), ('amazon', 'dslr'), ('webcam', 'caltech'), ('webcam', 'amazon'),
         ('webcam', 'dslr'), ('dslr', 'caltech'), ('dslr', 'amazon'), ('dslr', 'webcam')]
AB = {'caltech': 'C', 'amazon': 'A', 'webcam': 'W', 'dslr': 'D'}
SUBSET = False


def load_surf(dom):
    m = sio.loadmat('%s/office_caltech10_surf/%s_SURF_L10.mat' % (DATA, dom))
    X = m['fts'].astype(np.float64)
    X = X / X.sum(1, keepdims=True)
    sd = X.std(0)
    sd[sd == 0] = 1
    X = (X - X.mean(0)) / sd
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return X, m['labels'].ravel().astype(int)


def rbf(A, B, gamma):
    sq = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(sq, 0))


def solve(K, M, H, lam, dim):
    """(K M K^T + lam I) a = phi (K H K^T) a, dim smallest phi; K (m, n) columns = samples."""
    m = K.shape[0]
    a = np.linalg.multi_dot([K, M, K.T]) + lam * np.eye(m)
    b = np.linalg.multi_dot([K, H, K.T])
    if SUBSET:
        w, V = sl.eigh(b, a, subset_by_index=[m - dim, m - 1])
    else:
        w, V = sl.eigh(b, a)
        V = V[:, -dim:]
    V = V[:, ::-1]
    return V / np.linalg.norm(V, axis=0)


def tca_jda(Xs, ys, Xt, kind, dim=100, lam=1.0, T=10, kernel=None, gamma=None):
    """Returns target predictions of 1-NN in the adapted space."""
    X = np.hstack((Xs.T, Xt.T))                      # (d, n), the ports' layout
    d, n = X.shape
    ns, nt = len(Xs), len(Xt)
    if kernel is None:
        K = X
    elif kernel == 'linear':
        K = X.T @ X                                   # (n, n), as the ports' kernel('linear')
    else:
        K = rbf(X.T, X.T, gamma)
    e = np.vstack((np.ones((ns, 1)) / ns, -np.ones((nt, 1)) / nt))
    C = len(np.unique(ys))
    H = np.eye(n) - np.ones((n, n)) / n
    yp = None
    rounds = 1 if kind == 'tca' else T
    for _ in range(rounds):
        M = e @ e.T * (1 if kind == 'tca' else C)
        if yp is not None:
            N = np.zeros((n, n))
            for c in np.unique(ys):
                ec = np.zeros((n, 1))
                ec[np.where(ys == c)[0]] = 1 / len(ys[ys == c])
                idx = np.where(yp == c)[0]
                if len(idx):
                    ec[ns + idx] = -1 / len(idx)
                N = N + ec @ ec.T
            M = M + N
        M = M / np.linalg.norm(M, 'fro')
        A = solve(K, M, H, lam, dim)
        Z = A.T @ K
        Z = Z / np.linalg.norm(Z, axis=0)
        clf = KNeighborsClassifier(n_neighbors=1).fit(Z[:, :ns].T, ys)
        yp = clf.predict(Z[:, ns:].T)
    return yp


def mode_surf(kind, c_bin, kernel):
    doms = {d: load_surf(d) for d in AB}
    rows = []
    for s, t in TASKS:
        (Xs, ys), (Xt, yt) = doms[s], doms[t]
        t0 = time.perf_counter()
        yp = tca_jda(Xs, ys, Xt, kind, kernel=kernel)
        sec = time.perf_counter() - t0
        r = {'impl': 'numpy', 'method': kind, 'kernel': kernel or 'primal',
             'task': '%s->%s' % (AB[s], AB[t]),
             'acc': 100 * float(np.mean(yp == yt)), 'seconds': sec}
        print(json.dumps(r), flush=True)
        rows.append(r)
    if not c_bin:
        return
    cfg = kind + ('-linear' if kernel == 'linear' else '')
    out = subprocess.run([c_bin, '--data', DATA, 'speed', cfg], check=True,
                         capture_output=True, text=True).stdout
    crows = [json.loads(l) for l in out.splitlines() if l.startswith('{')]
    print('\n| task | numpy acc | libtl acc | numpy s | libtl s | speed-up |')
    print('|---|---|---|---|---|---|')
    for r, c in zip(rows, crows):
        print('| %s | %.2f | %.2f | %.3f | %.3f | %.1fx |' % (
            r['task'], r['acc'], c['acc'], r['seconds'], c['seconds'], r['seconds'] / c['seconds']))
    sa, sc = sum(r['seconds'] for r in rows), sum(c['seconds'] for c in crows)
    print('| **all 12** | %.2f | %.2f | %.2f | %.2f | **%.1fx** |' % (
        np.mean([r['acc'] for r in rows]), np.mean([c['acc'] for c in crows]), sa, sc, sa / sc))


def load_fmnist(ns, nt):
    import gzip
    base = os.environ.get('FMNIST', '/usr/share/datasets/fashion-mnist')

    def idx(name, off):
        with gzip.open(os.path.join(base, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=off)
    Xs = idx('train-images-idx3-ubyte.gz', 16).reshape(-1, 784)[:ns].astype(np.float64) / 255
    ys = idx('train-labels-idx1-ubyte.gz', 8)[:ns].astype(int)
    Xt = idx('t10k-images-idx3-ubyte.gz', 16).reshape(-1, 784)[:nt].astype(np.float64)
    Xt = 0.5 * Xt / 255 + 0.4
    yt = idx('t10k-labels-idx1-ubyte.gz', 8)[:nt].astype(int)
    return Xs, ys, Xt, yt


def median_gamma(S):
    """1 / median squared distance over all pairs of the rows of S."""
    sq = (S ** 2).sum(1)
    D = sq[:, None] + sq[None, :] - 2 * S @ S.T
    return 1.0 / np.median(np.maximum(D[np.triu_indices(len(S), 1)], 0))


def mode_fmnist(ns, nt, c_bin, landmarks):
    Xs, ys, Xt, yt = load_fmnist(ns, nt)
    # the same bandwidth on both sides: median heuristic over the first 1000 rows of each domain
    gamma = median_gamma(np.vstack((Xs[:1000], Xt[:1000])))
    res = []
    if c_bin:  # first, while this process is small: Linux carries ru_maxrss across fork + exec
        for form in ('nystrom', 'exact'):
            out = subprocess.run([c_bin, 'fmnist', str(ns), str(nt), form, 'tca', str(landmarks),
                                  repr(gamma)], check=True, capture_output=True, text=True).stdout
            c = json.loads(out.strip().splitlines()[-1])
            print(json.dumps(c), flush=True)
            res.append(c)
    t0 = time.perf_counter()
    yp = tca_jda(Xs, ys, Xt, 'tca', kernel='rbf', gamma=gamma)
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r = {'impl': 'numpy', 'data': 'fmnist', 'ns': ns, 'nt': nt, 'form': 'exact', 'method': 'tca',
         'acc': 100 * float(np.mean(yp == yt)), 'seconds': sec, 'peak_mb': peak, 'gamma': gamma}
    print(json.dumps(r), flush=True)
    if not res:
        return
    print('\n| implementation | accuracy | seconds | peak MB | vs numpy exact |')
    print('|---|---|---|---|---|')
    print('| numpy/scipy exact RBF TCA | %.2f | %.2f | %.0f | 1.0x |' % (r['acc'], sec, peak))
    for c in res:
        print('| libtl %s%s | %.2f | %.2f | %.0f | %.1fx faster |' % (
            c['form'], ' m=%d' % landmarks if c['form'] == 'nystrom' else '', c['acc'],
            c['seconds'], c['peak_mb'], sec / c['seconds']))
    print('(seconds: fit + transform + 1-NN, data loaded; peak MB: ru_maxrss of each process, '
          'the libtl figures include loading the 60000-image training file)')


def main():
    global SUBSET, DATA
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['surf', 'fmnist'])
    ap.add_argument('args', nargs='*')
    ap.add_argument('--c-bin')
    ap.add_argument('--subset', action='store_true')
    ap.add_argument('--landmarks', type=int, default=1000)
    ap.add_argument('--kernel', choices=['primal', 'linear'], default='primal',
                    help='surf: primal form (default) or the linear-kernel form (K = X^T X)')
    ap.add_argument('--data', default=DATA)
    a = ap.parse_args()
    SUBSET = a.subset
    DATA = a.data
    if a.mode == 'surf':
        mode_surf(a.args[0] if a.args else 'tca', a.c_bin,
                  None if a.kernel == 'primal' else 'linear')
    else:
        mode_fmnist(int(a.args[0]), int(a.args[1]), a.c_bin, a.landmarks)


if __name__ == '__main__':
    sys.exit(main())
