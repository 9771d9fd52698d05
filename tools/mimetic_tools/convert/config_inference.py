"""The Mimetic config (`mimetic.config`) from tensor shapes, the checkpoint's own hints (Mimic's
params, safetensors metadata) and the user's overrides."""
from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, List, Optional, Tuple

import numpy as np

from .checkpoint import as_numpy
from .config_schema import is_int, is_realtime, validate_config
from .constants import (BIWI_MOTION_DIM, BIWI_TRAIN_SUBJECTS, DEFAULT_MAX_SEQ_LEN, FAMILIES, STANDARD_CONV_STRIDE,
                        VOCASET_TRAIN_SUBJECTS)
from .errors import ConversionError
from .families import detect_family, normalise_keys, original_prefix, reraise_with_prefix
from .layout import LAYOUT, feature_extractor_prefix


def _shape(sd: Mapping, key: str) -> Optional[Tuple[int, ...]]:
    v = sd.get(key)
    return None if v is None else tuple(int(s) for s in v.shape)


def _require_shape(sd: Mapping, key: str, family: str) -> Tuple[int, ...]:
    s = _shape(sd, key)
    if s is None:
        raise ConversionError(f"missing required key '{key}' ({family} checkpoint)")
    return s


def _indices(sd: Mapping, pattern: str) -> List[int]:
    rx = re.compile(pattern)
    out = set()
    for k in sd:
        m = rx.match(k)
        if m:
            out.add(int(m.group(1)))
    return sorted(out)


def _check_contiguous(idx: List[int], what: str):
    if idx != list(range(len(idx))):
        raise ConversionError(f"{what}: layer indices are not contiguous from 0: {idx}")


def _pos_conv_v_key(sd: Mapping, w: str) -> Optional[str]:
    base = w + "encoder.pos_conv_embed.conv."
    for name in ("weight_v", "parametrizations.weight.original1", "weight"):
        if base + name in sd:
            return base + name
    return None


def _param_lookup(params: Optional[Mapping], *paths: Tuple[str, ...]):
    if not isinstance(params, Mapping):
        return None
    for path in paths:
        node: Any = params
        ok = True
        for p in path:
            if isinstance(node, Mapping) and p in node:
                node = node[p]
            else:
                ok = False
                break
        if ok and node is not None:
            return node
    return None


def deep_merge(base: dict, over: Mapping) -> dict:
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
    return base


def _infer_encoder(sd: Mapping, family: str, overrides: Mapping) -> dict:
    w = LAYOUT[family]["wav2vec"]
    fe = feature_extractor_prefix(sd, w)
    conv_idx = _indices(sd, re.escape(fe) + r"conv_layers\.(\d+)\.conv\.weight$")
    if not conv_idx:
        raise ConversionError(f"missing required key '{fe}conv_layers.0.conv.weight' "
                              f"({family} checkpoint: no wav2vec 2.0 feature extractor found)")
    _check_contiguous(conv_idx, "wav2vec feature extractor")
    conv_dim, conv_kernel = [], []
    c_in = 1
    for i in conv_idx:
        s = _shape(sd, f"{fe}conv_layers.{i}.conv.weight")
        if len(s) != 3:
            raise ConversionError(f"{fe}conv_layers.{i}.conv.weight: expected a 3-d conv weight, got {list(s)}")
        if s[1] != c_in:
            raise ConversionError(f"{fe}conv_layers.{i}.conv.weight: input channels {s[1]} != {c_in} "
                                  "(previous layer's output)")
        conv_dim.append(s[0])
        conv_kernel.append(s[2])
        c_in = s[0]
    n = len(conv_idx)
    conv_bias = f"{fe}conv_layers.0.conv.bias" in sd
    normed = [i for i in conv_idx if f"{fe}conv_layers.{i}.layer_norm.weight" in sd]
    if normed == [0]:
        feat_norm = "group"
    elif normed == conv_idx:
        feat_norm = "layer"
    else:
        raise ConversionError(f"wav2vec feature extractor: unsupported norm layout (norms on conv layers "
                              f"{normed} of {n}); expected layer 0 only (group) or all layers (layer)")
    proj = _require_shape(sd, w + "feature_projection.projection.weight", family)
    hidden = proj[0]
    if proj[1] != conv_dim[-1]:
        raise ConversionError(f"{w}feature_projection.projection.weight: input {proj[1]} != last conv "
                              f"channels {conv_dim[-1]}")
    layer_idx = _indices(sd, re.escape(w) + r"encoder\.layers\.(\d+)\.")
    if not layer_idx:
        raise ConversionError(f"missing required key '{w}encoder.layers.0.attention.q_proj.weight' "
                              f"({family} checkpoint)")
    _check_contiguous(layer_idx, "wav2vec encoder")
    ffn = _require_shape(sd, w + "encoder.layers.0.feed_forward.intermediate_dense.weight", family)
    vkey = _pos_conv_v_key(sd, w)
    if vkey is None:
        raise ConversionError(f"missing required key '{w}encoder.pos_conv_embed.conv.weight_v' "
                              f"(or parametrizations.weight.original1) ({family} checkpoint)")
    pv = _shape(sd, vkey)
    if len(pv) != 3 or pv[0] != hidden or pv[1] == 0 or hidden % pv[1] != 0:
        raise ConversionError(f"{vkey}: expected [H, H/groups, K] with H = {hidden}, got {list(pv)}")
    enc_over = overrides.get("encoder", {}) if isinstance(overrides.get("encoder"), Mapping) else {}
    feat_norm_final = enc_over.get("feat_extract_norm", feat_norm)
    if n == len(STANDARD_CONV_STRIDE):
        stride = list(STANDARD_CONV_STRIDE)
    else:  # not inferable from shapes; generalise the standard (5, 2, 2, ...) stack
        stride = [5] + [2] * (n - 1)
    return OrderedDict([
        ("type", "wav2vec2"),
        ("conv_dim", conv_dim),
        ("conv_kernel", conv_kernel),
        ("conv_stride", stride),
        ("conv_bias", conv_bias),
        ("feat_extract_norm", feat_norm),
        ("hidden_size", hidden),
        ("num_layers", len(layer_idx)),
        ("num_heads", hidden // 64 if hidden % 64 == 0 else None),
        ("intermediate_size", ffn[0]),
        ("pos_conv_kernel", pv[2]),
        ("pos_conv_groups", hidden // pv[1]),
        ("layer_norm_eps", 1e-5),
        ("stable_layer_norm", feat_norm_final == "layer"),
        ("input_norm_eps", 1e-7 if family == "imitator" else 1e-5),
    ])


def faceformer_period(pe) -> Optional[int]:
    """Period of FaceFormer's PPE table [1, p*(600//p+1), d] (shape + content)."""
    x = np.asarray(as_numpy(pe), dtype=np.float64)
    x = x.reshape(-1, x.shape[-1])
    total = x.shape[0]
    cands = [p for p in range(1, total + 1) if p * (DEFAULT_MAX_SEQ_LEN // p + 1) == total]
    if not cands:
        return None
    for p in cands:  # smallest period the table actually repeats with
        if p < total and np.allclose(x[p:], x[:-p], rtol=0, atol=1e-6):
            return p
    for p in (30, 25):
        if p in cands:
            return p
    return cands[0]


def infer_config(state_dict: Mapping, family: Optional[str] = None, extra: Optional[Mapping] = None,
                 overrides: Optional[Mapping] = None) -> dict:
    """Infer the Mimetic config (a dict, the ``mimetic.config`` JSON) from tensor shapes.

    ``overrides`` is merged recursively at the end and wins; two extra keys are understood there:
    ``"dataset"`` ("vocaset" | "biwi": FaceFormer/Imitator dataset defaults, not stored) and
    ``"family"``. The result is validated.
    """
    overrides = copy.deepcopy(dict(overrides or {}))
    extra = dict(extra or {})
    dataset_flag = overrides.pop("dataset", None)
    fam_over = overrides.pop("family", None)
    family = family or fam_over
    detected = None
    try:
        detected = detect_family(state_dict)
    except ConversionError:
        if family is None:
            raise
    if family is None:
        family = detected
    if family not in FAMILIES:
        raise ConversionError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    if detected is not None and detected != family:
        raise ConversionError(f"family {family!r} was requested, but the checkpoint's keys look like "
                              f"a {detected} checkpoint")
    if dataset_flag is not None:
        dataset_flag = str(dataset_flag).lower()
        if dataset_flag not in ("vocaset", "biwi"):
            raise ConversionError(f"unknown dataset {dataset_flag!r}; expected vocaset or biwi")
        if family == "imitator" and dataset_flag != "vocaset":
            raise ConversionError("Imitator supports only the vocaset dataset")
        if family == "mimic":
            raise ConversionError("--dataset applies to FaceFormer / Imitator; Mimic's dataset comes "
                                  "from its params (use --fps / --align to change it)")
    try:
        return _infer_config(normalise_keys(state_dict, family), family, extra, overrides, dataset_flag)
    except ConversionError as e:
        reraise_with_prefix(e, original_prefix(state_dict, family))


def _infer_config(sd: Mapping, family: str, extra: Mapping, overrides: dict, dataset_flag) -> dict:
    lay = LAYOUT[family]
    realtime = is_realtime(overrides.get("encoder"))
    if realtime:
        # The real-time encoder is not in the checkpoint (its config and tensors come from
        # mimetic_tools.realtime_encoder); only the head is inferred from the keys.
        encoder = copy.deepcopy(dict(overrides["encoder"]))
        if not is_int(encoder.get("hidden_size")):
            raise ConversionError("a realtime encoder section must give hidden_size")
    else:
        encoder = _infer_encoder(sd, family, overrides)
    hidden = encoder["hidden_size"]

    amap = _require_shape(sd, lay["audio_map"] + "weight", family)
    d = amap[0]
    if amap[1] != hidden:
        raise ConversionError(f"{lay['audio_map']}weight: input {amap[1]} != encoder hidden size {hidden}")
    dec_idx = _indices(sd, re.escape(lay["decoder"]) + r"(\d+)\.")
    if not dec_idx:
        raise ConversionError(f"missing required key '{lay['decoder']}0.self_attn.in_proj_weight' "
                              f"({family} checkpoint)")
    _check_contiguous(dec_idx, "transformer decoder")
    lin1 = _require_shape(sd, lay["decoder"] + "0.linear1.weight", family)

    params = extra.get("params") if family == "mimic" else None
    over_align = overrides.get("alignment", {}).get("mode") if isinstance(overrides.get("alignment"),
                                                                         Mapping) else None
    cfg: "OrderedDict[str, Any]" = OrderedDict()
    cfg["family"] = family
    cfg["sample_rate"] = 16000

    if family == "faceformer":
        out = _require_shape(sd, "vertice_map_r.weight", family)
        motion_dim = out[0]
        n_styles = _require_shape(sd, "obj_vector.weight", family)[1]
        period = None
        if "PPE.pe" in sd:
            period = faceformer_period(sd["PPE.pe"])
        if dataset_flag is not None:
            dataset = dataset_flag
        elif period == 30:
            dataset = "vocaset"
        elif period == 25:
            dataset = "biwi"
        else:
            dataset = "biwi" if motion_dim == BIWI_MOTION_DIM else "vocaset"
        if period is None:
            period = 25 if dataset == "biwi" else 30
        if dataset == "biwi":
            fps, align, names_default = 25, "pairs", BIWI_TRAIN_SUBJECTS
        else:
            fps, align, names_default = 30, "interpolate", VOCASET_TRAIN_SUBJECTS
        frames_offset = 0
        attention_bias, positional, norm = "alibi", "periodic", "layer"
        dec_heads = 4
    elif family == "imitator":
        out = _require_shape(sd, "vertice_map_r.decoder.final_out_layer.weight", family)
        motion_dim = out[0]
        n_styles = _require_shape(sd, "obj_vector.weight", family)[1]
        fps, align, frames_offset, period = 30, "interpolate", 0, 30
        names_default = VOCASET_TRAIN_SUBJECTS
        attention_bias, positional, norm = "causal", "constant", "layer"
        dec_heads = 4
    else:  # mimic
        out = _require_shape(sd, "decoder.motion_map_r.weight", family)
        motion_dim = out[0]
        n_styles = 0
        names_default = []
        attention_bias, positional, norm = "alibi", "periodic", "saln"
        period = 30
        p_align = _param_lookup(params, ("NETWORK", "audio_feature_align"), ("audio_feature_align",))
        p_dataset = _param_lookup(params, ("DATA", "dataset"), ("dataset",))
        p_fps = _param_lookup(params, ("DATA", "video_fps"), ("video_fps",))
        has_down = "audio_encoder.down_sample.weight" in sd
        if has_down or str(p_align).lower() == "conv":
            align = "conv"
        else:
            align = "interpolate"
        fps = int(p_fps) if isinstance(p_fps, (int, float)) and p_fps > 0 else 25
        if isinstance(p_dataset, str) and p_dataset.lower() == "vocaset":
            # Mimic's wav2vec interpolates VOCASET audio to 30 fps whatever `align` says.
            fps = 30
            if not has_down:
                align = "interpolate"
        elif isinstance(p_dataset, str) and p_dataset.upper() == "BIWI":
            if has_down:
                raise ConversionError("Mimic BIWI checkpoint with a down_sample conv is not representable "
                                      "in format v1")
            align = "pairs"
        frames_offset = 1 if (over_align or align) == "interpolate" else 0
        dec_heads = _param_lookup(params, ("NETWORK", "decoder", "nhead"), ("decoder", "nhead"))
        dec_heads = int(dec_heads) if isinstance(dec_heads, int) else 4
    if motion_dim % 3 != 0:
        raise ConversionError(f"motion output size {motion_dim} is not a multiple of 3")
    if over_align is not None and family != "mimic":
        frames_offset = 0
    if realtime:  # the encoder emits one row per motion frame at the model's fps
        align, frames_offset = "native", 0
        if "fps" not in overrides:
            raise ConversionError("a realtime encoder needs the model fps in the overrides")

    cfg["fps"] = fps
    cfg["num_vertices"] = motion_dim // 3
    cfg["encoder"] = encoder
    cfg["alignment"] = OrderedDict([("mode", align), ("frames_offset", frames_offset)])
    cfg["decoder"] = OrderedDict([
        ("d_model", d), ("num_heads", dec_heads), ("ffn_dim", lin1[0]), ("num_layers", len(dec_idx)),
        ("norm", norm), ("norm_eps", 1e-5), ("attention_bias", attention_bias),
        ("positional", positional), ("period", period), ("max_seq_len", DEFAULT_MAX_SEQ_LEN),
    ])
    if len(names_default) == n_styles:
        names = list(names_default)
    else:
        names = [f"style{i}" for i in range(n_styles)]
    cfg["styles"] = OrderedDict([("names", names)])

    if family == "imitator":
        mlp = _indices(sd, r"vertice_map_r\.decoder\.(\d+)\.weight$")
        expected = [2 * i for i in range(len(mlp))]
        if mlp != expected:
            raise ConversionError(f"Imitator motion decoder: hidden layer indices {mlp}, expected {expected} "
                                  "(Linear/LeakyReLU pairs)")
        cfg["imitator"] = OrderedDict([("start_token", "zeros"), ("mlp_layers", len(mlp)),
                                       ("leaky_slope", 0.01)])
    if family == "mimic":
        sconv = _indices(sd, r"style_encoder\.conv_layers\.(\d+)\.conv\.weight$")
        _check_contiguous(sconv, "Mimic style encoder convs")
        slayers = _indices(sd, r"style_encoder\.transformer_encoder\.layers\.(\d+)\.")
        _check_contiguous(slayers, "Mimic style encoder layers")
        if not slayers:
            raise ConversionError("missing required key "
                                  "'style_encoder.transformer_encoder.layers.0.linear1.weight' (mimic checkpoint)")
        sffn = _require_shape(sd, "style_encoder.transformer_encoder.layers.0.linear1.weight", family)
        sheads = _param_lookup(params, ("NETWORK", "nhead_encoder"), ("nhead_encoder",))
        window = _param_lookup(params, ("DATA", "window"), ("window",))
        cfg["mimic"] = OrderedDict([
            ("style_conv_layers", len(sconv)), ("style_layers", len(slayers)),
            ("style_heads", int(sheads) if isinstance(sheads, int) else 4),
            ("style_ffn_dim", sffn[0]),
            ("style_window", int(window) if isinstance(window, int) else 150),
            ("style_norm_eps", 1e-5),
        ])

    deep_merge(cfg, overrides)
    validate_config(cfg)
    names = cfg["styles"]["names"]
    if family in ("faceformer", "imitator") and len(names) != n_styles:
        raise ConversionError(f"styles.names has {len(names)} entries, but the checkpoint's obj_vector.weight "
                              f"has {n_styles} styles")
    if family == "mimic" and names:
        raise ConversionError("Mimic styles are rows of style_codes, which a checkpoint does not hold: "
                              "styles.names must be empty")
    return json.loads(json.dumps(cfg))  # plain dicts, JSON-clean, key order kept

