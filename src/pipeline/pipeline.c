/* The fitted pipeline (tl/pipeline.h): each domain's preprocessing with its fitted statistics ->
 * the method's mapping or weights -> the learner trained in the transferred space (or the
 * ensemble's own vote), as one object that predicts raw rows of any domain and saves to one .tlm
 * file. The parts nest in that file under their own prefixes ("scaler<i>.", "method.",
 * "learner."), each written by its own module through the container's interface.
 * A multi-source pipeline (tl_multisource_fit) is two domains, the sources and the target, and
 * holds one whole pipeline per kept source ("member<i>.", each source -> target) with its weight:
 * target rows are predicted by the members' weighted vote, the scores are the vote shares. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_internal.h"
#include "pipeline_internal.h"
#include "internal/util.h"

struct tl_pipeline {
    tlx_scalers sc;
    size_t n;           /* domains */
    size_t *dims;       /* (n) raw input widths */
    size_t src, tgt;
    tl_model *model;    /* NULL: no transfer */
    tl_learner *learner;/* NULL for an ensemble, which predicts itself */
    char **names;       /* (nnames) the class names of the source's labels (label v: names[v]) */
    size_t nnames;      /* 0: the labels are plain integers */
    size_t nmembers;    /* a multi-source pipeline: its per-source pipelines (else 0) */
    tl_pipeline **members; /* (nmembers) each predicts its domain 1 (the target) */
    double *mweights;   /* (nmembers) their vote weights */
};

static void free_names(char **names, size_t n) {
    for (size_t i = 0; names && i < n; i++) tl_free(names[i]);
    tl_free(names);
}

/* names[0..k) copied into p (k may be 0). */
static tl_status set_names(tl_pipeline *p, const char *const *names, size_t k) {
    tl_status st = TL_OK;
    char **c = NULL;
    size_t i = 0;
    if (k) {
        TL_CALLOC(c, k);
        for (; i < k; i++) {
            c[i] = tli_strdup(names[i]);
            TL_CHECK(c[i], TL_ERR_NOMEM, "pipeline: out of memory");
        }
    }
    free_names(p->names, p->nnames);
    p->names = c;
    p->nnames = k;
    c = NULL;
done:
    free_names(c, i);
    return st;
}

const char *const *tl_pipeline_class_names(const tl_pipeline *p, size_t *k) {
    if (k) *k = p ? p->nnames : 0;
    return p && p->nnames ? (const char *const *)p->names : NULL;
}

void tlx_scalers_free(tlx_scalers *sc) {
    if (!sc) return;
    for (size_t i = 0; sc->s && i < sc->n; i++) tl_scaler_free(sc->s[i]);
    tl_free(sc->s);
    memset(sc, 0, sizeof *sc);
}

void tl_pipeline_free(tl_pipeline *p) {
    if (!p) return;
    tlx_scalers_free(&p->sc);
    tl_free(p->dims);
    free_names(p->names, p->nnames);
    tl_model_free(p->model);
    tl_learner_free(p->learner);
    for (size_t i = 0; p->members && i < p->nmembers; i++) tl_pipeline_free(p->members[i]);
    tl_free(p->members);
    tl_free(p->mweights);
    tl_free(p);
}

tl_status tlx_pipeline_ensemble(tl_pipeline **members, const double *w, size_t k,
                                const tl_task *task, size_t tgt, tl_pipeline **out) {
    tl_status st = TL_OK;
    tl_pipeline *p = NULL;
    TL_CHECK(k >= 1, TL_ERR_INVALID_ARG, "multi-source pipeline: no member");
    TL_CALLOC(p, 1);
    p->n = 2;
    TL_ALLOC(p->dims, 2);
    p->dims[0] = members[0]->dims[0];
    p->dims[1] = tl_dataset_cols(tl_task_data(task, tgt));
    p->src = 0;
    p->tgt = 1;
    TL_TRY(set_names(p, (const char *const *)members[0]->names, members[0]->nnames));
    TL_CALLOC(p->members, k);
    TL_ALLOC(p->mweights, k);
    p->nmembers = k;
    for (size_t i = 0; i < k; i++) {
        p->members[i] = members[i];
        members[i] = NULL;
        p->mweights[i] = w[i];
    }
    *out = p;
    p = NULL;
done:
    tl_pipeline_free(p);
    return st;
}

/* A multi-source pipeline's weighted vote: S (rows, classes of member 0) the weights' shares of
 * each class, pred (may be NULL) the class with the largest share (ties: the first class). */
static tl_status ensemble_scores(const tl_pipeline *p, size_t d, const tl_dataset *X, int *pred,
                                 tl_mat S) {
    tl_status st = TL_OK;
    int *mp = NULL;
    size_t n = tl_dataset_rows(X), k = 0;
    TL_CHECK(d == p->tgt, TL_ERR_UNSUPPORTED,
             "a multi-source pipeline predicts target rows (domain %zu), not domain %zu: each "
             "source has its own space", p->tgt, d);
    const int *cls = tl_pipeline_classes(p->members[0], &k);
    double wsum = 0;
    for (size_t m = 0; m < p->nmembers; m++) wsum += p->mweights[m];
    TL_CHECK(wsum > 0, TL_ERR_STATE, "multi-source pipeline: every weight is 0");
    TL_ALLOC(mp, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) S.data[i * S.ld + c] = 0;
    for (size_t m = 0; m < p->nmembers; m++) {
        TL_TRY(tl_pipeline_predict(p->members[m], p->members[m]->tgt, X, mp));
        for (size_t i = 0; i < n; i++) {
            long q = tl_labels_index(cls, k, mp[i]);
            if (q >= 0) S.data[i * S.ld + (size_t)q] += p->mweights[m] / wsum;
        }
    }
    for (size_t i = 0; pred && i < n; i++) {
        size_t b = 0;
        for (size_t c = 1; c < k; c++)
            if (S.data[i * S.ld + c] > S.data[i * S.ld + b]) b = c;
        pred[i] = cls[b];
    }
done:
    tl_free(mp);
    return st;
}

tl_status tlx_pipeline_make(tlx_scalers *sc, tl_model *model, tl_learner *learner,
                            const tl_task *task, size_t src, size_t tgt, tl_pipeline **out) {
    tl_status st = TL_OK;
    tl_pipeline *p = NULL;
    TL_CALLOC(p, 1);
    p->n = tl_task_count(task);
    TL_ALLOC(p->dims, p->n ? p->n : 1);
    for (size_t i = 0; i < p->n; i++) /* a domain's width: its rows', or its network's input */
        p->dims[i] = tl_task_data(task, i) ? tl_dataset_cols(tl_task_data(task, i))
                                           : tl_nn_input_dim(tl_task_network(task, i));
    p->src = src;
    p->tgt = tgt;
    if (tl_task_data(task, src)) {
        size_t k = 0;
        const char *const *nm = tl_dataset_class_names(tl_task_data(task, src), &k);
        TL_TRY(set_names(p, nm, nm ? k : 0));
    }
    p->sc = *sc;
    memset(sc, 0, sizeof *sc);
    p->model = model;
    p->learner = learner;
    *out = p;
    p = NULL;
done:
    tl_pipeline_free(p);
    return st;
}

tl_status tlx_pipeline_set_scalers(tl_pipeline *p, tlx_scalers *sc) {
    tl_status st = TL_OK;
    TL_CHECK(p && sc && sc->n == p->n && !p->nmembers, TL_ERR_STATE,
             "pipeline: %zu scalers for %zu domains", sc ? sc->n : 0, p ? p->n : 0);
    tlx_scalers_free(&p->sc);
    p->sc = *sc;
    memset(sc, 0, sizeof *sc);
done:
    return st;
}

size_t tl_pipeline_domains(const tl_pipeline *p) { return p ? p->n : 0; }
size_t tl_pipeline_source(const tl_pipeline *p) { return p ? p->src : 0; }
size_t tl_pipeline_target(const tl_pipeline *p) { return p ? p->tgt : 0; }
size_t tl_pipeline_input_dim(const tl_pipeline *p, size_t d) {
    return p && d < p->n ? p->dims[d] : 0;
}
const tl_model *tl_pipeline_model(const tl_pipeline *p) { return p ? p->model : NULL; }

static const tl_scaler *scaler_of(const tl_pipeline *p, size_t d) {
    if (!p->sc.s) return NULL;
    return p->sc.s[p->sc.on_source ? p->src : d];
}

/* Whether the method predicts itself (ensembles, networks) rather than the learner. */
static bool model_predicts(const tl_pipeline *p) {
    tl_family fam = p->model ? tl_method_family(tl_model_method(p->model)) : TL_FAMILY_LEARNER;
    return fam == TL_FAMILY_ENSEMBLE || fam == TL_FAMILY_MODEL;
}

/* What the learner sees of the prepared rows w of domain d: the mapped rows (a feature method:
 * *Z allocated, freed by the caller) or the rows themselves. */
static tl_status learner_rows(const tl_pipeline *p, size_t d, tl_dataset *w, tl_mat *Z,
                              tl_xmat *X) {
    tl_status st = TL_OK;
    if (p->model && tl_method_family(tl_model_method(p->model)) == TL_FAMILY_FEATURE) {
        TL_TRY(tl_model_transform(p->model, d, tl_dataset_dense(w), Z));
        *X = tl_xmat_from_dense(*Z);
    } else {
        *X = tl_dataset_features(w);
    }
done:
    return st;
}

/* A scaled (and, for a dense-only method, dense) copy of X as domain d's rows. */
static tl_status prepare(const tl_pipeline *p, size_t d, const tl_dataset *X, tl_dataset **out) {
    tl_status st = TL_OK;
    *out = NULL;
    TL_CHECK(p && X, TL_ERR_INVALID_ARG, "pipeline: NULL pipeline or rows");
    TL_CHECK(d < p->n, TL_ERR_INVALID_ARG, "pipeline: domain %zu does not exist (it has %zu)", d,
             p->n);
    TL_TRY(tl_dataset_clone(X, out));
    if (tl_dataset_is_sparse(*out) && tl_dataset_cols(*out) < p->dims[d])
        TL_TRY(tl_dataset_set_cols(*out, p->dims[d]));
    TL_CHECK(tl_dataset_cols(*out) == p->dims[d], TL_ERR_SHAPE,
             "'%s' has %zu features, the pipeline's domain %zu has %zu", tl_dataset_name(X),
             tl_dataset_cols(*out), d, p->dims[d]);
    const tl_scaler *s = scaler_of(p, d);
    if (s) TL_TRY(tl_scaler_apply(s, *out));
    if (p->model && (tl_method_needs(tl_model_method(p->model)) & TL_DENSE_ONLY))
        TL_TRY(tl_dataset_densify(*out));
done:
    if (st != TL_OK) {
        tl_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

const int *tl_pipeline_classes(const tl_pipeline *p, size_t *nclasses) {
    if (nclasses) *nclasses = 0;
    if (!p) return NULL;
    if (p->nmembers) return tl_pipeline_classes(p->members[0], nclasses);
    if (model_predicts(p)) return tl_model_classes(p->model, nclasses);
    if (nclasses) *nclasses = tl_learner_nclasses(p->learner);
    return tl_learner_classes(p->learner);
}

tl_status tl_pipeline_scores(const tl_pipeline *p, size_t d, const tl_dataset *X, int *pred,
                             tl_mat *out) {
    tl_status st = TL_OK;
    tl_dataset *w = NULL;
    tl_mat Z = {0, 0, 0, NULL}, S = {0, 0, 0, NULL};
    size_t k = 0;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "pipeline_scores: NULL output");
    TL_TRY(prepare(p, d, X, &w));
    TL_CHECK(tl_pipeline_classes(p, &k) && k > 0, TL_ERR_UNSUPPORTED,
             "pipeline_scores: this pipeline does not predict classes");
    TL_TRY(tl_mat_alloc(&S, tl_dataset_rows(w), k));
    if (tl_dataset_rows(w) == 0) goto done;
    if (p->nmembers) {
        TL_TRY(ensemble_scores(p, d, X, pred, S));
    } else if (model_predicts(p)) { /* the rows scaled once, for the scores and the labels */
        TL_TRY(tl_model_scores(p->model, tl_dataset_features(w), S));
        if (pred) TL_TRY(tl_model_predict(p->model, tl_dataset_features(w), pred));
    } else {
        tl_xmat L;
        TL_TRY(learner_rows(p, d, w, &Z, &L));
        TL_TRY(tl_learner_scores(p->learner, L, S));
        if (pred) TL_TRY(tl_learner_predict(p->learner, L, pred));
    }
done:
    if (st == TL_OK) *out = S;
    else tl_mat_free(&S);
    tl_mat_free(&Z);
    tl_dataset_free(w);
    return st;
}

tl_status tl_pipeline_transform(const tl_pipeline *p, size_t d, const tl_dataset *X, tl_mat *out) {
    tl_status st = TL_OK;
    tl_dataset *w = NULL;
    TL_CHECK(out, TL_ERR_INVALID_ARG, "pipeline_transform: NULL output");
    TL_TRY(prepare(p, d, X, &w));
    TL_CHECK(!p->nmembers, TL_ERR_UNSUPPORTED,
             "a multi-source pipeline has no one shared space (each source has its own): "
             "transform with a single-source pipeline");
    if (p->model && tl_method_family(tl_model_method(p->model)) == TL_FAMILY_FEATURE) {
        TL_TRY(tl_model_transform(p->model, d, tl_dataset_dense(w), out));
    } else {
        TL_TRY(tl_dataset_densify(w));
        TL_TRY(tl_mat_clone(out, tl_dataset_dense(w)));
    }
done:
    tl_dataset_free(w);
    return st;
}

tl_status tl_pipeline_predict(const tl_pipeline *p, size_t d, const tl_dataset *X, int *pred) {
    tl_status st = TL_OK;
    tl_dataset *w = NULL;
    tl_mat Z = {0, 0, 0, NULL};
    TL_CHECK(pred || (X && tl_dataset_rows(X) == 0), TL_ERR_INVALID_ARG,
             "pipeline_predict: NULL output");
    TL_TRY(prepare(p, d, X, &w));
    if (tl_dataset_rows(w) == 0) goto done;
    if (p->nmembers) {
        size_t k = 0;
        tl_pipeline_classes(p, &k);
        TL_TRY(tl_mat_alloc(&Z, tl_dataset_rows(w), k));
        TL_TRY(ensemble_scores(p, d, X, pred, Z));
    } else if (model_predicts(p)) {
        TL_TRY(tl_model_predict(p->model, tl_dataset_features(w), pred));
    } else {
        tl_xmat L;
        TL_TRY(learner_rows(p, d, w, &Z, &L));
        TL_TRY(tl_learner_predict(p->learner, L, pred));
    }
done:
    tl_mat_free(&Z);
    tl_dataset_free(w);
    return st;
}

bool tl_pipeline_is_regression(const tl_pipeline *p) {
    return p && !p->nmembers && !model_predicts(p) && tl_learner_is_regressor(p->learner);
}

tl_status tl_pipeline_predict_values(const tl_pipeline *p, size_t d, const tl_dataset *X,
                                     double *out) {
    tl_status st = TL_OK;
    tl_dataset *w = NULL;
    tl_mat Z = {0, 0, 0, NULL};
    TL_CHECK(out || (X && tl_dataset_rows(X) == 0), TL_ERR_INVALID_ARG,
             "pipeline_predict_values: NULL output");
    TL_CHECK(tl_pipeline_is_regression(p), TL_ERR_STATE,
             "pipeline_predict_values: the pipeline predicts classes, not regression values");
    TL_TRY(prepare(p, d, X, &w));
    if (tl_dataset_rows(w) == 0) goto done;
    tl_xmat L;
    TL_TRY(learner_rows(p, d, w, &Z, &L));
    TL_TRY(tl_learner_predict_values(p->learner, L, out));
done:
    tl_mat_free(&Z);
    tl_dataset_free(w);
    return st;
}

/* ---- the file ---- */

static tl_status scaler_write_fn(const void *s, tl_tlm *c) { return tl_scaler_write(s, c); }
static tl_status learner_write_fn(const void *l, tl_tlm *c) { return tl_learner_write(l, c); }

static tl_status pipeline_write(const void *pv, tl_tlm *c);
tl_status tl_pipeline_save(const tl_pipeline *p, const char *path) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL;
    TL_CHECK(p && path, TL_ERR_INVALID_ARG, "pipeline_save: NULL pipeline or path");
    TL_TRY(tl_tlm_create(&c));
    TL_TRY(pipeline_write(p, c));
    TL_TRY(tl_tlm_save(c, path));
done:
    tl_tlm_free(c);
    return st;
}

/* The pipeline into the container c (a member of a multi-source pipeline nests the same way). */
static tl_status pipeline_write(const void *pv, tl_tlm *c) {
    tl_status st = TL_OK;
    const tl_pipeline *p = pv;
    char buf[64];
    TL_TRY(tl_tlm_set_meta(c, "model", "tl_pipeline"));
    TL_TRY(tl_tlm_set_meta(c, "libtl_version", tl_version()));
    TL_TRY(tl_tlm_set_count(c, "domains", p->n));
    TL_TRY(tl_tlm_set_count(c, "source", p->src));
    TL_TRY(tl_tlm_set_count(c, "target", p->tgt));
    TL_TRY(tl_tlm_set_meta(c, "preprocess_fit", p->sc.on_source ? "source" : "domain"));
    if (p->nnames) { /* one per line: a name holds no line break */
        size_t len = 0;
        for (size_t i = 0; i < p->nnames; i++) len += strlen(p->names[i]) + 1;
        char *joined = NULL;
        TL_ALLOC(joined, len);
        for (size_t i = 0, o = 0; i < p->nnames; i++) {
            size_t l = strlen(p->names[i]);
            memcpy(joined + o, p->names[i], l);
            o += l;
            joined[o++] = i + 1 < p->nnames ? '\n' : '\0';
        }
        st = tl_tlm_set_meta(c, "class_names", joined);
        tl_free(joined);
        if (st != TL_OK) goto done;
    }
    {
        double *dv = NULL;
        TL_ALLOC(dv, p->n ? p->n : 1);
        for (size_t i = 0; i < p->n; i++) dv[i] = (double)p->dims[i];
        size_t dims[1] = {p->n};
        st = tl_tlm_add_tensor(c, "input_dims", TL_DTYPE_F64, 1, dims, dv);
        tl_free(dv);
        if (st != TL_OK) goto done;
    }
    for (size_t i = 0; p->sc.s && i < p->n; i++) {
        if (!p->sc.s[i]) continue;
        snprintf(buf, sizeof buf, "scaler%zu.", i);
        TL_TRY(tlx_write_nested(p->sc.s[i], scaler_write_fn, c, buf));
    }
    if (p->model) TL_TRY(tl_model_write(p->model, c, "method."));
    if (p->learner) TL_TRY(tlx_write_nested(p->learner, learner_write_fn, c, "learner."));
    if (p->nmembers) {
        TL_TRY(tl_tlm_set_count(c, "members", p->nmembers));
        size_t dims[1] = {p->nmembers};
        TL_TRY(tl_tlm_add_tensor(c, "member_weights", TL_DTYPE_F64, 1, dims, p->mweights));
        for (size_t i = 0; i < p->nmembers; i++) {
            snprintf(buf, sizeof buf, "member%zu.", i);
            TL_TRY(tlx_write_nested(p->members[i], pipeline_write, c, buf));
        }
    }
done:
    return st;
}

tl_status tl_pipeline_load(const char *path, tl_pipeline **out) {
    tl_status st = TL_OK;
    tl_tlm *c = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "pipeline_load: NULL path or output");
    *out = NULL;
    TL_TRY(tl_tlm_load(path, &c));
    TL_TRY(tl_pipeline_read(c, path, out));
done:
    tl_tlm_free(c);
    return st;
}

tl_status tl_pipeline_read(const tl_tlm *c, const char *path, tl_pipeline **out) {
    tl_status st = TL_OK;
    tl_tlm *sub = NULL;
    tl_pipeline *p = NULL;
    TL_CHECK(c && out, TL_ERR_INVALID_ARG, "pipeline_read: NULL container or output");
    *out = NULL;
    if (!path) path = "pipeline";
    const char *kind = tl_tlm_get_meta(c, "model");
    TL_CHECK(kind && strcmp(kind, "tl_pipeline") == 0, TL_ERR_FORMAT,
             "%s: holds no pipeline (a '%s' model)", path, kind ? kind : "?");
    TL_CALLOC(p, 1);
    unsigned long long n, src, tgt;
    TL_TRY(tl_tlm_get_count(c, path, "domains", 4096, &n));
    TL_CHECK(n >= 2, TL_ERR_FORMAT, "%s: a pipeline of %llu domains", path, n);
    TL_TRY(tl_tlm_get_count(c, path, "source", n - 1, &src));
    TL_TRY(tl_tlm_get_count(c, path, "target", n - 1, &tgt));
    p->n = (size_t)n;
    p->src = (size_t)src;
    p->tgt = (size_t)tgt;
    const char *pf = tl_tlm_get_meta(c, "preprocess_fit");
    p->sc.on_source = pf && strcmp(pf, "source") == 0;
    const char *cn = tl_tlm_get_meta(c, "class_names");
    if (cn) {
        size_t k = 1;
        for (const char *q = cn; *q; q++) k += *q == '\n';
        TL_CHECK(k <= 1000000, TL_ERR_FORMAT, "%s: %zu class names", path, k);
        TL_CALLOC(p->names, k);
        p->nnames = k;
        const char *q = cn;
        for (size_t i = 0; i < k; i++) {
            const char *e = strchr(q, '\n');
            size_t l = e ? (size_t)(e - q) : strlen(q);
            TL_CHECK(l > 0, TL_ERR_FORMAT, "%s: class name %zu is empty", path, i + 1);
            TL_ALLOC(p->names[i], l + 1);
            memcpy(p->names[i], q, l);
            p->names[i][l] = '\0';
            for (size_t j = 0; j < i; j++)
                TL_CHECK(strcmp(p->names[j], p->names[i]) != 0, TL_ERR_FORMAT,
                         "%s: class name \"%s\" appears twice", path, p->names[i]);
            q = e ? e + 1 : q + l;
        }
    }
    {
        tl_dtype dt;
        size_t nd;
        const size_t *dims;
        const void *data;
        TL_CHECK(tl_tlm_get_tensor(c, "input_dims", &dt, &nd, &dims, &data) == TL_OK &&
                     dt == TL_DTYPE_F64 && nd == 1 && dims[0] == p->n,
                 TL_ERR_FORMAT, "%s: pipeline lacks its input widths", path);
        TL_ALLOC(p->dims, p->n);
        for (size_t i = 0; i < p->n; i++) {
            double v = ((const double *)data)[i];
            TL_CHECK(v >= 1 && v < 2147483648.0, TL_ERR_FORMAT, "%s: input width %g is invalid",
                     path, v);
            p->dims[i] = (size_t)v;
        }
    }
    p->sc.n = p->n;
    TL_CALLOC(p->sc.s, p->n);
    for (size_t i = 0; i < p->n; i++) {
        char pre[48];
        snprintf(pre, sizeof pre, "scaler%zu.", i);
        TL_TRY(tl_tlm_extract(c, pre, &sub));
        if (tl_tlm_get_meta(sub, "model")) TL_TRY(tl_scaler_read(sub, path, &p->sc.s[i]));
        tl_tlm_free(sub);
        sub = NULL;
    }
    if (tl_tlm_get_meta(c, "method.model")) TL_TRY(tl_model_read(c, "method.", path, &p->model));
    TL_TRY(tl_tlm_extract(c, "learner.", &sub));
    if (tl_tlm_get_meta(sub, "model")) TL_TRY(tl_learner_read(sub, path, &p->learner));
    tl_tlm_free(sub);
    sub = NULL;
    if (tl_tlm_get_meta(c, "members")) { /* a multi-source pipeline */
        unsigned long long k;
        TL_TRY(tl_tlm_get_count(c, path, "members", 4096, &k));
        TL_CHECK(k >= 1, TL_ERR_FORMAT, "%s: a multi-source pipeline of no member", path);
        tl_dtype dt;
        size_t nd;
        const size_t *dims;
        const void *data;
        TL_CHECK(tl_tlm_get_tensor(c, "member_weights", &dt, &nd, &dims, &data) == TL_OK &&
                     dt == TL_DTYPE_F64 && nd == 1 && dims[0] == k,
                 TL_ERR_FORMAT, "%s: multi-source pipeline lacks its %llu member weights", path, k);
        TL_CALLOC(p->members, k);
        TL_ALLOC(p->mweights, k);
        p->nmembers = (size_t)k;
        double wsum = 0;
        for (size_t i = 0; i < k; i++) {
            double w = ((const double *)data)[i];
            TL_CHECK(isfinite(w) && w >= 0, TL_ERR_FORMAT, "%s: member weight %g is invalid",
                     path, w);
            p->mweights[i] = w;
            wsum += w;
            char pre[48];
            snprintf(pre, sizeof pre, "member%zu.", i);
            TL_TRY(tl_tlm_extract(c, pre, &sub));
            TL_CHECK(!tl_tlm_get_meta(sub, "members"), TL_ERR_FORMAT,
                     "%s: member %zu is itself a multi-source pipeline", path, i);
            st = tl_pipeline_read(sub, path, &p->members[i]);
            tl_tlm_free(sub);
            sub = NULL;
            if (st != TL_OK) {
                st = tl_fail_prefix(st, "member %zu", i);
                goto done;
            }
            size_t ki = 0, k0 = 0;
            const int *ci = tl_pipeline_classes(p->members[i], &ki),
                      *c0 = tl_pipeline_classes(p->members[0], &k0);
            TL_CHECK(ci && c0 && ki == k0 && memcmp(ci, c0, ki * sizeof *ci) == 0 &&
                         p->members[i]->dims[p->members[i]->tgt] == p->dims[p->tgt],
                     TL_ERR_FORMAT,
                     "%s: member %zu predicts other classes or reads another width than member "
                     "0", path, i);
        }
        TL_CHECK(wsum > 0, TL_ERR_FORMAT, "%s: every member weight is 0", path);
    }
    tl_family fam = p->model ? tl_method_family(tl_model_method(p->model)) : TL_FAMILY_LEARNER;
    TL_CHECK(p->learner || p->nmembers || fam == TL_FAMILY_ENSEMBLE || fam == TL_FAMILY_MODEL,
             TL_ERR_FORMAT, "%s: pipeline lacks its learner", path);
    *out = p;
    p = NULL;
done:
    tl_tlm_free(sub);
    tl_pipeline_free(p);
    return st;
}
