/* The method registry: every method libtl offers, one line each, and the descriptor accessors.
 * A method is defined in its own file (m_*.c: descriptors, parameters, operations); listing it
 * here is all it takes for it to appear in `tl help`, the command options, saved models, the
 * reports and the guard. Order: learners, then feature, instance and ensemble methods, as the
 * help lists them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "method_internal.h"

extern const tl_method tlx_m_knn, tlx_m_1nn, tlx_m_logreg, tlx_m_svm, tlx_m_ridge;
extern const tl_method tlx_m_pca, tlx_m_coral, tlx_m_sa, tlx_m_gfk, tlx_m_tca, tlx_m_jda,
    tlx_m_bda, tlx_m_augment;
extern const tl_method tlx_m_cdspp, tlx_m_cdls; /* heterogeneous (m_hetero.c) */
extern const tl_method tlx_m_kmm, tlx_m_kliep, tlx_m_ulsif, tlx_m_domain_clf;
extern const tl_method tlx_m_rulsif;
extern const tl_method tlx_m_tradaboost;
extern const tl_method tlx_m_finetune, tlx_m_deep_da;

const tl_method *const tlx_registry[] = {
    &tlx_m_1nn, &tlx_m_knn, &tlx_m_logreg, &tlx_m_svm, &tlx_m_ridge,
    &tlx_m_pca, &tlx_m_coral, &tlx_m_sa, &tlx_m_gfk, &tlx_m_tca, &tlx_m_jda, &tlx_m_bda,
    &tlx_m_augment,
    &tlx_m_cdspp, &tlx_m_cdls,
    &tlx_m_kmm, &tlx_m_kliep, &tlx_m_ulsif, &tlx_m_domain_clf,
    &tlx_m_rulsif,
    &tlx_m_tradaboost,
    &tlx_m_finetune, &tlx_m_deep_da,
};
const size_t tlx_registry_count = sizeof tlx_registry / sizeof tlx_registry[0];

const char *tl_family_name(tl_family f) {
    static const char *const names[] = {"learner",  "feature", "instance",
                                        "ensemble", "model",   "relational"};
    return (int)f >= 0 && (size_t)f < sizeof names / sizeof names[0] ? names[f] : "unknown";
}

size_t tl_method_count(void) { return tlx_registry_count; }

const tl_method *tl_method_at(size_t i) {
    return i < tlx_registry_count ? tlx_registry[i] : NULL;
}

void tl_method_names(int family, char *buf, size_t cap) {
    size_t len = 0;
    if (!buf || cap == 0) return;
    buf[0] = '\0';
    for (size_t i = 0; i < tlx_registry_count && len + 1 < cap; i++) {
        const tl_method *m = tlx_registry[i];
        if (family >= 0 && (int)m->family != family) continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", m->name);
    }
}

const tl_method *tl_method_find(const char *name, int family) {
    if (name)
        for (size_t i = 0; i < tlx_registry_count; i++) {
            const tl_method *m = tlx_registry[i];
            if ((family < 0 || (int)m->family == family) && strcasecmp(m->name, name) == 0)
                return m;
        }
    static const char *const nouns[] = {"learner ", "adaptation ", "weighting ", "ensemble ",
                                        "network ", "relational "};
    char list[512];
    tl_method_names(family, list, sizeof list);
    tl_fail(TL_ERR_INVALID_ARG, "unknown %smethod '%s' (expected one of %s)",
            family >= 0 && (size_t)family < sizeof nouns / sizeof nouns[0] ? nouns[family] : "",
            name ? name : "(null)", list);
    return NULL;
}

const char *tl_method_name(const tl_method *m) { return m ? m->name : ""; }
const char *tl_method_summary(const tl_method *m) { return m ? m->summary : ""; }
const char *tl_method_reference(const tl_method *m) {
    return m && m->reference ? m->reference : "";
}
tl_family tl_method_family(const tl_method *m) { return m ? m->family : TL_FAMILY_LEARNER; }
unsigned tl_method_needs(const tl_method *m) { return m ? m->needs : 0; }
size_t tl_method_param_count(const tl_method *m) { return m ? m->nparams : 0; }
const tl_param_desc *tl_method_param(const tl_method *m, size_t i) {
    return m && i < m->nparams ? &m->params[i] : NULL;
}
const tl_param_desc *tl_method_param_find(const tl_method *m, const char *name) {
    for (size_t i = 0; m && name && i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}
