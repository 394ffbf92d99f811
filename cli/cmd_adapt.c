/* `tl adapt`: feature-based transfer. The method (PCA, CORAL, SA, GFK, TCA, JDA, BDA, feature
 * augmentation, and any feature method the registry gains) maps the source and the target into a
 * shared space; the learner is trained there and reported next to the no-transfer baselines with
 * the negative-transfer guard's verdict - the library's protocol (tl_transfer_run). Optionally
 * saves the mapping (for `tl transform`), the whole pipeline, and the embedded rows. */
#include "cli.h"

static int run_adapt(cli_args *a);

static const cli_opt adapt_opts[] = {
    {"method", "NAME", "jda", "the feature method (see below)"},
    CLI_TRANSFER_OPTS,
    {"out-source", "FILE", NULL, "write the embedded source (csv, svmlight or npy)"},
    {"out-target", "FILE", NULL, "write the embedded scored target rows"},
    CLI_DATA_OPTS,
    CLI_TASK_OPT,
    {"", NULL, NULL, NULL}};

const cli_command cmd_adapt = {"adapt",
                               "feature-based transfer (shared space) against the baselines",
                               "--method M --source SPEC --target SPEC [options]",
                               adapt_opts,
                               run_adapt,
                               1 + TL_FAMILY_FEATURE,
                               "1nn"};

static int run_adapt(cli_args *a) { return cli_run_transfer(&cmd_adapt, a); }
