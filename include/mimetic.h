/*
 * mimetic.h: speech to 3D facial animation, the C interface of libMimetic.
 *
 * One flat C99 header. Opaque handles; every function returns a mimetic_status and writes its
 * results through out-parameters; a failed call also leaves a readable message in
 * mimetic_last_error() (per thread).
 *
 * Thread safety:
 *   - A mimetic_model is immutable once loaded: any number of threads may use the same model at
 *     the same time (get_info, running streams made from it). Free it only after every user is done.
 *   - mimetic_version, mimetic_status_string and mimetic_last_error may be called from any thread.
 *     The message returned by mimetic_last_error belongs to the calling thread and stays valid until
 *     that thread's next failing Mimetic call.
 */
#ifndef MIMETIC_H
#define MIMETIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define MIMETIC_API __declspec(dllimport)
#elif defined(__GNUC__)
#  define MIMETIC_API __attribute__((visibility("default")))
#else
#  define MIMETIC_API
#endif

#define MIMETIC_VERSION_MAJOR 0
#define MIMETIC_VERSION_MINOR 1
#define MIMETIC_VERSION_PATCH 0
#define MIMETIC_VERSION_STRING "0.1.0"

/* Status codes. 0 is success; every other value names a class of failure. */
typedef enum mimetic_status {
    MIMETIC_OK = 0,
    MIMETIC_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, out-of-range value          */
    MIMETIC_ERROR_IO = 2,               /* file cannot be opened or read                        */
    MIMETIC_ERROR_INVALID_MODEL = 3,    /* corrupt, truncated or inconsistent model file        */
    MIMETIC_ERROR_UNSUPPORTED = 4,      /* valid file asking for something not implemented      */
    MIMETIC_ERROR_INVALID_AUDIO = 5,    /* empty, NaN/Inf or too-short audio                    */
    MIMETIC_ERROR_BUFFER_TOO_SMALL = 6, /* output capacity too small; the needed size is reported */
    MIMETIC_ERROR_INTERNAL = 7          /* a bug: please report it with the message             */
} mimetic_status;

typedef enum mimetic_family {
    MIMETIC_FAMILY_FACEFORMER = 0,
    MIMETIC_FAMILY_IMITATOR = 1,
    MIMETIC_FAMILY_MIMIC = 2
} mimetic_family;

/* A loaded model (opaque). */
typedef struct mimetic_model mimetic_model;

/* What a model expects and produces. */
typedef struct mimetic_model_info {
    size_t struct_size;        /* set by the caller: sizeof(mimetic_model_info)                  */
    mimetic_family family;
    int32_t sample_rate;       /* encoder input rate (16000)                                      */
    int32_t fps;               /* motion frames per second                                        */
    int32_t num_vertices;      /* V                                                               */
    int32_t output_size;       /* floats per frame: 3 * V, xyz interleaved                        */
    int32_t num_styles;        /* style slots (one-hot width, or Mimic style codes shipped)       */
    int32_t style_dim;         /* width of a style vector / code                                  */
    int32_t has_template;      /* 1 if the file carries a neutral mesh                            */
    int32_t num_triangles;     /* 0 if none                                                        */
    int32_t max_context_frames;/* decoder attention window (frames)                               */
} mimetic_model_info;

/* Library version as "MAJOR.MINOR.PATCH"; static storage. */
MIMETIC_API const char *mimetic_version(void);

/* A constant English name for a status code; never NULL. */
MIMETIC_API const char *mimetic_status_string(mimetic_status status);

/* The message of the calling thread's last failure ("" if none); valid until its next failure. */
MIMETIC_API const char *mimetic_last_error(void);

/* Loads a model file (memory-mapped). On success *out_model is a new handle. */
MIMETIC_API mimetic_status mimetic_model_load(const char *path, mimetic_model **out_model);

/* Loads a model from a buffer of `size` bytes; the buffer is copied and may be freed after. */
MIMETIC_API mimetic_status mimetic_model_load_from_memory(const void *data, size_t size, mimetic_model **out_model);

/* Frees a model. NULL is allowed and does nothing. */
MIMETIC_API void mimetic_model_free(mimetic_model *model);

/* Fills *info; info->struct_size must be set to sizeof(mimetic_model_info) (or a smaller,
 * older size: only that many bytes are written). */
MIMETIC_API mimetic_status mimetic_model_get_info(const mimetic_model *model, mimetic_model_info *info);

/* The name of style slot `index` (static storage owned by the model), or NULL if out of range. */
MIMETIC_API const char *mimetic_model_style_name(const mimetic_model *model, int32_t index);

#ifdef __cplusplus
}
#endif

#endif /* MIMETIC_H */
