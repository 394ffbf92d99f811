/* Option parsing for `tl`: each command declares a table of long options with metavars, defaults
 * and help text; the same table prints the usage with the live defaults. Accepts --name VALUE,
 * --name=VALUE, flags, and -q as --quiet. */
#include <errno.h>
#include <limits.h>
#include <math.h>
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

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->table = cmd->opts;
    if (count_opts(cmd->opts) + count_opts(cli_common_opts) > CLI_MAX_OPTS) {
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

bool cli_flag(const cli_args *a, const char *name) {
    long k = find_opt(a, name, strlen(name));
    return k >= 0 && a->given[k];
}

bool cli_given(const cli_args *a, const char *name) { return cli_flag(a, name); }

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

static void print_opts(FILE *f, const cli_opt *t) {
    for (size_t i = 0; t && t[i].name[0]; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", t[i].name, t[i].arg ? " " : "",
                 t[i].arg ? t[i].arg : "");
        fprintf(f, "  %-26s %s", left, t[i].help);
        if (t[i].def) fprintf(f, " [default: %s]", t[i].def);
        fputc('\n', f);
    }
}

void cli_print_usage(FILE *f, const cli_command *cmd) {
    fprintf(f, "usage: tl %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (count_opts(cmd->opts)) {
        fprintf(f, "\noptions:\n");
        print_opts(f, cmd->opts);
    }
    fprintf(f, "\ncommon options:\n");
    print_opts(f, cli_common_opts);
    fprintf(f, "  %-26s %s\n", "-q", "same as --quiet");
}
