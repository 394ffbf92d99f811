"""numpy/scikit-learn version of libtl's gradual self-training (src/pipeline/gradual.c), written
for the benchmark: the same steps (logistic regression with sklearn's C on the source; at each
intermediate domain, then the target, label the rows, keep the `keep` most confident, refit),
the same path choice for a pool (RBF MMD from the unbiased MMD^2, one median-heuristic bandwidth
from the source and target samples, Dijkstra on MMD^4). Prints one JSON line: accuracies, path, seconds.
Usage: ref_gradual.py C KEEP ROWS SOURCE TARGET TEST (--via|--pool) D1 D2 ..."""
import heapq, json, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression


def load(p):
    X = np.load(p).astype(np.float64)
    return X.reshape(len(X), -1), np.load(p[:-4] + ".labels.npy")


def fit(X, y, C):
    return LogisticRegression(C=C, max_iter=500, tol=1e-6).fit(X, y)


def step(m, X, keep, C):
    P = m.predict_proba(X)
    y = m.classes_[P.argmax(1)]
    k = np.sort(np.argsort(-P.max(1), kind="stable")[: int(np.ceil(keep * len(X)))])
    return fit(X[k], y[k], C)


def sample(X, rows, seed):
    if len(X) <= rows:
        return X
    return X[np.sort(np.random.default_rng(seed).permutation(len(X))[:rows])]


def sqd(A, B):
    return np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T, 0)


def mmd(A, B, g):  # the square root of the unbiased MMD^2, clipped at 0
    Kaa, Kbb = np.exp(-g * sqd(A, A)), np.exp(-g * sqd(B, B))
    m, k = len(A), len(B)
    return np.sqrt(max((Kaa.sum() - np.trace(Kaa)) / (m * (m - 1)) + (Kbb.sum() - np.trace(Kbb))
                       / (k * (k - 1)) - 2 * np.exp(-g * sqd(A, B)).mean(), 0))


def choose(nodes, rows):
    M = [sample(X, rows, i) for i, X in enumerate(nodes)]
    ST = np.vstack([M[0], M[-1]])
    d2 = sqd(ST, ST)[np.triu_indices(len(ST), 1)]
    g = 1.0 / np.median(d2)
    n = len(M)
    D = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            D[i, j] = D[j, i] = mmd(M[i], M[j], g)
    cost, prev, done, h = [np.inf] * n, [None] * n, [False] * n, [(0.0, 0)]
    cost[0] = 0
    while h:
        c, u = heapq.heappop(h)
        if done[u]:
            continue
        done[u] = True
        if u == n - 1:
            break
        for v in range(n):
            if not done[v] and c + D[u, v] ** 4 < cost[v]:
                cost[v], prev[v] = c + D[u, v] ** 4, u
                heapq.heappush(h, (cost[v], v))
    path, v = [], prev[n - 1]
    while v not in (0, None):
        path.append(v)
        v = prev[v]
    return [p - 1 for p in reversed(path)]


def main():
    C, keep, rows = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    (Xs, ys), (Xt, _), (Xe, ye) = (load(p) for p in sys.argv[4:7])
    mode, names = sys.argv[7], sys.argv[8:]
    inter = [load(p)[0] for p in names]
    t0 = time.time()
    order = choose([Xs] + inter + [Xt], rows) if mode == "--pool" else list(range(len(inter)))
    tp = time.time() - t0
    m0 = fit(Xs, ys, C)
    so = (m0.predict(Xe) == ye).mean()
    direct = (step(m0, Xt, keep, C).predict(Xe) == ye).mean()
    m = m0
    for i in order:
        m = step(m, inter[i], keep, C)
    m = step(m, Xt, keep, C)
    print(json.dumps({"source_only": so, "direct": direct, "gradual": (m.predict(Xe) == ye).mean(),
                      "path": [names[i] for i in order], "seconds_path": tp,
                      "seconds": time.time() - t0}))


if __name__ == "__main__":
    main()
