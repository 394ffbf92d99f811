/* libtl automatic transfer: choose the source, the method and its settings without target
 * labels (what `tl auto` runs).
 *
 * tl_auto_run ranks the sources when there are several (tl_source_score_compute: MMD to the
 * target, the scaling fitted on each source and applied to the target) and keeps the best; builds candidates from the method registry - no transfer, every
 * feature mapping and instance weighting that needs no labelled target rows, each at its
 * defaults (rung 0, cheapest first by a rough operation count) and then with values from its
 * parameter descriptors' search grids (rung 1) -
 * and runs each through the protocol (tl_transfer_run, guard on). Successive halving spends the
 * budget: rung 0 first, then the grid variants of the better half of the methods, best method
 * first, while the budget lasts. Each candidate is scored by the label-free criteria
 * (tl/validate.h: entropy, SND, IWCV, DEV, computed with a probe logistic regression trained on
 * the candidate's source rows - weighted for an instance candidate - with importance weights
 * from a domain classifier in the candidate's space; the guard's reverse validation; and the
 * common reverse validation, computed in the no-transfer space for every candidate so that it
 * compares across spaces). The combination: among the eligible candidates (not collapsed, not
 * judged harmful by the guard, common reverse validation not more than two standard errors
 * below no transfer's),
 * each criterion ranks them and the candidate's score is the mean of its rank shares (1: best
 * on every criterion). No transfer is chosen when no transfer candidate is eligible. */
#ifndef TL_AUTO_H
#define TL_AUTO_H

#include <stdbool.h>
#include <stddef.h>

#include "tl/core.h"
#include "tl/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TL_CRIT_ENTROPY = 0,
    TL_CRIT_SND,
    TL_CRIT_IWCV,
    TL_CRIT_DEV,
    TL_CRIT_RV,
    TL_CRIT_MIXVAL, /* measured and reported; not in the default combination (see opts.criteria) */
    TL_CRIT_CRV,    /* reverse validation in the common space: a probe trained on the target rows
                       with the candidate's predicted labels, scored on the labelled source rows,
                       both in the no-transfer space (the preprocessed input) - the one criterion
                       computed in the same space for every candidate, so comparable across
                       candidates of different dimension and scale; also the harm check */
    TL_CRIT_COUNT
};
/* The criteria combined by default: entropy, SND, IWCV, DEV, reverse validation and common
 * reverse validation. */
#define TL_CRIT_DEFAULT_MASK 0x5fu
const char *tl_criterion_name(int c); /* "entropy", "snd", "iwcv", "dev", "rv", "mixval", "crv" */
bool tl_criterion_higher_better(int c);

/* How tl_auto_run searches (tl_auto_opts_default, then change what you need). */
typedef struct {
    size_t struct_size;        /* sizeof(tl_auto_opts), set by tl_auto_opts_default */
    double budget;             /* seconds for the search (default 60) */
    const tl_params *learner;  /* the learner of every candidate; NULL: 1-NN */
    tl_preprocess preprocess;  /* scaling (default none) */
    bool preprocess_on_source; /* fit the scaling on the source for every domain */
    size_t grid;               /* grid variants per method at rung 1 (default 4) */
    unsigned criteria;         /* bit (1 << TL_CRIT_x) per criterion combined (default
                                  TL_CRIT_DEFAULT_MASK) */
    const tl_ctx *ctx;         /* seed, threads, progress (stage "auto: <candidate>") */
    bool budget_cpu;           /* count the budget (and the candidates' seconds) in this
                                  process's CPU seconds, every thread, instead of wall-clock
                                  seconds: the same search on a loaded, shared machine */
    tl_dataset *target_test;   /* NULL, or held-out target rows (borrowed): when they carry
                                  labels, each candidate's `accuracy` and the chosen one's report
                                  are scored on them (benchmarks: Amazon's _test files); the
                                  criteria always read the unlabelled target rows */
    tl_nn *net;                /* NULL, or a network (borrowed, left as it is) whose input takes
                                  the rows as they are and whose outputs are the source's
                                  classes: adds the network candidates - "deep-da" with DANN, DAN
                                  and Deep CORAL at values of their lambda grids, and DANN with
                                  lambda 0 (the network trained on the source alone) - scored by
                                  the same criteria in the network's embedding */
    const tl_params *net_params; /* "deep-da" parameters whose training settings (epochs, batch,
                                    lr, ...) every network candidate uses; NULL: the method's
                                    defaults. da, lambda and lambda-schedule are set per
                                    candidate */
} tl_auto_opts;
tl_auto_opts tl_auto_opts_default(void); /* the defaults above */

/* One candidate the search ran, with its evidence. */
typedef struct {
    char label[128];           /* "jda lambda=0.1" */
    const char *method;        /* registry name, "none" for no transfer */
    tl_params *params;         /* NULL for no transfer */
    int rung;                  /* 0: defaults, 1: a grid variant */
    double crit[TL_CRIT_COUNT];/* NaN when not measured */
    double top_share;          /* share of the target predicted as its most frequent class */
    bool collapsed;            /* top_share > tl_validate_collapse_share(source classes) */
    bool harmful;              /* the guard's verdict (or collapsed): never chosen */
    double score;              /* combined, in [0, 1], 1 best; NaN when not eligible */
    double accuracy;           /* on the target rows when they carry labels (benchmarks only;
                                  never read by the choice); NaN otherwise */
    double seconds;            /* on the budget's clock */
} tl_auto_candidate;

/* What tl_auto_run chose, and every candidate it ran. */
typedef struct {
    size_t n_sources;           /* sources given */
    size_t source;              /* the chosen source's index among the caller's */
    tl_source_score *source_scores; /* (n_sources) when there are several, else NULL */
    size_t n;                   /* candidates run */
    size_t chosen;              /* the chosen one's index */
    tl_auto_candidate *cand;    /* (n) best first */
    size_t skipped;             /* candidates left out for lack of budget */
    bool budget_too_small;      /* no transfer candidate fit the budget: no transfer returned */
    bool all_harmful;           /* every transfer candidate collapsed or judged harmful */
    double seconds;             /* the whole call, on the budget's clock */
    tl_report *report;          /* the chosen candidate's report */
} tl_auto_result;

/* sources (n_sources >= 1) labelled, target unlabelled (labels, if any, only fill `accuracy`);
 * every dataset is borrowed and left as it is. *out freed with tl_auto_result_free; *pipeline
 * (may be NULL): the chosen candidate's fitted pipeline (kept from its run, not refitted). TL_ERR_INVALID_ARG with a
 * message for an empty target or sources of different widths. */
tl_status tl_auto_run(tl_dataset *const *sources, size_t n_sources, tl_dataset *target,
                      const tl_auto_opts *o, tl_auto_result **out, tl_pipeline **pipeline);
void tl_auto_result_free(tl_auto_result *r);

/* The candidates' indices best first, written to idx (r->n entries): the eligible ones by
 * combined score, then the others in run order. */
void tl_auto_order(const tl_auto_result *r, size_t *idx);
/* The result as the documented JSON object (docs/report.schema.json, $defs/auto; what
 * `tl auto --json` prints). source_names: (r->n_sources) the sources' names; target: the
 * target's; o: the options the search ran with (budget, clock; NULL: the defaults); saved: the
 * file the chosen pipeline was written to, or NULL. *out tl_malloc'd. */
tl_status tl_auto_json(const tl_auto_result *r, const char *const *source_names,
                       const char *target, const tl_auto_opts *o, const char *saved, char **out);

#ifdef __cplusplus
}
#endif
#endif
