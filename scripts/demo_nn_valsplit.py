#!/usr/bin/python3
"""Validation split for scripts/demo_nn.sh: the recipe of the model-based transfer demo (layer the
new head goes on, learning rate, augmentation, scratch architecture) was chosen on this split, never
on the Fashion-MNIST test images.

Writes an MNIST-style folder OUT (default /tmp/fashion-mnist-val) whose "train" files are the
Fashion-MNIST training set minus 1000 held-out images of each target class 5-9 (seeded), and whose
"test" (t10k) files are those 5000 held-out images plus the real test images of the source classes
0-4 (only used to report the source model's accuracy). Running the demo on it,
    FASHION_MNIST=$(/usr/bin/python3 scripts/demo_nn_valsplit.py) DEMO_NN_OUT=build/demo_nn_val \\
        sh scripts/demo_nn.sh
draws the K labelled target images from the remaining training images and scores every method on
the held-out ones. Prints OUT. Needs numpy."""
import gzip
import os
import sys

import numpy as np

src = os.environ.get("FASHION_MNIST_SRC", "/usr/share/datasets/fashion-mnist")
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fashion-mnist-val"


def read(name, offset):
    with gzip.open(os.path.join(src, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def write(prefix, x, y):
    with open(os.path.join(out, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(np.array([0x803, len(y), 28, 28], ">u4").tobytes())
        f.write(x.tobytes())
    with open(os.path.join(out, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(np.array([0x801, len(y)], ">u4").tobytes())
        f.write(y.tobytes())


xtr = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
ytr = read("train-labels-idx1-ubyte.gz", 8)
xte = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
yte = read("t10k-labels-idx1-ubyte.gz", 8)
rng = np.random.default_rng(123)
held = np.zeros(len(ytr), bool)
for c in range(5, 10):
    held[rng.choice(np.flatnonzero(ytr == c), 1000, replace=False)] = True
os.makedirs(out, exist_ok=True)
write("train", xtr[~held], ytr[~held])
write("t10k", np.concatenate([xtr[held], xte[yte < 5]]), np.concatenate([ytr[held], yte[yte < 5]]))
print(out)
