"""``Model``: a loaded model file (``mimetic_model``)."""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._core import check, check_int32, float_ptr, fs_path, function, readable_bytes
from ._style import StyleArg, StyleCodeArg
from ._enums import Family
from ._errors import InternalError, InvalidArgumentError, WrongStateError


@dataclass(frozen=True)
class ModelInfo:
    """What a model expects and produces (``mimetic_model_info``).

    Attributes:
        family: the architecture (``Family.FACEFORMER``, ``IMITATOR`` or ``MIMIC``).
        family_name: the same as a lower-case string ("faceformer", "imitator", "mimic").
        sample_rate: encoder input rate in Hz (16000); streams resample whatever rate they are given.
        fps: motion frames per second.
        num_vertices: V, vertices per frame.
        output_size: floats per frame, 3 * V (xyz interleaved).
        num_styles: style slots (one-hot width, or Mimic style codes shipped).
        style_dim: width of a style vector / code.
        has_template: whether the file carries a neutral mesh.
        num_triangles: triangles of that mesh (0 if none).
        max_context_frames: the decoder's attention window, in frames.
        min_lookahead_ms: smallest streaming lookahead accepted.
        max_lookahead_ms: largest streaming lookahead accepted.
        latency_tunable: True for a wav2vec 2.0 model, whose streams use lookahead_ms, left_context_ms
            and hop_ms; False for a real-time-encoder model (the shipped default), whose latency is
            fixed by its encoder (those stream arguments do not apply).
        encoder_lookahead_ms: a real-time encoder's fixed lookahead (0 for wav2vec 2.0).
    """

    family: Family
    family_name: str
    sample_rate: int
    fps: int
    num_vertices: int
    output_size: int
    num_styles: int
    style_dim: int
    has_template: bool
    num_triangles: int
    max_context_frames: int
    min_lookahead_ms: int
    max_lookahead_ms: int
    latency_tunable: bool = True
    encoder_lookahead_ms: int = 0


PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Model:
    """A loaded model file. Immutable once loaded, so any number of threads and streams may share it.

    ``Model(path)`` memory-maps a file; ``Model.from_bytes(data)`` copies a buffer. Use it as a context
    manager or call ``close()``.

    Closing with live streams: the C library refuses to free a model while streams made from it are
    alive (``mimetic_model_free`` returns ``MIMETIC_ERROR_WRONG_STATE``), so ``close()`` raises
    ``WrongStateError`` and leaves the model open and usable; close the streams first.
    ``close(defer=True)`` instead marks the model closed right away (no new streams; ``info`` etc.
    raise) and frees the native model when its last stream is closed. Leaving a ``with Model(...)``
    block with live streams raises like ``close()``, unless the block is already exiting with an
    exception, in which case the close is deferred so the original exception is not masked. A model
    dropped by the garbage collector always defers. Every ``Stream`` holds a reference to its model,
    so the model cannot be collected before its streams.
    """

    def __init__(self, path: PathLike) -> None:
        """Loads (memory-maps) the model file at ``path``.

        Raises:
            MimeticIOError: the file cannot be opened or read (the message names the path).
            InvalidModelError: corrupt, truncated or inconsistent file.
            UnsupportedError: a valid file asking for something not implemented.
            InvalidArgumentError: ``path`` is None or not a path.
        """
        self._init_state()
        fspath = fs_path("Model", path)
        handle = _lib.c_model_p()
        status = _lib.lib.mimetic_model_load(fspath, ctypes.byref(handle))
        check(status, "mimetic_model_load")
        self._adopt(handle)
        self.path: Optional[str] = os.fsdecode(fspath)

    @classmethod
    def from_bytes(cls, data: Any) -> "Model":
        """Loads a model from a bytes-like object (bytes, bytearray, memoryview, numpy array).

        The library copies the buffer; it may be modified or freed afterwards.

        Raises:
            InvalidArgumentError: empty buffer or not bytes-like.
            InvalidModelError: the bytes are not a valid model.
        """
        self = cls.__new__(cls)
        self._init_state()
        arr = readable_bytes("data", data)
        handle = _lib.c_model_p()
        ptr = ctypes.c_void_p(arr.ctypes.data if arr.size else None)
        status = _lib.lib.mimetic_model_load_from_memory(ptr, arr.size, ctypes.byref(handle))
        check(status, "mimetic_model_load_from_memory")
        self._adopt(handle)
        self.path = None
        return self

    # -- internals -------------------------------------------------------------------------

    def _init_state(self) -> None:
        self._handle: Optional[int] = None
        self._closed = True
        self._close_pending = False
        self._live: Set[int] = set()
        self._lock = threading.Lock()
        self._info: Optional[ModelInfo] = None
        self._style_names: List[str] = []
        self.path = None

    def _adopt(self, handle: ctypes.c_void_p) -> None:
        if not handle.value:
            raise InternalError("model load returned OK but no handle")
        self._handle = handle.value
        self._closed = False
        try:
            self._info = self._read_info()
            self._style_names = self._read_style_names()
        except BaseException:
            self._free_native()
            raise

    def _read_info(self) -> ModelInfo:
        c = _lib.sized(_lib.ModelInfoC)
        check(_lib.lib.mimetic_model_get_info(self._handle, ctypes.byref(c)), "mimetic_model_get_info")
        try:
            family = Family(c.family)
        except ValueError:
            raise InternalError(f"unknown model family {c.family} (binding older than the library?)") from None
        return ModelInfo(
            family=family, family_name=family.name.lower(), sample_rate=c.sample_rate, fps=c.fps,
            num_vertices=c.num_vertices, output_size=c.output_size, num_styles=c.num_styles,
            style_dim=c.style_dim, has_template=bool(c.has_template), num_triangles=c.num_triangles,
            max_context_frames=c.max_context_frames, min_lookahead_ms=c.min_lookahead_ms,
            max_lookahead_ms=c.max_lookahead_ms, latency_tunable=bool(c.latency_tunable),
            encoder_lookahead_ms=c.encoder_lookahead_ms)

    def _read_style_names(self) -> List[str]:
        assert self._info is not None
        names = []
        for i in range(self._info.num_styles):
            name = _lib.lib.mimetic_model_style_name(self._handle, i)
            if name is None:
                from ._core import last_error
                raise InternalError(f"mimetic_model_style_name({i}) failed: {last_error()}")
            names.append(name.decode("utf-8", "replace"))
        return names

    def _free_native(self) -> None:
        handle, self._handle = self._handle, None
        self._closed = True
        self._close_pending = False
        if handle:
            status = _lib.lib.mimetic_model_free(handle)
            if status != 0:  # only if the library knows of streams the binding does not
                self._handle = handle
                self._closed = False
                check(status, "mimetic_model_free")

    def _require_open(self) -> int:
        if self._closed or self._close_pending or not self._handle:
            raise InvalidArgumentError("Model is closed")
        return self._handle

    def _attach(self, token: int) -> int:
        """Registers a stream about to be created; returns the native handle."""
        with self._lock:
            handle = self._require_open()
            self._live.add(token)
            return handle

    def _detach(self, token: int) -> None:
        """Unregisters a freed stream; frees the model if a deferred close was waiting for it."""
        with self._lock:
            self._live.discard(token)
            if self._close_pending and not self._live:
                self._free_native()

    # -- public API ------------------------------------------------------------------------

    @property
    def handle(self) -> int:
        """The raw ``mimetic_model *`` as an int, for passing to other C code (raises if closed)."""
        return self._require_open()

    @property
    def closed(self) -> bool:
        """True once ``close()`` succeeded (or a deferred close was requested)."""
        return self._closed or self._close_pending

    @property
    def live_streams(self) -> int:
        """How many open streams were made from this model."""
        return len(self._live)

    @property
    def info(self) -> ModelInfo:
        """What the model expects and produces (see ``ModelInfo``). Raises once closed."""
        self._require_open()
        assert self._info is not None
        return self._info

    @property
    def style_names(self) -> List[str]:
        """The names of the style slots (training subjects / shipped style codes), ``info.num_styles`` of them."""
        self._require_open()
        return list(self._style_names)

    @property
    def template(self) -> Optional[npt.NDArray[np.float32]]:
        """The neutral mesh as float32 ``[num_vertices, 3]``, or None if the file has none.

        Vertex positions are ``template + offsets`` of a frame (``[V, 3]``, or ``[T, V, 3]`` by broadcasting)."""
        handle = self._require_open()
        assert self._info is not None
        if not self._info.has_template:
            return None
        out = np.empty((self._info.num_vertices, 3), dtype=np.float32)
        check(function("mimetic_model_get_template")(handle, float_ptr(out), self._info.output_size),
              "mimetic_model_get_template")
        return out

    def frame_count(self, num_samples: int, sample_rate: int = 16000) -> int:
        """Frames ``animate`` makes of ``num_samples`` at ``sample_rate`` (0: too short for one frame)."""
        handle = self._require_open()
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 0:
            raise InvalidArgumentError(f"frame_count: num_samples must be a non-negative int, not {num_samples!r}")
        out = ctypes.c_size_t()
        check(function("mimetic_animate_frame_count")(handle, int(num_samples), check_int32("sample_rate", sample_rate),
                                                      ctypes.byref(out)), "mimetic_animate_frame_count")
        return out.value

    def animate(self, samples: Any, sample_rate: Optional[int] = None, *, style: StyleArg = None,
                style_code: StyleCodeArg = None, persona: Any = None) -> npt.NDArray[np.float32]:
        """A whole utterance to motion: float32 ``[frames, num_vertices, 3]`` vertex offsets from the
        template (add ``template`` for positions), the numbers ``mimetic animate --offsets`` writes.

        ``samples``: a ``mimetic.Audio`` (from ``load_wav``; its rate is used), or a 1-D array of
        float samples in [-1, 1] or int16 at ``sample_rate`` (default 16000), any rate the resampler
        takes (1 kHz ... 768 kHz). ``style``: a slot index or ``num_styles`` weights (default: slot 0);
        ``style_code``: ``style_dim`` floats (a Mimic code from ``style_from_motion``); ``persona``: a
        ``mimetic.Persona`` of this model (its style and, for Imitator, its adapted motion basis).
        Runs on the calling thread (the C call releases the GIL); allocates.

        Raises:
            InvalidAudioError: empty, too short for one frame, or NaN/Inf samples.
            InvalidArgumentError: a bad style, a persona of another model, a non-1-D array.
        """
        from ._audio import Audio
        from ._style import style_fields
        handle = self._require_open()
        assert self._info is not None
        if isinstance(samples, Audio):
            if sample_rate is not None and sample_rate != samples.sample_rate:
                raise InvalidArgumentError(f"animate: the Audio is at {samples.sample_rate} Hz; sample_rate={sample_rate} "
                                           "contradicts it (leave it out)")
            rate, arr = samples.sample_rate, samples.samples
        else:
            rate = 16000 if sample_rate is None else sample_rate
            try:
                arr = np.asarray(samples)
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError(f"animate: samples must be a 1-D array: {e}") from None
        if arr.ndim != 1:
            raise InvalidArgumentError(f"animate: samples must be 1-D (mono), got shape {arr.shape}")
        if arr.dtype == np.int16:
            arr = arr.astype(np.float32) / 32768.0
        elif arr.dtype.kind not in "f":
            raise InvalidArgumentError(f"animate: samples must be float or int16, not {arr.dtype}")
        a32 = np.ascontiguousarray(arr, dtype=np.float32)
        chosen = style_fields(self._info.num_styles, self._info.style_dim, style, style_code, persona)
        p = _lib.sized(_lib.AnimateParamsC)
        function("mimetic_animate_params_init")(ctypes.byref(p))
        p.sample_rate = check_int32("sample_rate", rate)
        if chosen.slot is not None:
            p.style_slot = chosen.slot
        if chosen.weights is not None:
            p.style_weights, p.style_weights_count = float_ptr(chosen.weights), len(chosen.weights)
        if chosen.code is not None:
            p.style_code, p.style_code_count = float_ptr(chosen.code), len(chosen.code)
        if chosen.persona_handle is not None:
            p.persona = chosen.persona_handle
        frames = self.frame_count(a32.shape[0], rate)
        out = np.empty((max(frames, 1), self._info.num_vertices, 3), dtype=np.float32)
        made = ctypes.c_size_t()
        check(function("mimetic_animate")(handle, float_ptr(a32), a32.shape[0], ctypes.byref(p), float_ptr(out),
                                          frames * self._info.output_size, ctypes.byref(made)), "mimetic_animate")
        del chosen
        return out[:made.value]

    def _motion(self, function_name: str, offsets: Any) -> np.ndarray:
        """``offsets`` as a contiguous float32 ``[frames, output_size]`` (from that or ``[frames, V, 3]``)."""
        assert self._info is not None
        try:
            arr = np.asarray(offsets, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"{function_name}: offsets must be a float array: {e}") from None
        out_size = self._info.output_size
        if arr.ndim == 3 and arr.shape[1:] == (self._info.num_vertices, 3):
            arr = arr.reshape(arr.shape[0], out_size)
        if arr.ndim != 2 or arr.shape[1] != out_size or arr.shape[0] == 0:
            raise InvalidArgumentError(f"{function_name}: offsets must be [frames, {out_size}] or "
                                       f"[frames, {self._info.num_vertices}, 3] with frames > 0, got shape {arr.shape}")
        return np.ascontiguousarray(arr)

    def style_from_motion(self, offsets: Any) -> np.ndarray:
        """Mimic: the style code (float32 ``[style_dim]``) of a reference motion clip.

        ``offsets``: ``[frames, output_size]`` or ``[frames, num_vertices, 3]`` offsets from the
        template (the last 150 frames are used). Pass the result as ``Stream(style_code=...)`` or to
        ``Stream.set_style_code``. Other families raise ``InvalidArgumentError``. Allocates: not for a
        real-time thread.
        """
        handle = self._require_open()
        assert self._info is not None
        arr = self._motion("style_from_motion", offsets)
        code = np.empty(self._info.style_dim, dtype=np.float32)
        check(function("mimetic_style_from_motion")(handle, float_ptr(arr), arr.shape[0], float_ptr(code),
                                                    code.shape[0]), "mimetic_style_from_motion")
        return code

    def closure_events(self, offsets: Any, phones: Optional[Sequence[Tuple[float, float]]] = None) -> np.ndarray:
        """Frames where the lips close in a reference clip (int32; ``ReferenceClip.bilabial_frames``),
        ``mimetic_closure_events``.

        ``offsets``: ``[frames, output_size]`` or ``[frames, num_vertices, 3]`` offsets from the template.
        ``phones``: ``(start, end)`` seconds of the m/b/p phones of a forced alignment of the clip's
        audio (``mimetic.align.bilabial_spans``): one event per closure, at its smallest lip opening.
        None: from the motion alone (each run of frames with the lips within 0.5 mm, at its smallest).
        """
        handle = self._require_open()
        arr = self._motion("closure_events", offsets)
        spans = None
        if phones is not None:
            try:
                spans = np.ascontiguousarray(np.asarray(phones, dtype=np.float64).reshape(-1, 2))
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError(f"closure_events: phones must be (start, end) pairs in seconds: {e}") from None
        count = ctypes.c_size_t()
        n_phones = 0 if spans is None else spans.shape[0]
        phone_ptr = None if spans is None else spans.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        capacity = max(arr.shape[0], n_phones)
        events = np.empty(capacity, dtype=np.int32)
        check(function("mimetic_closure_events")(handle, float_ptr(arr), arr.shape[0], phone_ptr, n_phones,
                                                 events.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), capacity,
                                                 ctypes.byref(count)), "mimetic_closure_events")
        return events[:count.value].copy()

    def close(self, defer: bool = False) -> None:
        """Frees the native model. Idempotent (a no-op once closed or once a deferred close is pending).

        With live streams the model cannot be freed: by default this raises ``WrongStateError``
        and the model stays open and usable; with ``defer=True`` the model is marked closed now (no new
        streams; ``info``, ``style_names`` raise) and the native model is freed when its last stream
        closes.
        """
        with self._lock:
            if self._closed or self._close_pending:
                return
            if self._live:
                if not defer:
                    raise WrongStateError(
                        f"Model.close: {len(self._live)} stream(s) made from this model are still open; close "
                        "them first (the model stays open), or use close(defer=True)")
                self._close_pending = True
                return
            self._free_native()

    def __enter__(self) -> "Model":
        self._require_open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(defer=exc_type is not None)

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close(defer=True)
        except Exception:
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<mimetic.Model (closed)>"
        assert self._info is not None
        src = self.path if self.path is not None else "<bytes>"
        return (f"<mimetic.Model {self._info.family_name} {src!s} V={self._info.num_vertices} "
                f"fps={self._info.fps} styles={self._info.num_styles}>")
