/* Retargeting C ABI test (C99, -Wall -Wextra -Werror -pedantic): a basis file on its model, names,
 * the fit of the model's own frames, the controls, clone/reset, offsets from weights, and every
 * error path. Usage: test_retarget_abi MODEL BASIS WAV OTHER_TOPOLOGY_MODEL */
#include "mimetic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { \
    ++checks; \
    if (!(cond)) { ++failures; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

int main(int argc, char **argv) {
    mimetic_model *m = NULL, *other = NULL;
    mimetic_model_info info;
    mimetic_retarget *r = NULL, *c = NULL, *bad = NULL;
    mimetic_retarget_params p;
    mimetic_audio wav;
    mimetic_animate_params ap;
    size_t frames = 0, t;
    float *all, w[64], w2[64], res = -1, *back;
    int k, jaw = -1, i;
    double worst = 0, num = 0, den = 0;
    if (argc < 5) { fprintf(stderr, "usage: %s MODEL BASIS WAV OTHER_MODEL\n", argv[0]); return 2; }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    memset(&wav, 0, sizeof wav);
    wav.struct_size = sizeof wav;
    CHECK(mimetic_model_load(argv[1], &m) == MIMETIC_OK && mimetic_model_get_info(m, &info) == MIMETIC_OK, "model");
    CHECK(mimetic_model_load(argv[4], &other) == MIMETIC_OK, "other model");
    mimetic_retarget_params_init(&p);
    CHECK(p.struct_size == sizeof p && p.strength == 1 && p.smoothing_ms == 0 && fabsf(p.ridge - 1e-4f) < 1e-9f, "params defaults");
    CHECK(mimetic_retarget_load(m, argv[2], NULL, &r) == MIMETIC_OK && r, "load: %s", mimetic_last_error());
    k = mimetic_retarget_count(r);
    CHECK(k == 52, "ARKit-52: %d shapes", k);
    for (i = 0; i < k; ++i) if (strcmp(mimetic_retarget_name(r, i), "jawOpen") == 0) jaw = i;
    CHECK(jaw == 17, "jawOpen at %d", jaw);
    CHECK(mimetic_retarget_name(r, k) == NULL && strstr(mimetic_last_error(), "out of range"), "name out of range");

    /* The model's own frames fit (the whole utterance's energy-weighted residual). */
    CHECK(mimetic_wav_read(argv[3], 0, &wav) == MIMETIC_OK, "wav");
    mimetic_animate_params_init(&ap);
    ap.sample_rate = wav.sample_rate;
    mimetic_animate_frame_count(m, wav.n_samples, wav.sample_rate, &frames);
    all = (float *)malloc(frames * (size_t)info.output_size * sizeof(float));
    back = (float *)malloc((size_t)info.output_size * sizeof(float));
    CHECK(mimetic_animate(m, wav.samples, wav.n_samples, &ap, all, frames * (size_t)info.output_size, &frames) == MIMETIC_OK, "animate");
    for (t = 0; t < frames; ++t) {
        const float *x = all + t * (size_t)info.output_size;
        double xx = 0;
        size_t q;
        CHECK(mimetic_retarget_apply(r, x, (size_t)info.output_size, w, 64, &res) == MIMETIC_OK, "apply %zu: %s", t, mimetic_last_error());
        for (q = 0; q < (size_t)info.output_size; ++q) xx += (double)x[q] * x[q];
        num += (double)res * res * xx; den += xx;
        if (w[jaw] > worst) worst = w[jaw];
        for (i = 0; i < k; ++i) CHECK(w[i] >= 0 && w[i] <= 1, "weight %d = %g out of [0, 1]", i, w[i]);
    }
    printf("ARKit-52 on %zu frames: residual %.4f (energy-weighted), max jawOpen %.3f\n", frames, sqrt(num / den), worst);
    CHECK(sqrt(num / den) < 0.05, "residual %.4f", sqrt(num / den));
    /* Lip closures of the animation: from the motion, and at forced-aligned m/b/p spans (pocketsphinx's
     * for bumblebees.wav; M and B of "bumblebees" touch: one closure), with every error path. */
    {
        const double spans[] = { 0.30, 0.40, 0.73, 0.79, 0.87, 1.00, 1.00, 1.06, 1.17, 1.22, 1.44, 1.49, 1.84, 1.92, 2.51, 2.58 };
        const double backwards[] = { 0.5, 0.4 }, enormous[] = { 2.5, 9.5e50, 1e300, 1e308 };
        int32_t events[256];
        size_t n = 99, motion = 0;
        CHECK(mimetic_closure_events(m, all, frames, NULL, 0, events, 256, &motion) == MIMETIC_OK, "motion events: %s", mimetic_last_error());
        CHECK(motion >= 5 && motion <= 12, "%zu closures in the motion", motion);
        CHECK(mimetic_closure_events(m, all, frames, spans, 8, events, 256, &n) == MIMETIC_OK, "aligned events: %s", mimetic_last_error());
        CHECK(n == 7, "%zu closures at 8 aligned spans (7 closures)", n);
        for (t = 0; t < n; ++t) CHECK(events[t] >= 0 && (size_t)events[t] < frames && (t == 0 || events[t] > events[t - 1]), "event %d", (int)events[t]);
        CHECK(events[0] >= 8 && events[0] <= 12, "the first closure (\"pair\", 0.30-0.40 s) at frame %d", (int)events[0]);
        n = 99;
        CHECK(mimetic_closure_events(m, all, frames, spans, 8, events, 3, &n) == MIMETIC_ERROR_BUFFER_TOO_SMALL && n == 7, "capacity 3: %zu", n);
        CHECK(mimetic_closure_events(m, all, frames, backwards, 1, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT &&
              strstr(mimetic_last_error(), "start <= end") != NULL, "a backwards span: %s", mimetic_last_error());
        CHECK(mimetic_closure_events(m, all, frames, enormous, 2, events, 256, &n) == MIMETIC_OK && n == 1 && (size_t)events[0] < frames,
              "spans ending at 9.5e50 s and starting at 1e300 s: %zu events (%s)", n, mimetic_last_error());
        CHECK(mimetic_closure_events(NULL, all, frames, NULL, 0, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
        CHECK(mimetic_closure_events(m, NULL, frames, NULL, 0, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL offsets");
        CHECK(mimetic_closure_events(m, all, frames, NULL, 0, events, 256, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out_count");
        CHECK(mimetic_closure_events(m, all, frames, NULL, 3, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL phones, n_phones 3");
        CHECK(mimetic_closure_events(m, all, 0, NULL, 0, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT, "0 frames");
        CHECK(mimetic_closure_events(m, all, (size_t)1 << 62, NULL, 0, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT, "huge frames");
        const float saved = all[5];
        all[5] = NAN;
        CHECK(mimetic_closure_events(m, all, frames, NULL, 0, events, 256, &n) == MIMETIC_ERROR_INVALID_ARGUMENT &&
              strstr(mimetic_last_error(), "offsets[5]") != NULL, "NaN offsets: %s", mimetic_last_error());
        all[5] = saved;
    }
    /* Offsets from weights reproduce the fit: residual of the reconstruction equals the one reported. */
    CHECK(mimetic_retarget_offsets(r, w, (size_t)k, back, (size_t)info.output_size) == MIMETIC_OK, "offsets");
    CHECK(mimetic_retarget_offsets(r, w, (size_t)k - 1, back, (size_t)info.output_size) == MIMETIC_ERROR_INVALID_ARGUMENT, "offsets n");
    CHECK(mimetic_retarget_offsets(r, w, (size_t)k, back, 10) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "offsets capacity");

    /* Clone: same basis, fresh state, so the same frame gives the same weights as a reset original. */
    CHECK(mimetic_retarget_clone(r, &c) == MIMETIC_OK && c, "clone");
    mimetic_retarget_reset(r);
    CHECK(mimetic_retarget_apply(r, all, (size_t)info.output_size, w, 64, NULL) == MIMETIC_OK, "apply");
    CHECK(mimetic_retarget_apply(c, all, (size_t)info.output_size, w2, 64, NULL) == MIMETIC_OK, "apply clone");
    CHECK(memcmp(w, w2, (size_t)k * sizeof(float)) == 0, "clone equals original after reset");
    /* Controls: a channel's gain and clamp. */
    CHECK(mimetic_retarget_set_channel(c, jaw, 2.0f, 0.5f, 0.0f, 0.75f) == MIMETIC_OK, "set_channel");
    mimetic_retarget_reset(c);
    CHECK(mimetic_retarget_apply(c, all + 40 * (size_t)info.output_size, (size_t)info.output_size, w2, 64, NULL) == MIMETIC_OK, "apply");
    CHECK(w2[jaw] == 0.75f, "jaw gain 2 + 0.5 clamped to 0.75: %g", w2[jaw]);
    CHECK(mimetic_retarget_set_channel(c, jaw, 1.0f, 0.0f, 1.0f, 0.0f) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "min <= max"), "clamp order");
    CHECK(mimetic_retarget_set_channel(c, jaw, NAN, 0.0f, 0.0f, 1.0f) == MIMETIC_ERROR_INVALID_ARGUMENT, "NaN gain");
    CHECK(mimetic_retarget_set_channel(c, 99, 1.0f, 0.0f, 0.0f, 1.0f) == MIMETIC_ERROR_INVALID_ARGUMENT, "channel out of range");

    /* Errors. */
    all[5] = NAN;
    memcpy(w2, w, sizeof w2);
    CHECK(mimetic_retarget_apply(r, all, (size_t)info.output_size, w, 64, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "offsets[5]"), "NaN offsets");
    CHECK(memcmp(w, w2, sizeof w2) == 0, "weights untouched on refusal");
    CHECK(mimetic_retarget_apply(r, all + info.output_size, (size_t)info.output_size - 1, w, 64, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "wrong n");
    CHECK(mimetic_retarget_apply(r, all + info.output_size, (size_t)info.output_size, w, 51, NULL) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "capacity");
    CHECK(mimetic_retarget_apply(NULL, all, 1, w, 64, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL retarget");
    CHECK(mimetic_retarget_load(other, argv[2], NULL, &bad) == MIMETIC_ERROR_INVALID_MODEL && !bad && strstr(mimetic_last_error(), "topology"),
          "wrong topology: %s", mimetic_last_error());
    CHECK(mimetic_retarget_load(m, "/nonexistent/basis.safetensors", NULL, &bad) == MIMETIC_ERROR_IO, "missing file");
    CHECK(mimetic_retarget_load(m, argv[1], NULL, &bad) == MIMETIC_ERROR_INVALID_MODEL && strstr(mimetic_last_error(), "basis"),
          "a model file is not a basis: %s", mimetic_last_error());
    p.strength = 9;
    CHECK(mimetic_retarget_load(m, argv[2], &p, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "strength"), "strength 9");
    mimetic_retarget_params_init(&p);
    p.struct_size = 4;
    CHECK(mimetic_retarget_load(m, argv[2], &p, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "mimetic_retarget_params_init"), "struct_size");
    {
        const char *names[2] = {"a", "a"}, *with_null[2] = {"a", NULL};
        float *basis2 = (float *)calloc(2 * (size_t)info.output_size, sizeof(float)), lower[2] = {0, 2}, upper[2] = {1, 1};
        CHECK(mimetic_retarget_create(m, basis2, 2, names, NULL, NULL, NULL, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "distinct"), "duplicate names");
        CHECK(mimetic_retarget_create(m, basis2, 2, with_null, NULL, NULL, NULL, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "names[1]"), "NULL name");
        names[1] = "b";
        CHECK(mimetic_retarget_create(m, basis2, 2, names, lower, upper, NULL, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "lower <= upper"), "bounds");
        CHECK(mimetic_retarget_create(m, basis2, 0, names, NULL, NULL, NULL, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT, "k = 0");
        basis2[3] = INFINITY;
        CHECK(mimetic_retarget_create(m, basis2, 2, names, NULL, NULL, NULL, &bad) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "not finite"), "Inf in basis");
        free(basis2);
    }
    /* Exports: the whole track as a GLB and a Live Link CSV (their contents are checked against real
     * loaders in tools/tests/test_exports.py and bindings/python/tests/test_retarget.py); the errors write nothing. */
    {
        float *track = (float *)malloc(frames * (size_t)k * sizeof(float));
        char path[96], csv_path[96], header[4] = {0};
        FILE *f;
        snprintf(path, sizeof path, "/tmp/mimetic_export_test_%ld_%ld.glb", (long)time(NULL), (long)clock());
        snprintf(csv_path, sizeof csv_path, "%.*s.csv", (int)(strlen(path) - 4), path);
        CHECK(mimetic_animate(m, wav.samples, wav.n_samples, &ap, all, frames * (size_t)info.output_size, &frames) == MIMETIC_OK,
              "animate again (the error checks above put a NaN in frame 0)");
        mimetic_retarget_reset(r);
        for (t = 0; t < frames; ++t) mimetic_retarget_apply(r, all + t * (size_t)info.output_size, (size_t)info.output_size, track + t * (size_t)k, (size_t)k, NULL);
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_GLB, path) == MIMETIC_OK, "export glb: %s", mimetic_last_error());
        f = fopen(path, "rb");
        CHECK(f && fread(header, 1, 4, f) == 4 && memcmp(header, "glTF", 4) == 0, "a GLB starts with glTF");
        if (f) fclose(f);
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_ARKIT_CSV, csv_path) == MIMETIC_OK, "export csv: %s", mimetic_last_error());
        f = fopen(csv_path, "rb");
        {
            char line[64] = {0};
            size_t rows = 0;
            int ch;
            CHECK(f && fgets(line, sizeof line, f) && strncmp(line, "Timecode,BlendShapeCount,EyeBlinkLeft", 37) == 0, "CSV header: %s", line);
            if (f) rewind(f);
            while (f && (ch = fgetc(f)) != EOF) if (ch == '\n') ++rows;
            CHECK(rows == frames + 1, "CSV: %zu lines for a header and %zu frames", rows, frames);
        }
        if (f) fclose(f);
        remove(path); remove(csv_path);
        CHECK(mimetic_export_weights(NULL, r, track, frames, MIMETIC_EXPORT_GLB, path) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
        CHECK(mimetic_export_weights(m, NULL, track, frames, MIMETIC_EXPORT_GLB, path) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL retarget");
        CHECK(mimetic_export_weights(m, r, NULL, frames, MIMETIC_EXPORT_GLB, path) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL weights");
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_GLB, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL path");
        CHECK(mimetic_export_weights(m, r, track, 0, MIMETIC_EXPORT_GLB, path) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "at least one frame"), "0 frames");
        CHECK(mimetic_export_weights(m, r, track, frames, 7, path) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "format 7"), "format 7");
        CHECK(mimetic_export_weights(m, r, track, frames, -1, path) == MIMETIC_ERROR_INVALID_ARGUMENT, "format -1");
        CHECK(mimetic_export_weights(m, r, track, (size_t)-1, MIMETIC_EXPORT_GLB, path) == MIMETIC_ERROR_INVALID_ARGUMENT, "SIZE_MAX frames");
        track[3 * (size_t)k + 17] = NAN;
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_ARKIT_CSV, csv_path) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "frame 3"), "NaN weight: %s", mimetic_last_error());
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_GLB, "/nonexistent-dir/x.glb") == MIMETIC_ERROR_INVALID_ARGUMENT, "NaN before I/O");
        track[3 * (size_t)k + 17] = 0;
        CHECK(mimetic_export_weights(m, r, track, frames, MIMETIC_EXPORT_GLB, "/nonexistent-dir/x.glb") == MIMETIC_ERROR_IO && strstr(mimetic_last_error(), "cannot write"), "unwritable: %s", mimetic_last_error());
        f = fopen(path, "rb");
        CHECK(f == NULL, "a refused export wrote nothing");
        if (f) fclose(f);
        f = fopen(csv_path, "rb");
        CHECK(f == NULL, "a refused CSV export wrote nothing");
        if (f) fclose(f);
        free(track);
    }
    mimetic_retarget_free(NULL);
    mimetic_retarget_free(c);
    mimetic_retarget_free(r);
    mimetic_audio_free(&wav);
    free(all); free(back);
    mimetic_model_free(m);
    mimetic_model_free(other);
    printf("test_retarget_abi: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
