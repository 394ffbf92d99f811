/* Shared pieces of the `tl` command: the option table and parser, JSON/table output, loading of
 * source/target data with the common options, and error reporting. Each subcommand lives in its
 * own cmd_<name>.c and uses only the public libtl headers plus this file. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "tl.h"

/* ---- options ---- */
typedef struct {
    const char *name;  /* long name without "--"; "" ends a table */
    const char *arg;   /* metavar ("SPEC", "N"), NULL for a flag */
    const char *def;   /* default shown in usage and returned when absent (NULL = none) */
    const char *help;
} cli_opt;

#define CLI_MAX_OPTS 160
#define CLI_MAX_POS 32
#define CLI_MAX_REPEAT 16
typedef struct {
    const cli_opt *table;
    const char *values[CLI_MAX_OPTS]; /* set value or NULL */
    bool given[CLI_MAX_OPTS];
    const char *pos[CLI_MAX_POS];     /* positional arguments */
    int npos;
    /* every value of an option given several times (--source A --source B), in order; cli_get
     * returns the last */
    const char *all[CLI_MAX_OPTS][CLI_MAX_REPEAT];
    unsigned char nall[CLI_MAX_OPTS];
} cli_args;
/* The values of an option given several times (at most cap; the count given, which may exceed
 * CLI_MAX_REPEAT: the parser refuses that). */
size_t cli_get_all(const cli_args *a, const char *name, const char **out, size_t cap);

typedef struct {
    const char *name;
    const char *summary;
    const char *usage;      /* after "tl NAME " */
    const cli_opt *opts;    /* command-specific options (common ones are added by the parser) */
    int (*run)(cli_args *a);
    /* Options generated from the method registry (tl/method.h), so each hyper-parameter is
     * described once, by its method: `methods` = 1 + the family whose methods' parameters become
     * options (0: none); `learner` non-NULL: --learner (that default) and the learners'
     * parameters. */
    int methods;
    const char *learner;
} cli_command;

/* Options every command accepts: --seed, --threads, --json, -q/--quiet. */
extern const cli_opt cli_common_opts[];
/* Data options shared by commands that load data. */
#define CLI_DATA_OPTS                                                                              \
    {"preprocess", "STEPS", "none", "comma list: none, rowsum, l2, zscore, minmax"},               \
        {"preprocess-fit", "MODE", "domain",                                                       \
         "domain: each domain scaled with its own statistics; source: source statistics for all"}, \
        {"format", "FMT", "auto", "input format: auto, csv, svmlight, mat, npy, idx"},             \
        {"label-col", "N", "-1", "CSV label column (0-based; negative from the end; 'none')"},     \
        {"header", "MODE", "auto", "CSV header row: auto, yes, no"},                               \
        {"index-base", "B", "auto", "svmlight feature index base: auto, 0, 1"},                    \
        {"columns", "LIST", NULL, "keep only these feature columns of every file (0-based, e.g. 0-799,900)"}

/* What the label column holds, for the commands that can learn either (adapt, weight) or carry
 * it (convert, info): classes, or real-valued regression targets. */
#define CLI_TASK_OPT                                                                               \
    {"task", "KIND", "classification",                                                             \
     "classification (integer or named classes) or regression (real-valued targets; learner "      \
     "ridge or knn, scored by RMSE, MAE and R^2)"}
/* True when --task regression was given (false for commands without the option). */
bool cli_regression(const cli_args *a);

/* The command's whole option table: its own, then the generated ones. */
const cli_opt *cli_command_opts(const cli_command *cmd);
/* True when option `name` was generated from a method parameter of the command's family. */
bool cli_is_method_param(const cli_command *cmd, const char *name);
/* Parse argv (after the command name) against cmd->opts + common options. Returns 0, or prints
 * the problem to stderr and returns 2. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a);
const char *cli_get(const cli_args *a, const char *name);   /* value or default (may be NULL) */
bool cli_flag(const cli_args *a, const char *name);
bool cli_given(const cli_args *a, const char *name);
bool cli_has_opt(const cli_args *a, const char *name); /* the command has option --name */
/* Typed getters: print "tl CMD: --name: ..." and return false on a bad value. */
bool cli_get_long(const cli_args *a, const char *name, long lo, long hi, long *out);
bool cli_get_double(const cli_args *a, const char *name, double lo, double hi, double *out);
bool cli_get_u64(const cli_args *a, const char *name, uint64_t *out);

void cli_print_usage(FILE *f, const cli_command *cmd);
/* The same usage as roff for the man page (man.c), and the common options once. */
void cli_print_usage_man(FILE *f, const cli_command *cmd);
void cli_print_common_opts_man(FILE *f);
void cli_roff_text(FILE *f, const char *s); /* text escaped for roff */
/* Every command, in the order `tl help` lists them (main.c). */
const cli_command *const *cli_commands(size_t *n);
/* tl(1) as roff on f, from the same tables as `tl help` (man.c). */
void cli_print_man(FILE *f);
const cli_command *cli_find(const char *name);
extern const char *cli_cmd_name; /* running command, for messages */

/* ---- diagnostics and exit codes ----
 * One table for every command (docs/cli.md, `tl help`):
 *   0  success
 *   1  runtime or data error: a file that cannot be read or written, bad data, a failed fit
 *   2  usage error: unknown option, bad option value, missing required option, unexpected
 *      argument - anything the command line alone shows to be wrong, found before work starts */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };
/* Prints "tl CMD: <what>: <libtl error detail>" to stderr and returns 1 (the exit code). */
int cli_fail_status(tl_status st, const char *fmt, ...);
int cli_fail(const char *fmt, ...);  /* "tl CMD: message", returns 1 (runtime/data error) */
int cli_usage(const char *fmt, ...); /* "tl CMD: message", returns 2 (usage error) */
/* Checks the options that do not depend on the data (--seed, --threads and, where the command
 * has them, --format, --header, --index-base, --columns, --preprocess, --preprocess-fit), so a
 * bad value is a usage error (exit 2) found before any file is read. 0 or 2. */
int cli_check_common(const cli_args *a);
void cli_info(const cli_args *a, const char *fmt, ...); /* stderr unless -q */
void cli_warn(const char *fmt, ...);                    /* stderr always */
double cli_now(void);                                   /* monotonic seconds */

/* ---- data ---- */
/* Load options from --format/--label-col/--header/--index-base. false on a bad value (printed;
 * cli_check_common has already refused these before a command runs). */
bool cli_load_opts(const cli_args *a, tl_load_opts *o);
tl_status cli_load(const cli_args *a, const char *spec, tl_dataset **out);
/* Sets read separately made to agree (NULLs skipped): one svmlight index base, one list of class
 * names (labels renumbered). 0, or prints and returns 1. */
int cli_unify_sets(tl_dataset **sets, size_t n);
/* Make two datasets agree on the feature count: sparse ones are widened to the larger count,
 * dense ones must match (TL_ERR_SHAPE naming both). */
tl_status cli_align_features(tl_dataset *a, tl_dataset *b);
/* Preprocess the given domains per --preprocess/--preprocess-fit: "domain" fits each one on
 * itself; "source" fits on ds[0] and applies to all. test_of[i] >= 0 means ds[i] is the held-out
 * part of domain test_of[i] and reuses that domain's statistics. */
tl_status cli_preprocess(const cli_args *a, tl_dataset **ds, const int *test_of, size_t n);
/* Checks the labels of `eval` against the classes of `train`: unknown ones are an error unless
 * --allow-unknown-labels is given. Returns 0 or prints and returns 1. */
int cli_check_label_overlap(const cli_args *a, const tl_dataset *train, const tl_dataset *eval);

/* ---- results ---- */
/* Prints a finished JSON object (the library's tl/json.h builder) with a newline on stdout;
 * 0, or 1 on OOM or a failed write. */
int cli_json_finish(tl_json *j);
/* Prints text on stdout (and a newline); 0, or 1 when the write failed. */
int cli_print_text(const char *s, bool newline);

/* Evaluation of predictions against true labels, printed or added to JSON. */
typedef struct {
    double accuracy, balanced_accuracy, macro_f1;
    size_t n;
} cli_eval;
tl_status cli_evaluate(const int *y, const int *pred, size_t n, cli_eval *out);

/* ---- learners ---- */
/* The learner of --learner with its parameters (--k, --C, --alpha as the learner has them),
 * from the registry: *out (free with tl_params_free). Prints and returns false on a bad value. */
bool cli_learner(const cli_args *a, tl_params **out);
/* The same as typed parameters (seed and threads from the common options). */
bool cli_learner_params(const cli_args *a, tl_learner_params *p);
/* "1nn", "5nn", "logreg", ...: the learner as the user named it. */
const char *cli_learner_label(const tl_learner_params *p);

/* Source/target loading shared by every transfer command: --source and --target are required,
 * --target-test and --target-labelled (where the command has it) optional. Aligns feature counts, preprocesses (the target test and labelled
 * sets reuse the target's statistics), and checks that the evaluation labels are known to the source.
 * On failure prints the reason, frees what was loaded and returns non-zero. */
typedef struct {
    tl_dataset *source, *target, *test; /* test may be NULL */
    tl_dataset *labelled; /* --target-labelled rows (commands that have the option), or NULL */
} cli_domains;
/* Returns 0, 2 (a usage error: --source or --target missing) or 1. */
int cli_load_domains(const cli_args *a, cli_domains *d);
tl_dataset *cli_eval_set(const cli_domains *d); /* test if given, else target */
void cli_domains_free(cli_domains *d);
#define CLI_DOMAIN_OPTS                                                                            \
    {"source", "SPEC", NULL, "labelled source domain"},                                            \
        {"target", "SPEC", NULL, "target domain (its labels are used only to score)"},             \
        {"target-test", "SPEC", NULL, "held-out target samples to score instead of --target"},     \
        {"allow-unknown-labels", NULL, NULL,                                                       \
         "score target samples whose label the source lacks as errors instead of failing"}
/* ---- the transferring commands (transfer.c) ---- */
/* Options every transferring command has: the domains, labelled target rows, the guard, the
 * saved outputs. The method parameters and the learner come from the registry. */
#define CLI_TRANSFER_OPTS                                                                          \
    CLI_DOMAIN_OPTS,                                                                               \
        {"target-labelled", "SPEC", NULL,                                                          \
         "a few labelled target rows: trained on, and the guard's evidence"},                      \
        {"labelled-per-class", "K", "0",                                                           \
         "instead of --target-labelled: draw K labelled rows per class from --target (seeded); "   \
         "they are not scored"},                                                                   \
        {"labelled", "N", "0",                                                                     \
         "instead of --target-labelled: draw N labelled rows from --target (seeded); not scored"}, \
        {"no-guard", NULL, NULL,                                                                   \
         "skip the negative-transfer guard (\"negative_transfer\" is null in the result)"},        \
        {"guard-margin", "M", "0.05",                                                              \
         "guard: reverse-validation drop, and gap to the target-only learner, counted as harm"},   \
        {"min-correspondence", "R", "0.1",                                                         \
         "guard: feature-correlation agreement (Mantel r) below which the source counts as "       \
         "unrelated"},                                                                             \
        {"min-ess", "S", "0.5",                                                                    \
         "guard: effective sample size of weights, as a share of the source, below which a "       \
         "weighting counts as harmful"},                                                           \
        {"save", "FILE", NULL,                                                                     \
         "save the whole fitted pipeline - preprocessing, method, learner - for 'tl predict' "     \
         "and 'tl transform' (.tlm)"},                                                             \
        {"save-mapping", "FILE", NULL,                                                             \
         "save the fitted method alone (.tlm; 'tl transform' then needs --preprocess)"},           \
        {"report", "FILE", NULL,                                                                   \
         "also save the report: FILE.html the page, FILE.svg the figures, else the JSON (for "     \
         "'tl report')"},                                                                          \
        {"report-view", "KIND", "pca",                                                             \
         "with --report: the 2-D views of the domains saved, pca or tsne (PCA and exact t-SNE, "   \
         "perplexity 30, seeded by --seed)"}
/* Several sources (--source given more than once) in every transferring command: how they
 * combine, and whether the harmful ones stay (cli_run_multisource). */
#define CLI_MULTISOURCE_OPTS                                                                       \
    {"combine", "HOW", "weighted",                                                                 \
     "with --source given several times: pool (the kept sources stacked), vote (majority of the " \
     "per-source models) or weighted (votes weighted by accuracy on the labelled target rows, "   \
     "else by the guard's source-side reverse validation)"},                                      \
        {"keep-harmful", NULL, NULL,                                                               \
         "with several sources: keep the sources the guard judges harmful (default: dropped, the " \
         "reason printed)"}
/* The method of --method (in the command's family) with its parameters from the generated
 * options: 0, or the exit code after printing why (2: unknown method or bad value). */
int cli_method_params(const cli_command *cmd, const cli_args *a, tl_params **out);
/* --report FILE: the report's JSON (json) written to path, or rendered when path ends in .html
 * (the page) or .svg (the figures) - through tl_wfile, inside the caller's batch (cmd_report.c). */
tl_status cli_save_report(const char *json, const char *path);
/* Warnings on stderr for a report: negative transfer likely, worse than no transfer. */
void cli_transfer_warn(const tl_report *r);
/* The guard's options (--guard-margin, --min-correspondence, --min-ess) onto the library's
 * defaults; false (printed) on a bad value. */
bool cli_guard_opts(const cli_args *a, tl_guard_params *g);
/* The protocol's options that every transferring command takes from its arguments in the same
 * way: *ctx (seed, threads) for o->ctx, the learner, where the scaling is fitted
 * (--preprocess-fit), the guard (--no-guard) and --allow-unknown-labels. */
void cli_run_opts_from(const cli_args *a, uint64_t seed, long threads, const tl_params *lp,
                       tl_ctx *ctx, tl_run_opts *o);
/* The labelled target rows asked for are consistent (one way of giving them) and present when
 * the method needs them; false (printed, a usage error) otherwise. */
bool cli_labelled_rows_ok(const cli_args *a, const tl_method *m, long per_class, long nlab);
/* Different widths of dense source and target with a method that needs one feature space: a
 * message naming the heterogeneous methods; 0, or prints and returns 1. */
int cli_check_feature_spaces(const tl_method *m, const tl_dataset *src, const tl_dataset *tgt,
                             const char *sname, const char *tname);
/* Several --source: each transferred on its own, harmful ones dropped, the rest combined
 * (--combine); the command must have --combine (tl adapt). Returns the exit code. */
int cli_run_multisource(const cli_command *cmd, cli_args *a, const char **srcs, size_t nsrc);
/* Saves pipe to save (when not NULL), then prints the rendered report text (rendered: how its
 * rendering went) and, for a table, where the pipeline went: 0, or 1 (printed). multisource.c. */
int cli_save_and_print(const tl_pipeline *pipe, const char *save, tl_status rendered,
                       const char *text, bool json);
/* `tl adapt --via ... | --pool ...`: transfer through intermediate domains (gradual.c). */
int cli_run_gradual(const cli_command *cmd, cli_args *a);
/* Runs a transferring command of family cmd->methods - 1; returns the exit code. */
int cli_run_transfer(const cli_command *cmd, cli_args *a);
#endif
