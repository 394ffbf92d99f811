"""Rotated Fashion-MNIST for the intermediate-domain benchmark (issue 13): the gradual
domain-adaptation protocol of Kumar et al. (ICML 2020) applied to Fashion-MNIST.

Draws images from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) with a
fixed seed and writes, as .npy (float32 pixels in [0,1], one row per image; labels beside as
X.labels.npy):
  source.npy          n_src images rotated by angles uniform in [0, 5) degrees
  step01..stepNN.npy  the intermediate images, angles rising from 5 to 55 degrees, cut into
                      N windows in angle order (each window one intermediate domain)
  target.npy          unlabelled-at-fit target rows, angles in [55, 60)
  target_test.npy     held-out target rows, angles in [55, 60) (scored)
  inverted.npy, blurred.npy, noise.npy   distractor domains for --pool: other shifts (inverted
                      0-5 degree images, Gaussian-blurred 30 degree images, salt-and-pepper)
Usage: rotfmnist_make.py OUTDIR [n_src n_inter n_steps n_tgt [seed]]
       (defaults 5000 42000 21 3000 0; another seed draws other images, angles and distractors:
       a fresh copy for checking settings chosen on seed 0, such as the path's hop cost)
Why a script: the rotation is scipy.ndimage.rotate (bilinear); the data set ships only upright
images."""
import gzip, os, sys
import numpy as np
from scipy import ndimage

D = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def rot(imgs, angles):
    return np.stack([ndimage.rotate(im, a, reshape=False, order=1) for im, a in zip(imgs, angles)])


def save(out, name, X, y):
    X = X.reshape(len(X), -1).astype(np.float32)
    np.save(os.path.join(out, name + ".npy"), X)
    np.save(os.path.join(out, name + ".labels.npy"), y.astype(np.int32))


def main():
    out = sys.argv[1]
    n_src, n_int, n_steps, n_tgt = (int(v) for v in (sys.argv[2:6] or [5000, 42000, 21, 3000]))
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    os.makedirs(out, exist_ok=True)
    X = np.concatenate([idx(f"{D}/train-images-idx3-ubyte.gz"), idx(f"{D}/t10k-images-idx3-ubyte.gz")])
    y = np.concatenate([idx(f"{D}/train-labels-idx1-ubyte.gz"), idx(f"{D}/t10k-labels-idx1-ubyte.gz")])
    X = X.astype(np.float32) / 255.0
    rng = np.random.default_rng(seed)
    n_dis = 1000
    need = n_src + n_int + 2 * n_tgt + 3 * n_dis
    p = rng.permutation(len(X))[:need]
    X, y = X[p], y[p]
    o = 0
    def take(n):
        nonlocal o
        o += n
        return X[o - n:o], y[o - n:o]
    xs, ys = take(n_src)
    save(out, "source", rot(xs, rng.uniform(0, 5, n_src)), ys)
    xi, yi = take(n_int)
    ang = np.sort(rng.uniform(5, 55, n_int))
    xi = rot(xi, ang)
    for s, cut in enumerate(np.array_split(np.arange(n_int), n_steps)):
        save(out, "step%02d" % (s + 1), xi[cut], yi[cut])
    for name in ("target", "target_test"):
        xt, yt = take(n_tgt)
        save(out, name, rot(xt, rng.uniform(55, 60, n_tgt)), yt)
    xd, yd = take(n_dis)
    save(out, "inverted", 1.0 - rot(xd, rng.uniform(0, 5, n_dis)), yd)
    xd, yd = take(n_dis)
    save(out, "blurred", np.stack([ndimage.gaussian_filter(im, 1.5) for im in rot(xd, np.full(n_dis, 30.0))]), yd)
    xd, yd = take(n_dis)
    m = rng.uniform(size=xd.shape) < 0.2
    save(out, "noise", np.where(m, rng.uniform(size=xd.shape).astype(np.float32), xd), yd)


if __name__ == "__main__":
    main()
