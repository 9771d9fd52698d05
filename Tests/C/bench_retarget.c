/* Per-frame cost of retargeting (mimetic_retarget_apply: the projection b = B x of a frame onto the
 * basis, the exact bounded solve, the residual and the controls), warm-started frame after frame as
 * a stream does, and cold (a fresh state each frame). Usage: bench_retarget MODEL BASIS WAV [REPEATS] */
#define _POSIX_C_SOURCE 199309L
#include "mimetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char **argv) {
    mimetic_model *m = NULL;
    mimetic_retarget *r = NULL;
    mimetic_model_info info = { sizeof info };
    mimetic_audio wav = { sizeof wav };
    mimetic_animate_params ap;
    size_t frames = 0, t;
    float *all, *w, res = 0, worst = 0;
    int repeats = argc > 4 ? atoi(argv[4]) : 20, k, i;
    double t0, warm, cold, sum = 0;
    if (argc < 4) { fprintf(stderr, "usage: %s MODEL BASIS WAV [REPEATS]\n", argv[0]); return 2; }
    mimetic_set_threads(1);
    if (mimetic_model_load(argv[1], &m) || mimetic_model_get_info(m, &info) || mimetic_wav_read(argv[3], 0, &wav) ||
        mimetic_retarget_load(m, argv[2], NULL, &r)) { fprintf(stderr, "%s\n", mimetic_last_error()); return 1; }
    mimetic_animate_params_init(&ap);
    ap.sample_rate = wav.sample_rate;
    mimetic_animate_frame_count(m, wav.n_samples, wav.sample_rate, &frames);
    all = malloc(frames * info.output_size * sizeof(float));
    if (mimetic_animate(m, wav.samples, wav.n_samples, &ap, all, frames * info.output_size, &frames)) { fprintf(stderr, "%s\n", mimetic_last_error()); return 1; }
    k = mimetic_retarget_count(r);
    w = malloc(k * sizeof(float));
    t0 = now();
    for (i = 0; i < repeats; ++i) {
        mimetic_retarget_reset(r);
        for (t = 0; t < frames; ++t) {
            mimetic_retarget_apply(r, all + t * info.output_size, info.output_size, w, k, &res);
            if (res > worst) worst = res;
            sum += res;
        }
    }
    warm = (now() - t0) / (repeats * (double)frames);
    t0 = now();
    for (i = 0; i < repeats; ++i)
        for (t = 0; t < frames; ++t) {
            mimetic_retarget_reset(r);
            mimetic_retarget_apply(r, all + t * info.output_size, info.output_size, w, k, &res);
        }
    cold = (now() - t0) / (repeats * (double)frames);
    printf("retarget %d shapes x %d floats, %zu frames x %d: warm %.1f us/frame, cold %.1f us/frame; residual mean %.4f, worst frame %.4f\n",
           k, info.output_size, frames, repeats, 1e6 * warm, 1e6 * cold, sum / (repeats * (double)frames), worst);
    mimetic_retarget_free(r);
    mimetic_audio_free(&wav);
    mimetic_model_free(m);
    free(all); free(w);
    return 0;
}
