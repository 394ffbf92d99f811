/* PyTorch parity: networks built and initialised in PyTorch (tests/golden/make_nn.py, committed
 * fixtures) are imported from .safetensors; libtl's eval-mode outputs, training-mode loss, and
 * every tensor after one SGD (Nesterov, weight decay) step and after one AdamW step must match
 * PyTorch's to 1e-4 relative. Covers conv (stride, padding), batch norm (both modes, running
 * statistics), max/avg/global pooling, ReLU/LeakyReLU/GELU/tanh/sigmoid, flatten, dense, residual
 * add, a ResNet downsampling block (torchvision's BasicBlock with its conv 1x1 stride 2 + batch
 * norm projection shortcut, imported by torchvision's tensor names through a name map), and
 * cross-entropy with label smoothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tl/nn.h"

#define GOLD "tests/golden/"
#define MAXV 8192

typedef struct {
    char name[128];
    size_t n;
    double v[MAXV];
} gline;

static gline lines[128];
static size_t nlines;

static bool load_gold(const char *path) {
    FILE *f = fopen(path, "r");
    nlines = 0;
    if (!f) return false;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n') {}
            continue;
        }
        ungetc(c, f);
        gline *g = &lines[nlines];
        if (fscanf(f, "%127s %zu", g->name, &g->n) != 2 || g->n > MAXV) break;
        for (size_t i = 0; i < g->n; i++)
            if (fscanf(f, "%lf", &g->v[i]) != 1) {
                fclose(f);
                return false;
            }
        fscanf(f, " ");
        nlines++;
    }
    fclose(f);
    return nlines > 0;
}

static const gline *gold(const char *name) {
    for (size_t i = 0; i < nlines; i++)
        if (strcmp(lines[i].name, name) == 0) return &lines[i];
    return NULL;
}

/* max over i of |a - b| / max(|b|, floor): relative error with a floor of 1e-2 x the tensor's
 * largest magnitude, so entries that are ~0 are not divided by ~0. Differences up to `abs_ok`
 * count as 0: after one AdamW step (lr 0.01, eps 1e-3) a parameter whose exact gradient is 0 - the
 * bias of a conv feeding a training-mode batch norm - has a float32 rounding-noise gradient g of
 * ~1e-8 (PyTorch's own, measured against float64) and moves by lr g / (|g| + eps) ~ 1e-7 in a
 * direction the rounding picks, in libtl and in PyTorch alike; abs_ok = 1e-4 lr = 1e-6 bounds
 * that, far below the 1e-4 lr-scale differences a wrong update would make. */
static double rel_err_abs(const float *a, const double *b, size_t n, double abs_ok) {
    double mx = 0, e = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(a[i] - b[i]);
        if (d > abs_ok) e = fmax(e, d / fmax(fabs(b[i]), 1e-2 * mx + 1e-30));
    }
    return e;
}

static double rel_err(const float *a, const double *b, size_t n) { return rel_err_abs(a, b, n, 0.0); }

static double seen_loss;
static void grab_loss(void *u, const tl_nn_epoch *e) {
    (void)u;
    seen_loss = e->train_loss;
}

/* torch name ("3.weight" or "conv1.weight") -> libtl tensor index */
static long find(tl_nn *nn, const char *tname, bool by_index) {
    char name[160];
    if (by_index) {
        unsigned li;
        char suffix[64];
        if (sscanf(tname, "%u.%63s", &li, suffix) != 2) return -1;
        snprintf(name, sizeof name, "%s.%s", tl_nn_layer_name(nn, li), suffix);
    } else {
        snprintf(name, sizeof name, "%s", tname);
    }
    size_t i;
    return tl_nn_tensor_find(nn, name, &i) == TL_OK ? (long)i : -1;
}

static void parity(const char *arch, const char *st_path, const char *txt, const char *map) {
    const bool by_index = map && strcmp(map, "@index") == 0;
    CHECK_MSG(load_gold(txt), "cannot read %s", txt);
    const gline *gx = gold("x"), *gy = gold("y"), *gz = gold("eval_logits"), *gl = gold("train_loss");
    CHECK(gx && gy && gz && gl);
    if (!gx || !gy || !gz || !gl) return;
    const size_t B = gy->n;
    float x[4 * 128];
    int y[4];
    for (size_t i = 0; i < gx->n; i++) x[i] = (float)gx->v[i];
    for (size_t i = 0; i < B; i++) y[i] = (int)gy->v[i];
    for (int opt = 0; opt < 2; opt++) {
        tl_nn *nn = NULL;
        CHECK_OK(tl_nn_create(arch, 2, 8, 8, 0, &nn));
        if (!nn) return;
        tl_nn_import_report rep;
        CHECK_OK(tl_nn_import_safetensors(nn, st_path, map, false, &rep));
        CHECK(rep.n_missing == 0 && rep.n_unexpected == 0 && rep.loaded == tl_nn_tensor_count(nn));
        tl_nn_import_report_free(&rep);
        float z[4 * 3];
        CHECK_OK(tl_nn_forward(nn, x, B, z));
        double e = rel_err(z, gz->v, B * 3);
        CHECK_MSG(e < 1e-4, "%s: eval logits differ from PyTorch by %g (relative)", arch, e);
        tl_nn_train_params p = tl_nn_train_params_default();
        p.epochs = 1;
        p.batch_size = B;
        p.shuffle = false;
        p.label_smoothing = 0.1;
        p.on_epoch = grab_loss;
        if (opt == 0) {
            p.optimizer = TL_NN_SGD;
            p.lr = 0.1;
            p.momentum = 0.9;
            p.nesterov = true;
            p.weight_decay = 1e-3;
        } else {
            p.optimizer = TL_NN_ADAMW;
            p.lr = 0.01;
            p.beta1 = 0.9;
            p.beta2 = 0.999;
            p.eps = 1e-3;
            p.weight_decay = 0.01;
        }
        tl_nn_train_result r;
        seen_loss = NAN;
        CHECK_OK(tl_nn_train(nn, &p, x, y, B, &r));
        CHECK(r.steps == 1);
        CHECK_MSG(fabs(seen_loss - gl->v[0]) <= 1e-4 * fabs(gl->v[0]), "%s: loss %.9g vs PyTorch %.9g",
                  arch, seen_loss, gl->v[0]);
        const char *pre = opt == 0 ? "sgd." : "adamw.";
        size_t matched = 0;
        for (size_t k = 0; k < nlines; k++) {
            if (strncmp(lines[k].name, pre, strlen(pre)) != 0) continue;
            long ti = find(nn, lines[k].name + strlen(pre), by_index);
            CHECK_MSG(ti >= 0, "%s: no libtl tensor for %s", arch, lines[k].name);
            if (ti < 0) continue;
            const char *nm;
            size_t nd;
            const size_t *dims;
            float *data;
            tl_nn_tensor(nn, (size_t)ti, &nm, &nd, &dims, &data, NULL);
            size_t n = 1;
            for (size_t d = 0; d < nd; d++) n *= dims[d];
            CHECK(n == lines[k].n);
            if (n != lines[k].n) continue;
            double te = rel_err_abs(data, lines[k].v, n, opt ? 1e-4 * p.lr : 0.0);
            if (getenv("TL_NN_VERBOSE")) printf("    %s %s rel %.3g\n", arch, lines[k].name, te);
            CHECK_MSG(te < 1e-4, "%s: %s after one %s step differs from PyTorch by %g (relative)",
                      arch, nm, opt ? "AdamW" : "SGD", te);
            matched++;
        }
        CHECK(matched == tl_nn_tensor_count(nn));
        tl_nn_free(nn);
    }
}

TEST(parity_sequential_cnn) {
    parity("conv:4:3,bn,relu,maxpool:2,conv:6:3:2:1,bn,lrelu:0.1,avgpool:2,flatten,dense:10,gelu,"
           "dense:8,tanh,dense:5,sigmoid,dense:3",
           GOLD "nn_torch_seq.safetensors", GOLD "nn_torch_seq.txt", "@index");
}

TEST(parity_residual_cnn) {
    parity("conv:4:3,bn,relu,[conv:4:3,bn,relu,conv:4:3,bn],relu,gap,dense:3",
           GOLD "nn_torch_res.safetensors", GOLD "nn_torch_res.txt", NULL);
}

TEST(parity_projection_shortcut) {
    parity("conv:4:3,bn,relu,[conv:6:3:2:1,bn,relu,conv:6:3:1:1,bn|conv:6:1:2:0,bn],relu,gap,dense:3",
           GOLD "nn_torch_proj.safetensors", GOLD "nn_torch_proj.txt",
           "block.conv1.=conv2.,block.bn1.=bn2.,block.conv2.=conv3.,block.bn2.=bn3.,"
           "block.downsample.0.=conv4.,block.downsample.1.=bn4.,fc.=dense1.");
}

int main(void) {
    RUN(parity_sequential_cnn);
    RUN(parity_residual_cnn);
    RUN(parity_projection_shortcut);
    return tl_test_summary();
}
