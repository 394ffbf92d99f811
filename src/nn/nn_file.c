/* Neural networks in the .tlm container (layout in tl/io.h): metadata "kind" = "nn", "arch"
 * (canonical architecture string), "input_shape" ("C,H,W"), "input_norm" ("shift,scale"),
 * "labels" ("5,6,7,8,9"), optionally "label_names", and every named tensor as f32 under its libtl
 * name. Loading rebuilds the network from the architecture and then demands exactly the tensors
 * it declares, with exactly their shapes: a file that lacks one, has an extra one, or disagrees
 * on a shape is refused naming the file and the tensor.
 *
 * Why: the network writes itself through the container's small interface (tl/io.h), which
 * already guarantees integrity (checksum, bounds, atomic writes through tl_wfile) and knows no
 * model; this layer only has to make sure the architecture and the weights agree. Floats are
 * stored as raw bits (and the two normalisation constants printed with 9 significant digits,
 * which round-trip a float exactly), so save -> load is bit-exact. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "tl/io.h"

tl_status tl_nn_save(const tl_nn *nn, const char *path) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(nn && path, TL_ERR_INVALID_ARG, "nn_save: NULL argument");
    TL_TRY(tl_tlm_create(&m));
    TL_TRY(tl_nn_write(nn, m));
    TL_TRY(tl_tlm_save(m, path));
done:
    tl_tlm_free(m);
    return st;
}

tl_status tl_nn_write(const tl_nn *nn, tl_tlm *m) {
    tl_status st = TL_OK;
    char *labels = NULL;
    char buf[128];
    TL_CHECK(nn && m, TL_ERR_INVALID_ARG, "nn_write: NULL argument");
    TL_TRY(tl_tlm_set_meta(m, "kind", "nn"));
    TL_TRY(tl_tlm_set_meta(m, "libtl_version", tl_version()));
    TL_TRY(tl_tlm_set_meta(m, "arch", nn->arch));
    snprintf(buf, sizeof buf, "%zu,%zu,%zu", nn->in.c, nn->in.h, nn->in.w);
    TL_TRY(tl_tlm_set_meta(m, "input_shape", buf));
    snprintf(buf, sizeof buf, "%.9g,%.9g", (double)nn->in_shift, (double)nn->in_scale);
    TL_TRY(tl_tlm_set_meta(m, "input_norm", buf));
    {
        const size_t K = tl_nn_output_dim(nn);
        TL_ALLOC(labels, K * 12 + 1);
        size_t len = 0;
        labels[0] = '\0';
        for (size_t k = 0; k < K; k++)
            len += (size_t)snprintf(labels + len, 13, "%s%d", k ? "," : "", nn->labels[k]);
        TL_TRY(tl_tlm_set_meta(m, "labels", labels));
    }
    if (nn->label_names) TL_TRY(tl_tlm_set_meta(m, "label_names", nn->label_names));
    for (size_t i = 0; i < nn->nt; i++)
        TL_TRY(tl_tlm_add_tensor(m, nn->t[i].name, TL_DTYPE_F32, nn->t[i].ndim, nn->t[i].dims,
                                 nn->t[i].data));
done:
    tl_free(labels);
    return st;
}

/* Parse "a,b,c" of n unsigned numbers. */
static bool parse_sizes(const char *s, size_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *end;
        if (*s < '0' || *s > '9') return false;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || x > ((size_t)1 << 24)) return false;
        v[i] = (size_t)x;
        s = end;
        if (i + 1 < n) {
            if (*s != ',') return false;
            s++;
        }
    }
    return *s == '\0';
}

tl_status tl_nn_load(const char *path, tl_nn **out) {
    tl_status st = TL_OK;
    tl_tlm *m = NULL;
    TL_CHECK(path && out, TL_ERR_INVALID_ARG, "nn_load: NULL argument");
    *out = NULL;
    TL_TRY(tl_tlm_load(path, &m));
    TL_TRY(tl_nn_read(m, path, out));
done:
    tl_tlm_free(m);
    return st;
}

tl_status tl_nn_read(const tl_tlm *m, const char *path, tl_nn **out) {
    tl_status st = TL_OK;
    tl_nn *nn = NULL;
    int *labels = NULL;
    TL_CHECK(m && out, TL_ERR_INVALID_ARG, "nn_read: NULL argument");
    *out = NULL;
    if (!path) path = "network";
    const char *kind = tl_tlm_get_meta(m, "kind"), *arch = tl_tlm_get_meta(m, "arch");
    const char *shape = tl_tlm_get_meta(m, "input_shape"), *norm = tl_tlm_get_meta(m, "input_norm");
    const char *lab = tl_tlm_get_meta(m, "labels");
    TL_CHECK(!kind || strcmp(kind, "nn-multitask") != 0, TL_ERR_FORMAT,
             "%s: a multi-task network (tasks %s): choose one task (--model-task NAME; tl_nn_mtl_load)",
             path, tl_tlm_get_meta(m, "tasks") ? tl_tlm_get_meta(m, "tasks") : "?");
    TL_CHECK(kind && strcmp(kind, "nn") == 0, TL_ERR_FORMAT,
             "%s: not a neural-network model (kind '%s')", path, kind ? kind : "(none)");
    TL_CHECK(arch && shape && norm && lab, TL_ERR_FORMAT,
             "%s: the model lacks its %s metadata", path,
             !arch ? "arch" : !shape ? "input_shape" : !norm ? "input_norm" : "labels");
    size_t s[3];
    TL_CHECK(parse_sizes(shape, s, 3), TL_ERR_FORMAT, "%s: bad input_shape '%s'", path, shape);
    st = tl_nn_create(arch, s[0], s[1], s[2], 0, &nn);
    if (st != TL_OK) {
        st = tl_fail_prefix(TL_ERR_FORMAT, "%s", path);
        goto done;
    }
    {
        char *end;
        float sh = strtof(norm, &end), sc;
        TL_CHECK(*end == ',', TL_ERR_FORMAT, "%s: bad input_norm '%s'", path, norm);
        sc = strtof(end + 1, &end);
        TL_CHECK(*end == '\0' && sc == sc && sh == sh, TL_ERR_FORMAT, "%s: bad input_norm '%s'",
                 path, norm);
        nn->in_shift = sh;
        nn->in_scale = sc;
    }
    {
        const size_t K = tl_nn_output_dim(nn);
        TL_ALLOC(labels, K);
        const char *p = lab;
        for (size_t k = 0; k < K; k++) {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            TL_CHECK(end != p && !errno && v >= -2147483647L - 1 && v <= 2147483647L &&
                         (*end == (k + 1 < K ? ',' : '\0')),
                     TL_ERR_FORMAT, "%s: labels '%s' do not give %zu integers", path, lab, K);
            labels[k] = (int)v;
            p = end + 1;
        }
        st = tl_nn_set_labels(nn, labels, K);
        if (st != TL_OK) {
            st = tl_fail_prefix(TL_ERR_FORMAT, "%s", path);
            goto done;
        }
    }
    if (tl_tlm_get_meta(m, "label_names") &&
        (st = tl_nn_set_label_names(nn, tl_tlm_get_meta(m, "label_names"))) != TL_OK) {
        st = tl_fail_prefix(TL_ERR_FORMAT, "%s", path);
        goto done;
    }
    TL_CHECK(tl_tlm_tensor_count(m) == nn->nt, TL_ERR_FORMAT,
             "%s: %zu tensors, but the architecture has %zu", path, tl_tlm_tensor_count(m), nn->nt);
    for (size_t i = 0; i < nn->nt; i++) {
        nn_tensor *t = &nn->t[i];
        tl_dtype dt;
        size_t nd;
        const size_t *dims;
        const void *data;
        st = tl_tlm_get_tensor(m, t->name, &dt, &nd, &dims, &data);
        if (st != TL_OK) {
            st = tl_fail(TL_ERR_FORMAT, "%s: tensor '%s' is missing", path, t->name);
            goto done;
        }
        TL_CHECK(dt == TL_DTYPE_F32, TL_ERR_FORMAT, "%s: tensor '%s' is not float32", path, t->name);
        bool same = nd == t->ndim;
        for (size_t k = 0; same && k < nd; k++) same = dims[k] == t->dims[k];
        TL_CHECK(same, TL_ERR_FORMAT, "%s: tensor '%s' has the wrong shape for the architecture",
                 path, t->name);
        memcpy(t->data, data, t->size * sizeof(float));
    }
    *out = nn;
    nn = NULL;
done:
    tl_free(labels);
    tl_nn_free(nn);
    return st;
}
