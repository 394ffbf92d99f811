/* `tl tradaboost`: TrAdaBoost (Dai et al. 2007) with a few labelled target rows, reported beside
 * the baselines it must beat (the learner on the source only, on the labelled target rows only,
 * and on both pooled) and the guard's verdict - the library's protocol (tl_transfer_run). The
 * labelled rows come from --target-labelled, or are drawn from --target (--labelled N). */
#include "cli.h"

static int run_tradaboost(cli_args *a);

static const cli_opt tradaboost_opts[] = {
    {"method", "NAME", "tradaboost", "the ensemble method"},
    CLI_TRANSFER_OPTS,
    CLI_MULTISOURCE_OPTS,
    CLI_DATA_OPTS,
    {"", NULL, NULL, NULL}};

const cli_command cmd_tradaboost = {
    "tradaboost",
    "TrAdaBoost with a few labelled target rows against its baselines",
    "--source SPEC --target SPEC (--target-labelled SPEC | --labelled N) [options]",
    tradaboost_opts,
    run_tradaboost,
    1 + TL_FAMILY_ENSEMBLE,
    "logreg"};

static int run_tradaboost(cli_args *a) { return cli_run_transfer(&cmd_tradaboost, a); }
