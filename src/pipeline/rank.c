/* Which source to transfer from (tl/pipeline.h): each candidate source scored against the target
 * on copies preprocessed as the options say, then ranked, then rendered.
 *
 * Evidence per source: the RBF MMD^2 to the target with one bandwidth for every source (the
 * median heuristic on the target, at most 2000 of its rows, seeded), so the values compare; the
 * proxy A-distance (Ben-David et al. 2007: a domain classifier's cross-validated error); and,
 * given a few labelled target rows, the transfer estimate: the accuracy on them of the learner
 * trained on the source. Sources rank by the transfer estimate when there is one, else by MMD
 * (smaller is closer); each criterion's own rank is reported beside it. Scoring one source at a
 * time lets a caller load the candidates one by one. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "method_internal.h"
#include "pipeline_internal.h"
#include "tl/json.h"
#include "tl/measure.h"

tl_rank_opts tl_rank_opts_default(void) {
    tl_rank_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.a_distance = true;
    o.folds = 5;
    return o;
}

/* Median-heuristic gamma of the target (at most 2000 rows, seeded), densified in one block. */
static tl_status target_gamma(const tl_dataset *t, uint64_t seed, double *g) {
    tl_status st = TL_OK;
    size_t n = tl_dataset_rows(t), d = tl_dataset_cols(t), s = n < 2000 ? n : 2000;
    size_t *idx = NULL;
    tl_mat S = {0, 0, 0, NULL};
    if (s * d > ((size_t)1 << 24)) s = ((size_t)1 << 24) / d; /* 128 MB at most */
    if (s < 2) s = n < 2 ? n : 2;
    TL_ALLOC(idx, n ? n : 1);
    TL_TRY(tl_mat_alloc(&S, s, d));
    for (size_t i = 0; i < n; i++) idx[i] = i;
    tl_rng r;
    tl_rng_seed(&r, seed);
    if (s < n) tl_rng_shuffle(&r, idx, n);
    tl_xmat X = tl_dataset_features(t);
    for (size_t i = 0; i < s; i++) TL_TRY(tl_xmat_rows_dense(X, idx[i], 1, tl_mat_rows(S, i, 1)));
    TL_TRY(tl_kernel_median_gamma(S, seed, g));
done:
    tl_free(idx);
    tl_mat_free(&S);
    return st;
}

tl_status tl_source_score_compute(const tl_dataset *source, const tl_dataset *target,
                                  const tl_dataset *labelled, const tl_rank_opts *opts,
                                  tl_source_score *out) {
    tl_status st = TL_OK;
    tl_dataset *src = NULL, *tgt = NULL, *lab = NULL;
    tl_scaler *ss = NULL, *ts = NULL;
    tl_params *def = NULL;
    tl_learner *l = NULL;
    int *pred = NULL;
    tl_rank_opts o = tl_rank_opts_default();
    if (opts) memcpy(&o, opts, opts->struct_size && opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    uint64_t seed = tlx_seed(o.ctx);
    TL_CHECK(source && target && out, TL_ERR_INVALID_ARG, "source_score: NULL argument");
    out->n = tl_dataset_rows(source);
    out->mmd = out->a_distance = out->transfer_accuracy = NAN;
    TL_CHECK(out->n > 0, TL_ERR_EMPTY, "source '%s' is empty", tl_dataset_name(source));
    TL_CHECK(tl_dataset_rows(target) > 0, TL_ERR_EMPTY, "target '%s' is empty",
             tl_dataset_name(target));
    TL_TRY(tl_dataset_clone(source, &src));
    TL_TRY(tl_dataset_clone(target, &tgt));
    if (labelled) TL_TRY(tl_dataset_clone(labelled, &lab));
    tl_dataset *all[3] = {src, tgt, lab};
    TL_TRY(tlx_common_width(all, 3));
    if (o.preprocess.nsteps) {
        TL_TRY(tl_scaler_fit(&o.preprocess, src, &ss));
        if (!o.preprocess_on_source) TL_TRY(tl_scaler_fit(&o.preprocess, tgt, &ts));
        TL_TRY(tl_scaler_apply(ss, src));
        TL_TRY(tl_scaler_apply(ts ? ts : ss, tgt));
        if (lab) TL_TRY(tl_scaler_apply(ts ? ts : ss, lab));
    }
    tl_mmd_params mp = tl_mmd_params_default();
    mp.seed = seed;
    st = target_gamma(tgt, seed, &mp.gamma);
    if (st != TL_OK) {
        st = tl_fail_prefix(st, "bandwidth of '%s'", tl_dataset_name(target));
        goto done;
    }
    tl_mmd_result mr;
    TL_TRY(tl_mmd(&mp, tl_dataset_features(src), tl_dataset_features(tgt), &mr));
    out->mmd = mr.mmd2;
    if (o.a_distance) {
        size_t nmin = out->n < tl_dataset_rows(tgt) ? out->n : tl_dataset_rows(tgt), kf = o.folds;
        if (nmin >= 2 && kf > nmin) kf = nmin; /* tiny domains: fewer folds */
        TL_TRY(tl_proxy_a_distance(tl_dataset_features(src), tl_dataset_features(tgt), kf, 1.0, seed,
                                   &out->a_distance));
    }
    if (lab) {
        size_t nl = tl_dataset_rows(lab);
        TL_CHECK(tl_dataset_has_labels(src), TL_ERR_LABEL,
                 "source '%s' has no labels: the transfer estimate needs them",
                 tl_dataset_name(source));
        TL_CHECK(tl_dataset_has_labels(lab), TL_ERR_LABEL,
                 "'%s' has no labels: the transfer estimate needs labelled target rows",
                 tl_dataset_name(labelled));
        const tl_params *lp = o.learner;
        if (!lp) {
            TL_TRY(tl_params_create(tl_method_find("1nn", TL_FAMILY_LEARNER), &def));
            lp = def;
        }
        tl_learner_params lpp;
        TL_TRY(tlx_learner_params(lp, o.ctx, &lpp));
        TL_ALLOC(pred, nl ? nl : 1);
        TL_TRY(tl_learner_create(&lpp, &l));
        TL_TRY(tl_learner_fit(l, tl_dataset_features(src), tl_dataset_labels_const(src), NULL));
        TL_TRY(tl_learner_predict(l, tl_dataset_features(lab), pred));
        out->transfer_accuracy = tl_accuracy(tl_dataset_labels_const(lab), pred, nl);
    }
done:
    if (st != TL_OK) tl_fail_prefix(st, "scoring source '%s'", tl_dataset_name(source));
    tl_dataset_free(src);
    tl_dataset_free(tgt);
    tl_dataset_free(lab);
    tl_scaler_free(ss);
    tl_scaler_free(ts);
    tl_params_free(def);
    tl_learner_free(l);
    tl_free(pred);
    return st;
}

/* Rank (1 = best) of each entry by key, ascending or descending; NaN keys rank last; ties by
 * position. */
static void rank_by(tl_source_score *s, size_t n, size_t off, bool asc, size_t roff) {
    for (size_t i = 0; i < n; i++) {
        double vi = *(const double *)((const char *)&s[i] + off);
        int k = 1;
        for (size_t j = 0; j < n; j++) {
            double vj = *(const double *)((const char *)&s[j] + off);
            if (isnan(vj)) continue;
            if (isnan(vi) || (asc ? vj < vi : vj > vi) || (vj == vi && j < i)) k++;
        }
        *(int *)((char *)&s[i] + roff) = k;
    }
}

void tl_sources_rank(tl_source_score *s, size_t n) {
    bool by_transfer = false;
    for (size_t i = 0; i < n; i++) by_transfer |= !isnan(s[i].transfer_accuracy);
    rank_by(s, n, offsetof(tl_source_score, mmd), true, offsetof(tl_source_score, rank_mmd));
    rank_by(s, n, offsetof(tl_source_score, a_distance), true,
            offsetof(tl_source_score, rank_a_distance));
    rank_by(s, n, offsetof(tl_source_score, transfer_accuracy), false,
            offsetof(tl_source_score, rank_transfer));
    for (size_t i = 0; i < n; i++) s[i].rank = by_transfer ? s[i].rank_transfer : s[i].rank_mmd;
}

/* Positions in the order of the final rank. */
static size_t *order(const tl_source_score *s, size_t n) {
    size_t *ord = tl_malloc((n ? n : 1) * sizeof *ord);
    if (ord)
        for (size_t k = 0; k < n; k++) ord[(size_t)s[k].rank - 1] = k;
    return ord;
}

tl_status tl_ranking_json(const tl_source_score *s, const char *const *names, size_t n,
                          const char *target, const char *labelled, const tl_rank_opts *o,
                          double seconds, char **out) {
    size_t *ord = order(s, n);
    if (!ord) return tl_fail(TL_ERR_NOMEM, "ranking: out of memory");
    tl_rank_opts d = tl_rank_opts_default();
    if (!o) o = &d;
    char pre[64];
    tl_preprocess_format(&o->preprocess, pre, sizeof pre);
    tl_json j;
    tl_json_begin(&j);
    tl_json_str(&j, "command", "rank-sources");
    tl_json_str(&j, "target", target);
    tl_json_str(&j, "target_labelled", labelled);
    tl_json_str(&j, "ranked_by", labelled ? "transfer_accuracy" : "mmd_rbf");
    tl_json_str(&j, "preprocess", pre);
    tl_json_str(&j, "preprocess_fit", o->preprocess_on_source ? "source" : "domain");
    tl_json_arr_begin(&j, "ranking");
    for (size_t q = 0; q < n; q++) {
        const tl_source_score *r = &s[ord[q]];
        tl_json_obj_begin(&j, NULL);
        tl_json_int(&j, "rank", r->rank);
        tl_json_str(&j, "source", names[ord[q]]);
        tl_json_int(&j, "n", (long long)r->n);
        tl_json_num(&j, "mmd_rbf", r->mmd);
        tl_json_int(&j, "rank_mmd_rbf", r->rank_mmd);
        tl_json_num(&j, "a_distance", r->a_distance);
        if (isnan(r->a_distance))
            tl_json_null(&j, "rank_a_distance");
        else
            tl_json_int(&j, "rank_a_distance", r->rank_a_distance);
        tl_json_num(&j, "transfer_accuracy", r->transfer_accuracy);
        if (isnan(r->transfer_accuracy))
            tl_json_null(&j, "rank_transfer_accuracy");
        else
            tl_json_int(&j, "rank_transfer_accuracy", r->rank_transfer);
        tl_json_obj_end(&j);
    }
    tl_json_arr_end(&j);
    tl_json_num(&j, "seconds", seconds);
    tl_free(ord);
    tl_status st = tl_json_end(&j, out);
    return st == TL_OK ? st : tl_fail(st, "ranking: out of memory");
}

tl_status tl_ranking_text(const tl_source_score *s, const char *const *names, size_t n,
                          const char *target, const char *labelled, double seconds, char **out) {
    size_t *ord = order(s, n);
    if (!ord) return tl_fail(TL_ERR_NOMEM, "ranking: out of memory");
    tlx_text t = {NULL, 0, 0, false};
    tlx_tprintf(&t, "target %s%s%s; ranked by %s\n", target, labelled ? ", labelled rows " : "",
                labelled ? labelled : "",
                labelled ? "the transfer estimate (accuracy on the labelled target rows)"
                         : "RBF MMD (smaller = closer)");
    tlx_tprintf(&t, "%-4s  %-12s %-12s %-14s %s  source\n", "rank", "MMD^2 rbf", "A-distance",
                labelled ? "transfer acc" : "", "");
    for (size_t q = 0; q < n; q++) {
        const tl_source_score *r = &s[ord[q]];
        char ad[32] = "-", acc[32] = "";
        if (!isnan(r->a_distance)) snprintf(ad, sizeof ad, "%.3f (#%d)", r->a_distance, r->rank_a_distance);
        if (!isnan(r->transfer_accuracy))
            snprintf(acc, sizeof acc, "%.2f%% (#%d)", 100 * r->transfer_accuracy, r->rank_transfer);
        tlx_tprintf(&t, "%-4d  %-12.5g %-12s %-14s   %s (%zu samples, MMD #%d)\n", r->rank, r->mmd,
                    ad, acc, names[ord[q]], r->n, r->rank_mmd);
    }
    tlx_tprintf(&t, "time %.3f s\n", seconds);
    tl_free(ord);
    return tlx_text_end(&t, out);
}
