/* The per-frame projection of a retarget (b = B x over where each shape is nonzero) and the frame's
 * squared norm. In C for the same reason as small_gemm.c: compiled for AVX-512, AVX2+FMA and
 * baseline x86-64 and picked at load time (target_clones), which Swift's SIMD types cannot do;
 * the baseline build alone ran the ARKit-52 projection about 2x slower. */
#include "sparse_projection.h"

#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8f))
#define HSUM(v) ((((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))

static inline double run_dot(const float *a, const float *x, ptrdiff_t len) {
    double total = 0;
    ptrdiff_t c = 0;
    while (c < len) {
        /* Blocks of at most 256 floats summed in float, the blocks in double. */
        ptrdiff_t end = c + 256 < len ? c + 256 : len;
        v8f s0 = {0}, s1 = {0}, v, w;
        float tail = 0;
        for (; c + 16 <= end; c += 16) {
            LOAD8(v, a + c); LOAD8(w, x + c); s0 += v * w;
            LOAD8(v, a + c + 8); LOAD8(w, x + c + 8); s1 += v * w;
        }
        for (; c < end; ++c) tail += a[c] * x[c];
        s0 += s1;
        total += (double)HSUM(s0) + (double)tail;
    }
    return total;
}

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
void sparse_projection(const float *basis, ptrdiff_t n, const float *x, const int64_t *rows, int m,
                       const int32_t *runs, const int64_t *run_start, double *out) {
    int a;
    for (a = 0; a < m; ++a) {
        const int64_t row = rows[a];
        const float *r = basis + row * n;
        double acc = 0;
        int64_t k;
        for (k = run_start[row]; k < run_start[row + 1]; ++k) {
            const ptrdiff_t begin = runs[2 * k], end = runs[2 * k + 1];
            acc += run_dot(r + begin, x + begin, end - begin);
        }
        out[a] = acc;
    }
}

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
double squared_norm(const float *x, ptrdiff_t n) { return run_dot(x, x, n); }
