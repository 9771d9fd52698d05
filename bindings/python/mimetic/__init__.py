"""Mimetic: speech to 3D facial animation, the Python binding of ``libMimetic`` (ctypes, no extension).

    import mimetic
    model = mimetic.Model("models/default.safetensors")
    speech = mimetic.load_wav("line.wav")            # any PCM/float WAV, channels mixed to mono
    frames = model.animate(speech)                   # float32 [frames, V, 3] offsets from the template
    vertices = model.template + frames               # positions, [frames, V, 3]

    with mimetic.Stream(model, sample_rate=48000) as stream:   # live audio
        stream.push(chunk)                   # float32/float64 in [-1, 1], or int16; 1-D; any length
        while (frame := stream.pull()) is not None:
            offsets, info = frame            # offsets: float32 [V, 3]
        stream.flush()
        offsets, infos = stream.pull_all()   # the rest of the utterance, [n, V, 3]

The library is found through ``$MIMETIC_LIBRARY`` (a full path), a ``libMimetic.so`` bundled in this
package, the repository's ``.build/release`` and ``.build/debug`` (when imported from a checkout), and
finally the loader path (``ctypes.util.find_library("Mimetic")``, ``libMimetic.so.0``). Its major
version must match the binding's. ``mimetic.library_path`` says which file was loaded.

Every failing call raises a ``MimeticError`` subclass with ``.status`` (a ``Status``) and ``.message``.
"""
from __future__ import annotations

from typing import List

from ._errors import (BufferTooSmallError, CancelledError, InternalError, InvalidArgumentError, InvalidAudioError,
                      InvalidModelError, LibraryNotFoundError, MimeticError, MimeticIOError, NotReadyError,
                      UnsupportedError, WrongStateError, error_for)
from ._enums import Family, LogLevel, SamplePolicy, Status
from . import _lib
from ._core import aligned_buffer, last_error, status_string
from ._model import Model, ModelInfo
from ._audio import Audio, decode_wav, load_wav
from ._stream import STATE_ALIGNMENT, FrameInfo, Stream, StreamParams, StreamStats, process_batch
from ._log import get_log_callback, set_log_callback
from ._persona import Persona, ReferenceClip
from ._retarget import Retarget

#: The binding's version (the header version it was written against).
__version__ = ".".join(map(str, _lib.BINDING_VERSION))

#: The file the library was loaded from.
library_path: str = _lib.library_path


def version() -> str:
    """The loaded library's version, ``mimetic_version()`` ("MAJOR.MINOR.PATCH")."""
    return str(_lib.lib.mimetic_version().decode("ascii", "replace"))


def set_threads(n: int) -> None:
    """Threads for the matrix products (OpenBLAS, process-wide; ``n < 1`` means 1), ``mimetic_set_threads``.

    With 1 thread, stream push/pull allocate nothing and take no lock; more threads split the encoder's
    products over OpenBLAS's pool. Do not call it while streams are running (in any thread).
    """
    from ._core import check_int32, function
    function("mimetic_set_threads")(check_int32("n", n))


def get_threads() -> int:
    """The thread count set by ``set_threads`` (``mimetic_get_threads``)."""
    from ._core import function
    return int(function("mimetic_get_threads")())


def has_streaming() -> bool:
    """Whether the loaded library exports the streaming functions (``mimetic_stream_*``, ``mimetic_log_set``)."""
    return all(_lib.has(name) for name in _lib._STREAM_FUNCTIONS)


__all__: List[str] = [
    "Model", "ModelInfo", "Retarget", "Audio", "load_wav", "decode_wav", "Persona", "ReferenceClip", "CancelledError", "Stream", "StreamParams", "FrameInfo", "StreamStats", "process_batch", "aligned_buffer",
    "STATE_ALIGNMENT", "set_threads", "get_threads", "set_log_callback", "get_log_callback", "version", "has_streaming", "last_error",
    "status_string", "library_path", "Status", "Family", "LogLevel", "SamplePolicy", "MimeticError",
    "InvalidArgumentError", "MimeticIOError", "InvalidModelError", "UnsupportedError", "InvalidAudioError",
    "BufferTooSmallError", "InternalError", "NotReadyError", "WrongStateError", "LibraryNotFoundError",
    "error_for",
]
