"""Reading the synthetic corpus (docs/corpus.md, format v1) for training and evaluation.

This reader follows the documented file layout directly (rig.safetensors, speakers.json,
sentences.json, clips/<speaker>_<sentence>.safetensors) so that training does not depend on the
generator's Python package; `mimetic_tools.corpus.Corpus` is the generator's own API for the same
files.

Clips keep the rig controls `weights [T, K]` (not the offsets: `[T, 3V]` per clip would not fit in
memory for a corpus of thousands of clips); offsets are `weights @ basis`, computed per batch.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file

SAMPLE_RATE = 16000


class CorpusError(ValueError):
    pass


@dataclass
class Rig:
    template: np.ndarray        # [V, 3] float32, metres
    triangles: np.ndarray       # [F, 3] int32
    basis: np.ndarray           # [K, 3V] float32
    lip_vertices: np.ndarray    # [m] int32
    lip_upper: np.ndarray       # [p] int32
    lip_lower: np.ndarray       # [p] int32
    upper_face: np.ndarray      # [u] int32
    control_names: List[str] = field(default_factory=list)

    @property
    def num_vertices(self) -> int:
        return int(self.template.shape[0])

    def offsets(self, weights: np.ndarray) -> np.ndarray:
        """weights [T, K] -> offsets [T, 3V] (metres)."""
        return np.asarray(weights, np.float32) @ self.basis


@dataclass
class Clip:
    key: str                    # "<speaker>_<sentence>"
    speaker: str
    sentence: int
    text: str
    fps: int
    sample_rate: int
    audio: np.ndarray           # [N] float32
    weights: np.ndarray         # [T, K]
    bilabial_frames: np.ndarray  # [E] int32
    frame_weights: np.ndarray   # [T] float32
    phonemes: list

    @property
    def num_frames(self) -> int:
        return int(self.weights.shape[0])

    def offsets(self, rig: Rig) -> np.ndarray:
        return rig.offsets(self.weights)


def _read_rig(path: Path) -> Rig:
    if not path.is_file():
        raise CorpusError(f"{path}: the corpus rig is missing")
    t = load_file(str(path))
    need = ["template", "triangles", "basis", "lip_vertices", "lip_upper", "lip_lower", "upper_face"]
    missing = [k for k in need if k not in t]
    if missing:
        raise CorpusError(f"{path}: missing tensors {missing}")
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    names: List[str] = []
    if "corpus.rig" in meta:
        try:
            names = list(json.loads(meta["corpus.rig"]).get("basis", []))
        except (ValueError, AttributeError):
            names = []
    V = t["template"].shape[0]
    if t["template"].shape != (V, 3):
        raise CorpusError(f"{path}: template must be [V, 3], got {list(t['template'].shape)}")
    if t["basis"].ndim != 2 or t["basis"].shape[1] != 3 * V:
        raise CorpusError(f"{path}: basis must be [K, 3V] = [K, {3 * V}], got {list(t['basis'].shape)}")
    if t["lip_upper"].shape != t["lip_lower"].shape:
        raise CorpusError(f"{path}: lip_upper and lip_lower must pair up, got {t['lip_upper'].shape} "
                          f"and {t['lip_lower'].shape}")
    ints = {k: np.asarray(t[k]).astype(np.int64).reshape(-1)
            for k in ("lip_vertices", "lip_upper", "lip_lower", "upper_face")}
    ints["triangles"] = np.asarray(t["triangles"]).astype(np.int64).reshape(-1, 3)
    for k in ("lip_vertices", "lip_upper", "lip_lower", "upper_face"):
        a = ints[k]
        if a.size and (a.min() < 0 or a.max() >= V):
            raise CorpusError(f"{path}: {k} indices out of range [0, {V})")
    return Rig(
        template=np.ascontiguousarray(t["template"].astype(np.float32)),
        triangles=ints["triangles"].astype(np.int32).reshape(-1, 3),
        basis=np.ascontiguousarray(t["basis"].astype(np.float32)),
        lip_vertices=ints["lip_vertices"].astype(np.int32),
        lip_upper=ints["lip_upper"].astype(np.int32),
        lip_lower=ints["lip_lower"].astype(np.int32),
        upper_face=ints["upper_face"].astype(np.int32),
        control_names=names,
    )


def read_clip(path: Path) -> Clip:
    t = load_file(str(path))
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    if "corpus.clip" not in meta:
        raise CorpusError(f"{path}: missing metadata 'corpus.clip'")
    m = json.loads(meta["corpus.clip"])
    for k in ("audio", "weights", "bilabial_frames", "frame_weights"):
        if k not in t:
            raise CorpusError(f"{path}: missing tensor '{k}'")
    T = t["weights"].shape[0]
    if t["frame_weights"].shape != (T,):
        raise CorpusError(f"{path}: frame_weights must be [T] = [{T}], got {list(t['frame_weights'].shape)}")
    fps = int(m.get("fps", 30))
    sr = int(m.get("sample_rate", SAMPLE_RATE))
    if sr != SAMPLE_RATE:
        raise CorpusError(f"{path}: sample_rate {sr}, expected {SAMPLE_RATE}")
    return Clip(
        key=path.stem,
        speaker=str(m["speaker"]),
        sentence=int(m["sentence"]),
        text=str(m.get("text", "")),
        fps=fps,
        sample_rate=sr,
        audio=np.ascontiguousarray(t["audio"].astype(np.float32).reshape(-1)),
        weights=np.ascontiguousarray(t["weights"].astype(np.float32)),
        bilabial_frames=np.asarray(t["bilabial_frames"], np.int64).reshape(-1),
        frame_weights=np.ascontiguousarray(t["frame_weights"].astype(np.float32)),
        phonemes=list(m.get("phonemes", [])),
    )


class CorpusData:
    """The corpus on disk. Clips are loaded lazily and cached."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise CorpusError(f"{self.path}: not a corpus directory")
        self.rig = _read_rig(self.path / "rig.safetensors")
        sp = self.path / "speakers.json"
        se = self.path / "sentences.json"
        if not sp.is_file() or not se.is_file():
            raise CorpusError(f"{self.path}: speakers.json / sentences.json missing")
        self.speaker_info: List[dict] = json.loads(sp.read_text())
        self.sentence_info: List[dict] = json.loads(se.read_text())
        self._speaker_split = {s["id"]: s.get("split", "train") for s in self.speaker_info}
        self._sentence_split = {int(s["id"]): s.get("split", "train") for s in self.sentence_info}
        self._files: Dict[str, Path] = {p.stem: p for p in sorted((self.path / "clips").glob("*.safetensors"))}
        if not self._files:
            raise CorpusError(f"{self.path}/clips: no clips")
        self._cache: Dict[str, Clip] = {}
        # speaker / sentence of each clip from its file name; speaker ids may contain '_', sentence ids not
        self._index = []
        for key in self._files:
            spk, _, sent = key.rpartition("_")
            self._index.append((key, spk, int(sent) if sent.isdigit() else -1))

    def speakers(self, split: Optional[str] = None) -> List[str]:
        return [s["id"] for s in self.speaker_info if split is None or s.get("split") == split]

    def speaker_style(self, speaker: str) -> dict:
        for s in self.speaker_info:
            if s["id"] == speaker:
                return dict(s.get("style", {}))
        return {}

    def clip_keys(self, speaker_split: Optional[str] = None, sentence_split: Optional[str] = None,
                  speakers: Optional[Sequence[str]] = None) -> List[str]:
        out = []
        for key, spk, sent in self._index:
            if speaker_split is not None and self._speaker_split.get(spk) != speaker_split:
                continue
            if sentence_split is not None and self._sentence_split.get(sent) != sentence_split:
                continue
            if speakers is not None and spk not in speakers:
                continue
            out.append(key)
        return out

    def clip(self, key: str) -> Clip:
        c = self._cache.get(key)
        if c is None:
            c = read_clip(self._files[key])
            self._cache[key] = c
        return c

    def clips(self, **kw) -> List[Clip]:
        return [self.clip(k) for k in self.clip_keys(**kw)]


# ----------------------------------------------------------------------------------------------
# Batches: fixed-length random windows (no padding anywhere)
# ----------------------------------------------------------------------------------------------
@dataclass
class Batch:
    audio: torch.Tensor          # [B, N] float32 (window of the clip's audio)
    offsets: torch.Tensor        # [B, W, 3V] scaled offsets (training units)
    init: torch.Tensor           # [B, 3V] scaled offsets of the frame before the window (zeros at 0)
    frame_weights: torch.Tensor  # [B, W]
    bilabial: torch.Tensor       # [B, W] 1.0 at bilabial closure frames
    speaker: torch.Tensor        # [B] long, index into the training speakers
    keys: List[str]
    starts: List[int]

    def to(self, device) -> "Batch":
        if str(device) == "cpu":
            return self
        mv = {k: getattr(self, k).to(device) for k in ("audio", "offsets", "init", "frame_weights", "bilabial", "speaker")}
        return Batch(keys=self.keys, starts=self.starts, **mv)


def samples_for(frames: int, fps: int, sr: int = SAMPLE_RATE) -> int:
    return int(round(frames * sr / fps))


def crop_audio(audio: np.ndarray, start_frame: int, frames: int, fps: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Audio of frames [start, start + frames): exactly samples_for(frames) samples (zero-padded past
    the end)."""
    n = samples_for(frames, fps, sr)
    s0 = samples_for(start_frame, fps, sr)
    seg = audio[s0:s0 + n]
    if seg.shape[0] < n:
        seg = np.concatenate([seg, np.zeros(n - seg.shape[0], np.float32)])
    return seg


class BatchSampler:
    """Draws batches of B random clips, each cut to a common window of W frames
    (W = min(window, shortest clip in the batch)); deterministic from its numpy Generator, whose
    state is saved in checkpoints."""

    def __init__(self, corpus: CorpusData, keys: Sequence[str], speakers: Sequence[str], batch_size: int,
                 window: int, scale: float, seed: int = 0, min_window: int = 8):
        if not keys:
            raise CorpusError("no training clips")
        self.corpus = corpus
        self.keys = list(keys)
        self.speaker_index = {s: i for i, s in enumerate(speakers)}
        self.batch_size = int(batch_size)
        self.window = int(window)
        self.min_window = int(min_window)
        self.scale = float(scale)
        self.rng = np.random.default_rng(seed)
        self.basis = torch.from_numpy(corpus.rig.basis)

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, st: dict) -> None:
        self.rng.bit_generator.state = st

    def next(self) -> Batch:
        idx = self.rng.integers(0, len(self.keys), size=self.batch_size)
        clips = [self.corpus.clip(self.keys[i]) for i in idx]
        W = min(self.window, min(c.num_frames for c in clips))
        W = max(W, 1)
        audio, w, init_w, fw, bil, spk, starts = [], [], [], [], [], [], []
        for c in clips:
            start = int(self.rng.integers(0, c.num_frames - W + 1))
            starts.append(start)
            audio.append(crop_audio(c.audio, start, W, c.fps, c.sample_rate))
            w.append(c.weights[start:start + W])
            init_w.append(c.weights[start - 1] if start > 0 else np.zeros(c.weights.shape[1], np.float32))
            fw.append(c.frame_weights[start:start + W])
            b = np.zeros(W, np.float32)
            e = c.bilabial_frames - start
            e = e[(e >= 0) & (e < W)]
            b[e] = 1.0
            bil.append(b)
            spk.append(self.speaker_index.get(c.speaker, 0))
        wt = torch.from_numpy(np.stack(w))
        offsets = (wt @ self.basis) * self.scale
        init = (torch.from_numpy(np.stack(init_w)) @ self.basis) * self.scale
        return Batch(
            audio=torch.from_numpy(np.stack(audio)),
            offsets=offsets,
            init=init,
            frame_weights=torch.from_numpy(np.stack(fw)),
            bilabial=torch.from_numpy(np.stack(bil)),
            speaker=torch.tensor(spk, dtype=torch.long),
            keys=[self.keys[i] for i in idx],
            starts=starts,
        )


def offset_scale(corpus: CorpusData, keys: Sequence[str], max_clips: int = 200) -> float:
    """Training units: offsets are multiplied by 1 / RMS(offsets) over (up to max_clips) training clips,
    so targets are O(1); the export folds the factor back into the first / last layers (exact)."""
    basis = corpus.rig.basis
    ss, n = 0.0, 0
    step = max(1, len(keys) // max_clips)
    for k in list(keys)[::step][:max_clips]:
        off = corpus.clip(k).weights @ basis
        ss += float(np.sum(off.astype(np.float64) ** 2))
        n += off.size
    rms = math.sqrt(ss / max(n, 1))
    if not math.isfinite(rms) or rms <= 0:
        return 1.0
    return 1.0 / rms
