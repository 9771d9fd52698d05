"""Evaluate a model on corpus clips (by default the test speakers, never seen in training).

Two prediction back ends:
  * ``torch``: the PyTorch model (a training checkpoint, a live TrainModel during training, or a Mimetic
    model file loaded back with `training.export.load_model_file`); whole-utterance autoregressive
    decoding exactly as the runtime (frame count from the audio, incremental decoder).
  * ``swift``: the `mimetic` CLI on the model file (`mimetic animate --offsets`) with the clip audio
    written as a float32 WAV.
`agreement` compares the two on the same clips (max |difference| in mm, relative to the offsets' RMS).

Style for a speaker the model never saw:
  * FaceFormer / Imitator: the uniform blend of the training styles (`style="mean"`, the CLI's
    `--style-weights 1/n,...`), or a fixed slot index;
  * Mimic: the style code of a reference clip of the same speaker (another sentence, the first one in
    sorted order; its ground-truth motion, as Mimic's evaluation on unseen identities does), passed to
    the CLI as `--style-ref ref.npy --style-ref-kind offsets`.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from .metrics import clip_metrics, summarize


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def write_wav_float32(path, audio: np.ndarray, sample_rate: int = 16000) -> None:
    """Mono IEEE-float WAV (format 3), so the CLI reads exactly the float32 samples PyTorch sees."""
    a = np.asarray(audio, dtype="<f4").reshape(-1)
    data = a.tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, sample_rate, sample_rate * 4, 4, 32)
    fact = struct.pack("<I", a.size)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact + \
        b"data" + struct.pack("<I", len(data)) + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def find_cli() -> Optional[str]:
    """$MIMETIC_BIN, else .build/release/mimetic, else `swift build --show-bin-path`/mimetic, else
    .build/debug/mimetic."""
    root = Path(__file__).resolve().parents[3]
    env = os.environ.get("MIMETIC_BIN") or os.environ.get("MIMETIC_CLI")
    if env:
        return env if os.access(env, os.X_OK) else None
    cands = [root / ".build" / "release" / "mimetic"]
    if shutil.which("swift"):
        try:
            r = subprocess.run(["swift", "build", "--show-bin-path"], cwd=root, capture_output=True, text=True,
                               timeout=60)
            if r.returncode == 0 and r.stdout.strip():
                cands.append(Path(r.stdout.strip().splitlines()[-1]) / "mimetic")
        except (OSError, subprocess.SubprocessError):
            pass
    cands.append(root / ".build" / "debug" / "mimetic")
    for c in cands:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def reference_key(corpus, key: str) -> str:
    """Another clip of the same speaker (sorted order), for Mimic's style reference."""
    spk = corpus.clip(key).speaker
    others = [k for k in corpus.clip_keys(speakers=[spk]) if k != key]
    return sorted(others)[0] if others else key


def eval_keys(corpus, split: str = "test", sentences: Optional[str] = None, max_clips: Optional[int] = None) -> List[str]:
    keys = corpus.clip_keys(speaker_split=split, sentence_split=sentences)
    if max_clips:
        # spread over speakers: round-robin
        by: Dict[str, List[str]] = {}
        for k in keys:
            by.setdefault(k.rpartition("_")[0], []).append(k)
        out: List[str] = []
        lists = [by[s] for s in sorted(by)]
        i = 0
        while len(out) < max_clips and any(i < len(l) for l in lists):
            for l in lists:
                if i < len(l) and len(out) < max_clips:
                    out.append(l[i])
            i += 1
        keys = out
    return keys


def _finish(corpus, keys: Sequence[str], preds: Dict[str, np.ndarray], keep_curves: int) -> dict:
    rig = corpus.rig
    clips = []
    for i, key in enumerate(keys):
        c = corpus.clip(key)
        m = clip_metrics(preds[key], c.offsets(rig), rig.template, rig.lip_vertices, rig.upper_face, rig.lip_upper,
                         rig.lip_lower, c.bilabial_frames)
        m["key"] = key
        m["speaker"] = c.speaker
        clips.append(m)
    summary = summarize(clips)
    for i, m in enumerate(clips):  # keep the curves of a few clips only (the report plots them)
        if i >= keep_curves:
            m.pop("lip_open_pred_m", None)
            m.pop("lip_open_gt_m", None)
    return {"summary": summary, "clips": clips}


# ----------------------------------------------------------------------------------------------
# back ends
# ----------------------------------------------------------------------------------------------
def torch_predictions(model, corpus, keys: Sequence[str], scale: float = 1.0, style="mean",
                      style_codes: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Offsets in metres [T, 3V] per clip. `model` works in units of `scale` x metres."""
    rig = corpus.rig
    out = {}
    fam = model.family
    n = model.cfg.n_styles
    for key in keys:
        c = corpus.clip(key)
        if fam == "mimic":
            ref = corpus.clip(reference_key(corpus, key)).offsets(rig) * scale
            y = model.predict(c.audio, style_offsets=ref)
        else:
            w = np.full(n, 1.0 / n, np.float32) if style == "mean" else np.eye(n, dtype=np.float32)[int(style)]
            y = model.predict(c.audio, style=w)
        out[key] = y.numpy().astype(np.float64) / scale
    return out


def swift_predictions(model_path, corpus, keys: Sequence[str], cli: Optional[str] = None, style="mean",
                      workdir: Optional[str] = None, threads: int = 2) -> Dict[str, np.ndarray]:
    cli = cli or find_cli()
    if cli is None:
        raise FileNotFoundError("the mimetic CLI is not built (swift build -c release), or set MIMETIC_BIN")
    from safetensors import safe_open

    with safe_open(str(model_path), "np") as f:
        cfg = json.loads(f.metadata()["mimetic.config"])
    fam = cfg["family"]
    n = len(cfg["styles"]["names"])
    rig = corpus.rig
    tmp = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="mimetic-eval-"))
    tmp.mkdir(parents=True, exist_ok=True)
    out = {}
    try:
        for key in keys:
            c = corpus.clip(key)
            wav = tmp / f"{key}.wav"
            npy = tmp / f"{key}.npy"
            write_wav_float32(wav, c.audio, c.sample_rate)
            args = [cli, "animate", "--model", str(model_path), "--audio", str(wav), "--out", str(npy), "--offsets",
                    "--quiet", "--threads", str(threads)]
            if fam == "mimic":
                ref = tmp / f"{key}.ref.npy"
                np.save(ref, corpus.clip(reference_key(corpus, key)).offsets(rig).astype(np.float32))
                args += ["--style-ref", str(ref), "--style-ref-kind", "offsets"]
            elif style == "mean":
                args += ["--style-weights", ",".join([repr(1.0 / n)] * n)]
            else:
                args += ["--style", str(int(style))]
            r = subprocess.run(args, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise RuntimeError(f"mimetic animate failed on {key}: {r.stderr.strip()}")
            y = np.load(npy).astype(np.float64)
            out[key] = y.reshape(y.shape[0], -1)
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def agreement(a: Dict[str, np.ndarray], b: Dict[str, np.ndarray]) -> dict:
    """Max |a - b| over common frames (mm), relative to the RMS of a; frame-count mismatches."""
    mx, ss, n, mism = 0.0, 0.0, 0, 0
    for k in a:
        if k not in b:
            continue
        T = min(len(a[k]), len(b[k]))
        if len(a[k]) != len(b[k]):
            mism += 1
        d = np.abs(a[k][:T] - b[k][:T])
        mx = max(mx, float(d.max()) if d.size else 0.0)
        ss += float((a[k][:T] ** 2).sum())
        n += a[k][:T].size
    rms = (ss / max(n, 1)) ** 0.5
    return {"max_abs_mm": mx * 1e3, "rms_mm": rms * 1e3, "max_rel": mx / rms if rms > 0 else float("inf"),
            "frame_count_mismatches": mism}


# ----------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------
def evaluate_torch(model, corpus, keys: Sequence[str], scale: float = 1.0, style="mean", keep_curves: int = 3) -> dict:
    preds = torch_predictions(model, corpus, keys, scale=scale, style=style)
    return _finish(corpus, keys, preds, keep_curves)


def evaluate_model_file(model_path, corpus, keys: Sequence[str], backend: str = "torch", style="mean",
                        keep_curves: int = 3, cli: Optional[str] = None, tolerance_rel: float = 1e-3,
                        save_predictions: Optional[str] = None) -> dict:
    """backend: torch | swift | both (metrics from the Swift predictions, plus their agreement with
    PyTorch's)."""
    preds_t = preds_s = None
    if backend in ("torch", "both"):
        from ..training.export import load_model_file

        model, _ = load_model_file(model_path)
        preds_t = torch_predictions(model, corpus, keys, scale=1.0, style=style)
    if backend in ("swift", "both"):
        preds_s = swift_predictions(model_path, corpus, keys, cli=cli, style=style)
    preds = preds_s if preds_s is not None else preds_t
    if preds is None:
        raise ValueError(f"unknown backend {backend!r}")
    res = _finish(corpus, keys, preds, keep_curves)
    res["backend"] = "swift" if preds_s is not None else "torch"
    if preds_t is not None and preds_s is not None:
        ag = agreement(preds_t, preds_s)
        ag["ok"] = bool(ag["max_rel"] <= tolerance_rel and ag["frame_count_mismatches"] == 0)
        ag["tolerance_rel"] = tolerance_rel
        res["agreement"] = ag
    if save_predictions:
        d = Path(save_predictions)
        d.mkdir(parents=True, exist_ok=True)
        for k, v in preds.items():
            np.save(d / f"{k}.npy", v.astype(np.float32))
    return res
