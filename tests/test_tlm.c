/* Tests of the .tlm container (src/io/tlm.c): round trip of metadata and tensors of every dtype
 * (including empty and 0-d tensors), the byte layout tl/io.h documents, and refusal of bad magic,
 * wrong version, every truncation, every single-byte corruption, hostile lengths and trailing
 * bytes, each with the file named in the message; numbers in metadata read back exactly and
 * strictly (src/io/tlm_meta.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "tl/core.h"
#include "tl/io.h"

static const char *path = "/tmp/tl_test_tlm.tlm";

static unsigned char *read_all(const char *p, size_t *n) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void write_all(const char *p, const unsigned char *b, size_t n) {
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fwrite(b, 1, n, f);
    fclose(f);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the trailing CRC of a buffer after editing it. */
static void fix_crc(unsigned char *b, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, b, (uInt)(n - 4));
    put32(b + n - 4, (uint32_t)c);
}

static tl_tlm *sample_model(void) {
    tl_tlm *m = NULL;
    CHECK_OK(tl_tlm_create(&m));
    if (!m) return NULL;
    CHECK_OK(tl_tlm_set_meta(m, "method", "jda"));
    CHECK_OK(tl_tlm_set_meta(m, "lambda", "0.1"));
    CHECK_OK(tl_tlm_set_meta(m, "method", "tca")); /* replaces */
    CHECK_OK(tl_tlm_set_meta(m, "empty", ""));
    double W[6] = {1.5, -2.25, 3e-300, 4e300, -0.0, 6};
    size_t dw[2] = {2, 3};
    CHECK_OK(tl_tlm_add_tensor(m, "W", TL_DTYPE_F64, 2, dw, W));
    float f[4] = {1.f, 2.5f, -3.f, 1e-30f};
    size_t df[3] = {1, 2, 2};
    CHECK_OK(tl_tlm_add_tensor(m, "f", TL_DTYPE_F32, 3, df, f));
    int32_t y[5] = {1, -2, 2147483647, -2147483647 - 1, 0};
    size_t dy[1] = {5};
    CHECK_OK(tl_tlm_add_tensor(m, "labels", TL_DTYPE_I32, 1, dy, y));
    size_t de[2] = {0, 7};
    CHECK_OK(tl_tlm_add_tensor(m, "empty", TL_DTYPE_F64, 2, de, NULL));
    double s = 42.0;
    CHECK_OK(tl_tlm_add_tensor(m, "scalar", TL_DTYPE_F64, 0, NULL, &s));
    return m;
}

TEST(roundtrip) {
    tl_tlm *m = sample_model(), *r = NULL;
    if (!m) return;
    CHECK(tl_tlm_tensor_count(m) == 5);
    CHECK(strcmp(tl_tlm_get_meta(m, "method"), "tca") == 0);
    CHECK_OK(tl_tlm_save(m, path));
    CHECK_OK(tl_tlm_load(path, &r));
    if (!r) goto out;
    CHECK(strcmp(tl_tlm_get_meta(r, "method"), "tca") == 0);
    CHECK(strcmp(tl_tlm_get_meta(r, "lambda"), "0.1") == 0);
    CHECK(strcmp(tl_tlm_get_meta(r, "empty"), "") == 0);
    CHECK(tl_tlm_get_meta(r, "absent") == NULL);
    CHECK(tl_tlm_tensor_count(r) == 5);
    CHECK(strcmp(tl_tlm_tensor_name(r, 0), "W") == 0);
    CHECK(tl_tlm_tensor_name(r, 5) == NULL);
    for (size_t i = 0; i < 5; i++) {
        const char *nm = tl_tlm_tensor_name(m, i);
        tl_dtype d1, d2;
        size_t n1, n2;
        const size_t *s1, *s2;
        const void *p1, *p2;
        CHECK_OK(tl_tlm_get_tensor(m, nm, &d1, &n1, &s1, &p1));
        CHECK_OK(tl_tlm_get_tensor(r, nm, &d2, &n2, &s2, &p2));
        CHECK(d1 == d2 && n1 == n2);
        size_t bytes = d1 == TL_DTYPE_F64 ? 8 : 4;
        for (size_t k = 0; k < n1; k++) {
            CHECK(s1[k] == s2[k]);
            bytes *= s1[k];
        }
        CHECK_MSG(bytes == 0 || memcmp(p1, p2, bytes) == 0, "tensor %s differs", nm);
    }
    const void *data;
    CHECK_STATUS(tl_tlm_get_tensor(r, "nope", NULL, NULL, NULL, &data), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("'nope'");
out:
    tl_tlm_free(m);
    tl_tlm_free(r);
    remove(path);
}

/* The layout of tl/io.h, byte by byte, for a one-entry, one-tensor file. */
TEST(byte_layout) {
    tl_tlm *m = NULL;
    CHECK_OK(tl_tlm_create(&m));
    CHECK_OK(tl_tlm_set_meta(m, "k", "vv"));
    int32_t v[2] = {1, 258};
    size_t dm[1] = {2};
    CHECK_OK(tl_tlm_add_tensor(m, "t", TL_DTYPE_I32, 1, dm, v));
    CHECK_OK(tl_tlm_save(m, path));
    size_t n = 0;
    unsigned char *b = read_all(path, &n);
    static const unsigned char expect[] = {
        'T', 'L', 'M', '1', 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, /* magic, version, counts */
        1, 0, 0, 0, 'k', 2, 0, 0, 0, 'v', 'v',                 /* meta */
        1, 0, 0, 0, 't', 2, 1, 2, 0, 0, 0, 0, 0, 0, 0,         /* name, dtype i32, ndim, dim */
        1, 0, 0, 0, 2, 1, 0, 0};                                /* data */
    CHECK(b && n == sizeof expect + 4);
    if (b && n == sizeof expect + 4) {
        CHECK(memcmp(b, expect, sizeof expect) == 0);
        uLong c = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(n - 4));
        uint32_t stored = (uint32_t)b[n - 4] | (uint32_t)b[n - 3] << 8 |
                          (uint32_t)b[n - 2] << 16 | (uint32_t)b[n - 1] << 24;
        CHECK(stored == (uint32_t)c);
    }
    free(b);
    tl_tlm_free(m);
    remove(path);
}

TEST(bad_magic_and_version) {
    tl_tlm *m = sample_model(), *r = NULL;
    CHECK_OK(tl_tlm_save(m, path));
    size_t n = 0;
    unsigned char *b = read_all(path, &n);
    if (!b) goto out;
    b[0] = 'X';
    write_all(path, b, n);
    CHECK_STATUS(tl_tlm_load(path, &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad magic");
    CHECK_ERR_HAS(path);
    b[0] = 'T';
    put32(b + 4, 2);
    fix_crc(b, n);
    write_all(path, b, n);
    CHECK_STATUS(tl_tlm_load(path, &r), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("wrong version 2");
    CHECK_ERR_HAS(path);
    CHECK(r == NULL);
    write_all(path, (const unsigned char *)"", 0);
    CHECK_STATUS(tl_tlm_load(path, &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS(path);
out:
    free(b);
    tl_tlm_free(m);
    remove(path);
}

TEST(every_truncation_refused) {
    tl_tlm *m = sample_model(), *r = NULL;
    CHECK_OK(tl_tlm_save(m, path));
    size_t n = 0;
    unsigned char *b = read_all(path, &n);
    int bad = 0, unnamed = 0, unlabelled = 0;
    for (size_t len = 0; b && len < n; len++) {
        tl_status st = tl_tlm_parse(b, len, "model.tlm", &r);
        if (st == TL_OK || r) {
            bad++;
            tl_tlm_free(r);
            r = NULL;
        }
        if (!strstr(tl_error_message(), "model.tlm")) unnamed++;
        if (len >= 4 && !strstr(tl_error_message(), "truncated") &&
            !strstr(tl_error_message(), "more than the file can hold"))
            unlabelled++;
    }
    CHECK_MSG(bad == 0, "%d truncated buffers accepted", bad);
    CHECK_MSG(unnamed == 0, "%d messages do not name the file", unnamed);
    CHECK_MSG(unlabelled == 0, "%d truncations not reported as truncated", unlabelled);
    /* through the file API too */
    write_all(path, b, n / 2);
    CHECK_STATUS(tl_tlm_load(path, &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("truncated");
    CHECK_ERR_HAS(path);
    free(b);
    tl_tlm_free(m);
    remove(path);
}

TEST(every_byte_flip_refused) {
    tl_tlm *m = sample_model(), *r = NULL;
    CHECK_OK(tl_tlm_save(m, path));
    size_t n = 0;
    unsigned char *b = read_all(path, &n);
    int bad = 0;
    for (size_t i = 0; b && i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (unsigned char)(1u << bit);
            if (tl_tlm_parse(b, n, "x.tlm", &r) == TL_OK) {
                bad++;
                tl_tlm_free(r);
                r = NULL;
            }
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    CHECK_MSG(bad == 0, "%d corrupted buffers accepted", bad);
    /* a flipped payload byte is a checksum mismatch */
    if (b) {
        b[n - 6] ^= 0x40;
        write_all(path, b, n);
        CHECK_STATUS(tl_tlm_load(path, &r), TL_ERR_FORMAT);
        CHECK_ERR_HAS("checksum mismatch");
        CHECK_ERR_HAS(path);
    }
    /* trailing bytes */
    unsigned char *c = malloc(n + 3);
    if (b && c) {
        b[n - 6] ^= 0x40;
        memcpy(c, b, n);
        memset(c + n, 0, 3);
        CHECK_STATUS(tl_tlm_parse(c, n + 3, "y.tlm", &r), TL_ERR_FORMAT);
        CHECK_ERR_HAS("y.tlm");
    }
    free(c);
    free(b);
    tl_tlm_free(m);
    remove(path);
}

/* Lengths that claim far more than the file holds must be refused before any allocation. */
TEST(hostile_lengths) {
    tl_tlm *r = NULL;
    unsigned char b[64];
    memset(b, 0, sizeof b);
    memcpy(b, "TLM1", 4);
    put32(b + 4, 1);
    put32(b + 8, 0xFFFFFFFFu); /* n_meta */
    put32(b + 12, 0);
    fix_crc(b, 20);
    CHECK_STATUS(tl_tlm_parse(b, 20, "h1", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("metadata entries");
    put32(b + 8, 0);
    put32(b + 12, 0xFFFFFFFFu); /* n_tensors */
    fix_crc(b, 20);
    CHECK_STATUS(tl_tlm_parse(b, 20, "h2", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("tensors");
    /* one meta entry whose key claims 4 GiB */
    put32(b + 8, 1);
    put32(b + 12, 0);
    put32(b + 16, 0xFFFFFFF0u);
    fix_crc(b, 40);
    CHECK_STATUS(tl_tlm_parse(b, 40, "h3", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("h3");
    /* one tensor with dims whose product overflows */
    memset(b + 8, 0, sizeof b - 8);
    put32(b + 8, 0);
    put32(b + 12, 1);
    put32(b + 16, 1);
    b[20] = 'x';
    b[21] = 0; /* f64 */
    b[22] = 2; /* ndim */
    memset(b + 23, 0xFF, 16);
    fix_crc(b, 43);
    CHECK_STATUS(tl_tlm_parse(b, 43, "h4", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("overflow");
    /* ndim too large, unknown dtype */
    b[22] = 9;
    CHECK_STATUS(tl_tlm_parse(b, 43, "h5", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("dims");
    b[22] = 1;
    b[21] = 7;
    CHECK_STATUS(tl_tlm_parse(b, 43, "h6", &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("dtype");
    CHECK(r == NULL);
    CHECK_STATUS(tl_tlm_parse(NULL, 0, NULL, &r), TL_ERR_FORMAT);
    CHECK_ERR_HAS("<memory>");
}

TEST(duplicates_and_api_errors) {
    tl_tlm *m = NULL, *r = NULL;
    CHECK_OK(tl_tlm_create(&m));
    double v = 1;
    size_t d1[1] = {1};
    CHECK_OK(tl_tlm_add_tensor(m, "a", TL_DTYPE_F64, 1, d1, &v));
    CHECK_STATUS(tl_tlm_add_tensor(m, "a", TL_DTYPE_F64, 1, d1, &v), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("already exists");
    size_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_STATUS(tl_tlm_add_tensor(m, "b", TL_DTYPE_F64, 9, d9, &v), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_tlm_add_tensor(m, "", TL_DTYPE_F64, 1, d1, &v), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_tlm_add_tensor(m, "c", (tl_dtype)9, 1, d1, &v), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_tlm_set_meta(m, "", "x"), TL_ERR_INVALID_ARG);
    CHECK(tl_tlm_tensor_count(m) == 1);
    /* a file with a duplicate tensor name (written by hand) is refused */
    CHECK_OK(tl_tlm_add_tensor(m, "b", TL_DTYPE_F64, 1, d1, &v));
    CHECK_OK(tl_tlm_save(m, path));
    size_t n = 0;
    unsigned char *b = read_all(path, &n);
    if (b) {
        unsigned char *p = memchr(b + 16, 'b', n - 16);
        if (p) *p = 'a';
        fix_crc(b, n);
        CHECK_STATUS(tl_tlm_parse(b, n, "dup.tlm", &r), TL_ERR_FORMAT);
        CHECK_ERR_HAS("duplicate tensor 'a'");
    }
    free(b);
    /* unwritable destination: error names it, nothing left behind */
    CHECK_STATUS(tl_tlm_save(m, "/nonexistent-dir/x.tlm"), TL_ERR_IO);
    CHECK_ERR_HAS("/nonexistent-dir/x.tlm");
    CHECK_STATUS(tl_tlm_load("/nonexistent-dir/x.tlm", &r), TL_ERR_IO);
    CHECK_ERR_HAS("/nonexistent-dir/x.tlm");
    tl_tlm_free(m);
    tl_tlm_free(NULL);
    remove(path);
}

/* Saving over an existing file replaces it atomically (rename) and leaves no temporary file. */
TEST(save_replaces_atomically) {
    tl_tlm *m = sample_model(), *r = NULL;
    CHECK_OK(tl_tlm_save(m, path));
    CHECK_OK(tl_tlm_set_meta(m, "method", "gfk"));
    CHECK_OK(tl_tlm_save(m, path));
    CHECK_OK(tl_tlm_load(path, &r));
    if (r) CHECK(strcmp(tl_tlm_get_meta(r, "method"), "gfk") == 0);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
    tl_tlm_free(m);
    tl_tlm_free(r);
    remove(path);
}

/* A folder given as a model is named as one (it was "out of memory allocating 2^63 bytes": ftell
 * of a folder is LONG_MAX), and a model read from a stream (a pipe) loads as from the file. */
TEST(folder_and_stream) {
    char dir[] = "/tmp/tl_test_tlm_dirXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tl_tlm *r = NULL;
    CHECK(tl_tlm_load(dir, &r) == TL_ERR_IO);
    CHECK(r == NULL);
    CHECK(strstr(tl_error_message(), "is a directory, not a file") != NULL);
    CHECK(strstr(tl_error_message(), dir) != NULL);
    rmdir(dir);
    tl_tlm *m = sample_model();
    CHECK_OK(tl_tlm_save(m, path));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cat %s", path);
    FILE *pipe = popen(cmd, "r");
    CHECK(pipe != NULL);
    if (pipe) {
        char dev[64];
        snprintf(dev, sizeof dev, "/dev/fd/%d", fileno(pipe));
        CHECK_OK(tl_tlm_load(dev, &r));
        if (r) CHECK(strcmp(tl_tlm_get_meta(r, "method"), tl_tlm_get_meta(m, "method")) == 0);
        pclose(pipe);
    }
    tl_tlm_free(m);
    tl_tlm_free(r);
    remove(path);
}

/* Numeric metadata (src/io/tlm_meta.c): reals read back to the same double, counts up to 2^64-1
 * survive, and every bad entry is refused with the file and key named. */
TEST(numeric_metadata) {
    tl_tlm *m = NULL;
    CHECK_OK(tl_tlm_create(&m));
    if (!m) return;
    const double x = 0.1 + 0.2, tiny = 4.9406564584124654e-324;
    CHECK_OK(tl_tlm_set_num(m, "x", x));
    CHECK_OK(tl_tlm_set_num(m, "tiny", tiny));
    CHECK_OK(tl_tlm_set_count(m, "seed", 18446744073709551615ull));
    double v = 0;
    unsigned long long u = 0;
    CHECK_OK(tl_tlm_get_num(m, "f.tlm", "x", 0, 1, &v));
    CHECK(v == x);
    CHECK_OK(tl_tlm_get_num(m, "f.tlm", "tiny", 0, 1, &v));
    CHECK(v == tiny);
    CHECK_OK(tl_tlm_get_count(m, "f.tlm", "seed", (unsigned long long)-1, &u));
    CHECK(u == 18446744073709551615ull);
    CHECK_STATUS(tl_tlm_get_num(m, "f.tlm", "absent", 0, 1, &v), TL_ERR_FORMAT);
    CHECK_ERR_HAS("f.tlm: model lacks metadata 'absent'");
    CHECK_STATUS(tl_tlm_get_num(m, "f.tlm", "x", 1, 2, &v), TL_ERR_FORMAT);
    CHECK_ERR_HAS("'x' = '0.30000000000000004' is out of range [1, 2]");
    CHECK_STATUS(tl_tlm_get_count(m, "f.tlm", "seed", 10, &u), TL_ERR_FORMAT);
    CHECK_ERR_HAS("is out of range (max 10)");
    const char *bad_num[] = {"", "1e999", "nan", "inf", "1.5x", " "};
    for (size_t i = 0; i < sizeof bad_num / sizeof *bad_num; i++) {
        CHECK_OK(tl_tlm_set_meta(m, "b", bad_num[i]));
        CHECK_STATUS(tl_tlm_get_num(m, "f.tlm", "b", -HUGE_VAL, HUGE_VAL, &v), TL_ERR_FORMAT);
        CHECK_ERR_HAS("f.tlm: metadata 'b'");
        CHECK_ERR_HAS("is not a finite number");
    }
    const char *bad_count[] = {"", "-1", "+1", " 1", "1.0", "18446744073709551616"};
    for (size_t i = 0; i < sizeof bad_count / sizeof *bad_count; i++) {
        CHECK_OK(tl_tlm_set_meta(m, "b", bad_count[i]));
        CHECK_STATUS(tl_tlm_get_count(m, "f.tlm", "b", (unsigned long long)-1, &u),
                     TL_ERR_FORMAT);
        CHECK_ERR_HAS("f.tlm: metadata 'b'");
    }
    tl_tlm_free(m);
}

int main(void) {
    RUN(roundtrip);
    RUN(byte_layout);
    RUN(bad_magic_and_version);
    RUN(every_truncation_refused);
    RUN(every_byte_flip_refused);
    RUN(hostile_lengths);
    RUN(duplicates_and_api_errors);
    RUN(save_replaces_atomically);
    RUN(folder_and_stream);
    RUN(numeric_metadata);
    return tl_test_summary();
}
