/* Shared by the C-ABI fuzz harnesses: the model named by MIMETIC_FUZZ_MODEL, loaded once. */
#ifndef MIMETIC_FUZZ_COMMON_H
#define MIMETIC_FUZZ_COMMON_H

#include "mimetic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mimetic_model *fuzz_model;
static mimetic_model_info fuzz_info;

static void fuzz_load_model(void) {
    const char *path = getenv("MIMETIC_FUZZ_MODEL");
    if (!path || mimetic_model_load(path, &fuzz_model) != MIMETIC_OK) {
        fprintf(stderr, "set MIMETIC_FUZZ_MODEL to a model file (%s)\n", mimetic_last_error());
        abort();
    }
    fuzz_info.struct_size = sizeof fuzz_info;
    mimetic_model_get_info(fuzz_model, &fuzz_info);
}

/* Pulls every ready frame; aborts (a finding) on a non-finite value or an unexpected status.
 * `allow_fault`: a stream that faulted (a frame came out non-finite, refused with a message) is
 * an answer, not a finding: a restored snapshot may carry that state. */
static void fuzz_drain_state(mimetic_stream *s, float *frame, int allow_fault) {
    int st, i;
    while ((st = mimetic_stream_pull_frame(s, frame, (size_t)fuzz_info.output_size, NULL)) == MIMETIC_OK) {
        for (i = 0; i < fuzz_info.output_size; ++i) if (!isfinite(frame[i])) { fprintf(stderr, "NaN out\n"); abort(); }
    }
    if (st == MIMETIC_ERROR_INVALID_MODEL && allow_fault && strstr(mimetic_last_error(), "non-finite")) return;
    if (st != MIMETIC_ERROR_NOT_READY) { fprintf(stderr, "pull: %d %s\n", st, mimetic_last_error()); abort(); }
}

static void fuzz_drain(mimetic_stream *s, float *frame) { fuzz_drain_state(s, frame, 0); }

#endif
