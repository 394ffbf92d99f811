/* Tests for what real users' files need (issue 18): per-file options in the data spec
 * ("file.csv:label=none,header=no"), string class labels and putting several sets on one name
 * list, missing values that must not pass for a header, the svmlight index base made visible and
 * shared, gzip-compressed text, and "-" for standard input. Expected values are worked out by
 * hand in the comments. (3-D/4-D .npy stacks are in test_readers_bin.c.) */
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "data_text.h"
#include "harness.h"
#include "oom_alloc.h"
#include "internal/testing.h"
#include "tl.h"

static char tmpdir[256];

static void tmp_path(char *buf, size_t cap, const char *name) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_test_data_io_XXXXXX");
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

static void write_gz(const char *path, const char *text) {
    gzFile g = gzopen(path, "wb");
    if (!g) return;
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
}

/* the k class names of ds joined by '|' ("" when none) */
static const char *names_of(const tl_dataset *ds, char *buf, size_t cap) {
    size_t k = 0, o = 0;
    const char *const *nm = tl_dataset_class_names(ds, &k);
    buf[0] = '\0';
    for (size_t i = 0; nm && i < k; i++) {
        int w = snprintf(buf + o, cap - o, "%s%s", i ? "|" : "", nm[i]);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return buf;
}

/* ---------------- 1. per-file options in the spec ---------------- */
TEST(spec_options_csv) {
    char src[512], spec[700];
    tl_dataset *ds = NULL;
    tmp_path(src, sizeof src, "opts.csv");
    write_text(src, "a,class,b\n1,0,2\n3,1,4\n");

    /* label by header name */
    snprintf(spec, sizeof spec, "%s:label=class", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_cols(ds) == 2 && at(ds, 1, 1) == 4);
        CHECK(tl_dataset_labels(ds)[0] == 0 && tl_dataset_labels(ds)[1] == 1);
        CHECK(strcmp(tl_dataset_name(ds), spec) == 0);
    }
    tl_dataset_free(ds);
    /* by index: 1 is "class"; -1 the last ("b": labels 2, 4) */
    snprintf(spec, sizeof spec, "%s:label=1", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_labels(ds)[1] == 1 && at(ds, 1, 0) == 3 && at(ds, 1, 1) == 4);
    tl_dataset_free(ds);
    snprintf(spec, sizeof spec, "%s:label=-1", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_labels(ds)[0] == 2 && tl_dataset_labels(ds)[1] == 4);
    tl_dataset_free(ds);

    /* label=none overrides the caller's label column for this file only */
    tl_load_opts o = tl_load_opts_default();
    o.label_name = "class";
    snprintf(spec, sizeof spec, "%s:label=none", src);
    CHECK_OK(tl_dataset_load(spec, &o, &ds));
    if (ds) CHECK(tl_dataset_cols(ds) == 3 && !tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    CHECK_OK(tl_dataset_load(src, &o, &ds)); /* without the option: opts apply */
    if (ds) CHECK(tl_dataset_cols(ds) == 2 && tl_dataset_has_labels(ds));
    tl_dataset_free(ds);

    /* header=no on an all-number file; label=none,header=no combined */
    tmp_path(src, sizeof src, "nums.csv");
    write_text(src, "1,2,3\n4,5,6\n");
    snprintf(spec, sizeof spec, "%s:label=none,header=no", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 3 && !tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    /* header=yes: the first row is a header even though it is numbers */
    snprintf(spec, sizeof spec, "%s:header=yes", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 1 && tl_dataset_labels(ds)[0] == 6);
    tl_dataset_free(ds);

    /* an unknown extension with format=csv */
    tmp_path(src, sizeof src, "data.dat");
    write_text(src, "1,2,0\n3,4,1\n");
    snprintf(spec, sizeof spec, "%s:format=csv", src);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_labels(ds)[1] == 1);
    tl_dataset_free(ds);
}

TEST(spec_options_errors) {
    char src[512], svm[512], spec[700];
    tl_dataset *ds = NULL;
    tmp_path(src, sizeof src, "e.csv");
    write_text(src, "a,b,y\n1,2,0\n");
    tmp_path(svm, sizeof svm, "e.svm");
    write_text(svm, "1 1:1\n");

    snprintf(spec, sizeof spec, "%s:lable=y", src);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS(spec);
    CHECK_ERR_HAS("unknown option \"lable\"");
    CHECK_ERR_HAS("label, header");
    snprintf(spec, sizeof spec, "%s:header=maybe", src);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("yes, no, auto");
    snprintf(spec, sizeof spec, "%s:none", src);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("not key=value");
    snprintf(spec, sizeof spec, "%s:label=zzz", src);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_NOT_FOUND);
    CHECK_ERR_HAS("no column named \"zzz\"");
    snprintf(spec, sizeof spec, "%s:base=0", src);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("svmlight files only");
    /* label= and header= do not apply to svmlight */
    snprintf(spec, sizeof spec, "%s:label=none", svm);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("label= does not apply to svmlight");
    CHECK_ERR_HAS("base, format");
    /* an .npy followed by options rather than a labels file */
    char npy[512];
    tmp_path(npy, sizeof npy, "x.npy");
    tl_dataset *w = NULL;
    CHECK_OK(tl_dataset_create_dense(2, 2, false, &w));
    CHECK_OK(tl_dataset_save(w, npy, TL_FORMAT_AUTO, 1));
    tl_dataset_free(w);
    snprintf(spec, sizeof spec, "%s:label=none", npy);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("apply to csv and svmlight");
    CHECK(ds == NULL);
}

/* ---------------- 2. string class labels ---------------- */
TEST(string_labels) {
    tl_dataset *ds = NULL;
    char b[256];
    /* names numbered in sorted order: bird 0, cat 1, dog 2 */
    CHECK_OK(parse_csv("x,y,animal\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,bird\n", NULL, &ds));
    if (ds) {
        const int *y = tl_dataset_labels_const(ds);
        CHECK(strcmp(names_of(ds, b, sizeof b), "bird|cat|dog") == 0);
        CHECK(y[0] == 2 && y[1] == 1 && y[2] == 2 && y[3] == 0);
        CHECK(tl_dataset_class_index(ds, "cat") == 1 && tl_dataset_class_index(ds, "cow") == -1);
        /* subset and clone keep the names */
        size_t idx[2] = {3, 1};
        tl_dataset *s = NULL, *c = NULL;
        CHECK_OK(tl_dataset_subset(ds, idx, 2, &s));
        CHECK_OK(tl_dataset_clone(ds, &c));
        if (s) CHECK(strcmp(names_of(s, b, sizeof b), "bird|cat|dog") == 0 &&
                     tl_dataset_labels(s)[0] == 0);
        if (c) CHECK(strcmp(names_of(c, b, sizeof b), "bird|cat|dog") == 0);
        tl_dataset *cc = NULL;
        CHECK_OK(tl_dataset_concat(ds, c, &cc));
        if (cc) CHECK(tl_dataset_rows(cc) == 8 && tl_dataset_class_names(cc, NULL) != NULL);
        tl_dataset_free(cc);
        tl_dataset_free(s);
        tl_dataset_free(c);
    }
    tl_dataset_free(ds);
    /* no header, names: a first row with a name above a name is data */
    CHECK_OK(parse_csv("5.1,3.5,setosa\n4.9,3,versicolor\n", NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2);
        CHECK(strcmp(names_of(ds, b, sizeof b), "setosa|versicolor") == 0);
    }
    tl_dataset_free(ds);
    /* quoted names, with a doubled quote and a comma */
    CHECK_OK(parse_csv("1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n", NULL, &ds));
    if (ds) CHECK(strcmp(names_of(ds, b, sizeof b), "a,b|say \"hi\"") == 0);
    tl_dataset_free(ds);
    /* numeric labels: no names, as before */
    CHECK_OK(parse_csv("1,2,0\n3,4,1\n", NULL, &ds));
    if (ds) CHECK(tl_dataset_class_names(ds, NULL) == NULL);
    tl_dataset_free(ds);
}

TEST(string_labels_roundtrip) {
    tl_dataset *ds = NULL, *back = NULL;
    char p[512], b[256];
    tmp_path(p, sizeof p, "names.csv");
    CHECK_OK(parse_csv("f1,f2,label\n0.5,1,cat\n2,3,dog\n4,5,\"x, y\"\n", NULL, &ds));
    if (!ds) return;
    CHECK_OK(tl_dataset_save(ds, p, TL_FORMAT_AUTO, 1));
    CHECK_OK(tl_dataset_load(p, NULL, &back));
    if (back) {
        CHECK(tl_dataset_rows(back) == 3 && tl_dataset_cols(back) == 2);
        CHECK(strcmp(names_of(back, b, sizeof b), "cat|dog|x, y") == 0);
        const int *y0 = tl_dataset_labels_const(ds), *y1 = tl_dataset_labels_const(back);
        CHECK(y0[0] == y1[0] && y0[1] == y1[1] && y0[2] == y1[2]);
        CHECK(at(back, 2, 1) == 5);
    }
    tl_dataset_free(back);
    tl_dataset_free(ds);
}

TEST(set_class_names) {
    tl_dataset *ds = NULL;
    char b[64];
    CHECK_OK(tl_dataset_create_dense(2, 1, true, &ds));
    if (!ds) return;
    tl_dataset_labels(ds)[1] = 2;
    const char *two[2] = {"a", "b"}, *three[3] = {"z", "y", "x"}, *dup[2] = {"a", "a"};
    CHECK_STATUS(tl_dataset_set_class_names(ds, two, 2), TL_ERR_LABEL);
    CHECK_ERR_HAS("label 2");
    CHECK_STATUS(tl_dataset_set_class_names(ds, dup, 2), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("given twice");
    CHECK_OK(tl_dataset_set_class_names(ds, three, 3)); /* any order is kept as given */
    CHECK(strcmp(names_of(ds, b, sizeof b), "z|y|x") == 0);
    CHECK_OK(tl_dataset_set_class_names(ds, NULL, 0));
    CHECK(tl_dataset_class_names(ds, NULL) == NULL);
    tl_dataset_free(ds);
}

TEST(unify_classes) {
    tl_dataset *src = NULL, *tgt = NULL, *nol = NULL, *num = NULL;
    char b[128];
    /* the source sees cat, dog; the target sees ant, dog: union ant 0, cat 1, dog 2 */
    CHECK_OK(parse_csv("1,cat\n2,dog\n3,cat\n", NULL, &src));
    CHECK_OK(parse_csv("4,dog\n5,ant\n", NULL, &tgt));
    tl_load_opts o = tl_load_opts_default();
    o.label_col = TL_LABEL_COL_NONE;
    CHECK_OK(parse_csv("6,7\n", &o, &nol));
    CHECK_OK(parse_csv("1,0\n2,1\n", NULL, &num));
    if (!src || !tgt || !nol || !num) goto done;
    {
        tl_dataset *mixed[3] = {src, num, tgt};
        CHECK_STATUS(tl_datasets_unify_classes(mixed, 3), TL_ERR_LABEL);
        CHECK_ERR_HAS("integer labels");
        /* nothing changed by the failure */
        CHECK(strcmp(names_of(src, b, sizeof b), "cat|dog") == 0);
        CHECK(tl_dataset_labels(tgt)[1] == 0);
        /* concat of differently named sets is refused */
        tl_dataset *cc = NULL;
        CHECK_STATUS(tl_dataset_concat(src, tgt, &cc), TL_ERR_LABEL);
        CHECK(cc == NULL);
    }
    {
        tl_dataset *sets[4] = {src, NULL, tgt, nol};
        CHECK_OK(tl_datasets_unify_classes(sets, 4));
        CHECK(strcmp(names_of(src, b, sizeof b), "ant|cat|dog") == 0);
        CHECK(strcmp(names_of(tgt, b, sizeof b), "ant|cat|dog") == 0);
        CHECK(strcmp(names_of(nol, b, sizeof b), "ant|cat|dog") == 0);
        const int *ys = tl_dataset_labels_const(src), *yt = tl_dataset_labels_const(tgt);
        CHECK(ys[0] == 1 && ys[1] == 2 && ys[2] == 1);
        CHECK(yt[0] == 2 && yt[1] == 0);
        /* integer sets alone: nothing to do */
        tl_dataset *ints[1] = {num};
        CHECK_OK(tl_datasets_unify_classes(ints, 1));
        CHECK(tl_dataset_class_names(num, NULL) == NULL);
    }
done:
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(nol);
    tl_dataset_free(num);
}

/* ---------------- 3. headers and missing values ---------------- */
static void csv_err(const char *text, tl_status st, const char *where, const char *what) {
    tl_dataset *ds = NULL;
    CHECK_STATUS(tl_parse_csv(text, strlen(text), "m.csv", NULL, &ds), st);
    CHECK_ERR_HAS(where);
    CHECK_ERR_HAS(what);
    CHECK(ds == NULL);
    tl_dataset_free(ds);
}

TEST(header_vs_missing) {
    /* a first row of numbers with a missing value is data, and an error naming line 1 */
    csv_err("1,,0\n2,3,1\n", TL_ERR_FORMAT, "m.csv:1:", "column 2: empty field (missing values");
    csv_err("1,NA,0\n2,3,1\n", TL_ERR_FORMAT, "m.csv:1:", "missing value \"NA\"");
    csv_err("1,?,0\n2,3,1\n", TL_ERR_FORMAT, "m.csv:1:", "missing value \"?\"");
    csv_err("1,N/A,0\n", TL_ERR_FORMAT, "m.csv:1:", "missing value");
    /* and in later rows: file:line: column */
    csv_err("a,b,y\n1,2,0\n3,null,1\n", TL_ERR_FORMAT, "m.csv:3:",
            "column 2 (\"b\"): missing value \"null\"");
    csv_err("a,b,y\n1,2,0\n3,,1\n", TL_ERR_FORMAT, "m.csv:3:", "column 2 (\"b\"): empty field");
    /* a header above a row with a missing value: still a header, the row is the error */
    csv_err("a,b,y\n1,,0\n", TL_ERR_FORMAT, "m.csv:2:", "empty field");

    tl_dataset *ds = NULL;
    /* real headers are still found */
    CHECK_OK(parse_csv("sepal length,sepal width,species\n5.1,3.5,setosa\n", NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 1 && tl_dataset_cols(ds) == 2);
    tl_dataset_free(ds);
    /* pandas' numbered header (with and without the index column) */
    CHECK_OK(parse_csv("0,1,2,label\n1.5,2,3,cat\n4,5,6,dog\n", NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 3);
    tl_dataset_free(ds);
    tl_load_opts o = tl_load_opts_default();
    o.label_name = "label";
    CHECK_OK(parse_csv(",0,1,label\n0,1.5,2,cat\n1,4,5,dog\n", &o, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 3);
    tl_dataset_free(ds);
    /* a header only, no second row */
    csv_err("a,b,label\n", TL_ERR_EMPTY, "m.csv:1:", "no data rows");
    /* one data row with a name label and no second row: data */
    CHECK_OK(parse_csv("1.5,2,cat\n", NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 1);
    tl_dataset_free(ds);
}

/* ---------------- 4. svmlight index base ---------------- */
TEST(index_base_visible_and_shared) {
    tl_dataset *a = NULL, *b = NULL, *c = NULL;
    tl_load_opts o = tl_load_opts_default();
    /* a: uses index 0 (0-based); b: no index 0 (guessed 1-based) */
    CHECK_OK(tl_parse_svmlight("1 0:1 2:5\n", 10, "a.svm", NULL, &a));
    CHECK_OK(tl_parse_svmlight("1 1:7 3:9\n", 10, "b.svm", NULL, &b));
    if (!a || !b) goto done;
    CHECK(tl_dataset_index_base(a) == 0 && tl_dataset_index_base_guessed(a));
    CHECK(tl_dataset_index_base(b) == 1 && tl_dataset_index_base_guessed(b));
    CHECK(tl_dataset_cols(b) == 3 && at(b, 0, 0) == 7); /* 1-based: 1 -> column 0 */
    {
        tl_dataset *sets[2] = {a, b};
        int base = -2;
        CHECK_OK(tl_datasets_unify_index_base(sets, 2, &base));
        CHECK(base == 0);
        /* b re-read 0-based: index 1 is column 1, index 3 column 3, column 0 all zero */
        CHECK(tl_dataset_index_base(b) == 0 && tl_dataset_cols(b) == 4);
        CHECK(at(b, 0, 0) == 0 && at(b, 0, 1) == 7 && at(b, 0, 3) == 9);
    }
    /* a set read 1-based on request cannot be shifted */
    o.index_base = 1;
    CHECK_OK(tl_parse_svmlight("1 1:7\n", 6, "c.svm", &o, &c));
    if (c) {
        CHECK(!tl_dataset_index_base_guessed(c));
        tl_dataset *sets[2] = {c, a};
        CHECK_STATUS(tl_datasets_unify_index_base(sets, 2, NULL), TL_ERR_FORMAT);
        CHECK_ERR_HAS("c.svm");
        CHECK_ERR_HAS("a.svm");
    }
    /* dense sets and other formats: -1 */
    {
        tl_dataset *d = NULL;
        CHECK_OK(tl_dataset_create_dense(1, 1, false, &d));
        CHECK(tl_dataset_index_base(d) == -1);
        tl_dataset *sets[1] = {d};
        int base = 5;
        CHECK_OK(tl_datasets_unify_index_base(sets, 1, &base));
        CHECK(base == -1);
        tl_dataset_free(d);
    }
    /* densified svmlight shifts too */
    {
        tl_dataset *d = NULL;
        tl_load_opts od = tl_load_opts_default();
        od.densify = true;
        CHECK_OK(tl_parse_svmlight("1 1:7 2:8\n", 10, "d.svm", &od, &d));
        tl_dataset *sets[2] = {d, a};
        CHECK_OK(tl_datasets_unify_index_base(sets, 2, NULL));
        if (d) CHECK(tl_dataset_cols(d) == 3 && at(d, 0, 0) == 0 && at(d, 0, 1) == 7 &&
                     at(d, 0, 2) == 8);
        tl_dataset_free(d);
    }
done:
    tl_dataset_free(a);
    tl_dataset_free(b);
    tl_dataset_free(c);
}

TEST(svmlight_common_base) {
    char p0[512], p1[512], p2[512], csv[512], spec[700];
    tmp_path(p0, sizeof p0, "zero.svm");
    tmp_path(p1, sizeof p1, "one.svm");
    tmp_path(p2, sizeof p2, "first_col_zero.svm");
    tmp_path(csv, sizeof csv, "other.csv");
    write_text(p0, "1 0:1 4:2\n-1 2:1 # comment 0:9\n");
    write_text(p1, "1 1:1 5:2\n");
    /* a 0-based file whose column 0 is zero in every row: alone it reads 1-based */
    write_text(p2, "1 1:3 2:4\n");
    write_text(csv, "1,2,0\n");
    int base = -2;
    const char *only1[2] = {p1, csv};
    CHECK_OK(tl_svmlight_common_base(only1, 2, NULL, &base));
    CHECK(base == 1);
    const char *both[3] = {p1, p2, p0};
    CHECK_OK(tl_svmlight_common_base(both, 3, NULL, &base));
    CHECK(base == 0);
    const char *none[1] = {csv};
    CHECK_OK(tl_svmlight_common_base(none, 1, NULL, &base));
    CHECK(base == -1);
    /* read with that base, the file with an all-zero column 0 is not shifted */
    tl_load_opts o = tl_load_opts_default();
    o.index_base = 0;
    tl_dataset *ds = NULL;
    CHECK_OK(tl_dataset_load(p2, &o, &ds));
    if (ds) CHECK(tl_dataset_cols(ds) == 3 && at(ds, 0, 1) == 3 && at(ds, 0, 2) == 4);
    tl_dataset_free(ds);
    /* the spec's base counts; a conflict is an error naming both */
    snprintf(spec, sizeof spec, "%s:base=1", p1);
    const char *conflict[2] = {spec, p0};
    CHECK_STATUS(tl_svmlight_common_base(conflict, 2, NULL, &base), TL_ERR_FORMAT);
    CHECK_ERR_HAS("one.svm");
    CHECK_ERR_HAS("zero.svm");
    snprintf(spec, sizeof spec, "%s:base=0", p1);
    const char *forced0[1] = {spec};
    CHECK_OK(tl_svmlight_common_base(forced0, 1, NULL, &base));
    CHECK(base == 0);
    CHECK_OK(tl_dataset_load(spec, NULL, &ds));
    if (ds) CHECK(tl_dataset_index_base(ds) == 0 && !tl_dataset_index_base_guessed(ds) &&
                  tl_dataset_cols(ds) == 6);
    tl_dataset_free(ds);
}

/* ---------------- 5. gzip ---------------- */
TEST(gzip_text) {
    char p[512], spec[700];
    tl_dataset *ds = NULL;
    tmp_path(p, sizeof p, "d.csv.gz");
    write_gz(p, "a,b,y\n1,2,cat\n3,4,dog\n");
    CHECK_OK(tl_dataset_load(p, NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2 && at(ds, 1, 1) == 4);
        CHECK(tl_dataset_class_names(ds, NULL) != NULL);
    }
    tl_dataset_free(ds);
    /* label=none makes "y" a feature column of names: an error naming the file and line */
    snprintf(spec, sizeof spec, "%s:label=none", p);
    CHECK_STATUS(tl_dataset_load(spec, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("d.csv.gz:2: column 3 (\"y\"): non-numeric value \"cat\"");

    tmp_path(p, sizeof p, "x.svmlight.gz");
    write_gz(p, "1 1:1 3:2\n-1 2:5\n");
    CHECK_OK(tl_dataset_load(p, NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_cols(ds) == 3 && at(ds, 1, 1) == 5);
    tl_dataset_free(ds);
    /* two gzip members one after the other (cat a.gz b.gz) */
    {
        char q[512];
        tmp_path(q, sizeof q, "two.csv.gz");
        write_gz(q, "1,2,0\n");
        FILE *f = fopen(q, "ab");
        char tmp2[512];
        tmp_path(tmp2, sizeof tmp2, "part2.gz");
        write_gz(tmp2, "3,4,1\n");
        FILE *h = fopen(tmp2, "rb");
        int ch;
        while (f && h && (ch = fgetc(h)) != EOF) fputc(ch, f);
        if (f) fclose(f);
        if (h) fclose(h);
        CHECK_OK(tl_dataset_load(q, NULL, &ds));
        if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_labels(ds)[1] == 1);
        tl_dataset_free(ds);
    }
    /* a truncated gzip file and a plain file named .gz */
    tmp_path(p, sizeof p, "cut.csv.gz");
    write_gz(p, "1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
    {
        FILE *f = fopen(p, "rb");
        unsigned char b[256];
        size_t n = f ? fread(b, 1, sizeof b, f) : 0;
        if (f) fclose(f);
        f = fopen(p, "wb");
        if (f) {
            fwrite(b, 1, n > 12 ? n - 12 : n, f);
            fclose(f);
        }
    }
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("cut.csv.gz");
    CHECK_ERR_HAS("truncated");
    tmp_path(p, sizeof p, "plain.csv.gz");
    write_text(p, "1,2,0\n");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("not gzip data");
    tmp_path(p, sizeof p, "x.npy.gz");
    write_gz(p, "x");
    CHECK_STATUS(tl_dataset_load(p, NULL, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("decompress");
    /* writing .gz is refused, nothing created */
    tl_dataset *w = NULL;
    CHECK_OK(tl_dataset_create_dense(1, 1, true, &w));
    tmp_path(p, sizeof p, "out.csv.gz");
    CHECK_STATUS(tl_dataset_save(w, p, TL_FORMAT_AUTO, 1), TL_ERR_UNSUPPORTED);
    CHECK(access(p, F_OK) != 0);
    tl_dataset_free(w);
    CHECK(ds == NULL);
}

/* ---------------- 6. standard input ---------------- */
/* Load spec with standard input reading the file at path. */
static tl_status load_from_stdin(const char *path, const char *spec, const tl_load_opts *o,
                                 tl_dataset **ds) {
    int saved = dup(0), fd = open(path, O_RDONLY);
    if (saved < 0 || fd < 0) return TL_ERR_IO;
    dup2(fd, 0);
    close(fd);
    tl_status st = tl_dataset_load(spec, o, ds);
    dup2(saved, 0);
    close(saved);
    return st;
}

TEST(stdin_spec) {
    char p[512];
    tl_dataset *ds = NULL;
    tmp_path(p, sizeof p, "in.csv");
    write_text(p, "a,b,y\n1,2,0\n3,4,1\n");
    CHECK_OK(load_from_stdin(p, "-", NULL, &ds));
    if (ds) {
        CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_labels(ds)[1] == 1);
        CHECK(strcmp(tl_dataset_name(ds), "<stdin>") == 0);
    }
    tl_dataset_free(ds);
    CHECK_OK(load_from_stdin(p, "-:label=none", NULL, &ds));
    if (ds) CHECK(tl_dataset_cols(ds) == 3 && !tl_dataset_has_labels(ds));
    tl_dataset_free(ds);
    /* errors name <stdin> and the line */
    write_text(p, "a,b,y\n1,2,0\n3,x,1\n");
    CHECK_STATUS(load_from_stdin(p, "-", NULL, &ds), TL_ERR_FORMAT);
    CHECK_ERR_HAS("<stdin>:3:");
    /* svmlight by the spec's format, gzip on stdin */
    tmp_path(p, sizeof p, "in.gz");
    write_gz(p, "1 1:1\n-1 2:3\n");
    CHECK_OK(load_from_stdin(p, "-:format=svmlight", NULL, &ds));
    if (ds) CHECK(tl_dataset_rows(ds) == 2 && tl_dataset_index_base(ds) == 1);
    tl_dataset_free(ds);
    tl_load_opts o = tl_load_opts_default();
    o.format = TL_FORMAT_NPY;
    CHECK_STATUS(load_from_stdin(p, "-", &o, &ds), TL_ERR_UNSUPPORTED);
    CHECK_ERR_HAS("standard input");
    const char *specs[1] = {"-:format=svmlight"};
    int base;
    CHECK_STATUS(tl_svmlight_common_base(specs, 1, NULL, &base), TL_ERR_UNSUPPORTED);
    CHECK(ds == NULL);
}

/* ---------------- out of memory at every allocation of the new paths ---------------- */
TEST(oom_names_unify_gzip) {
    const char *t1 = "x,y,c\n1,2,dog\n3,4,cat\n5,6,emu\n", *t2 = "7,8,ant\n9,1,dog\n";
    char gz[512];
    tmp_path(gz, sizeof gz, "oom.csv.gz");
    write_gz(gz, t1);
    int ok = 0, bad = 0;
    tl_allocator_set(&oom_allocator);
    long k = 0;
    for (; k < 5000 && !ok; k++) { /* until the whole sequence has allocations enough */
        tl_dataset *d1 = NULL, *d2 = NULL, *d3 = NULL;
        oom_left = k; /* the first k allocations succeed, then every one fails */
        tl_status s1 = tl_parse_csv(t1, strlen(t1), "a.csv", NULL, &d1);
        tl_status s2 = s1 == TL_OK ? tl_parse_csv(t2, strlen(t2), "b.csv", NULL, &d2) : s1;
        tl_status s3 = s2 == TL_OK ? tl_dataset_load(gz, NULL, &d3) : s2;
        tl_status s4 = s3;
        if (s3 == TL_OK) {
            tl_dataset *sets[3] = {d1, d2, d3};
            s4 = tl_datasets_unify_classes(sets, 3);
            /* a failed unify changes nothing */
            if (s4 != TL_OK && tl_dataset_labels(d1)[0] != 1) bad++;
        }
        if (s4 == TL_OK) {
            ok++;
            size_t nk = 0;
            tl_dataset_class_names(d2, &nk);
            if (nk != 4 || tl_dataset_labels(d2)[0] != 0) bad++;
        } else if (s4 != TL_ERR_NOMEM) {
            bad++;
        }
        if ((s1 != TL_OK && d1) || (s2 != TL_OK && d2) || (s3 != TL_OK && d3)) bad++;
        tl_dataset_free(d1);
        tl_dataset_free(d2);
        tl_dataset_free(d3);
    }
    oom_left = -1;
    tl_allocator_set(NULL);
    CHECK(bad == 0);
    CHECK(ok == 1 && k > 1); /* every shorter budget failed cleanly, then one succeeded */
}

int main(void) {
    RUN(spec_options_csv);
    RUN(spec_options_errors);
    RUN(string_labels);
    RUN(string_labels_roundtrip);
    RUN(set_class_names);
    RUN(unify_classes);
    RUN(header_vs_missing);
    RUN(index_base_visible_and_shared);
    RUN(svmlight_common_base);
    RUN(gzip_text);
    RUN(stdin_spec);
    RUN(oom_names_unify_gzip);
    if (tmpdir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) printf("could not remove %s\n", tmpdir);
    }
    return tl_test_summary();
}
