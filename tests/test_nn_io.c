/* Model files of the neural-network engine: .tlm save -> load is bit-exact (tensors, labels,
 * label names, input normalisation, named and residual architectures) and truncated, corrupted
 * or foreign files are refused naming the file; safetensors export -> import round-trips, name
 * maps ("@index", prefix rules) work, missing and unexpected tensors are reported, and hostile
 * headers (truncation, bad JSON, overlapping or short data ranges, unknown dtypes, duplicate
 * names, trailing bytes) are refused with the reason. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tl/io.h"
#include "tl/nn.h"

static char tmpdir[] = "/tmp/tl_nn_io_XXXXXX";

static const char *tmp(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static bool same_tensors(tl_nn *a, tl_nn *b) {
    if (tl_nn_tensor_count(a) != tl_nn_tensor_count(b)) return false;
    for (size_t i = 0; i < tl_nn_tensor_count(a); i++) {
        const char *na, *nb;
        size_t da, db;
        const size_t *dimsa, *dimsb;
        float *xa, *xb;
        tl_nn_tensor(a, i, &na, &da, &dimsa, &xa, NULL);
        tl_nn_tensor(b, i, &nb, &db, &dimsb, &xb, NULL);
        if (strcmp(na, nb) != 0 || da != db) return false;
        size_t n = 1;
        for (size_t k = 0; k < da; k++) {
            if (dimsa[k] != dimsb[k]) return false;
            n *= dimsa[k];
        }
        if (memcmp(xa, xb, n * sizeof(float)) != 0) return false;
    }
    return true;
}

static tl_nn *trained_net(const char *arch) {
    tl_nn *nn = NULL;
    if (tl_nn_create(arch, 1, 6, 6, 5, &nn) != TL_OK) return NULL;
    float x[40 * 36];
    int y[40];
    tl_rng r;
    tl_rng_seed(&r, 3);
    for (size_t i = 0; i < 40 * 36; i++) x[i] = (float)tl_rng_normal(&r);
    for (size_t i = 0; i < 40; i++) y[i] = (int)(i % 3);
    tl_nn_train_params p = tl_nn_train_params_default();
    p.epochs = 2;
    p.batch_size = 8;
    if (tl_nn_train(nn, &p, x, y, 40, NULL) != TL_OK) {
        tl_nn_free(nn);
        return NULL;
    }
    return nn;
}

#define ARCH "stem=conv:4:3,bn,relu,[conv:4:3,bn,relu],maxpool:2,flatten,dense:8,gelu,head=dense:3"

/* a ResNet downsampling block: projection shortcut (1x1 conv, stride 2, batch norm) */
#define ARCH_PROJ "stem=conv:4:3,bn,relu,down=[conv:8:3:2:1,bn,relu,conv:8:3:1:1,bn|" \
                  "conv:8:1:2:0,sc_bn=bn],relu,flatten,dense:8,gelu,head=dense:3"

static void tlm_roundtrip(const char *arch) {
    tl_nn *nn = trained_net(arch), *back = NULL;
    CHECK(nn != NULL);
    if (!nn) return;
    int lab[3] = {7, -2, 40};
    CHECK_OK(tl_nn_set_labels(nn, lab, 3));
    CHECK_OK(tl_nn_set_label_names(nn, "seven,minus two,forty"));
    tl_nn_set_input_norm(nn, 72.9403f, 1.0f / 90.0212f);
    CHECK_OK(tl_nn_save(nn, tmp("m.tlm")));
    CHECK_OK(tl_nn_load(tmp("m.tlm"), &back));
    if (!back) goto out;
    CHECK(same_tensors(nn, back));
    CHECK(strcmp(tl_nn_arch(nn), tl_nn_arch(back)) == 0);
    CHECK(tl_nn_labels(back)[0] == 7 && tl_nn_labels(back)[1] == -2 && tl_nn_labels(back)[2] == 40);
    CHECK(tl_nn_label_names(back) && strcmp(tl_nn_label_names(back), "seven,minus two,forty") == 0);
    float s1, c1, s2, c2;
    tl_nn_input_norm(nn, &s1, &c1);
    tl_nn_input_norm(back, &s2, &c2);
    CHECK(s1 == s2 && c1 == c2);
    size_t sh[3];
    tl_nn_input_shape(back, sh);
    CHECK(sh[0] == 1 && sh[1] == 6 && sh[2] == 6);
    /* same outputs, bit for bit */
    float x[5 * 36], za[5 * 3], zb[5 * 3];
    for (size_t i = 0; i < 5 * 36; i++) x[i] = (float)sin((double)i);
    CHECK_OK(tl_nn_forward(nn, x, 5, za));
    CHECK_OK(tl_nn_forward(back, x, 5, zb));
    CHECK(memcmp(za, zb, sizeof za) == 0);
    /* saving again gives the same bytes */
    CHECK_OK(tl_nn_save(back, tmp("m2.tlm")));
    {
        FILE *f1 = fopen(tmp("m.tlm"), "rb"), *f2 = fopen(tmp("m2.tlm"), "rb");
        bool eq = f1 && f2;
        int c, d;
        while (eq && (c = fgetc(f1)) != EOF) eq = (d = fgetc(f2)) == c;
        if (eq) eq = fgetc(f2) == EOF;
        if (f1) fclose(f1);
        if (f2) fclose(f2);
        CHECK(eq);
    }
out:
    tl_nn_free(back);
    tl_nn_free(nn);
}

TEST(tlm_roundtrip_bit_exact) {
    tlm_roundtrip(ARCH);
    tlm_roundtrip(ARCH_PROJ);
}

static size_t file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n > 0 ? (size_t)n : 0;
}

static void copy_prefix(const char *src, const char *dst, size_t n, long flip_at) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    for (size_t i = 0; a && b && i < n; i++) {
        int c = fgetc(a);
        if (c == EOF) break;
        if ((long)i == flip_at) c ^= 0x10;
        fputc(c, b);
    }
    if (a) fclose(a);
    if (b) fclose(b);
}

TEST(tlm_bad_files) {
    tl_nn *nn = trained_net("conv:2:3,relu,flatten,dense:3"), *back = NULL;
    if (!nn) return;
    CHECK_OK(tl_nn_save(nn, tmp("g.tlm")));
    size_t n = file_size(tmp("g.tlm"));
    CHECK(n > 100);
    copy_prefix(tmp("g.tlm"), tmp("t.tlm"), n / 2, -1);
    CHECK_STATUS(tl_nn_load(tmp("t.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("t.tlm");
    CHECK(back == NULL);
    copy_prefix(tmp("g.tlm"), tmp("c.tlm"), n, (long)n - 40);
    CHECK_STATUS(tl_nn_load(tmp("c.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("c.tlm");
    CHECK_STATUS(tl_nn_load(tmp("none.tlm"), &back), TL_ERR_IO);
    /* a valid container that is not a network */
    tl_tlm *m = NULL;
    CHECK_OK(tl_tlm_create(&m));
    CHECK_OK(tl_tlm_set_meta(m, "kind", "jda"));
    CHECK_OK(tl_tlm_save(m, tmp("k.tlm")));
    tl_tlm_free(m);
    CHECK_STATUS(tl_nn_load(tmp("k.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("not a neural-network model");
    /* a network file whose tensor disagrees with its architecture */
    m = NULL;
    CHECK_OK(tl_tlm_create(&m));
    CHECK_OK(tl_tlm_set_meta(m, "kind", "nn"));
    CHECK_OK(tl_tlm_set_meta(m, "arch", "dense:2"));
    CHECK_OK(tl_tlm_set_meta(m, "input_shape", "3,1,1"));
    CHECK_OK(tl_tlm_set_meta(m, "input_norm", "0,1"));
    CHECK_OK(tl_tlm_set_meta(m, "labels", "0,1"));
    float w[8] = {0};
    size_t dw[2] = {2, 4}, db[1] = {2};
    CHECK_OK(tl_tlm_add_tensor(m, "dense1.weight", TL_DTYPE_F32, 2, dw, w));
    CHECK_OK(tl_tlm_add_tensor(m, "dense1.bias", TL_DTYPE_F32, 1, db, w));
    CHECK_OK(tl_tlm_save(m, tmp("s.tlm")));
    CHECK_STATUS(tl_nn_load(tmp("s.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("dense1.weight");
    /* bad architecture inside */
    CHECK_OK(tl_tlm_set_meta(m, "arch", "dense:2,bogus"));
    CHECK_OK(tl_tlm_save(m, tmp("a.tlm")));
    CHECK_STATUS(tl_nn_load(tmp("a.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("a.tlm");
    CHECK_ERR_HAS("bogus");
    /* labels that do not fit the head */
    CHECK_OK(tl_tlm_set_meta(m, "arch", "dense:2"));
    CHECK_OK(tl_tlm_set_meta(m, "labels", "0,1,2"));
    CHECK_OK(tl_tlm_save(m, tmp("l.tlm")));
    CHECK_STATUS(tl_nn_load(tmp("l.tlm"), &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("labels");
    tl_tlm_free(m);
    tl_nn_free(nn);
}

TEST(safetensors_roundtrip_and_maps) {
    tl_nn *nn = trained_net(ARCH), *b = NULL;
    if (!nn) return;
    CHECK_OK(tl_nn_export_safetensors(nn, tmp("m.safetensors"), NULL));
    CHECK_OK(tl_nn_create(ARCH, 1, 6, 6, 99, &b));
    if (!b) goto out;
    CHECK(!same_tensors(nn, b));
    tl_nn_import_report rep;
    CHECK_OK(tl_nn_import_safetensors(b, tmp("m.safetensors"), NULL, false, &rep));
    CHECK(rep.loaded == tl_nn_tensor_count(nn) && rep.n_missing == 0 && rep.n_unexpected == 0);
    tl_nn_import_report_free(&rep);
    CHECK(same_tensors(nn, b));
    /* metadata and names */
    tl_safetensors *s = NULL;
    CHECK_OK(tl_safetensors_load(tmp("m.safetensors"), &s));
    if (s) {
        CHECK(tl_safetensors_meta(s, "libtl_arch") && strcmp(tl_safetensors_meta(s, "libtl_arch"), tl_nn_arch(nn)) == 0);
        CHECK(strcmp(tl_safetensors_meta(s, "input_shape"), "1,6,6") == 0);
        const char *name, *dt;
        size_t nd;
        const size_t *dims;
        tl_safetensors_info(s, 0, &name, &dt, &nd, &dims);
        CHECK(strcmp(name, "stem.weight") == 0 && strcmp(dt, "F32") == 0 && nd == 4 && dims[0] == 4);
        tl_safetensors_free(s);
    }
    /* "@index" export and import */
    CHECK_OK(tl_nn_export_safetensors(nn, tmp("i.safetensors"), "@index"));
    s = NULL;
    CHECK_OK(tl_safetensors_load(tmp("i.safetensors"), &s));
    if (s) {
        const char *name;
        tl_safetensors_info(s, 0, &name, NULL, NULL, NULL);
        CHECK(strcmp(name, "0.weight") == 0);
        tl_safetensors_info(s, 2, &name, NULL, NULL, NULL);
        CHECK(strcmp(name, "1.weight") == 0);
        tl_safetensors_free(s);
    }
    tl_nn_free(b);
    b = NULL;
    CHECK_OK(tl_nn_create(ARCH, 1, 6, 6, 98, &b));
    if (!b) goto out;
    CHECK_STATUS(tl_nn_import_safetensors(b, tmp("i.safetensors"), NULL, false, &rep), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("missing");
    CHECK(rep.n_unexpected == tl_nn_tensor_count(nn) && strstr(rep.unexpected, "0.weight\n"));
    tl_nn_import_report_free(&rep);
    CHECK(!same_tensors(nn, b)); /* nothing changed on failure */
    CHECK_OK(tl_nn_import_safetensors(b, tmp("i.safetensors"), "@index", false, NULL));
    CHECK(same_tensors(nn, b));
    /* prefix rules: a new head of another size is "missing" and kept as initialised */
    tl_nn_free(b);
    b = NULL;
    CHECK_OK(tl_nn_create("stem=conv:4:3,bn,relu,[conv:4:3,bn,relu],maxpool:2,flatten,dense:8,gelu,"
                          "out=dense:5", 1, 6, 6, 98, &b));
    if (!b) goto out;
    CHECK_STATUS(tl_nn_import_safetensors(b, tmp("m.safetensors"), NULL, false, NULL), TL_ERR_NOT_FOUND);
    CHECK_OK(tl_nn_import_safetensors(b, tmp("m.safetensors"), "head.=nothead.", true, &rep));
    CHECK(rep.n_missing == 2 && strstr(rep.missing, "out.weight\nout.bias\n"));
    CHECK(rep.n_unexpected == 2 && strstr(rep.unexpected, "head.weight"));
    CHECK(rep.loaded == tl_nn_tensor_count(nn) - 2);
    tl_nn_import_report_free(&rep);
    /* a rule that maps onto a tensor of another shape */
    CHECK_STATUS(tl_nn_import_safetensors(b, tmp("m.safetensors"), "head.=out.", false, NULL), TL_ERR_SHAPE);
    CHECK_ERR_HAS("head.weight");
    CHECK_ERR_HAS("[3,8]");
    CHECK_STATUS(tl_nn_import_safetensors(b, tmp("m.safetensors"), "bogus", false, NULL), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_export_safetensors(nn, tmp("x.safetensors"), "a=b"), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_nn_export_safetensors(nn, tmp("nodir/x.safetensors"), NULL), TL_ERR_IO);
out:
    tl_nn_free(b);
    tl_nn_free(nn);
}

/* A safetensors buffer from a header string and data bytes. */
static size_t mk(unsigned char *buf, const char *header, const void *data, size_t dlen) {
    size_t h = strlen(header);
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)h >> (8 * k));
    memcpy(buf + 8, header, h);
    if (dlen) memcpy(buf + 8 + h, data, dlen);
    return 8 + h + dlen;
}

static void bad(const char *header, size_t dlen, const char *has) {
    unsigned char buf[1024], data[256] = {0};
    size_t n = mk(buf, header, data, dlen);
    tl_safetensors *s = NULL;
    tl_status st = tl_safetensors_parse(buf, n, "h.safetensors", &s);
    CHECK_MSG(st == TL_ERR_FORMAT, "%s: status %d (%s)", header, (int)st, tl_error_message());
    CHECK(s == NULL);
    CHECK_MSG(strstr(tl_error_message(), has) && strstr(tl_error_message(), "h.safetensors"),
              "%s: message \"%s\" lacks \"%s\"", header, tl_error_message(), has);
    tl_safetensors_free(s);
}

TEST(safetensors_hostile_headers) {
    unsigned char buf[1024];
    float v[3] = {1.5f, -2.0f, 3.25f};
    size_t n = mk(buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", v, 12);
    tl_safetensors *s = NULL;
    CHECK_OK(tl_safetensors_parse(buf, n, "ok", &s));
    if (s) {
        float o[3];
        CHECK_OK(tl_safetensors_get_f32(s, 0, o));
        CHECK(o[0] == 1.5f && o[1] == -2.0f && o[2] == 3.25f);
        tl_safetensors_free(s);
    }
    /* every truncation fails cleanly */
    for (size_t k = 0; k < n; k++) {
        s = NULL;
        CHECK(tl_safetensors_parse(buf, k, "trunc", &s) == TL_ERR_FORMAT && s == NULL);
    }
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", 8, "outside");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "8 bytes of data");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlapping");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "hole");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "after the last");
    bad("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, "needs dtype");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "twice");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "integer");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "integer");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "too large");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}",
        4, "overflow");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "trailing");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "expected '}'");
    bad("{\"a:{}}", 0, "unterminated");
    bad("{\"a\\q\":{}}", 0, "escape");
    bad("{\"\\ud800\":{}}", 0, "surrogate");
    bad("[]", 0, "expected '{'");
    bad("{\"__metadata__\":{\"k\":1}}", 0, "expected '\"'");
    bad("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "empty name");
    /* header length beyond the file, absurd, or too short */
    memset(buf, 0xFF, 8);
    s = NULL;
    CHECK_STATUS(tl_safetensors_parse(buf, 16, "big", &s), TL_ERR_FORMAT);
    CHECK_ERR_HAS("header length");
    n = mk(buf, "{}", NULL, 0);
    buf[0] = 200;
    CHECK_STATUS(tl_safetensors_parse(buf, n, "short", &s), TL_ERR_FORMAT);
    CHECK_ERR_HAS("truncated");
    /* empty file with metadata and escapes is fine */
    n = mk(buf, "{\"__metadata__\":{\"k\\u00e9\\n\":\"v\\\"\"}}  ", NULL, 0);
    CHECK_OK(tl_safetensors_parse(buf, n, "meta", &s));
    if (s) {
        CHECK(tl_safetensors_count(s) == 0);
        CHECK(tl_safetensors_meta(s, "k\xc3\xa9\n") && strcmp(tl_safetensors_meta(s, "k\xc3\xa9\n"), "v\"") == 0);
        tl_safetensors_free(s);
        s = NULL;
    }
    /* conversions: F64, F16, BF16; I64 is unsupported */
    unsigned char d[8 + 2 + 2 + 8];
    double dv = -0.375;
    memcpy(d, &dv, 8);
    d[8] = 0x00;
    d[9] = 0x3C; /* F16 1.0 */
    d[10] = 0x40;
    d[11] = 0xC0; /* BF16 -3.0 = 0xC040 */
    memset(d + 12, 0, 8);
    n = mk(buf, "{\"d\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
                "\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[10,12]},"
                "\"i\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[12,20]}}",
           d, sizeof d);
    CHECK_OK(tl_safetensors_parse(buf, n, "conv", &s));
    if (s) {
        float o;
        CHECK_OK(tl_safetensors_get_f32(s, 0, &o));
        CHECK(o == -0.375f);
        CHECK_OK(tl_safetensors_get_f32(s, 1, &o));
        CHECK(o == 1.0f);
        CHECK_OK(tl_safetensors_get_f32(s, 2, &o));
        CHECK(o == -3.0f);
        CHECK_STATUS(tl_safetensors_get_f32(s, 3, &o), TL_ERR_UNSUPPORTED);
        CHECK_ERR_HAS("I64");
        tl_safetensors_free(s);
    }
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        printf("cannot make a temporary folder\n0 passed, 1 failed, 0 skipped\n");
        return 1;
    }
    RUN(tlm_roundtrip_bit_exact);
    RUN(tlm_bad_files);
    RUN(safetensors_roundtrip_and_maps);
    RUN(safetensors_hostile_headers);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", tmpdir);
    return tl_test_summary();
}
