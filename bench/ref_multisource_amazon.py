#!/usr/bin/python3
"""A numpy/scikit-learn version of the Amazon multi-source 'pool' combination, written for the
benchmark and run beside `tl weight --combine pool` by bench/multisource_amazon.sh (issue 13 asks
every setting's table to record its time beside a numpy/scipy version of the same method).

    ref_multisource_amazon.py DATA TARGET [SEED]

The same method as libtl's pool: the three other domains' _train files stacked as one source;
KLIEP (Sugiyama et al. 2008; the authors' KLIEP.m projected gradient ascent, the numpy port in
bench/ref_instance.py) with an RBF kernel whose gamma is 1 / the median squared distance of a
random sample of the pooled rows (source and target _train), 100 kernel centres drawn from the
target _train rows, at most 1000 steps per step size; the weights rescaled to mean 1; then
scikit-learn's LinearSVC (squared hinge, one-vs-rest, C = 0.01, as libtl's svm) trained on the
stacked sources with those sample weights and scored on the target's _test file.
The random draws (median sample, centres) differ from libtl's, so accuracies agree closely, not
exactly. Prints one JSON line: accuracy, seconds (the method and the learner, the files' reading
excluded, as libtl's report times), seconds_weights, seconds_learner.
"""
import json
import sys
import time

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.svm import LinearSVC

from ref_instance import kliep_learning

DOMAINS = ("books", "dvd", "electronics", "kitchen")


def load(path):
    X, y = load_svmlight_file(path, n_features=5000)
    return X.toarray(), y.astype(int)


def main():
    data, target = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    parts = [load(f"{data}/{s}_train.svmlight") for s in DOMAINS if s != target]
    Xs = np.vstack([p[0] for p in parts])
    ys = np.concatenate([p[1] for p in parts])
    Xt, _ = load(f"{data}/{target}_train.svmlight")
    Xe, ye = load(f"{data}/{target}_test.svmlight")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    P = np.vstack([Xs, Xt])
    S = P[rng.choice(len(P), min(1000, len(P)), replace=False)]
    D = euclidean_distances(S, squared=True)[np.triu_indices(len(S), 1)]
    med = np.median(D)
    if med <= 0:
        med = np.median(D[D > 0])
    gamma = 1.0 / med
    C = Xt[rng.choice(len(Xt), min(100, len(Xt)), replace=False)]
    Ps, Pt = rbf_kernel(Xs, C, gamma=gamma), rbf_kernel(Xt, C, gamma=gamma)
    w = Ps @ kliep_learning(Ps.mean(0), Pt, 1000)
    w = w / w.mean()
    t1 = time.perf_counter()
    clf = LinearSVC(C=0.01, max_iter=10000).fit(Xs, ys, sample_weight=w)
    acc = float((clf.predict(Xe) == ye).mean())
    t2 = time.perf_counter()
    print(json.dumps({"target": target, "accuracy": acc, "gamma": gamma, "seconds": t2 - t0,
                      "seconds_weights": t1 - t0, "seconds_learner": t2 - t1}))


if __name__ == "__main__":
    main()
