/*
 * class_model.c: MimeticModel, a Resource holding a loaded model file and, optionally, a
 * blendshape basis for it (ARKit-52 on the shipped rig).
 *
 *   var model := MimeticModel.new()
 *   if model.load("res://addons/mimetic/models/default.safetensors") != OK: print(model.get_last_error())
 *   model.load_blend_shapes("res://addons/mimetic/models/arkit52.safetensors")
 *   print(model.fps, " fps, ", model.vertex_count, " vertices, ", model.get_blend_shape_count(), " shapes")
 */
#include "classes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MODEL_MAGIC = 0x4d4d444c };

typedef struct {
    GdInstanceHeader header;
    ModelShared *shared;
    char error[512];
} ModelInstance;

ModelShared *mimetic_model_shared(GDExtensionObjectPtr object) {
    ModelInstance *self = gd_instance_of(object, &mimetic_model_class);
    return self ? self->shared : NULL;
}

static void model_deinit(void *instance) {
    ModelInstance *self = instance;
    model_shared_release(self->shared);
    self->shared = NULL;
}

static int64_t fail(ModelInstance *self, const char *method, mimetic_status status) {
    gd_error(method, "MimeticModel.%s: %s", method, self->error);
    return status;
}

static void m_load(void *instance, const GdArg *args, GdRet *ret) {
    ModelInstance *self = instance;
    char *path = mimetic_os_path(args[0].s);
    ModelShared *shared = path ? model_shared_load(path, self->error, sizeof self->error) : NULL;
    if (!path) snprintf(self->error, sizeof self->error, "out of memory");
    free(path);
    if (!shared) {
        ret->i = fail(self, "load", MIMETIC_ERROR_IO);
        return;
    }
    model_shared_release(self->shared); /* streams opened on the old model keep it alive */
    self->shared = shared;
    self->error[0] = 0;
    ret->i = MIMETIC_OK;
}

static void m_load_blend_shapes(void *instance, const GdArg *args, GdRet *ret) {
    ModelInstance *self = instance;
    if (!self->shared) {
        snprintf(self->error, sizeof self->error, "no model loaded: call load(path) first");
        ret->i = fail(self, "load_blend_shapes", MIMETIC_ERROR_WRONG_STATE);
        return;
    }
    char *path = mimetic_os_path(args[0].s);
    bool ok = path && model_shared_load_basis(self->shared, path, self->error, sizeof self->error);
    free(path);
    ret->i = ok ? MIMETIC_OK : fail(self, "load_blend_shapes", MIMETIC_ERROR_INVALID_ARGUMENT);
}

static void m_is_loaded(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->b = ((ModelInstance *)instance)->shared != NULL;
}
static void m_get_last_error(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    mimetic_ret_string_copy(ret, ((ModelInstance *)instance)->error);
}
static void m_get_path(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ModelShared *s = ((ModelInstance *)instance)->shared;
    mimetic_ret_string_copy(ret, s ? s->path : "");
}

#define INFO_GETTER(fn, field)                                                  \
    static void fn(void *instance, const GdArg *args, GdRet *ret) {             \
        (void)args;                                                             \
        ModelShared *s = ((ModelInstance *)instance)->shared;                   \
        ret->i = s ? s->info.field : 0;                                         \
    }
INFO_GETTER(m_get_fps, fps)
INFO_GETTER(m_get_sample_rate, sample_rate)
INFO_GETTER(m_get_vertex_count, num_vertices)
INFO_GETTER(m_get_style_count, num_styles)
INFO_GETTER(m_get_output_size, output_size)

static void m_get_family(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ModelShared *s = ((ModelInstance *)instance)->shared;
    static const char *names[] = {"FaceFormer", "Imitator", "Mimic"};
    ret->s = s && s->info.family >= 0 && s->info.family <= 2 ? names[s->info.family] : "";
}

static void m_get_style_name(void *instance, const GdArg *args, GdRet *ret) {
    ModelShared *s = ((ModelInstance *)instance)->shared;
    const char *name = s && args[0].i >= 0 && args[0].i < s->info.num_styles ? mimetic_model_style_name(s->model, (int32_t)args[0].i) : NULL;
    ret->s = name ? name : "";
}

static void m_get_blend_shape_count(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ModelShared *s = ((ModelInstance *)instance)->shared;
    ret->i = s && s->basis ? mimetic_retarget_count(s->basis) : 0;
}

static void m_get_blend_shape_name(void *instance, const GdArg *args, GdRet *ret) {
    ModelShared *s = ((ModelInstance *)instance)->shared;
    const char *name = s && s->basis && args[0].i >= 0 && args[0].i < INT32_MAX ? mimetic_retarget_name(s->basis, (int32_t)args[0].i) : NULL;
    ret->s = name ? name : "";
}

static void m_get_template(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ModelInstance *self = instance;
    ModelShared *s = self->shared;
    if (!s || !s->info.has_template) return; /* an empty array */
    float *xyz = gd_packed_vector3_new(&ret->packed, s->info.num_vertices);
    ret->packed_set = true;
    if (xyz) mimetic_model_get_template(s->model, xyz, (size_t)s->info.output_size);
}

static const GdMethod model_methods[] = {
    {"load", m_load, GDEXTENSION_VARIANT_TYPE_INT, 1, {{GDEXTENSION_VARIANT_TYPE_STRING, "path", NULL}}, false},
    {"load_blend_shapes", m_load_blend_shapes, GDEXTENSION_VARIANT_TYPE_INT, 1, {{GDEXTENSION_VARIANT_TYPE_STRING, "path", NULL}}, false},
    {"is_loaded", m_is_loaded, GDEXTENSION_VARIANT_TYPE_BOOL, 0, {{0}}, true},
    {"get_last_error", m_get_last_error, GDEXTENSION_VARIANT_TYPE_STRING, 0, {{0}}, true},
    {"get_model_path", m_get_path, GDEXTENSION_VARIANT_TYPE_STRING, 0, {{0}}, true},
    {"get_family", m_get_family, GDEXTENSION_VARIANT_TYPE_STRING, 0, {{0}}, true},
    {"get_fps", m_get_fps, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_sample_rate", m_get_sample_rate, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_vertex_count", m_get_vertex_count, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_output_size", m_get_output_size, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_style_count", m_get_style_count, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_style_name", m_get_style_name, GDEXTENSION_VARIANT_TYPE_STRING, 1, {{GDEXTENSION_VARIANT_TYPE_INT, "index", NULL}}, true},
    {"get_blend_shape_count", m_get_blend_shape_count, GDEXTENSION_VARIANT_TYPE_INT, 0, {{0}}, true},
    {"get_blend_shape_name", m_get_blend_shape_name, GDEXTENSION_VARIANT_TYPE_STRING, 1, {{GDEXTENSION_VARIANT_TYPE_INT, "index", NULL}}, true},
    {"get_template", m_get_template, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, 0, {{0}}, true},
};

const GdClass mimetic_model_class = {
    "MimeticModel", "Resource", MODEL_MAGIC, sizeof(ModelInstance), NULL, model_deinit, NULL,
    model_methods, sizeof model_methods / sizeof model_methods[0],
};

void mimetic_model_register_properties(void) {
    /* Read-only information: no setter, shown in the inspector, not saved with the resource. */
    const uint32_t usage = MIMETIC_GD_PROPERTY_USAGE_EDITOR;
    gd_register_property(&mimetic_model_class, GDEXTENSION_VARIANT_TYPE_STRING, "family", 0, "", usage, "", "get_family");
    gd_register_property(&mimetic_model_class, GDEXTENSION_VARIANT_TYPE_INT, "fps", 0, "", usage, "", "get_fps");
    gd_register_property(&mimetic_model_class, GDEXTENSION_VARIANT_TYPE_INT, "sample_rate", 0, "", usage, "", "get_sample_rate");
    gd_register_property(&mimetic_model_class, GDEXTENSION_VARIANT_TYPE_INT, "vertex_count", 0, "", usage, "", "get_vertex_count");
    gd_register_property(&mimetic_model_class, GDEXTENSION_VARIANT_TYPE_INT, "style_count", 0, "", usage, "", "get_style_count");
}
