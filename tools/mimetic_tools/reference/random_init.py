"""Deterministic random re-initialisation of EVERY parameter (docs/reference-notes.md, pitfall 8: the originals zero-init
their output layers, which would make a parity fixture output the template alone).

* weights (Linear, Conv1d, attention in-projections): N(0, 1/fan_in), so activations stay O(1)
  (the wav2vec2 CNN's conv+GELU stack: N(0, 2/fan_in));
* weight-normed conv: v ~ N(0, 1), g per tap = sqrt(C_out / K) * (1 + 0.1 N) (effective weight
  std ~ 1/sqrt(fan_in));
* LayerNorm / GroupNorm weights 1 + 0.2 N, biases (all) 0.1 N;
* style embeddings (`obj_vector`, one-hot input): N(0, 1);
* SALN `style.affine`: weight N(0, 0.2^2 / d), bias [1 + 0.1 N ; 0.1 N] so gamma ~ 1 +- noise;
* other free parameters (`masked_spec_embed`, `logit_scale`): N(0, 1) / 2.6593 +- noise.
Buffers (positional tables) are left untouched.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def _normal(gen: torch.Generator, shape, std: float = 1.0, mean: float = 0.0) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32) * std + mean


@torch.no_grad()
def randomize_(model: nn.Module, seed: int = 0) -> nn.Module:
    gen = torch.Generator().manual_seed(int(seed))
    done: set[int] = set()

    def setp(p: torch.Tensor | None, value: torch.Tensor) -> None:
        if p is None:
            return
        p.copy_(value.view_as(p))
        done.add(id(p))

    # named_modules is deterministic (registration order)
    for name, m in model.named_modules():
        last = name.rsplit(".", 1)[-1]
        if last == "affine" and isinstance(m, nn.Linear):  # SALN style projection
            d_out, d_in = m.weight.shape
            half = d_out // 2
            setp(m.weight, _normal(gen, m.weight.shape, 0.2 / math.sqrt(d_in)))
            b = torch.cat([_normal(gen, [half], 0.1, 1.0), _normal(gen, [d_out - half], 0.1)])
            setp(m.bias, b)
        elif last == "obj_vector" and isinstance(m, nn.Linear):
            setp(m.weight, _normal(gen, m.weight.shape, 1.0))
            if m.bias is not None:
                setp(m.bias, _normal(gen, m.bias.shape, 0.1))
        elif isinstance(m, (nn.Linear, nn.Conv1d)):
            w = m.weight
            fan_in = w.shape[1] * (w.shape[2] if w.dim() == 3 else 1)
            # the wav2vec2 CNN stacks un-normalised conv+GELU layers: He gain keeps them O(1)
            gain = math.sqrt(2.0) if "feature_extractor.conv_layers" in name else 1.0
            setp(w, _normal(gen, w.shape, gain / math.sqrt(fan_in)))
            if m.bias is not None:
                setp(m.bias, _normal(gen, m.bias.shape, 0.1))
        elif isinstance(m, nn.MultiheadAttention):
            d = m.embed_dim
            setp(m.in_proj_weight, _normal(gen, m.in_proj_weight.shape, 1.0 / math.sqrt(d)))
            if m.in_proj_bias is not None:
                setp(m.in_proj_bias, _normal(gen, m.in_proj_bias.shape, 0.1))
            # out_proj is an nn.Linear visited on its own
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
            if getattr(m, "weight", None) is not None:
                setp(m.weight, _normal(gen, m.weight.shape, 0.2, 1.0))
            if getattr(m, "bias", None) is not None:
                setp(m.bias, _normal(gen, m.bias.shape, 0.1))
        elif hasattr(m, "weight_g") and hasattr(m, "weight_v"):  # weight-normed pos conv
            C, _, K = m.weight_v.shape
            setp(m.weight_v, _normal(gen, m.weight_v.shape, 1.0))
            setp(m.weight_g, _normal(gen, m.weight_g.shape, 0.1, 1.0) * math.sqrt(C / K))
            setp(m.bias, _normal(gen, m.bias.shape, 0.1))

    for name, p in model.named_parameters():
        if id(p) in done:
            continue
        if name.endswith("logit_scale"):
            setp(p, torch.full(p.shape, math.log(1 / 0.07)) + _normal(gen, p.shape, 0.01))
        else:
            setp(p, _normal(gen, p.shape, 1.0))
    return model


@torch.no_grad()
def round_to_float16_(model: nn.Module) -> nn.Module:
    """Round every parameter to float16 values (kept as float32), as a converter writing F16 tensors
    would. Weight-normed convs are first re-parametrised so that the FOLDED weight is float16-exact
    (v := f16(fold(g, v)), g := ||v|| per tap): a converter folds in float32 and then rounds."""
    for m in model.modules():
        if hasattr(m, "weight_g") and hasattr(m, "weight_v") and hasattr(m, "folded_weight"):
            w16 = m.folded_weight().half().float()
            m.weight_v.copy_(w16)
            m.weight_g.copy_(torch.sqrt((w16 * w16).sum(dim=(0, 1), keepdim=True)))
    for name, p in model.named_parameters():
        if name.endswith("weight_g"):
            continue  # keeps fold(g, v) == f16 weights up to float32 rounding
        p.copy_(p.half().float())
    return model
