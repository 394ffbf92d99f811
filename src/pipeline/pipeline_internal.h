/* Private pieces shared by the protocol (run.c), the report (report.c) and the fitted pipeline
 * (pipeline.c). */
#ifndef TL_PIPELINE_INTERNAL_H
#define TL_PIPELINE_INTERNAL_H

#include "tl/pipeline.h"

/* The fitted preprocessing of every domain: s[i] is domain i's scaler (NULL: none); with
 * on_source every domain uses the source's. */
typedef struct {
    tl_preprocess pre;
    bool on_source;
    size_t n;
    tl_scaler **s; /* (n) */
} tlx_scalers;
void tlx_scalers_free(tlx_scalers *sc);

/* The sets (NULL entries skipped) brought to one feature width: sparse ones are widened to the
 * widest (svmlight files end at their last non-zero column); a dense one of another width is a
 * TL_ERR_SHAPE naming both sets. Defined in run.c; rank.c aligns its candidates the same way. */
tl_status tlx_common_width(tl_dataset *const *sets, size_t n);

/* Accuracy, balanced accuracy and macro-F1 (n = 0 and NaN when y is NULL or n is 0). */
tl_status tlx_score(const int *y, const int *pred, size_t n, tl_score *out);
/* Regression scores of values v against targets t (n): RMSE, MAE, R^2 (t NULL: not measured). */
tl_status tlx_score_values(const double *t, const double *v, size_t n, tl_score *out);
/* The report's gain and worse_than_baseline from its scores (accuracy, or RMSE for regression). */
void tlx_report_compare(tl_report *r);

/* The report page's data (report_views.c, tl_run_opts.report_views). Confusion matrices of the
 * transfer's labels pred and the no-transfer learner's base against y (n scored rows); nothing
 * when a pointer is NULL or there are more classes than a page can show. */
tl_status tlx_report_confusion(tl_report *r, const int *y, const int *pred, const int *base,
                               size_t n);
/* The 2-D view: source rows S (ns, d) with labels ys and scored rows E (ne, d) with labels ye
 * (either NULL: unknown) before the mapping, Zs (ns, k) and Ze (ne, k) after it (data NULL: no
 * mapping). Sparse rows are laid out from their sparse products, never densified; S and E of
 * two widths (a heterogeneous method; dense only) each on their own axes (view_separate).
 * tsne: the same rows by t-SNE too (tlx_tsne2, seeded with seed). */
tl_status tlx_report_view(tl_report *r, tl_xmat S, const int *ys, tl_xmat E, const int *ye,
                          tl_mat Zs, tl_mat Ze, bool tsne, uint64_t seed);

/* The fitted network's learning curve (tlx_model_curve) into the report: r->curve, and
 * r->curve_domain when an epoch measured deep adaptation's domain loss. Nothing when none. */
tl_status tlx_report_curve(tl_report *r, const tl_model *m);

/* The weights' view: w (ns) the method's weights of the source rows Fs against a logistic domain
 * classifier's p(target | row) fitted on Fs against Ft (seeded with seed), for an even subsample
 * of at most TL_REPORT_VIEW_ROWS source rows. */
tl_status tlx_report_weights(tl_report *r, tl_xmat Fs, tl_xmat Ft, const double *w, size_t ns,
                             uint64_t seed, const tl_ctx *ctx);

/* Each axis of a 2-D layout out (m, 2) flipped so that its largest coordinate is positive: the
 * same run draws the same picture whatever sign an eigen-solver or a start gave. */
void tlx_view_fix_signs(double *out, size_t m);

/* t-SNE (report_tsne.c): out (m, 2) = the rows of X (m, d), m <= 2 * TL_REPORT_VIEW_ROWS, laid out
 * by exact t-SNE with perplexity TLX_TSNE_PERPLEXITY (less for fewer than 91 rows) in iters
 * gradient steps from a start drawn with seed (iters 0: that start). Deterministic. */
#define TLX_TSNE_PERPLEXITY 30.0
#define TLX_TSNE_ITERS 500
tl_status tlx_tsne2(tl_mat X, size_t iters, uint64_t seed, double *out);
/* The same from the rows' Gram matrix G (m, m), which it overwrites with their distances. */
tl_status tlx_tsne2_gram(tl_mat G, size_t iters, uint64_t seed, double *out);

/* A new, empty report (tl_report_free): zeros, and NaN for what only some runs measure
 * (changed_from_no_transfer), so a run reports "not measured" unless it measures it. */
tl_status tlx_report_new(tl_report **out);

/* The descriptive part of a report: names, sizes, what ran. */
tl_status tlx_report_describe(tl_report *r, const tl_task *task, const tl_dataset *eval,
                              const char *method, tl_family family, const char *learner,
                              const tl_run_opts *o, size_t src, size_t tgt);

/* The guard's half on the original spaces (guard.c): the feature correspondence, reverse
 * validation and MMD^2 before the transfer, which need nothing from the method, so a run
 * computes them while the method is fitted. tlx_guard_after finishes tl_guard_check with them
 * (computing them itself when pre is not ready); tl_guard_check is the two in a row. */
typedef struct {
    double correspondence, correspondence_p, rv_before, mmd_before;
    int *pb;       /* (nt) the source model's labels for the target rows, before the transfer */
    size_t ns, nt; /* the rows it was computed on */
    bool ready;
} tlx_guard_pre;
tl_status tlx_guard_before(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                           tlx_guard_pre *pre);
tl_status tlx_guard_after(const tl_guard_params *p, tl_xmat Xs, const int *ys, tl_xmat Xt,
                          tl_xmat Zs, const double *ws, tl_xmat Zt, tlx_guard_pre *pre,
                          tl_guard_report *out);
void tlx_guard_pre_free(tlx_guard_pre *pre);

/* What every run of one task under one set of run options computes the same, whatever the
 * method: the source-only baseline's labels for the evaluation rows and the guard's half on the
 * original spaces. tlx_transfer_run_cached fills it on its first run that uses it (a feature map
 * or a weighting, classes, no labelled target rows, the guard on, the learner's C fixed) and
 * reuses it on the next such runs, which then skip those steps: tl_auto_run scores dozens of
 * candidates on one task, and these steps were a sixth of its time. The figures are those the
 * steps compute again (each seeds its own generator). Valid for one task and one set of options
 * only; free with tlx_run_cache_free. */
typedef struct {
    bool ready;
    int *base_pred; /* (ne) the source-only learner's labels for the evaluation rows */
    size_t ne;
    tlx_guard_pre pre;
} tlx_run_cache;
void tlx_run_cache_free(tlx_run_cache *c);
/* tl_transfer_run with the cache above (NULL: tl_transfer_run itself). */
tl_status tlx_transfer_run_cached(const tl_task *task, const tl_params *method,
                                  const tl_run_opts *opts, tlx_run_cache *cache,
                                  tl_report **report, tl_pipeline **pipeline);

/* The guard's part of a report as "not measured" (NaN, verdict ok, no labelled check), for a
 * run's guard to fill in what it measures. */
void tlx_report_guard_blank(tl_report *r);

/* What the fit settled on (tl_model_info) into the report. */
void tlx_report_info(tl_report *r, const tl_model *m);

/* A pipeline from the run's fitted parts (taken over on success: sc's scalers, model, learner). */
/* The description of a network's run in its report, and its pipeline (run_model.c). */
tl_status tlx_model_report_finish(tl_report *rep, const tl_task *task, const tl_params *method,
                                  const char *source, const char *target, const char *evaluated_on,
                                  const tl_nn *net, tl_model **model, size_t src, size_t tgt,
                                  tl_pipeline **pipe);
/* A multi-source pipeline (two domains: the sources, the target) of k whole per-source pipelines
 * (taken over: members[i] set to NULL) voting with weights w (k); tgt: the task's target. */
tl_status tlx_pipeline_ensemble(tl_pipeline **members, const double *w, size_t k,
                                const tl_task *task, size_t tgt, tl_pipeline **out);
tl_status tlx_pipeline_make(tlx_scalers *sc, tl_model *model, tl_learner *learner,
                            const tl_task *task, size_t src, size_t tgt, tl_pipeline **out);
/* p's preprocessing replaced by *sc (moved: *sc is emptied); sc->n must be p's domain count. */
tl_status tlx_pipeline_set_scalers(tl_pipeline *p, tlx_scalers *sc);
/* Gradual transfer's walk (gradual.c) on a task whose rows are already preprocessed;
 * tl_gradual_run (gradual_prep.c) prepares them and calls it. */
tl_status tlx_gradual_walk(const tl_task *task, const tl_run_opts *opts, const tl_gradual_opts *g,
                           tl_gradual_report **out, tl_pipeline **pipeline);

/* The protocol of the model family (run_model.c), called by tl_transfer_run with its options. */
tl_status tlx_run_model(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                        size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline);
/* Deep domain adaptation's protocol (run_deepda.c): source rows, unlabelled target rows and a
 * starting network; source-only baseline, guard on held-out source rows. */
tl_status tlx_run_deep_da(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                          size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline);

/* The protocol of the heterogeneous methods (run_hetero.c): domains of different widths. */
tl_status tlx_run_hetero(const tl_task *task, const tl_params *method, const tl_run_opts *o,
                         size_t src, size_t tgt, tl_report **report, tl_pipeline **pipeline);

/* A growing text (tl_realloc'd) for the table renderers. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} tlx_text;
void tlx_tprintf(tlx_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hands over the text, or TL_ERR_NOMEM (freed) when any step ran out of memory. */
tl_status tlx_text_end(tlx_text *t, char **out);

/* The measured negative-transfer call, shared by the text report and the HTML one (report_html.c,
 * which has only the JSON's numbers): the transfer's score `got` on n scored rows against the best
 * no-transfer baseline (source_only, target_only: NaN when not measured; accuracy: the higher is
 * best, regression RMSE: the lower), a drop beyond the noise of the two estimates (95 %,
 * unpaired: conservative) called measured. */
typedef struct {
    double best;   /* the best baseline (0 / infinity when none was measured) */
    double noise;  /* 1.96 standard errors of the difference */
    bool measured; /* the drop exceeds the noise */
} tlx_drop;
tlx_drop tlx_negative_drop(bool regression, double got, double source_only, double target_only,
                           size_t n);

/* A CSR copy of dense rows (auto_csr.c), for the probes of tl auto on sparse data. */
#define TLX_CSR_MAX_DENSITY 0.1 /* above this share of non-zero cells, stay dense */
typedef struct {
    size_t *indptr;
    int32_t *indices;
    double *values;
    tl_xmat X; /* the view over the three arrays */
} tlx_csr;
/* Whether X's share of non-zero cells is at most TLX_CSR_MAX_DENSITY. */
bool tlx_csr_worth(tl_mat X);
/* The rows rows[0..m) of X (rows NULL: the first m) as CSR; tlx_csr_free releases it. */
tl_status tlx_csr_rows(tl_mat X, const size_t *rows, size_t m, tlx_csr *out);
void tlx_csr_free(tlx_csr *c);

/* tl auto's network candidates (auto_net.c). tlx_auto_net_run fits a "deep-da" candidate on a
 * task holding source rows (si), target rows (ti) and the network, and gives its report (the
 * target rows' predicted labels; guard not run), its pipeline and the source and target rows in
 * the network's embedding (Zs, Zt: the candidate's space for the criteria). tlx_auto_net_rate:
 * seconds per row of one forward pass, on the clock now(cpu). */
tl_status tlx_auto_net_run(const tl_task *task, size_t si, size_t ti, const tl_params *method,
                           const tl_ctx *ctx, tl_report **report, tl_pipeline **pipeline,
                           tl_mat *Zs, tl_mat *Zt);
tl_status tlx_auto_net_rate(const tl_task *task, size_t si, size_t ti, double (*now)(bool),
                            bool cpu, double *rate);

#endif
