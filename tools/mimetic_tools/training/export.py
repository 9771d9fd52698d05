"""Export a trained model to a Mimetic model file through the converter, read one back into PyTorch.

Export: the model's original-layout state dict (FaceFormer / Imitator / Mimic names, see models.py)
-> fold the training scale (offsets were trained in units of 1 / RMS, the file is in metres)
-> `convert.infer_config` (every size given explicitly as an override, nothing guessed)
-> `convert.convert_state_dict` -> `convert.write_model` with the rig's template, triangles and
lip vertices. FaceFormer / Imitator: `styles.names` = the training speakers (one-hot order).
Mimic: optionally `style_codes` of the training speakers (mean code over their clips), named by
`styles.names`; a Mimic file without them takes its style from a reference clip.

Scale folding (exact): with y_train = S * y_metres,
  output heads    (FaceFormer vertice_map_r, Imitator final_out_layer, Mimic motion_map_r): W / S, b / S
  motion inputs   (FaceFormer vertice_map, Mimic decoder.motion_map, style/content motion_map): W * S
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file

from .. import convert as C
from ..convert import layout
from ..convert.weight_norm import unfold_weight_norm
from .models import ModelConfig, TrainModel

_OUT_HEADS = {
    "faceformer": ["vertice_map_r"],
    "imitator": ["vertice_map_r.decoder.final_out_layer"],
    "mimic": ["decoder.motion_map_r"],
}
_IN_HEADS = {
    "faceformer": ["vertice_map"],
    "imitator": [],
    "mimic": ["decoder.motion_map", "style_encoder.motion_map", "content_encoder.motion_map"],
}


def fold_scale(sd: Dict[str, torch.Tensor], family: str, scale: float) -> "OrderedDict[str, torch.Tensor]":
    out = OrderedDict((k, v.detach().clone().float() if v.is_floating_point() else v.clone()) for k, v in sd.items())
    S = float(scale)
    for p in _OUT_HEADS[family]:
        out[p + ".weight"] = out[p + ".weight"] / S
        out[p + ".bias"] = out[p + ".bias"] / S
    for p in _IN_HEADS[family]:
        if p + ".weight" in out:
            out[p + ".weight"] = out[p + ".weight"] * S
    return out


def file_config(model: TrainModel, style_names: Sequence[str]) -> dict:
    """Overrides that pin every field of the Mimetic config to the trained architecture."""
    mc = model.cfg
    realtime = model.adapter.kind == "realtime"
    if realtime:  # the section from mimetic_tools.realtime_encoder (alignment "native" follows)
        enc = dict(model.audio_module.config.to_config())
    else:
        enc = model.adapter.config()
        enc = {k: enc[k] for k in C.ENCODER_KEYS if k in enc}
    ov = {
        "fps": mc.fps,
        "encoder": enc,
        "decoder": {"num_heads": mc.num_heads, "max_seq_len": mc.max_seq_len, "period": mc.period},
    }
    if mc.family in ("faceformer", "imitator"):
        ov["styles"] = {"names": list(style_names)}
        ov["dataset"] = "vocaset"  # 30 fps, interpolate (FaceFormer's PPE period is 30 as well)
    if mc.family == "imitator":
        ov["imitator"] = {"start_token": "zeros", "mlp_layers": mc.mlp_layers, "leaky_slope": 0.01}
    if mc.family == "mimic":
        if not realtime:
            ov["alignment"] = {"mode": "interpolate", "frames_offset": 1}
        ov["mimic"] = {"style_heads": mc.style_heads, "style_window": mc.style_window}
    return ov


def export_model(model: TrainModel, scale: float, rig, out_path, style_names: Sequence[str] = (),
                 style_codes: Optional[np.ndarray] = None, dtype: str = "f32",
                 provenance: Optional[dict] = None) -> dict:
    """Write `out_path`; returns the config. style_codes (Mimic): [n, d] in the model's units (codes
    are scale-free: the style encoder's input layer is folded, its output is unchanged)."""
    fam = model.family
    sd = fold_scale(model.original_state_dict(), fam, scale)
    overrides = file_config(model, style_names)
    cfg = C.infer_config(sd, family=fam, overrides=overrides)
    report: dict = {}
    enc_tensors = model.audio_module.canonical_tensors() if model.adapter.kind == "realtime" else None
    tensors = C.convert_state_dict(sd, cfg, report=report, encoder_tensors=enc_tensors)
    if report.get("unexpected"):
        raise C.ConversionError(f"unexpected keys in the trained state dict: {report['unexpected']}")
    if fam == "mimic" and style_codes is not None:
        codes = np.asarray(style_codes, np.float32)
        if codes.shape != (len(style_names), mc_d(model)):
            raise ValueError(f"style_codes must be [{len(style_names)}, {mc_d(model)}], got {list(codes.shape)}")
        tensors["style_codes"] = codes
        cfg["styles"]["names"] = list(style_names)
    prov = OrderedDict([("converter", f"mimetic_tools.training via {C.CONVERTER_NAME} {C.CONVERTER_VERSION}"),
                        ("family", fam)])
    if provenance:
        prov.update(provenance)
    C.write_model(out_path, tensors, cfg, template=np.asarray(rig.template, np.float32),
                  triangles=np.asarray(rig.triangles, np.int32), lip_vertices=np.asarray(rig.lip_vertices, np.int32),
                  lip_pairs=np.stack([np.asarray(rig.lip_upper, np.int32), np.asarray(rig.lip_lower, np.int32)]),
                  dtype=dtype, provenance=prov)
    return cfg


def mc_d(model: TrainModel) -> int:
    return model.cfg.d_model


def validate_model_file(path) -> dict:
    """Re-read a model file and check it the way the converter does (config, exact tensor set, shapes,
    assets, finiteness). Returns the config."""
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    if meta.get("mimetic.format") != C.FORMAT_VERSION:
        raise C.ConversionError(f"{path}: mimetic.format is {meta.get('mimetic.format')!r}")
    cfg = json.loads(meta["mimetic.config"])
    C.validate_config(cfg)
    t = load_file(str(path))
    assets = {k: t.pop(k) for k in C.ASSET_NAMES if k in t}
    C.check_tensors(cfg, t)
    V = cfg["num_vertices"]
    if "template" in assets and assets["template"].shape != (V, 3):
        raise C.ConversionError(f"template shape {assets['template'].shape}")
    for k in ("triangles", "lip_vertices", "lip_pairs"):
        if k in assets:
            a = assets[k]
            if a.dtype != np.int32 or a.min() < 0 or a.max() >= V:
                raise C.ConversionError(f"{k}: bad indices")
    for k, v in t.items():
        if not np.all(np.isfinite(v.astype(np.float32))):
            raise C.ConversionError(f"{k}: non-finite")
    return cfg


# ----------------------------------------------------------------------------------------------
# Model file -> PyTorch: the converter's name table (convert/layout.py), read the other way
# ----------------------------------------------------------------------------------------------
def original_state_dict_from_file(tensors: Dict[str, np.ndarray], cfg: dict) -> Dict[str, torch.Tensor]:
    """The model file's tensors under the original (training-module) names. A realtime encoder's
    tensors are not included: `RealtimeEncoder.load_canonical_tensors` reads them."""
    entries = layout.head_tensors(cfg)
    if cfg["encoder"].get("type") != "realtime":
        entries = layout.wav2vec2_tensors(cfg, layout.default_feature_extractor(cfg["family"])) + entries
    g = lambda k: np.asarray(tensors[k], np.float32)  # noqa: E731
    sd: Dict[str, np.ndarray] = {}
    for e in entries:
        if e.kind == layout.LINEAR:
            sd[f"{e.original}.weight"] = g(f"{e.file}.weight")
            if e.bias:
                sd[f"{e.original}.bias"] = g(f"{e.file}.bias")
        elif e.kind == layout.TENSOR:
            sd[e.original] = g(e.file)
        elif e.kind == layout.CONV:
            sd[e.original] = layout.swap_conv_axes(g(e.file))
        elif e.kind == layout.ATTENTION:
            sd[f"{e.original}.in_proj_weight"] = np.concatenate([g(f"{e.file}.{q}.weight") for q in "qkv"], 0)
            sd[f"{e.original}.in_proj_bias"] = np.concatenate([g(f"{e.file}.{q}.bias") for q in "qkv"], 0)
            sd[f"{e.original}.out_proj.weight"] = g(f"{e.file}.o.weight")
            sd[f"{e.original}.out_proj.bias"] = g(f"{e.file}.o.bias")
        elif e.kind == layout.POS_CONV:  # the training module keeps the weight norm: store it unfolded
            w_g, w_v = unfold_weight_norm(layout.swap_conv_axes(g(e.file)))
            sd[e.original + "weight_g"], sd[e.original + "weight_v"] = w_g, w_v
        else:  # pragma: no cover - the table has no other kinds
            raise AssertionError(e.kind)
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def load_model_file(path) -> tuple:
    """Load a Mimetic model file (wav2vec2 encoder, any family) into a TrainModel in metres (scale 1).
    Returns (model, info) with info = {"config", "styles", "style_codes", "template", "triangles",
    "lip_vertices", "lip_pairs"}."""
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
    cfg = json.loads(meta["mimetic.config"])
    t = load_file(str(path))
    enc = dict(cfg["encoder"])
    realtime = enc.get("type") == "realtime"
    if realtime:
        enc["fps"] = cfg["fps"]
    elif enc.get("type") != "wav2vec2":
        raise NotImplementedError(f"{path}: encoder type {enc.get('type')!r} is not loadable in PyTorch here")
    dec = cfg["decoder"]
    fam = cfg["family"]
    names = list(cfg["styles"]["names"])
    kw = dict(family=fam, num_vertices=cfg["num_vertices"], n_styles=max(len(names), 1), encoder=enc,
              d_model=dec["d_model"], num_heads=dec["num_heads"], ffn_dim=dec["ffn_dim"], num_layers=dec["num_layers"],
              period=dec["period"], fps=cfg["fps"], max_seq_len=dec["max_seq_len"], dropout=0.0)
    if fam == "imitator":
        kw["mlp_layers"] = cfg["imitator"]["mlp_layers"]
        if cfg["imitator"]["start_token"] != "zeros":
            raise NotImplementedError("Imitator start_token 'style' is not supported by the training model")
    if fam == "mimic":
        m = cfg["mimic"]
        kw.update(style_conv_layers=m["style_conv_layers"], style_layers=m["style_layers"],
                  style_heads=m["style_heads"], style_ffn_dim=m["style_ffn_dim"], style_window=m["style_window"])
        if cfg["alignment"]["mode"] not in ("interpolate", "native"):
            raise NotImplementedError("Mimic alignment other than 'interpolate' is not supported by the training model")
    else:
        if cfg["alignment"]["mode"] not in ("interpolate", "native"):
            raise NotImplementedError("alignment 'pairs' (BIWI) is not supported by the training model")
    mc = ModelConfig(**kw)
    model = TrainModel(mc, seed=0)
    sd = original_state_dict_from_file(t, cfg)
    missing, unexpected = model.net.load_state_dict(sd, strict=False)
    if unexpected:
        raise KeyError(f"unexpected keys {unexpected[:5]}")
    if realtime:
        model.audio_module.load_canonical_tensors({k: v for k, v in t.items() if k.startswith("encoder.")})
        enc_prefix = layout.LAYOUT[fam]["wav2vec"]
        missing = [k for k in missing if not k.startswith(enc_prefix)]
    bad = [k for k in missing if not (k.endswith(".pe") or "masked_spec_embed" in k or k.startswith("content_encoder.")
                                       or k.startswith(("style_class_head.", "content_grl_head.")) or k == "logit_scale")]
    if bad:
        raise KeyError(f"model file lacks {bad[:5]}")
    model.eval()
    info = {"config": cfg, "styles": names, "style_codes": t.get("style_codes"),
            "template": t.get("template"), "triangles": t.get("triangles"), "lip_vertices": t.get("lip_vertices"),
            "lip_pairs": t.get("lip_pairs")}
    return model, info
