/* TrAdaBoost in the registry (tl/instance.h; Dai, Yang, Xue & Yu, ICML 2007): an ensemble that
 * boosts the run's learner on the labelled source and a few labelled target rows, down-weighting
 * the source rows it gets wrong. Its parameter is the number of rounds; the base learner is the
 * protocol's learner (logistic regression by default). */
#include "method_internal.h"
#include "tl/instance.h"

static const tl_param_desc tradaboost_params[] = {
    {"rounds", TL_PARAM_INT, "20", 1, 10000, NULL,
     "boosting rounds (the vote uses rounds ceil(N/2)..N)", "10,20,50"}};

static void tab_free(void *s) { tl_tradaboost_free(s); }

static size_t tab_input_dim(const void *s, size_t domain) {
    (void)domain;
    return tl_tradaboost_input_dim(s);
}

static tl_status tab_fit(const tl_params *p, const tlx_fit_args *f, void **out) {
    tl_status st = TL_OK;
    tl_tradaboost_params tp = tl_tradaboost_params_default();
    tp.rounds = (size_t)tlx_int(p, "rounds");
    if (f->learner) TL_TRY(tlx_learner_params(f->learner, f->ctx, &tp.base));
    tp.base.seed = tlx_seed(f->ctx);
    const tl_dataset *src = tl_task_data(f->task, f->source);
    const tl_dataset *lab = tl_task_labelled(f->task, f->target);
    TL_TRY(tl_tradaboost_fit(&tp, tl_dataset_features(src), tl_dataset_labels_const(src),
                             tl_dataset_features(lab), tl_dataset_labels_const(lab),
                             (tl_tradaboost **)out));
done:
    return st;
}

static tl_status tab_predict(const void *s, tl_xmat X, int *pred) {
    return tl_tradaboost_predict(s, X, pred);
}

static tl_status tab_scores(const void *s, tl_xmat X, tl_mat S) {
    return tl_tradaboost_scores(s, X, S);
}

static const int *tab_classes(const void *s, size_t *k) { return tl_tradaboost_classes(s, k); }

static tl_status tab_write_fn(const void *m, tl_tlm *c) { return tl_tradaboost_write(m, c); }

static tl_status tab_write(const void *s, tl_tlm *c, const char *prefix) {
    return tlx_write_nested(s, tab_write_fn, c, prefix);
}

static tl_status tab_read_fn(const tl_tlm *c, const char *name, void **out) {
    return tl_tradaboost_read(c, name, (tl_tradaboost **)out);
}

static tl_status tab_read(const tl_params *p, const tl_tlm *c, const char *prefix,
                          const char *name, void **out) {
    (void)p;
    return tlx_read_nested(c, prefix, name, tab_read_fn, out);
}

static const tlx_ops tab_ops = {.fit = tab_fit,
                                .free = tab_free,
                                .input_dim = tab_input_dim,
                                .predict = tab_predict,
                                .scores = tab_scores,
                                .classes = tab_classes,
                                .write = tab_write,
                                .read = tab_read};

const tl_method tlx_m_tradaboost = {
    "tradaboost",
    "boosting on the source and a few labelled target rows, source errors down-weighted",
    "Dai, Yang, Xue & Yu, ICML 2007",
    TL_FAMILY_ENSEMBLE,
    0,
    TL_NEEDS_SOURCE_LABELS | TL_NEEDS_TARGET_LABELS,
    "logreg",
    tradaboost_params,
    TLX_NPARAMS(tradaboost_params),
    &tab_ops};
