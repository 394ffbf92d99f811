#!/usr/bin/env python3
"""bench/auto_combo.py NAME=DIR [NAME=DIR ...]: which combination of tl auto's label-free criteria
would have chosen best, from the JSON files bench/auto.sh wrote (one directory per benchmark).
Standard library only.

For every subset of the criteria, the rank-mean choice of tl auto's combine() is recomputed over
the candidates each task ran (the eligible ones: not collapsed, not harmful), and its mean
accuracy, its share of the oracle's mean and its worst gap to no transfer are printed for each
benchmark. The subsets are sorted by the FIRST benchmark only: choose there, confirm on the
others. The target labels enter only through these printed figures; which grid variants ran was
decided by the combination tl auto used, so a subset's figures are what it would pick among those
candidates, not a rerun."""
import itertools
import json
import os
import sys

HI = {'entropy': False, 'snd': True, 'iwcv': False, 'dev': False, 'rv': True, 'mixval': True,
      'crv': True}


def load(d):
    return {f[:-5]: json.load(open(os.path.join(d, f)))
            for f in sorted(os.listdir(d)) if f.endswith('.json')}


def choose(cands, crits):
    el = [c for c in cands if not c['harmful']]
    best, bs = None, -1.0
    for a in el:
        sh = []
        for n in crits:
            if a.get(n) is None:
                continue
            o = [b for b in el if b is not a and b.get(n) is not None]
            sign = 1 if HI[n] else -1
            sh.append(sum(1 if (a[n] - b[n]) * sign > 0 else 0.5 if a[n] == b[n] else 0
                          for b in o) / len(o) if o else 1)
        sc = sum(sh) / len(sh) if sh else 0.5
        if sc > bs:
            best, bs = a, sc
    return best


def evaluate(runs, crits):
    acc, orac, none = [], [], []
    for r in runs.values():
        cands = r['candidates']
        acc.append(100 * choose(cands, crits)['accuracy'])
        orac.append(100 * max(c['accuracy'] for c in cands))
        none.append(100 * next(c for c in cands if c['method'] == 'none')['accuracy'])
    m = sum(acc) / len(acc)
    return m, 100 * m / (sum(orac) / len(orac)), min(a - n for a, n in zip(acc, none))


benches = [(n, load(d)) for n, d in (a.split('=', 1) for a in sys.argv[1:])]
names = [n for n in HI if all(c.get(n) is not None for _, runs in benches
                              for r in runs.values() for c in r['candidates'][:1])]
rows = []
for k in range(1, len(names) + 1):
    for cb in itertools.combinations(names, k):
        rows.append((cb, [evaluate(runs, cb) for _, runs in benches]))
rows.sort(key=lambda x: -x[1][0][0])
print('| criteria combined | ' + ' | '.join(f'{n}: mean, % of oracle, worst vs none' for n, _ in benches) + ' |')
print('|---|' + '---:|' * len(benches))
for cb, ev in rows[:int(os.environ.get('TOP', '15'))]:
    print(f"| {'+'.join(cb)} | " + ' | '.join(f'{m:.2f}, {p:.1f} %, {w:+.2f}' for m, p, w in ev) + ' |')
