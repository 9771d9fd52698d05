/* The products of a stream's frame with a wide output (the motion basis: 3V outputs from d inputs),
 * for a few rows gathered from anywhere (one stream's frame, or a batch of streams' frames).
 *
 * The weights are packed input-major in panels of 32 outputs (see wide_rows.h): each output
 * accumulates in a vector lane over the inputs, one broadcast of x[p] and one multiply-add per 16
 * outputs and no horizontal sums (small_gemm_nt's dot products spend more on their horizontal sums
 * than on their multiply-adds at k = 64), and a panel (k x 32 floats, 8 KB at k = 64) is one
 * contiguous read that stays in L1 while it serves every row: a batch reads the basis once.
 *
 * Each output is acc = 0; acc += x[p] * w[p] for p = 0..k-1 in order; y = acc + bias: the same
 * operations whichever path (four rows or one, full panel or the last one) computes it, so a
 * frame gets the same bits alone or in a batch. Compiled for AVX-512, AVX2+FMA and baseline
 * x86-64, picked at load time (target_clones). */
#include "wide_rows.h"

typedef float v16f __attribute__((vector_size(64)));

/* Macros, not functions: a 64-byte vector may not cross a call in the AVX2 and baseline clones. */
#define LOAD16(dst, p) __builtin_memcpy(&(dst), (p), sizeof(v16f))
#define STORE16(p, v) do { v16f v_ = (v); __builtin_memcpy((p), &v_, sizeof(v16f)); } while (0)

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
void wide_rows(int m, int n, int k, const float *const *x_rows, const float *packed, const float *bias, float *const *y_rows) {
    int i, j, p, c;
    for (j = 0; j + WIDE_ROWS_PANEL <= n; j += WIDE_ROWS_PANEL) {
        const float *panel = packed + (long)j * k;
        v16f ba = {0}, bb = {0};
        if (bias) { LOAD16(ba, bias + j); LOAD16(bb, bias + j + 16); }
        for (i = 0; i + 4 <= m; i += 4) {
            const float *x0 = x_rows[i], *x1 = x_rows[i + 1], *x2 = x_rows[i + 2], *x3 = x_rows[i + 3];
            v16f a0 = {0}, b0 = {0}, a1 = {0}, b1 = {0}, a2 = {0}, b2 = {0}, a3 = {0}, b3 = {0};
            for (p = 0; p < k; ++p) {
                v16f wa, wb;
                LOAD16(wa, panel + p * WIDE_ROWS_PANEL);
                LOAD16(wb, panel + p * WIDE_ROWS_PANEL + 16);
                a0 += x0[p] * wa; b0 += x0[p] * wb;
                a1 += x1[p] * wa; b1 += x1[p] * wb;
                a2 += x2[p] * wa; b2 += x2[p] * wb;
                a3 += x3[p] * wa; b3 += x3[p] * wb;
            }
            STORE16(y_rows[i] + j, a0 + ba); STORE16(y_rows[i] + j + 16, b0 + bb);
            STORE16(y_rows[i + 1] + j, a1 + ba); STORE16(y_rows[i + 1] + j + 16, b1 + bb);
            STORE16(y_rows[i + 2] + j, a2 + ba); STORE16(y_rows[i + 2] + j + 16, b2 + bb);
            STORE16(y_rows[i + 3] + j, a3 + ba); STORE16(y_rows[i + 3] + j + 16, b3 + bb);
        }
        for (; i < m; ++i) {
            const float *x0 = x_rows[i];
            v16f a0 = {0}, b0 = {0};
            for (p = 0; p < k; ++p) {
                v16f wa, wb;
                LOAD16(wa, panel + p * WIDE_ROWS_PANEL);
                LOAD16(wb, panel + p * WIDE_ROWS_PANEL + 16);
                a0 += x0[p] * wa;
                b0 += x0[p] * wb;
            }
            STORE16(y_rows[i] + j, a0 + ba);
            STORE16(y_rows[i] + j + 16, b0 + bb);
        }
    }
    /* The last n % 32 outputs: a narrower panel, one output at a time, the same operations. */
    if (j < n) {
        const float *panel = packed + (long)j * k;
        int t = n - j;
        for (i = 0; i < m; ++i) {
            const float *x0 = x_rows[i];
            for (c = 0; c < t; ++c) {
                float acc = 0;
                for (p = 0; p < k; ++p) acc += x0[p] * panel[p * t + c];
                y_rows[i][j + c] = acc + (bias ? bias[j + c] : 0.0f);
            }
        }
    }
}
