"""Converters from the original FaceFormer / Imitator / Mimic checkpoints to the Mimetic model format.

The target format is described in ``docs/model-format.md``: one safetensors file whose
``__metadata__`` carries the architecture config (JSON) and whose tensors use canonical names and
layouts (conv weights ``[out, kernel, in_per_group]``, attention split into q/k/v/o, weight norm
folded).

Library API::

    load_checkpoint(path) -> (state_dict, extra)
    detect_family(state_dict) -> "faceformer" | "imitator" | "mimic"
    infer_config(state_dict, family=None, extra=None, overrides=None) -> dict
    convert_state_dict(state_dict, config) -> dict[str, np.ndarray]
    write_model(dst_path, tensors, config, template=None, triangles=None, lip_vertices=None,
                dtype="f32", provenance=None)
    convert_checkpoint(src_path, dst_path, overrides=None, template=None, triangles=None,
                       lip_vertices=None, dtype="f32") -> dict

Errors are raised as :class:`ConversionError` (a ``ValueError``); recoverable oddities (unknown
keys that are not converted) are reported with :class:`ConversionWarning`.

Only CPU torch, numpy and safetensors are needed; the original projects' packages (transformers,
pytorch_lightning, ...) are not: classes they pickled into a checkpoint are replaced by inert stubs.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib
import json
import logging
import math
import os
import pickle
import re
import struct
import sys
import tempfile
import types
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

try:  # torch is only needed to read .pth/.ckpt files
    import torch
except ImportError:  # pragma: no cover - torch is a hard requirement of the tools
    torch = None

CONVERTER_NAME = "mimetic_tools.convert"
CONVERTER_VERSION = "1.0"
FORMAT_VERSION = "1"

FAMILIES = ("faceformer", "imitator", "mimic")

# One-hot order of the training subjects (FaceFormer main.py / Imitator cfg `train_subjects`).
VOCASET_TRAIN_SUBJECTS = [
    "FaceTalk_170728_03272_TA",
    "FaceTalk_170904_00128_TA",
    "FaceTalk_170725_00137_TA",
    "FaceTalk_170915_00223_TA",
    "FaceTalk_170811_03274_TA",
    "FaceTalk_170913_03279_TA",
    "FaceTalk_170904_03276_TA",
    "FaceTalk_170912_03278_TA",
]
BIWI_TRAIN_SUBJECTS = ["F2", "F3", "F4", "M3", "M4", "M5"]

STANDARD_CONV_STRIDE = [5, 2, 2, 2, 2, 2, 2]
BIWI_MOTION_DIM = 23370 * 3
DEFAULT_MAX_SEQ_LEN = 600

log = logging.getLogger("mimetic_tools.convert")


class ConversionError(ValueError):
    """A checkpoint cannot be converted (bad input, missing key, inconsistent config...)."""


class ConversionWarning(UserWarning):
    """Something was ignored during conversion (e.g. unknown keys)."""


# =================================================================================================
# Loading
# =================================================================================================

# --- an unpickler that never imports unknown code -------------------------------------------------

class _StubBase(dict):
    """Inert stand-in for a class the checkpoint pickled but that we do not want to import.

    Accepts any construction / state protocol (REDUCE, NEWOBJ, BUILD, SETITEMS, APPENDS) and keeps
    what it was given, so the surrounding structure stays inspectable. It is a dict subclass so that
    pickled dict subclasses (e.g. Lightning's ``AttributeDict``) keep their items.
    """

    _stub_module = "?"
    _stub_name = "?"

    def __new__(cls, *args, **kwargs):
        return dict.__new__(cls)

    def __init__(self, *args, **kwargs):  # noqa: D401 - accept anything
        dict.__init__(self)
        self.__dict__["stub_args"] = args
        self.__dict__["stub_kwargs"] = kwargs

    def __setstate__(self, state):
        self.__dict__["stub_state"] = state

    def __setattr__(self, name, value):
        self.__dict__[name] = value

    def append(self, value):
        self.__dict__.setdefault("stub_items", []).append(value)

    def extend(self, values):
        self.__dict__.setdefault("stub_items", []).extend(values)

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __repr__(self):
        return f"<stub {self._stub_module}.{self._stub_name}>"


_STUB_CACHE: Dict[Tuple[str, str], type] = {}


def _stub_class(module: str, name: str) -> type:
    key = (module, name)
    cls = _STUB_CACHE.get(key)
    if cls is None:
        safe = re.sub(r"\W", "_", name) or "Stub"
        cls = type(safe, (_StubBase,), {"_stub_module": module, "_stub_name": name,
                                        "__module__": "mimetic_tools.convert.stubs"})
        _STUB_CACHE[key] = cls
    return cls


def _safe_reconstructor(cls, base, state):
    """copyreg._reconstructor that tolerates stub classes."""
    if isinstance(cls, type) and issubclass(cls, _StubBase):
        obj = cls()
        obj.__setstate__(state)
        return obj
    import copyreg
    return copyreg._reconstructor(cls, base, state)


_SAFE_BUILTINS = {
    "set", "frozenset", "slice", "range", "complex", "bytearray", "bytes", "list", "dict",
    "tuple", "int", "float", "str", "bool", "object",
}
_SAFE_COLLECTIONS = {"OrderedDict", "defaultdict", "deque", "Counter"}
_TORCH_FUNCTION_MODULES = ("torch._utils", "torch._tensor", "torch.nn.parameter")
_TORCH_CLASS_MODULE_PREFIXES = ("torch.nn.", "torch.storage", "torch._tensor", "torch.torch_version",
                                "torch.nn.parameter", "torch.types", "torch._utils")


def _resolve(module: str, name: str):
    mod = importlib.import_module(module)
    obj = mod
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _allowed_global(module: str, name: str):
    """Return the real object for an allow-listed global, or None to stub it."""
    top = module.split(".")[0]
    if module == "builtins" and name in _SAFE_BUILTINS:
        return _resolve(module, name)
    if module == "collections" and name in _SAFE_COLLECTIONS:
        return _resolve(module, name)
    if module == "_codecs" and name == "encode":
        return _resolve(module, name)
    if module == "copyreg" and name == "_reconstructor":
        return _safe_reconstructor
    if top == "torch":
        try:
            obj = _resolve(module, name)
        except Exception:
            return None
        if module == "torch":
            # Size, device, dtype values (torch.float32), layouts, memory formats, storages.
            if isinstance(obj, type) or not callable(obj):
                return obj
            return None
        if module in _TORCH_FUNCTION_MODULES and name.startswith("_rebuild"):
            return obj
        if module == "torch.serialization" and name == "_get_layout":
            return obj
        if isinstance(obj, type) and (module.startswith(_TORCH_CLASS_MODULE_PREFIXES)):
            return obj
        if module.startswith("torch.nn.functional") or module == "torch.nn.modules.activation":
            return obj if callable(obj) else None
        return None
    if top == "numpy":
        try:
            obj = _resolve(module, name)
        except Exception:
            return None
        if name in ("_reconstruct", "scalar") and module.endswith("multiarray"):
            return obj
        if obj is np.ndarray or (isinstance(obj, type) and issubclass(obj, (np.dtype, np.generic))):
            return obj  # not ndarray subclasses: np.memmap would open files
        if module.startswith("numpy.dtypes") and isinstance(obj, type):
            return obj
        return None
    return None


def _make_stub_pickle_module(stubbed: List[str]) -> types.ModuleType:
    """A pickle-compatible module for ``torch.load(pickle_module=...)`` that stubs unknown globals."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            obj = _allowed_global(module, name)
            if obj is not None:
                return obj
            qual = f"{module}.{name}"
            if qual not in stubbed:
                stubbed.append(qual)
            return _stub_class(module, name)

    def load(file, **kwargs):
        return Unpickler(file, **kwargs).load()

    def loads(data, **kwargs):
        import io
        return Unpickler(io.BytesIO(data), **kwargs).load()

    mod = types.ModuleType("mimetic_stub_pickle")
    mod.Unpickler = Unpickler
    mod.load = load
    mod.loads = loads
    mod.Pickler = pickle.Pickler
    mod.dump = pickle.dump
    mod.dumps = pickle.dumps
    mod.__version__ = "1"
    return mod


def _is_safetensors_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        if len(head) < 9:
            return False
        (n,) = struct.unpack("<Q", head[:8])
        return 1 < n <= path.stat().st_size - 8 and head[8:9] == b"{"
    except OSError:
        return False


def _torch_load(path: Path, stubbed: List[str]):
    """torch.load: weights-only first, then with the stubbing unpickler (mmap when possible)."""
    if torch is None:  # pragma: no cover
        raise ConversionError("PyTorch is required to read .pth/.ckpt checkpoints")
    mmaps = [True, False] if zipfile.is_zipfile(path) else [False]
    errors: List[BaseException] = []
    for weights_only in (True, False):
        for mmap in mmaps:
            kwargs: Dict[str, Any] = {"map_location": "cpu", "weights_only": weights_only, "mmap": mmap}
            if not weights_only:
                del stubbed[:]
                kwargs["pickle_module"] = _make_stub_pickle_module(stubbed)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return torch.load(str(path), **kwargs)
            except Exception as e:  # noqa: BLE001 - try the next way of reading it
                errors.append(e)
    e = errors[-1]
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise ConversionError(f"{path}: not a PyTorch checkpoint or safetensors file: {type(e).__name__}: {msg}") from e


def _to_tensor(value):
    if torch is not None and isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return torch.from_numpy(np.ascontiguousarray(value))
    return None


def _tensor_items(obj: Mapping) -> Tuple[Dict[str, Any], List[str]]:
    tensors: Dict[str, Any] = OrderedDict()
    other: List[str] = []
    for k, v in obj.items():
        t = _to_tensor(v)
        if isinstance(k, str) and t is not None:
            tensors[k] = t
        else:
            other.append(str(k))
    return tensors, other


def _extract_state_dict(obj, path: Path) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    extra: Dict[str, Any] = {}
    if torch is not None and isinstance(obj, torch.nn.Module):
        extra["layout"] = "module"
        return OrderedDict(obj.state_dict()), extra
    if not isinstance(obj, Mapping):
        raise ConversionError(
            f"{path}: not a checkpoint: the file holds a {type(obj).__name__}, "
            "expected a state dict or a dict with 'state_dict' / 'model'")
    if isinstance(obj.get("state_dict"), Mapping):
        # PyTorch Lightning checkpoint (Imitator).
        extra["layout"] = "lightning"
        extra["lightning_version"] = obj.get("pytorch-lightning_version")
        extra["epoch"] = obj.get("epoch")
        extra["global_step"] = obj.get("global_step")
        hp = obj.get("hyper_parameters")
        if isinstance(hp, Mapping):
            extra["hyper_parameters"] = dict(hp)
        extra["other_keys"] = sorted(str(k) for k in obj.keys() if k != "state_dict")
        sd, non_tensor = _tensor_items(obj["state_dict"])
    elif isinstance(obj.get("model"), Mapping) and ("params" in obj or "optimizer" in obj
                                                    or "start_epoch" in obj):
        # Mimic Epoch_N.pth: {"params", "model", "optimizer", "start_epoch"}.
        extra["layout"] = "mimic"
        params = obj.get("params")
        extra["params"] = params if isinstance(params, Mapping) else None
        extra["epoch"] = obj.get("start_epoch")
        extra["other_keys"] = sorted(str(k) for k in obj.keys() if k != "model")
        sd, non_tensor = _tensor_items(obj["model"])
    else:
        sd, non_tensor = _tensor_items(obj)
        if not sd:
            for key in ("model", "state_dict", "model_state_dict", "net", "weights"):
                if isinstance(obj.get(key), Mapping):
                    sd, non_tensor = _tensor_items(obj[key])
                    extra["layout"] = f"dict[{key!r}]"
                    break
        else:
            extra["layout"] = "state_dict"
    if not sd:
        keys = ", ".join(sorted(str(k) for k in obj.keys())[:12])
        raise ConversionError(f"{path}: not a checkpoint: no tensors found (top-level keys: {keys})")
    if non_tensor:
        extra["non_tensor_keys"] = non_tensor
    # DataParallel prefix.
    if all(k.startswith("module.") for k in sd):
        sd = OrderedDict((k[len("module."):], v) for k, v in sd.items())
        extra["stripped_prefix"] = "module."
    return sd, extra


def load_checkpoint(path) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Load an original checkpoint and return ``(state_dict, extra)``.

    Handles FaceFormer ``.pth`` (plain state dict), Imitator Lightning ``.ckpt`` (``state_dict``,
    keys keep their ``nn_model.`` prefix; pickled class references become inert stubs), Mimic
    ``Epoch_N.pth`` (``model`` + ``params``) and ``.safetensors`` state dicts. ``extra`` holds
    ``layout``, ``source`` and whatever configuration hints the file carried (``params`` for Mimic,
    ``metadata`` for safetensors, ``stubbed_classes`` for pickled classes that were not imported).
    """
    path = Path(path)
    if not path.exists():
        raise ConversionError(f"{path}: no such file")
    if path.is_dir():
        raise ConversionError(f"{path}: is a directory, expected a checkpoint file")
    if path.stat().st_size == 0:
        raise ConversionError(f"{path}: not a checkpoint: the file is empty")
    if _is_safetensors_file(path):
        from safetensors import safe_open
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = dict(f.metadata() or {})
                sd = OrderedDict((k, f.get_tensor(k)) for k in f.keys())
        except Exception as e:  # noqa: BLE001
            raise ConversionError(f"{path}: unreadable safetensors file: {e}") from e
        if "mimetic.format" in meta:
            raise ConversionError(f"{path}: this is already a Mimetic model file "
                                  f"(mimetic.format = {meta['mimetic.format']})")
        if not sd:
            raise ConversionError(f"{path}: not a checkpoint: the safetensors file has no tensors")
        extra = {"layout": "safetensors", "metadata": meta, "source": path.name}
        return sd, extra
    stubbed: List[str] = []
    obj = _torch_load(path, stubbed)
    sd, extra = _extract_state_dict(obj, path)
    extra["source"] = path.name
    if stubbed:
        extra["stubbed_classes"] = stubbed
    return sd, extra


# =================================================================================================
# Family detection
# =================================================================================================

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


def _normalise_keys(state_dict: Mapping, family: str) -> Dict[str, Any]:
    """Strip Imitator's Lightning prefix; other families are used as is."""
    if family == "imitator":
        return OrderedDict((k[len("nn_model."):] if k.startswith("nn_model.") else k, v)
                           for k, v in state_dict.items())
    return OrderedDict(state_dict)


def _original_prefix(state_dict: Mapping, family: str) -> str:
    if family == "imitator" and any(k.startswith("nn_model.") for k in state_dict):
        return "nn_model."
    return ""


def _reraise_with_prefix(e: "ConversionError", prefix: str):
    """Name keys in error messages as the source file spells them (Imitator's `nn_model.`)."""
    if not prefix:
        raise e
    msg = re.sub(r"(missing required key ')", r"\1" + prefix, str(e))
    raise ConversionError(msg) from e


# Per-family key prefixes in the (normalised) original state dict.
_LAYOUT = {
    "faceformer": {"wav2vec": "audio_encoder.", "audio_map": "audio_feature_map.",
                   "decoder": "transformer_decoder.layers."},
    "imitator": {"wav2vec": "audio_encoder.", "audio_map": "audio_feature_map.",
                 "decoder": "transformer_decoder.layers."},
    "mimic": {"wav2vec": "audio_encoder.audio_encoder.", "audio_map": "audio_encoder.audio_feature_map.",
              "decoder": "decoder.transformer_decoder.layers."},
}


# =================================================================================================
# Config inference
# =================================================================================================

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


def _feature_extractor_prefix(sd: Mapping, w: str) -> str:
    for name in ("feature_extractor.", "feature_encoder."):
        if any(k.startswith(w + name + "conv_layers.") for k in sd):
            return w + name
    return w + "feature_extractor."


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


def _deep_merge(base: dict, over: Mapping) -> dict:
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            _deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
    return base


def _infer_encoder(sd: Mapping, family: str, overrides: Mapping) -> dict:
    w = _LAYOUT[family]["wav2vec"]
    fe = _feature_extractor_prefix(sd, w)
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


def _faceformer_period(pe) -> Optional[int]:
    """Period of FaceFormer's PPE table [1, p*(600//p+1), d] (shape + content)."""
    x = np.asarray(_np(pe), dtype=np.float64)
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
        return _infer_config(_normalise_keys(state_dict, family), family, extra, overrides, dataset_flag)
    except ConversionError as e:
        _reraise_with_prefix(e, _original_prefix(state_dict, family))


def _infer_config(sd: Mapping, family: str, extra: Mapping, overrides: dict, dataset_flag) -> dict:
    lay = _LAYOUT[family]
    realtime = _is_realtime(overrides.get("encoder"))
    if realtime:
        # The real-time encoder is not in the checkpoint (its config and tensors come from
        # mimetic_tools.realtime_encoder); only the head is inferred from the keys.
        encoder = copy.deepcopy(dict(overrides["encoder"]))
        if not _is_int(encoder.get("hidden_size")):
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
            period = _faceformer_period(sd["PPE.pe"])
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

    _deep_merge(cfg, overrides)
    validate_config(cfg)
    names = cfg["styles"]["names"]
    if family in ("faceformer", "imitator") and len(names) != n_styles:
        raise ConversionError(f"styles.names has {len(names)} entries, but the checkpoint's obj_vector.weight "
                              f"has {n_styles} styles")
    if family == "mimic" and names:
        raise ConversionError("Mimic styles are rows of style_codes, which a checkpoint does not hold: "
                              "styles.names must be empty")
    return json.loads(json.dumps(cfg))  # plain dicts, JSON-clean, key order kept


# =================================================================================================
# Config validation and expected tensors
# =================================================================================================

_ENC_KEYS = ["type", "conv_dim", "conv_kernel", "conv_stride", "conv_bias", "feat_extract_norm",
             "hidden_size", "num_layers", "num_heads", "intermediate_size", "pos_conv_kernel",
             "pos_conv_groups", "layer_norm_eps", "stable_layer_norm", "input_norm_eps"]
_RT_ENC_KEYS = ["type", "n_fft", "win_length", "window_ahead", "n_mels", "f_min", "f_max", "mel_scale",
                "log_floor", "subframes", "hidden_size", "mel_kernel", "mel_dilation", "mel_lookahead",
                "down_kernel", "down_lookahead", "kernel", "dilation", "lookahead", "layer_norm_eps"]
_DEC_KEYS = ["d_model", "num_heads", "ffn_dim", "num_layers", "norm", "norm_eps", "attention_bias",
             "positional", "period", "max_seq_len"]
_IMI_KEYS = ["start_token", "mlp_layers", "leaky_slope"]
_MIM_KEYS = ["style_conv_layers", "style_layers", "style_heads", "style_ffn_dim", "style_window",
             "style_norm_eps"]
_TOP_KEYS = ["family", "sample_rate", "fps", "num_vertices", "encoder", "alignment", "decoder",
             "styles", "imitator", "mimic"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and \
        math.isfinite(float(v))


def _is_realtime(enc) -> bool:
    return isinstance(enc, Mapping) and enc.get("type") == "realtime"


def realtime_encoder_errors(enc: Mapping) -> List[str]:
    """Problems in a realtime encoder section (docs/model-format.md; the same checks as the runtime's)."""
    errs: List[str] = []

    def ints(key, lo, hi):
        v = enc[key]
        if not _is_int(v) or not lo <= v <= hi:
            errs.append(f"encoder.{key} must be an integer in [{lo}, {hi}], got {v!r}")
            return False
        return True

    if ints("n_fft", 16, 8192) and enc["n_fft"] & (enc["n_fft"] - 1):
        errs.append(f"encoder.n_fft must be a power of two, got {enc['n_fft']}")
    if ints("win_length", 1, 8192) and _is_int(enc["n_fft"]) and enc["win_length"] > enc["n_fft"]:
        errs.append(f"encoder.win_length {enc['win_length']} exceeds n_fft {enc['n_fft']}")
    if ints("window_ahead", 0, 8192) and _is_int(enc["win_length"]) and enc["window_ahead"] > enc["win_length"]:
        errs.append(f"encoder.window_ahead {enc['window_ahead']} exceeds win_length {enc['win_length']}")
    ints("n_mels", 1, 1024)
    ints("subframes", 1, 64)
    ints("hidden_size", 1, 16384)
    if not (_is_num(enc["f_min"]) and _is_num(enc["f_max"]) and 0 <= enc["f_min"] < enc["f_max"] <= 8000):
        errs.append(f"encoder.f_min/f_max must satisfy 0 <= f_min < f_max <= 8000, got {enc['f_min']!r}, "
                    f"{enc['f_max']!r}")
    if enc["mel_scale"] != "htk":
        errs.append(f"encoder.mel_scale must be 'htk', got {enc['mel_scale']!r}")
    for k in ("log_floor", "layer_norm_eps"):
        if not _is_num(enc[k]) or enc[k] <= 0:
            errs.append(f"encoder.{k} must be a positive number, got {enc[k]!r}")
    for group in (("mel_kernel", "mel_dilation", "mel_lookahead"), ("kernel", "dilation", "lookahead")):
        lists = [enc[k] for k in group]
        if not all(isinstance(x, (list, tuple)) and all(_is_int(i) for i in x) for x in lists):
            errs.append(f"encoder.{'/'.join(group)} must be lists of integers")
        elif len({len(x) for x in lists}) != 1 or len(lists[0]) > 64:
            errs.append(f"encoder.{'/'.join(group)} must have equal lengths (at most 64)")
        else:
            for i, (k, d, a) in enumerate(zip(*lists)):
                if not (1 <= k <= 64 and 1 <= d <= 1024 and 0 <= a <= (k - 1) * d):
                    errs.append(f"encoder.{group[0]}[{i}]: need 1 <= kernel <= 64, 1 <= dilation <= 1024, "
                                f"0 <= lookahead <= (kernel - 1) * dilation; got {k}, {d}, {a}")
    if ints("down_kernel", 1, 256) and ints("down_lookahead", 0, 255) and \
            enc["down_lookahead"] > enc["down_kernel"] - 1:
        errs.append(f"encoder.down_lookahead {enc['down_lookahead']} exceeds down_kernel - 1")
    return errs


def realtime_encoder_tensors(enc: Mapping) -> "OrderedDict[str, Tuple[int, ...]]":
    """Canonical tensors of a realtime encoder (conv weights [out, kernel, in])."""
    H, M = enc["hidden_size"], enc["n_mels"]
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    out["encoder.mel_norm.weight"] = (M,)
    out["encoder.mel_norm.bias"] = (M,)

    def block(name, k, c_in):
        out[f"{name}.conv.weight"] = (H, k, c_in)
        out[f"{name}.conv.bias"] = (H,)
        out[f"{name}.norm.weight"] = (H,)
        out[f"{name}.norm.bias"] = (H,)

    c_in = M
    for i, k in enumerate(enc["mel_kernel"]):
        block(f"encoder.mel_layers.{i}", k, c_in)
        c_in = H
    block("encoder.down", enc["down_kernel"], c_in)
    for i, k in enumerate(enc["kernel"]):
        block(f"encoder.layers.{i}", k, H)
    out["encoder.norm.weight"] = (H,)
    out["encoder.norm.bias"] = (H,)
    return out


def validate_config(cfg: Mapping) -> None:
    """Raise ConversionError listing every problem in a config dict."""
    errs: List[str] = []

    def pos_int(sec, key, v, allow_zero=False):
        if not _is_int(v) or (v < 0 if allow_zero else v <= 0):
            errs.append(f"{sec}{key} must be a {'non-negative' if allow_zero else 'positive'} integer, "
                        f"got {v!r}")

    def pos_num(sec, key, v):
        if not _is_num(v) or v <= 0:
            errs.append(f"{sec}{key} must be a positive number, got {v!r}")

    def section(name, keys):
        sec = cfg.get(name)
        if not isinstance(sec, Mapping):
            errs.append(f"missing config section '{name}'")
            return None
        for k in keys:
            if k not in sec:
                errs.append(f"missing config field '{name}.{k}'")
        for k in sec:
            if k not in keys:
                errs.append(f"unknown config field '{name}.{k}'")
        return sec

    if not isinstance(cfg, Mapping):
        raise ConversionError("config must be a dict")
    for k in cfg:
        if k not in _TOP_KEYS:
            errs.append(f"unknown config field '{k}'")
    family = cfg.get("family")
    if family not in FAMILIES:
        errs.append(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    for k in ("sample_rate", "num_vertices"):
        if k not in cfg:
            errs.append(f"missing config field '{k}'")
        else:
            pos_int("", k, cfg[k])
    if cfg.get("sample_rate", 16000) != 16000:
        errs.append(f"sample_rate must be 16000 (wav2vec 2.0), got {cfg.get('sample_rate')!r}")
    if "fps" not in cfg:
        errs.append("missing config field 'fps'")
    else:
        pos_int("", "fps", cfg["fps"])

    realtime = _is_realtime(cfg.get("encoder"))
    enc = section("encoder", _RT_ENC_KEYS if realtime else _ENC_KEYS)
    if realtime:
        if enc is not None and all(k in enc for k in _RT_ENC_KEYS):
            errs.extend(realtime_encoder_errors(enc))
    elif enc is not None and all(k in enc for k in _ENC_KEYS):
        if enc["type"] != "wav2vec2":
            errs.append(f"encoder.type must be 'wav2vec2' or 'realtime', got {enc['type']!r}")
        lists = [enc["conv_dim"], enc["conv_kernel"], enc["conv_stride"]]
        if not all(isinstance(x, (list, tuple)) and x and all(_is_int(i) and i > 0 for i in x) for x in lists):
            errs.append("encoder.conv_dim / conv_kernel / conv_stride must be non-empty lists of positive "
                        "integers")
        elif not (len(lists[0]) == len(lists[1]) == len(lists[2])):
            errs.append(f"encoder.conv_dim / conv_kernel / conv_stride lengths differ: "
                        f"{len(lists[0])}, {len(lists[1])}, {len(lists[2])}")
        for k in ("conv_bias", "stable_layer_norm"):
            if not isinstance(enc[k], bool):
                errs.append(f"encoder.{k} must be true/false, got {enc[k]!r}")
        if enc["feat_extract_norm"] not in ("group", "layer"):
            errs.append(f"encoder.feat_extract_norm must be 'group' or 'layer', got {enc['feat_extract_norm']!r}")
        for k in ("hidden_size", "num_layers", "intermediate_size", "pos_conv_kernel", "pos_conv_groups"):
            pos_int("encoder.", k, enc[k])
        if enc["num_heads"] is None:
            errs.append(f"encoder.num_heads could not be inferred (hidden size {enc['hidden_size']} is not a "
                        "multiple of 64); pass --encoder-heads / overrides['encoder']['num_heads']")
        else:
            pos_int("encoder.", "num_heads", enc["num_heads"])
        for k in ("layer_norm_eps", "input_norm_eps"):
            pos_num("encoder.", k, enc[k])
        if _is_int(enc["hidden_size"]) and _is_int(enc["num_heads"]) and enc["num_heads"] > 0 and \
                enc["hidden_size"] % enc["num_heads"]:
            errs.append(f"encoder.hidden_size {enc['hidden_size']} is not divisible by num_heads {enc['num_heads']}")
        if _is_int(enc["hidden_size"]) and _is_int(enc["pos_conv_groups"]) and enc["pos_conv_groups"] > 0 and \
                enc["hidden_size"] % enc["pos_conv_groups"]:
            errs.append(f"encoder.hidden_size {enc['hidden_size']} is not divisible by pos_conv_groups "
                        f"{enc['pos_conv_groups']}")

    al = section("alignment", ["mode", "frames_offset"])
    if al is not None and "mode" in al:
        if al["mode"] not in ("interpolate", "pairs", "conv", "native"):
            errs.append(f"alignment.mode must be interpolate | pairs | conv | native, got {al['mode']!r}")
        elif (al["mode"] == "native") != realtime:
            errs.append("alignment.mode 'native' goes with encoder.type 'realtime' (and only with it), "
                        f"got mode {al['mode']!r} with encoder type "
                        f"{(cfg.get('encoder') or {}).get('type')!r}")
        if realtime and al.get("frames_offset", 0) != 0:
            errs.append("alignment.frames_offset must be 0 with a realtime encoder")
        if "frames_offset" in al and not _is_int(al["frames_offset"]):
            errs.append(f"alignment.frames_offset must be an integer, got {al['frames_offset']!r}")

    dec = section("decoder", _DEC_KEYS)
    if dec is not None and all(k in dec for k in _DEC_KEYS):
        for k in ("d_model", "num_heads", "ffn_dim", "num_layers", "period", "max_seq_len"):
            pos_int("decoder.", k, dec[k])
        pos_num("decoder.", "norm_eps", dec["norm_eps"])
        if dec["norm"] not in ("layer", "saln"):
            errs.append(f"decoder.norm must be 'layer' or 'saln', got {dec['norm']!r}")
        if dec["attention_bias"] not in ("alibi", "causal"):
            errs.append(f"decoder.attention_bias must be 'alibi' or 'causal', got {dec['attention_bias']!r}")
        if dec["positional"] not in ("periodic", "constant"):
            errs.append(f"decoder.positional must be 'periodic' or 'constant', got {dec['positional']!r}")
        if _is_int(dec["d_model"]) and _is_int(dec["num_heads"]) and dec["num_heads"] > 0 and \
                dec["d_model"] % dec["num_heads"]:
            errs.append(f"decoder.d_model {dec['d_model']} is not divisible by num_heads {dec['num_heads']}")
        if family == "mimic" and dec["norm"] != "saln":
            errs.append("Mimic requires decoder.norm = 'saln'")
        if family in ("faceformer", "imitator") and dec["norm"] != "layer":
            errs.append(f"{family} requires decoder.norm = 'layer'")

    st = section("styles", ["names"])
    if st is not None and "names" in st:
        names = st["names"]
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
            errs.append("styles.names must be a list of non-empty strings")
        elif len(set(names)) != len(names):
            errs.append("styles.names contains duplicates")
        elif family in ("faceformer", "imitator") and not names:
            errs.append(f"{family}: styles.names must name the one-hot styles")

    if family == "imitator":
        im = section("imitator", _IMI_KEYS)
        if im is not None and all(k in im for k in _IMI_KEYS):
            if im["start_token"] not in ("zeros", "style"):
                errs.append(f"imitator.start_token must be 'zeros' or 'style', got {im['start_token']!r}")
            pos_int("imitator.", "mlp_layers", im["mlp_layers"], allow_zero=True)
            if not _is_num(im["leaky_slope"]):
                errs.append(f"imitator.leaky_slope must be a number, got {im['leaky_slope']!r}")
    if family == "mimic":
        mm = section("mimic", _MIM_KEYS)
        if mm is not None and all(k in mm for k in _MIM_KEYS):
            for k in ("style_conv_layers", "style_layers", "style_heads", "style_ffn_dim", "style_window"):
                pos_int("mimic.", k, mm[k])
            pos_num("mimic.", "style_norm_eps", mm["style_norm_eps"])
            if dec is not None and _is_int(dec.get("d_model")) and _is_int(mm["style_heads"]) and \
                    mm["style_heads"] > 0 and dec["d_model"] % mm["style_heads"]:
                errs.append(f"decoder.d_model {dec['d_model']} is not divisible by mimic.style_heads "
                            f"{mm['style_heads']}")
    if errs:
        raise ConversionError("invalid config: " + "; ".join(errs))


def expected_tensors(cfg: Mapping, with_style_codes: bool = False) -> "OrderedDict[str, Tuple[int, ...]]":
    """Canonical tensor names and shapes a model with this config must contain (no optional assets)."""
    enc = cfg["encoder"]
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()

    def lin(name, o, i, bias=True):
        out[f"{name}.weight"] = (o, i)
        if bias:
            out[f"{name}.bias"] = (o,)

    def norm(name, c):
        out[f"{name}.weight"] = (c,)
        out[f"{name}.bias"] = (c,)

    if _is_realtime(enc):
        out.update(realtime_encoder_tensors(enc))
    else:
        _wav2vec_tensors(enc, cfg, out, lin, norm)
    _head_tensors(cfg, out, lin, norm, with_style_codes)
    return out


def _wav2vec_tensors(enc, cfg, out, lin, norm) -> None:
    H, F = enc["hidden_size"], enc["intermediate_size"]
    c_prev = 1
    for i, (c, k) in enumerate(zip(enc["conv_dim"], enc["conv_kernel"])):
        out[f"encoder.conv.{i}.weight"] = (c, k, c_prev)
        if enc["conv_bias"]:
            out[f"encoder.conv.{i}.bias"] = (c,)
        if enc["feat_extract_norm"] == "layer" or i == 0:
            norm(f"encoder.conv.{i}.norm", c)
        c_prev = c
    norm("encoder.projection.norm", c_prev)
    lin("encoder.projection", H, c_prev)
    out["encoder.pos_conv.weight"] = (H, enc["pos_conv_kernel"], H // enc["pos_conv_groups"])
    out["encoder.pos_conv.bias"] = (H,)
    norm("encoder.norm", H)
    for i in range(enc["num_layers"]):
        p = f"encoder.layers.{i}"
        for q in "qkvo":
            lin(f"{p}.attention.{q}", H, H)
        norm(f"{p}.norm1", H)
        lin(f"{p}.ffn.up", F, H)
        lin(f"{p}.ffn.down", H, F)
        norm(f"{p}.norm2", H)
    if cfg["alignment"]["mode"] == "conv":
        out["encoder.downsample.weight"] = (H, 15, H)
        out["encoder.downsample.bias"] = (H,)


def _head_tensors(cfg, out, lin, norm, with_style_codes: bool) -> None:
    """Everything after the encoder: the audio map, the decoder layers and the family head."""
    enc, dec = cfg["encoder"], cfg["decoder"]
    fam = cfg["family"]
    H, d, Fd = enc["hidden_size"], dec["d_model"], dec["ffn_dim"]
    V3 = 3 * cfg["num_vertices"]
    n = len(cfg["styles"]["names"])
    lin("audio_map", d, H)
    for l in range(dec["num_layers"]):
        p = f"decoder.layers.{l}"
        for att in ("self_attn", "cross_attn"):
            for q in "qkvo":
                lin(f"{p}.{att}.{q}", d, d)
        lin(f"{p}.ffn.up", Fd, d)
        lin(f"{p}.ffn.down", d, Fd)
        for j in (1, 2, 3):
            if dec["norm"] == "saln":
                lin(f"{p}.norm{j}.style", 2 * d, d)
            else:
                norm(f"{p}.norm{j}", d)
    if fam == "faceformer":
        lin("motion_in", d, V3)
        lin("motion_out", V3, d)
        out["style.weight"] = (d, n)
    elif fam == "imitator":
        out["style.weight"] = (d, n)
        for i in range(cfg["imitator"]["mlp_layers"]):
            lin(f"motion_decoder.{i}", d, d)
        lin("motion_out", V3, d)
    else:
        m = cfg["mimic"]
        lin("motion_in", d, V3)
        lin("motion_out", V3, d)
        lin("style_encoder.motion_map", d, V3)
        for i in range(m["style_conv_layers"]):
            out[f"style_encoder.conv.{i}.weight"] = (d, 3, d)
            norm(f"style_encoder.conv.{i}.norm", d)
        norm("style_encoder.projection.norm", d)
        lin("style_encoder.projection", d, d)
        for i in range(m["style_layers"]):
            p = f"style_encoder.layers.{i}"
            for q in "qkvo":
                lin(f"{p}.attention.{q}", d, d)
            norm(f"{p}.norm1", d)
            lin(f"{p}.ffn.up", m["style_ffn_dim"], d)
            lin(f"{p}.ffn.down", d, m["style_ffn_dim"])
            norm(f"{p}.norm2", d)
        lin("style_encoder.output", d, d)
        if with_style_codes:
            out["style_codes"] = (n, d)


def check_tensors(cfg: Mapping, tensors: Mapping) -> None:
    """Raise ConversionError unless ``tensors`` holds exactly the tensors ``cfg`` requires."""
    has_codes = "style_codes" in tensors
    exp = expected_tensors(cfg, with_style_codes=has_codes)
    errs = []
    if cfg["family"] == "mimic" and not has_codes and cfg["styles"]["names"]:
        errs.append(f"styles.names has {len(cfg['styles']['names'])} entries but there are no style_codes")
    for name, shape in exp.items():
        if name not in tensors:
            errs.append(f"missing tensor '{name}' {list(shape)}")
        elif tuple(np.shape(tensors[name])) != tuple(shape):
            errs.append(f"tensor '{name}' has shape {list(np.shape(tensors[name]))}, config implies {list(shape)}")
    extra = [k for k in tensors if k not in exp]
    if extra:
        errs.append("tensors not described by the config: " + ", ".join(sorted(extra)))
    if errs:
        raise ConversionError("tensors do not match the config: " + "; ".join(errs))


# =================================================================================================
# Conversion
# =================================================================================================

def _np(t) -> np.ndarray:
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().to("cpu", torch.float64 if t.dtype == torch.float64 else torch.float32).numpy()
    return np.asarray(t, dtype=np.float32)


def fold_weight_norm(g, v) -> np.ndarray:
    """Fold a dim=2 weight norm: ``W[:, :, k] = g[k] * v[:, :, k] / ||v[:, :, k]||`` (torch layout)."""
    g = np.asarray(_np(g), dtype=np.float64)
    v = np.asarray(_np(v), dtype=np.float64)
    if v.ndim != 3:
        raise ConversionError(f"weight norm: expected a 3-d weight_v, got shape {list(v.shape)}")
    K = v.shape[2]
    if g.size != K:
        raise ConversionError(f"weight norm: weight_g has {g.size} values, expected one per kernel tap ({K})")
    norm = np.sqrt((v * v).sum(axis=(0, 1)))  # [K]
    w = v * (g.reshape(K) / norm)[None, None, :]
    return w.astype(np.float32)


def _permute_conv(w: np.ndarray) -> np.ndarray:
    """torch [out, in_per_group, kernel] -> Mimetic [out, kernel, in_per_group]."""
    return np.ascontiguousarray(np.transpose(w, (0, 2, 1)))


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
        return np.ascontiguousarray(_np(self.sd[key]).astype(np.float32))


def _skip_patterns(family: str) -> List[str]:
    w = _LAYOUT[family]["wav2vec"]
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
    if _is_realtime(config["encoder"]) and encoder_tensors is None:
        raise ConversionError("a realtime-encoder config needs the encoder's tensors (encoder_tensors; see "
                              "mimetic_tools.realtime_encoder.export_model)")
    family = config["family"]
    prefix = _original_prefix(state_dict, family)
    try:
        out, skipped, unexpected, filled = _convert(_normalise_keys(state_dict, family), config)
    except ConversionError as e:
        _reraise_with_prefix(e, prefix)
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
        if not _is_realtime(config["encoder"]):
            raise ConversionError("encoder_tensors is only for realtime-encoder configs")
        enc = OrderedDict((k, np.ascontiguousarray(_np(v), dtype=np.float32)) for k, v in encoder_tensors.items())
        out = OrderedDict(list(enc.items()) + [(k, v) for k, v in out.items() if k not in enc])
    check_tensors(config, out)
    return out


def _convert(sd: Dict[str, Any], config: Mapping):
    family = config["family"]
    src = _Source(sd, family)
    lay = _LAYOUT[family]
    enc, dec = config["encoder"], config["decoder"]
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    filled: List[str] = []

    def copy_lin(dst, s, bias=True):
        out[f"{dst}.weight"] = src.get(f"{s}.weight")
        if bias:
            out[f"{dst}.bias"] = src.get(f"{s}.bias")

    def split_in_proj(dst, s):
        w = src.get(f"{s}.in_proj_weight")
        b = src.get(f"{s}.in_proj_bias")
        dd = w.shape[1]
        if w.shape[0] != 3 * dd or b.shape != (3 * dd,):
            raise ConversionError(f"{s}.in_proj_weight: expected [3d, d] and [3d], got {list(w.shape)}, "
                                  f"{list(b.shape)}")
        for j, q in enumerate("qkv"):
            out[f"{dst}.{q}.weight"] = np.ascontiguousarray(w[j * dd:(j + 1) * dd])
            out[f"{dst}.{q}.bias"] = np.ascontiguousarray(b[j * dd:(j + 1) * dd])
        copy_lin(f"{dst}.o", f"{s}.out_proj")

    # --- wav2vec 2.0 (a realtime encoder's tensors come from mimetic_tools.realtime_encoder) -------
    if not _is_realtime(enc):
        _convert_wav2vec(sd, config, src, out, copy_lin)
    elif family == "mimic" and src.has("audio_encoder.down_sample.weight"):
        raise ConversionError("a realtime encoder emits motion-rate features itself: the Mimic head must not "
                              "have a down-sampling conv (audio_encoder.down_sample.*)")
    copy_lin("audio_map", lay["audio_map"].rstrip("."))
    _convert_head(sd, config, src, out, copy_lin, split_in_proj, filled)

    # --- leftovers -------------------------------------------------------------------------------
    skip_rx = [re.compile(p) for p in _skip_patterns(family)]
    if _is_realtime(enc):  # whatever stands in the encoder's place is not part of the head
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


def _convert_wav2vec(sd, config, src, out, copy_lin) -> None:
    family = config["family"]
    enc = config["encoder"]
    w = _LAYOUT[family]["wav2vec"]
    fe = _feature_extractor_prefix(sd, w)
    for i in range(len(enc["conv_dim"])):
        s = f"{fe}conv_layers.{i}"
        out[f"encoder.conv.{i}.weight"] = _permute_conv(src.get(f"{s}.conv.weight"))
        if enc["conv_bias"]:
            out[f"encoder.conv.{i}.bias"] = src.get(f"{s}.conv.bias")
        if enc["feat_extract_norm"] == "layer" or i == 0:
            copy_lin(f"encoder.conv.{i}.norm", f"{s}.layer_norm")
    copy_lin("encoder.projection.norm", f"{w}feature_projection.layer_norm")
    copy_lin("encoder.projection", f"{w}feature_projection.projection")
    pc = f"{w}encoder.pos_conv_embed.conv."
    if src.has(pc + "weight_g") or src.has(pc + "weight_v"):
        wt = fold_weight_norm(src.get(pc + "weight_g"), src.get(pc + "weight_v"))
    elif src.has(pc + "parametrizations.weight.original0") or src.has(pc + "parametrizations.weight.original1"):
        wt = fold_weight_norm(src.get(pc + "parametrizations.weight.original0"),
                              src.get(pc + "parametrizations.weight.original1"))
    else:
        wt = src.get(pc + "weight")  # already folded
    out["encoder.pos_conv.weight"] = _permute_conv(wt)
    out["encoder.pos_conv.bias"] = src.get(pc + "bias")
    copy_lin("encoder.norm", f"{w}encoder.layer_norm")
    for i in range(enc["num_layers"]):
        s, dst = f"{w}encoder.layers.{i}", f"encoder.layers.{i}"
        for q, o in (("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"), ("out_proj", "o")):
            copy_lin(f"{dst}.attention.{o}", f"{s}.attention.{q}")
        copy_lin(f"{dst}.norm1", f"{s}.layer_norm")
        copy_lin(f"{dst}.ffn.up", f"{s}.feed_forward.intermediate_dense")
        copy_lin(f"{dst}.ffn.down", f"{s}.feed_forward.output_dense")
        copy_lin(f"{dst}.norm2", f"{s}.final_layer_norm")
    if config["alignment"]["mode"] == "conv":
        if family != "mimic" or not src.has("audio_encoder.down_sample.weight"):
            raise ConversionError("alignment 'conv' needs the Mimic down-sampling conv: missing required key "
                                  "'audio_encoder.down_sample.weight'")
        out["encoder.downsample.weight"] = _permute_conv(src.get("audio_encoder.down_sample.weight"))
        out["encoder.downsample.bias"] = src.get("audio_encoder.down_sample.bias")
    elif family == "mimic" and src.has("audio_encoder.down_sample.weight"):
        raise ConversionError(f"alignment '{config['alignment']['mode']}' was requested, but the checkpoint has "
                              "a down-sampling conv (audio_encoder.down_sample.*): it is a 'conv' model")


def _convert_head(sd, config, src, out, copy_lin, split_in_proj, filled) -> None:
    family = config["family"]
    dec = config["decoder"]
    lay = _LAYOUT[family]
    # --- decoder layers --------------------------------------------------------------------------
    dp = lay["decoder"]
    if family == "mimic":
        # Pitfall 5: the Mimic decoder layer built under torch >= 2.1 has no biases at all. Zero biases
        # are exactly equivalent; only synthesise them when every one of them is absent.
        bias_keys = [f"{dp}{l}.{m}" for l in range(dec["num_layers"]) for m in
                     ("self_attn.in_proj_bias", "self_attn.out_proj.bias", "multihead_attn.in_proj_bias",
                      "multihead_attn.out_proj.bias", "linear1.bias", "linear2.bias")]
        if not any(src.has(k) for k in bias_keys):
            for k in bias_keys:
                if k.endswith("in_proj_bias"):
                    n = src.sd[k.replace("in_proj_bias", "in_proj_weight")].shape[0] \
                        if src.has(k.replace("in_proj_bias", "in_proj_weight")) else 3 * dec["d_model"]
                elif k.endswith("linear1.bias"):
                    n = dec["ffn_dim"]
                else:
                    n = dec["d_model"]
                sd[k] = torch.zeros(n) if torch is not None else np.zeros(n, np.float32)
                filled.append(k)
    for l in range(dec["num_layers"]):
        s, dst = f"{dp}{l}", f"decoder.layers.{l}"
        split_in_proj(f"{dst}.self_attn", f"{s}.self_attn")
        split_in_proj(f"{dst}.cross_attn", f"{s}.multihead_attn")
        copy_lin(f"{dst}.ffn.up", f"{s}.linear1")
        copy_lin(f"{dst}.ffn.down", f"{s}.linear2")
        for j in (1, 2, 3):
            if dec["norm"] == "saln":
                copy_lin(f"{dst}.norm{j}.style", f"{s}.norm{j}.style.affine")
            else:
                copy_lin(f"{dst}.norm{j}", f"{s}.norm{j}")

    # --- family heads ----------------------------------------------------------------------------
    if family == "faceformer":
        copy_lin("motion_in", "vertice_map")
        copy_lin("motion_out", "vertice_map_r")
        out["style.weight"] = src.get("obj_vector.weight")
    elif family == "imitator":
        out["style.weight"] = src.get("obj_vector.weight")
        for i in range(config["imitator"]["mlp_layers"]):
            copy_lin(f"motion_decoder.{i}", f"vertice_map_r.decoder.{2 * i}")
        copy_lin("motion_out", "vertice_map_r.decoder.final_out_layer")
    else:
        m = config["mimic"]
        copy_lin("motion_in", "decoder.motion_map")
        copy_lin("motion_out", "decoder.motion_map_r")
        copy_lin("style_encoder.motion_map", "style_encoder.motion_map")
        for i in range(m["style_conv_layers"]):
            s = f"style_encoder.conv_layers.{i}"
            out[f"style_encoder.conv.{i}.weight"] = _permute_conv(src.get(f"{s}.conv.weight"))
            copy_lin(f"style_encoder.conv.{i}.norm", f"{s}.layer_norm")
        copy_lin("style_encoder.projection.norm", "style_encoder.feature_projection.layer_norm")
        copy_lin("style_encoder.projection", "style_encoder.feature_projection.projection")
        for i in range(m["style_layers"]):
            s, dst = f"style_encoder.transformer_encoder.layers.{i}", f"style_encoder.layers.{i}"
            split_in_proj(f"{dst}.attention", f"{s}.self_attn")
            copy_lin(f"{dst}.norm1", f"{s}.norm1")
            copy_lin(f"{dst}.ffn.up", f"{s}.linear1")
            copy_lin(f"{dst}.ffn.down", f"{s}.linear2")
            copy_lin(f"{dst}.norm2", f"{s}.norm2")
        copy_lin("style_encoder.output", "style_encoder.feature_map")


# =================================================================================================
# Assets and writing
# =================================================================================================

class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        obj = _allowed_global(module, name)
        if obj is None or (module.split(".")[0] == "torch"):
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a template pickle")
        return obj


def _as_template_array(arr, what: str, num_vertices: Optional[int]) -> np.ndarray:
    a = np.asarray(arr)
    if a.dtype.kind not in "fiu":
        raise ConversionError(f"{what}: expected a numeric array, got dtype {a.dtype}")
    a = a.astype(np.float32)
    if a.ndim == 2 and a.shape[1] == 3:
        pass
    elif a.ndim == 1 and a.size % 3 == 0:
        a = a.reshape(-1, 3)
    elif a.ndim == 2 and a.shape[0] == 1 and a.shape[1] % 3 == 0:
        a = a.reshape(-1, 3)
    else:
        raise ConversionError(f"{what}: expected a template of shape [V, 3] or [3V], got {list(a.shape)}")
    if num_vertices is not None and a.shape[0] != num_vertices:
        raise ConversionError(f"{what}: template has {a.shape[0]} vertices, the model has {num_vertices}")
    if not np.all(np.isfinite(a)):
        raise ConversionError(f"{what}: template has non-finite values")
    return np.ascontiguousarray(a)


def load_template(template, template_key: Optional[str] = None, num_vertices: Optional[int] = None
                  ) -> np.ndarray:
    """Template as float32 [V, 3] from an array, a .npy file or a pickled dict (VOCASET templates.pkl)."""
    if isinstance(template, (str, os.PathLike)):
        path = Path(template)
        if not path.is_file():
            raise ConversionError(f"template {path}: no such file")
        what = f"template {path}"
        if path.suffix.lower() == ".npy":
            try:
                data = np.load(path, allow_pickle=False)
            except Exception as e:  # noqa: BLE001
                raise ConversionError(f"{what}: unreadable .npy: {e}") from e
        else:
            try:
                with open(path, "rb") as f:
                    data = _NumpyOnlyUnpickler(f, encoding="latin1").load()
            except Exception as e:  # noqa: BLE001
                raise ConversionError(f"{what}: not a .npy file or readable pickle: {e}") from e
    else:
        data, what = template, "template"
    if isinstance(data, Mapping):
        keys = [str(k) for k in data.keys()]
        if template_key is None:
            if len(data) != 1:
                raise ConversionError(f"{what}: the pickle holds {len(data)} templates; choose one with "
                                      f"--template-key (keys: {', '.join(keys)})")
            data = next(iter(data.values()))
        else:
            if template_key not in data:
                raise ConversionError(f"{what}: no template named {template_key!r} (keys: {', '.join(keys)})")
            data = data[template_key]
    elif template_key is not None:
        raise ConversionError(f"{what}: --template-key given but the file holds a single array")
    return _as_template_array(data, what, num_vertices)


def _load_indices(src, what: str) -> np.ndarray:
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise ConversionError(f"{what} {path}: no such file")
        suffix = path.suffix.lower()
        try:
            if suffix == ".npy":
                a = np.load(path, allow_pickle=False)
            elif suffix == ".obj":
                faces = []
                for line in path.read_text().splitlines():
                    if line.startswith("f "):
                        idx = [int(tok.split("/")[0]) for tok in line.split()[1:]]
                        if len(idx) != 3:
                            raise ConversionError(f"{what} {path}: only triangle faces are supported")
                        faces.append([i - 1 for i in idx])
                a = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
            else:
                toks = re.split(r"[\s,;\[\]]+", path.read_text().strip())
                a = np.asarray([int(t) for t in toks if t], dtype=np.int64)
        except ConversionError:
            raise
        except Exception as e:  # noqa: BLE001
            raise ConversionError(f"{what} {path}: unreadable: {e}") from e
    else:
        a = np.asarray(src)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ConversionError(f"{what}: indices must be integers")
    elif a.dtype.kind not in "iu":
        raise ConversionError(f"{what}: expected integer indices, got dtype {a.dtype}")
    return a.astype(np.int64)


def _check_range(a: np.ndarray, what: str, num_vertices: int):
    if a.size and (a.min() < 0 or a.max() >= num_vertices):
        raise ConversionError(f"{what}: vertex indices must lie in [0, {num_vertices}), got "
                              f"[{int(a.min())}, {int(a.max())}]")
    if a.size and a.max() > np.iinfo(np.int32).max:
        raise ConversionError(f"{what}: index too large for int32")


def load_triangles(src, num_vertices: int) -> np.ndarray:
    a = _load_indices(src, "triangles")
    if a.ndim == 1 and a.size % 3 == 0:
        a = a.reshape(-1, 3)
    if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] == 0:
        raise ConversionError(f"triangles: expected shape [F, 3], got {list(a.shape)}")
    _check_range(a, "triangles", num_vertices)
    return np.ascontiguousarray(a.astype(np.int32))


# Tensors of a model file that are mesh assets, not weights (docs/model-format.md, "Optional assets").
ASSET_NAMES = ("template", "triangles", "lip_vertices", "lip_pairs")


def load_lip_vertices(src, num_vertices: int) -> np.ndarray:
    a = _load_indices(src, "lip_vertices").reshape(-1)
    if a.size == 0:
        raise ConversionError("lip_vertices: empty index list")
    _check_range(a, "lip_vertices", num_vertices)
    return np.ascontiguousarray(a.astype(np.int32))


def load_lip_pairs(src, num_vertices: int) -> np.ndarray:
    """Inner-lip vertex pairs as [2, k] int32: row 0 upper-lip vertices, row 1 the lower-lip vertex
    each one meets when the lips close (a [k, 2] array is transposed)."""
    a = _load_indices(src, "lip_pairs")
    if a.ndim == 2 and a.shape[1] == 2 and a.shape[0] != 2:
        a = a.T
    if a.ndim != 2 or a.shape[0] != 2 or a.shape[1] == 0:
        raise ConversionError(f"lip_pairs: expected shape [2, k] (upper row, lower row), got {list(a.shape)}")
    _check_range(a, "lip_pairs", num_vertices)
    return np.ascontiguousarray(a.astype(np.int32))


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


# =================================================================================================
# Command line
# =================================================================================================

def _parse_set(items: Iterable[str]) -> dict:
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConversionError(f"--set expects KEY.PATH=VALUE, got {item!r}")
        key, val = item.split("=", 1)
        try:
            value = json.loads(val)
        except json.JSONDecodeError:
            value = val
        node = out
        parts = key.strip().split(".")
        if not all(parts):
            raise ConversionError(f"--set: bad key {key!r}")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="convert.py",
        description="Convert a FaceFormer / Imitator / Mimic checkpoint to a Mimetic .safetensors model.")
    p.add_argument("src", metavar="SRC", help="checkpoint: FaceFormer .pth, Imitator .ckpt, Mimic Epoch_N.pth "
                   "or a .safetensors state dict")
    p.add_argument("--out", required=True, metavar="M.safetensors", help="output model file")
    p.add_argument("--family", choices=FAMILIES, help="force the family (default: detected from the keys)")
    p.add_argument("--dataset", choices=("vocaset", "biwi"),
                   help="FaceFormer dataset defaults (fps, alignment, style names)")
    p.add_argument("--fps", type=int, help="motion frame rate (frames per second)")
    p.add_argument("--encoder-heads", type=int, help="wav2vec 2.0 attention heads (default hidden/64)")
    p.add_argument("--decoder-heads", type=int, help="decoder attention heads (default 4)")
    p.add_argument("--start-token", choices=("zeros", "style"), help="Imitator start token (default zeros)")
    p.add_argument("--align", choices=("conv", "interpolate", "pairs"), help="audio/motion alignment mode")
    p.add_argument("--max-seq-len", type=int, help="decoder attention window (default 600)")
    p.add_argument("--conv-stride", help="comma-separated CNN strides (default 5,2,2,2,2,2,2)")
    p.add_argument("--stable-layer-norm", choices=("yes", "no"),
                   help="pre-LN wav2vec 2.0 (default: yes iff feat_extract_norm is 'layer')")
    p.add_argument("--template", metavar="T.npy|T.pkl", help="neutral mesh, [V,3] or [3V] .npy, or a pickled dict")
    p.add_argument("--template-key", metavar="KEY", help="entry of a pickled template dict (e.g. a subject name)")
    p.add_argument("--triangles", metavar="F.npy", help="triangle indices [F,3] (.npy, .obj or text)")
    p.add_argument("--lip-vertices", metavar="L.npy|L.txt", help="lip vertex indices (.npy or text)")
    p.add_argument("--lip-pairs", metavar="P.npy|P.txt", help="inner-lip vertex pairs, [2, k] or [k, 2] (upper, lower): "
                   "the lip-closure term of personalization")
    p.add_argument("--style-names", metavar="a,b,c", help="comma-separated style names (one per one-hot slot)")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=JSON",
                   help="set any config field, e.g. --set decoder.period=30 (repeatable)")
    p.add_argument("--f16", action="store_true", help="store weights as float16 (template stays float32)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return p


def overrides_from_args(args) -> dict:
    o: dict = {}

    def put(path, value):
        node = o
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = value

    if args.family:
        put(["family"], args.family)
    if args.dataset:
        put(["dataset"], args.dataset)
    if args.fps is not None:
        if args.fps <= 0:
            raise ConversionError(f"--fps must be positive, got {args.fps}")
        put(["fps"], args.fps)
    if args.encoder_heads is not None:
        put(["encoder", "num_heads"], args.encoder_heads)
    if args.decoder_heads is not None:
        put(["decoder", "num_heads"], args.decoder_heads)
    if args.start_token:
        put(["imitator", "start_token"], args.start_token)
    if args.align:
        put(["alignment", "mode"], args.align)
    if args.max_seq_len is not None:
        put(["decoder", "max_seq_len"], args.max_seq_len)
    if args.conv_stride:
        try:
            put(["encoder", "conv_stride"], [int(x) for x in args.conv_stride.split(",")])
        except ValueError:
            raise ConversionError(f"--conv-stride expects comma-separated integers, got {args.conv_stride!r}")
    if args.stable_layer_norm:
        put(["encoder", "stable_layer_norm"], args.stable_layer_norm == "yes")
    if args.style_names:
        put(["styles", "names"], [s.strip() for s in args.style_names.split(",")])
    _deep_merge(o, _parse_set(args.set))
    return o


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = overrides_from_args(args)
        report: dict = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConversionWarning)
            config = convert_checkpoint(args.src, args.out, overrides=overrides, template=args.template,
                                        triangles=args.triangles, lip_vertices=args.lip_vertices, lip_pairs=args.lip_pairs,
                                        dtype="f16" if args.f16 else "f32", template_key=args.template_key,
                                        report=report)
        for w in caught:
            if issubclass(w.category, ConversionWarning):
                print(f"convert: warning: {w.message}", file=sys.stderr)
        if not args.quiet:
            extra = report.get("extra", {})
            enc, dec = config["encoder"], config["decoder"]
            print(f"{args.src}: {config['family']} ({extra.get('layout', '?')} layout)")
            if extra.get("stubbed_classes"):
                print(f"  pickled classes not imported (stubbed): {', '.join(extra['stubbed_classes'])}")
            print(f"  encoder: wav2vec2 H={enc['hidden_size']} layers={enc['num_layers']} heads={enc['num_heads']} "
                  f"ffn={enc['intermediate_size']} conv={len(enc['conv_dim'])}x{enc['feat_extract_norm']}")
            print(f"  decoder: d={dec['d_model']} heads={dec['num_heads']} ffn={dec['ffn_dim']} "
                  f"layers={dec['num_layers']} norm={dec['norm']} bias={dec['attention_bias']} "
                  f"period={dec['period']} max_seq_len={dec['max_seq_len']}")
            print(f"  V={config['num_vertices']} fps={config['fps']} alignment={config['alignment']['mode']} "
                  f"styles={len(config['styles']['names'])}")
            skipped = report.get("skipped", [])
            if skipped:
                groups: Dict[str, List[str]] = {}
                for k in skipped:
                    parts = k.split(".")
                    depth = 3 if "transformer_decoder" in k or parts[0] == "nn_model" else 2
                    groups.setdefault(".".join(parts[:depth]), []).append(k)
                print(f"  skipped {len(skipped)} keys not used at inference: " +
                      ", ".join(ks[0] if len(ks) == 1 else f"{g}.* ({len(ks)})" for g, ks in sorted(groups.items())))
            if report.get("filled"):
                print(f"  synthesised {len(report['filled'])} zero biases")
            print(f"  wrote {args.out}: {report.get('num_tensors')} tensors, {report.get('num_parameters'):,} "
                  f"parameters, {'f16' if args.f16 else 'f32'}")
        return 0
    except ConversionError as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
