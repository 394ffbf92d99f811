#!/usr/bin/env python3
"""Markdown table of bench/relational.sh's results: per transfer pair, AUC-ROC / AUC-PR / CLL
(mean +- sd over folds x repetitions) of transfer with revision, mapping + parameter learning and
learning from scratch, beside the published figures (TreeBoostler, Machine Learning 2020, as the
issue and ../shared/data/relational/README.md quote them); the mapping of the first fold; then,
when BoostSRL ran, its per-fold learning time beside `tl rel-learn`'s and both learners' test
AUC (BoostSRL's probabilities scored with the same Davis & Goadrich code as tests/golden/make_rel.py).

usage: bench/relational_report.py OUTDIR REPS"""
import json
import os
import platform
import re
import subprocess
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from make_rel import auc_pr_dg  # noqa: E402

PUBLISHED = {  # AUC-ROC transfer / mapping / scratch, AUC-PR transfer / mapping / scratch
    ("imdb", "uwcse"): ((0.950, 0.936, 0.941), (0.370, 0.336, 0.310)),
    ("uwcse", "imdb"): ((1.000, 0.984, 1.000), (1.000, 0.939, 0.986)),
    ("imdb", "cora"): ((0.532, 0.527, 0.533), (0.401, 0.390, 0.400)),
    ("cora", "imdb"): ((0.999, 0.913, 1.000), (0.978, 0.403, 0.990)),
}
NAMES = {"imdb": "IMDB", "uwcse": "UW-CSE", "cora": "Cora"}


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, platform.platform())


def boostsrl_scores(d):
    p, y = [], []
    with open(os.path.join(d, "test", "results_" + open_target(d) + ".db")) as f:
        for line in f:
            atom, prob = line.rsplit(" ", 1)
            if atom.startswith("!"):
                p.append(1 - float(prob))
                y.append(0)
            else:
                p.append(float(prob))
                y.append(1)
    p, y = np.array(p), np.array(y)
    return roc_auc_score(y, p), auc_pr_dg(p, y)


def open_target(d):
    for fn in os.listdir(os.path.join(d, "test")):
        if fn.startswith("results_") and fn.endswith(".db"):
            return fn[len("results_"):-3]
    raise FileNotFoundError("no BoostSRL results in " + d)


def main():
    out, reps = sys.argv[1], sys.argv[2]
    cf = os.path.join(out, "commit.txt")
    if os.path.exists(cf):
        commit = " ".join(open(cf).read().split())
    else:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() + " (at report time)"
    print("### Relation-based transfer (`sh bench/relational.sh %s`, commit %s)\n" % (reps, commit))
    load = ""
    try:
        end = " ".join(open("/proc/loadavg").read().split()[:3])
        sf = os.path.join(out, "load_start.txt")
        start = open(sf).read().strip() if os.path.exists(sf) else "not recorded"
        load = " Load average (1, 5, 15 min) at the start: %s; at the end: %s (a shared machine:" \
               " both sides' times are inflated alike within the run)." % (start, end)
    except OSError:
        pass
    print("Machine: %s.%s\n" % (machine(), load))
    print("Protocol: source learned on all its folds; on the target, trained on one fold and tested")
    print("on the 4 others, every fold in turn, %s repetitions (seeds 42..%d: the negative" % (reps, 41 + int(reps)))
    print("samples differ); mean +- sd over the %d runs. Published: TreeBoostler (Azevedo Santos et al., 2020).\n" % (5 * int(reps)))
    print("| source → target | method | AUC-ROC | published | AUC-PR | published | CLL | s / fold |")
    print("|---|---|---|---|---|---|---|---|")
    maps = []
    for (s, t), pub in PUBLISHED.items():
        fn = os.path.join(out, "transfer_%s_%s.json" % (s, t))
        if not os.path.exists(fn):
            continue
        r = json.load(open(fn))
        for i, meth in enumerate(("transfer", "mapping", "scratch")):
            m = r["summary"][meth]
            label = {"transfer": "transfer (revision)", "mapping": "mapping + parameters",
                     "scratch": "scratch"}[meth]
            print("| %s → %s | %s | %.3f ± %.3f | %.3f | %.3f ± %.3f | %.3f | %.3f ± %.3f | %.3f |" % (
                NAMES[s], NAMES[t], label, m["auc_roc"], m["auc_roc_sd"], pub[0][i], m["auc_pr"],
                m["auc_pr_sd"], pub[1][i], m["cll"], m["cll_sd"], m["seconds"]))
        pairs = ", ".join("%s→%s" % (p["source"], p["target"] or "(dropped)") for p in r["mapping"]["pairs"])
        maps.append("- %s → %s: %s (score %.4f); guard: %s (AUC-PR %+.3f)" % (
            NAMES[s], NAMES[t], pairs, r["mapping"]["score"], r["guard"]["verdict"],
            r["guard"]["delta_auc_pr"]))
    print("\nMappings found (fold 1, seed 42; score: minus the weighted variance the translated trees leave):\n")
    print("\n".join(maps))
    sp = os.path.join(out, "speed.jsonl")
    if os.path.exists(sp):
        rows = [json.loads(re.sub(r": \.", ": 0.", l)) for l in open(sp)]
        print("\nLearning from scratch on one target fold, BoostSRL (Java, `RunBoostedModels -l`, JVM start")
        print("included) against `tl rel-learn` (process start and file reading included), same fold, same")
        print("settings; test AUC on the 4 other folds (one BoostSRL run: its negative sample is seeded from the clock):\n")
        print("| domain | fold | BoostSRL s | tl s | ratio | BoostSRL AUC-ROC | tl AUC-ROC | BoostSRL AUC-PR | tl AUC-PR |")
        print("|---|---|---|---|---|---|---|---|---|")
        tot_b, tot_t = {}, {}
        for r in rows:
            try:
                broc, bpr = boostsrl_scores(r["dir"])
            except (OSError, FileNotFoundError, ValueError):
                broc, bpr = float("nan"), float("nan")
            ti = json.load(open(os.path.join(r["dir"], "tl_infer.json")))["scores"]
            print("| %s | %d | %.2f | %.3f | %.0f× | %.3f | %.3f | %.3f | %.3f |" % (
                NAMES[r["domain"]], r["fold"], r["boostsrl_learn_s"], r["tl_learn_s"],
                r["boostsrl_learn_s"] / max(r["tl_learn_s"], 1e-9), broc, ti["auc_roc"], bpr, ti["auc_pr"]))
            tot_b[r["domain"]] = tot_b.get(r["domain"], 0) + r["boostsrl_learn_s"]
            tot_t[r["domain"]] = tot_t.get(r["domain"], 0) + r["tl_learn_s"]
        print("\nTotal over the 5 folds: " + "; ".join(
            "%s %.1f s vs %.2f s (%.0f×)" % (NAMES[d], tot_b[d], tot_t[d], tot_b[d] / max(tot_t[d], 1e-9)) for d in tot_b))


if __name__ == "__main__":
    main()
