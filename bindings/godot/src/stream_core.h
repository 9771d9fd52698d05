/*
 * stream_core.h: one character's Mimetic state as the Godot classes use it, independent of Godot:
 * a loaded model shared by reference count between the MimeticModel resource and the streams made
 * from it (so a stream keeps its model alive whatever GDScript frees first), and a stream with its
 * blendshape fit and the scratch buffers pushing and pulling need, allocated once at open.
 */
#ifndef MIMETIC_GODOT_STREAM_CORE_H
#define MIMETIC_GODOT_STREAM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mimetic.h"

/* A loaded model and, optionally, its blendshape basis file; freed with its last reference. */
typedef struct {
    int refcount;
    mimetic_model *model;
    mimetic_model_info info;
    mimetic_retarget *basis;   /* for names and counts; each stream fits with its own copy */
    char *basis_path;
    char *path;
} ModelShared;

/* Loads a model file; NULL with `error` filled on failure. */
ModelShared *model_shared_load(const char *path, char *error, size_t error_size);
/* Loads a blendshape basis (e.g. arkit52.safetensors) for the model; false with `error` on failure. */
bool model_shared_load_basis(ModelShared *shared, const char *path, char *error, size_t error_size);
ModelShared *model_shared_retain(ModelShared *shared);
void model_shared_release(ModelShared *shared);

/* Pushes are split into chunks of this many samples (the mono scratch buffer). */
enum { STREAM_CORE_CHUNK = 4096 };

typedef struct {
    ModelShared *shared;
    mimetic_stream *stream;
    mimetic_retarget *retarget;   /* this stream's fit state and artist controls; NULL without a basis */
    mimetic_retarget_params controls;
    int32_t sample_rate;
    float *mono;                  /* STREAM_CORE_CHUNK samples */
    float *frame;                 /* output_size floats: the last pulled frame */
    float *weights;               /* the basis' K weights of the last pulled frame */
    int32_t weight_count;
    mimetic_frame_info info;      /* of the last pulled frame */
    char error[512];              /* the last failure's message */
} StreamCore;

/* Opens a stream of `shared` for audio at `sample_rate` (style slot `style`, or -1 for the
 * model's default), replacing any open one. Returns a mimetic_status; on failure `error` says why. */
mimetic_status stream_core_open(StreamCore *core, ModelShared *shared, int32_t sample_rate, int32_t style);
void stream_core_close(StreamCore *core);
bool stream_core_is_open(const StreamCore *core);

mimetic_status stream_core_push_mono(StreamCore *core, const float *samples, size_t n);
/* Interleaved stereo (x = left, y = right: a PackedVector2Array), mixed to mono as (L + R) / 2. */
mimetic_status stream_core_push_stereo(StreamCore *core, const float *xy, size_t frames);
mimetic_status stream_core_frames_ready(StreamCore *core, size_t *out);
/* Pulls the next frame into core->frame (MIMETIC_ERROR_NOT_READY when there is none). */
mimetic_status stream_core_pull_offsets(StreamCore *core);
/* Pulls the next frame as blendshape weights into core->weights. */
mimetic_status stream_core_pull_weights(StreamCore *core);
/* Strength (0..4), smoothing (0..1000 ms), lip-closure boost (0..1): refits with a new basis state. */
mimetic_status stream_core_set_controls(StreamCore *core, float strength, float smoothing_ms, float closure_boost);
mimetic_status stream_core_flush(StreamCore *core);
mimetic_status stream_core_reset(StreamCore *core);
mimetic_status stream_core_set_style(StreamCore *core, int32_t slot);
mimetic_status stream_core_load_persona(StreamCore *core, const char *path);
mimetic_status stream_core_latency(StreamCore *core, double *seconds);

#endif /* MIMETIC_GODOT_STREAM_CORE_H */
