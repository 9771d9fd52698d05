#ifndef MIMETIC_SMALL_GEMM_H
#define MIMETIC_SMALL_GEMM_H

#include <stddef.h>

/* C[m, n] (row stride ldc) = A[m, k] (lda) * B[n, k]^T (ldb) + beta * C, for few rows m.
 * Single-threaded, lock- and allocation-free: the per-frame products of a stream (see BLAS.swift). */
/* Hidden: internal to the library that links it (libMimetic exports only the header's functions). */
__attribute__((visibility("hidden")))
void small_gemm_nt(int m, int n, int k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                           float *c, ptrdiff_t ldc, float beta);

#endif
