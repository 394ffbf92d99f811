/* Training checkpoints: everything tl_nn_train needs to go on from the end of an epoch as if it
 * had never stopped - every tensor (parameters and batch-norm running statistics), the
 * optimiser's state (momentum / Adam moments of each trainable tensor and its step count), the
 * shuffling generator, the step counter, the early-stopping state and the figures and logs so far.
 * A resumed run therefore takes exactly the steps the uninterrupted one would have taken.
 *
 * Format (host byte order; a checkpoint is for resuming on the same kind of machine, not for
 * exchange - the model file is the .tlm): "TLCKPT01", then nn_ckpt's fixed fields, the two log
 * texts, the sample order, the tensors (of each network: a trunk, then its heads), the
 * optimiser buffers (a flag and the values per tensor and buffer), the best snapshot when kept, and an FNV-1a checksum of all of it. Written through tl_wfile
 * (temporary name, fsync, rename), so a crash leaves the previous checkpoint whole. */
#include <string.h>

#include "internal/check.h"
#include "internal/file.h"
#include "nn/nn_internal.h"

static const char MAGIC[8] = {'T', 'L', 'C', 'K', 'P', 'T', '0', '1'};

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ULL;
    return h;
}

typedef struct {
    tl_wfile *w;
    uint64_t h;
    tl_status st;
} wr;

static void put(wr *o, const void *p, size_t n) {
    if (o->st != TL_OK || !n) return;
    o->h = fnv(o->h, p, n);
    o->st = tl_wfile_write(o->w, p, n);
}

tl_status nn_ckpt_write_nets(const char *path, const tl_nn *const *nets, size_t nnets,
                             const float *best, size_t nbest, const nn_ckpt *c) {
    wr o = {NULL, 0xCBF29CE484222325ULL, TL_OK};
    tl_status st = tl_wfile_open(path, &o.w);
    if (st != TL_OK) return st;
    put(&o, MAGIC, sizeof MAGIC);
    put(&o, c, offsetof(nn_ckpt, log));
    const uint64_t ll = c->log ? strlen(c->log) : 0, sl = c->slog ? strlen(c->slog) : 0;
    put(&o, &ll, sizeof ll);
    put(&o, c->log, ll);
    put(&o, &sl, sizeof sl);
    put(&o, c->slog, sl);
    put(&o, c->perm, (size_t)c->rows * sizeof *c->perm);
    for (size_t q = 0; q < nnets; q++) {
        for (size_t i = 0; i < nets[q]->nt; i++) {
            const nn_tensor *T = &nets[q]->t[i];
            put(&o, T->data, T->size * sizeof(float));
            for (int k = 0; k < 2; k++) {
                const float *b = k ? T->v : T->m;
                const uint8_t has = b != NULL;
                put(&o, &has, 1);
                if (b) put(&o, b, T->size * sizeof(float));
            }
        }
    }
    const uint64_t nb = best ? nbest : 0;
    put(&o, &nb, sizeof nb);
    put(&o, best, nb * sizeof(float));
    const uint64_t h = o.h;
    put(&o, &h, sizeof h);
    if (o.st != TL_OK) {
        tl_wfile_abort(o.w);
        return o.st;
    }
    return tl_wfile_commit(o.w);
}

tl_status nn_ckpt_write(const char *path, const tl_nn *nn, const float *best, size_t nbest,
                        const nn_ckpt *c) {
    return nn_ckpt_write_nets(path, &nn, 1, best, nbest, c);
}

typedef struct {
    const unsigned char *b;
    size_t len, at;
} rd;

static bool get(rd *in, void *p, size_t n) {
    if (n > in->len - in->at) return false;
    if (n) memcpy(p, in->b + in->at, n);
    in->at += n;
    return true;
}

tl_status nn_ckpt_read_nets(const char *path, tl_nn *const *nets, size_t nnets, float *best,
                            size_t nbest, nn_ckpt *c) {
    tl_status st = TL_OK;
    unsigned char *buf = NULL;
    size_t len = 0, *perm = c->perm;
    const uint64_t rows = c->rows;
    memset(c, 0, sizeof *c);
    TL_TRY(tli_file_read_all(path, &buf, &len));
    rd in = {buf, len, 0};
    char magic[8];
    uint64_t ll = 0, sl = 0, nb = 0, h = 0;
    TL_CHECK(len >= sizeof magic + sizeof h && get(&in, magic, sizeof magic) &&
                 memcmp(magic, MAGIC, sizeof magic) == 0,
             TL_ERR_FORMAT, "%s: not a libtl training checkpoint", path);
    memcpy(&h, buf + len - sizeof h, sizeof h);
    TL_CHECK(fnv(0xCBF29CE484222325ULL, buf, len - sizeof h) == h, TL_ERR_FORMAT,
             "%s: checkpoint damaged (checksum mismatch)", path);
    TL_CHECK(get(&in, c, offsetof(nn_ckpt, log)) && get(&in, &ll, sizeof ll) &&
                 ll <= len - in.at, TL_ERR_FORMAT, "%s: checkpoint truncated", path);
    TL_ALLOC(c->log, ll + 1);
    get(&in, c->log, ll);
    c->log[ll] = 0;
    TL_CHECK(get(&in, &sl, sizeof sl) && sl <= len - in.at, TL_ERR_FORMAT,
             "%s: checkpoint truncated", path);
    TL_ALLOC(c->slog, sl + 1);
    get(&in, c->slog, sl);
    c->slog[sl] = 0;
    TL_CHECK(c->rows == rows && get(&in, perm, (size_t)rows * sizeof *perm), TL_ERR_FORMAT,
             "%s: a checkpoint of %llu rows, but this run has %llu", path,
             (unsigned long long)c->rows, (unsigned long long)rows);
    c->perm = perm;
    for (size_t q = 0; q < nnets; q++) {
        for (size_t i = 0; i < nets[q]->nt; i++) {
            nn_tensor *T = &nets[q]->t[i];
            TL_CHECK(get(&in, T->data, T->size * sizeof(float)), TL_ERR_FORMAT,
                     "%s: checkpoint ends inside tensor %s: another network?", path, T->name);
            for (int k = 0; k < 2; k++) {
                uint8_t has = 0;
                float *b = k ? T->v : T->m;
                TL_CHECK(get(&in, &has, 1) && has == (b != NULL), TL_ERR_FORMAT,
                         "%s: the optimiser state of %s does not match this run's optimiser", path,
                         T->name);
                if (b) TL_CHECK(get(&in, b, T->size * sizeof(float)), TL_ERR_FORMAT,
                                "%s: checkpoint truncated", path);
            }
        }
    }
    TL_CHECK(get(&in, &nb, sizeof nb) && nb == (best ? nbest : 0), TL_ERR_FORMAT,
             "%s: the early-stopping snapshot does not match this run", path);
    TL_CHECK(get(&in, best, nb * sizeof(float)) && in.at + sizeof h == len, TL_ERR_FORMAT,
             "%s: checkpoint has %zu bytes more than this network needs: another network?", path,
             len - in.at - sizeof h);
done:
    tl_free(buf);
    if (st != TL_OK) {
        tl_free(c->log);
        tl_free(c->slog);
        c->log = c->slog = NULL;
    }
    return st;
}

tl_status nn_ckpt_read(const char *path, tl_nn *nn, float *best, size_t nbest, nn_ckpt *c) {
    return nn_ckpt_read_nets(path, &nn, 1, best, nbest, c);
}

size_t nn_ckpt_resume(const nn_ckpt *c, tl_nn_trainer *tr, tl_rng *rng, size_t *step, size_t *since,
                      double *best_val, tl_nn_train_result *r) {
    *rng = c->rng;
    *step = (size_t)c->step;
    *nn_trainer_opt_steps(tr) = (size_t)c->opt_t;
    *since = (size_t)c->since_best;
    *best_val = c->best_val;
    *r = c->r;
    r->resumed_after = (size_t)c->epochs_done;
    return (size_t)c->epochs_done + 1;
}
