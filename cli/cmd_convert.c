/* `tl convert IN OUT`: read any supported format and write CSV, svmlight or .npy (by OUT's
 * extension or --to). The write goes to a temporary file renamed into place, so a failed
 * conversion leaves no OUT behind; OUT may also be a stream (/dev/stdout, a FIFO), written
 * through (tl_wfile). */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const cli_opt convert_opts[] = {
    CLI_DATA_OPTS,
    CLI_TASK_OPT,
    {"to", "FMT", "auto", "output format: auto (by extension), csv, svmlight, npy"},
    {"out-index-base", "B", "1", "svmlight output feature index base: 0 or 1"},
    {"", NULL, NULL, NULL}};

static int run_convert(cli_args *a) {
    if (a->npos != 2) return cli_usage("expects IN and OUT (see 'tl help convert')");
    tl_format fmt = TL_FORMAT_AUTO;
    const char *to = cli_get(a, "to");
    if (to && strcmp(to, "auto") != 0 && tl_format_parse(to, &fmt) != TL_OK)
        return cli_usage("--to: unknown format '%s' (csv, svmlight, npy)", to);
    struct stat sb;
    if (stat(a->pos[1], &sb) == 0 && S_ISDIR(sb.st_mode))
        return cli_fail("cannot write '%s': it is a directory, not a file", a->pos[1]);
    if (fmt == TL_FORMAT_AUTO) fmt = tl_format_guess(a->pos[1]);
    if (fmt != TL_FORMAT_CSV && fmt != TL_FORMAT_SVMLIGHT && fmt != TL_FORMAT_NPY)
        return cli_usage("cannot write '%s': output formats are csv, svmlight and npy (use --to)",
                         a->pos[1]);
    long base;
    if (!cli_get_long(a, "out-index-base", 0, 1, &base)) return CLI_EXIT_USAGE;
    tl_dataset *ds = NULL;
    const double t0 = cli_now();
    if (cli_load(a, a->pos[0], &ds) != TL_OK) return 1;
    tl_status st = tl_dataset_save(ds, a->pos[1], fmt, (int)base);
    int rc = 0;
    if (st != TL_OK) {
        rc = cli_fail_status(st, "cannot write '%s'", a->pos[1]);
    } else if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "convert");
        tl_json_str(&j, "input", a->pos[0]);
        tl_json_str(&j, "output", a->pos[1]);
        tl_json_str(&j, "format", tl_format_name(fmt));
        tl_json_int(&j, "n_rows", (long long)tl_dataset_rows(ds));
        tl_json_int(&j, "n_features", (long long)tl_dataset_cols(ds));
        tl_json_num(&j, "seconds", cli_now() - t0);
        rc = cli_json_finish(&j);
    } else {
        cli_info(a, "wrote %s (%s, %zu x %zu)", a->pos[1], tl_format_name(fmt),
                 tl_dataset_rows(ds), tl_dataset_cols(ds));
    }
    tl_dataset_free(ds);
    return rc;
}

const cli_command cmd_convert = {"convert", "convert a data set between formats",
                                 "IN OUT [options]", convert_opts, run_convert, 0, NULL};
