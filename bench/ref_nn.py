#!/usr/bin/python3
"""ref_nn.py: the PyTorch half of bench/run_nn.sh - the same CNN, data, batch size, optimiser and
thread count as bench_nn.c, printing the same JSON line (see bench_nn.c for every definition).

    ref_nn.py [--arch A] [--data DIR] [--train N] [--infer M] [--epochs E] [--batch B]
              [--threads T] [--lr LR] [--channels-last] [--no-mkldnn] [--tag NAME]

--channels-last puts the model and the images in torch.channels_last (NHWC, oneDNN's native
layout); --no-mkldnn turns oneDNN off (torch.backends.mkldnn.enabled = False); --tag names the
configuration in the JSON line (bench/run_nn.sh runs several and compares libtl to the fastest).

The architecture string is translated layer for layer into an nn.Sequential (the subset bench
networks use: conv, bn, relu, maxpool/pool, avgpool, gap, flatten, dense, dropout). PyTorch runs on
the CPU with torch.set_num_threads(T) (its intra-op pool) and OpenBLAS/OMP limited to T threads by
the caller's environment; the training loop is the idiomatic one (zero_grad, forward,
CrossEntropyLoss, backward, SGD step with momentum 0.9), inference runs under torch.no_grad() in
eval mode. Data: Fashion-MNIST train read from the IDX files with gzip + numpy, / 255, float32.
"""
import argparse
import gzip
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn


def build(arch, shape):
    c, h, w = shape
    layers = []
    for tok in arch.split(","):
        f = tok.split(":")
        k = f[0]
        if k == "conv":
            out, ks = int(f[1]), int(f[2])
            s = int(f[3]) if len(f) > 3 else 1
            p = int(f[4]) if len(f) > 4 else (ks - 1) // 2
            layers.append(nn.Conv2d(c, out, ks, stride=s, padding=p))
            c, h, w = out, (h + 2 * p - ks) // s + 1, (w + 2 * p - ks) // s + 1
        elif k == "bn":
            layers.append(nn.BatchNorm2d(c) if h * w > 1 else nn.BatchNorm1d(c))
        elif k == "relu":
            layers.append(nn.ReLU())
        elif k in ("pool", "maxpool", "avgpool"):
            ks = int(f[1])
            s = int(f[2]) if len(f) > 2 else ks
            layers.append((nn.AvgPool2d if k == "avgpool" else nn.MaxPool2d)(ks, s))
            h, w = (h - ks) // s + 1, (w - ks) // s + 1
        elif k == "gap":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            h = w = 1
        elif k == "flatten":
            layers.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif k == "dense":
            layers.append(nn.Linear(c, int(f[1])))
            c = int(f[1])
        elif k == "dropout":
            layers.append(nn.Dropout(float(f[1]) if len(f) > 1 else 0.5))
        else:
            raise SystemExit("ref_nn.py: layer %s not supported here" % k)
    return nn.Sequential(*layers)


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def find(d, stem):
    for n in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(d, n)):
            return os.path.join(d, n)
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return 0.0


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,flatten,"
                    "dense:128,relu,dense:10")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--train", type=int, default=10240)
    ap.add_argument("--infer", type=int, default=10240)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--no-mkldnn", action="store_true")
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    torch.manual_seed(42)
    nmax = max(a.train, a.infer)
    xi = find(a.data, "train-images-idx3-ubyte") if a.data else None
    if xi:
        X = read_idx(xi)[:nmax].reshape(nmax, 1, 28, 28).astype(np.float32) / 255.0
        Y = read_idx(find(a.data, "train-labels-idx1-ubyte"))[:nmax].astype(np.int64)
        data = "fashion-mnist"
    else:
        rng = np.random.default_rng(1)
        X = rng.normal(size=(nmax, 1, 28, 28)).astype(np.float32)
        Y = np.arange(nmax) % 10
        data = "synthetic"
    X = torch.from_numpy(np.ascontiguousarray(X))
    Y = torch.from_numpy(Y)
    model = build(a.arch, (1, 28, 28))
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        X = X.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(42)

    def epoch(n):
        model.train()
        perm = torch.randperm(n, generator=g)
        total, seen = 0.0, 0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            if len(idx) < 2:
                continue
            xb, yb = X[idx], Y[idx]
            opt.zero_grad()
            loss = crit(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        return total / seen

    epoch(min(10 * a.batch, a.train))  # warm-up
    setup = peak_mb()
    reset = reset_peak()
    start = rss_mb()
    t = time.perf_counter()
    c = time.process_time()
    for _ in range(a.epochs):
        loss = epoch(a.train)
    train_s = time.perf_counter() - t
    train_cpu = time.process_time() - c
    model.eval()
    best = 1e30
    with torch.no_grad():
        for _ in range(3):
            t = time.perf_counter()
            out = torch.cat([model(X[i:i + a.batch]) for i in range(0, a.infer, a.batch)])
            best = min(best, time.perf_counter() - t)
    pk = peak_mb()
    acc = (out.argmax(1) == Y[:a.infer]).float().mean().item()
    print(json.dumps({
        "impl": "pytorch " + torch.__version__, "arch": a.arch, "data": data, "threads": a.threads,
        "batch": a.batch, "train_samples": a.train, "epochs": a.epochs, "train_s": round(train_s, 4), "train_cpu_s": round(train_cpu, 4),
        "train_sps": round(a.train * a.epochs / train_s, 1), "train_loss": round(loss, 4),
        "infer_samples": a.infer, "infer_s": round(best, 4), "infer_sps": round(a.infer / best, 1),
        "infer_acc": round(acc, 4), "peak_mb": round(pk, 1), "start_mb": round(start, 1), "setup_mb": round(setup, 1),
        "peak_reset": reset, "data_mb": round(X.numel() * 4 / 1048576, 1),
        "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "tag": a.tag}))


if __name__ == "__main__":
    main()
