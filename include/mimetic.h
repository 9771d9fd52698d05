/*
 * mimetic.h: speech to 3D facial animation, the C interface of libMimetic.
 *
 * One flat C99 header. Opaque handles; every function returns a mimetic_status and writes its
 * results through out-parameters; a failed call also leaves a readable message in
 * mimetic_last_error() (per thread).
 *
 * Usage:
 *   mimetic_model *model;
 *   if (mimetic_model_load("face.safetensors", &model) != MIMETIC_OK) puts(mimetic_last_error());
 *   mimetic_model_info info = { sizeof info };  mimetic_model_get_info(model, &info);
 *
 *   // A whole utterance (offline, e.g. a bake step): a WAV file in, every frame out.
 *   mimetic_audio wav = { sizeof wav };  mimetic_wav_read("line.wav", 0, &wav);
 *   mimetic_animate_params ap;  mimetic_animate_params_init(&ap);  ap.sample_rate = wav.sample_rate;
 *   size_t frames;  mimetic_animate_frame_count(model, wav.n_samples, wav.sample_rate, &frames);
 *   float *all = malloc(frames * info.output_size * sizeof(float));
 *   mimetic_animate(model, wav.samples, wav.n_samples, &ap, all, frames * info.output_size, &frames);
 *   mimetic_audio_free(&wav);
 *
 *   // Live audio (a character in a game): push as it arrives, pull each frame when ready.
 *   mimetic_stream_params sp;  mimetic_stream_params_init(&sp);  sp.sample_rate = 48000;
 *   mimetic_stream *stream;  mimetic_stream_create(model, &sp, NULL, 0, &stream);
 *   mimetic_stream_push_audio(stream, chunk, n);                                    // audio thread
 *   while (mimetic_stream_pull_frame(stream, offsets, info.output_size, NULL) == MIMETIC_OK) apply(offsets);
 *   // ...or blendshape weights instead of offsets (ARKit-52 on the shipped rig):
 *   //   mimetic_retarget *arkit;  mimetic_retarget_load(model, "arkit52.safetensors", NULL, &arkit);
 *   //   while (mimetic_stream_pull_weights(stream, arkit, weights, 52, NULL, NULL) == MIMETIC_OK) apply(weights);
 *   mimetic_stream_flush(stream);   // end of utterance; then pull the rest
 *   mimetic_stream_free(stream);  mimetic_model_free(model);
 *
 * Thread safety:
 *   - A mimetic_model is immutable once loaded: any number of threads may use the same model at
 *     the same time (get_info, creating and running streams). Free it only after every stream made
 *     from it has been freed: mimetic_model_free refuses (MIMETIC_ERROR_WRONG_STATE, model kept)
 *     while streams are alive.
 *   - A mimetic_stream is one character's state. Use it from one thread at a time (it may move
 *     between threads, e.g. push from the audio thread and pull from the game thread, provided the
 *     caller serialises those calls). Different streams are independent and may run in parallel.
 *   - mimetic_version, mimetic_status_string and mimetic_last_error may be called from any thread.
 *     The message returned by mimetic_last_error belongs to the calling thread and stays valid until
 *     that thread's next failing Mimetic call.
 *   - The log callback may be called from any thread that calls into Mimetic.
 *
 * Threads and streams: a stream's per-frame products (a few rows each) run on Mimetic's own
 * single-threaded kernels, never on OpenBLAS's thread pool, so one stream per character on any
 * number of threads does not oversubscribe the machine whatever mimetic_set_threads says (8 streams
 * on 8 threads take about 0.6x of 8 x one stream on this project's 2-core machine: docs/reliability.md).
 * mimetic_set_threads governs the large products: offline work, and the transformer window of a
 * wav2vec 2.0 stream (keep it at 1 when many wav2vec 2.0 streams run on many threads).
 *
 * Real-time contract: mimetic_stream_push_audio*, mimetic_stream_frames_ready, mimetic_stream_process_batch,
 * mimetic_stream_pull_frame, mimetic_stream_flush, mimetic_stream_reset, the style setters and
 * snapshot/restore allocate no memory and take no lock in Mimetic's code when they succeed or
 * report MIMETIC_ERROR_NOT_READY (Tests/C/test_stream_abi.c counts both); other failures format a
 * message and may allocate. A real-time-encoder stream never enters OpenBLAS at all. A wav2vec 2.0
 * stream's window encoder goes through OpenBLAS, whose buffer pool takes an uncontended mutex per
 * product, and which with more than one thread (mimetic_set_threads) also allocates a small job
 * table per product; push never encodes unless its audio buffer is full. Everything a stream needs lives in one
 * contiguous buffer whose size mimetic_stream_state_size reports before creation; the buffer holds
 * no pointers into itself, so copying it (mimetic_stream_snapshot / _restore) copies the stream.
 * Pushing is cheap (resampling and buffering); the encoder and decoder run inside frames_ready and
 * pull_frame, on the caller's thread (and inside push only when its audio buffer is full).
 * A pull that finds no frame returns MIMETIC_ERROR_NOT_READY without touching mimetic_last_error.
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
    MIMETIC_ERROR_INTERNAL = 7,         /* a bug: please report it with the message             */
    MIMETIC_ERROR_NOT_READY = 8,        /* no frame to pull yet (push more audio, or flush)     */
    MIMETIC_ERROR_WRONG_STATE = 9,      /* call out of order, e.g. push after flush             */
    MIMETIC_ERROR_CANCELLED = 10        /* the caller's progress callback asked to stop          */
} mimetic_status;

typedef enum mimetic_family {
    MIMETIC_FAMILY_FACEFORMER = 0,
    MIMETIC_FAMILY_IMITATOR = 1,
    MIMETIC_FAMILY_MIMIC = 2
} mimetic_family;

/* A loaded model (opaque). */
typedef struct mimetic_model mimetic_model;

/* One streaming animation state, one per character (opaque). */
typedef struct mimetic_stream mimetic_stream;

/* A learned speaking style for one model: a style vector and, for Imitator, a motion-basis change (opaque). */
typedef struct mimetic_persona mimetic_persona;

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
    int32_t min_lookahead_ms;  /* streaming lookahead range accepted by mimetic_stream_params      */
    int32_t max_lookahead_ms;
    int32_t latency_tunable;   /* 1: a wav2vec 2.0 model, whose streams use lookahead_ms,
                                  left_context_ms and hop_ms; 0: a real-time-encoder model, whose
                                  latency is fixed by its encoder (those three params are accepted
                                  and ignored; mimetic_stream_get_latency says what it is)        */
    int32_t encoder_lookahead_ms; /* real-time encoder: the audio past a frame's time that the
                                  frame depends on, rounded up to whole ms; 0 for wav2vec 2.0      */
} mimetic_model_info;

/* Library version as "MAJOR.MINOR.PATCH"; static storage. */
MIMETIC_API const char *mimetic_version(void);

/* A constant English name for a status code; never NULL. */
MIMETIC_API const char *mimetic_status_string(mimetic_status status);

/* The message of the calling thread's last failure ("" if none); valid until its next failure. */
MIMETIC_API const char *mimetic_last_error(void);

/* Threads for the large matrix products (OpenBLAS, process-wide; n < 1 means 1; default: OpenBLAS's
 * own, the number of cores): offline work, and a wav2vec 2.0 stream's window encoder, which with
 * n > 1 goes through OpenBLAS's thread pool (a small job table per product). Streams' per-frame
 * products never use it (see "Threads and streams" above). Not to be called while streams are running. */
MIMETIC_API void mimetic_set_threads(int32_t n);
MIMETIC_API int32_t mimetic_get_threads(void);

/* Loads a model file (memory-mapped). On success *out_model is a new handle. */
MIMETIC_API mimetic_status mimetic_model_load(const char *path, mimetic_model **out_model);

/* Loads a model from a buffer of `size` bytes; the buffer is copied and may be freed after. */
MIMETIC_API mimetic_status mimetic_model_load_from_memory(const void *data, size_t size, mimetic_model **out_model);

/* Frees a model. NULL is allowed and does nothing (MIMETIC_OK). While streams made from the model
 * are alive it refuses: MIMETIC_ERROR_WRONG_STATE, and the model stays valid. */
MIMETIC_API mimetic_status mimetic_model_free(mimetic_model *model);

/* Fills *info; info->struct_size must be set to sizeof(mimetic_model_info) (or a smaller,
 * older size: only that many bytes are written). */
MIMETIC_API mimetic_status mimetic_model_get_info(const mimetic_model *model, mimetic_model_info *info);

/* The name of style slot `index` (static storage owned by the model), or NULL if out of range. */
MIMETIC_API const char *mimetic_model_style_name(const mimetic_model *model, int32_t index);

/* Copies the neutral mesh (output_size floats, xyz interleaved) when the file has one
 * (info.has_template; otherwise MIMETIC_ERROR_INVALID_ARGUMENT); vertex positions are template +
 * the offsets a stream produces. */
MIMETIC_API mimetic_status mimetic_model_get_template(const mimetic_model *model, float *out, size_t capacity);

/* Mimic: the style code (style_dim floats) of a reference motion clip, `frames` x output_size
 * offsets from the template (its last 150 frames are used, as the original demo does). Pass it as
 * params.style_code or to mimetic_stream_set_style_code. Other families: MIMETIC_ERROR_INVALID_ARGUMENT.
 * Not a real-time call (it allocates). */
MIMETIC_API mimetic_status mimetic_style_from_motion(const mimetic_model *model, const float *offsets, size_t frames,
                                                     float *code_out, size_t capacity);

/* ------------------------------------------------------------------------------------------ */
/* Logging                                                                                      */

typedef enum mimetic_log_level {
    MIMETIC_LOG_ERROR = 0,
    MIMETIC_LOG_WARNING = 1,
    MIMETIC_LOG_INFO = 2
} mimetic_log_level;

typedef void (*mimetic_log_callback)(mimetic_log_level level, const char *message, void *user_data);

/* Installs a process-wide log callback (NULL: no logging, the default). Every failing call logs its
 * message at MIMETIC_LOG_ERROR in addition to mimetic_last_error(). */
MIMETIC_API void mimetic_log_set(mimetic_log_callback callback, void *user_data);

/* ------------------------------------------------------------------------------------------ */
/* Streaming                                                                                    */

/* What a stream does with NaN, +-Inf and out-of-range samples. In every case the output is never NaN. */
typedef enum mimetic_sample_policy {
    /* NaN becomes 0, values are clamped to [-1, 1] (Inf to +-1); the stream counts each repair
     * (mimetic_stream_stats). The default: one bad sample must not kill a live character. */
    MIMETIC_SAMPLES_SANITIZE = 0,
    /* A chunk holding any NaN/Inf is rejected whole (MIMETIC_ERROR_INVALID_AUDIO, nothing consumed). */
    MIMETIC_SAMPLES_REJECT = 1
} mimetic_sample_policy;

typedef struct mimetic_stream_params {
    size_t struct_size;        /* sizeof(mimetic_stream_params); set by mimetic_stream_params_init */
    int32_t sample_rate;       /* rate of the pushed audio, 8000..48000 Hz (resampled inside). Default 16000 */
    /* The next three apply to wav2vec 2.0 models only (info.latency_tunable == 1). A real-time-
     * encoder model (the shipped default) accepts and ignores them: its latency is its encoder's
     * (info.encoder_lookahead_ms plus the resampler's delay; mimetic_stream_get_latency). */
    int32_t lookahead_ms;      /* future audio the encoder sees before emitting a frame: the latency knob. Default 300 */
    int32_t left_context_ms;   /* past audio the encoder sees with each hop. Default 1000 */
    int32_t hop_ms;            /* audio per encoder run (larger: less CPU, more latency). Default 200 */
    int32_t max_queued_frames; /* frames computed but not yet pulled, at least one hop's worth
                                  (hop_ms * fps / 1000); frames are never dropped: pushing more audio
                                  than fits returns MIMETIC_ERROR_BUFFER_TOO_SMALL */
    /* Initial style, first match wins: style_slot >= 0 (a slot index); else style_weights; else
     * style_code. Mimic models without shipped style codes need style_slot = -1 and a style_code
     * (mimetic_style_from_motion). */
    int32_t style_slot;        /* a slot index, or -1 */
    const float *style_weights;/* weights over the slots (read at creation), or NULL */
    const float *style_code;   /* a style vector (read at creation), or NULL */
    mimetic_sample_policy sample_policy;
    size_t style_weights_count;/* floats at style_weights: must equal info.num_styles when used */
    size_t style_code_count;   /* floats at style_code: must equal info.style_dim when used */
    const mimetic_persona *persona; /* if set: the initial style (overrides the fields above), with room
                                      for its motion-basis change; read at creation */
    int32_t reserve_persona_basis;  /* 1: room for an Imitator persona's basis change, so that
                                      mimetic_stream_set_persona can switch to one later */
} mimetic_stream_params;

typedef struct mimetic_frame_info {
    size_t struct_size;        /* set by the caller: sizeof(mimetic_frame_info) */
    int64_t frame_index;       /* 0, 1, 2, ... since creation or the last reset */
    double timestamp_s;        /* time of the frame in the input audio, seconds: frame_index / fps */
    int64_t timestamp_samples; /* the same time in input samples (at params.sample_rate) */
    double latency_s;          /* input audio pushed beyond this frame when it was computed: the
                                  algorithmic delay (lookahead + hop granularity + resampler delay) */
    int32_t is_final;          /* 1 on the utterance's last frame when it is pulled after
                                  mimetic_stream_flush. A real-time-encoder stream can hand out its
                                  last frame before the flush (its lookahead was already in); that
                                  frame then carries 0: mimetic_stream_is_complete tells the end. */
} mimetic_frame_info;

/* Fills *params with the defaults (docs/streaming.md says how they were chosen). */
MIMETIC_API void mimetic_stream_params_init(mimetic_stream_params *params);

/* Bytes of state a stream with these params needs (the whole stream, scratch included). */
MIMETIC_API mimetic_status mimetic_stream_state_size(const mimetic_model *model, const mimetic_stream_params *params, size_t *out_bytes);

/* The same for an existing stream (e.g. to size a snapshot buffer). */
MIMETIC_API mimetic_status mimetic_stream_get_state_size(const mimetic_stream *stream, size_t *out_bytes);

/* The stream's fixed algorithmic delay, seconds: when audio is pushed in real time, a frame is
 * ready at most this long after the end of its audio (lookahead + hop + encoder granularity +
 * resampler delay). Delay audio playback by it to keep sound and face in sync. */
MIMETIC_API mimetic_status mimetic_stream_get_latency(const mimetic_stream *stream, double *out_seconds);

/* Creates a stream. `state_buffer` of `bytes` (>= state_size, 64-byte aligned) is used in place and
 * must outlive the stream; NULL lets the library allocate it (bytes is then ignored). */
MIMETIC_API mimetic_status mimetic_stream_create(const mimetic_model *model, const mimetic_stream_params *params,
                                                 void *state_buffer, size_t bytes, mimetic_stream **out_stream);

/* Frees a stream (not a caller-provided state buffer). NULL is allowed. */
MIMETIC_API void mimetic_stream_free(mimetic_stream *stream);

/* Appends `n` samples (mono, params.sample_rate, nominal range [-1, 1]; int16 full scale is 32768).
 * n == 0 is a no-op.
 * After mimetic_stream_flush, pushing is an error until mimetic_stream_reset. */
MIMETIC_API mimetic_status mimetic_stream_push_audio(mimetic_stream *stream, const float *samples, size_t n);
MIMETIC_API mimetic_status mimetic_stream_push_audio_i16(mimetic_stream *stream, const int16_t *samples, size_t n);

/* Runs the encoder/decoder on what has been pushed and reports how many frames can be pulled now. */
MIMETIC_API mimetic_status mimetic_stream_frames_ready(mimetic_stream *stream, size_t *out_count);

/* Many characters of one model at once: runs every stream's pending work (what frames_ready does
 * for one) in tiles of up to 16 streams, each encoder layer and the motion basis once per tile
 * instead of once per stream, so their weights are read once for the tile's frames; then pull
 * each stream's frames as usual. Each frame has the same bits as the stream alone computes (a
 * batch changes speed, not output). For real-time-encoder models (the default: ~390 characters
 * per core at 48 kHz input against ~255 one by one, docs/performance.md); wav2vec 2.0 streams are
 * processed one by one. The streams must come from one model, appear once each, and be used by no
 * other thread during the call; n == 0 does nothing. Allocates nothing and takes no lock
 * (Tests/C/test_stream_abi.c counts). A NULL array or entry, streams of different models or a
 * stream given twice: MIMETIC_ERROR_INVALID_ARGUMENT, nothing processed. */
MIMETIC_API mimetic_status mimetic_stream_process_batch(mimetic_stream *const *streams, size_t n);

/* Pops the oldest ready frame: `capacity` floats at `offsets` receive output_size vertex offsets
 * (xyz interleaved, from the template). Too small a capacity: MIMETIC_ERROR_BUFFER_TOO_SMALL, the
 * frame stays queued, and the message names the size needed (mimetic_model_info.output_size).
 * No frame ready: MIMETIC_ERROR_NOT_READY (nothing is logged for it). info may be NULL. */
MIMETIC_API mimetic_status mimetic_stream_pull_frame(mimetic_stream *stream, float *offsets, size_t capacity,
                                                     mimetic_frame_info *info);

/* End of utterance: the remaining audio is encoded without further lookahead, so every frame of the
 * pushed audio becomes ready (as many as the queue holds now, the rest as it is pulled). */
MIMETIC_API mimetic_status mimetic_stream_flush(mimetic_stream *stream);

/* *out_complete = 1 once the utterance is over: flushed, and every one of its frames pulled. */
MIMETIC_API mimetic_status mimetic_stream_is_complete(mimetic_stream *stream, int32_t *out_complete);

/* Forgets all audio and frames; the style is kept. */
MIMETIC_API mimetic_status mimetic_stream_reset(mimetic_stream *stream);

/* The stream's whole state as bytes (size: mimetic_stream_state_size), e.g. for rollback. Bytes
 * 16..23 hold a checksum: FNV-1a (64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 * over the snapshot's 8-byte little-endian words, that word taken as zero (a short last word is
 * zero-padded). */
MIMETIC_API mimetic_status mimetic_stream_snapshot(const mimetic_stream *stream, void *buffer, size_t capacity);
/* Restores a snapshot taken from a stream of the same model and params. A snapshot is untrusted
 * input: one whose checksum does not match, or whose counters, indices or values are not those of
 * a working stream (a hand-edited one re-sealed with its checksum, say), is refused with
 * MIMETIC_ERROR_INVALID_ARGUMENT and the stream is left as it was. Checking reads the whole
 * snapshot and allocates nothing (1.6 ms for the default model's 3.9 MiB state; a snapshot 1.5 ms). */
MIMETIC_API mimetic_status mimetic_stream_restore(mimetic_stream *stream, const void *buffer, size_t size);

/* Run-time style changes; they apply from the next computed frame. */
MIMETIC_API mimetic_status mimetic_stream_set_style_slot(mimetic_stream *stream, int32_t slot);
MIMETIC_API mimetic_status mimetic_stream_set_style_weights(mimetic_stream *stream, const float *weights, size_t n);
MIMETIC_API mimetic_status mimetic_stream_set_style_code(mimetic_stream *stream, const float *code, size_t n);

/* Switches the stream to a persona (style, and the basis change of an adapted Imitator persona,
 * which needs a stream created with reserve_persona_basis or a persona in its params). */
MIMETIC_API mimetic_status mimetic_stream_set_persona(mimetic_stream *stream, const mimetic_persona *persona);

typedef struct mimetic_stream_stats {
    size_t struct_size;           /* set by the caller */
    int64_t samples_pushed;       /* input samples accepted since creation/reset */
    int64_t frames_emitted;       /* frames pulled */
    int64_t samples_repaired;     /* NaN/Inf/out-of-range samples sanitised */
    double encoder_seconds;       /* CPU time spent in the encoder */
    double decoder_seconds;       /* CPU time spent in the decoder */
} mimetic_stream_stats;

MIMETIC_API mimetic_status mimetic_stream_get_stats(const mimetic_stream *stream, mimetic_stream_stats *stats);

/* ------------------------------------------------------------------------------------------ */
/* Personalisation                                                                              */

/* A recording of the person: speech and the tracked meshes of the same moments. */
typedef struct mimetic_reference_clip {
    const float *audio;             /* mono samples */
    size_t audio_samples;
    int32_t sample_rate;            /* 8000..48000 (resampled to the model's 16 kHz) */
    const float *offsets;           /* frames x output_size vertex offsets from the template, at the model's fps */
    size_t frames;
    const int32_t *bilabial_frames; /* frames of m/b/p closures, or NULL */
    size_t bilabial_count;
} mimetic_reference_clip;

/* Starting points of the adaptation besides a slot (mimetic_personalize_params.initial_style_slot). */
enum { MIMETIC_START_MEAN = -1, MIMETIC_START_BEST = -2 };

typedef struct mimetic_personalize_params {
    size_t struct_size;             /* sizeof(mimetic_personalize_params); set by _init */
    int32_t style_steps;            /* stage 1: the style vector */
    int32_t basis_steps;            /* stage 2: the style vector and the motion basis (0: skip) */
    float style_learning_rate;
    float basis_learning_rate;
    float velocity_weight;          /* 10, as Imitator */
    float lip_contact_weight;       /* lambda of the lip-contact weighting (20; 0: off) */
    int32_t held_out_clip;          /* clip kept for early stopping; -1: the last one when there are >= 2 */
    int32_t initial_style_slot;     /* where stage 1 starts: a style slot (>= 0, a training subject),
                                       MIMETIC_START_MEAN (the mean of the slots) or MIMETIC_START_BEST
                                       (the mean or the slot that fits the reference best). Default: see
                                       mimetic_personalize_params_init */
    float lip_closure_weight;       /* mu of the lip-closure term: around m/b/p the gap between the model's
                                       inner-lip pairs ('lip_pairs') must match the reference's (0.3; 0: off;
                                       ignored for models without lip_pairs). Added after 0.x: a caller
                                       passing the older 40-byte struct gets the default. */
    int64_t held_out_folds;         /* 0 or 1: one adaptation, early-stopped on held_out_clip. k >= 2: k
                                       adaptations, each stopped on another of the first k clips, averaged
                                       (k times the time; steadier than one short held-out clip, and on
                                       unseen speakers it kept the lips closed better). 64-bit so that it
                                       starts past the 48 bytes of the struct before it: a caller passing
                                       that size gets the default. Default 0 */
} mimetic_personalize_params;

/* Progress of mimetic_personalize; return 0 to cancel (the call then returns MIMETIC_ERROR_CANCELLED). */
typedef int (*mimetic_progress_callback)(int32_t stage, int32_t step, int32_t total_steps, double training_loss,
                                         double held_out_loss /* NaN when not evaluated at this step */, void *user_data);

MIMETIC_API void mimetic_personalize_params_init(mimetic_personalize_params *params);
/* The bilabial events of a clip (the bilabial_frames of a mimetic_reference_clip): frames where the
 * lips close, for a reference that does not come with them (a Live Link take, your own capture).
 * With phones (n_phones [start, end) spans in seconds of the clip's audio, 2 doubles each: the m/b/p
 * phones of a forced alignment of its transcript, e.g. by `mimetic-align`): one event per closure
 * (spans less than a frame apart are one closure) at the frame of smallest inner-lip opening within
 * the span and a frame either side, or the span's centre on a model without lip pairs; spans outside
 * the clip are dropped. phones NULL: from the motion alone, one event per run of frames whose mean
 * inner-lip opening is at most 0.5 mm, at its smallest (none on a model without lip pairs).
 * offsets: frames x info.output_size, as in a mimetic_reference_clip. At most max(n_phones, frames)
 * events; *out_count receives how many, and if capacity is smaller nothing is written and the call
 * returns MIMETIC_ERROR_BUFFER_TOO_SMALL. A span with NaN/Inf or end < start, or NaN/Inf offsets:
 * MIMETIC_ERROR_INVALID_ARGUMENT. Allocates. */
MIMETIC_API mimetic_status mimetic_closure_events(const mimetic_model *model, const float *offsets, size_t frames,
                                                  const double *phones, size_t n_phones, int32_t *events, size_t capacity,
                                                  size_t *out_count);

/* Imitator: adapts the model to the clips (two stages, Adam, early stopping on a held-out clip).
 * Mimic: the style encoder on the clips' motion (audio unused). FaceFormer: MIMETIC_ERROR_INVALID_ARGUMENT
 * (its styles are slot blends: mimetic_persona_from_style). Runs on the calling thread, allocates. */
MIMETIC_API mimetic_status mimetic_personalize(const mimetic_model *model, const mimetic_reference_clip *clips, size_t n_clips,
                                               const mimetic_personalize_params *params, mimetic_progress_callback progress,
                                               void *user_data, mimetic_persona **out_persona);

/* A persona holding just a style vector (a slot blend, a Mimic code from mimetic_style_from_motion). */
MIMETIC_API mimetic_status mimetic_persona_from_style(const mimetic_model *model, const float *style, size_t n,
                                                      mimetic_persona **out_persona);

/* Persona files (.safetensors). Loading checks that the persona was made for `model`. */
MIMETIC_API mimetic_status mimetic_persona_load(const mimetic_model *model, const char *path, mimetic_persona **out_persona);
MIMETIC_API mimetic_status mimetic_persona_save(const mimetic_persona *persona, const char *path);
MIMETIC_API void mimetic_persona_free(mimetic_persona *persona);

/* (1 - t) * a + t * b of the styles and the basis changes of two personas of the same model: a blend
 * between two styles, for every family (set it on a stream with mimetic_stream_set_persona). */
MIMETIC_API mimetic_status mimetic_persona_blend(const mimetic_persona *a, const mimetic_persona *b, float t,
                                                 mimetic_persona **out_persona);

/* The persona's style vector (style_dim floats) and whether it changes the motion basis. */
MIMETIC_API mimetic_status mimetic_persona_get_style(const mimetic_persona *persona, float *out, size_t capacity);
MIMETIC_API int32_t mimetic_persona_has_basis(const mimetic_persona *persona);

/* ------------------------------------------------------------------------------------------ */
/* Whole utterances and WAV files                                                               */

/* Decoded audio, mono. The samples belong to the library: release them with mimetic_audio_free. */
typedef struct mimetic_audio {
    size_t struct_size;         /* set by the caller: sizeof(mimetic_audio) */
    float *samples;             /* mono (the mean of the file's channels), nominally in [-1, 1] */
    size_t n_samples;
    int32_t sample_rate;        /* rate of `samples`: the file's, or the one asked for */
    int32_t channels;           /* channels in the file, before mixing down */
    int32_t file_sample_rate;   /* the file's own rate */
} mimetic_audio;

/* Reads a WAV file (RIFF/WAVE: 8/16/24/32-bit PCM, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, any
 * channel count, any rate in 1000..768000 Hz: what `mimetic animate` reads). sample_rate 0 keeps the
 * file's rate; otherwise the audio is resampled to it with the offline resampler (the same one
 * mimetic_animate uses, so reading at the model's rate or at the file's rate gives the same frames).
 * A malformed, truncated or empty file is MIMETIC_ERROR_INVALID_AUDIO with the reason; a file that
 * cannot be opened, MIMETIC_ERROR_IO. On failure `out` holds no samples. Allocates. */
MIMETIC_API mimetic_status mimetic_wav_read(const char *path, int32_t sample_rate, mimetic_audio *out);
/* The same from bytes in memory (not retained). */
MIMETIC_API mimetic_status mimetic_wav_read_memory(const void *data, size_t size, int32_t sample_rate, mimetic_audio *out);
/* Frees the samples and zeroes the fields; NULL, or an audio already freed, is a no-op. */
MIMETIC_API void mimetic_audio_free(mimetic_audio *audio);

typedef struct mimetic_animate_params {
    size_t struct_size;         /* sizeof(mimetic_animate_params); set by mimetic_animate_params_init */
    int32_t sample_rate;        /* rate of the samples, 1000..768000 Hz (resampled to the model's). Default 16000 */
    /* The style, first match wins, as for a stream: persona; style_slot >= 0; style_weights; style_code. */
    int32_t style_slot;         /* a slot index, or -1. Default 0 */
    const float *style_weights; /* weights over the slots, or NULL */
    size_t style_weights_count; /* floats at style_weights: info.num_styles */
    const float *style_code;    /* a style vector, or NULL */
    size_t style_code_count;    /* floats at style_code: info.style_dim */
    const mimetic_persona *persona; /* a persona of this model (its style and, for Imitator, its basis), or NULL */
} mimetic_animate_params;

MIMETIC_API void mimetic_animate_params_init(mimetic_animate_params *params);

/* Frames that mimetic_animate makes of n_samples at sample_rate (0 when the audio is too short for
 * one frame: mimetic_animate then fails with MIMETIC_ERROR_INVALID_AUDIO). */
MIMETIC_API mimetic_status mimetic_animate_frame_count(const mimetic_model *model, size_t n_samples, int32_t sample_rate,
                                                       size_t *out_frames);

/* A whole utterance in, every frame out: the offline result, the same numbers as `mimetic animate
 * --offsets` on the same audio (bit for bit). `out` receives frames x info.output_size vertex offsets
 * from the template, frame-major, xyz interleaved; `capacity` is in floats. If it is too small,
 * nothing runs, *out_frames is set to the frames needed and the call returns
 * MIMETIC_ERROR_BUFFER_TOO_SMALL. NaN/Inf samples are MIMETIC_ERROR_INVALID_AUDIO (no repair: this is
 * not a live stream). Runs on the calling thread with mimetic_set_threads BLAS threads; allocates;
 * any number of threads may animate with one model at once. out_frames may be NULL. */
MIMETIC_API mimetic_status mimetic_animate(const mimetic_model *model, const float *samples, size_t n_samples,
                                           const mimetic_animate_params *params, float *out, size_t capacity,
                                           size_t *out_frames);

/* ------------------------------------------------------------------------------------------ */
/* Retargeting: vertex offsets to blendshape weights                                            */

/* A blendshape basis in a model's topology (K named shapes: ARKit's 52 on the shipped rig,
 * models/arkit52.safetensors, or your own) with one character's fit state: each frame's offsets are
 * fitted by bounded least squares (exact for the box constraints: an active-set solve on the
 * precomputed K x K normal matrix, warm-started from the previous frame), then the artist's
 * controls apply: out_c = clamp(strength * gain_c * boost(smooth(w))_c + offset_c, min_c, max_c).
 * Like a stream, one mimetic_retarget is used by one thread at a time; mimetic_retarget_clone makes
 * another character's from the same basis (shared, not copied). */
typedef struct mimetic_retarget mimetic_retarget;

typedef struct mimetic_retarget_params {
    size_t struct_size;         /* sizeof(mimetic_retarget_params); set by mimetic_retarget_params_init */
    float strength;             /* overall motion strength, 0..4. Default 1 */
    float smoothing_ms;         /* one-pole smoothing of the weights, 0..1000 ms (at the model's fps). Default 0 (none) */
    float ridge;                /* Tikhonov term as a fraction of the basis' mean squared norm: keeps the fit
                                   unique and stable when shapes are nearly dependent (a smile and its reversed
                                   frown), at a bias of about that fraction on the weights. 0..1. Default 1e-4 */
    float closure_boost;        /* lip-closure boost, 0..1: where the closure channels (mouthClose, mouthPressLeft/Right,
                                   PP) are up (s = the largest over its upper bound), each moves toward its upper
                                   bound by closure_boost * s^2 of the way; open frames are untouched. Default 0 */
} mimetic_retarget_params;

MIMETIC_API void mimetic_retarget_params_init(mimetic_retarget_params *params);

/* A basis file (.safetensors: basis [K, V, 3], names in "mimetic.blendshapes" metadata, optional
 * lower/upper [K] bounds, default [0, 1]; or a .npy basis, shapes named shape_0...) in `model`'s
 * topology. params may be NULL (the defaults). */
MIMETIC_API mimetic_status mimetic_retarget_load(const mimetic_model *model, const char *path,
                                                 const mimetic_retarget_params *params, mimetic_retarget **out_retarget);
/* The same from arrays: basis k x info.output_size floats (shape-major), k names, optional bounds (NULL: [0, 1]). */
MIMETIC_API mimetic_status mimetic_retarget_create(const mimetic_model *model, const float *basis, size_t k,
                                                   const char *const *names, const float *lower, const float *upper,
                                                   const mimetic_retarget_params *params, mimetic_retarget **out_retarget);
/* Another character's retarget from the same basis and controls, with a fresh fit state. */
MIMETIC_API mimetic_status mimetic_retarget_clone(const mimetic_retarget *retarget, mimetic_retarget **out_retarget);
MIMETIC_API void mimetic_retarget_free(mimetic_retarget *retarget);

/* K, and the name of shape i (valid while the retarget lives; NULL if out of range). */
MIMETIC_API int32_t mimetic_retarget_count(const mimetic_retarget *retarget);
MIMETIC_API const char *mimetic_retarget_name(const mimetic_retarget *retarget, int32_t index);

/* Per-channel controls (defaults: gain 1, offset 0, min -INFINITY, max INFINITY); |gain|, |offset| <= 16, min <= max. */
MIMETIC_API mimetic_status mimetic_retarget_set_channel(mimetic_retarget *retarget, int32_t index, float gain, float offset,
                                                        float min, float max);

/* Fits one frame: `offsets` (info.output_size floats, e.g. from mimetic_stream_pull_frame) to
 * `weights` (capacity >= K floats). out_residual (may be NULL) receives ||B^T w - x|| / ||x||, the
 * fit's relative error before the controls. Allocates nothing and takes no lock. NaN/Inf offsets:
 * MIMETIC_ERROR_INVALID_ARGUMENT, weights untouched. */
MIMETIC_API mimetic_status mimetic_retarget_apply(mimetic_retarget *retarget, const float *offsets, size_t n,
                                                  float *weights, size_t capacity, float *out_residual);
/* Pulls the stream's next frame and fits it (real-time safe): weights instead of offsets, with the
 * frame's info. MIMETIC_ERROR_NOT_READY as mimetic_stream_pull_frame. */
MIMETIC_API mimetic_status mimetic_stream_pull_weights(mimetic_stream *stream, mimetic_retarget *retarget, float *weights,
                                                       size_t capacity, mimetic_frame_info *info, float *out_residual);
/* Forgets the previous frames (the warm start and the smoothing filter): call between utterances. */
MIMETIC_API mimetic_status mimetic_retarget_reset(mimetic_retarget *retarget);
/* A Live Link Face take (the CSV an iPhone's Live Link Face app records: Timecode, BlendShapeCount,
 * the 52 ARKit columns, head and eye columns) with its audio, as the reference offsets of a
 * mimetic_reference_clip: the take's weights resampled at the model's frames of the audio and mapped
 * through `basis` (an ARKit basis in the model's topology, e.g. arkit52.safetensors). offset_s: the
 * take's time at the audio's start (take time = audio time + offset); NULL estimates it by aligning
 * the take with the model's own animation of the audio (within a few ms on simulated takes).
 * `offsets` receives frames x info.output_size floats; if capacity is too small nothing is written,
 * *out_frames says how many frames are needed and the call returns MIMETIC_ERROR_BUFFER_TOO_SMALL.
 * Use the same audio and these offsets in a mimetic_reference_clip for mimetic_personalize. A
 * malformed take (missing columns, non-increasing timecodes, NaN, a take that does not cover its
 * audio) is MIMETIC_ERROR_INVALID_ARGUMENT with the row and column at fault. Allocates. */
MIMETIC_API mimetic_status mimetic_reference_from_take(const mimetic_model *model, const mimetic_retarget *basis,
                                                       const char *take_path, const float *audio, size_t n_samples,
                                                       int32_t sample_rate, const double *offset_s, float *offsets,
                                                       size_t capacity, size_t *out_frames, double *out_offset_s);

/* The offsets K weights drive (B^T w, info.output_size floats): to preview or to bake. */
MIMETIC_API mimetic_status mimetic_retarget_offsets(const mimetic_retarget *retarget, const float *weights, size_t n,
                                                    float *out, size_t capacity);

/* ------------------------------------------------------------------------------------------ */
/* Exports: a weight track as a file a DCC tool or an engine opens                              */

/* What mimetic_export_weights writes (the same files as `mimetic animate --format ...`). */
typedef enum mimetic_export_format {
    MIMETIC_EXPORT_GLB = 0,        /* glTF 2.0, binary: the model's template mesh (positions, normals,
                                      triangles) with the retarget's basis as named morph targets
                                      (mesh.extras.targetNames) and the weights as their animation */
    MIMETIC_EXPORT_GLTF = 1,       /* the same as JSON text, the buffer embedded as a base64 data URI */
    MIMETIC_EXPORT_ARKIT_CSV = 2   /* the Live Link Face CSV: Timecode, BlendShapeCount, the 52 ARKit
                                      columns, head and eye columns (0); needs the 52 ARKit names */
} mimetic_export_format;

/* Writes `weights` (num_frames x K floats, frame-major, in `retarget`'s shape order: what
 * mimetic_retarget_apply or mimetic_stream_pull_weights give) at the model's frame rate to `path`
 * as `format` (a mimetic_export_format). The file is written atomically (a temporary file beside
 * it, then renamed over `path`): a reader, or a run interrupted part-way, never sees part of it.
 * No frames, NaN/Inf weights, an unknown format, a model without a template mesh (glTF) or a basis without
 * the ARKit names (CSV) are MIMETIC_ERROR_INVALID_ARGUMENT, and nothing is written. Allocates;
 * reads the retarget's basis and names only (any thread, while no one frees it). */
MIMETIC_API mimetic_status mimetic_export_weights(const mimetic_model *model, const mimetic_retarget *retarget,
                                                  const float *weights, size_t num_frames, int32_t format,
                                                  const char *path);

#ifdef __cplusplus
}
#endif

#endif /* MIMETIC_H */
