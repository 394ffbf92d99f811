/* `tl adapt`: feature-based transfer. The method (PCA, CORAL, SA, GFK, TCA, JDA, BDA, feature
 * augmentation, and any feature method the registry gains) maps the source and the target into a
 * shared space; the learner is trained there and reported next to the no-transfer baselines with
 * the negative-transfer guard's verdict - the library's protocol (tl_transfer_run). Optionally
 * saves the mapping (for `tl transform`), the whole pipeline, and the embedded rows. The
 * heterogeneous methods (CDSPP, CDLS) take a source and a target of different widths. */
#include "cli.h"

static int run_adapt(cli_args *a);

static const cli_opt adapt_opts[] = {
    {"method", "NAME", "jda", "the feature method (see below)"},
    CLI_TRANSFER_OPTS,
    {"out-source", "FILE", NULL, "write the embedded source (csv, svmlight or npy)"},
    {"out-target", "FILE", NULL, "write the embedded scored target rows"},
    {"combine", "HOW", "weighted",
     "with --source given several times: pool (the kept sources stacked), vote (majority of the "
     "per-source models) or weighted (votes weighted by accuracy on the labelled target rows, "
     "else by the guard's source-side reverse validation)"},
    {"keep-harmful", NULL, NULL,
     "with several sources: keep the sources the guard judges harmful (default: dropped, the "
     "reason printed)"},
    CLI_DATA_OPTS,
    CLI_TASK_OPT,
    {"", NULL, NULL, NULL}};

const cli_command cmd_adapt = {"adapt",
                               "feature-based transfer (shared space) against the baselines",
                               "--method M --source SPEC --target SPEC [options]\n"
                               "       source and target of different widths (e.g. 800-d SURF and "
                               "4096-d DeCAF): --method cdspp or cdls, with a few labelled target "
                               "rows per class: --labelled-per-class K (drawn from --target, seeded, "
                               "not scored) or --target-labelled SPEC; the baseline is then the "
                               "learner on those rows alone (target only)",
                               adapt_opts,
                               run_adapt,
                               1 + TL_FAMILY_FEATURE,
                               "1nn"};

static int run_adapt(cli_args *a) { return cli_run_transfer(&cmd_adapt, a); }
