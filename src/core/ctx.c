/* Run context: seed, thread count, log and progress callbacks, and the version string. Passed
 * explicitly (NULL = defaults) so the library holds no mutable global configuration. */
#include <stdarg.h>
#include <stdio.h>

#include "internal/check.h"
#include "tl/core.h"

/* OpenBLAS exports this; declared here to avoid depending on which cblas.h is first in the path. */
void openblas_set_num_threads(int num_threads);

tl_ctx tl_ctx_default(void) {
    tl_ctx c = {0};
    c.seed = 42;
    c.threads = 0;
    c.log_level = TL_LOG_WARN;
    return c;
}

void tl_ctx_apply_threads(const tl_ctx *ctx) {
    if (ctx && ctx->threads > 0) openblas_set_num_threads(ctx->threads);
}

void tl_log(const tl_ctx *ctx, tl_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->log || level < ctx->log_level) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(ctx->user, level, buf);
}

void tl_progress(const tl_ctx *ctx, const char *stage, double fraction) {
    if (ctx && ctx->progress) ctx->progress(ctx->user, stage, fraction);
}

const char *tl_version(void) { return TL_VERSION_STRING; }

tl_status tl_cancel_check(const tl_ctx *ctx, const char *fmt, ...) {
    if (!ctx || !ctx->cancel || !ctx->cancel(ctx->user)) return TL_OK;
    char where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    return tl_fail(TL_ERR_CANCELLED, "cancelled in %s", where);
}
