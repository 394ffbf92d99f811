#!/usr/bin/python3
"""guard_report.py: turns the JSON lines of `sh bench/run.sh guard` into the Markdown of
bench/out/guard.md (pasted verbatim into bench/RESULTS.md).

    guard_report.py --seconds WALL --command CMD --load LOAD --data DATA_DIR FILE.jsonl

Each line is {"group", "task", "out": <the JSON of one `tl ... --json` run, or null>}. Nothing here is
typed by hand: accuracies, guard verdicts and evidence come from the runs; the chance levels from
the target labels in DATA_DIR; the published rows from DATA_DIR/../benchmarks/published.md.

How a verdict is judged ("truly harmful", decided with the target labels the guard never saw):
  - feature transfer (tl adapt): the accuracy on the scored target rows is below the no-transfer
    baseline, or below the target-only learner when labelled target rows were given (transfer that
    loses to the labels alone is negative transfer, Wang et al. CVPR 2019), or below twice the
    chance level (the share of the target's largest class: ~10 % for the 10 SURF classes);
  - instance weighting (tl weight): the weighted learner scores below the same learner unweighted.

The guard's thresholds were set on the SURF and Amazon runs, so their hit rates are in-sample; the
groups named heldout-* (bench/run.sh guard_heldout: digits, DeCAF, Fashion-MNIST) are judged by the
same rule in a section of their own, "How often the guard is right on held-out data", whose
sentences are generated from the runs like every other figure.
"""
import argparse
import contextlib
import datetime
import io
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import commit, machine  # noqa: E402

LETTER = {"amazon": "A", "caltech": "C", "webcam": "W", "dslr": "D"}
DOM = {v: k for k, v in LETTER.items()}


def pct(v, nd=2):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.{nd}f}"


def num(v, fmt="{:.3f}"):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def chance_levels(data):
    out = {}
    try:
        import numpy as np
        import scipy.io
        for d, L in LETTER.items():
            y = scipy.io.loadmat(f"{data}/office_caltech10_surf/{d}_SURF_L10.mat")["labels"].ravel()
            out[L] = float(np.bincount(y).max()) / len(y)
    except (OSError, ValueError, KeyError):
        pass
    # held-out targets: MNIST (X_src of MNIST_vs_USPS.mat), USPS (X_tar), DeCAF D and W
    try:
        import numpy as np
        import scipy.io
        m = scipy.io.loadmat(f"{data}/digits_mnist_usps/MNIST_vs_USPS.mat")
        for key, L in (("Y_src", "M"), ("Y_tar", "U")):
            y = m[key].ravel()
            out[L] = float(np.bincount(y).max()) / len(y)
    except (OSError, ValueError, KeyError):
        pass
    try:
        import numpy as np
        import scipy.io
        for d in ("dslr", "webcam"):
            y = scipy.io.loadmat(f"{data}/office_caltech10_decaf/{d}_decaf.mat")["labels"].ravel()
            out[f"DeCAF-{LETTER[d]}"] = float(np.bincount(y).max()) / len(y)
    except (OSError, ValueError, KeyError):
        pass
    return out


def published(data):
    """KMM row (SURF, 12 tasks in the published order) and Amazon NN/SVM rows."""
    path = f"{data}/../benchmarks/published.md"
    kmm, amazon = {}, {}
    try:
        text = open(path).read()
    except OSError:
        return kmm, amazon
    order = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 14 and cells[0] == "dim" and order is None:
            order = cells[2:14]
        if order and len(cells) > 14 and cells[1] == "KMM":
            for task, v in zip(order, cells[2:14]):
                kmm[task] = float(v)
        m = re.match(r"(\w+) → (\w+)$", cells[0]) if cells else None
        if m and len(cells) == 4 and re.match(r"[0-9.]+$", cells[2]):
            amazon[f"{m.group(1)}→{m.group(2)}"] = (float(cells[2]), float(cells[3]))
    return kmm, amazon


def target_of(task):
    return task.split("→")[1]


def spearman(a, b):
    n = len(a)
    if n < 2:
        return float("nan")
    d2 = sum((x - y) ** 2 for x, y in zip(a, b))
    return 1 - 6 * d2 / (n * (n * n - 1))


def kendall(a, b):
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += (1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1 if (a[i] - a[j]) * (b[i] - b[j]) < 0 else 0)
    return s / (n * (n - 1) / 2) if n > 1 else float("nan")


def ranks(vals, descending):
    order = sorted(range(len(vals)), key=lambda i: (-vals[i] if descending else vals[i], i))
    r = [0] * len(vals)
    for k, i in enumerate(order):
        r[i] = k + 1
    return r


class Confusion:
    def __init__(self):
        self.rows = []  # (label, tp, fp, fn, tn)

    def add(self, label, items):
        tp = sum(1 for f, h in items if f and h)
        fp = sum(1 for f, h in items if f and not h)
        fn = sum(1 for f, h in items if not f and h)
        tn = sum(1 for f, h in items if not f and not h)
        if items:
            self.rows.append((label, tp, fp, fn, tn))

    def totals(self):
        """(right, runs) over every row."""
        T = [sum(r[i] for r in self.rows) for i in range(1, 5)]
        return T[0] + T[3], sum(T)

    def table(self, title):
        print(f"| {title} | tasks | flagged, harmful | flagged, not harmful | not flagged, harmful "
              "| not flagged, not harmful | guard right |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        T = [0, 0, 0, 0]
        for label, *c in self.rows:
            n = sum(c)
            T = [x + y for x, y in zip(T, c)]
            print(f"| {label} | {n} | {c[0]} | {c[1]} | {c[2]} | {c[3]} | {c[0] + c[3]}/{n} "
                  f"({100 * (c[0] + c[3]) / n:.0f} %) |")
        n = sum(T)
        if n:
            print(f"| **all** | {n} | {T[0]} | {T[1]} | {T[2]} | {T[3]} | **{T[0] + T[3]}/{n} "
                  f"({100 * (T[0] + T[3]) / n:.0f} %)** |")
        print()


def harmful_adapt(task, o, chance):
    """The suite's rule for a `tl adapt` run: below the no-transfer baseline, below the target-only
    learner (labelled runs), or below twice the chance level of the target."""
    ch = chance.get(target_of(task), float("nan"))
    to = o.get("target_only_accuracy")
    best = max(o["baseline_accuracy"], to if to is not None else -1)
    return o["accuracy"] < best or o["accuracy"] < 2 * ch


def slack(task, o, chance):
    """Points by which a `tl adapt` run clears the nearest reference of the harm rule (negative:
    harmful by that much)."""
    refs = [o["baseline_accuracy"], 2 * chance.get(target_of(task), float("nan"))]
    if o.get("target_only_accuracy") is not None:
        refs.append(o["target_only_accuracy"])
    return 100 * min(o["accuracy"] - r for r in refs if not math.isnan(r))


def feature_rows(runs, groups, chance):
    """Prints one table row per `tl adapt` run of `groups`; returns (Confusion, evidence)."""
    conf = Confusion()
    evidence = {}
    for g in groups:
        items = []
        for task, o in runs.get(g, []):
            gd = o["guard"]
            ch = chance.get(target_of(task), float("nan"))
            to = o.get("target_only_accuracy")
            harmful = harmful_adapt(task, o, chance)
            flagged = o["negative_transfer"]
            items.append((flagged, harmful))
            lab = gd.get("labelled")
            labtxt = "–"
            if lab:
                labtxt = (f"{pct(lab['accuracy'], 1)} % (p {lab['p_above_chance']:.2g}) vs "
                          f"{pct(lab['target_only_cv_accuracy'], 1)} %: "
                          f"{'**harmful**' if lab['harmful'] else 'ok'}")
            ev = evidence.setdefault(g, {"r": [], "rv_after": [], "H": [], "agree": [], "gain": []})
            ev["r"].append(gd["correspondence"])
            ev["rv_after"].append(gd["reverse_validation_after"])
            ev["H"].append(gd["prediction_entropy"])
            ev["agree"].append(gd["agreement"])
            verdict = gd["verdict"] if gd["verdict"] != "harmful" else "**harmful**"
            print(f"| {g} | {task} | {pct(o['accuracy'])} | {pct(o['baseline_accuracy'])} | "
                  f"{pct(to)} | {pct(2 * ch, 1)} | {'yes' if harmful else 'no'} | "
                  f"{num(gd['correspondence'])} ({num(gd['correspondence_p'], '{:.2g}')}) | "
                  f"{pct(gd['reverse_validation_before'], 1)} → "
                  f"{pct(gd['reverse_validation_after'], 1)} | {num(gd['prediction_entropy'], '{:.2f}')} | "
                  f"{num(gd['agreement'], '{:.2f}')} | {verdict} | {labtxt} | "
                  f"{'**yes**' if flagged else 'no'} | {'yes' if flagged == harmful else '**NO**'} |")
        conf.add(g, items)
    return conf, evidence


def rng(v, f="{:.3f}"):
    v = [x for x in v if x is not None and not math.isnan(x)]
    return f"{f.format(min(v))} – {f.format(max(v))}" if v else "–"


def signal_ranges(evidence, groups):
    print("| group | feature correspondence r | RV after % | H (prediction entropy) | agree |")
    print("|---|---|---|---|---|")
    for g in groups:
        if g not in evidence:
            continue
        e = evidence[g]
        print(f"| {g} | {rng(e['r'])} | {rng([100 * x for x in e['rv_after']], '{:.1f}')} | "
              f"{rng(e['H'], '{:.2f}')} | {rng(e['agree'], '{:.2f}')} |")
    print()


def weight_confusion(runs, prefixes):
    """[(group, [(flagged, any loss)], [(flagged, loss > 1 point)])] for the `tl weight` groups
    whose name starts with one of `prefixes`. A run without the guard (--no-guard) takes the
    verdict of the logreg (or, for SURF, 1-NN) run of the same weights."""
    guard_by = {}
    for g, lst in runs.items():
        if g.startswith(prefixes) and g.endswith("logreg") or g == "surf-kmm-1nn":
            for task, o in lst:
                if "negative_transfer" in o:
                    guard_by[(g.rsplit("-", 1)[0], task)] = o["negative_transfer"]
    wconf = []
    for g in sorted(runs):
        if not g.startswith(prefixes):
            continue
        items, items1 = [], []
        for task, o in runs[g]:
            f = o.get("negative_transfer", guard_by.get((g.rsplit("-", 1)[0], task)))
            if f is None:
                continue
            items.append((f, o["accuracy"] < o["baseline_accuracy"]))
            items1.append((f, o["accuracy"] < o["baseline_accuracy"] - 0.01))
        wconf.append((g, items, items1))
    return wconf


def weight_tables(wconf):
    for k, title in ((1, "weights + learner (any loss)"), (2, "weights + learner (loss > 1 point)")):
        wc = Confusion()
        for e in wconf:
            wc.add(e[0], e[k])
        wc.table(title)


def ess_table(runs, prefixes):
    print("| weights + learner | ESS share | accuracy change (points) | guard verdicts |")
    print("|---|---|---|---|")
    for g in sorted(runs):
        if not g.startswith(prefixes):
            continue
        ess = [o["effective_sample_size"] / o["n_source"] for _, o in runs[g]]
        d = [100 * (o["accuracy"] - o["baseline_accuracy"]) for _, o in runs[g]]
        vs = {}
        for _, o in runs[g]:
            if "guard" in o:
                vs[o["guard"]["verdict"]] = vs.get(o["guard"]["verdict"], 0) + 1
        vtxt = ", ".join(f"{k} {v}" for k, v in sorted(vs.items())) or "(from the logreg runs)"
        print(f"| {g} | {min(ess):.3f} – {max(ess):.3f} | {min(d):+.2f} – {max(d):+.2f} | {vtxt} |")
    print()


HELDOUT = ["heldout-normal", "heldout-unrelated", "heldout-unrelated-pixels", "heldout-permuted",
           "heldout-normal-labelled", "heldout-unrelated-labelled", "heldout-unrelated-pixels-labelled",
           "heldout-permuted-labelled"]
HELDOUT_W = ("heldout-digits-", "heldout-decaf-")


def ratio(right, n):
    return f"{right}/{n} ({100 * right / n:.0f} %)" if n else "–"


def heldout(runs, chance, conf_in, wconf_in):
    """The held-out section: the same guard, thresholds and judging rule on data the thresholds
    were not set on. Summary tables and sentences first, then the per-task evidence."""
    groups = [g for g in HELDOUT if g in runs]
    wconf = weight_confusion(runs, HELDOUT_W)
    if not groups and not wconf:
        return
    print("#### How often the guard is right on held-out data\n")
    print("The guard's two thresholds (feature correspondence r < 0.1: unrelated source; effective "
          "sample size < 0.5 of the source: concentrated weights) were set from the gaps seen on "
          "Office+Caltech SURF and the Amazon reviews, the data of the tables above, so those hit "
          "rates are in-sample. Here the same guard, with its defaults unchanged, runs on data its "
          "thresholds were not set on, judged by the same rule. JDA here is the primal form "
          "(d = 100, λ = 1, 10 iterations, 1-NN). Groups: **heldout-normal** = MNIST→USPS and "
          "USPS→MNIST (the JDA paper's split, rows L2-normalised) and DeCAF6 D→W, W→D "
          "(rowsum,zscore,l2; only D and W exist as DeCAF); **heldout-unrelated** = another "
          "feature type cut to 256 columns as the source for a digits target: DeCAF D/W and SURF "
          "A/C/W/D (`--columns 0-255`), and Fashion-MNIST's first 256 pixels (2000 test images, "
          "classes 0–9 relabelled 1–10); **heldout-unrelated-pixels** = the central 16×16 crop of "
          "the same Fashion-MNIST images against the 16×16 digits (the same kind of feature on "
          "the same grid, classes that mean other things); **heldout-permuted** = MNIST, USPS, "
          "DeCAF D or W with the derangement c → c mod 10 + 1 (marked *) as the source for the "
          "other domain, and with labels also for itself; **-labelled** = `--labelled-per-class "
          "3`. Instance weighting: `tl weight` with each of the four methods on MNIST↔USPS "
          "(l2; logreg and svm) and DeCAF D↔W (rowsum,zscore; logreg); every run's guard "
          "reverse-validates with that run's own learner.\n")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        conf, evidence = feature_rows(runs, groups, chance)

    # ---- the sentences, from the numbers ----
    fr, fn = conf.totals()
    ir, inn = conf_in.totals()
    text = []
    if fn:
        text.append(f"On held-out data the guard is right on **{ratio(fr, fn)}** of the feature-transfer "
                    f"runs (in-sample above: {ratio(ir, inn)})")
    if wconf:
        wc = Confusion()
        for e in wconf:
            wc.add(e[0], e[1])
        wr, wn = wc.totals()
        wci = Confusion()
        for e in wconf_in:
            wci.add(e[0], e[1])
        wir, win = wci.totals()
        text.append(f"{'and' if text else 'The guard is right'} on **{ratio(wr, wn)}** of the "
                    f"instance-weighting runs, any loss counted as harm (in-sample: {ratio(wir, win)})")
    print("; ".join(text) + ".", end=" ")
    req = [(g, want) for g, want in (("heldout-normal", False), ("heldout-unrelated", True),
                                     ("heldout-unrelated-pixels", True), ("heldout-permuted-labelled", True))
           if g in runs]
    if req:
        got = sum(1 for g, want in req for _, o in runs[g] if o["negative_transfer"] == want)
        tot = sum(len(runs[g]) for g, _ in req)
        print(f"The cases it is built for (normal pairs not flagged and unrelated sources flagged "
              f"without labels, permuted classes flagged with 3 labelled rows per class): "
              f"{got}/{tot}.")
    print()
    misses = []
    for g in groups:
        missed = [(t, slack(t, o, chance)) for t, o in runs[g]
                  if not o["negative_transfer"] and harmful_adapt(t, o, chance)]
        false = [(t, slack(t, o, chance), o) for t, o in runs[g]
                 if o["negative_transfer"] and not harmful_adapt(t, o, chance)]
        part = []
        if missed:
            part.append(f"{len(missed)} harmful not flagged (" + (
                ", ".join(f"{t} {d:+.2f}" for t, d in missed) if len(missed) <= 4 else
                f"{min(d for _, d in missed):+.2f} – {max(d for _, d in missed):+.2f}") + " points)")
        if false:
            part.append(f"{len(false)} flagged though not harmful (" + (
                ", ".join(f"{t} {d:+.2f}" for t, d, _ in false) if len(false) <= 4 else
                f"{min(d for _, d, _ in false):+.2f} – {max(d for _, d, _ in false):+.2f}") + " points)")
            labs = [o["guard"].get("labelled") for _, _, o in false]
            if all(lab and lab["p_above_chance"] > 0.05 for lab in labs):
                part[-1] += (f"; in each of these the source-trained model is not above chance on the "
                             f"labelled rows ({rng([100 * lab['accuracy'] for lab in labs], '{:.1f}')} %), "
                             f"so the guard rightly finds the source useless, while JDA with the 30 "
                             f"labelled rows and the unlabelled target still matches the target-only "
                             f"learner, which the outcome rule does not count as harm")
        if part:
            misses.append(f"{g}: " + "; ".join(part))
    if misses:
        print("Wrong verdicts (accuracy minus the nearest of no transfer, target only, 2×chance): "
              + "; ".join(misses) + ".", end=" ")
    # the correspondence cut against the held-out r
    rs = {g: [o["guard"]["correspondence"] for _, o in runs.get(g, [])] for g in
          ("heldout-normal", "heldout-unrelated", "heldout-unrelated-pixels")}
    if rs["heldout-normal"] and rs["heldout-unrelated"]:
        lo, hi = min(rs["heldout-normal"]), max(rs["heldout-unrelated"])
        sep = hi < 0.1 <= lo
        print(f"The correspondence cut 0.1 {'separates' if sep else 'does not separate'} the normal "
              f"held-out pairs (r ≥ {lo:.3f}) from the sources cut from another feature type "
              f"(r ≤ {hi:.3f}" + (f", {0.1 - hi:.3f} below the cut" if sep else "") + ")", end="")
        px = rs["heldout-unrelated-pixels"]
        if px:
            over = max(px) >= 0.1
            pxl = [o["negative_transfer"] for _, o in runs.get("heldout-unrelated-pixels-labelled", [])]
            print(f"; the Fashion-MNIST crop, on the digits' own pixel grid, has r = {min(px):.3f} – "
                  f"{max(px):.3f}" + ((f", inside the normal pairs' range {lo:.3f} – "
                                        f"{max(rs['heldout-normal']):.3f}" if max(px) >= lo else
                                        f", {lo - max(px):.3f} below the normal pairs' lowest ({lo:.3f})")
                                       if over else "")
                  + f", so without labels the guard flags {sum(o['negative_transfer'] for _, o in runs['heldout-unrelated-pixels'])}"
                  f"/{len(px)} of these truly harmful runs"
                  + (f", and with 3 labelled rows per class {sum(pxl)}/{len(pxl)}" if pxl else "")
                  + (": feature correspondence says whether columns mean the same thing, not whether "
                     "classes do." if over else "."), end="")
        else:
            print(".", end="")
    print("\n")

    if groups:
        print("Feature transfer:\n")
        conf.table("group")
    if wconf:
        print("Instance weighting (harmful = the weighted learner below the same learner unweighted):\n")
        weight_tables(wconf)
        lr = [o for g in runs if g.startswith(HELDOUT_W) and g.endswith("logreg") for _, o in runs[g]]
        if lr:
            lo_ = [o for o in lr if o["effective_sample_size"] / o["n_source"] < 0.5]
            hi_ = [o for o in lr if o["effective_sample_size"] / o["n_source"] >= 0.5]

            def loss(v, m=0.0):
                return sum(1 for o in v if o["accuracy"] < o["baseline_accuracy"] - m)
            print(f"With logreg, {len(lo_)} held-out weightings keep less than half the source "
                  f"(ESS share {rng([o['effective_sample_size'] / o['n_source'] for o in lo_])}); "
                  f"{loss(lo_)} of them lose to the unweighted learner ({loss(lo_, 0.01)} by more "
                  f"than 1 point). {len(hi_)} keep at least half "
                  f"({rng([o['effective_sample_size'] / o['n_source'] for o in hi_])}); {loss(hi_)} "
                  f"of them lose ({loss(hi_, 0.01)} by more than 1 point).\n")
        ess_table(runs, HELDOUT_W)
    if groups:
        print("Per task (columns as in the first table):\n")
        print("| group | task | acc % | no transfer % | target only % | 2×chance % | truly harmful | r (p) "
              "| RV % | H | agree | label-free verdict | labelled check | flagged | right |")
        print("|---|---|---:|---:|---:|---:|---|---|---|---:|---:|---|---|---|---|")
        print(buf.getvalue())
        print("Range (min – max) of each label-free signal per held-out group:\n")
        signal_ranges(evidence, groups)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--command", default="sh bench/run.sh guard")
    ap.add_argument("--load", default="")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("jsonl")
    a = ap.parse_args()
    runs, skipped, failed = {}, [], []
    for line in open(a.jsonl):
        e = json.loads(line)
        if "skipped" in e:
            skipped.append(e["skipped"])
            continue
        if e["out"] is None:
            failed.append(f"{e['group']} {e['task']}")
            continue
        runs.setdefault(e["group"], []).append((e["task"], e["out"]))
    chance = chance_levels(a.data)
    kmm_pub, amazon_pub = published(a.data)

    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"Produced by `{a.command}` on {now} (libtl commit {commit()}), {a.seconds:.0f} s wall "
          "time in all.\n")
    end = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"Machine: {machine()}. Load average (1/5/15 min) {a.load or '?'} at the start, {end} at "
          "the end.\n")

    # ---- 1. the guard on feature transfer ----
    print("#### The negative-transfer guard on JDA (linear kernel, rowsum,zscore,l2, 1-NN)\n")
    print("Groups: **normal** = the 12 Office+Caltech SURF tasks; **decaf800** = DeCAF features "
          "of W or D cut to their first 800 columns (`--columns 0-799`) as the source against each "
          "SURF target (an unrelated source with the same feature count); **permuted** = a SURF "
          "domain with its classes relabelled by the derangement c → c mod 10 + 1 (marked *), as "
          "the source for another domain or for itself; **-labelled** = with "
          "`--labelled-per-class 3` (30 labelled target rows drawn with the seed, added to the "
          "training set, and not scored). \"Truly harmful\" (judged with the target labels): "
          "accuracy below the no-transfer baseline, below the target-only learner (labelled runs), "
          "or below twice the chance level (the largest class's share of the target). Label-free "
          "evidence: r = feature correspondence (Mantel r of the two feature-correlation matrices, "
          "permutation p in brackets), RV = reverse validation before → after, H = entropy of the "
          "predicted target labels / entropy of the source labels, agree = share of target rows "
          "labelled alike before and after. Labelled check: the source-trained model's accuracy on "
          "the labelled rows, the binomial p-value against chance, and a target-only 1-NN "
          "cross-validated on those rows.\n")
    print("| group | task | acc % | no transfer % | target only % | 2×chance % | truly harmful | r (p) "
          "| RV % | H | agree | label-free verdict | labelled check | flagged | right |")
    print("|---|---|---:|---:|---:|---:|---|---|---|---:|---:|---|---|---|---|")
    groups = ["normal", "decaf800", "permuted", "normal-labelled", "permuted-labelled"]
    conf, evidence = feature_rows(runs, groups, chance)
    print()
    if evidence:
        print("Range (min – max) of each label-free signal per group; a signal separates the "
              "unrelated DeCAF-800 source from the normal tasks only where the ranges do not "
              "overlap:\n")
        signal_ranges(evidence, groups)

    # ---- 2. the guard on instance weighting ----
    wconf = weight_confusion(runs, ("surf-kmm", "amazon-"))

    print("#### How often the guard is right\n")
    req = [(g, want) for g, want in (("normal", False), ("decaf800", True), ("permuted-labelled", True))
           if g in runs]
    if req:
        got = sum(1 for g, want in req for _, o in runs[g] if o["negative_transfer"] == want)
        tot = sum(len(runs[g]) for g, _ in req)
        print(f"The cases the guard is built for — the normal SURF tasks not flagged without labels, "
              f"DeCAF-800 flagged without labels, permuted classes flagged with 3 labelled rows per "
              f"class: **{got}/{tot}** right. The other rows show its limits: permuted classes "
              f"without any target label (no label-free signal can see them; the features match "
              f"exactly), and, with 30 labelled rows, losses to a target-only learner that 30 rows "
              f"cannot resolve.\n")
    print("Feature transfer (above):\n")
    conf.table("group")
    if wconf:
        print("Instance weighting (`tl weight`; every run's guard reverse-validates with that "
              "run's own learner). Harmful = the weighted learner scores below the same learner "
              "unweighted; first by any margin (many losses are a few hundredths of a point, "
              "within the noise of a few thousand test rows), then by more than 1 point:\n")
        weight_tables(wconf)
        print("The evidence behind the guard's weight-concentration rule: the effective sample size "
              "(Kish) of each weighting as a share of the source rows, and the change in accuracy "
              "it brings (min – max over the tasks):\n")
        ess_table(runs, ("surf-kmm", "amazon-"))

    heldout(runs, chance, conf, wconf)

    # ---- 3. rank-sources vs the accuracy reached ----
    if "rank" in runs:
        acc1 = {t: o["accuracy"] for t, o in runs.get("baseline-1nn", [])}
        accj = {t: o["accuracy"] for t, o in runs.get("normal", [])}
        corr = {t: o["guard"]["correspondence"] for t, o in runs.get("normal", [])}
        print("#### What to transfer: `tl rank-sources` against the accuracy each source reaches\n")
        print("For each SURF target, `tl rank-sources --preprocess rowsum` ranks the other three "
              "domains by RBF MMD (smaller = closer; its default criterion) and reports the proxy "
              "A-distance; beside them the guard's feature correspondence r (from the JDA run), "
              "and the accuracy actually reached from each source: plain 1-NN (rowsum,zscore, the "
              "published protocol) and JDA (as above). ρ = Spearman, τ = Kendall rank correlation "
              "between a criterion's ranking and the ranking by accuracy (1 = same order).\n")
        print("| target | source | MMD² (rank) | A-distance (rank) | r (rank) | 1-NN % (rank) | "
              "JDA % (rank) |")
        print("|---|---|---|---|---|---|---|")
        stats = {}
        for t, o in runs["rank"]:
            tgt = t.lstrip("→")
            rows = []
            for e in o["ranking"]:
                s = LETTER.get(os.path.basename(e["source"]).split("_")[0], "?")
                task = f"{s}→{tgt}"
                rows.append((s, e["mmd_rbf"], e.get("a_distance", float("nan")), corr.get(task, float("nan")),
                             acc1.get(task, float("nan")), accj.get(task, float("nan"))))
            rows.sort()
            crit = {"MMD": ranks([r[1] for r in rows], False), "A-distance": ranks([r[2] for r in rows], False),
                    "r": ranks([r[3] for r in rows], True)}
            act = {"1-NN": ranks([r[4] for r in rows], True), "JDA": ranks([r[5] for r in rows], True)}
            for i, r in enumerate(rows):
                print(f"| →{tgt} | {r[0]} | {r[1]:.4f} ({crit['MMD'][i]}) | {r[2]:.3f} ({crit['A-distance'][i]}) "
                      f"| {r[3]:.3f} ({crit['r'][i]}) | {pct(r[4])} ({act['1-NN'][i]}) | "
                      f"{pct(r[5])} ({act['JDA'][i]}) |")
            for c in crit:
                for k in act:
                    stats.setdefault((c, k), []).append((tgt, spearman(crit[c], act[k]),
                                                         kendall(crit[c], act[k])))
        print()
        tg = [t for t, _, _ in next(iter(stats.values()))]
        print("| criterion vs accuracy | " + " | ".join(f"→{t} ρ / τ" for t in tg) + " | mean ρ | mean τ |")
        print("|---|" + "---|" * (len(tg) + 2))
        for (c, k), v in stats.items():
            print(f"| {c} vs {k} | " + " | ".join(f"{s:+.2f} / {tau:+.2f}" for _, s, tau in v) +
                  f" | {sum(s for _, s, _ in v) / len(v):+.2f} | {sum(t for _, _, t in v) / len(v):+.2f} |")
        print()

    # ---- 4. instance weighting per task ----
    k1 = {t: o for t, o in runs.get("surf-kmm-1nn", [])}
    kl = {t: o for t, o in runs.get("surf-kmm-logreg", [])}
    if k1 or kl:
        print("#### Instance weighting on Office+Caltech SURF: KMM (rowsum,zscore; RBF, median "
              "heuristic, B = 1000)\n")
        print("↓ = the weighted learner loses to the same learner unweighted. The published KMM "
              "row is from the JDA paper's table (1-NN protocol).\n")
        order = [t for t, _ in runs.get("surf-kmm-1nn", runs.get("surf-kmm-logreg", []))]
        print("| task | 1-NN % | 1-NN + KMM % | logreg % | logreg + KMM % | published KMM % | "
              "KMM weight zeros | guard |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        sums = [0, 0, 0, 0, 0]
        losses = {"1-NN": [], "logreg": []}
        for t in order:
            a, b = k1.get(t), kl.get(t)
            pub = kmm_pub.get(t)
            cells = []
            for name, o in (("1-NN", a), ("logreg", b)):
                if o:
                    lose = o["accuracy"] < o["baseline_accuracy"]
                    if lose:
                        losses[name].append(t)
                    cells += [pct(o["baseline_accuracy"]), pct(o["accuracy"]) + (" ↓" if lose else "")]
                else:
                    cells += ["–", "–"]
            g = (a or b).get("guard", {})
            v = g.get("verdict", "–")
            print(f"| {t} | {' | '.join(cells)} | {num(pub, '{:.2f}')} | "
                  f"{(a or b)['weight_zeros']} | {v} |")
            for i, o in enumerate((a, a, b, b)):
                if o:
                    sums[i] += o["baseline_accuracy"] if i % 2 == 0 else o["accuracy"]
            sums[4] += (pub or 0) / 100
        n = len(order)
        print(f"| **average** | {pct(sums[0] / n)} | {pct(sums[1] / n)} | {pct(sums[2] / n)} | "
              f"{pct(sums[3] / n)} | {pct(sums[4] / n)} | | |")
        print()
        for name, l in losses.items():
            print(f"KMM loses with {name} on {len(l)} of {n} tasks" + (f": {', '.join(l)}." if l else "."))
        print()

    am = {}
    for g, lst in runs.items():
        if g.startswith("amazon-"):
            m, learner = g[len("amazon-"):].rsplit("-", 1)
            for t, o in lst:
                am.setdefault(t, {})[(m, learner)] = o
    if am:
        methods = ["kmm", "kliep", "ulsif", "domain-clf"]
        print("#### Instance weighting on the Amazon reviews (5000-d counts, no preprocessing; "
              "trained on the source `_train` file, weights against the target `_train` rows, "
              "scored on the target `_test` file)\n")
        print("none = the learner unweighted; ↓ = weighting loses to none. Published NN (a one-"
              "hidden-layer network) and SVM rows from the DANN paper (JMLR 2016). guard = the "
              "methods the guard flagged (logreg runs).\n")
        hdr = " | ".join(["none"] + methods)
        print(f"| task | logreg: {hdr} | svm: {hdr} | published NN | published SVM | guard flags |")
        print("|---|" + "---:|" * (2 * (len(methods) + 1)) + "---:|---:|---|")
        loss = {(m, l): [] for m in methods for l in ("logreg", "svm")}
        avg = {}
        for t in sorted(am, key=lambda x: list(amazon_pub).index(x) if x in amazon_pub else 99):
            cells = []
            flags = []
            for l in ("logreg", "svm"):
                base = next((o["baseline_accuracy"] for (m, ll), o in am[t].items() if ll == l), None)
                cells.append(pct(base))
                avg.setdefault((l, "none"), []).append(base)
                for m in methods:
                    o = am[t].get((m, l))
                    if not o:
                        cells.append("–")
                        continue
                    lose = o["accuracy"] < o["baseline_accuracy"]
                    if lose:
                        loss[(m, l)].append(t)
                    avg.setdefault((l, m), []).append(o["accuracy"])
                    cells.append(pct(o["accuracy"]) + (" ↓" if lose else ""))
                    if l == "logreg" and o.get("negative_transfer"):
                        flags.append(m)
            pub = amazon_pub.get(t, (None, None))
            print(f"| {t} | {' | '.join(cells)} | {num(pub[0], '{:.1f}')} | {num(pub[1], '{:.1f}')} | "
                  f"{', '.join(flags) or '–'} |")
        cells = []
        for l in ("logreg", "svm"):
            for m in ["none"] + methods:
                v = [x for x in avg.get((l, m), []) if x is not None]
                cells.append(f"**{pct(sum(v) / len(v))}**" if v else "–")
        pv = [p for p in amazon_pub.values()]
        print(f"| **average** | {' | '.join(cells)} | "
              f"{num(sum(p[0] for p in pv) / len(pv) if pv else None, '{:.1f}')} | "
              f"{num(sum(p[1] for p in pv) / len(pv) if pv else None, '{:.1f}')} | |")
        print()
        n = len(am)
        print("Where weighting loses to the unweighted learner: " + "; ".join(
            f"{m} + {l} on {len(v)} of {n} pairs" for (m, l), v in loss.items()) + ".")
        print()
    for s in skipped:
        print(f"Skipped: {s}.\n")
    for f in failed:
        print(f"**Run failed**: {f}.\n")


if __name__ == "__main__":
    main()
