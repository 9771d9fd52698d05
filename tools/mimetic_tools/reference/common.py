"""Shared pieces of the reference models: input normalisation, frame counts, positional tables,
attention masks.

Everything here follows the originals' behaviour as docs/reference-notes.md describes it; formulas are re-derived,
not copied from the original repositories.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------
# Audio front end helpers
# ----------------------------------------------------------------------------------------------


def normalize_audio(audio, eps: float) -> np.ndarray:
    """Per-utterance z-normalisation as the HF feature extractor does it: float64 numpy,
    population variance, then float32."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    y = (x - np.mean(x)) / np.sqrt(np.var(x) + eps)
    return y.astype(np.float32)


def cnn_length(num_samples: int, kernels: Sequence[int], strides: Sequence[int]) -> int:
    n = int(num_samples)
    for k, s in zip(kernels, strides):
        n = (n - k) // s + 1
    return n


def interpolated_frames(L: int, fps: float, offset: int = 0) -> int:
    """T = int((L / 50.0) * fps) + offset, evaluated in float64 exactly as Python does it.
    (FaceFormer/Imitator vocaset: fps 30, offset 0; Mimic interpolation: fps 25, offset 1.)"""
    return int((L / 50.0) * fps) + offset


def interpolate_features(h: torch.Tensor, T: int) -> torch.Tensor:
    """h [1, L, C] -> [1, T, C], linear, align_corners=True (as the originals, on CNN features)."""
    return torch.nn.functional.interpolate(
        h.transpose(1, 2), size=T, mode="linear", align_corners=True
    ).transpose(1, 2)


# ----------------------------------------------------------------------------------------------
# Positional tables
# ----------------------------------------------------------------------------------------------


def sinusoid_table(num_positions: int, d_model: int) -> torch.Tensor:
    """[num_positions, d] with pe[q, 2i] = sin(q * w_i), pe[q, 2i+1] = cos(q * w_i),
    w_i = exp(2i * (-ln 10000 / d)); computed in float32 like the originals."""
    pos = torch.arange(0, num_positions, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    pe = torch.zeros(num_positions, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def periodic_table(period: int, d_model: int, length: int) -> torch.Tensor:
    """[length, d]: row t is the period table's row t mod period (any length)."""
    base = sinusoid_table(period, d_model)
    idx = torch.arange(length) % period
    return base[idx]


def ppe_buffer(period: int, d_model: int, max_seq_len: int = 600) -> torch.Tensor:
    """The `PPE.pe` buffer as FaceFormer/Mimic store it: [1, period * (max_seq_len // period + 1), d]."""
    reps = max_seq_len // period + 1
    return sinusoid_table(period, d_model).unsqueeze(0).repeat(1, reps, 1)


# ----------------------------------------------------------------------------------------------
# Attention masks
# ----------------------------------------------------------------------------------------------


def alibi_slopes(n_heads: int) -> list[float]:
    """ALiBi's slope schedule (geometric from 2^(-8/n); non-powers of two interleave the next
    power's slopes). For 4 heads: 2^-2, 2^-4, 2^-6, 2^-8."""

    def pow2(n: int) -> list[float]:
        first = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [first * first**i for i in range(n)]

    if math.log2(n_heads).is_integer():
        return pow2(n_heads)
    below = 2 ** math.floor(math.log2(n_heads))
    return pow2(below) + alibi_slopes(2 * below)[0::2][: n_heads - below]


def biased_self_mask(
    n_heads: int, T: int, period: int | None, window: int | None = None
) -> torch.Tensor:
    """Float mask [n_heads, T, T] added to the self-attention logits.

    * causal: key j > query i is -inf;
    * period (FaceFormer/Mimic temporal bias): -slope_h * floor((i - j) / period) for j <= i;
      period=None gives the plain causal mask (Imitator);
    * window (Mimetic's rule beyond max_seq_len): keys with i - j >= window are -inf.
      With window >= T this is exactly the originals' mask.
    """
    i = torch.arange(T).unsqueeze(1)
    j = torch.arange(T).unsqueeze(0)
    dist = i - j
    allowed = dist >= 0
    if window is not None:
        allowed = allowed & (dist < window)
    if period is not None:
        slopes = torch.tensor(alibi_slopes(n_heads), dtype=torch.float32)
        steps = torch.div(dist.clamp(min=0), period, rounding_mode="floor").to(torch.float32)
        bias = -(slopes.view(-1, 1, 1) * steps.unsqueeze(0))
    else:
        bias = torch.zeros(n_heads, T, T)
    neg_inf = torch.full_like(bias, float("-inf"))
    return torch.where(allowed.unsqueeze(0), bias, neg_inf)


def alignment_mask(T: int, S: int, mode: str) -> torch.Tensor:
    """Boolean cross-attention mask [T, S], True = blocked.
    'diagonal': query i sees memory i; 'pairs' (BIWI): query i sees memory 2i and 2i+1."""
    blocked = torch.ones(T, S, dtype=torch.bool)
    for t in range(T):
        if mode == "pairs":
            blocked[t, 2 * t : 2 * t + 2] = False
        elif mode == "diagonal":
            if t < S:
                blocked[t, t] = False
        else:
            raise ValueError(f"unknown alignment mask mode {mode!r}")
    return blocked


def to_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float32).cpu().numpy().copy()
