/* libtl: transfer learning in C. Umbrella header: include this to get every public module.
 *
 * Two tiers, as zstd has them. The stable interface - what a program can rely on across libtl
 * versions - is the method registry with parameters set by name (tl/method.h: a method that
 * gains a parameter keeps working for old programs, the new one takes its default), the task,
 * the protocol, reports and pipelines (tl/pipeline.h: tl_run_opts and tl_rank_opts carry their
 * struct_size, so new options default for a program built against an older header), data,
 * readers and writers, opaque handles, and the containers. The typed parameter structs of the
 * algorithm modules (tl_adapt_params, tl_weight_params, tl_tradaboost_params,
 * tl_learner_params, tl_guard_params, tl_mmd_params, tl_nn_train_params) and the calls that take
 * them are the low-level interface: define TL_STATIC_LINKING_ONLY before including libtl to use
 * them, knowing their layout may change from one version to the next. The library itself, the
 * `tl` command, the tests and the benchmarks are built with it; the examples are not (except the
 * fine-tuning one, which trains a network from scratch through tl_nn_train). */
#ifndef TL_H
#define TL_H

#include "tl/core.h"
#include "tl/linalg.h"
#include "tl/data.h"
#include "tl/learn.h"
#include "tl/measure.h"
#include "tl/instance.h"
#include "tl/feature.h"
#include "tl/guard.h"
#include "tl/io.h"
#include "tl/nn.h"
#include "tl/transferability.h"
#include "tl/json.h"
#include "tl/method.h"
#include "tl/pipeline.h"
#include "tl/validate.h"
#include "tl/auto.h"
#include "tl/dist.h"

#endif
