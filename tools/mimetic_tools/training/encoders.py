"""Pluggable audio encoders for training.

An encoder turns a batch of raw 16 kHz waveforms [B, N] into hidden features at the motion frame
rate, [B, T, H] (before the model's `audio_feature_map`). Two kinds:

* ``wav2vec2``: the reference wav2vec 2.0 module (`reference.wav2vec2.Wav2Vec2`, HF parameter names),
  randomly initialised (no pretrained weights exist here) and trained end to end. Per-clip
  z-normalisation, CNN, linear interpolation of the CNN features to T frames (align_corners=True, as
  FaceFormer/Imitator/Mimic-interpolate do), transformer. Exported through the converter.
* ``realtime``: `mimetic_tools.realtime_encoder` (log-mel + causal conv, output at the motion fps),
  written by another person. The adapter below imports it when present; see `RealtimeAdapter` for the
  interface it expects. Export of such a model needs the model format's realtime encoder family.

Both adapters expose ``hidden_size``, ``forward(audio, T)``, ``config()`` (JSON-able) and live at the
attribute path the family's original layout uses (FaceFormer/Imitator ``audio_encoder``, Mimic
``audio_encoder.audio_encoder``) so that a wav2vec2 model's state dict is the original layout.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import math
from dataclasses import asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..reference.wav2vec2 import Wav2Vec2, Wav2Vec2Config

ENCODER_TYPES = ("wav2vec2", "realtime")


def normalize_batch(audio: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-clip z-normalisation (population variance), as the HF feature extractor does it."""
    x = audio.to(torch.float64)
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    return ((x - mu) / torch.sqrt(var + eps)).to(torch.float32)


def fit_length(h: torch.Tensor, T: int) -> torch.Tensor:
    """[B, L, H] -> [B, T, H]: crop, or repeat the last frame."""
    L = h.shape[1]
    if L == T:
        return h
    if L > T:
        return h[:, :T]
    if L == 0:
        return h.new_zeros(h.shape[0], T, h.shape[2])
    return torch.cat([h, h[:, -1:].expand(-1, T - L, -1)], dim=1)


def init_wav2vec2_(w2v: Wav2Vec2, seed: int | None = None) -> None:
    """HF-style initialisation (wav2vec 2.0 `_init_weights`): Linear N(0, 0.02), convs Kaiming normal,
    the positional conv N(0, sqrt(4 / (K * C_in))) before weight norm, norms 1 / 0."""
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    with torch.no_grad():
        for name, m in w2v.named_modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 0.02, generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                if m.weight is not None:
                    m.weight.fill_(1.0)
                if m.bias is not None:
                    m.bias.zero_()
            elif hasattr(m, "weight_v") and hasattr(m, "weight_g"):
                C, Cg, K = m.weight_v.shape
                m.weight_v.normal_(0.0, math.sqrt(4.0 / (K * Cg)), generator=gen)
                # weight norm over dims (0, 1) per tap: g = ||v[:, :, k]|| keeps the initial weight = v
                m.weight_g.copy_(torch.sqrt((m.weight_v ** 2).sum(dim=(0, 1), keepdim=True)))
                m.bias.zero_()
        w2v.masked_spec_embed.uniform_(generator=gen)


class Wav2Vec2Adapter(nn.Module):
    """Holds the reference wav2vec2 as `.inner`; the family model stores the inner module itself at
    its original attribute, the adapter only runs it."""

    kind = "wav2vec2"

    def __init__(self, cfg: dict):
        super().__init__()
        c = {k: v for k, v in cfg.items() if k not in ("type", "input_norm_eps")}
        self.w2v_config = Wav2Vec2Config(**c)
        self.input_norm_eps = float(cfg.get("input_norm_eps", 1e-5))
        self.hidden_size = self.w2v_config.hidden_size

    def build(self) -> Wav2Vec2:
        return Wav2Vec2(copy.deepcopy(self.w2v_config))

    def run(self, module: Wav2Vec2, audio: torch.Tensor, T: int) -> torch.Tensor:
        x = normalize_batch(audio, self.input_norm_eps)
        cnn = module.extract(x)  # [B, L, C]
        aligned = F.interpolate(cnn.transpose(1, 2), size=T, mode="linear", align_corners=True).transpose(1, 2)
        return module.encode(aligned)

    def config(self) -> dict:
        return {"type": "wav2vec2", **asdict(self.w2v_config), "input_norm_eps": self.input_norm_eps}


class RealtimeAdapter(nn.Module):
    """Hook for the real-time causal encoder (`mimetic_tools/realtime_encoder.py`, another person's).

    Expected from that module (adapted by introspection, so small differences are tolerated):
      * a class (``RealtimeEncoder``, or the first nn.Module subclass named ``*Encoder``) built from
        keyword arguments (``cfg`` minus ``type``), or from a config object;
      * ``forward(audio [B, N] float32 16 kHz) -> [B, T', H]`` at the motion fps (T' ~ N / 16000 * fps);
      * an output width attribute (``hidden_size`` / ``out_dim`` / ``output_dim`` / ``dim``).
    The output is cropped / edge-padded to the target frame count.
    """

    kind = "realtime"

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        mod = load_realtime_module()
        self.module_name = mod.__name__
        cls = getattr(mod, "RealtimeEncoder", None)
        if cls is None:
            cands = [v for k, v in vars(mod).items() if inspect.isclass(v) and issubclass(v, nn.Module)
                     and k.endswith("Encoder")]
            if not cands:
                raise ImportError(f"{mod.__name__}: no RealtimeEncoder class")
            cls = cands[0]
        self.cls = cls
        kwargs = {k: v for k, v in cfg.items() if k != "type"}
        probe = self.build_with(kwargs)
        self.hidden_size = _out_width(probe)
        self._kwargs = kwargs

    def build_with(self, kwargs: dict) -> nn.Module:
        mod = load_realtime_module()
        cfg_cls = getattr(mod, "RealtimeEncoderConfig", None)
        if cfg_cls is not None:
            try:
                return self.cls(cfg_cls(**kwargs))
            except TypeError:
                pass
        return self.cls(**kwargs)

    def build(self) -> nn.Module:
        return self.build_with(self._kwargs)

    def run(self, module: nn.Module, audio: torch.Tensor, T: int) -> torch.Tensor:
        if hasattr(module, "run"):  # mimetic_tools.realtime_encoder: exactly T frames
            return module.run(audio, frames=T)["encoder"]
        h = module(audio)
        if isinstance(h, (tuple, list)):
            h = h[0]
        return fit_length(h, T)

    def num_frames(self, module: nn.Module, num_samples: int, fps: int) -> int:
        if hasattr(module, "num_frames"):
            return int(module.num_frames(num_samples))
        return int(num_samples) * int(fps) // 16000

    @torch.no_grad()
    def init_statistics(self, module: nn.Module, audios) -> bool:
        """Per-bin log-mel normalisation from training audio (the encoder has no per-utterance
        normalisation: it is causal)."""
        if not (hasattr(module, "run") and hasattr(module, "set_mel_statistics")):
            return False
        mels = [module.run(torch.as_tensor(a, dtype=torch.float32).view(1, -1))["mel"][0] for a in audios]
        m = torch.cat(mels, 0).double()
        module.set_mel_statistics(m.mean(0).numpy(), m.std(0).numpy())
        return True

    def config(self) -> dict:
        return {"type": "realtime", **self._kwargs}


def _out_width(m: nn.Module) -> int:
    for name in ("hidden_size", "out_dim", "output_dim", "dim", "d_model"):
        v = getattr(m, name, None)
        if isinstance(v, int) and v > 0:
            return v
        cfg = getattr(m, "config", None) or getattr(m, "cfg", None)
        v = getattr(cfg, name, None) if cfg is not None else None
        if isinstance(v, int) and v > 0:
            return v
    with torch.no_grad():
        was = m.training
        m.eval()
        out = m(torch.zeros(1, 16000))
        m.train(was)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return int(out.shape[-1])


def load_realtime_module():
    return importlib.import_module("mimetic_tools.realtime_encoder")


def realtime_available() -> bool:
    try:
        load_realtime_module()
        return True
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return False


def make_adapter(cfg: dict) -> nn.Module:
    kind = cfg.get("type", "wav2vec2")
    if kind == "wav2vec2":
        return Wav2Vec2Adapter(cfg)
    if kind == "realtime":
        return RealtimeAdapter(cfg)
    raise ValueError(f"unknown encoder type {kind!r}; expected one of {ENCODER_TYPES}")
