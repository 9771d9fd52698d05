"""``set_log_callback``: the library's process-wide log (``mimetic_log_set``)."""
from __future__ import annotations

import threading
from typing import Callable, Optional

from . import _lib
from ._core import function
from ._enums import LogLevel

#: Signature of a log callback: ``fn(level, message)``.
LogCallback = Callable[[LogLevel, str], None]

_callback: Optional[LogCallback] = None
_lock = threading.Lock()


def _dispatch(level: int, message: Optional[bytes], user_data: Optional[int]) -> None:
    fn = _callback
    if fn is None:
        return
    try:
        lvl = LogLevel(level)
    except ValueError:
        lvl = level  # type: ignore[assignment]  # a level newer than the binding
    fn(lvl, message.decode("utf-8", "replace") if message else "")


# One trampoline for the life of the process: the library may call it from any thread at any time,
# so it is never freed; replacing the Python callback only swaps ``_callback``. An exception raised
# by the callback is reported through ``sys.unraisablehook`` by ctypes and does not reach the library.
_trampoline = _lib.LOG_CALLBACK(_dispatch)


def set_log_callback(fn: Optional[LogCallback]) -> Optional[LogCallback]:
    """Installs ``fn(level: LogLevel, message: str)`` as the library's log callback; None removes it.

    Every failing library call logs its message at ``LogLevel.ERROR`` (besides raising). The callback
    may be called from any thread that calls into Mimetic, while that call is in progress: keep it
    short, thread-safe, and do not call into Mimetic from it. Returns the previous callback.
    """
    global _callback
    if fn is not None and not callable(fn):
        from ._errors import InvalidArgumentError
        raise InvalidArgumentError(f"set_log_callback: {fn!r} is not callable")
    log_set = function("mimetic_log_set")
    with _lock:
        previous = _callback
        _callback = fn
        if fn is None:
            log_set(_lib.LOG_CALLBACK(), None)  # a NULL function pointer
        else:
            log_set(_trampoline, None)
    return previous


def get_log_callback() -> Optional[LogCallback]:
    """The callback installed by ``set_log_callback`` (None if none)."""
    return _callback
