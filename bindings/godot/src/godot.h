/*
 * godot.h: the shim's view of Godot. One table of interface functions (loaded once by name from
 * get_proc_address), opaque storage for Godot's builtin values, and the few conversions the
 * classes need: C strings to String/StringName/NodePath and back, Variants of the types the classes
 * take and return, packed arrays filled in place, dynamic calls on Godot objects, error reporting.
 *
 * Method calls on engine objects (AudioServer, an AudioEffectCapture, a MeshInstance3D) go through
 * variant_call by name, as an untyped GDScript call does: no method-bind hashes to keep in step
 * with Godot versions, at the cost of a name lookup per call (a few dozen calls a frame).
 */
#ifndef MIMETIC_GODOT_H
#define MIMETIC_GODOT_H

#include <stdbool.h>
#include <stdint.h>
#include "gdextension_api.h"

/* Godot's builtin values, held in storage of their size and touched only through the interface. */
typedef struct { uint64_t opaque[1]; } GdString;
typedef struct { uint64_t opaque[1]; } GdStringName;
typedef struct { uint64_t opaque[1]; } GdNodePath;
typedef struct { uint64_t opaque[2]; } GdPackedArray;
typedef struct { uint64_t opaque[3]; } GdVariant;

typedef struct {
    GDExtensionClassLibraryPtr library;
    GDExtensionInterfacePrintError print_error;
    GDExtensionInterfacePrintWarning print_warning;
    GDExtensionInterfaceVariantNewCopy variant_new_copy;
    GDExtensionInterfaceVariantNewNil variant_new_nil;
    GDExtensionInterfaceVariantDestroy variant_destroy;
    GDExtensionInterfaceVariantCall variant_call;
    GDExtensionInterfaceVariantGetType variant_get_type;
    GDExtensionInterfaceGetVariantFromTypeConstructor get_variant_from_type_constructor;
    GDExtensionInterfaceGetVariantToTypeConstructor get_variant_to_type_constructor;
    GDExtensionInterfaceVariantGetPtrConstructor variant_get_ptr_constructor;
    GDExtensionInterfaceVariantGetPtrDestructor variant_get_ptr_destructor;
    GDExtensionInterfaceStringNewWithUtf8Chars string_new_with_utf8_chars;
    GDExtensionInterfaceStringToUtf8Chars string_to_utf8_chars;
    GDExtensionInterfacePackedFloat32ArrayOperatorIndex packed_float32_array_operator_index;
    GDExtensionInterfacePackedFloat32ArrayOperatorIndexConst packed_float32_array_operator_index_const;
    GDExtensionInterfacePackedVector2ArrayOperatorIndexConst packed_vector2_array_operator_index_const;
    GDExtensionInterfacePackedVector3ArrayOperatorIndex packed_vector3_array_operator_index;
    GDExtensionInterfaceGlobalGetSingleton global_get_singleton;
    GDExtensionInterfaceObjectGetInstanceBinding object_get_instance_binding;
    GDExtensionInterfaceObjectSetInstanceBinding object_set_instance_binding;
    GDExtensionInterfaceObjectSetInstance object_set_instance;
    GDExtensionInterfaceClassdbConstructObject classdb_construct_object;
    GDExtensionInterfaceClassdbRegisterExtensionClass classdb_register_extension_class;
    GDExtensionInterfaceClassdbRegisterExtensionClassMethod classdb_register_extension_class_method;
    GDExtensionInterfaceClassdbRegisterExtensionClassProperty classdb_register_extension_class_property;
    GDExtensionInterfaceClassdbUnregisterExtensionClass classdb_unregister_extension_class;

    /* Looked up once after the functions above. */
    GDExtensionVariantFromTypeConstructorFunc from_type[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
    GDExtensionTypeFromVariantConstructorFunc to_type[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
    GDExtensionPtrDestructor destroy[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
    GDExtensionPtrConstructor string_name_from_string, node_path_from_string, string_from_string_name,
        string_from_node_path, packed_float32_new, packed_vector2_new, packed_vector3_new;
} MimeticGodot;

extern MimeticGodot gd;

/* Fills `gd` from get_proc_address; false (after printing which name is missing, when print_error
 * itself was found) if Godot lacks any of them. */
bool gd_load(GDExtensionInterfaceGetProcAddress get_proc_address, GDExtensionClassLibraryPtr library);

/* Errors and warnings in Godot's output (push_error's channel), printf-style. */
void gd_error(const char *function, const char *format, ...) __attribute__((format(printf, 2, 3)));
void gd_warning(const char *function, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Strings. The *_new functions construct into uninitialized storage; gd_*_free destroys. */
void gd_string_new(GdString *out, const char *utf8);
void gd_string_name_new(GdStringName *out, const char *utf8);
void gd_node_path_new(GdNodePath *out, const char *utf8);
void gd_string_free(GdString *s);
void gd_string_name_free(GdStringName *s);
void gd_node_path_free(GdNodePath *s);
/* UTF-8 copies (malloc'ed, NUL-terminated; NULL only when out of memory). */
char *gd_string_to_utf8(const void *string);
char *gd_string_name_to_utf8(const void *string_name);
char *gd_node_path_to_utf8(const void *node_path);

/* Variants. */
void gd_variant_nil(GdVariant *out);
void gd_variant_int(GdVariant *out, int64_t value);
void gd_variant_float(GdVariant *out, double value);
void gd_variant_bool(GdVariant *out, bool value);
void gd_variant_string(GdVariant *out, const char *utf8);
void gd_variant_string_name(GdVariant *out, const char *utf8);
void gd_variant_object(GdVariant *out, GDExtensionObjectPtr object);
void gd_variant_free(GdVariant *v);
GDExtensionVariantType gd_variant_type(const GdVariant *v);
/* Reads a number or a bool as int / float / bool (false if the variant holds something else). */
bool gd_variant_as_int(const void *variant, int64_t *out);
bool gd_variant_as_float(const void *variant, double *out);
bool gd_variant_as_bool(const void *variant, bool *out);
/* An Object variant's object (NULL for a null object, false for another type). */
bool gd_variant_as_object(const void *variant, GDExtensionObjectPtr *out);

/* Packed arrays. _new builds an array of n elements in uninitialized storage and returns its
 * first element (xyz floats for Vector3; NULL when n is 0), to be filled; _read returns a caller's
 * array's first element (xy floats for Vector2; NULL when empty) and its length, read-only. */
float *gd_packed_float32_new(GdPackedArray *out, int64_t n);
float *gd_packed_vector3_new(GdPackedArray *out, int64_t n);
const float *gd_packed_float32_read(const void *array, int64_t *n);
const float *gd_packed_vector2_read(const void *array, int64_t *n);
void gd_packed_free(GDExtensionVariantType type, GdPackedArray *a);

/* An engine singleton by name (AudioServer, ProjectSettings). */
GDExtensionObjectPtr gd_singleton(const char *name);

/* obj.method(args...) by name, as an untyped GDScript call. r_return receives the result (nil on
 * failure); false, with the reason printed, if the call failed. */
bool gd_call(GDExtensionObjectPtr object, const char *method, const GdVariant *args, int argc, GdVariant *r_return);

#endif /* MIMETIC_GODOT_H */
