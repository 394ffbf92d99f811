/* tl_report_render: a saved run's JSON report (docs/report.md) as one self-contained HTML page -
 * inline SVG and CSS, no script, nothing fetched, so it opens offline and in a headless browser
 * without a console error - or as the SVG figures alone, for papers. It reads the JSON, not a
 * tl_report, so a run saved with --report FILE or `--json >FILE` renders later, on another
 * machine, from the file alone. The page puts the transfer next to every baseline the run
 * measured, shows the guard's evidence before and after the mapping, and calls out a negative
 * transfer the way the text report does (tlx_negative_drop: a drop beyond the noise of the scored
 * rows is MEASURED; a guard verdict without it is LIKELY). Every string from the file is escaped. */
#include <math.h>
#include <string.h>

#include "internal/check.h"
#include "internal/file.h"
#include "internal/jread.h"
#include "pipeline_internal.h"

/* text with &, <, >, " and ' escaped (for element text and attribute values alike) */
static void esc(tlx_text *t, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': tlx_tprintf(t, "&amp;"); break;
        case '<': tlx_tprintf(t, "&lt;"); break;
        case '>': tlx_tprintf(t, "&gt;"); break;
        case '"': tlx_tprintf(t, "&quot;"); break;
        case '\'': tlx_tprintf(t, "&#39;"); break;
        default: tlx_tprintf(t, "%c", *s);
        }
    }
}

/* One bar of a chart: a label, a value (NaN: not measured, drawn as "n/a"), and its role. */
typedef struct {
    const char *label;
    double value;
    int role; /* 0 the transfer, 1 a baseline, 2 before the mapping, 3 after it */
} bar;

static const char *const bar_fill[] = {"#2b6cb0", "#a0aec0", "#dd6b20", "#38a169"};

#define CHART_W 640
#define ROW_H 22
#define LABEL_W 210

/* A horizontal bar chart as an <svg> element at vertical offset y (0 inside HTML), values scaled
 * to [0, hi]; pct: values are fractions shown as percentages; ref: a dashed line at that value
 * (NaN: none). Returns the chart's height. */
static int svg_bars(tlx_text *t, int y, const char *title, const bar *b, size_t n, double hi,
                    bool pct, double ref) {
    int h = 30 + (int)n * ROW_H + 10, plot = CHART_W - LABEL_W - 70;
    tlx_tprintf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" y=\"%d\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
                   "<title>", y, CHART_W, h, CHART_W, h);
    esc(t, title);
    tlx_tprintf(t, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                   "<text x=\"4\" y=\"16\" font-weight=\"bold\" font-size=\"13\">", CHART_W, h);
    esc(t, title);
    tlx_tprintf(t, "</text>");
    if (!(hi > 0) || !isfinite(hi)) hi = 1;
    for (size_t i = 0; i < n; i++) {
        int ry = 28 + (int)i * ROW_H;
        tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 6, ry + 14);
        esc(t, b[i].label);
        tlx_tprintf(t, "</text>");
        if (isnan(b[i].value)) {
            tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" fill=\"#718096\">not measured</text>",
                        LABEL_W + 4, ry + 14);
            continue;
        }
        double w = fmax(0, fmin(1, b[i].value / hi)) * plot;
        tlx_tprintf(t, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", LABEL_W,
                    ry + 2, w, ROW_H - 6, bar_fill[b[i].role]);
        if (pct)
            tlx_tprintf(t, "<text x=\"%.1f\" y=\"%d\">%.2f %%</text>", LABEL_W + w + 4, ry + 14,
                        100 * b[i].value);
        else
            tlx_tprintf(t, "<text x=\"%.1f\" y=\"%d\">%.4g</text>", LABEL_W + w + 4, ry + 14,
                        b[i].value);
    }
    if (!isnan(ref) && ref >= 0 && ref <= hi) {
        double x = LABEL_W + ref / hi * plot;
        tlx_tprintf(t, "<line x1=\"%.1f\" y1=\"24\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c53030\" "
                       "stroke-dasharray=\"4 3\"/>", x, x, h - 6);
    }
    tlx_tprintf(t, "</svg>");
    return h;
}

static double maxv(const bar *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(b[i].value) && b[i].value > m) m = b[i].value;
    return m;
}

/* The results chart of one report: the transfer against each baseline (best one dashed). */
static int results_chart(tlx_text *t, int y, const tlx_jval *r) {
    bool reg = tlx_json_num(r, "rmse") == tlx_json_num(r, "rmse"); /* a number: regression */
    if (reg) {
        bar b[] = {{"transfer RMSE", tlx_json_num(r, "rmse"), 0},
                   {"no transfer (source only)", tlx_json_num(r, "baseline_rmse"), 1},
                   {"target only", tlx_json_num(r, "target_only_rmse"), 1},
                   {"pooled (source + target)", tlx_json_num(r, "pooled_rmse"), 1}};
        tlx_drop d = tlx_negative_drop(true, b[0].value, b[1].value, b[2].value, 1);
        return svg_bars(t, y, "RMSE on the scored rows (lower is better)", b, 4,
                        1.1 * maxv(b, 4), false, isfinite(d.best) ? d.best : NAN);
    }
    bar b[] = {{"transfer: accuracy", tlx_json_num(r, "accuracy"), 0},
               {"no transfer (source only)", tlx_json_num(r, "baseline_accuracy"), 1},
               {"target only", tlx_json_num(r, "target_only_accuracy"), 1},
               {"pooled (source + target)", tlx_json_num(r, "pooled_accuracy"), 1},
               {"transfer: balanced accuracy", tlx_json_num(r, "balanced_accuracy"), 0},
               {"no transfer: balanced", tlx_json_num(r, "baseline_balanced_accuracy"), 1},
               {"transfer: macro-F1", tlx_json_num(r, "macro_f1"), 0},
               {"no transfer: macro-F1", tlx_json_num(r, "baseline_macro_f1"), 1}};
    size_t n = 8;
    if (isnan(b[2].value) && isnan(b[3].value)) { /* no labelled target rows: leave them out */
        memmove(b + 2, b + 4, 4 * sizeof *b);
        n = 6;
    }
    tlx_drop d = tlx_negative_drop(false, b[0].value, tlx_json_num(r, "baseline_accuracy"),
                                   tlx_json_num(r, "target_only_accuracy"), 1);
    return svg_bars(t, y, "Accuracy on the scored rows (dashed: the best baseline)", b, n, 1, true,
                    d.best > 0 ? d.best : NAN);
}

/* The guard's chart: MMD and reverse validation before and after the mapping. */
static int guard_chart(tlx_text *t, int y, const tlx_jval *g) {
    bar m[] = {{"MMD^2 before the mapping", tlx_json_num(g, "mmd_before"), 2},
               {"MMD^2 after", tlx_json_num(g, "mmd_after"), 3}};
    int h = svg_bars(t, y, "Guard: domain distance (lower: closer)", m, 2, 1.1 * maxv(m, 2), false,
                     NAN);
    bar v[] = {{"reverse validation before", tlx_json_num(g, "reverse_validation_before"), 2},
               {"reverse validation after", tlx_json_num(g, "reverse_validation_after"), 3},
               {"agreement of the labelings", tlx_json_num(g, "agreement"), 3},
               {"effective sample share", tlx_json_num(g, "effective_sample_share"), 3}};
    return h + svg_bars(t, y + h, "Guard: label-free evidence", v, 4, 1, true, NAN);
}

/* "12.34 %", or the number, or "n/a" for null */
static void cell(tlx_text *t, const tlx_jval *v, bool pct) {
    if (!v || v->type == TLX_JNULL) tlx_tprintf(t, "<td class=\"na\">n/a</td>");
    else if (v->type == TLX_JNUM && pct) tlx_tprintf(t, "<td>%.2f %%</td>", 100 * v->num);
    else if (v->type == TLX_JNUM) tlx_tprintf(t, "<td>%.6g</td>", v->num);
    else if (v->type == TLX_JBOOL) tlx_tprintf(t, "<td>%s</td>", v->b ? "yes" : "no");
    else if (v->type == TLX_JSTR) tlx_tprintf(t, "<td>"), esc(t, v->str), tlx_tprintf(t, "</td>");
    else tlx_tprintf(t, "<td>(%zu items)</td>", v->n);
}

/* every member of an object as a two-column table (nested objects flattened one level) */
static void kv_table(tlx_text *t, const char *title, const tlx_jval *o, bool pct_keys) {
    if (!o || o->type != TLX_JOBJ || !o->n) return;
    tlx_tprintf(t, "<h3>");
    esc(t, title);
    tlx_tprintf(t, "</h3><table>");
    for (size_t i = 0; i < o->n; i++) {
        if (o->items[i]->type == TLX_JOBJ) {
            kv_table(t, o->keys[i], o->items[i], pct_keys);
            continue;
        }
        const char *k = o->keys[i];
        bool pct = pct_keys && (strstr(k, "accuracy") || strstr(k, "validation") ||
                                strcmp(k, "agreement") == 0 || strcmp(k, "chance") == 0);
        tlx_tprintf(t, "<tr><th>");
        esc(t, k);
        tlx_tprintf(t, "</th>");
        cell(t, o->items[i], pct);
        tlx_tprintf(t, "</tr>");
    }
    tlx_tprintf(t, "</table>");
}

/* The call-out: measured negative transfer, likely (the guard only), none, or not scored. */
static void verdict_box(tlx_text *t, const tlx_jval *r) {
    bool reg = !isnan(tlx_json_num(r, "rmse"));
    double got = tlx_json_num(r, reg ? "rmse" : "accuracy");
    double so = tlx_json_num(r, reg ? "baseline_rmse" : "baseline_accuracy");
    double to = tlx_json_num(r, reg ? "target_only_rmse" : "target_only_accuracy");
    double n = tlx_json_num(r, "n_eval");
    int guard = tlx_json_bool(r, "negative_transfer");
    const char *why = tlx_json_str(tlx_json_get(r, "guard"), "reason");
    const char *cls, *head;
    char line[256];
    if (isnan(got) || !(n > 0)) {
        cls = guard == 1 ? "likely" : "none";
        head = guard == 1 ? "Negative transfer LIKELY (the guard, without labels)"
                          : "Not scored: the target rows carry no labels";
        /* what an unlabelled target can still be told against no transfer: the share of its
           rows whose class the transfer changed (JSON changed_from_no_transfer) */
        double ch = tlx_json_num(r, "changed_from_no_transfer");
        const char *gv = guard == 1 ? "the guard judged it harmful"
                                    : "the guard's label-free verdict is all there is";
        if (!isnan(ch))
            snprintf(line, sizeof line, "the transfer changed the class of %.1f %% of the rows "
                     "against no transfer; %s", 100 * ch, gv);
        else
            snprintf(line, sizeof line, "%s", guard == 1 ? "" : gv);
    } else if (isnan(so) && isnan(to)) {
        cls = "none", head = "No baseline was measured";
        snprintf(line, sizeof line, "nothing to compare the transfer with");
    } else {
        tlx_drop d = tlx_negative_drop(reg, got, so, to, (size_t)n);
        const char *g = guard == -1 ? "" : guard ? " The guard saw it too." : " The guard's evidence did not show it.";
        if (d.measured) {
            cls = "measured", head = "Negative transfer MEASURED";
            if (reg)
                snprintf(line, sizeof line, "RMSE %.6g against %.6g without transfer, beyond the "
                         "noise of %.0f scored rows (+-%.3g).%s", got, d.best, n, d.noise, g);
            else
                snprintf(line, sizeof line, "%.2f %% against %.2f %% without transfer, beyond the "
                         "noise of %.0f scored rows (+-%.2f points).%s", 100 * got, 100 * d.best,
                         n, 100 * d.noise, g);
        } else {
            cls = guard == 1 ? "likely" : "ok";
            head = guard == 1 ? "Negative transfer LIKELY (the guard), not measured"
                              : "No negative transfer measured";
            if (reg)
                snprintf(line, sizeof line, "RMSE %.6g against %.6g without transfer (noise of "
                         "%.0f scored rows +-%.3g).", got, d.best, n, d.noise);
            else
                snprintf(line, sizeof line, "%.2f %% against %.2f %% without transfer, gain "
                         "%+.2f points (noise of %.0f scored rows +-%.2f points).", 100 * got,
                         100 * d.best, 100 * (got - d.best), n, 100 * d.noise);
        }
    }
    tlx_tprintf(t, "<div class=\"verdict %s\" id=\"verdict\"><strong>%s</strong><br>", cls, head);
    esc(t, line);
    if (why) {
        tlx_tprintf(t, "<br>Guard: ");
        esc(t, why);
    }
    tlx_tprintf(t, "</div>");
}

static const char *const style =
    "body{font-family:sans-serif;max-width:760px;margin:1.5em auto;color:#1a202c}"
    "table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #cbd5e0;padding:2px 8px;"
    "text-align:left;font-size:13px}th{background:#edf2f7;font-weight:normal}td.na{color:#718096}"
    ".verdict{padding:.6em 1em;border-radius:4px;margin:1em 0}.measured{background:#fed7d7;"
    "border:2px solid #c53030}.likely{background:#feebc8;border:2px solid #dd6b20}"
    ".ok{background:#c6f6d5;border:2px solid #38a169}.none{background:#edf2f7;"
    "border:2px solid #a0aec0}svg{display:block;margin:.5em 0}";

/* One run's section of the page. */
static void run_section(tlx_text *t, const tlx_jval *r) {
    tlx_tprintf(t, "<h2>");
    esc(t, tlx_json_str(r, "method") ? tlx_json_str(r, "method") : "(method not named)");
    tlx_tprintf(t, " (");
    esc(t, tlx_json_str(r, "family") ? tlx_json_str(r, "family") : "?");
    tlx_tprintf(t, ")</h2><p>");
    esc(t, tlx_json_str(r, "source"));
    tlx_tprintf(t, " (%.0f rows) &rarr; ", fmax(0, tlx_json_num(r, "n_source")));
    esc(t, tlx_json_str(r, "target"));
    tlx_tprintf(t, " (%.0f rows); scored on ", fmax(0, tlx_json_num(r, "n_target")));
    esc(t, tlx_json_str(r, "evaluated_on"));
    tlx_tprintf(t, " (%.0f rows); learner ", fmax(0, tlx_json_num(r, "n_eval")));
    esc(t, tlx_json_str(r, "learner"));
    tlx_tprintf(t, ", preprocess ");
    esc(t, tlx_json_str(r, "preprocess"));
    tlx_tprintf(t, "</p>");
    verdict_box(t, r);
    results_chart(t, 0, r);
    const tlx_jval *g = tlx_json_get(r, "guard");
    if (g && g->type == TLX_JOBJ) {
        guard_chart(t, 0, g);
        kv_table(t, "The guard's evidence", g, true);
    } else {
        tlx_tprintf(t, "<p>The guard did not run (--no-guard).</p>");
    }
    kv_table(t, "Parameters", tlx_json_get(r, "params"), false);
    kv_table(t, "What the fit settled on", tlx_json_get(r, "model"), false);
    static const char *const scalar[] = {
        "gain", "worse_than_baseline", "worse_than", "weight_min", "weight_max", "weight_zeros",
        "effective_sample_size", "seconds", "baseline_seconds", "guard_seconds",
        "preprocess_seconds", "total_seconds"};
    tlx_tprintf(t, "<h3>Run</h3><table>");
    for (size_t i = 0; i < sizeof scalar / sizeof *scalar; i++) {
        const tlx_jval *v = tlx_json_get(r, scalar[i]);
        if (!v) continue;
        tlx_tprintf(t, "<tr><th>%s</th>", scalar[i]);
        cell(t, v, false);
        tlx_tprintf(t, "</tr>");
    }
    tlx_tprintf(t, "</table>");
}

/* A multi-source run: the combined result, then each source against its own baseline. */
static void multi_section(tlx_text *t, const tlx_jval *r, const tlx_jval *src) {
    tlx_tprintf(t, "<h2>Several sources: ");
    esc(t, tlx_json_str(r, "method"));
    tlx_tprintf(t, ", combined by ");
    esc(t, tlx_json_str(r, "combine"));
    tlx_tprintf(t, "</h2><p>target ");
    esc(t, tlx_json_str(r, "target"));
    tlx_tprintf(t, " (%.0f scored rows); combined accuracy ", fmax(0, tlx_json_num(r, "n_eval")));
    double acc = tlx_json_num(r, "accuracy");
    if (isnan(acc)) tlx_tprintf(t, "not measured");
    else tlx_tprintf(t, "%.2f %%", 100 * acc);
    tlx_tprintf(t, "%s</p>", tlx_json_bool(r, "all_harmful") == 1 ? "; every source judged harmful" : "");
    for (size_t i = 0; i < src->n; i++) {
        const tlx_jval *s = src->items[i];
        bar b[] = {{"transfer", tlx_json_num(s, "accuracy"), 0},
                   {"no transfer (source only)", tlx_json_num(s, "baseline_accuracy"), 1}};
        char title[160];
        snprintf(title, sizeof title, "Source %s%s", tlx_json_str(s, "source") ? tlx_json_str(s, "source") : "?",
                 tlx_json_bool(s, "dropped") == 1 ? " (dropped)" : "");
        svg_bars(t, 0, title, b, 2, 1, true, NAN);
        const char *why = tlx_json_str(s, "dropped_because");
        if (!why) why = tlx_json_str(s, "guard_reason");
        if (why) {
            tlx_tprintf(t, "<p>%s", tlx_json_bool(s, "negative_transfer") == 1 ? "<strong>Negative transfer LIKELY</strong> (the guard): " : "Guard: ");
            esc(t, why);
            tlx_tprintf(t, "</p>");
        }
    }
}

tl_status tl_report_render(const char *json, size_t len, tl_report_format fmt, char **out) {
    tl_status st = TL_OK;
    tlx_jval *doc = NULL;
    tlx_text t = {NULL, 0, 0, false};
    if (!json || !out) return tl_fail(TL_ERR_INVALID_ARG, "report_render: NULL text or output");
    *out = NULL;
    TL_CHECK(fmt == TL_REPORT_HTML || fmt == TL_REPORT_SVG, TL_ERR_INVALID_ARG,
             "report_render: unknown format %d", (int)fmt);
    TL_TRY(tlx_json_parse(json, len, &doc));
    TL_CHECK(doc->type == TLX_JOBJ, TL_ERR_FORMAT, "the report is not a JSON object");
    const tlx_jval *src = tlx_json_get(doc, "sources");
    bool multi = src && src->type == TLX_JARR;
    TL_CHECK(multi || tlx_json_get(doc, "accuracy"), TL_ERR_FORMAT,
             "not a transfer report: no key \"accuracy\" (a report of tl adapt, weight, "
             "tradaboost or finetune saved with --json or --report)");
    TL_CHECK(multi || tlx_json_str(doc, "method"), TL_ERR_FORMAT,
             "not a transfer report: no key \"method\"");
    if (fmt == TL_REPORT_SVG) {
        TL_CHECK(!multi, TL_ERR_UNSUPPORTED,
                 "the SVG figure is drawn for one run; a run with several sources renders as HTML");
        tlx_text body = {NULL, 0, 0, false};
        int h = results_chart(&body, 0, doc);
        const tlx_jval *g = tlx_json_get(doc, "guard");
        if (g && g->type == TLX_JOBJ) h += guard_chart(&body, h, g);
        tlx_tprintf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/"
                        "2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%s</svg>\n",
                    CHART_W, h, CHART_W, h, body.buf ? body.buf : "");
        t.oom |= body.oom;
        tl_free(body.buf);
    } else {
        tlx_tprintf(&t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                        "style-src 'unsafe-inline'; img-src data:\"><title>libtl report: ");
        esc(&t, multi ? "several sources" : tlx_json_str(doc, "method"));
        tlx_tprintf(&t, "</title><style>%s</style></head><body><h1>libtl transfer report</h1>", style);
        if (tlx_json_str(doc, "command")) {
            tlx_tprintf(&t, "<p>tl ");
            esc(&t, tlx_json_str(doc, "command"));
            tlx_tprintf(&t, "</p>");
        }
        if (multi) multi_section(&t, doc, src);
        else run_section(&t, doc);
        tlx_tprintf(&t, "</body></html>\n");
    }
    st = tlx_text_end(&t, out);
    t.buf = NULL;
done:
    tl_free(t.buf);
    tlx_json_free(doc);
    return st;
}

tl_status tl_report_render_file(const char *path, tl_report_format fmt, char **out) {
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!path || !out) return tl_fail(TL_ERR_INVALID_ARG, "report_render_file: NULL path or output");
    *out = NULL;
    tl_status st = tli_file_read_all(path, &buf, &len);
    if (st == TL_OK) st = tl_report_render((const char *)buf, len, fmt, out);
    tl_free(buf);
    if (st != TL_OK && st != TL_ERR_IO && st != TL_ERR_NOMEM) return tl_fail_prefix(st, "%s", path);
    return st;
}
