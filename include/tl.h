/* libtl: transfer learning in C. Umbrella header: include this to get every public module. */
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

#endif
