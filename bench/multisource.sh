#!/bin/sh
# bench/multisource.sh: multi-source transfer on Office+Caltech SURF, three domains -> the fourth
# (issue 13), with `tl adapt --source A --source B --source C --combine ...`.
#
#   sh bench/multisource.sh [METHOD]          default coral (the SURF protocol: rowsum,zscore; 1-NN)
#
# Table 1 (no labelled target rows): per target, each source alone with the method, and the
# three combinations (weighted by the guard's source-side reverse validation, majority vote,
# pooled sources); the check: the weighted combination >= the best single source on at least 3
# of 4 targets.
# Table 2 (3 labelled target rows per class, --seed 1): the three sources, then the same with a
# harmful fourth source added - the first source with its labels permuted (class c -> c + 1),
# which no label-free signal can see - expected: dropped by the guard's labelled check, the
# combination within 1 point of the one without it.
# Output: bench/out/multisource.md (RESULTS.md holds it verbatim). Environment: TL_BIN (default
# build/tl), TL_DATA (../shared/data), PY (/usr/bin/python3), BENCH_THREADS (default 1).
set -eu
cd "$(dirname "$0")/.."
TL=${TL_BIN:-build/tl}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}
M=${1:-coral}
THREADS=${BENCH_THREADS:-1}
S=$DATA/office_caltech10_surf
[ -d "$S" ] || { echo "multisource: $S is absent" >&2; exit 1; }
mkdir -p bench/out
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT=bench/out/multisource.jsonl
: >"$OUT"
COMMON="--method $M --preprocess rowsum,zscore --threads $THREADS --json -q"
for t in amazon caltech webcam dslr; do
    srcs=""
    for s in amazon caltech webcam dslr; do [ "$s" = "$t" ] || srcs="$srcs --source $S/${s}_SURF_L10.mat"; done
    for c in weighted vote pool; do
        j=$("$TL" adapt $COMMON $srcs --target "$S/${t}_SURF_L10.mat" --combine $c)
        printf '{"table": 1, "target": "%s", "combine": "%s", "report": %s}\n' "$t" "$c" "$j" >>"$OUT"
    done
    # the harmful source: the first source's rows with permuted labels
    first=$(echo $srcs | awk '{print $2}')
    "$PY" -c "
import numpy as np, scipy.io, sys
m = scipy.io.loadmat(sys.argv[1]); y = m['labels'].ravel().astype(np.int32)
np.save(sys.argv[2] + '.npy', m['fts'].astype(np.float64))
np.save(sys.argv[2] + '.labels.npy', (y % 10 + 1).astype(np.int32))" "$first" "$TMP/permuted"
    for extra in "" "--source $TMP/permuted.npy"; do
        j=$("$TL" adapt $COMMON $srcs $extra --target "$S/${t}_SURF_L10.mat" --combine weighted \
            --labelled-per-class 3 --seed 1)
        printf '{"table": 2, "target": "%s", "harmful": %s, "report": %s}\n' "$t" \
            "$([ -n "$extra" ] && echo true || echo false)" "$j" >>"$OUT"
    done
    echo "multisource: $t done" >&2
done
"$PY" - "$OUT" "sh bench/multisource.sh $M" <<'PYEOF' | tee bench/out/multisource.md
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
short = lambda p: {"amazon": "A", "caltech": "C", "webcam": "W", "dslr": "D", "permuted": "A*"}.get(
    next((k for k in ("amazon", "caltech", "webcam", "dslr", "permuted") if k in os.path.basename(p)), p), p)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Command: `{sys.argv[2]}`  ")
print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}  ")
print()
print("Table 1 - three SURF domains -> the fourth, no labelled target rows (accuracy %)")
print()
print("| target | single sources (no transfer -> method) | weighted | vote | pool | best single | weighted >= best |")
print("|---|---|---|---|---|---|---|")
wins = 0
for t in ("amazon", "caltech", "webcam", "dslr"):
    R = {r["combine"]: r["report"] for r in rows if r["table"] == 1 and r["target"] == t}
    w = R["weighted"]
    singles = ", ".join(f"{short(s['source'])} {100*s['baseline_accuracy']:.2f} -> {100*s['accuracy']:.2f} (w {s['weight']:.2f})" for s in w["sources"])
    best = max(s["accuracy"] for s in w["sources"])
    ok = w["accuracy"] >= best - 1e-12
    wins += ok
    print(f"| {short(t)} | {singles} | {100*w['accuracy']:.2f} | {100*R['vote']['accuracy']:.2f} | {100*R['pool']['accuracy']:.2f} | {100*best:.2f} | {'yes' if ok else 'no'} |")
print()
print(f"Weighted combination >= the best single source on {wins} of 4 targets (needs >= 3: {'yes' if wins >= 3 else 'NO'}).")
print()
print("Table 2 - with 3 labelled target rows per class (seed 1), weighted; then a harmful fourth source (A* = the first source, labels permuted)")
print()
print("| target | 3 sources | + harmful source | difference | harmful source dropped | reason printed |")
print("|---|---|---|---|---|---|")
for t in ("amazon", "caltech", "webcam", "dslr"):
    a = next(r["report"] for r in rows if r["table"] == 2 and r["target"] == t and not r["harmful"])
    b = next(r["report"] for r in rows if r["table"] == 2 and r["target"] == t and r["harmful"])
    h = b["sources"][-1]
    print(f"| {short(t)} | {100*a['accuracy']:.2f} | {100*b['accuracy']:.2f} | {100*(b['accuracy']-a['accuracy']):+.2f} | {'yes' if h['dropped'] else 'NO'} | {h['dropped_because'] or '-'} |")
PYEOF
