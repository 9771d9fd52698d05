// Test of the C++ binding (bindings/cpp/mimetic.hpp): every wrapper, the error paths included.
// Built with -std=c++17 -Wall -Wextra -Werror:
//   g++ -std=c++17 -Wall -Wextra -Werror -Iinclude -Ibindings/cpp bindings/cpp/test_mimetic.cpp
//           -L<libdir> -lMimetic -Wl,-rpath,<libdir> -o test_mimetic
//   ./test_mimetic Tests/Fixtures/faceformer_vocaset.model.safetensors [Tests/Fixtures/mimic_conv.model.safetensors]
// Exit status 0: every check passed.
#include "mimetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

namespace {

int checks = 0, failures = 0;

#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        ++checks;                                                                       \
        if (!(cond)) {                                                                  \
            ++failures;                                                                 \
            std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            std::fprintf(stderr, __VA_ARGS__);                                          \
            std::fputc('\n', stderr);                                                   \
        }                                                                               \
    } while (0)

// Runs `expr`, expects mimetic::Error with `expected` status; returns the error's message.
#define CHECK_THROWS(expected, expr)                                                                     \
    do {                                                                                                 \
        ++checks;                                                                                        \
        try {                                                                                            \
            expr;                                                                                        \
            ++failures;                                                                                  \
            std::fprintf(stderr, "FAIL %s:%d: %s did not throw\n", __FILE__, __LINE__, #expr);          \
        } catch (const mimetic::Error &e_) {                                                             \
            if (e_.status() != (expected)) {                                                             \
                ++failures;                                                                              \
                std::fprintf(stderr, "FAIL %s:%d: %s threw status %d (%s), expected %d\n", __FILE__,     \
                             __LINE__, #expr, static_cast<int>(e_.status()), e_.what(), static_cast<int>(expected)); \
            } else {                                                                                     \
                std::printf("  ok: %s -> %s: %s\n", #expr, e_.function().c_str(), e_.what());                                       \
            }                                                                                            \
        }                                                                                                \
    } while (0)

#define CHECK_NOTHROW(expr)                                                                              \
    do {                                                                                                 \
        ++checks;                                                                                        \
        try {                                                                                            \
            expr;                                                                                        \
        } catch (const std::exception &e_) {                                                             \
            ++failures;                                                                                  \
            std::fprintf(stderr, "FAIL %s:%d: %s threw %s\n", __FILE__, __LINE__, #expr, e_.what());    \
        }                                                                                                \
    } while (0)

// Compile-time properties of the wrappers.
static_assert(!std::is_copy_constructible<mimetic::Model>::value, "Model is move-only");
static_assert(!std::is_copy_assignable<mimetic::Model>::value, "Model is move-only");
static_assert(std::is_nothrow_move_constructible<mimetic::Model>::value, "Model moves without throwing");
static_assert(std::is_nothrow_move_assignable<mimetic::Model>::value, "Model moves without throwing");
static_assert(!std::is_copy_constructible<mimetic::Stream>::value, "Stream is move-only");
static_assert(!std::is_copy_assignable<mimetic::Stream>::value, "Stream is move-only");
static_assert(std::is_nothrow_move_constructible<mimetic::Stream>::value, "Stream moves without throwing");
static_assert(std::is_nothrow_move_assignable<mimetic::Stream>::value, "Stream moves without throwing");
static_assert(std::is_base_of<std::runtime_error, mimetic::Error>::value, "Error is a runtime_error");
static_assert(noexcept(mimetic::version()), "version is noexcept");
static_assert(noexcept(mimetic::statusString(MIMETIC_OK)), "statusString is noexcept");
static_assert(noexcept(std::declval<const mimetic::Model &>().info()), "info is noexcept");
static_assert(noexcept(std::declval<mimetic::Stream &>().tryPush(static_cast<const float *>(nullptr), 0)), "tryPush is noexcept");

std::vector<char> readFile(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Motion frames the model makes from `n` samples at 16 kHz: wav2vec 2.0's CNN (kernels 10,3,3,3,3,2,2;
// strides 5,2,2,2,2,2,2: the fixture models' encoder) at 50 Hz, then int(L / 50 * fps) as the
// originals compute it (FaceFormer/Imitator interpolation alignment).
long expectedFrames(long n, int fps) {
    const int kernel[] = {10, 3, 3, 3, 3, 2, 2}, stride[] = {5, 2, 2, 2, 2, 2, 2};
    long len = n;
    for (int i = 0; i < 7; ++i) {
        if (len < kernel[i]) return 0;
        len = (len - kernel[i]) / stride[i] + 1;
    }
    return static_cast<long>((static_cast<double>(len) / 50.0) * fps);
}

constexpr double kTwoPi = 6.283185307179586;

// Speech-like test audio: a gliding tone with a syllable-rate envelope plus a little noise.
std::vector<float> testAudio(int rate, double seconds) {
    std::vector<float> a(static_cast<size_t>(rate * seconds));
    unsigned seed = 12345;
    double phase = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double t = static_cast<double>(i) / rate;
        phase += kTwoPi * (140 + 60 * std::sin(kTwoPi * 0.7 * t)) / rate;
        seed = seed * 1664525u + 1013904223u;
        const double noise = (static_cast<double>(seed >> 8) / (1u << 24) - 0.5) * 0.02;
        a[i] = static_cast<float>(0.4 * std::sin(phase) * (0.55 + 0.45 * std::sin(kTwoPi * 4 * t)) + noise);
    }
    return a;
}

// ---------------------------------------------------------------------------------------------
// Model

void testModel(const std::string &path) {
    std::printf("== model\n");
    CHECK(std::string(mimetic::version()) == MIMETIC_VERSION_STRING, "version %s", mimetic::version());
    CHECK(std::string(mimetic::statusString(MIMETIC_OK)) == "ok", "%s", mimetic::statusString(MIMETIC_OK));
    const int32_t threads = mimetic::threads();
    CHECK(threads >= 1, "threads %d", threads);
    mimetic::setThreads(0);
    CHECK(mimetic::threads() == 1, "setThreads(0) -> %d", mimetic::threads());
    mimetic::setThreads(2);
    CHECK(mimetic::threads() == 2, "setThreads(2) -> %d", mimetic::threads());
    mimetic::setThreads(threads);

    // Errors carry the status, the function and the library's message.
    CHECK_THROWS(MIMETIC_ERROR_IO, mimetic::Model("/nonexistent/dir/model.safetensors"));
    try {
        mimetic::Model m("/nonexistent/dir/model.safetensors");
    } catch (const std::runtime_error &e) { // catchable as the standard base
        const auto *me = dynamic_cast<const mimetic::Error *>(&e);
        CHECK(me != nullptr, "not a mimetic::Error");
        CHECK(me && me->function() == "mimetic_model_load", "function: %s", me ? me->function().c_str() : "");
        CHECK(std::string(e.what()).find("/nonexistent/dir/model.safetensors") != std::string::npos, "what: %s", e.what());
        CHECK(me && me->message().find("/nonexistent/dir/model.safetensors") != std::string::npos, "message: %s",
              me ? me->message().c_str() : "");
    }
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Model::fromMemory(nullptr, 16));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Model::fromMemory(std::string()));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_MODEL, mimetic::Model::fromMemory(std::string("garbage!garbage!")));

    // From a path.
    mimetic::Model model(path);
    CHECK(static_cast<bool>(model), "loaded model is empty");
    const mimetic::ModelInfo &info = model.info();
    std::printf("  family %d, %d Hz -> %d fps, V=%d (%d floats), %d styles (dim %d), template %d, context %d frames, lookahead %d..%d ms\n",
                static_cast<int>(info.family), info.sample_rate, info.fps, info.num_vertices, info.output_size, info.num_styles,
                info.style_dim, info.has_template, info.max_context_frames, info.min_lookahead_ms, info.max_lookahead_ms);
    CHECK(info.struct_size == sizeof(mimetic_model_info), "struct_size %zu", info.struct_size);
    CHECK(info.sample_rate == 16000, "sample_rate %d", info.sample_rate);
    CHECK(info.fps > 0 && info.num_vertices > 0, "fps %d V %d", info.fps, info.num_vertices);
    CHECK(info.output_size == 3 * info.num_vertices, "output_size %d", info.output_size);
    CHECK(model.outputSize() == static_cast<size_t>(info.output_size), "outputSize");
    CHECK(model.sampleRate() == info.sample_rate && model.fps() == info.fps && model.numVertices() == info.num_vertices &&
              model.numStyles() == info.num_styles && model.styleDim() == info.style_dim && model.family() == info.family,
          "accessors");
    CHECK(info.min_lookahead_ms <= info.max_lookahead_ms, "lookahead range");

    // Style names, and the out-of-range slot.
    const std::vector<std::string> names = model.styleNames();
    CHECK(names.size() == static_cast<size_t>(info.num_styles), "%zu names", names.size());
    for (size_t i = 0; i < names.size(); ++i) {
        CHECK(!names[i].empty(), "style %zu has no name", i);
        CHECK(names[i] == model.tryStyleName(static_cast<int32_t>(i)), "tryStyleName %zu", i);
    }
    std::printf("  styles:");
    for (const auto &n : names) std::printf(" %s", n.c_str());
    std::printf("\n");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.styleName(info.num_styles));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.styleName(-1));
    CHECK(model.tryStyleName(info.num_styles) == nullptr, "tryStyleName out of range");

    // The neutral mesh.
    if (model.hasTemplate()) {
        const std::vector<float> mesh = model.templateMesh();
        bool finite = mesh.size() == model.outputSize(), nonzero = false;
        for (float v : mesh) { finite = finite && std::isfinite(v); nonzero = nonzero || v != 0.f; }
        CHECK(finite && nonzero, "template of %zu floats", mesh.size());
        std::vector<float> small(model.outputSize() - 1);
        CHECK_THROWS(MIMETIC_ERROR_BUFFER_TOO_SMALL, model.templateMesh(small.data(), small.size()));
    } else {
        CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.templateMesh());
    }
    if (info.family != MIMETIC_FAMILY_MIMIC)
        CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.styleFromMotion(std::vector<float>(10 * model.outputSize(), 0.f)));

    // From memory (a vector of std::byte), then the caller's copy goes away.
    {
        std::vector<char> raw = readFile(path);
        CHECK(!raw.empty(), "read %s", path.c_str());
        std::vector<std::byte> bytes(raw.size());
        std::transform(raw.begin(), raw.end(), bytes.begin(), [](char c) { return static_cast<std::byte>(c); });
        mimetic::Model fromMemory = mimetic::Model::fromMemory(bytes);
        std::fill(bytes.begin(), bytes.end(), std::byte{0});
        bytes.clear();
        bytes.shrink_to_fit();
        CHECK(fromMemory.info().output_size == info.output_size && fromMemory.info().num_styles == info.num_styles &&
                  fromMemory.info().fps == info.fps,
              "info from memory");
        CHECK(fromMemory.styleNames() == names, "style names from memory");
        // Truncated copies are errors, never crashes.
        for (size_t cut : {size_t(8), size_t(100), raw.size() / 2, raw.size() - 1}) {
            bool threw = false;
            try {
                mimetic::Model::fromMemory(raw.data(), cut);
            } catch (const mimetic::Error &e) {
                threw = e.status() == MIMETIC_ERROR_INVALID_MODEL;
            }
            CHECK(threw, "truncated to %zu bytes: expected INVALID_MODEL", cut);
        }
    }

    // Moves leave an empty handle whose calls throw INVALID_ARGUMENT; load() is the same as the constructor.
    mimetic::Model a = mimetic::Model::load(path);
    mimetic::Model b = std::move(a);
    CHECK(!a && b, "moved");
    CHECK(a.outputSize() == 0 && a.tryStyleName(0) == nullptr, "moved-from accessors");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, a.styleName(0));
    a = std::move(b);
    CHECK(a && !b, "moved back");
    CHECK(a.info().output_size == info.output_size, "info after moves");
    mimetic::Model empty;
    CHECK(!empty && empty.get() == nullptr, "default-constructed");
}

// ---------------------------------------------------------------------------------------------
// Logging

struct LogRecord {
    int calls = 0;
    mimetic_log_level level = MIMETIC_LOG_INFO;
    std::string message;
};

void logToRecord(mimetic_log_level level, const char *message, void *user) {
    auto *r = static_cast<LogRecord *>(user);
    ++r->calls;
    r->level = level;
    r->message = message ? message : "";
}

void testLog() {
    std::printf("== log callback\n");
    LogRecord record;
    mimetic::setLogCallback(logToRecord, &record);
    CHECK_THROWS(MIMETIC_ERROR_IO, mimetic::Model("/nonexistent/log-test.safetensors"));
    CHECK(record.calls == 1 && record.level == MIMETIC_LOG_ERROR, "%d calls, level %d", record.calls, static_cast<int>(record.level));
    CHECK(record.message.find("/nonexistent/log-test.safetensors") != std::string::npos, "log message: %s", record.message.c_str());
    mimetic::setLogCallback(nullptr);
    CHECK_THROWS(MIMETIC_ERROR_IO, mimetic::Model("/nonexistent/log-test.safetensors"));
    CHECK(record.calls == 1, "callback removed: %d calls", record.calls);
}

// ---------------------------------------------------------------------------------------------
// Streams

struct Run {
    std::vector<float> frames; // all offsets, frame after frame
    std::vector<mimetic::FrameInfo> infos;
};

// Pushes `audio` in chunks of `chunk`, pulling whatever is ready after each push, then flushes and drains.
template <class Sample>
Run runStream(mimetic::Stream &s, const std::vector<Sample> &audio, size_t chunk) {
    Run run;
    std::vector<float> out(s.outputSize());
    mimetic::FrameInfo info;
    auto drain = [&] {
        while (s.pull(out, &info)) {
            run.frames.insert(run.frames.end(), out.begin(), out.end());
            run.infos.push_back(info);
        }
    };
    for (size_t i = 0; i < audio.size(); i += chunk) {
        s.push(audio.data() + i, std::min(chunk, audio.size() - i));
        drain();
    }
    s.flush();
    drain();
    return run;
}

void testStreams(const std::string &path) {
    std::printf("== streams\n");
    mimetic::Model model(path);
    const mimetic::ModelInfo info = model.info();
    const size_t out = model.outputSize();

    // Params: the library defaults, then fluent setters.
    mimetic::StreamParams defaults;
    std::printf("  defaults: %d Hz, lookahead %d ms, left context %d ms, hop %d ms, queue %d frames, style slot %d, policy %d\n",
                defaults.sampleRate(), defaults.lookaheadMs(), defaults.leftContextMs(), defaults.hopMs(),
                defaults.maxQueuedFrames(), defaults.styleSlot(), static_cast<int>(defaults.samplePolicy()));
    CHECK(defaults.c().struct_size == sizeof(mimetic_stream_params), "struct_size %zu", defaults.c().struct_size);
    CHECK(defaults.sampleRate() == 16000, "default rate %d", defaults.sampleRate());
    CHECK(defaults.lookaheadMs() >= info.min_lookahead_ms && defaults.lookaheadMs() <= info.max_lookahead_ms, "default lookahead");
    CHECK(defaults.samplePolicy() == MIMETIC_SAMPLES_SANITIZE, "default policy");
    mimetic::StreamParams p = mimetic::StreamParams().sampleRate(16000).lookaheadMs(defaults.lookaheadMs()).hopMs(defaults.hopMs())
                                  .leftContextMs(defaults.leftContextMs()).maxQueuedFrames(256).styleSlot(0)
                                  .samplePolicy(MIMETIC_SAMPLES_SANITIZE);
    CHECK(p.maxQueuedFrames() == 256 && p.styleSlot() == 0, "setters");
    const size_t stateSize = p.stateSize(model);
    std::printf("  state size: %zu bytes\n", stateSize);
    CHECK(stateSize > 0, "state size");

    // Bad params.
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Stream(model, mimetic::StreamParams().sampleRate(1000)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Stream(model, mimetic::StreamParams().lookaheadMs(info.max_lookahead_ms + 1)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::StreamParams().hopMs(0).stateSize(model));
    // Wrong style slot, at creation and at run time; wrong widths of weights and codes.
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Stream(model, mimetic::StreamParams().styleSlot(info.num_styles)));
    // (the wrapper checks the lengths, which the C struct cannot carry; the library checks the values)
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT,
                 mimetic::Stream(model, mimetic::StreamParams().styleWeights(std::vector<float>(info.num_styles + 1, 0.f))));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT,
                 mimetic::Stream(model, mimetic::StreamParams().styleCode(std::vector<float>(info.style_dim - 1, 0.f))));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT,
                 mimetic::Stream(model, mimetic::StreamParams().styleWeights(std::vector<float>(info.num_styles, NAN))));
    {
        std::vector<float> half(info.num_styles, 0.f);
        half[0] = 0.5f;
        half[info.num_styles - 1] = 0.5f;
        CHECK_NOTHROW(mimetic::Stream(model, mimetic::StreamParams().styleWeights(half)));
        CHECK_NOTHROW(mimetic::Stream(model, mimetic::StreamParams().styleCode(std::vector<float>(info.style_dim, 0.01f))));
    }
    mimetic::Stream s(model, p);
    CHECK(static_cast<bool>(s) && s.outputSize() == out && s.stateSize() == stateSize, "stream sizes");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.setStyleSlot(info.num_styles));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.setStyleSlot(-1));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.setStyleWeights(std::vector<float>(info.num_styles + 1, 0.f)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.setStyleCode(std::vector<float>(info.style_dim + 1, 0.f)));
    CHECK_NOTHROW(s.setStyleSlot(info.num_styles - 1));
    std::vector<float> blend(info.num_styles, 1.0f / static_cast<float>(info.num_styles));
    CHECK_NOTHROW(s.setStyleWeights(blend));
    CHECK_NOTHROW(s.setStyleCode(std::vector<float>(info.style_dim, 0.01f)));
    CHECK_NOTHROW(s.setStyleSlot(0));

    // Pull before push: no frame, no throw.
    std::vector<float> frame;
    mimetic::FrameInfo fi;
    CHECK(s.framesReady() == 0, "frames ready before push");
    CHECK(!s.pull(frame, &fi), "pull before push returned a frame");
    CHECK(frame.size() == out, "pull resized the vector to %zu", frame.size());
    CHECK(!s.pull(frame), "pull without info");

    // Non-finite samples: sanitised by default (counted), rejected under MIMETIC_SAMPLES_REJECT.
    {
        const float bad[4] = {0.f, NAN, INFINITY, 2.f};
        mimetic::Stream sanitize(model, mimetic::StreamParams());
        CHECK_NOTHROW(sanitize.push(bad, 4));
        CHECK(sanitize.stats().samples_repaired == 3, "repaired %lld", static_cast<long long>(sanitize.stats().samples_repaired));
        mimetic::Stream reject(model, mimetic::StreamParams().samplePolicy(MIMETIC_SAMPLES_REJECT));
        CHECK_THROWS(MIMETIC_ERROR_INVALID_AUDIO, reject.push(bad, 4));
        CHECK(reject.tryPush(bad, 4) == MIMETIC_ERROR_INVALID_AUDIO, "tryPush status");
        CHECK(reject.stats().samples_pushed == 0, "rejected chunk consumed");
        CHECK(reject.tryPush(bad, 1) == MIMETIC_OK, "tryPush ok");
        CHECK_NOTHROW(reject.push(static_cast<const float *>(nullptr), 0)); // n == 0 is a no-op
    }

    // The full loop: 2.5 s of 16 kHz audio in 10 ms chunks, pulling as frames come, then flush.
    const std::vector<float> audio = testAudio(16000, 2.5);
    const long expected = expectedFrames(static_cast<long>(audio.size()), info.fps);
    Run run = runStream(s, audio, 160);
    std::printf("  float loop: %zu frames for %zu samples (expected %ld)\n", run.infos.size(), audio.size(), expected);
    CHECK(static_cast<long>(run.infos.size()) == expected, "%zu frames, expected %ld", run.infos.size(), expected);
    bool indices = true, stamps = true, finals = true, finite = true;
    for (size_t i = 0; i < run.infos.size(); ++i) {
        const auto &x = run.infos[i];
        indices = indices && x.frame_index == static_cast<int64_t>(i) && x.struct_size == sizeof(mimetic_frame_info);
        stamps = stamps && std::fabs(x.timestamp_s - static_cast<double>(i) / info.fps) < 1e-9 && x.latency_s >= 0;
        finals = finals && (x.is_final == (i + 1 == run.infos.size() ? 1 : 0));
    }
    for (float v : run.frames) finite = finite && std::isfinite(v);
    CHECK(indices, "frame indices / struct_size");
    CHECK(stamps, "timestamps (frame_index / fps) and latency >= 0");
    CHECK(finals, "is_final on the last frame only");
    CHECK(finite, "non-finite offsets");
    if (!run.infos.empty())
        std::printf("  latency of frame 0: %.3f s, last: %.3f s (is_final %d)\n", run.infos.front().latency_s,
                    run.infos.back().latency_s, run.infos.back().is_final);
    mimetic::Stats st = s.stats();
    CHECK(st.struct_size == sizeof(mimetic_stream_stats), "stats struct_size");
    CHECK(st.samples_pushed == static_cast<int64_t>(audio.size()), "samples_pushed %lld", static_cast<long long>(st.samples_pushed));
    CHECK(st.frames_emitted == static_cast<int64_t>(run.infos.size()), "frames_emitted %lld", static_cast<long long>(st.frames_emitted));
    CHECK(st.encoder_seconds >= 0 && st.decoder_seconds >= 0, "cpu seconds");
    std::printf("  stats: %lld samples, %lld frames, encoder %.3f s, decoder %.3f s\n", static_cast<long long>(st.samples_pushed),
                static_cast<long long>(st.frames_emitted), st.encoder_seconds, st.decoder_seconds);

    // After flush: push is WRONG_STATE (thrown by push, returned by tryPush) until reset.
    CHECK(!s.pull(frame), "frame after the drain");
    CHECK_THROWS(MIMETIC_ERROR_WRONG_STATE, s.push(audio.data(), 160));
    CHECK(s.tryPush(audio.data(), 160) == MIMETIC_ERROR_WRONG_STATE, "tryPush after flush");
    CHECK_NOTHROW(s.reset());
    CHECK(s.stats().samples_pushed == 0, "reset counters");

    // Deterministic: the same audio after reset gives the same frames; int16 input close to float.
    Run again = runStream(s, audio, 441);
    CHECK(again.frames == run.frames, "same frames after reset with other chunk sizes (%zu vs %zu floats)", again.frames.size(),
          run.frames.size());
    std::vector<int16_t> pcm(audio.size());
    for (size_t i = 0; i < audio.size(); ++i) pcm[i] = static_cast<int16_t>(std::lround(audio[i] * 32767.0f));
    s.reset();
    Run i16 = runStream(s, pcm, 160);
    CHECK(i16.infos.size() == run.infos.size(), "int16 frames %zu", i16.infos.size());
    double maxDiff = 0, scale = 0;
    for (size_t i = 0; i < std::min(i16.frames.size(), run.frames.size()); ++i) {
        maxDiff = std::max(maxDiff, static_cast<double>(std::fabs(i16.frames[i] - run.frames[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(run.frames[i])));
    }
    std::printf("  int16 vs float: max |diff| %.3g (scale %.3g)\n", maxDiff, scale);
    CHECK(maxDiff <= 1e-2 * std::max(scale, 1e-6), "int16 differs: %g", maxDiff);
    // Container overloads.
    s.reset();
    CHECK_NOTHROW(s.push(std::vector<float>(audio.begin(), audio.begin() + 1600)));
    CHECK_NOTHROW(s.push(std::vector<int16_t>(pcm.begin() + 1600, pcm.begin() + 3200)));
    CHECK(s.stats().samples_pushed == 3200, "container pushes");

    // Too small an output buffer: BUFFER_TOO_SMALL, the frame stays queued.
    s.reset();
    s.push(audio.data(), audio.size());
    s.flush();
    CHECK(s.framesReady() == static_cast<size_t>(expected), "frames ready after flush %zu", s.framesReady());
    float tiny[1];
    CHECK_THROWS(MIMETIC_ERROR_BUFFER_TOO_SMALL, s.pull(tiny, 1, &fi));
    CHECK(s.pull(frame, &fi) && fi.frame_index == 0, "frame 0 kept after BUFFER_TOO_SMALL");

    // Snapshot / restore: rewind to a point and get the same frames again.
    s.reset();
    const size_t half = audio.size() / 2;
    s.push(audio.data(), half);
    const std::vector<std::byte> snap = s.snapshot();
    CHECK(snap.size() == stateSize, "snapshot of %zu bytes", snap.size());
    s.push(audio.data() + half, audio.size() - half);
    s.flush();
    std::vector<float> first;
    while (s.pull(frame)) first.insert(first.end(), frame.begin(), frame.end());
    CHECK_NOTHROW(s.restore(snap));
    CHECK(s.stats().samples_pushed == static_cast<int64_t>(half), "restored counters");
    s.push(audio.data() + half, audio.size() - half);
    s.flush();
    std::vector<float> second;
    while (s.pull(frame)) second.insert(second.end(), frame.begin(), frame.end());
    CHECK(!first.empty() && first == second, "frames after restore differ (%zu vs %zu floats)", first.size(), second.size());
    CHECK(first.size() == run.frames.size() && first == run.frames, "snapshot run differs from the chunked run");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.restore(snap.data(), snap.size() / 2));
    std::vector<std::byte> junk(snap.size(), std::byte{0x5a});
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, s.restore(junk));
    std::vector<std::byte> small(stateSize / 2);
    CHECK_THROWS(MIMETIC_ERROR_BUFFER_TOO_SMALL, s.snapshot(small.data(), small.size()));
    // A snapshot restores into another stream of the same model and params.
    mimetic::Stream twin(model, p);
    CHECK_NOTHROW(twin.restore(snap));
    twin.push(audio.data() + half, audio.size() - half);
    twin.flush();
    std::vector<float> third;
    while (twin.pull(frame)) third.insert(third.end(), frame.begin(), frame.end());
    CHECK(third == first, "twin restored from snapshot differs");

    // 48 kHz input, resampled inside: about the same number of frames.
    {
        const std::vector<float> a48 = testAudio(48000, 2.5);
        mimetic::Stream s48(model, mimetic::StreamParams().sampleRate(48000));
        Run r48 = runStream(s48, a48, 480);
        std::printf("  48 kHz loop: %zu frames (16 kHz: %ld)\n", r48.infos.size(), expected);
        CHECK(std::labs(static_cast<long>(r48.infos.size()) - expected) <= 1, "48 kHz: %zu frames", r48.infos.size());
        CHECK(r48.infos.empty() || r48.infos.back().timestamp_samples == static_cast<int64_t>(
                                                                             std::llround(r48.infos.back().timestamp_s * 48000)),
              "timestamp_samples at the input rate");
    }

    // Caller-provided state buffer (64-byte aligned).
    {
        const size_t bytes = (stateSize + 63) / 64 * 64;
        void *buffer = ::operator new(bytes, std::align_val_t(64));
        {
            mimetic::Stream inPlace(model, p, buffer, bytes);
            Run r = runStream(inPlace, audio, 160);
            CHECK(r.frames == run.frames, "in-place stream differs");
            CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Stream(model, p, buffer, stateSize / 2));
            CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Stream(model, p, nullptr, bytes));
        }
        ::operator delete(buffer, std::align_val_t(64));
    }

    // Moves: the moved-from stream is empty and its calls throw INVALID_ARGUMENT.
    {
        mimetic::Stream moved(std::move(twin));
        CHECK(!twin && moved, "stream moved");
        CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, twin.push(audio.data(), 10));
        CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, twin.framesReady());
        CHECK(twin.tryPush(audio.data(), 10) == MIMETIC_ERROR_INVALID_ARGUMENT, "tryPush on empty");
        twin = std::move(moved);
        CHECK(twin && !moved, "moved back");
        twin.reset();
        CHECK_NOTHROW(twin.push(audio.data(), 160));
    }

    // The Model object destroyed while its stream lives: the stream keeps the C model alive.
    {
        mimetic::Stream orphan;
        {
            mimetic::Model shortLived(path);
            orphan = mimetic::Stream(shortLived, p);
        } // ~Model here: must not crash, must not free the C model under the stream
        Run r = runStream(orphan, audio, 160);
        CHECK(r.frames == run.frames, "stream outliving its Model object differs");
    } // ~Stream: frees the stream, then the C model
    // And the C library's own rule: mimetic_model_free while a stream lives must not crash either.
    {
        mimetic_model *raw = nullptr;
        CHECK(mimetic_model_load(path.c_str(), &raw) == MIMETIC_OK, "load");
        mimetic_stream_params cp;
        mimetic_stream_params_init(&cp);
        mimetic_stream *cs = nullptr;
        CHECK(mimetic_stream_create(raw, &cp, nullptr, 0, &cs) == MIMETIC_OK, "create: %s", mimetic_last_error());
        // Refused while the stream lives (MIMETIC_ERROR_WRONG_STATE), the model stays valid.
        const mimetic_status refused = mimetic_model_free(raw);
        CHECK(refused == MIMETIC_ERROR_WRONG_STATE, "mimetic_model_free with a live stream: %d", static_cast<int>(refused));
        std::printf("  mimetic_model_free with a live stream: %s: %s\n", mimetic_status_string(refused), mimetic_last_error());
        CHECK(mimetic_stream_push_audio(cs, audio.data(), audio.size()) == MIMETIC_OK, "push after refused free");
        CHECK(mimetic_stream_flush(cs) == MIMETIC_OK, "flush");
        size_t ready = 0;
        // The default queue holds max_queued_frames: frames_ready reports what fits, the rest
        // comes as the queue drains.
        CHECK(mimetic_stream_frames_ready(cs, &ready) == MIMETIC_OK && ready > 0 && static_cast<long>(ready) <= expected, "ready %zu", ready);
        std::vector<float> buf(out);
        long pulled = 0;
        while (mimetic_stream_pull_frame(cs, buf.data(), buf.size(), nullptr) == MIMETIC_OK) ++pulled;
        CHECK(pulled == expected, "pulled %ld frames with a default queue, expected %ld", pulled, expected);
        mimetic_stream_free(cs);
        CHECK(mimetic_model_free(raw) == MIMETIC_OK, "free after the stream: %s", mimetic_last_error());
        CHECK(mimetic_model_free(nullptr) == MIMETIC_OK, "free(NULL)");
    }
}

void detail_check_style_small(const mimetic::Model &model, const std::vector<float> &clip, float *tiny) {
    mimetic::detail::check(mimetic_style_from_motion(model.get(), clip.data(), clip.size() / model.outputSize(), tiny, 1),
                           "mimetic_style_from_motion");
}

// Mimic: a style code from a reference clip, used for a stream.
void testMimic(const std::string &path) {
    std::printf("== mimic style from motion (%s)\n", path.c_str());
    mimetic::Model model(path);
    CHECK(model.family() == MIMETIC_FAMILY_MIMIC, "family %d", static_cast<int>(model.family()));
    const size_t out = model.outputSize();
    std::vector<float> clip(40 * out);
    for (size_t i = 0; i < clip.size(); ++i) clip[i] = 0.001f * static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    const std::vector<float> code = model.styleFromMotion(clip);
    bool finite = code.size() == static_cast<size_t>(model.styleDim());
    for (float v : code) finite = finite && std::isfinite(v);
    CHECK(finite, "style code of %zu floats", code.size());
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.styleFromMotion(std::vector<float>(out + 1, 0.f)));
    CHECK_THROWS(MIMETIC_ERROR_BUFFER_TOO_SMALL, {
        float tiny[1];
        detail_check_style_small(model, clip, tiny);
    });
    mimetic::Stream s(model, mimetic::StreamParams().styleCode(code));
    const std::vector<float> audio = testAudio(16000, 1.5);
    Run run = runStream(s, audio, 160);
    std::printf("  mimic stream: %zu frames (expected %ld)\n", run.infos.size(), expectedFrames(long(audio.size()), model.fps()));
    CHECK(!run.infos.empty(), "mimic stream frames");
    CHECK_NOTHROW(s.setStyleCode(code));
}

} // namespace

// Whole utterances, WAV files and personas: animate at the file's rate equals animate at the model's
// rate, bit for bit; a persona from a style equals that style as a code; the error paths.
void testAnimate(const std::string &path, const std::string &wav) {
    mimetic::Model model(path);
    const std::size_t size = model.outputSize();
    const mimetic::Audio file = mimetic::readWav(wav);
    const mimetic::Audio resampled = mimetic::readWav(wav, model.sampleRate());
    CHECK(file.sampleRate == file.fileSampleRate && resampled.sampleRate == model.sampleRate() && file.channels >= 1,
          "rates %d %d", file.sampleRate, resampled.sampleRate);
    const std::vector<float> a = mimetic::animate(model, file);
    const std::vector<float> b = mimetic::animate(model, resampled.samples, mimetic::AnimateParams().sampleRate(model.sampleRate()));
    CHECK(!a.empty() && a.size() % size == 0 && a.size() / size == mimetic::frameCount(model, file.samples.size(), file.sampleRate),
          "%zu floats", a.size());
    CHECK(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, "file rate vs model rate");
#if __cplusplus >= 202002L
    const std::vector<float> viaSpan = mimetic::animate(model, std::span<const float>(resampled.samples),
                                                        mimetic::AnimateParams().sampleRate(model.sampleRate()));
    CHECK(viaSpan == b, "std::span overload");
#endif
    // A persona holding slot 1's style gives what the style code gives; saved and loaded, the same.
    if (model.numStyles() >= 2) {
        std::vector<float> weights(static_cast<std::size_t>(model.numStyles()), 0.0f);
        weights[1] = 1.0f;
        const std::vector<float> slot1 = mimetic::animate(model, file, mimetic::AnimateParams().styleSlot(1));
        const std::vector<float> blend = mimetic::animate(model, file, mimetic::AnimateParams().styleWeights(weights));
        CHECK(slot1 == blend, "slot 1 vs one-hot weights");
        CHECK(slot1 != a, "slot 1 differs from slot 0");
    }
    std::vector<float> style(static_cast<std::size_t>(model.styleDim()));
    for (std::size_t i = 0; i < style.size(); ++i) style[i] = 0.05f * std::sin(0.7f * static_cast<float>(i));
    mimetic::Persona persona = mimetic::Persona::fromStyle(model, style);
    CHECK(persona && !persona.hasBasis() && persona.style(model) == style, "persona style");
    const std::string file_path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/mimetic_cpp.persona.safetensors";
    persona.save(file_path);
    mimetic::Persona loaded = mimetic::Persona::load(model, file_path);
    const std::vector<float> byPersona = mimetic::animate(model, file, mimetic::AnimateParams().persona(loaded));
    const std::vector<float> byCode = mimetic::animate(model, file, mimetic::AnimateParams().styleCode(style));
    CHECK(byPersona == byCode, "persona vs code");
    mimetic::Persona half = mimetic::Persona::blend(persona, loaded, 0.5f);
    CHECK(half.style(model) == style, "blend of equal personas");
    mimetic::Persona moved = std::move(half);
    CHECK(moved && !half, "moved persona");
    // The persona in a stream: the stream is created with it and can switch to it.
    mimetic::Stream stream(model, mimetic::StreamParams().persona(loaded));
    CHECK_NOTHROW(stream.setPersona(persona));
    // Errors.
    CHECK_THROWS(MIMETIC_ERROR_IO, mimetic::readWav("/nonexistent/x.wav"));
    const char garbage[] = "RIFF....AVI LIST";
    CHECK_THROWS(MIMETIC_ERROR_INVALID_AUDIO, mimetic::readWav(garbage, sizeof garbage));
    CHECK(mimetic::frameCount(model, 10, 16000) == 0, "10 samples make no frame");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_AUDIO, mimetic::animate(model, std::vector<float>(10, 0.0f)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::animate(model, file, mimetic::AnimateParams().styleSlot(1000)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Persona::fromStyle(model, std::vector<float>(3, 0.0f)));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Persona().save(file_path));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_MODEL, mimetic::Persona::load(model, wav));
}

// Retargeting: the ARKit basis on the default model, offline and from a stream.
void testRetarget(const std::string &model_path, const std::string &basis_path, const std::string &wav) {
    mimetic::Model model(model_path);
    mimetic::Retarget arkit(model, basis_path, 1.0f, 0.0f);
    CHECK(arkit.count() == 52 && arkit.names()[17] == "jawOpen", "ARKit names");
    const mimetic::Audio speech = mimetic::readWav(wav);
    const std::vector<float> frames = mimetic::animate(model, speech);
    const std::size_t size = model.outputSize(), n = frames.size() / size;
    std::vector<float> offline(n * arkit.count());
    float worst = 0;
    for (std::size_t t = 0; t < n; ++t)
        worst = std::max(worst, arkit.apply(frames.data() + t * size, size, offline.data() + t * arkit.count(), arkit.count()));
    CHECK(worst < 0.5f, "worst frame residual %g", worst);
    mimetic::Retarget character = arkit.clone();
    mimetic::Stream stream(model, mimetic::StreamParams().sampleRate(speech.sampleRate));
    std::vector<float> w(character.count());
    std::size_t pulled = 0;
    float maxDiff = 0;
    auto drain = [&] {
        while (stream.pullWeights(character, w.data(), w.size())) {
            for (std::size_t k = 0; k < w.size() && pulled < n; ++k) maxDiff = std::max(maxDiff, std::fabs(w[k] - offline[pulled * w.size() + k]));
            ++pulled;
        }
    };
    const std::size_t chunk = static_cast<std::size_t>(speech.sampleRate / 10);   // 100 ms as it arrives
    for (std::size_t at = 0; at < speech.samples.size(); at += chunk) {
        stream.push(speech.samples.data() + at, std::min(chunk, speech.samples.size() - at));
        drain();
    }
    stream.flush();
    drain();
    CHECK(pulled == n && maxDiff < 1e-4f, "streamed weights: %zu of %zu frames, max diff %g", pulled, n, maxDiff);
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, character.setChannel(99, 1.0f));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, mimetic::Retarget(model, basis_path, 9.0f));
    CHECK_THROWS(MIMETIC_ERROR_IO, mimetic::Retarget(model, "/nonexistent/basis.safetensors"));
    // The baked track as a GLB (a glTF with morph targets) and a Live Link CSV.
    const std::string glb = "/tmp/mimetic_cpp_export_test.glb";
    arkit.exportWeights(model, offline, MIMETIC_EXPORT_GLB, glb);
    std::FILE *f = std::fopen(glb.c_str(), "rb");
    char magic[4] = {0};
    CHECK(f && std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, "glTF", 4) == 0, "exportWeights wrote a GLB");
    if (f) std::fclose(f);
    std::remove(glb.c_str());
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, arkit.exportWeights(model, std::vector<float>(51), MIMETIC_EXPORT_GLB, glb));
    CHECK_THROWS(MIMETIC_ERROR_IO, arkit.exportWeights(model, offline, MIMETIC_EXPORT_ARKIT_CSV, "/nonexistent/take.csv"));

    // Lip closures of the animation: one at an aligned m/b/p span, inside it; an empty span list is
    // no closures (not the motion's); a backwards span and a wrong size are errors.
    if (n > 40) {
        const std::vector<int32_t> one = model.closureEvents(frames.data(), n, {{1.0, 1.1}});
        CHECK(one.size() == 1 && one[0] >= 29 && one[0] <= 33, "%zu closures at one span, the first at %d", one.size(),
              one.empty() ? -1 : static_cast<int>(one[0]));
    }
    const std::vector<int32_t> motion = model.closureEvents(frames.data(), n);
    for (std::size_t i = 1; i < motion.size(); ++i) CHECK(motion[i] > motion[i - 1], "motion closures in order");
    CHECK(model.closureEvents(frames.data(), n, {}).empty(), "no spans, no closures");
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.closureEvents(frames.data(), n, {{0.5, 0.4}}));
    CHECK_THROWS(MIMETIC_ERROR_INVALID_ARGUMENT, model.closureEvents(frames.data(), 0));
}

// processBatch over 70 streams (two chunks of handles, five tiles): every frame equals the same
// stream alone, bit for bit.
void testBatch(const std::string &model_path, const std::string &wav) {
    mimetic::Model model(model_path);
    const mimetic::Audio speech = mimetic::readWav(wav);
    const std::size_t n = 70, size = model.outputSize(), step = static_cast<std::size_t>(speech.sampleRate / 100);
    std::vector<mimetic::Stream> alone, batched;
    for (std::size_t i = 0; i < n; ++i) {
        const auto params = mimetic::StreamParams().sampleRate(speech.sampleRate).styleSlot(static_cast<int32_t>(i) % model.numStyles());
        alone.emplace_back(model, params);
        batched.emplace_back(model, params);
    }
    std::vector<float> a(size), b(size);
    std::size_t compared = 0, differ = 0;
    for (std::size_t at = 0; at + step <= speech.samples.size() / 2; at += step) {
        for (std::size_t i = 0; i < n; ++i) {
            const float *piece = speech.samples.data() + at + (i * 37) % step;
            alone[i].push(piece, step);
            batched[i].push(piece, step);
        }
        mimetic::processBatch(batched);
        for (std::size_t i = 0; i < n; ++i) {
            while (alone[i].pull(a.data(), size)) {
                ++compared;
                if (!batched[i].pull(b.data(), size) || a != b) ++differ;
            }
            if (batched[i].pull(b.data(), size)) ++differ;
        }
    }
    CHECK(differ == 0 && compared > n * 20, "processBatch: %zu of %zu frames differ from the stream alone", differ, compared);
    std::printf("processBatch: %zu streams, %zu frames equal to each stream alone\n", n, compared);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.safetensors [MIMIC_MODEL.safetensors [SPEECH.wav]]\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    try {
        testModel(path);
        testLog();
        testStreams(path);
        if (argc > 2) testMimic(argv[2]);
        if (argc > 3) testAnimate(path, argv[3]);
        if (argc > 5) testRetarget(argv[4], argv[5], argv[3]);
        if (argc > 4) testBatch(argv[4], argv[3]);
    } catch (const std::exception &e) {
        ++failures;
        std::fprintf(stderr, "FAIL: uncaught exception: %s\n", e.what());
    }
    std::printf("test_mimetic: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
