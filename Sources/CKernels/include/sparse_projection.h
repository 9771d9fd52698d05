#ifndef MIMETIC_SPARSE_PROJECTION_H
#define MIMETIC_SPARSE_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

/* out[a] = sum over the runs of row rows[a] of basis[row * n + c] * x[c], c in [begin, end):
 * the projection of a frame onto a local blendshape basis (Retarget.swift). Float products, summed
 * 8 wide within a run, the runs summed in double. Single-threaded, lock- and allocation-free. */
__attribute__((visibility("hidden")))
void sparse_projection(const float *basis, ptrdiff_t n, const float *x, const int64_t *rows, int m,
                       const int32_t *runs, const int64_t *run_start, double *out);

/* sum of x[c] * x[c] in double (8-wide float partial sums over blocks of 256). */
__attribute__((visibility("hidden")))
double squared_norm(const float *x, ptrdiff_t n);

#endif
