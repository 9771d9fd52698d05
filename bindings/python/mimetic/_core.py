"""Helpers shared by the model and stream wrappers: status checking, buffers."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Tuple

import numpy as np

from . import _lib
from ._enums import Status
from ._errors import InvalidArgumentError, UnsupportedError, error_for


def last_error() -> str:
    """``mimetic_last_error()`` of the calling thread, decoded ("" if none)."""
    msg = _lib.lib.mimetic_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_string(status: int) -> str:
    """``mimetic_status_string(status)``: the library's constant English name of a status code."""
    s = _lib.lib.mimetic_status_string(int(status))
    return s.decode("utf-8", "replace") if s else ""


def check(status: int, what: str = "") -> None:
    """Raises the ``MimeticError`` subclass for ``status`` unless it is ``OK``.

    Must run right after the C call, on the same thread, so that ``mimetic_last_error()`` is the
    message of that call.
    """
    if status == Status.OK:
        return
    message = last_error()
    if not message:
        message = f"{what}: {status_string(status)}" if what else status_string(status)
    raise error_for(status, message)


def function(name: str) -> Any:
    """The C function ``name``, or an ``UnsupportedError`` if this library build lacks it."""
    if not _lib.has(name):
        raise UnsupportedError(f"{_lib.library_path} does not export {name} (a library built before "
                               "streaming?); rebuild libMimetic")
    return getattr(_lib.lib, name)


def check_int32(name: str, value: Any) -> int:
    """``value`` as a Python int that fits a C ``int32_t`` (ctypes would silently wrap it)."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be an integer, not bool")
    try:
        v = int(value.__index__())
    except (AttributeError, TypeError):
        raise InvalidArgumentError(f"{name} must be an integer, not {type(value).__name__}") from None
    if not -(2 ** 31) <= v < 2 ** 31:
        raise InvalidArgumentError(f"{name} = {v} does not fit a 32-bit integer")
    return v


def float_vector(name: str, values: Any, length: int) -> np.ndarray:
    """``values`` as a contiguous 1-D float32 array of exactly ``length`` elements."""
    try:
        arr = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"{name} must be a sequence of numbers: {e}") from None
    if arr.ndim != 1:
        raise InvalidArgumentError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != length:
        raise InvalidArgumentError(f"{name} must have {length} values for this model, got {arr.shape[0]}")
    return arr


def float_ptr(arr: np.ndarray) -> "ctypes._Pointer[ctypes.c_float]":
    """A ``float *`` to a contiguous float32 array (the array must outlive the pointer's use)."""
    return arr.ctypes.data_as(_lib.c_float_p)


def readable_bytes(name: str, data: Any) -> np.ndarray:
    """Any bytes-like object as a contiguous uint8 array sharing its memory when possible."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    try:
        mv = memoryview(data)
    except TypeError:
        raise InvalidArgumentError(f"{name} must be a bytes-like object, not {type(data).__name__}") from None
    if not mv.contiguous:
        mv = memoryview(mv.tobytes())
    return np.frombuffer(mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv, dtype=np.uint8)


def aligned_buffer(size: int, alignment: int = 64) -> np.ndarray:
    """A zeroed, writable ``uint8`` array of exactly ``size`` bytes starting at an ``alignment``-byte
    boundary: a ready-made ``state_buffer`` for ``Stream`` (``aligned_buffer(Stream.state_size(...))``)."""
    size = int(size)
    if size < 0:
        raise InvalidArgumentError(f"size must be >= 0, got {size}")
    raw = np.zeros(size + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset:offset + size]


def writable_buffer(name: str, buf: Any) -> Tuple["ctypes.Array[ctypes.c_char]", int]:
    """The ctypes view and byte length of a writable, contiguous buffer (bytearray, numpy array, ...).

    The returned ctypes array shares ``buf``'s memory and holds its buffer export (a bytearray cannot
    be resized while the view lives).
    """
    try:
        mv = memoryview(buf)
    except TypeError:
        raise InvalidArgumentError(f"{name} must be a writable buffer (bytearray, numpy uint8 array, ...), "
                                   f"not {type(buf).__name__}") from None
    if mv.readonly:
        raise InvalidArgumentError(f"{name} is read-only; pass a writable buffer such as a bytearray")
    if not mv.c_contiguous:
        raise InvalidArgumentError(f"{name} must be C-contiguous")
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    n = mv.nbytes
    view = (ctypes.c_char * n).from_buffer(mv) if n > 0 else (ctypes.c_char * 0)()
    return view, n


def fs_path(what: str, path: Any) -> bytes:
    """``path`` (str, bytes or os.PathLike) as the bytes a C function takes, or InvalidArgumentError
    naming ``what`` for None, a non-path or an embedded NUL."""
    if path is None:
        raise InvalidArgumentError(f"{what}: path is None")
    try:
        encoded = os.fsencode(path)
    except TypeError:
        raise InvalidArgumentError(f"{what}: path must be a str or os.PathLike, not {type(path).__name__}") from None
    if b"\0" in encoded:
        raise InvalidArgumentError(f"{what}: path contains a NUL byte")
    return encoded
