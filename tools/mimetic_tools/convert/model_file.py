"""Writing a Mimetic model file, and the whole conversion of one checkpoint."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from .assets import ASSET_NAMES, load_lip_pairs, load_lip_vertices, load_template, load_triangles
from .checkpoint import load_checkpoint
from .config_inference import infer_config
from .config_schema import check_tensors, validate_config
from .constants import CONVERTER_NAME, CONVERTER_VERSION, FORMAT_VERSION
from .conversion import convert_state_dict
from .errors import ConversionError


def write_model(dst_path, tensors: Mapping, config: Mapping, template=None, triangles=None,
                lip_vertices=None, dtype: str = "f32", provenance: Optional[Mapping] = None,
                template_key: Optional[str] = None, lip_pairs=None) -> None:
    """Write a Mimetic model file (safetensors + metadata). Weights F32 or F16, assets F32 / I32."""
    from safetensors.numpy import save_file

    dtype = str(dtype).lower()
    if dtype in ("float32", "fp32"):
        dtype = "f32"
    if dtype in ("float16", "fp16", "half"):
        dtype = "f16"
    if dtype not in ("f32", "f16"):
        raise ConversionError(f"dtype must be 'f32' or 'f16', got {dtype!r}")
    validate_config(config)
    reserved = set(ASSET_NAMES) & set(tensors)
    if reserved:
        raise ConversionError(f"weights may not use the asset names {sorted(reserved)}")
    check_tensors(config, tensors)
    V = int(config["num_vertices"])
    out: Dict[str, np.ndarray] = {}
    for name, arr in tensors.items():
        a = np.asarray(arr, dtype=np.float32)
        if not np.all(np.isfinite(a)):
            raise ConversionError(f"tensor '{name}' has non-finite values")
        if dtype == "f16":
            h = a.astype(np.float16)
            if not np.all(np.isfinite(h)):
                raise ConversionError(f"tensor '{name}' overflows float16 (max |x| = {float(np.abs(a).max()):g})")
            a = h
        out[name] = np.ascontiguousarray(a)
    if template is not None:
        out["template"] = load_template(template, template_key, V)
    if triangles is not None:
        out["triangles"] = load_triangles(triangles, V)
    if lip_vertices is not None:
        out["lip_vertices"] = load_lip_vertices(lip_vertices, V)
    if lip_pairs is not None:
        out["lip_pairs"] = load_lip_pairs(lip_pairs, V)
    metadata = {"mimetic.format": FORMAT_VERSION, "mimetic.config": json.dumps(config)}
    if provenance is not None:
        metadata["mimetic.provenance"] = json.dumps(dict(provenance))
    dst = Path(dst_path)
    if dst.parent and not dst.parent.exists():
        raise ConversionError(f"output directory {dst.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".tmp", dir=str(dst.parent or "."))
    os.close(fd)
    try:
        save_file(out, tmp, metadata=metadata)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert_checkpoint(src_path, dst_path, overrides: Optional[Mapping] = None, template=None,
                       triangles=None, lip_vertices=None, dtype: str = "f32",
                       template_key: Optional[str] = None, report: Optional[dict] = None, lip_pairs=None) -> dict:
    """Load, infer, convert and write; return the config."""
    src_path = Path(src_path)
    sd, extra = load_checkpoint(src_path)
    overrides = dict(overrides or {})
    config = infer_config(sd, family=overrides.pop("family", None), extra=extra, overrides=overrides)
    rep = report if report is not None else {}
    tensors = convert_state_dict(sd, config, report=rep)
    provenance = OrderedDict([
        ("converter", f"{CONVERTER_NAME} {CONVERTER_VERSION}"),
        ("source", src_path.name),
        ("source_sha256", _sha256(src_path)),
        ("family", config["family"]),
    ])
    write_model(dst_path, tensors, config, template=template, triangles=triangles,
                lip_vertices=lip_vertices, dtype=dtype, provenance=provenance, template_key=template_key,
                lip_pairs=lip_pairs)
    rep["extra"] = extra
    rep["num_tensors"] = len(tensors)
    rep["num_parameters"] = int(sum(int(np.prod(t.shape)) for t in tensors.values()))
    return config

