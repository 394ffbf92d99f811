/* Tests of the binary-format readers: MATLAB .mat (libmatio), NumPy .npy and IDX (plain and
 * gzip). Fixtures in tests/golden/readers/ were written by scipy.io.savemat / numpy.save /
 * Python's gzip (tests/golden/make_readers.py); every value follows one formula recomputed
 * here, so each test checks the exact numbers, shapes and layout (row- vs column-major,
 * one-sample-per-column .mat files). Hostile cases (truncated, corrupted, wrong type, count
 * mismatch) are derived at run time from the valid fixtures in a private temporary folder and
 * must fail with the right status and a message naming the file. The shared benchmark data
 * and Fashion-MNIST are checked for shapes, label counts and a few known values when present.
 * Run from the repository root. */
#include <float.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

#include <matio.h>

#include "harness.h"
#include "internal/testing.h"
#include "tl/data.h"

#define FIX "tests/golden/readers/"

static char tmpdir[256];

/* ---- helpers ---- */

static double pat_base(size_t i, size_t j) { return 10.0 * (double)i + (double)j + 1.0; }
static double pat_signed(size_t i, size_t j) {
    return (i + j) % 2 ? -pat_base(i, j) : pat_base(i, j);
}
static double pat_float(size_t i, size_t j) { return pat_signed(i, j) + 0.25; }
static double pat_bool(size_t i, size_t j) { return (i + j) % 2 == 0 ? 1.0 : 0.0; }

static const char *tmp(const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", tmpdir, name);
    return buf;
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("  cannot open %s (run the tests from the repository root)\n", path);
        *len = 0;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(buf, 1, len, f);
    fclose(f);
}

/* Write the first n bytes of src to dst (a truncated copy); n may exceed the file (no-op). */
static void write_prefix(const char *src, const char *dst, size_t n) {
    size_t len;
    unsigned char *b = slurp(src, &len);
    if (!b) return;
    spit(dst, b, n < len ? n : len);
    free(b);
}

/* Copy src to dst with byte at offset changed to v. */
static void write_patched(const char *src, const char *dst, size_t off, unsigned char v) {
    size_t len;
    unsigned char *b = slurp(src, &len);
    if (!b) return;
    if (off < len) b[off] = v;
    spit(dst, b, len);
    free(b);
}

static void gzip_file(const char *dst, const void *buf, size_t len) {
    gzFile g = gzopen(dst, "wb");
    if (!g) return;
    gzwrite(g, buf, (unsigned)len);
    gzclose(g);
}

/* The matrix equals f(i, j) exactly. */
static int mat_equals(tl_mat X, size_t r, size_t c, double (*f)(size_t, size_t)) {
    if (X.rows != r || X.cols != c || !X.data) {
        printf("  shape %zu x %zu, expected %zu x %zu\n", X.rows, X.cols, r, c);
        return 0;
    }
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++)
            if (TL_AT(X, i, j) != f(i, j)) {
                printf("  (%zu, %zu) = %.17g, expected %.17g\n", i, j, TL_AT(X, i, j), f(i, j));
                return 0;
            }
    return 1;
}

/* Capture stderr to a file while hostile inputs are read: the library must never print. */
static int stderr_saved = -1;
static char stderr_path[300];
static void stderr_capture_begin(void) {
    fflush(stderr);
    tmp("stderr.txt", stderr_path, sizeof stderr_path);
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return;
    stderr_saved = dup(2);
    dup2(fd, 2);
    close(fd);
}
static long stderr_capture_end(void) {
    fflush(stderr);
    if (stderr_saved >= 0) {
        dup2(stderr_saved, 2);
        close(stderr_saved);
        stderr_saved = -1;
    }
    struct stat sb;
    if (stat(stderr_path, &sb) != 0) return -1;
    if (sb.st_size > 0) {
        size_t n;
        unsigned char *b = slurp(stderr_path, &n);
        printf("  library printed to stderr: %.*s\n", (int)(n > 300 ? 300 : n), (char *)b);
        free(b);
    }
    return (long)sb.st_size;
}

/* ---- NPY ---- */

static void npy_check(const char *file, double (*f)(size_t, size_t)) {
    size_t len, ndim = 0;
    char path[256];
    snprintf(path, sizeof path, FIX "%s", file);
    unsigned char *b = slurp(path, &len);
    CHECK(b != NULL);
    if (!b) return;
    tl_mat X;
    CHECK_OK(tl_parse_npy(b, len, file, &X, &ndim));
    CHECK_MSG(mat_equals(X, 3, 4, f), "%s", file);
    CHECK(ndim == 2);
    tl_mat_free(&X);
    free(b);
}

TEST(npy_dtypes) {
    const char *floats[] = {"a_f8.npy", "a_f4.npy", "a_f2.npy", "a_be_f8.npy",
                            "a_fortran_f8.npy", "a_fortran_be_f4.npy", "a_v2_f8.npy",
                            "a_v3_f8.npy"};
    for (size_t k = 0; k < sizeof floats / sizeof *floats; k++) npy_check(floats[k], pat_float);
    const char *ints[] = {"a_i8.npy", "a_i4.npy", "a_i2.npy", "a_i1.npy", "a_be_i4.npy"};
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) npy_check(ints[k], pat_signed);
    const char *uints[] = {"a_u8.npy", "a_u4.npy", "a_u2.npy", "a_u1.npy", "a_be_u2.npy"};
    for (size_t k = 0; k < sizeof uints / sizeof *uints; k++) npy_check(uints[k], pat_base);
    npy_check("a_b1.npy", pat_bool);
}

TEST(npy_1d) {
    size_t len, ndim = 0;
    unsigned char *b = slurp(FIX "v_f8.npy", &len);
    tl_mat X;
    CHECK_OK(tl_parse_npy(b, len, "v_f8.npy", &X, &ndim));
    CHECK(mat_equals(X, 5, 1, pat_float));
    CHECK(ndim == 1);
    tl_mat_free(&X);
    free(b);
}

TEST(npy_read_with_labels) {
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_npy(FIX "a_f8.npy", FIX "a.labels.npy", &ds));
    if (!ds) return;
    CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float));
    const int *y = tl_dataset_labels_const(ds);
    CHECK(y && y[0] == 1 && y[1] == 2 && y[2] == 3);
    CHECK(strstr(tl_dataset_name(ds), "a_f8.npy") != NULL);
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_npy(FIX "a_i2.npy", FIX "labels_col_u1.npy", &ds));
    y = ds ? tl_dataset_labels_const(ds) : NULL;
    CHECK(y && y[0] == 7 && y[1] == 8 && y[2] == 9);
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_npy(FIX "a_u1.npy", FIX "labels_f8.npy", &ds));
    y = ds ? tl_dataset_labels_const(ds) : NULL;
    CHECK(y && y[0] == 0 && y[1] == 5 && y[2] == -2);
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_npy(FIX "a_fortran_f8.npy", NULL, &ds));
    CHECK(ds && !tl_dataset_has_labels(ds));
    if (ds) CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float));
    tl_dataset_free(ds);
}

TEST(npy_bad_labels) {
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_read_npy(FIX "a_f8.npy", FIX "labels_frac.npy", &ds), TL_ERR_LABEL);
    CHECK_ERR_HAS("labels_frac.npy");
    CHECK_ERR_HAS("1.5");
    CHECK(ds == NULL);
    CHECK_STATUS(tl_read_npy(FIX "a_f8.npy", FIX "labels_4.npy", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("labels_4.npy");
    CHECK_STATUS(tl_read_npy(FIX "a_f8.npy", FIX "a_f8.npy", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("1-D");
    CHECK_STATUS(tl_read_npy(FIX "a_f8.npy", FIX "no_such_labels.npy", &ds), TL_ERR_IO);
    CHECK_ERR_HAS("no_such_labels.npy");
    CHECK(ds == NULL);
}

TEST(npy_refused) {
    tl_dataset *ds = NULL;
    /* bad_3d.npy (zeros of shape (2, 3, 4)) was refused before 3-D stacks were read: now it is
       2 rows of 12 features, its sample shape (3, 4) kept (more in npy_nd) */
    CHECK_OK(tl_read_npy(FIX "bad_3d.npy", NULL, &ds));
    if (ds) {
        size_t dims[TL_SAMPLE_SHAPE_MAX];
        CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 12);
        CHECK(tl_dataset_sample_shape(ds, dims) == 2 && dims[0] == 3 && dims[1] == 4);
    }
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_STATUS(tl_read_npy(FIX "bad_complex.npy", NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("bad_complex.npy");
    CHECK_ERR_HAS("c16");
    CHECK_STATUS(tl_read_npy(FIX "bad_struct.npy", NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("bad_struct.npy");
    CHECK_STATUS(tl_read_npy(FIX "bad_object.npy", NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("bad_object.npy");
    CHECK_STATUS(tl_read_npy(FIX "bad_scalar.npy", NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("bad_scalar.npy");
    CHECK_STATUS(tl_read_npy(FIX "bad_empty.npy", NULL, &ds), TL_ERR_EMPTY);
    CHECK_ERR_HAS("bad_empty.npy");
    CHECK_STATUS(tl_read_npy(FIX "missing.npy", NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("missing.npy");
    CHECK(ds == NULL);
}

TEST(npy_truncated_corrupted) {
    char p[300];
    tl_dataset *ds = NULL;
    size_t len;
    unsigned char *b = slurp(FIX "a_f8.npy", &len); /* 128-byte header + 96 data bytes */
    CHECK(b && len == 224);
    free(b);

    write_prefix(FIX "a_f8.npy", tmp("trunc.npy", p, sizeof p), 216);
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("trunc.npy: data truncated: expected 96 bytes, found 88");
    write_prefix(FIX "a_f8.npy", p, 60); /* cut inside the header */
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("trunc.npy");
    CHECK_ERR_HAS("header truncated");
    write_prefix(FIX "a_f8.npy", p, 5);
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("trunc.npy");
    write_prefix(FIX "a_f8.npy", p, 0);
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("trunc.npy");

    write_patched(FIX "a_f8.npy", tmp("magic.npy", p, sizeof p), 1, 'X');
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("magic.npy: not a .npy file");
    write_patched(FIX "a_f8.npy", p, 6, 9); /* version 9.0 */
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("magic.npy");
    write_patched(FIX "a_f8.npy", p, 8, 0xff); /* header length beyond the file */
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("magic.npy");

    /* extra bytes after the data */
    b = slurp(FIX "a_f8.npy", &len);
    unsigned char *b2 = malloc(len + 8);
    memcpy(b2, b, len);
    memset(b2 + len, 0, 8);
    spit(tmp("long.npy", p, sizeof p), b2, len + 8);
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("long.npy: 8 unexpected bytes");
    free(b);
    free(b2);
    CHECK(ds == NULL);
}

/* Build an in-memory v1.0 file from a header dict and data bytes. */
static size_t npy_make(unsigned char *out, const char *dict, const void *data, size_t dlen) {
    size_t hl = strlen(dict);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hl & 0xff);
    out[9] = (unsigned char)(hl >> 8);
    memcpy(out + 10, dict, hl);
    memcpy(out + 10 + hl, data, dlen);
    return 10 + hl + dlen;
}

/* Native float64 files take the direct path (header by npy_open, payload by pread into the
 * matrix): v1, v2 and v3 headers, NaN found and placed, and the other dtypes still convert. */
TEST(npy_direct_path) {
    tl_dataset *ds = NULL;
    const char *files[] = {FIX "a_f8.npy", FIX "a_v2_f8.npy", FIX "a_v3_f8.npy",
                           FIX "a_be_f8.npy", FIX "a_fortran_f8.npy", FIX "a_f4.npy"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        ds = NULL;
        CHECK_OK(tl_read_npy(files[k], NULL, &ds));
        if (ds) CHECK_MSG(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float), "%s", files[k]);
        tl_dataset_free(ds);
    }
    unsigned char buf[512];
    double d[6] = {1, 2, 3, 4, 5, 6};
    d[4] = NAN;
    char p[300];
    size_t n = npy_make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", d,
                        sizeof d);
    spit(tmp("nan.npy", p, sizeof p), buf, n);
    ds = NULL;
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("nan.npy: NaN at row 3, column 1");
    CHECK(ds == NULL);
    /* rows wider than the screen's 4-value stride: an infinity in the vector part, a huge finite
     * value (x * 0 stays 0) beside it, and one in the scalar tail */
    double w[2 * 9];
    for (int i = 0; i < 18; i++) w[i] = i;
    w[3] = DBL_MAX;
    w[9 + 6] = -INFINITY;
    n = npy_make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 9), }", w, sizeof w);
    spit(tmp("inf.npy", p, sizeof p), buf, n);
    ds = NULL;
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("inf.npy: Inf at row 2, column 7");
    w[9 + 6] = 1.0;
    w[9 + 8] = NAN;
    n = npy_make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 9), }", w, sizeof w);
    spit(tmp("inf.npy", p, sizeof p), buf, n);
    CHECK_STATUS(tl_read_npy(p, NULL, &ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("inf.npy: NaN at row 2, column 9");
    w[9 + 8] = 2.0;
    n = npy_make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 9), }", w, sizeof w);
    spit(tmp("inf.npy", p, sizeof p), buf, n);
    CHECK_OK(tl_read_npy(p, NULL, &ds)); /* DBL_MAX is finite */
    tl_dataset_free(ds);
}

/* 3-D and 4-D arrays: n rows of the flattened trailing dimensions in C order, whatever the
 * file's own order. Element (i, j, k) of a (2, 2, 3) array is given the value i*6 + j*3 + k, so
 * row i must read i*6 .. i*6 + 5 in order. */
TEST(npy_nd) {
    unsigned char buf[1024];
    double c[12], f[12];
    tl_mat X;
    size_t n, ndim = 0;
    for (size_t v = 0; v < 12; v++) c[v] = (double)v;
    /* Fortran order of the same array: memory index i + 2 * (j + 2 * k) */
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            for (size_t k = 0; k < 3; k++) f[i + 2 * (j + 2 * k)] = (double)(i * 6 + j * 3 + k);
    const char *dicts[2] = {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 3), }",
                            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2, 3), }"};
    const double *data[2] = {c, f};
    for (int q = 0; q < 2; q++) {
        n = npy_make(buf, dicts[q], data[q], sizeof c);
        CHECK_OK(tl_parse_npy(buf, n, "nd", &X, &ndim));
        CHECK(ndim == 3 && X.rows == 2 && X.cols == 6);
        bool ok = X.data != NULL;
        for (size_t i = 0; ok && i < 2; i++)
            for (size_t j = 0; j < 6; j++) ok = ok && TL_AT(X, i, j) == (double)(i * 6 + j);
        CHECK_MSG(ok, "order %s", q ? "fortran" : "C");
        tl_mat_free(&X);
    }
    /* 4-D (n, c, h, w) = (3, 1, 2, 2), Fortran: memory i + 3 * (a + 1 * (b + 2 * d)) */
    double g[12];
    for (size_t i = 0; i < 3; i++)
        for (size_t b = 0; b < 2; b++)
            for (size_t d = 0; d < 2; d++) g[i + 3 * (b + 2 * d)] = (double)(i * 4 + b * 2 + d);
    n = npy_make(buf, "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 1, 2, 2), }", g,
                 sizeof g);
    CHECK_OK(tl_parse_npy(buf, n, "nd4", &X, &ndim));
    CHECK(ndim == 4 && X.rows == 3 && X.cols == 4);
    bool ok = X.data != NULL;
    for (size_t i = 0; ok && i < 3; i++)
        for (size_t j = 0; j < 4; j++) ok = ok && TL_AT(X, i, j) == (double)(i * 4 + j);
    CHECK(ok);
    tl_mat_free(&X);
    /* through the file reader (direct pread path for native f8 C order): the sample shape */
    char path[] = "/tmp/tl_npy_nd_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    n = npy_make(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 2, 2), }", c,
                 sizeof c);
    CHECK(write(fd, buf, n) == (ssize_t)n);
    close(fd);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_npy(path, NULL, &ds));
    if (ds) {
        size_t dims[TL_SAMPLE_SHAPE_MAX];
        CHECK(tl_dataset_rows(ds) == 1 && tl_dataset_cols(ds) == 12);
        CHECK(tl_dataset_sample_shape(ds, dims) == 3 && dims[0] == 3 && dims[1] == 2 &&
              dims[2] == 2);
        CHECK(TL_AT(tl_dataset_dense(ds), 0, 11) == 11.0);
        tl_dataset *cl = NULL;
        CHECK_OK(tl_dataset_clone(ds, &cl));
        CHECK(tl_dataset_sample_shape(cl, NULL) == 3);
        tl_dataset_free(cl);
    }
    tl_dataset_free(ds);
    unlink(path);
}

TEST(npy_header_syntax) {
    unsigned char buf[512];
    double d[4] = {1, 2, 3, 4};
    tl_mat X;
    size_t n, ndim;
    /* accepted variants: double quotes, no trailing comma, Python 2 'L', '=' order */
    n = npy_make(buf, "{\"descr\": \"<f8\", \"shape\": (2L, 2L), \"fortran_order\": False}  \n",
                 d, sizeof d);
    CHECK_OK(tl_parse_npy(buf, n, "h1", &X, &ndim));
    CHECK(X.rows == 2 && X.cols == 2 && X.data && TL_AT(X, 1, 0) == 3.0);
    tl_mat_free(&X);
    n = npy_make(buf, "{'descr':'=f8','fortran_order':True,'shape':(2,2,),}\n", d, sizeof d);
    CHECK_OK(tl_parse_npy(buf, n, "h2", &X, &ndim));
    CHECK(X.data && TL_AT(X, 1, 0) == 2.0 && TL_AT(X, 0, 1) == 3.0); /* column-major */
    tl_mat_free(&X);

    struct {
        const char *dict;
        tl_status st;
        const char *msg;
    } bad[] = {
        {"{'descr': '<f8', 'fortran_order': False}\n", TL_ERR_FORMAT, "missing 'shape'"},
        {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (4,)}\n",
         TL_ERR_FORMAT, "duplicate"},
        {"{'descr': '<f8', 'fortran_order': 0, 'shape': (4,)}\n", TL_ERR_FORMAT, "True/False"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'extra': 1}\n", TL_ERR_FORMAT,
         "unexpected key"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,)", TL_ERR_FORMAT, "hdr"},
        {"['descr', '<f8']\n", TL_ERR_FORMAT, "dictionary"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,)} junk\n", TL_ERR_FORMAT,
         "after the dictionary"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}\n",
         TL_ERR_FORMAT, "overflows"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}\n",
         TL_ERR_FORMAT, "overflows"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (-4,)}\n", TL_ERR_FORMAT, "integer"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': 4}\n", TL_ERR_FORMAT, "tuple"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 4)}\n",
         TL_ERR_UNSUPPORTED, "5-D"},
        {"{'descr': '<f16', 'fortran_order': False, 'shape': (4,)}\n", TL_ERR_UNSUPPORTED,
         "f16"},
        {"{'descr': '<U8', 'fortran_order': False, 'shape': (4,)}\n", TL_ERR_UNSUPPORTED, "U8"},
        {"{'descr': '|f8', 'fortran_order': False, 'shape': (4,)}\n", TL_ERR_FORMAT,
         "byte order"},
        {"{'descr': 'f8\\n', 'fortran_order': False, 'shape': (4,)}\n", TL_ERR_FORMAT, "hdr"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (5,)}\n", TL_ERR_FORMAT,
         "expected 40 bytes, found 32"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\n", TL_ERR_FORMAT,
         "8 unexpected bytes"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        n = npy_make(buf, bad[k].dict, d, sizeof d);
        X.data = (double *)1;
        tl_status st = tl_parse_npy(buf, n, "hdr", &X, &ndim);
        CHECK_MSG(st == bad[k].st, "case %zu (%s): status %d, expected %d (%s)", k, bad[k].dict,
                  (int)st, (int)bad[k].st, tl_error_message());
        CHECK_ERR_HAS(bad[k].msg);
        CHECK_ERR_HAS("hdr");
        CHECK(X.data == NULL);
    }
}

/* ---- IDX ---- */

static double pat_img(size_t i, size_t j) { return pat_base(i, j); }

TEST(idx_images_labels) {
    const char *pairs[][2] = {{FIX "img-idx3-ubyte", FIX "lab-idx1-ubyte"},
                              {FIX "img-idx3-ubyte.gz", FIX "lab-idx1-ubyte.gz"},
                              {FIX "img-idx3-ubyte.gz", FIX "lab-idx1-ubyte"}};
    for (size_t k = 0; k < 3; k++) {
        tl_dataset *ds = NULL;
        CHECK_OK(tl_read_idx(pairs[k][0], pairs[k][1], &ds));
        if (!ds) continue;
        CHECK_MSG(mat_equals(tl_dataset_dense(ds), 3, 8, pat_img), "%s", pairs[k][0]);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 2 && y[1] == 0 && y[2] == 9);
        CHECK(strstr(tl_dataset_name(ds), "img-idx3-ubyte") != NULL);
        /* the image shape behind the 8 features is kept (its two dimensions multiply to 8) */
        size_t dims[TL_SAMPLE_SHAPE_MAX];
        CHECK(tl_dataset_sample_shape(ds, dims) == 2 && dims[0] * dims[1] == 8);
        tl_dataset_free(ds);
    }
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_idx(FIX "img-idx3-ubyte.gz", NULL, &ds));
    CHECK(ds && !tl_dataset_has_labels(ds) && tl_dataset_rows(ds) == 3);
    tl_dataset_free(ds);
}

TEST(idx_types) {
    struct {
        const char *file;
        double (*f)(size_t, size_t);
        double scale;
    } cases[] = {{"i8-idx2", pat_signed, 1},
                 {"i16-idx2", pat_signed, 1},
                 {"i32-idx2", pat_signed, 100000},
                 {"f32-idx2", pat_float, 1},
                 {"f64-idx2", pat_float, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char path[256];
        size_t len, dims[4] = {9, 9, 9, 9}, ndim = 0;
        snprintf(path, sizeof path, FIX "%s", cases[k].file);
        unsigned char *b = slurp(path, &len);
        if (!b) {
            CHECK(b != NULL);
            continue;
        }
        tl_mat X;
        CHECK_OK(tl_parse_idx(b, len, cases[k].file, &X, dims, &ndim));
        CHECK(ndim == 2 && dims[0] == 3 && dims[1] == 4 && dims[2] == 0 && dims[3] == 0);
        int ok = X.rows == 3 && X.cols == 4 && X.data;
        for (size_t i = 0; ok && i < 3; i++)
            for (size_t j = 0; j < 4; j++)
                if (TL_AT(X, i, j) != cases[k].f(i, j) * cases[k].scale) ok = 0;
        CHECK_MSG(ok, "%s values", cases[k].file);
        tl_mat_free(&X);
        free(b);
    }
    /* dims of the image file */
    size_t len, dims[4], ndim;
    unsigned char *b = slurp(FIX "img-idx3-ubyte.gz", &len);
    tl_mat X;
    CHECK_OK(tl_parse_idx(b, len, "img", &X, dims, &ndim));
    CHECK(ndim == 3 && dims[0] == 3 && dims[1] == 2 && dims[2] == 4 && X.cols == 8);
    tl_mat_free(&X);
    free(b);
}

TEST(idx_bad) {
    char p[300], q[300];
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_read_idx(FIX "img-idx3-ubyte", FIX "lab4-idx1", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("lab4-idx1");
    CHECK_ERR_HAS("4 labels for 3 images");
    CHECK_STATUS(tl_read_idx(FIX "img-idx3-ubyte", FIX "img-idx3-ubyte.gz", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("img-idx3-ubyte.gz");
    CHECK_STATUS(tl_read_idx(FIX "nothing-idx3-ubyte", NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("nothing-idx3-ubyte");

    /* truncated plain file: 40 bytes = 16 header + 24 data */
    write_prefix(FIX "img-idx3-ubyte", tmp("t-idx3-ubyte", p, sizeof p), 30);
    CHECK_STATUS(tl_read_idx(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t-idx3-ubyte: data truncated: expected 24 bytes, found 14");
    write_prefix(FIX "img-idx3-ubyte", p, 10);
    CHECK_STATUS(tl_read_idx(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t-idx3-ubyte: IDX header truncated");
    write_prefix(FIX "img-idx3-ubyte", p, 0);
    CHECK_STATUS(tl_read_idx(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t-idx3-ubyte");
    /* truncated gzip (cut inside the compressed stream, and just before the trailer) */
    write_prefix(FIX "img-idx3-ubyte.gz", tmp("t.gz", p, sizeof p), 30);
    CHECK_STATUS(tl_read_idx(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t.gz");
    size_t glen;
    unsigned char *g = slurp(FIX "img-idx3-ubyte.gz", &glen);
    free(g);
    write_prefix(FIX "img-idx3-ubyte.gz", p, glen - 4);
    CHECK_STATUS(tl_read_idx(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t.gz: gzip data truncated");
    /* gzip of a truncated IDX file */
    size_t len;
    unsigned char *b = slurp(FIX "img-idx3-ubyte", &len);
    gzip_file(tmp("short.gz", q, sizeof q), b, len - 5);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("short.gz: data truncated: expected 24 bytes, found 19");
    /* gzip of an IDX file with extra bytes after the data */
    unsigned char big[64];
    memcpy(big, b, len);
    memset(big + len, 7, 3);
    gzip_file(q, big, len + 3);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("short.gz: unexpected data after");
    spit(tmp("long-idx", q, sizeof q), big, len + 3);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("long-idx: 3 unexpected bytes");
    /* corrupted gzip payload */
    g = slurp(FIX "img-idx3-ubyte.gz", &glen);
    for (size_t k = 12; k < glen - 8; k++) g[k] ^= 0x5a;
    spit(tmp("bad.gz", q, sizeof q), g, glen);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad.gz");
    free(g);
    /* wrong magic, unknown type, too many dimensions, dimension overflow, empty */
    write_patched(FIX "img-idx3-ubyte", tmp("m-idx", q, sizeof q), 0, 0x12);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("m-idx: not an IDX file");
    write_patched(FIX "img-idx3-ubyte", q, 2, 0x0A);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("m-idx");
    CHECK_ERR_HAS("0x0a");
    write_patched(FIX "img-idx3-ubyte", q, 3, 9);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("m-idx");
    write_patched(FIX "img-idx3-ubyte", q, 3, 0);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("m-idx");
    unsigned char ovf[4 + 16] = {0, 0, 0x0E, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    spit(q, ovf, sizeof ovf);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("m-idx: IDX dimensions overflow");
    /* a tiny gzip whose header claims (2^32-1) x 256 x 1 bytes: no huge allocation, just
     * "truncated" */
    unsigned char hostile[4 + 12] = {0, 0, 0x08, 3, 0xff, 0xff, 0xff, 0xff,
                                     0, 0, 1, 0, 0, 0, 0, 1};
    gzip_file(tmp("hostile.gz", q, sizeof q), hostile, sizeof hostile);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("hostile.gz: data truncated");
    unsigned char empty[8] = {0, 0, 0x08, 1, 0, 0, 0, 0};
    spit(q, empty, sizeof empty);
    CHECK_STATUS(tl_read_idx(q, NULL, &ds), TL_ERR_EMPTY);
    CHECK_ERR_HAS("hostile.gz");
    /* non-integral float labels */
    unsigned char flab[4 + 4 + 12] = {0, 0, 0x0D, 1, 0, 0, 0, 3};
    float fv[3] = {1.0f, 2.5f, 3.0f};
    for (int k = 0; k < 3; k++) {
        uint32_t u;
        memcpy(&u, &fv[k], 4);
        for (int s = 0; s < 4; s++) flab[8 + 4 * k + s] = (unsigned char)(u >> (24 - 8 * s));
    }
    spit(tmp("flab-idx1", q, sizeof q), flab, sizeof flab);
    CHECK_STATUS(tl_read_idx(FIX "img-idx3-ubyte", q, &ds), TL_ERR_LABEL);
    CHECK_ERR_HAS("flab-idx1");
    CHECK_ERR_HAS("2.5");
    free(b);
    CHECK(ds == NULL);
}

TEST(idx_fashion_mnist) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (!tl_test_is_dir(dir)) SKIP("%s not found (Debian package dataset-fashion-mnist)", dir);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                         "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", &ds));
    if (!ds) return;
    CHECK(tl_dataset_rows(ds) == 60000 && tl_dataset_cols(ds) == 784);
    const int *y = tl_dataset_labels_const(ds);
    size_t counts[10] = {0}, bad = 0;
    for (size_t i = 0; i < tl_dataset_rows(ds); i++) {
        if (y[i] < 0 || y[i] > 9)
            bad++;
        else
            counts[y[i]]++;
    }
    CHECK(bad == 0);
    for (int c = 0; c < 10; c++) CHECK_MSG(counts[c] == 6000, "class %d: %zu", c, counts[c]);
    tl_mat X = tl_dataset_dense(ds);
    double mn = 1e9, mx = -1e9;
    size_t nonint = 0;
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) {
            double v = TL_AT(X, i, j);
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
            if (v != floor(v)) nonint++;
        }
    CHECK(mn == 0.0 && mx == 255.0 && nonint == 0); /* raw values, no scaling */
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                         "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", &ds));
    CHECK(ds && tl_dataset_rows(ds) == 10000 && tl_dataset_cols(ds) == 784);
    tl_dataset_free(ds);
    /* train images with test labels: count mismatch */
    ds = NULL;
    CHECK_STATUS(tl_read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                             "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", &ds),
                 TL_ERR_SHAPE);
    CHECK_ERR_HAS("10000 labels for 60000 images");
    CHECK(ds == NULL);
}

/* ---- MAT ---- */

static double pat_u43(size_t i, size_t j) { return pat_base(i, j); }

TEST(mat_auto_surf_decaf) {
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(FIX "surf_like.mat", NULL, NULL, &ds));
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 4, 3, pat_u43));
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 1 && y[1] == 2 && y[2] == 3 && y[3] == 1);
        CHECK(strstr(tl_dataset_name(ds), "surf_like.mat") != NULL);
    }
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_mat(FIX "decaf_like.mat", NULL, NULL, &ds)); /* compressed v7 */
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 3, 5, pat_float));
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 4 && y[1] == 5 && y[2] == 6);
    }
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_mat(FIX "v4.mat", NULL, NULL, &ds));
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float));
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 1 && y[1] == 2 && y[2] == 1);
    }
    tl_dataset_free(ds);
}

static double pat_tar(size_t i, size_t j) { return pat_signed(i, j); }

TEST(mat_columns_layout) {
    tl_dataset *ds = NULL;
    /* auto: X_src (3 x 5, one sample per column) with Y_src (5): 5 x 3 */
    CHECK_OK(tl_read_mat(FIX "cols.mat", NULL, NULL, &ds));
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 5, 3, pat_float));
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 1 && y[4] == 5);
    }
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_OK(tl_read_mat(FIX "cols.mat", "X_tar", "Y_tar", &ds));
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 2, 3, pat_tar));
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 10 && y[1] == 20);
    }
    tl_dataset_free(ds);

    /* named features, labels found by the paired name (X_tar -> Y_tar) */
    ds = NULL;
    CHECK_OK(tl_read_mat(FIX "cols.mat", "X_tar", NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 3);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 10 && y[1] == 20);
    }
    tl_dataset_free(ds);

    ds = NULL;
    CHECK_STATUS(tl_read_mat(FIX "cols.mat", "X_src", "Y_tar", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("cols.mat");
    CHECK_ERR_HAS("X_src");
    CHECK_ERR_HAS("Y_tar");
    CHECK_STATUS(tl_read_mat(FIX "cols.mat", "X_foo", NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("cols.mat: no variable 'X_foo' (variables: X_src, Y_src, X_tar, Y_tar)");
    CHECK_STATUS(tl_read_mat(FIX "cols.mat", "X_src", "Y_foo", &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("no variable 'Y_foo'");
    CHECK(ds == NULL);
}

TEST(mat_label_rules) {
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_read_mat(FIX "mismatch.mat", NULL, NULL, &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("mismatch.mat: features 'fts' are 3 x 4 but labels 'labels' have 5 entries");
    CHECK_STATUS(tl_read_mat(FIX "mismatch.mat", "fts", NULL, &ds), TL_ERR_SHAPE); /* paired */
    CHECK_ERR_HAS("mismatch.mat");
    CHECK(ds == NULL);
    /* named features, a conventional label name of the wrong length: read unlabelled */
    CHECK_OK(tl_read_mat(FIX "mismatch.mat", "feat2", NULL, &ds));
    if (ds) {
        CHECK(!tl_dataset_has_labels(ds));
        CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float));
    }
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_STATUS(tl_read_mat(FIX "mismatch.mat", "feat2", "labels", &ds), TL_ERR_SHAPE);
    CHECK(ds == NULL);
}

TEST(mat_named_classes) {
    const char *feats[] = {"feat_i16", "feat_i32", "feat_i64"};
    for (size_t k = 0; k < 3; k++) {
        tl_dataset *ds = NULL;
        CHECK_OK(tl_read_mat(FIX "named.mat", feats[k], "lab_row", &ds));
        if (!ds) continue;
        CHECK_MSG(mat_equals(tl_dataset_dense(ds), 3, 4, pat_signed), "%s", feats[k]);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 3 && y[1] == 2 && y[2] == 1);
        tl_dataset_free(ds);
    }
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(FIX "named.mat", "feat_f32", NULL, &ds));
    if (ds) {
        CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_float));
        CHECK(!tl_dataset_has_labels(ds)); /* no conventional label name in this file */
    }
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_OK(tl_read_mat(FIX "named.mat", "feat_u16", "lab_row", &ds));
    if (ds) CHECK(mat_equals(tl_dataset_dense(ds), 3, 4, pat_base));
    tl_dataset_free(ds);
}

TEST(mat_refused) {
    struct {
        const char *x, *y;
        tl_status st;
        const char *msg;
    } cases[] = {
        {"feat_i16", "lab_frac", TL_ERR_LABEL, "'lab_frac': label 2.5"},
        {"feat_i16", "lab_2", TL_ERR_SHAPE, "'lab_2' have 2 entries"},
        {"feat_i16", "lab_mat", TL_ERR_LABEL, "'lab_mat' is 3 x 2; expected a vector"},
        {"sp", NULL, TL_ERR_UNSUPPORTED, "'sp' is a sparse matrix"},
        {"cx", NULL, TL_ERR_UNSUPPORTED, "'cx' is complex"},
        {"cell", NULL, TL_ERR_UNSUPPORTED, "'cell' is a cell array"},
        {"txt", NULL, TL_ERR_UNSUPPORTED, "'txt' is a char array"},
        {"cube", NULL, TL_ERR_UNSUPPORTED, "'cube' has 3 dimensions"},
        {"empty", NULL, TL_ERR_EMPTY, "'empty' is empty"},
        {"nanfeat", NULL, TL_ERR_NONFINITE, "'nanfeat': NaN at row 1, column 2"},
        {"feat_i16", "sp", TL_ERR_UNSUPPORTED, "'sp' is a sparse matrix"},
    };
    stderr_capture_begin();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tl_dataset *ds = NULL;
        tl_status st = tl_read_mat(FIX "named.mat", cases[k].x, cases[k].y, &ds);
        CHECK_MSG(st == cases[k].st, "case %zu (%s): status %d, expected %d (%s)", k, cases[k].x,
                  (int)st, (int)cases[k].st, tl_error_message());
        CHECK_ERR_HAS(cases[k].msg);
        CHECK_ERR_HAS("named.mat");
        CHECK(ds == NULL);
        tl_dataset_free(ds);
    }
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_read_mat(FIX "nonames.mat", NULL, NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("nonames.mat: no features variable found");
    CHECK_ERR_HAS("variables: foo, bar");
    CHECK(stderr_capture_end() == 0);
}

/* ---- hand-built v5 files: byte order and data types the fixtures do not have ---- */

typedef struct {
    unsigned char *b;
    size_t n;
    int big;
} v5w;

static void v5w_put(v5w *w, const void *p, size_t k) {
    memcpy(w->b + w->n, p, k);
    w->n += k;
}
/* an unsigned value of nb bytes in the file's byte order */
static void v5w_uint(v5w *w, uint64_t v, size_t nb) {
    unsigned char t[8];
    for (size_t i = 0; i < nb; i++) t[w->big ? nb - 1 - i : i] = (unsigned char)(v >> (8 * i));
    v5w_put(w, t, nb);
}
static void v5w_pad(v5w *w) {
    while (w->n % 8) w->b[w->n++] = 0;
}
/* one plain miMATRIX variable: class cls, r x c, data of type dtype given as doubles */
static void v5w_var(v5w *w, const char *name, unsigned cls, size_t r, size_t c, unsigned dtype,
                    const double *vals) {
    size_t ts = dtype == 9 || dtype == 12 || dtype == 13 ? 8 : dtype >= 5 ? 4 : dtype >= 3 ? 2 : 1;
    size_t nl = strlen(name), db = r * c * ts;
    size_t payload = 16 + 16 + 8 + (nl + 7) / 8 * 8 + 8 + (db + 7) / 8 * 8;
    v5w_uint(w, 14, 4);
    v5w_uint(w, payload, 4);
    v5w_uint(w, 6, 4), v5w_uint(w, 8, 4), v5w_uint(w, cls, 4), v5w_uint(w, 0, 4);
    v5w_uint(w, 5, 4), v5w_uint(w, 8, 4), v5w_uint(w, r, 4), v5w_uint(w, c, 4);
    v5w_uint(w, 1, 4), v5w_uint(w, nl, 4), v5w_put(w, name, nl), v5w_pad(w);
    v5w_uint(w, dtype, 4), v5w_uint(w, db, 4);
    for (size_t k = 0; k < r * c; k++) {
        double x = vals[k];
        uint64_t u = 0;
        if (dtype == 9) memcpy(&u, &x, 8);
        else if (dtype == 7) { float f = (float)x; uint32_t v32; memcpy(&v32, &f, 4); u = v32; }
        else u = (uint64_t)(int64_t)x; /* two's complement, truncated to ts bytes */
        v5w_uint(w, u, ts);
    }
    v5w_pad(w);
}

static void v5w_header(v5w *w) {
    memset(w->b, ' ', 116);
    memset(w->b + 116, 0, 8);
    w->n = 124;
    v5w_uint(w, 0x0100, 2);
    v5w_put(w, w->big ? "MI" : "IM", 2);
}

/* The native v5 read (both byte orders, every integer data type into a double array, int16 into
 * int32) and its hand-over to libmatio for a conversion it does not make itself (int32 data in a
 * single array): the values of the formulas, from files written here. */
TEST(mat_v5_byte_order_and_types) {
    char p[300];
    double xv[12], yv[3] = {1, 2, 3};
    for (size_t j = 0; j < 4; j++)
        for (size_t i = 0; i < 3; i++) xv[j * 3 + i] = pat_signed(i, j); /* column-major */
    unsigned types[] = {1, 3, 5, 9, 12, 7};
    for (int big = 0; big < 2; big++)
        for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
            for (int cls = 0; cls < 2; cls++) {
                unsigned klass = cls ? (types[t] == 3 ? 12u : types[t] == 7 ? 7u : 6u) : 6u;
                unsigned char buf[2048];
                v5w w = {buf, 0, big};
                v5w_header(&w);
                v5w_var(&w, "X", klass, 3, 4, types[t], xv);
                v5w_var(&w, "Y", 6, 3, 1, 2, yv);
                spit(tmp("hand.mat", p, sizeof p), buf, w.n);
                tl_dataset *ds = NULL;
                CHECK_OK(tl_read_mat(p, NULL, NULL, &ds));
                if (ds) {
                    CHECK_MSG(mat_equals(tl_dataset_dense(ds), 3, 4, pat_signed),
                              "big %d type %u class %u", big, types[t], klass);
                    CHECK(tl_dataset_labels(ds)[2] == 3);
                }
                tl_dataset_free(ds);
            }
        }
    /* single array, int32 data: libmatio converts */
    for (int big = 0; big < 2; big++) {
        unsigned char buf[2048];
        v5w w = {buf, 0, big};
        v5w_header(&w);
        v5w_var(&w, "X", 7, 3, 4, 5, xv);
        v5w_var(&w, "Y", 6, 3, 1, 9, yv);
        spit(tmp("hand.mat", p, sizeof p), buf, w.n);
        tl_dataset *ds = NULL;
        CHECK_OK(tl_read_mat(p, NULL, NULL, &ds));
        if (ds) CHECK_MSG(mat_equals(tl_dataset_dense(ds), 3, 4, pat_signed), "big %d", big);
        tl_dataset_free(ds);
    }
}

TEST(mat_truncated_corrupted) {
    char p[300];
    size_t len;
    tl_dataset *ds = NULL;
    unsigned char *b = slurp(FIX "surf_like.mat", &len);
    free(b);
    CHECK(len > 200);
    stderr_capture_begin();
    /* cut at many places: every one must fail cleanly as a format error naming the file */
    size_t cuts[] = {1, 64, 127, 131, 136, 150, 204, 210, len - 9, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        write_prefix(FIX "surf_like.mat", tmp("cut.mat", p, sizeof p), cuts[k]);
        tl_status st = tl_read_mat(p, NULL, NULL, &ds);
        CHECK_MSG(st == TL_ERR_FORMAT, "cut at %zu: status %d (%s)", cuts[k], (int)st,
                  tl_error_message());
        CHECK_ERR_HAS("cut.mat");
        CHECK(ds == NULL);
    }
    /* cut right after the header (or after the first variable) is a valid file with fewer
     * variables: nothing to detect, but the message says what is there */
    write_prefix(FIX "surf_like.mat", p, 128);
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("variables: none");
    write_prefix(FIX "decaf_like.mat", p, 250); /* inside the compressed stream */
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("cut.mat");
    CHECK_ERR_HAS("truncated");
    write_prefix(FIX "surf_like.mat", p, 0);
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("cut.mat");

    write_patched(FIX "surf_like.mat", tmp("ver.mat", p, sizeof p), 125, 0x07);
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("ver.mat: not a MATLAB .mat file");
    write_patched(FIX "surf_like.mat", p, 128, 0x05); /* first tag type 14 -> 5 */
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("ver.mat: corrupted");

    /* a deflate stream with garbage inside */
    b = slurp(FIX "decaf_like.mat", &len);
    for (size_t k = 150; k < 200 && k < len; k++) b[k] ^= 0xa5;
    spit(tmp("garbled.mat", p, sizeof p), b, len);
    free(b);
    tl_status st = tl_read_mat(p, NULL, NULL, &ds);
    CHECK_MSG(st == TL_ERR_FORMAT || st == TL_ERR_NOT_FOUND, "garbled: %d (%s)", (int)st,
              tl_error_message());
    CHECK_ERR_HAS("garbled.mat");
    CHECK(ds == NULL);

    /* not a MAT file at all */
    const char *text = "this is a text file, not a MATLAB file\n1,2,3\n4,5,6\n";
    spit(tmp("text.mat", p, sizeof p), text, strlen(text));
    CHECK_STATUS(tl_read_mat(p, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("text.mat: not a MATLAB .mat file");
    CHECK_STATUS(tl_read_mat(FIX "a_f8.npy", NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("a_f8.npy");
    CHECK_STATUS(tl_read_mat(FIX "missing.mat", NULL, NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("missing.mat");
    CHECK_STATUS(tl_read_mat(FIX, NULL, NULL, &ds), TL_ERR_IO); /* a folder */
    CHECK(ds == NULL);
    CHECK(stderr_capture_end() == 0);
}

/* A v7.3 (HDF5) file written with matio itself, when matio was built with HDF5. */
TEST(mat_v73) {
    char p[300];
    tmp("v73.mat", p, sizeof p);
    mat_t *m = Mat_CreateVer(p, NULL, MAT_FT_MAT73);
    if (!m) SKIP("this libmatio cannot write v7.3 (HDF5) files");
    double xd[6] = {1, 2, 3, 4, 5, 6}; /* 2 x 3 column-major: rows (1 3 5), (2 4 6) */
    double yd[2] = {7, 8};
    size_t xdims[2] = {2, 3}, ydims[2] = {2, 1};
    matvar_t *xv = Mat_VarCreate("X", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, xdims, xd, 0);
    matvar_t *yv = Mat_VarCreate("Y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, ydims, yd, 0);
    Mat_VarWrite(m, xv, MAT_COMPRESSION_NONE);
    Mat_VarWrite(m, yv, MAT_COMPRESSION_NONE);
    Mat_VarFree(xv);
    Mat_VarFree(yv);
    Mat_Close(m);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(p, NULL, NULL, &ds));
    if (ds) {
        tl_mat X = tl_dataset_dense(ds);
        CHECK(X.rows == 2 && X.cols == 3);
        CHECK(TL_AT(X, 0, 0) == 1 && TL_AT(X, 0, 1) == 3 && TL_AT(X, 1, 2) == 6);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 7 && y[1] == 8);
    }
    tl_dataset_free(ds);
    ds = NULL;
    stderr_capture_begin();
    CHECK_STATUS(tl_read_mat(p, "nope", NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("v73.mat: no variable 'nope' (variables: X, Y)");
    char q[300];
    size_t len;
    unsigned char *b = slurp(p, &len);
    free(b);
    write_prefix(p, tmp("v73cut.mat", q, sizeof q), len / 2);
    CHECK_STATUS(tl_read_mat(q, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("v73cut.mat");
    write_prefix(p, q, 600);
    CHECK_STATUS(tl_read_mat(q, NULL, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("v73cut.mat");
    /* garbage inside the HDF5 structures: whatever HDF5 makes of it, no crash, no output, and
     * a failure names the file */
    for (size_t off = 600; off + 40 < len; off += 300) {
        b = slurp(p, &len);
        for (size_t k = off; k < off + 40; k++) b[k] ^= 0x5a;
        spit(q, b, len);
        free(b);
        tl_status st = tl_read_mat(q, NULL, NULL, &ds);
        if (st != TL_OK) CHECK_ERR_HAS("v73cut.mat");
        tl_dataset_free(ds);
        ds = NULL;
    }
    CHECK(stderr_capture_end() == 0);
    CHECK(ds == NULL);
}

/* ---- shared benchmark data ---- */

TEST(shared_surf_amazon) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_surf");
    char p[512];
    snprintf(p, sizeof p, "%s/office_caltech10_surf/amazon_SURF_L10.mat", dir);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(p, NULL, NULL, &ds));
    if (!ds) return;
    CHECK(tl_dataset_rows(ds) == 958 && tl_dataset_cols(ds) == 800);
    const int *y = tl_dataset_labels_const(ds);
    size_t counts[11] = {0}, bad = 0;
    for (size_t i = 0; i < 958; i++) {
        if (y[i] < 1 || y[i] > 10)
            bad++;
        else
            counts[y[i]]++;
    }
    static const size_t want[11] = {0, 92, 82, 94, 99, 100, 100, 99, 100, 94, 98};
    CHECK(bad == 0);
    for (int c = 1; c <= 10; c++) CHECK_MSG(counts[c] == want[c], "class %d: %zu", c, counts[c]);
    tl_mat X = tl_dataset_dense(ds);
    double sum = 0;
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) sum += TL_AT(X, i, j);
    CHECK(sum == 152852.0); /* scipy: fts.sum() */
    CHECK(TL_AT(X, 0, 3) == 1.0 && TL_AT(X, 0, 6) == 1.0 && TL_AT(X, 0, 0) == 0.0);
    tl_dataset_free(ds);
}

TEST(shared_decaf_dslr) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_decaf");
    char p[512];
    snprintf(p, sizeof p, "%s/office_caltech10_decaf/dslr_decaf.mat", dir);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(p, NULL, NULL, &ds));
    if (!ds) return;
    CHECK(tl_dataset_rows(ds) == 157 && tl_dataset_cols(ds) == 4096);
    tl_mat X = tl_dataset_dense(ds);
    CHECK_NEAR(TL_AT(X, 0, 2), 13.08921241760254, 1e-14);
    CHECK_NEAR(TL_AT(X, 156, 4095), 17.33400917053223, 1e-14);
    double sum = 0;
    for (size_t i = 0; i < X.rows; i++)
        for (size_t j = 0; j < X.cols; j++) sum += TL_AT(X, i, j);
    CHECK_NEAR(sum, 983202.3906501532, 1e-9);
    const int *y = tl_dataset_labels_const(ds);
    size_t c1 = 0, c10 = 0;
    for (size_t i = 0; i < 157; i++) {
        c1 += y[i] == 1;
        c10 += y[i] == 10;
    }
    CHECK(c1 == 12 && c10 == 23);
    tl_dataset_free(ds);
}

TEST(shared_mnist_usps) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "digits_mnist_usps");
    char p[512];
    snprintf(p, sizeof p, "%s/digits_mnist_usps/MNIST_vs_USPS.mat", dir);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_read_mat(p, "X_src", "Y_src", &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2000 && tl_dataset_cols(ds) == 256);
        tl_mat X = tl_dataset_dense(ds);
        /* sample 0 is column 0 of X_src: first non-zeros at features 39, 40, 41 */
        CHECK(TL_AT(X, 0, 38) == 0.0 && TL_AT(X, 0, 39) == 0.30859375 &&
              TL_AT(X, 0, 40) == 0.6796875 && TL_AT(X, 0, 41) == 0.16796875);
        CHECK(TL_AT(X, 1999, 72) == 0.01953125 && TL_AT(X, 1999, 73) == 0.171875);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 1);
    }
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_OK(tl_read_mat(p, "X_tar", "Y_tar", &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 1800 && tl_dataset_cols(ds) == 256);
        const int *y = tl_dataset_labels_const(ds);
        CHECK(y && y[0] == 7 && y[1] == 7 && y[2] == 8 && y[3] == 8 && y[4] == 5);
    }
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_OK(tl_read_mat(p, NULL, NULL, &ds)); /* auto: X_src + Y_src */
    CHECK(ds && tl_dataset_rows(ds) == 2000 && tl_dataset_cols(ds) == 256);
    tl_dataset_free(ds);
    ds = NULL;
    CHECK_STATUS(tl_read_mat(p, "X_foo", NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("MNIST_vs_USPS.mat: no variable 'X_foo' (variables: X_src, X_tar, Y_src, "
                  "Y_tar)");
    CHECK_STATUS(tl_read_mat(p, "X_src", "Y_tar", &ds), TL_ERR_SHAPE);
    CHECK_ERR_HAS("MNIST_vs_USPS.mat");
    CHECK(ds == NULL);
}

/* ---- a block of rows (a process's share: tl_dataset_load_block) ---- */

/* Every block of every cut into 1..4 parts equals the same rows of the whole file, labels too,
 * and the blocks end to end are the file. */
static void check_blocks(const char *spec) {
    tl_dataset *all = NULL;
    CHECK_OK(tl_dataset_load(spec, NULL, &all));
    if (!all) return;
    CHECK_OK(tl_dataset_densify(all)); /* svmlight: compared as dense rows */
    tl_mat A = tl_dataset_dense(all);
    const int *ya = tl_dataset_labels_const(all);
    for (int parts = 1; parts <= 4; parts++) {
        size_t next = 0;
        for (int part = 0; part < parts; part++) {
            tl_dataset *b = NULL;
            size_t total = 0, lo, hi;
            tl_block_range(A.rows, part, parts, &lo, &hi);
            tl_status st = tl_dataset_load_block(spec, NULL, part, parts, &total, &b);
            if (hi == lo) { /* more parts than rows: an empty block is an error */
                CHECK_MSG(st == TL_ERR_EMPTY, "%s part %d of %d", spec, part, parts);
                tl_dataset_free(b);
                continue;
            }
            CHECK_MSG(st == TL_OK && b, "%s part %d of %d: %s", spec, part, parts,
                      tl_error_message());
            if (!b) continue;
            CHECK_MSG(total == A.rows && lo == next && tl_dataset_rows(b) == hi - lo,
                      "%s part %d of %d: %zu rows of %zu, want %zu of %zu", spec, part, parts,
                      tl_dataset_rows(b), total, hi - lo, A.rows);
            next = hi;
            CHECK_OK(tl_dataset_densify(b));
            tl_mat B = tl_dataset_dense(b);
            const int *yb = tl_dataset_labels_const(b);
            size_t bad = 0;
            for (size_t i = 0; i < B.rows && B.cols == A.cols; i++) {
                for (size_t j = 0; j < B.cols; j++) bad += TL_AT(B, i, j) != TL_AT(A, lo + i, j);
                if (ya) bad += !yb || yb[i] != ya[lo + i];
            }
            CHECK_MSG(bad == 0 && B.cols == A.cols, "%s part %d of %d: %zu values differ", spec,
                      part, parts, bad);
            tl_dataset_free(b);
        }
        CHECK_MSG(next == A.rows, "%s: %d blocks end at row %zu of %zu", spec, parts, next, A.rows);
    }
    tl_dataset_free(all);
}

TEST(load_block) {
    check_blocks(FIX "a_f8.npy:a.labels.npy"); /* native float64: read in place */
    check_blocks(FIX "a_i2.npy:labels_col_u1.npy"); /* converted, labels n x 1 */
    check_blocks(FIX "a_be_f8.npy");
    check_blocks(FIX "img-idx3-ubyte:lab-idx1-ubyte");       /* a seek */
    check_blocks(FIX "img-idx3-ubyte.gz:lab-idx1-ubyte.gz"); /* inflated up to the block */
    check_blocks(FIX "img-idx3-ubyte.gz:lab-idx1-ubyte");
    /* a Fortran-order array cannot be cut into row blocks: said so */
    tl_dataset *b = NULL;
    size_t total;
    CHECK_STATUS(tl_dataset_load_block(FIX "a_fortran_f8.npy", NULL, 0, 2, &total, &b),
                 TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("Fortran-order");
    CHECK(b == NULL);
    /* labels that do not match the images: refused as by the whole-file reader */
    CHECK_STATUS(tl_dataset_load_block(FIX "img-idx3-ubyte.gz:lab4-idx1", NULL, 1, 2, &total, &b),
                 TL_ERR_SHAPE);
    CHECK(b == NULL);
}

/* The text formats: only the block's lines are parsed (read_csv.c, read_svmlight.c), with the
 * odd cases - a header, CRLF line ends, blank and comment lines, no final newline, fewer rows than
 * parts, class names (read whole), the width and the index base set by a row in another block -
 * and a bad line reported with the file's line number by the block that holds it. */
static void check_text_blocks(const char *name, const char *text) {
    char path[512], spec[600];
    spit(tmp(name, path, sizeof path), text, strlen(text));
    check_blocks(path);
    snprintf(spec, sizeof spec, "%s:base=1", path); /* an option after the name: still by block */
    if (strstr(name, ".svm") && !strstr(name, "zero")) check_blocks(spec);
}

TEST(load_block_text) {
    check_text_blocks("hdr_crlf.csv", "a,b,label\r\n1,2,0\r\n\r\n3,4,1\r\n5,6,0\r\n7,8,1");
    check_text_blocks("plain.csv", "1.5,2,3\n4,5,6\n7,8,9\n10,11,12\n13,14,15\n16,17,18\n19,20,21\n");
    check_text_blocks("two.csv", "x,y,c\n1,2,0\n3,4,1\n"); /* 3 and 4 parts: empty blocks */
    check_text_blocks("one.csv", "1,2,0"); /* one row, no newline */
    check_text_blocks("names.csv", "f1,f2,cls\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,eel\n9,10,ant\n");
    check_text_blocks("semi.csv", "1;2;0\n3;4;1\n\n\n5;6;0\n7;8;1\n9;10;2\n");
    check_text_blocks("c.svm", "# made by hand\n1 1:0.5 3:2\r\n-1 2:1\n\n# a comment line\n"
                               "1 qid:3 1:1 2:2 # trailing comment\n-1 7:4.5\n1 2:3");
    check_text_blocks("zero.svm", "1 1:0.5 3:2\n-1 2:1\n1 1:1\n-1 0:4.5\n");
    /* a bad value on line 6: the block holding it says so with the file's line number, the
       other loads */
    char path[512];
    const char *bad = "a,b,c\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,oops,0\n11,12,1\n";
    spit(tmp("bad.csv", path, sizeof path), bad, strlen(bad));
    tl_dataset *b = NULL;
    size_t total;
    CHECK_OK(tl_dataset_load_block(path, NULL, 0, 2, &total, &b));
    CHECK(b && tl_dataset_rows(b) == 3 && total == 6);
    tl_dataset_free(b);
    b = NULL;
    CHECK_STATUS(tl_dataset_load_block(path, NULL, 1, 2, &total, &b), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad.csv:6: ");
    CHECK(b == NULL);
    const char *bads = "1 1:1\n-1 2:1\n1 3:1\n-1 2:1 1:5\n";
    spit(tmp("bad.svm", path, sizeof path), bads, strlen(bads));
    CHECK_OK(tl_dataset_load_block(path, NULL, 0, 2, &total, &b));
    CHECK(b && tl_dataset_cols(b) == 3 && total == 4);
    tl_dataset_free(b);
    b = NULL;
    CHECK_STATUS(tl_dataset_load_block(path, NULL, 1, 2, &total, &b), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad.svm:4: index 1 after 2");
    CHECK(b == NULL);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_test_readers_bin_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("cannot create a temporary folder\n0 passed, 1 failed, 0 skipped\n");
        return 1;
    }
    RUN(load_block);
    RUN(load_block_text);
    RUN(npy_dtypes);
    RUN(npy_1d);
    RUN(npy_read_with_labels);
    RUN(npy_bad_labels);
    RUN(npy_refused);
    RUN(npy_truncated_corrupted);
    RUN(npy_direct_path);
    RUN(npy_nd);
    RUN(npy_header_syntax);
    RUN(idx_images_labels);
    RUN(idx_types);
    RUN(idx_bad);
    RUN(idx_fashion_mnist);
    RUN(mat_auto_surf_decaf);
    RUN(mat_columns_layout);
    RUN(mat_label_rules);
    RUN(mat_named_classes);
    RUN(mat_refused);
    RUN(mat_v5_byte_order_and_types);
    RUN(mat_truncated_corrupted);
    RUN(mat_v73);
    RUN(shared_surf_amazon);
    RUN(shared_decaf_dslr);
    RUN(shared_mnist_usps);
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("  could not remove %s\n", tmpdir);
    return tl_test_summary();
}
