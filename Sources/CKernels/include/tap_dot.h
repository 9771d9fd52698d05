#ifndef MIMETIC_TAP_DOT_H
#define MIMETIC_TAP_DOT_H

/* One output of the polyphase resampler (PolyphaseFilterBank.swift): the dot product of n (a
 * multiple of 16) input samples with a row of filter taps, accumulated in 16 lanes (lane l: the
 * products l, l+16, l+32, ... in order, as multiply-adds) and the lanes summed pairwise
 * ((0+8)+(4+12))+((2+10)+(6+14)) + (the odd lanes likewise). The same bits on every machine that
 * has FMA (AVX2 and AVX-512 clones); the baseline clone rounds each product separately. Any
 * alignment; single-threaded (tap_dot.c). */
__attribute__((visibility("hidden")))
float tap_dot(const float *a, const float *b, int n);

#endif
