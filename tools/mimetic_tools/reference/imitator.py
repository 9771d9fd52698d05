"""Imitator inference (bala1144/Imitator `imitator.predict`), re-implemented from the spec
(docs/reference-notes.md, "Imitator"). The module's own state-dict keys equal the
original `nn_model`'s (the Lightning writer adds the `nn_model.` prefix).

Two start-token variants:
* start_token="zeros" (HEAD, after the style-leak fix): token 0 is the zero vector at every step;
* start_token="style" (initial release cd06b05): step 0 decodes [0 + c]; from step 1 on, the token
  list is [s, v_0, v_1, ...] (token 0 = style embedding), so the final pass recomputes output 0
  with token s. For T == 1 the output is the step-0 feature.
Tokens get the constant vector c = pe[0] = [0, 1, 0, 1, ...] (the batch-first PE quirk), the
self-attention mask is plainly causal (no temporal bias), the fed-back token is the raw viseme
feature, and the motion decoder maps V + style through 4 x (Linear + LeakyReLU 0.01) + final Linear.
Beyond `max_seq_len`: banded causal mask (query t sees keys t - max_seq_len + 1 .. t).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .common import alignment_mask, biased_self_mask, sinusoid_table, to_numpy
from .wav2vec2 import Wav2Vec2, Wav2Vec2Config, run_front_end


class ConstantPE(nn.Module):
    """Holds the `pe` buffer as the original stores it ([max_len, 1, d]); the value actually added
    to every (batch-first, B=1) token is pe[0]."""

    def __init__(self, d_model: int, max_len: int = 600):
        super().__init__()
        self.register_buffer("pe", sinusoid_table(max_len, d_model).unsqueeze(1))

    def vector(self) -> torch.Tensor:
        return self.pe[0, 0]


class MotionDecoder(nn.Module):
    """`vertice_map_r`: decoder = Sequential(0 Linear, 1 LeakyReLU, ..., 2k Linear, 2k+1 LeakyReLU,
    final_out_layer Linear(d, 3V)), applied to viseme features + style."""

    def __init__(self, d_model: int, vertex_dim: int, mlp_layers: int = 4, leaky_slope: float = 0.01):
        super().__init__()
        self.decoder = nn.Sequential()
        for i in range(mlp_layers):
            self.decoder.add_module(str(2 * i), nn.Linear(d_model, d_model))
            self.decoder.add_module(str(2 * i + 1), nn.LeakyReLU(leaky_slope))
        self.decoder.add_module("final_out_layer", nn.Linear(d_model, vertex_dim))

    def forward(self, visemes: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decoder(visemes + style)


class Imitator(nn.Module):
    def __init__(
        self,
        wav2vec: Wav2Vec2Config | None = None,
        *,
        d_model: int = 64,
        num_heads: int = 4,
        ffn_dim: int | None = None,
        vertex_dim: int = 15069,
        n_styles: int = 8,
        mlp_layers: int = 4,
        leaky_slope: float = 0.01,
        start_token: str = "zeros",  # "zeros" (HEAD) | "style" (cd06b05)
        fps: float = 30,
        max_seq_len: int = 600,
        input_norm_eps: float = 1e-7,
    ):
        super().__init__()
        if start_token not in ("zeros", "style"):
            raise ValueError(start_token)
        wav2vec = wav2vec or Wav2Vec2Config()
        self.d_model = d_model
        self.num_heads = num_heads
        self.vertex_dim = vertex_dim
        self.n_styles = n_styles
        self.start_token = start_token
        self.fps = fps
        self.max_seq_len = max_seq_len
        self.input_norm_eps = input_norm_eps

        self.audio_encoder = Wav2Vec2(wav2vec)
        self.audio_feature_map = nn.Linear(wav2vec.hidden_size, d_model)
        self.PPE = ConstantPE(d_model, 600)
        layer = nn.TransformerDecoderLayer(
            d_model=d_model,
            nhead=num_heads,
            dim_feedforward=ffn_dim or 2 * d_model,
            batch_first=True,
        )
        self.transformer_decoder = nn.TransformerDecoder(layer, num_layers=1)
        self.obj_vector = nn.Linear(n_styles, d_model, bias=False)
        self.vertice_map_r = MotionDecoder(d_model, vertex_dim, mlp_layers, leaky_slope)

    def audio_stages(self, audio) -> tuple[dict, torch.Tensor]:
        stages, enc = run_front_end(
            self.audio_encoder, audio, input_norm_eps=self.input_norm_eps, mode="interpolate", fps=self.fps
        )
        feats = self.audio_feature_map(enc)
        stages["audio_features"] = to_numpy(feats[0])
        return stages, feats

    @torch.no_grad()
    def predict(self, audio, one_hot, template) -> dict:
        self.eval()
        stages, A = self.audio_stages(audio)
        T = A.shape[1]
        one_hot_t = torch.as_tensor(np.asarray(one_hot, dtype=np.float32)).view(1, -1)
        tmpl = torch.as_tensor(np.asarray(template, dtype=np.float32)).view(1, 1, -1)

        style = self.obj_vector(one_hot_t).unsqueeze(1)  # [1, 1, d]
        c = self.PPE.vector()
        self_mask = biased_self_mask(self.num_heads, T, None, window=self.max_seq_len)
        cross_mask = alignment_mask(T, T, "diagonal")

        tokens = torch.zeros_like(style)  # step 0 decodes the zero token in both variants
        V = None
        for t in range(T):
            n = t + 1
            x = tokens + c
            V = self.transformer_decoder(
                x, A, tgt_mask=self_mask[:, :n, :n], memory_mask=cross_mask[:n]
            )
            newest = V[:, -1:]
            if t == 0 and self.start_token == "style":
                tokens = torch.cat([style, newest], dim=1)  # [s, v_0]
            else:
                tokens = torch.cat([tokens, newest], dim=1)

        offsets = self.vertice_map_r(V, style)
        stages["decoder"] = to_numpy(V[0])
        stages["offsets"] = to_numpy(offsets[0])
        stages["vertices"] = to_numpy((offsets + tmpl)[0])
        return stages
