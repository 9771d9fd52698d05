"""Mimetic's real-time audio encoder: a log-mel front end and a causal (dilated) conv stack that
emits one feature row per motion frame and streams *exactly* (docs/model-format.md, "Real-time
encoder"; docs/streaming.md).

Definition (every number below is a config field; the Swift runtime reproduces it exactly):

* **Frames.** Motion frame ``t`` stands for the time ``t / fps``; an utterance of ``N`` samples at
  16 kHz has ``T = floor(N * fps / 16000)`` frames (those whose whole interval
  ``[t/fps, (t+1)/fps)`` lies in the audio).
* **Mel frames.** ``k = subframes`` mel frames per motion frame (mel rate ``k * fps``). Mel frame ``j``
  is anchored at sample ``c_j = floor(j * 16000 / (k * fps))`` (integer arithmetic) and analyses the
  ``win_length`` samples ``[c_j + window_ahead - win_length, c_j + window_ahead)``; samples outside
  the audio are zeros. So mel frame ``k * t`` is anchored exactly at motion frame ``t``'s time.
* **Log-mel** (float64, then float32): the samples times a periodic Hann window
  ``w[n] = 0.5 - 0.5 cos(2 pi n / win_length)``, zero-padded at the end to ``n_fft`` (a power of
  two), ``P[b] = |rfft|^2`` for ``b = 0 .. n_fft/2``, ``M = F P`` with the HTK filterbank below,
  ``log(max(M, log_floor))`` (natural log). No pre-emphasis, no per-utterance normalisation
  (that would not be causal): the input is taken at its scale (samples in [-1, 1]).
* **HTK mel filterbank** ``F [n_mels, n_fft/2 + 1]``: ``mel(f) = 2595 log10(1 + f / 700)``;
  ``n_mels + 2`` points equally spaced in mel from ``mel(f_min)`` to ``mel(f_max)``, mapped back to
  Hz ``f_0 .. f_{n_mels+1}``; band ``m`` (0-based) is the triangle over ``f_m, f_{m+1}, f_{m+2}``
  with peak 1 (no area normalisation), evaluated at the bin frequencies ``b * 16000 / n_fft``:
  ``max(0, min((f - f_m) / (f_{m+1} - f_m), (f_{m+2} - f) / (f_{m+2} - f_{m+1})))``.
* **Stack** (time-major rows; every conv has left padding only, so it is causal up to its own
  lookahead): ``x = mel * mel_norm.weight + mel_norm.bias`` (per bin), then the mel-rate layers
  ``mel_layers[i]``, the stride-``k`` layer ``down`` (mel rate -> motion rate) and the motion-rate
  layers ``layers[i]``. A layer with kernel ``K``, dilation ``d``, stride ``s`` and lookahead ``a``
  computes output ``t`` from inputs ``s t + a - (K-1) d + i d`` (``i < K``; zeros before the
  first input), then ``y = GELU(LayerNorm(conv))`` and ``y += x[t]`` (residual) for every layer
  but the first mel layer and ``down``. A final ``LayerNorm`` (``norm``) gives the encoder output
  ``[T, hidden_size]``; the model's ``audio_map`` maps it to the decoder width.
* **Lookahead.** Frame ``t`` depends only on samples before
  ``c_{k (t + B) + A} + window_ahead`` with ``A`` the mel-rate lookaheads (``sum(mel_lookahead) +
  down_lookahead``) and ``B = sum(lookahead)``; that is at most
  ``window_ahead + (k B + A) * 16000 / (k fps)`` samples past the frame's time (defaults:
  200 + 2 * 177.8 = 556 samples, 34.7 ms at 30 fps; 32.5 ms at 25 fps).

Streaming (``RealtimeEncoder.stream()``; the Swift runtime does the same inside a stream's buffer):
each layer keeps the tail of its input (the rows its next output still needs, zero rows at the
start), the front end keeps the audio from the next window's start, and frame ``t`` is computed as
soon as the audio it depends on has arrived and its interval is complete; nothing is recomputed.

Weights use the canonical names of the model file (``encoder.*``; conv weights ``[out, kernel,
in]`` there, torch's ``[out, in, kernel]`` here): :meth:`RealtimeEncoder.canonical_tensors`.
:func:`export_model` writes a model file with this encoder and any decoder head (FaceFormer,
Imitator, Mimic) through the converter's writer.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import sys
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 16000

__all__ = [
    "RealtimeEncoderConfig", "RealtimeEncoder", "RealtimeEncoderStream", "LogMel", "ConvBlock", "LayerSpec",
    "htk_mel_filterbank", "export_model", "randomize_realtime_", "load_encoder",
]


# ================================================================================================
# Config
# ================================================================================================

class LayerSpec(NamedTuple):
    name: str          # canonical prefix without "encoder." ("mel_layers.0", "down", "layers.3")
    c_in: int
    c_out: int
    kernel: int
    dilation: int
    stride: int
    lookahead: int
    residual: bool

    @property
    def span(self) -> int:
        """Input rows one output reads, first to last: (K - 1) d + 1."""
        return (self.kernel - 1) * self.dilation + 1

    @property
    def left_pad(self) -> int:
        """Zero rows before the first input: (K - 1) d - a."""
        return (self.kernel - 1) * self.dilation - self.lookahead


@dataclass
class RealtimeEncoderConfig:
    """Architecture of the real-time encoder. ``fps`` is the model's motion rate (stored at the top
    of the model config, not in the encoder section); ``subframes`` defaults to ``round(100 / fps)``
    (3 at 30 fps: 90 Hz mel frames; 4 at 25 fps: 100 Hz) and ``down_kernel`` to ``2 * subframes``."""

    fps: int = 30
    subframes: Optional[int] = None
    n_fft: int = 512
    win_length: int = 400
    window_ahead: int = 200
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float = 8000.0
    mel_scale: str = "htk"
    log_floor: float = 1e-6
    hidden_size: int = 256
    mel_kernel: List[int] = field(default_factory=lambda: [3, 3])
    mel_dilation: List[int] = field(default_factory=lambda: [1, 1])
    mel_lookahead: List[int] = field(default_factory=lambda: [1, 1])
    down_kernel: Optional[int] = None
    down_lookahead: int = 0
    kernel: List[int] = field(default_factory=lambda: [3, 3, 3, 3, 3, 3])
    dilation: List[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 1])
    lookahead: List[int] = field(default_factory=lambda: [0, 0, 0, 0, 0, 0])
    layer_norm_eps: float = 1e-5

    def __post_init__(self):
        if self.subframes is None:
            self.subframes = max(1, int(round(100 / self.fps)))
        if self.down_kernel is None:
            self.down_kernel = 2 * self.subframes
        for k in ("mel_kernel", "mel_dilation", "mel_lookahead", "kernel", "dilation", "lookahead"):
            setattr(self, k, [int(v) for v in getattr(self, k)])
        self.validate()

    # -- serialisation ---------------------------------------------------------------------------
    def to_config(self) -> "OrderedDict[str, Any]":
        """The model file's ``encoder`` section (docs/model-format.md)."""
        d = asdict(self)
        d.pop("fps")
        out = OrderedDict([("type", "realtime")])
        for k in ("n_fft", "win_length", "window_ahead", "n_mels", "f_min", "f_max", "mel_scale", "log_floor",
                  "subframes", "hidden_size", "mel_kernel", "mel_dilation", "mel_lookahead", "down_kernel",
                  "down_lookahead", "kernel", "dilation", "lookahead", "layer_norm_eps"):
            out[k] = d[k]
        out["f_min"], out["f_max"] = float(out["f_min"]), float(out["f_max"])
        out["log_floor"], out["layer_norm_eps"] = float(out["log_floor"]), float(out["layer_norm_eps"])
        return out

    @classmethod
    def from_config(cls, section: Mapping, fps: int) -> "RealtimeEncoderConfig":
        if section.get("type") != "realtime":
            raise ValueError(f"not a realtime encoder section (type {section.get('type')!r})")
        kw = {k: v for k, v in section.items() if k != "type"}
        return cls(fps=int(fps), **kw)

    def validate(self) -> None:
        from .convert import realtime_encoder_errors

        errs = realtime_encoder_errors(self.to_config())
        if not (isinstance(self.fps, int) and 1 <= self.fps <= 240):
            errs.append(f"fps must be an integer in [1, 240], got {self.fps!r}")
        if errs:
            raise ValueError("invalid realtime encoder config: " + "; ".join(errs))

    # -- derived quantities ----------------------------------------------------------------------
    def layer_specs(self) -> List[LayerSpec]:
        H = self.hidden_size
        specs = []
        c_in = self.n_mels
        for i, (k, d, a) in enumerate(zip(self.mel_kernel, self.mel_dilation, self.mel_lookahead)):
            specs.append(LayerSpec(f"mel_layers.{i}", c_in, H, k, d, 1, a, residual=i > 0))
            c_in = H
        specs.append(LayerSpec("down", c_in, H, self.down_kernel, 1, self.subframes, self.down_lookahead, False))
        for i, (k, d, a) in enumerate(zip(self.kernel, self.dilation, self.lookahead)):
            specs.append(LayerSpec(f"layers.{i}", H, H, k, d, 1, a, residual=True))
        return specs

    def num_frames(self, num_samples: int) -> int:
        """T = floor(N * fps / 16000): the frames whose whole interval lies in the audio."""
        return max(0, int(num_samples) * self.fps // SAMPLE_RATE)

    @property
    def minimum_samples(self) -> int:
        return -(-SAMPLE_RATE // self.fps)

    def needed_counts(self, frames: int) -> List[int]:
        """[mel frames, outputs of layer 0, ..., outputs of the last layer (= frames)] needed for
        motion frames 0 .. frames-1."""
        n = int(frames)
        counts = [n]
        for s in reversed(self.layer_specs()):
            n = s.stride * (n - 1) + s.lookahead + 1 if n > 0 else 0
            counts.insert(0, n)
        return counts

    def mel_anchor(self, j) -> Any:
        """c_j = floor(j * 16000 / (k * fps)) (ints or an integer tensor/array)."""
        return (j * SAMPLE_RATE) // (self.subframes * self.fps)

    def mel_window_end(self, j) -> Any:
        return self.mel_anchor(j) + self.window_ahead

    def samples_needed(self, frame: int) -> int:
        """16 kHz samples that must have arrived before motion frame `frame` can be computed
        (its last mel window's end), not counting the frame's own interval."""
        return int(self.mel_window_end(self.needed_counts(frame + 1)[0] - 1))

    @property
    def lookahead_samples(self) -> float:
        """Worst case over frames of (audio the frame depends on beyond its time t/fps), samples."""
        return max(self.samples_needed(t) - t * SAMPLE_RATE / self.fps for t in range(self.fps, 2 * self.fps))

    @property
    def lookahead_ms(self) -> float:
        return 1000.0 * self.lookahead_samples / SAMPLE_RATE

    @property
    def receptive_field_ms(self) -> float:
        """How far back a frame's features reach (window and every layer), in ms."""
        t = 4 * self.fps + 200
        first = None  # earliest input position each stage reads for frame t, propagated back
        pos_lo = t
        for s in reversed(self.layer_specs()):
            pos_lo = s.stride * pos_lo + s.lookahead - (s.kernel - 1) * s.dilation
        first = self.mel_window_end(pos_lo) - self.win_length
        return 1000.0 * (t * SAMPLE_RATE / self.fps - first) / SAMPLE_RATE


# ================================================================================================
# Front end
# ================================================================================================

def htk_mel_filterbank(n_mels: int, n_fft: int, f_min: float, f_max: float,
                       sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[n_mels, n_fft/2 + 1] float64, HTK mel scale, triangles with peak 1 (see module docs)."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)

    m = np.linspace(mel(f_min), mel(f_max), n_mels + 2, dtype=np.float64)
    hz = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    freqs = np.arange(n_fft // 2 + 1, dtype=np.float64) * sample_rate / n_fft
    fb = np.zeros((n_mels, n_fft // 2 + 1), np.float64)
    for b in range(n_mels):
        lo, c, hi = hz[b], hz[b + 1], hz[b + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[b] = np.maximum(0.0, np.minimum(up, down))
    return fb


class LogMel(nn.Module):
    """The fixed front end: raw 16 kHz audio -> log-mel frames at k * fps (float64 inside)."""

    def __init__(self, cfg: RealtimeEncoderConfig):
        super().__init__()
        self.cfg = cfg
        n = torch.arange(cfg.win_length, dtype=torch.float64)
        self.register_buffer("window", 0.5 - 0.5 * torch.cos(2 * math.pi * n / cfg.win_length), persistent=False)
        fb = htk_mel_filterbank(cfg.n_mels, cfg.n_fft, cfg.f_min, cfg.f_max)
        self.register_buffer("filterbank", torch.from_numpy(fb), persistent=False)

    def frames_from_windows(self, windows: torch.Tensor) -> torch.Tensor:
        """[..., win_length] samples (any float dtype) -> [..., n_mels] log-mel, float32."""
        x = windows.to(torch.float64) * self.window
        spec = torch.fft.rfft(x, n=self.cfg.n_fft)
        power = spec.real * spec.real + spec.imag * spec.imag
        mel = power @ self.filterbank.T
        return torch.log(torch.clamp(mel, min=self.cfg.log_floor)).to(torch.float32)

    def forward(self, audio: torch.Tensor, mel_frames: int) -> torch.Tensor:
        """audio [B, N] -> [B, mel_frames, n_mels]; samples outside [0, N) are zeros."""
        cfg = self.cfg
        B, N = audio.shape
        j = torch.arange(mel_frames, device=audio.device, dtype=torch.int64)
        start = self.cfg.mel_window_end(j) - cfg.win_length
        left = max(0, cfg.win_length - cfg.window_ahead)  # -start[0]
        right = max(0, int(start[-1]) + cfg.win_length - N) if mel_frames else 0
        padded = F.pad(audio, (left, right))
        idx = (start + left).unsqueeze(1) + torch.arange(cfg.win_length, device=audio.device).unsqueeze(0)
        windows = padded[:, idx]  # [B, J, win]
        return self.frames_from_windows(windows)


# ================================================================================================
# The encoder
# ================================================================================================

class ChannelAffine(nn.Module):
    """y = x * weight + bias per channel (the log-mel normalisation; set it from corpus statistics
    with :meth:`RealtimeEncoder.set_mel_statistics`)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return x * self.weight + self.bias


class ConvBlock(nn.Module):
    """Conv1d (left padding (K-1)d - a, stride s, dilation d) -> LayerNorm -> GELU (+ residual)."""

    def __init__(self, spec: LayerSpec, eps: float):
        super().__init__()
        self.spec = spec
        self.conv = nn.Conv1d(spec.c_in, spec.c_out, spec.kernel, stride=spec.stride, dilation=spec.dilation)
        self.norm = nn.LayerNorm(spec.c_out, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, L, C_in] (L = s (n - 1) + a + 1 for n outputs) -> [B, n, C_out]."""
        s = self.spec
        y = self.conv(F.pad(x.transpose(1, 2), (s.left_pad, 0))).transpose(1, 2)
        y = F.gelu(self.norm(y))
        if s.residual:
            y = y + x[:, : y.shape[1]]
        return y


class RealtimeEncoder(nn.Module):
    """Raw 16 kHz audio [B, N] -> features [B, T, hidden_size] at the motion rate.

    ``forward(audio, num_samples=None)``: T = num_frames(N) for the batch width N (or for
    ``max(num_samples)``). Batches zero-padded at the end are exact: every example's first
    ``num_frames(n_b)`` rows equal what the example alone gives (the encoder is causal up to its
    lookahead and treats audio beyond the end as zeros).
    """

    def __init__(self, config: Optional[RealtimeEncoderConfig] = None, **kwargs):
        super().__init__()
        cfg = config or RealtimeEncoderConfig(**kwargs)
        self.config = cfg
        self.logmel = LogMel(cfg)
        self.mel_norm = ChannelAffine(cfg.n_mels)
        specs = cfg.layer_specs()
        n_mel = len(cfg.mel_kernel)
        self.mel_layers = nn.ModuleList([ConvBlock(s, cfg.layer_norm_eps) for s in specs[:n_mel]])
        self.down = ConvBlock(specs[n_mel], cfg.layer_norm_eps)
        self.layers = nn.ModuleList([ConvBlock(s, cfg.layer_norm_eps) for s in specs[n_mel + 1:]])
        self.norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    @property
    def blocks(self) -> List[ConvBlock]:
        return list(self.mel_layers) + [self.down] + list(self.layers)

    def num_frames(self, num_samples: int) -> int:
        return self.config.num_frames(num_samples)

    @torch.no_grad()
    def set_mel_statistics(self, mean, std) -> None:
        """mel_norm from per-bin log-mel statistics of a corpus: (x - mean) / std."""
        mean = torch.as_tensor(np.asarray(mean), dtype=torch.float32)
        std = torch.as_tensor(np.asarray(std), dtype=torch.float32).clamp(min=1e-3)
        self.mel_norm.weight.copy_(1.0 / std)
        self.mel_norm.bias.copy_(-mean / std)

    def run(self, audio: torch.Tensor, frames: Optional[int] = None) -> Dict[str, torch.Tensor]:
        """Every stage: ``mel`` [B, J, n_mels] (before mel_norm), ``downsampled`` [B, T + B_la, H]
        (after ``down``), ``encoder`` [B, T, H]."""
        if audio.dim() == 1:
            audio = audio.unsqueeze(0)
        T = self.num_frames(audio.shape[1]) if frames is None else int(frames)
        counts = self.config.needed_counts(T)
        mel = self.logmel(audio, counts[0])
        x = self.mel_norm(mel)
        out = {"mel": mel}
        for i, block in enumerate(self.blocks):
            x = block(x)
            assert x.shape[1] == counts[i + 1], (block.spec, x.shape, counts)
            if block is self.down:
                out["downsampled"] = x
        out["encoder"] = self.norm(x)
        return out

    def forward(self, audio: torch.Tensor, num_samples: Optional[Sequence[int]] = None) -> torch.Tensor:
        frames = None if num_samples is None else self.num_frames(int(max(num_samples)))
        return self.run(audio, frames)["encoder"]

    # -- model file --------------------------------------------------------------------------------
    def canonical_tensors(self) -> "OrderedDict[str, np.ndarray]":
        """``encoder.*`` tensors in the model file's layout (float32 numpy)."""
        out = OrderedDict()
        for k, v in self.state_dict().items():
            a = v.detach().to("cpu", torch.float32).numpy()
            if k.endswith(".conv.weight"):
                a = np.transpose(a, (0, 2, 1))  # [out, in, K] -> [out, K, in]
            out["encoder." + k] = np.ascontiguousarray(a)
        return out

    @torch.no_grad()
    def load_canonical_tensors(self, tensors: Mapping) -> "RealtimeEncoder":
        sd = {}
        for k, v in self.state_dict().items():
            a = np.asarray(tensors["encoder." + k], np.float32)
            if k.endswith(".conv.weight"):
                a = np.transpose(a, (0, 2, 1))
            if tuple(a.shape) != tuple(v.shape):
                raise ValueError(f"encoder.{k}: shape {list(a.shape)}, expected {list(v.shape)}")
            sd[k] = torch.from_numpy(np.ascontiguousarray(a))
        self.load_state_dict(sd)
        return self

    def stream(self) -> "RealtimeEncoderStream":
        return RealtimeEncoderStream(self)


def load_encoder(path: str) -> RealtimeEncoder:
    """The realtime encoder of a Mimetic model file, as a torch module (eval mode)."""
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        cfg = json.loads(f.metadata()["mimetic.config"])
        enc = RealtimeEncoder(RealtimeEncoderConfig.from_config(cfg["encoder"], cfg["fps"]))
        tensors = {k: f.get_tensor(k) for k in f.keys() if k.startswith("encoder.")}
    return enc.load_canonical_tensors(tensors).eval()


# ================================================================================================
# Streaming (the definition the Swift runtime implements; tests check it against forward())
# ================================================================================================

class RealtimeEncoderStream:
    """Frame-by-frame streaming: ``push(samples) -> new rows [m, H]``, ``flush() -> the rest``.

    State: the audio from the next mel window's start, and per layer the rows of its input that
    its next output still needs (``(K-1) d - a`` zero rows at the start). Frame ``t`` is computed
    once ``(t + 1) * 16000 <= N * fps`` (its interval is complete) and the samples up to its last
    mel window's end have arrived; after ``flush`` the audio is padded with zeros and frames up to
    ``num_frames(N)`` follow. Each frame computes only its new rows: ``k`` mel frames, ``k`` rows of
    every mel-rate layer, one row of every motion-rate layer.
    """

    def __init__(self, encoder: RealtimeEncoder):
        self.enc = encoder
        self.cfg = encoder.config
        self.specs = self.cfg.layer_specs()
        self.reset()

    def reset(self) -> None:
        self.audio = np.zeros(0, np.float32)
        self.audio_base = 0          # global index of self.audio[0]
        self.total = 0               # 16 kHz samples pushed
        self.flushed = False
        self.mel_done = 0
        self.frame = 0
        self.produced = [0] * len(self.specs)
        self.buffers = [torch.zeros(s.left_pad, s.c_in) for s in self.specs]

    def push(self, samples) -> torch.Tensor:
        if self.flushed:
            raise RuntimeError("push after flush")
        x = np.asarray(samples, np.float32).reshape(-1)
        self.audio = np.concatenate([self.audio, x])
        self.total += x.size
        return self._run()

    def flush(self) -> torch.Tensor:
        self.flushed = True
        return self._run()

    def _window(self, j: int) -> np.ndarray:
        end = int(self.cfg.mel_window_end(j))
        start = end - self.cfg.win_length
        out = np.zeros(self.cfg.win_length, np.float32)
        lo, hi = max(start, 0), min(end, self.total)
        if hi > lo:
            assert lo >= self.audio_base, "needed audio was dropped"
            out[lo - start:hi - start] = self.audio[lo - self.audio_base:hi - self.audio_base]
        return out

    @torch.no_grad()
    def _run(self) -> torch.Tensor:
        cfg, enc = self.cfg, self.enc
        rows = []
        while True:
            t = self.frame
            if self.flushed:
                if t >= cfg.num_frames(self.total):
                    break
            elif (t + 1) * SAMPLE_RATE > self.total * cfg.fps or cfg.samples_needed(t) > self.total:
                break
            counts = cfg.needed_counts(t + 1)
            if counts[0] > self.mel_done:
                w = np.stack([self._window(j) for j in range(self.mel_done, counts[0])])
                mel = enc.logmel.frames_from_windows(torch.from_numpy(w))
                self.buffers[0] = torch.cat([self.buffers[0], enc.mel_norm(mel)])
                self.mel_done = counts[0]
            for i, (spec, block) in enumerate(zip(self.specs, enc.blocks)):
                n = counts[i + 1] - self.produced[i]
                if n <= 0:
                    continue
                buf = self.buffers[i]
                used = spec.stride * (n - 1) + spec.span
                assert buf.shape[0] >= used
                y = block.conv(buf[:used].T.unsqueeze(0)).squeeze(0).T
                y = F.gelu(block.norm(y))
                if spec.residual:
                    y = y + buf[spec.left_pad:spec.left_pad + n]
                self.buffers[i] = buf[spec.stride * n:]
                self.produced[i] += n
                if i + 1 < len(self.specs):
                    self.buffers[i + 1] = torch.cat([self.buffers[i + 1], y])
                else:
                    rows.append(enc.norm(y))
            self.frame += 1
        # keep audio from the next mel window's start
        keep = int(self.cfg.mel_window_end(self.mel_done)) - self.cfg.win_length
        drop = min(max(0, keep - self.audio_base), self.audio.size)
        if drop:
            self.audio = self.audio[drop:]
            self.audio_base += drop
        return torch.cat(rows) if rows else torch.zeros(0, cfg.hidden_size)


# ================================================================================================
# Random initialisation (fixtures, benchmarks)
# ================================================================================================

@torch.no_grad()
def randomize_realtime_(encoder: RealtimeEncoder, seed: int = 0) -> RealtimeEncoder:
    """Deterministic random weights with O(1) activations: convs N(0, 2 / fan_in) (the conv +
    GELU stack), LayerNorm weights 1 + 0.2 N, biases 0.1 N, mel_norm ~ (x + 5) / 4 with noise."""
    gen = torch.Generator().manual_seed(int(seed))

    def normal(shape, std=1.0, mean=0.0):
        return torch.randn(tuple(shape), generator=gen, dtype=torch.float32) * std + mean

    m = encoder.mel_norm
    m.weight.copy_(normal(m.weight.shape, 0.025, 0.25))
    m.bias.copy_(normal(m.bias.shape, 0.1, 1.25))
    for block in encoder.blocks:
        w = block.conv.weight
        block.conv.weight.copy_(normal(w.shape, math.sqrt(2.0 / (w.shape[1] * w.shape[2]))))
        block.conv.bias.copy_(normal(block.conv.bias.shape, 0.1))
        block.norm.weight.copy_(normal(block.norm.weight.shape, 0.2, 1.0))
        block.norm.bias.copy_(normal(block.norm.bias.shape, 0.1))
    encoder.norm.weight.copy_(normal(encoder.norm.weight.shape, 0.2, 1.0))
    encoder.norm.bias.copy_(normal(encoder.norm.bias.shape, 0.1))
    return encoder


# ================================================================================================
# Export
# ================================================================================================

def _head_tensors_from(head_state) -> tuple:
    """(tensors, original_layout): canonical head tensors as given, or an original-layout state dict."""
    if isinstance(head_state, nn.Module):
        head_state = head_state.state_dict()
    sd = OrderedDict(head_state)
    canonical = "audio_map.weight" in sd or any(k.startswith("decoder.layers.") for k in sd)
    return sd, not canonical


def export_model(encoder: RealtimeEncoder, head_state, config: Optional[Mapping], path, *, template=None,
                 triangles=None, lip_vertices=None, dtype: str = "f32", style_codes=None,
                 provenance: Optional[Mapping] = None) -> dict:
    """Write a Mimetic model file: this encoder + a decoder head. Returns the config written.

    head_state: either the head's canonical tensors (``audio_map.*``, ``decoder.layers.*``,
      ``motion_*``, ``style*``, ``style_encoder.*`` as in docs/model-format.md; numpy or torch),
      or a state dict / module in an original layout (FaceFormer ``.pth`` keys, Imitator
      ``nn_model.*`` or bare, Mimic), converted by ``mimetic_tools.convert``; whatever stands in
      the wav2vec 2.0 encoder's place there (``audio_encoder.*`` below the audio map) is ignored.
    config: the model config without the encoder (``family``, ``num_vertices``, ``decoder``,
      ``styles``, ``imitator`` / ``mimic``); with an original-layout head it may be None or
      partial (inferred from the shapes as the converter does, these fields override). The
      ``encoder`` section, ``alignment`` (``native``), ``fps`` and ``sample_rate`` come from
      ``encoder``.
    """
    from . import convert as cv

    ecfg = encoder.config
    config = copy.deepcopy(dict(config or {}))
    if "fps" in config and int(config["fps"]) != ecfg.fps:
        raise cv.ConversionError(f"config fps {config['fps']} differs from the encoder's {ecfg.fps}")
    enc_section = ecfg.to_config()
    enc_tensors = encoder.canonical_tensors()
    sd, original = _head_tensors_from(head_state)
    if original:
        overrides = {k: v for k, v in config.items() if k not in ("encoder", "alignment", "sample_rate")}
        if isinstance(head_state, nn.Module):  # what shapes cannot tell, from a reference module's attributes
            dec = overrides.setdefault("decoder", {})
            for attr, key in (("num_heads", "num_heads"), ("max_seq_len", "max_seq_len")):
                if hasattr(head_state, attr):
                    dec.setdefault(key, int(getattr(head_state, attr)))
            if hasattr(head_state, "start_token"):
                overrides.setdefault("imitator", {}).setdefault("start_token", head_state.start_token)
        overrides["encoder"] = enc_section
        overrides["fps"] = ecfg.fps
        cfg = cv.infer_config(sd, family=overrides.pop("family", None), overrides=overrides)
        tensors = cv.convert_state_dict(sd, cfg, encoder_tensors=enc_tensors)
    else:
        cfg = OrderedDict()
        for k in ("family", "sample_rate", "fps", "num_vertices", "encoder", "alignment", "decoder", "styles",
                  "imitator", "mimic"):
            if k in ("sample_rate", "fps", "encoder", "alignment"):
                cfg[k] = {"sample_rate": SAMPLE_RATE, "fps": ecfg.fps, "encoder": enc_section,
                          "alignment": OrderedDict([("mode", "native"), ("frames_offset", 0)])}[k]
            elif k in config:
                cfg[k] = config[k]
        cfg = json.loads(json.dumps(cfg))
        cv.validate_config(cfg)
        tensors = OrderedDict(enc_tensors)
        for k, v in sd.items():
            if k.startswith("encoder."):
                raise cv.ConversionError(f"head tensor {k!r}: encoder tensors come from the encoder module")
            tensors[k] = np.ascontiguousarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v,
                                              dtype=np.float32)
    if style_codes is not None:
        tensors["style_codes"] = np.asarray(style_codes, np.float32)
    prov = OrderedDict([("converter", f"{cv.CONVERTER_NAME} {cv.CONVERTER_VERSION}"),
                        ("source", "mimetic_tools.realtime_encoder.export_model"), ("family", cfg["family"])])
    prov.update(provenance or {})
    cv.write_model(path, tensors, cfg, template=template, triangles=triangles, lip_vertices=lip_vertices,
                   dtype=dtype, provenance=prov)
    return cfg


# ================================================================================================
# Command line: a random-weight model of a given size (benchmarks, smoke tests)
# ================================================================================================

def _random_head(family: str, hidden: int, d_model: int, vertices: int, fps: int, seed: int, n_styles: int):
    from .reference import FAMILIES, Wav2Vec2Config, randomize_

    w2v = Wav2Vec2Config(conv_dim=[8], conv_kernel=[10], conv_stride=[5], hidden_size=hidden, num_layers=0,
                         num_heads=1, intermediate_size=8, pos_conv_kernel=2, pos_conv_groups=1)
    common = dict(d_model=d_model, num_heads=4, ffn_dim=2 * d_model, vertex_dim=3 * vertices)
    if family == "faceformer":
        model = FAMILIES[family](w2v, **common, n_styles=n_styles, period=fps, dataset="vocaset", fps=fps)
    elif family == "imitator":
        model = FAMILIES[family](w2v, **common, n_styles=n_styles, fps=fps)
    else:
        model = FAMILIES[family](w2v, **common, align="interpolation", fps=fps, period=fps,
                                 style_ffn_dim=2 * d_model)
    return randomize_(model, seed).eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write a random-weight model with a realtime encoder "
                                             "(benchmarks), or describe the default encoder.")
    ap.add_argument("--out", help="model file to write")
    ap.add_argument("--family", choices=("faceformer", "imitator", "mimic"), default="faceformer")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--vertices", type=int, default=5023)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--styles", type=int, default=8)
    ap.add_argument("--config", default="{}", help="JSON overrides of RealtimeEncoderConfig fields")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--f16", action="store_true")
    args = ap.parse_args(argv)
    cfg = RealtimeEncoderConfig(fps=args.fps, **json.loads(args.config))
    enc = randomize_realtime_(RealtimeEncoder(cfg), args.seed).eval()
    n_params = sum(p.numel() for p in enc.parameters())
    print(f"realtime encoder: {n_params:,} parameters, lookahead {cfg.lookahead_ms:.1f} ms, receptive field "
          f"{cfg.receptive_field_ms:.0f} ms, mel rate {cfg.subframes * cfg.fps} Hz")
    print(json.dumps(cfg.to_config()))
    if args.out:
        from .reference.realtime import with_realtime_encoder

        head = with_realtime_encoder(_random_head(args.family, cfg.hidden_size, args.d_model, args.vertices,
                                                  args.fps, args.seed + 1, args.styles), enc)
        rng = np.random.RandomState(args.seed)
        template = (0.1 * rng.randn(args.vertices, 3)).astype(np.float32)
        written = export_model(enc, head, {"styles": {"names": [f"style{i}" for i in range(args.styles)]}}
                               if args.family != "mimic" else {}, args.out, template=template,
                               dtype="f16" if args.f16 else "f32")
        print(f"wrote {args.out} ({written['family']}, {written['num_vertices']} vertices, {written['fps']} fps)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
