#!/usr/bin/python3
"""Golden fixtures for tests/test_validate.c: the label-free validation criteria written from their
papers' formulas in numpy - prediction entropy; soft neighbourhood density (Saito et al., ICCV
2021, as the authors' code: F.normalize of the probabilities, similarities / 0.05, the diagonal
set to -1/0.05, softmax per row, mean entropy); IWCV (Sugiyama et al., JMLR 2007: mean of w * loss);
DEV (You et al., ICML 2019: L = w * loss, eta = -Cov(L, w) / Var(w), mean(L) + eta * mean(w) - eta)
- on small random data, and the share of the most frequent predicted class.

Run from the repository root:  /usr/bin/python3 tests/golden/make_validate.py
Writes tests/golden/validate.txt in the golden_fixture.h format ("name rows cols" then the
numbers)."""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "validate.txt")
rng = np.random.default_rng(20261207)
lines = ["# made by tests/golden/make_validate.py (numpy, the papers' formulas)"]


def put(name, a):
    a = np.atleast_2d(np.asarray(a, dtype=float))
    lines.append(f"{name} {a.shape[0]} {a.shape[1]}")
    for row in a:
        lines.append(" ".join(repr(float(v)) for v in row))


def entropy_rows(p):
    q = p / p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(q > 0, q * np.log(q), 0.0)
    return -t.sum(axis=1)


def snd(p, tau=0.05):
    f = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    s = f @ f.T / tau
    np.fill_diagonal(s, -1.0 / tau)
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    q = e / e.sum(axis=1, keepdims=True)
    return float(entropy_rows(q).mean())


def iwcv(loss, w):
    return float(np.mean(w * loss))


def dev(loss, w):
    L = w * loss
    cov = np.cov(np.stack([L, w]), bias=True)
    eta = -cov[0, 1] / cov[1, 1]
    return float(L.mean() + eta * w.mean() - eta)


# case a: softmax of random logits (30 rows, 4 classes); case b: sharper, with exact zeros (k-NN
# vote shares) and one class dominating
for tag, n, k, scale in (("a", 30, 4, 1.0), ("b", 25, 5, 4.0)):
    logits = rng.normal(size=(n, k)) * scale
    if tag == "b":
        logits[:, 0] += 3.0
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if tag == "b":
        p[p < 0.05] = 0.0
    put(f"P_{tag}", p)
    pred = p.argmax(axis=1)
    put(f"entropy_{tag}", [entropy_rows(p).mean()])
    put(f"snd_{tag}", [snd(p)])
    put(f"snd1_{tag}", [snd(p, 1.0)])
    put(f"top_{tag}", [np.bincount(pred).max() / n])

m = 40
loss = rng.exponential(size=m)
w = rng.gamma(2.0, 0.5, size=m)
put("loss", loss)
put("w", w)
put("iwcv", [iwcv(loss, w)])
put("dev", [dev(loss, w)])

# MixVal (Hu et al., NeurIPS 2023): a linear classifier argmax(Z W) as the candidate, 50 target
# rows of 4 clusters, partners a fixed permutation, lambda 0.55; intra / inter shares averaged
n, d, k = 50, 3, 4
Z = rng.normal(size=(n, d)) + np.repeat(rng.normal(size=(k, d)) * 2.5, [13, 13, 12, 12], axis=0)
Wm = rng.normal(size=(d, k))
partner = rng.permutation(n)
partner[7] = 7  # a row paired with itself is skipped
pred = (Z @ Wm).argmax(axis=1)
keep = partner != np.arange(n)
mix = 0.55 * Z[keep] + 0.45 * Z[partner[keep]]
pm = (mix @ Wm).argmax(axis=1)
same = pred[keep] == pred[partner[keep]]
ok = pm == pred[keep]
put("mix_Z", Z)
put("mix_W", Wm)
put("mix_partner", partner)
put("mixval", [0.5 * (ok[same].mean() + ok[~same].mean())])

with open(OUT, "w") as fh:
    fh.write("\n".join(lines) + "\n")
print("wrote", OUT)
