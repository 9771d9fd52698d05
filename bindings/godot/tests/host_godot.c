/* host_godot.c: Godot's side of the GDExtension interface, for the addon's tests (host_godot.h). */
#include "host_godot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_library_token;
const char *host_project_dir = ".";
long host_live_strings, host_live_packed;
int host_errors, host_warnings, host_failures;
char host_last_error[2048];

HostObject *host_capture, *host_delay, *host_mesh;
bool host_bus_exists = true, host_bus_has_capture = true, host_bus_has_delay = true;
int64_t host_mix_rate = 48000;
const char *host_mesh_path = "Face/face";

static HostClass classes[8];
static int class_count;
static int64_t next_object_id = 1000;

static void harness_failure(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "HARNESS FAILURE: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    host_failures++;
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    memcpy(out, s, n);
    return out;
}

/* ---- strings: a String, StringName or NodePath is one char * (8 bytes) ------------------------ */

void host_string_new(void *out, const char *utf8) {
    *(char **)out = dup(utf8);
    host_live_strings++;
}
void host_string_free(void *p) {
    free(*(char **)p);
    *(char **)p = NULL;
    host_live_strings--;
}
static void string_copy(void *out, const void *from) { host_string_new(out, *(char *const *)from); }
static const char *string_of(const void *p) { return *(char *const *)p; }

static void i_string_new_with_utf8_chars(void *out, const char *contents) { host_string_new(out, contents); }
static GDExtensionInt i_string_to_utf8_chars(const void *self, char *text, GDExtensionInt max) {
    const char *s = string_of(self);
    GDExtensionInt n = (GDExtensionInt)strlen(s); /* the tests use ASCII: characters = bytes */
    if (text) memcpy(text, s, (size_t)(n < max ? n : max));
    return n;
}

/* ---- packed arrays, copy-on-write ---------------------------------------------------------- */

static size_t element_size(GDExtensionVariantType t) {
    switch (t) {
    case GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY: return 4;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY: return 8;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY: return 12;
    default: return 0;
    }
}

void host_packed_new(HostPackedValue *out, GDExtensionVariantType type, int64_t size) {
    HostPacked *p = calloc(1, sizeof *p);
    p->refcount = 1;
    p->type = type;
    p->size = size;
    p->element_size = element_size(type);
    p->bytes = calloc((size_t)(size > 0 ? size : 1), p->element_size);
    out->data = p;
    out->unused = 0;
    host_live_packed++;
}
static void packed_ref(HostPackedValue *out, const HostPackedValue *from) {
    out->data = from->data;
    out->unused = 0;
    out->data->refcount++;
}
void host_packed_destroy(HostPackedValue *a) {
    if (!a->data) return;
    if (--a->data->refcount == 0) {
        free(a->data->bytes);
        free(a->data);
        host_live_packed--;
    }
    a->data = NULL;
}
/* Writable data: a shared array is copied first, as Godot's ptrw() does. */
void *host_packed_data(HostPackedValue *a) {
    if (a->data->refcount > 1) {
        HostPackedValue copy;
        host_packed_new(&copy, a->data->type, a->data->size);
        memcpy(copy.data->bytes, a->data->bytes, (size_t)a->data->size * a->data->element_size);
        host_packed_destroy(a);
        *a = copy;
    }
    return a->data->bytes;
}
static void packed_resize(HostPackedValue *a, int64_t n) {
    host_packed_data(a);
    a->data->bytes = realloc(a->data->bytes, (size_t)(n > 0 ? n : 1) * a->data->element_size);
    if (n > a->data->size) memset(a->data->bytes + a->data->size * a->data->element_size, 0, (size_t)(n - a->data->size) * a->data->element_size);
    a->data->size = n;
}

static void *index_checked(HostPackedValue *a, GDExtensionInt i, GDExtensionVariantType type, bool writable) {
    if (!a->data || a->data->type != type) { harness_failure("packed array index on the wrong type"); return NULL; }
    if (i < 0 || i >= a->data->size) {
        /* Godot prints an error and returns NULL here. */
        harness_failure("packed array index %lld out of bounds (size %lld)", (long long)i, (long long)a->data->size);
        return NULL;
    }
    unsigned char *bytes = writable ? host_packed_data(a) : a->data->bytes;
    return bytes + (size_t)i * a->data->element_size;
}
static float *i_packed_float32_array_operator_index(void *self, GDExtensionInt i) {
    return index_checked(self, i, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, true);
}
static const float *i_packed_float32_array_operator_index_const(const void *self, GDExtensionInt i) {
    return index_checked((HostPackedValue *)self, i, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, false);
}
static void *i_packed_vector2_array_operator_index_const(const void *self, GDExtensionInt i) {
    return index_checked((HostPackedValue *)self, i, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, false);
}
static void *i_packed_vector3_array_operator_index(void *self, GDExtensionInt i) {
    return index_checked(self, i, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, true);
}

/* ---- variants ------------------------------------------------------------------------------- */

static bool is_text(int t) {
    return t == GDEXTENSION_VARIANT_TYPE_STRING || t == GDEXTENSION_VARIANT_TYPE_STRING_NAME || t == GDEXTENSION_VARIANT_TYPE_NODE_PATH;
}
static bool is_packed(int t) { return element_size((GDExtensionVariantType)t) != 0; }

void host_variant_destroy(HostVariant *v) {
    if (is_text(v->type)) host_string_free(&v->v.p);
    else if (is_packed(v->type)) {
        HostPackedValue a = {v->v.p, 0};
        host_packed_destroy(&a);
    }
    memset(v, 0, sizeof *v);
}
static void i_variant_destroy(void *v) { host_variant_destroy(v); }
static void i_variant_new_nil(void *out) { memset(out, 0, sizeof(HostVariant)); }
static void i_variant_new_copy(void *out, const void *from) {
    const HostVariant *src = from;
    HostVariant *dst = out;
    *dst = *src;
    if (is_text(src->type)) string_copy(&dst->v.p, &src->v.p);
    else if (is_packed(src->type)) ((HostPacked *)src->v.p)->refcount++;
}
static GDExtensionVariantType i_variant_get_type(const void *v) { return (GDExtensionVariantType)((const HostVariant *)v)->type; }

/* Variant from a value, and a value from a Variant, one pair per type. */
#define SCALAR_CONVERSIONS(NAME, TYPE, FIELD, CTYPE)                                              \
    static void from_##NAME(void *out, void *value) {                                            \
        HostVariant *v = out;                                                                     \
        memset(v, 0, sizeof *v);                                                                  \
        v->type = TYPE;                                                                           \
        v->v.FIELD = *(CTYPE *)value;                                                             \
    }                                                                                             \
    static void to_##NAME(void *out, void *variant) {                                             \
        HostVariant *v = variant;                                                                 \
        if (v->type != TYPE) harness_failure("variant_to_type(%s) on a variant of type %d", #NAME, v->type); \
        *(CTYPE *)out = v->v.FIELD;                                                               \
    }
SCALAR_CONVERSIONS(bool, GDEXTENSION_VARIANT_TYPE_BOOL, b, GDExtensionBool)
SCALAR_CONVERSIONS(int, GDEXTENSION_VARIANT_TYPE_INT, i, int64_t)
SCALAR_CONVERSIONS(float, GDEXTENSION_VARIANT_TYPE_FLOAT, f, double)
SCALAR_CONVERSIONS(object, GDEXTENSION_VARIANT_TYPE_OBJECT, o, HostObject *)

#define TEXT_CONVERSIONS(NAME, TYPE)                                                              \
    static void from_##NAME(void *out, void *value) {                                            \
        HostVariant *v = out;                                                                     \
        memset(v, 0, sizeof *v);                                                                  \
        v->type = TYPE;                                                                           \
        string_copy(&v->v.p, value);                                                              \
    }                                                                                             \
    static void to_##NAME(void *out, void *variant) {                                             \
        HostVariant *v = variant;                                                                 \
        if (v->type != TYPE) { harness_failure("variant_to_type(%s) on a variant of type %d", #NAME, v->type); host_string_new(out, ""); return; } \
        string_copy(out, &v->v.p);                                                                \
    }
TEXT_CONVERSIONS(string, GDEXTENSION_VARIANT_TYPE_STRING)
TEXT_CONVERSIONS(string_name, GDEXTENSION_VARIANT_TYPE_STRING_NAME)
TEXT_CONVERSIONS(node_path, GDEXTENSION_VARIANT_TYPE_NODE_PATH)

#define PACKED_CONVERSIONS(NAME, TYPE)                                                            \
    static void from_##NAME(void *out, void *value) {                                            \
        HostVariant *v = out;                                                                     \
        memset(v, 0, sizeof *v);                                                                  \
        v->type = TYPE;                                                                           \
        HostPackedValue copy;                                                                     \
        packed_ref(&copy, value);                                                                 \
        v->v.p = copy.data;                                                                       \
    }                                                                                             \
    static void to_##NAME(void *out, void *variant) {                                             \
        HostVariant *v = variant;                                                                 \
        if (v->type != TYPE) { harness_failure("variant_to_type(%s) on a variant of type %d", #NAME, v->type); host_packed_new(out, TYPE, 0); return; } \
        HostPackedValue from = {v->v.p, 0};                                                       \
        packed_ref(out, &from);                                                                   \
    }
PACKED_CONVERSIONS(packed_float32, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY)
PACKED_CONVERSIONS(packed_vector2, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY)
PACKED_CONVERSIONS(packed_vector3, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY)

static GDExtensionVariantFromTypeConstructorFunc i_get_variant_from_type_constructor(GDExtensionVariantType t) {
    switch (t) {
    case GDEXTENSION_VARIANT_TYPE_BOOL: return from_bool;
    case GDEXTENSION_VARIANT_TYPE_INT: return from_int;
    case GDEXTENSION_VARIANT_TYPE_FLOAT: return from_float;
    case GDEXTENSION_VARIANT_TYPE_OBJECT: return from_object;
    case GDEXTENSION_VARIANT_TYPE_STRING: return from_string;
    case GDEXTENSION_VARIANT_TYPE_STRING_NAME: return from_string_name;
    case GDEXTENSION_VARIANT_TYPE_NODE_PATH: return from_node_path;
    case GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY: return from_packed_float32;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY: return from_packed_vector2;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY: return from_packed_vector3;
    default: harness_failure("get_variant_from_type_constructor(%d): type not implemented", t); return NULL;
    }
}
static GDExtensionTypeFromVariantConstructorFunc i_get_variant_to_type_constructor(GDExtensionVariantType t) {
    switch (t) {
    case GDEXTENSION_VARIANT_TYPE_BOOL: return to_bool;
    case GDEXTENSION_VARIANT_TYPE_INT: return to_int;
    case GDEXTENSION_VARIANT_TYPE_FLOAT: return to_float;
    case GDEXTENSION_VARIANT_TYPE_OBJECT: return to_object;
    case GDEXTENSION_VARIANT_TYPE_STRING: return to_string;
    case GDEXTENSION_VARIANT_TYPE_STRING_NAME: return to_string_name;
    case GDEXTENSION_VARIANT_TYPE_NODE_PATH: return to_node_path;
    case GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY: return to_packed_float32;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY: return to_packed_vector2;
    case GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY: return to_packed_vector3;
    default: harness_failure("get_variant_to_type_constructor(%d): type not implemented", t); return NULL;
    }
}

/* Builtin constructors: String/StringName/NodePath from each other (index 2 or 3), empty arrays (0). */
static void construct_text_from_text(void *out, const GDExtensionConstTypePtr *args) { string_copy(out, args[0]); }
static void construct_packed_float32(void *out, const GDExtensionConstTypePtr *args) { (void)args; host_packed_new(out, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY, 0); }
static void construct_packed_vector2(void *out, const GDExtensionConstTypePtr *args) { (void)args; host_packed_new(out, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, 0); }
static void construct_packed_vector3(void *out, const GDExtensionConstTypePtr *args) { (void)args; host_packed_new(out, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY, 0); }

static GDExtensionPtrConstructor i_variant_get_ptr_constructor(GDExtensionVariantType t, int32_t index) {
    if (t == GDEXTENSION_VARIANT_TYPE_STRING_NAME && index == 2) return construct_text_from_text;  /* (String)     */
    if (t == GDEXTENSION_VARIANT_TYPE_NODE_PATH && index == 2) return construct_text_from_text;    /* (String)     */
    if (t == GDEXTENSION_VARIANT_TYPE_STRING && index == 2) return construct_text_from_text;       /* (StringName) */
    if (t == GDEXTENSION_VARIANT_TYPE_STRING && index == 3) return construct_text_from_text;       /* (NodePath)   */
    if (t == GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY && index == 0) return construct_packed_float32;
    if (t == GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY && index == 0) return construct_packed_vector2;
    if (t == GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY && index == 0) return construct_packed_vector3;
    harness_failure("variant_get_ptr_constructor(type %d, index %d): not implemented", t, index);
    return NULL;
}
static void destroy_packed(void *p) { host_packed_destroy(p); }
static GDExtensionPtrDestructor i_variant_get_ptr_destructor(GDExtensionVariantType t) {
    if (is_text(t)) return host_string_free;
    if (is_packed(t)) return destroy_packed;
    return NULL; /* bool, int, float, Object: no destructor, as in Godot */
}

/* ---- objects and ClassDB ----------------------------------------------------------------------- */

static const struct { const char *name, *parent; } engine_classes[] = {
    {"Object", NULL}, {"RefCounted", "Object"}, {"Resource", "RefCounted"}, {"Node", "Object"},
    {"Node3D", "Node"}, {"VisualInstance3D", "Node3D"}, {"GeometryInstance3D", "VisualInstance3D"},
    {"MeshInstance3D", "GeometryInstance3D"}, {"AudioEffect", "Resource"}, {"AudioEffectCapture", "AudioEffect"},
    {"AudioEffectDelay", "AudioEffect"}, {"ProjectSettings", "Object"}, {"AudioServer", "Object"},
    {"Mesh", "Resource"}, {"ArrayMesh", "Mesh"},
};

static const char *engine_parent(const char *name) {
    for (size_t i = 0; i < sizeof engine_classes / sizeof engine_classes[0]; i++)
        if (strcmp(engine_classes[i].name, name) == 0) return engine_classes[i].parent;
    return NULL;
}
/* The table's own copy of a class name (a caller's string may not outlive the call), or NULL. */
static const char *engine_class_name(const char *name) {
    for (size_t i = 0; i < sizeof engine_classes / sizeof engine_classes[0]; i++)
        if (strcmp(engine_classes[i].name, name) == 0) return engine_classes[i].name;
    return NULL;
}
static bool engine_class_exists(const char *name) { return engine_class_name(name) != NULL; }

HostClass *host_class(const char *name) {
    for (int i = 0; i < class_count; i++)
        if (classes[i].registered && strcmp(classes[i].name, name) == 0) return &classes[i];
    return NULL;
}
HostMethod *host_method(HostClass *cls, const char *name) {
    for (int i = 0; cls && i < cls->method_count; i++)
        if (strcmp(cls->methods[i].name, name) == 0) return &cls->methods[i];
    return NULL;
}
HostProperty *host_property(HostClass *cls, const char *name) {
    for (int i = 0; cls && i < cls->property_count; i++)
        if (strcmp(cls->properties[i].name, name) == 0) return &cls->properties[i];
    return NULL;
}

bool host_is_class(const HostObject *o, const char *name) {
    if (o->ext) {
        for (HostClass *c = o->ext; c; c = host_class(c->parent))
            if (strcmp(c->name, name) == 0) return true;
    }
    for (const char *c = o->engine_class; c; c = engine_parent(c))
        if (strcmp(c, name) == 0) return true;
    return false;
}

HostObject *host_new_engine_object(const char *engine_class) {
    HostObject *o = calloc(1, sizeof *o);
    o->engine_class = engine_class;
    o->id = next_object_id++;
    return o;
}

static GDExtensionObjectPtr i_classdb_construct_object(const void *class_name) {
    const char *name = string_of(class_name);
    if (!engine_class_exists(name)) {
        harness_failure("classdb_construct_object(%s): not a built-in class of the harness", name);
        return NULL;
    }
    return host_new_engine_object(engine_class_name(name));
}

static void i_object_set_instance(void *object, const void *class_name, void *instance) {
    HostObject *o = object;
    HostClass *cls = host_class(string_of(class_name));
    if (!cls) { harness_failure("object_set_instance: class %s is not registered", string_of(class_name)); return; }
    /* Godot requires the extension class to extend the object's class. */
    const char *base = cls->parent;
    while (host_class(base)) base = host_class(base)->parent;
    if (strcmp(base, o->engine_class) != 0) harness_failure("object_set_instance: %s does not extend %s", cls->name, o->engine_class);
    o->ext = cls;
    o->instance = instance;
}
static void i_object_set_instance_binding(void *object, void *token, void *binding, const GDExtensionInstanceBindingCallbacks *callbacks) {
    HostObject *o = object;
    if (token != &host_library_token) harness_failure("object_set_instance_binding: the token is not the library pointer Godot gave");
    if (!callbacks) harness_failure("object_set_instance_binding: no callbacks");
    o->binding_token = token;
    o->binding = binding;
}
static void *i_object_get_instance_binding(void *object, void *token, const GDExtensionInstanceBindingCallbacks *callbacks) {
    HostObject *o = object;
    if (o->binding_token == token) return o->binding;
    if (callbacks && callbacks->create_callback) {
        o->binding = callbacks->create_callback(token, object);
        o->binding_token = token;
        return o->binding;
    }
    return NULL;
}

HostObject *host_instantiate(const char *ext_class) {
    HostClass *cls = host_class(ext_class);
    if (!cls) { harness_failure("instantiate(%s): not registered", ext_class); return NULL; }
    HostObject *o = cls->info.create_instance_func(cls->info.class_userdata);
    if (!o || o->ext != cls || !o->instance) harness_failure("create_instance_func of %s did not set its instance", ext_class);
    return o;
}

void host_free_object(HostObject *o) {
    if (!o) return;
    if (o->ext) o->ext->info.free_instance_func(o->ext->info.class_userdata, o->instance);
    free(o->fake.frames);
    for (int i = 0; i < o->fake.shape_count; i++) free(o->fake.shape_names[i]);
    free(o->fake.shape_names);
    free(o->fake.shape_values);
    host_free_object(o->fake.mesh_resource);
    free(o);
}

static void i_classdb_register_extension_class(void *library, const void *name, const void *parent, const GDExtensionClassCreationInfo *info) {
    if (library != &host_library_token) harness_failure("register_extension_class: wrong library pointer");
    if (!info->create_instance_func || !info->free_instance_func) harness_failure("register_extension_class(%s): create and free are mandatory", string_of(name));
    if (!engine_class_exists(string_of(parent)) && !host_class(string_of(parent)))
        harness_failure("register_extension_class(%s): unknown parent %s", string_of(name), string_of(parent));
    if (host_class(string_of(name))) harness_failure("register_extension_class(%s): registered twice", string_of(name));
    HostClass *c = &classes[class_count++];
    memset(c, 0, sizeof *c);
    c->name = dup(string_of(name));
    c->parent = dup(string_of(parent));
    c->info = *info;
    c->registered = true;
}

static void i_classdb_register_extension_class_method(void *library, const void *class_name, const GDExtensionClassMethodInfo *info) {
    (void)library;
    HostClass *c = host_class(string_of(class_name));
    if (!c) { harness_failure("register_method on unregistered class %s", string_of(class_name)); return; }
    if (host_method(c, string_of(info->name))) harness_failure("method %s.%s registered twice", c->name, string_of(info->name));
    if (!info->call_func || !info->ptrcall_func) harness_failure("method %s.%s lacks call or ptrcall", c->name, string_of(info->name));
    if (info->argument_count > 8) { harness_failure("too many arguments"); return; }
    HostMethod *m = &c->methods[c->method_count++];
    memset(m, 0, sizeof *m);
    m->info = *info;
    m->name = dup(string_of(info->name));
    m->info.name = NULL; /* the strings belong to the caller and die after this call */
    m->info.arguments_info = NULL;
    m->info.return_value_info = NULL;
    m->info.arguments_metadata = NULL;
    m->ret_type = info->has_return_value && info->return_value_info ? info->return_value_info->type : GDEXTENSION_VARIANT_TYPE_NIL;
    for (uint32_t i = 0; i < info->argument_count; i++) m->arg_types[i] = info->arguments_info[i].type;
}

static void i_classdb_register_extension_class_property(void *library, const void *class_name, const GDExtensionPropertyInfo *info,
                                                        const void *setter, const void *getter) {
    (void)library;
    HostClass *c = host_class(string_of(class_name));
    if (!c) { harness_failure("register_property on unregistered class"); return; }
    HostProperty *p = &c->properties[c->property_count++];
    p->name = dup(string_of(info->name));
    p->setter = dup(string_of(setter));
    p->getter = dup(string_of(getter));
    p->hint_string = dup(string_of(info->hint_string));
    p->type = info->type;
    p->hint = info->hint;
    p->usage = info->usage;
    /* Godot checks that the accessors exist and match the property's type. */
    HostMethod *g = host_method(c, p->getter);
    if (!g) harness_failure("property %s.%s: getter %s is not a method", c->name, p->name, p->getter);
    else if (g->ret_type != p->type) harness_failure("property %s.%s: getter returns type %d, property is %d", c->name, p->name, g->ret_type, p->type);
    if (*p->setter) {
        HostMethod *s = host_method(c, p->setter);
        if (!s) harness_failure("property %s.%s: setter %s is not a method", c->name, p->name, p->setter);
        else if (s->info.argument_count != 1 || s->arg_types[0] != p->type) harness_failure("property %s.%s: setter does not take one %d", c->name, p->name, p->type);
    }
}

static void i_classdb_unregister_extension_class(void *library, const void *class_name) {
    (void)library;
    HostClass *c = host_class(string_of(class_name));
    if (!c) { harness_failure("unregister of unknown class %s", string_of(class_name)); return; }
    for (int i = 0; i < class_count; i++)
        if (classes[i].registered && &classes[i] != c && strcmp(classes[i].parent, c->name) == 0)
            harness_failure("unregister %s before its subclass %s", c->name, classes[i].name);
    c->registered = false;
    for (int i = 0; i < c->method_count; i++) free(c->methods[i].name);
    for (int i = 0; i < c->property_count; i++) {
        free(c->properties[i].name); free(c->properties[i].setter); free(c->properties[i].getter); free(c->properties[i].hint_string);
    }
    free(c->name);
    free(c->parent);
    c->name = c->parent = NULL;
}

/* ---- fake engine objects and their methods ------------------------------------------------------ */

static HostObject project_settings = {"ProjectSettings", NULL, NULL, NULL, NULL, 1, {0}};
static HostObject audio_server = {"AudioServer", NULL, NULL, NULL, NULL, 2, {0}};

static GDExtensionObjectPtr i_global_get_singleton(const void *name) {
    const char *s = string_of(name);
    if (strcmp(s, "ProjectSettings") == 0) return &project_settings;
    if (strcmp(s, "AudioServer") == 0) return &audio_server;
    harness_failure("global_get_singleton(%s): not a singleton of the harness", s);
    return NULL;
}

static void set_int(HostVariant *r, int64_t i) { memset(r, 0, sizeof *r); r->type = GDEXTENSION_VARIANT_TYPE_INT; r->v.i = i; }
static void set_float(HostVariant *r, double f) { memset(r, 0, sizeof *r); r->type = GDEXTENSION_VARIANT_TYPE_FLOAT; r->v.f = f; }
static void set_bool(HostVariant *r, bool b) { memset(r, 0, sizeof *r); r->type = GDEXTENSION_VARIANT_TYPE_BOOL; r->v.b = b; }
static void set_object(HostVariant *r, HostObject *o) {
    memset(r, 0, sizeof *r);
    r->type = o ? GDEXTENSION_VARIANT_TYPE_OBJECT : GDEXTENSION_VARIANT_TYPE_NIL;
    r->v.o = o;
}
static void set_string(HostVariant *r, const char *s) {
    memset(r, 0, sizeof *r);
    r->type = GDEXTENSION_VARIANT_TYPE_STRING;
    host_string_new(&r->v.p, s);
}

/* Argument conversions as Godot's Variant::call makes them. */
static bool arg_int(const HostVariant *a, int64_t *out) {
    if (a->type == GDEXTENSION_VARIANT_TYPE_INT) { *out = a->v.i; return true; }
    if (a->type == GDEXTENSION_VARIANT_TYPE_FLOAT) { *out = (int64_t)a->v.f; return true; }
    if (a->type == GDEXTENSION_VARIANT_TYPE_BOOL) { *out = a->v.b; return true; }
    return false;
}
static bool arg_float(const HostVariant *a, double *out) {
    if (a->type == GDEXTENSION_VARIANT_TYPE_FLOAT) { *out = a->v.f; return true; }
    if (a->type == GDEXTENSION_VARIANT_TYPE_INT) { *out = (double)a->v.i; return true; }
    return false;
}
static bool arg_bool(const HostVariant *a, bool *out) {
    if (a->type == GDEXTENSION_VARIANT_TYPE_BOOL) { *out = a->v.b; return true; }
    if (a->type == GDEXTENSION_VARIANT_TYPE_INT) { *out = a->v.i != 0; return true; }
    return false;
}
static const char *arg_text(const HostVariant *a) { return is_text(a->type) ? (const char *)a->v.p : NULL; }

typedef bool (*FakeMethod)(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r);

#define EXPECT_ARGS(n) do { if (argc != (n)) { harness_failure("%s takes %d arguments, got %d", __func__, (n), argc); return false; } } while (0)

static bool f_globalize_path(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self;
    EXPECT_ARGS(1);
    const char *p = arg_text(args[0]);
    if (!p) return false;
    char out[4096];
    if (strncmp(p, "res://", 6) == 0) snprintf(out, sizeof out, "%s/%s", host_project_dir, p + 6);
    else if (strncmp(p, "user://", 7) == 0) snprintf(out, sizeof out, "/tmp/%s", p + 7);
    else snprintf(out, sizeof out, "%s", p);
    set_string(r, out);
    return true;
}
static bool f_get_bus_index(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self;
    EXPECT_ARGS(1);
    const char *name = arg_text(args[0]);
    if (!name) return false;
    set_int(r, strcmp(name, "Master") == 0 ? 0 : strcmp(name, "Voice") == 0 && host_bus_exists ? 1 : -1);
    return true;
}
static bool f_get_bus_effect_count(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self;
    EXPECT_ARGS(1);
    int64_t bus;
    if (!arg_int(args[0], &bus)) return false;
    set_int(r, bus == 1 ? (host_bus_has_capture ? 1 : 0) + (host_bus_has_delay ? 1 : 0) : 0);
    return true;
}
static bool f_get_bus_effect(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self;
    EXPECT_ARGS(2);
    int64_t bus, index;
    if (!arg_int(args[0], &bus) || !arg_int(args[1], &index)) return false;
    HostObject *list[2];
    int n = 0;
    if (host_bus_has_capture) list[n++] = host_capture;
    if (host_bus_has_delay) list[n++] = host_delay;
    if (bus != 1 || index < 0 || index >= n) { harness_failure("get_bus_effect(%lld, %lld) out of range", (long long)bus, (long long)index); set_object(r, NULL); return true; }
    set_object(r, list[index]);
    return true;
}
static bool f_get_mix_rate(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self; (void)args;
    EXPECT_ARGS(0);
    set_float(r, (double)host_mix_rate);
    return true;
}
static bool f_is_class(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    EXPECT_ARGS(1);
    const char *name = arg_text(args[0]);
    if (!name) return false;
    set_bool(r, host_is_class(self, name));
    return true;
}
static bool f_get_instance_id(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)args;
    EXPECT_ARGS(0);
    set_int(r, self->id);
    return true;
}
static bool f_get_frames_available(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)args;
    EXPECT_ARGS(0);
    set_int(r, self->fake.frames_available);
    return true;
}
static bool f_get_buffer(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    EXPECT_ARGS(1);
    int64_t n;
    if (!arg_int(args[0], &n)) return false;
    HostPackedValue a;
    if (n < 0 || n > self->fake.frames_available) {
        /* Godot: ERR_FAIL_COND_V, an empty array. */
        harness_failure("get_buffer(%lld) with %lld frames available", (long long)n, (long long)self->fake.frames_available);
        n = 0;
    }
    host_packed_new(&a, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY, n);
    memcpy(a.data->bytes, self->fake.frames + 2 * self->fake.read, (size_t)n * 8);
    self->fake.read += n;
    self->fake.frames_available -= n;
    memset(r, 0, sizeof *r);
    r->type = GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY;
    r->v.p = a.data;
    return true;
}
#define DELAY_SETTER(NAME, FIELD, KIND)                                                            \
    static bool f_##NAME(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) { \
        (void)r;                                                                                   \
        EXPECT_ARGS(1);                                                                            \
        if (!arg_##KIND(args[0], &self->fake.FIELD)) return false;                                 \
        self->fake.delay_calls++;                                                                  \
        return true;                                                                               \
    }
DELAY_SETTER(set_dry, dry, float)
DELAY_SETTER(set_tap1_delay_ms, tap1_delay_ms, float)
DELAY_SETTER(set_tap1_level_db, tap1_level_db, float)
DELAY_SETTER(set_tap1_pan, tap1_pan, float)
DELAY_SETTER(set_tap1_active, tap1_active, bool)
DELAY_SETTER(set_tap2_active, tap2_active, bool)
DELAY_SETTER(set_feedback_active, feedback_active, bool)

static bool f_get_node_or_null(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)self;
    EXPECT_ARGS(1);
    if (args[0]->type != GDEXTENSION_VARIANT_TYPE_NODE_PATH && args[0]->type != GDEXTENSION_VARIANT_TYPE_STRING) return false;
    set_object(r, host_mesh && strcmp(arg_text(args[0]), host_mesh_path) == 0 ? host_mesh : NULL);
    return true;
}
static bool f_find_blend_shape_by_name(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    EXPECT_ARGS(1);
    const char *name = arg_text(args[0]);
    if (!name) return false;
    int64_t found = -1;
    for (int i = 0; i < self->fake.shape_count; i++)
        if (strcmp(self->fake.shape_names[i], name) == 0) found = i;
    set_int(r, found);
    return true;
}
static bool f_get_blend_shape_count(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)args;
    EXPECT_ARGS(0);
    set_int(r, self->fake.shape_count);
    return true;
}
/* The MeshInstance3D's Mesh: an ArrayMesh that reads the instance's names. */
static bool f_get_mesh(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)args;
    EXPECT_ARGS(0);
    if (!self->fake.mesh_resource) {
        self->fake.mesh_resource = host_new_engine_object("ArrayMesh");
        self->fake.mesh_resource->fake.names_of = self;
    }
    set_object(r, self->fake.mesh_resource);
    return true;
}
static bool f_get_blend_shape_name(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    EXPECT_ARGS(1);
    int64_t index;
    if (!arg_int(args[0], &index)) return false;
    HostObject *mesh = self->fake.names_of;
    if (!mesh || index < 0 || index >= mesh->fake.shape_count) { harness_failure("get_blend_shape_name(%lld) out of range", (long long)index); return true; }
    memset(r, 0, sizeof *r);
    r->type = GDEXTENSION_VARIANT_TYPE_STRING_NAME;
    host_string_new(&r->v.p, mesh->fake.shape_names[index]);
    mesh->fake.name_reads++;
    return true;
}
static bool f_set_blend_shape_value(HostObject *self, const HostVariant *const *args, int argc, HostVariant *r) {
    (void)r;
    EXPECT_ARGS(2);
    int64_t index;
    double value;
    if (!arg_int(args[0], &index) || !arg_float(args[1], &value)) return false;
    if (index < 0 || index >= self->fake.shape_count) { harness_failure("set_blend_shape_value(%lld): no such shape", (long long)index); return true; }
    self->fake.shape_values[index] = (float)value; /* Godot keeps blend shape values as float */
    self->fake.set_calls++;
    return true;
}

static const struct { const char *cls, *name; FakeMethod fn; } fake_methods[] = {
    {"Object", "is_class", f_is_class},
    {"Object", "get_instance_id", f_get_instance_id},
    {"ProjectSettings", "globalize_path", f_globalize_path},
    {"AudioServer", "get_bus_index", f_get_bus_index},
    {"AudioServer", "get_bus_effect_count", f_get_bus_effect_count},
    {"AudioServer", "get_bus_effect", f_get_bus_effect},
    {"AudioServer", "get_mix_rate", f_get_mix_rate},
    {"AudioEffectCapture", "get_frames_available", f_get_frames_available},
    {"AudioEffectCapture", "get_buffer", f_get_buffer},
    {"AudioEffectDelay", "set_dry", f_set_dry},
    {"AudioEffectDelay", "set_tap1_active", f_set_tap1_active},
    {"AudioEffectDelay", "set_tap1_delay_ms", f_set_tap1_delay_ms},
    {"AudioEffectDelay", "set_tap1_level_db", f_set_tap1_level_db},
    {"AudioEffectDelay", "set_tap1_pan", f_set_tap1_pan},
    {"AudioEffectDelay", "set_tap2_active", f_set_tap2_active},
    {"AudioEffectDelay", "set_feedback_active", f_set_feedback_active},
    {"Node", "get_node_or_null", f_get_node_or_null},
    {"MeshInstance3D", "find_blend_shape_by_name", f_find_blend_shape_by_name},
    {"MeshInstance3D", "set_blend_shape_value", f_set_blend_shape_value},
    {"MeshInstance3D", "get_blend_shape_count", f_get_blend_shape_count},
    {"MeshInstance3D", "get_mesh", f_get_mesh},
    {"ArrayMesh", "get_blend_shape_name", f_get_blend_shape_name},
};

static void i_variant_call(void *self_variant, const void *method_name, const GDExtensionConstVariantPtr *args, GDExtensionInt argc,
                           void *r_return, GDExtensionCallError *r_error) {
    HostVariant *self = self_variant;
    const char *method = string_of(method_name);
    memset(r_return, 0, sizeof(HostVariant)); /* Godot constructs the return Variant in every case */
    r_error->error = GDEXTENSION_CALL_OK;
    const HostVariant *const *a = (const HostVariant *const *)args;
    if (is_packed(self->type)) {
        HostPackedValue value = {self->v.p, 0};
        if (strcmp(method, "size") == 0 && argc == 0) { set_int(r_return, value.data->size); return; }
        if (strcmp(method, "resize") == 0 && argc == 1) {
            int64_t n;
            if (!arg_int(a[0], &n) || n < 0) { r_error->error = GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT; return; }
            packed_resize(&value, n);
            self->v.p = value.data;
            set_int(r_return, 0);
            return;
        }
        harness_failure("variant_call: packed arrays have no method %s/%lld in the harness", method, (long long)argc);
        r_error->error = GDEXTENSION_CALL_ERROR_INVALID_METHOD;
        return;
    }
    if (self->type != GDEXTENSION_VARIANT_TYPE_OBJECT || !self->v.o) {
        harness_failure("variant_call(%s) on a variant of type %d", method, self->type);
        r_error->error = GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL;
        return;
    }
    HostObject *o = self->v.o;
    /* The extension's own methods first (the call path), then the engine's. */
    for (HostClass *c = o->ext; c; c = host_class(c->parent)) {
        HostMethod *m = host_method(c, method);
        if (m) {
            m->info.call_func(m->info.method_userdata, o->instance, args, argc, r_return, r_error);
            return;
        }
    }
    for (size_t i = 0; i < sizeof fake_methods / sizeof fake_methods[0]; i++) {
        if (strcmp(fake_methods[i].name, method) == 0 && host_is_class(o, fake_methods[i].cls)) {
            if (!fake_methods[i].fn(o, a, (int)argc, r_return)) {
                harness_failure("%s.%s: bad arguments", o->engine_class, method);
                r_error->error = GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT;
            }
            return;
        }
    }
    harness_failure("variant_call: %s has no method %s in the harness", o->ext ? o->ext->name : o->engine_class, method);
    r_error->error = GDEXTENSION_CALL_ERROR_INVALID_METHOD;
}

/* ---- output --------------------------------------------------------------------------------- */

static void i_print_error(const char *description, const char *function, const char *file, int32_t line, GDExtensionBool notify) {
    (void)notify;
    host_errors++;
    snprintf(host_last_error, sizeof host_last_error, "%s", description);
    printf("    [godot] ERROR: %s\n      at: %s (%s:%d)\n", description, function, file, line);
}
static void i_print_warning(const char *description, const char *function, const char *file, int32_t line, GDExtensionBool notify) {
    (void)notify; (void)function; (void)file; (void)line;
    host_warnings++;
    printf("    [godot] WARNING: %s\n", description);
}

/* ---- get_proc_address ------------------------------------------------------------------------ */

#define ENTRY(name) {#name, (GDExtensionInterfaceFunctionPtr)i_##name}
static const struct { const char *name; GDExtensionInterfaceFunctionPtr fn; } interface_functions[] = {
    ENTRY(print_error), ENTRY(print_warning),
    ENTRY(variant_new_copy), ENTRY(variant_new_nil), ENTRY(variant_destroy), ENTRY(variant_call), ENTRY(variant_get_type),
    ENTRY(get_variant_from_type_constructor), ENTRY(get_variant_to_type_constructor),
    ENTRY(variant_get_ptr_constructor), ENTRY(variant_get_ptr_destructor),
    ENTRY(string_new_with_utf8_chars), ENTRY(string_to_utf8_chars),
    ENTRY(packed_float32_array_operator_index), ENTRY(packed_float32_array_operator_index_const),
    ENTRY(packed_vector2_array_operator_index_const), ENTRY(packed_vector3_array_operator_index),
    ENTRY(global_get_singleton), ENTRY(object_get_instance_binding), ENTRY(object_set_instance_binding), ENTRY(object_set_instance),
    ENTRY(classdb_construct_object), ENTRY(classdb_register_extension_class), ENTRY(classdb_register_extension_class_method),
    ENTRY(classdb_register_extension_class_property), ENTRY(classdb_unregister_extension_class),
};

GDExtensionInterfaceFunctionPtr host_get_proc_address(const char *name) {
    for (size_t i = 0; i < sizeof interface_functions / sizeof interface_functions[0]; i++)
        if (strcmp(interface_functions[i].name, name) == 0) return interface_functions[i].fn;
    /* Godot would return NULL; the harness also fails, so that it cannot pass without a function. */
    harness_failure("get_proc_address(\"%s\"): the harness does not implement it", name);
    return NULL;
}
