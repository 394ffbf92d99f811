/* tl_report_render (src/pipeline/report_html.c) and its JSON reader (src/core/jread.c): a real
 * run's report renders with its numbers; a measured negative transfer, a guard-only one and an
 * unscored run are each called out as such; strings from the file are escaped; malformed and
 * hostile documents fail with TL_ERR_FORMAT naming line and column; every allocation failure is a
 * clean TL_ERR_NOMEM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal/jread.h"
#include "oom_alloc.h"
#include "pipeline/pipeline_internal.h"
#include "tl.h"

static char *render(const char *json, tl_report_format f) {
    char *out = NULL;
    tl_status st = tl_report_render(json, strlen(json), f, &out);
    if (st != TL_OK) printf("  render: %s\n", tl_error_message());
    return out;
}

/* A labelled report whose transfer is 20 points below the source-only learner on 500 rows. */
static const char *measured =
    "{\"command\": \"adapt\", \"method\": \"coral\", \"family\": \"feature\", \"params\": {\"eps\": 1},"
    " \"learner\": \"1nn\", \"preprocess\": \"zscore\", \"source\": \"s.csv\", \"target\": \"t.csv\","
    " \"evaluated_on\": \"t.csv\", \"n_source\": 400, \"n_target\": 500, \"n_eval\": 500,"
    " \"accuracy\": 0.3, \"balanced_accuracy\": 0.29, \"macro_f1\": 0.28, \"rmse\": null,"
    " \"baseline_accuracy\": 0.5, \"baseline_balanced_accuracy\": 0.49, \"baseline_macro_f1\": 0.48,"
    " \"target_only_accuracy\": null, \"pooled_accuracy\": null, \"gain\": -0.2,"
    " \"worse_than_baseline\": true, \"worse_than\": \"source_only\", \"negative_transfer\": false,"
    " \"guard\": {\"verdict\": \"ok\", \"reason\": \"features correspond\", \"mmd_before\": 0.02,"
    " \"mmd_after\": 0.01, \"reverse_validation_before\": 0.4, \"reverse_validation_after\": 0.45,"
    " \"agreement\": 0.7, \"effective_sample_share\": 1, \"labelled\": null}, \"model\": {\"dim\": 10}}";

TEST(measured_negative_transfer_is_called_out) {
    char *h = render(measured, TL_REPORT_HTML);
    CHECK(h != NULL);
    if (!h) return;
    CHECK(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(h, "Negative transfer MEASURED") != NULL);
    CHECK(strstr(h, "30.00 % against 50.00 % without transfer") != NULL);
    CHECK(strstr(h, "The guard&#39;s evidence did not show it") != NULL);
    CHECK(strstr(h, "class=\"verdict measured\"") != NULL);
    /* both numbers drawn as bars, the dashed best-baseline line, the guard's MMD chart */
    CHECK(strstr(h, ">30.00 %</text>") && strstr(h, ">50.00 %</text>"));
    CHECK(strstr(h, "stroke-dasharray") != NULL);
    CHECK(strstr(h, "MMD^2 before the mapping") != NULL);
    /* self-contained: no script, nothing fetched */
    CHECK(!strstr(h, "<script") && !strstr(h, "http://www.w3.org/1999") && !strstr(h, "src="));
    CHECK(strstr(h, "https://") == NULL);
    tl_free(h);
}

/* The same run with the drop inside the noise of 20 rows is not called measured. */
TEST(a_drop_within_the_noise_is_not_measured) {
    char *j = strdup(measured), *p = strstr(j, "\"n_eval\": 500");
    memcpy(p, "\"n_eval\":  20", 13);
    char *h = render(j, TL_REPORT_HTML);
    CHECK(h && !strstr(h, "MEASURED") && strstr(h, "No negative transfer measured"));
    CHECK(h && strstr(h, "noise of 20 scored rows"));
    tl_free(h);
    free(j);
}

TEST(guard_only_and_unscored) {
    /* unlabelled target, the guard says harmful: LIKELY */
    const char *j = "{\"method\": \"kmm\", \"family\": \"instance\", \"accuracy\": null, \"n_eval\": 9,"
                    " \"negative_transfer\": true, \"guard\": {\"verdict\": \"harmful\","
                    " \"reason\": \"weights concentrate\"}}";
    char *h = render(j, TL_REPORT_HTML);
    CHECK(h && strstr(h, "Negative transfer LIKELY") && strstr(h, "weights concentrate"));
    CHECK(h && strstr(h, "not measured"));
    tl_free(h);
    /* no guard (--no-guard), unlabelled: said plainly */
    j = "{\"method\": \"jda\", \"accuracy\": null, \"negative_transfer\": null, \"guard\": null}";
    h = render(j, TL_REPORT_HTML);
    CHECK(h && strstr(h, "Not scored") && strstr(h, "The guard did not run"));
    tl_free(h);
}

TEST(regression_report) {
    const char *j = "{\"method\": \"kmm\", \"accuracy\": null, \"rmse\": 2.0, \"baseline_rmse\": 1.0,"
                    " \"n_eval\": 400, \"negative_transfer\": null, \"guard\": null}";
    char *h = render(j, TL_REPORT_HTML);
    CHECK(h && strstr(h, "RMSE on the scored rows") && strstr(h, "Negative transfer MEASURED"));
    CHECK(h && strstr(h, "RMSE 2 against 1 without transfer"));
    tl_free(h);
}

TEST(strings_are_escaped) {
    const char *j = "{\"method\": \"<script>alert(1)</script>\", \"source\": \"a&b\\\"c\","
                    " \"accuracy\": 0.5, \"baseline_accuracy\": 0.5, \"n_eval\": 10}";
    char *h = render(j, TL_REPORT_HTML);
    CHECK(h && !strstr(h, "<script>") && strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(h && strstr(h, "a&amp;b&quot;c"));
    tl_free(h);
}

TEST(svg_alone) {
    char *s = render(measured, TL_REPORT_SVG);
    CHECK(s && strncmp(s, "<?xml", 5) == 0 && strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(s && !strstr(s, "<html") && strstr(s, "Accuracy on the scored rows"));
    CHECK(s && strstr(s, "Guard: label-free evidence"));
    tl_free(s);
    /* a multi-source run renders as HTML only */
    const char *m = "{\"method\": \"jda\", \"combine\": \"vote\", \"target\": \"t\", \"n_eval\": 5,"
                    " \"accuracy\": 0.6, \"sources\": [{\"source\": \"a\", \"accuracy\": 0.6,"
                    " \"baseline_accuracy\": 0.7, \"negative_transfer\": true, \"dropped\": true,"
                    " \"dropped_because\": \"harmful\"}]}";
    char *out = NULL;
    CHECK_STATUS(tl_report_render(m, strlen(m), TL_REPORT_SVG, &out), TL_ERR_UNSUPPORTED);
    CHECK(out == NULL);
    char *h = render(m, TL_REPORT_HTML);
    CHECK(h && strstr(h, "Source a (dropped)") && strstr(h, "Negative transfer LIKELY"));
    tl_free(h);
}

/* A real run's report (the library's JSON) renders with its own accuracy. */
TEST(real_run_report) {
    double xs[40], xt[30];
    int ys[20], yt[15];
    for (int i = 0; i < 20; i++) ys[i] = i % 2, xs[2 * i] = i % 2 + 0.05 * i, xs[2 * i + 1] = (i * 7) % 5;
    for (int i = 0; i < 15; i++) yt[i] = i % 2, xt[2 * i] = i % 2 + 0.4, xt[2 * i + 1] = (i * 3) % 5;
    tl_dataset *s = NULL, *t = NULL;
    tl_task *task = NULL;
    tl_params *p = NULL;
    tl_report *r = NULL;
    char *js = NULL, *h = NULL;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xs, 20, 2), ys, &s));
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xt, 15, 2), yt, &t));
    CHECK_OK(tl_task_create(&task));
    CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, s, NULL));
    CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, t, NULL));
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &p));
    CHECK_OK(tl_transfer_run(task, p, NULL, &r, NULL));
    CHECK_OK(tl_report_json(r, "adapt", &js));
    if (js) {
        CHECK_OK(tl_report_render(js, strlen(js), TL_REPORT_HTML, &h));
        tlx_jval *doc = NULL;
        CHECK_OK(tlx_json_parse(js, strlen(js), &doc));
        char want[64];
        snprintf(want, sizeof want, ">%.2f %%</text>", 100 * tlx_json_num(doc, "accuracy"));
        CHECK_MSG(h && strstr(h, want), "the page lacks %s", want);
        CHECK(h && strstr(h, "coral (feature)"));
        tlx_json_free(doc);
    }
    tl_free(h);
    tl_free(js);
    tl_report_free(r);
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

/* Runs CORAL on a 3-class task whose rows lie in a 2-D plane of R^d (d = 2: the covariance path
 * of the view's PCA; d = 30 > rows: the Gram path), with or without report_views. */
static void plane_run(size_t d, size_t ns, size_t nt, bool views, tl_report **r) {
    double *xs = calloc(ns * d, sizeof *xs), *xt = calloc(nt * d, sizeof *xt);
    int *ys = calloc(ns, sizeof *ys), *yt = calloc(nt, sizeof *yt);
    /* the plane spanned by u = (1, 1, 0, ...)/sqrt 2 and v = e_d (d > 2), or the axes (d = 2) */
    for (size_t i = 0; i < ns + nt; i++) {
        bool src = i < ns;
        size_t k = src ? i : i - ns;
        int y = (int)(k % 3);
        double a = y + 0.1 * (double)((k * 7) % 5) + (src ? 0 : 0.5), b = (double)((k * 3) % 4) - y;
        double *x = src ? xs + k * d : xt + k * d;
        if (d == 2) x[0] = a, x[1] = b;
        else x[0] = x[1] = a / sqrt(2.0), x[d - 1] = b;
        (src ? ys : yt)[k] = y;
    }
    tl_dataset *s = NULL, *t = NULL;
    tl_task *task = NULL;
    tl_params *p = NULL;
    tl_run_opts o = tl_run_opts_default();
    o.report_views = views;
    o.guard = false;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xs, ns, d), ys, &s));
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xt, nt, d), yt, &t));
    CHECK_OK(tl_task_create(&task));
    CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, s, NULL));
    CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, t, NULL));
    CHECK_OK(tl_params_create(tl_method_find("coral", -1), &p));
    CHECK_OK(tl_transfer_run(task, p, &o, r, NULL));
    /* the view's "before": the rows' own plane turned, so every distance is kept */
    if (*r && (*r)->n_view == ns + nt && d <= 30) {
        double worst = 0;
        for (size_t i = 0; i < ns + nt; i++)
            for (size_t j = 0; j < i; j++) {
                const double *xi = i < ns ? xs + i * d : xt + (i - ns) * d;
                const double *xj = j < ns ? xs + j * d : xt + (j - ns) * d;
                double dx = 0, dp = 0;
                for (size_t c = 0; c < d; c++) dx += (xi[c] - xj[c]) * (xi[c] - xj[c]);
                for (int c = 0; c < 2; c++) {
                    double e = (*r)->view_before[2 * i + c] - (*r)->view_before[2 * j + c];
                    dp += e * e;
                }
                worst = fmax(worst, fabs(sqrt(dx) - sqrt(dp)));
            }
        CHECK_MSG(worst < 1e-9, "d = %zu: the 2-D view moved a distance by %g", d, worst);
    }
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
    free(xs), free(xt), free(ys), free(yt);
}

/* --report's data: confusion matrices that add up to the scores, the 2-D view's rows, domains and
 * classes, and the page drawing both; none of it without report_views. */
TEST(report_views) {
    for (size_t d = 2; d <= 30; d += 28) {
        tl_report *r = NULL;
        plane_run(d, 12, 9, true, &r);
        if (!r) continue;
        CHECK(r->n_classes == 3 && r->classes && r->classes[0] == 0 && r->classes[2] == 2);
        size_t tot = 0, diag = 0, bdiag = 0, btot = 0;
        for (size_t i = 0; i < r->n_classes; i++)
            for (size_t j = 0; j < r->n_classes; j++) {
                tot += r->confusion[i * 3 + j];
                btot += r->confusion_baseline[i * 3 + j];
                if (i == j) diag += r->confusion[i * 3 + j], bdiag += r->confusion_baseline[i * 3 + j];
            }
        CHECK(tot == r->n_eval && btot == r->n_eval && r->n_eval == 9);
        CHECK_NEAR((double)diag / 9, r->result.accuracy, 1e-12);
        CHECK_NEAR((double)bdiag / 9, r->source_only.accuracy, 1e-12);
        CHECK(r->n_view == 21 && r->view_after != NULL);
        int ok = r->n_view == 21;
        for (size_t i = 0; ok && i < 21; i++)
            ok = r->view_domain[i] == (i < 12 ? 0 : 1) && r->view_class[i] == (int)((i < 12 ? i : i - 12) % 3);
        CHECK_MSG(ok, "d = %zu: the view's domains or classes are not the rows'", d);
        char *js = NULL, *h = NULL;
        CHECK_OK(tl_report_json(r, "adapt", &js));
        CHECK(js && strstr(js, "\"confusion\": {\"classes\": [0, 1, 2]") && strstr(js, "\"view\": {"));
        if (js) CHECK_OK(tl_report_render(js, strlen(js), TL_REPORT_HTML, &h));
        CHECK(h && strstr(h, "id=\"confusion\"") && strstr(h, "id=\"view\"") &&
              strstr(h, "after the mapping (PCA of the mapped rows)"));
        tl_free(h);
        tl_free(js);
        tl_report_free(r);
        r = NULL;
        plane_run(d, 12, 9, false, &r);
        CHECK(r && r->n_classes == 0 && r->n_view == 0);
        js = NULL;
        if (r) CHECK_OK(tl_report_json(r, "adapt", &js));
        CHECK(js && !strstr(js, "\"confusion\"") && !strstr(js, "\"view\""));
        tl_free(js);
        tl_report_free(r);
    }
    /* more rows than the view holds: an even subsample of TL_REPORT_VIEW_ROWS per domain */
    tl_report *r = NULL;
    plane_run(2, 2 * TL_REPORT_VIEW_ROWS + 1, 5, true, &r);
    CHECK(r && r->n_view == TL_REPORT_VIEW_ROWS + 5);
    tl_report_free(r);
}

/* The mean 2-D distance between points of one cluster over that between points of different
 * clusters (label i / per), and the share of points whose nearest neighbour is of their cluster. */
static void cluster_stats(const double *Y, size_t m, size_t per, double *ratio, double *nn_same) {
    double in = 0, out = 0;
    size_t nin = 0, nout = 0, same = 0;
    for (size_t i = 0; i < m; i++) {
        double best = INFINITY;
        size_t bj = i;
        for (size_t j = 0; j < m; j++) {
            if (j == i) continue;
            double d = hypot(Y[2 * i] - Y[2 * j], Y[2 * i + 1] - Y[2 * j + 1]);
            if (i / per == j / per) in += d, nin++;
            else out += d, nout++;
            if (d < best) best = d, bj = j;
        }
        same += bj / per == i / per;
    }
    *ratio = (in / (double)nin) / (out / (double)nout);
    *nn_same = (double)same / (double)m;
}

/* t-SNE (report_tsne.c): the same seed gives the same layout bit for bit, another seed another
 * one; four well-separated Gaussian clusters in 20-D come out as four tight groups (every point's
 * nearest neighbour in its own cluster, within-cluster distances a small share of those between
 * clusters), which the random start, with no step taken, does not show (the check can fail). */
TEST(tsne_deterministic_and_separates) {
    const size_t per = 40, k = 4, d = 20, m = per * k;
    double *x = malloc(m * d * sizeof *x), *a = malloc(2 * m * sizeof *a),
           *b = malloc(2 * m * sizeof *b), *c = malloc(2 * m * sizeof *c);
    tl_rng g;
    tl_rng_seed(&g, 5);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++) /* cluster centre 8 e_(i/per), unit noise */
            x[i * d + j] = tl_rng_normal(&g) + (j == i / per ? 8.0 : 0.0);
    tl_mat X = tl_mat_view(x, m, d);
    CHECK_OK(tlx_tsne2(X, TLX_TSNE_ITERS, 11, a));
    CHECK_OK(tlx_tsne2(X, TLX_TSNE_ITERS, 11, b));
    CHECK_OK(tlx_tsne2(X, TLX_TSNE_ITERS, 12, c));
    CHECK_MSG(memcmp(a, b, 2 * m * sizeof *a) == 0, "t-SNE: one seed gave two layouts");
    CHECK_MSG(memcmp(a, c, 2 * m * sizeof *a) != 0, "t-SNE: two seeds gave one layout");
    double ratio, same;
    cluster_stats(a, m, per, &ratio, &same);
    CHECK_MSG(same == 1.0 && ratio < 0.25,
              "t-SNE: nearest neighbour in its cluster for %.3f, within/between distance %.3f", same,
              ratio);
    cluster_stats(c, m, per, &ratio, &same);
    CHECK_MSG(same == 1.0 && ratio < 0.25, "t-SNE (seed 12): %.3f, %.3f", same, ratio);
    CHECK_OK(tlx_tsne2(X, 0, 11, b)); /* the start alone */
    cluster_stats(b, m, per, &ratio, &same);
    CHECK_MSG(ratio > 0.8, "t-SNE's random start already separates the clusters (%.3f)", ratio);
    /* too few rows to lay out: zeros, no failure */
    CHECK_OK(tlx_tsne2(tl_mat_view(x, 2, d), TLX_TSNE_ITERS, 11, b));
    CHECK(b[0] == 0 && b[3] == 0);
    free(x), free(a), free(b), free(c);
}

/* A sparse domain's view comes from the Gram matrix of its sparse products, centred in Gram space
 * (never a densified copy): it must equal the dense run's PCA view of the same rows, and a
 * mapping's "after" view too. 40 features, a quarter of them zero in each row, 3 classes. */
static void sparse_or_dense_run(bool sparse, tl_report **r) {
    const size_t ns = 36, nt = 30, d = 40;
    double *x = calloc((ns + nt) * d, sizeof *x);
    int *y = calloc(ns + nt, sizeof *y);
    size_t *ip = calloc(ns + nt + 2, sizeof *ip);
    int32_t *ix = calloc((ns + nt) * d, sizeof *ix);
    double *vx = calloc((ns + nt) * d, sizeof *vx);
    tl_rng g;
    tl_rng_seed(&g, 9);
    for (size_t i = 0; i < ns + nt; i++) {
        y[i] = (int)(i % 3);
        for (size_t j = 0; j < d; j++)
            if ((i + j) % 4) x[i * d + j] = tl_rng_normal(&g) + (j % 3 == (size_t)y[i] ? 2.0 : 0.0) +
                                            (i >= ns ? 0.7 : 0.0);
    }
    tl_dataset *s = NULL, *t = NULL;
    if (sparse) { /* CSR of the same values: each domain its own arrays */
        for (int dom = 0; dom < 2; dom++) {
            size_t r0 = dom ? ns : 0, n = dom ? nt : ns, nnz = 0;
            size_t *p = ip + (dom ? ns + 1 : 0);
            int32_t *ci = ix + r0 * d;
            double *cv = vx + r0 * d;
            p[0] = 0;
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < d; j++)
                    if (x[(r0 + i) * d + j] != 0) ci[nnz] = (int32_t)j, cv[nnz++] = x[(r0 + i) * d + j];
                p[i + 1] = nnz;
            }
            tl_csr c = {n, d, nnz, p, ci, cv};
            CHECK_OK(tl_dataset_from_csr(c, y + r0, dom ? &t : &s));
        }
    } else {
        CHECK_OK(tl_dataset_from_dense(tl_mat_view(x, ns, d), y, &s));
        CHECK_OK(tl_dataset_from_dense(tl_mat_view(x + ns * d, nt, d), y + ns, &t));
    }
    tl_task *task = NULL;
    tl_params *p = NULL;
    tl_run_opts o = tl_run_opts_default();
    o.report_views = true;
    o.guard = false;
    CHECK_OK(tl_task_create(&task));
    CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, s, NULL));
    CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, t, NULL));
    CHECK_OK(tl_params_create(tl_method_find("pca", -1), &p));
    CHECK_OK(tl_transfer_run(task, p, &o, r, NULL));
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
    free(x), free(y), free(ip), free(ix), free(vx);
}

TEST(sparse_view_equals_dense_view) {
    tl_report *rd = NULL, *rs = NULL;
    sparse_or_dense_run(false, &rd);
    sparse_or_dense_run(true, &rs);
    CHECK(rd && rs && rd->n_view == 66 && rs->n_view == 66 && rs->view_before && rs->view_after);
    if (rd && rs && rd->n_view == 66 && rs->n_view == 66 && rs->view_before && rs->view_after) {
        double worst = 0, worst_a = 0, scale = 0;
        for (size_t i = 0; i < 2 * 66; i++) {
            worst = fmax(worst, fabs(rd->view_before[i] - rs->view_before[i]));
            worst_a = fmax(worst_a, fabs(rd->view_after[i] - rs->view_after[i]));
            scale = fmax(scale, fabs(rd->view_before[i]));
        }
        CHECK_MSG(scale > 1 && worst < 1e-9 * scale && worst_a < 1e-9 * scale,
                  "sparse view differs from the dense one by %g before, %g after (scale %g)",
                  worst, worst_a, scale);
    }
    tl_report_free(rd);
    tl_report_free(rs);
}

/* tl weight --report's weights view: the method's weights of the source rows, and p(target | x)
 * of the library's domain classifier recovered from its mean-1 weights. On 1-D rows the
 * classifier's objective (v^2 / 2 + 2 sum_i log-loss(v x_i + b), C = 1, b free) is solved here
 * by Newton's method and its probabilities must match; the page draws the chart. */
TEST(weights_view_matches_a_direct_fit) {
    const size_t ns = 50, nt = 30;
    double xs[50], xt[30];
    int ys[50], yt[30];
    for (size_t i = 0; i < ns; i++) xs[i] = -1.0 + 3.0 * (double)i / (double)ns, ys[i] = (int)(i % 2);
    for (size_t i = 0; i < nt; i++) xt[i] = 0.5 + 2.0 * (double)i / (double)nt, yt[i] = (int)(i % 2);
    tl_dataset *s = NULL, *t = NULL;
    tl_task *task = NULL;
    tl_params *p = NULL;
    tl_report *r = NULL;
    tl_run_opts o = tl_run_opts_default();
    o.report_views = true;
    o.guard = false;
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xs, ns, 1), ys, &s));
    CHECK_OK(tl_dataset_from_dense(tl_mat_view(xt, nt, 1), yt, &t));
    CHECK_OK(tl_task_create(&task));
    CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, s, NULL));
    CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, t, NULL));
    CHECK_OK(tl_params_create(tl_method_find("kliep", -1), &p));
    CHECK_OK(tl_transfer_run(task, p, &o, &r, NULL));
    double v = 0, b = 0;
    for (int it = 0; it < 100; it++) { /* Newton on (v, b) */
        double gv = v, gb = 0, hvv = 1, hvb = 0, hbb = 0;
        for (size_t i = 0; i < ns + nt; i++) {
            double x = i < ns ? xs[i] : xt[i - ns], y = i < ns ? 0 : 1;
            double q = 1 / (1 + exp(-(v * x + b))), c = 2 * q * (1 - q);
            gv += 2 * (q - y) * x, gb += 2 * (q - y);
            hvv += c * x * x, hvb += c * x, hbb += c;
        }
        double det = hvv * hbb - hvb * hvb;
        v -= (hbb * gv - hvb * gb) / det;
        b -= (hvv * gb - hvb * gv) / det;
    }
    CHECK(r && r->n_wview == ns && r->wview_weight && r->wview_target_prob);
    if (r && r->n_wview == ns) {
        double worst = 0;
        for (size_t i = 0; i < ns; i++) {
            double q = 1 / (1 + exp(-(v * xs[i] + b)));
            worst = fmax(worst, fabs(q - r->wview_target_prob[i]));
        }
        CHECK_MSG(worst < 1e-5, "p(target | x) differs from the direct fit by %g (v %g, b %g)",
                  worst, v, b);
        /* KLIEP's weights rise toward the target's side of the line too */
        CHECK_MSG(r->wview_weight[ns - 1] > r->wview_weight[0], "weights %g .. %g",
                  r->wview_weight[0], r->wview_weight[ns - 1]);
        char *js = NULL, *h = NULL;
        CHECK_OK(tl_report_json(r, "weight", &js));
        if (js) CHECK_OK(tl_report_render(js, strlen(js), TL_REPORT_HTML, &h));
        CHECK(js && strstr(js, "\"weights_view\": {\"weight\": [") && h &&
              strstr(h, "id=\"weights\""));
        tl_free(js);
        tl_free(h);
    }
    tl_report_free(r);
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

/* A view without "after" (instance weighting) says so; a curve without a validation split draws
 * the training rows alone; malformed views, confusion matrices and curves are left out of the
 * page, never read out of bounds. */
TEST(views_partial_and_malformed) {
    char doc[2048];
    const char *tail[] = {
        ", \"view\": {\"domain\": [0, 1], \"class\": [0, -1], \"before\": [[0, 1], [1, 0]], \"after\": null}}",
        ", \"view\": {\"domain\": [0, 1], \"class\": [0], \"before\": [[0, 1], [1, 0]], \"after\": null}}",
        ", \"view\": {\"domain\": [0, 1], \"class\": [0, 1], \"before\": [[0], \"x\"], \"after\": 3}}",
        ", \"confusion\": {\"classes\": [0, 1], \"transfer\": [[1, 2], [3]], \"no_transfer\": [[1, 0], [0, 1]]}}",
        ", \"confusion\": {\"classes\": [0, 1], \"transfer\": [[1, 2], [3, 4]], \"no_transfer\": [[1, 0], [0, 1]]}}",
        ", \"curve\": {\"train_loss\": [0.9, 0.5, 0.25], \"train_accuracy\": [0.5, 0.7, 0.875],"
        " \"val_loss\": [null, null, null], \"val_accuracy\": [null, null, null]}}",
        ", \"curve\": {\"train_loss\": 3, \"train_accuracy\": [null], \"val_loss\": [], \"val_accuracy\": {}}}",
        ", \"weights_view\": {\"weight\": [1, 2], \"target_probability\": [0.5]}}",
        ", \"weights_view\": {\"weight\": \"x\", \"target_probability\": [0.5]}}",
        ", \"view\": {\"domain\": [0, 1], \"class\": [0, 1], \"before\": [[0, 1], [1, 0]], \"after\": null,"
        " \"tsne_before\": [[0, 1]], \"tsne_after\": 7}}"};
    for (int i = 0; i < 10; i++) {
        snprintf(doc, sizeof doc, "%.*s%s", (int)strlen(measured) - 1, measured, tail[i]);
        char *h = render(doc, TL_REPORT_HTML);
        CHECK_MSG(h != NULL, "case %d did not render", i);
        bool drawn = h && (strstr(h, "id=\"view\"") || strstr(h, "id=\"confusion\"") ||
                           strstr(h, "id=\"curve\"") || strstr(h, "id=\"weights\"") ||
                           strstr(h, "id=\"tsne\"") || strstr(h, "id=\"per-class\""));
        CHECK_MSG(drawn == (i == 0 || i == 4 || i == 5 || i == 9), "case %d: drawn %d", i, (int)drawn);
        if (i == 9) CHECK(h && strstr(h, "id=\"view\"") && !strstr(h, "id=\"tsne\""));
        /* the training loss only (no validation split): one line per chart, scaled to its top,
           whose first point sits at the top of the loss chart */
        if (i == 5) CHECK(h && strstr(h, ">0.9</text>") && strstr(h, ">87.5") == NULL &&
                          !strstr(h, ">validation split<") && strstr(h, ">3</text>"));
        if (i == 0) CHECK(h && strstr(h, "this method maps no rows"));
        if (i == 4) CHECK(h && strstr(h, ">4</text>"));
        tl_free(h);
    }
}

TEST(reader_values) {
    const char *j = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"], "
                    "\"a\": {\"b\": 0}} ";
    tlx_jval *v = NULL;
    CHECK_OK(tlx_json_parse(j, strlen(j), &v));
    if (!v) return;
    const tlx_jval *a = tlx_json_get(v, "a"); /* the last of equal keys */
    CHECK(a && a->type == TLX_JOBJ && tlx_json_num(a, "b") == 0);
    const tlx_jval *arr = v->items[0];
    CHECK(arr->type == TLX_JARR && arr->n == 6);
    CHECK(arr->items[1]->num == -2500 && arr->items[2]->b && !arr->items[3]->b);
    CHECK(arr->items[4]->type == TLX_JNULL);
    CHECK(strcmp(arr->items[5]->str, "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
    CHECK(isnan(tlx_json_num(v, "missing")) && tlx_json_bool(v, "a") == -1);
    tlx_json_free(v);
}

/* Malformed text: TL_ERR_FORMAT naming where. */
TEST(malformed_json_names_line_and_column) {
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "line 1, column 1: unexpected end"},
        {"{\"a\": 1,\n  \"b\" 2}", "line 2, column 7: expected ':'"},
        {"{\"a\": 01}", "expected ',' or '}'"},
        {"{\"a\": 1.}", "bad number"},
        {"{\"a\": +1}", "expected a value"},
        {"{\"a\": \"x", "unterminated string"},
        {"{\"a\": \"\\q\"}", "bad escape"},
        {"{\"a\": \"\\ud800\"}", "unpaired UTF-16 surrogate"},
        {"{\"a\": \"\\u0000\"}", "\\u0000"},
        {"{\"a\": [1, 2}", "expected ',' or ']'"},
        {"{\"a\": 1} x", "text after the value"},
        {"{a: 1}", "expected a key in quotes"},
        {"{\"a\": tru}", "expected a value"},
        {"{\"a\": \"tab\there\"}", "control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL;
        tl_status st = tl_report_render(cases[i].text, strlen(cases[i].text), TL_REPORT_HTML, &out);
        CHECK_MSG(st == TL_ERR_FORMAT && out == NULL, "case %zu: status %d", i, (int)st);
        CHECK_MSG(strstr(tl_error_message(), cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i,
                  tl_error_message(), cases[i].msg);
    }
}

/* JSON that is no transfer report, and nesting beyond the limit. */
TEST(wrong_documents) {
    char *out = NULL;
    const char *arr = "[1, 2]", *rank = "{\"command\": \"rank-sources\", \"ranking\": []}";
    CHECK_STATUS(tl_report_render(arr, strlen(arr), TL_REPORT_HTML, &out), TL_ERR_FORMAT);
    CHECK_ERR_HAS("not a JSON object");
    CHECK_STATUS(tl_report_render(rank, strlen(rank), TL_REPORT_HTML, &out), TL_ERR_FORMAT);
    CHECK_ERR_HAS("no key \"accuracy\"");
    char deep[400];
    memset(deep, '[', 300);
    deep[300] = '\0';
    CHECK_STATUS(tl_report_render(deep, 300, TL_REPORT_HTML, &out), TL_ERR_FORMAT);
    CHECK_ERR_HAS("nested deeper than 64");
    CHECK_STATUS(tl_report_render(measured, strlen(measured), (tl_report_format)7, &out),
                 TL_ERR_INVALID_ARG);
    CHECK(out == NULL);
}

TEST(file_errors_name_the_file) {
    char path[] = "/tmp/tl_report_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    fputs("{\"method\": \"x\",\n\"accuracy\": }", f);
    fclose(f);
    char *out = NULL;
    CHECK_STATUS(tl_report_render_file(path, TL_REPORT_HTML, &out), TL_ERR_FORMAT);
    CHECK_ERR_HAS(path);
    CHECK_ERR_HAS("line 2, column 13");
    remove(path);
    CHECK_STATUS(tl_report_render_file(path, TL_REPORT_HTML, &out), TL_ERR_IO);
    CHECK_ERR_HAS(path);
}

/* Every allocation failure is TL_ERR_NOMEM with nothing handed over (and nothing leaked under
 * the sanitizer build). */
TEST(out_of_memory_everywhere) {
    const char *m = "{\"method\": \"jda\", \"combine\": \"vote\", \"target\": \"t\", \"n_eval\": 5,"
                    " \"accuracy\": 0.6, \"sources\": [{\"source\": \"a\", \"accuracy\": 0.6}]}";
    char views[2048]; /* with a 2-D view and confusion matrices */
    snprintf(views, sizeof views, "%.*s%s", (int)strlen(measured) - 1, measured,
             ", \"view\": {\"domain\": [0, 1], \"class\": [0, 1], \"before\": [[0, 1], [1, 0]],"
             " \"after\": [[1, 1], [0, 0]]}, \"confusion\": {\"classes\": [0, 1], \"transfer\":"
             " [[1, 2], [3, 4]], \"no_transfer\": [[1, 0], [0, 1]]}, \"curve\": {\"train_loss\":"
             " [0.9, 0.5], \"train_accuracy\": [0.5, 0.7], \"val_loss\": [1, 0.6], \"val_accuracy\":"
             " [0.4, null]}}");
    const char *docs[] = {measured, m, views};
    for (int d = 0; d < 3; d++) {
        int done = 0;
        for (long k = 0; k < 5000 && !done; k++) {
            char *out = NULL;
            oom_left = k;
            tl_allocator_set(&oom_allocator);
            tl_status st = tl_report_render(docs[d], strlen(docs[d]), TL_REPORT_HTML, &out);
            tl_allocator_set(NULL);
            if (st == TL_OK) done = 1;
            else CHECK_MSG(st == TL_ERR_NOMEM && !out, "doc %d, allocation %ld: status %d", d, k, (int)st);
            tl_free(out);
        }
        CHECK_MSG(done, "doc %d never rendered within 5000 allocations", d);
    }
}

int main(void) {
    RUN(measured_negative_transfer_is_called_out);
    RUN(a_drop_within_the_noise_is_not_measured);
    RUN(guard_only_and_unscored);
    RUN(regression_report);
    RUN(strings_are_escaped);
    RUN(svg_alone);
    RUN(real_run_report);
    RUN(report_views);
    RUN(views_partial_and_malformed);
    RUN(tsne_deterministic_and_separates);
    RUN(weights_view_matches_a_direct_fit);
    RUN(sparse_view_equals_dense_view);
    RUN(reader_values);
    RUN(malformed_json_names_line_and_column);
    RUN(wrong_documents);
    RUN(file_errors_name_the_file);
    RUN(out_of_memory_everywhere);
    return tl_test_summary();
}
