/* `tl report RUN.json`: a saved run's report (the JSON of `tl adapt|weight|tradaboost|finetune
 * --json`, or written with --report FILE) rendered for people by the library (tl_report_render):
 * a self-contained HTML page (--out, default stdout) and/or the SVG figures alone (--svg) for a
 * paper. Every file is written all or none (tl_wfile, one batch): a failed run leaves none. */
#include <string.h>
#include <strings.h>

#include "cli.h"

static int run_report(cli_args *a);

static const cli_opt report_opts[] = {
    {"out", "FILE", "-", "the HTML page ('-': standard output)"},
    {"svg", "FILE", NULL, "also write the figures alone as SVG"},
    {"", NULL, NULL, NULL}};

const cli_command cmd_report = {"report",
                                "a saved run's report as an HTML page and SVG figures",
                                "RUN.json [--out PAGE.html] [--svg FIG.svg]\n"
                                "       RUN.json is the output of a transferring command's --json "
                                "(or its --report FILE)",
                                report_opts,
                                run_report,
                                0,
                                NULL};

static tl_status write_all(const char *path, const char *text) {
    tl_wfile *w = NULL;
    tl_status st = tl_wfile_open(path, &w);
    if (st == TL_OK) st = tl_wfile_write(w, text, strlen(text));
    if (st == TL_OK) return tl_wfile_commit(w);
    tl_wfile_abort(w);
    return st;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcasecmp(s + n - k, tail) == 0;
}

tl_status cli_save_report(const char *json, const char *path) {
    bool html = ends_with(path, ".html") || ends_with(path, ".htm"), svg = ends_with(path, ".svg");
    if (!html && !svg) return write_all(path, json);
    char *page = NULL;
    tl_status st = tl_report_render(json, strlen(json), html ? TL_REPORT_HTML : TL_REPORT_SVG, &page);
    if (st == TL_OK) st = write_all(path, page);
    tl_free(page);
    return st;
}

static int run_report(cli_args *a) {
    if (a->npos != 1) return cli_usage("expects one saved report (see 'tl help report')");
    const char *in = a->pos[0], *out = cli_get(a, "out"), *svg = cli_get(a, "svg");
    if (strcmp(out, "-") == 0) out = "/dev/stdout";
    bool json = cli_flag(a, "json");
    if (json && strcmp(out, "/dev/stdout") == 0)
        return cli_usage("--json prints what was written: give the page a file (--out FILE)");
    if (tl_wfile_check(out) != TL_OK) return cli_fail_status(TL_ERR_IO, "--out");
    if (svg && tl_wfile_check(svg) != TL_OK) return cli_fail_status(TL_ERR_IO, "--svg");
    char *html = NULL, *fig = NULL;
    tl_status st = tl_report_render_file(in, TL_REPORT_HTML, &html);
    if (st == TL_OK && svg) st = tl_report_render_file(in, TL_REPORT_SVG, &fig);
    if (st != TL_OK) {
        tl_free(html);
        return cli_fail_status(st, "rendering the report");
    }
    tl_wfile_batch_begin();
    if ((st = write_all(out, html)) == TL_OK && (!svg || (st = write_all(svg, fig)) == TL_OK))
        st = tl_wfile_batch_commit();
    if (st != TL_OK) tl_wfile_batch_abort();
    tl_free(html);
    tl_free(fig);
    if (st != TL_OK) return cli_fail_status(st, "writing the report");
    if (json) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "report");
        tl_json_str(&j, "input", in);
        tl_json_str(&j, "output", out);
        tl_json_str(&j, "svg", svg);
        return cli_json_finish(&j);
    }
    if (strcmp(out, "/dev/stdout") != 0) cli_info(a, "wrote %s%s%s", out, svg ? " and " : "", svg ? svg : "");
    return 0;
}
