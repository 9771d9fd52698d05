/* Characters per core: N streams of one model, each fed one game frame of 48 kHz audio per tick
 * (1/fps s), advanced either one by one (frames_ready + pull each) or together
 * (mimetic_stream_process_batch, then pull each), on one thread. Prints the CPU time per frame and
 * the characters one core keeps in real time (1/fps s of CPU per frame and character), and checks
 * that both ways give the same frames. Not a test: no timed assertion (docs/performance.md).
 *   bench_streams MODEL AUDIO.wav [N ...]   (default N: 1 16 64 256; BENCH_RATE=16000 pushes 16 kHz) */
#define _POSIX_C_SOURCE 200809L
#include "mimetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rate = 48000; /* of the pushed audio */

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs n streams through `ticks` game frames; returns CPU seconds, frames pulled, and a checksum. */
static double run(mimetic_model *model, const mimetic_model_info *info, const mimetic_audio *audio, int n, int batched, int ticks,
                  long *frames, double *checksum) {
    mimetic_stream **s = (mimetic_stream **)malloc((size_t)n * sizeof *s);
    float *frame = (float *)malloc((size_t)info->output_size * sizeof(float));
    mimetic_stream_params p;
    int i, t;
    size_t per_tick = (size_t)(rate / info->fps);
    double spent;
    *frames = 0;
    *checksum = 0;
    for (i = 0; i < n; ++i) {
        mimetic_stream_params_init(&p);
        p.sample_rate = rate;
        p.style_slot = i % info->num_styles;
        if (mimetic_stream_create(model, &p, NULL, 0, &s[i]) != MIMETIC_OK) { fprintf(stderr, "%s\n", mimetic_last_error()); exit(1); }
    }
    /* Steady state only: stream creation (page faults of each stream's 4 MB) is not timed. */
    for (t = 0; t < 3; ++t)
        for (i = 0; i < n; ++i) mimetic_stream_push_audio(s[i], audio->samples, per_tick);
    for (i = 0; i < n; ++i) while (mimetic_stream_pull_frame(s[i], frame, (size_t)info->output_size, NULL) == MIMETIC_OK) {}
    spent = -cpu_seconds();
    for (t = 0; t < ticks; ++t) {
        for (i = 0; i < n; ++i) {
            /* Each character speaks the sample from its own point, looping. */
            size_t at = ((size_t)t * per_tick + (size_t)i * 4801) % (audio->n_samples - per_tick);
            mimetic_stream_push_audio(s[i], audio->samples + at, per_tick);
        }
        if (batched) mimetic_stream_process_batch(s, (size_t)n);
        for (i = 0; i < n; ++i) {
            size_t ready = 0;
            if (!batched) mimetic_stream_frames_ready(s[i], &ready);
            while (mimetic_stream_pull_frame(s[i], frame, (size_t)info->output_size, NULL) == MIMETIC_OK) {
                ++*frames;
                *checksum += frame[(size_t)(*frames * 7) % (size_t)info->output_size];
            }
        }
    }
    spent += cpu_seconds();
    for (i = 0; i < n; ++i) mimetic_stream_free(s[i]);
    free(s);
    free(frame);
    return spent;
}

int main(int argc, char **argv) {
    mimetic_model *model;
    mimetic_model_info info;
    mimetic_audio audio;
    int counts[16] = {1, 16, 64, 256}, nc = 4, c;
    if (argc < 3) { fprintf(stderr, "usage: %s MODEL AUDIO.wav [N ...]\n", argv[0]); return 2; }
    if (argc > 3) for (nc = 0; nc < 16 && 3 + nc < argc; ++nc) counts[nc] = atoi(argv[3 + nc]);
    if (getenv("BENCH_RATE")) rate = atoi(getenv("BENCH_RATE"));
    mimetic_set_threads(1);
    if (mimetic_model_load(argv[1], &model) != MIMETIC_OK) { fprintf(stderr, "%s\n", mimetic_last_error()); return 1; }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    mimetic_model_get_info(model, &info);
    memset(&audio, 0, sizeof audio);
    audio.struct_size = sizeof audio;
    if (mimetic_wav_read(argv[2], rate, &audio) != MIMETIC_OK) { fprintf(stderr, "%s\n", mimetic_last_error()); return 1; }
    printf("%s: %d fps, %d vertices; %d Hz audio pushed one game frame (%d samples) per stream per tick; one thread\n", argv[1], info.fps,
           info.num_vertices, rate, rate / info.fps);
    printf("%9s  %22s  %22s  %8s\n", "streams", "one by one: us/frame", "batched: us/frame", "speed-up");
    for (c = 0; c < nc; ++c) {
        int n = counts[c], ticks = n >= 64 ? 60 : 300;
        long f1, f2;
        double k1, k2, t1, t2;
        run(model, &info, &audio, n, 0, 10, &f1, &k1); /* warm-up */
        t1 = run(model, &info, &audio, n, 0, ticks, &f1, &k1);
        t2 = run(model, &info, &audio, n, 1, ticks, &f2, &k2);
        if (f1 != f2 || k1 != k2) { fprintf(stderr, "batched frames differ from one by one (%ld vs %ld frames)\n", f1, f2); return 1; }
        printf("%9d  %10.1f (%5.0f chars)  %10.1f (%5.0f chars)  %7.2fx\n", n, 1e6 * t1 / (double)f1, (double)f1 / t1 / info.fps,
               1e6 * t2 / (double)f2, (double)f2 / t2 / info.fps, t1 / t2);
    }
    printf("chars: characters one core keeps in real time (%d frames a second each)\n", info.fps);
    mimetic_audio_free(&audio);
    mimetic_model_free(model);
    return 0;
}
