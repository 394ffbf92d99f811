/* Example: model-based transfer with the neural engine: pre-train, replace the head, fine-tune.
 *
 *   finetune [FASHION_MNIST_DIR]
 *
 * A small convolutional network is pre-trained on a source task with plenty of labels and saved
 * (tl_nn_save). A second step, as another program reusing that model would, loads it (tl_nn_load),
 * cuts it after its last convolution block and puts a new dense head there for a new task with
 * other classes (tl_nn_new_head_at), starts the head from the labelled images' mean features
 * (weight imprinting, tl_nn_imprint_head), and fine-tunes every layer on a handful of labelled
 * target images. The baseline is the same architecture trained from random weights on the same
 * images with the same settings; both are scored on held-out target images.
 *
 * Data: without an argument, synthetic 1x12x12 images drawn here. The source classes are four
 * stroke orientations (horizontal, vertical, diagonal, anti-diagonal); the target classes are
 * shapes made of the same strokes (a plus, a cross, a corner), so the stroke detectors the source
 * taught the convolutions are what the target needs. With FASHION_MNIST_DIR (the folder of the
 * four IDX files, e.g. /usr/share/datasets/fashion-mnist): the source is 1000 training images of
 * classes 0-4, the target classes 5-9 with 5 labelled training images each, scored on 500 test
 * images; when that folder is missing the synthetic task is used instead, and the program says so.
 * (A network this small gains little there: `make demo` runs the full recipe, a wider network
 * pre-trained on all 30 000 source images, against the same baseline.)
 * Small and seeded: about a second on two cores, the same figures on every run. Exit status 0 when
 * every step worked and fine-tuning beat training from scratch, 1 otherwise. */
/* Training a network from scratch takes the typed training settings (tl_nn_train_params), which
 * belong to libtl's low-level interface: see include/tl.h. */
#define TL_STATIC_LINKING_ONLY
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tl.h"

#define SIDE 12
#define PER_CLASS 5 /* labelled target images per class */

typedef struct {
    float *x; /* (n, c*h*w) */
    int *y;   /* (n) */
    size_t n;
} images;

static void images_free(images *s) {
    free(s->x);
    free(s->y);
    s->x = NULL;
    s->y = NULL;
    s->n = 0;
}

/* A stroke from (r + from*dr, c + from*dc) to (r + to*dr, c + to*dc) into img (SIDE x SIDE). */
static void stroke(float *img, int r, int c, int dr, int dc, int from, int to) {
    for (int k = from; k <= to; k++) {
        int rr = r + k * dr, cc = c + k * dc;
        if (rr >= 0 && rr < SIDE && cc >= 0 && cc < SIDE) img[rr * SIDE + cc] = 1.0f;
    }
}

/* Directions (dr, dc): horizontal, vertical, diagonal, anti-diagonal. */
static const int DIRS[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};

/* n synthetic images, labels 0.. : source class k is one stroke of direction k (four classes);
 * target classes are a plus (horizontal + vertical), a cross (the two diagonals) and a corner
 * (a horizontal and a vertical arm from one point). Random position (+-2 pixels), noise. */
static int make_synthetic(size_t n, int target, uint64_t seed, images *out) {
    tl_rng rng;
    tl_rng_seed(&rng, seed);
    out->n = n;
    out->x = calloc(n * SIDE * SIDE, sizeof *out->x);
    out->y = malloc(n * sizeof *out->y);
    if (!out->x || !out->y) return 0;
    const int classes = target ? 3 : 4;
    for (size_t i = 0; i < n; i++) {
        float *img = out->x + i * SIDE * SIDE;
        int k = (int)(i % (size_t)classes);
        int r = SIDE / 2 - 2 + (int)tl_rng_below(&rng, 5), c = SIDE / 2 - 2 + (int)tl_rng_below(&rng, 5);
        if (!target) {
            stroke(img, r, c, DIRS[k][0], DIRS[k][1], -4, 4);
        } else if (k < 2) { /* plus: directions 0 and 1; cross: 2 and 3 */
            stroke(img, r, c, DIRS[2 * k][0], DIRS[2 * k][1], -4, 4);
            stroke(img, r, c, DIRS[2 * k + 1][0], DIRS[2 * k + 1][1], -4, 4);
        } else { /* corner */
            stroke(img, r - 2, c - 2, 0, 1, 0, 6);
            stroke(img, r - 2, c - 2, 1, 0, 0, 6);
        }
        for (int p = 0; p < SIDE * SIDE; p++) img[p] += (float)(0.35 * tl_rng_normal(&rng));
        out->y[i] = k;
    }
    return 1;
}

/* The first `per_class` images of each label in [lo, hi] (at most 10 labels) among the rows of
 * ds, in file order after skipping the first `skip` of each class, relabelled 0..hi-lo; pixels
 * scaled to [0, 1]. */
static int take_fashion(tl_dataset *ds, int lo, int hi, size_t skip, size_t per_class,
                        images *out) {
    size_t k = (size_t)(hi - lo + 1), cols = tl_dataset_cols(ds), got = 0;
    size_t seen[10] = {0};
    tl_mat X = tl_dataset_dense(ds);
    const int *y = tl_dataset_labels_const(ds);
    out->x = malloc(k * per_class * cols * sizeof *out->x);
    out->y = malloc(k * per_class * sizeof *out->y);
    if (!out->x || !out->y || !X.data || !y) return 0;
    for (size_t i = 0; i < X.rows && got < k * per_class; i++) {
        if (y[i] < lo || y[i] > hi || seen[y[i] - lo]++ < skip) continue;
        if (seen[y[i] - lo] > skip + per_class) continue;
        for (size_t j = 0; j < cols; j++) out->x[got * cols + j] = (float)(TL_AT(X, i, j) / 255.0);
        out->y[got++] = y[i] - lo;
    }
    out->n = got;
    return 1;
}

int main(int argc, char **argv) {
    images source = {0}, few = {0}, test = {0};
    tl_nn *pre = NULL, *tuned = NULL, *scratch = NULL;
    tl_dataset *train = NULL;
    int ok = 0;
    tl_dataset *testset = NULL;
    size_t c = 1, h = SIDE, w = SIDE, k_source = 4, k_target = 3;
    char arch[128], path[512], spec[1024];
    snprintf(path, sizeof path, "%s/finetune_%ld.tlm", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());

#define TRY(call)                                                            \
    do {                                                                     \
        if ((call) != TL_OK) {                                               \
            fprintf(stderr, "finetune: %s\n", tl_error_message());           \
            goto done;                                                       \
        }                                                                    \
    } while (0)
#define NEED(cond)                                                           \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "finetune: cannot make the image sets\n");       \
            goto done;                                                       \
        }                                                                    \
    } while (0)

    /* the data */
    struct stat sb;
    if (argc > 1 && stat(argv[1], &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(spec, sizeof spec, "%s:train", argv[1]);
        TRY(tl_dataset_load(spec, NULL, &train));
        snprintf(spec, sizeof spec, "%s:test", argv[1]);
        TRY(tl_dataset_load(spec, NULL, &testset));
        c = 1, h = 28, w = 28, k_source = 5, k_target = 5;
        NEED(take_fashion(train, 0, 4, 0, 200, &source));
        NEED(take_fashion(train, 5, 9, 0, PER_CLASS, &few));
        NEED(take_fashion(testset, 5, 9, 0, 100, &test));
        printf("Fashion-MNIST from %s: source classes 0-4, target classes 5-9\n", argv[1]);
    } else {
        if (argc > 1) printf("%s is not a folder: using the synthetic task instead\n", argv[1]);
        NEED(make_synthetic(600, 0, 1, &source));
        NEED(make_synthetic(k_target * PER_CLASS, 1, 2, &few));
        NEED(make_synthetic(600, 1, 3, &test));
        printf("synthetic %zux%zu images: source = 4 stroke orientations, target = plus, cross, "
               "corner\n", h, w);
    }
    printf("source: %zu labelled images; target: %zu labelled (%d per class), %zu held out\n",
           source.n, few.n, PER_CLASS, test.n);

    /* 1. pre-train on the source; one thread, so the figures are the same on every machine */
    tl_ctx ctx = tl_ctx_default();
    ctx.threads = 1;
    tl_nn_train_params tp = tl_nn_train_params_default();
    tp.optimizer = TL_NN_ADAMW;
    tp.lr = 0.003;
    tp.epochs = 8;
    tp.batch_size = 32;
    tp.seed = 7;
    tp.ctx = &ctx;
    tl_nn_train_result res;
    snprintf(arch, sizeof arch,
             "conv:8:3,relu,maxpool:2,conv:16:3,relu,maxpool:2,flatten,dense:32,relu,dense:%zu",
             k_source);
    TRY(tl_nn_create(arch, c, h, w, 1, &pre));
    TRY(tl_nn_train(pre, &tp, source.x, source.y, source.n, &res));
    printf("pre-trained %s (%zu parameters): source training accuracy %.1f %% after %zu epochs\n",
           tl_nn_arch(pre), tl_nn_param_scalars(pre), 100 * res.train_acc, res.epochs_run);
    TRY(tl_nn_save(pre, path));

    /* 2. someone else's program: load the network, cut it after its last convolution block (the
     * penultimate dense layer of a network trained on few source classes is the least
     * transferable), put a new head there, start the head from the class means of the labelled
     * images' features (weight imprinting), then fine-tune every layer on those images */
    size_t cut;
    TRY(tl_nn_load(path, &tuned));
    TRY(tl_nn_layer_find(tuned, "maxpool2", &cut));
    TRY(tl_nn_new_head_at(tuned, cut, k_target, 11));
    TRY(tl_nn_imprint_head(tuned, few.x, few.y, few.n, 10.0, NULL));
    tl_nn_train_params ft = tp;
    ft.epochs = 20;
    ft.batch_size = few.n;
    TRY(tl_nn_train(tuned, &ft, few.x, few.y, few.n, NULL));

    /* 3. the baseline: the fine-tuned network's architecture from random weights, same training */
    TRY(tl_nn_create(tl_nn_arch(tuned), c, h, w, 11, &scratch));
    TRY(tl_nn_train(scratch, &ft, few.x, few.y, few.n, NULL));
    printf("new network %s: fine-tuned, and trained from scratch, on the %zu labelled images\n",
           tl_nn_arch(tuned), few.n);

    /* 4. both on the held-out target images */
    double acc_tuned, acc_scratch;
    TRY(tl_nn_evaluate(tuned, test.x, test.y, test.n, &acc_tuned, NULL));
    TRY(tl_nn_evaluate(scratch, test.x, test.y, test.n, &acc_scratch, NULL));
    printf("target accuracy on %zu held-out images (%zu classes, chance %.1f %%):\n", test.n,
           k_target, 100.0 / (double)k_target);
    printf("  fine-tuned from the source  %5.1f %%\n", 100 * acc_tuned);
    printf("  trained from scratch        %5.1f %%\n", 100 * acc_scratch);
    if (!(acc_tuned > acc_scratch)) {
        fprintf(stderr, "finetune: fine-tuning did not beat training from scratch\n");
        goto done;
    }
    ok = 1;
done:
    unlink(path);
    tl_nn_free(scratch);
    tl_nn_free(tuned);
    tl_nn_free(pre);
    tl_dataset_free(testset);
    tl_dataset_free(train);
    images_free(&test);
    images_free(&few);
    images_free(&source);
    return ok ? 0 : 1;
}
