/* `tl finetune`: adapt a pre-trained network to a target task - the model-based transfer step.
 * A new head when the target has other classes, in place of the last dense layer or on any lower
 * layer (--head-at: the layers above are dropped), initialised at random or by weight imprinting
 * (--head-init imprint, Qi et al. 2018: each class's row starts as its samples' mean normalised
 * embedding); frozen lower layers (--freeze / --freeze-until: a linear probe freezes everything
 * below the head), per-layer learning-rate multipliers, and L2-SP (Li et al. 2018), which pulls
 * the pre-trained weights toward their starting point instead of toward zero. The model can come
 * from a .tlm file or, with --arch and --input-shape, from a .safetensors file exported by
 * PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

static const cli_opt finetune_opts[] = {
    {"from", "MODEL", NULL, "pre-trained model: a .tlm file, or .safetensors with --arch"},
    CLI_NN_DATA_OPTS,
    {"save", "FILE.tlm", NULL, "write the fine-tuned model here"},
    {"freeze", "N", "0", "freeze the first N layers"},
    {"freeze-until", "LAYER", NULL, "freeze every layer up to and including LAYER (name or index)"},
    {"new-head", "K", NULL, "replace the last dense layer by a fresh one with K outputs ('auto': "
                            "the number of classes in --data)"},
    {"head-at", "LAYER", NULL, "with --new-head: drop the layers above LAYER and put the new head "
                               "on its output (default: replace the last dense layer)"},
    {"head-init", "HOW", "random", "head rows: random (PyTorch's default), or imprint[:S]: each "
                                   "class's row from its samples' mean normalised embedding, "
                                   "logits S x cosine (S default 10; Qi et al. 2018)"},
    {"lr-mult", "LIST", NULL, "per-layer learning-rate multipliers, e.g. conv1=0.1,dense2=10"},
    {"reg", "SPEC", NULL, "l2sp=ALPHA[,beta=BETA]: L2-SP toward the pre-trained weights (BETA: "
                          "plain L2 on the new head)"},
    {"arch", "A", NULL, "architecture of a .safetensors --from"},
    {"input-shape", "CxHxW", NULL, "input shape of a .safetensors --from"},
    {"name-map", "MAP", NULL, "name map of a .safetensors --from (FROM=TO rules or @index)"},
    CLI_NN_TRAIN_OPTS,
    {"", NULL, NULL, NULL}};

static bool ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int load_model(const cli_args *a, const char *from, tl_nn **nn) {
    tl_status st;
    if (!ends_with(from, ".safetensors")) {
        st = tl_nn_load(from, nn);
        return st == TL_OK ? 0 : cli_fail_status(st, "--from");
    }
    const char *arch_arg = cli_get(a, "arch"), *shp = cli_get(a, "input-shape");
    if (!arch_arg || !shp) return cli_fail("a .safetensors --from needs --arch and --input-shape");
    unsigned long c, h, w;
    char tail;
    if (sscanf(shp, "%lux%lux%lu%c", &c, &h, &w, &tail) != 3)
        return cli_fail("--input-shape: '%s' is not CxHxW", shp);
    char *arch = cli_nn_read_arch(arch_arg);
    if (!arch) return cli_fail("--arch: cannot read '%s'", arch_arg);
    st = tl_nn_create(arch, c, h, w, 0, nn);
    free(arch);
    if (st != TL_OK) return cli_fail_status(st, "--arch");
    tl_nn_import_report rep;
    st = tl_nn_import_safetensors(*nn, from, cli_get(a, "name-map"), false, &rep);
    if (rep.n_unexpected)
        cli_warn("%zu tensors of '%s' matched nothing:\n%s", rep.n_unexpected, from, rep.unexpected);
    tl_nn_import_report_free(&rep);
    if (st != TL_OK) {
        tl_nn_free(*nn);
        *nn = NULL;
        return cli_fail_status(st, "--from");
    }
    return 0;
}

static int run_finetune(cli_args *a) {
    if (a->npos) return cli_fail("unexpected argument '%s'", a->pos[0]);
    tl_nn_train_params p;
    if (!cli_nn_train_params(a, &p)) return 2;
    const char *from = cli_get(a, "from"), *save = cli_get(a, "save");
    if (!from) return cli_fail("--from is required (see 'tl help finetune')");
    if (!save) return cli_fail("--save is required: where should the model go?");
    if (cli_given(a, "freeze") && cli_given(a, "freeze-until"))
        return cli_fail("give --freeze or --freeze-until, not both");
    uint64_t seed;
    if (!cli_get_u64(a, "seed", &seed)) return 2;
    tl_ctx ctx;
    cli_nn_ctx(a, &ctx);
    p.ctx = &ctx;
    int rc = 1;
    tl_nn *nn = NULL;
    int *cls = NULL;
    cli_nn_data tr = {0}, test = {0};
    tl_status st;
    if (load_model(a, from, &nn) != 0) return 1;
    if (cli_nn_load(a, cli_get(a, "data"), nn, true, true, &tr) != 0) goto done;
    size_t nc;
    if (cli_nn_classes_of(tr.y, tr.n, &cls, &nc) != 0) goto done;
    /* L2-SP anchors the pre-trained weights, before a new head replaces the old one */
    const char *reg = cli_get(a, "reg");
    if (reg) {
        char *end;
        if (strncmp(reg, "l2sp=", 5) != 0) {
            cli_fail("--reg: '%s' is not l2sp=ALPHA[,beta=BETA]", reg);
            rc = 2;
            goto done;
        }
        p.l2sp_alpha = strtod(reg + 5, &end);
        if (strncmp(end, ",beta=", 6) == 0) p.l2sp_beta = strtod(end + 6, &end);
        if (*end || !(p.l2sp_alpha >= 0) || !(p.l2sp_beta >= 0)) {
            cli_fail("--reg: '%s' is not l2sp=ALPHA[,beta=BETA] with non-negative numbers", reg);
            rc = 2;
            goto done;
        }
        if ((st = tl_nn_l2sp_anchor(nn)) != TL_OK) {
            cli_fail_status(st, "--reg");
            goto done;
        }
    }
    const char *nh = cli_get(a, "new-head");
    if (cli_get(a, "head-at") && !nh) {
        cli_fail("--head-at needs --new-head");
        rc = 2;
        goto done;
    }
    if (nh) {
        long k = (long)nc;
        if (strcmp(nh, "auto") != 0 && !cli_get_long(a, "new-head", 1, 1 << 24, &k)) {
            rc = 2;
            goto done;
        }
        const char *at = cli_get(a, "head-at");
        size_t li = 0;
        if (at && (st = tl_nn_layer_find(nn, at, &li)) != TL_OK) {
            cli_fail_status(st, "--head-at");
            goto done;
        }
        st = at ? tl_nn_new_head_at(nn, li, (size_t)k, seed) : tl_nn_new_head(nn, (size_t)k, seed);
        if (st != TL_OK) {
            cli_fail_status(st, at ? "--head-at" : "--new-head");
            goto done;
        }
        if ((size_t)k == nc && (st = tl_nn_set_labels(nn, cls, nc)) != TL_OK) {
            cli_fail_status(st, "--new-head");
            goto done;
        }
    }
    const char *hi = cli_get(a, "head-init");
    if (hi && strcmp(hi, "random") != 0) {
        double scale = 10.0;
        char *end = NULL;
        if (strncmp(hi, "imprint", 7) != 0 || (hi[7] && hi[7] != ':') ||
            (hi[7] == ':' && (scale = strtod(hi + 8, &end), end == hi + 8 || *end)) ||
            !(scale > 0 && scale <= 1e6)) {
            cli_fail("--head-init: '%s' is not random or imprint[:S] with S in (0, 1e6]", hi);
            rc = 2;
            goto done;
        }
        size_t rows;
        if ((st = tl_nn_imprint_head(nn, tr.x, tr.y, tr.n, scale, &rows)) != TL_OK) {
            cli_fail_status(st, "--head-init %s", hi);
            goto done;
        }
        cli_info(a, "finetune: imprinted %zu head rows from %zu samples (scale %g)", rows, tr.n,
                 scale);
    }
    if (cli_given(a, "freeze")) {
        long f;
        if (!cli_get_long(a, "freeze", 0, (long)tl_nn_layer_count(nn), &f)) {
            rc = 2;
            goto done;
        }
        if (f > 0) tl_nn_freeze_until(nn, (size_t)f - 1);
    } else if (cli_get(a, "freeze-until")) {
        size_t li;
        if ((st = tl_nn_layer_find(nn, cli_get(a, "freeze-until"), &li)) != TL_OK) {
            cli_fail_status(st, "--freeze-until");
            goto done;
        }
        tl_nn_freeze_until(nn, li);
    }
    if (cli_get(a, "lr-mult")) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", cli_get(a, "lr-mult"));
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            char *eq = strchr(tok, '='), *end;
            size_t li;
            if (!eq) {
                cli_fail("--lr-mult: '%s' is not LAYER=X", tok);
                rc = 2;
                goto done;
            }
            *eq = '\0';
            double m = strtod(eq + 1, &end);
            if ((st = tl_nn_layer_find(nn, tok, &li)) != TL_OK || *end ||
                (st = tl_nn_set_lr_mult(nn, li, m)) != TL_OK) {
                if (st == TL_OK) st = TL_ERR_INVALID_ARG;
                cli_fail_status(st, "--lr-mult %s=%s", tok, eq + 1);
                goto done;
            }
        }
    }
    cli_info(a, "finetune: %s on %zu samples of '%s' (%zu classes)", from, tr.n, tr.name, nc);
    tl_nn_train_result r;
    st = tl_nn_train(nn, &p, tr.x, tr.y, tr.n, &r);
    cli_nn_progress_end();
    if (st != TL_OK && !r.nonfinite) {
        cli_fail_status(st, "fine-tuning");
        goto done;
    }
    tl_status sst = tl_nn_save(nn, save);
    if (sst == TL_OK && cli_get(a, "export-safetensors"))
        sst = tl_nn_export_safetensors(nn, cli_get(a, "export-safetensors"), NULL);
    if (sst != TL_OK) {
        cli_fail_status(sst, "saving the model");
        goto done;
    }
    if (st != TL_OK) {
        cli_fail_status(st, "fine-tuning");
        cli_warn("the model saved to '%s' holds the parameters of the last finite epoch", save);
        goto done;
    }
    double tacc = NAN, tloss = NAN;
    if (cli_get(a, "test")) {
        if (cli_nn_load(a, cli_get(a, "test"), nn, true, false, &test) != 0) goto done;
        if (cli_nn_eval(nn, &test, &tacc, &tloss, NULL) != 0) goto done;
    }
    if (cli_flag(a, "json")) {
        tl_json j;
        tl_json_begin(&j);
        tl_json_str(&j, "command", "finetune");
        tl_json_str(&j, "from", from);
        tl_json_str(&j, "arch", tl_nn_arch(nn));
        tl_json_str(&j, "model", save);
        tl_json_int(&j, "n_train", (long long)tr.n);
        tl_json_int(&j, "n_classes", (long long)nc);
        tl_json_int(&j, "epochs", (long long)r.epochs_run);
        cli_nn_json_result(&j, &r, tacc, tloss, test.n);
        rc = cli_json_finish(&j);
    } else {
        printf("%-18s %s -> %s\n", "model", from, save);
        printf("%-18s %s\n", "arch", tl_nn_arch(nn));
        printf("%-18s %zu samples, %zu classes\n", "train", tr.n, nc);
        printf("%-18s %zu, loss %.4f, accuracy %.2f %%\n", "epochs", r.epochs_run, r.train_loss,
               100 * r.train_acc);
        if (!isnan(r.val_acc)) printf("%-18s %.2f %%\n", "validation", 100 * r.val_acc);
        if (!isnan(tacc)) printf("%-18s %.2f %% on %zu samples\n", "test accuracy", 100 * tacc, test.n);
        printf("%-18s %.2f s\n", "time", r.seconds);
        rc = 0;
    }
done:
    tl_free(cls);
    cli_nn_data_free(&tr);
    cli_nn_data_free(&test);
    tl_nn_free(nn);
    return rc;
}

const cli_command cmd_finetune = {
    "finetune",
    "fine-tune a pre-trained network on a target task (new head, imprinting, freezing, L2-SP)",
    "--from MODEL --data SPEC --save FILE.tlm [--freeze N | --freeze-until LAYER] [--new-head K] "
    "[--head-at LAYER] [--head-init imprint[:S]] [--lr-mult LAYER=X] [--reg l2sp=ALPHA] [options]",
    finetune_opts, run_finetune, 0, NULL};
