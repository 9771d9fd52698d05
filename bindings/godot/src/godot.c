/* godot.c: the interface table and the conversions declared in godot.h. */
#include "godot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MimeticGodot gd;

bool gd_load(GDExtensionInterfaceGetProcAddress get_proc_address, GDExtensionClassLibraryPtr library) {
    memset(&gd, 0, sizeof gd);
    gd.library = library;
    bool ok = true;
    const char *missing = NULL;
#define LOAD(field)                                                                                   \
    do {                                                                                              \
        gd.field = (__typeof__(gd.field))get_proc_address(#field);                                    \
        if (!gd.field) { ok = false; if (!missing) missing = #field; }                                \
    } while (0)
    LOAD(print_error);
    LOAD(print_warning);
    LOAD(variant_new_copy);
    LOAD(variant_new_nil);
    LOAD(variant_destroy);
    LOAD(variant_call);
    LOAD(variant_get_type);
    LOAD(get_variant_from_type_constructor);
    LOAD(get_variant_to_type_constructor);
    LOAD(variant_get_ptr_constructor);
    LOAD(variant_get_ptr_destructor);
    LOAD(string_new_with_utf8_chars);
    LOAD(string_to_utf8_chars);
    LOAD(packed_float32_array_operator_index);
    LOAD(packed_float32_array_operator_index_const);
    LOAD(packed_vector2_array_operator_index_const);
    LOAD(packed_vector3_array_operator_index);
    LOAD(global_get_singleton);
    LOAD(object_get_instance_binding);
    LOAD(object_set_instance_binding);
    LOAD(object_set_instance);
    LOAD(classdb_construct_object);
    LOAD(classdb_register_extension_class);
    LOAD(classdb_register_extension_class_method);
    LOAD(classdb_register_extension_class_property);
    LOAD(classdb_unregister_extension_class);
#undef LOAD
    if (!ok) {
        if (gd.print_error) {
            char message[160];
            snprintf(message, sizeof message, "Mimetic: this Godot lacks the GDExtension function '%s' (Godot 4.1 or later is needed)", missing);
            gd.print_error(message, __func__, __FILE__, __LINE__, 1);
        }
        return false;
    }
    static const GDExtensionVariantType used[] = {
        GDEXTENSION_VARIANT_TYPE_BOOL, GDEXTENSION_VARIANT_TYPE_INT, GDEXTENSION_VARIANT_TYPE_FLOAT,
        GDEXTENSION_VARIANT_TYPE_STRING, GDEXTENSION_VARIANT_TYPE_STRING_NAME, GDEXTENSION_VARIANT_TYPE_NODE_PATH,
        GDEXTENSION_VARIANT_TYPE_OBJECT, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY,
        GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        GDExtensionVariantType t = used[i];
        gd.from_type[t] = gd.get_variant_from_type_constructor(t);
        gd.to_type[t] = gd.get_variant_to_type_constructor(t);
        gd.destroy[t] = gd.variant_get_ptr_destructor(t); /* NULL for the types without a destructor */
        if (!gd.from_type[t] || !gd.to_type[t]) ok = false;
    }
    gd.string_name_from_string = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_STRING_NAME, MIMETIC_GD_STRING_NAME_FROM_STRING);
    gd.node_path_from_string = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_NODE_PATH, MIMETIC_GD_NODE_PATH_FROM_STRING);
    gd.string_from_string_name = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_STRING, MIMETIC_GD_STRING_FROM_STRING_NAME);
    gd.string_from_node_path = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_STRING, MIMETIC_GD_STRING_FROM_NODE_PATH);
    gd.packed_float32_new = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, MIMETIC_GD_PACKED_ARRAY_EMPTY);
    gd.packed_vector2_new = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, MIMETIC_GD_PACKED_ARRAY_EMPTY);
    gd.packed_vector3_new = gd.variant_get_ptr_constructor(GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, MIMETIC_GD_PACKED_ARRAY_EMPTY);
    if (!gd.string_name_from_string || !gd.node_path_from_string || !gd.string_from_string_name ||
        !gd.string_from_node_path || !gd.packed_float32_new || !gd.packed_vector2_new || !gd.packed_vector3_new ||
        !gd.destroy[GDEXTENSION_VARIANT_TYPE_STRING] || !gd.destroy[GDEXTENSION_VARIANT_TYPE_STRING_NAME]) {
        gd.print_error("Mimetic: this Godot lacks a builtin constructor or destructor the extension needs", __func__, __FILE__, __LINE__, 1);
        return false;
    }
    return ok;
}

static void report(bool error, const char *function, const char *format, va_list args) {
    char message[1024];
    vsnprintf(message, sizeof message, format, args);
    if (error) gd.print_error(message, function, __FILE__, __LINE__, 1);
    else gd.print_warning(message, function, __FILE__, __LINE__, 1);
}

void gd_error(const char *function, const char *format, ...) {
    va_list args;
    va_start(args, format);
    report(true, function, format, args);
    va_end(args);
}

void gd_warning(const char *function, const char *format, ...) {
    va_list args;
    va_start(args, format);
    report(false, function, format, args);
    va_end(args);
}

/* ---- strings ------------------------------------------------------------------------------- */

void gd_string_new(GdString *out, const char *utf8) { gd.string_new_with_utf8_chars(out, utf8 ? utf8 : ""); }

void gd_string_name_new(GdStringName *out, const char *utf8) {
    GdString s;
    gd_string_new(&s, utf8);
    GDExtensionConstTypePtr args[1] = {&s};
    gd.string_name_from_string(out, args);
    gd_string_free(&s);
}

void gd_node_path_new(GdNodePath *out, const char *utf8) {
    GdString s;
    gd_string_new(&s, utf8);
    GDExtensionConstTypePtr args[1] = {&s};
    gd.node_path_from_string(out, args);
    gd_string_free(&s);
}

void gd_string_free(GdString *s) { gd.destroy[GDEXTENSION_VARIANT_TYPE_STRING](s); }
void gd_string_name_free(GdStringName *s) { gd.destroy[GDEXTENSION_VARIANT_TYPE_STRING_NAME](s); }
void gd_node_path_free(GdNodePath *s) {
    if (gd.destroy[GDEXTENSION_VARIANT_TYPE_NODE_PATH]) gd.destroy[GDEXTENSION_VARIANT_TYPE_NODE_PATH](s);
}

char *gd_string_to_utf8(const void *string) {
    GDExtensionInt length = gd.string_to_utf8_chars(string, NULL, 0);
    if (length < 0) length = 0;
    /* The length is in characters; UTF-8 takes at most 4 bytes each. */
    size_t capacity = (size_t)length * 4 + 1;
    char *out = malloc(capacity);
    if (!out) return NULL;
    GDExtensionInt written = gd.string_to_utf8_chars(string, out, (GDExtensionInt)capacity - 1);
    if (written < 0) written = 0;
    if ((size_t)written >= capacity) written = (GDExtensionInt)capacity - 1;
    out[written] = 0;
    return out;
}

char *gd_string_name_to_utf8(const void *string_name) {
    GdString s;
    GDExtensionConstTypePtr args[1] = {string_name};
    gd.string_from_string_name(&s, args);
    char *out = gd_string_to_utf8(&s);
    gd_string_free(&s);
    return out;
}

char *gd_node_path_to_utf8(const void *node_path) {
    GdString s;
    GDExtensionConstTypePtr args[1] = {node_path};
    gd.string_from_node_path(&s, args);
    char *out = gd_string_to_utf8(&s);
    gd_string_free(&s);
    return out;
}

/* ---- variants ------------------------------------------------------------------------------ */

void gd_variant_nil(GdVariant *out) { gd.variant_new_nil(out); }
void gd_variant_int(GdVariant *out, int64_t value) { gd.from_type[GDEXTENSION_VARIANT_TYPE_INT](out, &value); }
void gd_variant_float(GdVariant *out, double value) { gd.from_type[GDEXTENSION_VARIANT_TYPE_FLOAT](out, &value); }
void gd_variant_bool(GdVariant *out, bool value) {
    GDExtensionBool b = value ? 1 : 0;
    gd.from_type[GDEXTENSION_VARIANT_TYPE_BOOL](out, &b);
}
void gd_variant_string(GdVariant *out, const char *utf8) {
    GdString s;
    gd_string_new(&s, utf8);
    gd.from_type[GDEXTENSION_VARIANT_TYPE_STRING](out, &s);
    gd_string_free(&s);
}
void gd_variant_string_name(GdVariant *out, const char *utf8) {
    GdStringName s;
    gd_string_name_new(&s, utf8);
    gd.from_type[GDEXTENSION_VARIANT_TYPE_STRING_NAME](out, &s);
    gd_string_name_free(&s);
}
void gd_variant_object(GdVariant *out, GDExtensionObjectPtr object) {
    gd.from_type[GDEXTENSION_VARIANT_TYPE_OBJECT](out, &object);
}
void gd_variant_free(GdVariant *v) { gd.variant_destroy(v); }
GDExtensionVariantType gd_variant_type(const GdVariant *v) { return gd.variant_get_type(v); }

/* A bool, int or float variant's value (exactly one of the three set, by its type). */
static GDExtensionVariantType read_scalar(const void *variant, GDExtensionBool *b, int64_t *i, double *d) {
    GDExtensionVariantType t = gd.variant_get_type(variant);
    if (t == GDEXTENSION_VARIANT_TYPE_BOOL || t == GDEXTENSION_VARIANT_TYPE_INT || t == GDEXTENSION_VARIANT_TYPE_FLOAT)
        gd.to_type[t](t == GDEXTENSION_VARIANT_TYPE_BOOL ? (void *)b : t == GDEXTENSION_VARIANT_TYPE_INT ? (void *)i : (void *)d,
                      (GDExtensionVariantPtr)variant);
    return t;
}

bool gd_variant_as_int(const void *variant, int64_t *out) {
    GDExtensionBool b = 0;
    int64_t i = 0;
    double d = 0;
    switch (read_scalar(variant, &b, &i, &d)) {
    case GDEXTENSION_VARIANT_TYPE_INT: *out = i; return true;
    case GDEXTENSION_VARIANT_TYPE_BOOL: *out = b ? 1 : 0; return true;
    case GDEXTENSION_VARIANT_TYPE_FLOAT:
        if (!(d >= -9.2e18 && d <= 9.2e18)) return false; /* NaN, Inf, out of int64 range */
        *out = (int64_t)d;
        return true;
    default: return false;
    }
}

bool gd_variant_as_float(const void *variant, double *out) {
    GDExtensionBool b = 0;
    int64_t i = 0;
    double d = 0;
    switch (read_scalar(variant, &b, &i, &d)) {
    case GDEXTENSION_VARIANT_TYPE_FLOAT: *out = d; return true;
    case GDEXTENSION_VARIANT_TYPE_INT: *out = (double)i; return true;
    default: return false;
    }
}

bool gd_variant_as_bool(const void *variant, bool *out) {
    GDExtensionBool b = 0;
    int64_t i = 0;
    double d = 0;
    switch (read_scalar(variant, &b, &i, &d)) {
    case GDEXTENSION_VARIANT_TYPE_BOOL: *out = b != 0; return true;
    case GDEXTENSION_VARIANT_TYPE_INT: *out = i != 0; return true;
    default: return false;
    }
}

bool gd_variant_as_object(const void *variant, GDExtensionObjectPtr *out) {
    GDExtensionVariantType t = gd.variant_get_type(variant);
    if (t == GDEXTENSION_VARIANT_TYPE_NIL) { *out = NULL; return true; }
    if (t != GDEXTENSION_VARIANT_TYPE_OBJECT) return false;
    gd.to_type[GDEXTENSION_VARIANT_TYPE_OBJECT](out, (GDExtensionVariantPtr)variant);
    return true;
}

/* ---- packed arrays ------------------------------------------------------------------------- */

static bool call_variant(GdVariant *self, const char *method, const GdVariant *args, int argc, GdVariant *r_return) {
    GdStringName name;
    gd_string_name_new(&name, method);
    GDExtensionConstVariantPtr argv[4];
    for (int i = 0; i < argc && i < 4; i++) argv[i] = &args[i];
    GDExtensionCallError error = {GDEXTENSION_CALL_OK, 0, 0};
    gd.variant_call(self, &name, argv, argc, r_return, &error);
    gd_string_name_free(&name);
    return error.error == GDEXTENSION_CALL_OK;
}

/* A new array of n elements: resize() through a Variant (the Variant shares the array's data, so
 * after it is destroyed the array is the data's only owner and writing to it copies nothing). */
static void packed_new(GDExtensionVariantType type, GDExtensionPtrConstructor empty, GdPackedArray *out, int64_t n) {
    empty(out, NULL);
    if (n <= 0) return;
    GdVariant v, size, ignored;
    gd.from_type[type](&v, out);
    gd.destroy[type](out);
    gd_variant_int(&size, n);
    if (!call_variant(&v, "resize", &size, 1, &ignored)) gd_error(__func__, "Mimetic: resizing a packed array to %lld failed", (long long)n);
    gd_variant_free(&ignored);
    gd_variant_free(&size);
    gd.to_type[type](out, &v);
    gd_variant_free(&v);
}

float *gd_packed_float32_new(GdPackedArray *out, int64_t n) {
    packed_new(GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, gd.packed_float32_new, out, n);
    return n > 0 ? gd.packed_float32_array_operator_index(out, 0) : NULL;
}
float *gd_packed_vector3_new(GdPackedArray *out, int64_t n) {
    packed_new(GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, gd.packed_vector3_new, out, n);
    return n > 0 ? (float *)gd.packed_vector3_array_operator_index(out, 0) : NULL;
}

/* A caller's array's length: size() through a Variant (the interface has no size function). */
static int64_t packed_size(GDExtensionVariantType type, const void *array) {
    GdVariant v, result;
    gd.from_type[type](&v, (GDExtensionTypePtr)array);
    int64_t n = 0;
    if (call_variant(&v, "size", NULL, 0, &result)) {
        if (!gd_variant_as_int(&result, &n) || n < 0) n = 0;
    }
    gd_variant_free(&result);
    gd_variant_free(&v);
    return n;
}

/* The const accessors: the caller's array may be shared, and the others would copy it. */
const float *gd_packed_float32_read(const void *array, int64_t *n) {
    *n = packed_size(GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, array);
    return *n > 0 ? gd.packed_float32_array_operator_index_const(array, 0) : NULL;
}
const float *gd_packed_vector2_read(const void *array, int64_t *n) {
    *n = packed_size(GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, array);
    return *n > 0 ? (const float *)gd.packed_vector2_array_operator_index_const(array, 0) : NULL;
}

void gd_packed_free(GDExtensionVariantType type, GdPackedArray *a) { gd.destroy[type](a); }

/* ---- calls on engine objects --------------------------------------------------------------- */

GDExtensionObjectPtr gd_singleton(const char *name) {
    GdStringName s;
    gd_string_name_new(&s, name);
    GDExtensionObjectPtr object = gd.global_get_singleton(&s);
    gd_string_name_free(&s);
    return object;
}

bool gd_call(GDExtensionObjectPtr object, const char *method, const GdVariant *args, int argc, GdVariant *r_return) {
    if (!object) {
        gd_variant_nil(r_return);
        return false;
    }
    GdVariant self;
    gd_variant_object(&self, object);
    bool ok = call_variant(&self, method, args, argc, r_return);
    gd_variant_free(&self);
    if (!ok) gd_error(__func__, "Mimetic: calling %s() on an engine object failed", method);
    return ok;
}
