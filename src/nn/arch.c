/* Architecture strings -> layers and their named tensors (grammar in tl/nn.h), and the canonical
 * string back. The layer table is built here and only here; net.c runs it and frees it.
 *
 * A hand-written scanner over the string: items separated by ',', '[' and ']' open and close
 * residual blocks, a '|' inside a block starts its shortcut path ("[main | shortcut]": y =
 * main(x) + shortcut(x), the projection shortcut of He et al. 2016 / torchvision's `downsample`),
 * '#' comments run to the end of the line, whitespace anywhere between tokens. A shortcut is a
 * plain list of layers (no nested block, no flatten: its first layer reads the block's input
 * rather than the activation before it, see nn_internal.h).
 * Shapes are propagated while parsing, so every error - syntax, a bad number, a shape that does
 * not fit - names the token, its number and its column: "arch: 'pool:0' (token 4, column 18):
 * pool size must be at least 1". Why not a general parser: the language is a flat list with one
 * kind of bracket, and a scanner keeps the messages precise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

#define ARCH_MAX_DEPTH 32
#define ARCH_MAX_DIM ((size_t)1 << 24)
#define ARCH_MAX_SIZE ((size_t)1 << 28)
#define ARCH_MAX_FIELDS 6

static const char *const kind_names[NN_KIND_COUNT] = {
    "conv", "dense", "maxpool", "avgpool", "gap",  "bn",      "dropout",
    "relu", "lrelu", "gelu",    "tanh",    "sigmoid", "flatten", "add",   "grl"};

const char *nn_kind_name(nn_kind k) { return k < NN_KIND_COUNT ? kind_names[k] : "?"; }

typedef struct {
    const char *s;
    size_t pos;
    size_t tok;       /* 1-based number of the current token */
    size_t tok_col;   /* 1-based column of the current token */
    char text[128];   /* current token (truncated for messages) */
} scan;

static tl_status arch_err(const scan *sc, tl_status s, const char *fmt, const char *detail) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail);
    return tl_fail(s, "arch: '%s' (token %zu, column %zu): %s", sc->text, sc->tok, sc->tok_col, msg);
}

static void skip_ws(scan *sc) {
    for (;;) {
        char c = sc->s[sc->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            sc->pos++;
        } else if (c == '#') {
            while (sc->s[sc->pos] && sc->s[sc->pos] != '\n') sc->pos++;
        } else {
            return;
        }
    }
}

/* Strict unsigned decimal in [lo, hi]. */
static bool parse_size(const char *f, size_t lo, size_t hi, size_t *out) {
    if (!f[0]) return false;
    for (const char *p = f; *p; p++)
        if (*p < '0' || *p > '9') return false;
    errno = 0;
    unsigned long long v = strtoull(f, NULL, 10);
    if (errno || v < lo || v > hi) return false;
    *out = (size_t)v;
    return true;
}

static bool parse_float(const char *f, double lo, double hi, bool hi_open, double *out) {
    if (!f[0]) return false;
    char *end;
    errno = 0;
    double v = strtod(f, &end);
    if (errno || *end || !(v >= lo) || (hi_open ? !(v < hi) : !(v <= hi))) return false;
    *out = v;
    return true;
}

static bool valid_name(const char *n) {
    if (!n[0] || strlen(n) >= NN_NAME_MAX) return false;
    bool digits = true;
    for (const char *p = n; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
        if (c < '0' || c > '9') digits = false;
    }
    return !digits && n[0] != '-';
}

/* ---- the layer table: parsing appends layers and their named tensors ---- */

/* A zeroed layer record at the end of nn->layers (the array may move). */
static tl_status nn_alloc_layer(tl_nn *nn, nn_layer **out) {
    tl_status st = TL_OK;
    if (nn->nl == nn->cap_layers) {
        size_t nc = nn->cap_layers ? nn->cap_layers * 2 : 16;
        nn_layer *p = tl_realloc(nn->layers, nc * sizeof *p);
        TL_CHECK(p, TL_ERR_NOMEM, "nn: out of memory for %zu layers", nc);
        nn->layers = p;
        nn->cap_layers = nc;
    }
    *out = &nn->layers[nn->nl++];
    memset(*out, 0, sizeof **out);
done:
    return st;
}

/* A named tensor "<layer>.<suffix>" of dims, zeroed (with a zeroed gradient when trainable);
 * *index: its place in nn->t. Freed with the network (net.c). */
static tl_status nn_add_tensor(tl_nn *nn, size_t layer, const char *suffix, size_t ndim,
                               const size_t *dims, bool trainable, long *index) {
    tl_status st = TL_OK;
    if (nn->nt == nn->cap_t) {
        size_t nc = nn->cap_t ? nn->cap_t * 2 : 16;
        nn_tensor *p = tl_realloc(nn->t, nc * sizeof *p);
        TL_CHECK(p, TL_ERR_NOMEM, "nn: out of memory for %zu tensors", nc);
        nn->t = p;
        nn->cap_t = nc;
    }
    nn_tensor *t = &nn->t[nn->nt];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s.%s", nn->layers[layer].name, suffix);
    t->ndim = ndim;
    t->size = 1;
    for (size_t i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->size *= dims[i]; /* bounded by the parser (<= 2^28) */
    }
    t->layer = layer;
    t->trainable = trainable;
    TL_CALLOC(t->data, t->size);
    if (trainable) {
        t->grad = tl_calloc(t->size, sizeof(float));
        if (!t->grad) {
            tl_free(t->data);
            st = tl_fail(TL_ERR_NOMEM, "nn: out of memory for tensor %s", t->name);
            goto done;
        }
    }
    *index = (long)nn->nt++;
done:
    return st;
}

static void default_name(tl_nn *nn, nn_layer *L) {
    size_t count = 0;
    for (size_t i = 0; i < nn->nl; i++)
        if (nn->layers[i].kind == L->kind) count++; /* L itself is already counted */
    snprintf(L->name, sizeof L->name, "%s%zu", kind_names[L->kind], count);
}

static tl_status make_tensors(tl_nn *nn, size_t li) {
    tl_status st = TL_OK;
    nn_layer *L = &nn->layers[li];
    if (L->kind == NN_CONV) {
        size_t dw[4] = {L->units, L->in.c, L->k, L->k}, db[1] = {L->units};
        TL_TRY(nn_add_tensor(nn, li, "weight", 4, dw, true, &L->w));
        TL_TRY(nn_add_tensor(nn, li, "bias", 1, db, true, &nn->layers[li].b));
    } else if (L->kind == NN_DENSE) {
        size_t dw[2] = {L->units, nn_shape_size(L->in)}, db[1] = {L->units};
        TL_TRY(nn_add_tensor(nn, li, "weight", 2, dw, true, &L->w));
        TL_TRY(nn_add_tensor(nn, li, "bias", 1, db, true, &nn->layers[li].b));
    } else if (L->kind == NN_BN) {
        size_t d[1] = {L->in.c};
        TL_TRY(nn_add_tensor(nn, li, "weight", 1, d, true, &L->w));
        TL_TRY(nn_add_tensor(nn, li, "bias", 1, d, true, &nn->layers[li].b));
        TL_TRY(nn_add_tensor(nn, li, "running_mean", 1, d, false, &nn->layers[li].rm));
        TL_TRY(nn_add_tensor(nn, li, "running_var", 1, d, false, &nn->layers[li].rv));
    }
done:
    return st;
}

/* Parse one layer token at the current shape; appends it. */
static tl_status parse_layer(tl_nn *nn, scan *sc, const char *raw, nn_shape *cur) {
    tl_status st = TL_OK;
    char buf[256], name[NN_NAME_MAX] = "";
    const char *spec = raw;
    const char *eq = strchr(raw, '=');
    if (eq) {
        size_t nlen = (size_t)(eq - raw);
        while (nlen > 0 && (raw[nlen - 1] == ' ' || raw[nlen - 1] == '\t')) nlen--;
        if (nlen >= sizeof name) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "layer name too long");
        memcpy(name, raw, nlen);
        name[nlen] = '\0';
        if (!valid_name(name))
            return arch_err(sc, TL_ERR_INVALID_ARG, "%s",
                            "a layer name uses letters, digits, '_' and '-' and is not a number");
        spec = eq + 1;
        while (*spec == ' ' || *spec == '\t') spec++;
    }
    if (strlen(spec) >= sizeof buf) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "token too long");
    strcpy(buf, spec);
    char *f[ARCH_MAX_FIELDS + 1];
    size_t nf = 0;
    for (char *p = buf;;) {
        if (nf == ARCH_MAX_FIELDS + 1) break;
        f[nf++] = p;
        char *c = strchr(p, ':');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    for (size_t i = 0; i < nf; i++) {
        /* trim each field */
        char *a = f[i];
        while (*a == ' ' || *a == '\t') a++;
        char *e = a + strlen(a);
        while (e > a && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        f[i] = a;
    }
    const char *kw = f[0];
    nn_kind kind = NN_KIND_COUNT;
    if (strcmp(kw, "pool") == 0) kind = NN_MAXPOOL;
    for (int k = 0; k < NN_KIND_COUNT; k++)
        if (strcmp(kw, kind_names[k]) == 0 && k != NN_ADD) kind = (nn_kind)k;
    if (kind == NN_KIND_COUNT)
        return arch_err(sc, TL_ERR_INVALID_ARG, "unknown layer '%s' (conv, dense, maxpool/pool, "
                        "avgpool, gap, bn, dropout, relu, lrelu, gelu, tanh, sigmoid, flatten, grl)", kw);
    nn_layer L;
    memset(&L, 0, sizeof L);
    L.kind = kind;
    L.in = *cur;
    L.out = *cur;
    L.w = L.b = L.rm = L.rv = -1;
    L.lr_mult = 1.0f;
    size_t v;
    double d;
    switch (kind) {
    case NN_CONV: {
        if (nf < 3 || nf > 5)
            return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "conv takes conv:OUT:K[:STRIDE[:PAD]]");
        if (!parse_size(f[1], 1, ARCH_MAX_DIM, &L.units))
            return arch_err(sc, TL_ERR_INVALID_ARG, "output channels '%s' is not a whole number >= 1", f[1]);
        if (!parse_size(f[2], 1, 64, &L.k))
            return arch_err(sc, TL_ERR_INVALID_ARG, "kernel size '%s' is not a whole number in 1..64", f[2]);
        L.stride = 1;
        L.pad = (L.k - 1) / 2;
        if (nf > 3 && !parse_size(f[3], 1, 64, &L.stride))
            return arch_err(sc, TL_ERR_INVALID_ARG, "stride '%s' is not a whole number in 1..64", f[3]);
        if (nf > 4 && !parse_size(f[4], 0, L.k - 1, &L.pad))
            return arch_err(sc, TL_ERR_INVALID_ARG, "padding '%s' is not a whole number below the kernel size", f[4]);
        if (cur->h + 2 * L.pad < L.k || cur->w + 2 * L.pad < L.k) {
            snprintf(buf, sizeof buf, "a %zux%zu kernel does not fit the %zux%zu input (padding %zu)",
                     L.k, L.k, cur->h, cur->w, L.pad);
            return arch_err(sc, TL_ERR_SHAPE, "%s", buf);
        }
        L.out.c = L.units;
        L.out.h = (cur->h + 2 * L.pad - L.k) / L.stride + 1;
        L.out.w = (cur->w + 2 * L.pad - L.k) / L.stride + 1;
        break;
    }
    case NN_DENSE:
        if (nf != 2) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "dense takes dense:N");
        if (!parse_size(f[1], 1, ARCH_MAX_DIM, &L.units))
            return arch_err(sc, TL_ERR_INVALID_ARG, "units '%s' is not a whole number >= 1", f[1]);
        if (cur->h != 1 || cur->w != 1) {
            snprintf(buf, sizeof buf, "needs a flat input but gets %zux%zux%zu: add 'flatten' or "
                     "'gap' before it", cur->c, cur->h, cur->w);
            return arch_err(sc, TL_ERR_SHAPE, "%s", buf);
        }
        L.out = (nn_shape){L.units, 1, 1};
        break;
    case NN_MAXPOOL:
    case NN_AVGPOOL:
        if (nf < 2 || nf > 3)
            return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "pooling takes pool:K[:STRIDE]");
        if (!parse_size(f[1], 1, 64, &L.k))
            return arch_err(sc, TL_ERR_INVALID_ARG, "pool size '%s' must be a whole number in 1..64", f[1]);
        L.stride = L.k;
        if (nf > 2 && !parse_size(f[2], 1, 64, &L.stride))
            return arch_err(sc, TL_ERR_INVALID_ARG, "stride '%s' is not a whole number in 1..64", f[2]);
        if (cur->h < L.k || cur->w < L.k) {
            snprintf(buf, sizeof buf, "a %zux%zu window does not fit the %zux%zu input", L.k, L.k,
                     cur->h, cur->w);
            return arch_err(sc, TL_ERR_SHAPE, "%s", buf);
        }
        L.out.h = (cur->h - L.k) / L.stride + 1;
        L.out.w = (cur->w - L.k) / L.stride + 1;
        break;
    case NN_GAP:
        if (nf != 1) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "gap takes no arguments");
        L.out = (nn_shape){cur->c, 1, 1};
        break;
    case NN_FLATTEN:
        if (nf != 1) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "flatten takes no arguments");
        L.out = (nn_shape){nn_shape_size(*cur), 1, 1};
        break;
    case NN_DROPOUT:
        if (nf > 2) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "dropout takes dropout[:P]");
        d = 0.5;
        if (nf == 2 && !parse_float(f[1], 0.0, 1.0, true, &d))
            return arch_err(sc, TL_ERR_INVALID_ARG, "probability '%s' is not in [0, 1)", f[1]);
        L.alpha = (float)d;
        break;
    case NN_LRELU:
        if (nf > 2) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "lrelu takes lrelu[:SLOPE]");
        d = 0.01;
        if (nf == 2 && !parse_float(f[1], 0.0, 1e6, false, &d))
            return arch_err(sc, TL_ERR_INVALID_ARG, "slope '%s' is not a number >= 0", f[1]);
        L.alpha = (float)d;
        break;
    case NN_GRL: /* the coefficient is set per step (tl_nn_set_grl), not part of the string */
        if (nf != 1) return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "grl takes no arguments");
        L.alpha = 1.0f;
        break;
    default: /* bn, relu, gelu, tanh, sigmoid */
        if (nf != 1) {
            snprintf(buf, sizeof buf, "%s takes no arguments", kind_names[kind]);
            return arch_err(sc, TL_ERR_INVALID_ARG, "%s", buf);
        }
        break;
    }
    if (nn_shape_size(L.out) > ARCH_MAX_SIZE)
        return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "output too large (over 2^28 values a sample)");
    if (L.kind == NN_DENSE || L.kind == NN_CONV) {
        size_t fan = L.kind == NN_DENSE ? nn_shape_size(L.in) : L.in.c * L.k * L.k, np;
        if (tl_size_mul(fan, L.units, &np) != 0 || np > ARCH_MAX_SIZE)
            return arch_err(sc, TL_ERR_INVALID_ARG, "%s", "too many weights (over 2^28)");
    }
    (void)v;
    nn_layer *slot;
    TL_TRY(nn_alloc_layer(nn, &slot));
    *slot = L;
    if (name[0]) {
        strcpy(slot->name, name);
        slot->named = true;
    } else {
        default_name(nn, slot);
    }
    TL_TRY(make_tensors(nn, nn->nl - 1));
    *cur = L.out;
done:
    return st;
}

#define ARCH_NONE ((size_t)-1)

typedef struct {
    size_t start;   /* index of the activation entering the block */
    nn_shape shape;
    size_t bar;     /* index of the shortcut's first layer (the main path's output activation),
                       ARCH_NONE before a '|' */
    nn_shape main;  /* the main path's output shape, once '|' is seen */
    size_t bar_col;
    char name[NN_NAME_MAX];
    size_t tok, col;
} block;

tl_status nn_parse_arch(tl_nn *nn, const char *arch) {
    tl_status st = TL_OK;
    scan sc = {arch, 0, 0, 0, ""};
    block stack[ARCH_MAX_DEPTH];
    size_t depth = 0;
    nn_shape cur = nn->in;
    char raw[256];
    size_t pending_src = ARCH_NONE; /* the block input the next layer reads, right after '|' */
    skip_ws(&sc);
    if (!arch[sc.pos]) return tl_fail(TL_ERR_INVALID_ARG, "arch: empty architecture");
    for (;;) {
        skip_ws(&sc);
        size_t start = sc.pos;
        while (arch[sc.pos] && !strchr(",[]|#\n", arch[sc.pos])) sc.pos++;
        size_t len = sc.pos - start;
        while (len > 0 && strchr(" \t\r", arch[start + len - 1])) len--;
        sc.tok++;
        sc.tok_col = start + 1;
        snprintf(sc.text, sizeof sc.text, "%.*s", (int)(len < 100 ? len : 100), arch + start);
        if (len >= sizeof raw) return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "token too long");
        memcpy(raw, arch + start, len);
        raw[len] = '\0';
        skip_ws(&sc);
        if (arch[sc.pos] == '[') {
            block *b = &stack[depth];
            if (depth == ARCH_MAX_DEPTH)
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "residual blocks nested too deeply");
            b->name[0] = '\0';
            if (len) {
                if (raw[len - 1] != '=')
                    return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                                    "only NAME= may come before '[' (a missing ','?)");
                raw[len - 1] = '\0';
                size_t nl = strlen(raw);
                while (nl > 0 && (raw[nl - 1] == ' ' || raw[nl - 1] == '\t')) raw[--nl] = '\0';
                if (!valid_name(raw))
                    return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                                    "a block name uses letters, digits, '_' and '-' and is not a number");
                strcpy(b->name, raw);
            } else {
                strcpy(sc.text, "[");
                sc.tok_col = sc.pos + 1;
            }
            if (depth && stack[depth - 1].bar != ARCH_NONE)
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                                "a shortcut (after '|') is a plain list of layers, without blocks");
            b->start = nn->nl;
            b->shape = cur;
            b->bar = ARCH_NONE;
            b->tok = sc.tok;
            b->col = sc.pos + 1;
            depth++;
            sc.pos++;
            continue;
        }
        if (!len) {
            if (arch[sc.pos] == ']' && depth && stack[depth - 1].start == nn->nl) {
                strcpy(sc.text, "]");
                sc.tok_col = sc.pos + 1;
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "empty residual block");
            }
            if (arch[sc.pos] == '|' && depth && stack[depth - 1].start == nn->nl) {
                strcpy(sc.text, "|");
                sc.tok_col = sc.pos + 1;
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                                "the block's main path before '|' is empty");
            }
            if (arch[sc.pos] == ']' && depth && stack[depth - 1].bar == nn->nl) {
                strcpy(sc.text, "]");
                sc.tok_col = sc.pos + 1;
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "the shortcut after '|' is empty");
            }
            strcpy(sc.text, arch[sc.pos] ? (char[2]){arch[sc.pos], 0} : "");
            sc.tok_col = sc.pos + 1;
            return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                            arch[sc.pos] ? "a layer is missing here" :
                                           "the architecture ends after a ','");
        }
        TL_TRY(parse_layer(nn, &sc, raw, &cur));
        nn->layers[nn->nl - 1].src = pending_src != ARCH_NONE ? pending_src : nn->nl - 1;
        pending_src = ARCH_NONE;
        if (depth && stack[depth - 1].bar != ARCH_NONE && nn->layers[nn->nl - 1].kind == NN_FLATTEN)
            return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                            "a shortcut (after '|') cannot flatten; flatten after the block");
        skip_ws(&sc);
        while (arch[sc.pos] == ']') {
            sc.tok++;
            sc.tok_col = sc.pos + 1;
            strcpy(sc.text, "]");
            if (!depth) return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "closes no block");
            block *b = &stack[--depth];
            if (b->bar != ARCH_NONE &&
                (b->main.c != cur.c || b->main.h != cur.h || b->main.w != cur.w)) {
                char m[240];
                snprintf(m, sizeof m,
                         "the block opened at column %zu: its main path gives %zux%zux%zu but "
                         "the shortcut after '|' (column %zu) gives %zux%zux%zu; a residual add "
                         "needs the same shape",
                         b->col, b->main.c, b->main.h, b->main.w, b->bar_col, cur.c, cur.h, cur.w);
                return arch_err(&sc, TL_ERR_SHAPE, "%s", m);
            }
            if (b->bar == ARCH_NONE &&
                (b->shape.c != cur.c || b->shape.h != cur.h || b->shape.w != cur.w)) {
                char m[200];
                snprintf(m, sizeof m,
                         "the block opened at column %zu maps %zux%zux%zu to %zux%zux%zu; a "
                         "residual add needs the same shape",
                         b->col, b->shape.c, b->shape.h, b->shape.w, cur.c, cur.h, cur.w);
                return arch_err(&sc, TL_ERR_SHAPE, "%s", m);
            }
            nn_layer *slot;
            TL_TRY(nn_alloc_layer(nn, &slot));
            memset(slot, 0, sizeof *slot);
            slot->kind = NN_ADD;
            slot->in = slot->out = cur;
            slot->src = nn->nl - 1;
            slot->start = b->start;
            slot->proj = b->bar != ARCH_NONE;
            slot->skip = slot->proj ? b->bar : b->start;
            slot->w = slot->b = slot->rm = slot->rv = -1;
            slot->lr_mult = 1.0f;
            if (b->name[0]) {
                strcpy(slot->name, b->name);
                slot->named = true;
            } else {
                default_name(nn, slot);
            }
            sc.pos++;
            skip_ws(&sc);
        }
        if (arch[sc.pos] == ',') {
            sc.pos++;
            continue;
        }
        if (arch[sc.pos] == '|') {
            sc.tok++;
            sc.tok_col = sc.pos + 1;
            strcpy(sc.text, "|");
            if (!depth)
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s",
                                "a shortcut '|' belongs inside a block '[main | shortcut]'");
            block *b = &stack[depth - 1];
            if (b->bar != ARCH_NONE)
                return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "a block has at most one '|'");
            b->bar = nn->nl;
            b->main = cur;
            b->bar_col = sc.pos + 1;
            cur = b->shape;
            pending_src = b->start;
            sc.pos++;
            continue;
        }
        if (!arch[sc.pos]) break;
        sc.tok++;
        sc.tok_col = sc.pos + 1;
        snprintf(sc.text, sizeof sc.text, "%c", arch[sc.pos]);
        return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "expected ',' between layers");
    }
    if (depth) {
        sc.tok = stack[depth - 1].tok;
        sc.tok_col = stack[depth - 1].col;
        strcpy(sc.text, "[");
        return arch_err(&sc, TL_ERR_INVALID_ARG, "%s", "this residual block is never closed with ']'");
    }
    for (size_t i = 0; i < nn->nl; i++)
        for (size_t j = i + 1; j < nn->nl; j++)
            if (strcmp(nn->layers[i].name, nn->layers[j].name) == 0)
                return tl_fail(TL_ERR_INVALID_ARG, "arch: two layers are named '%s' (layers %zu and "
                               "%zu); names must be unique", nn->layers[i].name, i, j);
    st = nn_rebuild_arch(nn);
done:
    return st;
}

/* ---- canonical string ---- */
typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 128);
        while (nc < b->len + n + 1) nc *= 2;
        char *p = tl_realloc(b->buf, nc);
        if (!p) {
            b->oom = true;
            return;
        }
        b->buf = p;
        b->cap = nc;
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

/* "name:V" with the shortest decimal that reads back as the same float. */
static void fmt_float(char *t, size_t cap, const char *name, float v) {
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(t, cap, "%s:%.*g", name, prec, (double)v);
        if (strtof(t + strlen(name) + 1, NULL) == v) return;
    }
}

tl_status nn_rebuild_arch(tl_nn *nn) {
    sbuf b = {NULL, 0, 0, false};
    char t[160];
    bool first = true;
    for (size_t i = 0; i < nn->nl; i++) {
        const nn_layer *L = &nn->layers[i];
        if (L->kind == NN_ADD) {
            sb_add(&b, "]");
            continue;
        }
        if (L->src != i) sb_add(&b, "|"); /* a shortcut starts here */
        else if (!first) sb_add(&b, ",");
        first = false;
        /* blocks opening here, outermost (latest end) first */
        for (size_t j = nn->nl; j-- > i + 1;) {
            const nn_layer *A = &nn->layers[j];
            if (A->kind == NN_ADD && A->start == i) {
                if (A->named) {
                    sb_add(&b, A->name);
                    sb_add(&b, "=");
                }
                sb_add(&b, "[");
            }
        }
        if (L->named) {
            sb_add(&b, L->name);
            sb_add(&b, "=");
        }
        switch (L->kind) {
        case NN_CONV:
            if (L->pad != (L->k - 1) / 2)
                snprintf(t, sizeof t, "conv:%zu:%zu:%zu:%zu", L->units, L->k, L->stride, L->pad);
            else if (L->stride != 1)
                snprintf(t, sizeof t, "conv:%zu:%zu:%zu", L->units, L->k, L->stride);
            else
                snprintf(t, sizeof t, "conv:%zu:%zu", L->units, L->k);
            break;
        case NN_DENSE: snprintf(t, sizeof t, "dense:%zu", L->units); break;
        case NN_MAXPOOL:
        case NN_AVGPOOL:
            if (L->stride != L->k)
                snprintf(t, sizeof t, "%s:%zu:%zu", kind_names[L->kind], L->k, L->stride);
            else
                snprintf(t, sizeof t, "%s:%zu", kind_names[L->kind], L->k);
            break;
        case NN_DROPOUT: fmt_float(t, sizeof t, "dropout", L->alpha); break;
        case NN_LRELU: fmt_float(t, sizeof t, "lrelu", L->alpha); break;
        default: snprintf(t, sizeof t, "%s", kind_names[L->kind]); break;
        }
        sb_add(&b, t);
    }
    if (b.oom) {
        tl_free(b.buf);
        return tl_fail(TL_ERR_NOMEM, "arch: out of memory");
    }
    tl_free(nn->arch);
    nn->arch = b.buf;
    return TL_OK;
}
