/* libFuzzer harness: a stream driven by a fuzzed call sequence through the C ABI (push sizes and
 * contents, pulls, frames_ready, flush, reset, style changes, snapshot and restore, i16 pushes,
 * batches with a second stream: mimetic_stream_process_batch, a stream given twice included),
 * on the model named by MIMETIC_FUZZ_MODEL. No call may crash, and no frame may hold NaN. */
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static float *frame, *weights;
    static unsigned char *snap;
    static size_t snap_bytes;
    static float audio[4096];
    static int16_t pcm[4096];
    mimetic_stream_params p;
    mimetic_stream *s, *t, *batch[3];
    size_t i = 0, ready;
    int have_snap = 0, complete;
    if (!frame) {
        fuzz_load_model();
        frame = malloc(sizeof(float) * (size_t)fuzz_info.output_size);
        weights = calloc((size_t)fuzz_info.num_styles + 1, sizeof(float));
    }
    if (size < 2) return 0;
    mimetic_stream_params_init(&p);
    p.sample_rate = (int32_t[]){ 16000, 48000, 44100, 8000, 22050, 32000, 11025, 24000 }[data[0] % 8];
    p.sample_policy = data[1] & 1 ? MIMETIC_SAMPLES_REJECT : MIMETIC_SAMPLES_SANITIZE;
    p.max_queued_frames = 16 + (data[1] >> 1) % 64;
    if (mimetic_stream_create(fuzz_model, &p, NULL, 0, &s) != MIMETIC_OK) return 0;
    if (mimetic_stream_create(fuzz_model, &p, NULL, 0, &t) != MIMETIC_OK) { mimetic_stream_free(s); return 0; }
    mimetic_stream_get_state_size(s, &snap_bytes);
    snap = realloc(snap, snap_bytes);
    for (i = 2; i + 2 <= size; i += 2) {
        uint8_t op = data[i], arg = data[i + 1];
        size_t n = (size_t)arg * 16, j;
        switch (op % 10) {
        case 0: case 1: case 2:   /* push float samples: a tone, or raw bytes (NaN, Inf, huge) */
            for (j = 0; j < n; ++j) audio[j] = op & 16 ? 0.5f * (float)sin(0.05 * (double)(i * 131 + j)) : 0;
            if (op & 32 && i + 6 <= size) memcpy(&audio[arg % 64], data + i + 2, 4);
            mimetic_stream_push_audio(op & 64 ? t : s, audio, n);
            break;
        case 3:                   /* push int16 */
            for (j = 0; j < n; ++j) pcm[j] = (int16_t)((j * (op + 1) * 977) & 0xffff);
            mimetic_stream_push_audio_i16(s, pcm, n);
            break;
        case 4: fuzz_drain(s, frame); break;
        case 5:                   /* one stream, or a batch: s and t, maybe s twice (refused) */
            if (!(op & 16)) { mimetic_stream_frames_ready(s, &ready); break; }
            batch[0] = s; batch[1] = t; batch[2] = s;
            mimetic_stream_process_batch(batch, 1 + arg % 3);
            if (arg & 4) fuzz_drain(t, frame);
            break;
        case 6: mimetic_stream_flush(s); fuzz_drain(s, frame); mimetic_stream_is_complete(s, &complete); break;
        case 7: mimetic_stream_reset(s); break;
        case 8:                   /* style: a slot (maybe out of range) or weights (maybe NaN) */
            if (arg & 1) mimetic_stream_set_style_slot(s, (int32_t)(arg >> 1) - 4);
            else {
                for (j = 0; j < (size_t)fuzz_info.num_styles; ++j) weights[j] = (float)((arg + j) % 5) / 4;
                if (arg & 2) weights[0] = NAN;
                mimetic_stream_set_style_weights(s, weights, (size_t)fuzz_info.num_styles + (arg & 4 ? 1 : 0));
            }
            break;
        case 9:                   /* snapshot, or restore the last one */
            if (arg & 1 && have_snap) mimetic_stream_restore(s, snap, snap_bytes);
            else have_snap = mimetic_stream_snapshot(s, snap, snap_bytes) == MIMETIC_OK;
            break;
        }
    }
    mimetic_stream_flush(s);
    fuzz_drain(s, frame);
    mimetic_stream_flush(t);
    fuzz_drain(t, frame);
    mimetic_stream_free(s);
    mimetic_stream_free(t);
    return 0;
}
