/* The documented JSON schema of the commands' --json output (docs/report.schema.json) and a
 * checker for it: a small JSON parser and a validator for the part of JSON Schema the document
 * uses (type, enum, properties, required, additionalProperties, items, oneOf, $ref into $defs,
 * minimum). Run without arguments it tests itself and the library's renderers: a report, a
 * ranking and an automatic transfer's result (tl_auto_json) made by the library validate, and
 * documents with a key missing, added, of the wrong type or outside an enum do not. Run as
 *     test_report_schema --validate SCHEMA FILE...
 * it checks command output (tests/cli/run.sh does this for every transferring command) and exits
 * non-zero naming the first violation of each file. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tl.h"

/* ---- a JSON tree ---- */
typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jv {
    jtype t;
    double num;
    bool b;
    char *str;          /* J_STR */
    struct jv **items;  /* J_ARR values, J_OBJ values */
    char **keys;        /* J_OBJ */
    size_t n;
} jv;

static void jv_free(jv *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        jv_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

typedef struct {
    const char *s;
    const char *err;
} parser;

static void ws(parser *p) {
    while (*p->s && isspace((unsigned char)*p->s)) p->s++;
}

static jv *parse_value(parser *p, int depth);

static char *parse_string(parser *p) {
    if (*p->s != '"') return p->err = "expected a string", NULL;
    p->s++;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    while (*p->s && *p->s != '"') {
        char c = *p->s++;
        if (c == '\\') {
            c = *p->s++;
            if (c == 'u') { /* keep escapes of control characters as '?' */
                for (int k = 0; k < 4; k++)
                    if (!isxdigit((unsigned char)*p->s++)) return free(out), p->err = "bad \\u", NULL;
                c = '?';
            } else if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c != '"' && c != '\\' && c != '/') return free(out), p->err = "bad escape", NULL;
        } else if ((unsigned char)c < 0x20) {
            return free(out), p->err = "control character in a string", NULL;
        }
        if (n + 2 > cap) out = realloc(out, cap *= 2);
        out[n++] = c;
    }
    if (*p->s != '"') return free(out), p->err = "unterminated string", NULL;
    p->s++;
    out[n] = '\0';
    return out;
}

static jv *new_jv(jtype t) {
    jv *v = calloc(1, sizeof *v);
    v->t = t;
    return v;
}

static void push(jv *v, char *key, jv *item) {
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    if (v->t == J_OBJ) v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys), v->keys[v->n] = key;
    v->items[v->n++] = item;
}

static jv *parse_value(parser *p, int depth) {
    ws(p);
    if (depth > 64) return p->err = "nested too deeply", NULL;
    if (*p->s == '{' || *p->s == '[') {
        bool obj = *p->s == '{';
        jv *v = new_jv(obj ? J_OBJ : J_ARR);
        p->s++;
        ws(p);
        if (*p->s == (obj ? '}' : ']')) {
            p->s++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            ws(p);
            if (obj) {
                if (!(key = parse_string(p))) return jv_free(v), NULL;
                ws(p);
                if (*p->s++ != ':') return free(key), jv_free(v), p->err = "expected ':'", NULL;
            }
            jv *item = parse_value(p, depth + 1);
            if (!item) return free(key), jv_free(v), NULL;
            push(v, key, item);
            ws(p);
            if (*p->s == ',') {
                p->s++;
                continue;
            }
            if (*p->s == (obj ? '}' : ']')) {
                p->s++;
                return v;
            }
            return jv_free(v), p->err = "expected ',' or a closing bracket", NULL;
        }
    }
    if (*p->s == '"') {
        char *s = parse_string(p);
        if (!s) return NULL;
        jv *v = new_jv(J_STR);
        v->str = s;
        return v;
    }
    if (strncmp(p->s, "true", 4) == 0 || strncmp(p->s, "false", 5) == 0) {
        jv *v = new_jv(J_BOOL);
        v->b = p->s[0] == 't';
        p->s += v->b ? 4 : 5;
        return v;
    }
    if (strncmp(p->s, "null", 4) == 0) {
        p->s += 4;
        return new_jv(J_NULL);
    }
    char *end;
    double x = strtod(p->s, &end);
    if (end == p->s || !isfinite(x)) return p->err = "expected a value", NULL;
    p->s = end;
    jv *v = new_jv(J_NUM);
    v->num = x;
    return v;
}

static jv *parse_doc(const char *text, const char **err) {
    parser p = {text, NULL};
    jv *v = parse_value(&p, 0);
    if (v) {
        ws(&p);
        if (*p.s) jv_free(v), v = NULL, p.err = "trailing characters";
    }
    if (err) *err = p.err;
    return v;
}

static const jv *get(const jv *o, const char *key) {
    for (size_t i = 0; o && o->t == J_OBJ && i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return o->items[i];
    return NULL;
}

/* ---- the validator ---- */
static char verr[512];

static bool type_ok(const jv *v, const char *t) {
    if (strcmp(t, "null") == 0) return v->t == J_NULL;
    if (strcmp(t, "boolean") == 0) return v->t == J_BOOL;
    if (strcmp(t, "number") == 0) return v->t == J_NUM;
    if (strcmp(t, "integer") == 0) return v->t == J_NUM && v->num == floor(v->num);
    if (strcmp(t, "string") == 0) return v->t == J_STR;
    if (strcmp(t, "array") == 0) return v->t == J_ARR;
    if (strcmp(t, "object") == 0) return v->t == J_OBJ;
    return false;
}

static bool equal(const jv *a, const jv *b) {
    if (a->t != b->t) return false;
    if (a->t == J_STR) return strcmp(a->str, b->str) == 0;
    if (a->t == J_NUM) return a->num == b->num;
    if (a->t == J_BOOL) return a->b == b->b;
    return a->t == J_NULL;
}

static bool validate(const jv *root, const jv *s, const jv *v, const char *path) {
    const jv *x;
    char sub[256];
    if ((x = get(s, "$ref"))) {
        const char *r = x->str;
        if (strncmp(r, "#/$defs/", 8) != 0) return snprintf(verr, sizeof verr, "%s: unsupported $ref %s", path, r), false;
        const jv *d = get(get(root, "$defs"), r + 8);
        if (!d) return snprintf(verr, sizeof verr, "%s: unknown $ref %s", path, r), false;
        if (!validate(root, d, v, path)) return false;
    }
    if ((x = get(s, "type"))) {
        bool ok = false;
        if (x->t == J_STR) ok = type_ok(v, x->str);
        for (size_t i = 0; x->t == J_ARR && i < x->n; i++) ok |= type_ok(v, x->items[i]->str);
        if (!ok) return snprintf(verr, sizeof verr, "%s: wrong type", path), false;
    }
    if ((x = get(s, "enum"))) {
        bool ok = false;
        for (size_t i = 0; i < x->n; i++) ok |= equal(v, x->items[i]);
        if (!ok) return snprintf(verr, sizeof verr, "%s: value not in the enum", path), false;
    }
    if ((x = get(s, "minimum")) && v->t == J_NUM && v->num < x->num)
        return snprintf(verr, sizeof verr, "%s: %g below the minimum %g", path, v->num, x->num), false;
    if ((x = get(s, "oneOf"))) {
        size_t hits = 0;
        char keep[512] = "";
        for (size_t i = 0; i < x->n; i++) {
            if (validate(root, x->items[i], v, path)) hits++;
            else if (!keep[0]) snprintf(keep, sizeof keep, "%s", verr);
        }
        if (hits != 1)
            return snprintf(verr, sizeof verr, "%s: matches %zu of oneOf (first miss: %.400s)", path,
                            hits, keep), false;
    }
    if (v->t == J_OBJ) {
        const jv *props = get(s, "properties"), *req = get(s, "required"),
                 *add = get(s, "additionalProperties");
        for (size_t i = 0; req && i < req->n; i++)
            if (!get(v, req->items[i]->str))
                return snprintf(verr, sizeof verr, "%s: lacks required key '%s'", path, req->items[i]->str), false;
        for (size_t i = 0; i < v->n; i++) {
            const jv *ps = get(props, v->keys[i]);
            snprintf(sub, sizeof sub, "%s.%s", path, v->keys[i]);
            if (ps) {
                if (!validate(root, ps, v->items[i], sub)) return false;
            } else if (add && add->t == J_BOOL && !add->b) {
                return snprintf(verr, sizeof verr, "%s: key not in the schema", sub), false;
            } else if (add && add->t == J_OBJ) {
                if (!validate(root, add, v->items[i], sub)) return false;
            }
        }
    }
    if (v->t == J_ARR && (x = get(s, "items")))
        for (size_t i = 0; i < v->n; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!validate(root, x, v->items[i], sub)) return false;
        }
    return true;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* 0 valid; else prints the reason. */
static int check_text(const jv *schema, const char *text, const char *what) {
    const char *err = NULL;
    jv *doc = parse_doc(text, &err);
    if (!doc) return printf("%s: not JSON: %s\n", what, err ? err : "?"), 1;
    int rc = validate(schema, schema, doc, "$") ? 0 : 1;
    if (rc && strcmp(what, "mutated") != 0) printf("%s: %s\n", what, verr);
    jv_free(doc);
    return rc;
}

static jv *load_schema(void) {
    const char *paths[] = {"docs/report.schema.json", "../docs/report.schema.json"};
    for (size_t i = 0; i < 2; i++) {
        char *s = slurp(paths[i]);
        if (!s) continue;
        jv *v = parse_doc(s, NULL);
        free(s);
        return v;
    }
    return NULL;
}

/* A report made by the library on a tiny task, as JSON. */
static char *library_report(const char *method, int labelled) {
    double xs[24], xt[18];
    int ys[12], yt[9];
    for (int i = 0; i < 12; i++) ys[i] = i % 3, xs[2 * i] = i % 3 + 0.1 * i, xs[2 * i + 1] = (i * 7) % 5;
    for (int i = 0; i < 9; i++) yt[i] = i % 3, xt[2 * i] = i % 3 + 0.5, xt[2 * i + 1] = (i * 3) % 5;
    tl_dataset *s = NULL, *t = NULL;
    tl_dataset_from_dense(tl_mat_view(xs, 12, 2), ys, &s);
    tl_dataset_from_dense(tl_mat_view(xt, 9, 2), yt, &t);
    tl_task *task = NULL;
    size_t ti;
    tl_task_create(&task);
    tl_task_add(task, TL_ROLE_SOURCE, s, NULL);
    tl_task_add(task, TL_ROLE_TARGET, t, &ti);
    tl_task_set_labelled(task, ti, labelled ? t : NULL);
    tl_params *p = NULL;
    tl_params_create(tl_method_find(method, -1), &p);
    if (tl_method_param_find(tl_params_method(p), "dim")) tl_params_set(p, "dim", "1");
    tl_report *r = NULL;
    char *js = NULL;
    if (tl_transfer_run(task, p, NULL, &r, NULL) == TL_OK) tl_report_json(r, "adapt", &js);
    else printf("  %s: %s\n", method, tl_error_message());
    tl_report_free(r);
    tl_params_free(p);
    tl_task_free(task);
    tl_dataset_free(s);
    tl_dataset_free(t);
    return js;
}

static jv *schema;

TEST(schema_parses) {
    CHECK(schema != NULL);
    CHECK(schema && get(get(schema, "$defs"), "report") && get(get(schema, "$defs"), "ranking") &&
          get(get(schema, "$defs"), "auto"));
}

TEST(library_reports_validate) {
    const char *methods[][2] = {{"pca", "0"}, {"jda", "1"}, {"kliep", "0"}, {"tradaboost", "1"}};
    for (size_t i = 0; schema && i < 4; i++) {
        char *js = library_report(methods[i][0], methods[i][1][0] == '1');
        CHECK_MSG(js && check_text(schema, js, methods[i][0]) == 0, "%s", js ? js : "(no report)");
        tl_free(js);
    }
    tl_source_score sc[2] = {{10, 0.1, 0.5, NAN, 0, 0, 0, 0}, {20, 0.05, NAN, NAN, 0, 0, 0, 0}};
    tl_sources_rank(sc, 2);
    const char *names[2] = {"a.csv", "b.csv"};
    char *js = NULL;
    CHECK_OK(tl_ranking_json(sc, names, 2, "t.csv", NULL, NULL, 0.5, &js));
    CHECK_MSG(schema && js && check_text(schema, js, "ranking") == 0, "%s", js);
    tl_free(js);
}

/* tl auto's JSON (tl_auto_json) made by the library on a tiny task: one source and two sources
 * (the "sources" array), with a held-out test set, and a budget too small for any transfer. */
static char *library_auto(int n_sources, double budget, const char *saved) {
    double xs[24], xt[18];
    int ys[12], yt[9];
    for (int i = 0; i < 12; i++) ys[i] = i % 3, xs[2 * i] = i % 3 + 0.1 * i, xs[2 * i + 1] = (i * 7) % 5;
    for (int i = 0; i < 9; i++) yt[i] = i % 3, xt[2 * i] = i % 3 + 0.5, xt[2 * i + 1] = (i * 3) % 5;
    tl_dataset *s = NULL, *t = NULL, *h = NULL;
    tl_dataset_from_dense(tl_mat_view(xs, 12, 2), ys, &s);
    tl_dataset_from_dense(tl_mat_view(xt, 9, 2), NULL, &t);
    tl_dataset_from_dense(tl_mat_view(xt, 9, 2), yt, &h);
    tl_dataset *srcs[2] = {s, s};
    const char *names[2] = {"a.csv", "b.csv"};
    tl_auto_opts o = tl_auto_opts_default();
    o.budget = budget;
    o.budget_cpu = true;
    o.grid = 1;
    o.target_test = h;
    tl_auto_result *r = NULL;
    char *js = NULL;
    if (tl_auto_run(srcs, (size_t)n_sources, t, &o, &r, NULL) == TL_OK)
        tl_auto_json(r, names, "t.csv", &o, saved, &js);
    else
        printf("  auto: %s\n", tl_error_message());
    tl_auto_result_free(r);
    tl_dataset_free(s);
    tl_dataset_free(t);
    tl_dataset_free(h);
    return js;
}

/* 1 when js with its first `from` replaced by `to` fails the schema, 0 when it passes, -1 when
 * js lacks `from`. */
static int rejected_after(const char *js, const char *from, const char *to) {
    const char *at = strstr(js, from);
    if (!at) return -1;
    size_t n = strlen(js) + strlen(to) + 1;
    char *bad = malloc(n);
    if (!bad) return -1;
    snprintf(bad, n, "%.*s%s%s", (int)(at - js), js, to, at + strlen(from));
    int rc = check_text(schema, bad, "mutated") != 0;
    free(bad);
    return rc;
}

TEST(library_auto_validates) {
    struct {
        int ns;
        double budget;
        const char *saved, *must;
    } cases[] = {{1, 60, NULL, "\"candidates\": [{"},
                 {2, 60, "m.tlm", "\"sources\": [{"},
                 {1, 0, NULL, "\"budget_too_small\": true"}};
    for (size_t i = 0; schema && i < 3; i++) {
        char *js = library_auto(cases[i].ns, cases[i].budget, cases[i].saved);
        CHECK_MSG(js && check_text(schema, js, "auto") == 0, "case %zu: %s", i, js ? js : "(none)");
        CHECK_MSG(js && strstr(js, cases[i].must), "case %zu lacks %s", i, cases[i].must);
        /* the held-out rows score every candidate: no null accuracy */
        CHECK_MSG(js && !strstr(js, "\"accuracy\": null"), "case %zu: %s", i, js ? js : "");
        if (js && i == 0) { /* and a broken one does not validate */
            CHECK(rejected_after(js, "\"rung\": 0", "\"rung\": -1") == 1);
            CHECK(rejected_after(js, "\"budget_clock\": \"cpu\"", "\"budget_clock\": \"sun\"") == 1);
            CHECK(rejected_after(js, "\"skipped\": ", "\"skipped_\": ") == 1);
        }
        tl_free(js);
    }
}

/* The validator rejects what the schema excludes (so a passing check means something). */
TEST(violations_are_caught) {
    char *js = library_report("coral", 0);
    CHECK(js != NULL);
    if (!js || !schema) return;
    struct {
        const char *from, *to, *why;
    } cases[] = {
        {"\"accuracy\": ", "\"accuracy_\": ", "lacks required key 'accuracy'"},
        {"\"method\": \"coral\"", "\"method\": 3", "$.method: wrong type"},
        {"\"family\": \"feature\"", "\"family\": \"features\"", "$.family: value not in the enum"},
        {"\"n_eval\": 9", "\"n_eval\": -9", "below the minimum"},
        {"\"command\": \"adapt\", ", "\"command\": \"adapt\", \"extra\": 1, ", "key not in the schema"},
        {"\"worse_than_baseline\": ", "\"worse_than_baseline\": 1, \"x_\": ", "wrong type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *at = strstr(js, cases[i].from);
        CHECK_MSG(at, "case %zu: '%s' not in the report", i, cases[i].from);
        if (!at) continue;
        size_t n = strlen(js) + strlen(cases[i].to) + 1;
        char *bad = malloc(n);
        snprintf(bad, n, "%.*s%s%s", (int)(at - js), js, cases[i].to, at + strlen(cases[i].from));
        CHECK_MSG(check_text(schema, bad, "mutated") != 0, "case %zu accepted: %s", i, bad);
        CHECK_MSG(strstr(verr, cases[i].why) || i == 5, "case %zu: reason '%s' lacks '%s'", i, verr,
                  cases[i].why);
        free(bad);
    }
    tl_free(js);
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--validate") == 0) {
        char *s = slurp(argv[2]);
        jv *sc = s ? parse_doc(s, NULL) : NULL;
        free(s);
        if (!sc) return printf("cannot read the schema %s\n", argv[2]), 2;
        int bad = 0;
        for (int i = 3; i < argc; i++) {
            char *t = slurp(argv[i]);
            bad += !t || check_text(sc, t, argv[i]) != 0;
            free(t);
        }
        jv_free(sc);
        return bad ? 1 : 0;
    }
    schema = load_schema();
    RUN(schema_parses);
    RUN(library_reports_validate);
    RUN(violations_are_caught);
    RUN(library_auto_validates);
    jv_free(schema);
    return tl_test_summary();
}
