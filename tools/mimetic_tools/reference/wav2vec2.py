"""wav2vec 2.0 encoder (inference), written from the spec, with HF transformers 4.6 parameter names.

Two variants:
* feat_extract_norm="group", stable_layer_norm=False: the "base" model (GroupNorm on conv 0 only,
  post-LN transformer layers, encoder.layer_norm before the layers);
* feat_extract_norm="layer", stable_layer_norm=True: the "large / stable" model (LayerNorm over
  channels after every conv, pre-LN layers, encoder.layer_norm after the last layer).

The forward is split so that the originals' resampling (interpolation / BIWI frame drop), which acts
on the CNN features before the feature projection, can be inserted in between:
`extract(x) -> [1, L, C]`, `encode(features) -> [1, T, H]`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Wav2Vec2Config:
    conv_dim: list = field(default_factory=lambda: [512] * 7)
    conv_kernel: list = field(default_factory=lambda: [10, 3, 3, 3, 3, 2, 2])
    conv_stride: list = field(default_factory=lambda: [5, 2, 2, 2, 2, 2, 2])
    conv_bias: bool = False
    feat_extract_norm: str = "group"  # "group" | "layer"
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    layer_norm_eps: float = 1e-5
    stable_layer_norm: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channel axis of a [B, C, L] tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class ConvLayer(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, bias: bool, norm: str | None):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel_size=kernel, stride=stride, bias=bias)
        if norm == "group":
            self.layer_norm = nn.GroupNorm(num_groups=c_out, num_channels=c_out, affine=True)
        elif norm == "layer":
            self.layer_norm = ChannelLayerNorm(c_out, elementwise_affine=True)
        else:
            self.layer_norm = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return F.gelu(x)


class FeatureExtractor(nn.Module):
    def __init__(self, cfg: Wav2Vec2Config):
        super().__init__()
        layers = []
        c_prev = 1
        for i, (c, k, s) in enumerate(zip(cfg.conv_dim, cfg.conv_kernel, cfg.conv_stride)):
            if cfg.feat_extract_norm == "group":
                norm = "group" if i == 0 else None
            elif cfg.feat_extract_norm == "layer":
                norm = "layer"
            else:
                raise ValueError(cfg.feat_extract_norm)
            layers.append(ConvLayer(c_prev, c, k, s, cfg.conv_bias, norm))
            c_prev = c
        self.conv_layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, N] -> [B, C, L]
        h = x.unsqueeze(1)
        for layer in self.conv_layers:
            h = layer(h)
        return h


class FeatureProjection(nn.Module):
    def __init__(self, c_in: int, hidden: int, eps: float):
        super().__init__()
        self.layer_norm = nn.LayerNorm(c_in, eps=eps)
        self.projection = nn.Linear(c_in, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.layer_norm(x))


class WeightNormConv1d(nn.Module):
    """Grouped Conv1d whose weight is weight-normed along dim 2 (the kernel axis):
    W[:, :, k] = g[k] * v[:, :, k] / ||v[:, :, k]||. Parameters named like torch's old
    `weight_norm` (`weight_g` [1, 1, K], `weight_v` [C_out, C_in/groups, K]); the checkpoint
    writer can rename them to the newer `parametrizations.weight.original0/1`."""

    def __init__(self, channels: int, kernel: int, groups: int):
        super().__init__()
        self.groups = groups
        self.padding = kernel // 2
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel))
        self.weight_v = nn.Parameter(torch.randn(channels, channels // groups, kernel) * 0.01)

    def folded_weight(self) -> torch.Tensor:
        v = self.weight_v
        norm = torch.sqrt((v * v).sum(dim=(0, 1), keepdim=True))
        return self.weight_g * v / norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.folded_weight(), self.bias, padding=self.padding, groups=self.groups)


class PositionalConvEmbedding(nn.Module):
    def __init__(self, cfg: Wav2Vec2Config):
        super().__init__()
        self.conv = WeightNormConv1d(cfg.hidden_size, cfg.pos_conv_kernel, cfg.pos_conv_groups)
        self.drop_last = cfg.pos_conv_kernel % 2 == 0  # SamePad

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # [B, T, H] -> [B, T, H]
        y = self.conv(h.transpose(1, 2))
        if self.drop_last:
            y = y[:, :, :-1]
        return F.gelu(y).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        # registration order as in HF (k, v, q, out), so state_dict order matches
        self.k_proj = nn.Linear(hidden, hidden)
        self.v_proj = nn.Linear(hidden, hidden)
        self.q_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, T, H = h.shape
        q = (self.q_proj(h) * (self.head_dim**-0.5)).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        out = (w @ v).transpose(1, 2).reshape(B, T, H)
        return self.out_proj(out)


class FeedForward(nn.Module):
    def __init__(self, hidden: int, inner: int):
        super().__init__()
        self.intermediate_dense = nn.Linear(hidden, inner)
        self.output_dense = nn.Linear(inner, hidden)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.output_dense(F.gelu(self.intermediate_dense(h)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: Wav2Vec2Config):
        super().__init__()
        self.pre_ln = cfg.stable_layer_norm
        self.attention = Attention(cfg.hidden_size, cfg.num_heads)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.feed_forward = FeedForward(cfg.hidden_size, cfg.intermediate_size)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.pre_ln:
            h = h + self.attention(self.layer_norm(h))
            h = h + self.feed_forward(self.final_layer_norm(h))
        else:
            h = self.layer_norm(h + self.attention(h))
            h = self.final_layer_norm(h + self.feed_forward(h))
        return h


class Encoder(nn.Module):
    def __init__(self, cfg: Wav2Vec2Config):
        super().__init__()
        self.stable = cfg.stable_layer_norm
        self.pos_conv_embed = PositionalConvEmbedding(cfg)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.num_layers)])

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.pos_conv_embed(h)
        if not self.stable:
            h = self.layer_norm(h)
        for layer in self.layers:
            h = layer(h)
        if self.stable:
            h = self.layer_norm(h)
        return h


class Wav2Vec2(nn.Module):
    """State-dict keys: `masked_spec_embed`, `feature_extractor.conv_layers.{i}.conv.*`,
    `...conv_layers.{i}.layer_norm.*`, `feature_projection.{layer_norm,projection}.*`,
    `encoder.pos_conv_embed.conv.{bias,weight_g,weight_v}`, `encoder.layer_norm.*`,
    `encoder.layers.{i}.attention.{q,k,v,out}_proj.*`, `.layer_norm.*`,
    `.feed_forward.{intermediate_dense,output_dense}.*`, `.final_layer_norm.*`."""

    def __init__(self, cfg: Wav2Vec2Config):
        super().__init__()
        self.config = cfg
        self.masked_spec_embed = nn.Parameter(torch.zeros(cfg.hidden_size))  # training only
        self.feature_extractor = FeatureExtractor(cfg)
        self.feature_projection = FeatureProjection(cfg.conv_dim[-1], cfg.hidden_size, cfg.layer_norm_eps)
        self.encoder = Encoder(cfg)

    def extract(self, audio: torch.Tensor) -> torch.Tensor:
        """normalised audio [1, N] -> CNN features, time-major [1, L, C]."""
        return self.feature_extractor(audio).transpose(1, 2)

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        """CNN features [1, T, C] -> last_hidden_state [1, T, H]."""
        return self.encoder(self.feature_projection(features))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.encode(self.extract(audio))


def run_front_end(
    wav2vec: Wav2Vec2,
    audio,
    *,
    input_norm_eps: float,
    mode: str,
    fps: float = 30,
    frames_offset: int = 0,
) -> tuple[dict, torch.Tensor]:
    """Audio front end shared by the three families, up to the wav2vec2 output.

    mode: "interpolate" (CNN features linearly resampled to T = int((L/50)*fps) + frames_offset
    with align_corners=True, before the projection), "pairs" (BIWI: drop the last CNN frame when L
    is odd), "none" (Mimic conv mode: the encoder runs at 50 Hz).
    Returns (stages, last_hidden_state [1, Ta, H]); stages holds numpy float32 arrays
    `audio_normalized` [N], `cnn` [L, C], `aligned` [Ta, C], `encoder` [Ta, H].
    """
    from .common import interpolate_features, interpolated_frames, normalize_audio, to_numpy

    x = normalize_audio(audio, input_norm_eps)
    cnn = wav2vec.extract(torch.from_numpy(x).unsqueeze(0))
    L = cnn.shape[1]
    if mode == "interpolate":
        aligned = interpolate_features(cnn, interpolated_frames(L, fps, frames_offset))
    elif mode == "pairs":
        aligned = cnn[:, : L - (L % 2)] if L % 2 else cnn
    elif mode == "none":
        aligned = cnn
    else:
        raise ValueError(f"unknown alignment mode {mode!r}")
    enc = wav2vec.encode(aligned)
    stages = {
        "audio_normalized": x,
        "cnn": to_numpy(cnn[0]),
        "aligned": to_numpy(aligned[0]),
        "encoder": to_numpy(enc[0]),
    }
    return stages, enc
