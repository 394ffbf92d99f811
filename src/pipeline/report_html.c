/* tl_report_render: a saved run's JSON report (docs/report.md) as one self-contained HTML page -
 * inline SVG and CSS, no script, nothing fetched, so it opens offline and in a headless browser
 * without a console error - or as the SVG figures alone, for papers. It reads the JSON, not a
 * tl_report, so a run saved with --report FILE or `--json >FILE` renders later, on another
 * machine, from the file alone. The page puts the transfer next to every baseline the run
 * measured, shows the guard's evidence before and after the mapping, and calls out a negative
 * transfer the way the text report does (tlx_negative_drop: a drop beyond the noise of the scored
 * rows is MEASURED; a guard verdict without it is LIKELY). What a run saved with --report FILE
 * adds (report_views.c) is drawn when present: the confusion matrices of the transfer and of no
 * transfer, a network's learning curve, and the two domains before and after the mapping (PCA to
 * 2-D, both axes to one scale so the picture is not stretched). Those parts are read defensively:
 * a malformed one is left off the page, never read out of bounds. Every string from the file is
 * escaped. */
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

/* ---- the 2-D view and the confusion matrices (JSON "view", "confusion"; report_views.c) ---- */

static const char *const class_fill[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_FILL (sizeof class_fill / sizeof *class_fill)

static bool is_arr(const tlx_jval *v, size_t n) { return v && v->type == TLX_JARR && v->n == n; }

/* n points, each an array [x, y] */
static bool is_points(const tlx_jval *p, size_t n) {
    if (!is_arr(p, n)) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_arr(p->items[i], 2)) return false;
    return true;
}

/* the i-th number of array a (NaN when it is not one) */
static double item_num(const tlx_jval *a, size_t i) {
    return a && i < a->n && a->items[i]->type == TLX_JNUM ? a->items[i]->num : NAN;
}

#define PANEL 300 /* a scatter panel's side */

/* One scatter panel at (x0, y0): points p (n arrays [x, y]), source rows as filled discs and
 * target rows as rings, coloured by class (grey: no label). */
static void scatter_panel(tlx_text *t, int x0, int y0, const char *title, const tlx_jval *p,
                          const tlx_jval *dom, const tlx_jval *cls) {
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < p->n; i++)
        for (int a = 0; a < 2; a++) {
            double v = item_num(p->items[i], (size_t)a);
            if (isfinite(v)) lo[a] = fmin(lo[a], v), hi[a] = fmax(hi[a], v);
        }
    double span = fmax(hi[0] - lo[0], hi[1] - lo[1]);
    tlx_tprintf(t, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#cbd5e0\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">", x0,
                y0 + 18, PANEL, PANEL, x0 + 4, y0 + 13);
    esc(t, title);
    tlx_tprintf(t, "</text>");
    for (int pass = 0; pass < 2; pass++) /* the source first, the target on top */
        for (size_t i = 0; i < p->n; i++) {
            int d = (int)item_num(dom, i);
            if ((d != 0) != (pass == 1)) continue;
            double x = item_num(p->items[i], 0), y = item_num(p->items[i], 1);
            if (!isfinite(x) || !isfinite(y)) continue;
            /* one scale for both axes (a PCA plane drawn to scale), centred */
            double u = 0.5 + (span > 0 ? (x - 0.5 * (lo[0] + hi[0])) / span : 0);
            double v = 0.5 + (span > 0 ? (y - 0.5 * (lo[1] + hi[1])) / span : 0);
            double c = item_num(cls, i);
            const char *col = c >= 0 ? class_fill[(size_t)c % N_FILL] : "#a0aec0";
            double px = x0 + 8 + u * (PANEL - 16), py = y0 + 18 + 8 + (1 - v) * (PANEL - 16);
            if (d == 0)
                tlx_tprintf(t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" fill=\"%s\" "
                               "fill-opacity=\"0.75\"/>", px, py, col);
            else
                tlx_tprintf(t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"none\" "
                               "stroke=\"%s\" stroke-width=\"1.2\"/>", px, py, col);
        }
}

/* The view: before and after the mapping side by side, with the legend. tsne: the t-SNE layout
 * of the same rows ("tsne_before", "tsne_after"), else the PCA one ("before", "after"). Returns
 * the height (0 and nothing drawn without a well-formed "view"). */
static int view_chart(tlx_text *t, int y, const tlx_jval *r, bool tsne) {
    const tlx_jval *v = tlx_json_get(r, "view");
    if (!v || v->type != TLX_JOBJ) return 0;
    const tlx_jval *dom = tlx_json_get(v, "domain"), *cls = tlx_json_get(v, "class"),
                   *b = tlx_json_get(v, tsne ? "tsne_before" : "before"),
                   *a = tlx_json_get(v, tsne ? "tsne_after" : "after");
    if (!dom || dom->type != TLX_JARR || !is_arr(cls, dom->n) || !is_points(b, dom->n)) return 0;
    bool after = is_points(a, dom->n);
    int classes[N_FILL], nc = 0;
    bool more = false;
    for (size_t i = 0; i < cls->n; i++) {
        double c = item_num(cls, i);
        if (!(c >= 0)) continue;
        bool seen = false;
        for (int k = 0; k < nc; k++) seen |= classes[k] == (int)c;
        if (!seen && nc < (int)N_FILL) classes[nc++] = (int)c;
        else if (!seen) more = true;
    }
    for (int k = 1; k < nc; k++) /* the legend in label order */
        for (int l = k; l > 0 && classes[l - 1] > classes[l]; l--) {
            int tmp = classes[l];
            classes[l] = classes[l - 1];
            classes[l - 1] = tmp;
        }
    int h = 18 + PANEL + 50;
    tlx_tprintf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" y=\"%d\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
                   "font-size=\"12\" id=\"%s\"><title>The domains before and after the mapping "
                   "(%s to 2-D)</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
                y, CHART_W, h, CHART_W, h, tsne ? "tsne" : "view", tsne ? "t-SNE" : "PCA", CHART_W,
                h);
    bool sep = tlx_json_bool(v, "before_separate") == 1; /* two feature spaces */
    scatter_panel(t, 4, 0, sep ? (tsne ? "before: each domain's own t-SNE" : "before: each domain "
                                         "on its own axes (two feature spaces)")
                               : tsne ? "before the mapping (t-SNE of the rows)"
                                      : "before the mapping (PCA of the rows)", b, dom, cls);
    if (after)
        scatter_panel(t, CHART_W - PANEL - 4, 0, tsne ? "after the mapping (t-SNE of the mapped rows)"
                                                      : "after the mapping (PCA of the mapped rows)",
                      a, dom, cls);
    else
        tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" fill=\"#718096\">this method maps no rows "
                       "(it weights or combines them)</text>", CHART_W - PANEL, 18 + PANEL / 2);
    int ly = 18 + PANEL + 18;
    tlx_tprintf(t, "<circle cx=\"10\" cy=\"%d\" r=\"3\" fill=\"#4a5568\"/><text x=\"18\" "
                   "y=\"%d\">source</text><circle cx=\"80\" cy=\"%d\" r=\"3\" fill=\"none\" "
                   "stroke=\"#4a5568\"/><text x=\"88\" y=\"%d\">target (scored rows)</text>",
                ly - 4, ly, ly - 4, ly);
    for (int k = 0; k < nc; k++) {
        int lx = 230 + (k % 10) * 40;
        tlx_tprintf(t, "<rect x=\"%d\" y=\"%d\" width=\"9\" height=\"9\" fill=\"%s\"/>"
                       "<text x=\"%d\" y=\"%d\">%d</text>", lx, ly - 9, class_fill[(size_t)classes[k] % N_FILL],
                    lx + 12, ly, classes[k]);
    }
    tlx_tprintf(t, "<text x=\"4\" y=\"%d\" fill=\"#718096\">colour: class%s; %s, an even "
                   "subsample of each domain</text></svg>", ly + 20,
                more ? " (colours repeat beyond 10 classes)" : "",
                tsne ? "t-SNE, perplexity 30: neighbours stay neighbours, distances between "
                       "groups mean little"
                     : "each panel on its own two principal axes");
    return h;
}

/* The instance weights against the domain classifier's p(target | x) (JSON "weights_view"): one
 * point per source row, each axis from 0 to its largest value. A weighting that follows the
 * classifier rises to the right. Returns the height (0: none, or malformed). */
static int weights_chart(tlx_text *t, int y, const tlx_jval *r) {
    const tlx_jval *v = tlx_json_get(r, "weights_view");
    if (!v || v->type != TLX_JOBJ) return 0;
    const tlx_jval *w = tlx_json_get(v, "weight"), *p = tlx_json_get(v, "target_probability");
    if (!w || w->type != TLX_JARR || !w->n || !is_arr(p, w->n)) return 0;
    double wh = 0, ph = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (isfinite(item_num(w, i))) wh = fmax(wh, item_num(w, i));
        if (isfinite(item_num(p, i))) ph = fmax(ph, item_num(p, i));
    }
    if (!(wh > 0)) wh = 1;
    if (!(ph > 0)) ph = 1;
    int h = 300, left = 60, top = 28, pw = CHART_W - left - 20, ph_ = h - top - 50;
    tlx_tprintf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" y=\"%d\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\" "
                   "id=\"weights\"><title>Instance weights against the domain classifier</title>"
                   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><text x=\"4\" y=\"16\" "
                   "font-size=\"13\" font-weight=\"bold\">Each source row's weight against a domain "
                   "classifier's p(target | row)</text><rect x=\"%d\" y=\"%d\" width=\"%d\" "
                   "height=\"%d\" fill=\"none\" stroke=\"#cbd5e0\"/>",
                y, CHART_W, h, CHART_W, h, CHART_W, h, left, top, pw, ph_);
    tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text><text x=\"%d\" "
                   "y=\"%d\" text-anchor=\"end\">0</text><text x=\"%d\" y=\"%d\">0</text><text "
                   "x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text><text x=\"%d\" y=\"%d\" "
                   "text-anchor=\"middle\">p(target | row), logistic domain classifier</text>"
                   "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\" "
                   "text-anchor=\"middle\">weight</text>",
                left - 4, top + 10, wh, left - 4, top + ph_, left, top + ph_ + 14, left + pw,
                top + ph_ + 14, ph, left + pw / 2, top + ph_ + 32, top + ph_ / 2, top + ph_ / 2);
    for (size_t i = 0; i < w->n; i++) {
        double a = item_num(p, i), b = item_num(w, i);
        if (!isfinite(a) || !isfinite(b)) continue;
        tlx_tprintf(t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" fill=\"#2b6cb0\" "
                       "fill-opacity=\"0.6\"/>", left + fmax(0, fmin(1, a / ph)) * pw,
                    top + ph_ - fmax(0, fmin(1, b / wh)) * ph_);
    }
    tlx_tprintf(t, "</svg>");
    return h;
}

/* One confusion matrix at x0: rows the true class, columns the predicted one, each cell shaded
 * by its share of the row. */
static void confusion_panel(tlx_text *t, int x0, int cell, const char *title,
                            const tlx_jval *m, const tlx_jval *classes) {
    size_t k = classes->n;
    int top = 34;
    tlx_tprintf(t, "<text x=\"%d\" y=\"14\" font-size=\"12\">", x0);
    esc(t, title);
    tlx_tprintf(t, "</text><text x=\"%d\" y=\"28\" font-size=\"10\" fill=\"#718096\">"
                   "rows: true class; columns: predicted</text>", x0);
    for (size_t i = 0; i < k; i++) {
        const tlx_jval *row = m->items[i];
        double tot = 0;
        for (size_t l = 0; l < k; l++) tot += fmax(0, item_num(row, l));
        tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%.0f"
                       "</text>", x0 + 22, top + (int)i * cell + cell / 2 + 4, item_num(classes, i));
        for (size_t l = 0; l < k; l++) {
            double c = fmax(0, item_num(row, l)), f = tot > 0 ? c / tot : 0;
            int cx = x0 + 26 + (int)l * cell, cy = top + (int)i * cell;
            tlx_tprintf(t, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                           "fill-opacity=\"%.3f\" stroke=\"#e2e8f0\"/>", cx, cy, cell, cell,
                        i == l ? "#2b6cb0" : "#c53030", c > 0 ? 0.08 + 0.92 * f : 0.0);
            if (cell >= 18 && c > 0)
                tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" "
                               "fill=\"%s\">%.0f</text>", cx + cell / 2, cy + cell / 2 + 3,
                            f > 0.55 ? "#fff" : "#1a202c", c);
        }
    }
    for (size_t l = 0; l < k; l++)
        tlx_tprintf(t, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.0f"
                       "</text>", x0 + 26 + (int)l * cell + cell / 2, top + (int)k * cell + 12,
                    item_num(classes, l));
}

/* The parts of a well-formed "confusion" (classes k, two k x k arrays); false when malformed. */
static bool confusion_parts(const tlx_jval *r, const tlx_jval **cls_, const tlx_jval **tr_,
                            const tlx_jval **nt_) {
    const tlx_jval *c = tlx_json_get(r, "confusion");
    if (!c || c->type != TLX_JOBJ) return false;
    const tlx_jval *cls = tlx_json_get(c, "classes"), *tr = tlx_json_get(c, "transfer"),
                   *nt = tlx_json_get(c, "no_transfer");
    if (!cls || cls->type != TLX_JARR || !cls->n || !is_arr(tr, cls->n) || !is_arr(nt, cls->n))
        return false;
    for (size_t i = 0; i < cls->n; i++)
        if (!is_arr(tr->items[i], cls->n) || !is_arr(nt->items[i], cls->n)) return false;
    *cls_ = cls, *tr_ = tr, *nt_ = nt;
    return true;
}

/* Per class, from the two confusion matrices: rows scored, the transfer's and no transfer's
 * accuracy on them (recall) and the change in points (a drop in red). Nothing
 * without a well-formed "confusion". */
static void per_class_table(tlx_text *t, const tlx_jval *r) {
    const tlx_jval *cls, *tr, *nt;
    if (!confusion_parts(r, &cls, &tr, &nt)) return;
    tlx_tprintf(t, "<table id=\"per-class\"><tr><th>class</th><th>rows</th><th>transfer</th>"
                   "<th>no transfer (source only)</th><th>change</th></tr>");
    for (size_t i = 0; i < cls->n; i++) {
        double n = 0, nb = 0;
        for (size_t l = 0; l < cls->n; l++) {
            n += fmax(0, item_num(tr->items[i], l));
            nb += fmax(0, item_num(nt->items[i], l));
        }
        double a = n > 0 ? fmax(0, item_num(tr->items[i], i)) / n : NAN,
               b = nb > 0 ? fmax(0, item_num(nt->items[i], i)) / nb : NAN;
        tlx_tprintf(t, "<tr><td>%.0f</td><td>%.0f</td>", item_num(cls, i), n);
        if (isnan(a)) tlx_tprintf(t, "<td class=\"na\">n/a</td>");
        else tlx_tprintf(t, "<td>%.2f %%</td>", 100 * a);
        if (isnan(b)) tlx_tprintf(t, "<td class=\"na\">n/a</td>");
        else tlx_tprintf(t, "<td>%.2f %%</td>", 100 * b);
        if (isnan(a) || isnan(b)) tlx_tprintf(t, "<td class=\"na\">n/a</td></tr>");
        else tlx_tprintf(t, "<td%s>%+.2f</td></tr>", a < b ? " class=\"worse\"" : "", 100 * (a - b));
    }
    tlx_tprintf(t, "</table>");
}

/* The transfer's and the no-transfer learner's confusion matrices side by side (0 without a
 * well-formed "confusion"). */
static int confusion_chart(tlx_text *t, int y, const tlx_jval *r) {
    const tlx_jval *cls, *tr, *nt;
    if (!confusion_parts(r, &cls, &tr, &nt)) return 0;
    int cell = (int)((CHART_W / 2 - 40) / cls->n);
    if (cell > 26) cell = 26;
    if (cell < 3) cell = 3;
    int h = 34 + (int)cls->n * cell + 20;
    tlx_tprintf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" y=\"%d\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
                   "id=\"confusion\"><title>Confusion matrices on the scored rows</title>"
                   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
                y, CHART_W, h, CHART_W, h, CHART_W, h);
    confusion_panel(t, 4, cell, "transfer", tr, cls);
    confusion_panel(t, CHART_W / 2 + 4, cell, "no transfer (source only)", nt, cls);
    tlx_tprintf(t, "</svg>");
    return h;
}

/* One line chart of the learning curve at x0 (width w): the nk (<= 3) named series of "curve"
 * against the epoch, each scaled to [0, hi] (pct: shares shown as %). Returns whether anything
 * was drawn. */
static bool curve_panel(tlx_text *t, int x0, int w, int h, const char *title, const tlx_jval *c,
                        const char *const *keys, const char *const *names, int nk, bool pct) {
    static const char *const col[] = {"#2b6cb0", "#dd6b20", "#38a169"};
    double hi = 0;
    size_t n = 0;
    for (int k = 0; k < nk; k++) {
        const tlx_jval *a = tlx_json_get(c, keys[k]);
        if (!a || a->type != TLX_JARR) continue;
        n = a->n > n ? a->n : n;
        for (size_t e = 0; e < a->n; e++)
            if (isfinite(item_num(a, e))) hi = fmax(hi, item_num(a, e));
    }
    if (n == 0 || !(hi > 0)) return false;
    if (pct) hi = 1;
    int top = 24, ph = h - top - 46, pw = w - 50, left = x0 + 40;
    tlx_tprintf(t, "<text x=\"%d\" y=\"14\" font-size=\"12\">", x0);
    esc(t, title);
    tlx_tprintf(t, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#cbd5e0\"/><text x=\"%d\" y=\"%d\" font-size=\"10\" "
                   "text-anchor=\"end\">%.3g%s</text><text x=\"%d\" y=\"%d\" font-size=\"10\" "
                   "text-anchor=\"end\">0</text><text x=\"%d\" y=\"%d\" font-size=\"10\">epoch 1"
                   "</text><text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%zu</text>",
                left, top, pw, ph, left - 3, top + 9, pct ? 100 * hi : hi, pct ? " %" : "", left - 3,
                top + ph, left, top + ph + 12, left + pw, top + ph + 12, n);
    for (int k = 0; k < nk; k++) {
        const tlx_jval *a = tlx_json_get(c, keys[k]);
        if (!a || a->type != TLX_JARR) continue;
        bool open = false, any = false;
        for (size_t e = 0; e < a->n; e++) {
            double v = item_num(a, e);
            if (!isfinite(v)) continue;
            double px = left + (n > 1 ? (double)e / (double)(n - 1) : 0.5) * pw;
            double py = top + ph - fmax(0, fmin(1, v / hi)) * ph;
            if (!open) tlx_tprintf(t, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" "
                                      "points=\"", col[k]), open = true;
            tlx_tprintf(t, "%.1f,%.1f ", px, py);
            any = true;
        }
        if (open) tlx_tprintf(t, "\"/>");
        int ly = top + ph + 26;
        if (any)
            tlx_tprintf(t, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                           "stroke-width=\"2\"/><text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>",
                        left + (k % 2) * 120, ly - 3 + (k / 2) * 12, left + (k % 2) * 120 + 14,
                        ly - 3 + (k / 2) * 12, col[k], left + (k % 2) * 120 + 18, ly + (k / 2) * 12,
                        names[k]);
    }
    return true;
}

/* The learning curve of a network's training (JSON "curve"): loss and accuracy per epoch, the
 * training rows against the validation split, and deep adaptation's domain loss ("domain_loss",
 * before its lambda weight) with the losses. Returns the height (0: no curve). */
static int curve_chart(tlx_text *t, int y, const tlx_jval *r) {
    const tlx_jval *c = tlx_json_get(r, "curve");
    if (!c || c->type != TLX_JOBJ) return 0;
    static const char *const lk[] = {"train_loss", "val_loss", "domain_loss"},
                             *const ak[] = {"train_accuracy", "val_accuracy"};
    bool da = tlx_json_get(c, "domain_loss") != NULL;
    static const char *const names[] = {"training rows", "validation split", "domain loss"},
                             *const da_names[] = {"source rows", "held-out source",
                                                  "domain loss (before lambda)"};
    int h = 232;
    tlx_text body = {NULL, 0, 0, false};
    bool a = curve_panel(&body, 4, CHART_W / 2 - 8, h, "loss per epoch", c, lk,
                         da ? da_names : names, da ? 3 : 2, false);
    bool b = curve_panel(&body, CHART_W / 2 + 4, CHART_W / 2 - 8, h, "accuracy per epoch", c, ak,
                         da ? da_names : names, 2, true);
    if (a || b)
        tlx_tprintf(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" y=\"%d\" width=\"%d\" "
                       "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
                       "id=\"curve\"><title>Learning curve</title><rect width=\"%d\" height=\"%d\" "
                       "fill=\"#fff\"/>%s</svg>", y, CHART_W, h, CHART_W, h, CHART_W, h,
                    body.buf ? body.buf : "");
    t->oom |= body.oom;
    tl_free(body.buf);
    return a || b ? h : 0;
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
    "border:2px solid #a0aec0}svg{display:block;margin:.5em 0}td.worse{color:#c53030}";

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
    if (tlx_json_get(r, "confusion")) {
        tlx_tprintf(t, "<h3>Per class</h3>");
        per_class_table(t, r);
        confusion_chart(t, 0, r);
    }
    if (tlx_json_get(r, "curve")) {
        tlx_tprintf(t, "<h3>Learning curve</h3>");
        curve_chart(t, 0, r);
    }
    if (tlx_json_get(r, "view")) {
        tlx_tprintf(t, "<h3>The two domains before and after the mapping</h3>");
        view_chart(t, 0, r, false);
        view_chart(t, 0, r, true);
    }
    if (tlx_json_get(r, "weights_view")) {
        tlx_tprintf(t, "<h3>The weights against the domain classifier</h3>");
        weights_chart(t, 0, r);
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
    /* the per-source results and the weights the combination chose, side by side */
    tlx_tprintf(t, "<table id=\"sources\"><tr><th>source</th><th>transfer</th><th>no transfer "
                   "(source only)</th><th>weight in the combination</th><th>kept</th></tr>");
    bar wb[64];
    char wl[64][80];
    size_t nwb = 0;
    double whi = 0;
    for (size_t i = 0; i < src->n; i++) {
        const tlx_jval *s = src->items[i];
        const char *nm = tlx_json_str(s, "source") ? tlx_json_str(s, "source") : "?";
        tlx_tprintf(t, "<tr><td>");
        esc(t, nm);
        tlx_tprintf(t, "</td>");
        cell(t, tlx_json_get(s, "accuracy"), true);
        cell(t, tlx_json_get(s, "baseline_accuracy"), true);
        cell(t, tlx_json_get(s, "weight"), false);
        tlx_tprintf(t, "<td>%s</td></tr>", tlx_json_bool(s, "dropped") == 1 ? "dropped" : "yes");
        if (nwb < 64) {
            snprintf(wl[nwb], sizeof wl[nwb], "%s", nm);
            wb[nwb] = (bar){wl[nwb], tlx_json_num(s, "weight"), 0};
            if (isfinite(wb[nwb].value)) whi = fmax(whi, wb[nwb].value);
            nwb++;
        }
    }
    tlx_tprintf(t, "</table>");
    if (nwb) {
        tlx_tprintf(t, "<div id=\"source-weights\">");
        svg_bars(t, 0, "The weight each source got in the combination", wb, nwb, whi, false, NAN);
        tlx_tprintf(t, "</div>");
    }
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
        h += confusion_chart(&body, h, doc);
        h += curve_chart(&body, h, doc);
        h += view_chart(&body, h, doc, false);
        h += view_chart(&body, h, doc, true);
        h += weights_chart(&body, h, doc);
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
