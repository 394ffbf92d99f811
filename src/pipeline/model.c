/* tl_model: a fitted method behind the one interface of tl/method.h. The generic part lives here
 * (what the task must provide for the method's needs, the thread scope of a call, dispatch to
 * the family's operation with a clear error when the family has none, and the container layout
 * of a saved model: the method's name and every parameter as metadata, then the method's own
 * tensors), so a method file implements only its fit and its state.
 *
 * Saved layout (all keys under the caller's prefix): "model" = "tl_model", "method" = registry
 * name, "param.<name>" = canonical value text, "libtl_version"; the method's own state under
 * "state.". A file that lacks a parameter (older libtl) reads it as its default. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/parallel.h"
#include "method_internal.h"

struct tl_model {
    const tl_method *m;
    tl_params *p;
    void *state;
};

const tl_method *tl_model_method(const tl_model *m) { return m ? m->m : NULL; }
const void *tlx_model_state(const tl_model *m) { return m ? m->state : NULL; }
const double *tlx_model_curve(const tl_model *m, size_t *n) {
    *n = 0;
    return m && m->state && m->m->ops->curve ? m->m->ops->curve(m->state, n) : NULL;
}
const tl_params *tl_model_params(const tl_model *m) { return m ? m->p : NULL; }

void tl_model_free(tl_model *m) {
    if (!m) return;
    if (m->state) m->m->ops->free(m->state);
    tl_params_free(m->p);
    tl_free(m);
}

tl_xmat tlx_features(const tl_task *t, size_t i) { return tl_dataset_features(tl_task_data(t, i)); }
const int *tlx_labels(const tl_task *t, size_t i) {
    return tl_dataset_labels_const(tl_task_data(t, i));
}

/* The task provides what the method needs: a labelled source, a target, labelled target rows,
 * dense data for dense-only methods. */
static tl_status check_needs(const tl_method *m, const tl_task *t, size_t *src, size_t *tgt) {
    tl_status st = TL_OK;
    long s = tl_task_find(t, TL_ROLE_SOURCE, 0), g = tl_task_find(t, TL_ROLE_TARGET, 0);
    TL_CHECK(s >= 0, TL_ERR_EMPTY, "%s: the task has no source domain", m->name);
    *src = (size_t)s;
    *tgt = g >= 0 ? (size_t)g : (size_t)s;
    if (m->needs & TL_NEEDS_TARGET) TL_CHECK(g >= 0, TL_ERR_EMPTY, "%s: the task has no target domain", m->name);
    if (m->needs & TL_NEEDS_SOURCE_LABELS)
        TL_CHECK(tlx_labels(t, *src), TL_ERR_LABEL, "%s: the source '%s' has no labels", m->name,
                 tl_dataset_name(tl_task_data(t, *src)));
    if (m->needs & TL_NEEDS_TARGET_LABELS) {
        const tl_dataset *lab = g >= 0 ? tl_task_labelled(t, (size_t)g) : NULL;
        TL_CHECK(lab && tl_dataset_rows(lab) > 0 && tl_dataset_has_labels(lab), TL_ERR_LABEL,
                 "%s needs labelled target rows", m->name);
    }
    if (m->needs & TL_DENSE_ONLY)
        for (size_t i = 0; i < tl_task_count(t); i++) {
            const tl_dataset *sets[3] = {tl_task_data(t, i), tl_task_labelled(t, i),
                                         tl_task_test(t, i)};
            for (int k = 0; k < 3; k++)
                TL_CHECK(!sets[k] || !tl_dataset_is_sparse(sets[k]), TL_ERR_UNSUPPORTED,
                         "%s works on dense data: '%s' is sparse (tl_dataset_densify it first)",
                         m->name, tl_dataset_name(sets[k]));
        }
done:
    return st;
}

tl_status tl_model_fit(const tl_params *p, const tl_params *learner, const tl_task *task,
                       const tl_ctx *ctx, tl_model **out) {
    tl_status st = TL_OK;
    tl_model *md = NULL;
    tli_thread_scope scope = tli_threads_enter(ctx);
    TL_CHECK(p && task && out, TL_ERR_INVALID_ARG, "model_fit: NULL parameters, task or output");
    *out = NULL;
    const tl_method *m = tl_params_method(p);
    tlx_fit_args a = {task, 0, 0, learner, ctx};
    TL_TRY(check_needs(m, task, &a.source, &a.target));
    TL_CALLOC(md, 1);
    md->m = m;
    TL_TRY(tl_params_clone(p, &md->p));
    TL_TRY(m->ops->fit(md->p, &a, &md->state));
    *out = md;
    md = NULL;
done:
    tl_model_free(md);
    tli_threads_leave(scope);
    return st;
}

size_t tl_model_input_dim(const tl_model *m, size_t domain) {
    return m && m->m->ops->input_dim ? m->m->ops->input_dim(m->state, domain) : 0;
}

size_t tl_model_dim(const tl_model *m) {
    return m && m->m->ops->dim ? m->m->ops->dim(m->state) : 0;
}

static tl_status no_op(const tl_model *m, const char *what) {
    if (!m) return tl_fail(TL_ERR_INVALID_ARG, "model: NULL model");
    return tl_fail(TL_ERR_UNSUPPORTED, "%s (a %s method) does not %s", m->m->name,
                   tl_family_name(m->m->family), what);
}

tl_status tl_model_transform(const tl_model *m, size_t domain, tl_mat X, tl_mat *out) {
    if (!m || !m->m->ops->transform) return no_op(m, "map samples into a shared space");
    return m->m->ops->transform(m->state, domain, X, out);
}

const double *tl_model_fit_weights(const tl_model *m, size_t *n) {
    if (n) *n = 0;
    return m && m->m->ops->fit_weights ? m->m->ops->fit_weights(m->state, n) : NULL;
}

tl_status tl_model_weights(const tl_model *m, tl_xmat X, double *w) {
    if (!m || !m->m->ops->weights) return no_op(m, "weight samples");
    return m->m->ops->weights(m->state, X, w);
}

tl_status tl_model_predict(const tl_model *m, tl_xmat X, int *pred) {
    if (!m || !m->m->ops->predict) return no_op(m, "predict labels");
    return m->m->ops->predict(m->state, X, pred);
}

tl_status tl_model_scores(const tl_model *m, tl_xmat X, tl_mat S) {
    if (!m || !m->m->ops->scores) return no_op(m, "score classes");
    return m->m->ops->scores(m->state, X, S);
}

const int *tl_model_classes(const tl_model *m, size_t *nclasses) {
    if (nclasses) *nclasses = 0;
    return m && m->m->ops->classes ? m->m->ops->classes(m->state, nclasses) : NULL;
}

bool tl_model_info(const tl_model *m, size_t i, const char **key, double *value) {
    const char *keys[TL_REPORT_MAX_INFO];
    double vals[TL_REPORT_MAX_INFO];
    if (!m || !m->m->ops->info) return false;
    size_t n = m->m->ops->info(m->state, keys, vals, TL_REPORT_MAX_INFO);
    if (i >= n) return false;
    if (key) *key = keys[i];
    if (value) *value = vals[i];
    return true;
}

/* ---- the container ---- */

tl_status tlx_read_nested(const tl_tlm *c, const char *prefix, const char *name, tlx_read_fn fn,
                          void **obj) {
    tl_status st = TL_OK;
    tl_tlm *sub = NULL;
    TL_TRY(tl_tlm_extract(c, prefix, &sub));
    TL_TRY(fn(sub, name, obj));
done:
    tl_tlm_free(sub);
    return st;
}

uint64_t tlx_seed(const tl_ctx *ctx) { return ctx ? ctx->seed : 42; }

tl_status tlx_write_nested(const void *obj, tlx_write_fn fn, tl_tlm *c, const char *prefix) {
    tl_status st = TL_OK;
    tl_tlm *sub = NULL;
    TL_TRY(tl_tlm_create(&sub));
    TL_TRY(fn(obj, sub));
    TL_TRY(tl_tlm_merge(c, sub, prefix));
done:
    tl_tlm_free(sub);
    return st;
}

tl_status tlx_key(char *buf, size_t cap, const char *prefix, const char *key) {
    int n = snprintf(buf, cap, "%s%s", prefix ? prefix : "", key);
    if (n < 0 || (size_t)n >= cap) return tl_fail(TL_ERR_INVALID_ARG, "model key '%s' too long", key);
    return TL_OK;
}

tl_status tlx_put_meta(tl_tlm *c, const char *prefix, const char *key, const char *value) {
    char k[256];
    tl_status st = tlx_key(k, sizeof k, prefix, key);
    return st == TL_OK ? tl_tlm_set_meta(c, k, value) : st;
}

tl_status tlx_put_num(tl_tlm *c, const char *prefix, const char *key, double v) {
    char k[256];
    tl_status st = tlx_key(k, sizeof k, prefix, key);
    return st == TL_OK ? tl_tlm_set_num(c, k, v) : st;
}

const char *tlx_get_meta(const tl_tlm *c, const char *prefix, const char *key) {
    char k[256];
    if (tlx_key(k, sizeof k, prefix, key) != TL_OK) return NULL;
    return tl_tlm_get_meta(c, k);
}

tl_status tlx_get_num(const tl_tlm *c, const char *prefix, const char *key, const char *name,
                      double *out) {
    char k[256];
    tl_status st = tlx_key(k, sizeof k, prefix, key);
    return st == TL_OK ? tl_tlm_get_num(c, name, k, -HUGE_VAL, HUGE_VAL, out) : st;
}

tl_status tl_model_write(const tl_model *m, tl_tlm *c, const char *prefix) {
    tl_status st = TL_OK;
    TL_CHECK(m && c, TL_ERR_INVALID_ARG, "model_write: NULL model or container");
    if (!prefix) prefix = "";
    TL_TRY(tlx_put_meta(c, prefix, "model", "tl_model"));
    TL_TRY(tlx_put_meta(c, prefix, "method", m->m->name));
    TL_TRY(tlx_put_meta(c, prefix, "family", tl_family_name(m->m->family)));
    TL_TRY(tlx_put_meta(c, prefix, "libtl_version", tl_version()));
    for (size_t i = 0; i < m->m->nparams; i++) {
        char key[128];
        snprintf(key, sizeof key, "param.%s", m->m->params[i].name);
        TL_TRY(tlx_put_meta(c, prefix, key, tl_params_get(m->p, m->m->params[i].name)));
    }
    char sp[256];
    TL_TRY(tlx_key(sp, sizeof sp, prefix, "state."));
    TL_TRY(m->m->ops->write(m->state, c, sp));
done:
    return st;
}

tl_status tl_model_read(const tl_tlm *c, const char *prefix, const char *name, tl_model **out) {
    tl_status st = TL_OK;
    tl_model *md = NULL;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "model_read: NULL container or output");
    *out = NULL;
    if (!prefix) prefix = "";
    if (!name) name = "model";
    const char *kind = tlx_get_meta(c, prefix, "model"), *mname = tlx_get_meta(c, prefix, "method");
    TL_CHECK(kind && strcmp(kind, "tl_model") == 0, TL_ERR_FORMAT,
             "%s: holds no libtl method model%s%s%s", name, kind ? " (it holds a '" : "",
             kind ? kind : "", kind ? "')" : "");
    TL_CHECK(mname, TL_ERR_FORMAT, "%s: model lacks metadata '%smethod'", name, prefix);
    const tl_method *m = tl_method_find(mname, -1);
    TL_CHECK(m, TL_ERR_FORMAT, "%s: model of an unknown method '%s' (a newer libtl?)", name,
             mname);
    TL_CALLOC(md, 1);
    md->m = m;
    TL_TRY(tl_params_create(m, &md->p));
    for (size_t i = 0; i < m->nparams; i++) {
        char key[128];
        snprintf(key, sizeof key, "param.%s", m->params[i].name);
        const char *v = tlx_get_meta(c, prefix, key);
        if (!v) continue; /* written by an older libtl: the default */
        st = tl_params_set(md->p, m->params[i].name, v);
        if (st != TL_OK) {
            st = tl_fail_prefix(TL_ERR_FORMAT, "%s: metadata '%s%s'", name, prefix, key);
            goto done;
        }
    }
    char sp[256];
    TL_TRY(tlx_key(sp, sizeof sp, prefix, "state."));
    TL_TRY(m->ops->read(md->p, c, sp, name, &md->state));
    *out = md;
    md = NULL;
done:
    tl_model_free(md);
    return st;
}

tl_status tl_model_save(const tl_model *m, const char *path) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL;
    TL_CHECK(m && path, TL_ERR_INVALID_ARG, "model_save: NULL model or path");
    TL_TRY(tl_tlm_create(&c));
    TL_TRY(tl_model_write(m, c, ""));
    TL_TRY(tl_tlm_save(c, path));
done:
    tl_tlm_free(c);
    return st;
}

tl_status tl_model_load(const char *path, tl_model **out) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "model_load: NULL path or output");
    TL_TRY(tl_tlm_load(path, &c));
    TL_TRY(tl_model_read(c, "", path, out));
done:
    tl_tlm_free(c);
    return st;
}
