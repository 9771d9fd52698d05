/* The C kernels of MimeticCore, one header each; this umbrella header lists them (a header added
 * to the folder alone is not always seen by an incremental build's module cache). */
#ifndef MIMETIC_CKERNELS_H
#define MIMETIC_CKERNELS_H

#include "frame_projection.h"
#include "small_gemm.h"
#include "tap_dot.h"
#include "weight_scan.h"
#include "wide_rows.h"

#endif
