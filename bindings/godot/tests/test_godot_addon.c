/*
 * test_godot_addon.c: loads the Mimetic Godot addon as Godot does and checks it against the C ABI.
 *
 *   test_godot_addon PROJECT_DIR AUDIO.wav
 *
 * PROJECT_DIR holds addons/mimetic/ as `make godot` builds it: mimetic.gdextension names the entry
 * symbol and the library per platform; the library is dlopen'ed from there. Then, through the
 * interface only (host_godot.c plays Godot):
 *   1. the classes, methods and properties registered, and their types;
 *   2. MimeticModel: load (res:// paths), information, errors as return values and messages;
 *   3. MimeticStream: 10 ms stereo chunks at 48 kHz in, offsets, vertices and weights out, equal
 *      bit for bit to a C ABI stream fed the same samples, through both ptrcall and call;
 *   4. MimeticFace: a fake bus (capture + delay) and a fake MeshInstance3D with shuffled, partly
 *      missing ARKit shapes; each _process the mesh must hold the newest frame's weights exactly as
 *      the C ABI computes them, and the delay must equal the stream's latency;
 *   5. teardown: instances freed, classes unregistered, no String or packed array leaked.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_godot.h"
#include "mimetic.h"

static int checks, failures;
#define CHECK(cond, ...)                                                             \
    do {                                                                             \
        checks++;                                                                    \
        if (!(cond)) {                                                               \
            failures++;                                                              \
            printf("  FAIL %s:%d: ", __FILE__, __LINE__);                            \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
        }                                                                            \
    } while (0)

/* ---- the .gdextension file ----------------------------------------------------------------- */

typedef struct {
    char entry_symbol[128];
    char compatibility_minimum[32];
    char library[512];   /* res:// path for linux x86_64 */
} GdextensionFile;

static void trim(char *s) {
    char *start = s;
    while (*start == ' ' || *start == '\t') start++;
    memmove(s, start, strlen(start) + 1);
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}
static void unquote(char *s) {
    trim(s);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
    }
}

/* The INI-like format Godot reads (ConfigFile): [section], key = "value". */
static bool read_gdextension(const char *path, GdextensionFile *out) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    memset(out, 0, sizeof *out);
    char line[1024], section[64] = "";
    while (fgets(line, sizeof line, f)) {
        trim(line);
        if (!*line || *line == ';' || *line == '#') continue;
        if (*line == '[') {
            snprintf(section, sizeof section, "%s", line);
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        char key[256], value[768];
        snprintf(key, sizeof key, "%s", line);
        snprintf(value, sizeof value, "%s", eq + 1);
        trim(key);
        unquote(value);
        if (strcmp(section, "[configuration]") == 0 && strcmp(key, "entry_symbol") == 0) snprintf(out->entry_symbol, sizeof out->entry_symbol, "%s", value);
        if (strcmp(section, "[configuration]") == 0 && strcmp(key, "compatibility_minimum") == 0) snprintf(out->compatibility_minimum, sizeof out->compatibility_minimum, "%s", value);
        /* Godot picks the most specific key that matches its features: a debug build on Linux x86_64. */
        if (strcmp(section, "[libraries]") == 0 && (strcmp(key, "linux.debug.x86_64") == 0 || (!*out->library && strcmp(key, "linux.x86_64") == 0)))
            snprintf(out->library, sizeof out->library, "%s", value);
    }
    fclose(f);
    return *out->entry_symbol && *out->library;
}

/* ---- calling the extension the two ways Godot does -------------------------------------------- */

static HostVariant v_int(int64_t i) { HostVariant v; memset(&v, 0, sizeof v); v.type = GDEXTENSION_VARIANT_TYPE_INT; v.v.i = i; return v; }
static HostVariant v_float(double f) { HostVariant v; memset(&v, 0, sizeof v); v.type = GDEXTENSION_VARIANT_TYPE_FLOAT; v.v.f = f; return v; }
static HostVariant v_bool(bool b) { HostVariant v; memset(&v, 0, sizeof v); v.type = GDEXTENSION_VARIANT_TYPE_BOOL; v.v.b = b; return v; }
static HostVariant v_object(HostObject *o) { HostVariant v; memset(&v, 0, sizeof v); v.type = GDEXTENSION_VARIANT_TYPE_OBJECT; v.v.o = o; return v; }
static HostVariant v_text(int type, const char *s) {
    HostVariant v;
    memset(&v, 0, sizeof v);
    v.type = type;
    host_string_new(&v.v.p, s);
    return v;
}
static HostVariant v_packed(const HostPackedValue *a) {
    HostVariant v;
    memset(&v, 0, sizeof v);
    v.type = a->data->type;
    v.v.p = a->data;
    a->data->refcount++;
    return v;
}

/* The call path: obj.method(args) from untyped GDScript. Returns the call error. */
static GDExtensionCallErrorType call(HostObject *o, const char *method, HostVariant *args, int argc, HostVariant *ret) {
    HostMethod *m = NULL;
    for (HostClass *c = o->ext; c && !m; c = host_class(c->parent)) m = host_method(c, method);
    memset(ret, 0, sizeof *ret);
    if (!m) { printf("  no method %s\n", method); failures++; return GDEXTENSION_CALL_ERROR_INVALID_METHOD; }
    const void *argv[8];
    for (int i = 0; i < argc; i++) argv[i] = &args[i];
    GDExtensionCallError error = {GDEXTENSION_CALL_OK, 0, 0};
    m->info.call_func(m->info.method_userdata, o->instance, argv, argc, ret, &error);
    return error.error;
}

/* The ptrcall path: typed GDScript or C++. r_ret must hold an initialized value of the return type. */
static void ptrcall(HostObject *o, const char *method, const void *const *args, void *ret) {
    HostMethod *m = NULL;
    for (HostClass *c = o->ext; c && !m; c = host_class(c->parent)) m = host_method(c, method);
    if (!m) { printf("  no method %s\n", method); failures++; return; }
    m->info.ptrcall_func(m->info.method_userdata, o->instance, args, ret);
}

static int64_t ptrcall_int0(HostObject *o, const char *method) {
    int64_t r = -12345;
    ptrcall(o, method, NULL, &r);
    return r;
}

static int64_t ptrcall_string_arg(HostObject *o, const char *method, const char *s) {
    char *str;
    host_string_new(&str, s);
    const void *args[1] = {&str};
    int64_t r = -12345;
    ptrcall(o, method, args, &r);
    host_string_free(&str);
    return r;
}

static char *call_string0(HostObject *o, const char *method) {
    HostVariant r;
    call(o, method, NULL, 0, &r);
    char *out = strdup(r.type == GDEXTENSION_VARIANT_TYPE_STRING ? (const char *)r.v.p : "<not a String>");
    host_variant_destroy(&r);
    return out;
}

/* ---- 1. registration ------------------------------------------------------------------------- */

typedef struct { const char *cls, *method; int ret; int argc; int args[4]; } Signature;

static void check_registration(void) {
    printf("== registration: classes, methods, properties\n");
    HostClass *model = host_class("MimeticModel"), *stream = host_class("MimeticStream"), *face = host_class("MimeticFace");
    CHECK(model && strcmp(model->parent, "Resource") == 0, "MimeticModel extends Resource");
    CHECK(stream && strcmp(stream->parent, "RefCounted") == 0, "MimeticStream extends RefCounted");
    CHECK(face && strcmp(face->parent, "Node") == 0, "MimeticFace extends Node");
    if (!model || !stream || !face) return;
    enum { I = GDEXTENSION_VARIANT_TYPE_INT, F = GDEXTENSION_VARIANT_TYPE_FLOAT, B = GDEXTENSION_VARIANT_TYPE_BOOL,
           S = GDEXTENSION_VARIANT_TYPE_STRING, O = GDEXTENSION_VARIANT_TYPE_OBJECT, N = GDEXTENSION_VARIANT_TYPE_NIL,
           PF = GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, P2 = GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY,
           P3 = GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, NP = GDEXTENSION_VARIANT_TYPE_NODE_PATH };
    static const Signature expected[] = {
        {"MimeticModel", "load", I, 1, {S}}, {"MimeticModel", "load_blend_shapes", I, 1, {S}},
        {"MimeticModel", "get_fps", I, 0, {0}}, {"MimeticModel", "get_style_name", S, 1, {I}},
        {"MimeticModel", "get_template", P3, 0, {0}}, {"MimeticModel", "get_blend_shape_name", S, 1, {I}},
        {"MimeticStream", "open", I, 2, {O, I}}, {"MimeticStream", "push_audio", I, 2, {PF, I}},
        {"MimeticStream", "push_stereo", I, 1, {P2}}, {"MimeticStream", "frames_ready", I, 0, {0}},
        {"MimeticStream", "pull_offsets", PF, 0, {0}}, {"MimeticStream", "pull_vertices", P3, 0, {0}},
        {"MimeticStream", "pull_weights", PF, 0, {0}}, {"MimeticStream", "flush", I, 0, {0}},
        {"MimeticStream", "reset", I, 0, {0}}, {"MimeticStream", "set_style", I, 1, {I}},
        {"MimeticStream", "load_persona", I, 1, {S}}, {"MimeticStream", "get_latency", F, 0, {0}},
        {"MimeticStream", "set_controls", I, 3, {F, F, F}}, {"MimeticStream", "get_last_error", S, 0, {0}},
        {"MimeticFace", "set_mesh_path", N, 1, {NP}}, {"MimeticFace", "get_latency", F, 0, {0}},
        {"MimeticFace", "set_compensate_latency", N, 1, {B}},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const Signature *e = &expected[i];
        HostMethod *m = host_method(host_class(e->cls), e->method);
        CHECK(m != NULL, "%s.%s registered", e->cls, e->method);
        if (!m) continue;
        CHECK((int)m->ret_type == e->ret, "%s.%s returns type %d (got %d)", e->cls, e->method, e->ret, m->ret_type);
        CHECK((int)m->info.argument_count == e->argc, "%s.%s takes %d arguments", e->cls, e->method, e->argc);
        for (int a = 0; a < e->argc && a < (int)m->info.argument_count; a++)
            CHECK((int)m->arg_types[a] == e->args[a], "%s.%s argument %d has type %d", e->cls, e->method, a, e->args[a]);
    }
    const char *face_properties[] = {"model_path", "blend_shapes_path", "mesh", "audio_bus", "shape_prefix", "strength",
                                     "smoothing_ms", "closure_boost", "style", "compensate_latency"};
    for (size_t i = 0; i < sizeof face_properties / sizeof face_properties[0]; i++)
        CHECK(host_property(face, face_properties[i]) != NULL, "MimeticFace.%s is a property", face_properties[i]);
    HostProperty *mesh = host_property(face, "mesh");
    CHECK(mesh && mesh->type == GDEXTENSION_VARIANT_TYPE_NODE_PATH && strcmp(mesh->hint_string, "MeshInstance3D") == 0,
          "MimeticFace.mesh is a NodePath to a MeshInstance3D");
    HostProperty *fps = host_property(model, "fps");
    CHECK(fps && *fps->setter == 0 && fps->usage == 4, "MimeticModel.fps is read-only and not stored");
}

/* ---- 2. MimeticModel ------------------------------------------------------------------------- */

static HostObject *check_model(const mimetic_model_info *info, mimetic_model *ref_model) {
    printf("== MimeticModel: load, information, errors\n");
    HostObject *model = host_instantiate("MimeticModel");
    if (!model) return NULL;
    int errors = host_errors;
    int64_t status = ptrcall_string_arg(model, "load", "res://addons/mimetic/models/missing.safetensors");
    CHECK(status == MIMETIC_ERROR_IO, "load of a missing file returns MIMETIC_ERROR_IO (%lld)", (long long)status);
    CHECK(host_errors == errors + 1 && strstr(host_last_error, "missing.safetensors"), "the failure is an error naming the file: %s", host_last_error);
    char *message = call_string0(model, "get_last_error");
    CHECK(strstr(message, "missing.safetensors") != NULL, "get_last_error repeats it: %s", message);
    free(message);

    /* The call path, with a wrong argument type and count first. */
    HostVariant arg = v_int(7), ret;
    CHECK(call(model, "load", &arg, 1, &ret) == GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT, "load(7) is an invalid argument");
    CHECK(call(model, "load", NULL, 0, &ret) == GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS, "load() has too few arguments");
    arg = v_text(GDEXTENSION_VARIANT_TYPE_STRING, "res://addons/mimetic/models/default.safetensors");
    CHECK(call(model, "load", &arg, 1, &ret) == GDEXTENSION_CALL_OK && ret.type == GDEXTENSION_VARIANT_TYPE_INT && ret.v.i == 0,
          "load(res://.../default.safetensors) returns OK");
    host_variant_destroy(&arg);
    /* A StringName converts to the String parameter, as in Godot. */
    arg = v_text(GDEXTENSION_VARIANT_TYPE_STRING_NAME, "res://addons/mimetic/models/arkit52.safetensors");
    CHECK(call(model, "load_blend_shapes", &arg, 1, &ret) == GDEXTENSION_CALL_OK && ret.v.i == 0, "load_blend_shapes(StringName) returns OK");
    host_variant_destroy(&arg);

    CHECK(ptrcall_int0(model, "get_fps") == info->fps, "get_fps = %d", info->fps);
    CHECK(ptrcall_int0(model, "get_sample_rate") == info->sample_rate, "get_sample_rate");
    CHECK(ptrcall_int0(model, "get_vertex_count") == info->num_vertices, "get_vertex_count");
    CHECK(ptrcall_int0(model, "get_style_count") == info->num_styles, "get_style_count");
    CHECK(ptrcall_int0(model, "get_blend_shape_count") == 52, "52 ARKit shapes");
    arg = v_int(17);
    call(model, "get_blend_shape_name", &arg, 1, &ret);
    CHECK(ret.type == GDEXTENSION_VARIANT_TYPE_STRING && strlen((char *)ret.v.p) > 0, "get_blend_shape_name(17) = %s", ret.type == GDEXTENSION_VARIANT_TYPE_STRING ? (char *)ret.v.p : "?");
    host_variant_destroy(&ret);
    arg = v_int(9999);
    call(model, "get_blend_shape_name", &arg, 1, &ret);
    CHECK(ret.type == GDEXTENSION_VARIANT_TYPE_STRING && strlen((char *)ret.v.p) == 0, "get_blend_shape_name(9999) is empty");
    host_variant_destroy(&ret);

    /* The template through ptrcall into an initialized array, as Godot passes it. */
    HostPackedValue templ;
    host_packed_new(&templ, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, 0);
    ptrcall(model, "get_template", NULL, &templ);
    float *expect = malloc((size_t)info->output_size * sizeof(float));
    CHECK(templ.data->size == info->num_vertices, "get_template has %d vertices", info->num_vertices);
    if (templ.data->size == info->num_vertices) {
        mimetic_model_get_template(ref_model, expect, (size_t)info->output_size);
        CHECK(memcmp(templ.data->bytes, expect, (size_t)info->output_size * sizeof(float)) == 0, "get_template equals the C ABI's");
    }
    host_packed_destroy(&templ);
    free(expect);
    return model;
}

/* ---- 3. MimeticStream against the C ABI --------------------------------------------------------- */

/* The sample as stereo with different channels (L = x + d, R = x - d/2), and the mono mix Godot's
 * user expects, (L + R) / 2, which the C ABI reference streams are fed. */
static float *stereo, *mixed;
static void make_stereo(const mimetic_audio *audio) {
    stereo = malloc(audio->n_samples * 2 * sizeof(float));
    mixed = malloc(audio->n_samples * sizeof(float));
    for (size_t i = 0; i < audio->n_samples; i++) {
        float d = 0.05f * (float)sin(0.01 * (double)i);
        stereo[2 * i] = audio->samples[i] + d;
        stereo[2 * i + 1] = audio->samples[i] - 0.5f * d;
        mixed[i] = 0.5f * (stereo[2 * i] + stereo[2 * i + 1]);
    }
}

static HostPackedValue stereo_chunk(size_t at, size_t n) {
    HostPackedValue a;
    host_packed_new(&a, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, (int64_t)n);
    memcpy(a.data->bytes, stereo + 2 * at, n * 2 * sizeof(float));
    return a;
}

static void check_stream(HostObject *model, mimetic_model *ref_model, const mimetic_audio *audio, const mimetic_model_info *info) {
    printf("== MimeticStream: 10 ms stereo chunks at 48 kHz, against the C ABI bit for bit\n");
    HostObject *offsets_stream = host_instantiate("MimeticStream");
    HostObject *weights_stream = host_instantiate("MimeticStream");
    int64_t status = -1;

    /* Wrong order: push before open. */
    int errors = host_errors;
    HostPackedValue chunk = stereo_chunk(0, 480);
    const void *chunk_arg[1] = {&chunk};
    ptrcall(offsets_stream, "push_stereo", chunk_arg, &status);
    CHECK(status == MIMETIC_ERROR_WRONG_STATE && host_errors == errors + 1, "push_stereo before open is WRONG_STATE with an error");
    host_packed_destroy(&chunk);

    /* open(model, 48000): ptrcall for one, call for the other. */
    HostObject *model_ptr = model;
    int64_t rate = 48000;
    const void *open_args[2] = {&model_ptr, &rate};
    ptrcall(offsets_stream, "open", open_args, &status);
    CHECK(status == MIMETIC_OK, "open via ptrcall");
    HostVariant args[3] = {v_object(model), v_int(48000)}, ret;
    CHECK(call(weights_stream, "open", args, 2, &ret) == GDEXTENSION_CALL_OK && ret.v.i == MIMETIC_OK, "open via call");
    /* A non-model object is refused. */
    HostObject *not_model = host_new_engine_object("Resource");
    HostVariant bad[2] = {v_object(not_model), v_int(48000)};
    HostObject *spare = host_instantiate("MimeticStream");
    call(spare, "open", bad, 2, &ret);
    CHECK(ret.v.i == MIMETIC_ERROR_INVALID_ARGUMENT, "open(a plain Resource) is INVALID_ARGUMENT");
    free(not_model);
    host_free_object(spare);

    /* The C ABI streams: same params as the addon's (max_queued_frames = fps). */
    mimetic_stream_params sp;
    mimetic_stream_params_init(&sp);
    sp.sample_rate = 48000;
    sp.reserve_persona_basis = info->family == MIMETIC_FAMILY_IMITATOR;
    if (sp.max_queued_frames < info->fps) sp.max_queued_frames = info->fps;
    mimetic_stream *ref_offsets = NULL, *ref_weights = NULL;
    mimetic_stream_create(ref_model, &sp, NULL, 0, &ref_offsets);
    mimetic_stream_create(ref_model, &sp, NULL, 0, &ref_weights);
    mimetic_retarget *ref_basis = NULL;
    mimetic_retarget_load(ref_model, "models/arkit52.safetensors", NULL, &ref_basis);
    CHECK(ref_offsets && ref_weights && ref_basis, "C ABI reference streams");
    float *expect = malloc((size_t)info->output_size * sizeof(float));
    float *templ = malloc((size_t)info->output_size * sizeof(float));
    mimetic_model_get_template(ref_model, templ, (size_t)info->output_size);
    float expect_w[64];

    long frames_offsets = 0, frames_vertices = 0, frames_weights = 0, mismatched = 0;
    double latency = -1;
    ptrcall(offsets_stream, "get_latency", NULL, &latency);
    double ref_latency = 0;
    mimetic_stream_get_latency(ref_offsets, &ref_latency);
    CHECK(latency == ref_latency, "get_latency %.4f s = the C ABI's %.4f s", latency, ref_latency);

    const size_t step = 480; /* 10 ms at 48 kHz */
    for (size_t at = 0; at <= audio->n_samples; at += step) {
        bool last = at + step > audio->n_samples;
        size_t n = last ? audio->n_samples - at : step;
        if (n > 0) {
            chunk = stereo_chunk(at, n);
            ptrcall(offsets_stream, "push_stereo", chunk_arg, &status);
            CHECK(status == MIMETIC_OK, "push_stereo at %zu", at);
            HostVariant cv = v_packed(&chunk);
            call(weights_stream, "push_stereo", &cv, 1, &ret);
            CHECK(ret.v.i == MIMETIC_OK, "push_stereo (call) at %zu", at);
            host_variant_destroy(&cv);
            host_packed_destroy(&chunk);
            mimetic_stream_push_audio(ref_offsets, mixed + at, n);
            mimetic_stream_push_audio(ref_weights, mixed + at, n);
        }
        if (last) {
            ptrcall(offsets_stream, "flush", NULL, &status);
            call(weights_stream, "flush", NULL, 0, &ret);
            mimetic_stream_flush(ref_offsets);
            mimetic_stream_flush(ref_weights);
        }
        /* Offsets and vertices, alternately, through ptrcall. */
        for (;;) {
            int64_t ready = ptrcall_int0(offsets_stream, "frames_ready");
            mimetic_status rs = mimetic_stream_pull_frame(ref_offsets, expect, (size_t)info->output_size, NULL);
            if (ready == 0) {
                CHECK(rs == MIMETIC_ERROR_NOT_READY, "the addon has no frame when the C ABI has none");
                break;
            }
            bool vertices = (frames_offsets + frames_vertices) % 2 == 1;
            HostPackedValue out;
            host_packed_new(&out, vertices ? GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY : GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, 0);
            ptrcall(offsets_stream, vertices ? "pull_vertices" : "pull_offsets", NULL, &out);
            bool same = rs == MIMETIC_OK && out.data->size == (vertices ? info->num_vertices : info->output_size);
            if (same && vertices) {
                for (int32_t i = 0; i < info->output_size && same; i++) same = ((float *)out.data->bytes)[i] == templ[i] + expect[i];
            } else if (same) {
                same = memcmp(out.data->bytes, expect, (size_t)info->output_size * sizeof(float)) == 0;
            }
            if (!same) mismatched++;
            if (vertices) frames_vertices++; else frames_offsets++;
            host_packed_destroy(&out);
        }
        /* Weights through the call path. */
        for (;;) {
            HostVariant w;
            call(weights_stream, "pull_weights", NULL, 0, &w);
            mimetic_status rs = mimetic_stream_pull_weights(ref_weights, ref_basis, expect_w, 64, NULL, NULL);
            HostPacked *p = w.type == GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY ? w.v.p : NULL;
            if (!p || p->size == 0) {
                CHECK(rs == MIMETIC_ERROR_NOT_READY, "the addon has no weights when the C ABI has none");
                host_variant_destroy(&w);
                break;
            }
            if (rs != MIMETIC_OK || p->size != 52 || memcmp(p->bytes, expect_w, 52 * sizeof(float)) != 0) mismatched++;
            frames_weights++;
            host_variant_destroy(&w);
        }
    }
    size_t expected_frames = 0;
    mimetic_animate_frame_count(ref_model, audio->n_samples, 48000, &expected_frames);
    printf("  %ld offset frames, %ld vertex frames, %ld weight frames (offline: %zu), %ld mismatched\n", frames_offsets,
           frames_vertices, frames_weights, expected_frames, mismatched);
    CHECK(mismatched == 0, "every frame equals the C ABI's bit for bit");
    CHECK(frames_offsets + frames_vertices == frames_weights && frames_weights > 0, "both streams gave the same number of frames");
    CHECK(ptrcall_int0(offsets_stream, "frames_ready") == 0, "drained");
    GDExtensionBool complete = 0;
    ptrcall(offsets_stream, "is_complete", NULL, &complete);
    CHECK(complete, "is_complete after the flush and the last pull");

    /* Errors as values: a sample-rate mismatch on push_audio, push after flush, an unknown persona. */
    HostPackedValue mono;
    host_packed_new(&mono, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, 160);
    HostVariant pa[2] = {v_packed(&mono), v_int(16000)};
    call(weights_stream, "push_audio", pa, 2, &ret);
    CHECK(ret.v.i == MIMETIC_ERROR_INVALID_ARGUMENT && strstr(host_last_error, "48000"), "push_audio at 16 kHz into a 48 kHz stream: %s", host_last_error);
    pa[1] = v_int(48000);
    call(weights_stream, "push_audio", pa, 2, &ret);
    CHECK(ret.v.i == MIMETIC_ERROR_WRONG_STATE, "push_audio after flush is WRONG_STATE (%lld)", (long long)ret.v.i);
    call(weights_stream, "reset", NULL, 0, &ret);
    CHECK(ret.v.i == MIMETIC_OK, "reset");
    call(weights_stream, "push_audio", pa, 2, &ret);
    CHECK(ret.v.i == MIMETIC_OK, "push_audio after reset");
    host_variant_destroy(&pa[0]);
    host_packed_destroy(&mono);
    HostVariant persona = v_text(GDEXTENSION_VARIANT_TYPE_STRING, "res://no/such/persona.safetensors");
    call(weights_stream, "load_persona", &persona, 1, &ret);
    CHECK(ret.v.i == MIMETIC_ERROR_IO, "load_persona of a missing file is MIMETIC_ERROR_IO (%lld)", (long long)ret.v.i);
    host_variant_destroy(&persona);
    HostVariant controls[3] = {v_float(1.5), v_float(40), v_float(0.5)};
    call(weights_stream, "set_controls", controls, 3, &ret);
    CHECK(ret.v.i == MIMETIC_OK, "set_controls(1.5, 40, 0.5)");
    controls[0] = v_float(99);
    call(weights_stream, "set_controls", controls, 3, &ret);
    CHECK(ret.v.i == MIMETIC_ERROR_INVALID_ARGUMENT, "set_controls(strength 99) is refused");

    free(expect);
    free(templ);
    mimetic_retarget_free(ref_basis);
    mimetic_stream_free(ref_offsets);
    mimetic_stream_free(ref_weights);
    host_free_object(offsets_stream);
    host_free_object(weights_stream);
}

/* ---- 4. MimeticFace with a fake bus and mesh ---------------------------------------------------- */

static const char *const missing_on_mesh[] = {"tongueOut", "cheekPuff"};

static HostObject *fake_mesh(mimetic_retarget *basis) {
    HostObject *mesh = host_new_engine_object("MeshInstance3D");
    int k = mimetic_retarget_count(basis);
    mesh->fake.shape_names = calloc((size_t)k + 2, sizeof(char *));
    mesh->fake.shape_values = calloc((size_t)k + 2, sizeof(float));
    /* Reversed order, two extra shapes, two of the basis' missing: indices differ from the basis'. */
    mesh->fake.shape_names[mesh->fake.shape_count++] = strdup("Basis");
    for (int i = k - 1; i >= 0; i--) {
        const char *name = mimetic_retarget_name(basis, i);
        if (strcmp(name, missing_on_mesh[0]) == 0 || strcmp(name, missing_on_mesh[1]) == 0) continue;
        /* Two shapes spelled as other rigs spell them: a namespace, and upper case with '_'. */
        if (strcmp(name, "mouthSmileLeft") == 0) name = "blendShape1.mouthSmileLeft";
        if (strcmp(name, "jawOpen") == 0) name = "JAW_OPEN";
        mesh->fake.shape_names[mesh->fake.shape_count++] = strdup(name);
    }
    mesh->fake.shape_names[mesh->fake.shape_count++] = strdup("eyeBlink_extra");
    for (int i = 0; i < mesh->fake.shape_count; i++) mesh->fake.shape_values[i] = -7.0f; /* untouched marker */
    return mesh;
}

static void set_property(HostObject *o, const char *name, HostVariant value) {
    HostProperty *p = host_property(o->ext, name);
    HostVariant ret;
    if (!p) { printf("  no property %s\n", name); failures++; return; }
    /* Scene loading sets properties through their setters, with Variants. */
    CHECK(call(o, p->setter, &value, 1, &ret) == GDEXTENSION_CALL_OK, "set %s", name);
    host_variant_destroy(&ret);
    host_variant_destroy(&value);
}

static void process(HostObject *face, double delta) {
    GDExtensionClassCallVirtual fn = NULL;
    char *name;
    host_string_new(&name, "_process");
    fn = face->ext->info.get_virtual_func(face->ext->info.class_userdata, &name);
    host_string_free(&name);
    if (!fn) { printf("  MimeticFace has no _process\n"); failures++; return; }
    const void *args[1] = {&delta};
    fn(face->instance, args, NULL);
}

static void check_face(mimetic_model *ref_model, const mimetic_audio *audio, const mimetic_model_info *info) {
    printf("== MimeticFace: capture -> stream -> blend shapes on a fake MeshInstance3D, latency compensated\n");
    mimetic_retarget_params rp;
    mimetic_retarget_params_init(&rp);
    rp.strength = 1.25f;
    rp.smoothing_ms = 30.0f;
    rp.closure_boost = 0.5f;
    mimetic_retarget *ref_basis = NULL;
    mimetic_retarget_load(ref_model, "models/arkit52.safetensors", &rp, &ref_basis);
    host_mesh = fake_mesh(ref_basis);
    host_capture = host_new_engine_object("AudioEffectCapture");
    host_delay = host_new_engine_object("AudioEffectDelay");
    host_delay->fake.dry = 1.0;
    size_t n = audio->n_samples;
    host_capture->fake.frames = malloc(n * 2 * sizeof(float));
    memcpy(host_capture->fake.frames, stereo, n * 2 * sizeof(float));

    HostObject *face = host_instantiate("MimeticFace");
    CHECK(host_class("MimeticFace")->info.get_virtual_func != NULL, "MimeticFace answers virtual look-ups");
    char *other;
    host_string_new(&other, "_physics_process");
    CHECK(face->ext->info.get_virtual_func(face->ext->info.class_userdata, &other) == NULL, "only _process is overridden");
    host_string_free(&other);

    set_property(face, "mesh", v_text(GDEXTENSION_VARIANT_TYPE_NODE_PATH, host_mesh_path));
    set_property(face, "strength", v_float(1.25));
    set_property(face, "smoothing_ms", v_int(30)); /* an int where a float is expected converts, as in Godot */
    set_property(face, "closure_boost", v_float(0.5));
    set_property(face, "compensate_latency", v_bool(true));
    HostVariant got;
    call(face, "get_mesh_path", NULL, 0, &got);
    CHECK(got.type == GDEXTENSION_VARIANT_TYPE_NODE_PATH && strcmp(got.v.p, host_mesh_path) == 0, "get_mesh_path gives the NodePath back");
    host_variant_destroy(&got);

    mimetic_stream_params sp;
    mimetic_stream_params_init(&sp);
    sp.sample_rate = 48000;
    sp.reserve_persona_basis = info->family == MIMETIC_FAMILY_IMITATOR;
    if (sp.max_queued_frames < info->fps) sp.max_queued_frames = info->fps;
    mimetic_stream *ref = NULL;
    mimetic_stream_create(ref_model, &sp, NULL, 0, &ref);
    double latency = 0;
    mimetic_stream_get_latency(ref, &latency);

    /* 60 game frames a second: 800 frames of 48 kHz audio arrive per _process. */
    const size_t per_frame = 800;
    float w[64], last_w[64];
    long steps = 0, applied_steps = 0, wrong = 0;
    bool have = false;
    for (size_t at = 0; at < n; at += per_frame) {
        size_t chunk = n - at < per_frame ? n - at : per_frame;
        host_capture->fake.frames_available += (int64_t)chunk;
        process(face, 1.0 / 60.0);
        mimetic_stream_push_audio(ref, mixed + at, chunk);
        bool got_frame = false;
        while (mimetic_stream_pull_weights(ref, ref_basis, w, 64, NULL, NULL) == MIMETIC_OK) {
            memcpy(last_w, w, sizeof w);
            got_frame = have = true;
        }
        steps++;
        if (!have) continue;
        applied_steps += got_frame;
        /* The mesh holds the newest frame's weights, mapped by name. */
        for (int s = 0; s < host_mesh->fake.shape_count; s++) {
            const char *name = host_mesh->fake.shape_names[s];
            float expect = -7.0f;
            for (int k = 0; k < mimetic_retarget_count(ref_basis); k++) {
                const char *basis_name = mimetic_retarget_name(ref_basis, k);
                if (strcmp(basis_name, name) == 0 || (strcmp(basis_name, "mouthSmileLeft") == 0 && strcmp(name, "blendShape1.mouthSmileLeft") == 0) ||
                    (strcmp(basis_name, "jawOpen") == 0 && strcmp(name, "JAW_OPEN") == 0))
                    expect = last_w[k];
            }
            if (host_mesh->fake.shape_values[s] != expect) wrong++;
        }
    }
    int64_t mapped = ptrcall_int0(face, "get_mapped_shape_count");
    int64_t applied = ptrcall_int0(face, "get_frames_applied");
    printf("  %ld _process calls, %ld with new frames (applied %lld), %lld of 52 shapes mapped, %ld wrong values\n", steps, applied_steps,
           (long long)applied, (long long)mapped, wrong);
    CHECK(wrong == 0, "the mesh's blend shapes equal the C ABI's weights after every _process");
    CHECK(mapped == 50, "50 of 52 shapes mapped (two are missing on the mesh; two spelled differently are found)");
    CHECK(host_mesh->fake.mesh_resource && host_mesh->fake.name_reads == host_mesh->fake.shape_count,
          "the mesh's names were listed once, for the names not found as they are (%lld reads)", (long long)(host_mesh->fake.mesh_resource ? host_mesh->fake.name_reads : -1));
    CHECK(applied == applied_steps && applied > 0, "weights applied on each _process that brought a frame");
    CHECK(host_capture->fake.frames_available == 0, "the capture was drained every frame");
    double face_latency = -1;
    ptrcall(face, "get_latency", NULL, &face_latency);
    CHECK(face_latency == latency, "MimeticFace.get_latency = %.4f s", latency);
    CHECK(host_delay->fake.dry == 0.0 && host_delay->fake.tap1_active && !host_delay->fake.tap2_active && !host_delay->fake.feedback_active &&
          host_delay->fake.tap1_level_db == 0.0 && host_delay->fake.tap1_delay_ms == latency * 1000.0,
          "the delay after the capture delays the sound by the latency: %.2f ms (dry %.1f)", host_delay->fake.tap1_delay_ms, host_delay->fake.dry);
    CHECK(host_delay->fake.delay_calls == 7, "the delay was configured once (%d setter calls)", host_delay->fake.delay_calls);

    /* A bus without capture, then a missing bus: warnings, once, and no crash. */
    int warnings = host_warnings;
    host_bus_has_capture = false;
    host_capture->fake.frames_available = 0;
    process(face, 1.0 / 60.0);
    process(face, 1.0 / 60.0);
    CHECK(host_warnings == warnings + 1, "a bus without AudioEffectCapture: one warning");
    host_bus_exists = false;
    process(face, 1.0 / 60.0);
    CHECK(host_warnings == warnings + 2, "a missing bus: one warning");
    host_bus_exists = host_bus_has_capture = true;

    /* A model that does not load: one error, not one per frame, and no frames. */
    int errors = host_errors;
    set_property(face, "model_path", v_text(GDEXTENSION_VARIANT_TYPE_STRING, "res://nothing/here.safetensors"));
    process(face, 1.0 / 60.0);
    process(face, 1.0 / 60.0);
    CHECK(host_errors == errors + 1 && strstr(host_last_error, "here.safetensors"), "a bad model_path: one error: %s", host_last_error);

    mimetic_stream_free(ref);
    mimetic_retarget_free(ref_basis);
    host_free_object(face);
    host_free_object(host_mesh);
    host_free_object(host_capture);
    host_free_object(host_delay);
    host_mesh = host_capture = host_delay = NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROJECT_DIR AUDIO.wav\n", argv[0]);
        return 2;
    }
    host_project_dir = argv[1];
    char path[1024];
    snprintf(path, sizeof path, "%s/addons/mimetic/mimetic.gdextension", argv[1]);
    GdextensionFile ext;
    if (!read_gdextension(path, &ext)) {
        fprintf(stderr, "cannot read the entry symbol and the linux library from %s\n", path);
        return 1;
    }
    printf("== %s: entry_symbol %s, compatibility_minimum %s, library %s\n", path, ext.entry_symbol, ext.compatibility_minimum, ext.library);
    CHECK(strcmp(ext.compatibility_minimum, "4.1") == 0, "compatibility_minimum is 4.1");
    CHECK(strncmp(ext.library, "res://", 6) == 0, "the library is a res:// path");
    char library[1024];
    snprintf(library, sizeof library, "%s/%s", argv[1], ext.library + 6);
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "dlopen(%s): %s\n", library, dlerror());
        return 1;
    }
    GDExtensionInitializationFunction entry = (GDExtensionInitializationFunction)dlsym(handle, ext.entry_symbol);
    if (!entry) {
        fprintf(stderr, "the library has no symbol %s\n", ext.entry_symbol);
        return 1;
    }

    GDExtensionInitialization init;
    memset(&init, 0, sizeof init);
    CHECK(entry(host_get_proc_address, &host_library_token, &init) == 1, "the entry point accepts the interface");
    CHECK(init.initialize && init.deinitialize && init.minimum_initialization_level <= GDEXTENSION_INITIALIZATION_SCENE,
          "initialization callbacks, at SCENE level at the latest");
    if (!init.initialize || host_failures) return 1;
    for (int level = GDEXTENSION_INITIALIZATION_CORE; level <= GDEXTENSION_INITIALIZATION_SCENE; level++)
        if (level >= (int)init.minimum_initialization_level) init.initialize(init.userdata, (GDExtensionInitializationLevel)level);
    long strings_at_start = host_live_strings, packed_at_start = host_live_packed;

    check_registration();

    mimetic_model *ref_model = NULL;
    snprintf(path, sizeof path, "%s/addons/mimetic/models/default.safetensors", argv[1]);
    if (mimetic_model_load(path, &ref_model) != MIMETIC_OK) {
        fprintf(stderr, "C ABI: %s\n", mimetic_last_error());
        return 1;
    }
    mimetic_model_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    mimetic_model_get_info(ref_model, &info);
    mimetic_audio audio;
    memset(&audio, 0, sizeof audio);
    audio.struct_size = sizeof audio;
    if (mimetic_wav_read(argv[2], 48000, &audio) != MIMETIC_OK) {
        fprintf(stderr, "C ABI: %s\n", mimetic_last_error());
        return 1;
    }

    make_stereo(&audio);
    HostObject *model = check_model(&info, ref_model);
    if (model) check_stream(model, ref_model, &audio, &info);
    check_face(ref_model, &audio, &info);
    /* The model resource goes last: streams keep their model alive by their own reference. */
    host_free_object(model);

    for (int level = GDEXTENSION_INITIALIZATION_SCENE; level >= GDEXTENSION_INITIALIZATION_CORE; level--)
        if (level >= (int)init.minimum_initialization_level) init.deinitialize(init.userdata, (GDExtensionInitializationLevel)level);
    CHECK(host_class("MimeticModel") == NULL && host_class("MimeticFace") == NULL, "classes unregistered");
    CHECK(host_live_strings == strings_at_start && host_live_packed == packed_at_start,
          "no String or packed array leaked (%ld strings, %ld arrays alive; %ld, %ld at start)", host_live_strings, host_live_packed,
          strings_at_start, packed_at_start);

    mimetic_audio_free(&audio);
    mimetic_model_free(ref_model);
    free(stereo);
    free(mixed);
    printf("\n%d checks, %d failed; %d harness failures (unimplemented functions, methods or bad calls)\n", checks, failures, host_failures);
    return failures || host_failures ? 1 : 0;
}
