/* Streams on many threads: N threads, each running its own stream of one shared model (the
 * pattern the header recommends: one stream per character, any thread), against N times one
 * stream alone. A measurement, not a test: it prints the ratio and asserts nothing.
 * Usage: bench_threads MODEL [THREADS (8)] [SECONDS OF AUDIO PER STREAM (2)] [BLAS THREADS (library default)] */
#define _POSIX_C_SOURCE 200809L
#include "mimetic.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static mimetic_model *model;
static double seconds_of_audio = 2;
static int out_size;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One character: 10 ms chunks at 48 kHz pushed, every ready frame pulled, then flushed. */
static void *run_stream(void *arg) {
    mimetic_stream_params p;
    mimetic_stream *s;
    float chunk[480], *frame = malloc(sizeof(float) * (size_t)out_size);
    long i, n = (long)(seconds_of_audio * 48000), frames = 0;
    int c;
    (void)arg;
    mimetic_stream_params_init(&p);
    p.sample_rate = 48000;
    if (mimetic_stream_create(model, &p, NULL, 0, &s) != MIMETIC_OK) { printf("create: %s\n", mimetic_last_error()); exit(1); }
    for (i = 0; i < n; i += 480) {
        for (c = 0; c < 480; ++c) chunk[c] = 0.3f * (float)sin(0.03 * (double)(i + c)) * (float)sin(1e-4 * (double)(i + c));
        mimetic_stream_push_audio(s, chunk, 480);
        while (mimetic_stream_pull_frame(s, frame, (size_t)out_size, NULL) == MIMETIC_OK) ++frames;
    }
    mimetic_stream_flush(s);
    while (mimetic_stream_pull_frame(s, frame, (size_t)out_size, NULL) == MIMETIC_OK) ++frames;
    mimetic_stream_free(s);
    free(frame);
    return (void *)frames;
}

static double run(int threads) {
    pthread_t t[64];
    int i;
    double t0 = now();
    for (i = 0; i < threads; ++i) pthread_create(&t[i], NULL, run_stream, NULL);
    for (i = 0; i < threads; ++i) pthread_join(t[i], NULL);
    return now() - t0;
}

int main(int argc, char **argv) {
    mimetic_model_info info;
    int threads = argc > 2 ? atoi(argv[2]) : 8, r;
    double one = 1e9, many = 1e9;
    if (argc < 2) { printf("usage: %s MODEL [THREADS] [SECONDS] [BLAS_THREADS]\n", argv[0]); return 2; }
    if (argc > 3) seconds_of_audio = atof(argv[3]);
    if (argc > 4) mimetic_set_threads(atoi(argv[4]));
    if (threads < 1 || threads > 64) threads = 8;
    if (mimetic_model_load(argv[1], &model) != MIMETIC_OK) { printf("load: %s\n", mimetic_last_error()); return 1; }
    info.struct_size = sizeof info;
    mimetic_model_get_info(model, &info);
    out_size = info.output_size;
    run(1);  /* warm-up */
    for (r = 0; r < 3; ++r) {   /* best of three, each way */
        double a = run(1), b = run(threads);
        if (a < one) one = a;
        if (b < many) many = b;
    }
    printf("%s, %.1f s of 48 kHz audio per stream, mimetic_get_threads() = %d\n", argv[1], seconds_of_audio, mimetic_get_threads());
    printf("1 stream alone: %.3f s; %d streams on %d threads: %.3f s = %.2fx of %d x one (%.2fx per stream)\n",
           one, threads, threads, many, many / (threads * one), threads, many / one);
    mimetic_model_free(model);
    return 0;
}
