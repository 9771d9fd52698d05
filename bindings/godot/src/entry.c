/*
 * entry.c: the extension's entry point, named by entry_symbol in mimetic.gdextension. Godot calls
 * it once with its get_proc_address; the classes are registered at the SCENE level (MimeticFace
 * is a Node) and unregistered in reverse order.
 */
#include "classes.h"

static void initialize(void *userdata, GDExtensionInitializationLevel level) {
    (void)userdata;
    if (level != GDEXTENSION_INITIALIZATION_SCENE) return;
    gd_register_class(&mimetic_model_class);
    mimetic_model_register_properties();
    gd_register_class(&mimetic_stream_class);
    gd_register_class(&mimetic_face_class);
    mimetic_face_register_properties();
}

static void deinitialize(void *userdata, GDExtensionInitializationLevel level) {
    (void)userdata;
    if (level != GDEXTENSION_INITIALIZATION_SCENE) return;
    gd_unregister_class(&mimetic_face_class);
    gd_unregister_class(&mimetic_stream_class);
    gd_unregister_class(&mimetic_model_class);
}

__attribute__((visibility("default"))) GDExtensionBool mimetic_gdextension_init(GDExtensionInterfaceGetProcAddress get_proc_address,
                                                                                GDExtensionClassLibraryPtr library,
                                                                                GDExtensionInitialization *r_initialization) {
    if (!get_proc_address || !library || !r_initialization) return 0;
    if (!gd_load(get_proc_address, library)) return 0;
    r_initialization->minimum_initialization_level = GDEXTENSION_INITIALIZATION_SCENE;
    r_initialization->userdata = NULL;
    r_initialization->initialize = initialize;
    r_initialization->deinitialize = deinitialize;
    return 1;
}
