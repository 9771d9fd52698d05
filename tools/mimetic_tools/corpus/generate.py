"""Clip and corpus generation (format: docs/corpus.md).

A clip: espeak-ng speech (16 kHz, a little leading/trailing silence and a very low noise floor), the
phoneme timeline from espeak's phoneme events, rig weights sampled exactly at the frame times
t_i = i / 30 s from that timeline (visemes.py), the bilabial events and Imitator-style frame weights.

Frame count: T = int((L / 50) * 30) with L = the wav2vec 2.0 CNN frame count of the N audio samples
(L = floor((N - 400) / 320) + 1), the rule the models and the Swift runtime use, so audio and motion
align exactly with what the runtime produces.

Everything is deterministic from the seed: the speakers (styles.py), each speaker's sentences, each
clip's randomness (seeded by (seed, speaker, sentence), not by the worker that runs it) and espeak
itself (espeak.py) -- the same seed gives byte-identical files whatever the number of workers.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time

import numpy as np

from . import espeak, flite
from . import visemes as VS
from .rig import Rig, build_rig, load_rig, save_rig
from .sentences import SENTENCES, sentence_table
from .styles import NEUTRAL_STYLE, sample_speakers

FPS = 30
SAMPLE_RATE = 16000
CLIP_VERSION = 1
WAV2VEC_KERNELS = (10, 3, 3, 3, 3, 2, 2)
WAV2VEC_STRIDES = (5, 2, 2, 2, 2, 2, 2)


def cnn_frames(num_samples: int) -> int:
    n = int(num_samples)
    for k, s in zip(WAV2VEC_KERNELS, WAV2VEC_STRIDES):
        n = (n - k) // s + 1
    return max(n, 0)


def num_frames(num_samples: int, fps: float = FPS) -> int:
    """T = int((L / 50) * fps), L = wav2vec 2.0 CNN frames of num_samples (= floor((N-400)/320)+1)."""
    L = cnn_frames(num_samples)
    return int((L / 50.0) * fps)


# ----------------------------------------------------------------------------------------------
# per-process rig cache
# ----------------------------------------------------------------------------------------------
_RIG = None


def corpus_rig() -> Rig:
    global _RIG
    if _RIG is None:
        _RIG = build_rig()
    return _RIG


def _energy_envelope(audio: np.ndarray, times: np.ndarray, sr: int) -> np.ndarray:
    """Loudness in 0..1 at `times` (10 ms RMS, dB above max - 15 dB, Gaussian smoothed 80 ms)."""
    hop = sr // 100
    n = len(audio) // hop
    if n == 0:
        return np.zeros_like(times)
    rms = np.sqrt(np.mean(audio[:n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    e = np.clip((db - (db.max() - 15.0)) / 15.0, 0, 1)
    k = np.arange(-24, 25)
    g = np.exp(-0.5 * (k / 8.0) ** 2)
    e = np.convolve(np.pad(e, 24, mode="edge"), g / g.sum(), mode="valid")
    tc = (np.arange(n) + 0.5) * hop / sr
    return np.interp(times, tc, e)


def animate(phonemes, audio, T: int, style: dict, rig: Rig | None = None, fps: float = FPS,
            sample_rate: int = SAMPLE_RATE):
    """Rig weights [T, K] (float32), bilabial frames [E] and frame weights [T] for a phoneme
    timeline [(name, start_s, end_s)] and its 16 kHz audio, in the given speaking style."""
    rig = rig or corpus_rig()
    st = dict(NEUTRAL_STYLE)
    st.update(style or {})
    times = np.arange(T, dtype=np.float64) / fps
    ant, smo = st["anticipation_ms"] / 1000.0, st["smoothing_ms"] / 1000.0
    art = VS.coarticulate(phonemes, times, ant, smo)
    P = VS._P
    W = np.zeros((T, rig.K), np.float64)
    ix = rig.index
    amp, pro, spr, asym = st["amplitude"], st["protrusion"], st["spread"], st["asymmetry"]
    W[:, ix("jaw_open")] = art[:, P["jaw"]] * amp
    W[:, ix("upper_lip_raise")] = art[:, P["uplift"]] * amp
    W[:, ix("lower_lip_drop")] = art[:, P["drop"]] * amp
    W[:, ix("mouth_round")] = art[:, P["round"]] * pro
    W[:, ix("lip_pucker")] = art[:, P["pucker"]] * pro
    W[:, ix("lip_spread_left")] = art[:, P["spread"]] * spr * (1 + asym)
    W[:, ix("lip_spread_right")] = art[:, P["spread"]] * spr * (1 - asym)
    W[:, ix("smile_left" if asym >= 0 else "smile_right")] = 0.8 * abs(asym)
    tuck = art[:, P["tuck"]]

    intervals = VS.closures(phonemes, audio, sample_rate)
    ramp_in = float(np.clip(0.4 * ant + 0.025, 0.03, 0.07))
    ramp_out = float(np.clip(0.4 * smo + 0.025, 0.03, 0.07))
    c, press, puff = VS.closure_track(intervals, times, ramp_in, ramp_out)
    W[:, ix("lower_lip_tuck")] = tuck * (1 - c)
    W[:, ix("lips_press")] = press * st["press"]
    W[:, ix("cheek_puff")] = puff * st["puff"]
    g0, gains, _, _ = rig.gap_model()
    k_close = ix("lips_close")
    gains = gains.copy()
    gains[k_close] = 0.0
    G = g0 + W @ gains
    W[:, k_close] = c * np.clip(G, 0, None) / g0
    W[:, ix("brow_raise")] = st["brow"] * _energy_envelope(audio, times, sample_rate) if audio is not None else 0.0

    frames = sorted({int(math.floor(cen * fps + 0.5)) for (_, _, cen, _, _) in intervals})
    frames = np.array([f for f in frames if 0 <= f < T], np.int32)
    fw = np.zeros(T, np.float32)
    for e in frames:
        for k in range(-2, 3):
            if 0 <= e + k < T:
                fw[e + k] = math.exp(-0.5 * k * k)
    return W.astype(np.float32), frames, fw


def synth_clip(text: str, speaker: dict, seed: int = 0, salt=(0, 0), fps: float = FPS):
    """One clip for any text: (tensors dict, metadata dict). speaker: an entry of speakers.json
    (voice, rate, pitch, range, style). salt: extra integers for the clip's random stream."""
    rng = np.random.default_rng([int(seed), *[int(s) for s in salt], 0xC11])
    rate = int(round(speaker.get("rate", 175) * rng.uniform(0.95, 1.05)))
    if speaker.get("engine", "espeak") == "flite":
        audio, phon = flite.synthesize(text, speaker["voice"], rate)
    else:
        syn = espeak.synthesize(text, speaker.get("voice", "en-us"), rate, speaker.get("pitch", 50),
                                speaker.get("range", 50), srand=int(rng.integers(1, 2 ** 31)))
        audio, phon, _ = espeak.to_16k(syn, SAMPLE_RATE)
    pre = int(round(rng.uniform(0.12, 0.30) * SAMPLE_RATE))
    post = int(round(rng.uniform(0.10, 0.25) * SAMPLE_RATE))
    n_speech = len(audio)
    clean = np.concatenate([np.zeros(pre, np.float32), audio, np.zeros(post, np.float32)])
    off = pre / SAMPLE_RATE
    speech = [(n, a + off, b + off) for (n, a, b) in phon if b > a]
    first = speech[0][1] if speech else off
    phonemes = [("_", 0.0, first)] if first > 0 else []      # added silence + espeak's own lead-in
    phonemes += speech
    end_speech = off + n_speech / SAMPLE_RATE
    if phonemes and phonemes[-1][2] < end_speech:
        phonemes.append(("_", phonemes[-1][2], end_speech))
    phonemes.append(("_", end_speech, len(clean) / SAMPLE_RATE))
    noise_std = 10 ** (rng.uniform(-72, -56) / 20)
    noisy = (clean + rng.normal(0, noise_std, clean.shape)).astype(np.float32)
    N = len(noisy)
    T = num_frames(N, fps)
    weights, frames, fw = animate(phonemes, clean, T, speaker.get("style", {}), fps=fps)
    tensors = {"audio": noisy, "weights": weights, "bilabial_frames": frames, "frame_weights": fw}
    meta = {"fps": fps, "sample_rate": SAMPLE_RATE,
            "phonemes": [[n, round(a, 6), round(b, 6)] for (n, a, b) in phonemes],
            "voice": speaker.get("voice"), "engine": speaker.get("engine", "espeak"), "rate": rate, "text": text}
    return tensors, meta


def write_clip(path, tensors: dict, meta: dict) -> None:
    from safetensors.numpy import save_file

    t = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    save_file(t, str(path), metadata={"corpus.clip": json.dumps(meta, sort_keys=True, ensure_ascii=False)})


def clip_name(speaker_id: str, sentence_id: int) -> str:
    return f"{speaker_id}_{sentence_id:04d}"


# ----------------------------------------------------------------------------------------------
# the corpus
# ----------------------------------------------------------------------------------------------
def plan(n_speakers: int, sentences_per_speaker: int, seed: int, engines=("espeak",)):
    """(speakers, sentences, jobs [(speaker_index, sentence_id)]) -- deterministic from seed."""
    speakers = sample_speakers(n_speakers, seed, engines=engines)
    sentences = sentence_table()
    M = min(int(sentences_per_speaker), len(sentences))
    jobs = []
    for i in range(n_speakers):
        rng = np.random.default_rng([int(seed), i, 0x5E7])
        ids = np.sort(rng.choice(len(sentences), size=M, replace=False))
        jobs += [(i, int(s)) for s in ids]
    return speakers, sentences, jobs


_JOB_STATE = {}


def _run_job(job):
    i, sid = job
    st = _JOB_STATE
    sp = st["speakers"][i]
    tensors, meta = synth_clip(SENTENCES[sid], sp, st["seed"], salt=(i, sid))
    meta = {"speaker": sp["id"], "sentence": sid, **meta}
    name = clip_name(sp["id"], sid)
    write_clip(os.path.join(st["out"], "clips", name + ".safetensors"), tensors, meta)
    return name, len(tensors["audio"]) / SAMPLE_RATE, int(tensors["weights"].shape[0]), \
        int(tensors["bilabial_frames"].shape[0])


def _progress(done, total, t0, stream):
    el = time.time() - t0
    rate = done / el if el > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else float("nan")
    width = 30
    fill = int(width * done / max(total, 1))
    stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} clips  {rate:5.1f} clips/s  "
                 f"elapsed {el:5.1f}s  eta {eta:5.1f}s ")
    stream.flush()


def make_corpus(out: str, n_speakers: int, sentences_per_speaker: int, seed: int = 0, workers: int = 2,
                progress: bool = True, stream=None, rig_path: str | None = None, engines=("espeak",)) -> dict:
    """Writes the corpus (docs/corpus.md) to `out`; returns a summary dict. `rig_path`: a rig file to
    drive instead of the procedural one (it must have the same blendshapes; its lip geometry sets the
    closure weights, so the lips meet exactly on it), copied as the corpus rig byte for byte.
    `engines`: the speech engines the speakers are shared between ("espeak", "flite"); espeak alone
    gives the same corpus as before engines existed."""
    global _RIG
    before = _RIG
    if "flite" in engines and not flite.available():
        raise RuntimeError("engine flite: the flite program is not installed (apt-get install flite)")
    try:
        return _make_corpus(out, n_speakers, sentences_per_speaker, seed, workers, progress, stream, rig_path, tuple(engines))
    finally:
        _RIG = before


def _make_corpus(out, n_speakers, sentences_per_speaker, seed, workers, progress, stream, rig_path, engines) -> dict:
    global _RIG
    import multiprocessing as mp

    stream = stream or sys.stderr
    clips_dir = os.path.join(out, "clips")
    os.makedirs(clips_dir, exist_ok=True)
    for n in os.listdir(clips_dir):           # clips of an earlier run (other speakers or sentences)
        if n.endswith(".safetensors"):
            os.remove(os.path.join(clips_dir, n))
    espeak.initialize()
    import scipy.signal  # noqa: F401  (imported once here, not in every worker)
    if rig_path is not None:
        given = load_rig(rig_path)
        if list(given.names) != list(corpus_rig().names):
            raise ValueError(f"{rig_path}: blendshapes {list(given.names)} differ from the corpus rig's {list(corpus_rig().names)}")
        _RIG = given                       # forked workers inherit it
        if os.path.abspath(rig_path) != os.path.abspath(os.path.join(out, "rig.safetensors")):
            shutil.copyfile(rig_path, os.path.join(out, "rig.safetensors"))
    else:
        save_rig(corpus_rig(), os.path.join(out, "rig.safetensors"))
    speakers, sentences, jobs = plan(n_speakers, sentences_per_speaker, seed, engines)
    with open(os.path.join(out, "speakers.json"), "w") as f:
        json.dump(speakers, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "sentences.json"), "w") as f:
        json.dump(sentences, f, indent=1, ensure_ascii=False)
        f.write("\n")
    _JOB_STATE.update({"speakers": speakers, "seed": int(seed), "out": out})
    t0 = time.time()
    results = []
    if workers <= 1 or not hasattr(os, "fork"):
        for k, job in enumerate(jobs):
            results.append(_run_job(job))
            if progress and (k % 10 == 0 or k + 1 == len(jobs)):
                _progress(k + 1, len(jobs), t0, stream)
    else:
        ctx = mp.get_context("fork")
        with ctx.Pool(workers) as pool:
            for k, r in enumerate(pool.imap_unordered(_run_job, jobs, chunksize=4)):
                results.append(r)
                if progress and (k % 10 == 0 or k + 1 == len(jobs)):
                    _progress(k + 1, len(jobs), t0, stream)
    elapsed = time.time() - t0
    if progress:
        stream.write("\n")
    results.sort()
    audio_s = sum(r[1] for r in results)
    summary = {"version": CLIP_VERSION, "seed": int(seed), "speakers": n_speakers,
               "sentences_per_speaker": min(int(sentences_per_speaker), len(sentences)), "clips": len(results),
               "audio_seconds": round(audio_s, 3), "frames": int(sum(r[2] for r in results)),
               "bilabial_events": int(sum(r[3] for r in results)), "fps": FPS, "sample_rate": SAMPLE_RATE}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    summary["elapsed_s"] = elapsed
    summary["clips_per_s"] = len(results) / elapsed if elapsed > 0 else float("inf")
    return summary
