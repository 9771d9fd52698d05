/* In C for the same reason as small_gemm.c: compiled for AVX-512, AVX2+FMA and baseline x86-64 and
 * picked at load time (target_clones), which Swift's SIMD types cannot do. See frame_projection.h. */
#include "frame_projection.h"

#include <string.h>

/* 8 floats at any 4-byte-aligned address (the packed basis, the scratch, x). */
typedef float v8f __attribute__((vector_size(32), aligned(4)));
#define HSUM(v) ((((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))

enum { BLOCK = FRAME_PROJECTION_BLOCK, VECTORS = BLOCK / 8, FLUSH_BLOCKS = 512 / BLOCK };

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
int frame_projection(const float *packed, const int32_t *block_start, const int32_t *entry_row, ptrdiff_t n,
                     const float *x, int m, float *acc, double *out, double *squared_norm) {
    v8f *lanes = (v8f *)acc;
    const v8f zero = {0};
    v8f square = zero, poison = zero;
    double norm = 0;
    const ptrdiff_t blocks = (n + BLOCK - 1) / BLOCK;
    ptrdiff_t j;
    int a;
    for (a = 0; a < m; ++a) { out[a] = 0; lanes[a] = zero; }
    for (j = 0; j < blocks; ++j) {
        float tail[BLOCK];
        const float *xs = x + j * BLOCK;
        v8f xv[VECTORS];
        int32_t e;
        int q;
        if ((j + 1) * BLOCK > n) {
            /* The last, partial block: its packed values are zero past n, x is padded with zeros. */
            memset(tail, 0, sizeof tail);
            memcpy(tail, xs, (size_t)(n - j * BLOCK) * sizeof(float));
            xs = tail;
        }
        for (q = 0; q < VECTORS; ++q) {
            xv[q] = *(const v8f *)(xs + 8 * q);
            square += xv[q] * xv[q];
            poison += xv[q] * 0; /* NaN from here on if any lane is NaN or ±Inf */
        }
        for (e = block_start[j]; e < block_start[j + 1]; ++e) {
            const v8f *v = (const v8f *)(packed + (ptrdiff_t)e * BLOCK);
            v8f even = v[0] * xv[0], odd = v[1] * xv[1];
            for (q = 2; q < VECTORS; q += 2) { even += v[q] * xv[q]; odd += v[q + 1] * xv[q + 1]; }
            lanes[entry_row[e]] += even + odd;
        }
        if (j % FLUSH_BLOCKS == FLUSH_BLOCKS - 1 || j == blocks - 1) {
            for (a = 0; a < m; ++a) { out[a] += (double)HSUM(lanes[a]); lanes[a] = zero; }
            norm += (double)HSUM(square);
            square = zero;
        }
    }
    *squared_norm = norm;
    return HSUM(poison) == 0;
}
