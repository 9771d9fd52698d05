/* paths.c: Godot paths to file-system paths (classes.h). */
#include "classes.h"

#include <stdlib.h>
#include <string.h>

static char *copy(const char *s) {
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out) memcpy(out, s, n);
    return out;
}

char *mimetic_os_path(const char *path) {
    if (strncmp(path, "res://", 6) != 0 && strncmp(path, "user://", 7) != 0) return copy(path);
    GDExtensionObjectPtr settings = gd_singleton("ProjectSettings");
    GdVariant arg, result;
    gd_variant_string(&arg, path);
    char *out = NULL;
    if (gd_call(settings, "globalize_path", &arg, 1, &result) && gd_variant_type(&result) == GDEXTENSION_VARIANT_TYPE_STRING) {
        GdString s;
        gd.to_type[GDEXTENSION_VARIANT_TYPE_STRING](&s, &result);
        out = gd_string_to_utf8(&s);
        gd_string_free(&s);
    }
    gd_variant_free(&result);
    gd_variant_free(&arg);
    return out ? out : copy(path);
}

void mimetic_ret_string_copy(GdRet *ret, const char *s) {
    ret->s = copy(s ? s : "");
    ret->s_owned = ret->s != NULL;
}
