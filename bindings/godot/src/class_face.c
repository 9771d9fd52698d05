/*
 * class_face.c: MimeticFace, a Node that makes a MeshInstance3D talk from the audio playing on a bus.
 *
 * Each frame (_process) it reads what the bus's AudioEffectCapture heard since the last frame,
 * pushes it to its stream, pulls every frame that became ready, and sets the newest frame's
 * blendshape weights on the mesh (ARKit-52 names by default, matched to the mesh's blend shapes by
 * name: prefix + name exactly, else however the rig spells it: "blendShape1.jawOpen", "JAW_OPEN"). A face frame needs audio from after its own time (the stream's
 * latency), so with compensate_latency the node sets an AudioEffectDelay placed after the capture
 * on the same bus to delay what is heard by exactly that much: sound and face then line up.
 *
 * Bus layout it expects (Audio tab): bus "Voice" -> [AudioEffectCapture, AudioEffectDelay] -> Master,
 * and the AudioStreamPlayer's bus set to "Voice".
 */
#include "classes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FACE_MAGIC = 0x4d464143 };

typedef struct {
    GdInstanceHeader header;
    /* Properties. */
    char *model_path, *blend_shapes_path, *mesh_path, *audio_bus, *shape_prefix;
    double strength, smoothing_ms, closure_boost;
    int64_t style;
    bool compensate_latency;
    /* Running state. */
    StreamCore core;
    bool failed;               /* a setup error was reported: wait for a property change */
    uint32_t warned;           /* warnings already given, one bit each */
    int64_t mesh_id;           /* the mesh the shape map was made for */
    int32_t *shape_index;      /* per basis shape: the mesh's blend shape index, or -1 */
    int32_t mapped;            /* shapes found on the mesh */
    double delay_ms;           /* what the delay effect was set to (-1: not yet) */
    int64_t frames_applied;
} FaceInstance;

enum { WARN_NO_MESH = 1, WARN_NO_SHAPES = 2, WARN_NO_DELAY = 4, WARN_DELAY_ORDER = 8, WARN_NO_BUS = 16, WARN_NO_CAPTURE = 32 };

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out) memcpy(out, s, n);
    return out;
}

static void face_init(void *instance) {
    FaceInstance *self = instance;
    self->model_path = dup_string("res://addons/mimetic/models/default.safetensors");
    self->blend_shapes_path = dup_string("res://addons/mimetic/models/arkit52.safetensors");
    self->mesh_path = dup_string("");
    self->audio_bus = dup_string("Voice");
    self->shape_prefix = dup_string("");
    self->strength = 1.0;
    self->smoothing_ms = 0.0;
    self->closure_boost = 0.0;
    self->style = -1;
    self->compensate_latency = true;
    self->mesh_id = -1;
    self->delay_ms = -1;
}

static void face_stop(FaceInstance *self) {
    stream_core_close(&self->core);
    free(self->shape_index);
    self->shape_index = NULL;
    self->mesh_id = -1;
    self->mapped = 0;
    self->delay_ms = -1;
    self->failed = false;
    self->warned = 0;
}

static void face_deinit(void *instance) {
    FaceInstance *self = instance;
    face_stop(self);
    free(self->model_path);
    free(self->blend_shapes_path);
    free(self->mesh_path);
    free(self->audio_bus);
    free(self->shape_prefix);
}

static void fail(FaceInstance *self, const char *what) {
    gd_error("MimeticFace", "MimeticFace '%s': %s", self->model_path, what);
    self->failed = true;
}

static void warn_once(FaceInstance *self, uint32_t bit, const char *format, const char *detail) {
    if (self->warned & bit) return;
    self->warned |= bit;
    char message[512];
    snprintf(message, sizeof message, format, detail);
    gd_warning("MimeticFace", "MimeticFace: %s", message);
}

/* ---- engine objects ------------------------------------------------------------------------ */

static bool call_int(GDExtensionObjectPtr object, const char *method, const GdVariant *args, int argc, int64_t *out) {
    GdVariant result;
    bool ok = gd_call(object, method, args, argc, &result) && gd_variant_as_int(&result, out);
    gd_variant_free(&result);
    return ok;
}

static bool call_float(GDExtensionObjectPtr object, const char *method, double *out) {
    GdVariant result;
    bool ok = gd_call(object, method, NULL, 0, &result) && gd_variant_as_float(&result, out);
    gd_variant_free(&result);
    return ok;
}

static void call_void(GDExtensionObjectPtr object, const char *method, const GdVariant *arg) {
    GdVariant result;
    gd_call(object, method, arg, arg ? 1 : 0, &result);
    gd_variant_free(&result);
}

static bool is_class(GDExtensionObjectPtr object, const char *name) {
    GdVariant arg, result;
    gd_variant_string(&arg, name);
    bool yes = false;
    if (gd_call(object, "is_class", &arg, 1, &result)) gd_variant_as_bool(&result, &yes);
    gd_variant_free(&result);
    gd_variant_free(&arg);
    return yes;
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static bool face_setup(FaceInstance *self, GDExtensionObjectPtr audio_server) {
    if (stream_core_is_open(&self->core)) return true;
    if (self->failed) return false;
    char error[512];
    char *path = mimetic_os_path(self->model_path);
    ModelShared *shared = path ? model_shared_load(path, error, sizeof error) : NULL;
    free(path);
    if (!shared) { fail(self, error); return false; }
    path = mimetic_os_path(self->blend_shapes_path);
    bool ok = path && model_shared_load_basis(shared, path, error, sizeof error);
    free(path);
    if (!ok) {
        model_shared_release(shared);
        fail(self, error);
        return false;
    }
    double mix_rate = 0;
    if (!call_float(audio_server, "get_mix_rate", &mix_rate) || mix_rate < 8000 || mix_rate > 48000) {
        model_shared_release(shared);
        snprintf(error, sizeof error, "the audio mix rate (%.0f Hz) is outside the 8000..48000 Hz a stream accepts", mix_rate);
        fail(self, error);
        return false;
    }
    int32_t style = self->style >= 0 && self->style <= INT32_MAX ? (int32_t)self->style : -1;
    mimetic_status status = stream_core_open(&self->core, shared, (int32_t)(mix_rate + 0.5), style);
    model_shared_release(shared); /* the stream holds its own reference */
    if (status == MIMETIC_OK)
        status = stream_core_set_controls(&self->core, (float)self->strength, (float)self->smoothing_ms, (float)self->closure_boost);
    if (status != MIMETIC_OK) {
        fail(self, self->core.error);
        stream_core_close(&self->core);
        return false;
    }
    self->shape_index = malloc((size_t)(self->core.weight_count > 0 ? self->core.weight_count : 1) * sizeof(int32_t));
    if (!self->shape_index) { fail(self, "out of memory"); stream_core_close(&self->core); return false; }
    self->mesh_id = -1;
    return true;
}

/* The bus's capture effect (and delay effect, if any). */
static GDExtensionObjectPtr find_capture(FaceInstance *self, GDExtensionObjectPtr audio_server, GDExtensionObjectPtr *delay,
                                         bool *delay_before_capture) {
    *delay = NULL;
    *delay_before_capture = false;
    GdVariant bus_name, bus_index[2], result;
    gd_variant_string_name(&bus_name, self->audio_bus);
    int64_t bus = -1, count = 0;
    call_int(audio_server, "get_bus_index", &bus_name, 1, &bus);
    gd_variant_free(&bus_name);
    if (bus < 0) {
        warn_once(self, WARN_NO_BUS, "there is no audio bus named '%s': add it in the Audio tab, with an AudioEffectCapture", self->audio_bus);
        return NULL;
    }
    gd_variant_int(&bus_index[0], bus);
    call_int(audio_server, "get_bus_effect_count", bus_index, 1, &count);
    GDExtensionObjectPtr capture = NULL;
    for (int64_t i = 0; i < count; i++) {
        gd_variant_int(&bus_index[1], i);
        GDExtensionObjectPtr effect = NULL;
        if (gd_call(audio_server, "get_bus_effect", bus_index, 2, &result)) gd_variant_as_object(&result, &effect);
        gd_variant_free(&result); /* the bus keeps the effect alive */
        gd_variant_free(&bus_index[1]);
        if (!effect) continue;
        if (!capture && is_class(effect, "AudioEffectCapture")) capture = effect;
        else if (!*delay && is_class(effect, "AudioEffectDelay")) {
            *delay = effect;
            *delay_before_capture = capture == NULL;
        }
    }
    gd_variant_free(&bus_index[0]);
    if (!capture)
        warn_once(self, WARN_NO_CAPTURE, "the audio bus '%s' has no AudioEffectCapture: add one (Audio tab, Add Effect, Capture)", self->audio_bus);
    return capture;
}

/* Delays what is heard on the bus by the stream's latency: the delay effect's first tap only. */
static void compensate(FaceInstance *self, GDExtensionObjectPtr delay, bool delay_before_capture) {
    double latency = 0;
    if (stream_core_latency(&self->core, &latency) != MIMETIC_OK) return;
    if (!delay) {
        warn_once(self, WARN_NO_DELAY, "compensate_latency needs an AudioEffectDelay after the capture on bus '%s'; the face lags the sound by get_latency()", self->audio_bus);
        return;
    }
    if (delay_before_capture)
        warn_once(self, WARN_DELAY_ORDER, "on bus '%s' the AudioEffectDelay comes before the AudioEffectCapture: put it after, or the face lags the sound", self->audio_bus);
    double ms = latency * 1000.0;
    if (self->delay_ms == ms) return;
    GdVariant v;
    gd_variant_float(&v, 0.0); call_void(delay, "set_dry", &v); gd_variant_free(&v);
    gd_variant_bool(&v, true); call_void(delay, "set_tap1_active", &v); gd_variant_free(&v);
    gd_variant_float(&v, ms); call_void(delay, "set_tap1_delay_ms", &v); gd_variant_free(&v);
    gd_variant_float(&v, 0.0); call_void(delay, "set_tap1_level_db", &v); gd_variant_free(&v);
    gd_variant_float(&v, 0.0); call_void(delay, "set_tap1_pan", &v); gd_variant_free(&v);
    gd_variant_bool(&v, false); call_void(delay, "set_tap2_active", &v); gd_variant_free(&v);
    gd_variant_bool(&v, false); call_void(delay, "set_feedback_active", &v); gd_variant_free(&v);
    self->delay_ms = ms;
}

/* A blend shape name as rigs spell it in many ways: the part after the last '.' (Maya/Blender
 * exports say "blendShape1.jawOpen"), lower case, without '_', '-' or spaces ("JAW_OPEN"). */
static void normalize_name(const char *name, char *out, size_t size) {
    const char *dot = strrchr(name, '.');
    if (dot) name = dot + 1;
    size_t n = 0;
    for (; *name && n + 1 < size; name++) {
        char c = *name;
        if (c == '_' || c == '-' || c == ' ') continue;
        out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = 0;
}

/* The mesh's blend shape names, normalized: MeshInstance3D.get_blend_shape_count() and the
 * Mesh resource's get_blend_shape_name(i). NULL (count 0) if the mesh has none. */
static char **mesh_shape_names(GDExtensionObjectPtr mesh, int64_t *count) {
    *count = 0;
    int64_t n = 0;
    if (!call_int(mesh, "get_blend_shape_count", NULL, 0, &n) || n <= 0 || n > 100000) return NULL;
    GdVariant result;
    GDExtensionObjectPtr resource = NULL;
    if (gd_call(mesh, "get_mesh", NULL, 0, &result)) gd_variant_as_object(&result, &resource);
    gd_variant_free(&result); /* the MeshInstance3D keeps its mesh */
    char **names = resource ? calloc((size_t)n, sizeof(char *)) : NULL;
    if (!names) return NULL;
    for (int64_t i = 0; i < n; i++) {
        GdVariant index;
        gd_variant_int(&index, i);
        char *name = NULL;
        if (gd_call(resource, "get_blend_shape_name", &index, 1, &result) && gd_variant_type(&result) == GDEXTENSION_VARIANT_TYPE_STRING_NAME) {
            GdStringName sn;
            gd.to_type[GDEXTENSION_VARIANT_TYPE_STRING_NAME](&sn, &result);
            name = gd_string_name_to_utf8(&sn);
            gd_string_name_free(&sn);
        }
        gd_variant_free(&result);
        gd_variant_free(&index);
        char normalized[256] = "";
        if (name) normalize_name(name, normalized, sizeof normalized);
        free(name);
        names[i] = dup_string(normalized);
    }
    *count = n;
    return names;
}

/* Maps the basis' shapes onto the mesh's blend shapes: prefix + name exactly, else the same
 * name however the rig spells it (normalize_name). */
static void map_shapes(FaceInstance *self, GDExtensionObjectPtr mesh) {
    self->mapped = 0;
    int64_t mesh_count = -1; /* not listed yet */
    char **mesh_names = NULL;
    for (int32_t k = 0; k < self->core.weight_count; k++) {
        const char *name = mimetic_retarget_name(self->core.retarget, k);
        char full[256];
        snprintf(full, sizeof full, "%s%s", self->shape_prefix, name ? name : "");
        GdVariant arg;
        gd_variant_string_name(&arg, full);
        int64_t index = -1;
        call_int(mesh, "find_blend_shape_by_name", &arg, 1, &index);
        gd_variant_free(&arg);
        if (index < 0) {
            if (mesh_count < 0) mesh_names = mesh_shape_names(mesh, &mesh_count);
            char wanted[256];
            normalize_name(name ? name : "", wanted, sizeof wanted);
            for (int64_t i = 0; i < mesh_count && index < 0; i++)
                if (mesh_names[i] && strcmp(mesh_names[i], wanted) == 0) index = i;
        }
        self->shape_index[k] = index >= 0 && index <= INT32_MAX ? (int32_t)index : -1;
        if (self->shape_index[k] >= 0) self->mapped++;
    }
    for (int64_t i = 0; i < mesh_count; i++) free(mesh_names[i]);
    free(mesh_names);
    if (self->mapped == 0)
        warn_once(self, WARN_NO_SHAPES, "the mesh has none of the basis' blend shapes (e.g. 'jawOpen'); set shape_prefix if its names carry one ('%s' now)", self->shape_prefix);
}

static void apply_weights(FaceInstance *self) {
    GdVariant path_arg, result;
    GdNodePath path;
    gd_node_path_new(&path, self->mesh_path);
    gd.from_type[GDEXTENSION_VARIANT_TYPE_NODE_PATH](&path_arg, &path);
    gd_node_path_free(&path);
    GDExtensionObjectPtr mesh = NULL;
    if (gd_call(self->header.owner, "get_node_or_null", &path_arg, 1, &result)) gd_variant_as_object(&result, &mesh);
    gd_variant_free(&result);
    gd_variant_free(&path_arg);
    if (!mesh) {
        warn_once(self, WARN_NO_MESH, "'mesh' (%s) does not lead to a MeshInstance3D", self->mesh_path);
        return;
    }
    int64_t id = -1;
    call_int(mesh, "get_instance_id", NULL, 0, &id);
    if (id != self->mesh_id) {
        map_shapes(self, mesh);
        self->mesh_id = id;
    }
    for (int32_t k = 0; k < self->core.weight_count; k++) {
        if (self->shape_index[k] < 0) continue;
        GdVariant args[2];
        gd_variant_int(&args[0], self->shape_index[k]);
        gd_variant_float(&args[1], self->core.weights[k]);
        gd_call(mesh, "set_blend_shape_value", args, 2, &result);
        gd_variant_free(&result);
        gd_variant_free(&args[1]);
        gd_variant_free(&args[0]);
    }
    self->frames_applied++;
}

static void face_process(GDExtensionClassInstancePtr instance, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret) {
    (void)args;
    (void)ret;
    FaceInstance *self = instance;
    GDExtensionObjectPtr audio_server = gd_singleton("AudioServer");
    if (!face_setup(self, audio_server)) return;
    GDExtensionObjectPtr delay = NULL;
    bool delay_first = false;
    GDExtensionObjectPtr capture = find_capture(self, audio_server, &delay, &delay_first);
    if (!capture) return;
    if (self->compensate_latency) compensate(self, delay, delay_first);

    int64_t available = 0;
    call_int(capture, "get_frames_available", NULL, 0, &available);
    if (available > 0) {
        GdVariant count, result;
        gd_variant_int(&count, available);
        if (gd_call(capture, "get_buffer", &count, 1, &result) &&
            gd_variant_type(&result) == GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY) {
            GdPackedArray buffer;
            gd.to_type[GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY](&buffer, &result);
            int64_t n = 0;
            const float *xy = gd_packed_vector2_read(&buffer, &n);
            mimetic_status status = xy ? stream_core_push_stereo(&self->core, xy, (size_t)n) : MIMETIC_OK;
            gd_packed_free(GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, &buffer);
            if (status != MIMETIC_OK) gd_error("MimeticFace", "MimeticFace: %s", self->core.error);
        }
        gd_variant_free(&result);
        gd_variant_free(&count);
    }
    bool got = false;
    mimetic_status status;
    while ((status = stream_core_pull_weights(&self->core)) == MIMETIC_OK) got = true;
    if (status != MIMETIC_ERROR_NOT_READY) {
        fail(self, self->core.error);
        stream_core_close(&self->core);
        return;
    }
    if (got) apply_weights(self);
}

static GDExtensionClassCallVirtual face_get_virtual(void *class_userdata, GDExtensionConstStringNamePtr name) {
    (void)class_userdata;
    return gd_string_name_equals(name, "_process") ? face_process : NULL;
}

/* ---- properties -------------------------------------------------------------------------------- */

static void set_text(char **field, const char *value) {
    char *copy = dup_string(value);
    if (!copy) return;
    free(*field);
    *field = copy;
}

#define TEXT_PROPERTY(prop, restart)                                                               \
    static void set_##prop(void *instance, const GdArg *args, GdRet *ret) {                        \
        (void)ret;                                                                                 \
        FaceInstance *self = instance;                                                             \
        set_text(&self->prop, args[0].s);                                                          \
        if (restart) face_stop(self);                                                              \
        else { self->mesh_id = -1; self->warned = 0; }                                             \
    }                                                                                              \
    static void get_##prop(void *instance, const GdArg *args, GdRet *ret) {                        \
        (void)args;                                                                                \
        ret->s = ((FaceInstance *)instance)->prop;                                                 \
    }
TEXT_PROPERTY(model_path, true)
TEXT_PROPERTY(blend_shapes_path, true)
TEXT_PROPERTY(mesh_path, false)
TEXT_PROPERTY(audio_bus, false)
TEXT_PROPERTY(shape_prefix, false)

static void update_controls(FaceInstance *self) {
    if (stream_core_is_open(&self->core) &&
        stream_core_set_controls(&self->core, (float)self->strength, (float)self->smoothing_ms, (float)self->closure_boost) != MIMETIC_OK)
        gd_error("MimeticFace", "MimeticFace: %s", self->core.error);
}

#define FLOAT_PROPERTY(prop)                                                                       \
    static void set_##prop(void *instance, const GdArg *args, GdRet *ret) {                        \
        (void)ret;                                                                                 \
        FaceInstance *self = instance;                                                             \
        self->prop = args[0].f;                                                                    \
        update_controls(self);                                                                     \
    }                                                                                              \
    static void get_##prop(void *instance, const GdArg *args, GdRet *ret) {                        \
        (void)args;                                                                                \
        ret->f = ((FaceInstance *)instance)->prop;                                                 \
    }
FLOAT_PROPERTY(strength)
FLOAT_PROPERTY(smoothing_ms)
FLOAT_PROPERTY(closure_boost)

static void set_style(void *instance, const GdArg *args, GdRet *ret) {
    (void)ret;
    FaceInstance *self = instance;
    self->style = args[0].i;
    if (stream_core_is_open(&self->core) && args[0].i >= 0 && args[0].i <= INT32_MAX &&
        stream_core_set_style(&self->core, (int32_t)args[0].i) != MIMETIC_OK)
        gd_error("MimeticFace", "MimeticFace: %s", self->core.error);
}
static void get_style(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = ((FaceInstance *)instance)->style;
}
static void set_compensate_latency(void *instance, const GdArg *args, GdRet *ret) {
    (void)ret;
    FaceInstance *self = instance;
    self->compensate_latency = args[0].b;
    self->delay_ms = -1;
}
static void get_compensate_latency(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->b = ((FaceInstance *)instance)->compensate_latency;
}

static void f_get_latency(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    FaceInstance *self = instance;
    if (stream_core_is_open(&self->core)) stream_core_latency(&self->core, &ret->f);
}
static void f_get_mapped_shape_count(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = ((FaceInstance *)instance)->mapped;
}
static void f_get_frames_applied(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = ((FaceInstance *)instance)->frames_applied;
}
static void f_get_weights(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    FaceInstance *self = instance;
    if (!stream_core_is_open(&self->core)) return;
    gd_ret_floats(ret, self->core.weights, self->core.weight_count);
}
static void f_restart(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    (void)ret;
    face_stop(instance);
}

#define T(type) GDEXTENSION_VARIANT_TYPE_##type
#define NONE {{0}}
#define SETTER(prop, type) {"set_" #prop, set_##prop, T(NIL), 1, {{T(type), #prop, NULL}}, false}
#define GETTER(prop, type) {"get_" #prop, get_##prop, T(type), 0, NONE, true}
static const GdMethod face_methods[] = {
    SETTER(model_path, STRING), GETTER(model_path, STRING),
    SETTER(blend_shapes_path, STRING), GETTER(blend_shapes_path, STRING),
    SETTER(mesh_path, NODE_PATH), {"get_mesh_path", get_mesh_path, T(NODE_PATH), 0, NONE, true},
    SETTER(audio_bus, STRING), GETTER(audio_bus, STRING),
    SETTER(shape_prefix, STRING), GETTER(shape_prefix, STRING),
    SETTER(strength, FLOAT), GETTER(strength, FLOAT),
    SETTER(smoothing_ms, FLOAT), GETTER(smoothing_ms, FLOAT),
    SETTER(closure_boost, FLOAT), GETTER(closure_boost, FLOAT),
    SETTER(style, INT), GETTER(style, INT),
    SETTER(compensate_latency, BOOL), GETTER(compensate_latency, BOOL),
    {"get_latency", f_get_latency, T(FLOAT), 0, NONE, true},
    {"get_mapped_shape_count", f_get_mapped_shape_count, T(INT), 0, NONE, true},
    {"get_frames_applied", f_get_frames_applied, T(INT), 0, NONE, true},
    {"get_weights", f_get_weights, T(PACKED_FLOAT32_ARRAY), 0, NONE, true},
    {"restart", f_restart, T(NIL), 0, NONE, false},
};

const GdClass mimetic_face_class = {
    "MimeticFace", "Node", FACE_MAGIC, sizeof(FaceInstance), face_init, face_deinit, face_get_virtual,
    face_methods, sizeof face_methods / sizeof face_methods[0],
};

void mimetic_face_register_properties(void) {
    const GdClass *c = &mimetic_face_class;
    const uint32_t usage = MIMETIC_GD_PROPERTY_USAGE_DEFAULT;
    gd_register_property(c, T(STRING), "model_path", MIMETIC_GD_PROPERTY_HINT_FILE, "*.safetensors", usage, "set_model_path", "get_model_path");
    gd_register_property(c, T(STRING), "blend_shapes_path", MIMETIC_GD_PROPERTY_HINT_FILE, "*.safetensors", usage, "set_blend_shapes_path", "get_blend_shapes_path");
    gd_register_property(c, T(NODE_PATH), "mesh", MIMETIC_GD_PROPERTY_HINT_NODE_PATH_VALID_TYPES, "MeshInstance3D", usage, "set_mesh_path", "get_mesh_path");
    gd_register_property(c, T(STRING), "audio_bus", MIMETIC_GD_PROPERTY_HINT_NONE, "", usage, "set_audio_bus", "get_audio_bus");
    gd_register_property(c, T(STRING), "shape_prefix", MIMETIC_GD_PROPERTY_HINT_NONE, "", usage, "set_shape_prefix", "get_shape_prefix");
    gd_register_property(c, T(FLOAT), "strength", MIMETIC_GD_PROPERTY_HINT_RANGE, "0,4,0.01", usage, "set_strength", "get_strength");
    gd_register_property(c, T(FLOAT), "smoothing_ms", MIMETIC_GD_PROPERTY_HINT_RANGE, "0,1000,1", usage, "set_smoothing_ms", "get_smoothing_ms");
    gd_register_property(c, T(FLOAT), "closure_boost", MIMETIC_GD_PROPERTY_HINT_RANGE, "0,1,0.01", usage, "set_closure_boost", "get_closure_boost");
    gd_register_property(c, T(INT), "style", MIMETIC_GD_PROPERTY_HINT_RANGE, "-1,255,1", usage, "set_style", "get_style");
    gd_register_property(c, T(BOOL), "compensate_latency", MIMETIC_GD_PROPERTY_HINT_NONE, "", usage, "set_compensate_latency", "get_compensate_latency");
}
