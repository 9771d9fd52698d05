"""Pluggable audio encoders for training.

An encoder turns a batch of raw 16 kHz waveforms [B, N] into hidden features at the motion frame
rate, [B, T, H] (before the model's `audio_feature_map`). Two kinds:

* ``wav2vec2``: the reference wav2vec 2.0 module (`reference.wav2vec2.Wav2Vec2`, HF parameter names),
  randomly initialised (no pretrained weights exist here) and trained end to end. Per-clip
  z-normalisation, CNN, linear interpolation of the CNN features to T frames (align_corners=True, as
  FaceFormer/Imitator/Mimic-interpolate do), transformer. Exported through the converter.
* ``realtime``: `mimetic_tools.realtime_encoder` (log-mel + causal conv, output at the motion fps);
  exported with the model format's realtime encoder section.

Both adapters expose ``hidden_size``, ``forward(audio, T)``, ``config()`` (JSON-able) and live at the
attribute path the family's original layout uses (FaceFormer/Imitator ``audio_encoder``, Mimic
``audio_encoder.audio_encoder``) so that a wav2vec2 model's state dict is the original layout.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..realtime_encoder import RealtimeEncoder, RealtimeEncoderConfig
from ..reference.wav2vec2 import Wav2Vec2, Wav2Vec2Config

ENCODER_TYPES = ("wav2vec2", "realtime")


def normalize_batch(audio: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-clip z-normalisation (population variance), as the HF feature extractor does it."""
    x = audio.to(torch.float64)
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    return ((x - mu) / torch.sqrt(var + eps)).to(torch.float32)


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
    """The real-time causal encoder (`mimetic_tools.realtime_encoder.RealtimeEncoder`): built from the
    encoder config minus ``type`` (a `RealtimeEncoderConfig`), it yields exactly T frames at the motion
    fps, and its log-mel normalisation is set from training audio (`init_statistics`)."""

    kind = "realtime"

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        self._kwargs = {k: v for k, v in cfg.items() if k != "type"}
        self.hidden_size = RealtimeEncoderConfig(**self._kwargs).hidden_size

    def build(self) -> RealtimeEncoder:
        return RealtimeEncoder(RealtimeEncoderConfig(**self._kwargs))

    def run(self, module: RealtimeEncoder, audio: torch.Tensor, T: int) -> torch.Tensor:
        return module.run(audio, frames=T)["encoder"]

    def num_frames(self, module: RealtimeEncoder, num_samples: int, fps: int) -> int:
        return int(module.num_frames(num_samples))

    @torch.no_grad()
    def init_statistics(self, module: RealtimeEncoder, audios) -> bool:
        """Per-bin log-mel normalisation from training audio (the encoder has no per-utterance
        normalisation: it is causal)."""
        mels = [module.run(torch.as_tensor(a, dtype=torch.float32).view(1, -1))["mel"][0] for a in audios]
        m = torch.cat(mels, 0).double()
        module.set_mel_statistics(m.mean(0).numpy(), m.std(0).numpy())
        return True

    def config(self) -> dict:
        return {"type": "realtime", **self._kwargs}


def make_adapter(cfg: dict) -> nn.Module:
    kind = cfg.get("type", "wav2vec2")
    if kind == "wav2vec2":
        return Wav2Vec2Adapter(cfg)
    if kind == "realtime":
        return RealtimeAdapter(cfg)
    raise ValueError(f"unknown encoder type {kind!r}; expected one of {ENCODER_TYPES}")
