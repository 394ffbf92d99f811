/* Deep-adaptation checkpoints (src/nn/da_dist.c, issue 17), on one process: a run of DANN (a
 * discriminator on a trunk layer), CDAN+E (a discriminator with an input of its own) and DAN (no
 * discriminator), with a validation split and early stopping, ends abruptly in a child process
 * once epoch 3 is trained, before that epoch's checkpoint (its log callback calls _exit, as a
 * killed process would stop); resuming from the checkpoint of epoch 2 must give the step log and
 * the parameters of the uninterrupted run, bit for bit. A checkpoint of another method, of
 * another seed, or a damaged one is refused with the reason. The same over 2 processes is in
 * tests/mpi.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tl/nn.h"

static char dir[] = "/tmp/tl_da_ckpt_XXXXXX";

static const char *tmp(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Two classes in 6-d; the target is the source shifted. */
static void toy(float *x, int *y, size_t n, float shift, unsigned seed) {
    unsigned long s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        y[i] = (int)(i % 2);
        for (size_t j = 0; j < 6; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            x[i * 6 + j] = -1 + 2 * (float)((s >> 33) & 0xFFFFFF) / (float)0xFFFFFF +
                           (y[i] ? 1.2f : -1.2f) * (j < 3) + shift;
        }
    }
}

static void halt_at_3(void *user, tl_log_level level, const char *msg) {
    (void)user;
    (void)level;
    if (strstr(msg, " epoch 3/")) _exit(3);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = calloc(1, 1 << 16);
    if (b) b[fread(b, 1, (1 << 16) - 1, f)] = 0;
    fclose(f);
    return b;
}

static bool same_params(tl_nn *a, tl_nn *b) {
    if (tl_nn_tensor_count(a) != tl_nn_tensor_count(b)) return false;
    for (size_t t = 0; t < tl_nn_tensor_count(a); t++) {
        float *da, *db;
        const size_t *dims;
        size_t nd, sz = 1;
        tl_nn_tensor(a, t, NULL, &nd, &dims, &da, NULL);
        tl_nn_tensor(b, t, NULL, NULL, NULL, &db, NULL);
        for (size_t q = 0; q < nd; q++) sz *= dims[q];
        if (memcmp(da, db, sz * sizeof *da) != 0) return false;
    }
    return true;
}

enum { N = 80 };
static float xs[N * 6], xt[N * 6];
static int ys[N], yt[N];

static tl_nn_da_params params(tl_nn_da_method m) {
    tl_nn_da_params p = tl_nn_da_params_default();
    p.method = m;
    p.lambda = 0.5;
    p.entropy = m == TL_NN_DA_CDAN_E ? 0.1 : 0;
    p.train.epochs = 5;
    p.train.batch_size = 16;
    p.train.lr = 0.05;
    p.train.val_fraction = 0.2;
    p.train.patience = 3;
    return p;
}

TEST(resume_equals_uninterrupted) {
    const tl_nn_da_method ms[] = {TL_NN_DA_DANN, TL_NN_DA_CDAN_E, TL_NN_DA_DAN};
    for (size_t k = 0; k < sizeof ms / sizeof *ms; k++) {
        const char *name = tl_nn_da_name(ms[k]);
        tl_nn *u = NULL, *v = NULL;
        tl_nn_train_result r;
        remove(tmp("ck.bin"));
        /* uninterrupted */
        tl_nn_da_params p = params(ms[k]);
        p.train.step_log = tmp("u.csv");
        CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 3, &u) == TL_OK);
        CHECK_MSG(tl_nn_da_train(u, &p, xs, ys, N, xt, N, &r) == TL_OK, "%s: %s", name, tl_error_message());
        CHECK(r.resumed_after == 0);
        /* halted after epoch 3, in a child */
        CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 3, &v) == TL_OK);
        p.train.step_log = tmp("k.csv");
        p.train.checkpoint = tmp("ck.bin");
        fflush(stdout);
        const pid_t pid = fork();
        if (pid == 0) {
            tl_ctx ctx = tl_ctx_default();
            ctx.log_level = TL_LOG_INFO;
            ctx.log = halt_at_3;
            p.train.ctx = &ctx;
            tl_nn_da_train(v, &p, xs, ys, N, xt, N, NULL);
            _exit(0); /* not reached when the halt works */
        }
        int ws = 0;
        CHECK(pid > 0 && waitpid(pid, &ws, 0) == pid);
        CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 3, "%s: the child did not halt (status %d)", name, ws);
        CHECK(access(tmp("ck.bin"), F_OK) == 0);
        /* resumed: the rest of the run, the same losses and parameters */
        CHECK_MSG(tl_nn_da_train(v, &p, xs, ys, N, xt, N, &r) == TL_OK, "%s resume: %s", name,
                  tl_error_message());
        CHECK_MSG(r.resumed_after == 2, "%s: resumed after %zu", name, r.resumed_after);
        char *a = slurp(tmp("u.csv")), *b = slurp(tmp("k.csv"));
        CHECK_MSG(a && b && strlen(a) > 40 && strcmp(a, b) == 0, "%s: step logs\n%s\nvs\n%s", name,
                  a ? a : "-", b ? b : "-");
        free(a);
        free(b);
        CHECK_MSG(same_params(u, v), "%s: the resumed run's parameters differ", name);
        tl_nn_free(u);
        tl_nn_free(v);
    }
}

TEST(refusals) {
    /* the last checkpoint above is DAN's, of 5 epochs */
    tl_nn *nn = NULL;
    CHECK(tl_nn_create("dense:8,relu,dense:2", 6, 1, 1, 3, &nn) == TL_OK);
    tl_nn_da_params p = params(TL_NN_DA_CORAL);
    p.train.checkpoint = tmp("ck.bin");
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_STATE);
    CHECK_MSG(strstr(tl_error_message(), "a checkpoint of dan adaptation, but this run is coral"),
              "%s", tl_error_message());
    p = params(TL_NN_DA_DAN);
    p.train.checkpoint = tmp("ck.bin");
    p.train.seed = 7;
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_STATE);
    CHECK_MSG(strstr(tl_error_message(), "another run"), "%s", tl_error_message());
    FILE *f = fopen(tmp("ck.bin"), "ab");
    CHECK(f != NULL);
    if (f) {
        fputs("garbage", f);
        fclose(f);
    }
    p.train.seed = 42;
    CHECK(tl_nn_da_train(nn, &p, xs, ys, N, xt, N, NULL) == TL_ERR_FORMAT);
    CHECK_MSG(strstr(tl_error_message(), "damaged"), "%s", tl_error_message());
    tl_nn_free(nn);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    toy(xs, ys, N, 0, 21);
    toy(xt, yt, N, 0.8f, 22);
    RUN(resume_equals_uninterrupted);
    RUN(refusals);
    const char *names[] = {"u.csv", "k.csv", "ck.bin"};
    for (size_t i = 0; i < 3; i++) remove(tmp(names[i]));
    rmdir(dir);
    return tl_test_summary();
}
