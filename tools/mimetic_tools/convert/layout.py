"""The one table of tensor names: the originals' checkpoint names <-> Mimetic model-file names.

Both directions read it: the converter (checkpoint -> model file, `conversion.py`) and
`training/export.py` (model file -> checkpoint layout, to load a file back into PyTorch). A name
changed here changes both, so a converted file always loads back into the module it came from.

Each entry is a `Tensors(kind, file, original)`; `kind` says how the names expand and how the
values are laid out on each side:

  LINEAR     `.weight` and `.bias` (or `.weight` only with bias=False), copied as they are
  TENSOR     one tensor, copied; `file` and `original` are full names
  CONV       one conv weight: torch [out, in_per_group, kernel] <-> file [out, kernel, in_per_group]
  ATTENTION  torch's packed `in_proj_weight` / `in_proj_bias` + `out_proj` <-> file `q`, `k`, `v`, `o`
  POS_CONV   wav2vec 2.0's weight-normed positional conv (`weight_g`, `weight_v` under `original`)
             <-> the folded, axis-swapped file weight `file`
"""
from __future__ import annotations

from typing import List, Mapping, NamedTuple

import numpy as np

LINEAR, TENSOR, CONV, ATTENTION, POS_CONV = "linear", "tensor", "conv", "attention", "pos_conv"

# Per-family key prefixes in the (normalised: Imitator's `nn_model.` stripped) original state dict.
LAYOUT = {
    "faceformer": {"wav2vec": "audio_encoder.", "audio_map": "audio_feature_map.",
                   "decoder": "transformer_decoder.layers."},
    "imitator": {"wav2vec": "audio_encoder.", "audio_map": "audio_feature_map.",
                 "decoder": "transformer_decoder.layers."},
    "mimic": {"wav2vec": "audio_encoder.audio_encoder.", "audio_map": "audio_encoder.audio_feature_map.",
              "decoder": "decoder.transformer_decoder.layers."},
}

# Mimic's conv that brings 50 Hz audio features to the motion rate (alignment "conv").
MIMIC_DOWNSAMPLE = "audio_encoder.down_sample"


class Tensors(NamedTuple):
    kind: str
    file: str
    original: str
    bias: bool = True  # LINEAR only


def swap_conv_axes(w: np.ndarray) -> np.ndarray:
    """torch [out, in_per_group, kernel] <-> Mimetic [out, kernel, in_per_group] (its own inverse)."""
    return np.ascontiguousarray(np.transpose(w, (0, 2, 1)))


def default_feature_extractor(family: str) -> str:
    """The CNN's prefix as the originals name it (some checkpoints say `feature_encoder`: the converter
    detects which one a checkpoint uses, `feature_extractor_prefix`)."""
    return LAYOUT[family]["wav2vec"] + "feature_extractor."


def feature_extractor_prefix(sd: Mapping, w: str) -> str:
    """The CNN's prefix in a checkpoint: `feature_extractor.` or, in newer transformers, `feature_encoder.`."""
    for name in ("feature_extractor.", "feature_encoder."):
        if any(k.startswith(w + name + "conv_layers.") for k in sd):
            return w + name
    return w + "feature_extractor."


def wav2vec2_tensors(config: Mapping, feature_extractor: str) -> List[Tensors]:
    """The wav2vec 2.0 encoder (transformers' Wav2Vec2Model names under the family's prefix)."""
    enc = config["encoder"]
    w = LAYOUT[config["family"]]["wav2vec"]
    out: List[Tensors] = []
    for i in range(len(enc["conv_dim"])):
        s = f"{feature_extractor}conv_layers.{i}"
        out.append(Tensors(CONV, f"encoder.conv.{i}.weight", f"{s}.conv.weight"))
        if enc["conv_bias"]:
            out.append(Tensors(TENSOR, f"encoder.conv.{i}.bias", f"{s}.conv.bias"))
        if enc["feat_extract_norm"] == "layer" or i == 0:  # "group": only the first conv has a norm
            out.append(Tensors(LINEAR, f"encoder.conv.{i}.norm", f"{s}.layer_norm"))
    out += [Tensors(LINEAR, "encoder.projection.norm", f"{w}feature_projection.layer_norm"),
            Tensors(LINEAR, "encoder.projection", f"{w}feature_projection.projection"),
            Tensors(POS_CONV, "encoder.pos_conv.weight", f"{w}encoder.pos_conv_embed.conv."),
            Tensors(TENSOR, "encoder.pos_conv.bias", f"{w}encoder.pos_conv_embed.conv.bias"),
            Tensors(LINEAR, "encoder.norm", f"{w}encoder.layer_norm")]
    for i in range(enc["num_layers"]):
        s, dst = f"{w}encoder.layers.{i}", f"encoder.layers.{i}"
        for q, o in (("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"), ("out_proj", "o")):
            out.append(Tensors(LINEAR, f"{dst}.attention.{o}", f"{s}.attention.{q}"))
        out += [Tensors(LINEAR, f"{dst}.norm1", f"{s}.layer_norm"),
                Tensors(LINEAR, f"{dst}.ffn.up", f"{s}.feed_forward.intermediate_dense"),
                Tensors(LINEAR, f"{dst}.ffn.down", f"{s}.feed_forward.output_dense"),
                Tensors(LINEAR, f"{dst}.norm2", f"{s}.final_layer_norm")]
    return out


def mimic_downsample_tensors() -> List[Tensors]:
    return [Tensors(CONV, "encoder.downsample.weight", f"{MIMIC_DOWNSAMPLE}.weight"),
            Tensors(TENSOR, "encoder.downsample.bias", f"{MIMIC_DOWNSAMPLE}.bias")]


def audio_map_tensors(config: Mapping) -> List[Tensors]:
    return [Tensors(LINEAR, "audio_map", LAYOUT[config["family"]]["audio_map"].rstrip("."))]


def decoder_tensors(config: Mapping) -> List[Tensors]:
    """The transformer decoder layers (torch.nn.TransformerDecoderLayer names)."""
    dec = config["decoder"]
    dp = LAYOUT[config["family"]]["decoder"]
    out: List[Tensors] = []
    for l in range(dec["num_layers"]):
        s, dst = f"{dp}{l}", f"decoder.layers.{l}"
        out += [Tensors(ATTENTION, f"{dst}.self_attn", f"{s}.self_attn"),
                Tensors(ATTENTION, f"{dst}.cross_attn", f"{s}.multihead_attn"),
                Tensors(LINEAR, f"{dst}.ffn.up", f"{s}.linear1"),
                Tensors(LINEAR, f"{dst}.ffn.down", f"{s}.linear2")]
        for j in (1, 2, 3):
            if dec["norm"] == "saln":  # Mimic's style-adaptive layer norm: only its affine map has weights
                out.append(Tensors(LINEAR, f"{dst}.norm{j}.style", f"{s}.norm{j}.style.affine"))
            else:
                out.append(Tensors(LINEAR, f"{dst}.norm{j}", f"{s}.norm{j}"))
    return out


def family_head_tensors(config: Mapping) -> List[Tensors]:
    """Motion maps, style embedding (FaceFormer / Imitator) or style encoder (Mimic)."""
    family = config["family"]
    if family == "faceformer":
        return [Tensors(LINEAR, "motion_in", "vertice_map"),
                Tensors(LINEAR, "motion_out", "vertice_map_r"),
                Tensors(TENSOR, "style.weight", "obj_vector.weight")]
    if family == "imitator":
        out = [Tensors(TENSOR, "style.weight", "obj_vector.weight")]
        # The original's MLP is an nn.Sequential of Linear + LeakyReLU: the linears sit at even indices.
        out += [Tensors(LINEAR, f"motion_decoder.{i}", f"vertice_map_r.decoder.{2 * i}")
                for i in range(config["imitator"]["mlp_layers"])]
        return out + [Tensors(LINEAR, "motion_out", "vertice_map_r.decoder.final_out_layer")]
    m = config["mimic"]
    out = [Tensors(LINEAR, "motion_in", "decoder.motion_map"),
           Tensors(LINEAR, "motion_out", "decoder.motion_map_r"),
           Tensors(LINEAR, "style_encoder.motion_map", "style_encoder.motion_map")]
    for i in range(m["style_conv_layers"]):
        s = f"style_encoder.conv_layers.{i}"
        out += [Tensors(CONV, f"style_encoder.conv.{i}.weight", f"{s}.conv.weight"),
                Tensors(LINEAR, f"style_encoder.conv.{i}.norm", f"{s}.layer_norm")]
    out += [Tensors(LINEAR, "style_encoder.projection.norm", "style_encoder.feature_projection.layer_norm"),
            Tensors(LINEAR, "style_encoder.projection", "style_encoder.feature_projection.projection")]
    for i in range(m["style_layers"]):
        s, dst = f"style_encoder.transformer_encoder.layers.{i}", f"style_encoder.layers.{i}"
        out += [Tensors(ATTENTION, f"{dst}.attention", f"{s}.self_attn"),
                Tensors(LINEAR, f"{dst}.norm1", f"{s}.norm1"),
                Tensors(LINEAR, f"{dst}.ffn.up", f"{s}.linear1"),
                Tensors(LINEAR, f"{dst}.ffn.down", f"{s}.linear2"),
                Tensors(LINEAR, f"{dst}.norm2", f"{s}.norm2")]
    return out + [Tensors(LINEAR, "style_encoder.output", "style_encoder.feature_map")]


def head_tensors(config: Mapping) -> List[Tensors]:
    """Everything after the audio encoder: what a realtime-encoder model converts from its checkpoint."""
    return audio_map_tensors(config) + decoder_tensors(config) + family_head_tensors(config)
