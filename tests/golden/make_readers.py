#!/usr/bin/python3
"""Fixtures for tests/test_readers_bin.c: tiny .mat (scipy.io.savemat), .npy (numpy) and IDX
files written independently of libtl, so the C readers are checked against the reference
writers. Values follow one formula the test recomputes:

    base(i, j) = 10 * i + j + 1
    signed     = base, negated when (i + j) is odd
    float      = signed + 0.25
    bool       = (i + j) even

Run from the repository root:  /usr/bin/python3 tests/golden/make_readers.py
Outputs go to tests/golden/readers/ (a few KB in all)."""
import gzip
import os
import struct

import numpy as np
import scipy.io
import scipy.sparse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "readers")


def pattern(r, c, kind):
    i, j = np.meshgrid(np.arange(r), np.arange(c), indexing="ij")
    base = 10 * i + j + 1
    if kind == "u":
        return base
    sgn = np.where((i + j) % 2 == 1, -1, 1)
    if kind == "i":
        return base * sgn
    if kind == "f":
        return base * sgn + 0.25
    if kind == "b":
        return (i + j) % 2 == 0
    raise ValueError(kind)


def path(name):
    return os.path.join(OUT, name)


def write_npy():
    kinds = {"f8": "f", "f4": "f", "f2": "f", "i8": "i", "i4": "i", "i2": "i", "i1": "i",
             "u8": "u", "u4": "u", "u2": "u", "u1": "u", "b1": "b"}
    for code, kind in kinds.items():
        a = pattern(3, 4, kind)
        np.save(path("a_%s.npy" % code), np.ascontiguousarray(a.astype(code)))
    # byte order, memory order and header versions
    np.save(path("a_be_f8.npy"), pattern(3, 4, "f").astype(">f8"))
    np.save(path("a_be_i4.npy"), pattern(3, 4, "i").astype(">i4"))
    np.save(path("a_be_u2.npy"), pattern(3, 4, "u").astype(">u2"))
    np.save(path("a_fortran_f8.npy"), np.asfortranarray(pattern(3, 4, "f")))
    np.save(path("a_fortran_be_f4.npy"), np.asfortranarray(pattern(3, 4, "f").astype(">f4")))
    for ver in ((2, 0), (3, 0)):
        with open(path("a_v%d_f8.npy" % ver[0]), "wb") as f:
            np.lib.format.write_array(f, pattern(3, 4, "f"), version=ver)
    # 1-D features and labels
    np.save(path("v_f8.npy"), pattern(5, 1, "f")[:, 0])
    np.save(path("a.labels.npy"), np.array([1, 2, 3], dtype=np.int32))
    np.save(path("labels_col_u1.npy"), np.array([[7], [8], [9]], dtype=np.uint8))
    np.save(path("labels_f8.npy"), np.array([0.0, 5.0, -2.0]))
    np.save(path("labels_frac.npy"), np.array([0.0, 1.5, 2.0]))
    np.save(path("labels_4.npy"), np.array([1, 2, 3, 4], dtype=np.int64))
    # refused
    np.save(path("bad_3d.npy"), np.zeros((2, 3, 4)))
    np.save(path("bad_complex.npy"), np.zeros((2, 2), dtype=np.complex128))
    np.save(path("bad_struct.npy"), np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")]))
    np.save(path("bad_object.npy"), np.array([1, "x", None], dtype=object), allow_pickle=True)
    np.save(path("bad_scalar.npy"), np.float64(3.0))
    np.save(path("bad_empty.npy"), np.zeros((0, 4)))


def idx_bytes(a, code):
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    hdr = bytes([0, 0, code, a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape)
    return hdr + np.ascontiguousarray(a.astype(dt)).tobytes()


def write_idx():
    # 3 images of 2 x 4 pixels: pixel (k, h, w) = pattern value at (k, h * 4 + w)
    img = pattern(3, 8, "u").astype(np.uint8).reshape(3, 2, 4)
    lab = np.array([2, 0, 9], dtype=np.uint8)
    with open(path("img-idx3-ubyte"), "wb") as f:
        f.write(idx_bytes(img, 0x08))
    with open(path("lab-idx1-ubyte"), "wb") as f:
        f.write(idx_bytes(lab, 0x08))
    # gzip with fixed mtime so the fixture is reproducible
    for src in ("img-idx3-ubyte", "lab-idx1-ubyte"):
        with open(path(src), "rb") as f:
            data = f.read()
        with open(path(src + ".gz"), "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
                g.write(data)
    # other element types, 2-D
    with open(path("i16-idx2"), "wb") as f:
        f.write(idx_bytes(pattern(3, 4, "i"), 0x0B))
    with open(path("i8-idx2"), "wb") as f:
        f.write(idx_bytes(pattern(3, 4, "i"), 0x09))
    with open(path("i32-idx2"), "wb") as f:
        f.write(idx_bytes(pattern(3, 4, "i") * 100000, 0x0C))
    with open(path("f32-idx2"), "wb") as f:
        f.write(idx_bytes(pattern(3, 4, "f"), 0x0D))
    with open(path("f64-idx2"), "wb") as f:
        f.write(idx_bytes(pattern(3, 4, "f"), 0x0E))
    with open(path("lab4-idx1"), "wb") as f:
        f.write(idx_bytes(np.array([1, 2, 3, 4], dtype=np.uint8), 0x08))


def write_mat():
    # Office+Caltech style: fts uint8 (4 x 3), labels uint8 (4 x 1) in 1..
    fts = pattern(4, 3, "u").astype(np.uint8)
    scipy.io.savemat(path("surf_like.mat"),
                     {"fts": fts, "labels": np.array([[1], [2], [3], [1]], dtype=np.uint8)})
    # DeCAF style, compressed: feas double (3 x 5), labels double (3 x 1)
    scipy.io.savemat(path("decaf_like.mat"),
                     {"feas": pattern(3, 5, "f"), "labels": np.array([[4.0], [5.0], [6.0]])},
                     do_compression=True)
    # JDA digits style: one sample per column. X_src is 3 features x 5 samples.
    xs = pattern(5, 3, "f").T.copy()  # sample k is column k = pattern row k
    xt = pattern(2, 3, "i").T.astype(np.float64).copy()
    scipy.io.savemat(path("cols.mat"), {
        "X_src": xs, "Y_src": np.arange(1, 6, dtype=np.uint8).reshape(5, 1),
        "X_tar": xt, "Y_tar": np.array([[10], [20]], dtype=np.uint8)})
    # named variables of other classes, plus things that must be refused
    scipy.io.savemat(path("named.mat"), {
        "feat_i16": pattern(3, 4, "i").astype(np.int16),
        "feat_i32": pattern(3, 4, "i").astype(np.int32),
        "feat_f32": pattern(3, 4, "f").astype(np.float32),
        "feat_u16": pattern(3, 4, "u").astype(np.uint16),
        "feat_i64": pattern(3, 4, "i").astype(np.int64),
        "lab_row": np.array([[3, 2, 1]], dtype=np.int8),  # 1 x 3: a row vector of labels
        "lab_frac": np.array([[1.0], [2.5], [3.0]]),
        "lab_2": np.array([[1.0], [2.0]]),
        "lab_mat": np.ones((3, 2)),
        "sp": scipy.sparse.csc_matrix(np.eye(3)),
        "cx": np.array([[1 + 2j, 3]]),
        "cell": np.array([[np.zeros(2), np.ones(3)]], dtype=object),
        "txt": "hello",
        "cube": np.zeros((2, 3, 4)),
        "empty": np.zeros((0, 0)),
        "nanfeat": np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]),
    })
    # labels that fit no features: an error when paired or auto-detected, ignored when the
    # features are named and the labels only have a conventional name
    scipy.io.savemat(path("mismatch.mat"), {
        "fts": pattern(3, 4, "u").astype(np.uint8), "feat2": pattern(3, 4, "f"),
        "labels": np.arange(1, 6, dtype=np.uint8).reshape(5, 1)})
    # no recognisable names at all
    scipy.io.savemat(path("nonames.mat"), {"foo": np.ones((2, 2)), "bar": np.ones((2, 1))})
    # MATLAB v4
    scipy.io.savemat(path("v4.mat"),
                     {"X": pattern(3, 4, "f"), "y": np.array([[1.0], [2.0], [1.0]])}, format="4")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_npy()
    write_idx()
    write_mat()


if __name__ == "__main__":
    main()
