/* Stream C ABI test, C99 with -Wall -Wextra -Werror -pedantic: every stream function, every error
 * path, and the real-time claims: push/pull allocate nothing (malloc and friends are interposed
 * here and counted) and take no lock in Mimetic's code (pthread_mutex_lock is counted too).
 * Usage: test_stream_abi VOCASET_MODEL MIMIC_MODEL [REALTIME_MODEL]
 * (a model with the real-time encoder: the same real-time claims on its frame-by-frame path) */
#define _GNU_SOURCE
#include "mimetic.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation and lock counting (interposition: the executable's definitions win) ---- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int counting = 0;
static volatile long allocations = 0;
static volatile long locks = 0;

static void *callers[64];
/* Who locked: classified after the counted section (dladdr is not called while counting). */
static void *lock_callers[8192];
static void note(void *caller) { if (allocations < 64) callers[allocations] = caller; ++allocations; }

/* Locks taken outside OpenBLAS among the first `n` recorded (OpenBLAS's buffer pool takes an
 * uncontended mutex per matrix product, which the header documents). */
static long locks_outside_openblas(long n, long *openblas) {
    long i, outside = 0;
    *openblas = 0;
    for (i = 0; i < n && i < 8192; ++i) {
        Dl_info di;
        if (dladdr(lock_callers[i], &di) && di.dli_fname && strstr(di.dli_fname, "openblas")) ++*openblas;
        else ++outside;
    }
    return outside;
}
void *malloc(size_t n) { if (counting) note(__builtin_return_address(0)); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) ++allocations; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) ++allocations; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
int posix_memalign(void **out, size_t align, size_t n) {
    if (counting) ++allocations;
    *out = __libc_memalign(align, n);
    return *out ? 0 : 12;
}
void *aligned_alloc(size_t align, size_t n) { if (counting) ++allocations; return __libc_memalign(align, n); }

typedef int (*lock_fn)(pthread_mutex_t *);
static lock_fn real_lock = NULL;
int pthread_mutex_lock(pthread_mutex_t *m) {
    if (counting) { if (locks < 8192) lock_callers[locks] = __builtin_return_address(0); ++locks; }
    if (!real_lock) {
        /* Resolved once before counting starts (dlsym may allocate). */
        union { void *p; lock_fn f; } u;
        u.p = dlsym(RTLD_NEXT, "pthread_mutex_lock");
        real_lock = u.f;
    }
    return real_lock(m);
}

/* ---- helpers ---- */
static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { \
    ++checks; \
    if (!(cond)) { ++failures; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static float *speech(size_t n) {
    float *x = (float *)malloc(n * sizeof *x);
    size_t i;
    unsigned s = 12345;
    for (i = 0; i < n; ++i) {
        double t = (double)i / 16000.0;
        s = s * 1103515245u + 12345u;
        x[i] = (float)(0.3 * sin(2 * 3.14159265 * (140 + 30 * sin(3 * t)) * t) * (0.6 + 0.4 * sin(2 * 3.14159265 * 3 * t))
                       + 0.02 * ((double)(s >> 16 & 0x7fff) / 32768.0 - 0.5));
    }
    return x;
}

static int log_calls = 0;
static void on_log(mimetic_log_level level, const char *message, void *user) {
    (void)level; (void)message;
    ++*(int *)user;
}

/* Pulls every ready frame; returns the count, checking indices and finiteness. */
static int drain(mimetic_stream *s, float *frame, size_t size, int *next_index, int *saw_final) {
    int n = 0;
    mimetic_frame_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    for (;;) {
        size_t k;
        mimetic_status st = mimetic_stream_pull_frame(s, frame, size, &info);
        if (st == MIMETIC_ERROR_NOT_READY) break;
        CHECK(st == MIMETIC_OK, "pull: %d %s", st, mimetic_last_error());
        if (st != MIMETIC_OK) break;
        CHECK(info.frame_index == *next_index, "frame index %lld, expected %d", (long long)info.frame_index, *next_index);
        for (k = 0; k < size; ++k) if (!isfinite(frame[k])) { CHECK(0, "non-finite output"); break; }
        if (info.is_final) *saw_final = 1;
        ++*next_index;
        ++n;
    }
    return n;
}

int main(int argc, char **argv) {
    mimetic_model *model = NULL, *mimic = NULL;
    mimetic_model_info info;
    mimetic_stream_params params;
    mimetic_stream *s = NULL, *s2 = NULL;
    mimetic_stream_stats stats;
    size_t bytes = 0, ready = 0, n = 40000, i;
    float *audio, *frame, *tmpl, *code;
    int16_t pcm[480];
    int next = 0, final = 0, frames = 0, expected;
    void *buffer, *snap;
    long before_alloc, pull_locks, single_thread_allocs = -1, single_thread_locks = -1, openblas_locks = 0;
    int32_t threads_before;

    if (argc < 3) { fprintf(stderr, "usage: %s VOCASET_MODEL MIMIC_MODEL\n", argv[0]); return 2; }
    {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    CHECK(mimetic_model_load(argv[1], &model) == MIMETIC_OK, "load: %s", mimetic_last_error());
    CHECK(mimetic_model_load(argv[2], &mimic) == MIMETIC_OK, "load mimic: %s", mimetic_last_error());
    if (!model || !mimic) return 1;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    mimetic_model_get_info(model, &info);
    CHECK(info.max_lookahead_ms >= 300 && info.min_lookahead_ms == 0, "lookahead range %d..%d", info.min_lookahead_ms, info.max_lookahead_ms);
    frame = (float *)malloc((size_t)info.output_size * sizeof *frame);
    audio = speech(n);

    mimetic_log_set(on_log, &log_calls);

    /* Params and state size. */
    mimetic_stream_params_init(NULL);
    mimetic_stream_params_init(&params);
    CHECK(params.struct_size == sizeof params && params.sample_rate == 16000 && params.lookahead_ms > 0, "defaults");
    CHECK(mimetic_stream_state_size(NULL, &params, &bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
    CHECK(mimetic_stream_state_size(model, NULL, &bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL params");
    CHECK(mimetic_stream_state_size(model, &params, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out");
    CHECK(mimetic_stream_state_size(model, &params, &bytes) == MIMETIC_OK && bytes > 0, "state size");
    printf("state size with default params: %zu bytes\n", bytes);
    params.struct_size = 8;
    CHECK(mimetic_stream_state_size(model, &params, &bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "wrong struct size");
    CHECK(strstr(mimetic_last_error(), "struct_size") != NULL, "message: %s", mimetic_last_error());
    mimetic_stream_params_init(&params);
    params.sample_rate = 4000;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s) == MIMETIC_ERROR_INVALID_ARGUMENT && s == NULL, "rate 4000");
    CHECK(strstr(mimetic_last_error(), "8000...48000") != NULL, "message: %s", mimetic_last_error());
    mimetic_stream_params_init(&params);
    params.lookahead_ms = info.max_lookahead_ms + 1;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s) == MIMETIC_ERROR_INVALID_ARGUMENT, "lookahead too large");
    mimetic_stream_params_init(&params);
    params.style_slot = 99;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s) == MIMETIC_ERROR_INVALID_ARGUMENT, "style slot 99");
    params.style_slot = -1;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s) == MIMETIC_ERROR_INVALID_ARGUMENT, "no style at all");
    mimetic_stream_params_init(&params);
    params.sample_policy = (mimetic_sample_policy)7;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s) == MIMETIC_ERROR_INVALID_ARGUMENT, "bad policy");
    mimetic_stream_params_init(&params);
    CHECK(mimetic_stream_create(model, &params, NULL, 0, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out");
    CHECK(log_calls > 0, "log callback called on failures");

    /* A caller-provided buffer: too small is refused with the size needed. */
    mimetic_stream_state_size(model, &params, &bytes);
    buffer = aligned_alloc(64, (bytes + 63) / 64 * 64);
    CHECK(mimetic_stream_create(model, &params, buffer, bytes - 1, &s) == MIMETIC_ERROR_INVALID_ARGUMENT, "buffer too small");
    CHECK(strstr(mimetic_last_error(), "needs") != NULL, "message names the size: %s", mimetic_last_error());
    CHECK(mimetic_stream_create(model, &params, buffer, bytes, &s) == MIMETIC_OK && s, "create in caller buffer: %s", mimetic_last_error());
    {
        size_t own = 0;
        double latency = 0;
        CHECK(mimetic_stream_get_state_size(s, &own) == MIMETIC_OK && own == bytes, "stream state size %zu", own);
        CHECK(mimetic_stream_get_state_size(NULL, &own) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL stream");
        CHECK(mimetic_stream_get_latency(s, &latency) == MIMETIC_OK && latency > (params.lookahead_ms + params.hop_ms) / 1000.0, "latency %f", latency);
        CHECK(mimetic_stream_get_latency(s, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL latency");
        printf("algorithmic latency with default params: %.0f ms\n", latency * 1000);
    }

    /* Order and argument errors. */
    CHECK(mimetic_stream_pull_frame(s, frame, (size_t)info.output_size, NULL) == MIMETIC_ERROR_NOT_READY, "pull before push");
    CHECK(mimetic_stream_push_audio(NULL, audio, 10) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL stream");
    CHECK(mimetic_stream_push_audio(s, NULL, 10) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL samples");
    CHECK(mimetic_stream_push_audio(s, NULL, 0) == MIMETIC_OK, "zero samples is a no-op");
    CHECK(mimetic_stream_frames_ready(s, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL count");
    CHECK(mimetic_stream_frames_ready(NULL, &ready) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL stream");

    /* Real time: warm up, then count allocations and locks over many 10 ms pushes and pulls, with
     * one BLAS thread (the header's allocation-free, lock-free configuration) for the first half
     * and two for the second (reported, not asserted: that is OpenBLAS's own pool). */
    threads_before = mimetic_get_threads();
    mimetic_set_threads(1);
    CHECK(mimetic_get_threads() == 1, "threads");
    CHECK(mimetic_stream_push_audio(s, audio, 1600) == MIMETIC_OK, "push");
    frames += drain(s, frame, (size_t)info.output_size, &next, &final);
    before_alloc = allocations;
    locks = 0;
    counting = 1;
    for (i = 1600; i + 160 <= n - 8000; i += 160) {
        if (i == 16000) {
            counting = 0;
            single_thread_allocs = allocations - before_alloc;
            single_thread_locks = locks_outside_openblas(locks, &openblas_locks);
            mimetic_set_threads(2);
            before_alloc = allocations;
            locks = 0;
            counting = 1;
        }
        if (mimetic_stream_push_audio(s, audio + i, 160) != MIMETIC_OK) { counting = 0; CHECK(0, "push failed"); break; }
        frames += drain(s, frame, (size_t)info.output_size, &next, &final);
    }
    counting = 0;
    pull_locks = locks;
    mimetic_set_threads(threads_before);
    CHECK(single_thread_allocs == 0, "push/pull allocated %ld times with one BLAS thread", single_thread_allocs);
    CHECK(single_thread_locks == 0, "push/pull locked %ld times outside OpenBLAS with one BLAS thread", single_thread_locks);
    printf("one BLAS thread: %ld allocations, %ld mutex locks outside OpenBLAS (%ld in OpenBLAS's buffer pool) over %d push/pull cycles\n",
           single_thread_allocs, single_thread_locks, openblas_locks, (16000 - 1600) / 160);
    {
        long a;
        for (a = 0; a < single_thread_allocs && a < 8; ++a) {
            Dl_info di;
            if (dladdr(callers[a], &di) && di.dli_sname) fprintf(stderr, "  allocation from %s\n", di.dli_sname);
            else fprintf(stderr, "  allocation from %p\n", callers[a]);
        }
    }
    printf("two BLAS threads: %ld allocations, %ld mutex locks over %d push/pull cycles (OpenBLAS's thread pool)\n",
           allocations - before_alloc, pull_locks, (int)((n - 8000 - 16000) / 160));

    /* int16 push, then flush: every frame of the utterance comes out, the last marked final. */
    for (i = 0; i < 480; ++i) pcm[i] = (int16_t)(audio[n - 8000 + i] * 32767);
    CHECK(mimetic_stream_push_audio_i16(s, pcm, 480) == MIMETIC_OK, "push i16");
    CHECK(mimetic_stream_push_audio(s, audio + n - 8000 + 480, 8000 - 480) == MIMETIC_OK, "push tail");
    CHECK(mimetic_stream_flush(s) == MIMETIC_OK, "flush");
    CHECK(mimetic_stream_flush(s) == MIMETIC_OK, "second flush is harmless");
    CHECK(mimetic_stream_push_audio(s, audio, 160) == MIMETIC_ERROR_WRONG_STATE, "push after flush");
    CHECK(mimetic_stream_frames_ready(s, &ready) == MIMETIC_OK, "frames ready");
    CHECK(mimetic_stream_pull_frame(s, frame, 3, NULL) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "capacity too small");
    CHECK(strstr(mimetic_last_error(), "floats") != NULL, "names the size: %s", mimetic_last_error());
    frames += drain(s, frame, (size_t)info.output_size, &next, &final);
    expected = (int)(((double)((n - 400) / 320 + 1) / 50.0) * info.fps);
    CHECK(frames == expected, "%d frames, offline would give %d", frames, expected);
    CHECK(final, "last frame marked final");
    memset(&stats, 0, sizeof stats);
    CHECK(mimetic_stream_get_stats(s, &stats) == MIMETIC_ERROR_INVALID_ARGUMENT, "stats struct_size 0");
    stats.struct_size = sizeof stats;
    CHECK(mimetic_stream_get_stats(s, &stats) == MIMETIC_OK && stats.samples_pushed == (int64_t)n && stats.frames_emitted == frames, "stats");
    printf("frames %d, encoder %.3f s, decoder %.3f s CPU for %.2f s of audio\n", frames, stats.encoder_seconds, stats.decoder_seconds, n / 16000.0);

    /* The model cannot go while a stream uses it. */
    CHECK(mimetic_model_free(model) == MIMETIC_ERROR_WRONG_STATE, "free model with a live stream");
    CHECK(mimetic_model_get_info(model, &info) == MIMETIC_OK, "model still valid");

    /* Reset, snapshot/restore reproduce the same frames. */
    CHECK(mimetic_stream_reset(s) == MIMETIC_OK, "reset");
    CHECK(mimetic_stream_push_audio(s, audio, 16000) == MIMETIC_OK, "push after reset");
    snap = malloc(bytes);
    CHECK(mimetic_stream_snapshot(s, snap, bytes - 1) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "snapshot too small");
    CHECK(mimetic_stream_snapshot(s, snap, bytes) == MIMETIC_OK, "snapshot");
    {
        float *a = (float *)malloc((size_t)info.output_size * 4), *b = (float *)malloc((size_t)info.output_size * 4);
        CHECK(mimetic_stream_push_audio(s, audio + 16000, 8000) == MIMETIC_OK, "push");
        CHECK(mimetic_stream_pull_frame(s, a, (size_t)info.output_size, NULL) == MIMETIC_OK, "pull a");
        CHECK(mimetic_stream_restore(s, snap, bytes - 1) == MIMETIC_ERROR_INVALID_ARGUMENT, "restore wrong size");
        CHECK(mimetic_stream_restore(s, snap, bytes) == MIMETIC_OK, "restore");
        CHECK(mimetic_stream_push_audio(s, audio + 16000, 8000) == MIMETIC_OK, "push");
        CHECK(mimetic_stream_pull_frame(s, b, (size_t)info.output_size, NULL) == MIMETIC_OK, "pull b");
        CHECK(memcmp(a, b, (size_t)info.output_size * 4) == 0, "restored stream repeats its frames");
        ((unsigned char *)snap)[0] ^= 0xff;
        CHECK(mimetic_stream_restore(s, snap, bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "corrupt snapshot refused");
        free(a); free(b);
    }

    /* The other real-time calls allocate nothing either (the header lists them). */
    {
        float w3[3] = {0.2f, 0.3f, 0.5f};
        long before = allocations;
        counting = 1;
        mimetic_stream_reset(s);
        mimetic_stream_set_style_slot(s, 1);
        mimetic_stream_set_style_weights(s, w3, 3);
        mimetic_stream_snapshot(s, snap, bytes);
        mimetic_stream_restore(s, snap, bytes);
        mimetic_stream_flush(s);
        counting = 0;
        CHECK(allocations == before, "reset/style setters/snapshot/restore/flush allocated %ld times", allocations - before);
    }

    /* Styles at run time. */
    CHECK(mimetic_stream_set_style_slot(s, 1) == MIMETIC_OK, "slot 1");
    CHECK(mimetic_stream_set_style_slot(s, 99) == MIMETIC_ERROR_INVALID_ARGUMENT, "slot 99");
    {
        float w[3] = {0.5f, 0.25f, 0.25f}, bad[3] = {0.5f, NAN, 0};
        CHECK(mimetic_stream_set_style_weights(s, w, 3) == MIMETIC_OK, "weights: %s", mimetic_last_error());
        CHECK(mimetic_stream_set_style_weights(s, w, 2) == MIMETIC_ERROR_INVALID_ARGUMENT, "wrong weight count");
        CHECK(mimetic_stream_set_style_weights(s, bad, 3) == MIMETIC_ERROR_INVALID_ARGUMENT, "NaN weight");
        CHECK(mimetic_stream_set_style_weights(s, NULL, 3) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL weights");
    }
    code = (float *)malloc((size_t)info.style_dim * 4);
    for (i = 0; i < (size_t)info.style_dim; ++i) code[i] = 0.1f;
    CHECK(mimetic_stream_set_style_code(s, code, (size_t)info.style_dim) == MIMETIC_OK, "code");
    CHECK(mimetic_stream_set_style_code(s, code, 1) == MIMETIC_ERROR_INVALID_ARGUMENT, "short code");

    /* NaN / Inf / huge samples: repaired by default; rejected whole under the strict policy. */
    CHECK(mimetic_stream_reset(s) == MIMETIC_OK, "reset");
    audio[100] = NAN; audio[200] = INFINITY; audio[300] = 1e30f;
    CHECK(mimetic_stream_push_audio(s, audio, 16000) == MIMETIC_OK, "push with NaN");
    CHECK(mimetic_stream_flush(s) == MIMETIC_OK, "flush");
    next = 0;
    CHECK(drain(s, frame, (size_t)info.output_size, &next, &final) > 0, "frames after repaired samples");
    mimetic_stream_get_stats(s, &stats);
    CHECK(stats.samples_repaired == 3, "repaired %lld", (long long)stats.samples_repaired);
    mimetic_stream_params_init(&params);
    params.sample_policy = MIMETIC_SAMPLES_REJECT;
    params.sample_rate = 44100;
    CHECK(mimetic_stream_create(model, &params, NULL, 0, &s2) == MIMETIC_OK, "44.1 kHz strict stream: %s", mimetic_last_error());
    CHECK(mimetic_stream_push_audio(s2, audio, 1000) == MIMETIC_ERROR_INVALID_AUDIO, "NaN rejected");
    CHECK(strstr(mimetic_last_error(), "sample 100") != NULL, "message: %s", mimetic_last_error());
    mimetic_stream_get_stats(s2, &stats);
    CHECK(stats.samples_pushed == 0, "nothing consumed");
    mimetic_stream_free(s2);

    /* Template and Mimic's style from motion. */
    tmpl = (float *)malloc((size_t)info.output_size * 4);
    CHECK(mimetic_model_get_template(model, tmpl, (size_t)info.output_size) == MIMETIC_OK, "template: %s", mimetic_last_error());
    CHECK(mimetic_model_get_template(model, tmpl, 2) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "template capacity");
    CHECK(mimetic_style_from_motion(model, tmpl, 1, code, (size_t)info.style_dim) == MIMETIC_ERROR_INVALID_ARGUMENT, "not Mimic");
    {
        mimetic_model_info mi;
        float *motion, *mcode;
        memset(&mi, 0, sizeof mi);
        mi.struct_size = sizeof mi;
        mimetic_model_get_info(mimic, &mi);
        motion = (float *)calloc((size_t)mi.output_size * 30, 4);
        mcode = (float *)malloc((size_t)mi.style_dim * 4);
        for (i = 0; i < (size_t)mi.output_size * 30; ++i) motion[i] = (float)sin((double)i * 0.01) * 0.01f;
        CHECK(mimetic_style_from_motion(mimic, motion, 30, mcode, (size_t)mi.style_dim) == MIMETIC_OK, "style from motion: %s", mimetic_last_error());
        CHECK(mimetic_style_from_motion(mimic, motion, 0, mcode, (size_t)mi.style_dim) == MIMETIC_ERROR_INVALID_ARGUMENT, "zero frames");
        mimetic_stream_params_init(&params);
        CHECK(mimetic_stream_create(mimic, &params, NULL, 0, &s2) == MIMETIC_ERROR_INVALID_ARGUMENT, "Mimic without codes needs style_code");
        params.style_slot = -1;
        params.style_code = mcode;
        params.style_code_count = 3;
        CHECK(mimetic_stream_create(mimic, &params, NULL, 0, &s2) == MIMETIC_ERROR_INVALID_ARGUMENT, "style_code_count wrong");
        params.style_code_count = (size_t)mi.style_dim;
        CHECK(mimetic_stream_create(mimic, &params, NULL, 0, &s2) == MIMETIC_OK, "Mimic stream: %s", mimetic_last_error());
        CHECK(mimetic_stream_push_audio(s2, audio + 400, 20000) == MIMETIC_OK, "push");
        CHECK(mimetic_stream_flush(s2) == MIMETIC_OK, "flush");
        next = 0; final = 0;
        frames = drain(s2, frame, (size_t)mi.output_size, &next, &final);
        CHECK(frames == (int)((20000 - 400) / 320 + 2) / 2, "Mimic frames %d", frames);
        mimetic_stream_free(s2);
        free(motion); free(mcode);
    }

    /* The real-time encoder: frame by frame as audio arrives, allocation-free too. */
    if (argc > 3) {
        mimetic_model *rt = NULL;
        mimetic_model_info ri;
        float *rframe;
        double latency = 0;
        long rt_allocs, rt_locks, rt_openblas = 0;
        size_t k;
        CHECK(mimetic_model_load(argv[3], &rt) == MIMETIC_OK && rt, "load realtime: %s", mimetic_last_error());
        if (rt) {
            memset(&ri, 0, sizeof ri);
            ri.struct_size = sizeof ri;
            mimetic_model_get_info(rt, &ri);
            rframe = (float *)malloc((size_t)ri.output_size * sizeof *rframe);
            for (k = 0; k < n; ++k) if (!isfinite(audio[k]) || fabsf(audio[k]) > 1) audio[k] = 0;
            mimetic_stream_params_init(&params);
            CHECK(mimetic_stream_create(rt, &params, NULL, 0, &s2) == MIMETIC_OK, "realtime stream: %s", mimetic_last_error());
            CHECK(mimetic_stream_get_latency(s2, &latency) == MIMETIC_OK && latency > 0 && latency <= 0.05, "realtime latency %f", latency);
            printf("realtime encoder: latency %.1f ms\n", latency * 1000);
            /* Two BLAS threads: a real-time-encoder stream runs on its own kernels and never enters
             * OpenBLAS (no thread pool, no buffer-pool mutex), whatever mimetic_set_threads says. */
            threads_before = mimetic_get_threads();
            mimetic_set_threads(2);
            next = 0; final = 0; frames = 0;
            CHECK(mimetic_stream_push_audio(s2, audio, 1600) == MIMETIC_OK, "push");
            frames += drain(s2, rframe, (size_t)ri.output_size, &next, &final);
            before_alloc = allocations;
            locks = 0;
            counting = 1;
            for (i = 1600; i + 160 <= n; i += 160) {
                if (mimetic_stream_push_audio(s2, audio + i, 160) != MIMETIC_OK) { counting = 0; CHECK(0, "push failed"); break; }
                frames += drain(s2, rframe, (size_t)ri.output_size, &next, &final);
            }
            counting = 0;
            rt_allocs = allocations - before_alloc;
            rt_locks = locks_outside_openblas(locks, &rt_openblas);
            mimetic_set_threads(threads_before);
            CHECK(rt_allocs == 0, "realtime push/pull allocated %ld times", rt_allocs);
            CHECK(rt_locks == 0, "realtime push/pull locked %ld times outside OpenBLAS", rt_locks);
            CHECK(rt_openblas == 0, "realtime push/pull locked %ld times in OpenBLAS", rt_openblas);
            printf("realtime encoder, two BLAS threads: %ld allocations, %ld mutex locks outside OpenBLAS (%ld in OpenBLAS) over %d push/pull cycles, %d frames before the flush\n",
                   rt_allocs, rt_locks, rt_openblas, (int)((n - 1600) / 160), frames);
            CHECK(frames > 0, "frames come before the flush");
            CHECK(mimetic_stream_push_audio(s2, audio + i, n - i) == MIMETIC_OK, "push the rest");
            CHECK(mimetic_stream_flush(s2) == MIMETIC_OK, "flush");
            frames += drain(s2, rframe, (size_t)ri.output_size, &next, &final);
            CHECK(frames == (int)((long long)n * ri.fps / 16000), "realtime frames %d, expected floor(N fps / 16000) = %d",
                  frames, (int)((long long)n * ri.fps / 16000));
            mimetic_stream_free(s2);
            /* Weights instead of offsets (mimetic_stream_pull_weights), allocation- and lock-free too. */
            {
                enum { K = 8 };
                const char *names[K] = {"a", "b", "c", "d", "e", "f", "g", "h"};
                float *basis = (float *)malloc((size_t)K * (size_t)ri.output_size * sizeof(float)), weights[K], residual = -1;
                mimetic_retarget *rg = NULL;
                mimetic_stream *s3 = NULL;
                mimetic_frame_info wi;
                long w_allocs, w_locks, w_openblas = 0;
                int wframes = 0, c2;
                for (c2 = 0; c2 < K * ri.output_size; ++c2) basis[c2] = (float)sin(0.7 * c2) * ((c2 / ri.output_size) % 3 == 0 ? 0.f : 1.f);
                CHECK(mimetic_retarget_create(rt, basis, K, names, NULL, NULL, NULL, &rg) == MIMETIC_OK, "retarget: %s", mimetic_last_error());
                CHECK(mimetic_stream_create(rt, &params, NULL, 0, &s3) == MIMETIC_OK, "stream for weights");
                memset(&wi, 0, sizeof wi);
                wi.struct_size = sizeof wi;
                CHECK(mimetic_stream_push_audio(s3, audio, 1600) == MIMETIC_OK, "push");
                while (mimetic_stream_pull_weights(s3, rg, weights, K, &wi, &residual) == MIMETIC_OK) ++wframes;
                before_alloc = allocations;
                locks = 0;
                counting = 1;
                for (i = 1600; i + 160 <= n; i += 160) {
                    if (mimetic_stream_push_audio(s3, audio + i, 160) != MIMETIC_OK) break;
                    while (mimetic_stream_pull_weights(s3, rg, weights, K, &wi, &residual) == MIMETIC_OK) ++wframes;
                }
                counting = 0;
                w_allocs = allocations - before_alloc;
                w_locks = locks_outside_openblas(locks, &w_openblas);
                CHECK(w_allocs == 0 && w_locks == 0 && w_openblas == 0, "pull_weights allocated %ld times, locked %ld + %ld", w_allocs, w_locks, w_openblas);
                CHECK(wframes > 10 && residual >= 0 && residual <= 1.0001f, "weights frames %d, residual %g", wframes, residual);
                for (c2 = 0; c2 < K; ++c2) CHECK(isfinite(weights[c2]) && weights[c2] >= 0 && weights[c2] <= 1, "weight %d = %g", c2, weights[c2]);
                CHECK(weights[0] == 0 && weights[3] == 0 && weights[6] == 0, "empty shapes stay at 0");
                printf("weights from a stream: %d frames, %ld allocations, %ld locks; last residual %.3f\n", wframes, w_allocs, w_locks, residual);
                CHECK(mimetic_stream_pull_weights(s3, rg, weights, K - 1, &wi, NULL) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "capacity");
                CHECK(mimetic_stream_pull_weights(NULL, rg, weights, K, &wi, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL stream");
                CHECK(mimetic_stream_pull_weights(s3, NULL, weights, K, &wi, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL retarget");
                mimetic_stream_free(s3);
                mimetic_retarget_free(rg);
                free(basis);
            }
            /* Many streams at once (mimetic_stream_process_batch): each frame has the same bits as
             * the same stream alone, across two tiles of the shared product, with different styles,
             * audio and push sizes; allocation- and lock-free; errors leave the streams untouched. */
            {
                enum { N = 20 };
                mimetic_stream *alone[N], *batched[N], *other = NULL;
                float *fa = (float *)malloc((size_t)ri.output_size * sizeof(float));
                float *fb = (float *)malloc((size_t)ri.output_size * sizeof(float));
                mimetic_frame_info ia, ib;
                long b_allocs, b_locks, b_openblas = 0, compared = 0, differ = 0;
                size_t at[N], stop = n - 4000;
                int j;
                memset(&ia, 0, sizeof ia); ia.struct_size = sizeof ia;
                memset(&ib, 0, sizeof ib); ib.struct_size = sizeof ib;
                /* An adapted persona (style and motion-basis change) on two of the streams: the batch
                 * adds its basis change to the shared product's frame. */
                mimetic_persona *persona = NULL;
                {
                    mimetic_reference_clip clip;
                    mimetic_personalize_params pp;
                    size_t clip_frames = (size_t)ri.fps, c3;
                    float *clip_offsets = (float *)malloc(clip_frames * (size_t)ri.output_size * sizeof(float));
                    for (c3 = 0; c3 < clip_frames * (size_t)ri.output_size; ++c3) clip_offsets[c3] = 0.001f * (float)sin(0.37 * (double)c3);
                    memset(&clip, 0, sizeof clip);
                    clip.audio = audio;
                    clip.audio_samples = 16000;
                    clip.sample_rate = 16000;
                    clip.offsets = clip_offsets;
                    clip.frames = clip_frames;
                    mimetic_personalize_params_init(&pp);
                    pp.style_steps = 2;
                    pp.basis_steps = 2;
                    CHECK(mimetic_personalize(rt, &clip, 1, &pp, NULL, NULL, &persona) == MIMETIC_OK && mimetic_persona_has_basis(persona),
                          "a persona with a basis change: %s", mimetic_last_error());
                    free(clip_offsets);
                }
                for (j = 0; j < N; ++j) {
                    mimetic_stream_params_init(&params);
                    params.style_slot = j % ri.num_styles;
                    if (j == 3 || j == 17) params.persona = persona;
                    CHECK(mimetic_stream_create(rt, &params, NULL, 0, &alone[j]) == MIMETIC_OK, "alone %d", j);
                    CHECK(mimetic_stream_create(rt, &params, NULL, 0, &batched[j]) == MIMETIC_OK, "batched %d", j);
                    at[j] = (size_t)j * 97;
                }
                CHECK(mimetic_stream_process_batch(batched, 0) == MIMETIC_OK, "an empty batch");
                CHECK(mimetic_stream_process_batch(NULL, 2) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL array");
                {
                    mimetic_stream *twice[3];
                    twice[0] = batched[0]; twice[1] = batched[1]; twice[2] = batched[0];
                    CHECK(mimetic_stream_process_batch(twice, 3) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "twice"),
                          "a stream twice: %s", mimetic_last_error());
                    twice[2] = NULL;
                    CHECK(mimetic_stream_process_batch(twice, 3) == MIMETIC_ERROR_INVALID_ARGUMENT, "a NULL entry");
                    mimetic_stream_params_init(&params);
                    CHECK(mimetic_stream_create(model, &params, NULL, 0, &other) == MIMETIC_OK, "a stream of another model");
                    twice[2] = other;
                    CHECK(mimetic_stream_process_batch(twice, 3) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "another model"),
                          "another model: %s", mimetic_last_error());
                    CHECK(mimetic_stream_process_batch(twice, 2) == MIMETIC_OK, "the same two streams alone are a valid batch");
                    mimetic_stream_free(other);
                }
                before_alloc = allocations;
                locks = 0;
                while (1) {
                    int pushed = 0;
                    for (j = 0; j < N; ++j) {
                        size_t step = 80 + (size_t)(j % 5) * 70; /* 5..21 ms */
                        if (at[j] + step > stop) continue;
                        mimetic_stream_push_audio(alone[j], audio + at[j], step);
                        mimetic_stream_push_audio(batched[j], audio + at[j], step);
                        at[j] += step;
                        pushed = 1;
                    }
                    if (!pushed) break;
                    counting = 1;
                    if (mimetic_stream_process_batch(batched, N) != MIMETIC_OK) { counting = 0; CHECK(0, "batch: %s", mimetic_last_error()); break; }
                    counting = 0;
                    for (j = 0; j < N; ++j) {
                        while (mimetic_stream_pull_frame(alone[j], fa, (size_t)ri.output_size, &ia) == MIMETIC_OK) {
                            ++compared;
                            if (mimetic_stream_pull_frame(batched[j], fb, (size_t)ri.output_size, &ib) != MIMETIC_OK ||
                                ia.frame_index != ib.frame_index || memcmp(fa, fb, (size_t)ri.output_size * sizeof(float)) != 0) ++differ;
                        }
                        if (mimetic_stream_pull_frame(batched[j], fb, (size_t)ri.output_size, &ib) != MIMETIC_ERROR_NOT_READY) ++differ;
                    }
                }
                b_allocs = allocations - before_alloc;
                b_locks = locks_outside_openblas(locks, &b_openblas);
                for (j = 0; j < N; ++j) {
                    mimetic_stream_flush(alone[j]);
                    mimetic_stream_flush(batched[j]);
                }
                CHECK(mimetic_stream_process_batch(batched, N) == MIMETIC_OK, "batch after the flush");
                for (j = 0; j < N; ++j) {
                    int32_t complete = 0;
                    while (mimetic_stream_pull_frame(alone[j], fa, (size_t)ri.output_size, &ia) == MIMETIC_OK) {
                        ++compared;
                        if (mimetic_stream_pull_frame(batched[j], fb, (size_t)ri.output_size, &ib) != MIMETIC_OK || ia.frame_index != ib.frame_index ||
                            ia.is_final != ib.is_final || memcmp(fa, fb, (size_t)ri.output_size * sizeof(float)) != 0) ++differ;
                    }
                    CHECK(mimetic_stream_is_complete(batched[j], &complete) == MIMETIC_OK && complete, "batched stream %d complete", j);
                    mimetic_stream_free(alone[j]);
                    mimetic_stream_free(batched[j]);
                }
                CHECK(differ == 0, "%ld of %ld batched frames differ from the same stream alone", differ, compared);
                CHECK(compared > N * 20, "frames compared: %ld", compared);
                CHECK(b_allocs == 0 && b_locks == 0 && b_openblas == 0, "process_batch allocated %ld times, locked %ld + %ld", b_allocs, b_locks, b_openblas);
                printf("batch of %d streams (two with an adapted persona): %ld frames equal to each stream alone, bit for bit; %ld allocations, %ld locks\n",
                       N, compared - differ, b_allocs, b_locks + b_openblas);
                mimetic_persona_free(persona);
                free(fa);
                free(fb);
            }
            CHECK(mimetic_model_free(rt) == MIMETIC_OK, "free realtime model");
            free(rframe);
        }
    }

    mimetic_stream_free(s);
    mimetic_stream_free(NULL);
    CHECK(mimetic_model_free(model) == MIMETIC_OK, "free model after its streams");
    CHECK(mimetic_model_free(mimic) == MIMETIC_OK, "free mimic");
    mimetic_log_set(NULL, NULL);
    free(buffer); free(snap); free(audio); free(frame); free(tmpl); free(code);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
