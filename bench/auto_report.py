#!/usr/bin/env python3
"""bench/auto_report.py DIR BUDGET: the Markdown tables of bench/auto.sh from the JSON files `tl auto
--json` wrote (one per task, named S_T.json). Standard library only.

- auto: the candidate tl auto chose (label-free);
- oracle: the best accuracy among the candidates the same search ran (chosen with target labels);
- none: no transfer (the learner on the source alone);
- best fixed default: the method whose defaults (rung 0) have the best mean over the tasks;
- per criterion: the eligible candidate (not collapsed, not harmful) that the criterion alone
  ranks first, how often it is within 1 point of the oracle, and its mean gap to the oracle."""
import json
import os
import sys

d, budget = sys.argv[1], sys.argv[2]
order = ["C_A", "C_W", "C_D", "A_C", "A_W", "A_D", "W_C", "W_A", "W_D", "D_C", "D_A", "D_W",
         "M_U", "U_M", "B_D", "B_E", "B_K", "D_B", "D_E", "D_K", "E_B", "E_D", "E_K", "K_B",
         "K_D", "K_E"]
tasks = [t for t in order if os.path.exists(os.path.join(d, t + ".json"))]
runs = {t: json.load(open(os.path.join(d, t + ".json"))) for t in tasks}
crits = [("entropy", False), ("snd", True), ("iwcv", False), ("dev", False), ("rv", True)]
if all(runs[t]["candidates"][0].get("mixval", None) is not None for t in tasks):
    crits.append(("mixval", True))  # measured; not in tl auto's default combination
if all(runs[t]["candidates"][0].get("crv", None) is not None for t in tasks):
    crits.append(("crv", True))  # reverse validation in the common (no-transfer) space
default5 = ["entropy", "snd", "iwcv", "dev", "rv"] + (["crv"] if ("crv", True) in crits else [])


def acc(c):
    return 100 * c["accuracy"]


rows = {"auto": [], "oracle": [], "none": []}
defaults = {}
for t in tasks:
    r = runs[t]
    cands = r["candidates"]
    chosen = next(c for c in cands if c["candidate"] == r["chosen"])
    rows["auto"].append(acc(chosen))
    rows["oracle"].append(max(acc(c) for c in cands))
    rows["none"].append(acc(next(c for c in cands if c["method"] == "none")))
    for c in cands:
        if c["rung"] == 0 and c["method"] != "none":
            defaults.setdefault(c["method"], {})[t] = acc(c)
full = {m: v for m, v in defaults.items() if len(v) == len(tasks)}
best_m = max(full, key=lambda m: sum(full[m].values())) if full else None
if best_m:
    rows[f"best fixed default ({best_m})"] = [full[best_m][t] for t in tasks]

hdr = [t.replace("_", "→") for t in tasks]
print(f"| | {' | '.join(hdr)} | avg |")
print("|---|" + "---:|" * (len(tasks) + 1))
for k, v in rows.items():
    print(f"| {k} | " + " | ".join(f"{x:.2f}" for x in v) + f" | **{sum(v) / len(v):.2f}** |")
chosen_names = [runs[t]["chosen"] for t in tasks]
print(f"| chosen | {' | '.join(chosen_names)} | |")
secs = [f"{runs[t]['seconds']:.0f}" for t in tasks]
print(f"| seconds | {' | '.join(secs)} | |")
ncand = [len(runs[t]["candidates"]) for t in tasks]
print(f"| candidates run | {' | '.join(str(n) for n in ncand)} | |")
auto, orac, none = rows["auto"], rows["oracle"], rows["none"]
ma, mo = sum(auto) / len(auto), sum(orac) / len(orac)
print()
print(f"- auto / oracle: {ma:.2f} / {mo:.2f} = {100 * ma / mo:.1f} %")
worst = min(a - n for a, n in zip(auto, none))
print(f"- auto - no transfer, worst task: {worst:+.2f} points; tasks more than 1 point below: "
      f"{sum(a - n < -1 for a, n in zip(auto, none))}")
coll = sum(next(c for c in runs[t]['candidates'] if c['candidate'] == runs[t]['chosen'])['collapsed']
           for t in tasks)
print(f"- collapsed choices: {coll}; budget {budget} s per task ({runs[tasks[0]].get('budget_clock', 'wall')} clock)")
print()
print("| criterion alone | within 1 point of the oracle | mean gap to the oracle (points) |")
print("|---|---:|---:|")
for name, hi in crits + [("combined (tl auto)", None)]:
    gaps = []
    for t, o in zip(tasks, orac):
        cands = runs[t]["candidates"]
        if hi is None:
            pick = next(c for c in cands if c["candidate"] == runs[t]["chosen"])
        else:
            el = [c for c in cands if not c["harmful"] and c[name] is not None]
            if not el:
                continue
            pick = (max if hi else min)(el, key=lambda c: c[name])
        gaps.append(o - acc(pick))
    print(f"| {name} | {sum(g <= 1 for g in gaps)}/{len(gaps)} | {sum(gaps) / len(gaps):.2f} |")

# The combination with one criterion left out, recomputed here over the same candidates (the
# rank-mean of tl auto's combine(); which grid variants ran was decided by the full combination).
# The labels choose nothing here either: the table is evidence for the combination, measured
# in-sample on these 12 tasks, not a setting tuned for them.


def combined_pick(cands, use):
    el = [c for c in cands if not c["harmful"]]
    best, bs = None, None
    for a in el:
        tot, n = 0.0, 0
        for name, hi in crits:
            if name not in use or a[name] is None:
                continue
            others = [b for b in el if b is not a and b[name] is not None]
            if not others:
                tot += 1
                n += 1
                continue
            beat = 0.0
            for b in others:
                d = (a[name] - b[name]) if hi else (b[name] - a[name])
                beat += 1 if d > 0 else 0.5 if d == 0 else 0
            tot += beat / len(others)
            n += 1
        s = tot / n if n else 0.5
        if bs is None or s > bs:
            best, bs = a, s
    return best


print()
print("| combination | within 1 point of the oracle | mean gap to the oracle (points) | mean accuracy |")
print("|---|---:|---:|---:|")
names = [n for n, _ in crits]
for left in [None] + default5 + (["+mixval"] if "mixval" in names else []):
    use = default5 + ["mixval"] if left == "+mixval" else [n for n in default5 if n != left]
    gaps, accs = [], []
    for t, o in zip(tasks, orac):
        p = combined_pick(runs[t]["candidates"], use)
        gaps.append(o - acc(p))
        accs.append(acc(p))
    label = ("the default combination (tl auto)" if left is None else
             "the default + mixval" if left == "+mixval" else f"without {left}")
    print(f"| {label} | {sum(g <= 1 for g in gaps)}/{len(gaps)} | {sum(gaps) / len(gaps):.2f} | "
          f"{sum(accs) / len(accs):.2f} |")
