"""Which original a state dict comes from, and the key prefix it was saved with."""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Dict

from .errors import ConversionError


def detect_family(state_dict: Mapping) -> str:
    keys = set(state_dict.keys())
    if any(k.startswith("nn_model.") for k in keys) or \
            "vertice_map_r.decoder.final_out_layer.weight" in keys:
        return "imitator"
    if any(k.startswith("style_encoder.") for k in keys) and "decoder.motion_map_r.weight" in keys:
        return "mimic"
    if "vertice_map.weight" in keys and "vertice_map_r.weight" in keys:
        return "faceformer"
    prefixes: Dict[str, int] = {}
    for k in keys:
        p = k.split(".")[0]
        prefixes[p] = prefixes.get(p, 0) + 1
    found = ", ".join(f"{p} ({n})" for p, n in sorted(prefixes.items())) or "no keys"
    sample = ", ".join(sorted(keys)[:8])
    raise ConversionError(
        "unknown checkpoint layout: expected FaceFormer (vertice_map.weight + vertice_map_r.weight), "
        "Imitator (nn_model.* / vertice_map_r.decoder.final_out_layer.weight) or Mimic "
        "(style_encoder.* + decoder.motion_map_r.weight); "
        f"found top-level prefixes: {found}; first keys: {sample}")


def normalise_keys(state_dict: Mapping, family: str) -> Dict[str, Any]:
    """Strip Imitator's Lightning prefix; other families are used as is."""
    if family == "imitator":
        return OrderedDict((k[len("nn_model."):] if k.startswith("nn_model.") else k, v)
                           for k, v in state_dict.items())
    return OrderedDict(state_dict)


def original_prefix(state_dict: Mapping, family: str) -> str:
    if family == "imitator" and any(k.startswith("nn_model.") for k in state_dict):
        return "nn_model."
    return ""


def reraise_with_prefix(e: "ConversionError", prefix: str):
    """Name keys in error messages as the source file spells them (Imitator's `nn_model.`)."""
    if not prefix:
        raise e
    msg = re.sub(r"(missing required key ')", r"\1" + prefix, str(e))
    raise ConversionError(msg) from e

