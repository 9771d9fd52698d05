/* libFuzzer harness: mimetic_stream_restore of hand-edited snapshots. The input is a list of
 * edits (4-byte offset, 8-byte value) applied to a real snapshot of a 48 kHz stream; the result
 * is re-sealed with the header's checksum, so the fuzzer explores the bounds checks, not the
 * checksum. A restore that succeeds must leave a stream that runs and never emits NaN. */
#include "fuzz_common.h"

#include <string.h>

#include "snapshot_seal.h"

static mimetic_stream *stream;
static unsigned char *good, *edited;
static size_t bytes;
static float *frame;

static void feed(mimetic_stream *s, long samples, int allow_fault) {
    float chunk[480];
    long i;
    int c;
    for (i = 0; i < samples; i += 480) {
        for (c = 0; c < 480; ++c) chunk[c] = 0.3f * (float)sin(0.03 * (double)(i + c)) * (float)sin(2e-4 * (double)(i + c));
        if (mimetic_stream_push_audio(s, chunk, 480) != MIMETIC_OK) return;
        fuzz_drain_state(s, frame, allow_fault);
    }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t k;
    if (!stream) {
        mimetic_stream_params p;
        fuzz_load_model();
        mimetic_stream_params_init(&p);
        p.sample_rate = 48000;
        if (mimetic_stream_create(fuzz_model, &p, NULL, 0, &stream) != MIMETIC_OK) abort();
        frame = malloc(sizeof(float) * (size_t)fuzz_info.output_size);
        feed(stream, 48000 / 2, 0);
        mimetic_stream_get_state_size(stream, &bytes);
        good = malloc(bytes);
        edited = malloc(bytes);
        mimetic_stream_snapshot(stream, good, bytes);
    }
    memcpy(edited, good, bytes);
    for (k = 0; k + 12 <= size; k += 12) {
        uint32_t off;
        memcpy(&off, data + k, 4);
        memcpy(edited + (off % (bytes - 8)), data + k + 4, 8);
    }
    if (size % 12 != 1) snapshot_seal(edited, bytes);   /* now and then an unsealed one */
    if (mimetic_stream_restore(stream, edited, bytes) == MIMETIC_OK) {
        feed(stream, 2400, 1);
        mimetic_stream_flush(stream);
        fuzz_drain_state(stream, frame, 1);
    }
    if (mimetic_stream_restore(stream, good, bytes) != MIMETIC_OK) abort();   /* the good one always restores */
    return 0;
}
