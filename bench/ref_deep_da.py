#!/usr/bin/python3
"""ref_deep_da.py: the PyTorch half of the deep_da speed suite (bench/run.sh deep_da) - the DANN
paper's shallow network on Amazon reviews, trained the same way as bench/deep_da_speed.c, one JSON
line with the same fields.

    ref_deep_da.py --source S.svmlight --target T.svmlight [--epochs E] [--batch B] [--threads T]

Network: Linear(5000, 100) - Sigmoid - Linear(100, 2) with a domain head GradientReversal(0.1) -
Linear(100, 2) on the hidden layer; each step 32 source + 32 target rows (dense float32, read with
scikit-learn's load_svmlight_file), cross-entropy on the source rows plus the domain
cross-entropy on all 64, SGD lr 0.01 momentum 0.9, torch.set_num_threads(T). samples_per_s counts
every row a step trains on (source and target); cpu_s is the process's CPU time in the training
loop (all threads: the work, less sensitive to other jobs on shared cores than wall time); final_loss is the last epoch's mean source
cross-entropy (libtl's train_loss); peak_rss_mb is the process's maximum resident size.

With --cnn 1, the CNN DANN of bench/deep_da_speed.c --cnn 1: MNIST -> USPS digits (--source /
--target name the .mat file; X_src / X_tar are 256 x n, one sample a column), Conv2d(1, 16, 5,
padding 2) - ReLU - MaxPool(2) - Conv2d(16, 32, 5, padding 2) - ReLU - MaxPool(2) - Flatten -
Linear(512, 100) - ReLU, the classifier Linear(100, 10) and the domain head GradientReversal(0.3)
- Linear(100, 100) - ReLU - Linear(100, 2).
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_svmlight_file


class GRL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


ap = argparse.ArgumentParser()
ap.add_argument("--source", required=True)
ap.add_argument("--target", required=True)
ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--tag", default="", help="a label carried into the JSON line")
ap.add_argument("--cnn", type=int, default=0, help="1: the CNN DANN on MNIST -> USPS digits")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(42)
if a.cnn:
    import scipy.io
    ms, mt = scipy.io.loadmat(a.source), scipy.io.loadmat(a.target)
    xs = torch.tensor(ms["X_src"].T.reshape(-1, 1, 16, 16), dtype=torch.float32)
    xt = torch.tensor(mt["X_tar"].T.reshape(-1, 1, 16, 16), dtype=torch.float32)
    ys = torch.tensor(ms["Y_src"].ravel().astype(np.int64) - 1)
    feat = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(512, 100), nn.ReLU())
    clf = nn.Linear(100, 10)
    dom = nn.Sequential(nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 2))
    LAM = 0.3
else:
    Xs, ys = load_svmlight_file(a.source, n_features=5000, zero_based=True)
    Xt, _ = load_svmlight_file(a.target, n_features=5000, zero_based=True)
    xs = torch.tensor(Xs.toarray(), dtype=torch.float32)
    xt = torch.tensor(Xt.toarray(), dtype=torch.float32)
    ys = torch.tensor((ys > 0).astype(np.int64))
    feat = nn.Sequential(nn.Linear(5000, 100), nn.Sigmoid())
    clf = nn.Linear(100, 2)
    dom = nn.Linear(100, 2)
    LAM = 0.1
params = list(feat.parameters()) + list(clf.parameters()) + list(dom.parameters())
opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
ce = nn.CrossEntropyLoss()
B = a.batch
n = xs.shape[0]
g = torch.Generator().manual_seed(1)
dl = torch.cat([torch.zeros(B, dtype=torch.int64), torch.ones(B, dtype=torch.int64)])
rows = 0
t0 = time.perf_counter()
c0 = time.process_time()
for ep in range(a.epochs):
    src_sum = 0.0  # the mean source cross-entropy of the epoch, as libtl's train_loss
    ps = torch.randperm(n, generator=g)
    # target rows without replacement, reshuffled after each pass (the target may be smaller)
    pt = torch.cat([torch.randperm(xt.shape[0], generator=g) for _ in range(-(-n // xt.shape[0]))])
    for s in range(n // B):
        i = ps[s * B:(s + 1) * B]
        j = pt[s * B:(s + 1) * B]
        x = torch.cat([xs[i], xt[j]])
        opt.zero_grad()
        h = feat(x)
        ls = ce(clf(h[:B]), ys[i])
        loss = ls + ce(dom(GRL.apply(h, LAM)), dl)
        loss.backward()
        src_sum += float(ls)
        opt.step()
        rows += 2 * B
sec = time.perf_counter() - t0
cpu = time.process_time() - c0
print(json.dumps({"impl": "pytorch %s" % torch.__version__, "net": "cnn" if a.cnn else "mlp", "tag": a.tag, "threads": a.threads, "epochs": a.epochs,
                  "samples_per_s": rows / sec, "seconds": sec, "cpu_s": cpu, "final_loss": src_sum / (n // B),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
