/*
 * class_glue.h: registering C classes with Godot from tables. A method is one C function over
 * decoded arguments; the glue gives Godot both ways of calling it (call: Variants, converted as
 * GDScript's own bindings convert them; ptrcall: typed pointers) and checks argument counts and
 * types, so that a wrong call from GDScript is an error message, not a crash.
 */
#ifndef MIMETIC_CLASS_GLUE_H
#define MIMETIC_CLASS_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include "godot.h"

/* An argument, decoded. Strings are UTF-8 copies valid during the call; packed arrays are Godot's,
 * read-only. */
typedef union {
    int64_t i;
    double f;
    bool b;
    const char *s;            /* STRING, STRING_NAME, NODE_PATH */
    GDExtensionObjectPtr o;   /* OBJECT (NULL for null) */
    const void *packed;       /* PACKED_* */
} GdArg;

/* A return value: the method sets the field of its declared type. Strings are copied into Godot
 * and freed by the glue when `s_owned`; packed arrays are built with gd_packed_*_new into `packed`. */
typedef struct {
    int64_t i;
    double f;
    bool b;
    const char *s;
    bool s_owned;
    GdPackedArray packed;
    bool packed_set;          /* false: an empty array is returned */
} GdRet;

typedef void (*GdMethodFn)(void *instance, const GdArg *args, GdRet *ret);

/* Returns n floats copied from `src` as a PackedFloat32Array. */
void gd_ret_floats(GdRet *ret, const float *src, int64_t n);

typedef struct {
    GDExtensionVariantType type;
    const char *name;
    const char *class_name;   /* OBJECT arguments: the class expected, or NULL */
} GdParam;

typedef struct {
    const char *name;
    GdMethodFn fn;
    GDExtensionVariantType ret;   /* NIL: returns nothing */
    uint32_t argc;
    GdParam args[4];
    bool is_const;
} GdMethod;

/* Per-class description: the Godot base class and the instance life cycle. */
typedef struct {
    const char *name;
    const char *parent;
    uint32_t magic;                                  /* first field of every instance */
    size_t instance_size;
    void (*init)(void *instance);                    /* after zeroing; may be NULL */
    void (*deinit)(void *instance);                  /* before freeing; may be NULL */
    GDExtensionClassGetVirtual get_virtual;          /* may be NULL */
    const GdMethod *methods;
    size_t method_count;
} GdClass;

/* Every instance starts with this. */
typedef struct {
    uint32_t magic;
    GDExtensionObjectPtr owner;   /* the Godot object this instance extends */
} GdInstanceHeader;

void gd_register_class(const GdClass *cls);
void gd_unregister_class(const GdClass *cls);
/* usage: MIMETIC_GD_PROPERTY_USAGE_DEFAULT (saved and edited), or _EDITOR for a read-only one (setter ""). */
void gd_register_property(const GdClass *cls, GDExtensionVariantType type, const char *name, uint32_t hint,
                          const char *hint_string, uint32_t usage, const char *setter, const char *getter);
/* The instance of class `cls` behind a Godot object, or NULL if the object is not one. */
void *gd_instance_of(GDExtensionObjectPtr object, const GdClass *cls);
/* Whether a StringName (a virtual method being looked up) spells `utf8`. */
bool gd_string_name_equals(GDExtensionConstStringNamePtr name, const char *utf8);

#endif /* MIMETIC_CLASS_GLUE_H */
