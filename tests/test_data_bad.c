/* Malformed and hostile inputs for the text readers, specs and writers: every case must fail
 * with the right status AND a message naming the file and line (CHECK_ERR_HAS("bad.csv:3:")),
 * and a failed save must leave nothing behind (no file at the path, no temporary beside it, an
 * older file untouched). Out-of-memory is injected at every allocation of a parse and a save to
 * check each failure path returns TL_ERR_NOMEM cleanly (ASan finds any leak). */
#include <dirent.h>
#include <unistd.h>

#include "harness.h"
#include "internal/testing.h"
#include "tl.h"

static char tmpdir[256];

static void tmp_path(char *buf, size_t cap, const char *name) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_test_data_bad_XXXXXX");
        if (!mkdtemp(tmpdir)) tmpdir[0] = '\0';
    }
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static size_t count_files(const char *dir) {
    size_t n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Parse `text` as bad.csv with options o; expect status st and a message containing both
 * `where` (file:line:) and `what`. */
static void csv_bad(const char *text, const tl_load_opts *o, tl_status st, const char *where,
                    const char *what) {
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_parse_csv(text, strlen(text), "bad.csv", o, &ds), st);
    CHECK_ERR_HAS(where);
    if (what) CHECK_ERR_HAS(what);
    CHECK(ds == NULL);
    tl_dataset_free(ds);
}

static void svm_bad(const char *text, const tl_load_opts *o, tl_status st, const char *where,
                    const char *what) {
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_parse_svmlight(text, strlen(text), "bad.svm", o, &ds), st);
    CHECK_ERR_HAS(where);
    if (what) CHECK_ERR_HAS(what);
    CHECK(ds == NULL);
    tl_dataset_free(ds);
}

TEST(csv_empty) {
    csv_bad("", NULL, TL_ERR_EMPTY, "bad.csv:1:", "empty file");
    csv_bad("\n  \r\n\n", NULL, TL_ERR_EMPTY, "bad.csv:", "empty file");
    csv_bad("a,b,label\n\n", NULL, TL_ERR_EMPTY, "bad.csv:1:", "no data rows");
}

TEST(csv_ragged) {
    csv_bad("1,2,3\n4,5,6\n7,8\n", NULL, TL_ERR_FORMAT, "bad.csv:3:",
            "expected 3 fields, found 2");
    csv_bad("a,b,c\n1,2,3,4\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "expected 3 fields, found 4");
    /* a blank line in the middle is skipped but counted */
    csv_bad("1,2,3\n\n4,5\n", NULL, TL_ERR_FORMAT, "bad.csv:3:", "found 2");
}

TEST(csv_bad_cells) {
    csv_bad("x,y,label\n1,2,0\n1,abc,0\n", NULL, TL_ERR_FORMAT, "bad.csv:3:", "\"abc\"");
    csv_bad("x,y,label\n1,2,0\n1,abc,0\n", NULL, TL_ERR_FORMAT, "bad.csv:3:", "column 2 (\"y\")");
    csv_bad("1,2,0\n0x10,2,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "\"0x10\"");
    csv_bad("1,2,0\n1.5x,2,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "non-numeric");
    csv_bad("1,2,0\n1,,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "empty field");
    csv_bad("1,2,0\n1,\"2,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "unterminated");
    csv_bad("1,2,0\n1,\"2\"x,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "closing quote");
    /* a stray carriage return inside a line is named as such, not taken for a header problem */
    csv_bad("x,y,label\n1,2\r3,0\n", NULL, TL_ERR_FORMAT, "bad.csv:2:", "carriage return");
    csv_bad("x,y,label\n1,2,0\n1,2\r3,0\n", NULL, TL_ERR_FORMAT, "bad.csv:3:", "carriage return");
}

TEST(csv_nonfinite) {
    csv_bad("1,2,0\n3,nan,1\n", NULL, TL_ERR_NONFINITE, "bad.csv:2:", "NaN/Inf");
    csv_bad("1,2,0\n3,NaN,1\n", NULL, TL_ERR_NONFINITE, "bad.csv:2:", "\"NaN\"");
    csv_bad("1,2,0\n4,5,0\n-Infinity,2,1\n", NULL, TL_ERR_NONFINITE, "bad.csv:3:", "NaN/Inf");
    csv_bad("1,inf,0\n", NULL, TL_ERR_NONFINITE, "bad.csv:1:", "column 2");
    csv_bad("1,2,0\n1e999,2,0\n", NULL, TL_ERR_NONFINITE, "bad.csv:2:", "overflows");
}

TEST(csv_labels) {
    csv_bad("1,2,0\n3,4,1.5\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "\"1.5\" is not an integer");
    /* a label column mixing numbers and names, either way round */
    csv_bad("x,y,class\n1,2,cat\n3,4,1\n", NULL, TL_ERR_LABEL, "bad.csv:3:",
            "line 2's label \"cat\" is a name");
    csv_bad("x,y,class\n1,2,0\n3,4,dog\n", NULL, TL_ERR_LABEL, "bad.csv:3:",
            "not both");
    csv_bad("1,2,0\n3,4,1e10\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "not an integer");
    csv_bad("1,2,0\n3,4,nan\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "missing label \"nan\"");
    csv_bad("1,2,0\n3,4,inf\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "not an integer");
    csv_bad("1,2,0\n3,4,\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "empty label");
    csv_bad("1,2,cat\n3,4,NA\n", NULL, TL_ERR_LABEL, "bad.csv:2:", "missing label \"NA\"");
}

TEST(csv_label_column) {
    tl_load_opts o = tl_load_opts_default();
    o.label_col = 5;
    csv_bad("1,2,3\n", &o, TL_ERR_INVALID_ARG, "bad.csv:1:", "label column 5 is out of range");
    o.label_col = -4;
    csv_bad("\n1,2,3\n", &o, TL_ERR_INVALID_ARG, "bad.csv:2:", "3 columns");
    o = tl_load_opts_default();
    o.label_name = "target";
    csv_bad("a,b,label\n1,2,3\n", &o, TL_ERR_NOT_FOUND, "bad.csv:1:", "no column named \"target\"");
    csv_bad("1,2,3\n", &o, TL_ERR_NOT_FOUND, "bad.csv:1:", "no header row");
    o = tl_load_opts_default();
    csv_bad("1\n2\n", &o, TL_ERR_FORMAT, "bad.csv:1:", "no feature columns");
}

TEST(csv_files) {
    char p[512];
    tl_dataset *ds = NULL;
    tmp_path(p, sizeof p, "bad.csv");
    write_text(p, "a,b,y\n1,2,0\n3,x,1\n");
    CHECK_STATUS(tl_read_csv(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad.csv:3:");
    CHECK_ERR_HAS(tmpdir);
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("bad.csv:3:");
    write_text(p, "");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_EMPTY);
    CHECK_ERR_HAS("bad.csv:1:");
    tmp_path(p, sizeof p, "absent.csv");
    CHECK_STATUS(tl_read_csv(p, NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("absent.csv");
    CHECK_STATUS(tl_read_csv(tmpdir, NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("directory");
    CHECK(ds == NULL);
}

TEST(svm_empty) {
    svm_bad("", NULL, TL_ERR_EMPTY, "bad.svm:1:", "empty file");
    svm_bad("# only a comment\n\n", NULL, TL_ERR_EMPTY, "bad.svm:", "empty file");
}

TEST(svm_tokens) {
    svm_bad("1 1:1\n-1 3\n", NULL, TL_ERR_FORMAT, "bad.svm:2:", "bad token \"3\"");
    svm_bad("1 1:1\n1 12:1 7:1\n", NULL, TL_ERR_FORMAT, "bad.svm:2:", "index 7 after 12");
    svm_bad("1 4:1 4:2\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "index 4 after 4");
    svm_bad("1 1:1\n1 1:1\n1 -3:1\n", NULL, TL_ERR_FORMAT, "bad.svm:3:", "negative index");
    svm_bad("1 a:1\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "bad index");
    svm_bad("1 :1\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "missing index");
    svm_bad("1 99999999999:1\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "too large");
    svm_bad("1 1:abc\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "non-numeric value \"abc\"");
    svm_bad("1 1:0x1p3\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "non-numeric");
    svm_bad("1 1:\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "missing value");
    svm_bad("1 2:1 qid:3\n", NULL, TL_ERR_FORMAT, "bad.svm:1:", "qid");
    svm_bad("1 1:1\n3:1 4:2\n", NULL, TL_ERR_FORMAT, "bad.svm:2:", "expected a label");
}

TEST(svm_nonfinite) {
    svm_bad("1 1:1\n1 2:nan\n", NULL, TL_ERR_NONFINITE, "bad.svm:2:", "NaN/Inf");
    svm_bad("1 2:-inf\n", NULL, TL_ERR_NONFINITE, "bad.svm:1:", "NaN/Inf");
    svm_bad("1 2:1e400\n", NULL, TL_ERR_NONFINITE, "bad.svm:1:", "overflows");
}

TEST(svm_labels) {
    svm_bad("1 1:1\n1.5 2:1\n", NULL, TL_ERR_LABEL, "bad.svm:2:", "\"1.5\" is not an integer");
    svm_bad("pos 2:1\n", NULL, TL_ERR_LABEL, "bad.svm:1:", "string class labels");
    svm_bad("1,2 2:1\n", NULL, TL_ERR_LABEL, "bad.svm:1:", "multi-label");
}

TEST(svm_base_and_width) {
    tl_load_opts o = tl_load_opts_default();
    o.index_base = 1;
    svm_bad("1 1:1\n1 0:1 3:1\n", &o, TL_ERR_FORMAT, "bad.svm:2:", "index 0 in a 1-based file");
    o = tl_load_opts_default();
    o.n_features = 4;
    svm_bad("1 1:1\n1 5:1\n1 2:1\n", &o, TL_ERR_FORMAT, "bad.svm:2:", "index 5");
    o = tl_load_opts_default();
    o.index_base = 5;
    svm_bad("1 1:1\n", &o, TL_ERR_INVALID_ARG, "bad.svm", "index base");
}

TEST(spec_errors) {
    tl_dataset *ds = NULL;
    char p[512], spec[600];
    tmp_path(p, sizeof p, "data.parquet");
    write_text(p, "x");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("data.parquet");
    CHECK_ERR_HAS("format");
    /* a folder without :train/:test */
    CHECK_STATUS(tl_dataset_load(tmpdir, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS(":train");
    snprintf(spec, sizeof spec, "%s:train", tmpdir);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("train-images-idx3-ubyte");
    CHECK_STATUS(tl_dataset_load("", NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_STATUS(tl_dataset_load("/nonexistent/x.mat:X,Y", NULL, &ds), TL_ERR_IO);
    CHECK_ERR_HAS("/nonexistent/x.mat:X,Y");
    tmp_path(p, sizeof p, "ok.svm");
    write_text(p, "1 1:1\n");
    snprintf(spec, sizeof spec, "%s:extra", p);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS(":extra");
    CHECK(ds == NULL);
}

static void make_ds(tl_dataset **ds, bool labels) {
    *ds = NULL;
    if (tl_dataset_create_dense(3, 2, labels, ds) != TL_OK) return;
    tl_mat X = tl_dataset_dense(*ds);
    for (size_t k = 0; k < 6; k++) X.data[k] = (double)k + 0.5;
}

TEST(save_failures_leave_nothing) {
    tl_dataset *ds = NULL;
    char p[512];
    make_ds(&ds, true);
    if (!ds) return;
    tmp_path(p, sizeof p, "x"); /* creates tmpdir */
    size_t before = count_files(tmpdir);

    /* a folder that does not exist */
    tmp_path(p, sizeof p, "no_such_dir/out.csv");
    CHECK_STATUS(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1), TL_ERR_IO);
    CHECK_ERR_HAS("out.csv");
    CHECK(count_files(tmpdir) == before);
    /* a "folder" that is a regular file */
    char f[512];
    tmp_path(f, sizeof f, "plainfile");
    write_text(f, "x");
    before = count_files(tmpdir);
    char q[600];
    snprintf(q, sizeof q, "%s/out.npy", f);
    CHECK_STATUS(tl_dataset_save(ds, q, TL_FORMAT_AUTO, 1), TL_ERR_IO);
    CHECK(count_files(tmpdir) == before);

    /* unknown format, unsupported format, svmlight without labels: nothing created */
    tmp_path(p, sizeof p, "out.xyz");
    CHECK_STATUS(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1), TL_ERR_INVALID_ARG);
    tmp_path(p, sizeof p, "out.mat");
    CHECK_STATUS(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1), TL_ERR_UNSUPPORTED);
    tl_dataset *nol = NULL;
    make_ds(&nol, false);
    tmp_path(p, sizeof p, "out.svm");
    CHECK_STATUS(tl_dataset_save(nol, p, TL_FORMAT_AUTO, 1), TL_ERR_LABEL);
    CHECK_ERR_HAS("no labels");
    CHECK(count_files(tmpdir) == before);
    tl_dataset_free(nol);
    tl_dataset_free(ds);
}

/* ---- allocation failure injection ---- */
static long fail_at = -1, n_alloc = 0;
static void *inj_alloc(void *u, size_t n) {
    (void)u;
    if (fail_at >= 0 && n_alloc++ == fail_at) return NULL;
    return malloc(n);
}
static void *inj_realloc(void *u, void *p, size_t n) {
    (void)u;
    if (fail_at >= 0 && n_alloc++ == fail_at) return NULL;
    return realloc(p, n);
}
static void inj_free(void *u, void *p) {
    (void)u;
    free(p);
}

TEST(oom_parse_and_save) {
    tl_allocator a = {inj_alloc, inj_realloc, inj_free, NULL};
    const char *csv = "a,b,y\n1,2,0\n3,4,1\n5,6,1\n";
    const char *svm = "1 1:1 3:2\n-1 2:5\n";
    int csv_ok = 0, svm_ok = 0, save_ok = 0, bad = 0;
    char p[512];
    tmp_path(p, sizeof p, "oom.csv");
    tl_dataset *src = NULL;
    make_ds(&src, true);
    if (!src) return;
    write_text(p, "old contents\n");
    size_t before = count_files(tmpdir);
    tl_allocator_set(&a);
    for (long k = 0; k < 40; k++) {
        tl_dataset *ds = NULL;
        tl_load_opts o = tl_load_opts_default();
        o.densify = true;
        fail_at = k;
        n_alloc = 0;
        tl_status s1 = tl_parse_csv(csv, strlen(csv), "oom.csv", NULL, &ds);
        if (s1 == TL_OK) csv_ok++;
        else if (s1 != TL_ERR_NOMEM || ds) bad++;
        tl_dataset_free(ds);
        ds = NULL;
        n_alloc = 0;
        tl_status s2 = tl_parse_svmlight(svm, strlen(svm), "oom.svm", &o, &ds);
        if (s2 == TL_OK) svm_ok++;
        else if (s2 != TL_ERR_NOMEM || ds) bad++;
        tl_dataset_free(ds);
        n_alloc = 0;
        tl_status s3 = tl_dataset_save(src, p, TL_FORMAT_CSV, 1);
        if (s3 == TL_OK) save_ok++;
        else if (s3 != TL_ERR_NOMEM) bad++;
        else {
            /* failed save: the old file is intact, no temporary left */
            FILE *f = fopen(p, "r");
            char line[64] = "";
            if (f) {
                if (!fgets(line, sizeof line, f)) line[0] = '\0';
                fclose(f);
            }
            if (strcmp(line, "old contents\n") != 0) bad++;
            if (count_files(tmpdir) != before) bad++;
        }
    }
    fail_at = -1;
    tl_allocator_set(NULL);
    CHECK(bad == 0);
    /* the first few allocations fail, the later ones succeed */
    CHECK(csv_ok > 0 && csv_ok < 40);
    CHECK(svm_ok > 0 && svm_ok < 40);
    CHECK(save_ok > 0 && save_ok < 40);
    tl_dataset_free(src);
}

int main(void) {
    RUN(csv_empty);
    RUN(csv_ragged);
    RUN(csv_bad_cells);
    RUN(csv_nonfinite);
    RUN(csv_labels);
    RUN(csv_label_column);
    RUN(csv_files);
    RUN(svm_empty);
    RUN(svm_tokens);
    RUN(svm_nonfinite);
    RUN(svm_labels);
    RUN(svm_base_and_width);
    RUN(spec_errors);
    RUN(save_failures_leave_nothing);
    RUN(oom_parse_and_save);
    if (tmpdir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    }
    return tl_test_summary();
}
