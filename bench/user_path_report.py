#!/usr/bin/python3
"""user_path_report.py: the Markdown of bench/user_path.sh from its JSON lines (bench/out/
user_path.jsonl): the 12 `tl adapt` processes against da_ref.py as whole processes, and the
per-task split of the command's time. Nothing here is typed by hand; the expected accuracies are
the figures the issue pins (libtl's primal JDA on SURF, rowsum,zscore,l2, 1-NN) and a mismatch is
printed, not hidden.

    user_path_report.py --load0 L --load1 L FILE.jsonl
"""
import argparse
import json

EXPECTED = [44.78, 37.29, 43.31, 36.78, 37.97, 28.66, 29.74, 35.91, 85.35, 31.26, 30.17, 84.75]
ARROW = "\u2192"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--load0", default="?")
    ap.add_argument("--load1", default="?")
    ap.add_argument("jsonl")
    a = ap.parse_args()
    ref, tot, tot_ng, procs, split = {}, {}, {}, {}, []
    for line in open(a.jsonl):
        d = json.loads(line)
        if d["side"] == "ref":
            ref[d["round"]] = d
        elif d["side"] == "tl-total":
            tot[d["round"]] = d["wall"]
        elif d["side"] == "tl-noguard-total":
            tot_ng[d["round"]] = d["wall"]
        elif d["side"] == "tl":
            procs.setdefault(d["round"], []).append(d)
        elif d["side"] == "split":
            split.append(d["line"])
    rounds = sorted(tot)
    best_tl = min(rounds, key=lambda r: tot[r])
    best_ref = min(ref, key=lambda r: ref[r]["wall"])
    t_tl, t_ref = tot[best_tl], ref[best_ref]["wall"]
    ok = True
    accs = {}
    for r in rounds:
        got = [round(100 * p["out"]["accuracy"], 2) for p in procs[r]]
        accs[r] = got
        ok = ok and got == EXPECTED
    split_acc = [round(100 * s["accuracy"], 2) for s in split]
    ok_split = split_acc == EXPECTED
    tl_avg = sum(accs[best_tl]) / 12
    print("#### The user's path: 12 `tl adapt` processes against `da_ref.py surf jda`\n")
    print("Each side as whole processes, in the same run: libtl is 12 runs of `tl adapt --method "
          "jda --source S --target T --preprocess rowsum,zscore,l2 --json -q` (load both .mat "
          "files, preprocess, the no-transfer 1-NN baseline, 10 JDA rounds, the 1-NN, the "
          "negative-transfer guard), the reference one `python3 ../shared/benchmarks/ref/"
          f"da_ref.py surf jda` for all 12 tasks. {len(rounds)} rounds, the sides alternating; "
          f"the best round of each side is compared (load average {a.load0} at the start, "
          f"{a.load1} at the end).\n")
    print("| side | wall (s), best round | every round (s) | average accuracy % |")
    print("|---|---:|---|---:|")
    print(f"| libtl: 12 `tl adapt` processes | {t_tl:.2f} | "
          f"{', '.join(f'{tot[r]:.2f}' for r in rounds)} | {tl_avg:.2f} |")
    if tot_ng:
        t_ng = min(tot_ng.values())
        print(f"| libtl: the same with `--no-guard` | {t_ng:.2f} | "
              f"{', '.join(f'{tot_ng[r]:.2f}' for r in sorted(tot_ng))} | {tl_avg:.2f} |")
    ref_walls = ", ".join(f"{ref[r]['wall']:.2f}" for r in sorted(ref))
    print(f"| reference: `da_ref.py surf jda` | {t_ref:.2f} | {ref_walls} | "
          f"{ref[best_ref]['avg']:.2f} |")
    print(f"\n**Speed-up: {t_ref / t_tl:.2f}x** (reference wall / libtl wall, best rounds). "
          f"Accuracies: {'all 12 equal to the expected figures in every round' if ok else 'MISMATCH with the expected figures'}"
          f" (the reference's own JDA solves a slightly different problem, `B + 1e-9 I` and "
          f"`eigh` on the pencil, hence its {ref[best_ref]['avg']:.2f} average)"
          + (f"; without the guard, {t_ref / min(tot_ng.values()):.2f}x" if tot_ng else "")
          + ".\n")
    print("Per task (libtl, best round): the process's wall time; the command's own \"seconds\" "
          "(fit + transform + learner) and \"guard_seconds\"; and, measured inside one process on "
          "the same inputs by `bench/user_split` (best of 3 per stage), the method and the guard, "
          "and the guard's share of the method.\n")
    print("| task | accuracy % | process wall (s) | JSON seconds | JSON guard_seconds | "
          "split: load + prep (s) | split: baseline (s) | split: method (s) | split: guard (s) | "
          "guard / method | guard verdict |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    ps = procs[best_tl]
    for i, p in enumerate(ps):
        s = split[i] if i < len(split) else None
        task = p["task"].replace("->", ARROW)
        if s:
            cols = (f"{s['load']:.3f} | {s['baseline']:.3f} | {s['method']:.3f} | "
                    f"{s['guard']:.3f} | {s['guard'] / s['method']:.2f} | {s['verdict']}")
        else:
            cols = "– | – | – | – | – | –"
        gs = p["out"].get("guard_seconds")
        print(f"| {task} | {100 * p['out']['accuracy']:.2f} | {p['wall']:.3f} | "
              f"{p['out']['seconds']:.3f} | {'–' if gs is None else f'{gs:.3f}'} | {cols} |")
    if split:
        m = sum(s["method"] for s in split)
        g = sum(s["guard"] for s in split)
        print(f"| **all 12** | **{tl_avg:.2f}** | **{sum(p['wall'] for p in ps):.2f}** | "
              f"**{sum(p['out']['seconds'] for p in ps):.2f}** | "
              f"**{sum(p['out'].get('guard_seconds') or 0 for p in ps):.2f}** | "
              f"{sum(s['load'] for s in split):.2f} | {sum(s['baseline'] for s in split):.2f} | "
              f"{m:.2f} | {g:.2f} | {g / m:.2f} | |")
        worst = max(split, key=lambda s: s["guard"] / s["method"])
        print(f"\nThe guard's share of the method: {g / m:.2f} over the 12 tasks, at most "
              f"{worst['guard'] / worst['method']:.2f} ({worst['task'].replace('->', ARROW)}). "
              f"bench/user_split's accuracies "
              f"{'equal' if ok_split else 'DIFFER FROM'} the command's.")


if __name__ == "__main__":
    main()
