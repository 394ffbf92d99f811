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

#define CLI_MAX_OPTS 64
#define CLI_MAX_POS 32
typedef struct {
    const cli_opt *table;
    const char *values[CLI_MAX_OPTS]; /* set value or NULL */
    bool given[CLI_MAX_OPTS];
    const char *pos[CLI_MAX_POS];     /* positional arguments */
    int npos;
} cli_args;

typedef struct {
    const char *name;
    const char *summary;
    const char *usage;      /* after "tl NAME " */
    const cli_opt *opts;    /* command-specific options (common ones are added by the parser) */
    int (*run)(cli_args *a);
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

/* Parse argv (after the command name) against cmd->opts + common options. Returns 0, or prints
 * the problem to stderr and returns 2. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a);
const char *cli_get(const cli_args *a, const char *name);   /* value or default (may be NULL) */
bool cli_flag(const cli_args *a, const char *name);
bool cli_given(const cli_args *a, const char *name);
/* Typed getters: print "tl CMD: --name: ..." and return false on a bad value. */
bool cli_get_long(const cli_args *a, const char *name, long lo, long hi, long *out);
bool cli_get_double(const cli_args *a, const char *name, double lo, double hi, double *out);
bool cli_get_u64(const cli_args *a, const char *name, uint64_t *out);

void cli_print_usage(FILE *f, const cli_command *cmd);
const cli_command *cli_find(const char *name);
extern const char *cli_cmd_name; /* running command, for messages */

/* ---- diagnostics ---- */
/* Prints "tl CMD: <what>: <libtl error detail>" to stderr and returns 1 (the exit code). */
int cli_fail_status(tl_status st, const char *fmt, ...);
int cli_fail(const char *fmt, ...); /* "tl CMD: message", returns 1 */
void cli_info(const cli_args *a, const char *fmt, ...); /* stderr unless -q */
void cli_warn(const char *fmt, ...);                    /* stderr always */
double cli_now(void);                                   /* monotonic seconds */

/* ---- data ---- */
/* Load options from --format/--label-col/--header/--index-base. false on a bad value. */
bool cli_load_opts(const cli_args *a, tl_load_opts *o);
tl_status cli_load(const cli_args *a, const char *spec, tl_dataset **out);
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
/* A tiny JSON writer that builds the object in memory and prints it at the end, so a failure
 * never leaves half a JSON object on stdout. */
typedef struct {
    char *buf;
    size_t len, cap;
    int depth;
    bool need_comma;
    bool oom;
} cli_json;
void cli_json_begin(cli_json *j);           /* "{" */
void cli_json_key(cli_json *j, const char *key);
void cli_json_str(cli_json *j, const char *key, const char *v);
void cli_json_num(cli_json *j, const char *key, double v);
void cli_json_int(cli_json *j, const char *key, long long v);
void cli_json_bool(cli_json *j, const char *key, bool v);
void cli_json_obj_begin(cli_json *j, const char *key); /* key may be NULL inside arrays */
void cli_json_obj_end(cli_json *j);
void cli_json_arr_begin(cli_json *j, const char *key);
void cli_json_arr_end(cli_json *j);
void cli_json_arr_num(cli_json *j, double v);
void cli_json_arr_int(cli_json *j, long long v);
/* Closes the object, prints it with a newline to stdout, frees. Returns 0, or 1 on OOM. */
int cli_json_finish(cli_json *j);
void cli_json_discard(cli_json *j);

/* Evaluation of predictions against true labels, printed or added to JSON. */
typedef struct {
    double accuracy, balanced_accuracy, macro_f1;
    size_t n;
} cli_eval;
tl_status cli_evaluate(const int *y, const int *pred, size_t n, cli_eval *out);

/* ---- learners ---- */
#define CLI_LEARNER_OPTS                                                                           \
    {"learner", "NAME", "1nn", "1nn, knn, logreg, svm, ridge"},                                    \
        {"k", "K", "5", "neighbours for --learner knn"},                                           \
        {"C", "C", "1", "inverse regularisation for logreg and svm (sklearn's C)"},                \
        {"alpha", "A", "1", "ridge regularisation"}
/* Fill learner params from --learner/--k/--C/--alpha/--seed/--threads. false on a bad value. */
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
int cli_load_domains(const cli_args *a, cli_domains *d);
tl_dataset *cli_eval_set(const cli_domains *d); /* test if given, else target */
void cli_domains_free(cli_domains *d);
#define CLI_DOMAIN_OPTS                                                                            \
    {"source", "SPEC", NULL, "labelled source domain"},                                            \
        {"target", "SPEC", NULL, "target domain (its labels are used only to score)"},             \
        {"target-test", "SPEC", NULL, "held-out target samples to score instead of --target"},     \
        {"allow-unknown-labels", NULL, NULL,                                                       \
         "score target samples whose label the source lacks as errors instead of failing"}
#endif
