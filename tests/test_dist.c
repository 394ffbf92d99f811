/* The MPI layer and data-parallel training (src/dist/, issue 17). Run plainly (make test): the
 * row blocks of tl_nn_shard cover every row once in near-equal contiguous blocks, and a build
 * without MPI refuses to distribute with a message that says so. Run as a driver by
 * tests/mpi.sh - `mpirun -np P test_dist da METHOD SRC TGT OUT.csv [CKPT [H]]` - it trains the
 * DANN paper's shallow network (one hidden layer of 50 sigmoid units here, to keep it quick) with
 * deep adaptation METHOD (dann, dan, dan-quad: the quadratic MK-MMD estimate, coral, cdan,
 * cdan-e) on the first 300 rows of an Amazon source and target, each process holding its block
 * of the rows, and writes the loss of every step, which the script compares across P. CKPT: the
 * checkpoint to write and resume from; H: every process ends abruptly when epoch H has been
 * trained, before its checkpoint (a crash at a known point). bench/mpi_da.sh sets TL_DA_ROWS
 * (another row count) and TL_DA_LAMBDA (another adaptation weight) in the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tl/data.h"
#include "tl/dist.h"
#include "tl/nn.h"

TEST(shard_blocks) {
    for (size_t n = 0; n < 40; n++)
        for (int P = 1; P <= 7; P++) {
            size_t next = 0, mn = (size_t)-1, mx = 0;
            for (int r = 0; r < P; r++) {
                size_t lo, hi;
                tl_nn_shard(n, r, P, &lo, &hi);
                CHECK_MSG(lo == next && hi >= lo, "n %zu, %d processes, rank %d: rows %zu..%zu", n, P,
                          r, lo, hi);
                next = hi;
                mn = hi - lo < mn ? hi - lo : mn;
                mx = hi - lo > mx ? hi - lo : mx;
            }
            CHECK_MSG(next == n && mx - mn <= 1, "n %zu, %d processes: blocks end at %zu, sizes %zu..%zu",
                      n, P, next, mn, mx);
        }
}

TEST(without_mpi_says_so) {
    if (tl_dist_built()) return; /* with MPI, tests/mpi.sh runs the job under mpirun */
    tl_dist *d = NULL;
    CHECK(tl_dist_init(&d) == TL_ERR_UNSUPPORTED && d == NULL);
    CHECK_MSG(strstr(tl_error_message(), "built without MPI") != NULL, "message: %s", tl_error_message());
}

/* The first m rows of spec as floats (m, d) and labels (m); this process keeps rows [lo, hi). */
static int load_rows(const char *spec, size_t m, int rank, int P, float **x, int **y, size_t *n,
                     size_t *d) {
    tl_dataset *ds = NULL;
    tl_load_opts o = tl_load_opts_default();
    if (tl_dataset_load(spec, &o, &ds) != TL_OK || tl_dataset_densify(ds) != TL_OK) {
        fprintf(stderr, "%s: %s\n", spec, tl_error_message());
        tl_dataset_free(ds);
        return 1;
    }
    if (tl_dataset_rows(ds) < m) m = tl_dataset_rows(ds);
    size_t lo, hi;
    tl_nn_shard(m, rank, P, &lo, &hi);
    tl_mat X = tl_dataset_dense(ds);
    *d = X.cols;
    *n = hi - lo;
    *x = malloc(*n * *d * sizeof **x);
    *y = malloc(*n * sizeof **y);
    for (size_t i = lo; i < hi; i++) {
        for (size_t j = 0; j < *d; j++) (*x)[(i - lo) * *d + j] = (float)TL_AT(X, i, j);
        (*y)[i - lo] = tl_dataset_labels_const(ds)[i];
    }
    tl_dataset_free(ds);
    return 0;
}

/* The halting driver's log callback: at "<method> epoch H/" (H = *user) the process ends
 * without a word, as a process killed mid-run would, after the checkpoint of epoch H - 1. */
static void halt_at(void *user, tl_log_level level, const char *msg) {
    const char *e = strstr(msg, " epoch ");
    (void)level;
    if (e && strtoul(e + 7, NULL, 10) == *(const unsigned long *)user) _exit(3);
}

static int da_driver(const char *method, const char *src, const char *tgt, const char *out,
                     const char *ckpt, unsigned long halt) {
    tl_dist *dist = NULL;
    if (tl_dist_launched() && tl_dist_init(&dist) != TL_OK) {
        fprintf(stderr, "test_dist: %s\n", tl_error_message());
        return 1;
    }
    const int rank = tl_dist_rank(dist), P = tl_dist_size(dist);
    float *xs = NULL, *xt = NULL;
    int *ys = NULL, *yt = NULL, rc = 1;
    size_t ns, nt, d, dt;
    tl_nn *nn = NULL;
    tl_nn_train_result r;
    tl_nn_da_params p = tl_nn_da_params_default();
    const bool quad = strcmp(method, "dan-quad") == 0;
    if (tl_nn_da_parse(quad ? "dan" : method, &p.method) != TL_OK) {
        fprintf(stderr, "test_dist: %s\n", tl_error_message());
        goto done;
    }
    const char *rows = getenv("TL_DA_ROWS"); /* bench/mpi_da.sh: more rows */
    const size_t m = rows && atol(rows) > 0 ? (size_t)atol(rows) : 300;
    if (load_rows(src, m, rank, P, &xs, &ys, &ns, &d) || load_rows(tgt, m, rank, P, &xt, &yt, &nt, &dt))
        goto done;
    if (tl_nn_create("dense:50,sigmoid,dense:2", d, 1, 1, 1, &nn) != TL_OK) goto done;
    int mn = ys[0], mx = ys[0];
    for (size_t i = 0; i < ns; i++) mn = ys[i] < mn ? ys[i] : mn, mx = ys[i] > mx ? ys[i] : mx;
    const int labels[2] = {mn, mx}; /* the Amazon labels: two values, both in every block */
    /* weights that make the adaptation loss a visible part of each step's loss */
    p.lambda = p.method == TL_NN_DA_CORAL ? 3000 : p.method == TL_NN_DA_DAN ? 1 : 0.5;
    const char *lam = getenv("TL_DA_LAMBDA"); /* bench/mpi_da.sh */
    if (lam && *lam) p.lambda = atof(lam);
    p.mmd_linear = !quad;
    p.entropy = p.method == TL_NN_DA_CDAN_E ? 0.1 : 0; /* the target entropy term too */
    p.train.epochs = 3;
    p.train.batch_size = 32;
    p.train.lr = 0.05;
    p.train.val_fraction = 0.1;
    p.train.step_log = out;
    p.train.comm = tl_dist_comm(dist);
    p.train.checkpoint = ckpt;
    tl_ctx ctx = tl_ctx_default();
    if (halt) {
        ctx.log_level = TL_LOG_INFO;
        ctx.log = halt_at;
        ctx.user = &halt;
        p.train.ctx = &ctx;
    }
    if (tl_nn_set_labels(nn, labels, 2) != TL_OK || tl_nn_da_train(nn, &p, xs, ys, ns, xt, nt, &r) != TL_OK) {
        fprintf(stderr, "test_dist rank %d: %s\n", rank, tl_error_message());
        goto done;
    }
    if (rank == 0 && r.resumed_after) printf("resumed after epoch %zu\n", r.resumed_after);
    rc = 0;
done:
    tl_nn_free(nn);
    free(xs);
    free(ys);
    free(xt);
    free(yt);
    if (rc && dist) tl_dist_abort(dist, rc);
    tl_dist_finalize(dist);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 6 && argc <= 8 && strcmp(argv[1], "da") == 0)
        return da_driver(argv[2], argv[3], argv[4], argv[5], argc > 6 ? argv[6] : NULL,
                         argc > 7 ? strtoul(argv[7], NULL, 10) : 0);
    RUN(shard_blocks);
    RUN(without_mpi_says_so);
    return tl_test_summary();
}
