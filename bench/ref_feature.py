#!/usr/bin/python3
"""bench/ref_feature.py: numpy/scipy reference of TCA and JDA, written the way the widely used
Python ports do it (explicit n x n MMD matrix M and centring matrix H, K M K^T and K H K^T products,
scipy.linalg.eigh on the generalised problem, sklearn 1-NN), run side by side with libtl's
bench/repro_feature on the same data and protocol by `sh bench/run.sh feature`.

  ref_feature.py surf tca|jda [--kernel primal|linear] [--eig all|subset|both] [--repeat R]
                 [--c-json FILE]
      Office+Caltech-10 SURF, 12 tasks, rowsum + z-score per domain then L2 per sample, dim 100,
      lambda 1, 10 JDA rounds; primal form (X M X^T, d x d) or the linear-kernel form the ports
      run with kernel_type='linear' (K = X^T X, n x n; the form of the JDA paper's table).
      Prints one JSON line per task; with --c-json (the output of `repro_feature speed tca` or
      `speed jda`, run beforehand in its own process) a Markdown table: accuracy and seconds of
      each side, the speed ratio, peak memory. The timed span is the same on both sides: fit +
      transform + 1-NN, data already loaded and preprocessed; peak memory is each process's peak
      RSS after loading (the high-water mark is reset once the data is in, on both sides).
  ref_feature.py gamma NS NT
      Prints the RBF bandwidth both sides use for `fmnist`: 1 / median squared distance over all
      pairs of the first 1000 rows of each domain.
  ref_feature.py fmnist NS NT --gamma G [--eig all|subset|both] [--c-json FILE]
      Kernel TCA with an RBF kernel, exact n x n (this script) on Fashion-MNIST: the first NS train
      images as source (pixels / 255), the first NT test images with lowered contrast and raised
      brightness as target (0.5 x / 255 + 0.4); with --c-json (lines of `repro_feature fmnist NS
      NT nystrom|exact tca M G`) a Markdown table against libtl's Nystrom and exact forms.
  ref_feature.py scale FILE [--time FILE] [--baseline FILE]
      Markdown for libtl's large run (a `repro_feature fmnist` JSON line in FILE; --time: the
      "%e %M" output of /usr/bin/time around it, an outside check of wall time and peak RSS;
      --baseline: the `repro_feature fmnist-baseline` line, the no-transfer 1-NN).

Generalised problem: the `dim` smallest eigenpairs of (K M K^T + lambda I) a = phi (K H K^T) a are
the `dim` largest of (K H K^T) a = (1/phi) (K M K^T + lambda I) a, whose right-hand matrix is SPD,
so scipy.linalg.eigh(KHK, KMK + lambda I) applies (K H K^T is singular when n < d). By default all
eigenpairs are computed, as the ports do; --eig subset asks eigh for the `dim` needed ones only (a
stronger reference); bench/run.sh runs both (--eig both) and reports the speed-up against each. Eigenvector columns are scaled to unit norm and
embeddings L2-normalised, the JDA authors' protocol.
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
EIGS = ('all',)  # 'all': every eigenpair, as the ports; 'subset': only the `dim` needed
REPEAT = 1


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


def solve(K, M, H, lam, dim, subset):
    """(K M K^T + lam I) a = phi (K H K^T) a, dim smallest phi; K (m, n) columns = samples."""
    m = K.shape[0]
    a = np.linalg.multi_dot([K, M, K.T]) + lam * np.eye(m)
    b = np.linalg.multi_dot([K, H, K.T])
    if subset:
        w, V = sl.eigh(b, a, subset_by_index=[m - dim, m - 1])
    else:
        w, V = sl.eigh(b, a)
        V = V[:, -dim:]
    V = V[:, ::-1]
    return V / np.linalg.norm(V, axis=0)


def tca_jda(Xs, ys, Xt, kind, dim=100, lam=1.0, T=10, kernel=None, gamma=None, subset=False):
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
        A = solve(K, M, H, lam, dim, subset)
        Z = A.T @ K
        Z = Z / np.linalg.norm(Z, axis=0)
        clf = KNeighborsClassifier(n_neighbors=1).fit(Z[:, :ns].T, ys)
        yp = clf.predict(Z[:, ns:].T)
    return yp


def reset_peak():
    """Reset the peak-RSS high-water mark to the current RSS (Linux >= 4.0; getrusage follows it),
    as repro_feature does after loading, so both sides report the peak of the run itself."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_json_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith('{')]


def eig_label(v):
    return {'all': 'all eigenpairs, as the ports', 'subset': 'needed eigenpairs only'}[v]


def mode_surf(kind, c_json, kernel):
    doms = {d: load_surf(d) for d in AB}
    reset_peak()
    rows = []  # per task: {variant: (acc, seconds)}
    for s, t in TASKS:
        (Xs, ys), (Xt, yt) = doms[s], doms[t]
        row = {}
        for v in EIGS:
            sec = float('inf')
            for _ in range(max(REPEAT, 1)):  # best of REPEAT runs: the machine is shared
                t0 = time.perf_counter()
                yp = tca_jda(Xs, ys, Xt, kind, kernel=kernel, subset=(v == 'subset'))
                sec = min(sec, time.perf_counter() - t0)
            acc = 100 * float(np.mean(yp == yt))
            row[v] = (acc, sec)
            print(json.dumps({'impl': 'numpy', 'method': kind, 'kernel': kernel or 'primal',
                              'eigenpairs': v, 'task': '%s->%s' % (AB[s], AB[t]), 'acc': acc,
                              'seconds': sec}), file=sys.stderr, flush=True)
        rows.append(row)
    ref_peak = peak_mb()
    if not c_json:
        return
    cl = read_json_lines(c_json)
    crows = [c for c in cl if not c.get('summary')]
    csum = [c for c in cl if c.get('summary')][0]
    name = {'tca': 'TCA', 'jda': 'JDA'}[kind] + (' (linear kernel)' if kernel == 'linear' else
                                                 ' (primal)')
    print('\n%s, whole 12-task SURF run (seconds per task: the best of %d run%s on each side)\n' % (
        name, REPEAT, 's' if REPEAT > 1 else ''))
    v0 = EIGS[-1]
    print('| task | numpy/scipy acc | libtl acc |' + ''.join(' numpy/scipy s (%s) |' % eig_label(v)
                                                           for v in EIGS) +
          ' libtl s |' + ''.join(' speed-up vs %s |' % eig_label(v) for v in EIGS))
    print('|---|---:|---:|' + '---:|' * (2 * len(EIGS) + 1))
    same = agree = 0
    for r, c, (s, t) in zip(rows, crows, TASKS):
        same += abs(r[v0][0] - c['acc']) <= 0.5
        agree += len({round(r[v][0], 6) for v in EIGS}) == 1
        print('| %s→%s | %.2f | %.2f |' % (AB[s], AB[t], r[v0][0], c['acc']) +
              ''.join(' %.3f |' % r[v][1] for v in EIGS) + ' %.3f |' % c['seconds'] +
              ''.join(' %.1fx |' % (r[v][1] / c['seconds']) for v in EIGS))
    sc = sum(c['seconds'] for c in crows)
    sa = {v: sum(r[v][1] for r in rows) for v in EIGS}
    ma, mc = np.mean([r[v0][0] for r in rows]), np.mean([c['acc'] for c in crows])
    print('| **all 12** | %.2f | %.2f |' % (ma, mc) + ''.join(' %.2f |' % sa[v] for v in EIGS) +
          ' %.2f |' % sc + ''.join(' **%.1fx** |' % (sa[v] / sc) for v in EIGS))
    print('\nPeak RSS after loading: numpy/scipy %.0f MB, libtl %.0f MB. Accuracy within 0.5 point '
          'on %d/12 tasks, averages %.2f apart%s.' % (
              ref_peak, csum['peak_mb'], same, abs(ma - mc),
              '; the two reference variants give the same accuracy on %d/12 tasks' % agree
              if len(EIGS) > 1 else ''))


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


def mode_gamma(ns, nt):
    Xs, _, Xt, _ = load_fmnist(ns, nt)
    print(repr(median_gamma(np.vstack((Xs[:1000], Xt[:1000])))))


def mode_fmnist(ns, nt, gamma, c_json):
    Xs, ys, Xt, yt = load_fmnist(ns, nt)
    reset_peak()
    refs = []
    for v in EIGS:
        t0 = time.perf_counter()
        yp = tca_jda(Xs, ys, Xt, 'tca', kernel='rbf', gamma=gamma, subset=(v == 'subset'))
        sec = time.perf_counter() - t0
        r = {'impl': 'numpy', 'data': 'fmnist', 'ns': ns, 'nt': nt, 'form': 'exact',
             'method': 'tca', 'eigenpairs': v, 'acc': 100 * float(np.mean(yp == yt)),
             'seconds': sec, 'peak_mb': peak_mb(), 'gamma': gamma}
        print(json.dumps(r), file=sys.stderr, flush=True)
        refs.append(r)
    if not c_json:
        return
    res = read_json_lines(c_json)
    base = [c['baseline_acc'] for c in res if c.get('baseline_acc', -1) >= 0]
    print('\nTCA, RBF kernel (the same gamma on both sides), Fashion-MNIST %d source + %d shifted '
          'target = %d samples, d=100, λ=1%s\n' % (
              ns, nt, ns + nt, '; no-transfer 1-NN on the pixels: %.2f %%' % base[0] if base else ''))
    print('| implementation | accuracy % | seconds | peak MB |' +
          ''.join(' speed-up vs numpy/scipy exact (%s) |' % eig_label(r['eigenpairs'])
                  for r in refs) + ' accuracy vs numpy/scipy exact |')
    print('|---|---:|---:|---:|' + '---:|' * (len(refs) + 1))
    for r in refs:
        print('| numpy/scipy exact (%s) | %.2f | %.2f | %.0f |' % (
            eig_label(r['eigenpairs']), r['acc'], r['seconds'], r['peak_mb']) +
            ''.join(' %.1fx |' % (q['seconds'] / r['seconds']) for q in refs) + ' |')
    for c in res:
        print('| libtl %s%s | %.2f | %.2f | %.0f |' % (
            c['form'], ' m=%d' % c['landmarks'] if c['form'] in ('nystrom', 'rff') else '',
            c['acc'], c['seconds'], c['peak_mb']) +
            ''.join(' %.1fx |' % (q['seconds'] / c['seconds']) for q in refs) +
            ' %+.2f |' % (c['acc'] - refs[-1]['acc']))
    print('\nSeconds: fit + transform + 1-NN, data loaded. Peak MB: peak RSS of each process after '
          'loading (high-water mark reset once the data is in), inputs resident; the reference '
          'runs its variants one after the other in one process, so its peak is that of the larger.')


def mode_scale(path, time_path, base_path):
    c = read_json_lines(path)[-1]
    base = ''
    if base_path and os.path.exists(base_path):
        b = read_json_lines(base_path)
        if b:
            base = ('; no-transfer 1-NN on the same pixels: %.2f %% (its own process, %.0f s)' %
                    (b[-1]['baseline_acc'], b[-1]['seconds']))
    ext = ''
    if time_path and os.path.exists(time_path):
        w = open(time_path).read().split()
        if len(w) >= 2:
            ext = ' /usr/bin/time around the process: %s s wall, %.0f MB peak RSS.' % (
                w[-2], float(w[-1]) / 1024)
    form = {'nystrom': 'Nyström m=%d' % c['landmarks'], 'rff': 'random features D=%d' % c['landmarks'],
            'exact': 'exact kernel', 'primal': 'primal'}[c['form']]
    print('\n%s, RBF kernel %s, d=100, defaults: Fashion-MNIST %d source images against %d '
          'shifted target images (%d samples)%s\n' % (c['method'].upper(), form, c['ns'], c['nt'],
                                                       c['ns'] + c['nt'], base))
    print('| accuracy % | fit s | fit + transform + 1-NN s | loading s | whole process s | '
          'peak MB after loading | peak MB of the process |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    print('| %.2f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |' % (
        c['acc'], c['fit_seconds'], c['seconds'], c['load_seconds'], c['wall_seconds'],
        c['peak_mb'], c['process_peak_mb']))
    verdict = 'under' if c['wall_seconds'] < 120 else '**over**'
    print('\nThe whole process took %.0f s: %s the 2-minute target (fit + transform + 1-NN alone: '
          '%.0f s); peak RSS %.2f GB (target 4 GB).%s' % (
              c['wall_seconds'], verdict, c['seconds'], c['process_peak_mb'] / 1024, ext))


def main():
    global EIGS, DATA, REPEAT
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['surf', 'fmnist', 'gamma', 'scale'])
    ap.add_argument('args', nargs='*')
    ap.add_argument('--c-json')
    ap.add_argument('--subset', action='store_true', help='= --eig subset')
    ap.add_argument('--eig', choices=['all', 'subset', 'both'], default='all',
                    help='eigenpairs the reference asks eigh for: all (as the ports), only the '
                         'needed ones, or both variants side by side')
    ap.add_argument('--repeat', type=int, default=1, help='surf: best of R runs per task')
    ap.add_argument('--gamma', type=float)
    ap.add_argument('--time')
    ap.add_argument('--baseline')
    ap.add_argument('--kernel', choices=['primal', 'linear'], default='primal',
                    help='surf: primal form (default) or the linear-kernel form (K = X^T X)')
    ap.add_argument('--data', default=DATA)
    a = ap.parse_args()
    EIGS = {'all': ('all',), 'subset': ('subset',), 'both': ('all', 'subset')}[
        'subset' if a.subset else a.eig]
    REPEAT = a.repeat
    DATA = a.data
    if a.mode == 'surf':
        mode_surf(a.args[0] if a.args else 'tca', a.c_json,
                  None if a.kernel == 'primal' else 'linear')
    elif a.mode == 'gamma':
        mode_gamma(int(a.args[0]), int(a.args[1]))
    elif a.mode == 'scale':
        mode_scale(a.args[0], a.time, a.baseline)
    else:
        ns, nt = int(a.args[0]), int(a.args[1])
        mode_fmnist(ns, nt, a.gamma if a.gamma else mode_gamma_value(ns, nt), a.c_json)


def mode_gamma_value(ns, nt):
    Xs, _, Xt, _ = load_fmnist(ns, nt)
    return median_gamma(np.vstack((Xs[:1000], Xt[:1000])))


if __name__ == '__main__':
    sys.exit(main())
