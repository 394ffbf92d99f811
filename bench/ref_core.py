#!/usr/bin/python3
"""ref_core.py: the reference half of bench/run.sh's "core" suite.

Runs one operation with numpy / scipy / scikit-learn, with the same arguments, data and
hyper-parameters as bench/bench_core.c, times it in-process and prints the same one-line JSON:

    ref_core.py [-r REPEATS] [-w WARMUPS] [--impl IMPL] [--compare DUMPFILE] OP ARGS...

Ops and their reference implementations (IMPL; the first one is the default):
  noop                              baseline: interpreter with numpy, scipy.io, sklearn imported
  read-mat PATH[:XVAR,YVAR] ...     scipy.io.loadmat, features to C-order float64 (n, d) (files
                                    with one sample per column, recognised by the label count,
                                    transposed), labels int32 -- the form libtl returns
  read-svmlight NFEAT PATH ...      sklearn.datasets.load_svmlight_file(zero_based=True,
                                    n_features=NFEAT), labels int32
  read-idx IMAGES LABELS            gzip.decompress + numpy.frombuffer, pixels to float64
  read-npy X.npy Y.npy              numpy.load
  read-csv PATH                     numpy.loadtxt(delimiter=','), label = last column (int32)
  knn-digits MATFILE                1-NN MNIST (X_src) -> USPS (X_tar), rows L2-normalised:
                                    sklearn  KNeighborsClassifier(n_neighbors=1, algorithm='brute')
                                    numpy    ||q||^2 + ||r||^2 - 2 Q R^T, argmin, in query blocks
  knn-fmnist DIR NTRAIN NTEST       the same on Fashion-MNIST train -> test, pixels / 255
  gamma-fmnist DIR N                scipy: 1 / median(scipy.spatial.distance.pdist(X,
                                    'sqeuclidean')) on the first N test rows / 255
  rbf-fmnist DIR N GAMMA            sklearn: sklearn.metrics.pairwise.rbf_kernel(X, gamma=GAMMA)
                                    numpy:   exp(-GAMMA * max(||x||^2 + ||y||^2 - 2 X X^T, 0))
                                    on the first N test rows / 255; --compare reads libtl's dumped
                                    K (raw float64) and reports the max absolute difference

Timing: WARMUPS untimed runs, then REPEATS timed ones (time.perf_counter, monotonic); "seconds"
is the best. Untimed set-up (imports, loading the inputs of the compute ops) comes first; then
the peak-RSS high-water mark is reset (/proc/self/clear_refs "5") so "peak_mb" (getrusage
ru_maxrss, read right after the last timed run) is the operation's own peak with its inputs
resident. The result of one run is dropped before the next.

"check" is the digest defined in bench_core.c (sum_k w_k (k * 0x9E3779B97F4A7C15 + 1) mod 2^64
over the exact bits), so equal digests mean bit-identical results.
"""
import argparse
import gzip
import importlib
import json
import resource
import sys
import time

import numpy as np

M64 = (1 << 64) - 1
HK = np.uint64(0x9E3779B97F4A7C15)
CHUNK = 1 << 20


# ---- digest (same definition as bench_core.c) ----

def digest_words(w):
    """w: 1-D uint64 array. sum_k w[k] * (k * HK + 1) mod 2^64, in chunks (bounded memory)."""
    h = 0
    for s in range(0, w.size, CHUNK):
        part = w[s:s + CHUNK]
        k = np.arange(s, s + part.size, dtype=np.uint64)
        h = (h + int(np.sum(part * (k * HK + np.uint64(1)), dtype=np.uint64))) & M64
    return h


def doubles_words(x):
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1).view(np.uint64)


def ints_words(v):
    return np.asarray(v).reshape(-1).astype(np.int64).view(np.uint64)


def dataset_digest(X, y):
    n, d = X.shape
    if hasattr(X, "indptr"):  # scipy CSR
        dx = digest_words(doubles_words(X.data))
        di = digest_words(ints_words(X.indices))
        dp = digest_words(ints_words(X.indptr))
        nnz = X.nnz
    else:
        dx, di, dp, nnz = digest_words(doubles_words(X)), 0, 0, n * d
    dy = digest_words(ints_words(y)) if y is not None else 0
    return (dx + 3 * dy + 5 * di + 7 * dp + 11 * n + 13 * d) & M64, nnz


# ---- memory and timing ----

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- readers ----

FEATURE_NAMES = ("fts", "feas", "X", "X_src", "data")
LABEL_NAMES = ("labels", "Y", "y")


def read_mat(specs):
    import scipy.io
    out = []
    for spec in specs:
        path, xv, yv = spec, None, None
        head, sep, tail = spec.rpartition(":")
        if sep and head and "," in tail:
            path, (xv, yv) = head, tail.split(",", 1)
        if xv:
            m = scipy.io.loadmat(path, variable_names=[xv, yv])
        else:
            m = scipy.io.loadmat(path)
            xv = next(v for v in FEATURE_NAMES if v in m)
            yv = next(v for v in LABEL_NAMES if v in m)
        X, y = m[xv], m[yv].ravel()
        if X.shape[0] != y.size and X.shape[1] == y.size:
            X = X.T  # one sample per column (MNIST_vs_USPS.mat)
        out.append((np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int32)))
    return out


def read_svmlight(args):
    from sklearn.datasets import load_svmlight_file
    nfeat = int(args[0])
    out = []
    for path in args[1:]:
        X, y = load_svmlight_file(path, n_features=nfeat, zero_based=True)
        out.append((X, y.astype(np.int32)))
    return out


def idx_array(path):
    with open(path, "rb") as f:
        b = gzip.decompress(f.read())
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    a = np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim)
    return a.reshape(dims[0], -1) if ndim > 1 else a


def read_idx(args):
    X = idx_array(args[0]).astype(np.float64)
    y = idx_array(args[1]).astype(np.int32)
    return [(X, y)]


def read_npy(args):
    return [(np.load(args[0]), np.load(args[1]))]


def read_csv(args):
    a = np.loadtxt(args[0], delimiter=",", dtype=np.float64)
    return [(np.ascontiguousarray(a[:, :-1]), a[:, -1].astype(np.int32))]


# ---- inputs of the compute ops (untimed) ----

def fmnist(dir_, split, n):
    X = idx_array(f"{dir_}/{split}-images-idx3-ubyte.gz")[:n].astype(np.float64) / 255.0
    y = idx_array(f"{dir_}/{split}-labels-idx1-ubyte.gz")[:n].astype(np.int32)
    if X.shape[0] < n:
        sys.exit("ref_core: more rows requested than the file holds")
    return X, y


def l2_rows_like_libtl(X):
    """Row L2 normalisation with tl_rows_l2_normalize's arithmetic (sequential sum of squares,
    multiply by 1 / sqrt), so both sides classify bit-identical inputs."""
    s = X[:, 0] * X[:, 0]
    for j in range(1, X.shape[1]):
        s += X[:, j] * X[:, j]
    inv = np.ones_like(s)
    np.divide(1.0, np.sqrt(s), out=inv, where=s > 0)
    return X * inv[:, None]


def digits(path):
    import scipy.io
    m = scipy.io.loadmat(path)
    Xs = l2_rows_like_libtl(np.ascontiguousarray(m["X_src"].T, dtype=np.float64))
    Xt = l2_rows_like_libtl(np.ascontiguousarray(m["X_tar"].T, dtype=np.float64))
    return Xs, m["Y_src"].ravel().astype(np.int32), Xt, m["Y_tar"].ravel().astype(np.int32)


# ---- compute ops ----

def knn_sklearn(Xs, ys, Xt):
    from sklearn.neighbors import KNeighborsClassifier
    clf = KNeighborsClassifier(n_neighbors=1, algorithm="brute")
    clf.fit(Xs, ys)
    return clf.predict(Xt)


def knn_numpy(Xs, ys, Xt):
    rn = np.einsum("ij,ij->i", Xs, Xs)
    qn = np.einsum("ij,ij->i", Xt, Xt)
    nr = Xs.shape[0]
    block = max(16, (1 << 23) // nr)  # <= 64 MB of distances per block
    pred = np.empty(Xt.shape[0], dtype=ys.dtype)
    for q0 in range(0, Xt.shape[0], block):
        D = Xt[q0:q0 + block] @ Xs.T
        D *= -2.0
        D += rn
        D += qn[q0:q0 + block, None]
        pred[q0:q0 + block] = ys[D.argmin(axis=1)]
    return pred


def gamma_scipy(X):
    from scipy.spatial.distance import pdist
    return 1.0 / np.median(pdist(X, "sqeuclidean"))


def rbf_sklearn(X, gamma):
    from sklearn.metrics.pairwise import rbf_kernel
    return rbf_kernel(X, gamma=gamma)


def rbf_numpy(X, gamma):
    sq = np.einsum("ij,ij->i", X, X)
    K = X @ X.T
    K *= -2.0
    K += sq[:, None]
    K += sq[None, :]
    np.maximum(K, 0.0, out=K)
    K *= -gamma
    np.exp(K, out=K)
    return K


def max_abs_diff(K, dump):
    other = np.memmap(dump, dtype=np.float64, mode="r", shape=K.shape)
    m = 0.0
    step = max(1, (1 << 22) // K.shape[1])
    for r0 in range(0, K.shape[0], step):
        m = max(m, float(np.max(np.abs(K[r0:r0 + step] - other[r0:r0 + step]))))
    return m


IMPLS = {
    "noop": ["none"],
    "read-mat": ["scipy"],
    "read-svmlight": ["sklearn"],
    "read-idx": ["numpy"],
    "read-npy": ["numpy"],
    "read-csv": ["numpy"],
    "knn-digits": ["sklearn", "numpy"],
    "knn-fmnist": ["sklearn", "numpy"],
    "gamma-fmnist": ["scipy"],
    "rbf-fmnist": ["sklearn", "numpy"],
}
READERS = {"read-mat": read_mat, "read-svmlight": read_svmlight, "read-idx": read_idx,
           "read-npy": read_npy, "read-csv": read_csv}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", type=int, default=3, dest="repeats")
    ap.add_argument("-w", type=int, default=1, dest="warmups")
    ap.add_argument("--impl")
    ap.add_argument("--compare")
    ap.add_argument("op", choices=sorted(IMPLS))
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    impl = a.impl or IMPLS[a.op][0]
    if impl not in IMPLS[a.op]:
        ap.error(f"--impl for {a.op}: one of {', '.join(IMPLS[a.op])}")
    out = {}

    # untimed set-up: imports and inputs
    preload = importlib.import_module  # imports are set-up, not part of the timed op
    if a.op == "noop":
        preload("scipy.io")
        preload("sklearn.neighbors")
        run = lambda: None  # noqa: E731
    elif a.op in READERS:
        preload("scipy.io")
        if a.op == "read-svmlight":
            preload("sklearn.datasets")
        reader, args = READERS[a.op], a.args
        run = lambda: reader(args)  # noqa: E731
    elif a.op in ("knn-digits", "knn-fmnist"):
        if a.op == "knn-digits":
            Xs, ys, Xt, yt = digits(a.args[0])
        else:
            Xs, ys = fmnist(a.args[0], "train", int(a.args[1]))
            Xt, yt = fmnist(a.args[0], "t10k", int(a.args[2]))
        out["in_check"] = "%016x" % ((dataset_digest(Xs, ys)[0] + 3 * dataset_digest(Xt, yt)[0])
                                     & M64)
        fn = knn_sklearn if impl == "sklearn" else knn_numpy
        if impl == "sklearn":
            preload("sklearn.neighbors")
        run = lambda: fn(Xs, ys, Xt)  # noqa: E731
    elif a.op == "gamma-fmnist":
        X, _ = fmnist(a.args[0], "t10k", int(a.args[1]))
        preload("scipy.spatial.distance")
        run = lambda: gamma_scipy(X)  # noqa: E731
    else:  # rbf-fmnist
        X, _ = fmnist(a.args[0], "t10k", int(a.args[1]))
        gamma = float(a.args[2])
        fn = rbf_sklearn if impl == "sklearn" else rbf_numpy
        if impl == "sklearn":
            preload("sklearn.metrics.pairwise")
        run = lambda: fn(X, gamma)  # noqa: E731

    setup_mb = peak_mb()
    hwm_reset = reset_peak()
    runs, res = [], None
    for i in range(a.warmups + a.repeats):
        res = None  # drop the previous result before the next run
        t0 = time.perf_counter()
        res = run()
        t = time.perf_counter() - t0
        if i >= a.warmups:
            runs.append(t)
    peak = peak_mb()

    # checks (after the peak was read)
    if a.op in READERS:
        h, rows, nnz = 0, 0, 0
        for i, (X, y) in enumerate(res):
            d, z = dataset_digest(X, y)
            h = (h + (2 * i + 1) * d) & M64
            rows += X.shape[0]
            nnz += z
        out.update(check="%016x" % h, rows=rows, cols=res[0][0].shape[1], nnz=nnz)
    elif a.op.startswith("knn"):
        pred = np.asarray(res)
        ok = int(np.sum(pred == yt))
        out.update(check="%016x" % digest_words(ints_words(pred)), correct=ok, n=int(pred.size),
                   acc=round(100.0 * ok / pred.size, 2))
    elif a.op == "gamma-fmnist":
        out["gamma"] = float(res)
    elif a.op == "rbf-fmnist":
        out.update(gamma=gamma, sum=float(np.sum(res)), min=float(np.min(res)))
        if a.compare:
            out["maxdiff"] = max_abs_diff(res, a.compare)

    line = {"side": "ref", "impl": impl, "op": a.op, "seconds": round(min(runs), 6),
            "runs": [round(t, 6) for t in runs], "warmups": a.warmups,
            "peak_mb": round(peak, 1), "setup_mb": round(setup_mb, 1), "hwm_reset": hwm_reset}
    line.update(out)
    print(json.dumps(line, separators=(",", ":")))


if __name__ == "__main__":
    main()
