#!/usr/bin/python3
"""report.py: turns the JSON lines bench/run.sh collected for one suite into the Markdown that goes
into bench/out/<suite>.md and, pasted verbatim, into bench/RESULTS.md.

    report.py --suite NAME --seconds WALL --command CMD --libtl BENCH_BINARY FILE.jsonl
    report.py --header-only --seconds WALL --command CMD --load LOAD
        only the first two paragraphs (command, date, commit, wall time; machine, load): the
        "feature" suite writes its own tables (bench/repro_feature, bench/ref_feature.py) under
        this header.

Each input line is {"label", "data", "libtl": <bench_core line>, "ref": <ref_*.py line>} or
{"skipped": reason}. Columns: op | data | libtl s | reference s | speed-up (ref/libtl) | libtl peak
MB | reference peak MB | equal?. "equal?" compares what the two sides produced: the bit digests of
readers and predictions, the accuracy, the max absolute difference of kernel matrices, the relative
difference of the median-heuristic gamma. Nothing here is typed by hand.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    cpu = sh("sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1") or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2 / 1048576}' /proc/meminfo")
    blas = sh("dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null")
    cc = sh("cc --version | head -1")
    thp = sh("sed -n 's/.*\\[\\(.*\\)\\].*/\\1/p' /sys/kernel/mm/transparent_hugepage/enabled")
    import numpy
    import scipy
    import sklearn
    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}"
                    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE"))
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem} RAM, Linux {platform.release()}; "
            f"transparent huge pages: {thp or '?'}; {cc}; "
            f"OpenBLAS {blas or '?'} (openblas-pthread, used by both sides); {env}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")


def commit():
    h = sh("git rev-parse --short HEAD")
    if h and sh("git status --porcelain -- src include bench"):
        h += " + uncommitted changes in src/, include/ or bench/"
    return h or "?"


def md(s):
    return str(s).replace("|", "\\|")


def equal(c, r):
    if "equal" in r:
        return r["equal"]
    op = c["op"]
    if op == "noop":
        return "-"
    if op.startswith("read-"):
        if c.get("check") == r.get("check"):
            return "yes, bit-identical"
        return (f"**NO**: digests differ (rows {c.get('rows')}/{r.get('rows')}, "
                f"nnz {c.get('nnz')}/{r.get('nnz')})")
    if op.startswith("knn"):
        if c.get("in_check") != r.get("in_check"):
            return "**NO**: the inputs differ"
        acc = (f"acc {c['acc']:.2f} %" if c["correct"] == r["correct"]
               else f"**acc {c['acc']:.2f} % vs {r['acc']:.2f} %**")
        same = "same predictions" if c["check"] == r["check"] else "**predictions differ**"
        ok = "yes" if c["correct"] == r["correct"] and c["check"] == r["check"] else "**NO**"
        return f"{ok}: {acc}, {same}"
    if op.startswith("gamma"):
        rel = abs(c["gamma"] - r["gamma"]) / abs(r["gamma"])
        return f"{'yes' if rel < 1e-12 else '**NO**'}: gamma {c['gamma']:.6g}, rel. diff {rel:.1e}"
    if op.startswith("rbf"):
        d = r.get("maxdiff")
        if d is None:
            return "? (not compared)"
        return f"{'yes' if d < 1e-12 else '**NO**'}: max abs diff {d:.1e}"
    return "?"


def fmt_s(x):
    return f"{x:.3f}" if x >= 0.01 else f"{x:.4f}"


def header(a):
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"Produced by `{a.command}` on {now} (libtl commit {commit()}), "
          f"{a.seconds:.0f} s wall time in all.\n")
    end = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"Machine: {machine()}. Load average (1/5/15 min) {a.load or '?'} at the start, {end} "
          "at the end (the machine is shared: other work running at the same time slows both "
          "sides).\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite")
    ap.add_argument("--header-only", action="store_true")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--command", default="")
    ap.add_argument("--libtl", default="")
    ap.add_argument("--load", default="", help="load averages (1, 5, 15 min) when the suite began")
    ap.add_argument("jsonl", nargs="?")
    a = ap.parse_args()
    if a.header_only:
        header(a)
        return
    if not a.suite or not a.jsonl:
        ap.error("--suite and FILE.jsonl are required")
    rows, skipped, slower = [], [], []
    with open(a.jsonl) as f:
        for line in f:
            e = json.loads(line)
            if "skipped" in e:
                skipped.append(e["skipped"])
                continue
            c, r = e["libtl"], e.get("ref")
            if r is None:  # libtl-only row (the reference cannot run at that size)
                rows.append(f"| {md(e['label'])} | {md(e['data'])} | {fmt_s(c['seconds'])} | "
                            f"- | - | {c['peak_mb']:.0f} | - | libtl only | "
                            f"{len(c.get('runs', [1]))}/0 |")
                continue
            if c.get("op") == "noop":
                speed = "-"
            else:
                ratio = r["seconds"] / c["seconds"] if c["seconds"] > 0 else float("inf")
                speed = f"{ratio:.2f}x"
                if ratio < 1:
                    speed = f"**{speed}**"
                    slower.append(f"{e['label']} on {e['data']}")
            runs = f"{len(c.get('runs', [1]))}/{len(r.get('runs', [1]))}"
            rows.append(f"| {md(e['label'])} | {md(e['data'])} | {fmt_s(c['seconds'])} | "
                        f"{fmt_s(r['seconds'])} | {speed} | {c['peak_mb']:.0f} | "
                        f"{r['peak_mb']:.0f} | {md(equal(c, r))} | {runs} |")
    header(a)
    print("| op | data | libtl s | reference s | speed-up (ref/libtl) | libtl peak MB | "
          "reference peak MB | equal? | runs |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    for row in rows:
        print(row)
    print()
    print("Seconds: best of the timed runs (runs = libtl/reference count, after one untimed "
          "warm-up where the count is above 1), in-process, monotonic clock; inputs of the "
          "1-NN and kernel ops are loaded before timing. Peak MB: the process's peak RSS "
          "(getrusage) during the operation, its inputs resident (the high-water mark is reset "
          "after set-up); the baseline row is an idle process (the reference has numpy, scipy "
          "and scikit-learn imported). Speed-up below 1 (bold) = libtl slower.")
    if slower:
        print("\nlibtl is slower on: " + "; ".join(slower) + ".")
    for s in skipped:
        print(f"\nSkipped: {s}.")


if __name__ == "__main__":
    main()
