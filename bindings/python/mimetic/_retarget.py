"""``Retarget``: vertex offsets to blendshape weights (``mimetic_retarget``)."""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._core import check, check_int32, float_ptr, float_vector, fs_path, function
from ._errors import InternalError, InvalidArgumentError
from ._model import Model

FloatArray = npt.NDArray[np.float32]


def _params(strength: float, smoothing_ms: float, ridge: float, closure_boost: float) -> _lib.RetargetParamsC:
    p = _lib.sized(_lib.RetargetParamsC)
    function("mimetic_retarget_params_init")(ctypes.byref(p))
    p.strength, p.smoothing_ms, p.ridge = float(strength), float(smoothing_ms), float(ridge)
    p.closure_boost = float(closure_boost)
    return p


class Retarget:
    """A blendshape basis in a model's topology with one character's fit state: each frame's offsets
    become K weights by bounded least squares (exact), then the artist's controls apply.

        arkit = mimetic.Retarget(model, "models/arkit52.safetensors", smoothing_ms=30)
        weights, residual = arkit.apply(frames)      # [T, 52] float32, [T] relative residuals
        arkit.names                                  # ["eyeBlinkLeft", ..., "jawOpen", ...]

    ``basis``/``names`` (and optional ``lower``/``upper``) instead of a path build one from arrays.
    Controls: ``strength`` (0..4), ``smoothing_ms`` (one-pole, 0..1000), ``closure_boost`` (0..1:
    firmer m/b/p closures on the mouthClose/mouthPress/PP channels), per channel ``set_channel``.
    Like a ``Stream``, one ``Retarget`` serves one character at a time (its warm start and smoothing
    carry from frame to frame: ``reset()`` between utterances); ``clone()`` makes another character's
    from the same basis (shared, not copied). Calls are serialised by a lock.
    """

    def __init__(self, model: Model, path: Union[None, str, "os.PathLike[str]"] = None, *, basis: Any = None,
                 names: Optional[Sequence[str]] = None, lower: Any = None, upper: Any = None, strength: float = 1.0,
                 smoothing_ms: float = 0.0, ridge: float = 1e-4, closure_boost: float = 0.0) -> None:
        self._handle: Optional[int] = None
        self._lock = threading.Lock()
        if not isinstance(model, Model):
            raise InvalidArgumentError(f"model must be a mimetic.Model, not {type(model).__name__}")
        mh = model._require_open()
        self._model = model   # the exports read its mesh and frame rate
        self._output_size = model.info.output_size
        self._num_vertices = model.info.num_vertices
        params = _params(strength, smoothing_ms, ridge, closure_boost)
        out = _lib.c_retarget_p()
        if (path is None) == (basis is None):
            raise InvalidArgumentError("Retarget: give a basis file path, or basis= and names=")
        if path is not None:
            check(function("mimetic_retarget_load")(mh, fs_path("Retarget", path), ctypes.byref(params), ctypes.byref(out)),
                  "mimetic_retarget_load")
        else:
            if names is None:
                raise InvalidArgumentError("Retarget: basis= needs names=")
            b = np.ascontiguousarray(np.asarray(basis, dtype=np.float32))
            k = len(names)
            if b.size != k * self._output_size:
                raise InvalidArgumentError(f"Retarget: basis has {b.size} values; {k} shapes of {self._output_size} "
                                           f"need {k * self._output_size} (shape [K, {self._num_vertices}, 3])")
            encoded = [n.encode("utf-8") for n in names]
            c_names = (ctypes.c_char_p * k)(*encoded)
            lo = None if lower is None else float_vector("lower", lower, k)
            hi = None if upper is None else float_vector("upper", upper, k)
            check(function("mimetic_retarget_create")(mh, float_ptr(b), k, c_names, None if lo is None else float_ptr(lo),
                                                      None if hi is None else float_ptr(hi), ctypes.byref(params),
                                                      ctypes.byref(out)), "mimetic_retarget_create")
        self._adopt(out)

    def _adopt(self, out: ctypes.c_void_p) -> None:
        if not out.value:
            raise InternalError("the library returned OK but no retarget")
        self._handle = out.value
        n = int(function("mimetic_retarget_count")(self._handle))
        names = []
        for i in range(n):
            raw = function("mimetic_retarget_name")(self._handle, i)
            names.append(raw.decode("utf-8", "replace") if raw is not None else f"shape_{i}")
        self._names = names

    def _require_open(self) -> int:
        if not self._handle:
            raise InvalidArgumentError("Retarget is closed")
        return self._handle

    @property
    def names(self) -> List[str]:
        """The K shape names, in weight order."""
        return list(self._names)

    @property
    def count(self) -> int:
        """K, the number of shapes (weights per frame)."""
        return len(self._names)

    def index(self, name: str) -> int:
        """The weight index of a shape name (``InvalidArgumentError`` if the basis has none)."""
        try:
            return self._names.index(name)
        except ValueError:
            raise InvalidArgumentError(f"the basis has no shape named {name!r}") from None

    def set_channel(self, channel: Union[int, str], gain: float = 1.0, offset: float = 0.0,
                    minimum: float = float("-inf"), maximum: float = float("inf")) -> None:
        """Per-channel control: ``clamp(strength * gain * w + offset, minimum, maximum)``."""
        i = self.index(channel) if isinstance(channel, str) else check_int32("channel", channel)
        with self._lock:
            check(function("mimetic_retarget_set_channel")(self._require_open(), i, float(gain), float(offset),
                                                           float(minimum), float(maximum)), "mimetic_retarget_set_channel")

    def _frames(self, offsets: Any) -> Tuple[FloatArray, bool]:
        try:
            arr = np.asarray(offsets, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"apply: offsets must be a float array: {e}") from None
        single = arr.ndim in (1, 2) and arr.size == self._output_size
        frames = arr.reshape(1 if single else -1, self._output_size) if arr.size % self._output_size == 0 and arr.size else None
        if frames is None or (not single and arr.shape[-2:] != (self._num_vertices, 3) and arr.shape[-1] != self._output_size):
            raise InvalidArgumentError(f"apply: offsets must be [{self._num_vertices}, 3], [T, {self._num_vertices}, 3] "
                                       f"or [T, {self._output_size}], got shape {arr.shape}")
        return np.ascontiguousarray(frames), single

    def apply(self, offsets: Any) -> Tuple[FloatArray, Union[float, FloatArray]]:
        """Fits frames: ``[V, 3]`` gives ``(weights [K], residual)``; ``[T, V, 3]`` gives
        ``(weights [T, K], residuals [T])``, frame after frame (the warm start and smoothing carry
        over). The residual is ``||B^T w - x|| / ||x||`` before the controls."""
        frames, single = self._frames(offsets)
        weights = np.empty((frames.shape[0], self.count), dtype=np.float32)
        residuals = np.empty(frames.shape[0], dtype=np.float32)
        r = ctypes.c_float()
        fn = function("mimetic_retarget_apply")
        with self._lock:
            h = self._require_open()
            for t in range(frames.shape[0]):
                check(fn(h, float_ptr(frames[t]), self._output_size, float_ptr(weights[t]), self.count, ctypes.byref(r)),
                      "mimetic_retarget_apply")
                residuals[t] = r.value
        if single:
            return weights[0], float(residuals[0])
        return weights, residuals

    def offsets(self, weights: Any) -> FloatArray:
        """The offsets weights drive (``B^T w``): ``[K]`` gives ``[V, 3]``, ``[T, K]`` gives ``[T, V, 3]``."""
        w = np.ascontiguousarray(np.asarray(weights, dtype=np.float32))
        single = w.ndim == 1
        w2 = w.reshape(1 if single else -1, self.count) if w.size % max(self.count, 1) == 0 and w.size else None
        if w2 is None or w.shape[-1] != self.count:
            raise InvalidArgumentError(f"offsets: weights must be [{self.count}] or [T, {self.count}], got shape {w.shape}")
        out = np.empty((w2.shape[0], self._num_vertices, 3), dtype=np.float32)
        fn = function("mimetic_retarget_offsets")
        with self._lock:
            h = self._require_open()
            for t in range(w2.shape[0]):
                check(fn(h, float_ptr(w2[t]), self.count, float_ptr(out[t]), self._output_size), "mimetic_retarget_offsets")
        return out[0] if single else out

    #: ``export`` formats, with the extension each writes (the values of ``mimetic_export_format``).
    EXPORT_FORMATS = {"glb": (0, ".glb"), "gltf": (1, ".gltf"), "arkit-csv": (2, ".csv")}

    def export(self, weights: Any, path: Union[str, "os.PathLike[str]"], format: Optional[str] = None) -> None:
        """Writes a weight track (``[T, K]`` from ``apply`` or a stream's ``pull_weights``, at the
        model's frame rate) as ``"glb"``/``"gltf"`` (the model's mesh with this basis as named morph
        targets and the weights as their animation) or ``"arkit-csv"`` (the Live Link Face CSV; the
        basis needs the 52 ARKit names), the files ``mimetic animate --format ...`` writes. The
        format comes from the extension (.glb, .gltf, .csv) when not given. Written atomically (a
        temporary file, then a rename): an interrupted export leaves no partial file."""
        target = fs_path("Retarget.export", path)
        if format is None:
            ext = os.path.splitext(os.fsdecode(target))[1].lower()
            matches = [name for name, (_, e) in self.EXPORT_FORMATS.items() if e == ext]
            if not matches:
                raise InvalidArgumentError(f"export: cannot tell the format of {os.fsdecode(target)!r}: give format= "
                                           f"({', '.join(self.EXPORT_FORMATS)}) or a .glb, .gltf or .csv path")
            format = matches[0]
        if format not in self.EXPORT_FORMATS:
            raise InvalidArgumentError(f"export: format {format!r} is not one of {', '.join(self.EXPORT_FORMATS)}")
        try:
            w = np.ascontiguousarray(np.asarray(weights, dtype=np.float32))
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"export: weights must be a float array: {e}") from None
        if w.ndim != 2 or w.shape[1] != self.count:
            raise InvalidArgumentError(f"export: weights must be [T, {self.count}], got shape {w.shape}")
        mh = self._model._require_open()
        with self._lock:
            check(function("mimetic_export_weights")(mh, self._require_open(), float_ptr(w) if w.size else None, w.shape[0],
                                                     self.EXPORT_FORMATS[format][0], target), "mimetic_export_weights")

    def reset(self) -> None:
        """Forgets the previous frames (warm start, smoothing): call between utterances."""
        with self._lock:
            check(function("mimetic_retarget_reset")(self._require_open()), "mimetic_retarget_reset")

    def clone(self) -> "Retarget":
        """Another character's retarget: the same basis and controls, a fresh fit state."""
        new = Retarget.__new__(Retarget)
        new._handle = None
        new._lock = threading.Lock()
        new._output_size, new._num_vertices = self._output_size, self._num_vertices
        new._model = self._model
        out = _lib.c_retarget_p()
        with self._lock:
            check(function("mimetic_retarget_clone")(self._require_open(), ctypes.byref(out)), "mimetic_retarget_clone")
        new._adopt(out)
        return new

    def close(self) -> None:
        with self._lock:
            h, self._handle = self._handle, None
        if h:
            function("mimetic_retarget_free")(h)

    def __enter__(self) -> "Retarget":
        self._require_open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<mimetic.Retarget {self.count} shapes>" if self._handle else "<mimetic.Retarget (closed)>"
