/* The products of a stream's frame, one to a few rows each (x W^T for a layer stored [out, in]),
 * as dot products of A's rows with B's rows, four rows of B at a time so that each load of A
 * serves four outputs. Streams run these instead of OpenBLAS: OpenBLAS 0.3.21 has no per-call
 * thread count, so a stream product on its thread pool (mimetic_set_threads > 1) contends with
 * every other thread's streams (8 streams on 8 threads ran 96x slower than 8 x one), and its
 * buffer pool takes a mutex per product. Compiled for AVX-512, AVX2+FMA and baseline x86-64,
 * picked at load time (target_clones). */
#include "small_gemm.h"

#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8f))
#define HSUM(v) ((((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
void small_gemm_nt(int m, int n, int k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                           float *c, ptrdiff_t ldc, float beta) {
    int i, j = 0, p;
    for (; j + 4 <= n; j += 4) {
        const float *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        for (i = 0; i < m; ++i) {
            const float *x = a + i * lda;
            float *y = c + i * ldc + j;
            v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, v, w;
            float r0, r1, r2, r3;
            for (p = 0; p + 8 <= k; p += 8) {
                LOAD8(v, x + p);
                LOAD8(w, b0 + p); s0 += v * w;
                LOAD8(w, b1 + p); s1 += v * w;
                LOAD8(w, b2 + p); s2 += v * w;
                LOAD8(w, b3 + p); s3 += v * w;
            }
            r0 = HSUM(s0); r1 = HSUM(s1); r2 = HSUM(s2); r3 = HSUM(s3);
            for (; p < k; ++p) { r0 += x[p] * b0[p]; r1 += x[p] * b1[p]; r2 += x[p] * b2[p]; r3 += x[p] * b3[p]; }
            if (beta == 0) { y[0] = r0; y[1] = r1; y[2] = r2; y[3] = r3; }
            else { y[0] = r0 + beta * y[0]; y[1] = r1 + beta * y[1]; y[2] = r2 + beta * y[2]; y[3] = r3 + beta * y[3]; }
        }
    }
    for (; j < n; ++j) {
        const float *b0 = b + j * ldb;
        for (i = 0; i < m; ++i) {
            const float *x = a + i * lda;
            v8f s0 = {0}, v, w;
            float r0;
            for (p = 0; p + 8 <= k; p += 8) { LOAD8(v, x + p); LOAD8(w, b0 + p); s0 += v * w; }
            r0 = HSUM(s0);
            for (; p < k; ++p) r0 += x[p] * b0[p];
            c[i * ldc + j] = beta == 0 ? r0 : r0 + beta * c[i * ldc + j];
        }
    }
}
