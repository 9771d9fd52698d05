/* classes.h: the three classes the extension registers, and what they share. */
#ifndef MIMETIC_GODOT_CLASSES_H
#define MIMETIC_GODOT_CLASSES_H

#include "class_glue.h"
#include "stream_core.h"

extern const GdClass mimetic_model_class;   /* MimeticModel (Resource) */
extern const GdClass mimetic_stream_class;  /* MimeticStream (RefCounted) */
extern const GdClass mimetic_face_class;    /* MimeticFace (Node) */

/* Properties are registered after the class's methods (their setters and getters). */
void mimetic_model_register_properties(void);
void mimetic_face_register_properties(void);

/* The loaded model behind a MimeticModel object, or NULL (not one, or nothing loaded). */
ModelShared *mimetic_model_shared(GDExtensionObjectPtr object);

/* A path as the file system sees it: res:// and user:// through ProjectSettings.globalize_path,
 * anything else unchanged. malloc'ed. */
char *mimetic_os_path(const char *path);

/* A string returned to Godot that the glue frees after copying. */
void mimetic_ret_string_copy(GdRet *ret, const char *s);

#endif /* MIMETIC_GODOT_CLASSES_H */
