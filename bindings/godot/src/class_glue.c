/* class_glue.c: the call and ptrcall paths, class and property registration (class_glue.h). */
#include "class_glue.h"

#include <stdlib.h>
#include <string.h>

static void *binding_create(void *token, void *instance) { (void)token; (void)instance; return NULL; }
static void binding_free(void *token, void *instance, void *binding) { (void)token; (void)instance; (void)binding; }
static GDExtensionBool binding_reference(void *token, void *binding, GDExtensionBool reference) {
    (void)token; (void)binding; (void)reference;
    return 1;
}
static const GDExtensionInstanceBindingCallbacks binding_callbacks = {binding_create, binding_free, binding_reference};

static GDExtensionObjectPtr create_instance(void *class_userdata) {
    const GdClass *cls = class_userdata;
    GdStringName parent, name;
    gd_string_name_new(&parent, cls->parent);
    GDExtensionObjectPtr object = gd.classdb_construct_object(&parent);
    gd_string_name_free(&parent);
    if (!object) return NULL;
    GdInstanceHeader *self = calloc(1, cls->instance_size);
    if (!self) {
        gd_error(__func__, "Mimetic: out of memory creating a %s", cls->name);
        return object; /* Godot frees the bare object */
    }
    self->magic = cls->magic;
    self->owner = object;
    gd_string_name_new(&name, cls->name);
    gd.object_set_instance(object, &name, self);
    gd_string_name_free(&name);
    gd.object_set_instance_binding(object, gd.library, self, &binding_callbacks);
    if (cls->init) cls->init(self);
    return object;
}

static void free_instance(void *class_userdata, GDExtensionClassInstancePtr instance) {
    const GdClass *cls = class_userdata;
    GdInstanceHeader *self = instance;
    if (!self) return;
    if (cls->deinit) cls->deinit(self);
    self->magic = 0;
    free(self);
}

void *gd_instance_of(GDExtensionObjectPtr object, const GdClass *cls) {
    if (!object) return NULL;
    GdInstanceHeader *self = gd.object_get_instance_binding(object, gd.library, NULL);
    if (!self || self->magic != cls->magic) return NULL;
    return self;
}

bool gd_string_name_equals(GDExtensionConstStringNamePtr name, const char *utf8) {
    char *s = gd_string_name_to_utf8(name);
    bool equal = s && strcmp(s, utf8) == 0;
    free(s);
    return equal;
}

/* ---- decoding arguments -------------------------------------------------------------------- */

static bool is_packed(GDExtensionVariantType t) {
    return t == GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY || t == GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY ||
           t == GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR3_ARRAY;
}
static bool is_text(GDExtensionVariantType t) {
    return t == GDEXTENSION_VARIANT_TYPE_STRING || t == GDEXTENSION_VARIANT_TYPE_STRING_NAME || t == GDEXTENSION_VARIANT_TYPE_NODE_PATH;
}

static char *text_to_utf8(GDExtensionVariantType type, const void *value) {
    switch (type) {
    case GDEXTENSION_VARIANT_TYPE_STRING_NAME: return gd_string_name_to_utf8(value);
    case GDEXTENSION_VARIANT_TYPE_NODE_PATH: return gd_node_path_to_utf8(value);
    default: return gd_string_to_utf8(value);
    }
}

/* What the call path decoded and must release after the call. */
typedef struct {
    char *strings[4];
    GdPackedArray packed[4];
    GDExtensionVariantType packed_type[4];
} Scratch;

static void scratch_release(Scratch *s) {
    for (int i = 0; i < 4; i++) {
        free(s->strings[i]);
        if (s->packed_type[i]) gd_packed_free(s->packed_type[i], &s->packed[i]);
    }
}

/* A Variant argument as the parameter's type; strings and numbers convert the way Godot's own
 * bindings convert them (int <-> float, String <-> StringName <-> NodePath). */
static bool decode_variant(const GdParam *param, const void *variant, GdArg *arg, Scratch *scratch, int index) {
    GDExtensionVariantType have = gd.variant_get_type(variant);
    switch (param->type) {
    case GDEXTENSION_VARIANT_TYPE_INT: return gd_variant_as_int(variant, &arg->i);
    case GDEXTENSION_VARIANT_TYPE_FLOAT: return gd_variant_as_float(variant, &arg->f);
    case GDEXTENSION_VARIANT_TYPE_BOOL: return gd_variant_as_bool(variant, &arg->b);
    case GDEXTENSION_VARIANT_TYPE_OBJECT: return gd_variant_as_object(variant, &arg->o);
    default: break;
    }
    if (is_text(param->type)) {
        if (!is_text(have)) return false;
        /* A String-typed value out of the variant, then UTF-8. */
        uint64_t storage[2] = {0, 0};
        gd.to_type[have](storage, (GDExtensionVariantPtr)variant);
        scratch->strings[index] = text_to_utf8(have, storage);
        if (gd.destroy[have]) gd.destroy[have](storage);
        arg->s = scratch->strings[index] ? scratch->strings[index] : "";
        return true;
    }
    if (is_packed(param->type)) {
        if (have != param->type) return false;
        gd.to_type[have](&scratch->packed[index], (GDExtensionVariantPtr)variant);
        scratch->packed_type[index] = have;
        arg->packed = &scratch->packed[index];
        return true;
    }
    return false;
}

static bool decode_typed(const GdParam *param, const void *value, GdArg *arg, Scratch *scratch, int index) {
    switch (param->type) {
    case GDEXTENSION_VARIANT_TYPE_INT: arg->i = *(const int64_t *)value; return true;
    case GDEXTENSION_VARIANT_TYPE_FLOAT: arg->f = *(const double *)value; return true;
    case GDEXTENSION_VARIANT_TYPE_BOOL: arg->b = *(const GDExtensionBool *)value != 0; return true;
    case GDEXTENSION_VARIANT_TYPE_OBJECT: arg->o = value ? *(GDExtensionObjectPtr const *)value : NULL; return true;
    default: break;
    }
    if (is_text(param->type)) {
        scratch->strings[index] = text_to_utf8(param->type, value);
        arg->s = scratch->strings[index] ? scratch->strings[index] : "";
        return true;
    }
    if (is_packed(param->type)) {
        arg->packed = value;
        return true;
    }
    return false;
}

void gd_ret_floats(GdRet *ret, const float *src, int64_t n) {
    float *out = gd_packed_float32_new(&ret->packed, n);
    ret->packed_set = true;
    if (out) memcpy(out, src, (size_t)n * sizeof(float));
}

static void release_ret(const GdMethod *m, GdRet *ret) {
    if (ret->s_owned) free((char *)ret->s);
    if (is_packed(m->ret) && ret->packed_set) gd_packed_free(m->ret, &ret->packed);
}

/* Builds the return value in place (uninitialized storage of the return type). */
static void encode_typed(const GdMethod *m, GdRet *ret, void *out) {
    switch (m->ret) {
    case GDEXTENSION_VARIANT_TYPE_INT: *(int64_t *)out = ret->i; return;
    case GDEXTENSION_VARIANT_TYPE_FLOAT: *(double *)out = ret->f; return;
    case GDEXTENSION_VARIANT_TYPE_BOOL: *(GDExtensionBool *)out = ret->b ? 1 : 0; return;
    case GDEXTENSION_VARIANT_TYPE_STRING: gd_string_new(out, ret->s ? ret->s : ""); return;
    case GDEXTENSION_VARIANT_TYPE_NODE_PATH: gd_node_path_new(out, ret->s ? ret->s : ""); return;
    default: break;
    }
    if (is_packed(m->ret)) {
        if (!ret->packed_set) {
            if (m->ret == GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY) gd_packed_float32_new(&ret->packed, 0);
            else gd_packed_vector3_new(&ret->packed, 0);
            ret->packed_set = true;
        }
        /* A move: Godot's arrays hold a pointer to their shared data and nothing that points back. */
        memcpy(out, &ret->packed, sizeof ret->packed);
        ret->packed_set = false;
    }
}

static void method_call(void *method_userdata, GDExtensionClassInstancePtr instance, const GDExtensionConstVariantPtr *p_args,
                        GDExtensionInt argc, GDExtensionVariantPtr r_return, GDExtensionCallError *r_error) {
    const GdMethod *m = method_userdata;
    r_error->error = GDEXTENSION_CALL_OK;
    if (!instance) { r_error->error = GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL; return; }
    if (argc != (GDExtensionInt)m->argc) {
        r_error->error = argc < (GDExtensionInt)m->argc ? GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS : GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS;
        r_error->argument = 0;
        r_error->expected = (int32_t)m->argc;
        return;
    }
    GdArg args[4];
    Scratch scratch;
    memset(&scratch, 0, sizeof scratch);
    for (uint32_t i = 0; i < m->argc; i++) {
        if (!decode_variant(&m->args[i], p_args[i], &args[i], &scratch, (int)i)) {
            r_error->error = GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT;
            r_error->argument = (int32_t)i;
            r_error->expected = m->args[i].type;
            scratch_release(&scratch);
            return;
        }
    }
    GdRet ret;
    memset(&ret, 0, sizeof ret);
    m->fn(instance, args, &ret);
    scratch_release(&scratch);
    if (m->ret != GDEXTENSION_VARIANT_TYPE_NIL && r_return) {
        uint64_t storage[2] = {0, 0};
        encode_typed(m, &ret, storage);
        gd.variant_destroy(r_return); /* r_return holds an initialized (nil) Variant */
        gd.from_type[m->ret](r_return, storage);
        if (gd.destroy[m->ret]) gd.destroy[m->ret](storage);
    }
    release_ret(m, &ret);
}

static void method_ptrcall(void *method_userdata, GDExtensionClassInstancePtr instance, const GDExtensionConstTypePtr *p_args,
                           GDExtensionTypePtr r_ret) {
    const GdMethod *m = method_userdata;
    if (!instance) return;
    GdArg args[4];
    Scratch scratch;
    memset(&scratch, 0, sizeof scratch);
    for (uint32_t i = 0; i < m->argc; i++) decode_typed(&m->args[i], p_args[i], &args[i], &scratch, (int)i);
    GdRet ret;
    memset(&ret, 0, sizeof ret);
    m->fn(instance, args, &ret);
    scratch_release(&scratch);
    if (m->ret != GDEXTENSION_VARIANT_TYPE_NIL && r_ret) {
        /* r_ret holds an initialized value of the return type: assignment = destroy, then build. */
        if (gd.destroy[m->ret]) gd.destroy[m->ret](r_ret);
        encode_typed(m, &ret, r_ret);
    }
    release_ret(m, &ret);
}

/* ---- registration ---------------------------------------------------------------------------- */

typedef struct {
    GdStringName name, class_name;
    GdString hint_string;
} PropertyNames;

static void property_info(GDExtensionPropertyInfo *info, PropertyNames *names, GDExtensionVariantType type, const char *name,
                          const char *class_name, uint32_t hint, const char *hint_string, uint32_t usage) {
    gd_string_name_new(&names->name, name ? name : "");
    gd_string_name_new(&names->class_name, class_name ? class_name : "");
    gd_string_new(&names->hint_string, hint_string ? hint_string : "");
    info->type = type;
    info->name = &names->name;
    info->class_name = &names->class_name;
    info->hint = hint;
    info->hint_string = &names->hint_string;
    info->usage = usage;
}

static void property_names_free(PropertyNames *names) {
    gd_string_name_free(&names->name);
    gd_string_name_free(&names->class_name);
    gd_string_free(&names->hint_string);
}

static GDExtensionClassMethodArgumentMetadata metadata_of(GDExtensionVariantType t) {
    return t == GDEXTENSION_VARIANT_TYPE_INT ? GDEXTENSION_METHOD_ARGUMENT_METADATA_INT_IS_INT64
         : t == GDEXTENSION_VARIANT_TYPE_FLOAT ? GDEXTENSION_METHOD_ARGUMENT_METADATA_REAL_IS_DOUBLE
         : GDEXTENSION_METHOD_ARGUMENT_METADATA_NONE;
}

static void register_method(const GdStringName *class_name, const GdMethod *m) {
    GdStringName method_name;
    gd_string_name_new(&method_name, m->name);
    PropertyNames ret_names, arg_names[4];
    GDExtensionPropertyInfo ret_info, arg_info[4];
    GDExtensionClassMethodArgumentMetadata arg_meta[4];
    property_info(&ret_info, &ret_names, m->ret, "", NULL, 0, "", MIMETIC_GD_PROPERTY_USAGE_DEFAULT);
    for (uint32_t i = 0; i < m->argc; i++) {
        property_info(&arg_info[i], &arg_names[i], m->args[i].type, m->args[i].name, m->args[i].class_name, 0, "",
                      MIMETIC_GD_PROPERTY_USAGE_DEFAULT);
        arg_meta[i] = metadata_of(m->args[i].type);
    }
    GDExtensionClassMethodInfo info;
    memset(&info, 0, sizeof info);
    info.name = &method_name;
    info.method_userdata = (void *)m;
    info.call_func = method_call;
    info.ptrcall_func = method_ptrcall;
    info.method_flags = GDEXTENSION_METHOD_FLAGS_DEFAULT | (m->is_const ? GDEXTENSION_METHOD_FLAG_CONST : 0);
    info.has_return_value = m->ret != GDEXTENSION_VARIANT_TYPE_NIL;
    info.return_value_info = info.has_return_value ? &ret_info : NULL;
    info.return_value_metadata = metadata_of(m->ret);
    info.argument_count = m->argc;
    info.arguments_info = m->argc ? arg_info : NULL;
    info.arguments_metadata = m->argc ? arg_meta : NULL;
    gd.classdb_register_extension_class_method(gd.library, class_name, &info);
    for (uint32_t i = 0; i < m->argc; i++) property_names_free(&arg_names[i]);
    property_names_free(&ret_names);
    gd_string_name_free(&method_name);
}

void gd_register_class(const GdClass *cls) {
    GdStringName name, parent;
    gd_string_name_new(&name, cls->name);
    gd_string_name_new(&parent, cls->parent);
    GDExtensionClassCreationInfo info;
    memset(&info, 0, sizeof info);
    info.create_instance_func = create_instance;
    info.free_instance_func = free_instance;
    info.get_virtual_func = cls->get_virtual;
    info.class_userdata = (void *)cls;
    gd.classdb_register_extension_class(gd.library, &name, &parent, &info);
    for (size_t i = 0; i < cls->method_count; i++) register_method(&name, &cls->methods[i]);
    gd_string_name_free(&parent);
    gd_string_name_free(&name);
}

void gd_unregister_class(const GdClass *cls) {
    GdStringName name;
    gd_string_name_new(&name, cls->name);
    gd.classdb_unregister_extension_class(gd.library, &name);
    gd_string_name_free(&name);
}

void gd_register_property(const GdClass *cls, GDExtensionVariantType type, const char *name, uint32_t hint,
                          const char *hint_string, uint32_t usage, const char *setter, const char *getter) {
    GdStringName class_name, setter_name, getter_name;
    gd_string_name_new(&class_name, cls->name);
    gd_string_name_new(&setter_name, setter);
    gd_string_name_new(&getter_name, getter);
    PropertyNames names;
    GDExtensionPropertyInfo info;
    property_info(&info, &names, type, name, NULL, hint, hint_string, usage);
    gd.classdb_register_extension_class_property(gd.library, &class_name, &info, &setter_name, &getter_name);
    property_names_free(&names);
    gd_string_name_free(&getter_name);
    gd_string_name_free(&setter_name);
    gd_string_name_free(&class_name);
}
