/* stream_core.c: the Godot-independent stream state (stream_core.h). */
#include "stream_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `what` failed, and Mimetic's message says why (what may be NULL when the message says it all). */
static void set_error(char *error, size_t size, const char *what, mimetic_status status) {
    const char *detail = mimetic_last_error();
    if (!detail || !*detail) detail = mimetic_status_string(status);
    if (what) snprintf(error, size, "%s: %s", what, detail);
    else snprintf(error, size, "%s", detail);
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out) memcpy(out, s, n);
    return out;
}

ModelShared *model_shared_load(const char *path, char *error, size_t error_size) {
    ModelShared *shared = calloc(1, sizeof *shared);
    if (!shared) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    mimetic_status status = mimetic_model_load(path, &shared->model);
    if (status != MIMETIC_OK) {
        set_error(error, error_size, "loading the model failed", status);
        free(shared);
        return NULL;
    }
    shared->info.struct_size = sizeof shared->info;
    mimetic_model_get_info(shared->model, &shared->info);
    shared->path = copy_string(path);
    shared->refcount = 1;
    return shared;
}

bool model_shared_load_basis(ModelShared *shared, const char *path, char *error, size_t error_size) {
    mimetic_retarget *basis = NULL;
    mimetic_status status = mimetic_retarget_load(shared->model, path, NULL, &basis);
    if (status != MIMETIC_OK) {
        set_error(error, error_size, "loading the blendshape basis failed", status);
        return false;
    }
    char *copy = copy_string(path);
    if (!copy) {
        mimetic_retarget_free(basis);
        snprintf(error, error_size, "out of memory");
        return false;
    }
    mimetic_retarget_free(shared->basis);
    free(shared->basis_path);
    shared->basis = basis;
    shared->basis_path = copy;
    return true;
}

ModelShared *model_shared_retain(ModelShared *shared) {
    if (shared) shared->refcount++;
    return shared;
}

void model_shared_release(ModelShared *shared) {
    if (!shared || --shared->refcount > 0) return;
    mimetic_retarget_free(shared->basis);
    mimetic_model_free(shared->model); /* every stream of it is closed: they held references */
    free(shared->basis_path);
    free(shared->path);
    free(shared);
}

/* ---- streams ------------------------------------------------------------------------------- */

bool stream_core_is_open(const StreamCore *core) { return core->stream != NULL; }

void stream_core_close(StreamCore *core) {
    mimetic_stream_free(core->stream);
    mimetic_retarget_free(core->retarget);
    free(core->mono);
    free(core->frame);
    free(core->weights);
    model_shared_release(core->shared);
    char error[sizeof core->error];
    memcpy(error, core->error, sizeof error);
    memset(core, 0, sizeof *core);
    memcpy(core->error, error, sizeof error); /* a failed open reports after closing the old stream */
}

static mimetic_status make_retarget(StreamCore *core, const mimetic_retarget_params *controls) {
    if (!core->shared->basis_path) return MIMETIC_OK;
    mimetic_retarget *retarget = NULL;
    mimetic_status status = mimetic_retarget_load(core->shared->model, core->shared->basis_path, controls, &retarget);
    if (status != MIMETIC_OK) {
        set_error(core->error, sizeof core->error, NULL, status); /* names the file or the control at fault */
        return status;
    }
    mimetic_retarget_free(core->retarget);
    core->retarget = retarget;
    core->controls = *controls;
    return MIMETIC_OK;
}

mimetic_status stream_core_open(StreamCore *core, ModelShared *shared, int32_t sample_rate, int32_t style) {
    stream_core_close(core);
    core->error[0] = 0;
    if (!shared) {
        snprintf(core->error, sizeof core->error, "no model: load one first");
        return MIMETIC_ERROR_WRONG_STATE;
    }
    mimetic_stream_params params;
    mimetic_stream_params_init(&params);
    params.sample_rate = sample_rate;
    if (style >= 0) params.style_slot = style;
    /* Room for an Imitator persona's basis change, so that load_persona works at any time. */
    params.reserve_persona_basis = shared->info.family == MIMETIC_FAMILY_IMITATOR ? 1 : 0;
    /* A game frame may come late (a load, a hitch): room for a second of frames. */
    if (params.max_queued_frames < shared->info.fps) params.max_queued_frames = shared->info.fps;
    mimetic_status status = mimetic_stream_create(shared->model, &params, NULL, 0, &core->stream);
    if (status != MIMETIC_OK) {
        set_error(core->error, sizeof core->error, "creating the stream failed", status);
        core->stream = NULL;
        return status;
    }
    core->shared = model_shared_retain(shared);
    core->sample_rate = sample_rate;
    core->mono = malloc(STREAM_CORE_CHUNK * sizeof(float));
    core->frame = calloc((size_t)shared->info.output_size, sizeof(float));
    core->weight_count = shared->basis ? mimetic_retarget_count(shared->basis) : 0;
    core->weights = calloc(core->weight_count > 0 ? (size_t)core->weight_count : 1, sizeof(float));
    mimetic_retarget_params controls;
    mimetic_retarget_params_init(&controls);
    if (!core->mono || !core->frame || !core->weights) {
        stream_core_close(core);
        snprintf(core->error, sizeof core->error, "out of memory");
        return MIMETIC_ERROR_INTERNAL;
    }
    status = make_retarget(core, &controls);
    if (status != MIMETIC_OK) {
        stream_core_close(core);
        return status;
    }
    return MIMETIC_OK;
}

static mimetic_status not_open(StreamCore *core) {
    snprintf(core->error, sizeof core->error, "the stream is not open: call open(model, sample_rate) first");
    return MIMETIC_ERROR_WRONG_STATE;
}

/* A failure's message kept (the classes name the method; Mimetic's message names the problem). */
static mimetic_status check(StreamCore *core, mimetic_status status) {
    if (status != MIMETIC_OK && status != MIMETIC_ERROR_NOT_READY) set_error(core->error, sizeof core->error, NULL, status);
    return status;
}

mimetic_status stream_core_push_mono(StreamCore *core, const float *samples, size_t n) {
    if (!core->stream) return not_open(core);
    return check(core, mimetic_stream_push_audio(core->stream, samples, n));
}

mimetic_status stream_core_push_stereo(StreamCore *core, const float *xy, size_t frames) {
    if (!core->stream) return not_open(core);
    for (size_t done = 0; done < frames;) {
        size_t n = frames - done < STREAM_CORE_CHUNK ? frames - done : STREAM_CORE_CHUNK;
        for (size_t i = 0; i < n; i++) core->mono[i] = 0.5f * (xy[2 * (done + i)] + xy[2 * (done + i) + 1]);
        mimetic_status status = mimetic_stream_push_audio(core->stream, core->mono, n);
        if (status != MIMETIC_OK) return check(core, status);
        done += n;
    }
    return MIMETIC_OK;
}

mimetic_status stream_core_frames_ready(StreamCore *core, size_t *out) {
    *out = 0;
    if (!core->stream) return not_open(core);
    return check(core, mimetic_stream_frames_ready(core->stream, out));
}

mimetic_status stream_core_pull_offsets(StreamCore *core) {
    if (!core->stream) return not_open(core);
    core->info.struct_size = sizeof core->info;
    return check(core, mimetic_stream_pull_frame(core->stream, core->frame, (size_t)core->shared->info.output_size, &core->info));
}

mimetic_status stream_core_pull_weights(StreamCore *core) {
    if (!core->stream) return not_open(core);
    if (!core->retarget) {
        snprintf(core->error, sizeof core->error,
                 "the model has no blendshape basis: call load_blend_shapes(path) on it before open()");
        return MIMETIC_ERROR_WRONG_STATE;
    }
    core->info.struct_size = sizeof core->info;
    return check(core, mimetic_stream_pull_weights(core->stream, core->retarget, core->weights, (size_t)core->weight_count,
                                             &core->info, NULL));
}

mimetic_status stream_core_set_controls(StreamCore *core, float strength, float smoothing_ms, float closure_boost) {
    if (!core->stream) return not_open(core);
    if (!core->retarget) {
        snprintf(core->error, sizeof core->error, "the model has no blendshape basis: call load_blend_shapes(path) on it before open()");
        return MIMETIC_ERROR_WRONG_STATE;
    }
    mimetic_retarget_params controls = core->controls;
    controls.strength = strength;
    controls.smoothing_ms = smoothing_ms;
    controls.closure_boost = closure_boost;
    return make_retarget(core, &controls);
}

mimetic_status stream_core_flush(StreamCore *core) {
    if (!core->stream) return not_open(core);
    return check(core, mimetic_stream_flush(core->stream));
}

mimetic_status stream_core_reset(StreamCore *core) {
    if (!core->stream) return not_open(core);
    if (core->retarget) mimetic_retarget_reset(core->retarget);
    return check(core, mimetic_stream_reset(core->stream));
}

mimetic_status stream_core_set_style(StreamCore *core, int32_t slot) {
    if (!core->stream) return not_open(core);
    return check(core, mimetic_stream_set_style_slot(core->stream, slot));
}

mimetic_status stream_core_load_persona(StreamCore *core, const char *path) {
    if (!core->stream) return not_open(core);
    mimetic_persona *persona = NULL;
    mimetic_status status = mimetic_persona_load(core->shared->model, path, &persona);
    if (status != MIMETIC_OK) return check(core, status);
    status = mimetic_stream_set_persona(core->stream, persona); /* the stream copies what it needs */
    mimetic_persona_free(persona);
    return check(core, status);
}

mimetic_status stream_core_latency(StreamCore *core, double *seconds) {
    *seconds = 0;
    if (!core->stream) return not_open(core);
    return check(core, mimetic_stream_get_latency(core->stream, seconds));
}
