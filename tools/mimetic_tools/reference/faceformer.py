"""FaceFormer inference (EvelynFan/FaceFormer `predict`), re-implemented from the spec
(docs/reference-notes.md, "FaceFormer"). State-dict keys equal the original's (no prefix).

The decoding loop is the original's, literally: at step t the decoder re-runs over the whole
prefix E[0..t] (+ periodic PE), the output head runs on every position, and the next token is
vertice_map(ŷ_t) + style. Beyond `max_seq_len` tokens Mimetic's rule applies: query t only sees keys
t - max_seq_len + 1 .. t (a banded mask; identical to the original mask while T <= max_seq_len).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .common import alignment_mask, biased_self_mask, periodic_table, ppe_buffer, to_numpy
from .wav2vec2 import Wav2Vec2, Wav2Vec2Config, run_front_end


class PeriodicPE(nn.Module):
    """Holds the `pe` buffer exactly as the original stores it ([1, p*(600//p+1), d]); lookups
    use t mod period so any length works."""

    def __init__(self, d_model: int, period: int, table_len: int = 600):
        super().__init__()
        self.period = period
        self.d_model = d_model
        self.register_buffer("pe", ppe_buffer(period, d_model, table_len))

    def table(self, length: int) -> torch.Tensor:
        return periodic_table(self.period, self.d_model, length)


class FaceFormer(nn.Module):
    def __init__(
        self,
        wav2vec: Wav2Vec2Config | None = None,
        *,
        d_model: int = 64,
        num_heads: int = 4,
        ffn_dim: int | None = None,
        vertex_dim: int = 15069,
        n_styles: int = 8,
        period: int = 30,
        dataset: str = "vocaset",  # "vocaset" (interpolate) | "BIWI" (pairs)
        fps: float = 30,
        max_seq_len: int = 600,
        input_norm_eps: float = 1e-5,
    ):
        super().__init__()
        wav2vec = wav2vec or Wav2Vec2Config()
        self.d_model = d_model
        self.num_heads = num_heads
        self.vertex_dim = vertex_dim
        self.n_styles = n_styles
        self.period = period
        self.dataset = dataset
        self.fps = fps
        self.max_seq_len = max_seq_len
        self.input_norm_eps = input_norm_eps

        self.audio_encoder = Wav2Vec2(wav2vec)
        self.audio_feature_map = nn.Linear(wav2vec.hidden_size, d_model)
        self.vertice_map = nn.Linear(vertex_dim, d_model)
        self.PPE = PeriodicPE(d_model, period)
        layer = nn.TransformerDecoderLayer(
            d_model=d_model,
            nhead=num_heads,
            dim_feedforward=ffn_dim or 2 * d_model,
            batch_first=True,
        )
        self.transformer_decoder = nn.TransformerDecoder(layer, num_layers=1)
        self.vertice_map_r = nn.Linear(d_model, vertex_dim)
        self.obj_vector = nn.Linear(n_styles, d_model, bias=False)

    # ------------------------------------------------------------------------------------------
    def audio_stages(self, audio) -> tuple[dict, torch.Tensor]:
        mode = "pairs" if self.dataset == "BIWI" else "interpolate"
        stages, enc = run_front_end(
            self.audio_encoder, audio, input_norm_eps=self.input_norm_eps, mode=mode, fps=self.fps
        )
        feats = self.audio_feature_map(enc)
        stages["audio_features"] = to_numpy(feats[0])
        return stages, feats

    @torch.no_grad()
    def predict(self, audio, one_hot, template) -> dict:
        """audio: raw 16 kHz waveform [N]; one_hot: [n_styles]; template: [3V] (or [V, 3]).
        Returns numpy float32 stages (see package docs)."""
        self.eval()
        stages, A = self.audio_stages(audio)
        S = A.shape[1]
        T = S // 2 if self.dataset == "BIWI" else S
        one_hot_t = torch.as_tensor(np.asarray(one_hot, dtype=np.float32)).view(1, -1)
        tmpl = torch.as_tensor(np.asarray(template, dtype=np.float32)).view(1, 1, -1)

        style = self.obj_vector(one_hot_t)  # [1, d]
        pe = self.PPE.table(T)
        self_mask = biased_self_mask(self.num_heads, T, self.period, window=self.max_seq_len)
        cross_mask = alignment_mask(T, S, "pairs" if self.dataset == "BIWI" else "diagonal")

        tokens = style.unsqueeze(1)  # E[0] = style
        H = Y = None
        for t in range(T):
            n = t + 1
            x = tokens + pe[:n].unsqueeze(0)
            H = self.transformer_decoder(
                x, A, tgt_mask=self_mask[:, :n, :n], memory_mask=cross_mask[:n]
            )
            Y = self.vertice_map_r(H)
            nxt = self.vertice_map(Y[:, -1]) + style
            tokens = torch.cat([tokens, nxt.unsqueeze(1)], dim=1)

        stages["decoder"] = to_numpy(H[0])
        stages["offsets"] = to_numpy(Y[0])
        stages["vertices"] = to_numpy((Y + tmpl)[0])
        return stages
