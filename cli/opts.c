/* Option parsing for `tl`: each command declares a table of long options with metavars, defaults
 * and help text; the same table prints the usage with the live defaults. Accepts --name VALUE,
 * --name=VALUE, flags, and -q as --quiet. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_cmd_name = "tl";

const cli_opt cli_common_opts[] = {
    {"seed", "N", "42", "random seed (results reproduce for a given seed)"},
    {"threads", "N", "0", "BLAS/compute threads (0: OpenBLAS default)"},
    {"json", NULL, NULL, "print one JSON object on stdout instead of a table"},
    {"quiet", NULL, NULL, "no progress or info on stderr (also -q)"},
    {"", NULL, NULL, NULL}};

/* The merged view of a command's options and the common ones: index i < ncmd is the command's. */
static size_t count_opts(const cli_opt *t) {
    size_t n = 0;
    while (t && t[n].name[0]) n++;
    return n;
}

static const cli_opt *opt_at(const cli_args *a, size_t i) {
    size_t nc = count_opts(a->table);
    return i < nc ? &a->table[i] : &cli_common_opts[i - nc];
}

static long find_opt(const cli_args *a, const char *name, size_t len) {
    size_t n = count_opts(a->table) + count_opts(cli_common_opts);
    for (size_t i = 0; i < n; i++) {
        const cli_opt *o = opt_at(a, i);
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return (long)i;
    }
    return -1;
}

/* ---- options generated from the registry ---- */

/* "text" in a new heap string (the tables live as long as the process). */
static char *hprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* One option per distinct parameter name of the family's methods, in registry order. Its help
 * names the methods that take it and their defaults ("[jda, tca: 100; sa: 30]"). */
static size_t add_family_params(cli_opt *t, size_t n, int family, size_t cap) {
    const size_t from = n; /* the options before are the command's own and another family's */
    for (size_t i = 0; i < tl_method_count(); i++) {
        const tl_method *m = tl_method_at(i);
        if ((int)tl_method_family(m) != family) continue;
        for (size_t q = 0; q < tl_method_param_count(m); q++) {
            const tl_param_desc *d = tl_method_param(m, q);
            /* a learner parameter named like one of the method's (kliep's and logreg's
             * max-iter) becomes --learner-NAME, so that each option sets one thing */
            bool clash = false, seen = false;
            for (size_t k = 0; k < from; k++) clash |= strcmp(t[k].name, d->name) == 0;
            if (clash && family != TL_FAMILY_LEARNER) continue;
            char prefixed[96];
            snprintf(prefixed, sizeof prefixed, "learner-%s", d->name);
            const char *name = clash ? prefixed : d->name;
            for (size_t k = from; k < n; k++) seen |= strcmp(t[k].name, name) == 0;
            if (seen || n + 1 >= cap) continue;
            if (clash && !(name = hprintf("%s", prefixed))) continue; /* kept with the table */
            /* defaults per method, grouped by value */
            char defs[512] = "";
            size_t len = 0;
            const char *done_vals[64];
            size_t nd = 0;
            for (size_t i2 = i; i2 < tl_method_count() && len + 64 < sizeof defs; i2++) {
                const tl_method *m2 = tl_method_at(i2);
                const tl_param_desc *d2 = (int)tl_method_family(m2) == family
                                              ? tl_method_param_find(m2, d->name)
                                              : NULL;
                if (!d2) continue;
                bool had = false;
                for (size_t k = 0; k < nd; k++) had |= strcmp(done_vals[k], d2->def) == 0;
                if (had || nd >= 64) continue;
                done_vals[nd++] = d2->def;
                len += (size_t)snprintf(defs + len, sizeof defs - len, "%s", nd > 1 ? "; " : "");
                size_t names = 0;
                for (size_t i3 = i2; i3 < tl_method_count() && len + 32 < sizeof defs; i3++) {
                    const tl_method *m3 = tl_method_at(i3);
                    const tl_param_desc *d3 = (int)tl_method_family(m3) == family
                                                  ? tl_method_param_find(m3, d->name)
                                                  : NULL;
                    if (d3 && strcmp(d3->def, d2->def) == 0)
                        len += (size_t)snprintf(defs + len, sizeof defs - len, "%s%s",
                                                names++ ? ", " : "", tl_method_name(m3));
                }
                len += (size_t)snprintf(defs + len, sizeof defs - len, ": %s",
                                        d2->def[0] ? d2->def : "unset");
            }
            /* a switch that is off for every method is a flag (--nesterov); others take a value */
            bool flag = d->type == TL_PARAM_BOOL && nd == 1 && strcmp(d->def, "false") == 0;
            const char *meta = flag                       ? NULL
                               : d->type == TL_PARAM_INT  ? "N"
                               : d->type == TL_PARAM_REAL ? "X"
                               : d->type == TL_PARAM_BOOL ? "BOOL"
                               : d->type == TL_PARAM_TEXT ? "TEXT"
                                                          : "WORD";
            char *help = d->type == TL_PARAM_CHOICE
                             ? hprintf("%s (%s) [%s]", d->help, d->choices, defs)
                             : hprintf("%s [%s]", d->help, defs);
            t[n].name = name;
            t[n].arg = meta;
            t[n].def = NULL; /* absent: the method's own default */
            t[n].help = help ? help : d->help;
            n++;
        }
    }
    return n;
}

/* --learner and the learners' parameters. */
static size_t add_learner_opts(cli_opt *t, size_t n, const char *def, size_t cap) {
    char names[256];
    tl_method_names(TL_FAMILY_LEARNER, names, sizeof names);
    if (n + 1 < cap) {
        t[n].name = "learner";
        t[n].arg = "NAME";
        t[n].def = def;
        char *h = hprintf("the learner, with and without transfer: %s", names);
        t[n].help = h ? h : "the learner";
        n++;
    }
    return add_family_params(t, n, TL_FAMILY_LEARNER, cap);
}

typedef struct {
    const cli_command *cmd;
    cli_opt *table;
    size_t first_param, end_param; /* the family's parameter options */
} built_table;
static built_table built[32];
static size_t n_built;

static const built_table *build(const cli_command *cmd) {
    for (size_t i = 0; i < n_built; i++)
        if (built[i].cmd == cmd) return &built[i];
    if (!cmd->methods && !cmd->learner) return NULL;
    if (n_built >= sizeof built / sizeof built[0]) return NULL;
    size_t cap = CLI_MAX_OPTS, n = 0;
    cli_opt *t = calloc(cap, sizeof *t);
    if (!t) return NULL;
    for (size_t i = 0; cmd->opts && cmd->opts[i].name[0] && n + 1 < cap; i++) t[n++] = cmd->opts[i];
    built_table *b = &built[n_built++];
    b->cmd = cmd;
    b->first_param = n;
    if (cmd->methods) n = add_family_params(t, n, cmd->methods - 1, cap);
    b->end_param = n;
    if (cmd->learner) n = add_learner_opts(t, n, cmd->learner, cap);
    t[n].name = "";
    b->table = t;
    return b;
}

const cli_opt *cli_command_opts(const cli_command *cmd) {
    const built_table *b = build(cmd);
    return b ? b->table : cmd->opts;
}

bool cli_is_method_param(const cli_command *cmd, const char *name) {
    const built_table *b = build(cmd);
    for (size_t i = b ? b->first_param : 0; b && i < b->end_param; i++)
        if (strcmp(b->table[i].name, name) == 0) return true;
    return false;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->table = cli_command_opts(cmd);
    if (count_opts(a->table) + count_opts(cli_common_opts) > CLI_MAX_OPTS) {
        fprintf(stderr, "tl %s: internal error: too many options\n", cmd->name);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-q") == 0) s = "--quiet";
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            cli_print_usage(stdout, cmd);
            exit(0);
        }
        if (strncmp(s, "--", 2) == 0 && s[2]) {
            const char *name = s + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            long k = find_opt(a, name, len);
            if (k < 0) {
                fprintf(stderr, "tl %s: unknown option --%.*s (see 'tl help %s')\n", cmd->name,
                        (int)len, name, cmd->name);
                return 2;
            }
            const cli_opt *o = opt_at(a, (size_t)k);
            if (o->arg) {
                const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!v) {
                    fprintf(stderr, "tl %s: --%s needs a value (%s)\n", cmd->name, o->name, o->arg);
                    return 2;
                }
                a->values[k] = v;
                if (a->nall[k] >= CLI_MAX_REPEAT) {
                    fprintf(stderr, "tl %s: --%s given more than %d times\n", cmd->name, o->name,
                            CLI_MAX_REPEAT);
                    return 2;
                }
                a->all[k][a->nall[k]++] = v;
            } else if (eq) {
                fprintf(stderr, "tl %s: --%s takes no value\n", cmd->name, o->name);
                return 2;
            }
            a->given[k] = true;
        } else if (s[0] == '-' && s[1] && !(s[1] >= '0' && s[1] <= '9')) {
            fprintf(stderr, "tl %s: unknown option %s (see 'tl help %s')\n", cmd->name, s,
                    cmd->name);
            return 2;
        } else {
            if (a->npos >= CLI_MAX_POS) {
                fprintf(stderr, "tl %s: too many arguments\n", cmd->name);
                return 2;
            }
            a->pos[a->npos++] = s;
        }
    }
    return 0;
}

const char *cli_get(const cli_args *a, const char *name) {
    long k = find_opt(a, name, strlen(name));
    if (k < 0) return NULL;
    return a->given[k] && a->values[k] ? a->values[k] : opt_at(a, (size_t)k)->def;
}

size_t cli_get_all(const cli_args *a, const char *name, const char **out, size_t cap) {
    long k = find_opt(a, name, strlen(name));
    if (k < 0) return 0;
    for (size_t i = 0; i < a->nall[k] && i < cap; i++) out[i] = a->all[k][i];
    return a->nall[k];
}

bool cli_flag(const cli_args *a, const char *name) {
    long k = find_opt(a, name, strlen(name));
    return k >= 0 && a->given[k];
}

bool cli_given(const cli_args *a, const char *name) { return cli_flag(a, name); }

bool cli_has_opt(const cli_args *a, const char *name) {
    return find_opt(a, name, strlen(name)) >= 0;
}

bool cli_get_long(const cli_args *a, const char *name, long lo, long hi, long *out) {
    const char *v = cli_get(a, name);
    if (!v) return false;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "tl %s: --%s: '%s' is not an integer in [%ld, %ld]\n", cli_cmd_name, name,
                v, lo, hi);
        return false;
    }
    *out = x;
    return true;
}

bool cli_get_double(const cli_args *a, const char *name, double lo, double hi, double *out) {
    const char *v = cli_get(a, name);
    if (!v) return false;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "tl %s: --%s: '%s' is not a number in [%g, %g]\n", cli_cmd_name, name, v,
                lo, hi);
        return false;
    }
    *out = x;
    return true;
}

bool cli_get_u64(const cli_args *a, const char *name, uint64_t *out) {
    const char *v = cli_get(a, name);
    if (!v) return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-') {
        fprintf(stderr, "tl %s: --%s: '%s' is not a non-negative integer\n", cli_cmd_name, name, v);
        return false;
    }
    *out = (uint64_t)x;
    return true;
}

/* roff: text with backslashes doubled, hyphens as \- (so `man` keeps them as typed and they
 * search), and a line that would start with '.' or '\'' guarded by \&. */
void cli_roff_text(FILE *f, const char *s) {
    if (*s == '.' || *s == '\'') fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\e", f);
        else if (*s == '-') fputs("\\-", f);
        else if (*s == '\n') {
            fputc('\n', f);
            if (s[1] == '.' || s[1] == '\'') fputs("\\&", f);
        } else fputc(*s, f);
    }
}

static void print_opts(FILE *f, const cli_opt *t, bool man) {
    for (size_t i = 0; t && t[i].name[0]; i++) {
        if (man) {
            fputs(".TP\n\\fB\\-\\-", f);
            cli_roff_text(f, t[i].name);
            fputs("\\fR", f);
            if (t[i].arg) {
                fputs(" \\fI", f);
                cli_roff_text(f, t[i].arg);
                fputs("\\fR", f);
            }
            fputc('\n', f);
            cli_roff_text(f, t[i].help);
            if (t[i].def) {
                fputs(" [default: ", f);
                cli_roff_text(f, t[i].def);
                fputc(']', f);
            }
            fputc('\n', f);
            continue;
        }
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", t[i].name, t[i].arg ? " " : "",
                 t[i].arg ? t[i].arg : "");
        fprintf(f, "  %-26s %s", left, t[i].help);
        if (t[i].def) fprintf(f, " [default: %s]", t[i].def);
        fputc('\n', f);
    }
}

/* A section heading: "\nname:\n" as text, ".SS" in a man page (the command's own name first). */
static void heading(FILE *f, bool man, const cli_command *cmd, const char *name) {
    if (man) {
        fputs(".PP\n.I ", f);
        cli_roff_text(f, cmd->name);
        fputs(" \\(em ", f);
        cli_roff_text(f, name);
        fputc('\n', f);
    } else {
        fprintf(f, "\n%s:\n", name);
    }
}

/* The neural commands' architecture strings, and how their padding differs from PyTorch's. */
static const char arch_note[] =
    "An architecture is a comma list of layers: conv:OUT:K[:STRIDE[:PAD]], dense:N, "
    "maxpool:K[:STRIDE] (also pool), avgpool:K[:STRIDE], gap, flatten, bn, dropout[:P], relu, "
    "lrelu[:SLOPE], gelu, tanh, sigmoid, and residual blocks [main|shortcut].\n"
    "Padding: conv without PAD pads (K-1)/2 zeros on every side (\"same\" for odd K at stride 1: "
    "conv:32:3 keeps 28x28 at 28x28), whereas PyTorch's nn.Conv2d defaults to padding=0 (a 3x3 "
    "kernel takes 28x28 to 26x26); an even K pads (K-1)/2 rounded down, so conv:8:4 takes 28x28 to "
    "27x27. To match a PyTorch model built with the default, write the "
    "padding out: conv:32:3:1:0. Pooling pads nothing, with stride K by default and the size "
    "rounded down, as PyTorch's MaxPool2d/AvgPool2d. Weights exported with "
    "--export-safetensors and read back with finetune --from are laid out as PyTorch's "
    "(OUT, IN, K, K).";

static void print_usage(FILE *f, const cli_command *cmd, bool man) {
    if (man) {
        fputs(".SS ", f);
        cli_roff_text(f, cmd->name);
        fputs("\n.B tl ", f);
        cli_roff_text(f, cmd->name);
        fputc(' ', f);
        cli_roff_text(f, cmd->usage);
        fputs("\n.br\n", f);
        cli_roff_text(f, cmd->summary);
        fputc('\n', f);
    } else {
        fprintf(f, "usage: tl %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    }
    if (count_opts(cmd->opts)) {
        heading(f, man, cmd, "options");
        print_opts(f, cmd->opts, man);
    }
    bool has_arch = false;
    for (size_t i = 0; cmd->opts && cmd->opts[i].name[0]; i++)
        has_arch |= strcmp(cmd->opts[i].name, "arch") == 0;
    if (has_arch) {
        heading(f, man, cmd, "architecture (--arch)");
        if (man) {
            fputs(".PP\n", f);
            cli_roff_text(f, arch_note);
            fputc('\n', f);
        } else {
            /* wrapped at 96 columns, indented past the options' "  --" */
            const char *s = arch_note;
            while (*s) {
                const char *nl = strchr(s, '\n');
                size_t para = nl ? (size_t)(nl - s) : strlen(s), col = 0;
                const char *e = s + para;
                fputs("   ", f);
                while (s < e) {
                    const char *w = s;
                    while (w < e && *w != ' ') w++;
                    size_t wl = (size_t)(w - s);
                    if (col && col + 1 + wl > 92) fputs("\n   ", f), col = 0;
                    fprintf(f, " %.*s", (int)wl, s);
                    col += wl + 1;
                    s = w < e ? w + 1 : w;
                }
                fputc('\n', f);
                s = nl ? nl + 1 : e;
            }
        }
    }
    const built_table *b = build(cmd);
    if (b && b->end_param > b->first_param) {
        heading(f, man, cmd, "methods (--method)");
        for (size_t i = 0; i < tl_method_count(); i++) {
            const tl_method *m = tl_method_at(i);
            if ((int)tl_method_family(m) != cmd->methods - 1) continue;
            if (man) {
                fputs(".TP\n.B ", f);
                cli_roff_text(f, tl_method_name(m));
                fputc('\n', f);
                cli_roff_text(f, tl_method_summary(m));
                if (tl_method_reference(m)[0]) {
                    fputs(" (", f);
                    cli_roff_text(f, tl_method_reference(m));
                    fputc(')', f);
                }
                fputc('\n', f);
                continue;
            }
            fprintf(f, "  %-12s %s%s%s%s\n", tl_method_name(m), tl_method_summary(m),
                    tl_method_reference(m)[0] ? " (" : "", tl_method_reference(m),
                    tl_method_reference(m)[0] ? ")" : "");
        }
        heading(f, man, cmd, "method parameters (each applies to the methods named with its default)");
        for (size_t i = b->first_param; i < b->end_param; i++) {
            cli_opt one[2] = {b->table[i], {"", NULL, NULL, NULL}};
            print_opts(f, one, man);
        }
    }
    if (b && cmd->learner) {
        heading(f, man, cmd, "learner");
        print_opts(f, b->table + b->end_param, man);
    }
    if (man) return; /* the page lists the common options once */
    fprintf(f, "\ncommon options:\n");
    print_opts(f, cli_common_opts, false);
    fprintf(f, "  %-26s %s\n", "-q", "same as --quiet");
    fprintf(f, "\nexit status: 0 success, 1 runtime or data error, 2 usage error\n");
}

void cli_print_usage(FILE *f, const cli_command *cmd) { print_usage(f, cmd, false); }

void cli_print_usage_man(FILE *f, const cli_command *cmd) { print_usage(f, cmd, true); }

void cli_print_common_opts_man(FILE *f) {
    print_opts(f, cli_common_opts, true);
    fputs(".TP\n.B \\-q\nsame as \\-\\-quiet\n", f);
}
