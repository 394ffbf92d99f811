/* `tl weight`: instance-based transfer. The method (KMM, KLIEP, uLSIF, the domain classifier,
 * relative uLSIF, and any weighting the registry gains) weights the source rows toward the
 * target; the learner is trained with the weights and reported next to the same learner without
 * them, with the guard's verdict (tl_transfer_run). The weights (one per source row, mean 1) can
 * be written out, and the weighting saved as a model that weights new rows. */
#include "cli.h"

static int run_weight(cli_args *a);

static const cli_opt weight_opts[] = {
    {"method", "NAME", "kmm", "the weighting method (see below)"},
    CLI_TRANSFER_OPTS,
    {"out", "FILE", NULL, "write the source weights, one per line (mean 1)"},
    CLI_MULTISOURCE_OPTS,
    CLI_DATA_OPTS,
    CLI_TASK_OPT,
    {"", NULL, NULL, NULL}};

const cli_command cmd_weight = {"weight",
                                "instance weighting of the source against the unweighted learner",
                                "--method M --source SPEC --target SPEC [--out W.csv] [options]",
                                weight_opts,
                                run_weight,
                                1 + TL_FAMILY_INSTANCE,
                                "logreg"}; /* 1-NN would use the weights only where they are 0 */

static int run_weight(cli_args *a) { return cli_run_transfer(&cmd_weight, a); }
