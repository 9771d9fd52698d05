/*
 * class_stream.c: MimeticStream, one character's live animation (RefCounted). Push audio as it
 * arrives, pull frames when ready; every call returns OK (0) or a Mimetic status, and a failure
 * also goes to Godot's error output with Mimetic's message (get_last_error() repeats it).
 *
 *   var stream := MimeticStream.new()
 *   stream.open(model, AudioServer.get_mix_rate())
 *   stream.push_stereo(capture.get_buffer(capture.get_frames_available()))
 *   while stream.frames_ready() > 0:
 *       var weights := stream.pull_weights()     # or pull_offsets() / pull_vertices()
 */
#include "classes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_MAGIC = 0x4d535452 };

typedef struct {
    GdInstanceHeader header;
    StreamCore core;
} StreamInstance;

static void stream_deinit(void *instance) { stream_core_close(&((StreamInstance *)instance)->core); }

/* The status as the method's return value; a failure (not NOT_READY) is also an error in Godot's output. */
static int64_t report(StreamInstance *self, const char *method, mimetic_status status) {
    if (status != MIMETIC_OK && status != MIMETIC_ERROR_NOT_READY) gd_error(method, "MimeticStream.%s: %s", method, self->core.error);
    return status;
}

static void s_open(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    ModelShared *shared = mimetic_model_shared(args[0].o);
    if (!shared) {
        stream_core_close(&self->core);
        snprintf(self->core.error, sizeof self->core.error, "the first argument must be a MimeticModel that has loaded a model");
        ret->i = report(self, "open", MIMETIC_ERROR_INVALID_ARGUMENT);
        return;
    }
    if (args[1].i < 8000 || args[1].i > 48000) {
        snprintf(self->core.error, sizeof self->core.error, "sample_rate %lld is outside 8000..48000 Hz", (long long)args[1].i);
        ret->i = report(self, "open", MIMETIC_ERROR_INVALID_ARGUMENT);
        return;
    }
    ret->i = report(self, "open", stream_core_open(&self->core, shared, (int32_t)args[1].i, -1));
}

static void s_push_audio(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    if (stream_core_is_open(&self->core) && args[1].i != self->core.sample_rate) {
        snprintf(self->core.error, sizeof self->core.error,
                 "the stream was opened for %d Hz audio and got %lld Hz: open it at that rate, or resample",
                 self->core.sample_rate, (long long)args[1].i);
        ret->i = report(self, "push_audio", MIMETIC_ERROR_INVALID_ARGUMENT);
        return;
    }
    int64_t n = 0;
    const float *samples = gd_packed_float32_read(args[0].packed, &n);
    ret->i = report(self, "push_audio", stream_core_push_mono(&self->core, samples, samples ? (size_t)n : 0));
}

static void s_push_stereo(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    int64_t n = 0;
    const float *xy = gd_packed_vector2_read(args[0].packed, &n);
    ret->i = report(self, "push_stereo", stream_core_push_stereo(&self->core, xy, xy ? (size_t)n : 0));
}

static void s_frames_ready(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    size_t n = 0;
    mimetic_status status = stream_core_frames_ready(&self->core, &n);
    report(self, "frames_ready", status);
    ret->i = status == MIMETIC_OK ? (int64_t)n : 0;
}

static void s_pull_offsets(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    if (report(self, "pull_offsets", stream_core_pull_offsets(&self->core)) != MIMETIC_OK) return; /* empty */
    gd_ret_floats(ret, self->core.frame, self->core.shared->info.output_size);
}

static void s_pull_vertices(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    if (stream_core_is_open(&self->core) && !self->core.shared->info.has_template) {
        snprintf(self->core.error, sizeof self->core.error, "the model has no neutral mesh: use pull_offsets()");
        report(self, "pull_vertices", MIMETIC_ERROR_UNSUPPORTED);
        return;
    }
    if (report(self, "pull_vertices", stream_core_pull_offsets(&self->core)) != MIMETIC_OK) return;
    const mimetic_model_info *info = &self->core.shared->info;
    float *xyz = gd_packed_vector3_new(&ret->packed, info->num_vertices);
    ret->packed_set = true;
    if (!xyz) return;
    mimetic_model_get_template(self->core.shared->model, xyz, (size_t)info->output_size);
    for (int32_t i = 0; i < info->output_size; i++) xyz[i] += self->core.frame[i];
}

static void s_pull_weights(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    if (report(self, "pull_weights", stream_core_pull_weights(&self->core)) != MIMETIC_OK) return;
    gd_ret_floats(ret, self->core.weights, self->core.weight_count);
}

static void s_get_frame_time(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->f = ((StreamInstance *)instance)->core.info.timestamp_s;
}

static void s_get_frame_index(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = ((StreamInstance *)instance)->core.info.frame_index;
}

static void s_flush(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = report(instance, "flush", stream_core_flush(&((StreamInstance *)instance)->core));
}

static void s_reset(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    ret->i = report(instance, "reset", stream_core_reset(&((StreamInstance *)instance)->core));
}

static void s_is_complete(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    int32_t complete = 0;
    if (stream_core_is_open(&self->core)) mimetic_stream_is_complete(self->core.stream, &complete);
    ret->b = complete != 0;
}

static void s_set_style(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    if (args[0].i < INT32_MIN || args[0].i > INT32_MAX) {
        snprintf(self->core.error, sizeof self->core.error, "slot %lld is out of range", (long long)args[0].i);
        ret->i = report(self, "set_style", MIMETIC_ERROR_INVALID_ARGUMENT);
        return;
    }
    ret->i = report(self, "set_style", stream_core_set_style(&self->core, (int32_t)args[0].i));
}

static void s_load_persona(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    char *path = mimetic_os_path(args[0].s);
    ret->i = report(self, "load_persona", stream_core_load_persona(&self->core, path ? path : args[0].s));
    free(path);
}

static void s_set_controls(void *instance, const GdArg *args, GdRet *ret) {
    StreamInstance *self = instance;
    ret->i = report(self, "set_controls",
                    stream_core_set_controls(&self->core, (float)args[0].f, (float)args[1].f, (float)args[2].f));
}

static void s_get_latency(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    StreamInstance *self = instance;
    report(self, "get_latency", stream_core_latency(&self->core, &ret->f));
}

static void s_get_last_error(void *instance, const GdArg *args, GdRet *ret) {
    (void)args;
    mimetic_ret_string_copy(ret, ((StreamInstance *)instance)->core.error);
}

#define NONE {{0}}
#define T(type) GDEXTENSION_VARIANT_TYPE_##type
static const GdMethod stream_methods[] = {
    {"open", s_open, T(INT), 2, {{T(OBJECT), "model", "MimeticModel"}, {T(INT), "sample_rate", NULL}}, false},
    {"push_audio", s_push_audio, T(INT), 2, {{T(PACKED_FLOAT32_ARRAY), "samples", NULL}, {T(INT), "sample_rate", NULL}}, false},
    {"push_stereo", s_push_stereo, T(INT), 1, {{T(PACKED_VECTOR2_ARRAY), "frames", NULL}}, false},
    {"frames_ready", s_frames_ready, T(INT), 0, NONE, false},
    {"pull_offsets", s_pull_offsets, T(PACKED_FLOAT32_ARRAY), 0, NONE, false},
    {"pull_vertices", s_pull_vertices, T(PACKED_VECTOR3_ARRAY), 0, NONE, false},
    {"pull_weights", s_pull_weights, T(PACKED_FLOAT32_ARRAY), 0, NONE, false},
    {"get_frame_time", s_get_frame_time, T(FLOAT), 0, NONE, true},
    {"get_frame_index", s_get_frame_index, T(INT), 0, NONE, true},
    {"flush", s_flush, T(INT), 0, NONE, false},
    {"reset", s_reset, T(INT), 0, NONE, false},
    {"is_complete", s_is_complete, T(BOOL), 0, NONE, false},
    {"set_style", s_set_style, T(INT), 1, {{T(INT), "slot", NULL}}, false},
    {"load_persona", s_load_persona, T(INT), 1, {{T(STRING), "path", NULL}}, false},
    {"set_controls", s_set_controls, T(INT), 3, {{T(FLOAT), "strength", NULL}, {T(FLOAT), "smoothing_ms", NULL}, {T(FLOAT), "closure_boost", NULL}}, false},
    {"get_latency", s_get_latency, T(FLOAT), 0, NONE, false},
    {"get_last_error", s_get_last_error, T(STRING), 0, NONE, true},
};

const GdClass mimetic_stream_class = {
    "MimeticStream", "RefCounted", STREAM_MAGIC, sizeof(StreamInstance), NULL, stream_deinit, NULL,
    stream_methods, sizeof stream_methods / sizeof stream_methods[0],
};
