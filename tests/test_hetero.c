/* Heterogeneous transfer (tl/feature.h tl_hetero_*, the registry's cdspp and cdls, the protocol
 * for domains of different widths): synthetic domains whose features are two different linear
 * views of the same class structure, so a correct map must recover the correspondence.
 *   - CDSPP's closed form against the authors' generalised eigenproblem built naively (n x n
 *     Laplacians, the full (ds + dt) pencil, tl_eig_sym_gen): the same directions;
 *   - both methods classify the target well from the mapped source and 3 labelled rows per class;
 *   - save -> load gives the same map; the pipeline run reports the target-only baseline;
 *   - bad input: no labelled target rows, a target label the source lacks, a wrong width, a
 *     homogeneous method given two widths, a damaged model file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tl.h"

#define C 4
#define DS 12
#define DT 80 /* wider than the target has rows: exercises the row-span reduction */
#define LAT 5

typedef struct {
    tl_mat Xs, Xl, Xu;
    int *ys, *yl, *yu;
    size_t ns, nl, nu;
} hdata;

/* Classes as centres in a latent space; the source sees z As + noise (DS features), the target
 * z At + noise (DT features). */
static hdata make_data(uint64_t seed, double noise) {
    hdata h;
    tl_rng r;
    tl_rng_seed(&r, seed);
    double cen[C][LAT], As[LAT][DS], At[LAT][DT];
    for (int c = 0; c < C; c++)
        for (int k = 0; k < LAT; k++) cen[c][k] = 2 * tl_rng_normal(&r);
    for (int k = 0; k < LAT; k++) {
        for (int j = 0; j < DS; j++) As[k][j] = tl_rng_normal(&r);
        for (int j = 0; j < DT; j++) At[k][j] = tl_rng_normal(&r);
    }
    h.ns = 15 * C;
    h.nl = 3 * C;
    h.nu = 12 * C;
    tl_mat_alloc(&h.Xs, h.ns, DS);
    tl_mat_alloc(&h.Xl, h.nl, DT);
    tl_mat_alloc(&h.Xu, h.nu, DT);
    h.ys = malloc(h.ns * sizeof *h.ys);
    h.yl = malloc(h.nl * sizeof *h.yl);
    h.yu = malloc(h.nu * sizeof *h.yu);
    tl_mat *M[3] = {&h.Xs, &h.Xl, &h.Xu};
    int *Y[3] = {h.ys, h.yl, h.yu};
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < M[s]->rows; i++) {
            int c = (int)(i % C);
            double z[LAT];
            for (int k = 0; k < LAT; k++) z[k] = cen[c][k] + 0.4 * tl_rng_normal(&r);
            for (size_t j = 0; j < M[s]->cols; j++) {
                double v = 0;
                for (int k = 0; k < LAT; k++) v += z[k] * (s == 0 ? As[k][j] : At[k][j]);
                TL_AT(*M[s], i, j) = v + noise * tl_rng_normal(&r);
            }
            Y[s][i] = c + 1; /* labels 1..C */
        }
    return h;
}

static void free_data(hdata *h) {
    tl_mat_free(&h->Xs);
    tl_mat_free(&h->Xl);
    tl_mat_free(&h->Xu);
    free(h->ys);
    free(h->yl);
    free(h->yu);
}

/* 1-NN from the mapped source + labelled target rows, scored on the unlabelled rows. */
static double accuracy(const tl_hetero *m, const hdata *h) {
    tl_mat Zs = {0}, Zl = {0}, Zu = {0};
    double acc = -1;
    if (tl_hetero_transform(m, 0, h->Xs, &Zs) || tl_hetero_transform(m, 1, h->Xl, &Zl) ||
        tl_hetero_transform(m, 1, h->Xu, &Zu))
        goto out;
    size_t right = 0, k = Zs.cols;
    for (size_t i = 0; i < h->nu; i++) {
        double best = HUGE_VAL;
        int lab = 0;
        for (int s = 0; s < 2; s++) {
            tl_mat R = s ? Zl : Zs;
            const int *y = s ? h->yl : h->ys;
            for (size_t j = 0; j < R.rows; j++) {
                double d = 0;
                for (size_t q = 0; q < k; q++) {
                    double e = TL_AT(Zu, i, q) - TL_AT(R, j, q);
                    d += e * e;
                }
                if (d < best) best = d, lab = y[j];
            }
        }
        right += lab == h->yu[i];
    }
    acc = (double)right / (double)h->nu;
out:
    tl_mat_free(&Zs);
    tl_mat_free(&Zl);
    tl_mat_free(&Zu);
    return acc;
}

/* W (d, k) of domain dom recovered from the transform (l2 off): X W - offset for X = I and 0. */
static tl_mat recover_w(const tl_hetero *m, size_t dom, size_t d) {
    tl_mat I = {0}, Z = {0}, O = {0}, zero = {0};
    tl_mat_alloc(&I, d, d);
    for (size_t i = 0; i < d; i++) TL_AT(I, i, i) = 1;
    tl_mat_alloc(&zero, 1, d);
    tl_hetero_transform(m, dom, I, &Z);
    tl_hetero_transform(m, dom, zero, &O);
    for (size_t i = 0; Z.data && O.data && i < d; i++)
        for (size_t j = 0; j < Z.cols; j++) TL_AT(Z, i, j) -= TL_AT(O, 0, j);
    tl_mat_free(&I);
    tl_mat_free(&O);
    tl_mat_free(&zero);
    return Z;
}

TEST(cdspp_matches_the_generalised_eigenproblem) {
    hdata h = make_data(3, 0.3);
    tl_hetero_params p = tl_hetero_params_default(TL_HETERO_CDSPP);
    p.iters = 1; /* the labelled rows alone: one eigenproblem */
    p.dim = 3;
    p.l2_embed = false;
    tl_hetero *m = NULL;
    CHECK_OK(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, h.Xu, &m));
    CHECK(m && tl_hetero_dim(m) == 3 && tl_hetero_input_dim(m, 0) == DS &&
          tl_hetero_input_dim(m, 1) == DT);
    /* the authors' matrices, naively: Laplacians over the rows, the full pencil */
    size_t ns = h.ns, nl = h.nl, n = DS + DT;
    tl_mat A = {0}, B = {0}, V = {0};
    tl_mat_alloc(&A, n, n);
    tl_mat_alloc(&B, n, n);
    tl_mat_alloc(&V, n, 3);
    for (int s = 0; s < 2; s++) {
        tl_mat X = s ? h.Xl : h.Xs;
        const int *y = s ? h.yl : h.ys, *yo = s ? h.ys : h.yl;
        size_t nn = X.rows, no = s ? ns : nl, off = s ? DS : 0;
        for (size_t i = 0; i < nn; i++)
            for (size_t j = 0; j < nn; j++) {
                double lij = -(y[i] == y[j]);
                if (i == j) {
                    for (size_t t = 0; t < nn; t++) lij += y[t] == y[i];
                    for (size_t t = 0; t < no; t++) lij += p.lambda * (yo[t] == y[i]);
                }
                if (lij == 0) continue;
                for (size_t a = 0; a < X.cols; a++)
                    for (size_t b = 0; b < X.cols; b++)
                        TL_AT(A, off + a, off + b) += TL_AT(X, i, a) * lij * TL_AT(X, j, b);
            }
    }
    for (size_t a = 0; a < n; a++) TL_AT(A, a, a) += p.alpha;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < nl; j++) {
            if (h.ys[i] != h.yl[j]) continue;
            for (size_t a = 0; a < DS; a++)
                for (size_t b = 0; b < DT; b++) {
                    double v = TL_AT(h.Xs, i, a) * TL_AT(h.Xl, j, b);
                    TL_AT(B, a, DS + b) += v;
                    TL_AT(B, DS + b, a) += v;
                }
        }
    double w[3];
    CHECK_OK(tl_eig_sym_gen(B, A, TL_EIG_LARGEST, 3, w, V));
    CHECK(w[0] > w[1] && w[1] > w[2] && w[2] > 0); /* distinct: the directions are unique */
    tl_mat Ws = recover_w(m, 0, DS), Wt = recover_w(m, 1, DT);
    for (size_t j = 0; j < 3 && Ws.data && Wt.data; j++) {
        double dot = 0, na = 0, nb = 0;
        for (size_t a = 0; a < n; a++) {
            double x = a < DS ? TL_AT(Ws, a, j) : TL_AT(Wt, a - DS, j), v = TL_AT(V, a, j);
            dot += x * v, na += x * x, nb += v * v;
        }
        double cosine = fabs(dot) / sqrt(na * nb);
        CHECK_MSG(cosine > 1 - 1e-8, "direction %zu: |cos| = %.12f", j, cosine);
    }
    tl_mat_free(&Ws);
    tl_mat_free(&Wt);
    tl_mat_free(&A);
    tl_mat_free(&B);
    tl_mat_free(&V);
    tl_hetero_free(m);
    free_data(&h);
}

TEST(both_methods_transfer_and_round_trip) {
    hdata h = make_data(5, 0.5);
    for (int meth = 0; meth < 2; meth++) {
        for (int d = 0; d < 2; d++) {
            tl_hetero_params p = tl_hetero_params_default((tl_hetero_method)meth);
            if (meth == TL_HETERO_CDLS) p.dim = 10, p.delta = d ? 0.5 : 1;
            else if (d) p.iters = 1;
            tl_hetero *m = NULL, *back = NULL;
            CHECK_OK(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, h.Xu, &m));
            if (!m) continue;
            double acc = accuracy(m, &h);
            CHECK_MSG(acc >= 0.9, "%s (variant %d): accuracy %.3f", tl_hetero_method_name(p.method), d,
                      acc);
            size_t np = 0;
            const int *ps = tl_hetero_pseudo_labels(m, &np);
            if (p.iters > 1) {
                CHECK(ps && np == h.nu);
                size_t agree = 0;
                for (size_t i = 0; ps && i < np; i++) agree += ps[i] == h.yu[i];
                CHECK_MSG(agree >= np * 8 / 10, "%s: %zu of %zu pseudo-labels right",
                          tl_hetero_method_name(p.method), agree, np);
            }
            tl_tlm *c = NULL;
            CHECK_OK(tl_tlm_create(&c));
            CHECK_OK(tl_hetero_write(m, c));
            CHECK_OK(tl_hetero_read(c, "mem", &back));
            tl_mat A = {0}, B = {0};
            CHECK_OK(tl_hetero_transform(m, 1, h.Xu, &A));
            if (back) CHECK_OK(tl_hetero_transform(back, 1, h.Xu, &B));
            CHECK(A.data && B.data && A.rows == B.rows && A.cols == B.cols &&
                  memcmp(A.data, B.data, A.rows * A.cols * sizeof(double)) == 0);
            /* a wrong width, an unknown domain */
            CHECK_STATUS(tl_hetero_transform(m, 0, h.Xu, &A), TL_ERR_SHAPE);
            CHECK_ERR_HAS("the map was fitted on 12");
            CHECK_STATUS(tl_hetero_transform(m, 2, h.Xu, &A), TL_ERR_INVALID_ARG);
            tl_mat_free(&A);
            tl_mat_free(&B);
            tl_tlm_free(c);
            tl_hetero_free(back);
            tl_hetero_free(m);
        }
    }
    free_data(&h);
}

TEST(bad_input_is_refused) {
    hdata h = make_data(7, 0.3);
    tl_hetero_params p = tl_hetero_params_default(TL_HETERO_CDSPP);
    tl_hetero *m = NULL;
    tl_mat none = {0, DT, DT, NULL};
    CHECK_STATUS(tl_hetero_fit(&p, h.Xs, h.ys, none, NULL, h.Xu, &m), TL_ERR_EMPTY);
    CHECK_ERR_HAS("needs a few labelled target rows");
    CHECK(m == NULL);
    h.yl[0] = 99; /* a class the source lacks */
    CHECK_STATUS(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, h.Xu, &m), TL_ERR_LABEL);
    CHECK_ERR_HAS("label 99");
    h.yl[0] = 1;
    p.delta = 0;
    CHECK_STATUS(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, h.Xu, &m), TL_ERR_INVALID_ARG);
    CHECK_ERR_HAS("delta");
    p = tl_hetero_params_default(TL_HETERO_CDSPP);
    tl_mat narrow = {h.nu, DT - 1, DT, h.Xu.data};
    CHECK_STATUS(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, narrow, &m), TL_ERR_SHAPE);
    /* a damaged file: a tensor of the wrong shape */
    CHECK_OK(tl_hetero_fit(&p, h.Xs, h.ys, h.Xl, h.yl, h.Xu, &m));
    tl_tlm *c = NULL, *bad = NULL;
    tl_hetero *back = NULL;
    CHECK_OK(tl_tlm_create(&c));
    CHECK_OK(tl_hetero_write(m, c));
    CHECK_OK(tl_tlm_create(&bad));
    CHECK_OK(tl_tlm_merge(bad, c, ""));
    CHECK_OK(tl_tlm_set_count(bad, "input_dim_target", DT + 1));
    CHECK_STATUS(tl_hetero_read(bad, "bad.tlm", &back), TL_ERR_FORMAT);
    CHECK_ERR_HAS("proj_target");
    CHECK(back == NULL);
    tl_tlm_free(c);
    tl_tlm_free(bad);
    tl_hetero_free(m);
    free_data(&h);
}

/* The registry methods through tl_transfer_run: the report, the pipeline, and the refusals. */
TEST(protocol_with_two_widths) {
    hdata h = make_data(11, 0.5);
    tl_dataset *src = NULL, *lab = NULL, *unl = NULL;
    CHECK_OK(tl_dataset_from_dense(h.Xs, h.ys, &src));
    CHECK_OK(tl_dataset_from_dense(h.Xl, h.yl, &lab));
    CHECK_OK(tl_dataset_from_dense(h.Xu, h.yu, &unl));
    const char *names[] = {"cdspp", "cdls", "jda"};
    for (int k = 0; k < 3; k++) {
        tl_params *mp = NULL;
        tl_task *task = NULL;
        tl_report *rep = NULL;
        tl_pipeline *pipe = NULL;
        size_t ti;
        CHECK_OK(tl_params_create(tl_method_find(names[k], -1), &mp));
        if (k == 1) tl_params_set(mp, "dim", "10");
        CHECK_OK(tl_task_create(&task));
        CHECK_OK(tl_task_add(task, TL_ROLE_SOURCE, src, NULL));
        CHECK_OK(tl_task_add(task, TL_ROLE_TARGET, unl, &ti));
        tl_run_opts o = tl_run_opts_default();
        if (k < 2) {
            /* no labelled target rows: refused, nothing written */
            CHECK_STATUS(tl_transfer_run(task, mp, &o, &rep, &pipe), TL_ERR_LABEL);
            CHECK_ERR_HAS("needs a few labelled target rows");
            CHECK(rep == NULL && pipe == NULL);
        }
        CHECK_OK(tl_task_set_labelled(task, ti, lab));
        tl_status st = tl_transfer_run(task, mp, &o, &rep, &pipe);
        if (k == 2) { /* a homogeneous method cannot take two feature spaces */
            CHECK_STATUS(st, TL_ERR_SHAPE);
            CHECK_ERR_HAS("must share a feature space");
        } else {
            CHECK_MSG(st == TL_OK, "%s: %s", names[k], tl_error_message());
            if (rep) {
                CHECK(rep->source_only.n == 0 && rep->pooled.n == 0);
                CHECK(rep->target_only.n == h.nu && rep->result.n == h.nu);
                CHECK_MSG(rep->result.accuracy >= 0.9, "%s: %.3f", names[k], rep->result.accuracy);
                CHECK(rep->labelled_checked && !rep->negative_transfer);
            }
            /* the pipeline predicts raw target rows as the run did, after a save and a load */
            tl_pipeline *back = NULL;
            char path[] = "/tmp/tl_test_hetero_XXXXXX";
            int fd = mkstemp(path);
            if (fd >= 0) close(fd);
            CHECK_OK(tl_pipeline_save(pipe, path));
            CHECK_OK(tl_pipeline_load(path, &back));
            remove(path);
            int *pred = malloc(h.nu * sizeof *pred);
            if (back && rep) {
                CHECK_OK(tl_pipeline_predict(back, ti, unl, pred));
                CHECK(memcmp(pred, rep->predictions, h.nu * sizeof *pred) == 0);
                CHECK_STATUS(tl_pipeline_predict(back, ti, src, pred), TL_ERR_SHAPE);
            }
            free(pred);
            tl_pipeline_free(back);
        }
        tl_report_free(rep);
        tl_pipeline_free(pipe);
        tl_task_free(task);
        tl_params_free(mp);
    }
    tl_dataset_free(src);
    tl_dataset_free(lab);
    tl_dataset_free(unl);
    free_data(&h);
}

int main(void) {
    RUN(cdspp_matches_the_generalised_eigenproblem);
    RUN(both_methods_transfer_and_round_trip);
    RUN(bad_input_is_refused);
    RUN(protocol_with_two_widths);
    return tl_test_summary();
}
