"""Mimic inference (huifu99/Mimic `DisNetAutoregCycle.predict` with `DecoderAutoregSALN`),
re-implemented from its description (docs/reference-notes.md, "Mimic"). State-dict keys equal the original's
for the parts used at audio inference: `audio_encoder.audio_encoder.*`, `audio_encoder.down_sample.*`,
`audio_encoder.audio_feature_map.*`, `style_encoder.*`, `decoder.*`. (Content encoder, classifier
heads, `logit_scale` and the dead `decoder.transformer_decoder.{encoder,decoder}.*` weights are
added by the checkpoint writer.)

The SALN decoder layer is built here (post-LN, ReLU, WITH biases — the released checkpoint was
trained with torch 1.13 where the layer had biases). Style encoder reproduces the PE quirk (pe[0]
added to every frame for B=1). Beyond `max_seq_len` the banded mask applies.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import alignment_mask, biased_self_mask, sinusoid_table, to_numpy
from .faceformer import PeriodicPE
from .wav2vec2 import Wav2Vec2, Wav2Vec2Config, run_front_end


# ----------------------------------------------------------------------------------------------
# Audio encoder wrapper
# ----------------------------------------------------------------------------------------------
class MimicAudioEncoder(nn.Module):
    def __init__(self, wav2vec: Wav2Vec2Config, d_model: int, align: str):
        super().__init__()
        self.align = align
        self.audio_encoder = Wav2Vec2(wav2vec)
        H = wav2vec.hidden_size
        if align == "conv":
            self.down_sample = nn.Conv1d(H, H, kernel_size=15, stride=2, padding=7)
        elif align != "interpolation":
            raise ValueError(align)
        self.audio_feature_map = nn.Linear(H, d_model)


# ----------------------------------------------------------------------------------------------
# Style encoder
# ----------------------------------------------------------------------------------------------
class ConvLN(nn.Module):
    """Conv1d(k3, p1, no bias) -> LayerNorm over channels -> ReLU."""

    def __init__(self, d: int):
        super().__init__()
        self.conv = nn.Conv1d(d, d, kernel_size=3, stride=1, padding=1, bias=False)
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, L]
        y = self.conv(x)
        y = self.layer_norm(y.transpose(1, 2)).transpose(1, 2)
        return F.relu(y)


class Projection(nn.Module):
    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.layer_norm = nn.LayerNorm(d_in)
        self.projection = nn.Linear(d_in, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.layer_norm(x))


class SinusoidPE(nn.Module):
    """`PE.pe` buffer [max_len, 1, d]; for batch-first B=1 input the original adds pe[0] to every
    frame."""

    def __init__(self, d: int, max_len: int = 5000):
        super().__init__()
        self.register_buffer("pe", sinusoid_table(max_len, d).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[: x.size(0)]  # [B, 1, d] broadcast over time (the quirk)


class StyleEncoder(nn.Module):
    def __init__(
        self,
        vertex_dim: int,
        d_model: int,
        hidden: int | None = None,
        conv_layers: int = 5,
        num_layers: int = 4,
        num_heads: int = 4,
        ffn_dim: int = 256,
        pooling: str = "mean",
    ):
        super().__init__()
        hidden = hidden or d_model
        self.pooling = pooling
        self.motion_map = nn.Linear(vertex_dim, d_model)
        self.conv_layers = nn.ModuleList([ConvLN(d_model) for _ in range(conv_layers)])
        self.feature_projection = Projection(d_model, hidden)
        self.PE = SinusoidPE(hidden)
        layer = nn.TransformerEncoderLayer(
            d_model=hidden, nhead=num_heads, dim_feedforward=ffn_dim, batch_first=True
        )
        self.transformer_encoder = nn.TransformerEncoder(
            layer, num_layers=num_layers, enable_nested_tensor=False
        )
        self.feature_map = nn.Linear(hidden, d_model)

    def forward(self, motion: torch.Tensor) -> torch.Tensor:  # [B, Ls, 3V] -> [B, d]
        h = self.motion_map(motion).transpose(1, 2)
        for conv in self.conv_layers:
            h = conv(h)
        h = self.feature_projection(h.transpose(1, 2))
        h = self.PE(h)
        h = self.transformer_encoder(h)
        h = self.feature_map(h)
        if self.pooling == "mean":
            return h.mean(dim=-2)
        return h.max(dim=-2)[0]


# ----------------------------------------------------------------------------------------------
# SALN decoder
# ----------------------------------------------------------------------------------------------
class StyleAffine(nn.Module):
    def __init__(self, style_dim: int, out_dim: int):
        super().__init__()
        self.affine = nn.Linear(style_dim, out_dim)


class SALN(nn.Module):
    """[gamma; beta] = W s + b; out = gamma * LayerNorm_noaffine(x) + beta."""

    def __init__(self, d: int, style_dim: int, eps: float = 1e-5):
        super().__init__()
        self.d = d
        self.norm = nn.LayerNorm(d, eps=eps, elementwise_affine=False)
        self.style = StyleAffine(style_dim, 2 * d)
        with torch.no_grad():
            self.style.affine.bias[:d] = 1.0
            self.style.affine.bias[d:] = 0.0

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        gb = self.style.affine(s).unsqueeze(1)  # [B, 1, 2d]
        gamma, beta = gb.chunk(2, dim=-1)
        return gamma * self.norm(x) + beta


class SALNDecoderLayer(nn.Module):
    """Post-LN decoder layer with the three norms replaced by SALN; parameter names as
    nn.TransformerDecoderLayer's (self_attn, multihead_attn, linear1, linear2, norm{1,2,3})."""

    def __init__(self, d: int, nhead: int, ffn_dim: int, style_dim: int):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, nhead, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(d, nhead, batch_first=True)
        self.linear1 = nn.Linear(d, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, d)
        self.norm1 = SALN(d, style_dim)
        self.norm2 = SALN(d, style_dim)
        self.norm3 = SALN(d, style_dim)

    def forward(self, x, memory, s, tgt_mask, memory_mask):
        x = self.norm1(x + self.self_attn(x, x, x, attn_mask=tgt_mask, need_weights=False)[0], s)
        x = self.norm2(
            x + self.multihead_attn(x, memory, memory, attn_mask=memory_mask, need_weights=False)[0], s
        )
        x = self.norm3(x + self.linear2(F.relu(self.linear1(x))), s)
        return x


class SALNDecoderStack(nn.Module):
    def __init__(self, d: int, nhead: int, ffn_dim: int, num_layers: int, style_dim: int):
        super().__init__()
        self.layers = nn.ModuleList(
            [SALNDecoderLayer(d, nhead, ffn_dim, style_dim) for _ in range(num_layers)]
        )

    def forward(self, x, memory, s, tgt_mask, memory_mask):
        for layer in self.layers:
            x = layer(x, memory, s, tgt_mask, memory_mask)
        return x


class MimicDecoder(nn.Module):
    def __init__(self, vertex_dim: int, d: int, nhead: int, ffn_dim: int, num_layers: int, period: int):
        super().__init__()
        self.PPE = PeriodicPE(d, period)
        self.transformer_decoder = SALNDecoderStack(d, nhead, ffn_dim, num_layers, d)
        self.motion_map = nn.Linear(vertex_dim, d)
        self.motion_map_r = nn.Linear(d, vertex_dim)


# ----------------------------------------------------------------------------------------------
class Mimic(nn.Module):
    def __init__(
        self,
        wav2vec: Wav2Vec2Config | None = None,
        *,
        d_model: int = 128,
        num_heads: int = 4,
        ffn_dim: int = 256,
        num_layers: int = 1,
        vertex_dim: int = 15069,
        align: str = "conv",  # "conv" | "interpolation"
        fps: float = 25,
        period: int = 30,
        style_conv_layers: int = 5,
        style_layers: int = 4,
        style_heads: int = 4,
        style_ffn_dim: int = 256,
        max_seq_len: int = 600,
        input_norm_eps: float = 1e-5,
    ):
        super().__init__()
        wav2vec = wav2vec or Wav2Vec2Config()
        self.d_model = d_model
        self.num_heads = num_heads
        self.vertex_dim = vertex_dim
        self.align = align
        self.fps = fps
        self.period = period
        self.max_seq_len = max_seq_len
        self.input_norm_eps = input_norm_eps
        self.style_encoder = StyleEncoder(
            vertex_dim, d_model, d_model, style_conv_layers, style_layers, style_heads, style_ffn_dim
        )
        self.audio_encoder = MimicAudioEncoder(wav2vec, d_model, align)
        self.decoder = MimicDecoder(vertex_dim, d_model, num_heads, ffn_dim, num_layers, period)

    def audio_stages(self, audio) -> tuple[dict, torch.Tensor]:
        ae = self.audio_encoder
        if self.align == "conv":
            stages, enc = run_front_end(ae.audio_encoder, audio, input_norm_eps=self.input_norm_eps, mode="none")
            h = ae.down_sample(enc.transpose(1, 2)).transpose(1, 2)
        else:
            stages, enc = run_front_end(
                ae.audio_encoder,
                audio,
                input_norm_eps=self.input_norm_eps,
                mode="interpolate",
                fps=self.fps,
                frames_offset=1,
            )
            h = enc
        feats = ae.audio_feature_map(h)
        stages["audio_features"] = to_numpy(feats[0])
        return stages, feats

    @torch.no_grad()
    def style_code(self, style_offsets) -> torch.Tensor:
        self.eval()
        m = torch.as_tensor(np.asarray(style_offsets, dtype=np.float32)).view(1, -1, self.vertex_dim)
        return self.style_encoder(m)  # [1, d]

    @torch.no_grad()
    def predict(self, audio, style_offsets, init_state, template) -> dict:
        """style_offsets: [Ls, 3V] (reference vertices - template); init_state: [3V] (offset);
        template: [3V]."""
        self.eval()
        s = self.style_code(style_offsets)
        stages, A = self.audio_stages(audio)
        T = A.shape[1]
        init = torch.as_tensor(np.asarray(init_state, dtype=np.float32)).view(1, -1)
        tmpl = torch.as_tensor(np.asarray(template, dtype=np.float32)).view(1, 1, -1)
        dec = self.decoder

        pe = dec.PPE.table(T)
        self_mask = biased_self_mask(self.num_heads, T, self.period, window=self.max_seq_len)
        cross_mask = alignment_mask(T, T, "diagonal")

        tokens = dec.motion_map(init).unsqueeze(1)  # E[0] = motion_map(init_state)
        H = Y = None
        for t in range(T):
            n = t + 1
            x = tokens + pe[:n].unsqueeze(0)
            H = dec.transformer_decoder(x, A, s, self_mask[:, :n, :n], cross_mask[:n])
            Y = dec.motion_map_r(H)
            tokens = torch.cat([tokens, dec.motion_map(Y[:, -1]).unsqueeze(1)], dim=1)

        stages["style_code"] = to_numpy(s[0])
        stages["decoder"] = to_numpy(H[0])
        stages["offsets"] = to_numpy(Y[0])
        stages["vertices"] = to_numpy((Y + tmpl)[0])
        return stages
