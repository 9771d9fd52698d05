"""A tiny stand-in corpus in exactly the docs/corpus.md v1 file format, for tests and smoke runs.

Not speech: each "syllable" is a harmonic tone whose loudness follows the jaw opening, bilabial
closures are near-silent frames followed by a noise burst (a plosive release), and speakers differ in
pitch and mouth-opening amplitude. Small enough to train on in seconds; the real corpus comes from
`mimetic-make-corpus` (espeak-ng + the procedural rig).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

FPS = 30
SR = 16000


def _rig(num_vertices: int, rng: np.random.Generator):
    V = max(int(num_vertices), 24)
    # a rough half-ellipsoid "face"; vertices 0..3 upper inner lip, 4..7 lower inner lip,
    # 8..15 outer lips, the last quarter the upper face
    ang = rng.uniform(-1.2, 1.2, size=V)
    hgt = rng.uniform(-0.08, 0.08, size=V)
    tmpl = np.stack([0.07 * np.sin(ang), hgt, 0.07 * np.cos(ang)], 1).astype(np.float32)
    xs = np.linspace(-0.015, 0.015, 4)
    tmpl[0:4] = np.stack([xs, np.full(4, 0.0015), np.full(4, 0.07)], 1)
    tmpl[4:8] = np.stack([xs, np.full(4, -0.0015), np.full(4, 0.07)], 1)
    tmpl[8:12] = np.stack([xs * 1.3, np.full(4, 0.008), np.full(4, 0.068)], 1)
    tmpl[12:16] = np.stack([xs * 1.3, np.full(4, -0.008), np.full(4, 0.068)], 1)
    upper_face = np.arange(V - V // 4, V)
    tmpl[upper_face, 1] = np.abs(tmpl[upper_face, 1]) + 0.03
    K = 4  # jaw_open, lip_close, spread, brow
    basis = np.zeros((K, V, 3), np.float32)
    lower = np.where(tmpl[:, 1] < 0)[0]
    basis[0, lower, 1] = -0.008 * (0.5 + 0.5 * np.exp(-np.abs(tmpl[lower, 1]) / 0.03))  # jaw opens down
    basis[0, 4:8, 1] = -0.008
    basis[0, 12:16, 1] = -0.007
    basis[1, 0:4, 1] = -0.0015      # lips close: inner lips meet (gap 3 mm at rest)
    basis[1, 4:8, 1] = +0.0015
    basis[1, 8:12, 1] = -0.001
    basis[1, 12:16, 1] = +0.001
    basis[2, 0:16, 0] = 0.003 * np.sign(tmpl[0:16, 0])  # spread
    basis[3, upper_face, 1] = 0.002  # brow raise
    tri = np.stack([np.arange(V - 2), np.arange(1, V - 1), np.arange(2, V)], 1).astype(np.int32)
    rig = {
        "template": tmpl,
        "triangles": tri,
        "basis": basis.reshape(K, 3 * V),
        "lip_vertices": np.arange(0, 16, dtype=np.int32),
        "lip_upper": np.arange(0, 4, dtype=np.int32),
        "lip_lower": np.arange(4, 8, dtype=np.int32),
        "upper_face": upper_face.astype(np.int32),
    }
    return rig, ["jaw_open", "lip_close", "spread", "brow"]


def _frame_weights(T: int, events) -> np.ndarray:
    w = np.zeros(T, np.float32)
    for c in sorted(events):
        for k in range(-2, 3):
            if 0 <= c + k < T:
                w[c + k] = np.exp(-k * k / 2.0)  # later windows overwrite
    return w


def _smooth(x: np.ndarray, frames: float) -> np.ndarray:
    if frames <= 0:
        return x
    k = np.exp(-0.5 * (np.arange(-3 * int(frames + 1), 3 * int(frames + 1) + 1) / frames) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, len(k) // 2, mode="edge"), k, mode="valid")


def _clip(rng: np.random.Generator, style: dict, sentence_seed: int, pitch: float):
    srng = np.random.default_rng(sentence_seed)  # the "sentence": syllable plan shared by speakers
    n_syl = int(srng.integers(3, 6))
    kinds = srng.choice(["open", "mid", "bilabial"], size=n_syl, p=[0.4, 0.3, 0.3])
    syl_frames = srng.integers(7, 11, size=n_syl)
    T = int(syl_frames.sum()) + 6
    jaw = np.zeros(T, np.float32)
    close = np.zeros(T, np.float32)
    loud = np.zeros(T, np.float32)
    burst = np.zeros(T, np.float32)
    events, phonemes = [], []
    t = 3
    for kind, n in zip(kinds, syl_frames):
        if kind == "bilabial":
            c = t + 1
            events.append(c)
            close[c - 1:c + 2] = 1.0
            burst[c + 2] = 1.0
            jaw[c + 2:t + n] = 0.7
            loud[c + 2:t + n] = 0.8
            phonemes.append(["b", c / FPS, (c + 2) / FPS])
            phonemes.append(["a", (c + 2) / FPS, (t + n) / FPS])
        else:
            a = 1.0 if kind == "open" else 0.45
            jaw[t + 1:t + n - 1] = a
            loud[t + 1:t + n - 1] = 0.5 + 0.5 * a
            phonemes.append(["a" if kind == "open" else "E", t / FPS, (t + n) / FPS])
        t += n
    amp = float(style["amplitude"])
    sm = float(style["smoothing_ms"]) / 1000.0 * FPS
    jaw = _smooth(jaw, sm) * amp
    close = np.clip(_smooth(close, 0.5), 0, 1)
    close[np.asarray(events, int)] = 1.0
    jaw[np.asarray(events, int)] = 0.0
    spread = np.full(T, float(style["spread"]) - 1.0, np.float32)
    brow = 0.3 * _smooth(loud, 2.0)
    weights = np.stack([jaw, close, spread, brow], 1).astype(np.float32)

    N = int(round(T * SR / FPS))
    tt = np.arange(N) / SR
    env = np.interp(tt * FPS, np.arange(T), _smooth(loud, 0.7)).astype(np.float32)
    benv = np.interp(tt * FPS, np.arange(T), burst).astype(np.float32)
    tone = sum(np.sin(2 * np.pi * pitch * h * tt) / h for h in (1, 2, 3, 4))
    audio = 0.3 * env * tone + 0.3 * benv * rng.standard_normal(N) + 0.003 * rng.standard_normal(N)
    return audio.astype(np.float32), weights, np.asarray(events, np.int32), _frame_weights(T, events), phonemes


def write_fake_corpus(path, num_vertices: int = 40, speakers=(4, 1, 2), sentences=(5, 2), seed: int = 0) -> Path:
    """Write a fake corpus: `speakers` = (train, val, test) counts, `sentences` = (train, heldout)
    counts; every speaker says every sentence."""
    path = Path(path)
    (path / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rig, names = _rig(num_vertices, rng)
    save_file(rig, str(path / "rig.safetensors"),
              metadata={"corpus.rig": json.dumps({"basis": names, "version": 1})})
    spk = []
    for split, n in zip(("train", "val", "test"), speakers):
        for _ in range(n):
            i = len(spk)
            spk.append({
                "id": f"s{i:03d}", "split": split, "voice": "fake", "rate": 160, "pitch": 50,
                "style": {"amplitude": float(rng.uniform(0.7, 1.3)), "protrusion": 1.0,
                          "spread": float(rng.uniform(0.8, 1.2)), "asymmetry": 0.0,
                          "anticipation_ms": 40, "smoothing_ms": float(rng.uniform(20, 60))},
                "_pitch_hz": float(rng.uniform(100, 220)),
            })
    sents = [{"id": i, "text": f"fake sentence {i}", "split": "train" if i < sentences[0] else "heldout"}
             for i in range(sentences[0] + sentences[1])]
    for s in spk:
        for se in sents:
            audio, w, ev, fw, ph = _clip(rng, s["style"], seed * 1000 + se["id"], s["_pitch_hz"])
            meta = {"speaker": s["id"], "sentence": se["id"], "text": se["text"], "fps": FPS,
                    "sample_rate": SR, "phonemes": ph}
            save_file({"audio": audio, "weights": w, "bilabial_frames": ev, "frame_weights": fw},
                      str(path / "clips" / f"{s['id']}_{se['id']}.safetensors"),
                      metadata={"corpus.clip": json.dumps(meta)})
    for s in spk:
        s.pop("_pitch_hz")
    (path / "speakers.json").write_text(json.dumps(spk, indent=1))
    (path / "sentences.json").write_text(json.dumps(sents, indent=1))
    return path
