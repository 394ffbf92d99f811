"""bench/mpi_kernel.sh's helper. `mpi_kernel_data.py FMNIST_DIR OUT_DIR` writes the shifted
target: the 10 000 Fashion-MNIST test images rotated by 30 degrees (scipy.ndimage.rotate, same
size, bilinear, rounded to uint8) as OUT_DIR/test_rot30.npy and their labels as
test_rot30.labels.npy. (Inverted images, 255 - x, were tried first: on raw pixels every method
maps them to the wrong classes, 1.6 % for JDA, so they say nothing about the method.) `mpi_kernel_data.py --compare A.npy B.npy` prints the largest
difference between two embeddings up to each column's sign (eigenvectors have sign freedom), and
whether the rows' labels agree."""
import gzip
import os
import sys

import numpy as np

if sys.argv[1] == "--compare":
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    la = np.load(sys.argv[2].replace(".npy", ".labels.npy"))
    lb = np.load(sys.argv[3].replace(".npy", ".labels.npy"))
    d = np.minimum(np.abs(a - b).max(axis=0), np.abs(a + b).max(axis=0)).max()
    print("max diff %.1e, labels %s" % (d, "equal" if (la == lb).all() else "DIFFER"))
    sys.exit(0)
src, out = sys.argv[1], sys.argv[2]
with gzip.open(os.path.join(src, "t10k-images-idx3-ubyte.gz")) as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
with gzip.open(os.path.join(src, "t10k-labels-idx1-ubyte.gz")) as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
from scipy import ndimage  # noqa: E402

r = ndimage.rotate(x.reshape(-1, 28, 28).astype(np.float64), 30, axes=(1, 2), reshape=False, order=1)
np.save(os.path.join(out, "test_rot30.npy"), np.clip(np.rint(r), 0, 255).astype(np.uint8).reshape(-1, 784))
np.save(os.path.join(out, "test_rot30.labels.npy"), y.astype(np.int32))
