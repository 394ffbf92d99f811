/* Multi-task learning (src/nn/multitask.c): two tasks on one trunk learn both rules; a task of
 * weight 0 leaves its head untouched (each loss reaches only its own head); save -> load is
 * bit-exact; a task taken out as one network predicts what the multi-task model predicts; and
 * the errors: duplicate or bad task names, labels a head does not have, a head that does not fit
 * the trunk, files of the other kind. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tl.h"

#define N 400
#define D 6

/* x (N, D) uniform in [-1, 1]; task a: x0 + x1 > 0; task b: x0 - x2 > 0 (labels 3 / 7). */
static void make_data(float *x, int *ya, int *yb, unsigned seed) {
    unsigned long s = seed * 2654435761u + 1;
    for (size_t i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = -1.0f + 2.0f * (float)((s >> 33) & 0xFFFFFF) / (float)0xFFFFFF;
    }
    for (size_t i = 0; i < N; i++) {
        ya[i] = x[i * D] + x[i * D + 1] > 0;
        yb[i] = x[i * D] - x[i * D + 2] > 0 ? 7 : 3;
    }
}

static tl_nn_mtl *make_model(void) {
    const char *names[2] = {"sum", "diff"}, *heads[2] = {"dense:2", "dense:2"};
    tl_nn_mtl *m = NULL;
    if (tl_nn_mtl_create("dense:16,tanh", D, 1, 1, 2, names, heads, 5, &m) != TL_OK) return NULL;
    const int la[2] = {0, 1}, lb[2] = {3, 7};
    tl_nn_set_labels(tl_nn_mtl_head(m, 0), la, 2);
    tl_nn_set_labels(tl_nn_mtl_head(m, 1), lb, 2);
    return m;
}

static size_t head_floats(tl_nn *h, float *out) {
    size_t n = 0;
    for (size_t i = 0; i < tl_nn_tensor_count(h); i++) {
        const char *name;
        size_t nd;
        const size_t *dims;
        float *data;
        bool tr;
        tl_nn_tensor(h, i, &name, &nd, &dims, &data, &tr);
        size_t c = 1;
        for (size_t j = 0; j < nd; j++) c *= dims[j];
        if (out) memcpy(out + n, data, c * sizeof *out);
        n += c;
    }
    return n;
}

TEST(two_tasks_learn_and_round_trip) {
    static float x[N * D];
    static int ya[N], yb[N];
    make_data(x, ya, yb, 1);
    tl_nn_mtl *m = make_model(), *back = NULL;
    CHECK(m != NULL);
    if (!m) return;
    tl_nn_mtl_params p = tl_nn_mtl_params_default();
    p.train.epochs = 30;
    p.train.batch_size = 16;
    p.train.lr = 0.1;
    p.train.seed = 3;
    tl_nn_task_data td[2] = {{x, ya, 300}, {x, yb, 300}};
    tl_nn_train_result r;
    CHECK(tl_nn_mtl_train(m, &p, td, &r) == TL_OK);
    CHECK(r.epochs_run == 30 && !r.nonfinite);
    double a0, a1, l0;
    /* scored on the 100 rows not trained on */
    CHECK(tl_nn_mtl_evaluate(m, 0, x + 300 * D, ya + 300, 100, &a0, &l0) == TL_OK);
    CHECK(tl_nn_mtl_evaluate(m, 1, x + 300 * D, yb + 300, 100, &a1, NULL) == TL_OK);
    printf("    held-out accuracy: sum %.3f, diff %.3f\n", a0, a1);
    CHECK(a0 > 0.9 && a1 > 0.9);
    /* task 0 as one ordinary network: the same accuracy and loss */
    tl_nn *net = NULL;
    double b0, bl0;
    CHECK(tl_nn_mtl_task_network(m, 0, &net) == TL_OK);
    CHECK(net && tl_nn_evaluate(net, x + 300 * D, ya + 300, 100, &b0, &bl0) == TL_OK);
    CHECK(b0 == a0 && fabs(bl0 - l0) < 1e-6);
    tl_nn_free(net);
    /* save -> load: the same tensors, labels, results */
    char path[] = "/tmp/tl_test_mtl_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK(tl_nn_mtl_save(m, path) == TL_OK);
    CHECK(tl_nn_mtl_load(path, &back) == TL_OK);
    CHECK(back && tl_nn_mtl_tasks(back) == 2 && !strcmp(tl_nn_mtl_task_name(back, 1), "diff"));
    if (back) {
        static float h1[4096], h2[4096];
        for (size_t k = 0; k < 2; k++) {
            const size_t n1 = head_floats(tl_nn_mtl_head(m, k), h1), n2 = head_floats(tl_nn_mtl_head(back, k), h2);
            CHECK(n1 == n2 && memcmp(h1, h2, n1 * sizeof *h1) == 0);
        }
        const size_t n1 = head_floats(tl_nn_mtl_trunk(m), h1), n2 = head_floats(tl_nn_mtl_trunk(back), h2);
        CHECK(n1 == n2 && memcmp(h1, h2, n1 * sizeof *h1) == 0);
        double c1;
        CHECK(tl_nn_mtl_evaluate(back, 1, x + 300 * D, yb + 300, 100, &c1, NULL) == TL_OK && c1 == a1);
        CHECK(tl_nn_mtl_head(back, 1) && tl_nn_labels(tl_nn_mtl_head(back, 1))[1] == 7);
    }
    /* the plain network reader refuses it, saying what it is */
    tl_nn *plain = NULL;
    CHECK(tl_nn_load(path, &plain) == TL_ERR_FORMAT);
    CHECK(strstr(tl_error_message(), "multi-task") != NULL);
    size_t k;
    CHECK(tl_nn_mtl_task_find(back, "nope", &k) == TL_ERR_NOT_FOUND);
    CHECK(strstr(tl_error_message(), "sum, diff") != NULL);
    /* and the multi-task reader refuses a plain network */
    CHECK(tl_nn_save(tl_nn_mtl_trunk(m), path) == TL_OK);
    tl_nn_mtl *wrong = NULL;
    CHECK(tl_nn_mtl_load(path, &wrong) == TL_ERR_FORMAT && wrong == NULL);
    unlink(path);
    tl_nn_mtl_free(back);
    tl_nn_mtl_free(m);
}

TEST(zero_weight_task_keeps_its_head) {
    static float x[N * D];
    static int ya[N], yb[N];
    static float before[4096], after[4096];
    make_data(x, ya, yb, 2);
    tl_nn_mtl *m = make_model();
    CHECK(m != NULL);
    if (!m) return;
    const size_t n0 = head_floats(tl_nn_mtl_head(m, 1), before);
    const size_t nt0 = head_floats(tl_nn_mtl_head(m, 0), NULL);
    static float t0[4096], t1[4096];
    head_floats(tl_nn_mtl_head(m, 0), t0);
    tl_nn_mtl_params p = tl_nn_mtl_params_default();
    const double w[2] = {1.0, 0.0};
    p.weights = w;
    p.train.epochs = 3;
    tl_nn_task_data td[2] = {{x, ya, N}, {x, yb, N}};
    CHECK(tl_nn_mtl_train(m, &p, td, NULL) == TL_OK);
    const size_t n1 = head_floats(tl_nn_mtl_head(m, 1), after);
    CHECK(n0 == n1 && memcmp(before, after, n0 * sizeof *before) == 0);
    head_floats(tl_nn_mtl_head(m, 0), t1);
    CHECK(memcmp(t0, t1, nt0 * sizeof *t0) != 0); /* the weighted task's head did move */
    tl_nn_mtl_free(m);
}

/* a run that diverges stops with TL_ERR_NONFINITE and keeps finite parameters (the last good epoch) */
TEST(nonfinite_keeps_last_good) {
    static float x[N * D];
    static int ya[N], yb[N];
    static float h[4096];
    make_data(x, ya, yb, 4);
    const char *names[2] = {"sum", "diff"}, *heads[2] = {"dense:2", "dense:2"};
    const int lb[2] = {3, 7};
    tl_nn_mtl *m = NULL;
    CHECK(tl_nn_mtl_create("dense:16,relu", D, 1, 1, 2, names, heads, 5, &m) == TL_OK);
    if (!m) return;
    tl_nn_set_labels(tl_nn_mtl_head(m, 1), lb, 2);
    tl_nn_mtl_params p = tl_nn_mtl_params_default();
    p.train.epochs = 20;
    p.train.lr = 1e6;
    tl_nn_task_data td[2] = {{x, ya, N}, {x, yb, N}};
    tl_nn_train_result r;
    CHECK(tl_nn_mtl_train(m, &p, td, &r) == TL_ERR_NONFINITE);
    CHECK(r.nonfinite && strstr(tl_error_message(), "multi-task training stopped") != NULL);
    bool finite = true;
    for (size_t k = 0; k < 2; k++) {
        const size_t n = head_floats(tl_nn_mtl_head(m, k), h);
        for (size_t i = 0; i < n; i++) finite = finite && isfinite(h[i]);
    }
    const size_t n = head_floats(tl_nn_mtl_trunk(m), h);
    for (size_t i = 0; i < n; i++) finite = finite && isfinite(h[i]);
    CHECK(finite);
    tl_nn_mtl_free(m);
}

TEST(errors) {
    static float x[N * D];
    static int ya[N], yb[N];
    make_data(x, ya, yb, 3);
    tl_nn_mtl *m = NULL;
    const char *dup[2] = {"a", "a"}, *bad[1] = {"a,b"}, *heads[2] = {"dense:2", "dense:2"};
    CHECK(tl_nn_mtl_create("dense:4", D, 1, 1, 2, dup, heads, 1, &m) == TL_ERR_INVALID_ARG && !m);
    CHECK(strstr(tl_error_message(), "twice") != NULL);
    CHECK(tl_nn_mtl_create("dense:4", D, 1, 1, 1, bad, heads, 1, &m) == TL_ERR_INVALID_ARG && !m);
    /* a head that does not fit the trunk's output (a 3x3 convolution without padding on 4x1x1) */
    const char *names[1] = {"t"}, *conv[1] = {"conv:2:3:1:0"};
    CHECK(tl_nn_mtl_create("dense:4", D, 1, 1, 1, names, conv, 1, &m) != TL_OK && !m);
    CHECK(strstr(tl_error_message(), "task t") != NULL);
    /* labels the head does not have: task b's 3/7 on a head labelled 0/1 */
    const char *two[2] = {"a", "b"};
    CHECK(tl_nn_mtl_create("dense:4", D, 1, 1, 2, two, heads, 1, &m) == TL_OK);
    tl_nn_mtl_params p = tl_nn_mtl_params_default();
    p.train.epochs = 1;
    tl_nn_task_data td[2] = {{x, ya, N}, {x, yb, N}};
    CHECK(tl_nn_mtl_train(m, &p, td, NULL) == TL_ERR_LABEL);
    CHECK(strstr(tl_error_message(), "task b") != NULL);
    const double zero[2] = {0, 0};
    p.weights = zero;
    td[1].y = ya;
    CHECK(tl_nn_mtl_train(m, &p, td, NULL) == TL_ERR_INVALID_ARG);
    tl_nn_mtl_free(m);
}

int main(void) {
    RUN(two_tasks_learn_and_round_trip);
    RUN(zero_weight_task_keeps_its_head);
    RUN(nonfinite_keeps_last_good);
    RUN(errors);
    return tl_test_summary();
}
