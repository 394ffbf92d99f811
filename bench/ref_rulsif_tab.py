#!/usr/bin/python3
"""ref_rulsif_tab.py: the reference half of bench/rulsif_tab.sh (RuLSIF and TrAdaBoost on the 12
Office+Caltech SURF tasks), written from the papers in numpy and scikit-learn, and the report.

  ref_rulsif_tab.py prep DATA OUT SEED     per domain: rows divided by their sum, columns z-scored
                                           with the population sd (the shared SURF protocol),
                                           OUT/<dom>.npy (+ .labels.npy); and a split of each
                                           domain into 3 labelled rows per class (numpy
                                           default_rng([SEED, 2])) and the rest: <dom>_lab,
                                           <dom>_unl, scaled with the whole domain's statistics
  ref_rulsif_tab.py rulsif SRC TGT LIBTL R RuLSIF (Yamada et al. 2011, alpha 0.1, lambda 1e-3) with
                                           libtl's 100 centres (LIBTL.idx) and gamma (from libtl's
                                           JSON line on stdin), best of R timed fits; weights
                                           compared with LIBTL.w; sklearn LogisticRegression
                                           (multinomial, C = 1) with and without them
  ref_rulsif_tab.py tradaboost SRC LAB UNL ROUNDS C LIBTL
                                           TrAdaBoost (Dai et al. 2007, Algorithm 1; the rounds
                                           ceil(N/2)..N vote with ln(1/beta_t)) with sklearn's
                                           LogisticRegression as the weighted base learner, one
                                           timed fit; predictions compared with LIBTL.pred
  ref_rulsif_tab.py augment SRC LAB UNL    feature augmentation (Daume III 2007: source rows
                                           [x, x, 0], target rows [x, 0, x]) with sklearn's
                                           LogisticRegression (C = 1), and beside it the same
                                           learner on the source, the labelled target rows and
                                           both pooled; libtl's JSON line (tl adapt) on stdin,
                                           its accuracies copied into the output
  ref_rulsif_tab.py report JSONL CMD       the Markdown tables for bench/RESULTS.md

RuLSIF and TrAdaBoost are tests/golden/make_rulsif_tab.py's, the code the golden fixture of
tests/test_instance_ref.c was made with. The logistic regressions on both sides stop at a
gradient tolerance of 1e-6 within 500 L-BFGS steps (libtl's defaults; sklearn's tol=1e-6,
max_iter=500)."""
import json
import os
import sys
import time
import warnings

import numpy as np
import scipy.io

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from make_rulsif_tab import rulsif, tradaboost_fit, vote_shares  # noqa: E402 (the fixture's code)

DOMS = ("amazon", "caltech", "webcam", "dslr")


def save(path, X, y):
    np.save(path + ".npy", np.ascontiguousarray(X, dtype=np.float64))
    np.save(path + ".labels.npy", y.astype(np.int32))


def load(path):
    return np.load(path), np.load(path[:-4] + ".labels.npy")


def prep(data, out, seed):
    for dom in DOMS:
        m = scipy.io.loadmat(f"{data}/office_caltech10_surf/{dom}_SURF_L10.mat")
        X, y = m["fts"].astype(np.float64), m["labels"].ravel().astype(int)
        X = X / X.sum(1, keepdims=True)
        sd = X.std(0)
        X = np.where(sd > 0, (X - X.mean(0)) / np.where(sd > 0, sd, 1), 0)
        save(f"{out}/{dom}", X, y)
        rng = np.random.default_rng([seed, 2])
        pick = np.zeros(len(y), bool)
        for c in np.unique(y):
            pick[rng.permutation(np.flatnonzero(y == c))[:3]] = True
        save(f"{out}/{dom}_lab", X[pick], y[pick])
        save(f"{out}/{dom}_unl", X[~pick], y[~pick])


def logreg(C=1.0):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs", tol=1e-6,
                              max_iter=500)


def run_rulsif(src, tgt, libtl, repeats):
    lib = json.loads(sys.stdin.readline())
    (Xs, ys), (Xt, yt) = load(src), load(tgt)
    C = Xt[np.loadtxt(libtl + ".idx", dtype=np.intp)]
    best = np.inf
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        w = rulsif(Xs, Xt, 0.1, lib["gamma"], 1e-3, C=C)[0]
        if i > 0:
            best = min(best, time.perf_counter() - t0)
    wl = np.loadtxt(libtl + ".w")
    acc = [(logreg().fit(Xs, ys, sample_weight=sw).predict(Xt) == yt).mean() for sw in (None, w)]
    return {"side": "numpy", "op": "rulsif", "seconds": best, "runs": repeats,
            "corr": float(np.corrcoef(w, wl)[0, 1]), "maxdiff": float(np.abs(w - wl).max()),
            "acc_unweighted": acc[0], "acc_weighted": acc[1]}


def predict(classes, voters, X):
    """the largest vote share, ties to the larger label (as libtl)"""
    S = vote_shares(classes, voters, X)
    return classes[len(classes) - 1 - np.argmax(S[:, ::-1], 1)]


def run_tradaboost(src, lab, unl, rounds, C, libtl):
    (Xs, ys), (Xl, yl), (Xu, yu) = load(src), load(lab), load(unl)
    t0 = time.perf_counter()
    classes, voters, _ = tradaboost_fit(Xs, ys, Xl, yl, rounds, lambda: logreg(C))
    dt = time.perf_counter() - t0
    pred = predict(classes, voters, Xu)
    pl = np.loadtxt(libtl + ".pred", dtype=int)
    return {"side": "sklearn", "op": "tradaboost", "seconds": dt,
            "accuracy": float((pred == yu).mean()), "agree": float((pred == pl).mean())}


def run_augment(src, lab, unl):
    lib = json.loads(sys.stdin.read())
    (Xs, ys), (Xl, yl), (Xu, yu) = load(src), load(lab), load(unl)
    Z = np.zeros_like
    fits = {"source_only": (Xs, ys, Xu), "target_only": (Xl, yl, Xu),
            "pooled": (np.vstack([Xs, Xl]), np.r_[ys, yl], Xu),
            "accuracy": (np.vstack([np.hstack([Xs, Xs, Z(Xs)]), np.hstack([Xl, Z(Xl), Xl])]),
                         np.r_[ys, yl], np.hstack([Xu, Z(Xu), Xu]))}
    r = {"side": "sklearn", "op": "augment"}
    for k, (X, y, Q) in fits.items():
        r[k] = float((logreg().fit(X, y).predict(Q) == yu).mean())
    out = {"side": "libtl", "op": "augment", "accuracy": lib["accuracy"],
           "source_only": lib["baseline_accuracy"], "target_only": lib["target_only_accuracy"],
           "pooled": lib["pooled_accuracy"]}
    return out, r


def report(path, cmd):
    rows = [json.loads(line) for line in open(path)]
    by = {}
    for r in rows:
        by.setdefault((r["op"], r["task"]), {})[r["side"]] = r
    out = []
    for op in ("rulsif", "tradaboost", "augment"):
        tasks = [t for (o, t) in by if o == op]
        if not tasks:
            continue
        if op == "augment":
            out += augment_table(by, tasks)
            continue
        if op == "rulsif":
            head = ["task", "logreg, libtl / sklearn %", "+ RuLSIF, libtl %",
                    "+ RuLSIF, numpy/sklearn %", "weight corr", "max abs diff", "gamma",
                    "libtl s, defaults (median heuristic included)", "libtl s, same gamma",
                    "numpy s, same gamma", "speed-up, same gamma"]
        else:
            head = ["task", "source-only logreg %", "pooled logreg %", "TrAdaBoost, libtl %",
                    "TrAdaBoost, sklearn %",
                    "same predictions", "libtl s", "sklearn s", "speed-up"]
        out += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        acc, ratios = [], []
        for t in tasks:
            d = by[(op, t)]
            lib, ref = d["libtl"], d["numpy" if op == "rulsif" else "sklearn"]
            ratio = ref["seconds"] / lib["seconds"]
            ratios.append(ratio)
            if op == "rulsif":
                a = (lib["acc_unweighted"], lib["acc_weighted"], ref["acc_weighted"],
                     ref["acc_unweighted"])
                out.append(f"| {t} | {100 * a[0]:.2f} / {100 * a[3]:.2f} | {100 * a[1]:.2f} | "
                           f"{100 * a[2]:.2f} | {ref['corr']:.6f} | {ref['maxdiff']:.1e} | "
                           f"{lib['gamma']:.3g} | {lib['seconds_default']:.3f} | "
                           f"{lib['seconds']:.4f} | {ref['seconds']:.4f} | {ratio:.2f}x |")
            else:
                a = (lib["source_only"], lib["accuracy"], ref["accuracy"], lib.get("pooled", np.nan))
                out.append(f"| {t} | {100 * a[0]:.2f} | {100 * a[3]:.2f} | {100 * a[1]:.2f} | "
                           f"{100 * a[2]:.2f} | "
                           f"{100 * ref['agree']:.2f} % | {lib['seconds']:.2f} | "
                           f"{ref['seconds']:.2f} | {ratio:.2f}x |")
            acc.append(a)
        m = np.mean(acc, 0) * 100
        if op == "rulsif":
            cells = ["**average**", f"{m[0]:.2f} / {m[3]:.2f}", f"{m[1]:.2f}", f"{m[2]:.2f}"]
        else:
            cells = ["**average**", f"{m[0]:.2f}", f"{m[3]:.2f}", f"{m[1]:.2f}", f"{m[2]:.2f}"]
        cells += [""] * (len(head) - len(cells) - 1)
        g = np.exp(np.mean(np.log(ratios)))
        out.append("| " + " | ".join(cells) + f" | {g:.2f}x (geometric mean) |")
        out.append("")
    out.append(f"Produced by `{cmd}`.")
    print("\n".join(out))


def augment_table(by, tasks):
    keys = ("source_only", "target_only", "pooled", "accuracy")
    out = ["| task | source only, libtl / sklearn % | target only (30 rows) % | pooled % |"
           " augment, libtl % | augment, sklearn % |", "|---|---:|---:|---:|---:|---:|"]
    acc = []
    for t in tasks:
        lib, ref = by[("augment", t)]["libtl"], by[("augment", t)]["sklearn"]
        a = [100 * lib[k] for k in keys] + [100 * ref[k] for k in keys]
        acc.append(a)
        out.append(f"| {t} | {a[0]:.2f} / {a[4]:.2f} | {a[1]:.2f} / {a[5]:.2f} | "
                   f"{a[2]:.2f} / {a[6]:.2f} | {a[3]:.2f} | {a[7]:.2f} |")
    m = np.mean(acc, 0)
    out.append(f"| **average** | {m[0]:.2f} / {m[4]:.2f} | {m[1]:.2f} / {m[5]:.2f} | "
               f"{m[2]:.2f} / {m[6]:.2f} | {m[3]:.2f} | {m[7]:.2f} |")
    return out + [""]


def main():
    warnings.simplefilter("ignore")
    op, v = sys.argv[1], sys.argv[2:]
    if op == "prep":
        prep(v[0], v[1], int(v[2]))
        return
    if op == "report":
        report(v[0], v[1])
        return
    if op == "rulsif":
        r = run_rulsif(v[0], v[1], v[2], int(v[3]))
    elif op == "augment":
        for r in run_augment(v[0], v[1], v[2]):
            print(json.dumps(r))
        return
    elif op == "tradaboost":
        r = run_tradaboost(v[0], v[1], v[2], int(v[3]), float(v[4]), v[5])
    else:
        sys.exit("ref_rulsif_tab.py: unknown op " + op)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
