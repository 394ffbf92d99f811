/* The neural training loop's parameters (TLX_NN_TRAIN_PARAMS in method_internal.h) read into
 * tl_nn_train_params: the text ones parsed here (augment), the rest from their descriptors, the
 * seed and the progress/log callbacks from the call's context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method_internal.h"

tl_status tlx_nn_train_params(const tl_params *p, const tl_ctx *ctx, tl_nn_train_params *out) {
    tl_status st = TL_OK;
    tl_nn_train_params t = tl_nn_train_params_default();
    t.epochs = (size_t)tlx_int(p, "epochs");
    t.batch_size = (size_t)tlx_int(p, "batch");
    t.optimizer = tlx_int(p, "optimizer") == 0 ? TL_NN_SGD : TL_NN_ADAMW;
    t.lr = tlx_num(p, "lr");
    t.momentum = tlx_num(p, "momentum");
    t.nesterov = tlx_bool(p, "nesterov");
    t.weight_decay = tlx_num(p, "wd");
    TL_TRY(tl_nn_schedule_parse(tlx_str(p, "schedule"), &t.schedule));
    t.step_epochs = (size_t)tlx_int(p, "step-epochs");
    t.step_gamma = tlx_num(p, "gamma");
    t.warmup_epochs = tlx_num(p, "warmup");
    TL_TRY(tl_nn_loss_parse(tlx_str(p, "loss"), &t.loss));
    t.label_smoothing = tlx_num(p, "label-smoothing");
    t.val_fraction = tlx_num(p, "val-split");
    t.patience = (size_t)tlx_int(p, "patience");
    const char *aug = tlx_str(p, "augment");
    if (aug[0] && strcmp(aug, "none") != 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", aug);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (strcmp(tok, "flip") == 0) {
                t.flip = true;
            } else if (strncmp(tok, "crop:", 5) == 0) {
                char *end;
                long pad = strtol(tok + 5, &end, 10);
                TL_CHECK(end != tok + 5 && !*end && pad >= 1 && pad <= 64, TL_ERR_INVALID_ARG,
                         "augment: '%s': crop:PAD needs PAD in 1..64", tok);
                t.crop_pad = (size_t)pad;
            } else {
                TL_CHECK(0, TL_ERR_INVALID_ARG, "augment: unknown '%s' (crop:PAD, flip)", tok);
            }
        }
    }
    t.log_csv = tlx_str(p, "log")[0] ? tlx_str(p, "log") : NULL;
    t.step_log = tlx_str(p, "step-log")[0] ? tlx_str(p, "step-log") : NULL;
    t.checkpoint = tlx_str(p, "checkpoint")[0] ? tlx_str(p, "checkpoint") : NULL;
    t.seed = tlx_seed(ctx);
    t.ctx = ctx;
    TL_TRY(tl_nn_train_params_check(&t));
    *out = t;
done:
    return st;
}
