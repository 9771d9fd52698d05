/* weight_scan.h: the finite check and the float16 widening of model loading, 16 values a step. */
#include "weight_scan.h"

#include <stdint.h>

typedef uint32_t v16u __attribute__((vector_size(64)));
typedef uint16_t v16h __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef _Float16 v16f16 __attribute__((vector_size(32)));

/* An exponent of all ones is Inf or NaN. */
#define F32_EXP 0x7f800000u
#define F16_EXP 0x7c00u

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
size_t weight_scan_f32(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0, j;
    for (; i + 64 <= n; i += 64) {
        v16u any = {0};
        for (j = 0; j < 64; j += 16) {
            v16u x;
            __builtin_memcpy(&x, b + 4 * (i + j), sizeof x);
            any |= (x & F32_EXP) == F32_EXP;
        }
        uint32_t hit = 0;
        for (j = 0; j < 16; ++j) hit |= any[j];
        if (hit) break; /* find the index below */
    }
    for (; i < n; ++i) {
        uint32_t x;
        __builtin_memcpy(&x, b + 4 * i, 4);
        if ((x & F32_EXP) == F32_EXP) return i;
    }
    return n;
}

#if defined(__x86_64__) && defined(__ELF__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
__attribute__((visibility("hidden")))
size_t weight_widen_f16(const void *p, size_t n, float *out) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0, j, bad = n;
    for (; i + 16 <= n; i += 16) {
        v16h bits;
        v16f16 h;
        __builtin_memcpy(&bits, b + 2 * i, sizeof bits);
        __builtin_memcpy(&h, &bits, sizeof h);
        v16f f = __builtin_convertvector(h, v16f);
        __builtin_memcpy(out + i, &f, sizeof f);
        if (bad == n) {
            v16h e = (bits & F16_EXP) == F16_EXP;
            uint16_t hit = 0;
            for (j = 0; j < 16; ++j) hit |= e[j];
            if (hit)
                for (j = 0; j < 16; ++j)
                    if ((bits[j] & F16_EXP) == F16_EXP) { bad = i + j; break; }
        }
    }
    for (; i < n; ++i) {
        uint16_t x;
        _Float16 h;
        __builtin_memcpy(&x, b + 2 * i, 2);
        __builtin_memcpy(&h, &x, 2);
        out[i] = (float)h;
        if (bad == n && (x & F16_EXP) == F16_EXP) bad = i;
    }
    return bad;
}
