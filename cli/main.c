/* `tl`: the libtl command. Dispatches to one subcommand per file (cmd_*.c); `tl help [CMD]`
 * prints the command list or a command's usage with its live defaults, `tl help --man` the
 * manual page (man.c). Exit status: 0 success, 1 runtime/data error, 2 usage error (cli.h). */
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli.h"

extern const cli_command cmd_info, cmd_convert, cmd_baseline, cmd_adapt, cmd_transform,
    cmd_distance, cmd_weight, cmd_tradaboost, cmd_rank_sources, cmd_auto;

/* neural networks (model-based transfer) */
extern const cli_command cmd_train, cmd_finetune, cmd_embed, cmd_predict, cmd_evaluate,
    cmd_transferability;

/* relation-based transfer */
extern const cli_command cmd_rel_learn, cmd_rel_transfer, cmd_rel_infer;

/* rendering a saved report */
extern const cli_command cmd_report;

static const cli_command *const commands[] = {&cmd_info,     &cmd_convert,    &cmd_baseline,
                                              &cmd_adapt,    &cmd_transform,
                                              &cmd_distance, &cmd_weight,     &cmd_tradaboost,
                                              &cmd_rank_sources, &cmd_auto,
                                              &cmd_train, &cmd_finetune, &cmd_embed, &cmd_predict,
                                              &cmd_evaluate, &cmd_transferability,
                                              &cmd_rel_learn, &cmd_rel_transfer, &cmd_rel_infer,
                                              &cmd_report};
static const size_t n_commands = sizeof commands / sizeof commands[0];

const cli_command *const *cli_commands(size_t *n) {
    *n = n_commands;
    return commands;
}

const cli_command *cli_find(const char *name) {
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static void print_overview(FILE *f) {
    fprintf(f, "tl %s: transfer learning in C\n\nusage: tl COMMAND [options]\n\ncommands:\n",
            tl_version());
    int w = 14; /* the names' column: as wide as the longest name */
    for (size_t i = 0; i < n_commands; i++)
        if ((int)strlen(commands[i]->name) > w) w = (int)strlen(commands[i]->name);
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-*s %s\n", w, commands[i]->name, commands[i]->summary);
    fprintf(f, "  %-*s %s\n", w, "help [CMD]", "this overview, or one command's options");
    fprintf(f, "  %-*s %s\n", w, "help --man", "the manual page tl(1) as roff");
    fprintf(f, "  %-*s %s\n", w, "version", "print the version (--json: as JSON)");
    fprintf(f, "\nData specs: file.csv, file.svmlight, file.mat[:X,Y], X.npy[:y.npy],\n"
               "images.idx3-ubyte.gz:labels.idx1-ubyte.gz, or an MNIST-style folder:train|test.\n");
    fprintf(f, "\nExit status: 0 success; 1 runtime or data error (a file that cannot be read or\n"
               "written, bad data, a failed fit); 2 usage error (unknown command or option, bad\n"
               "option value, missing required option, unexpected argument).\n");
}

/* `tl version [--json]` */
static int run_version(int argc, char **argv) {
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else {
            fprintf(stderr, "tl version: unknown option %s (only --json)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!json) {
        printf("tl %s\n", tl_version());
        return fflush(stdout) != 0;
    }
    tl_json j;
    tl_json_begin(&j);
    tl_json_str(&j, "version", tl_version());
    tl_json_int(&j, "major", TL_VERSION_MAJOR);
    tl_json_int(&j, "minor", TL_VERSION_MINOR);
    tl_json_int(&j, "patch", TL_VERSION_PATCH);
    tl_json_str(&j, "blas", tl_blas_info());
    cli_cmd_name = "version";
    return cli_json_finish(&j);
}

/* The command is a short-lived host: keep freed memory for reuse rather than handing every large
 * work matrix back to the OS (glibc maps blocks above its dynamic threshold afresh each time; a
 * JDA round or a weighting fit then pays first-touch page faults again, which a VM makes slow).
 * A host's choice, so it lives here, not in the library. */
static void host_memory_setup(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

int main(int argc, char **argv) {
    host_memory_setup();
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "--man") == 0) {
            cli_print_man(stdout);
            return fflush(stdout) != 0;
        }
        if (argc > 2) {
            const cli_command *c = cli_find(argv[2]);
            if (!c) {
                fprintf(stderr, "tl: unknown command '%s' (see 'tl help')\n", argv[2]);
                return 2;
            }
            cli_print_usage(stdout, c);
            return 0;
        }
        print_overview(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0)
        return run_version(argc - 2, argv + 2);
    const cli_command *c = cli_find(name);
    if (!c) {
        fprintf(stderr, "tl: unknown command '%s' (see 'tl help')\n", name);
        return 2;
    }
    cli_cmd_name = c->name;
    cli_args a;
    if (cli_parse(c, argc - 2, argv + 2, &a) != 0) return CLI_EXIT_USAGE;
    /* values the command line alone can refute are usage errors, found before any work */
    int rc = cli_check_common(&a);
    if (rc != 0) return rc;
    long threads;
    if (!cli_get_long(&a, "threads", 0, 4096, &threads)) return CLI_EXIT_USAGE;
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = (int)threads;
    tl_ctx_apply_threads(&ctx);
    return c->run(&a);
}
