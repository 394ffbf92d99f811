/* PyTorch parity of the domain-adaptation pieces (fixtures by tests/golden/make_nn_da.py, in
 * float64 from float32 inputs): gradient reversal through a trainer head (every parameter's
 * gradient), MK-MMD (quadratic and DAN's linear-time estimate: value, both gradients), Deep CORAL
 * (value, both gradients) and CDAN+E (multilinear map, entropy weights, weighted discriminator
 * loss: value, gradients of the features and the discriminator), each to 1e-4 relative to the
 * largest magnitude of the reference tensor. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "golden_fixture.h"
#include "harness.h"
#include "tl/nn.h"

#define TOL 1e-4

static golden G;

/* max |a - b| / max |b| over a (rows, cols) reference */
static double rel(const float *a, tl_mat b) {
    double e = 0, m = 1e-12;
    for (size_t i = 0; i < b.rows * b.cols; i++) {
        e = fmax(e, fabs((double)a[i] - b.data[i]));
        m = fmax(m, fabs(b.data[i]));
    }
    return e / m;
}

static void to_f32(tl_mat m, float *out) {
    for (size_t i = 0; i < m.rows * m.cols; i++) out[i] = (float)m.data[i];
}

static bool set_tensor(tl_nn *nn, const char *name, const char *gname) {
    size_t i;
    float *d;
    tl_mat m = gmat(&G, gname);
    if (!m.data || tl_nn_tensor_find(nn, name, &i) != TL_OK) return false;
    tl_nn_tensor(nn, i, NULL, NULL, NULL, &d, NULL);
    to_f32(m, d);
    return true;
}

TEST(grl_head) {
    tl_nn *nn = NULL, *head = NULL;
    tl_nn_trainer *t = NULL;
    tl_nn_train_params p = tl_nn_train_params_default();
    CHECK(tl_nn_create("dense:6,tanh,dense:3", 4, 1, 1, 1, &nn) == TL_OK);
    CHECK(tl_nn_trainer_create(nn, &p, 8, &t) == TL_OK);
    CHECK(tl_nn_trainer_add_head(t, "domain", "tanh1", "grl,dense:2", 1, &head) == TL_OK);
    if (!head) goto done;
    CHECK(set_tensor(nn, "dense1.weight", "grl_W1") && set_tensor(nn, "dense1.bias", "grl_b1"));
    CHECK(set_tensor(nn, "dense2.weight", "grl_W2") && set_tensor(nn, "dense2.bias", "grl_b2"));
    CHECK(set_tensor(head, "dense1.weight", "grl_Wd") && set_tensor(head, "dense1.bias", "grl_bd"));
    tl_nn_trainer_set_grl(t, 0.7);
    float x[32];
    to_f32(gmat(&G, "grl_x"), x);
    const int y[4] = {0, 2, 1, 2}, dom[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    CHECK(tl_nn_trainer_forward(t, x, 8, 0) == TL_OK);
    const float *out;
    float *dout;
    double L = 0;
    tl_nn_trainer_output(t, NULL, &out, &dout, NULL);
    L += tl_nn_loss_xent(out, y, NULL, 4, 3, 1, dout, NULL);
    tl_nn_trainer_output(t, "domain", &out, &dout, NULL);
    L += tl_nn_loss_xent(out, dom, NULL, 8, 2, 1, dout, NULL);
    CHECK(tl_nn_trainer_backward(t) == TL_OK);
    CHECK_MSG(fabs(L - gnum(&G, "grl_loss")) < TOL * fabs(gnum(&G, "grl_loss")), "loss %.9g vs %.9g", L,
              gnum(&G, "grl_loss"));
    /* the block: trunk dense1.w, .b, dense2.w, .b, then the head's */
    size_t ng;
    const float *g = tl_nn_trainer_grads(t, &ng);
    const char *names[6] = {"grl_gW1", "grl_gb1", "grl_gW2", "grl_gb2", "grl_gWd", "grl_gbd"};
    size_t at = 0;
    for (int k = 0; k < 6; k++) {
        tl_mat m = gmat(&G, names[k]);
        if (!m.data) {
            CHECK(m.data != NULL);
            break;
        }
        double e = rel(g + at, m);
        CHECK_MSG(e < TOL, "%s: relative error %.3g", names[k], e);
        at += m.rows * m.cols;
    }
    CHECK(at == ng);
done:
    tl_nn_trainer_free(t);
    tl_nn_free(nn);
}

TEST(mmd) {
    float xs[40], xt[40], gs[40], gt[40];
    to_f32(gmat(&G, "mmd_xs"), xs);
    to_f32(gmat(&G, "mmd_xt"), xt);
    for (int lin = 0; lin < 2; lin++) {
        memset(gs, 0, sizeof gs);
        memset(gt, 0, sizeof gt);
        double v = tl_nn_loss_mmd(xs, 8, xt, 8, 5, 5, 2.0, 0, lin, 1.0, gs, gt);
        double want = gnum(&G, lin ? "mmd_lin" : "mmd_quad");
        CHECK_MSG(fabs(v - want) < TOL * fabs(want), "%s: %.9g vs %.9g", lin ? "linear" : "quadratic", v, want);
        double es = rel(gs, gmat(&G, lin ? "mmd_lin_gs" : "mmd_quad_gs"));
        double et = rel(gt, gmat(&G, lin ? "mmd_lin_gt" : "mmd_quad_gt"));
        CHECK_MSG(es < TOL && et < TOL, "%s gradients: %.3g %.3g", lin ? "linear" : "quadratic", es, et);
    }
}

TEST(coral) {
    float xs[60], xt[72], gs[60] = {0}, gt[72] = {0};
    to_f32(gmat(&G, "coral_xs"), xs);
    to_f32(gmat(&G, "coral_xt"), xt);
    double v = tl_nn_loss_coral(xs, 10, xt, 12, 6, 1.0, gs, gt), want = gnum(&G, "coral_loss");
    CHECK_MSG(fabs(v - want) < TOL * fabs(want), "%.9g vs %.9g", v, want);
    double es = rel(gs, gmat(&G, "coral_gs")), et = rel(gt, gmat(&G, "coral_gt"));
    CHECK_MSG(es < TOL && et < TOL, "gradients: %.3g %.3g", es, et);
}

TEST(cdan) {
    float f[40], z[24], P[24], W[30], b[2], Tm[120], w[8], dz[16] = {0}, dT[120] = {0}, df[40] = {0};
    float gW[30] = {0}, gb[2] = {0}, zd[16];
    to_f32(gmat(&G, "cdan_f"), f);
    to_f32(gmat(&G, "cdan_logits"), z);
    to_f32(gmat(&G, "cdan_W"), W);
    to_f32(gmat(&G, "cdan_b"), b);
    for (int i = 0; i < 8; i++) { /* softmax */
        double m = fmax(fmax(z[3 * i], z[3 * i + 1]), z[3 * i + 2]), s = 0;
        for (int k = 0; k < 3; k++) s += exp(z[3 * i + k] - m);
        for (int k = 0; k < 3; k++) P[3 * i + k] = (float)(exp(z[3 * i + k] - m) / s);
    }
    tl_nn_cdan_map(f, P, 8, 5, 3, Tm);
    tl_nn_cdan_entropy_weights(P, 4, 4, 3, w);
    for (int i = 0; i < 8; i++) /* the discriminator, a linear layer on T */
        for (int o = 0; o < 2; o++) {
            double s = b[o];
            for (int j = 0; j < 15; j++) s += (double)W[o * 15 + j] * Tm[i * 15 + j];
            zd[i * 2 + o] = (float)s;
        }
    const int dl[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    double v = tl_nn_loss_xent(zd, dl, w, 8, 2, 1.0, dz, NULL), want = gnum(&G, "cdan_loss");
    CHECK_MSG(fabs(v - want) < TOL * fabs(want), "%.9g vs %.9g", v, want);
    for (int i = 0; i < 8; i++)
        for (int o = 0; o < 2; o++) {
            gb[o] += dz[i * 2 + o];
            for (int j = 0; j < 15; j++) {
                gW[o * 15 + j] += dz[i * 2 + o] * Tm[i * 15 + j];
                dT[i * 15 + j] += dz[i * 2 + o] * W[o * 15 + j];
            }
        }
    tl_nn_cdan_map_backward(f, P, dT, 8, 5, 3, df, NULL);
    double ef = rel(df, gmat(&G, "cdan_gf")), eW = rel(gW, gmat(&G, "cdan_gW")), eb = rel(gb, gmat(&G, "cdan_gb"));
    CHECK_MSG(ef < TOL && eW < TOL && eb < TOL, "gradients: f %.3g W %.3g b %.3g", ef, eW, eb);
}

int main(void) {
    if (golden_load(&G, "nn_da.txt") != 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(grl_head);
    RUN(mmd);
    RUN(coral);
    RUN(cdan);
    golden_free(&G);
    return tl_test_summary();
}
