/*
 * host_godot.h: a stand-in for Godot's side of the GDExtension interface, enough to load the
 * Mimetic addon the way Godot does and drive its classes without a Godot binary.
 *
 * What it plays: get_proc_address for the functions the addon asks for (any other name is a hard
 * failure: the harness cannot pass by not knowing a function), a Variant store for the types the
 * addon uses (bool, int, float, String, StringName, NodePath, Object, PackedFloat32Array,
 * PackedVector2Array, PackedVector3Array, copy-on-write like Godot's), ClassDB registration of
 * extension classes, methods and properties, the call (Variant) and ptrcall paths, instance
 * bindings, and a few engine objects with the methods the addon calls on them: ProjectSettings,
 * AudioServer with one "Voice" bus, AudioEffectCapture, AudioEffectDelay, a Node tree lookup and
 * MeshInstance3D blend shapes. Strings and packed arrays are counted, so leaks show.
 */
#ifndef MIMETIC_HOST_GODOT_H
#define MIMETIC_HOST_GODOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../src/gdextension_api.h"

typedef struct HostObject HostObject;

/* A Variant: 24 bytes, as on a 64-bit single-precision Godot. */
typedef struct {
    int32_t type;
    int32_t pad;
    union {
        GDExtensionBool b;
        int64_t i;
        double f;
        void *p;           /* String/StringName/NodePath: char *; packed arrays: HostPacked * */
        HostObject *o;
    } v;
    uint64_t spare;
} HostVariant;
_Static_assert(sizeof(HostVariant) == MIMETIC_GD_VARIANT_SIZE, "a Variant is 24 bytes");

typedef struct {
    int refcount;
    GDExtensionVariantType type;
    int64_t size;
    size_t element_size;
    unsigned char *bytes;
} HostPacked;

/* A packed array value: 16 bytes, the data pointer first. */
typedef struct {
    HostPacked *data;
    uint64_t unused;
} HostPackedValue;

typedef struct {
    GDExtensionClassMethodInfo info; /* name and argument infos copied */
    char *name;
    GDExtensionVariantType arg_types[8];
    GDExtensionVariantType ret_type;
} HostMethod;

typedef struct {
    char *name, *setter, *getter, *hint_string;
    GDExtensionVariantType type;
    uint32_t hint, usage;
} HostProperty;

typedef struct HostClass {
    char *name, *parent;
    GDExtensionClassCreationInfo info;
    HostMethod methods[64];
    int method_count;
    HostProperty properties[32];
    int property_count;
    bool registered;
} HostClass;

/* Engine-side state of the fake objects. */
typedef struct {
    /* AudioEffectCapture */
    float *frames;            /* stereo, interleaved */
    int64_t frames_available; /* frames queued (from `frames`, read position below) */
    int64_t read;
    /* AudioEffectDelay */
    double dry, tap1_delay_ms, tap1_level_db, tap1_pan;
    bool tap1_active, tap2_active, feedback_active;
    int delay_calls;
    /* MeshInstance3D */
    char **shape_names;
    int shape_count;
    float *shape_values;
    int64_t set_calls;
    HostObject *mesh_resource;   /* its ArrayMesh (get_mesh) */
    int64_t name_reads;          /* names read through that ArrayMesh */
    /* ArrayMesh */
    HostObject *names_of;        /* the MeshInstance3D whose names it reports */
} HostFake;

struct HostObject {
    const char *engine_class;   /* the built-in class it is (or extends) */
    HostClass *ext;             /* the extension class set by object_set_instance, or NULL */
    void *instance;
    void *binding_token, *binding;
    int64_t id;
    HostFake fake;
};

/* The interface. */
GDExtensionInterfaceFunctionPtr host_get_proc_address(const char *name);
extern int host_library_token;
extern const char *host_project_dir;    /* what res:// means */

/* Registry. */
HostClass *host_class(const char *name);
HostMethod *host_method(HostClass *cls, const char *name);
HostProperty *host_property(HostClass *cls, const char *name);
HostObject *host_new_engine_object(const char *engine_class);
HostObject *host_instantiate(const char *ext_class);  /* as ClassDB.instantiate does */
void host_free_object(HostObject *o);
bool host_is_class(const HostObject *o, const char *name);

/* The scene the fakes see. */
extern HostObject *host_capture, *host_delay, *host_mesh;
extern bool host_bus_exists, host_bus_has_capture, host_bus_has_delay;
extern int64_t host_mix_rate;
extern const char *host_mesh_path;     /* what get_node_or_null finds the mesh at */

/* Values. */
void host_string_new(void *out, const char *utf8);
void host_string_free(void *s);   /* a String, StringName or NodePath */
void host_packed_new(HostPackedValue *out, GDExtensionVariantType type, int64_t size);
void *host_packed_data(HostPackedValue *a);
void host_packed_destroy(HostPackedValue *a);
void host_variant_destroy(HostVariant *v);

/* Bookkeeping: live strings and packed arrays; printed errors and warnings. */
extern long host_live_strings, host_live_packed;
extern int host_errors, host_warnings;
extern char host_last_error[2048];
/* Failures of the harness itself (unknown functions, methods or constructors, bad calls). */
extern int host_failures;

#endif /* MIMETIC_HOST_GODOT_H */
