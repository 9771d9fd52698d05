// mimetic.hpp: header-only C++17 wrapper of the C interface of libMimetic (include/mimetic.h).
//
//   #include "mimetic.hpp"            // needs mimetic.h on the include path; link -lMimetic
//
//   mimetic::Model model("face.safetensors");
//   mimetic::Stream stream(model, mimetic::StreamParams().sampleRate(48000).lookaheadMs(80));
//   stream.push(samples.data(), samples.size());          // audio thread (see threading below)
//   std::vector<float> offsets(model.outputSize());
//   mimetic::FrameInfo info;
//   while (stream.pull(offsets, &info)) { /* apply offsets */ }   // game thread
//
//   mimetic::Audio speech = mimetic::readWav("line.wav");           // whole utterances, offline
//   std::vector<float> frames = mimetic::animate(model, speech);    // frames x outputSize, the CLI's numbers
//   mimetic::Persona actor = mimetic::Persona::load(model, "actor.persona.safetensors");
//   frames = mimetic::animate(model, speech, mimetic::AnimateParams().persona(actor));
//
// Ownership
//   * Model, Stream and Persona are move-only RAII handles (a moved-from object is empty: operator bool is
//     false and calls on it throw mimetic::Error(MIMETIC_ERROR_INVALID_ARGUMENT)).
//   * A Stream keeps a shared reference to the model it was created from, so the C model is freed
//     only after the Model object AND every stream created from it are gone. Destroying a Model
//     while its streams live is therefore safe: the C library (which refuses to free a model that
//     still has streams) never sees an early mimetic_model_free.
//
// Errors
//   * A failing C call throws mimetic::Error (a std::runtime_error) carrying the mimetic_status and
//     the calling thread's mimetic_last_error() message, read right after the failure.
//   * Not errors: Stream::pull returns false on MIMETIC_ERROR_NOT_READY; Model::tryStyleName returns
//     nullptr for an out-of-range slot (Model::styleName throws).
//   * C++17; under C++20 the functions taking a pointer and a count also take a std::span.
//   * Functions whose C call cannot fail are noexcept. The try* functions return the status instead
//     of throwing (for audio callbacks that must not throw).
//
// Threading and real time (the C contract, unchanged)
//   * A Model may be shared by any number of threads. A Stream must be used by one thread at a time:
//     the wrapper adds no lock (the real-time calls of the C API take none); if an audio thread
//     pushes while a game thread pulls, serialise the calls yourself (see examples/cpp/engine_demo.cpp).
//   * push / tryPush / framesReady / pull (into a buffer already output_size long) / flush / reset /
//     style setters / snapshot(void*, size_t) / restore allocate nothing on success. Throwing
//     allocates (the message), and snapshot() returning a vector allocates it.
#ifndef MIMETIC_HPP
#define MIMETIC_HPP

#include "mimetic.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <utility>
#include <vector>
#if __cplusplus >= 202002L
#include <span>
#endif

namespace mimetic {

using Status = mimetic_status;
using ModelInfo = mimetic_model_info;
using FrameInfo = mimetic_frame_info;
using Stats = mimetic_stream_stats;
using Family = mimetic_family;
using SamplePolicy = mimetic_sample_policy;

/// The library's version string ("MAJOR.MINOR.PATCH"); compare with MIMETIC_VERSION_STRING.
inline const char *version() noexcept { return mimetic_version(); }

/// The constant English name of a status code.
inline const char *statusString(Status status) noexcept { return mimetic_status_string(status); }

/// Threads for the matrix products (OpenBLAS, process-wide; n < 1 means 1). See mimetic_set_threads:
/// not while streams are running; with 1 thread, push/pull allocate nothing and take no lock.
inline void setThreads(int32_t n) noexcept { mimetic_set_threads(n); }
inline int32_t threads() noexcept { return mimetic_get_threads(); }

/// Installs the process-wide log callback (nullptr: no logging). See mimetic_log_set.
inline void setLogCallback(mimetic_log_callback callback, void *user_data = nullptr) noexcept {
    mimetic_log_set(callback, user_data);
}

/// A failed Mimetic call: the status and the library's message.
class Error : public std::runtime_error {
public:
    /// what() is the library's message (it names the failure), or "function: status name" if empty.
    Error(Status status, const std::string &function, const std::string &message)
        : std::runtime_error(message.empty() ? function + ": " + mimetic_status_string(status) : message),
          status_(status), function_(function), message_(message) {}

    /// The status the C call returned.
    Status status() const noexcept { return status_; }
    /// The C function that failed, e.g. "mimetic_model_load".
    const std::string &function() const noexcept { return function_; }
    /// mimetic_last_error() as it was right after the failure.
    const std::string &message() const noexcept { return message_; }

private:
    Status status_;
    std::string function_;
    std::string message_;
};

namespace detail {

/// Throws Error for any status but MIMETIC_OK, with the calling thread's last error message.
inline void check(Status status, const char *function) {
    if (status != MIMETIC_OK) {
        const char *message = mimetic_last_error();
        throw Error(status, function, message ? message : "");
    }
}

[[noreturn]] inline void throwEmpty(const char *function) {
    throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, function, "empty (moved-from) handle");
}

struct ModelDeleter {
    // Runs after every Stream made from the model is gone (they hold this shared_ptr), so the
    // library's refusal (MIMETIC_ERROR_WRONG_STATE while streams live) cannot happen here.
    void operator()(mimetic_model *model) const noexcept { (void)mimetic_model_free(model); }
};

template <class C, class T, class = void>
struct is_contiguous_of : std::false_type {};
template <class C, class T>
struct is_contiguous_of<C, T, std::void_t<decltype(std::declval<const C &>().data()), decltype(std::declval<const C &>().size())>>
    : std::is_same<std::remove_cv_t<std::remove_pointer_t<decltype(std::declval<const C &>().data())>>, T> {};

} // namespace detail

/// A loaded model (immutable; shareable across threads). Move-only.
class Model {
public:
    Model() noexcept = default;

    /// Loads a model file (memory-mapped by the library).
    explicit Model(const std::string &path) {
        mimetic_model *raw = nullptr;
        detail::check(mimetic_model_load(path.c_str(), &raw), "mimetic_model_load");
        adopt(raw);
    }

    /// Loads a model from `size` bytes; the library copies them.
    static Model fromMemory(const void *data, std::size_t size) {
        mimetic_model *raw = nullptr;
        detail::check(mimetic_model_load_from_memory(data, size, &raw), "mimetic_model_load_from_memory");
        Model m;
        m.adopt(raw);
        return m;
    }

    /// Loads a model from a byte container (std::vector<std::byte>, std::vector<uint8_t>, std::string ...).
    template <class Bytes, class = decltype(std::declval<const Bytes &>().data()), class = decltype(std::declval<const Bytes &>().size())>
    static Model fromMemory(const Bytes &bytes) {
        static_assert(sizeof(*bytes.data()) == 1, "fromMemory expects a container of bytes");
        return fromMemory(static_cast<const void *>(bytes.data()), bytes.size());
    }

    static Model load(const std::string &path) { return Model(path); }

    Model(Model &&other) noexcept : model_(std::move(other.model_)), info_(other.info_) { other.info_ = ModelInfo{}; }
    Model &operator=(Model &&other) noexcept {
        if (this != &other) {
            model_ = std::move(other.model_);
            info_ = other.info_;
            other.info_ = ModelInfo{};
        }
        return *this;
    }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;
    ~Model() = default; // the C model goes when the last Stream made from it goes, too

    explicit operator bool() const noexcept { return model_ != nullptr; }
    const mimetic_model *get() const noexcept { return model_.get(); }

    /// What the model expects and produces (read once at load; the model is immutable).
    const ModelInfo &info() const noexcept { return info_; }
    Family family() const noexcept { return info_.family; }
    int32_t sampleRate() const noexcept { return info_.sample_rate; }
    int32_t fps() const noexcept { return info_.fps; }
    int32_t numVertices() const noexcept { return info_.num_vertices; }
    /// Floats per frame (3 * numVertices).
    std::size_t outputSize() const noexcept { return info_.output_size > 0 ? static_cast<std::size_t>(info_.output_size) : 0; }
    int32_t numStyles() const noexcept { return info_.num_styles; }
    int32_t styleDim() const noexcept { return info_.style_dim; }

    /// The name of style slot `index`; throws Error(INVALID_ARGUMENT) if out of range.
    std::string styleName(int32_t index) const {
        if (!model_) detail::throwEmpty("mimetic_model_style_name");
        const char *name = mimetic_model_style_name(model_.get(), index);
        if (!name) throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_style_name", mimetic_last_error());
        return name;
    }

    /// The name of style slot `index`, or nullptr if out of range (storage owned by the model).
    const char *tryStyleName(int32_t index) const noexcept {
        return model_ ? mimetic_model_style_name(model_.get(), index) : nullptr;
    }

    /// Whether the file carries a neutral mesh (templateMesh()).
    bool hasTemplate() const noexcept { return info_.has_template != 0; }

    /// The neutral mesh, outputSize() floats (xyz interleaved); vertices = template + offsets.
    /// Throws Error(INVALID_ARGUMENT) when the file has none (hasTemplate() is false).
    std::vector<float> templateMesh() const {
        std::vector<float> mesh(outputSize());
        templateMesh(mesh.data(), mesh.size());
        return mesh;
    }
    /// The same into `capacity` floats (>= outputSize()).
    void templateMesh(float *out, std::size_t capacity) const {
        detail::check(mimetic_model_get_template(model_.get(), out, capacity), "mimetic_model_get_template");
    }

    /// Mimic: the style code (styleDim() floats) of a reference clip of `frames` x outputSize()
    /// offsets, for StreamParams::styleCode or Stream::setStyleCode. Not real-time (allocates).
    std::vector<float> styleFromMotion(const float *offsets, std::size_t frames) const {
        std::vector<float> code(info_.style_dim > 0 ? static_cast<std::size_t>(info_.style_dim) : 0);
        detail::check(mimetic_style_from_motion(model_.get(), offsets, frames, code.data(), code.size()), "mimetic_style_from_motion");
        return code;
    }
    /// The same from a vector of frames * outputSize() floats.
    std::vector<float> styleFromMotion(const std::vector<float> &offsets) const {
        const std::size_t out = outputSize();
        if (out == 0 || offsets.size() % out != 0)
            throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_style_from_motion",
                        "offsets has " + std::to_string(offsets.size()) + " floats, not a multiple of output_size " + std::to_string(out));
        return styleFromMotion(offsets.data(), offsets.size() / out);
    }

    /// Frames where the lips close in a reference clip of `frames` x outputSize() offsets, for
    /// mimetic_reference_clip::bilabial_frames (see mimetic_closure_events), from the motion alone.
    /// Not real-time (allocates).
    std::vector<int32_t> closureEvents(const float *offsets, std::size_t frames) const {
        return closureEventsFrom(offsets, frames, nullptr, 0);
    }
    /// The same at the m/b/p `phones` of a forced alignment of the clip's audio ({start, end} in
    /// seconds, e.g. the m/b/p lines of mimetic-align's labels): one event per closure.
    std::vector<int32_t> closureEvents(const float *offsets, std::size_t frames, const std::vector<std::pair<double, double>> &phones) const {
        std::vector<double> spans;
        for (const auto &p : phones) { spans.push_back(p.first); spans.push_back(p.second); }
        static const double none[2] = {0, 0};   // non-NULL even when empty: NULL would mean "from the motion"
        return closureEventsFrom(offsets, frames, spans.empty() ? none : spans.data(), phones.size());
    }

    /// Every style slot's name, in slot order.
    std::vector<std::string> styleNames() const {
        std::vector<std::string> names;
        for (int32_t i = 0; i < info_.num_styles; ++i) names.push_back(styleName(i));
        return names;
    }

private:
    std::vector<int32_t> closureEventsFrom(const float *offsets, std::size_t frames, const double *spans, std::size_t n) const {
        std::vector<int32_t> events(frames > n ? frames : n);
        std::size_t count = 0;
        detail::check(mimetic_closure_events(model_.get(), offsets, frames, spans, n, events.data(), events.size(), &count),
                      "mimetic_closure_events");
        events.resize(count);
        return events;
    }
    friend class Stream;
    friend class StreamParams;

    void adopt(mimetic_model *raw) {
        model_ = std::shared_ptr<mimetic_model>(raw, detail::ModelDeleter{});
        std::memset(&info_, 0, sizeof info_);
        info_.struct_size = sizeof info_;
        detail::check(mimetic_model_get_info(raw, &info_), "mimetic_model_get_info");
    }

    std::shared_ptr<mimetic_model> model_;
    ModelInfo info_{};
};

/// A learned speaking style for one model (mimetic_persona): a style vector and, for Imitator, a
/// motion-basis change. Move-only; independent of the Model object's lifetime once made.
class Persona {
public:
    Persona() noexcept = default;

    /// A persona file made for `model` (mimetic personalize, Persona::save).
    static Persona load(const Model &model, const std::string &path) {
        if (!model) detail::throwEmpty("mimetic_persona_load");
        Persona p;
        detail::check(mimetic_persona_load(model.get(), path.c_str(), &p.persona_), "mimetic_persona_load");
        return p;
    }

    /// A persona holding just a style vector (style_dim floats: a slot blend, a Mimic code).
    static Persona fromStyle(const Model &model, const float *style, std::size_t n) {
        if (!model) detail::throwEmpty("mimetic_persona_from_style");
        Persona p;
        detail::check(mimetic_persona_from_style(model.get(), style, n, &p.persona_), "mimetic_persona_from_style");
        return p;
    }
    static Persona fromStyle(const Model &model, const std::vector<float> &style) { return fromStyle(model, style.data(), style.size()); }

    /// Imitator adaptation (or Mimic's style encoder) on reference clips; see mimetic_personalize.
    static Persona personalize(const Model &model, const std::vector<mimetic_reference_clip> &clips,
                               const mimetic_personalize_params *params = nullptr,
                               mimetic_progress_callback progress = nullptr, void *user_data = nullptr) {
        if (!model) detail::throwEmpty("mimetic_personalize");
        mimetic_personalize_params defaults;
        std::memset(&defaults, 0, sizeof defaults);
        mimetic_personalize_params_init(&defaults);
        Persona p;
        detail::check(mimetic_personalize(model.get(), clips.data(), clips.size(), params ? params : &defaults, progress, user_data,
                                          &p.persona_), "mimetic_personalize");
        return p;
    }

    /// (1 - t) * a + t * b of two personas of one model.
    static Persona blend(const Persona &a, const Persona &b, float t) {
        if (!a || !b) detail::throwEmpty("mimetic_persona_blend");
        Persona p;
        detail::check(mimetic_persona_blend(a.persona_, b.persona_, t, &p.persona_), "mimetic_persona_blend");
        return p;
    }

    Persona(Persona &&other) noexcept : persona_(other.persona_) { other.persona_ = nullptr; }
    Persona &operator=(Persona &&other) noexcept {
        if (this != &other) {
            mimetic_persona_free(persona_);
            persona_ = other.persona_;
            other.persona_ = nullptr;
        }
        return *this;
    }
    Persona(const Persona &) = delete;
    Persona &operator=(const Persona &) = delete;
    ~Persona() { mimetic_persona_free(persona_); }

    explicit operator bool() const noexcept { return persona_ != nullptr; }
    const mimetic_persona *get() const noexcept { return persona_; }

    void save(const std::string &path) const {
        if (!persona_) detail::throwEmpty("mimetic_persona_save");
        detail::check(mimetic_persona_save(persona_, path.c_str()), "mimetic_persona_save");
    }

    /// Its style vector (style_dim floats of its model).
    std::vector<float> style(const Model &model) const {
        if (!persona_) detail::throwEmpty("mimetic_persona_get_style");
        std::vector<float> out(static_cast<std::size_t>(model.styleDim() > 0 ? model.styleDim() : 0));
        detail::check(mimetic_persona_get_style(persona_, out.data(), out.size()), "mimetic_persona_get_style");
        return out;
    }

    /// Whether it changes the motion basis (an Imitator stage-2 persona).
    bool hasBasis() const noexcept { return persona_ && mimetic_persona_has_basis(persona_) == 1; }

private:
    mimetic_persona *persona_ = nullptr;
};

/// Decoded mono audio (mimetic_wav_read), owned by the vector.
struct Audio {
    std::vector<float> samples;
    int32_t sampleRate = 0;     ///< rate of `samples`
    int32_t channels = 0;       ///< in the file, before mixing down
    int32_t fileSampleRate = 0; ///< the file's own rate
};

namespace detail {
inline Audio adoptAudio(mimetic_audio &a) {
    Audio out;
    out.samples.assign(a.samples, a.samples + a.n_samples);
    out.sampleRate = a.sample_rate;
    out.channels = a.channels;
    out.fileSampleRate = a.file_sample_rate;
    mimetic_audio_free(&a);
    return out;
}
} // namespace detail

/// Reads a WAV file (any PCM/float encoding, channels, rate); sampleRate 0 keeps the file's rate,
/// otherwise it is resampled (the resampler mimetic_animate uses).
inline Audio readWav(const std::string &path, int32_t sampleRate = 0) {
    mimetic_audio a;
    std::memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    detail::check(mimetic_wav_read(path.c_str(), sampleRate, &a), "mimetic_wav_read");
    return detail::adoptAudio(a);
}

/// The same from WAV bytes in memory.
inline Audio readWav(const void *data, std::size_t size, int32_t sampleRate = 0) {
    mimetic_audio a;
    std::memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    detail::check(mimetic_wav_read_memory(data, size, sampleRate, &a), "mimetic_wav_read_memory");
    return detail::adoptAudio(a);
}

/// mimetic_animate_params with the library's defaults and fluent setters; style arrays are copied
/// and kept by the object; a persona is referenced (keep it alive until animate returns).
class AnimateParams {
public:
    AnimateParams() noexcept {
        std::memset(&params_, 0, sizeof params_);
        mimetic_animate_params_init(&params_);
    }
    AnimateParams &sampleRate(int32_t hz) noexcept { params_.sample_rate = hz; return *this; }
    AnimateParams &styleSlot(int32_t slot) { params_.style_slot = slot; weights_.clear(); code_.clear(); params_.persona = nullptr; return *this; }
    AnimateParams &styleWeights(std::vector<float> weights) { params_.style_slot = -1; weights_ = std::move(weights); code_.clear(); params_.persona = nullptr; return *this; }
    AnimateParams &styleCode(std::vector<float> code) { params_.style_slot = -1; code_ = std::move(code); weights_.clear(); params_.persona = nullptr; return *this; }
    AnimateParams &persona(const Persona &persona) noexcept { params_.persona = persona.get(); return *this; }

    int32_t sampleRate() const noexcept { return params_.sample_rate; }

    /// The C struct, its pointers into this object (valid while it lives unchanged).
    mimetic_animate_params c() const noexcept {
        mimetic_animate_params p = params_;
        p.style_weights = weights_.empty() ? nullptr : weights_.data();
        p.style_weights_count = weights_.size();
        p.style_code = code_.empty() ? nullptr : code_.data();
        p.style_code_count = code_.size();
        return p;
    }

private:
    mimetic_animate_params params_;
    std::vector<float> weights_;
    std::vector<float> code_;
};

/// Frames mimetic_animate makes of n samples at sampleRate (0: too short for one).
inline std::size_t frameCount(const Model &model, std::size_t n, int32_t sampleRate) {
    if (!model) detail::throwEmpty("mimetic_animate_frame_count");
    std::size_t frames = 0;
    detail::check(mimetic_animate_frame_count(model.get(), n, sampleRate, &frames), "mimetic_animate_frame_count");
    return frames;
}

/// A whole utterance (samples at params.sampleRate()) to frames x outputSize offsets, frame-major:
/// the offline result, the numbers `mimetic animate --offsets` writes.
inline std::vector<float> animate(const Model &model, const float *samples, std::size_t n, const AnimateParams &params = AnimateParams()) {
    const std::size_t frames = frameCount(model, n, params.sampleRate());
    std::vector<float> out(frames * model.outputSize());
    const mimetic_animate_params p = params.c();
    std::size_t made = 0;
    // frames == 0 still calls the library, for its message (too short).
    float dummy = 0;
    detail::check(mimetic_animate(model.get(), samples, n, &p, out.empty() ? &dummy : out.data(), out.size(), &made), "mimetic_animate");
    out.resize(made * model.outputSize());
    return out;
}

inline std::vector<float> animate(const Model &model, const std::vector<float> &samples, const AnimateParams &params = AnimateParams()) {
    return animate(model, samples.data(), samples.size(), params);
}

/// Audio read by readWav: its own rate is used (params' sample rate is overridden).
inline std::vector<float> animate(const Model &model, const Audio &audio, AnimateParams params = AnimateParams()) {
    params.sampleRate(audio.sampleRate);
    return animate(model, audio.samples.data(), audio.samples.size(), params);
}

#if __cplusplus >= 202002L
inline std::vector<float> animate(const Model &model, std::span<const float> samples, const AnimateParams &params = AnimateParams()) {
    return animate(model, samples.data(), samples.size(), params);
}
inline Audio readWav(std::span<const std::byte> bytes, int32_t sampleRate = 0) { return readWav(bytes.data(), bytes.size(), sampleRate); }
#endif

/// A blendshape basis with one character's fit state (mimetic_retarget): offsets to K weights.
/// Move-only; clone() makes another character's from the same (shared) basis.
class Retarget {
public:
    Retarget() noexcept = default;

    /// A basis file (.safetensors with names, or .npy) in `model`'s topology.
    Retarget(const Model &model, const std::string &path, float strength = 1.0f, float smoothingMs = 0.0f) {
        if (!model) detail::throwEmpty("mimetic_retarget_load");
        mimetic_retarget_params p = params(strength, smoothingMs);
        detail::check(mimetic_retarget_load(model.get(), path.c_str(), &p, &retarget_), "mimetic_retarget_load");
        readNames();
    }

    Retarget(Retarget &&other) noexcept : retarget_(other.retarget_), names_(std::move(other.names_)) { other.retarget_ = nullptr; }
    Retarget &operator=(Retarget &&other) noexcept {
        if (this != &other) {
            mimetic_retarget_free(retarget_);
            retarget_ = other.retarget_;
            names_ = std::move(other.names_);
            other.retarget_ = nullptr;
        }
        return *this;
    }
    Retarget(const Retarget &) = delete;
    Retarget &operator=(const Retarget &) = delete;
    ~Retarget() { mimetic_retarget_free(retarget_); }

    explicit operator bool() const noexcept { return retarget_ != nullptr; }
    mimetic_retarget *get() const noexcept { return retarget_; }
    std::size_t count() const noexcept { return names_.size(); }
    const std::vector<std::string> &names() const noexcept { return names_; }

    Retarget clone() const {
        if (!retarget_) detail::throwEmpty("mimetic_retarget_clone");
        Retarget r;
        detail::check(mimetic_retarget_clone(retarget_, &r.retarget_), "mimetic_retarget_clone");
        r.names_ = names_;
        return r;
    }

    void setChannel(int32_t index, float gain, float offset = 0.0f, float min = -HUGE_VALF, float max = HUGE_VALF) {
        detail::check(mimetic_retarget_set_channel(retarget_, index, gain, offset, min, max), "mimetic_retarget_set_channel");
    }

    /// Fits one frame (outputSize floats) into `weights` (count() floats); returns the relative residual.
    /// Allocation-free.
    float apply(const float *offsets, std::size_t n, float *weights, std::size_t capacity) {
        float residual = 0;
        detail::check(mimetic_retarget_apply(retarget_, offsets, n, weights, capacity, &residual), "mimetic_retarget_apply");
        return residual;
    }
    std::vector<float> apply(const std::vector<float> &offsets) {
        std::vector<float> w(count());
        apply(offsets.data(), offsets.size(), w.data(), w.size());
        return w;
    }

    void reset() { detail::check(mimetic_retarget_reset(retarget_), "mimetic_retarget_reset"); }

    /// Writes `frames` x count() weights (frame-major, at the model's fps) as a glTF with morph
    /// targets (MIMETIC_EXPORT_GLB / _GLTF) or a Live Link Face CSV (MIMETIC_EXPORT_ARKIT_CSV), atomically.
    void exportWeights(const Model &model, const float *weights, std::size_t frames, mimetic_export_format format,
                       const std::string &path) const {
        if (!model || !retarget_) detail::throwEmpty("mimetic_export_weights");
        detail::check(mimetic_export_weights(model.get(), retarget_, weights, frames, static_cast<int32_t>(format), path.c_str()),
                      "mimetic_export_weights");
    }
    void exportWeights(const Model &model, const std::vector<float> &weights, mimetic_export_format format, const std::string &path) const {
        if (count() == 0 || weights.size() % count() != 0) {
            throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_export_weights",
                        "mimetic_export_weights: weights is not a whole number of frames of count() shapes");
        }
        exportWeights(model, weights.data(), weights.size() / count(), format, path);
    }

private:
    static mimetic_retarget_params params(float strength, float smoothingMs) noexcept {
        mimetic_retarget_params p;
        std::memset(&p, 0, sizeof p);
        mimetic_retarget_params_init(&p);
        p.strength = strength;
        p.smoothing_ms = smoothingMs;
        return p;
    }
    void readNames() {
        const int32_t n = mimetic_retarget_count(retarget_);
        for (int32_t i = 0; i < n; ++i) names_.emplace_back(mimetic_retarget_name(retarget_, i));
    }

    mimetic_retarget *retarget_ = nullptr;
    std::vector<std::string> names_;
};

/// mimetic_stream_params with the library's defaults (mimetic_stream_params_init) and fluent
/// setters. Style weights/codes given here are copied and kept alive by the object.
class StreamParams {
public:
    StreamParams() noexcept {
        std::memset(&params_, 0, sizeof params_);
        mimetic_stream_params_init(&params_);
    }

    StreamParams &sampleRate(int32_t hz) noexcept { params_.sample_rate = hz; return *this; }
    StreamParams &lookaheadMs(int32_t ms) noexcept { params_.lookahead_ms = ms; return *this; }
    StreamParams &leftContextMs(int32_t ms) noexcept { params_.left_context_ms = ms; return *this; }
    StreamParams &hopMs(int32_t ms) noexcept { params_.hop_ms = ms; return *this; }
    StreamParams &maxQueuedFrames(int32_t frames) noexcept { params_.max_queued_frames = frames; return *this; }
    StreamParams &samplePolicy(SamplePolicy policy) noexcept { params_.sample_policy = policy; return *this; }
    /// Initial style: a slot (>= 0). Clears style weights/code.
    StreamParams &styleSlot(int32_t slot) { params_.style_slot = slot; weights_.clear(); code_.clear(); return *this; }
    /// Initial style: num_styles weights over the slots (sets the slot to -1).
    StreamParams &styleWeights(std::vector<float> weights) { params_.style_slot = -1; weights_ = std::move(weights); code_.clear(); return *this; }
    /// Initial style: a style_dim style code (sets the slot to -1).
    StreamParams &styleCode(std::vector<float> code) { params_.style_slot = -1; code_ = std::move(code); weights_.clear(); return *this; }
    /// Initial style from a persona (overrides the fields above; read at creation, so the persona
    /// need only live until the Stream is constructed).
    StreamParams &persona(const Persona &persona) noexcept { params_.persona = persona.get(); return *this; }
    /// Room for an Imitator persona's basis change, so that Stream::setPersona can switch to one later.
    StreamParams &reservePersonaBasis(bool reserve = true) noexcept { params_.reserve_persona_basis = reserve ? 1 : 0; return *this; }

    int32_t sampleRate() const noexcept { return params_.sample_rate; }
    int32_t lookaheadMs() const noexcept { return params_.lookahead_ms; }
    int32_t leftContextMs() const noexcept { return params_.left_context_ms; }
    int32_t hopMs() const noexcept { return params_.hop_ms; }
    int32_t maxQueuedFrames() const noexcept { return params_.max_queued_frames; }
    int32_t styleSlot() const noexcept { return params_.style_slot; }
    SamplePolicy samplePolicy() const noexcept { return params_.sample_policy; }
    const std::vector<float> &styleWeights() const noexcept { return weights_; }
    const std::vector<float> &styleCode() const noexcept { return code_; }

    /// The C struct, its style pointers pointing into this object (valid while it lives unchanged).
    mimetic_stream_params c() const noexcept {
        mimetic_stream_params p = params_;
        p.style_weights = weights_.empty() ? nullptr : weights_.data();
        p.style_weights_count = weights_.size();
        p.style_code = code_.empty() ? nullptr : code_.data();
        p.style_code_count = code_.size();
        return p;
    }

    /// Bytes of state a stream of `model` with these params needs (mimetic_stream_state_size).
    std::size_t stateSize(const Model &model) const {
        if (!model) detail::throwEmpty("mimetic_stream_state_size");
        mimetic_stream_params p = c();
        std::size_t bytes = 0;
        detail::check(mimetic_stream_state_size(model.get(), &p, &bytes), "mimetic_stream_state_size");
        return bytes;
    }

private:
    mimetic_stream_params params_;
    std::vector<float> weights_;
    std::vector<float> code_;
};

/// One character's streaming state. Move-only; one thread at a time (see the top of this file).
class Stream {
public:
    Stream() noexcept = default;

    /// Creates a stream whose state the library allocates.
    explicit Stream(const Model &model, const StreamParams &params = StreamParams()) { create(model, params, nullptr, 0); }

    /// Creates a stream in a caller-provided state buffer (>= params.stateSize(model) bytes,
    /// 64-byte aligned) that must outlive the stream.
    Stream(const Model &model, const StreamParams &params, void *stateBuffer, std::size_t bytes) {
        if (!stateBuffer) throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create", "state buffer is null");
        create(model, params, stateBuffer, bytes);
    }

    Stream(Stream &&other) noexcept
        : stream_(std::exchange(other.stream_, nullptr)), model_(std::move(other.model_)),
          outputSize_(std::exchange(other.outputSize_, 0)), stateSize_(std::exchange(other.stateSize_, 0)) {}
    Stream &operator=(Stream &&other) noexcept {
        if (this != &other) {
            mimetic_stream_free(stream_); // before the model reference it may hold
            stream_ = std::exchange(other.stream_, nullptr);
            model_ = std::move(other.model_);
            outputSize_ = std::exchange(other.outputSize_, 0);
            stateSize_ = std::exchange(other.stateSize_, 0);
        }
        return *this;
    }
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;

    /// Frees the stream, then drops its model reference (freeing the model if it was the last).
    ~Stream() {
        mimetic_stream_free(stream_);
        stream_ = nullptr;
    }

    explicit operator bool() const noexcept { return stream_ != nullptr; }
    mimetic_stream *get() noexcept { return stream_; }
    const mimetic_stream *get() const noexcept { return stream_; }

    /// Floats per frame (the model's output_size).
    std::size_t outputSize() const noexcept { return outputSize_; }
    /// Bytes of the whole stream state (what snapshot() returns).
    std::size_t stateSize() const noexcept { return stateSize_; }

    // -- Audio in ---------------------------------------------------------------------------------

    void push(const float *samples, std::size_t n) { detail::check(mimetic_stream_push_audio(stream_, samples, n), "mimetic_stream_push_audio"); }
    void push(const int16_t *samples, std::size_t n) { detail::check(mimetic_stream_push_audio_i16(stream_, samples, n), "mimetic_stream_push_audio_i16"); }

    /// Any contiguous container of float or int16_t (std::vector, std::array, std::span, ...).
    template <class C, std::enable_if_t<detail::is_contiguous_of<C, float>::value || detail::is_contiguous_of<C, int16_t>::value, int> = 0>
    void push(const C &samples) { push(samples.data(), static_cast<std::size_t>(samples.size())); }

    /// Non-throwing push (e.g. from an audio callback): the status; on failure the message is in
    /// mimetic_last_error().
    Status tryPush(const float *samples, std::size_t n) noexcept { return mimetic_stream_push_audio(stream_, samples, n); }
    Status tryPush(const int16_t *samples, std::size_t n) noexcept { return mimetic_stream_push_audio_i16(stream_, samples, n); }

    // -- Frames out -------------------------------------------------------------------------------

    /// Runs the encoder/decoder on what was pushed; the number of frames pull() can return now.
    std::size_t framesReady() {
        std::size_t count = 0;
        detail::check(mimetic_stream_frames_ready(stream_, &count), "mimetic_stream_frames_ready");
        return count;
    }

    /// Pops the oldest frame into `offsets` (capacity floats). false if none is ready
    /// (MIMETIC_ERROR_NOT_READY); throws on any other failure. `info` may be null.
    bool pull(float *offsets, std::size_t capacity, FrameInfo *info = nullptr) {
        if (info) {
            std::memset(info, 0, sizeof *info);
            info->struct_size = sizeof *info;
        }
        const Status status = mimetic_stream_pull_frame(stream_, offsets, capacity, info);
        if (status == MIMETIC_ERROR_NOT_READY) return false;
        detail::check(status, "mimetic_stream_pull_frame");
        return true;
    }

    /// Same, into a vector resized to outputSize() (no allocation once it has that size).
    bool pull(std::vector<float> &offsets, FrameInfo *info = nullptr) {
        if (offsets.size() != outputSize_) offsets.resize(outputSize_);
        return pull(offsets.data(), offsets.size(), info);
    }

    /// End of utterance: every frame of the pushed audio becomes ready. Push again after reset().
    void flush() { detail::check(mimetic_stream_flush(stream_), "mimetic_stream_flush"); }
    /// Forgets all audio and frames; keeps the style.
    void reset() { detail::check(mimetic_stream_reset(stream_), "mimetic_stream_reset"); }

    // -- State ------------------------------------------------------------------------------------

    /// The whole state into `buffer` (capacity >= stateSize()).
    void snapshot(void *buffer, std::size_t capacity) const {
        detail::check(mimetic_stream_snapshot(stream_, buffer, capacity), "mimetic_stream_snapshot");
    }
    /// The whole state as bytes (allocates).
    std::vector<std::byte> snapshot() const {
        std::vector<std::byte> bytes(stateSize_);
        snapshot(bytes.data(), bytes.size());
        return bytes;
    }
    /// Restores a snapshot of a stream of the same model and params.
    void restore(const void *buffer, std::size_t size) {
        detail::check(mimetic_stream_restore(stream_, buffer, size), "mimetic_stream_restore");
    }
    void restore(const std::vector<std::byte> &bytes) { restore(bytes.data(), bytes.size()); }

    // -- Style ------------------------------------------------------------------------------------

    void setStyleSlot(int32_t slot) { detail::check(mimetic_stream_set_style_slot(stream_, slot), "mimetic_stream_set_style_slot"); }
    void setStyleWeights(const float *weights, std::size_t n) {
        detail::check(mimetic_stream_set_style_weights(stream_, weights, n), "mimetic_stream_set_style_weights");
    }
    void setStyleWeights(const std::vector<float> &weights) { setStyleWeights(weights.data(), weights.size()); }
    void setStyleCode(const float *code, std::size_t n) {
        detail::check(mimetic_stream_set_style_code(stream_, code, n), "mimetic_stream_set_style_code");
    }
    void setStyleCode(const std::vector<float> &code) { setStyleCode(code.data(), code.size()); }
    /// Pulls the next frame as blendshape weights (count() floats); false if none is ready.
    /// Allocation-free (mimetic_stream_pull_weights).
    bool pullWeights(Retarget &retarget, float *weights, std::size_t capacity, FrameInfo *info = nullptr, float *residual = nullptr) {
        FrameInfo local;
        FrameInfo *fi = info ? info : &local;
        std::memset(fi, 0, sizeof *fi);
        fi->struct_size = sizeof *fi;
        const Status s = mimetic_stream_pull_weights(stream_, retarget.get(), weights, capacity, fi, residual);
        if (s == MIMETIC_ERROR_NOT_READY) return false;
        detail::check(s, "mimetic_stream_pull_weights");
        return true;
    }

    /// Switches to a persona's style (and basis change, if the stream has room for it).
    void setPersona(const Persona &persona) {
        detail::check(mimetic_stream_set_persona(stream_, persona.get()), "mimetic_stream_set_persona");
    }

    // -- Statistics -------------------------------------------------------------------------------

    Stats stats() const {
        Stats s;
        std::memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
        detail::check(mimetic_stream_get_stats(stream_, &s), "mimetic_stream_get_stats");
        return s;
    }

private:
    void create(const Model &model, const StreamParams &params, void *buffer, std::size_t bytes) {
        if (!model) detail::throwEmpty("mimetic_stream_create");
        // The C struct carries the style arrays without their lengths (the library reads
        // num_styles / style_dim floats): check them here rather than let it read past the end.
        if (params.styleSlot() < 0 && !params.styleWeights().empty() &&
            params.styleWeights().size() != static_cast<std::size_t>(model.numStyles()))
            throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create",
                        "style weights: " + std::to_string(params.styleWeights().size()) + " given, the model has " +
                            std::to_string(model.numStyles()) + " slots");
        if (params.styleSlot() < 0 && params.styleWeights().empty() && !params.styleCode().empty() &&
            params.styleCode().size() != static_cast<std::size_t>(model.styleDim()))
            throw Error(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create",
                        "style code: " + std::to_string(params.styleCode().size()) + " values given, the model's has " +
                            std::to_string(model.styleDim()));
        const mimetic_stream_params p = params.c();
        detail::check(mimetic_stream_state_size(model.get(), &p, &stateSize_), "mimetic_stream_state_size");
        detail::check(mimetic_stream_create(model.get(), &p, buffer, bytes, &stream_), "mimetic_stream_create");
        model_ = model.model_; // keeps the C model alive until this stream is freed
        outputSize_ = model.outputSize();
    }

    mimetic_stream *stream_ = nullptr;
    std::shared_ptr<mimetic_model> model_;
    std::size_t outputSize_ = 0;
    std::size_t stateSize_ = 0;
};

/// Many characters of one model at once (mimetic_stream_process_batch): every stream's pending
/// work in tiles of 16 streams, each encoder layer and the motion basis once per tile; then pull()
/// each as usual. Each frame has the same bits as the stream alone, so the batch may be cut
/// anywhere: it is passed in chunks of 64 handles from the stack (no allocation, no lock).
/// `streams`: any range of Stream (e.g. std::vector<Stream>), one model, each stream once.
template <class Streams>
inline void processBatch(Streams &streams) {
    mimetic_stream *chunk[64];
    std::size_t n = 0;
    for (Stream &s : streams) {
        chunk[n++] = s.get();
        if (n == 64) {
            detail::check(mimetic_stream_process_batch(chunk, n), "mimetic_stream_process_batch");
            n = 0;
        }
    }
    if (n > 0) detail::check(mimetic_stream_process_batch(chunk, n), "mimetic_stream_process_batch");
}

} // namespace mimetic

#endif // MIMETIC_HPP
