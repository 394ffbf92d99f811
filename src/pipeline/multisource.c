/* Multi-source transfer (tl/pipeline.h, tl_multisource_run): several labelled sources, one
 * target. Each source runs the single-source protocol (tl_transfer_run) against the target on
 * its own, which gives its predictions on the evaluation rows, its baselines and its guard
 * verdict; the sources the guard judges harmful are dropped (the reason kept); the kept ones are
 * combined by pooling (the method run once on the kept sources stacked), majority vote, or a
 * weighted vote. The weights: with labelled target rows, each source's accuracy on them above
 * chance (the guard's labelled check: the transferred source model scored on rows it was not
 * trained on as a source). Integration by voting or
 * weighted averaging with negative transfer checked per source, as issue 13 asks; the weights
 * need no extra fit. Without labelled target rows the weight is the source-side validation of
 * the guard: reverse validation (train on the transferred source, pseudo-label the target, train
 * on it, score the source) above chance; 1 / MMD^2 only where that was not measured (per-domain
 * z-scoring makes the MMDs of SURF domains all near 0, so they cannot rank the sources). Written as its own file so the single-source protocol stays unchanged. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/util.h"
#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/json.h"

const char *tl_combine_name(tl_combine c) {
    static const char *const n[] = {"pool", "vote", "weighted"};
    return (int)c >= 0 && (size_t)c < 3 ? n[c] : "unknown";
}

tl_status tl_combine_parse(const char *s, tl_combine *out) {
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, tl_combine_name((tl_combine)i)) == 0) {
            *out = (tl_combine)i;
            return TL_OK;
        }
    return tl_fail(TL_ERR_INVALID_ARG, "'%s' is not a combination (pool, vote, weighted)",
                   s ? s : "(null)");
}

void tl_multi_report_free(tl_multi_report *r) {
    if (!r) return;
    for (size_t i = 0; r->single && i < r->n_sources; i++) tl_report_free(r->single[i]);
    tl_free(r->single);
    tl_free(r->names);
    tl_free(r->weight);
    tl_free(r->dropped);
    tl_free(r->why);
    tl_report_free(r->pooled);
    tl_free(r->predictions);
    tl_free(r);
}

/* Every source has the label set of the first; else TL_ERR_LABEL naming a class one lacks. */
static tl_status same_label_sets(const tl_task *t, const long *src, size_t k) {
    tl_status st = TL_OK;
    int *c0 = NULL, *ci = NULL;
    size_t n0 = 0, ni = 0;
    const tl_dataset *d0 = tl_task_data(t, (size_t)src[0]);
    TL_CHECK(tl_dataset_has_labels(d0), TL_ERR_LABEL, "source '%s' has no labels",
             tl_dataset_name(d0));
    TL_TRY(tl_labels_unique(tl_dataset_labels_const(d0), tl_dataset_rows(d0), &c0, NULL, &n0));
    for (size_t i = 1; i < k; i++) {
        const tl_dataset *di = tl_task_data(t, (size_t)src[i]);
        TL_CHECK(tl_dataset_has_labels(di), TL_ERR_LABEL, "source '%s' has no labels",
                 tl_dataset_name(di));
        tl_free(ci);
        ci = NULL;
        TL_TRY(tl_labels_unique(tl_dataset_labels_const(di), tl_dataset_rows(di), &ci, NULL, &ni));
        for (size_t q = 0; q < n0; q++)
            TL_CHECK(tl_labels_index(ci, ni, c0[q]) >= 0, TL_ERR_LABEL,
                     "the sources' label sets differ: '%s' has class %d, '%s' has not (every "
                     "source must describe the same classes)",
                     tl_dataset_name(d0), c0[q], tl_dataset_name(di));
        for (size_t q = 0; q < ni; q++)
            TL_CHECK(tl_labels_index(c0, n0, ci[q]) >= 0, TL_ERR_LABEL,
                     "the sources' label sets differ: '%s' has class %d, '%s' has not (every "
                     "source must describe the same classes)",
                     tl_dataset_name(di), ci[q], tl_dataset_name(d0));
    }
done:
    tl_free(c0);
    tl_free(ci);
    return st;
}

/* A task of one source (its own dataset, or `pooled`) and the target with its sets. */
static tl_status one_source_task(const tl_task *t, tl_dataset *source, size_t tgt, tl_task **out) {
    tl_status st = TL_OK;
    size_t ti;
    TL_TRY(tl_task_create(out));
    TL_TRY(tl_task_add(*out, TL_ROLE_SOURCE, source, NULL));
    TL_TRY(tl_task_add(*out, TL_ROLE_TARGET, tl_task_data(t, tgt), &ti));
    TL_TRY(tl_task_set_labelled(*out, ti, tl_task_labelled(t, tgt)));
    TL_TRY(tl_task_set_test(*out, ti, tl_task_test(t, tgt)));
done:
    return st;
}

tl_status tl_multisource_run(const tl_task *task, const tl_params *method,
                             const tl_run_opts *opts, tl_combine combine, bool drop_harmful,
                             tl_multi_report **out) {
    return tl_multisource_fit(task, method, opts, combine, drop_harmful, out, NULL);
}

tl_status tl_multisource_fit(const tl_task *task, const tl_params *method,
                             const tl_run_opts *opts, tl_combine combine, bool drop_harmful,
                             tl_multi_report **out, tl_pipeline **pipeline) {
    tl_status st = TL_OK;
    tl_pipeline **pipes = NULL;
    double *wk = NULL;
    tl_multi_report *r = NULL;
    long *src = NULL;
    tl_task *sub = NULL;
    tl_dataset *pool = NULL, *next = NULL;
    int *cls = NULL;
    double *votes = NULL;
    double t0 = tli_seconds();
    TL_CHECK(task && out, TL_ERR_INVALID_ARG, "multisource_run: NULL task or output");
    *out = NULL;
    if (pipeline) *pipeline = NULL;
    TL_CHECK((int)combine >= 0 && combine <= TL_COMBINE_WEIGHTED, TL_ERR_INVALID_ARG,
             "multisource_run: unknown combination %d", (int)combine);
    size_t k = tl_task_count_role(task, TL_ROLE_SOURCE);
    long g = tl_task_find(task, TL_ROLE_TARGET, 0);
    TL_CHECK(g >= 0, TL_ERR_EMPTY, "multi-source transfer: the task has no target domain");
    TL_CHECK(k >= 2, TL_ERR_INVALID_ARG,
             "multi-source transfer needs at least two sources (the task has %zu)", k);
    size_t tgt = (size_t)g;
    TL_ALLOC(src, k);
    for (size_t i = 0; i < k; i++) src[i] = tl_task_find(task, TL_ROLE_SOURCE, i);
    for (size_t i = 0; i < k; i++)
        TL_CHECK(!tl_dataset_has_targets(tl_task_data(task, src[i])), TL_ERR_UNSUPPORTED,
                 "multi-source transfer combines class votes: '%s' has regression targets (give "
                 "one source, or pool the sources into one file)",
                 tl_dataset_name(tl_task_data(task, src[i])));
    TL_TRY(same_label_sets(task, src, k));
    tl_run_opts o = tl_run_opts_default();
    if (opts) {
        size_t n = opts->struct_size && opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        memcpy(&o, opts, n);
        o.struct_size = sizeof o;
    }
    o.in_place = false;        /* every run starts from the same raw target */
    o.keep_embeddings = false;
    TL_CALLOC(r, 1);
    r->n_sources = k;
    r->combine = combine;
    TL_CALLOC(r->single, k);
    TL_CALLOC(r->names, k);
    TL_CALLOC(r->weight, k);
    TL_CALLOC(r->dropped, k);
    TL_CALLOC(r->why, k);
    TL_CALLOC(pipes, k + 1); /* the sources', then the pooled run's */
    /* each source on its own */
    for (size_t i = 0; i < k; i++) {
        tl_dataset *si = tl_task_data(task, (size_t)src[i]);
        r->names[i] = tl_dataset_name(si);
        TL_TRY(one_source_task(task, si, tgt, &sub));
        st = tl_transfer_run(sub, method, &o, &r->single[i], pipeline ? &pipes[i] : NULL);
        tl_task_free(sub);
        sub = NULL;
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "source '%s'", r->names[i]);
            goto done;
        }
    }
    /* the guard's verdicts: drop the harmful ones, unless every source is */
    size_t harmful = 0;
    for (size_t i = 0; i < k; i++) harmful += r->single[i]->negative_transfer;
    r->all_harmful = harmful == k;
    for (size_t i = 0; i < k && drop_harmful && !r->all_harmful; i++) {
        const tl_report *s = r->single[i];
        if (!s->negative_transfer) continue;
        r->dropped[i] = true;
        const char *a = s->guard.verdict == TL_GUARD_HARMFUL ? s->guard.reason : "";
        const char *b = s->labelled_checked && s->labelled.harmful ? s->labelled.reason : "";
        snprintf(r->why[i], sizeof r->why[i], "%s%s%s", a, a[0] && b[0] ? "; " : "", b);
    }
    /* the weights */
    double wsum = 0, chance = 0;
    {
        size_t c = 0;
        const tl_dataset *d0 = tl_task_data(task, (size_t)src[0]);
        TL_TRY(tl_labels_unique(tl_dataset_labels_const(d0), tl_dataset_rows(d0), &cls, NULL, &c));
        chance = c ? 1.0 / (double)c : 0;
        tl_free(cls);
        cls = NULL;
    }
    for (size_t i = 0; i < k; i++) {
        const tl_report *s = r->single[i];
        double w = 1;
        if (combine == TL_COMBINE_WEIGHTED && s->labelled_checked)
            w = fmax(s->labelled.accuracy - s->labelled.chance, 1e-3);
        else if (combine == TL_COMBINE_WEIGHTED && s->guarded && isfinite(s->guard.rv_after))
            w = fmax(s->guard.rv_after - chance, 1e-3);
        else if (combine == TL_COMBINE_WEIGHTED && s->guarded && isfinite(s->guard.mmd_before))
            w = 1 / fmax(s->guard.mmd_before, 1e-6);
        r->weight[i] = r->dropped[i] ? 0 : w;
        wsum += r->weight[i];
    }
    for (size_t i = 0; i < k; i++) r->weight[i] = wsum > 0 ? r->weight[i] / wsum : 0;
    const tl_report *first = r->single[0];
    r->target_only = first->target_only;
    r->n_eval = first->n_eval;
    TL_ALLOC(r->predictions, r->n_eval ? r->n_eval : 1);
    const tl_dataset *E = tl_task_test(task, tgt) ? tl_task_test(task, tgt) : tl_task_data(task, tgt);
    if (combine == TL_COMBINE_POOL) {
        for (size_t i = 0; i < k; i++) {
            if (r->dropped[i]) continue;
            tl_dataset *si = tl_task_data(task, (size_t)src[i]);
            if (!pool) {
                TL_TRY(tl_dataset_clone(si, &pool));
                continue;
            }
            TL_TRY(tl_dataset_concat(pool, si, &next));
            tl_dataset_free(pool);
            pool = next;
            next = NULL;
        }
        TL_TRY(tl_dataset_set_name(pool, "the kept sources pooled"));
        TL_TRY(one_source_task(task, pool, tgt, &sub));
        st = tl_transfer_run(sub, method, &o, &r->pooled, pipeline ? &pipes[k] : NULL);
        if (st != TL_OK) {
            st = tl_fail_prefix(st, "the pooled sources");
            goto done;
        }
        memcpy(r->predictions, r->pooled->predictions, r->n_eval * sizeof *r->predictions);
    } else {
        size_t c = 0;
        const tl_dataset *d0 = tl_task_data(task, (size_t)src[0]);
        TL_TRY(tl_labels_unique(tl_dataset_labels_const(d0), tl_dataset_rows(d0), &cls, NULL, &c));
        TL_CALLOC(votes, c);
        for (size_t e = 0; e < r->n_eval; e++) {
            memset(votes, 0, c * sizeof *votes);
            for (size_t i = 0; i < k; i++) {
                long q = tl_labels_index(cls, c, r->single[i]->predictions[e]);
                if (q >= 0) votes[q] += r->weight[i];
            }
            size_t best = 0;
            for (size_t q = 1; q < c; q++)
                if (votes[q] > votes[best]) best = q;
            r->predictions[e] = cls[best];
        }
    }
    TL_TRY(tlx_score(tl_dataset_labels_const(E), r->predictions, r->n_eval, &r->result));
    if (pipeline) { /* the kept sources' pipelines and weights, or the pooled run's alone */
        double one = 1;
        size_t m = 0;
        if (combine == TL_COMBINE_POOL) {
            TL_TRY(tlx_pipeline_ensemble(&pipes[k], &one, 1, task, tgt, pipeline));
        } else {
            TL_ALLOC(wk, k);
            for (size_t i = 0; i < k; i++)
                if (r->weight[i] > 0) {
                    pipes[m] = pipes[i];
                    if (m != i) pipes[i] = NULL;
                    wk[m++] = r->weight[i];
                }
            TL_TRY(tlx_pipeline_ensemble(pipes, wk, m, task, tgt, pipeline));
        }
    }
    r->seconds = tli_seconds() - t0;
    *out = r;
    r = NULL;
done:
    tl_multi_report_free(r);
    tl_task_free(sub);
    tl_dataset_free(pool);
    tl_dataset_free(next);
    tl_free(src);
    tl_free(cls);
    tl_free(votes);
    tl_free(wk);
    for (size_t i = 0; pipes && i <= tl_task_count_role(task, TL_ROLE_SOURCE); i++)
        tl_pipeline_free(pipes[i]);
    tl_free(pipes);
    return st;
}

tl_status tl_multi_report_text(const tl_multi_report *r, char **out) {
    tlx_text t = {0};
    const tl_report *f = r->single[0];
    tlx_tprintf(&t, "%-22s %zu sources -> %s (%zu scored rows), %s, learner %s, combined by %s\n",
                "task", r->n_sources, f->target, r->n_eval, f->method, f->learner,
                tl_combine_name(r->combine));
    if (r->target_only.n)
        tlx_tprintf(&t, "%-22s %.2f %%\n", "target only", 100 * r->target_only.accuracy);
    size_t best = 0;
    for (size_t i = 0; i < r->n_sources; i++) {
        const tl_report *s = r->single[i];
        if (s->result.accuracy > r->single[best]->result.accuracy) best = i;
        tlx_tprintf(&t, "source %-15zu %s: no transfer %.2f %%, %s %.2f %%, guard %s", i + 1,
                    r->names[i], 100 * s->source_only.accuracy, s->method,
                    100 * s->result.accuracy, s->negative_transfer ? "HARMFUL" : "ok");
        if (r->dropped[i]) tlx_tprintf(&t, " -> dropped: %s\n", r->why[i]);
        else tlx_tprintf(&t, ", weight %.3f\n", r->weight[i]);
    }
    if (r->all_harmful)
        tlx_tprintf(&t, "%-22s every source was judged harmful: none dropped\n", "guard");
    tlx_tprintf(&t, "%-22s %.2f %% (best single source: %.2f %%, source %zu)\n",
                tl_combine_name(r->combine), 100 * r->result.accuracy,
                100 * r->single[best]->result.accuracy, best + 1);
    tlx_tprintf(&t, "%-22s %.3f s\n", "time", r->seconds);
    return tlx_text_end(&t, out);
}

tl_status tl_multi_report_json(const tl_multi_report *r, const char *command, char **out) {
    tl_json j;
    tl_json_begin(&j);
    if (command) tl_json_str(&j, "command", command);
    tl_json_str(&j, "method", r->single[0]->method);
    tl_json_str(&j, "learner", r->single[0]->learner);
    tl_json_str(&j, "combine", tl_combine_name(r->combine));
    tl_json_str(&j, "target", r->single[0]->target);
    tl_json_int(&j, "n_eval", (long long)r->n_eval);
    tl_json_num(&j, "accuracy", r->result.n ? r->result.accuracy : NAN);
    tl_json_num(&j, "balanced_accuracy", r->result.n ? r->result.balanced_accuracy : NAN);
    tl_json_num(&j, "target_only_accuracy", r->target_only.n ? r->target_only.accuracy : NAN);
    tl_json_bool(&j, "all_harmful", r->all_harmful);
    tl_json_arr_begin(&j, "sources");
    for (size_t i = 0; i < r->n_sources; i++) {
        const tl_report *s = r->single[i];
        tl_json_obj_begin(&j, NULL);
        tl_json_str(&j, "source", r->names[i]);
        tl_json_num(&j, "accuracy", s->result.n ? s->result.accuracy : NAN);
        tl_json_num(&j, "baseline_accuracy", s->source_only.n ? s->source_only.accuracy : NAN);
        tl_json_bool(&j, "negative_transfer", s->negative_transfer);
        tl_json_str(&j, "guard_reason", s->guard.reason);
        tl_json_num(&j, "weight", r->weight[i]);
        tl_json_bool(&j, "dropped", r->dropped[i]);
        tl_json_str(&j, "dropped_because", r->dropped[i] ? r->why[i] : NULL);
        tl_json_obj_end(&j);
    }
    tl_json_arr_end(&j);
    tl_json_num(&j, "seconds", r->seconds);
    return tl_json_end(&j, out);
}
