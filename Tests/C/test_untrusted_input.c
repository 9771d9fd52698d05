/* Untrusted input through the C ABI, C99 with -Wall -Wextra -Werror -pedantic: snapshots that
 * were corrupted or hand-edited, model files the stream engine cannot run, sizes no buffer can
 * have, the is_final contract, personas with non-finite values. Each case is a regression test
 * of a failure an independent client found: it crashed, hung, wrote outside the state buffer,
 * emitted NaN or returned OK for nonsense before.
 * Usage: test_untrusted_input WAV2VEC_MODEL REALTIME_F16_MODEL IMITATOR_MODEL [OVERFLOWING_MODEL]
 * (a wav2vec 2.0 model in F32, a real-time-encoder model in F16, an Imitator model; a model whose
 * finite but huge weights overflow float32, e.g. Tests/Fuzz/regressions/model-huge-weights.safetensors) */
#include "mimetic.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_seal.h"

static int failures = 0, passes = 0;
#define CHECK(cond, ...) do { if (cond) { ++passes; } else { ++failures; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    if (!f) { printf("cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { printf("cannot read %s\n", path); exit(2); }
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* A copy of a safetensors file with `from` replaced by `to` in its JSON header (the header length
 * is rewritten; tensor offsets are relative to the data, so they stay valid). NULL if absent. */
static unsigned char *edit_header(const unsigned char *file, size_t size, const char *from, const char *to, size_t *out_size) {
    uint64_t hl = 0;
    size_t i, fl = strlen(from), tl = strlen(to), pos = (size_t)-1, nl;
    unsigned char *out;
    for (i = 0; i < 8; ++i) hl |= (uint64_t)file[i] << (8 * i);
    for (i = 8; i + fl <= 8 + hl; ++i) if (memcmp(file + i, from, fl) == 0) { pos = i; break; }
    if (pos == (size_t)-1) return NULL;
    nl = (size_t)hl - fl + tl;
    *out_size = size - fl + tl;
    out = malloc(*out_size);
    for (i = 0; i < 8; ++i) out[i] = (unsigned char)((uint64_t)nl >> (8 * i));
    memcpy(out + 8, file + 8, pos - 8);
    memcpy(out + pos, to, tl);
    memcpy(out + pos + tl, file + pos + fl, size - pos - fl);
    return out;
}

/* The data region of the tensor `name` (a JSON entry ..."name":{"dtype":"F32",...,"data_offsets":[a,b]})
 * and whether it is 16-bit. */
static unsigned char *tensor_data_typed(unsigned char *file, const char *name, size_t *bytes, int *half);
static unsigned char *tensor_data(unsigned char *file, const char *name, size_t *bytes) {
    int half;
    return tensor_data_typed(file, name, bytes, &half);
}
static unsigned char *tensor_data_typed(unsigned char *file, const char *name, size_t *bytes, int *half) {
    uint64_t hl = 0;
    char key[128], *hdr, *p;
    size_t i, a, b;
    for (i = 0; i < 8; ++i) hl |= (uint64_t)file[i] << (8 * i);
    hdr = malloc((size_t)hl + 1);
    memcpy(hdr, file + 8, (size_t)hl);
    hdr[hl] = 0;
    snprintf(key, sizeof key, "\"%s\"", name);
    p = strstr(hdr, key);
    *half = p && strstr(p, "\"dtype\"") && strncmp(strstr(p, "\"dtype\"") + 8, "\"F16\"", 5) == 0;
    if (!p || !(p = strstr(p, "data_offsets")) || sscanf(p, "data_offsets\":[%zu,%zu]", &a, &b) != 2) { free(hdr); return NULL; }
    free(hdr);
    *bytes = b - a;
    return file + 8 + hl + a;
}


static float tone(long i, int rate) { return 0.3f * (float)sin(6.2831853 * 220.0 * (double)i / rate) * (float)(0.6 + 0.4 * sin((double)i / rate * 9)); }

/* Pushes `seconds` of a tone in 10 ms chunks, pulling as it goes; returns frames pulled, -1 on a
 * failing call; sets *nan when any pulled value is not finite. */
static long drive(mimetic_stream *s, int rate, double seconds, int out_size, int flush, int *nan) {
    float chunk[480];
    float *frame = malloc(sizeof(float) * (size_t)out_size);
    long i, n = (long)(seconds * rate), frames = 0;
    int c, st;
    for (i = 0; i < n; i += rate / 100) {
        for (c = 0; c < rate / 100; ++c) chunk[c] = tone(i + c, rate);
        if (mimetic_stream_push_audio(s, chunk, (size_t)(rate / 100)) != MIMETIC_OK) { free(frame); return -1; }
        while ((st = mimetic_stream_pull_frame(s, frame, (size_t)out_size, NULL)) == MIMETIC_OK) {
            for (c = 0; c < out_size; ++c) if (!isfinite(frame[c])) *nan = 1;
            ++frames;
        }
        if (st != MIMETIC_ERROR_NOT_READY) { free(frame); return -1; }
    }
    if (flush) {
        if (mimetic_stream_flush(s) != MIMETIC_OK) { free(frame); return -1; }
        while (mimetic_stream_pull_frame(s, frame, (size_t)out_size, NULL) == MIMETIC_OK) {
            for (c = 0; c < out_size; ++c) if (!isfinite(frame[c])) *nan = 1;
            ++frames;
        }
    }
    free(frame);
    return frames;
}

static int output_size(const mimetic_model *m) {
    mimetic_model_info info;
    info.struct_size = sizeof info;
    mimetic_model_get_info(m, &info);
    return info.output_size;
}

/* 1. Snapshots: accidental corruption is caught by the checksum; deliberate edits (re-sealed)
 *    are caught by the bounds checks or are harmless; a refused restore leaves the stream as it was. */
static void test_snapshots(const char *path, int rate) {
    mimetic_model *m;
    mimetic_stream_params p;
    mimetic_stream *s;
    size_t bytes, off;
    unsigned char *snap, *bad;
    int nan = 0, out, refused_plain = 0, refused_sealed = 0, kept = 0, sealed_ok = 0;
    long v;
    const int64_t values[] = { -100000, 0x7fffffffffffffffLL, -1, 1LL << 40, 3 };
    printf("== snapshots (%s, %d Hz)\n", path, rate);
    if (mimetic_model_load(path, &m) != MIMETIC_OK) { printf("load: %s\n", mimetic_last_error()); exit(2); }
    out = output_size(m);
    mimetic_stream_params_init(&p);
    p.sample_rate = rate;
    CHECK(mimetic_stream_create(m, &p, NULL, 0, &s) == MIMETIC_OK, "create: %s", mimetic_last_error());
    CHECK(drive(s, rate, 0.7, out, 0, &nan) >= 0 && !nan, "first 0.7 s");
    mimetic_stream_get_state_size(s, &bytes);
    snap = malloc(bytes);
    bad = malloc(bytes);
    CHECK(mimetic_stream_snapshot(s, snap, bytes) == MIMETIC_OK, "snapshot");
    CHECK(mimetic_stream_restore(s, snap, bytes) == MIMETIC_OK, "restore of its own snapshot: %s", mimetic_last_error());
    /* One corrupted 8-byte word at every offset of the first KiB (five values: the counters live
     * there), then every 16 KiB across the rest of the state (two values). */
    for (off = 64; off < bytes; off += off < 1024 ? 8 : 16384) {
        for (v = 0; v < (off < 1024 ? 5 : 2); ++v) {
            int64_t w = values[v];
            memcpy(bad, snap, bytes);
            memcpy(bad + off, &w, 8);
            if (memcmp(bad, snap, bytes) == 0) continue;
            if (mimetic_stream_restore(s, bad, bytes) != MIMETIC_OK) ++refused_plain;
            /* The same edit, re-sealed: only the bounds checks stand in the way now. */
            snapshot_seal(bad, bytes);
            if (mimetic_stream_restore(s, bad, bytes) != MIMETIC_OK) { ++refused_sealed; }
            else {
                ++sealed_ok;
                nan = 0;
                if (drive(s, rate, 0.06, out, 1, &nan) < 0) { /* a clean error is fine */ }
                CHECK(!nan, "re-sealed edit at byte %zu (value %lld) restored and emitted NaN", off, (long long)w);
                mimetic_stream_reset(s);
            }
            CHECK(mimetic_stream_restore(s, snap, bytes) == MIMETIC_OK, "restore of the good snapshot after an edit at %zu", off);
            ++kept;
        }
    }
    printf("  %d edits: %d refused by the checksum, %d re-sealed ones refused by the bounds checks, %d harmless\n",
           kept, refused_plain, refused_sealed, sealed_ok);
    CHECK(refused_plain == kept, "every unsealed corruption refused (%d of %d)", refused_plain, kept);
    /* The stream still works after all of that, and a truncated or random snapshot is refused. */
    nan = 0;
    CHECK(drive(s, rate, 0.5, out, 1, &nan) > 0 && !nan, "the stream continues after refused restores");
    CHECK(mimetic_stream_restore(s, snap, bytes - 1) == MIMETIC_ERROR_INVALID_ARGUMENT, "truncated snapshot");
    for (off = 0; off < bytes; ++off) bad[off] = (unsigned char)(rand() & 0xff);
    CHECK(mimetic_stream_restore(s, bad, bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "random bytes");
    memcpy(bad, snap, 24);
    snapshot_seal(bad, bytes);
    CHECK(mimetic_stream_restore(s, bad, bytes) == MIMETIC_ERROR_INVALID_ARGUMENT, "random body with a valid header and checksum: %s", mimetic_last_error());
    free(snap);
    free(bad);
    mimetic_stream_free(s);
    mimetic_model_free(m);
}

/* 2. Model files the loader used to accept and a stream could not run; non-finite weights. */
/* `f16_path`: a model stored in F16 (the shipped default). */
static void test_models(const char *path, const char *f16_path) {
    size_t size, edited_size, nbytes;
    unsigned char *file = read_file(path, &size), *edited, *w;
    const char *strides[] = { "[5, 2, 2, 2, 2, 2, 3]", "[5, 2, 2, 2, 2, 2, 4]", "[5, 2, 2, 2, 2, 2, 8]", "[5, 2, 2, 2, 2, 2, 256]",
                              "[5, 2, 2, 2, 2, 2, 1]", "[1, 1, 1, 1, 1, 1, 1]" };
    size_t i;
    printf("== models the stream engine cannot run (%s)\n", path);
    for (i = 0; i < sizeof strides / sizeof *strides; ++i) {
        mimetic_model *m = NULL;
        mimetic_stream_params p;
        mimetic_stream *s = NULL;
        int st, nan = 0;
        edited = edit_header(file, size, "[5, 2, 2, 2, 2, 2, 2]", strides[i], &edited_size);
        CHECK(edited != NULL, "conv_stride not found in the fixture header");
        if (!edited) return;
        st = mimetic_model_load_from_memory(edited, edited_size, &m);
        if (st == MIMETIC_OK) {
            mimetic_stream_params_init(&p);
            st = mimetic_stream_create(m, &p, NULL, 0, &s);
            if (st == MIMETIC_OK) {
                CHECK(drive(s, 16000, 1.0, output_size(m), 1, &nan) >= 0 && !nan, "conv_stride %s: the stream runs", strides[i]);
                mimetic_stream_free(s);
            } else {
                CHECK(st == MIMETIC_ERROR_UNSUPPORTED && strstr(mimetic_last_error(), "stride"), "conv_stride %s: refused with %d: %s",
                      strides[i], st, mimetic_last_error());
            }
            mimetic_model_free(m);
        } else {
            CHECK(strlen(mimetic_last_error()) > 0, "conv_stride %s refused without a message", strides[i]);
        }
        printf("  conv_stride %s: %s\n", strides[i], st == MIMETIC_OK ? "streams" : mimetic_last_error());
        free(edited);
    }
    free(file);
    /* A NaN and an Inf weight, in an F32 model and in the F16 default. */
    {
        const char *files[] = { path, f16_path };
        const char *names[] = { "audio_map.weight", "audio_map.weight", "template" };
        const uint32_t bits32[] = { 0x7fc00000u, 0x7f800000u, 0xff800000u };
        const uint16_t bits16[] = { 0x7e00u, 0x7c00u, 0xfc00u };
        size_t f;
        for (f = 0; f < 2; ++f) {
            file = read_file(files[f], &size);
            for (i = 0; i < 3; ++i) {
                mimetic_model *m = NULL;
                int half = 0;
                edited = malloc(size);
                memcpy(edited, file, size);
                w = tensor_data_typed(edited, names[i], &nbytes, &half);
                CHECK(w != NULL && nbytes >= 8, "tensor %s not found in %s", names[i], files[f]);
                if (w && half) memcpy(w + 2, &bits16[i], 2);
                else if (w) memcpy(w + 4, &bits32[i], 4);
                CHECK(mimetic_model_load_from_memory(edited, size, &m) == MIMETIC_ERROR_INVALID_MODEL && strstr(mimetic_last_error(), names[i]),
                      "a non-finite value in %s (%s, %s): %s", names[i], files[f], half ? "F16" : "F32", mimetic_last_error());
                if (m) mimetic_model_free(m);
                free(edited);
            }
            free(file);
        }
    }
}

/* 3. Sizes beyond anything they could mean are errors, not traps and not a silent OK. */
static void test_sizes(const char *path) {
    mimetic_model *m;
    mimetic_stream_params p;
    mimetic_stream *s;
    float x[16] = { 0 };
    int16_t y[16] = { 0 };
    size_t huge[] = { (size_t)0x7fffffffffffffffull, (size_t)0x8000000000000000ull, (size_t)-1, (size_t)1 << 41 };
    size_t i;
    printf("== sizes\n");
    mimetic_model_load(path, &m);
    mimetic_stream_params_init(&p);
    mimetic_stream_create(m, &p, NULL, 0, &s);
    for (i = 0; i < 4; ++i) {
        CHECK(mimetic_stream_push_audio(s, x, huge[i]) == MIMETIC_ERROR_INVALID_ARGUMENT, "push n = %zu: %s", huge[i], mimetic_last_error());
        CHECK(mimetic_stream_push_audio_i16(s, y, huge[i]) == MIMETIC_ERROR_INVALID_ARGUMENT, "push_i16 n = %zu", huge[i]);
        CHECK(mimetic_stream_set_style_weights(s, x, huge[i]) == MIMETIC_ERROR_INVALID_ARGUMENT, "style weights n = %zu", huge[i]);
        CHECK(mimetic_stream_restore(s, x, huge[i]) == MIMETIC_ERROR_INVALID_ARGUMENT, "restore size = %zu", huge[i]);
    }
    /* A capacity larger than needed is fine: only what is needed is written. */
    {
        float *frame = malloc(sizeof(float) * (size_t)output_size(m));
        int st = mimetic_stream_pull_frame(s, frame, (size_t)-1, NULL);
        CHECK(st == MIMETIC_ERROR_NOT_READY, "pull with capacity SIZE_MAX: %d", st);
        free(frame);
    }
    mimetic_stream_free(s);
    mimetic_model_free(m);
}

/* 4. is_final, whether the last frame is pulled before or after the flush; personas with NaN. */
static void test_contract(const char *path, const char *imitator_path) {
    mimetic_model *m;
    mimetic_stream_params p;
    mimetic_stream *s;
    int out, rate = 16000, complete = -1, interleave;
    float *frame;
    printf("== is_final and mimetic_stream_is_complete (%s)\n", path);
    mimetic_model_load(path, &m);
    out = output_size(m);
    frame = malloc(sizeof(float) * (size_t)out);
    mimetic_stream_params_init(&p);
    mimetic_stream_create(m, &p, NULL, 0, &s);
    for (interleave = 0; interleave < 3; ++interleave) {
        long i, n = rate * 6 / 10, frames = 0, finals = 0, last_final = -1;
        mimetic_frame_info info;
        float chunk[160];
        int st;
        info.struct_size = sizeof info;
        mimetic_stream_reset(s);
        for (i = 0; i < n; i += 160) {
            int c;
            for (c = 0; c < 160; ++c) chunk[c] = tone(i + c, rate);
            mimetic_stream_push_audio(s, chunk, 160);
            /* 0: pull everything as it comes; 1: pull nothing until the flush; 2: every other chunk. */
            if (interleave == 0 || (interleave == 2 && (i / 160) % 2)) {
                while (mimetic_stream_pull_frame(s, frame, (size_t)out, &info) == MIMETIC_OK) { ++frames; if (info.is_final) { ++finals; last_final = frames; } }
            }
        }
        CHECK(mimetic_stream_is_complete(s, &complete) == MIMETIC_OK && complete == 0, "not complete before the flush");
        mimetic_stream_flush(s);
        while ((st = mimetic_stream_pull_frame(s, frame, (size_t)out, &info)) == MIMETIC_OK) { ++frames; if (info.is_final) { ++finals; last_final = frames; } }
        CHECK(mimetic_stream_is_complete(s, &complete) == MIMETIC_OK && complete == 1, "complete once flushed and drained (pattern %d)", interleave);
        CHECK(finals <= 1 && (finals == 0 || last_final == frames), "pattern %d: is_final only on the last frame (%ld finals, last at %ld of %ld)",
              interleave, finals, last_final, frames);
        /* The last frame carries is_final whenever it is pulled after the flush (patterns 1 and 2 for
         * every model; pattern 0 for wav2vec 2.0 models, whose last frame needs the flush). */
        if (interleave == 1) CHECK(finals == 1, "pattern 1: the last frame, pulled after the flush, is final");
        printf("  pattern %d: %ld frames, is_final on %s\n", interleave, frames, finals ? "the last" : "none (pulled before the flush)");
    }
    mimetic_stream_free(s);
    mimetic_model_free(m);
    free(frame);

    printf("== personas with non-finite values (%s)\n", imitator_path);
    {
        mimetic_model *im;
        mimetic_persona *persona = NULL, *loaded = NULL;
        mimetic_model_info info;
        float style[1024];
        size_t size, nbytes;
        unsigned char *file, *data;
        const char *tmp = "/tmp/mimetic-untrusted.persona.safetensors";
        int i;
        FILE *f;
        info.struct_size = sizeof info;
        mimetic_model_load(imitator_path, &im);
        mimetic_model_get_info(im, &info);
        for (i = 0; i < info.style_dim && i < 1024; ++i) style[i] = 0.01f * (float)i;
        style[3] = NAN;
        CHECK(mimetic_persona_from_style(im, style, (size_t)info.style_dim, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "persona from a NaN style");
        style[3] = 0.5f;
        CHECK(mimetic_persona_from_style(im, style, (size_t)info.style_dim, &persona) == MIMETIC_OK, "persona from style");
        CHECK(mimetic_persona_save(persona, tmp) == MIMETIC_OK, "save: %s", mimetic_last_error());
        file = read_file(tmp, &size);
        data = tensor_data(file, "style", &nbytes);
        CHECK(data != NULL, "persona file has a 'style' tensor");
        if (data) {
            const uint32_t inf = 0x7f800000u;
            memcpy(data + 8, &inf, 4);
            f = fopen(tmp, "wb");
            fwrite(file, 1, size, f);
            fclose(f);
            CHECK(mimetic_persona_load(im, tmp, &loaded) != MIMETIC_OK && loaded == NULL, "a persona file with Inf in its style is refused");
            printf("  %s\n", mimetic_last_error());
        }
        remove(tmp);
        free(file);
        mimetic_persona_free(persona);
        mimetic_model_free(im);
    }
}

/* 2b. A model that loads (every weight finite) but whose arithmetic overflows: its frames are
 *     refused with a message, never handed out as NaN. */
static void test_overflowing_model(const char *path) {
    mimetic_model *m = NULL;
    mimetic_stream_params p;
    mimetic_stream *s;
    float chunk[160], *frame;
    int st = MIMETIC_OK, i, c, nan = 0, out;
    long frames = 0;
    printf("== a model whose arithmetic overflows (%s)\n", path);
    CHECK(mimetic_model_load(path, &m) == MIMETIC_OK, "load: %s", mimetic_last_error());
    if (!m) return;
    out = output_size(m);
    frame = malloc(sizeof(float) * (size_t)out);
    mimetic_stream_params_init(&p);
    mimetic_stream_create(m, &p, NULL, 0, &s);
    for (i = 0; i < 50 && (st == MIMETIC_OK || st == MIMETIC_ERROR_NOT_READY); ++i) {
        for (c = 0; c < 160; ++c) chunk[c] = tone(i * 160 + c, 16000);
        mimetic_stream_push_audio(s, chunk, 160);
        while ((st = mimetic_stream_pull_frame(s, frame, (size_t)out, NULL)) == MIMETIC_OK) {
            ++frames;
            for (c = 0; c < out; ++c) if (!isfinite(frame[c])) nan = 1;
        }
    }
    CHECK(st == MIMETIC_ERROR_INVALID_MODEL && strstr(mimetic_last_error(), "non-finite"), "pull refuses the overflowing frame: %d %s", st, mimetic_last_error());
    CHECK(!nan, "no NaN frame was handed out (%ld frames before the refusal)", frames);
    printf("  %ld frames, then: %s\n", frames, mimetic_last_error());
    CHECK(mimetic_stream_reset(s) == MIMETIC_OK && mimetic_stream_pull_frame(s, frame, (size_t)out, NULL) == MIMETIC_ERROR_NOT_READY, "reset clears the fault");
    mimetic_stream_free(s);
    mimetic_model_free(m);
    free(frame);
}

int main(int argc, char **argv) {
    if (argc < 4) { printf("usage: %s WAV2VEC_MODEL REALTIME_F16_MODEL IMITATOR_MODEL\n", argv[0]); return 2; }
    srand(7);
    test_snapshots(argv[2], 48000);
    test_snapshots(argv[1], 48000);
    test_models(argv[1], argv[2]);
    test_sizes(argv[1]);
    test_contract(argv[2], argv[3]);
    test_contract(argv[1], argv[3]);
    if (argc > 4) test_overflowing_model(argv[4]);
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
