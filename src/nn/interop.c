/* PyTorch interop: a network's tensors in and out of safetensors files (the format, and its strict
 * reader, are the container's: src/io/safetensors.c, tl/io.h).
 *
 * Import maps file names to libtl names through a rule list (prefix rewrites and "@index" for
 * PyTorch nn.Sequential numbering), checks shapes, stages every converted tensor and commits only
 * when all is well, and reports what was missing or unexpected. Export writes F32 tensors with the
 * architecture in __metadata__, through tl_wfile (a temporary file renamed into place, or written
 * through to a stream).
 *
 * Why here and not beside the reader: the mapping needs the network's layers and tensors, which
 * only src/nn knows; the reader stays a container that knows no model, as .tlm does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "tl/io.h"
#include "internal/util.h"

/* The reader caps tensor names at 4 KiB; a mapped name adds at most a rule's target. */
#define NN_IMPORT_NAME_MAX (4096 + 128)

/* ---- import into a network ---- */

void tl_nn_import_report_free(tl_nn_import_report *r) {
    if (!r) return;
    tl_free(r->missing);
    tl_free(r->unexpected);
    memset(r, 0, sizeof *r);
}

/* Map a file name through the rules into out (cap bytes). false when no tensor can match. */
static bool map_name(const tl_nn *nn, const char *rules, const char *name, char *out, size_t cap) {
    if (rules && *rules) {
        const char *r = rules;
        while (*r) {
            size_t len = strcspn(r, ",\n");
            const char *eq = memchr(r, '=', len);
            if (len == 6 && strncmp(r, "@index", 6) == 0) {
                char *end;
                if (name[0] >= '0' && name[0] <= '9') {
                    unsigned long i = strtoul(name, &end, 10);
                    if (*end == '.' && i < nn->nl) {
                        snprintf(out, cap, "%s.%s", nn->layers[i].name, end + 1);
                        return true;
                    }
                }
            } else if (eq) {
                size_t fl = (size_t)(eq - r);
                if (strncmp(name, r, fl) == 0) {
                    size_t tl = len - fl - 1;
                    snprintf(out, cap, "%.*s%s", (int)tl, eq + 1, name + fl);
                    return true;
                }
            }
            r += len;
            if (*r) r++;
        }
    }
    snprintf(out, cap, "%s", name);
    return true;
}

static tl_status check_rules(const char *rules) {
    if (!rules) return TL_OK;
    const char *r = rules;
    while (*r) {
        size_t len = strcspn(r, ",\n");
        while (len && (r[len - 1] == ' ' || r[len - 1] == '\r')) len--;
        if (len && !(len == 6 && strncmp(r, "@index", 6) == 0) && !memchr(r, '=', len))
            return tl_fail(TL_ERR_INVALID_ARG, "name map: rule '%.*s' is neither FROM=TO nor @index",
                           (int)len, r);
        r += strcspn(r, ",\n");
        if (*r) r++;
    }
    return TL_OK;
}

/* Append "s\n" to a growing list. */
static tl_status list_add(char **list, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        while (nc < *len + n + 2) nc *= 2;
        char *p = tl_realloc(*list, nc);
        if (!p) return tl_fail(TL_ERR_NOMEM, "import: out of memory");
        *list = p;
        *cap = nc;
    }
    memcpy(*list + *len, s, n);
    (*list)[*len + n] = '\n';
    (*list)[*len + n + 1] = '\0';
    *len += n + 1;
    return TL_OK;
}

tl_status tl_nn_import_safetensors(tl_nn *nn, const char *path, const char *name_map,
                                   bool allow_missing, tl_nn_import_report *report) {
    tl_status st = TL_OK;
    tl_safetensors *s = NULL;
    long *src = NULL;   /* nn tensor -> file tensor */
    float **stage = NULL;
    char *miss = NULL, *unexp = NULL;
    size_t ml = 0, mc = 0, ul = 0, uc = 0, n_miss = 0, n_unexp = 0, loaded = 0;
    char mapped[NN_IMPORT_NAME_MAX];
    if (report) memset(report, 0, sizeof *report);
    TL_CHECK(nn && path, TL_ERR_INVALID_ARG, "import: NULL argument");
    TL_TRY(check_rules(name_map));
    TL_TRY(tl_safetensors_load(path, &s));
    TL_ALLOC(src, nn->nt);
    TL_CALLOC(stage, nn->nt);
    for (size_t i = 0; i < nn->nt; i++) src[i] = -1;
    for (size_t f = 0; f < tl_safetensors_count(s); f++) {
        const char *fname;
        size_t fnd;
        const size_t *fdims;
        tl_safetensors_info(s, f, &fname, NULL, &fnd, &fdims);
        map_name(nn, name_map, fname, mapped, sizeof mapped);
        long hit = -1;
        for (size_t i = 0; i < nn->nt; i++)
            if (strcmp(nn->t[i].name, mapped) == 0) hit = (long)i;
        if (hit < 0) {
            n_unexp++;
            TL_TRY(list_add(&unexp, &ul, &uc, fname));
            continue;
        }
        nn_tensor *d = &nn->t[hit];
        if (src[hit] >= 0) {
            const char *first;
            tl_safetensors_info(s, (size_t)src[hit], &first, NULL, NULL, NULL);
            st = tl_fail(TL_ERR_FORMAT, "%s: tensors '%s' and '%s' both map to '%s'", path, first,
                         fname, d->name);
            goto done;
        }
        bool same = fnd == d->ndim;
        for (size_t k = 0; same && k < fnd; k++) same = fdims[k] == d->dims[k];
        if (!same) {
            char a[128] = "", b[128] = "";
            for (size_t k = 0; k < fnd; k++)
                snprintf(a + strlen(a), sizeof a - strlen(a), "%s%zu", k ? "," : "", fdims[k]);
            for (size_t k = 0; k < d->ndim; k++)
                snprintf(b + strlen(b), sizeof b - strlen(b), "%s%zu", k ? "," : "", d->dims[k]);
            st = tl_fail(TL_ERR_SHAPE, "%s: tensor '%s' (-> %s) has shape [%s], the network expects [%s]",
                         path, fname, d->name, a, b);
            goto done;
        }
        src[hit] = (long)f;
        TL_ALLOC(stage[hit], d->size);
        st = tl_safetensors_get_f32(s, f, stage[hit]);
        if (st != TL_OK) {
            tl_fail_prefix(st, "%s", path);
            goto done;
        }
        loaded++;
    }
    for (size_t i = 0; i < nn->nt; i++)
        if (src[i] < 0) {
            n_miss++;
            TL_TRY(list_add(&miss, &ml, &mc, nn->t[i].name));
        }
    if (n_miss && !allow_missing) {
        char first[3 * NN_NAME_MAX] = "";
        for (size_t i = 0, k = 0; i < nn->nt && k < 3; i++)
            if (src[i] < 0) {
                snprintf(first + strlen(first), sizeof first - strlen(first), "%s%s", k ? ", " : "",
                         nn->t[i].name);
                k++;
            }
        st = tl_fail(TL_ERR_NOT_FOUND, "%s: %zu network tensors are missing from the file (%s%s); "
                     "%zu file tensors matched nothing; check the name map", path, n_miss, first,
                     n_miss > 3 ? ", ..." : "", n_unexp);
        goto done;
    }
    for (size_t i = 0; i < nn->nt; i++)
        if (stage[i]) memcpy(nn->t[i].data, stage[i], nn->t[i].size * sizeof(float));
done:
    if (report) {
        report->loaded = st == TL_OK ? loaded : 0;
        report->n_missing = n_miss;
        report->n_unexpected = n_unexp;
        report->missing = miss;
        report->unexpected = unexp;
        miss = unexp = NULL;
    }
    tl_free(miss);
    tl_free(unexp);
    if (stage)
        for (size_t i = 0; i < nn->nt; i++) tl_free(stage[i]);
    tl_free(stage);
    tl_free(src);
    tl_safetensors_free(s);
    return st;
}

/* ---- export ---- */

static tl_status sb_put(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        while (nc < *len + n + 1) nc *= 2;
        char *p = tl_realloc(*b, nc);
        if (!p) return tl_fail(TL_ERR_NOMEM, "export: out of memory");
        *b = p;
        *cap = nc;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
    return TL_OK;
}

static tl_status sb_json_str(char **b, size_t *len, size_t *cap, const char *s) {
    tl_status st = sb_put(b, len, cap, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; st == TL_OK && *p; p++) {
        char e[8];
        if (*p == '"' || *p == '\\') {
            e[0] = '\\';
            e[1] = (char)*p;
            st = sb_put(b, len, cap, e, 2);
        } else if (*p < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", *p);
            st = sb_put(b, len, cap, e, 6);
        } else {
            st = sb_put(b, len, cap, (const char *)p, 1);
        }
    }
    if (st == TL_OK) st = sb_put(b, len, cap, "\"", 1);
    return st;
}

tl_status tl_nn_safetensors_arch(const char *path, char **arch, size_t *c, size_t *h, size_t *w) {
    tl_status st = TL_OK;
    tl_safetensors *s = NULL;
    TL_CHECK(path && arch && c && h && w, TL_ERR_INVALID_ARG, "safetensors_arch: NULL argument");
    *arch = NULL;
    TL_TRY(tl_safetensors_load(path, &s));
    const char *a = tl_safetensors_meta(s, "libtl_arch"), *shape = tl_safetensors_meta(s, "input_shape");
    TL_CHECK(a && shape, TL_ERR_FORMAT,
             "%s: no libtl_arch / input_shape in its __metadata__ (not a libtl export): give the "
             "architecture and the input shape",
             path);
    unsigned long uc, uh, uw;
    char tail;
    TL_CHECK(sscanf(shape, "%lu,%lu,%lu%c", &uc, &uh, &uw, &tail) == 3 && uc && uh && uw,
             TL_ERR_FORMAT, "%s: __metadata__ input_shape '%s' is not C,H,W", path, shape);
    *arch = tli_strdup(a);
    TL_CHECK(*arch, TL_ERR_NOMEM, "%s: out of memory", path);
    *c = uc, *h = uh, *w = uw;
done:
    tl_safetensors_free(s);
    return st;
}

tl_status tl_nn_export_safetensors(const tl_nn *nn, const char *path, const char *name_map) {
    tl_status st = TL_OK;
    char *h = NULL;
    size_t hl = 0, hc = 0, off = 0;
    tl_wfile *f = NULL;
    char num[256];
    TL_CHECK(nn && path, TL_ERR_INVALID_ARG, "export: NULL argument");
    const bool by_index = name_map && strcmp(name_map, "@index") == 0;
    TL_CHECK(!name_map || !*name_map || by_index, TL_ERR_INVALID_ARG,
             "export: the name map can only be \"@index\" (or empty)");
    static const char head[] = "{\"__metadata__\":{\"format\":\"pt\",\"libtl_arch\":";
    static const char ent[] = ":{\"dtype\":\"F32\",\"shape\":[";
    TL_TRY(sb_put(&h, &hl, &hc, head, strlen(head)));
    TL_TRY(sb_json_str(&h, &hl, &hc, nn->arch));
    snprintf(num, sizeof num, ",\"input_shape\":\"%zu,%zu,%zu\"}", nn->in.c, nn->in.h, nn->in.w);
    TL_TRY(sb_put(&h, &hl, &hc, num, strlen(num)));
    for (size_t i = 0; i < nn->nt; i++) {
        const nn_tensor *t = &nn->t[i];
        char name[NN_NAME_MAX + 64];
        if (by_index) {
            const char *suffix = t->name + strlen(nn->layers[t->layer].name) + 1;
            snprintf(name, sizeof name, "%zu.%s", t->layer, suffix);
        } else {
            snprintf(name, sizeof name, "%s", t->name);
        }
        TL_TRY(sb_put(&h, &hl, &hc, ",", 1));
        TL_TRY(sb_json_str(&h, &hl, &hc, name));
        TL_TRY(sb_put(&h, &hl, &hc, ent, strlen(ent)));
        for (size_t k = 0; k < t->ndim; k++) {
            snprintf(num, sizeof num, "%s%zu", k ? "," : "", t->dims[k]);
            TL_TRY(sb_put(&h, &hl, &hc, num, strlen(num)));
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + 4 * t->size);
        TL_TRY(sb_put(&h, &hl, &hc, num, strlen(num)));
        off += 4 * t->size;
    }
    TL_TRY(sb_put(&h, &hl, &hc, "}", 1));
    while (hl % 8) TL_TRY(sb_put(&h, &hl, &hc, " ", 1));
    TL_TRY(tl_wfile_open(path, &f));
    {
        unsigned char len8[8];
        for (int k = 0; k < 8; k++) len8[k] = (unsigned char)(((uint64_t)hl >> (8 * k)) & 0xFF);
        TL_TRY(tl_wfile_write(f, len8, 8));
        TL_TRY(tl_wfile_write(f, h, hl));
    }
    for (size_t i = 0; i < nn->nt; i++) { /* little-endian float32, in blocks */
        const nn_tensor *t = &nn->t[i];
        unsigned char b[4096];
        for (size_t k0 = 0; k0 < t->size; k0 += sizeof b / 4) {
            size_t m = t->size - k0 < sizeof b / 4 ? t->size - k0 : sizeof b / 4;
            for (size_t k = 0; k < m; k++) {
                uint32_t u;
                memcpy(&u, &t->data[k0 + k], 4);
                b[4 * k] = (unsigned char)u;
                b[4 * k + 1] = (unsigned char)(u >> 8);
                b[4 * k + 2] = (unsigned char)(u >> 16);
                b[4 * k + 3] = (unsigned char)(u >> 24);
            }
            TL_TRY(tl_wfile_write(f, b, 4 * m));
        }
    }
    st = tl_wfile_commit(f);
    f = NULL;
done:
    tl_wfile_abort(f);
    tl_free(h);
    return st;
}
