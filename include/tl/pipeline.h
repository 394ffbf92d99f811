/* libtl transfer pipeline: the task (any number of domains), the protocol that every transferring
 * command runs, the report it returns, and the fitted pipeline it builds.
 *
 * A task is a list of domains, each with its own data, its own feature width and a role (source,
 * target, intermediate); a domain may also hold a few labelled rows and a held-out test set.
 * Methods index their per-domain stages by the domain's position in the task.
 *
 * tl_transfer_run is the protocol, written once: preprocess every domain (statistics fitted per
 * domain, or on the source and applied to all) -> score the no-transfer baselines with the same
 * learner (source only; target only and source + target pooled when labelled target rows exist)
 * -> fit the method -> map or weight -> train the learner -> score the evaluation rows -> run
 * the negative-transfer guard (tl/guard.h) -> report, with the time of each stage. The fitted
 * pipeline (preprocessing with its fitted state -> mapping or weights -> learner) comes back as
 * one object that predicts new samples of any domain and saves to one .tlm file.
 *
 * A report renders to the documented JSON (docs/report.md, docs/report.schema.json) or to the
 * table the commands print; every command that transfers uses the same keys. */
#ifndef TL_PIPELINE_H
#define TL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/data.h"
#include "tl/guard.h"
#include "tl/method.h"
#include "tl/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the task ---- */
/* What a domain is to the transfer. */
typedef enum {
    TL_ROLE_SOURCE = 0,      /* labelled data to learn from */
    TL_ROLE_TARGET = 1,      /* the domain to predict */
    TL_ROLE_INTERMEDIATE = 2 /* a step between them */
} tl_role;
const char *tl_role_name(tl_role r); /* "source", "target", "intermediate" */

tl_status tl_task_create(tl_task **out); /* an empty task */
void tl_task_free(tl_task *t); /* NULL-safe; frees only what the task made itself */
/* Adds a domain (the dataset is borrowed: it must outlive the task). *index (may be NULL)
 * receives its position. */
tl_status tl_task_add(tl_task *t, tl_role role, tl_dataset *data, size_t *index);
/* A domain known by a trained network instead of rows (the source of a fine-tuning; borrowed;
 * name: its file, for reports). */
tl_status tl_task_add_network(tl_task *t, tl_role role, tl_nn *net, const char *name,
                              size_t *index);
tl_nn *tl_task_network(const tl_task *t, size_t i); /* NULL when the domain has rows */
const char *tl_task_name(const tl_task *t, size_t i); /* its rows' name, or its network's */
/* A few labelled rows of a domain (borrowed), used for training and by the guard. */
tl_status tl_task_set_labelled(tl_task *t, size_t domain, tl_dataset *rows);
/* Held-out rows of a domain (borrowed), scored instead of the domain's own rows. */
tl_status tl_task_set_test(tl_task *t, size_t domain, tl_dataset *rows);
/* Data-parallel (src/dist/): the task's domains hold this process's block of rows of a job
 * whose processes comm joins (borrowed; NULL: one process). The networks of the model family
 * (fine-tuning, deep-da with dann) train over the job; held-out test rows stay whole on every
 * process. */
void tl_task_set_comm(tl_task *t, const tl_nn_comm *comm);
const tl_nn_comm *tl_task_comm(const tl_task *t);
/* Draws labelled rows out of a domain's own (labelled) rows, seeded: per_class > 0 draws up to
 * that many of each class, else `count` rows at random. The drawn rows become the domain's
 * labelled rows; when the domain has no test set, the other rows become it (so the drawn rows
 * are never scored). The domain's rows stay as they are (a transductive method still sees all
 * of them, unlabelled). The task owns the new sets. */
tl_status tl_task_draw_labelled(tl_task *t, size_t domain, size_t per_class, size_t count,
                                uint64_t seed);
size_t tl_task_count(const tl_task *t);
tl_role tl_task_role(const tl_task *t, size_t i);
tl_dataset *tl_task_data(const tl_task *t, size_t i);
tl_dataset *tl_task_labelled(const tl_task *t, size_t i); /* NULL when none */
tl_dataset *tl_task_test(const tl_task *t, size_t i);     /* NULL when none */
/* Position of the k-th domain with the role, or -1. */
long tl_task_find(const tl_task *t, tl_role role, size_t k);
size_t tl_task_count_role(const tl_task *t, tl_role role);

/* ---- the protocol ---- */
/* How tl_transfer_run runs (tl_run_opts_default, then change what you need). */
typedef struct {
    size_t struct_size;      /* sizeof(tl_run_opts) of the caller's header: set by
                                tl_run_opts_default; fields added later default when absent */
    const tl_params *learner;/* the learner (a method of the learner family) and its parameters;
                                NULL: 1-NN */
    tl_preprocess preprocess;/* scaling steps (default none) */
    bool preprocess_on_source; /* fit the scaling on the (first) source and apply it to every
                                  domain; default false: each domain scaled with its own
                                  statistics (labelled and test rows use their domain's) */
    bool guard;              /* run the negative-transfer guard (default true) */
    const tl_guard_params *guard_params; /* its settings (NULL: tl_guard_params_default(); a
                                            program sets them with TL_STATIC_LINKING_ONLY);
                                            .learner is replaced by the run's learner */
    bool allow_unknown_labels; /* score evaluation labels the source lacks as errors (default
                                  false: TL_ERR_LABEL naming the first such row) */
    bool in_place;           /* preprocess the task's datasets in place instead of copies (the
                                caller gives up their raw values; saves memory) */
    bool keep_embeddings;    /* feature family: the report keeps every domain's rows mapped */
    bool scratch_baseline;   /* model family: train the same architecture from scratch on the
                                same rows as the target-only baseline (default true) */
    const tl_ctx *ctx;       /* threads, log, progress; NULL: defaults */
    bool report_views;       /* also measure what the report page draws (tl_report_render): the
                                confusion matrices and the 2-D view of the domains before and after
                                the mapping (default false: a PCA the run does not need) */
    bool report_tsne;        /* with report_views, the same rows laid out by t-SNE too (exact,
                                perplexity 30, seeded by ctx; default false: O(m^2) per step) */
} tl_run_opts;
tl_run_opts tl_run_opts_default(void); /* the defaults above */

/* Accuracy, balanced accuracy and macro-F1 of predictions on n rows (n = 0: not measured); for
 * regression targets the root-mean-square error, the mean absolute error and R^2 instead (the
 * other three NaN; and the other way round for classes). */
typedef struct {
    double accuracy;          /* share right */
    double balanced_accuracy; /* mean per-class recall */
    double macro_f1;          /* mean per-class F1 */
    size_t n;                 /* rows scored (0: not measured) */
    double rmse;              /* regression: root-mean-square error */
    double mae;               /* regression: mean absolute error */
    double r2;                /* regression: R^2 */
} tl_score;

#define TL_REPORT_MAX_INFO 16 /* what-the-fit-settled-on entries a report holds at most */
#define TL_REPORT_MAX_SEARCH 4  /* parameters one model selection searches jointly, at most */
#define TL_REPORT_MAX_GRID 16   /* values tried of each */
/* The model selection a method ran itself (deep-da: lambda x lr by reverse validation): every
 * value tried of each parameter searched jointly, and the setting chosen. */
typedef struct {
    const char *criterion; /* "reverse validation"; NULL: no search ran (values were given) */
    double score;          /* the chosen setting's criterion (a risk: lower is better) */
    size_t n_params;       /* parameters searched jointly */
    const char *param[TL_REPORT_MAX_SEARCH];                     /* "lambda", "lr" */
    size_t n_values[TL_REPORT_MAX_SEARCH];                       /* values tried of each */
    double values[TL_REPORT_MAX_SEARCH][TL_REPORT_MAX_GRID];     /* the values */
    double chosen[TL_REPORT_MAX_SEARCH];                         /* the one chosen of each */
} tl_report_search;
/* Everything a transfer measured (the commands print it; tl_report_json renders it). */
typedef struct {
    /* what ran */
    const char *method;     /* registry name, "none" without a method */
    tl_params *params;      /* the method's parameters as used (NULL without a method) */
    tl_family family;       /* its family */
    const char *learner;    /* "1nn", "5nn", "logreg", ... */
    char preprocess[64];    /* "rowsum,zscore" or "none" */
    bool preprocess_on_source; /* the scaling was fitted on the source for every domain */
    const char *source;     /* the first source's name */
    const char *target;     /* the first target's name */
    const char *evaluated_on; /* the scored rows' name */
    size_t n_source;        /* source rows */
    size_t n_target;        /* target rows */
    size_t n_labelled;      /* labelled target rows */
    size_t n_eval;          /* scored rows */
    size_t n_domains;       /* domains of the task */
    /* results on the evaluation rows */
    tl_score result;        /* the transfer */
    tl_score source_only;   /* the no-transfer baseline: the learner on the source alone */
    tl_score target_only;   /* the learner on the labelled target rows alone (n = 0: none) */
    tl_score pooled;        /* on source + labelled target rows, unweighted (n = 0: none) */
    bool regression;        /* the source held regression targets: the scores are RMSE, MAE, R^2
                               and predicted_values holds the predictions */
    double gain;            /* result - source_only accuracy; regression: source_only RMSE -
                               result RMSE (in the targets' unit; positive is better) */
    bool worse_than_baseline; /* result below a no-transfer baseline (source or target only);
                                 regression: a larger RMSE */
    /* the guard */
    bool guarded;           /* false with opts.guard off */
    bool negative_transfer; /* the guard's verdict: harmful without labels, or on the labelled
                               rows */
    tl_guard_report guard;  /* the label-free evidence (what the family allows; NaN = not
                               measured) */
    bool labelled_checked;  /* the labelled check ran */
    tl_guard_labelled_report labelled; /* the check on the labelled target rows */
    double labelled_transfer_accuracy;  /* the source model on those rows */
    /* what the fit settled on (tl_model_info) */
    size_t n_info;          /* entries below */
    const char *info_key[TL_REPORT_MAX_INFO];  /* "dim", "gamma", ... */
    double info_value[TL_REPORT_MAX_INFO];     /* their values */
    const char *arch;       /* model family: the trained network's architecture (else NULL) */
    /* instance family: the weights' spread */
    double weight_min;      /* the smallest weight */
    double weight_max;      /* the largest weight */
    double effective_sample_size; /* Kish's (sum w)^2 / sum w^2 */
    size_t weight_zeros;    /* rows weighted 0 */
    /* seconds */
    double seconds_preprocess; /* scaling */
    double seconds_baseline;   /* the no-transfer baselines */
    double seconds_method;     /* fitting the method */
    double seconds_learner;    /* the learner on its output */
    double seconds_guard;      /* the guard */
    double seconds_total;      /* the whole run */
    /* outputs */
    int *predictions;       /* (n_eval) the transfer's predicted labels of the evaluation rows
                               (NULL for regression) */
    double *predicted_values; /* regression: (n_eval) the predicted values, else NULL */
    tl_mat *embedded;       /* (n_domains) each domain's rows mapped (keep_embeddings), else NULL */
    tl_mat embedded_eval;   /* the evaluation rows mapped (keep_embeddings), else empty */
    /* the learner the user gets (on the method's output, else the baseline's): logreg / svm's C
     * (NaN for the others), whether cross-validation chose it and its CV accuracy, and whether
     * the solver converged (false: it stopped at max-iter) */
    double learner_C;            /* logreg / svm: the C used (NaN for the others) */
    double learner_cv_accuracy;  /* the cross-validation's best accuracy, when C was chosen */
    bool learner_C_auto;         /* C was chosen by cross-validation */
    bool learner_converged;      /* false: the solver stopped at max-iter */
    bool learner_fitted; /* false for an ensemble or a network, which have no such learner */
    /* the share of the scored rows whose class the transfer changed from the no-transfer
     * learner's (source only): what an unlabelled target can still be told; NaN when not
     * measured (regression, labelled target rows in training, no method) */
    double changed_from_no_transfer;
    /* what the report page draws (opts.report_views; classification only, else 0 / NULL) */
    size_t n_classes;          /* classes of the confusion matrices (0: none) */
    int *classes;              /* (n_classes) their labels, ascending */
    size_t *confusion;         /* (n_classes, n_classes) the transfer on the scored rows: row the
                                  true class, column the predicted one */
    size_t *confusion_baseline;/* (n_classes, n_classes) the no-transfer learner (source only) */
    size_t n_view;             /* rows of the 2-D view (0: none): an even subsample of the source
                                  and of the scored rows, at most TL_REPORT_VIEW_ROWS of each */
    double *view_before;       /* (n_view, 2) those rows as the learner saw them without transfer,
                                  projected on their pooled first two principal axes */
    double *view_after;        /* (n_view, 2) the same rows mapped by the method, projected on the
                                  mapped rows' own two axes (NULL: the method maps no rows) */
    int *view_domain;          /* (n_view) 0 source, 1 target */
    int *view_class;           /* (n_view) each row's label; -1 where the row has none */
    size_t n_curve;            /* epochs of the learning curve (0: none; a network's training) */
    double *curve;             /* (n_curve, 4) per epoch: training loss, training accuracy,
                                  validation loss, validation accuracy (NaN: not measured) */
    double *tsne_before;       /* (n_view, 2) the view's rows laid out by t-SNE (opts.report_tsne;
                                  NULL: not asked) */
    double *tsne_after;        /* (n_view, 2) the mapped rows laid out by t-SNE (NULL: not asked,
                                  or the method maps no rows) */
    size_t n_wview;            /* instance weighting (report_views): source rows of the weights'
                                  view, an even subsample of at most TL_REPORT_VIEW_ROWS (0: none) */
    double *wview_weight;      /* (n_wview) each row's weight from the method */
    double *wview_target_prob; /* (n_wview) a logistic domain classifier's p(target | row) */
    bool view_separate;        /* view_before (and tsne_before) lays out each domain on its own
                                  axes: a heterogeneous method's two feature spaces */
    double *curve_domain;      /* (n_curve) deep adaptation: the domain loss per epoch before its
                                  lambda weight (tl_nn_epoch.domain_loss); NULL otherwise */
    tl_report_search search;   /* the method's own model selection (criterion NULL: none) */
} tl_report;
#define TL_REPORT_VIEW_ROWS 300 /* rows of each domain in the report's 2-D view, at most */

/* A fitted pipeline: each domain's scaling, the method's map or weights, the learner. */
typedef struct tl_pipeline tl_pipeline;

/* Runs the protocol on the task. method: the method and its parameters (NULL: no transfer, the
 * learner alone). The first source and the first target are the pair a single-source method
 * uses; the evaluation rows are the target's test set when it has one, else its own rows. Writes
 * *report (free with tl_report_free) and, when pipeline is not NULL, the fitted pipeline. On
 * failure nothing is written and the message names the stage. With a feature map, no labelled
 * target rows and OpenBLAS allowed two or more threads, the source-only baseline and the guard's
 * measures of the original spaces run on a second thread while the map is fitted (OpenBLAS
 * single-threaded meanwhile, its count restored after); the figures are those of the same steps
 * in turn, and seconds_baseline / seconds_guard still count each stage's own time. */
tl_status tl_transfer_run(const tl_task *task, const tl_params *method, const tl_run_opts *opts,
                          tl_report **report, tl_pipeline **pipeline);
void tl_report_free(tl_report *r);
/* The report as the documented JSON object (one line plus newline) or the table the commands
 * print; `command` becomes the "command" key / is left out when NULL. *out is allocated with
 * tl_malloc. */
tl_status tl_report_json(const tl_report *r, const char *command, char **out);
tl_status tl_report_text(const tl_report *r, char **out);
/* Which no-transfer baseline the transfer fell below: TL_BASELINE_SOURCE_ONLY (checked first; for
 * a network, the pre-trained one as it is), TL_BASELINE_TARGET_ONLY (a network: trained from
 * scratch), or TL_BASELINE_NONE when it is not worse. */
typedef enum { TL_BASELINE_NONE, TL_BASELINE_SOURCE_ONLY, TL_BASELINE_TARGET_ONLY } tl_baseline;
tl_baseline tl_report_beaten_baseline(const tl_report *r); /* as said above */
/* What tl_report_render draws. */
typedef enum {
    TL_REPORT_HTML = 0, /* one self-contained page: inline SVG and CSS, no script, nothing fetched */
    TL_REPORT_SVG = 1   /* the figures alone (results against the baselines, the guard's evidence) */
} tl_report_format;
/* A saved report - the JSON of tl_report_json or tl_multi_report_json, as `tl adapt --json`
 * prints it - rendered for people: the transfer next to every baseline the run measured, the
 * guard's evidence, a negative transfer called out (MEASURED beyond the scored rows' noise, or
 * LIKELY from the guard alone). len bytes of json; *out NUL-terminated, tl_malloc'd.
 * TL_ERR_FORMAT naming the line and column for text that is not JSON, or the missing key for a
 * JSON document that is no transfer report; TL_ERR_UNSUPPORTED for SVG of a multi-source run. */
tl_status tl_report_render(const char *json, size_t len, tl_report_format fmt, char **out);
/* The same from a file: errors name it ("run.json: JSON line 3, column 7: ..."). */
tl_status tl_report_render_file(const char *path, tl_report_format fmt, char **out);

/* ---- which source to transfer from ---- */
/* How sources are scored (tl_rank_opts_default, then change what you need). */
typedef struct {
    size_t struct_size;       /* sizeof(tl_rank_opts), set by tl_rank_opts_default */
    tl_preprocess preprocess; /* applied to copies of each source and the target */
    bool preprocess_on_source;/* fit the scaling on each source and apply it to the target too */
    bool a_distance;          /* compute the proxy A-distance (the slowest measure; default on) */
    size_t folds;             /* A-distance cross-validation folds (default 5) */
    const tl_params *learner; /* for the transfer estimate on labelled target rows; NULL: 1-NN */
    const tl_ctx *ctx;        /* seed, threads; NULL: defaults */
} tl_rank_opts;
tl_rank_opts tl_rank_opts_default(void); /* the defaults above */

/* One candidate source's evidence: RBF MMD^2 to the target (one bandwidth for every source: the
 * median heuristic on the target, so the values compare), the proxy A-distance, and with
 * labelled target rows the accuracy on them of the learner trained on the source (the transfer
 * estimate). Ranks: 1 = best (smallest distance, highest accuracy; NaN last). */
typedef struct {
    size_t n;                 /* source rows */
    double mmd;               /* RBF MMD^2 to the target; NaN when not measured */
    double a_distance;        /* proxy A-distance; NaN when not measured */
    double transfer_accuracy; /* on the labelled target rows; NaN when not measured */
    int rank_mmd;             /* rank by MMD */
    int rank_a_distance;      /* rank by A-distance */
    int rank_transfer;        /* rank by the transfer estimate */
    int rank;                 /* the final rank */
} tl_source_score;
/* Scores one source (raw rows; the options' preprocessing is applied to copies). labelled may
 * be NULL. The caller keeps every dataset. */
tl_status tl_source_score_compute(const tl_dataset *source, const tl_dataset *target,
                                  const tl_dataset *labelled, const tl_rank_opts *o,
                                  tl_source_score *out);
/* Fills the ranks of n scored sources; the final rank follows the transfer estimate when there
 * is one, else MMD. */
void tl_sources_rank(tl_source_score *s, size_t n);
/* The ranking as the documented JSON (command "rank-sources") or a table; names (n) label the
 * sources. *out allocated with tl_malloc. */
tl_status tl_ranking_json(const tl_source_score *s, const char *const *names, size_t n,
                          const char *target, const char *labelled, const tl_rank_opts *o,
                          double seconds, char **out);
tl_status tl_ranking_text(const tl_source_score *s, const char *const *names, size_t n,
                          const char *target, const char *labelled, double seconds, char **out);

/* ---- several sources ----
 * tl_multisource_run: every source of the task (two or more, one label set) transferred to the
 * target on its own with the protocol above (its own baselines and guard verdict), then
 * combined: POOL runs the method once on the kept sources stacked; VOTE takes the majority of
 * the kept sources' predictions; WEIGHTED weights each kept source's vote, by its accuracy on
 * the labelled target rows above chance when the task has them, else by the guard's
 * source-side validation (reverse-validation accuracy after transfer, above chance; 1 / MMD^2
 * where that was not measured). With drop_harmful, a source whose guard verdict is negative
 * transfer is dropped, with the reason kept (all sources harmful: none is dropped, and the
 * report says so). Sources with different label sets are refused (TL_ERR_LABEL naming them). */
/* How several sources' predictions are combined. */
typedef enum { TL_COMBINE_POOL = 0, TL_COMBINE_VOTE = 1, TL_COMBINE_WEIGHTED = 2 } tl_combine;
const char *tl_combine_name(tl_combine c); /* "pool", "vote", "weighted" */
tl_status tl_combine_parse(const char *s, tl_combine *out); /* the names back */
/* What tl_multisource_run measured. */
typedef struct {
    size_t n_sources;      /* sources in the task */
    const char **names;    /* (n_sources) the sources' dataset names */
    tl_report **single;    /* (n_sources) each source's own run */
    double *weight;        /* (n_sources) weight in the combination (0: dropped; 1 for pool/vote) */
    bool *dropped;         /* (n_sources) dropped as harmful */
    char (*why)[520];      /* (n_sources) why a source was dropped ("" otherwise) */
    bool all_harmful;      /* every source was judged harmful: none was dropped */
    tl_combine combine;    /* how they were combined */
    tl_report *pooled;     /* POOL: the run on the kept sources stacked; else NULL */
    tl_score result;       /* the combination on the evaluation rows */
    tl_score target_only;  /* the learner on the labelled target rows alone (n = 0: none) */
    int *predictions;      /* (n_eval) */
    size_t n_eval;         /* evaluation rows */
    double seconds;        /* the whole run */
} tl_multi_report;
/* Runs it (as described above); *out freed with tl_multi_report_free. */
tl_status tl_multisource_run(const tl_task *task, const tl_params *method,
                             const tl_run_opts *opts, tl_combine combine, bool drop_harmful,
                             tl_multi_report **out);
/* The same, and (pipeline not NULL) the fitted multi-source pipeline: two domains (0: the
 * sources, 1: the target) whose target rows are predicted by the kept sources' own pipelines
 * voting with their weights (POOL: the pooled run's pipeline alone); saves and loads like any
 * pipeline (tl_pipeline_save), predicts and scores target rows (vote shares); it has no one
 * shared space, so tl_pipeline_transform refuses it. */
tl_status tl_multisource_fit(const tl_task *task, const tl_params *method,
                             const tl_run_opts *opts, tl_combine combine, bool drop_harmful,
                             tl_multi_report **out, tl_pipeline **pipeline);
void tl_multi_report_free(tl_multi_report *r); /* NULL-safe */
/* The report as a table or as JSON (command "adapt", key "sources": one object per source). */
tl_status tl_multi_report_text(const tl_multi_report *r, char **out);
tl_status tl_multi_report_json(const tl_multi_report *r, const char *command, char **out);

/* ---- through intermediate domains ----
 * tl_gradual_run: gradual self-training (Kumar, Ma & Liang, ICML 2020) from the task's source,
 * through its intermediate domains (TL_ROLE_INTERMEDIATE, unlabelled rows), to its target. The
 * run's learner is trained on the source; at each step it labels the next domain, and a fresh
 * learner is trained on the `keep` share of those rows it is most confident about. The
 * intermediates are walked in task order, or (choose_path) treated as a pool from which the
 * path is chosen by domain distances: the cheapest source -> target path when a hop costs
 * MMD^power (RBF MMD, one bandwidth for every pair), so the path follows the shift in short steps
 * and skips domains that shorten nothing. Scored beside it on the same evaluation rows (the
 * target's test set, else its own labelled rows): the learner on the source alone, and direct
 * self-training (one step, source -> target). The guard: the source's feature correspondence to
 * the target and collapse of the final predictions (label entropy below half the source's) are
 * harmful (tl/guard.h); with labelled target rows, tl_guard_labelled on the final model. The
 * run options' preprocessing is fitted as tl_transfer_run fits it (each domain on its own rows,
 * or the source's for all with preprocess_on_source) before the walk. The pipeline (when asked
 * for) is the scalers and the final learner, predicting raw rows of any domain. */
/* How tl_gradual_run walks (tl_gradual_opts_default, then change what you need). */
typedef struct {
    size_t struct_size; /* sizeof(tl_gradual_opts), set by tl_gradual_opts_default */
    double keep;        /* share of each step's rows kept as pseudo-labels, the most confident
                           (default 0.9, as Kumar et al.; in (0, 1]) */
    bool choose_path;   /* the intermediates are a pool: choose the path by distances (default
                           false: walk them in task order) */
    size_t max_rows;    /* rows per domain for the distances, drawn with the seed (default 300) */
    double power;       /* a hop costs MMD^power (default 4, >= 1; MMD from the unbiased MMD^2) */
    const tl_params *method; /* NULL (default): the learner's self-training. A feature mapping
                                that runs unlabelled (coral, sa, jda, ...): fitted hop by hop
                                instead - from the labelled rows of one domain to the next, whose
                                `keep` most confident rows, labelled by the transferred learner,
                                are the next hop's source - and the direct transfer beside it is
                                the same method from the source straight to the target */
} tl_gradual_opts;
tl_gradual_opts tl_gradual_opts_default(void); /* the defaults above */
/* What tl_gradual_run measured. */
typedef struct {
    size_t n_pool;          /* intermediate domains in the task */
    size_t n_steps;         /* intermediates walked (the path, without source and target) */
    size_t *path;           /* (n_steps) their task positions, in walking order */
    const char **names;     /* (n_steps) their names */
    double *hop;            /* (n_steps + 1) MMD of each hop, the last one into the target (NaN:
                               not measured: the path was given and max_rows is 0) */
    size_t *kept;           /* (n_steps + 1) rows kept as pseudo-labels at each step (with a
                               method the last is 0: the last hop labels the target only) */
    double direct_mmd;      /* MMD source -> target (NaN: not measured) */
    const char *source;     /* the source's name */
    const char *target;     /* the target's name */
    const char *learner;    /* "logreg", "1nn", ... */
    const char *method;     /* the hop-by-hop mapping's name, "none" for self-training */
    tl_score source_only;   /* the learner on the source alone */
    tl_score direct;        /* self-trained once on the target (with a method: its direct
                               source -> target transfer) */
    tl_score result;        /* self-trained along the path */
    double gain;            /* result - source_only accuracy */
    double gain_direct;     /* result - direct accuracy */
    bool guarded;           /* the guard ran */
    bool negative_transfer; /* its verdict: harmful */
    double correspondence;  /* source -> target feature correspondence (Mantel r) */
    double prediction_entropy; /* final predictions' label entropy / the source labels' */
    double agreement;       /* share of evaluation rows the gradual and direct models label alike */
    bool labelled_checked;  /* the labelled check ran (the task has labelled target rows) */
    tl_guard_labelled_report labelled; /* the final model on them */
    char reason[256];       /* the guard's sentence */
    int *predictions;       /* (n_eval) the gradual model's labels of the evaluation rows */
    size_t n_eval;          /* evaluation rows */
    double seconds_path;    /* measuring distances, choosing the path */
    double seconds;         /* the whole run */
} tl_gradual_report;
/* Runs it; the task needs one labelled source, one target, and at least one intermediate (two
 * with choose_path: a pool of one is no choice). opts: the learner, guard, ctx (preprocessing
 * is not applied: give rows on one scale). *out freed with tl_gradual_report_free; pipeline may
 * be NULL. */
tl_status tl_gradual_run(const tl_task *task, const tl_run_opts *opts, const tl_gradual_opts *g,
                         tl_gradual_report **out, tl_pipeline **pipeline);
void tl_gradual_report_free(tl_gradual_report *r); /* NULL-safe */
/* The report as a table or as JSON (command `command`, e.g. "adapt"). */
tl_status tl_gradual_report_text(const tl_gradual_report *r, char **out);
tl_status tl_gradual_report_json(const tl_gradual_report *r, const char *command, char **out);

/* ---- the fitted pipeline ---- */
void tl_pipeline_free(tl_pipeline *p);            /* NULL-safe */
size_t tl_pipeline_domains(const tl_pipeline *p); /* the domains it was fitted on */
size_t tl_pipeline_input_dim(const tl_pipeline *p, size_t domain); /* the features it reads */
/* The domains it was fitted with as source and as target (their positions in the task). */
size_t tl_pipeline_source(const tl_pipeline *p);
size_t tl_pipeline_target(const tl_pipeline *p);
const tl_model *tl_pipeline_model(const tl_pipeline *p); /* NULL without a method */
/* New rows of domain `domain`, raw (the pipeline applies that domain's fitted scaling):
 * predicted labels pred (rows). */
tl_status tl_pipeline_predict(const tl_pipeline *p, size_t domain, const tl_dataset *X, int *pred);
/* True when the pipeline was trained on regression targets: it predicts real values
 * (tl_pipeline_predict_values) and has no classes (tl_pipeline_predict refuses it). */
bool tl_pipeline_is_regression(const tl_pipeline *p);
/* New raw rows of domain `domain`: predicted values out (rows) of a regression pipeline. */
tl_status tl_pipeline_predict_values(const tl_pipeline *p, size_t domain, const tl_dataset *X,
                                     double *out);
/* The names of the source's classes when its labels were names (label v is names[v]; k of
 * them), else NULL. Saved with the pipeline. */
const char *const *tl_pipeline_class_names(const tl_pipeline *p, size_t *k);
/* The classes the pipeline predicts (nclasses of them, in score order); NULL when none. */
const int *tl_pipeline_classes(const tl_pipeline *p, size_t *nclasses);
/* Class scores of new raw rows: S (rows, classes) allocated with tl_mat_alloc - probabilities
 * (logistic regression, networks), vote shares (k-NN neighbours, TrAdaBoost rounds) or decision
 * values (SVM, ridge), in the order of tl_pipeline_classes - and, when pred is not NULL, the
 * labels tl_pipeline_predict gives, from the same scaled and mapped rows. */
tl_status tl_pipeline_scores(const tl_pipeline *p, size_t domain, const tl_dataset *X, int *pred,
                             tl_mat *S);
/* The rows scaled and mapped into the shared space: out (rows, dim) allocated with tl_mat_alloc
 * (without a mapping: the scaled rows, densified). */
tl_status tl_pipeline_transform(const tl_pipeline *p, size_t domain, const tl_dataset *X,
                                tl_mat *out);
tl_status tl_pipeline_save(const tl_pipeline *p, const char *path);
tl_status tl_pipeline_load(const char *path, tl_pipeline **out);
/* The same out of a container already in memory (name: for messages). */
tl_status tl_pipeline_read(const tl_tlm *c, const char *name, tl_pipeline **out);

#ifdef __cplusplus
}
#endif
#endif
