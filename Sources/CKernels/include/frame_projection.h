#ifndef MIMETIC_FRAME_PROJECTION_H
#define MIMETIC_FRAME_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

/* The per-frame pass of a retarget (Retarget.swift): b = B x, the projection of a frame x (n floats)
 * onto a local blendshape basis, with x's squared norm and whether x is finite, in one read of x.
 *
 * The basis is stored block-major: x is cut into blocks of FRAME_PROJECTION_BLOCK floats; block j
 * lists the rows that are nonzero in it, entries block_start[j] ..< block_start[j+1], entry e being
 * row entry_row[e] with its values at packed[FRAME_PROJECTION_BLOCK * e] (zero past n). Each block
 * of x is loaded into registers once and used for every row nonzero there, so x is read once per
 * frame instead of once per row, and the basis is one sequential stream; a rig's shapes overlap
 * around the mouth, where rows share blocks. 64-float blocks: on the shipped ARKit-52 basis they
 * pack 12 % zeros more than 16-float ones, but each row's accumulator is loaded and stored a
 * quarter as often, which is what bound the 16-float loop (10.5 against ~6 us per frame).
 *
 * Products in float, 8 lanes per row accumulated over 512 floats and then added in
 * double. `acc` is scratch for m * 8 floats (any alignment). Returns 1 if every x[c] is finite
 * (then out[0..m) and *squared_norm are set), 0 otherwise (out and *squared_norm undefined).
 * Single-threaded, lock- and allocation-free. */
#define FRAME_PROJECTION_BLOCK 64

__attribute__((visibility("hidden")))
int frame_projection(const float *packed, const int32_t *block_start, const int32_t *entry_row, ptrdiff_t n,
                     const float *x, int m, float *acc, double *out, double *squared_norm);

#endif
