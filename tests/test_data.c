/* Tests for the dataset type, data specs, CSV/svmlight parsing, writers (save -> load round
 * trips for CSV, svmlight and NPY) and preprocessing, with expected values worked out by hand in
 * the comments; plus the Amazon svmlight files (2000 x 5000, 0-based) when the shared data
 * folder is present. Malformed inputs are in test_data_bad.c. */
#include <stdint.h>
#include <unistd.h>

#include "data_text.h"
#include "harness.h"
#include "internal/testing.h"
#include "tl.h"

static char tmpdir[256];

static void make_tmpdir(void) {
    if (tmpdir[0]) return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_test_data_XXXXXX");
    if (!mkdtemp(tmpdir)) tmpdir[0] = '\0';
}

static void tmp_path(char *buf, size_t cap, const char *name) {
    make_tmpdir();
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* ---------------- dataset type ---------------- */
TEST(create_and_accessors) {
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_create_dense(3, 2, true, &ds));
    if (!ds) return;
    CHECK(tl_dataset_rows(ds) == 3 && tl_dataset_cols(ds) == 2);
    CHECK(!tl_dataset_is_sparse(ds));
    CHECK(tl_dataset_nnz(ds) == 6);
    CHECK(tl_dataset_has_labels(ds));
    CHECK(tl_dataset_labels(ds)[2] == 0);
    CHECK(tl_dataset_weights(ds) == NULL);
    CHECK(strcmp(tl_dataset_name(ds), "") == 0);
    tl_mat X = tl_dataset_dense(ds);
    CHECK(X.rows == 3 && X.cols == 2 && X.ld == 2 && X.data);
    CHECK(X.data[5] == 0.0);
    tl_csr c = tl_dataset_csr(ds);
    CHECK(c.rows == 0 && c.indptr == NULL);
    tl_xmat xm = tl_dataset_features(ds);
    CHECK(!xm.sparse && tl_xmat_rows(xm) == 3 && tl_xmat_cols(xm) == 2);
    CHECK_OK(tl_dataset_set_name(ds, "dom"));
    CHECK(strcmp(tl_dataset_name(ds), "dom") == 0);
    double w[3] = {1, 2, 0.5};
    CHECK_OK(tl_dataset_set_weights(ds, w));
    w[0] = 9;
    CHECK(tl_dataset_weights(ds)[0] == 1 && tl_dataset_weights(ds)[2] == 0.5);
    double badw[3] = {1, -1, 1};
    CHECK_STATUS(tl_dataset_set_weights(ds, badw), TL_ERR_INVALID_ARG);
    CHECK_OK(tl_dataset_set_weights(ds, NULL));
    CHECK(tl_dataset_weights(ds) == NULL);
    int y[3] = {4, 5, 6};
    CHECK_OK(tl_dataset_set_labels(ds, y));
    CHECK(tl_dataset_labels_const(ds)[1] == 5);
    CHECK_OK(tl_dataset_set_labels(ds, NULL));
    CHECK(!tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    tl_dataset_free(NULL);
}

TEST(from_dense_and_clone) {
    /* source with ld 3 > cols 2: only the first two columns are copied */
    double buf[6] = {1, 2, 99, 3, 4, 99};
    tl_mat X = {2, 2, 3, buf};
    int y[2] = {7, 8};
    tl_dataset *ds = NULL, *c = NULL;
    CHECK_OK(tl_dataset_from_dense(X, y, &ds));
    if (!ds) return;
    CHECK(at(ds, 1, 0) == 3 && at(ds, 1, 1) == 4);
    CHECK(tl_dataset_dense(ds).ld == 2);
    buf[0] = -1;
    CHECK(at(ds, 0, 0) == 1);
    double w[2] = {0.25, 4};
    CHECK_OK(tl_dataset_set_weights(ds, w));
    CHECK_OK(tl_dataset_set_name(ds, "src"));
    CHECK_OK(tl_dataset_clone(ds, &c));
    if (c) {
        tl_dataset_dense(c).data[0] = 100;
        CHECK(at(ds, 0, 0) == 1);
        CHECK(tl_dataset_labels(c)[1] == 8 && tl_dataset_weights(c)[1] == 4);
        CHECK(strcmp(tl_dataset_name(c), "src") == 0);
    }
    tl_dataset_free(c);
    tl_dataset_free(ds);
}

/* 3 x 4 CSR:
 *   [0 1 0 2]
 *   [0 0 0 0]
 *   [3 0 4 0] */
static const size_t t_indptr[4] = {0, 2, 2, 4};
static const int32_t t_indices[4] = {1, 3, 0, 2};
static const double t_values[4] = {1, 2, 3, 4};

static tl_csr t_csr(void) {
    tl_csr c = {3, 4, 4, t_indptr, t_indices, t_values};
    return c;
}

TEST(csr_ops) {
    tl_dataset *ds = NULL, *sub = NULL, *cl = NULL;
    int y[3] = {1, 2, 3};
    CHECK_OK(tl_dataset_from_csr(t_csr(), y, &ds));
    if (!ds) return;
    CHECK(tl_dataset_is_sparse(ds) && tl_dataset_nnz(ds) == 4);
    CHECK(tl_dataset_dense(ds).data == NULL);
    tl_xmat xm = tl_dataset_features(ds);
    CHECK(xm.sparse && tl_xmat_rows(xm) == 3 && tl_xmat_cols(xm) == 4);

    /* rows 1..2 into a dense block */
    double blk[8];
    for (int k = 0; k < 8; k++) blk[k] = -7;
    CHECK_OK(tl_xmat_rows_dense(xm, 1, 2, tl_mat_view(blk, 2, 4)));
    double want[8] = {0, 0, 0, 0, 3, 0, 4, 0};
    for (int k = 0; k < 8; k++) CHECK(blk[k] == want[k]);
    CHECK_STATUS(tl_xmat_rows_dense(xm, 2, 2, tl_mat_view(blk, 2, 4)), TL_ERR_SHAPE);
    CHECK_STATUS(tl_xmat_rows_dense(xm, 0, 2, tl_mat_view(blk, 2, 3)), TL_ERR_SHAPE);

    /* subset: rows 2, 0, 2 */
    size_t idx[3] = {2, 0, 2};
    CHECK_OK(tl_dataset_subset(ds, idx, 3, &sub));
    if (sub) {
        CHECK(tl_dataset_rows(sub) == 3 && tl_dataset_nnz(sub) == 6);
        CHECK(at(sub, 0, 2) == 4 && at(sub, 1, 3) == 2 && at(sub, 2, 0) == 3);
        CHECK(tl_dataset_labels(sub)[0] == 3 && tl_dataset_labels(sub)[1] == 1);
    }
    size_t bad[1] = {3};
    tl_dataset *nope = NULL;
    CHECK_STATUS(tl_dataset_subset(ds, bad, 1, &nope), TL_ERR_INVALID_ARG);
    CHECK(nope == NULL);

    /* widen, then densify */
    CHECK_STATUS(tl_dataset_set_cols(ds, 3), TL_ERR_SHAPE);
    CHECK_OK(tl_dataset_set_cols(ds, 6));
    CHECK(tl_dataset_cols(ds) == 6);
    CHECK_OK(tl_dataset_clone(ds, &cl));
    CHECK_OK(tl_dataset_densify(ds));
    CHECK(!tl_dataset_is_sparse(ds) && tl_dataset_cols(ds) == 6 && tl_dataset_nnz(ds) == 18);
    CHECK(at(ds, 0, 1) == 1 && at(ds, 0, 3) == 2 && at(ds, 2, 2) == 4 && at(ds, 2, 5) == 0);
    CHECK(tl_dataset_labels(ds)[2] == 3);
    CHECK_OK(tl_dataset_densify(ds)); /* no-op */
    CHECK_STATUS(tl_dataset_set_cols(ds, 8), TL_ERR_UNSUPPORTED);
    if (cl) CHECK(tl_dataset_is_sparse(cl) && tl_dataset_cols(cl) == 6 && at(cl, 2, 0) == 3);

    /* dense subset keeps weights */
    double w[3] = {1, 2, 3};
    CHECK_OK(tl_dataset_set_weights(ds, w));
    tl_dataset *dsub = NULL;
    size_t idx2[2] = {2, 1};
    CHECK_OK(tl_dataset_subset(ds, idx2, 2, &dsub));
    if (dsub) {
        CHECK(at(dsub, 0, 0) == 3 && at(dsub, 1, 0) == 0);
        CHECK(tl_dataset_weights(dsub)[0] == 3 && tl_dataset_weights(dsub)[1] == 2);
    }
    tl_dataset_free(dsub);
    tl_dataset_free(cl);
    tl_dataset_free(sub);
    tl_dataset_free(ds);
}

TEST(csr_validation) {
    tl_dataset *ds = NULL;
    size_t ip[3] = {0, 2, 3};
    int32_t ix_unsorted[3] = {2, 1, 0};
    double v[3] = {1, 1, 1};
    tl_csr c = {2, 3, 3, ip, ix_unsorted, v};
    CHECK_STATUS(tl_dataset_from_csr(c, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("row 0");
    int32_t ix_range[3] = {0, 3, 0};
    c.indices = ix_range;
    CHECK_STATUS(tl_dataset_from_csr(c, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("out of range");
    int32_t ix_ok[3] = {0, 2, 1};
    c.indices = ix_ok;
    size_t ip_bad[3] = {0, 2, 4};
    c.indptr = ip_bad;
    CHECK_STATUS(tl_dataset_from_csr(c, NULL, &ds), TL_ERR_FORMAT);
    c.indptr = ip;
    CHECK_OK(tl_dataset_from_csr(c, NULL, &ds));
    CHECK(ds && !tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
}

TEST(check_finite) {
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_create_dense(2, 3, false, &ds));
    if (!ds) return;
    CHECK_OK(tl_dataset_set_name(ds, "target.csv"));
    CHECK_OK(tl_dataset_check_finite(ds));
    tl_dataset_dense(ds).data[5] = NAN;
    CHECK_STATUS(tl_dataset_check_finite(ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("target.csv");
    CHECK_ERR_HAS("row 2, column 3");
    tl_dataset_free(ds);
    double v[4] = {1, 2, INFINITY, 4};
    CHECK_OK(tl_dataset_from_csr((tl_csr){3, 4, 4, t_indptr, t_indices, v}, NULL, &ds));
    CHECK_STATUS(tl_dataset_check_finite(ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("Inf at row 3, column 1");
    tl_dataset_free(ds);
}

TEST(labels_unique) {
    int y[7] = {3, -1, 3, 10, -1, 3, 0};
    int *cls = NULL;
    size_t *cnt = NULL, c = 0;
    CHECK_OK(tl_labels_unique(y, 7, &cls, &cnt, &c));
    CHECK(c == 4);
    if (c == 4) {
        CHECK(cls[0] == -1 && cls[1] == 0 && cls[2] == 3 && cls[3] == 10);
        CHECK(cnt[0] == 2 && cnt[1] == 1 && cnt[2] == 3 && cnt[3] == 1);
        CHECK(tl_labels_index(cls, c, 3) == 2);
        CHECK(tl_labels_index(cls, c, -1) == 0);
        CHECK(tl_labels_index(cls, c, 10) == 3);
        CHECK(tl_labels_index(cls, c, 4) == -1);
        CHECK(tl_labels_index(cls, c, -5) == -1);
    }
    tl_free(cls);
    tl_free(cnt);
    CHECK_OK(tl_labels_unique(y, 7, &cls, NULL, &c));
    CHECK(c == 4);
    tl_free(cls);
    CHECK_OK(tl_labels_unique(NULL, 0, &cls, &cnt, &c));
    CHECK(c == 0);
    tl_free(cls);
    tl_free(cnt);
    CHECK(tl_labels_index(NULL, 0, 1) == -1);
}

/* ---------------- CSV ---------------- */
TEST(csv_header_auto_label_last) {
    tl_dataset *ds = NULL;
    CHECK_OK(parse_csv("a,b,label\n1.5,-2,0\n3e2, 4 ,1\n", NULL, &ds));
    if (!ds) return;
    CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 2);
    CHECK(at(ds, 0, 0) == 1.5 && at(ds, 0, 1) == -2 && at(ds, 1, 0) == 300 && at(ds, 1, 1) == 4);
    CHECK(tl_dataset_labels(ds)[0] == 0 && tl_dataset_labels(ds)[1] == 1);
    CHECK(strcmp(tl_dataset_name(ds), "t.csv") == 0);
    tl_dataset_free(ds);
}

TEST(csv_no_header_variants) {
    tl_dataset *ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    /* no header, CRLF, no final newline, trailing blank lines ignored */
    CHECK_OK(parse_csv("1,2,3\r\n4,5,6\r\n\r\n  \n", NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 2);
        CHECK(tl_dataset_labels(ds)[1] == 6 && at(ds, 1, 1) == 5);
    }
    tl_dataset_free(ds);
    CHECK_OK(parse_csv("1,2,3\n4,5,6", NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_labels(ds)[1] == 6);
    tl_dataset_free(ds);

    /* label first (index 0), semicolons */
    o.label_col = 0;
    CHECK_OK(parse_csv("7;1.25;2\n8;3;4\n", &o, &ds));
    if (ds) {
        CHECK(tl_dataset_cols(ds) == 2 && tl_dataset_labels(ds)[0] == 7 && at(ds, 0, 0) == 1.25);
        CHECK(at(ds, 1, 1) == 4);
    }
    tl_dataset_free(ds);

    /* label second from the end, tabs */
    o.label_col = -2;
    CHECK_OK(parse_csv("1\t9\t2\n3\t8\t4\n", &o, &ds));
    if (ds) {
        CHECK(tl_dataset_labels(ds)[0] == 9 && tl_dataset_labels(ds)[1] == 8);
        CHECK(at(ds, 0, 0) == 1 && at(ds, 0, 1) == 2 && at(ds, 1, 1) == 4);
    }
    tl_dataset_free(ds);

    /* no label column, whitespace separated with leading spaces */
    o.label_col = TL_LABEL_COL_NONE;
    CHECK_OK(parse_csv("  1  2 3\n4 5\t6\n", &o, &ds));
    if (ds) {
        CHECK(tl_dataset_cols(ds) == 3 && !tl_dataset_has_labels(ds));
        CHECK(at(ds, 1, 2) == 6);
    }
    tl_dataset_free(ds);

    /* forced header on a numeric first row */
    o = tl_load_opts_default();
    o.csv_header = 1;
    CHECK_OK(parse_csv("1,2,3\n4,5,6\n", &o, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 1 && at(ds, 0, 0) == 4);
    tl_dataset_free(ds);

    /* explicit delimiter */
    o = tl_load_opts_default();
    o.delimiter = ';';
    o.label_col = TL_LABEL_COL_NONE;
    CHECK_STATUS(parse_csv("1;2\n3;2,5\n", &o, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("\"2,5\"");
    CHECK(ds == NULL);
}

TEST(csv_label_name_quotes_bom) {
    tl_dataset *ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    o.label_name = "class";
    CHECK_OK(parse_csv("\xEF\xBB\xBF\"x 1\",\"class\",x2\n\"1\",2,3\n4,5,6\n", &o, &ds));
    if (ds) {
        CHECK(tl_dataset_cols(ds) == 2);
        CHECK(tl_dataset_labels(ds)[0] == 2 && tl_dataset_labels(ds)[1] == 5);
        CHECK(at(ds, 0, 0) == 1 && at(ds, 0, 1) == 3 && at(ds, 1, 1) == 6);
    }
    tl_dataset_free(ds);
    /* integral float labels ("1.0", as pandas writes them) are accepted */
    CHECK_OK(parse_csv("0.5,1.0\n0.25,-2.0\n", NULL, &ds));
    if (ds) CHECK(tl_dataset_labels(ds)[0] == 1 && tl_dataset_labels(ds)[1] == -2);
    tl_dataset_free(ds);
}

TEST(csv_numbers_exact) {
    /* the parser must give the same doubles as strtod */
    tl_dataset *ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    o.label_col = TL_LABEL_COL_NONE;
    CHECK_OK(parse_csv("0.1,-0.30000000000000004,1e-310,123456789012345678,+.5,7.\n", &o, &ds));
    if (ds) {
        CHECK(at(ds, 0, 0) == 0.1);
        CHECK(at(ds, 0, 1) == -0.30000000000000004);
        CHECK(at(ds, 0, 2) == 1e-310);
        CHECK(at(ds, 0, 3) == 123456789012345678.0);
        CHECK(at(ds, 0, 4) == 0.5);
        CHECK(at(ds, 0, 5) == 7.0);
    }
    tl_dataset_free(ds);
}

/* ---------------- svmlight ---------------- */
TEST(svmlight_basic_one_based) {
    tl_dataset *ds = NULL;
    CHECK_OK(parse_svm("# header comment\n+1 1:0.5 3:2 # tail\n-1 qid:3 2:1e1\n\n1\n", NULL, &ds));
    if (!ds) return;
    CHECK(tl_dataset_is_sparse(ds));
    CHECK(tl_dataset_rows(ds) == 3 && tl_dataset_cols(ds) == 3 && tl_dataset_nnz(ds) == 3);
    CHECK(at(ds, 0, 0) == 0.5 && at(ds, 0, 2) == 2 && at(ds, 1, 1) == 10);
    CHECK(tl_dataset_labels(ds)[0] == 1 && tl_dataset_labels(ds)[1] == -1 &&
          tl_dataset_labels(ds)[2] == 1);
    tl_dataset_free(ds);
}

TEST(svmlight_bases_and_width) {
    tl_dataset *ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    /* index 0 occurs on line 2: the whole file is 0-based */
    CHECK_OK(parse_svm("1 2:1 4:1\n0 0:3\n", NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_cols(ds) == 5);
        CHECK(at(ds, 0, 2) == 1 && at(ds, 0, 4) == 1 && at(ds, 1, 0) == 3);
    }
    tl_dataset_free(ds);
    /* forced 0-based without an index 0 */
    o.index_base = 0;
    CHECK_OK(parse_svm("1 2:1 4:1\n", &o, &ds));
    if (ds) CHECK(tl_dataset_cols(ds) == 5 && at(ds, 0, 4) == 1);
    tl_dataset_free(ds);
    /* n_features widens, densify gives dense storage */
    o = tl_load_opts_default();
    o.n_features = 6;
    o.densify = true;
    CHECK_OK(parse_svm("3 1:1 2:2\n4 4:4\n", &o, &ds));
    if (ds) {
        CHECK(!tl_dataset_is_sparse(ds) && tl_dataset_cols(ds) == 6);
        CHECK(at(ds, 0, 1) == 2 && at(ds, 1, 3) == 4 && at(ds, 1, 5) == 0);
        CHECK(tl_dataset_labels(ds)[1] == 4);
    }
    tl_dataset_free(ds);
}

/* ---------------- round trips ---------------- */
static void fill_example(tl_dataset **out, bool labels) {
    tl_dataset *ds = NULL;
    *out = NULL;
    if (tl_dataset_create_dense(4, 3, labels, &ds) != TL_OK) return;
    tl_mat X = tl_dataset_dense(ds);
    double v[12] = {0.1, 0, -2.5, 1e-300, 3.141592653589793, 0, 0, 0, 0, 1.0 / 3, 7e22, -0.0};
    memcpy(X.data, v, sizeof v);
    if (labels) {
        int *y = tl_dataset_labels(ds);
        y[0] = -1, y[1] = 1, y[2] = 2, y[3] = 1;
    }
    *out = ds;
}

static bool same_data(tl_dataset *a, tl_dataset *b) {
    if (tl_dataset_rows(a) != tl_dataset_rows(b) || tl_dataset_cols(a) != tl_dataset_cols(b))
        return false;
    for (size_t i = 0; i < tl_dataset_rows(a); i++)
        for (size_t j = 0; j < tl_dataset_cols(a); j++)
            if (at(a, i, j) != at(b, i, j)) return false;
    if (tl_dataset_has_labels(a) != tl_dataset_has_labels(b)) return false;
    if (tl_dataset_has_labels(a))
        for (size_t i = 0; i < tl_dataset_rows(a); i++)
            if (tl_dataset_labels(a)[i] != tl_dataset_labels(b)[i]) return false;
    return true;
}

TEST(roundtrip_csv) {
    tl_dataset *ds = NULL, *back = NULL;
    char p[512];
    fill_example(&ds, true);
    if (!ds) return;
    tmp_path(p, sizeof p, "rt.csv");
    CHECK_OK(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1));
    CHECK_OK(tl_dataset_load(p, NULL, &back));
    if (back) {
        CHECK(same_data(ds, back));
        CHECK(strcmp(tl_dataset_name(back), p) == 0);
    }
    tl_dataset_free(back);
    /* a readable file: shortest round-trip form */
    FILE *f = fopen(p, "r");
    char line[256] = "";
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = '\0';
        fclose(f);
    }
    CHECK_MSG(strcmp(line, "0.1,0,-2.5,-1\n") == 0, "first line \"%s\"", line);
    /* no temporary files left beside it */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > /dev/null", tmpdir);
    CHECK(system(cmd) != 0);
    tl_dataset_free(ds);
}

TEST(roundtrip_svmlight) {
    tl_dataset *ds = NULL, *back = NULL;
    char p[512];
    tl_load_opts o = tl_load_opts_default();
    fill_example(&ds, true);
    if (!ds) return;
    tmp_path(p, sizeof p, "rt.svmlight");
    o.n_features = 3;
    /* 1-based dense write */
    CHECK_OK(tl_dataset_save(ds, p, TL_FORMAT_SVMLIGHT, 1));
    CHECK_OK(tl_dataset_load(p, &o, &back));
    if (back) CHECK(tl_dataset_is_sparse(back) && same_data(ds, back));
    /* 0-based sparse write of the loaded data; reading forced 0-based */
    char p0[512];
    tmp_path(p0, sizeof p0, "rt0.svm");
    if (back) CHECK_OK(tl_dataset_save(back, p0, TL_FORMAT_AUTO, 0));
    tl_dataset_free(back);
    back = NULL;
    o.index_base = 0;
    CHECK_OK(tl_dataset_load(p0, &o, &back));
    if (back) CHECK(same_data(ds, back));
    tl_dataset_free(back);
    tl_dataset_free(ds);
}

TEST(roundtrip_npy) {
    tl_dataset *ds = NULL, *back = NULL;
    char p[512], py[512];
    fill_example(&ds, true);
    if (!ds) return;
    tmp_path(p, sizeof p, "rt.npy");
    tmp_path(py, sizeof py, "rt.labels.npy");
    CHECK_OK(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1));
    struct stat sb;
    CHECK(stat(py, &sb) == 0);
    /* header padded so the data starts at byte 128, as numpy.save does for this shape */
    CHECK(stat(p, &sb) == 0 && sb.st_size == 128 + 12 * 8);
    CHECK_OK(tl_dataset_load(p, NULL, &back)); /* labels from rt.labels.npy by default */
    if (back) CHECK(same_data(ds, back));
    tl_dataset_free(back);
    back = NULL;
    /* explicit label file, relative to the features' folder */
    char spec[600];
    snprintf(spec, sizeof spec, "%s:rt.labels.npy", p);
    CHECK_OK(tl_dataset_load(spec, NULL, &back));
    if (back) {
        CHECK(same_data(ds, back));
        CHECK(strcmp(tl_dataset_name(back), spec) == 0);
    }
    tl_dataset_free(back);
    back = NULL;
    /* saving without labels removes the stale default labels file */
    CHECK_OK(tl_dataset_set_labels(ds, NULL));
    CHECK_OK(tl_dataset_save(ds, p, TL_FORMAT_NPY, 1));
    CHECK(stat(py, &sb) != 0);
    CHECK_OK(tl_dataset_load(p, NULL, &back));
    if (back) CHECK(same_data(ds, back) && !tl_dataset_has_labels(back));
    tl_dataset_free(back);
    tl_dataset_free(ds);
}

TEST(spec_colon_in_path) {
    /* a file whose name contains ':' is taken whole */
    char p[512];
    tmp_path(p, sizeof p, "odd:name.csv");
    write_text(p, "1,2,0\n3,4,1\n");
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_load(p, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_labels(ds)[1] == 1);
    tl_dataset_free(ds);
    /* a suffix on a CSV spec is refused */
    char spec[600];
    snprintf(spec, sizeof spec, "%s:X", p);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS(":X");
    /* a missing file */
    tmp_path(p, sizeof p, "missing.csv");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("missing.csv");
    /* a NaN in a loaded file names file and line */
    tmp_path(p, sizeof p, "nan.csv");
    write_text(p, "1,2,0\nnan,4,1\n");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_NONFINITE);
    CHECK_ERR_HAS("nan.csv:2:");
    CHECK(ds == NULL);
}

TEST(formats) {
    tl_format f = TL_FORMAT_AUTO;
    CHECK_OK(tl_format_parse("SVMlight", &f));
    CHECK(f == TL_FORMAT_SVMLIGHT);
    CHECK_OK(tl_format_parse("libsvm", &f));
    CHECK(f == TL_FORMAT_SVMLIGHT);
    CHECK_OK(tl_format_parse("npy", &f));
    CHECK(f == TL_FORMAT_NPY);
    CHECK_STATUS(tl_format_parse("parquet", &f), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("parquet");
    CHECK(strcmp(tl_format_name(TL_FORMAT_MAT), "mat") == 0);
    CHECK(strcmp(tl_format_name(TL_FORMAT_IDX), "idx") == 0);
    CHECK(tl_format_guess("a/b.CSV") == TL_FORMAT_CSV);
    CHECK(tl_format_guess("b.tsv") == TL_FORMAT_CSV);
    CHECK(tl_format_guess("b.svm") == TL_FORMAT_SVMLIGHT);
    CHECK(tl_format_guess("b.libsvm") == TL_FORMAT_SVMLIGHT);
    CHECK(tl_format_guess("b.txt") == TL_FORMAT_SVMLIGHT);
    CHECK(tl_format_guess("b.mat") == TL_FORMAT_MAT);
    CHECK(tl_format_guess("b.npy") == TL_FORMAT_NPY);
    CHECK(tl_format_guess("train-images-idx3-ubyte.gz") == TL_FORMAT_IDX);
    CHECK(tl_format_guess("t10k-labels-idx1-ubyte") == TL_FORMAT_IDX);
    CHECK(tl_format_guess("x.idx") == TL_FORMAT_IDX);
    CHECK(tl_format_guess("x.csv.gz") == TL_FORMAT_CSV);
    CHECK(tl_format_guess("x.svmlight.GZ") == TL_FORMAT_SVMLIGHT);
    CHECK(tl_format_guess("x.npy.gz") == TL_FORMAT_AUTO);
    CHECK(tl_format_guess("x.parquet") == TL_FORMAT_AUTO);
    CHECK(tl_format_guess("/tmp") == TL_FORMAT_IDX);
    tl_load_opts o = tl_load_opts_default();
    CHECK(o.format == TL_FORMAT_AUTO && o.csv_header == -1 && o.label_col == -1);
    CHECK(o.index_base == -1 && o.n_features == 0 && !o.densify && o.delimiter == 0);
}

/* ---------------- preprocessing ---------------- */
TEST(preprocess_parse_format) {
    tl_preprocess p;
    char buf[64];
    CHECK_OK(tl_preprocess_parse("rowsum, ZScore", &p));
    CHECK(p.nsteps == 2 && p.steps[0] == TL_PRE_ROWSUM && p.steps[1] == TL_PRE_ZSCORE);
    tl_preprocess_format(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "rowsum,zscore") == 0);
    CHECK_OK(tl_preprocess_parse("none", &p));
    CHECK(p.nsteps == 0);
    tl_preprocess_format(&p, buf, sizeof buf);
    CHECK(strcmp(buf, "none") == 0);
    CHECK_OK(tl_preprocess_parse("", &p));
    CHECK(p.nsteps == 0);
    CHECK_OK(tl_preprocess_parse("l2,minmax", &p));
    CHECK(p.nsteps == 2 && p.steps[1] == TL_PRE_MINMAX);
    tl_preprocess_format(&p, buf, 5); /* truncated but terminated */
    CHECK(strlen(buf) < 5);
    CHECK_STATUS(tl_preprocess_parse("l2,whiten", &p), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("whiten");
    CHECK_STATUS(tl_preprocess_parse("l2,,zscore", &p), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_preprocess_parse("none,l2", &p), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_preprocess_parse("l2,l2,l2,l2,l2,l2,l2,l2,l2", &p), TL_ERR_INVALID_ARG);
}

TEST(preprocess_dense_values) {
    /* X = [1 3 | 2 2 | 0 0]: rowsum -> [.25 .75 | .5 .5 | 0 0] (zero row left alone) */
    double x[6] = {1, 3, 2, 2, 0, 0};
    tl_mat X = tl_mat_view(x, 3, 2);
    tl_rows_sum_normalize(X);
    CHECK_NEAR(x[0], 0.25, 1e-15);
    CHECK_NEAR(x[1], 0.75, 1e-15);
    CHECK_NEAR(x[2], 0.5, 1e-15);
    CHECK(x[4] == 0 && x[5] == 0);
    /* l2 of [3 4] = [.6 .8] */
    double z[4] = {3, 4, 0, 0};
    tl_rows_l2_normalize(tl_mat_view(z, 2, 2));
    CHECK_NEAR(z[0], 0.6, 1e-15);
    CHECK_NEAR(z[1], 0.8, 1e-15);
    CHECK(z[2] == 0 && z[3] == 0);
    /* columns [1 2 3 4] and [5 5 5 5]: mean 2.5 / 5, population std sqrt(1.25) / 0 */
    double c[8] = {1, 5, 2, 5, 3, 5, 4, 5};
    double mean[2], sd[2];
    tl_cols_mean_std(tl_mat_view(c, 4, 2), mean, sd);
    CHECK_NEAR(mean[0], 2.5, 1e-15);
    CHECK_NEAR(mean[1], 5, 1e-15);
    CHECK_NEAR(sd[0], sqrt(1.25), 1e-15);
    CHECK(sd[1] == 0);
}

TEST(preprocess_zscore_minmax) {
    tl_dataset *ds = NULL, *other = NULL;
    tl_preprocess p;
    double c[8] = {1, 5, 2, 5, 3, 5, 4, 5};
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(c, 4, 2), NULL, &ds));
    CHECK_OK(tl_preprocess_parse("zscore", &p));
    CHECK_OK(tl_preprocess_apply(&p, ds));
    if (ds) {
        /* (1 - 2.5) / sqrt(1.25) = -1.3416407864998738; constant column -> 0 */
        CHECK_NEAR(at(ds, 0, 0), -1.3416407864998738, 1e-14);
        CHECK_NEAR(at(ds, 3, 0), 1.3416407864998738, 1e-14);
        CHECK(at(ds, 2, 1) == 0);
    }
    tl_dataset_free(ds);
    ds = NULL;

    /* minmax fitted on ds, applied to another set: [1..4] -> (v - 1) / 3 */
    tl_scaler *s = NULL;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(c, 4, 2), NULL, &ds));
    CHECK_OK(tl_preprocess_parse("minmax", &p));
    CHECK_OK(tl_scaler_fit(&p, ds, &s));
    double o[4] = {7, 5, 1, 6};
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(o, 2, 2), NULL, &other));
    CHECK_OK(tl_scaler_apply(s, other));
    if (other) {
        CHECK_NEAR(at(other, 0, 0), 2.0, 1e-15);
        CHECK(at(other, 0, 1) == 0); /* constant column: range replaced by 1, x - min */
        CHECK(at(other, 1, 0) == 0);
        CHECK(at(other, 1, 1) == 1);
    }
    /* width mismatch */
    tl_dataset *w3 = NULL;
    CHECK_OK(tl_dataset_create_dense(2, 3, false, &w3));
    CHECK_STATUS(tl_scaler_apply(s, w3), TL_ERR_SHAPE);
    tl_dataset_free(w3);
    tl_scaler_free(s);
    tl_dataset_free(other);
    tl_dataset_free(ds);
}

TEST(preprocess_rowsum_then_zscore) {
    /* rows [1 3] [2 2] [1 1]: rowsum -> [.25 .75] [.5 .5] [.5 .5];
     * column 0: mean 1.25/3 = 0.41666.., deviations -1/6, 1/12, 1/12 -> var = (1/36 + 2/144)/3
     * = 1/72, std = 0.11785113019775793; z(0,0) = (-1/6)/std = -1.4142135623730951. */
    double x[6] = {1, 3, 2, 2, 1, 1};
    tl_dataset *ds = NULL;
    tl_preprocess p;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(x, 3, 2), NULL, &ds));
    CHECK_OK(tl_preprocess_parse("rowsum,zscore", &p));
    CHECK_OK(tl_preprocess_apply(&p, ds));
    if (ds) {
        CHECK_NEAR(at(ds, 0, 0), -1.4142135623730951, 1e-13);
        CHECK_NEAR(at(ds, 1, 0), 0.70710678118654746, 1e-13);
        CHECK_NEAR(at(ds, 0, 1), 1.4142135623730951, 1e-13);
    }
    tl_dataset_free(ds);
}

TEST(preprocess_sparse) {
    tl_dataset *ds = NULL;
    tl_preprocess p;
    CHECK_OK(tl_dataset_from_csr(t_csr(), NULL, &ds));
    if (!ds) return;
    CHECK_OK(tl_dataset_set_name(ds, "books.svm"));
    CHECK_OK(tl_preprocess_parse("rowsum", &p));
    CHECK_OK(tl_preprocess_apply(&p, ds));
    /* row 0 [1 2] / 3, row 2 [3 4] / 7, empty row untouched */
    CHECK_NEAR(at(ds, 0, 1), 1.0 / 3, 1e-15);
    CHECK_NEAR(at(ds, 2, 2), 4.0 / 7, 1e-15);
    CHECK_OK(tl_preprocess_parse("l2", &p));
    CHECK_OK(tl_preprocess_apply(&p, ds));
    /* [3/7 4/7] -> [.6 .8] */
    CHECK_NEAR(at(ds, 2, 0), 0.6, 1e-15);
    CHECK_NEAR(at(ds, 2, 2), 0.8, 1e-15);
    CHECK(tl_dataset_is_sparse(ds));
    CHECK_OK(tl_preprocess_parse("l2,zscore", &p));
    CHECK_STATUS(tl_preprocess_apply(&p, ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("books.svm");
    CHECK_ERR_HAS("l2");
    CHECK_ERR_HAS("densify");
    CHECK_NEAR(at(ds, 2, 0), 0.6, 1e-15); /* untouched by the refused call */
    tl_dataset_free(ds);
}

/* ---------------- shared data ---------------- */
TEST(amazon_svmlight) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "amazon_review_dann_5000");
    char p[1024];
    const char *dom[4] = {"books", "dvd", "electronics", "kitchen"};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/amazon_review_dann_5000/%s_train.svmlight", dir, dom[k]);
        tl_dataset *ds = NULL;
        CHECK_OK(tl_dataset_load(p, NULL, &ds));
        if (!ds) continue;
        CHECK_MSG(tl_dataset_rows(ds) == 2000 && tl_dataset_cols(ds) == 5000,
                  "%s: %zu x %zu", dom[k], tl_dataset_rows(ds), tl_dataset_cols(ds));
        CHECK(tl_dataset_is_sparse(ds));
        int *cls = NULL;
        size_t *cnt = NULL, c = 0;
        CHECK_OK(tl_labels_unique(tl_dataset_labels(ds), tl_dataset_rows(ds), &cls, &cnt, &c));
        CHECK(c == 2 && cls && cls[0] == -1 && cls[1] == 1 && cnt[0] == 1000 && cnt[1] == 1000);
        tl_free(cls);
        tl_free(cnt);
        if (k == 0) /* first line of books_train: "1 0:6 1:8 2:8 3:2 4:3 6:5 ..." */
            CHECK(at(ds, 0, 0) == 6 && at(ds, 0, 1) == 8 && at(ds, 0, 5) == 0 && at(ds, 0, 6) == 5);
        tl_dataset_free(ds);
    }
    /* a test file: 0-based detection must also give 5000 columns */
    snprintf(p, sizeof p, "%s/amazon_review_dann_5000/dvd_test.svmlight", dir);
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_load(p, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 3586 && tl_dataset_cols(ds) == 5000);
    tl_dataset_free(ds);
}

/* Spec dispatch to the MAT and IDX readers (written elsewhere; here only the spec grammar): the MAT
 * half, on the shared data. */
TEST(spec_mat) {
    REQUIRE_DATA(dir);
    REQUIRE_DATA_SUB(dir, "office_caltech10_surf");
    REQUIRE_DATA_SUB(dir, "digits_mnist_usps");
    char spec[1024];
    tl_dataset *ds = NULL;
    snprintf(spec, sizeof spec, "%s/office_caltech10_surf/dslr_SURF_L10.mat", dir);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds)
        CHECK(tl_dataset_rows(ds) == 157 && tl_dataset_cols(ds) == 800 &&
              tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    ds = NULL;
    snprintf(spec, sizeof spec, "%s/digits_mnist_usps/MNIST_vs_USPS.mat:X_tar,Y_tar", dir);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 1800 && tl_dataset_cols(ds) == 256);
        CHECK(strcmp(tl_dataset_name(ds), spec) == 0);
    }
    tl_dataset_free(ds);
}

/* The IDX half of the spec grammar, on the installed Fashion-MNIST. */
TEST(spec_idx) {
    char spec[1024];
    tl_dataset *ds = NULL;
    const char *fm = "/usr/share/datasets/fashion-mnist";
    if (!tl_test_is_dir(fm)) SKIP("%s not found (Debian package dataset-fashion-mnist)", fm);
    snprintf(spec, sizeof spec, "%s:test", fm);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds)
        CHECK(tl_dataset_rows(ds) == 10000 && tl_dataset_cols(ds) == 784 &&
              tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    ds = NULL;
    /* images with labels named relative to the images' folder, and the default sibling */
    snprintf(spec, sizeof spec, "%s/t10k-images-idx3-ubyte.gz:t10k-labels-idx1-ubyte.gz", fm);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 10000 && tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    ds = NULL;
    snprintf(spec, sizeof spec, "%s/t10k-images-idx3-ubyte.gz", fm);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
}

int main(void) {
    RUN(create_and_accessors);
    RUN(from_dense_and_clone);
    RUN(csr_ops);
    RUN(csr_validation);
    RUN(check_finite);
    RUN(labels_unique);
    RUN(csv_header_auto_label_last);
    RUN(csv_no_header_variants);
    RUN(csv_label_name_quotes_bom);
    RUN(csv_numbers_exact);
    RUN(svmlight_basic_one_based);
    RUN(svmlight_bases_and_width);
    RUN(roundtrip_csv);
    RUN(roundtrip_svmlight);
    RUN(roundtrip_npy);
    RUN(spec_colon_in_path);
    RUN(formats);
    RUN(preprocess_parse_format);
    RUN(preprocess_dense_values);
    RUN(preprocess_zscore_minmax);
    RUN(preprocess_rowsum_then_zscore);
    RUN(preprocess_sparse);
    RUN(amazon_svmlight);
    RUN(spec_mat);
    RUN(spec_idx);
    if (tmpdir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    }
    return tl_test_summary();
}
