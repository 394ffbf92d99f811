/* `tl adapt`: feature-based transfer. The method (PCA, CORAL, SA, GFK, TCA, JDA, BDA, feature
 * augmentation, and any feature method the registry gains) maps the source and the target into a
 * shared space; the learner is trained there and reported next to the no-transfer baselines with
 * the negative-transfer guard's verdict - the library's protocol (tl_transfer_run). Optionally
 * saves the mapping (for `tl transform`), the whole pipeline, and the embedded rows. The
 * heterogeneous methods (CDSPP, CDLS) take a source and a target of different widths. Under
 * mpirun, TCA/JDA/BDA run on rows split over the processes (adapt_dist.c). */
#include "cli.h"
#include "dist_common.h"

static int run_adapt(cli_args *a);

static const cli_opt adapt_opts[] = {
    {"method", "NAME", "jda", "the feature method (see below)"},
    CLI_TRANSFER_OPTS,
    {"out-source", "FILE", NULL, "write the embedded source (csv, svmlight or npy)"},
    {"out-target", "FILE", NULL, "write the embedded scored target rows"},
    CLI_MULTISOURCE_OPTS,
    {"via", "SPEC", NULL,
     "an intermediate domain (unlabelled rows) between source and target; repeat it, or list "
     "more after it (--via D1 D2 ...): gradual self-training of the learner along them, in order, "
     "beside source-only and direct self-training"},
    {"pool", "SPEC", NULL,
     "like --via, but a pool (two or more: --pool P1 P2 ...) from which the path is chosen by "
     "domain distances (cheapest source -> target path, a hop costing its RBF MMD to the 4th power); the "
     "path is printed"},
    {"keep", "S", "0.9",
     "with --via/--pool: share of each step's rows kept as pseudo-labels, the most confident"},
    {"path-rows", "N", "300",
     "with --via/--pool: rows per domain for the distances (0 with --via: none measured)"},
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

/* under mpirun, the rows are split over the processes (adapt_dist.c) */
static int run_adapt(cli_args *a) {
    return tl_dist_launched() ? cli_adapt_dist(&cmd_adapt, a) : cli_run_transfer(&cmd_adapt, a);
}
