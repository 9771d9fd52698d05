"""Reading the originals' checkpoints (.pth, Lightning .ckpt, Mimic Epoch_N.pth, .safetensors)
without importing the code they pickled: classes from unknown modules become inert stubs."""
from __future__ import annotations

import importlib
import pickle
import re
import struct
import types
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from .errors import ConversionError

try:  # torch is only needed to read .pth/.ckpt files
    import torch
except ImportError:  # pragma: no cover - torch is a hard requirement of the tools
    torch = None


def as_numpy(t) -> np.ndarray:
    """A tensor (torch or numpy) as a numpy array: float64 stays float64, everything else float32."""
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().to("cpu", torch.float64 if t.dtype == torch.float64 else torch.float32).numpy()
    return np.asarray(t, dtype=np.float32)


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


def allowed_global(module: str, name: str):
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
            obj = allowed_global(module, name)
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

