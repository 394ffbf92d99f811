/* bench/pyparity_c.c: the C side of bench/python_parity.py - the time of the same transfer run
 * the Python package makes, called from C with the data already in memory.
 *
 * usage: pyparity_c METHOD PREPROCESS LEARNER SOURCE TARGET REPEAT [name=value ...]
 * Loads the two data specs, then REPEAT times: builds the task, runs tl_transfer_run (threads 1,
 * seed 42, the guard on) and renders the report's JSON - exactly what libtl.TransferPipeline.fit
 * does inside its C call - timing from the task's creation to the rendered JSON. Prints one line:
 * "accuracy best_seconds report_total_seconds". The Python side is timed the same way around
 * its fit (arrays in memory), so the difference between the two is the binding's cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tl.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, tl_status st) {
    fprintf(stderr, "pyparity_c: %s: %s\n", what,
            *tl_error_message() ? tl_error_message() : tl_status_name(st));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: pyparity_c METHOD PREPROCESS LEARNER SOURCE TARGET REPEAT "
                        "[name=value ...]\n");
        return 2;
    }
    tl_dataset *S = NULL, *T = NULL;
    tl_params *m = NULL, *l = NULL;
    tl_status st;
    int repeat = atoi(argv[6]), rc = 1;
    double best = 1e300, acc = 0, inner = 0;
    if ((st = tl_dataset_load(argv[4], NULL, &S)) || (st = tl_dataset_load(argv[5], NULL, &T)))
        return fail("load", st);
    const tl_method *mm = tl_method_find(argv[1], -1), *lm = tl_method_find(argv[3], 0);
    if (!mm || !lm) return fail("method", TL_ERR_NOT_FOUND);
    if ((st = tl_params_create(mm, &m)) || (st = tl_params_create(lm, &l))) return fail("params", st);
    for (int i = 7; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) return fail("name=value", TL_ERR_INVALID_ARG);
        *eq = '\0';
        if ((st = tl_params_set(m, argv[i], eq + 1))) return fail("param", st);
    }
    tl_ctx ctx = tl_ctx_default();
    ctx.seed = 42;
    ctx.threads = 1;
    for (int r = 0; r < repeat; r++) {
        tl_task *task = NULL;
        tl_report *rep = NULL;
        tl_pipeline *pipe = NULL;
        char *json = NULL;
        double t0 = now();
        tl_run_opts o = tl_run_opts_default();
        o.learner = l;
        o.ctx = &ctx;
        if ((st = tl_preprocess_parse(argv[2], &o.preprocess)) || (st = tl_task_create(&task)) ||
            (st = tl_task_add(task, TL_ROLE_SOURCE, S, NULL)) ||
            (st = tl_task_add(task, TL_ROLE_TARGET, T, NULL)) ||
            (st = tl_transfer_run(task, m, &o, &rep, &pipe)) ||
            (st = tl_report_json(rep, NULL, &json))) {
            tl_task_free(task);
            tl_report_free(rep);
            tl_pipeline_free(pipe);
            rc = fail("run", st);
            goto done;
        }
        double t = now() - t0;
        if (t < best) {
            best = t;
            inner = rep->seconds_total;
        }
        acc = rep->result.accuracy;
        tl_free(json);
        tl_report_free(rep);
        tl_pipeline_free(pipe);
        tl_task_free(task);
    }
    printf("%.10f %.6f %.6f\n", acc, best, inner);
    rc = 0;
done:
    tl_params_free(m);
    tl_params_free(l);
    tl_dataset_free(S);
    tl_dataset_free(T);
    return rc;
}
