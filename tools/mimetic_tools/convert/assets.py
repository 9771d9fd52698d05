"""The mesh assets a model file may carry beside its weights: template, triangles, lip vertices,
lip pairs (docs/model-format.md, "Optional assets"), read from .npy, pickles, .obj or text."""
from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import numpy as np

from .checkpoint import allowed_global
from .errors import ConversionError


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        obj = allowed_global(module, name)
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

