#!/usr/bin/python3
"""Golden fixtures for tests/test_regress.c: scikit-learn's Ridge (with sample_weight, with and
without an intercept, more rows than columns and more columns than rows) and KNeighborsRegressor
(uniform weights) on small fixed data, and sklearn.metrics' RMSE / MAE / R^2 of the ridge
predictions.

Run from the repository root:  /usr/bin/python3 tests/golden/make_regress.py
Writes tests/golden/learn_regress.txt in the golden_fixture.h format ("name rows cols" then the
numbers)."""
import os

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.neighbors import KNeighborsRegressor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learn_regress.txt")
rng = np.random.default_rng(20261207)
lines = ["# made by tests/golden/make_regress.py (scikit-learn Ridge, KNeighborsRegressor, metrics)"]


def put(name, a):
    a = np.atleast_2d(np.asarray(a, dtype=float))
    lines.append(f"{name} {a.shape[0]} {a.shape[1]}")
    for row in a:
        lines.append(" ".join(repr(float(v)) for v in row))


# case A: n > d, intercept, alpha 0.7; case B: n < d, intercept, alpha 2; case C: no intercept
for tag, n, d, alpha, fi in (("a", 40, 6, 0.7, True), ("b", 12, 30, 2.0, True), ("c", 25, 5, 1.0, False)):
    X = rng.normal(size=(n, d)) + 0.3
    beta = rng.normal(size=d)
    t = X @ beta + 1.5 + 0.1 * rng.normal(size=n)
    w = rng.uniform(0.2, 2.0, size=n)
    Q = rng.normal(size=(10, d))
    r = Ridge(alpha=alpha, fit_intercept=fi).fit(X, t, sample_weight=w)
    put(f"X_{tag}", X)
    put(f"t_{tag}", t[None, :])
    put(f"w_{tag}", w[None, :])
    put(f"Q_{tag}", Q)
    put(f"p_{tag}", r.predict(Q)[None, :])
    put(f"m_{tag}", [[alpha, 1.0 if fi else 0.0]])

# k-NN regression, k = 3, unit weights, ties unlikely with continuous data
X = rng.normal(size=(30, 4))
t = rng.normal(size=30) * 3 + 1
Q = rng.normal(size=(8, 4))
put("X_knn", X)
put("t_knn", t[None, :])
put("Q_knn", Q)
put("p_knn", KNeighborsRegressor(n_neighbors=3).fit(X, t).predict(Q)[None, :])

# metrics of case a's predictions against made-up truths
v = rng.normal(size=15)
y = v + 0.4 * rng.normal(size=15)
put("metric_y", y[None, :])
put("metric_v", v[None, :])
put("metric_ref", [[np.sqrt(mean_squared_error(y, v)), mean_absolute_error(y, v), r2_score(y, v)]])

with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote", OUT)
