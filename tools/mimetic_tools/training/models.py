"""Trainable FaceFormer / Imitator / Mimic models.

The parameters live in the reference modules (`mimetic_tools.reference`, the originals' parameter
names), so `TrainModel.net.state_dict()` is an original-layout state dict that the converter reads
(`convert.infer_config` / `convert_state_dict`). Mimic's training-only parts (content encoder, the two
classifier heads, `logit_scale`) are attached to the same module under their original names; the
converter skips them.

The forward passes here are batched and differentiable, and decode incrementally (a key/value cache
over the decoder's own tokens), which is exactly the originals' recompute-the-prefix loop: self
attention is causal, the positional terms depend only on the position and the cross-attention mask is
diagonal, so an output never changes once computed (docs/reference-notes.md, "FaceFormer", inference).
The cross-attention with a diagonal mask is computed as what it is: W_o (W_v a_t + b_v) + b_o.

Decoding modes (`mode`):
  * ``ar``: autoregressive, the model's own predictions fed back, as the originals train
    (FaceFormer `teacher_forcing=False`, Imitator always, Mimic always);
  * ``teacher``: one parallel pass. FaceFormer / Mimic feed the ground-truth motion of the previous
    frame (token 0 as at inference: the style for FaceFormer, motion_map(init) for Mimic). Imitator
    feeds back its own viseme features, which have no ground truth: its "teacher" pass is a two-pass
    approximation (pass 1 without gradient on zero tokens, pass 2 on pass 1's features, shifted).
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..reference import FaceFormer, Imitator, Mimic
from ..reference.common import biased_self_mask, sinusoid_table
from ..reference.mimic import StyleEncoder
from .encoders import init_wav2vec2_, make_adapter

FAMILIES = ("faceformer", "imitator", "mimic")


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------
def wav2vec2_preset(name: str) -> dict:
    """Encoder sizes. `tiny`: CI smoke tests; `small` (default): a real run on 2 CPU cores;
    `base`: the original wav2vec 2.0 base layout (for a GPU)."""
    std = dict(conv_kernel=[10, 3, 3, 3, 3, 2, 2], conv_stride=[5, 2, 2, 2, 2, 2, 2], conv_bias=False,
               feat_extract_norm="group", layer_norm_eps=1e-5, stable_layer_norm=False)
    if name == "tiny":
        return dict(type="wav2vec2", conv_dim=[8] * 7, hidden_size=16, num_layers=1, num_heads=2,
                    intermediate_size=32, pos_conv_kernel=8, pos_conv_groups=2, **std)
    if name == "small":
        return dict(type="wav2vec2", conv_dim=[64] * 7, hidden_size=128, num_layers=3, num_heads=4,
                    intermediate_size=256, pos_conv_kernel=32, pos_conv_groups=8, **std)
    if name == "base":
        return dict(type="wav2vec2", conv_dim=[512] * 7, hidden_size=768, num_layers=12, num_heads=12,
                    intermediate_size=3072, pos_conv_kernel=128, pos_conv_groups=16, **std)
    raise ValueError(f"unknown encoder preset {name!r} (tiny | small | base)")


def realtime_preset(name: str, fps: int = 30) -> dict:
    """Real-time encoder sizes (mimetic_tools.realtime_encoder.RealtimeEncoderConfig fields; `base` is
    that module's default)."""
    if name == "tiny":
        return dict(type="realtime", fps=fps, n_mels=16, hidden_size=16, mel_kernel=[3], mel_dilation=[1],
                    mel_lookahead=[1], kernel=[3, 3], dilation=[1, 2], lookahead=[0, 0])
    if name == "small":
        return dict(type="realtime", fps=fps, hidden_size=128)
    if name == "base":
        return dict(type="realtime", fps=fps)
    raise ValueError(f"unknown encoder preset {name!r} (tiny | small | base)")


def decoder_preset(name: str) -> dict:
    if name == "tiny":
        return dict(d_model=16, num_heads=2, ffn_dim=32, num_layers=1, mlp_layers=2,
                    style_conv_layers=1, style_layers=1, style_heads=2, style_ffn_dim=32)
    if name == "small":
        return dict(d_model=64, num_heads=4, ffn_dim=128, num_layers=1, mlp_layers=4,
                    style_conv_layers=3, style_layers=2, style_heads=4, style_ffn_dim=128)
    if name == "base":  # the originals: FaceFormer/Imitator d 64, Mimic d 128
        return dict(d_model=64, num_heads=4, ffn_dim=128, num_layers=1, mlp_layers=4,
                    style_conv_layers=5, style_layers=4, style_heads=4, style_ffn_dim=256)
    raise ValueError(f"unknown decoder preset {name!r} (tiny | small | base)")


@dataclass
class ModelConfig:
    family: str
    num_vertices: int
    n_styles: int                      # training speakers (one-hot width / classifier classes)
    encoder: dict = field(default_factory=lambda: wav2vec2_preset("small"))
    d_model: int = 64
    num_heads: int = 4
    ffn_dim: int = 128
    num_layers: int = 1                # Mimic only (FaceFormer/Imitator have one decoder layer)
    mlp_layers: int = 4                # Imitator motion decoder
    style_conv_layers: int = 3         # Mimic style / content encoders
    style_layers: int = 2
    style_heads: int = 4
    style_ffn_dim: int = 128
    style_window: int = 150
    period: int = 30
    fps: int = 30
    max_seq_len: int = 600
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        return ModelConfig(**d)


# ----------------------------------------------------------------------------------------------
# Mimic training-only parts (original names: content_encoder.*, *_head.class_head.*, logit_scale)
# ----------------------------------------------------------------------------------------------
class ConvIN(nn.Module):
    """Conv1DIN: Conv1d(k3, p1, no bias) -> InstanceNorm1d over time (no affine) -> ReLU."""

    def __init__(self, d: int):
        super().__init__()
        self.conv = nn.Conv1d(d, d, kernel_size=3, stride=1, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, L]
        return F.relu(F.instance_norm(self.conv(x), eps=1e-5))


class ProjectionIN(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.projection = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, L, C]
        return self.projection(F.instance_norm(x.transpose(1, 2), eps=1e-5).transpose(1, 2))


class ContentEncoder(nn.Module):
    def __init__(self, vertex_dim: int, d: int, conv_layers: int, num_layers: int, num_heads: int, ffn_dim: int,
                 dropout: float):
        super().__init__()
        self.motion_map = nn.Linear(vertex_dim, d)
        self.conv_layers = nn.ModuleList([ConvIN(d) for _ in range(conv_layers)])
        self.feature_projection = ProjectionIN(d)
        self.register_buffer("pe0", sinusoid_table(1, d)[0], persistent=False)
        layer = nn.TransformerEncoderLayer(d_model=d, nhead=num_heads, dim_feedforward=ffn_dim, dropout=dropout,
                                           batch_first=True)
        self.transformer_encoder = nn.TransformerEncoder(layer, num_layers=num_layers, enable_nested_tensor=False)
        self.feature_map = nn.Linear(d, d)
        self.dropout = dropout

    def forward(self, motion: torch.Tensor) -> torch.Tensor:  # [B, L, 3V] -> [B, L, d]
        h = self.motion_map(motion).transpose(1, 2)
        for conv in self.conv_layers:
            h = conv(h)
        h = self.feature_projection(h.transpose(1, 2))
        h = F.dropout(h + self.pe0, self.dropout, self.training)
        return self.feature_map(self.transformer_encoder(h))


class ClassHead(nn.Module):
    def __init__(self, d: int, n: int):
        super().__init__()
        self.class_head = nn.Linear(d, n)

    def forward(self, x):
        return self.class_head(x)


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha: float):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.alpha * g, None


def grad_reverse(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    return _GradReverse.apply(x, alpha)


def style_encode(enc: StyleEncoder, motion: torch.Tensor, dropout: float, training: bool) -> torch.Tensor:
    """Mimic style encoder on a batch [B, L, 3V] -> [B, d]. The original adds pe[b] to batch slot b
    (its batch-first PE bug); at inference (B = 1) that is pe[0] for every frame, which is what the
    runtime implements, so training adds pe[0] to every sample."""
    h = enc.motion_map(motion).transpose(1, 2)
    for conv in enc.conv_layers:
        h = conv(h)
    h = enc.feature_projection(h.transpose(1, 2))
    h = F.dropout(h + enc.PE.pe[0], dropout, training)
    h = enc.feature_map(enc.transformer_encoder(h))
    return h.mean(dim=-2)


# ----------------------------------------------------------------------------------------------
# The decoder layer, functionally (parallel over a sequence, or one step with a KV cache)
# ----------------------------------------------------------------------------------------------
def cross_term(attn: nn.MultiheadAttention, memory: torch.Tensor) -> torch.Tensor:
    """Cross-attention under the diagonal alignment mask: exactly W_o (W_v a_t + b_v) + b_o."""
    d = attn.embed_dim
    v = F.linear(memory, attn.in_proj_weight[2 * d:], attn.in_proj_bias[2 * d:])
    return attn.out_proj(v)


class _Decoder:
    """Runs the family's decoder layers (nn.TransformerDecoderLayer or Mimic's SALN layer) with the
    post-LN order x = N1(x + SA); x = N2(x + CA); x = N3(x + FFN). Dropout where torch puts it."""

    def __init__(self, layers, num_heads: int, saln: bool, dropout: float, training: bool):
        self.layers = list(layers)
        self.H = num_heads
        self.saln = saln
        self.p = dropout if training else 0.0
        self.training = training

    def _norm(self, norm, x, s):
        return norm(x, s) if self.saln else norm(x)

    def _drop(self, x):
        return F.dropout(x, self.p, True) if self.p > 0 else x

    def _attend(self, attn, q, k, v, bias):
        B, Tq, d = q.shape
        hd = d // self.H
        q = q.view(B, Tq, self.H, hd).transpose(1, 2) * (hd ** -0.5)
        k = k.view(B, -1, self.H, hd).transpose(1, 2)
        v = v.view(B, -1, self.H, hd).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        if self.p > 0:
            w = F.dropout(w, self.p, True)
        out = (w @ v).transpose(1, 2).reshape(B, Tq, d)
        return attn.out_proj(out)

    def _rest(self, layer, x, sa, ca, s):
        x = self._norm(layer.norm1, x + self._drop(sa), s)
        x = self._norm(layer.norm2, x + self._drop(ca), s)
        ff = layer.linear2(self._drop(F.relu(layer.linear1(x))))
        return self._norm(layer.norm3, x + self._drop(ff), s)

    def parallel(self, x, cross: List[torch.Tensor], bias: torch.Tensor, s=None):
        """x [B, T, d]; cross[l] [B, T, d]; bias [H, T, T]."""
        for layer, ca in zip(self.layers, cross):
            a = layer.self_attn
            q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
            sa = self._attend(a, q, k, v, bias)
            x = self._rest(layer, x, sa, ca, s)
        return x

    def step(self, x, t: int, cross_t: List[torch.Tensor], bias_row: torch.Tensor, cache: list, s=None):
        """x [B, 1, d] at position t; cross_t[l] [B, 1, d]; bias_row [H, 1, t + 1]; cache[l] = (K, V)."""
        for li, (layer, ca) in enumerate(zip(self.layers, cross_t)):
            a = layer.self_attn
            q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
            if cache[li] is None:
                K, Vv = k, v
            else:
                K = torch.cat([cache[li][0], k], dim=1)
                Vv = torch.cat([cache[li][1], v], dim=1)
            cache[li] = (K, Vv)
            sa = self._attend(a, q, K, Vv, bias_row)
            x = self._rest(layer, x, sa, ca, s)
        return x


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------
class TrainModel(nn.Module):
    def __init__(self, cfg: ModelConfig, seed: int = 0):
        super().__init__()
        if cfg.family not in FAMILIES:
            raise ValueError(f"unknown family {cfg.family!r}")
        self.cfg = cfg
        self.adapter = make_adapter(cfg.encoder)
        torch.manual_seed(seed)
        V3 = 3 * cfg.num_vertices
        w2v_cfg = self.adapter.w2v_config if cfg.encoder.get("type", "wav2vec2") == "wav2vec2" else None
        eps = float(cfg.encoder.get("input_norm_eps", 1e-7 if cfg.family == "imitator" else 1e-5))
        if w2v_cfg is None:  # a placeholder, replaced by the real-time encoder below
            from ..reference.wav2vec2 import Wav2Vec2Config

            w2v_cfg_build = Wav2Vec2Config(conv_dim=[8], conv_kernel=[10], conv_stride=[5], hidden_size=8,
                                           num_layers=0, num_heads=1, intermediate_size=8, pos_conv_kernel=2,
                                           pos_conv_groups=1)
        else:
            w2v_cfg_build = w2v_cfg
        common = dict(d_model=cfg.d_model, num_heads=cfg.num_heads, ffn_dim=cfg.ffn_dim, vertex_dim=V3,
                      fps=cfg.fps, max_seq_len=cfg.max_seq_len, input_norm_eps=eps)
        if cfg.family == "faceformer":
            net = FaceFormer(w2v_cfg_build, n_styles=cfg.n_styles, period=cfg.period, dataset="vocaset", **common)
        elif cfg.family == "imitator":
            net = Imitator(w2v_cfg_build, n_styles=cfg.n_styles, mlp_layers=cfg.mlp_layers, start_token="zeros", **common)
        else:
            net = Mimic(w2v_cfg_build, num_layers=cfg.num_layers, align="interpolation", period=cfg.period,
                        style_conv_layers=cfg.style_conv_layers, style_layers=cfg.style_layers,
                        style_heads=cfg.style_heads, style_ffn_dim=cfg.style_ffn_dim, **common)
        self.net = net
        if w2v_cfg is None:  # realtime encoder replaces wav2vec2 at the original attribute
            enc = self.adapter.build()
            if cfg.family == "mimic":
                net.audio_encoder.audio_encoder = enc
                net.audio_encoder.audio_feature_map = nn.Linear(self.adapter.hidden_size, cfg.d_model)
            else:
                net.audio_encoder = enc
                net.audio_feature_map = nn.Linear(self.adapter.hidden_size, cfg.d_model)
        if cfg.family == "mimic":
            net.content_encoder = ContentEncoder(V3, cfg.d_model, cfg.style_conv_layers, cfg.style_layers,
                                                 cfg.style_heads, cfg.style_ffn_dim, cfg.dropout)
            net.style_class_head = ClassHead(cfg.d_model, max(cfg.n_styles, 1))
            net.content_grl_head = ClassHead(cfg.d_model, max(cfg.n_styles, 1))
            net.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self._init_weights(seed)
        self._set_dropout(cfg.dropout)

    # -- construction helpers ------------------------------------------------------------------
    def _init_weights(self, seed: int) -> None:
        cfg = self.cfg
        if cfg.encoder.get("type", "wav2vec2") == "wav2vec2":
            init_wav2vec2_(self.audio_module, seed)
        with torch.no_grad():
            n = self.net
            # the originals zero their motion output layers (FaceFormer vertice_map_r, Imitator
            # final_out_layer, Mimic motion_map_r), so training starts from the template
            if cfg.family == "faceformer":
                out = n.vertice_map_r
                nn.init.normal_(n.obj_vector.weight, 0.0, 1.0)
            elif cfg.family == "imitator":
                out = n.vertice_map_r.decoder.final_out_layer
                for i in range(cfg.mlp_layers):
                    lin = n.vertice_map_r.decoder[2 * i]
                    nn.init.xavier_uniform_(lin.weight)
                    lin.bias.zero_()
                nn.init.normal_(n.obj_vector.weight, 0.0, 1.0)
            else:
                out = n.decoder.motion_map_r
            out.weight.zero_()
            out.bias.zero_()

    def _set_dropout(self, p: float) -> None:
        for m in self.modules():
            if isinstance(m, nn.Dropout):
                m.p = p
            if isinstance(m, nn.MultiheadAttention):
                m.dropout = p

    # -- accessors -----------------------------------------------------------------------------
    @property
    def family(self) -> str:
        return self.cfg.family

    @property
    def audio_module(self) -> nn.Module:
        return self.net.audio_encoder.audio_encoder if self.family == "mimic" else self.net.audio_encoder

    @property
    def audio_map(self) -> nn.Linear:
        return self.net.audio_encoder.audio_feature_map if self.family == "mimic" else self.net.audio_feature_map

    def decoder_layers(self):
        if self.family == "mimic":
            return self.net.decoder.transformer_decoder.layers
        return self.net.transformer_decoder.layers

    def original_state_dict(self) -> Dict[str, torch.Tensor]:
        """The original checkpoint layout (FaceFormer `.pth` / Imitator `nn_model.*` without prefix /
        Mimic `model`), buffers included."""
        return {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}

    # -- pieces ----------------------------------------------------------------------------------
    def audio_features(self, audio: torch.Tensor, T: int) -> torch.Tensor:
        """[B, N] -> [B, T, d] (memory of the decoder)."""
        h = self.adapter.run(self.audio_module, audio, T)
        return self.audio_map(h)

    def style_vector(self, style: torch.Tensor) -> torch.Tensor:
        """FaceFormer/Imitator: one-hot (or blend weights) [B, n] or indices [B] -> [B, d]."""
        if style.dtype in (torch.long, torch.int32, torch.int64):
            style = F.one_hot(style.long(), self.cfg.n_styles).float()
        return self.net.obj_vector(style)

    def style_code(self, motion: torch.Tensor) -> torch.Tensor:
        return style_encode(self.net.style_encoder, motion, self.cfg.dropout, self.training)

    def content_code(self, motion: torch.Tensor) -> torch.Tensor:
        return self.net.content_encoder(motion)

    def _runner(self) -> _Decoder:
        return _Decoder(self.decoder_layers(), self.cfg.num_heads, self.family == "mimic", self.cfg.dropout,
                        self.training)

    def _bias(self, T: int, window: Optional[int] = None) -> torch.Tensor:
        period = None if self.family == "imitator" else self.cfg.period
        return biased_self_mask(self.cfg.num_heads, T, period, window)

    def _pos(self, T: int) -> torch.Tensor:
        """[T, d] positional term added to the decoder tokens."""
        if self.family == "imitator":  # the batch-first PE quirk: pe[0] on every token
            return self.net.PPE.vector().unsqueeze(0).expand(T, -1)
        ppe = self.net.PPE if self.family == "faceformer" else self.net.decoder.PPE
        return ppe.table(T)

    def _drop(self, x):
        return F.dropout(x, self.cfg.dropout, self.training) if self.cfg.dropout > 0 else x

    # -- decoding --------------------------------------------------------------------------------
    def decode(self, memory: torch.Tensor, *, style: Optional[torch.Tensor] = None, init: Optional[torch.Tensor] = None,
               mode: str = "ar", target: Optional[torch.Tensor] = None, window: Optional[int] = None):
        """memory [B, T, d] -> (offsets [B, T, 3V], features [B, T, d]).

        style: FaceFormer/Imitator style vector [B, d] (from `style_vector`); Mimic style code [B, d].
        init: Mimic init state [B, 3V] (offsets of the frame before; zeros at the start).
        target: ground-truth offsets [B, T, 3V] for teacher forcing (FaceFormer / Mimic).
        """
        fam = self.family
        B, T, d = memory.shape
        runner = self._runner()
        layers = self.decoder_layers()
        cross = [cross_term(l.multihead_attn, memory) for l in layers]
        bias = self._bias(T, window).to(memory.device)
        pos = self._pos(T).to(memory.device, memory.dtype)
        saln = style if fam == "mimic" else None
        if fam == "faceformer":
            out_head, in_head = self.net.vertice_map_r, self.net.vertice_map
        elif fam == "mimic":
            out_head, in_head = self.net.decoder.motion_map_r, self.net.decoder.motion_map
        if mode == "teacher" and fam != "imitator":
            if target is None:
                raise ValueError("teacher forcing needs the target")
            if fam == "faceformer":
                first = style.unsqueeze(1)
                rest = in_head(target[:, :-1]) + style.unsqueeze(1)
            else:
                first = in_head(init).unsqueeze(1)
                rest = in_head(target[:, :-1])
            tokens = torch.cat([first, rest], dim=1)
            h = runner.parallel(self._drop(tokens + pos), cross, bias, saln)
            return out_head(h), h
        if mode == "teacher":  # Imitator: two-pass approximation
            with torch.no_grad():
                h0 = runner.parallel(self._drop(memory.new_zeros(B, T, d) + pos), cross, bias, None)
            tokens = torch.cat([memory.new_zeros(B, 1, d), h0[:, :-1]], dim=1)
            h = runner.parallel(self._drop(tokens + pos), cross, bias, None)
            return self.net.vertice_map_r(h, style.unsqueeze(1)), h
        if mode != "ar":
            raise ValueError(f"unknown decoding mode {mode!r}")
        # autoregressive, incremental
        cache: list = [None] * len(layers)
        if fam == "faceformer":
            tok = style.unsqueeze(1)
        elif fam == "imitator":
            tok = memory.new_zeros(B, 1, d)
        else:
            tok = in_head(init if init is not None else memory.new_zeros(B, 3 * self.cfg.num_vertices)).unsqueeze(1)
        hs, ys = [], []
        for t in range(T):
            x = self._drop(tok + pos[t])
            h = runner.step(x, t, [c[:, t:t + 1] for c in cross], bias[:, t:t + 1, :t + 1]
                            if window is None or t < window else bias[:, t:t + 1, t + 1 - window:t + 1], cache, saln)
            if window is not None and t + 1 >= window:  # sliding window: keep the last window - 1 keys
                cache = [(k[:, -(window - 1):], v[:, -(window - 1):]) if window > 1 else None for k, v in cache]
            hs.append(h)
            if fam == "imitator":
                tok = h
            else:
                y = out_head(h)
                ys.append(y)
                tok = in_head(y) + (style.unsqueeze(1) if fam == "faceformer" else 0)
        H = torch.cat(hs, dim=1)
        if fam == "imitator":
            return self.net.vertice_map_r(H, style.unsqueeze(1)), H
        return torch.cat(ys, dim=1), H

    # -- inference (eval mode, no gradient) --------------------------------------------------------
    @torch.no_grad()
    def predict(self, audio, *, style=None, style_offsets=None, init=None) -> torch.Tensor:
        """Whole-utterance inference as the runtime does it: frame count from the audio
        (int(L / 50 * fps) + offset), sliding window beyond max_seq_len. Returns offsets [T, 3V] in the
        model's units. style: FaceFormer/Imitator one-hot / blend weights [n] or an index;
        style_offsets: Mimic reference motion [Ls, 3V] (its last style_window frames are used)."""
        was = self.training
        self.eval()
        dev = self.net.audio_encoder.audio_feature_map.weight.device if self.family == "mimic" else \
            self.net.audio_feature_map.weight.device
        try:
            a = torch.as_tensor(audio, dtype=torch.float32).view(1, -1).to(dev)
            T = self.inference_frames(a.shape[1])
            mem = self.audio_features(a, T)
            if self.family == "mimic":
                ref = torch.as_tensor(style_offsets, dtype=torch.float32).view(1, -1, 3 * self.cfg.num_vertices).to(dev)
                ref = ref[:, -self.cfg.style_window:]
                s = self.style_code(ref)
                ini = torch.zeros(1, 3 * self.cfg.num_vertices, device=dev) if init is None else \
                    torch.as_tensor(init, dtype=torch.float32).view(1, -1).to(dev)
                y, _ = self.decode(mem, style=s, init=ini, mode="ar", window=self.cfg.max_seq_len)
                return y[0].cpu()
            else:
                st = torch.as_tensor(style if style is not None else 0)
                if st.dim() == 0:
                    st = F.one_hot(st.long(), self.cfg.n_styles).float()
                s = self.style_vector(st.float().view(1, -1).to(dev))
                y, _ = self.decode(mem, style=s, mode="ar", window=self.cfg.max_seq_len)
            return y[0].cpu()
        finally:
            self.train(was)

    def inference_frames(self, num_samples: int) -> int:
        if self.cfg.encoder.get("type", "wav2vec2") != "wav2vec2":
            return self.adapter.num_frames(self.audio_module, num_samples, self.cfg.fps)
        L = int(num_samples)
        for k, s in zip(self.adapter.w2v_config.conv_kernel, self.adapter.w2v_config.conv_stride):
            L = (L - k) // s + 1
        return int((L / 50.0) * self.cfg.fps) + (1 if self.family == "mimic" else 0)


def build_model(cfg: ModelConfig, seed: int = 0) -> TrainModel:
    return TrainModel(cfg, seed)
