#ifndef MIMETIC_WIDE_ROWS_H
#define MIMETIC_WIDE_ROWS_H

/* y_rows[i][0..n) = W x_rows[i] + bias for i < m (W [n, k]; bias may be NULL). Rows anywhere in
 * memory: one stream's frame, or a batch of streams' frames, each output with the same bits either
 * way. Single-threaded, lock- and allocation-free (wide_rows.c).
 *
 * `packed` holds W in panels of WIDE_ROWS_PANEL outputs, input-major within a panel: the panel of
 * outputs j..j+P-1 starts at packed + j * k and holds W[j + c][p] at p * P + c; the last panel,
 * of t = n % P outputs, the same with t for P. (k * n floats in all.) */
#define WIDE_ROWS_PANEL 32

__attribute__((visibility("hidden")))
void wide_rows(int m, int n, int k, const float *const *x_rows, const float *packed, const float *bias, float *const *y_rows);

#endif
