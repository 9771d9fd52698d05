/* Load time and memory of models (docs/performance.md): for each file, mimetic_model_load from the
 * page cache (best of 10) and from disk (the file's pages dropped from the cache first with
 * posix_fadvise, best of 5), the resident memory a loaded model adds (file-backed: pages of the
 * mapped file; anonymous: widened or packed copies, the library's own), and what one stream adds
 * (its state, and the resident memory after a second of audio). Not a test: no timed assertion.
 *   bench_load MODEL.safetensors [MODEL ...] */
#define _POSIX_C_SOURCE 200809L
#include "mimetic.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* RssAnon and RssFile of this process, in KiB. */
static void rss(long *anon, long *file) {
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    *anon = *file = -1;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "RssAnon: %ld", anon);
        sscanf(line, "RssFile: %ld", file);
    }
    fclose(f);
}

static void drop_from_cache(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

static double load_ms(const char *path, int cold, mimetic_model **keep) {
    mimetic_model *m;
    double t;
    if (cold) drop_from_cache(path);
    t = now();
    if (mimetic_model_load(path, &m) != MIMETIC_OK) {
        fprintf(stderr, "%s\n", mimetic_last_error());
        exit(1);
    }
    t = now() - t;
    if (keep) *keep = m;
    else mimetic_model_free(m);
    return 1e3 * t;
}

int main(int argc, char **argv) {
    int a, r;
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL.safetensors [MODEL ...]\n", argv[0]); return 2; }
    mimetic_set_threads(1);
    printf("| model | file MB | load, cached (best of 10) | load, from disk (best of 5) | resident after load: anonymous / file-backed MB | stream state MB | stream: resident added after 1 s of audio MB |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (a = 1; a < argc; ++a) {
        struct stat st;
        double warm = 1e9, cold = 1e9;
        long anon0, file0, anon1, file1, anon2, file2;
        mimetic_model *m;
        mimetic_stream *s;
        mimetic_stream_params p;
        size_t state = 0, i;
        float *samples = (float *)malloc(16000 * sizeof(float));
        if (stat(argv[a], &st) != 0) { perror(argv[a]); return 1; }
        for (r = 0; r < 10; ++r) { double t = load_ms(argv[a], 0, NULL); if (t < warm) warm = t; }
        for (r = 0; r < 5; ++r) { double t = load_ms(argv[a], 1, NULL); if (t < cold) cold = t; }
        drop_from_cache(argv[a]);
        rss(&anon0, &file0);
        load_ms(argv[a], 0, &m);
        rss(&anon1, &file1);
        mimetic_stream_params_init(&p);
        if (mimetic_stream_create(m, &p, NULL, 0, &s) != MIMETIC_OK) { fprintf(stderr, "%s\n", mimetic_last_error()); return 1; }
        mimetic_stream_get_state_size(s, &state);
        for (i = 0; i < 16000; ++i) samples[i] = 0.3f * (float)sin(0.02 * (double)i);
        mimetic_stream_push_audio(s, samples, 16000);
        {
            size_t ready = 0;
            mimetic_stream_frames_ready(s, &ready);
        }
        rss(&anon2, &file2);
        printf("| %s | %.1f | %.1f ms | %.1f ms | %.1f / %.1f | %.1f | %.1f |\n", strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a],
               (double)st.st_size / 1e6, warm, cold, (double)(anon1 - anon0) / 1024, (double)(file1 - file0) / 1024, (double)state / 1e6,
               (double)(anon2 + file2 - anon1 - file1) / 1024);
        mimetic_stream_free(s);
        mimetic_model_free(m);
        free(samples);
    }
    return 0;
}
