"""Original state dict -> canonical Mimetic tensors, by the name table in `layout.py`.

`_Source` reads the original keys and remembers which ones were used: whatever is left is either a
known training-only tensor (`_skip_patterns`, reported as skipped) or unknown (warned about).
"""
from __future__ import annotations

import logging
import re
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Dict, List, Optional

import numpy as np

from .checkpoint import as_numpy
from .config_schema import check_tensors, is_realtime, validate_config
from .errors import ConversionError, ConversionWarning
from .families import normalise_keys, original_prefix, reraise_with_prefix
from .layout import (ATTENTION, CONV, LAYOUT, LINEAR, MIMIC_DOWNSAMPLE, POS_CONV, TENSOR, Tensors, audio_map_tensors,
                     decoder_tensors, family_head_tensors, feature_extractor_prefix, mimic_downsample_tensors,
                     swap_conv_axes, wav2vec2_tensors)
from .weight_norm import fold_weight_norm

log = logging.getLogger("mimetic_tools.convert")


class _Source:
    """Reads original keys, remembering which ones were used."""

    def __init__(self, sd: Mapping, family: str):
        self.sd = sd
        self.family = family
        self.used: set = set()

    def has(self, key: str) -> bool:
        return key in self.sd

    def get(self, key: str) -> np.ndarray:
        if key not in self.sd:
            raise ConversionError(f"missing required key '{key}' ({self.family} checkpoint)")
        self.used.add(key)
        return np.ascontiguousarray(as_numpy(self.sd[key]).astype(np.float32))


def _skip_patterns(family: str) -> List[str]:
    w = LAYOUT[family]["wav2vec"]
    common = [re.escape(w) + r"masked_spec_embed$"]
    if family in ("faceformer", "imitator"):
        return common + [r"PPE\.pe$"]
    return common + [
        r"decoder\.PPE\.pe$", r"style_encoder\.PE\.pe$",
        r"content_encoder\.", r"content_head\.", r"content_grl_head\.", r"content_cls_head\.",
        r"audio_cls_head\.", r"style_class_head\.", r"metric_fc\.", r"logit_scale$",
        r"decoder\.transformer_decoder\.(encoder|decoder)\.",
    ]


def convert_state_dict(state_dict: Mapping, config: Mapping, report: Optional[dict] = None,
                       encoder_tensors: Optional[Mapping] = None) -> "OrderedDict[str, np.ndarray]":
    """Convert an original state dict to canonical Mimetic tensors (float32 numpy arrays).

    If ``report`` is a dict it receives ``skipped`` (keys deliberately not converted),
    ``unexpected`` (unknown keys, also warned about) and ``filled`` (tensors synthesised, e.g. the
    zero biases of a Mimic decoder built under torch >= 2.1).

    With a realtime encoder (``config["encoder"]["type"] == "realtime"``) only the head (audio map,
    decoder, family head) is converted from ``state_dict``, whose encoder keys are skipped; the
    encoder's canonical tensors are passed as ``encoder_tensors``
    (``mimetic_tools.realtime_encoder``).
    """
    validate_config(config)
    if is_realtime(config["encoder"]) and encoder_tensors is None:
        raise ConversionError("a realtime-encoder config needs the encoder's tensors (encoder_tensors; see "
                              "mimetic_tools.realtime_encoder.export_model)")
    family = config["family"]
    prefix = original_prefix(state_dict, family)
    try:
        out, skipped, unexpected, filled = _convert(normalise_keys(state_dict, family), config)
    except ConversionError as e:
        reraise_with_prefix(e, prefix)
    skipped = [prefix + k for k in skipped]
    unexpected = [prefix + k for k in unexpected]
    filled = [prefix + k for k in filled]
    if skipped:
        log.info("skipped %d keys not used at inference", len(skipped))
    if unexpected:
        warnings.warn(ConversionWarning(
            f"{len(unexpected)} unknown key(s) not converted: " + ", ".join(unexpected)), stacklevel=2)
    if filled:
        warnings.warn(ConversionWarning(
            "Mimic decoder has no biases (a model built with torch >= 2.1); using zero biases"), stacklevel=2)
    if report is not None:
        report["skipped"] = skipped
        report["unexpected"] = unexpected
        report["filled"] = filled
    if encoder_tensors is not None:
        if not is_realtime(config["encoder"]):
            raise ConversionError("encoder_tensors is only for realtime-encoder configs")
        enc = OrderedDict((k, np.ascontiguousarray(as_numpy(v), dtype=np.float32)) for k, v in encoder_tensors.items())
        out = OrderedDict(list(enc.items()) + [(k, v) for k, v in out.items() if k not in enc])
    check_tensors(config, out)
    return out


def _copy(entries: List[Tensors], src: _Source, out: "OrderedDict[str, np.ndarray]") -> None:
    """Checkpoint -> file for each entry of the name table (the inverse is training/export.py)."""
    for e in entries:
        if e.kind == LINEAR:
            out[f"{e.file}.weight"] = src.get(f"{e.original}.weight")
            if e.bias:
                out[f"{e.file}.bias"] = src.get(f"{e.original}.bias")
        elif e.kind == TENSOR:
            out[e.file] = src.get(e.original)
        elif e.kind == CONV:
            out[e.file] = swap_conv_axes(src.get(e.original))
        elif e.kind == ATTENTION:
            _split_in_proj(e, src, out)
        elif e.kind == POS_CONV:
            out[e.file] = swap_conv_axes(_pos_conv_weight(src, e.original))
        else:  # pragma: no cover - the table has no other kinds
            raise AssertionError(e.kind)


def _split_in_proj(e: Tensors, src: _Source, out) -> None:
    s, dst = e.original, e.file
    w = src.get(f"{s}.in_proj_weight")
    b = src.get(f"{s}.in_proj_bias")
    dd = w.shape[1]
    if w.shape[0] != 3 * dd or b.shape != (3 * dd,):
        raise ConversionError(f"{s}.in_proj_weight: expected [3d, d] and [3d], got {list(w.shape)}, "
                              f"{list(b.shape)}")
    for j, q in enumerate("qkv"):
        out[f"{dst}.{q}.weight"] = np.ascontiguousarray(w[j * dd:(j + 1) * dd])
        out[f"{dst}.{q}.bias"] = np.ascontiguousarray(b[j * dd:(j + 1) * dd])
    out[f"{dst}.o.weight"] = src.get(f"{s}.out_proj.weight")
    out[f"{dst}.o.bias"] = src.get(f"{s}.out_proj.bias")


def _pos_conv_weight(src: _Source, pc: str) -> np.ndarray:
    """The positional conv's weight in torch layout: weight norm as transformers < 4.33 stored it
    (weight_g / weight_v), as torch's parametrizations store it (original0 / original1), or folded."""
    if src.has(pc + "weight_g") or src.has(pc + "weight_v"):
        return fold_weight_norm(src.get(pc + "weight_g"), src.get(pc + "weight_v"))
    if src.has(pc + "parametrizations.weight.original0") or src.has(pc + "parametrizations.weight.original1"):
        return fold_weight_norm(src.get(pc + "parametrizations.weight.original0"),
                                src.get(pc + "parametrizations.weight.original1"))
    return src.get(pc + "weight")


def _convert(sd: Dict[str, Any], config: Mapping):
    family = config["family"]
    src = _Source(sd, family)
    lay = LAYOUT[family]
    enc = config["encoder"]
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    filled: List[str] = []

    # --- wav2vec 2.0 (a realtime encoder's tensors come from mimetic_tools.realtime_encoder) -------
    if not is_realtime(enc):
        _copy(wav2vec2_tensors(config, feature_extractor_prefix(sd, lay["wav2vec"])), src, out)
        _check_mimic_downsample(config, src)
        if config["alignment"]["mode"] == "conv":
            _copy(mimic_downsample_tensors(), src, out)
    elif family == "mimic" and src.has(MIMIC_DOWNSAMPLE + ".weight"):
        raise ConversionError("a realtime encoder emits motion-rate features itself: the Mimic head must not "
                              "have a down-sampling conv (audio_encoder.down_sample.*)")
    _copy(audio_map_tensors(config), src, out)
    if family == "mimic":
        filled = _fill_missing_mimic_biases(sd, config)
    _copy(decoder_tensors(config) + family_head_tensors(config), src, out)

    # --- leftovers -------------------------------------------------------------------------------
    skip_rx = [re.compile(p) for p in _skip_patterns(family)]
    if is_realtime(enc):  # whatever stands in the encoder's place is not part of the head
        skip_rx.append(re.compile(re.escape(lay["wav2vec"])))
    skipped, unexpected = [], []
    for k in sd:
        if k in src.used:
            continue
        if any(r.match(k) for r in skip_rx):
            skipped.append(k)
        else:
            unexpected.append(k)
    return out, skipped, unexpected, filled


def _check_mimic_downsample(config: Mapping, src: _Source) -> None:
    """Alignment "conv" is exactly the models that have Mimic's down-sampling conv."""
    if config["alignment"]["mode"] == "conv":
        if config["family"] != "mimic" or not src.has(MIMIC_DOWNSAMPLE + ".weight"):
            raise ConversionError("alignment 'conv' needs the Mimic down-sampling conv: missing required key "
                                  "'audio_encoder.down_sample.weight'")
    elif config["family"] == "mimic" and src.has(MIMIC_DOWNSAMPLE + ".weight"):
        raise ConversionError(f"alignment '{config['alignment']['mode']}' was requested, but the checkpoint has "
                              "a down-sampling conv (audio_encoder.down_sample.*): it is a 'conv' model")


def _fill_missing_mimic_biases(sd: Dict[str, Any], config: Mapping) -> List[str]:
    """The Mimic decoder layer built under torch >= 2.1 has no biases at all (docs/reference-notes.md,
    "Mimic's decoder without biases"). Zero biases are exactly equivalent; only synthesise them when every
    one of them is absent. Returns the keys added to `sd`."""
    dec = config["decoder"]
    dp = LAYOUT["mimic"]["decoder"]
    bias_keys = [f"{dp}{l}.{m}" for l in range(dec["num_layers"]) for m in
                 ("self_attn.in_proj_bias", "self_attn.out_proj.bias", "multihead_attn.in_proj_bias",
                  "multihead_attn.out_proj.bias", "linear1.bias", "linear2.bias")]
    if any(k in sd for k in bias_keys):
        return []
    for k in bias_keys:
        if k.endswith("in_proj_bias"):
            wk = k.replace("in_proj_bias", "in_proj_weight")
            n = sd[wk].shape[0] if wk in sd else 3 * dec["d_model"]
        elif k.endswith("linear1.bias"):
            n = dec["ffn_dim"]
        else:
            n = dec["d_model"]
        sd[k] = np.zeros(n, np.float32)
    return bias_keys
