// engine_demo: how a game engine drives libMimetic, with nothing but the C API (include/mimetic.h).
//
//   engine_demo --model MODEL.safetensors --audio speech.wav [--fast] [--lookahead MS] [--hop MS]
//               [--left-context MS] [--style N] [--weights models/arkit52.safetensors]
//
// With --weights, the game thread also fits each frame to the blendshape basis
// (mimetic_retarget_apply, allocation-free) as an engine driving a blendshape rig would, and the
// demo prints the curves of a few ARKit channels at the end.
//
// Two threads, as in an engine:
//   * the audio thread pushes the WAV in 10 ms chunks at the pace of a sound card (it sleeps until
//     each chunk's audio would have arrived; --fast pushes as fast as the stream accepts);
//   * the game thread ticks at 60 Hz, pulls every frame that is ready and applies it to a mesh
//     (neutral mesh + offsets).
// A mimetic_stream must be used by ONE thread at a time (mimetic.h, "Thread safety"): the two
// threads serialise every call on the stream with one mutex. Note what that costs: the encoder
// and decoder run inside mimetic_stream_frames_ready / _pull_frame on the game thread, so while
// the game thread computes a hop the audio thread waits for the lock (the "longest wait" printed at
// the end). A real audio callback must not block: there, put a lock-free ring buffer between the
// callback and the game thread, and let the game thread do both push and pull.
//
// The mesh: the model's neutral mesh (mimetic_model_get_template, when the file carries one;
// else a zero mesh) plus each frame's offsets.
//
// At the end it prints: frames, the measured latency (wall clock when a frame was applied minus
// wall clock when the audio at that frame's timestamp had been pushed), the CPU time the game
// thread spent per frame inside Mimetic (thread CPU clock around frames_ready/pull), the
// library's own latency figure and CPU counters, and the stream's state size.
//
// Build: `make engine-demo` (against the release build), or against an installed tree:
//   g++ -std=c++17 -O2 -pthread engine_demo.cpp $(pkg-config --cflags --libs mimetic) -Wl,-rpath,$(pkg-config --variable=libdir mimetic)
//   cmake -S examples/cpp -B build -DCMAKE_PREFIX_PATH=<prefix>    (find_package(Mimetic))
#include "mimetic.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------

double threadCpuSeconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5))];
}

int fail(const char *what, mimetic_status st) {
    std::fprintf(stderr, "engine_demo: %s: %s: %s\n", what, mimetic_status_string(st), mimetic_last_error());
    return 1;
}

// What the audio thread publishes for the game thread (guarded by the stream mutex): after the
// k-th push, `pushed[k]` input samples had been pushed at wall time `pushedAt[k]`.
struct PushLog {
    std::vector<int64_t> pushed;
    std::vector<Clock::time_point> pushedAt;
};

} // namespace

int main(int argc, char **argv) {
    std::string modelPath, audioPath;
    bool fast = false;
    int lookahead = -1, hop = -1, leftContext = -1, style = -1;
    std::string weightsPath;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char * {
            if (i + 1 >= argc) { std::fprintf(stderr, "engine_demo: %s needs a value\n", a.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (a == "--model") modelPath = next();
        else if (a == "--audio") audioPath = next();
        else if (a == "--fast") fast = true;
        else if (a == "--lookahead") lookahead = std::atoi(next());
        else if (a == "--hop") hop = std::atoi(next());
        else if (a == "--left-context") leftContext = std::atoi(next());
        else if (a == "--style") style = std::atoi(next());
        else if (a == "--weights") weightsPath = next();
        else { std::fprintf(stderr, "engine_demo: unknown argument %s\n", a.c_str()); return 2; }
    }
    if (modelPath.empty() || audioPath.empty()) {
        std::fprintf(stderr, "usage: engine_demo --model MODEL.safetensors --audio speech.wav [--fast] [--lookahead MS] [--hop MS] [--left-context MS] [--style N] [--weights BASIS]\n");
        return 2;
    }

    std::printf("libMimetic %s (header %s)\n", mimetic_version(), MIMETIC_VERSION_STRING);
    // The library's WAV reader (any PCM/float encoding, channels mixed to mono), at the file's rate.
    mimetic_audio wav;
    std::memset(&wav, 0, sizeof wav);
    wav.struct_size = sizeof wav;
    mimetic_status st = mimetic_wav_read(audioPath.c_str(), 0, &wav);
    if (st != MIMETIC_OK) return fail("mimetic_wav_read", st);
    const double audioSeconds = double(wav.n_samples) / wav.sample_rate;
    std::printf("audio: %s, %d Hz, %d channel(s), %.2f s\n", audioPath.c_str(), wav.sample_rate, wav.channels, audioSeconds);

    // Loading (engine start-up, any thread).
    mimetic_model *model = nullptr;
    st = mimetic_model_load(modelPath.c_str(), &model);
    if (st != MIMETIC_OK) return fail("mimetic_model_load", st);
    mimetic_model_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if ((st = mimetic_model_get_info(model, &info)) != MIMETIC_OK) return fail("mimetic_model_get_info", st);
    std::printf("model: %s, %d vertices, %d fps, %d style(s)\n", modelPath.c_str(), info.num_vertices, info.fps, info.num_styles);

    // Optional: a blendshape basis in the model's topology, one retarget per character.
    mimetic_retarget *retarget = nullptr;
    std::vector<float> weights, curves;
    double worstResidual = 0;
    if (!weightsPath.empty()) {
        mimetic_retarget_params rp;
        mimetic_retarget_params_init(&rp);
        rp.smoothing_ms = 20;
        if ((st = mimetic_retarget_load(model, weightsPath.c_str(), &rp, &retarget)) != MIMETIC_OK) return fail("mimetic_retarget_load", st);
        weights.assign(size_t(mimetic_retarget_count(retarget)), 0.f);
        std::printf("weights: %zu blendshapes from %s (20 ms smoothing)\n", weights.size(), weightsPath.c_str());
    }

    // One stream per character. The pushed audio keeps its own rate: the library resamples.
    mimetic_stream_params params;
    mimetic_stream_params_init(&params);
    params.sample_rate = wav.sample_rate;
    if (lookahead >= 0) params.lookahead_ms = lookahead;
    if (hop >= 0) params.hop_ms = hop;
    if (leftContext >= 0) params.left_context_ms = leftContext;
    if (style >= 0) params.style_slot = style;
    size_t stateBytes = 0;
    if ((st = mimetic_stream_state_size(model, &params, &stateBytes)) != MIMETIC_OK) return fail("mimetic_stream_state_size", st);
    mimetic_stream *stream = nullptr;
    if ((st = mimetic_stream_create(model, &params, nullptr, 0, &stream)) != MIMETIC_OK) return fail("mimetic_stream_create", st);
    double latency = 0;
    if ((st = mimetic_stream_get_latency(stream, &latency)) != MIMETIC_OK) return fail("mimetic_stream_get_latency", st);
    if (info.latency_tunable)
        std::printf("stream: wav2vec 2.0 encoder, lookahead %d ms, left context %d ms, hop %d ms, latency %.1f ms, queue %d frames, state %zu bytes (%.1f KiB)\n",
                    params.lookahead_ms, params.left_context_ms, params.hop_ms, 1e3 * latency, params.max_queued_frames, stateBytes, stateBytes / 1024.0);
    else
        std::printf("stream: real-time encoder, fixed lookahead %d ms (lookahead/left context/hop do not apply), latency %.1f ms, queue %d frames, state %zu bytes (%.1f KiB)\n",
                    info.encoder_lookahead_ms, 1e3 * latency, params.max_queued_frames, stateBytes, stateBytes / 1024.0);

    // The stream is used by one thread at a time: every call on it holds this mutex.
    std::mutex streamMutex;
    std::atomic<bool> audioDone{false};
    std::atomic<bool> failed{false};

    const size_t chunk = size_t(std::max(1, wav.sample_rate / 100)); // 10 ms
    const size_t chunks = (wav.n_samples + chunk - 1) / chunk;
    PushLog log;
    log.pushed.reserve(chunks); // no allocation on the audio thread
    log.pushedAt.reserve(chunks);
    double longestLockWait = 0, audioCpu = 0;
    long backPressure = 0;
    const Clock::time_point start = Clock::now();

    // ---- Audio thread ------------------------------------------------------------------------
    std::thread audio([&] {
        const double cpu0 = threadCpuSeconds();
        for (size_t k = 0; k < chunks && !failed; ++k) {
            const size_t begin = k * chunk, n = std::min(chunk, wav.n_samples - begin);
            // A sound card delivers chunk k once its last sample has been captured.
            if (!fast) std::this_thread::sleep_until(start + std::chrono::microseconds(int64_t(1e6 * double(begin + n) / wav.sample_rate)));
            for (;;) {
                const Clock::time_point t0 = Clock::now();
                std::unique_lock<std::mutex> lock(streamMutex);
                longestLockWait = std::max(longestLockWait, seconds(Clock::now() - t0));
                const mimetic_status s = mimetic_stream_push_audio(stream, wav.samples + begin, n);
                if (s == MIMETIC_OK) {
                    log.pushed.push_back(int64_t(begin + n));
                    log.pushedAt.push_back(Clock::now());
                    break;
                }
                if (s == MIMETIC_ERROR_BUFFER_TOO_SMALL) { // the game thread is behind: frames are never dropped, so wait
                    lock.unlock();
                    ++backPressure;
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    continue;
                }
                fail("mimetic_stream_push_audio", s);
                failed = true;
                break;
            }
        }
        {
            std::lock_guard<std::mutex> lock(streamMutex);
            const mimetic_status s = mimetic_stream_flush(stream); // end of utterance: the tail becomes ready
            if (s != MIMETIC_OK) { fail("mimetic_stream_flush", s); failed = true; }
        }
        audioCpu = threadCpuSeconds() - cpu0;
        audioDone = true;
    });

    // ---- Game thread (60 Hz) -----------------------------------------------------------------
    const size_t out = size_t(info.output_size);
    std::vector<float> neutral(out, 0.f); // zero mesh unless the file carries a template
    if (info.has_template && (st = mimetic_model_get_template(model, neutral.data(), neutral.size())) != MIMETIC_OK)
        return fail("mimetic_model_get_template", st);
    std::vector<float> mesh(neutral), offsets(out);
    std::vector<float> streamed; // every frame's offsets, to compare with the offline result at the end
    streamed.reserve(size_t(audioSeconds * info.fps + 8) * out);
    std::vector<double> latencies, algorithmic;
    latencies.reserve(size_t(audioSeconds * info.fps) + 64);
    algorithmic.reserve(latencies.capacity());
    double pullCpu = 0, worstTickCpu = 0, mouth = 0;
    int64_t frames = 0, ticks = 0, lastIndex = -1;
    bool gotFinal = false;
    std::thread game([&] {
        const auto tick = std::chrono::microseconds(16667);
        Clock::time_point next = Clock::now();
        while (!gotFinal && !failed) {
            if (!fast) {
                next += tick;
                std::this_thread::sleep_until(next);
            } else {
                std::this_thread::yield();
            }
            ++ticks;
            const bool audioFinished = audioDone.load();
            std::lock_guard<std::mutex> lock(streamMutex);
            const double cpu0 = threadCpuSeconds();
            size_t ready = 0;
            mimetic_status s = mimetic_stream_frames_ready(stream, &ready); // runs the encoder/decoder
            if (s != MIMETIC_OK) { fail("mimetic_stream_frames_ready", s); failed = true; break; }
            mimetic_frame_info fi;
            std::memset(&fi, 0, sizeof fi);
            fi.struct_size = sizeof fi;
            int pulled = 0;
            while ((s = mimetic_stream_pull_frame(stream, offsets.data(), offsets.size(), &fi)) == MIMETIC_OK) {
                const Clock::time_point now = Clock::now();
                ++pulled;
                ++frames;
                if (fi.frame_index != lastIndex + 1) { std::fprintf(stderr, "engine_demo: frame %lld after %lld\n", (long long)fi.frame_index, (long long)lastIndex); failed = true; }
                lastIndex = fi.frame_index;
                // Apply: neutral + offsets (a real engine uploads `mesh` to the GPU, or morphs).
                float m = 0;
                for (size_t i = 0; i < out; ++i) {
                    mesh[i] = neutral[i] + offsets[i];
                    m = std::max(m, std::fabs(offsets[i]));
                }
                mouth = std::max(mouth, double(m));
                if (retarget) {
                    float residual = 0;
                    if (mimetic_retarget_apply(retarget, offsets.data(), offsets.size(), weights.data(), weights.size(), &residual) == MIMETIC_OK) {
                        curves.insert(curves.end(), weights.begin(), weights.end());
                        worstResidual = std::max(worstResidual, double(residual));
                    }
                }
                streamed.insert(streamed.end(), offsets.begin(), offsets.end());
                // Latency: now, versus when the audio at this frame's time had been pushed.
                auto it = std::lower_bound(log.pushed.begin(), log.pushed.end(), fi.timestamp_samples);
                if (it != log.pushed.end())
                    latencies.push_back(seconds(now - log.pushedAt[size_t(it - log.pushed.begin())]));
                algorithmic.push_back(fi.latency_s);
                if (fi.is_final) gotFinal = true;
            }
            if (s != MIMETIC_ERROR_NOT_READY) { fail("mimetic_stream_pull_frame", s); failed = true; break; }
            const double cpu = threadCpuSeconds() - cpu0;
            pullCpu += cpu;
            worstTickCpu = std::max(worstTickCpu, cpu);
            if (audioFinished && pulled == 0 && ready == 0) break; // flushed and drained (no is_final seen)
        }
    });

    audio.join();
    game.join();
    const double wall = seconds(Clock::now() - start);

    mimetic_stream_stats stats;
    std::memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    st = mimetic_stream_get_stats(stream, &stats);
    if (st != MIMETIC_OK) fail("mimetic_stream_get_stats", st);
    mimetic_stream_free(stream);

    // The same utterance offline in one call (what a bake step would do): mimetic_animate.
    mimetic_animate_params ap;
    mimetic_animate_params_init(&ap);
    ap.sample_rate = wav.sample_rate;
    if (style >= 0) ap.style_slot = style;
    size_t offlineFrames = 0;
    double offlineMaxDiff = 0;
    const Clock::time_point offlineStart = Clock::now();
    if ((st = mimetic_animate_frame_count(model, wav.n_samples, wav.sample_rate, &offlineFrames)) != MIMETIC_OK)
        return fail("mimetic_animate_frame_count", st);
    std::vector<float> offline(offlineFrames * out);
    if ((st = mimetic_animate(model, wav.samples, wav.n_samples, &ap, offline.data(), offline.size(), &offlineFrames)) != MIMETIC_OK)
        return fail("mimetic_animate", st);
    const double offlineWall = seconds(Clock::now() - offlineStart);
    for (size_t i = 0; i < std::min(offline.size(), streamed.size()); ++i)
        offlineMaxDiff = std::max(offlineMaxDiff, double(std::fabs(offline[i] - streamed[i])));
    mimetic_audio_free(&wav);
    if ((st = mimetic_model_free(model)) != MIMETIC_OK) fail("mimetic_model_free", st); // after its streams
    if (failed) return 1;

    const long expected = long((audioSeconds) * info.fps);
    std::printf("\n%s mode: %.2f s of audio in %.2f s wall (%.1fx real time), %lld game ticks\n", fast ? "fast" : "real-time",
                audioSeconds, wall, audioSeconds / wall, (long long)ticks);
    std::printf("frames:            %lld (about %ld expected for %.2f s at %d fps), last is_final %d\n", (long long)frames, expected,
                audioSeconds, info.fps, gotFinal ? 1 : 0);
    std::printf("latency measured:  mean %.1f ms, p50 %.1f ms, p95 %.1f ms, max %.1f ms (applied vs audio pushed%s)\n",
                latencies.empty() ? 0 : 1e3 * [&] { double s = 0; for (double x : latencies) s += x; return s / latencies.size(); }(),
                1e3 * percentile(latencies, 0.5), 1e3 * percentile(latencies, 0.95), 1e3 * percentile(latencies, 1.0),
                fast ? "; meaningless with --fast" : "");
    std::printf("latency (library): p50 %.1f ms, max %.1f ms (mimetic_frame_info.latency_s: algorithmic delay)\n",
                1e3 * percentile(algorithmic, 0.5), 1e3 * percentile(algorithmic, 1.0));
    std::printf("CPU, game thread:  %.3f ms per frame inside frames_ready/pull (%.3f s total, worst tick %.2f ms)\n",
                frames ? 1e3 * pullCpu / double(frames) : 0.0, pullCpu, 1e3 * worstTickCpu);
    std::printf("CPU, library:      encoder %.3f s, decoder %.3f s (%.3f ms per frame)\n", stats.encoder_seconds, stats.decoder_seconds,
                frames ? 1e3 * (stats.encoder_seconds + stats.decoder_seconds) / double(frames) : 0.0);
    std::printf("CPU, audio thread: %.3f s for %zu pushes; longest wait for the stream lock %.2f ms; %ld back-pressure retries\n",
                audioCpu, chunks, 1e3 * longestLockWait, backPressure);
    std::printf("stream:            %lld samples pushed, %lld repaired, state %zu bytes\n", (long long)stats.samples_pushed,
                (long long)stats.samples_repaired, stateBytes);
    std::printf("mesh:              %zu floats (%s), largest |offset| %.4g\n", out, info.has_template ? "template + offsets" : "offsets only",
                mouth);
    std::printf("offline:           mimetic_animate: %zu frames in %.3f s; streamed vs offline max |diff| %.3g over the %zu common frames\n",
                offlineFrames, offlineWall, offlineMaxDiff, std::min(offlineFrames, size_t(frames)));
    if (retarget) {
        // Curves of a few channels, one column per 3 frames (0.1 s), as an engine's animation view.
        const size_t k = weights.size(), n = curves.size() / k;
        const char *shown[] = {"jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "mouthPressLeft"};
        std::printf("weights:           %zu frames, worst frame fit residual %.3f\n", n, worstResidual);
        for (const char *name : shown) {
            int32_t index = -1;
            for (int32_t i = 0; i < int32_t(k); ++i) if (std::strcmp(mimetic_retarget_name(retarget, i), name) == 0) index = i;
            if (index < 0) continue;
            std::string line;
            float peak = 0;
            for (size_t t = 0; t < n; t += 3) {
                const float v = curves[t * k + size_t(index)];
                peak = std::max(peak, v);
                line += " .:-=+*#%@"[std::min(9, int(v * 20))];
            }
            std::printf("  %-15s |%s| peak %.2f\n", name, line.c_str(), peak);
        }
        mimetic_retarget_free(retarget);
    }
    if (std::labs(long(frames) - expected) > 2) {
        std::fprintf(stderr, "engine_demo: %lld frames, expected about %ld\n", (long long)frames, expected);
        return 1;
    }
    return 0;
}
