/* The run context's cancel callback (tl_ctx.cancel): a long call polls it between its steps and,
 * asked to stop, returns TL_ERR_CANCELLED naming where it stopped - JDA between rounds, KMM in its
 * solver, the whole protocol (tl_transfer_run) through the method it runs - with nothing leaked
 * (the sanitizer build checks). A callback that never asks changes nothing: the same fit, bit for
 * bit, as without one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sample_data.h"
#include "tl.h"

typedef struct {
    int calls;    /* polls so far */
    int stop_at;  /* ask to stop at this poll (1-based; 0: never) */
} counter;

static int cancel_after(void *user) {
    counter *c = user;
    c->calls++;
    return c->stop_at && c->calls >= c->stop_at;
}

/* a two-class source and a shifted target, labelled (for the pseudo-labels and the scores) */
static void make_task(tl_dataset **s, tl_dataset **t, tl_task **task) {
    tl_rng r;
    tl_rng_seed(&r, 7);
    tl_mat xs = gauss(120, 6, 0.0, 1.0, &r), xt = gauss(100, 6, 1.5, 1.3, &r);
    int ys[120], yt[100];
    for (int i = 0; i < 120; i++) ys[i] = i % 2, xs.data[i * 6 + 1] += 2.0 * (i % 2);
    for (int i = 0; i < 100; i++) yt[i] = i % 2, xt.data[i * 6 + 1] += 2.0 * (i % 2);
    tl_dataset_from_dense(xs, ys, s);
    tl_dataset_from_dense(xt, yt, t);
    free(xs.data);
    free(xt.data);
    tl_task_create(task);
    tl_task_add(*task, TL_ROLE_SOURCE, *s, NULL);
    tl_task_add(*task, TL_ROLE_TARGET, *t, NULL);
}

static tl_status fit(const char *method, counter *c, tl_model **m) {
    tl_dataset *s = NULL, *t = NULL;
    tl_task *task = NULL;
    make_task(&s, &t, &task);
    tl_params *p = NULL;
    tl_status st = tl_params_create(tl_method_find(method, -1), &p);
    if (st == TL_OK && strcmp(method, "jda") == 0) {
        tl_params_set(p, "iters", "10");
        tl_params_set(p, "dim", "3");
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.cancel = c ? cancel_after : NULL;
    ctx.user = c;
    if (st == TL_OK) st = tl_model_fit(p, NULL, task, &ctx, m);
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
    return st;
}

TEST(jda_stops_between_rounds) {
    counter c = {0, 3};
    tl_model *m = NULL;
    CHECK_STATUS(fit("jda", &c, &m), TL_ERR_CANCELLED);
    CHECK(m == NULL);
    CHECK_ERR_HAS("cancelled in jda round 3 of 10");
    CHECK(c.calls == 3);
    CHECK(strcmp(tl_status_name(TL_ERR_CANCELLED), "cancelled") == 0);
}

TEST(kmm_stops_in_its_solver) {
    counter c = {0, 1};
    tl_model *m = NULL;
    CHECK_STATUS(fit("kmm", &c, &m), TL_ERR_CANCELLED);
    CHECK(m == NULL);
    CHECK_ERR_HAS("cancelled in kmm: solver iteration 1");
}

/* polled, never asked: the same map as a fit without a callback */
TEST(a_callback_that_never_asks_changes_nothing) {
    counter c = {0, 0};
    tl_model *a = NULL, *b = NULL;
    CHECK_OK(fit("jda", &c, &a));
    CHECK(c.calls >= 1);
    CHECK_OK(fit("jda", NULL, &b));
    if (a && b) {
        double x[6] = {0.1, -0.2, 0.3, 0.4, -0.5, 0.6};
        tl_mat X = tl_mat_view(x, 1, 6), Za = {0}, Zb = {0};
        CHECK_OK(tl_model_transform(a, 1, X, &Za));
        CHECK_OK(tl_model_transform(b, 1, X, &Zb));
        CHECK(Za.data && Zb.data && Za.cols == Zb.cols && Za.cols > 0 &&
              memcmp(Za.data, Zb.data, Za.cols * sizeof(double)) == 0);
        tl_mat_free(&Za);
        tl_mat_free(&Zb);
    }
    tl_model_free(a);
    tl_model_free(b);
}

/* the protocol hands its context to the method: a run stops too */
TEST(transfer_run_stops) {
    tl_dataset *s = NULL, *t = NULL;
    tl_task *task = NULL;
    make_task(&s, &t, &task);
    tl_params *p = NULL;
    CHECK_OK(tl_params_create(tl_method_find("tca", -1), &p));
    counter c = {0, 1};
    tl_ctx ctx = tl_ctx_default();
    ctx.cancel = cancel_after;
    ctx.user = &c;
    tl_run_opts o = tl_run_opts_default();
    o.ctx = &ctx;
    tl_report *r = NULL;
    tl_pipeline *pipe = NULL;
    CHECK_STATUS(tl_transfer_run(task, p, &o, &r, &pipe), TL_ERR_CANCELLED);
    CHECK(r == NULL && pipe == NULL);
    CHECK_ERR_HAS("cancelled in tca round 1");
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
}

int main(void) {
    RUN(jda_stops_between_rounds);
    RUN(kmm_stops_in_its_solver);
    RUN(a_callback_that_never_asks_changes_nothing);
    RUN(transfer_run_stops);
    return tl_test_summary();
}
