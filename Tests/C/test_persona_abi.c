/* Personalisation C ABI test (C99, -Wall -Wextra -Werror -pedantic): struct layouts the library
 * reads by offset, mimetic_personalize with progress and cancellation, persona files, personas in
 * streams, every error path. Usage: test_persona_abi IMITATOR_MODEL OTHER_IMITATOR_MODEL MIMIC_MODEL */
#include "mimetic.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { \
    ++checks; \
    if (!(cond)) { ++failures; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static int progress_calls = 0;
static int on_progress(int32_t stage, int32_t step, int32_t total, double loss, double held, void *user) {
    (void)held; (void)user;
    ++progress_calls;
    CHECK(stage >= 1 && stage <= 2 && step >= 1 && step <= total && loss >= 0, "progress %d %d/%d %g", stage, step, total, loss);
    return 1;
}
static int cancel_now(int32_t stage, int32_t step, int32_t total, double loss, double held, void *user) {
    (void)stage; (void)step; (void)total; (void)loss; (void)held; (void)user;
    return 0;
}

/* Pulls every frame of `audio` through a stream; returns the frames (caller frees). */
static float *stream_all(mimetic_stream *s, const float *audio, size_t n, size_t size, int *frames) {
    float *all = (float *)malloc(size * 4 * 400), *frame = (float *)malloc(size * 4);
    *frames = 0;
    CHECK(mimetic_stream_push_audio(s, audio, n) == MIMETIC_OK, "push: %s", mimetic_last_error());
    CHECK(mimetic_stream_flush(s) == MIMETIC_OK, "flush");
    while (*frames < 400 && mimetic_stream_pull_frame(s, frame, size, NULL) == MIMETIC_OK) {
        memcpy(all + (size_t)*frames * size, frame, size * 4);
        ++*frames;
    }
    free(frame);
    return all;
}

int main(int argc, char **argv) {
    mimetic_model *model = NULL, *other = NULL, *mimic = NULL;
    mimetic_model_info info;
    mimetic_personalize_params pp;
    mimetic_reference_clip clips[2];
    mimetic_persona *persona = NULL, *loaded = NULL, *plain = NULL;
    mimetic_stream_params sp;
    mimetic_stream *s = NULL;
    float *audio, *ref, *style, *a, *b;
    size_t n = 25600, i;
    int32_t events[2] = {5, 20};
    int frames_a = 0, frames_b = 0, differs = 0;
    const char *path = "/tmp/mimetic_test_persona.safetensors";

    if (argc < 4) { fprintf(stderr, "usage: %s IMITATOR OTHER_IMITATOR MIMIC\n", argv[0]); return 2; }
    CHECK(offsetof(mimetic_stream_params, persona) == 72 && offsetof(mimetic_stream_params, reserve_persona_basis) == 80 &&
          sizeof(mimetic_stream_params) == 88, "stream params layout");
    CHECK(sizeof(mimetic_personalize_params) == 56 && offsetof(mimetic_personalize_params, held_out_folds) == 48 &&
          offsetof(mimetic_personalize_params, initial_style_slot) == 36 &&
          offsetof(mimetic_personalize_params, lip_closure_weight) == 40, "personalize params layout");
    CHECK(sizeof(mimetic_reference_clip) == 56 && offsetof(mimetic_reference_clip, bilabial_count) == 48, "clip layout");
    CHECK(mimetic_model_load(argv[1], &model) == MIMETIC_OK, "load");
    CHECK(mimetic_model_load(argv[2], &other) == MIMETIC_OK, "load other");
    CHECK(mimetic_model_load(argv[3], &mimic) == MIMETIC_OK, "load mimic");
    if (!model || !other || !mimic) return 1;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    mimetic_model_get_info(model, &info);

    /* A reference "person": the model's own animation in another style, from a stream. */
    audio = (float *)malloc(n * 4);
    for (i = 0; i < n; ++i) audio[i] = (float)(0.3 * sin(i * 0.03) * sin(i * 0.0011) + 0.05 * sin(i * 0.17));
    mimetic_stream_params_init(&sp);
    sp.style_slot = 2;
    sp.lookahead_ms = 2000; sp.left_context_ms = 10000;
    CHECK(mimetic_stream_create(model, &sp, NULL, 0, &s) == MIMETIC_OK, "reference stream: %s", mimetic_last_error());
    ref = stream_all(s, audio, n, (size_t)info.output_size, &frames_a);
    mimetic_stream_free(s);
    CHECK(frames_a > 10, "reference frames %d", frames_a);

    /* Errors. */
    mimetic_personalize_params_init(NULL);
    mimetic_personalize_params_init(&pp);
    CHECK(pp.struct_size == sizeof pp && pp.style_steps > 0 && pp.held_out_clip == -1 && pp.lip_closure_weight > 0, "defaults");
    CHECK(mimetic_personalize(model, NULL, 0, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "no clips");
    memset(clips, 0, sizeof clips);
    clips[0].audio = audio; clips[0].audio_samples = n; clips[0].sample_rate = 16000;
    clips[0].offsets = ref; clips[0].frames = (size_t)frames_a;
    clips[0].bilabial_frames = events; clips[0].bilabial_count = 2;
    clips[1] = clips[0];
    clips[1].bilabial_frames = NULL; clips[1].bilabial_count = 0;
    CHECK(mimetic_personalize(NULL, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL model");
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL out");
    clips[1].sample_rate = 4000;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "bad rate");
    clips[1].sample_rate = 16000;
    clips[1].frames = 3;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "frames mismatch");
    CHECK(strstr(mimetic_last_error(), "frames") != NULL, "message: %s", mimetic_last_error());
    clips[1].frames = (size_t)frames_a;
    pp.struct_size = 4;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "struct size");
    mimetic_personalize_params_init(&pp);
    pp.lip_closure_weight = -1;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "negative closure weight");
    /* A caller built before lip_closure_weight existed passes the 40-byte struct: accepted (the field's
       default applies), so the garbage beyond it is never read. */
    pp.struct_size = 40;
    pp.style_steps = 2; pp.basis_steps = 2;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_OK && persona, "40-byte params: %s", mimetic_last_error());
    mimetic_persona_free(persona);
    persona = NULL;
    /* A caller built before held_out_folds passes the 48-byte struct: the field's default (one run)
       applies; what lies beyond its 48 bytes is never read. */
    mimetic_personalize_params_init(&pp);
    CHECK(pp.held_out_folds == 0 && pp.initial_style_slot == MIMETIC_START_MEAN, "defaults: one run, from the mean style");
    pp.style_steps = 2; pp.basis_steps = 2;
    pp.held_out_folds = 99;
    pp.struct_size = 48;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_OK && persona, "48-byte params: %s", mimetic_last_error());
    mimetic_persona_free(persona);
    persona = NULL;
    pp.struct_size = sizeof pp;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT &&
          strstr(mimetic_last_error(), "held_out_folds 99") != NULL, "99 folds: %s", mimetic_last_error());
    pp.held_out_folds = 2;
    pp.initial_style_slot = MIMETIC_START_BEST;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_OK && persona, "2 folds from the best start: %s",
          mimetic_last_error());
    mimetic_persona_free(persona);
    persona = NULL;
    pp.initial_style_slot = -5;
    CHECK(mimetic_personalize(model, clips, 2, &pp, NULL, NULL, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT, "start -5: %s", mimetic_last_error());
    mimetic_personalize_params_init(&pp);
    pp.style_steps = 20; pp.basis_steps = 20;
    CHECK(mimetic_personalize(model, clips, 2, &pp, cancel_now, NULL, &persona) == MIMETIC_ERROR_CANCELLED && persona == NULL, "cancel");

    /* The real thing. */
    CHECK(mimetic_personalize(model, clips, 2, &pp, on_progress, NULL, &persona) == MIMETIC_OK && persona, "personalize: %s", mimetic_last_error());
    CHECK(progress_calls > 0, "progress called");
    CHECK(mimetic_persona_has_basis(persona) == 1, "adapted basis");
    style = (float *)malloc((size_t)info.style_dim * 4);
    CHECK(mimetic_persona_get_style(persona, style, 1) == MIMETIC_ERROR_BUFFER_TOO_SMALL, "style capacity");
    CHECK(mimetic_persona_get_style(persona, style, (size_t)info.style_dim) == MIMETIC_OK, "style");

    /* Files. */
    CHECK(mimetic_persona_save(persona, path) == MIMETIC_OK, "save: %s", mimetic_last_error());
    CHECK(mimetic_persona_save(persona, "/nonexistent/dir/p.safetensors") == MIMETIC_ERROR_IO, "save to a bad path");
    CHECK(mimetic_persona_load(model, path, &loaded) == MIMETIC_OK && loaded, "load: %s", mimetic_last_error());
    CHECK(mimetic_persona_load(other, path, &plain) == MIMETIC_ERROR_INVALID_ARGUMENT && plain == NULL, "wrong model refused");
    CHECK(strstr(mimetic_last_error(), "made for the model") != NULL, "message: %s", mimetic_last_error());
    CHECK(mimetic_persona_load(model, argv[1], &plain) == MIMETIC_ERROR_INVALID_MODEL, "a model is not a persona");
    CHECK(mimetic_persona_load(model, "/nonexistent.safetensors", &plain) == MIMETIC_ERROR_IO, "missing file");

    /* Streams: a persona with a basis change needs room; with it, the output changes. */
    mimetic_stream_params_init(&sp);
    sp.style_slot = 0;
    CHECK(mimetic_stream_create(model, &sp, NULL, 0, &s) == MIMETIC_OK, "plain stream");
    CHECK(mimetic_stream_set_persona(s, loaded) == MIMETIC_ERROR_INVALID_ARGUMENT, "no room for the basis");
    CHECK(mimetic_stream_set_persona(s, NULL) == MIMETIC_ERROR_INVALID_ARGUMENT, "NULL persona");
    CHECK(mimetic_persona_from_style(model, style, (size_t)info.style_dim, &plain) == MIMETIC_OK && mimetic_persona_has_basis(plain) == 0, "style persona");
    mimetic_persona_free(persona);
    CHECK(mimetic_persona_from_style(model, style, 3, &persona) == MIMETIC_ERROR_INVALID_ARGUMENT && persona == NULL, "short style");
    CHECK(mimetic_stream_set_persona(s, plain) == MIMETIC_OK, "style-only persona needs no room");
    {
        mimetic_persona *mixed = NULL;
        CHECK(mimetic_persona_blend(loaded, plain, 0.5f, &mixed) == MIMETIC_OK && mixed && mimetic_persona_has_basis(mixed) == 1, "blend");
        CHECK(mimetic_persona_blend(loaded, NULL, 0.5f, &mixed) == MIMETIC_ERROR_INVALID_ARGUMENT && mixed == NULL, "blend NULL");
        mimetic_persona_free(mixed);
    }
    mimetic_stream_free(s);
    sp.persona = loaded;
    CHECK(mimetic_stream_create(model, &sp, NULL, 0, &s) == MIMETIC_OK, "stream with persona: %s", mimetic_last_error());
    b = stream_all(s, audio, n, (size_t)info.output_size, &frames_b);
    mimetic_stream_free(s);
    sp.persona = NULL;
    sp.reserve_persona_basis = 1;
    CHECK(mimetic_stream_create(model, &sp, NULL, 0, &s) == MIMETIC_OK, "stream with room");
    a = stream_all(s, audio, n, (size_t)info.output_size, &frames_a);
    CHECK(mimetic_stream_set_persona(s, loaded) == MIMETIC_OK, "switch at run time: %s", mimetic_last_error());
    mimetic_stream_free(s);
    CHECK(frames_a == frames_b, "frames %d %d", frames_a, frames_b);
    for (i = 0; i < (size_t)frames_a * (size_t)info.output_size; ++i) if (fabsf(a[i] - b[i]) > 1e-4f) { differs = 1; break; }
    CHECK(differs, "the persona changes the animation");

    /* Mimic: persona from motion; FaceFormer-style refusal is covered by the Python tests. */
    {
        mimetic_model_info mi;
        mimetic_reference_clip mc;
        mimetic_persona *mp = NULL;
        float *motion;
        memset(&mi, 0, sizeof mi);
        mi.struct_size = sizeof mi;
        mimetic_model_get_info(mimic, &mi);
        motion = (float *)calloc((size_t)mi.output_size * 20, 4);
        for (i = 0; i < (size_t)mi.output_size * 20; ++i) motion[i] = (float)sin(i * 0.1) * 0.01f;
        memset(&mc, 0, sizeof mc);
        mc.offsets = motion; mc.frames = 20;
        CHECK(mimetic_personalize(mimic, &mc, 1, NULL, NULL, NULL, &mp) == MIMETIC_OK && mp, "mimic persona: %s", mimetic_last_error());
        CHECK(mimetic_persona_has_basis(mp) == 0, "mimic personas carry a code only");
        mimetic_persona_free(mp);
        free(motion);
    }

    mimetic_persona_free(persona);
    mimetic_persona_free(loaded);
    mimetic_persona_free(plain);
    mimetic_persona_free(NULL);
    remove(path);
    CHECK(mimetic_model_free(model) == MIMETIC_OK && mimetic_model_free(other) == MIMETIC_OK && mimetic_model_free(mimic) == MIMETIC_OK, "free");
    free(audio); free(ref); free(style); free(a); free(b);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
