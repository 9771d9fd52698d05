"""``Stream``: one character's streaming animation state (``mimetic_stream``)."""
from __future__ import annotations

import collections
import contextlib
import ctypes
import threading
import warnings
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._core import (aligned_buffer, check, check_int32, float_ptr, float_vector, function, readable_bytes,
                    writable_buffer)
from ._enums import SamplePolicy, Status
from ._errors import BufferTooSmallError, InternalError, InvalidArgumentError, InvalidAudioError, WrongStateError
from ._model import Model
from ._style import StyleArg, style_fields

#: A float32 numpy array.
FloatArray = npt.NDArray[np.float32]

#: Alignment the C library requires of a caller-provided state buffer.
STATE_ALIGNMENT = 64

PolicyArg = Union[str, int, SamplePolicy]


@dataclass(frozen=True)
class StreamParams:
    """The effective parameters of a stream (``mimetic_stream_params`` after defaults).

    ``style_slot`` is -1 when the stream was created with style weights or a style code. For a
    real-time-encoder model (``latency_tunable`` False: the shipped default) ``lookahead_ms`` is the
    encoder's own, fixed lookahead and ``left_context_ms`` / ``hop_ms`` are None: they do not apply.
    """

    sample_rate: int
    lookahead_ms: int
    left_context_ms: Optional[int]
    hop_ms: Optional[int]
    max_queued_frames: int
    style_slot: int
    sample_policy: SamplePolicy
    latency_tunable: bool = True


@dataclass(frozen=True)
class FrameInfo:
    """Where a pulled frame sits in the input (``mimetic_frame_info``).

    Attributes:
        frame_index: 0, 1, 2, ... since creation or the last reset.
        timestamp_s: time of the frame in the input audio, seconds (frame_index / fps).
        timestamp_samples: the same time in input samples (at the stream's sample_rate).
        latency_s: input audio pushed beyond this frame when it was computed (the algorithmic delay).
        is_final: True for the last frame of an utterance after ``flush()``.
    """

    frame_index: int
    timestamp_s: float
    timestamp_samples: int
    latency_s: float
    is_final: bool


@dataclass(frozen=True)
class StreamStats:
    """Counters of a stream (``mimetic_stream_stats``).

    Attributes:
        samples_pushed: input samples accepted since creation/reset.
        frames_emitted: frames pulled.
        samples_repaired: NaN/Inf/out-of-range samples sanitised (``sample_policy="sanitize"``).
        encoder_seconds: CPU time spent in the encoder.
        decoder_seconds: CPU time spent in the decoder.
    """

    samples_pushed: int
    frames_emitted: int
    samples_repaired: int
    encoder_seconds: float
    decoder_seconds: float


def _policy(value: PolicyArg) -> SamplePolicy:
    if isinstance(value, str):
        try:
            return SamplePolicy[value.upper()]
        except KeyError:
            raise InvalidArgumentError(f"sample_policy must be 'sanitize' or 'reject', not {value!r}") from None
    try:
        return SamplePolicy(check_int32("sample_policy", value))
    except ValueError:
        raise InvalidArgumentError(f"sample_policy must be 'sanitize' or 'reject', not {value!r}") from None


def _model_handle(model: Any) -> int:
    if model is None:
        raise InvalidArgumentError("model is None")
    if not isinstance(model, Model):
        raise InvalidArgumentError(f"model must be a mimetic.Model, not {type(model).__name__}")
    return model._require_open()


def _build_params(model: Model, sample_rate: int = 16000, lookahead_ms: Optional[int] = None,
                  left_context_ms: Optional[int] = None, hop_ms: Optional[int] = None,
                  max_queued_frames: Optional[int] = None, style: StyleArg = None,
                  style_code: Optional[Union[Sequence[float], np.ndarray]] = None,
                  sample_policy: PolicyArg = "sanitize", persona: Any = None,
                  reserve_persona_basis: bool = False) -> Tuple[_lib.StreamParamsC, List[Any]]:
    """A filled ``mimetic_stream_params`` and the arrays its pointers refer to (keep them alive)."""
    info = model.info
    p = _lib.sized(_lib.StreamParamsC)
    function("mimetic_stream_params_init")(ctypes.byref(p))
    if p.struct_size != ctypes.sizeof(_lib.StreamParamsC):
        raise InternalError(f"mimetic_stream_params_init set struct_size {p.struct_size}, the binding's "
                            f"struct has {ctypes.sizeof(_lib.StreamParamsC)} bytes (header mismatch)")
    if sample_rate is not None:
        p.sample_rate = check_int32("sample_rate", sample_rate)
    if not info.latency_tunable and any(v is not None for v in (lookahead_ms, left_context_ms, hop_ms)):
        warnings.warn("lookahead_ms, left_context_ms and hop_ms do not apply to a real-time-encoder model: its "
                      f"lookahead is fixed at {info.encoder_lookahead_ms} ms (Stream.latency gives the whole delay)",
                      UserWarning, stacklevel=3)
    if lookahead_ms is not None:
        p.lookahead_ms = check_int32("lookahead_ms", lookahead_ms)
    if left_context_ms is not None:
        p.left_context_ms = check_int32("left_context_ms", left_context_ms)
    if hop_ms is not None:
        p.hop_ms = check_int32("hop_ms", hop_ms)
    if max_queued_frames is not None:
        p.max_queued_frames = check_int32("max_queued_frames", max_queued_frames)
    chosen = style_fields(info.num_styles, info.style_dim, style, style_code, persona)
    keep: List[Any] = chosen.keep
    if chosen.slot is not None:
        p.style_slot = chosen.slot
    if chosen.weights is not None:
        p.style_weights = float_ptr(chosen.weights)
        p.style_weights_count = len(chosen.weights)
    if chosen.code is not None:
        p.style_code = float_ptr(chosen.code)
        p.style_code_count = len(chosen.code)
    p.sample_policy = int(_policy(sample_policy))
    if chosen.persona_handle is not None:
        p.persona = chosen.persona_handle
    p.reserve_persona_basis = 1 if reserve_persona_basis else 0
    return p, keep


class Stream:
    """One character's streaming animation: push audio as it arrives, pull motion frames when ready.

    A stream keeps a reference to its ``Model`` (the model cannot be freed while it lives). Calls on one
    stream are serialised by an internal lock, so it may be pushed from one thread and pulled from
    another; different streams run in parallel (the C calls release the GIL).

    Args:
        model: the ``Model`` to animate with.
        sample_rate: rate of the pushed audio, 8000..48000 Hz (resampled inside).
        lookahead_ms: future audio the encoder sees before emitting a frame (the latency knob);
            ``model.info.min_lookahead_ms..max_lookahead_ms``. None: the library default.
        left_context_ms: past audio the encoder sees with each hop. None: default.
        hop_ms: audio per encoder run (larger: less CPU, more latency). None: default.
        max_queued_frames: frames computed but not yet pulled; pushing more audio than fits raises
            ``BufferTooSmallError`` (frames are never dropped). None: default.
        style: initial style: a slot index (int), or ``num_styles`` weights over the slots. None: the
            library default (slot 0).
        style_code: instead of ``style``, ``style_dim`` floats, e.g. a Mimic style code from
            ``Model.style_from_motion`` (required for a Mimic model that ships no style codes).
        sample_policy: "sanitize" (NaN -> 0, clamp to [-1, 1], counted in ``stats.samples_repaired``)
            or "reject" (a chunk with NaN/Inf raises ``InvalidAudioError`` and nothing is consumed).
        state_buffer: optional writable, C-contiguous buffer (bytearray, numpy uint8 array, ...) used
            in place as the stream's whole state; it must hold ``Stream.state_size(model, ...)`` bytes
            at a 64-byte-aligned address. A buffer that is not aligned is used from its first aligned
            byte, so it then needs up to 63 bytes more; ``mimetic.aligned_buffer(n)`` makes an
            aligned one. The stream references the buffer until closed.

    Raises:
        InvalidArgumentError: bad parameters (the message names the accepted range), closed model.
        BufferTooSmallError: ``state_buffer`` too small (the message names the size needed).
        UnsupportedError: the loaded library has no streaming functions.
    """

    def __init__(self, model: Model, sample_rate: int = 16000, lookahead_ms: Optional[int] = None,
                 left_context_ms: Optional[int] = None, hop_ms: Optional[int] = None,
                 max_queued_frames: Optional[int] = None, style: StyleArg = None,
                 style_code: Optional[Union[Sequence[float], np.ndarray]] = None,
                 sample_policy: PolicyArg = "sanitize", state_buffer: Any = None,
                 persona: Any = None, reserve_persona_basis: bool = False) -> None:
        self._handle: Optional[int] = None
        self._lock = threading.Lock()
        self._token = id(self)
        self._model: Optional[Model] = None
        self._state_view: Optional["ctypes.Array[ctypes.c_char]"] = None
        self._state_buffer: Any = None
        mhandle = _model_handle(model)
        params, keep = _build_params(model, sample_rate, lookahead_ms, left_context_ms, hop_ms,
                                     max_queued_frames, style, style_code, sample_policy, persona,
                                     reserve_persona_basis)
        size = ctypes.c_size_t()
        check(function("mimetic_stream_state_size")(mhandle, ctypes.byref(params), ctypes.byref(size)),
              "mimetic_stream_state_size")
        self._state_size = size.value
        self._output_size = model.info.output_size
        self._fps = model.info.fps
        tunable = model.info.latency_tunable
        self._params = StreamParams(
            sample_rate=params.sample_rate,
            lookahead_ms=params.lookahead_ms if tunable else model.info.encoder_lookahead_ms,
            left_context_ms=params.left_context_ms if tunable else None, hop_ms=params.hop_ms if tunable else None,
            max_queued_frames=params.max_queued_frames, style_slot=params.style_slot,
            sample_policy=SamplePolicy(params.sample_policy), latency_tunable=tunable)
        self._num_vertices = model.info.num_vertices
        # Frames the binding pulled to make room while a long push went in (see push): handed out
        # by pull/pull_all before the library's own queue. Never dropped.
        self._backlog: "collections.deque[Tuple[np.ndarray, FrameInfo]]" = collections.deque()
        # Samples per C push: small enough that one piece never overfills the library's queue.
        self._piece = max(1, params.sample_rate // 10)

        ptr: Optional[int] = None
        nbytes = 0
        view = None
        if state_buffer is not None:
            view, total = writable_buffer("state_buffer", state_buffer)
            base = ctypes.addressof(view)
            pad = (-base) % STATE_ALIGNMENT
            if pad and total - pad < self._state_size:
                raise BufferTooSmallError(
                    f"state_buffer holds {total} bytes at an address that is not {STATE_ALIGNMENT}-byte aligned; "
                    f"the stream needs {self._state_size} bytes aligned, so pass at least "
                    f"{self._state_size + STATE_ALIGNMENT - 1} bytes or mimetic.aligned_buffer({self._state_size})")
            ptr = base + pad
            nbytes = total - pad

        mhandle = model._attach(self._token)
        try:
            out = _lib.c_stream_p()
            check(function("mimetic_stream_create")(mhandle, ctypes.byref(params), ptr, nbytes, ctypes.byref(out)),
                  "mimetic_stream_create")
            if not out.value:
                raise InternalError("mimetic_stream_create returned OK but no stream")
        except BaseException:
            model._detach(self._token)
            raise
        del keep  # the params' arrays were read at creation
        self._handle = out.value
        self._model = model
        self._state_view = view
        self._state_buffer = state_buffer

    # -- static ----------------------------------------------------------------------------

    @staticmethod
    def state_size(model: Model, sample_rate: int = 16000, lookahead_ms: Optional[int] = None,
                   left_context_ms: Optional[int] = None, hop_ms: Optional[int] = None,
                   max_queued_frames: Optional[int] = None, style: StyleArg = None,
                   style_code: Optional[Union[Sequence[float], np.ndarray]] = None,
                   sample_policy: PolicyArg = "sanitize", persona: Any = None,
                   reserve_persona_basis: bool = False) -> int:
        """Bytes of state a stream with these parameters needs (``mimetic_stream_state_size``): the size
        of a ``state_buffer`` and of a ``snapshot()``. Takes the constructor's keyword arguments."""
        mhandle = _model_handle(model)
        params, keep = _build_params(model, sample_rate, lookahead_ms, left_context_ms, hop_ms,
                                     max_queued_frames, style, style_code, sample_policy, persona,
                                     reserve_persona_basis)
        size = ctypes.c_size_t()
        check(function("mimetic_stream_state_size")(mhandle, ctypes.byref(params), ctypes.byref(size)),
              "mimetic_stream_state_size")
        del keep
        return size.value

    @staticmethod
    def default_params() -> StreamParams:
        """The library's defaults (``mimetic_stream_params_init``)."""
        p = _lib.sized(_lib.StreamParamsC)
        function("mimetic_stream_params_init")(ctypes.byref(p))
        return StreamParams(sample_rate=p.sample_rate, lookahead_ms=p.lookahead_ms,
                            left_context_ms=p.left_context_ms, hop_ms=p.hop_ms,
                            max_queued_frames=p.max_queued_frames, style_slot=p.style_slot,
                            sample_policy=SamplePolicy(p.sample_policy))

    # -- internals -------------------------------------------------------------------------

    def _require_open(self) -> int:
        if not self._handle:
            raise InvalidArgumentError("Stream is closed")
        return self._handle

    # -- properties --------------------------------------------------------------------------

    @property
    def model(self) -> Optional[Model]:
        """The model this stream animates with (None once the stream is closed)."""
        return self._model

    @property
    def params(self) -> StreamParams:
        """The parameters the stream was created with, defaults filled in."""
        return self._params

    @property
    def output_size(self) -> int:
        """Floats per frame (3 * vertices)."""
        return self._output_size

    @property
    def snapshot_size(self) -> int:
        """Bytes of a ``snapshot()`` (the stream's ``state_size``)."""
        return self._state_size

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._handle is None

    @property
    def latency(self) -> float:
        """Fixed algorithmic delay in seconds (``mimetic_stream_get_latency``): delay audio playback
        by this much to keep sound and face in sync when audio arrives in real time."""
        out = ctypes.c_double()
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_get_latency")(h, ctypes.byref(out)), "mimetic_stream_get_latency")
        return out.value

    @property
    def stats(self) -> StreamStats:
        """Counters since creation/reset (``mimetic_stream_get_stats``)."""
        s = _lib.sized(_lib.StreamStatsC)
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_get_stats")(h, ctypes.byref(s)), "mimetic_stream_get_stats")
        return StreamStats(samples_pushed=s.samples_pushed, frames_emitted=s.frames_emitted,
                           samples_repaired=s.samples_repaired, encoder_seconds=s.encoder_seconds,
                           decoder_seconds=s.decoder_seconds)

    # -- audio in, frames out ------------------------------------------------------------------

    def push(self, samples: Any) -> None:
        """Appends mono samples at ``params.sample_rate``.

        ``samples``: a 1-D numpy array of float32/float64 (any float dtype; converted to contiguous
        float32, nominal range [-1, 1]) or int16 (full scale, pushed through the int16 entry point), or
        a list/tuple of numbers (treated as float). An empty array is a no-op.

        Any length is accepted: the samples go in piece by piece, and when the library's queue of
        unpulled frames (``max_queued_frames``) fills up, its frames move to a backlog the binding
        keeps, so that pushing a whole file and then pulling gives every frame (this allocates; a
        real-time caller pushes small chunks and pulls as it goes).

        Raises:
            InvalidArgumentError: not 1-D, or an integer dtype other than int16, or closed stream.
            InvalidAudioError: NaN/Inf under ``sample_policy="reject"`` (nothing consumed).
            WrongStateError: push after ``flush()`` (until ``reset()``).
        """
        if isinstance(samples, np.ndarray):
            arr = samples
        else:
            try:
                arr = np.asarray(samples)
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError(f"push: samples must be a 1-D array: {e}") from None
            if arr.dtype != np.int16 and arr.dtype.kind in "iub":
                arr = arr.astype(np.float32)
        if arr.ndim != 1:
            raise InvalidArgumentError(f"push: samples must be 1-D (mono), got shape {arr.shape}")
        if arr.dtype == np.int16:
            a16 = np.ascontiguousarray(arr)
            fn = function("mimetic_stream_push_audio_i16")
            ptr: Any = a16.ctypes.data_as(_lib.c_int16_p)
            keep: np.ndarray = a16
        elif arr.dtype.kind == "f":
            a32 = np.ascontiguousarray(arr, dtype=np.float32)
            if self._params.sample_policy == SamplePolicy.REJECT and a32.size and not np.isfinite(a32).all():
                # Checked here, before any piece goes in, so that a rejected push consumes nothing.
                bad = int(np.flatnonzero(~np.isfinite(a32))[0])
                raise InvalidAudioError(f"push: sample {bad} is {a32[bad]} (NaN or Inf) and sample_policy is 'reject'; "
                                        "nothing was consumed")
            fn = function("mimetic_stream_push_audio")
            ptr = float_ptr(a32)
            keep = a32
        else:
            raise InvalidArgumentError(f"push: samples must be float32/float64 or int16, not {arr.dtype}")
        n = keep.shape[0]
        step = ctypes.sizeof(ctypes.c_int16 if keep.dtype == np.int16 else ctypes.c_float)
        base = ctypes.cast(ptr, ctypes.c_void_p).value or 0
        ptr_type = type(ptr)
        with self._lock:
            h = self._require_open()
            begin = 0
            while begin < n:
                count = min(self._piece, n - begin)
                piece = ctypes.cast(base + begin * step, ptr_type)
                status = fn(h, piece, count)
                if status == Status.BUFFER_TOO_SMALL:
                    # The library's queue of unpulled frames is full: move its frames to the
                    # binding's backlog (every one is kept) and push the same piece again.
                    if self._drain(h) == 0:
                        check(status, fn.__name__)
                    status = fn(h, piece, count)
                check(status, fn.__name__)
                begin += count

    def _drain(self, h: int) -> int:
        """Moves every frame the library has ready into the backlog; returns how many."""
        moved = 0
        while True:
            buf = np.empty((self._num_vertices, 3), dtype=np.float32)
            fi = self._pull_into(h, buf.reshape(-1))
            if fi is None:
                return moved
            self._backlog.append((buf, fi))
            moved += 1

    def frames_ready(self) -> int:
        """Runs the encoder/decoder on what has been pushed; returns how many frames ``pull()`` can return now
        (the library's and those the binding holds from a long push)."""
        n = ctypes.c_size_t()
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_frames_ready")(h, ctypes.byref(n)), "mimetic_stream_frames_ready")
            return n.value + len(self._backlog)

    def _pull_into(self, h: int, out: np.ndarray) -> Optional[FrameInfo]:
        fi = _lib.sized(_lib.FrameInfoC)
        status = function("mimetic_stream_pull_frame")(h, float_ptr(out), out.shape[0], ctypes.byref(fi))
        if status == Status.NOT_READY:
            return None
        check(status, "mimetic_stream_pull_frame")
        return FrameInfo(frame_index=fi.frame_index, timestamp_s=fi.timestamp_s,
                         timestamp_samples=fi.timestamp_samples, latency_s=fi.latency_s, is_final=bool(fi.is_final))

    def pull(self, out: Optional[np.ndarray] = None) -> Optional[Tuple[FloatArray, FrameInfo]]:
        """Pops the oldest ready frame: ``(offsets, info)`` with ``offsets`` a float32 ``[num_vertices, 3]``
        array of vertex offsets from the template, or None if no frame is ready (push more audio, or
        ``flush()``).

        ``out``: optional writable, C-contiguous float32 array of ``output_size`` elements (any shape,
        e.g. ``[V, 3]`` or ``[3V]``) to fill instead of allocating one; the returned ``offsets`` is then
        ``out``. A smaller one raises ``BufferTooSmallError`` and the frame stays queued.
        """
        if out is None:
            buf = np.empty((self._num_vertices, 3), dtype=np.float32)
        else:
            if not isinstance(out, np.ndarray) or out.dtype != np.float32 or not out.flags.c_contiguous \
                    or not out.flags.writeable:
                raise InvalidArgumentError("pull: out must be a writable, C-contiguous float32 numpy array")
            buf = out
        flat = buf.reshape(-1)
        with self._lock:
            h = self._require_open()
            if self._backlog:
                if flat.shape[0] < self._output_size:
                    raise BufferTooSmallError(f"pull: out holds {flat.shape[0]} floats; a frame has {self._output_size}")
                frame, fi_held = self._backlog.popleft()
                flat[:self._output_size] = frame.reshape(-1)
                return buf, fi_held
            fi = self._pull_into(h, flat)
        return None if fi is None else (buf, fi)

    def pull_weights(self, retarget: Any) -> Optional[Tuple[FloatArray, FrameInfo, float]]:
        """Pops the oldest ready frame fitted by ``retarget`` (``mimetic_stream_pull_weights``):
        ``(weights [K] float32, info, residual)``, or None if no frame is ready."""
        from ._retarget import Retarget
        if not isinstance(retarget, Retarget):
            raise InvalidArgumentError(f"retarget must be a mimetic.Retarget, not {type(retarget).__name__}")
        with self._lock:
            h = self._require_open()
            if self._backlog:
                frame, fi_held = self._backlog.popleft()
                weights, residual = retarget.apply(frame)
                return weights, fi_held, float(residual)
            weights = np.empty(retarget.count, dtype=np.float32)
            fi = _lib.sized(_lib.FrameInfoC)
            res = ctypes.c_float()
            with retarget._lock:
                status = function("mimetic_stream_pull_weights")(h, retarget._require_open(), float_ptr(weights), retarget.count,
                                                                 ctypes.byref(fi), ctypes.byref(res))
            if status == Status.NOT_READY:
                return None
            check(status, "mimetic_stream_pull_weights")
        info = FrameInfo(frame_index=fi.frame_index, timestamp_s=fi.timestamp_s, timestamp_samples=fi.timestamp_samples,
                         latency_s=fi.latency_s, is_final=bool(fi.is_final))
        return weights, info, res.value

    def pull_all(self) -> Tuple[FloatArray, List[FrameInfo]]:
        """Pops every ready frame: ``(offsets [n, num_vertices, 3] float32, [FrameInfo] * n)``; n may be 0."""
        chunks: List[np.ndarray] = []
        infos: List[FrameInfo] = []
        with self._lock:
            h = self._require_open()
            if self._backlog:
                held = list(self._backlog)
                self._backlog.clear()
                chunks.append(np.stack([f for f, _ in held]))
                infos.extend(fi for _, fi in held)
            while True:
                n = ctypes.c_size_t()
                check(function("mimetic_stream_frames_ready")(h, ctypes.byref(n)), "mimetic_stream_frames_ready")
                if n.value == 0:
                    break
                block = np.empty((n.value, self._num_vertices, 3), dtype=np.float32)
                got = 0
                for i in range(n.value):
                    fi = self._pull_into(h, block[i].reshape(-1))
                    if fi is None:
                        break
                    infos.append(fi)
                    got += 1
                chunks.append(block[:got])
                if got < n.value:
                    break
        if not chunks:
            return np.empty((0, self._num_vertices, 3), dtype=np.float32), infos
        return (chunks[0] if len(chunks) == 1 else np.concatenate(chunks)), infos

    def flush(self) -> None:
        """Ends the utterance: the remaining audio is encoded with silence as lookahead, so every frame
        of the pushed audio becomes ready (the last one has ``is_final``). Pushing then raises
        ``WrongStateError`` until ``reset()``."""
        with self._lock:
            h = self._require_open()
            status = function("mimetic_stream_flush")(h)
            if status == Status.BUFFER_TOO_SMALL and self._drain(h) > 0:
                status = function("mimetic_stream_flush")(h)
            check(status, "mimetic_stream_flush")

    @property
    def is_complete(self) -> bool:
        """True once the utterance is over: flushed, and every one of its frames pulled (a
        real-time-encoder stream can hand out its last frame before the flush, without
        ``is_final``)."""
        done = ctypes.c_int32()
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_is_complete")(h, ctypes.byref(done)), "mimetic_stream_is_complete")
            return bool(done.value) and not self._backlog

    def reset(self) -> None:
        """Forgets all audio and frames (frame indices restart at 0); the style is kept."""
        with self._lock:
            check(function("mimetic_stream_reset")(self._require_open()), "mimetic_stream_reset")
            self._backlog.clear()

    def snapshot(self) -> bytes:
        """The stream's whole state as ``snapshot_size`` bytes (e.g. for rollback); see ``restore``."""
        buf = bytearray(self._state_size)
        view, n = writable_buffer("snapshot", buf)
        with self._lock:
            h = self._require_open()
            if self._backlog:
                raise WrongStateError(f"snapshot: the binding holds {len(self._backlog)} frame(s) from a long push "
                                      "that the library's state does not contain; pull them first")
            check(function("mimetic_stream_snapshot")(h, ctypes.addressof(view) if n else None, n),
                  "mimetic_stream_snapshot")
        del view
        return bytes(buf)

    def restore(self, data: Any) -> None:
        """Restores a ``snapshot()`` taken from a stream of the same model and parameters (bytes-like)."""
        arr = readable_bytes("snapshot", data)
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_restore")(h, arr.ctypes.data if arr.size else None, arr.size),
                  "mimetic_stream_restore")
            self._backlog.clear()

    def set_style(self, style: Union[int, Sequence[float], np.ndarray]) -> None:
        """Changes the style from the next computed frame: a slot index (int) or ``num_styles`` weights."""
        with self._lock:
            h = self._require_open()
            if isinstance(style, (int, np.integer)) and not isinstance(style, bool):
                check(function("mimetic_stream_set_style_slot")(h, check_int32("style", style)),
                      "mimetic_stream_set_style_slot")
                return
            if style is None:
                raise InvalidArgumentError("set_style: style is None; pass a slot index or weights")
            w = np.ascontiguousarray(np.asarray(style, dtype=np.float32))
            if w.ndim != 1:
                raise InvalidArgumentError(f"set_style: weights must be 1-D, got shape {w.shape}")
            check(function("mimetic_stream_set_style_weights")(h, float_ptr(w), w.shape[0]),
                  "mimetic_stream_set_style_weights")

    def set_style_code(self, code: Union[Sequence[float], np.ndarray]) -> None:
        """Sets a style code (``style_dim`` floats, e.g. a Mimic style) from the next computed frame."""
        if code is None:
            raise InvalidArgumentError("set_style_code: code is None")
        c = np.ascontiguousarray(np.asarray(code, dtype=np.float32))
        if c.ndim != 1:
            raise InvalidArgumentError(f"set_style_code: code must be 1-D, got shape {c.shape}")
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_set_style_code")(h, float_ptr(c), c.shape[0]),
                  "mimetic_stream_set_style_code")

    def set_persona(self, persona: Any) -> None:
        """Switches to a ``Persona`` from the next computed frame (an adapted Imitator persona changes the
        motion basis too, which needs a stream created with ``reserve_persona_basis=True`` or a persona)."""
        from ._persona import Persona
        if not isinstance(persona, Persona):
            raise InvalidArgumentError(f"persona must be a mimetic.Persona, not {type(persona).__name__}")
        with self._lock:
            h = self._require_open()
            check(function("mimetic_stream_set_persona")(h, persona._require_open()), "mimetic_stream_set_persona")

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the native stream (not a caller-provided state buffer) and releases the model. Idempotent."""
        with self._lock:
            h, self._handle = self._handle, None
            if h:
                _lib.lib.mimetic_stream_free(h)
            model, self._model = self._model, None
            self._state_view = None
            self._state_buffer = None
        if h and model is not None:
            model._detach(self._token)

    def __enter__(self) -> "Stream":
        self._require_open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None):
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<mimetic.Stream (closed)>"
        p = self._params
        return (f"<mimetic.Stream {p.sample_rate} Hz lookahead={p.lookahead_ms} ms hop={p.hop_ms} ms "
                f"state={self._state_size} B>")


__all__ = ["Stream", "StreamParams", "FrameInfo", "StreamStats", "aligned_buffer", "STATE_ALIGNMENT"]


def process_batch(streams: Sequence[Stream]) -> None:
    """Advances many streams of one model at once (``mimetic_stream_process_batch``): every
    stream's pending work runs in tiles of up to 16 streams, each encoder layer and the motion
    basis once per tile; then ``pull()`` each as usual. Each frame has the same bits as the stream
    computes alone. The streams must come from one model and appear once each. For example, after
    pushing each character's audio: ``mimetic.process_batch(characters)``, then
    ``frames = [c.pull() for c in characters]``.
    """
    items = list(streams)
    if not items:
        return
    handles = (_lib.c_stream_p * len(items))()
    seen: set[int] = set()
    with contextlib.ExitStack() as held:
        for i, s in enumerate(items):
            if not isinstance(s, Stream):
                raise InvalidArgumentError(f"process_batch: item {i} is a {type(s).__name__}, not a Stream")
            if id(s) in seen:  # checked here too: taking its lock twice would deadlock
                raise InvalidArgumentError(f"process_batch: stream {i} appears twice")
            seen.add(id(s))
            held.enter_context(s._lock)
            handles[i] = s._require_open()
        check(function("mimetic_stream_process_batch")(handles, len(items)), "mimetic_stream_process_batch")
