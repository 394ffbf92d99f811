/* Preprocessing for transfer through intermediate domains (tl_gradual_run, tl/pipeline.h): the
 * run's --preprocess steps fitted as the single-domain protocol (run.c) fits them - each domain
 * on its own rows (the source, every intermediate and the target; a domain's labelled and test
 * rows use its scaler), or with preprocess_on_source the source's scaler for every domain - then
 * the walk (gradual.c) on the scaled copies, and the scalers put in the saved pipeline, so
 * `tl predict` scales raw rows as the walk saw them. Kept apart so the walk reads only prepared
 * rows. Per-domain scaling of a shift that lives in the columns' means and spreads (brightness,
 * a sensor's gain) removes it - and with it what the path is chosen by; fit on the source to keep
 * it (--preprocess-fit source). */
#include <string.h>

#include "internal/check.h"
#include "internal/util.h"
#include "pipeline_internal.h"

/* The saved pipeline's scalers: it has two domains, 0 the rows its learner was last trained
 * on (the source; with a method hop by hop, the last walked domain) and 1 the target. */
static tl_status ends_scalers(tlx_scalers *all, size_t from, size_t tgt, tlx_scalers *out) {
    tl_status st = TL_OK;
    memset(out, 0, sizeof *out);
    out->pre = all->pre;
    out->on_source = all->on_source;
    out->n = 2;
    TL_CALLOC(out->s, 2);
    if (all->on_source) { /* the source's, found at the pipeline's src (0) */
        for (size_t i = 0; i < all->n; i++)
            if (all->s[i]) {
                out->s[0] = all->s[i];
                all->s[i] = NULL;
            }
    } else {
        out->s[0] = all->s[from];
        all->s[from] = NULL;
        out->s[1] = all->s[tgt];
        all->s[tgt] = NULL;
    }
done:
    return st;
}

tl_status tl_gradual_run(const tl_task *task, const tl_run_opts *opts, const tl_gradual_opts *g,
                         tl_gradual_report **out, tl_pipeline **pipeline) {
    if (!opts || !task || opts->preprocess.nsteps == 0)
        return tlx_gradual_walk(task, opts, g, out, pipeline);
    tl_status st = TL_OK;
    tl_run_opts o = tl_run_opts_default();
    memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    size_t nd = tl_task_count(task);
    long s = tl_task_find(task, TL_ROLE_SOURCE, 0), t = tl_task_find(task, TL_ROLE_TARGET, 0);
    tl_dataset **cp = NULL; /* (nd * 3) each domain's data, labelled and test rows, scaled */
    tl_task *work = NULL;
    tl_pipeline *pipe = NULL;
    tlx_scalers sc, hs;
    memset(&sc, 0, sizeof sc);
    memset(&hs, 0, sizeof hs);
    TL_CHECK(out, TL_ERR_INVALID_ARG, "gradual_run: NULL output");
    TL_CHECK(s >= 0 && t >= 0 && tl_task_data(task, (size_t)s), TL_ERR_EMPTY,
             "gradual transfer: the task needs a source with rows and a target");
    sc.pre = o.preprocess;
    sc.on_source = o.preprocess_on_source;
    sc.n = nd;
    TL_CALLOC(sc.s, nd);
    TL_CALLOC(cp, nd * 3);
    TL_TRY(tl_task_create(&work));
    for (size_t i = 0; i < nd; i++) {
        const tl_dataset *in[3] = {tl_task_data(task, i), tl_task_labelled(task, i),
                                   tl_task_test(task, i)};
        TL_CHECK(in[0], TL_ERR_EMPTY, "gradual transfer: domain '%s' has no rows",
                 tl_task_name(task, i));
        if (!sc.on_source || i == (size_t)s) {
            st = tl_scaler_fit(&o.preprocess, in[0], &sc.s[i]);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(in[0]));
                goto done;
            }
        }
        const tl_scaler *use = sc.s[sc.on_source ? (size_t)s : i];
        for (int k = 0; k < 3; k++) {
            if (!in[k]) continue;
            TL_TRY(tl_dataset_clone(in[k], &cp[3 * i + k]));
            st = tl_scaler_apply(use, cp[3 * i + k]);
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "preprocessing '%s'", tl_dataset_name(in[k]));
                goto done;
            }
        }
        TL_TRY(tl_task_add(work, tl_task_role(task, i), cp[3 * i], NULL));
        TL_TRY(tl_task_set_labelled(work, i, cp[3 * i + 1]));
        TL_TRY(tl_task_set_test(work, i, cp[3 * i + 2]));
    }
    o.preprocess.nsteps = 0;
    TL_TRY(tlx_gradual_walk(work, &o, g, out, pipeline ? &pipe : NULL));
    /* the report names the domains through the copies, freed below: name the task's own */
    tl_gradual_report *r = *out;
    r->source = tl_task_name(task, (size_t)s);
    r->target = tl_task_name(task, (size_t)t);
    for (size_t i = 0; i < r->n_steps; i++) r->names[i] = tl_task_name(task, r->path[i]);
    if (pipe) {
        size_t from = (g && g->method && r->n_steps) ? r->path[r->n_steps - 1] : (size_t)s;
        TL_TRY(ends_scalers(&sc, from, (size_t)t, &hs));
        TL_TRY(tlx_pipeline_set_scalers(pipe, &hs));
        *pipeline = pipe;
        pipe = NULL;
    }
done:
    if (st != TL_OK && out && *out) {
        tl_gradual_report_free(*out);
        *out = NULL;
    }
    tl_task_free(work);
    for (size_t i = 0; cp && i < nd * 3; i++) tl_dataset_free(cp[i]);
    tl_free(cp);
    tlx_scalers_free(&sc);
    tlx_scalers_free(&hs);
    tl_pipeline_free(pipe);
    return st;
}
