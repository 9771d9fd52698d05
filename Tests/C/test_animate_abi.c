/* Whole-utterance and WAV C ABI test (C99, -Wall -Wextra -Werror -pedantic): mimetic_animate gives
 * the numbers `mimetic animate --offsets` writes, bit for bit, for every model given (a slot, a slot
 * blend and a persona), with the audio read at the file's rate or at the model's; frame counts;
 * buffer sizing; mimetic_wav_read from a path and from memory; every error path.
 * Usage: test_animate_abi MIMETIC_CLI WAV MODEL... */
#include "mimetic.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { \
    ++checks; \
    if (!(cond)) { ++failures; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static const char *tmpdir(void) { const char *t = getenv("TMPDIR"); return t && *t ? t : "/tmp"; }

/* A little-endian float32 .npy as written by the CLI: returns the data (caller frees), its count. */
static float *read_npy(const char *path, size_t *count) {
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    long size;
    size_t header, n;
    float *data;
    *count = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6) != 0 || head[6] != 1) { fclose(f); return NULL; }
    header = (size_t)head[8] | ((size_t)head[9] << 8);
    n = ((size_t)size - 10 - header) / 4;
    data = (float *)malloc(n * 4 + 4);
    fseek(f, (long)(10 + header), SEEK_SET);
    if (fread(data, 4, n, f) != n) { fclose(f); free(data); return NULL; }
    fclose(f);
    *count = n;
    return data;
}

/* Writes frames x width float32 as .npy (what --style-ref reads). */
static void write_npy(const char *path, const float *data, size_t frames, size_t width) {
    char header[128];
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    FILE *f = fopen(path, "wb");
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", frames, width);
    while ((10 + len + 1) % 64 != 0) header[len++] = ' ';
    header[len++] = '\n';
    head[8] = (unsigned char)len;
    fwrite(head, 1, 10, f);
    fwrite(header, 1, (size_t)len, f);
    fwrite(data, 4, frames * width, f);
    fclose(f);
}

/* Runs the CLI; returns its exit status. */
static int run(const char *command) {
    int rc = system(command);
    if (rc != 0) fprintf(stderr, "command failed (%d): %s\n", rc, command);
    return rc;
}

/* mimetic_animate over `audio` with `params`; the frames (caller frees) and their count. */
static float *animate(mimetic_model *m, const mimetic_audio *audio, mimetic_animate_params *p, size_t size, size_t *frames) {
    size_t expected = 0;
    float *out;
    p->sample_rate = audio->sample_rate;
    CHECK(mimetic_animate_frame_count(m, audio->n_samples, audio->sample_rate, &expected) == MIMETIC_OK, "frame count: %s", mimetic_last_error());
    out = (float *)malloc(expected * size * 4 + 4);
    *frames = 0;
    CHECK(mimetic_animate(m, audio->samples, audio->n_samples, p, out, expected * size, frames) == MIMETIC_OK,
          "animate: %s", mimetic_last_error());
    CHECK(*frames == expected, "animate made %zu frames, frame_count said %zu", *frames, expected);
    return out;
}

/* Bitwise equality of two frame arrays (memcmp: -0 and 0 differ, as they would in a file). */
static void expect_same(const float *a, size_t na, const float *b, size_t nb, const char *what) {
    size_t i, diff = 0;
    CHECK(a != NULL && b != NULL && na == nb, "%s: %zu vs %zu floats", what, na, nb);
    if (!a || !b || na != nb) return;
    for (i = 0; i < na; ++i) diff += memcmp(a + i, b + i, 4) != 0;
    CHECK(diff == 0, "%s: %zu of %zu floats differ from the CLI (first diff at %g vs %g)", what, diff, na, a[0], b[0]);
}

static void test_model(const char *cli, const char *wav, const char *model_path, int index) {
    mimetic_model *m = NULL;
    mimetic_model_info info;
    mimetic_audio file_rate, model_rate;
    mimetic_animate_params p;
    mimetic_persona *persona = NULL;
    char command[4096], npy[1024], persona_path[1024];
    float *cli_frames, *a, *b, *weights, *style, *tiny, nan_samples[4], *style_code = NULL;
    size_t cli_count, fa, fb, frames, i, needed;
    int k;

    CHECK(mimetic_model_load(model_path, &m) == MIMETIC_OK, "load %s: %s", model_path, mimetic_last_error());
    if (!m) return;
    info.struct_size = sizeof info;
    CHECK(mimetic_model_get_info(m, &info) == MIMETIC_OK, "info");
    CHECK(info.latency_tunable == (info.encoder_lookahead_ms == 0), "%s: latency_tunable %d, encoder_lookahead_ms %d",
          model_path, info.latency_tunable, info.encoder_lookahead_ms);
    file_rate.struct_size = model_rate.struct_size = sizeof(mimetic_audio);
    CHECK(mimetic_wav_read(wav, 0, &file_rate) == MIMETIC_OK, "wav_read: %s", mimetic_last_error());
    CHECK(mimetic_wav_read(wav, info.sample_rate, &model_rate) == MIMETIC_OK, "wav_read at the model's rate: %s", mimetic_last_error());
    CHECK(model_rate.sample_rate == info.sample_rate && model_rate.file_sample_rate == file_rate.sample_rate, "rates");
    mimetic_animate_params_init(&p);
    CHECK(p.struct_size == sizeof p && p.sample_rate == 16000 && p.style_slot == 0 && !p.persona, "animate params defaults");

    /* 1. The default style (slot 0); for a Mimic model without shipped codes, a code from motion
     *    (the CLI's --style-ref against mimetic_style_from_motion). */
    snprintf(npy, sizeof npy, "%s/mimetic_animate_%d_slot.npy", tmpdir(), index);
    if (info.family == MIMETIC_FAMILY_MIMIC && info.num_styles == 0) {
        size_t ref_frames = 60, j;
        float *motion = (float *)malloc(ref_frames * (size_t)info.output_size * 4), *code = (float *)malloc((size_t)info.style_dim * 4);
        char ref[1024];
        for (j = 0; j < ref_frames * (size_t)info.output_size; ++j) motion[j] = 0.002f * (float)sin(0.37 * (double)j);
        snprintf(ref, sizeof ref, "%s/mimetic_animate_%d_ref.npy", tmpdir(), index);
        write_npy(ref, motion, ref_frames, (size_t)info.output_size);
        CHECK(mimetic_style_from_motion(m, motion, ref_frames, code, (size_t)info.style_dim) == MIMETIC_OK, "style from motion: %s", mimetic_last_error());
        style_code = code;
        p.style_slot = -1; p.style_code = code; p.style_code_count = (size_t)info.style_dim;
        snprintf(command, sizeof command, "'%s' animate --quiet --offsets --model '%s' --audio '%s' --style-ref '%s' --style-ref-kind offsets --out '%s' 2>/dev/null",
                 cli, model_path, wav, ref, npy);
        free(motion);
    } else {
        snprintf(command, sizeof command, "'%s' animate --quiet --offsets --model '%s' --audio '%s' --out '%s' 2>/dev/null", cli, model_path, wav, npy);
    }
    CHECK(run(command) == 0, "cli");
    cli_frames = read_npy(npy, &cli_count);
    a = animate(m, &file_rate, &p, (size_t)info.output_size, &fa);
    b = animate(m, &model_rate, &p, (size_t)info.output_size, &fb);
    expect_same(a, fa * (size_t)info.output_size, cli_frames, cli_count, "slot 0, file's rate");
    expect_same(b, fb * (size_t)info.output_size, cli_frames, cli_count, "slot 0, model's rate");
    for (i = 0; a && i < fa * (size_t)info.output_size; ++i) if (!isfinite(a[i])) { CHECK(0, "non-finite output"); break; }
    free(a); free(b); free(cli_frames); free(style_code);
    mimetic_animate_params_init(&p);

    /* 2. A blend of slots. */
    if (info.num_styles >= 2) {
        char list[1024] = "";
        weights = (float *)calloc((size_t)info.num_styles, 4);
        weights[0] = 0.25f; weights[info.num_styles - 1] = 0.75f;
        for (k = 0; k < info.num_styles; ++k)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%g", k ? "," : "", weights[k]);
        snprintf(npy, sizeof npy, "%s/mimetic_animate_%d_blend.npy", tmpdir(), index);
        snprintf(command, sizeof command, "'%s' animate --quiet --offsets --model '%s' --audio '%s' --style-weights %s --out '%s' 2>/dev/null",
                 cli, model_path, wav, list, npy);
        CHECK(run(command) == 0, "cli blend");
        cli_frames = read_npy(npy, &cli_count);
        p.style_slot = -1; p.style_weights = weights; p.style_weights_count = (size_t)info.num_styles;
        a = animate(m, &file_rate, &p, (size_t)info.output_size, &fa);
        expect_same(a, fa * (size_t)info.output_size, cli_frames, cli_count, "style blend");
        free(a); free(cli_frames);
        mimetic_animate_params_init(&p);

        /* 3. A persona (a blend of styles as a file), through the CLI's --persona. */
        style = (float *)malloc((size_t)info.style_dim * 4);
        CHECK(mimetic_persona_from_style(m, NULL, 0, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "persona from NULL style");
        for (k = 0; k < info.style_dim; ++k) style[k] = 0.01f * (float)(k % 7) - 0.02f;
        CHECK(mimetic_persona_from_style(m, style, (size_t)info.style_dim, &persona) == MIMETIC_OK, "persona: %s", mimetic_last_error());
        snprintf(persona_path, sizeof persona_path, "%s/mimetic_animate_%d.persona.safetensors", tmpdir(), index);
        CHECK(mimetic_persona_save(persona, persona_path) == MIMETIC_OK, "persona save: %s", mimetic_last_error());
        snprintf(npy, sizeof npy, "%s/mimetic_animate_%d_persona.npy", tmpdir(), index);
        snprintf(command, sizeof command, "'%s' animate --quiet --offsets --model '%s' --audio '%s' --persona '%s' --out '%s' 2>/dev/null",
                 cli, model_path, wav, persona_path, npy);
        CHECK(run(command) == 0, "cli persona");
        cli_frames = read_npy(npy, &cli_count);
        p.persona = persona;
        a = animate(m, &file_rate, &p, (size_t)info.output_size, &fa);
        expect_same(a, fa * (size_t)info.output_size, cli_frames, cli_count, "persona");
        free(a); free(cli_frames); free(style); free(weights);
        mimetic_animate_params_init(&p);
    }

    /* Sizing: too small a buffer runs nothing and says what is needed. */
    needed = 0;
    CHECK(mimetic_animate_frame_count(m, model_rate.n_samples, info.sample_rate, &needed) == MIMETIC_OK && needed > 0, "count");
    tiny = (float *)malloc(4 * (size_t)info.output_size);
    frames = 0;
    p.sample_rate = info.sample_rate;
    CHECK(mimetic_animate(m, model_rate.samples, model_rate.n_samples, &p, tiny, (size_t)info.output_size, &frames) == MIMETIC_ERROR_BUFFER_TOO_SMALL
          && frames == needed, "too small: frames %zu, needed %zu", frames, needed);
    CHECK(strstr(mimetic_last_error(), "need") != NULL, "too-small message: %s", mimetic_last_error());
    /* Too short for one frame: count 0, and animate refuses with a message. */
    CHECK(mimetic_animate_frame_count(m, 10, 16000, &frames) == MIMETIC_OK && frames == 0, "10 samples make %zu frames", frames);
    CHECK(mimetic_animate(m, model_rate.samples, 10, &p, tiny, (size_t)info.output_size, NULL) == MIMETIC_ERROR_INVALID_AUDIO
          && strstr(mimetic_last_error(), "too short"), "too short: %s", mimetic_last_error());
    /* NaN is refused, not repaired. */
    memcpy(nan_samples, model_rate.samples, sizeof nan_samples);
    model_rate.samples[100] = NAN;
    CHECK(mimetic_animate(m, model_rate.samples, model_rate.n_samples, &p, tiny, (size_t)-1 / 8, NULL) == MIMETIC_ERROR_INVALID_AUDIO
          && strstr(mimetic_last_error(), "sample 100"), "NaN: %s", mimetic_last_error());
    model_rate.samples[100] = 0;
    /* Arguments. */
    CHECK(mimetic_animate(NULL, model_rate.samples, 100, &p, tiny, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
    CHECK(mimetic_animate(m, NULL, 100, &p, tiny, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL samples");
    CHECK(mimetic_animate(m, model_rate.samples, 100, NULL, tiny, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL params");
    CHECK(mimetic_animate(m, model_rate.samples, 100, &p, NULL, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out");
    CHECK(mimetic_animate(m, model_rate.samples, (size_t)1 << 62, &p, tiny, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "huge n");
    CHECK(mimetic_animate_frame_count(m, 100, 16000, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out_frames");
    CHECK(mimetic_animate_frame_count(m, 100, 500, &frames) == MIMETIC_ERROR_INVALID_AUDIO, "rate 500");
    p.struct_size = 3;
    CHECK(mimetic_animate(m, model_rate.samples, model_rate.n_samples, &p, tiny, 1, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT
          && strstr(mimetic_last_error(), "mimetic_animate_params_init"), "struct_size 3: %s", mimetic_last_error());
    mimetic_animate_params_init(&p);
    p.sample_rate = info.sample_rate;
    p.style_slot = info.num_styles + 5;
    CHECK(mimetic_animate(m, model_rate.samples, model_rate.n_samples, &p, tiny, (size_t)-1 / 8, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT,
          "slot out of range: %s", mimetic_last_error());
    p.style_slot = -1;
    CHECK(mimetic_animate(m, model_rate.samples, model_rate.n_samples, &p, tiny, (size_t)-1 / 8, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT
          && strstr(mimetic_last_error(), "neither"), "no style: %s", mimetic_last_error());
    free(tiny);
    mimetic_audio_free(&file_rate);
    mimetic_audio_free(&model_rate);
    CHECK(file_rate.samples == NULL && file_rate.n_samples == 0, "freed audio is zeroed");
    mimetic_audio_free(&file_rate);   /* twice: a no-op */
    mimetic_persona_free(persona);
    CHECK(mimetic_model_free(m) == MIMETIC_OK, "free model");
}

/* A 22050 Hz stereo 16-bit WAV in memory: 0.5 s of a chirp on the left, its half on the right. */
static unsigned char *stereo_wav(size_t *size) {
    const uint32_t rate = 22050, frames = 11025, data = frames * 4;
    unsigned char *w = (unsigned char *)malloc(44 + data);
    uint32_t i;
#define PUT32(o, v) do { w[o] = (unsigned char)(v); w[o + 1] = (unsigned char)((v) >> 8); w[o + 2] = (unsigned char)((v) >> 16); w[o + 3] = (unsigned char)((v) >> 24); } while (0)
#define PUT16(o, v) do { w[o] = (unsigned char)(v); w[o + 1] = (unsigned char)((v) >> 8); } while (0)
    memcpy(w, "RIFF", 4); PUT32(4, 36 + data); memcpy(w + 8, "WAVEfmt ", 8); PUT32(16, 16);
    PUT16(20, 1); PUT16(22, 2); PUT32(24, rate); PUT32(28, rate * 4); PUT16(32, 4); PUT16(34, 16);
    memcpy(w + 36, "data", 4); PUT32(40, data);
    for (i = 0; i < frames; ++i) {
        double t = (double)i / rate;
        int16_t l = (int16_t)(12000 * sin(2 * 3.14159265358979 * (200 + 800 * t) * t)), r = (int16_t)(l / 2);
        PUT16(44 + 4 * i, (uint16_t)l);
        PUT16(46 + 4 * i, (uint16_t)r);
    }
    *size = 44 + data;
    return w;
}

static void test_wav(void) {
    mimetic_audio a, b;
    size_t size = 0;
    unsigned char *w = stereo_wav(&size);
    char path[1024];
    FILE *f;
    size_t i;
    double max_err = 0;

    a.struct_size = b.struct_size = sizeof a;
    CHECK(mimetic_wav_read_memory(w, size, 0, &a) == MIMETIC_OK, "memory: %s", mimetic_last_error());
    CHECK(a.n_samples == 11025 && a.sample_rate == 22050 && a.channels == 2 && a.file_sample_rate == 22050, "memory fields %zu %d %d",
          a.n_samples, a.sample_rate, a.channels);
    /* Mono is the mean of the channels: (l + l/2) / 2 of the 16-bit values / 32768. */
    for (i = 0; i < a.n_samples; ++i) {
        int16_t l = (int16_t)(w[44 + 4 * i] | (w[45 + 4 * i] << 8)), r = (int16_t)(w[46 + 4 * i] | (w[47 + 4 * i] << 8));
        double e = fabs(a.samples[i] - ((double)l + r) / 2 / 32768);
        if (e > max_err) max_err = e;
    }
    CHECK(max_err < 1e-6, "mono mix error %g", max_err);
    snprintf(path, sizeof path, "%s/mimetic_animate_stereo.wav", tmpdir());
    f = fopen(path, "wb");
    fwrite(w, 1, size, f);
    fclose(f);
    CHECK(mimetic_wav_read(path, 16000, &b) == MIMETIC_OK, "path at 16 kHz: %s", mimetic_last_error());
    CHECK(b.sample_rate == 16000 && b.file_sample_rate == 22050 && b.n_samples == 8000, "resampled: %zu at %d", b.n_samples, b.sample_rate);
    mimetic_audio_free(&a);
    mimetic_audio_free(&b);

    /* Errors: the struct holds no samples afterwards. */
    a.samples = (float *)0x1; a.n_samples = 7;
    CHECK(mimetic_wav_read("/nonexistent/x.wav", 0, &a) == MIMETIC_ERROR_IO && a.samples == NULL && a.n_samples == 0,
          "missing file: %s", mimetic_last_error());
    CHECK(strstr(mimetic_last_error(), "No such file") != NULL, "message: %s", mimetic_last_error());
    CHECK(mimetic_wav_read_memory("RIFF\0\0\0\0AVI LIST", 16, 0, &a) == MIMETIC_ERROR_INVALID_AUDIO && a.samples == NULL, "AVI");
    CHECK(mimetic_wav_read_memory(w, 44 + 100, 0, &a) == MIMETIC_ERROR_INVALID_AUDIO && strstr(mimetic_last_error(), "<memory>"),
          "truncated: %s", mimetic_last_error());
    CHECK(mimetic_wav_read_memory(w, size, 100, &a) == MIMETIC_ERROR_INVALID_ARGUMENT, "rate 100: %s", mimetic_last_error());
    CHECK(mimetic_wav_read_memory(NULL, size, 0, &a) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL data");
    CHECK(mimetic_wav_read_memory(w, size, 0, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out");
    CHECK(mimetic_wav_read(NULL, 0, &a) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL path");
    a.struct_size = 8;
    CHECK(mimetic_wav_read_memory(w, size, 0, &a) == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(mimetic_last_error(), "sizeof(mimetic_audio)"),
          "struct_size 8: %s", mimetic_last_error());
    mimetic_audio_free(NULL);
    free(w);
}

int main(int argc, char **argv) {
    int i;
    if (argc < 4) { fprintf(stderr, "usage: %s MIMETIC_CLI WAV MODEL...\n", argv[0]); return 2; }
    test_wav();
    for (i = 3; i < argc; ++i) test_model(argv[1], argv[2], argv[i], i);
    printf("test_animate_abi: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
