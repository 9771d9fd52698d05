"""Exceptions: one ``MimeticError`` per failing call, carrying its ``Status`` and message."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Type

from ._enums import Status


class MimeticError(Exception):
    """A failing Mimetic call.

    Attributes:
        status: the ``Status`` the C function returned (or the one the binding chose for an error it
            detected itself before calling into the library, e.g. a 2-D array pushed).
        message: the library's message (``mimetic_last_error()``, read right after the failing call on
            the same thread), or the binding's own.

    Every status has a subclass (``InvalidArgumentError``, ``MimeticIOError``, ...); catching
    ``MimeticError`` catches them all.
    """

    default_status: Status = Status.INTERNAL

    def __init__(self, message: str = "", status: Optional[Status] = None) -> None:
        self.status: Status = Status(status) if status is not None else self.default_status
        self.message: str = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} [{self.status.name}]" if self.message else self.status.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status=Status.{self.status.name})"


class InvalidArgumentError(MimeticError, ValueError):
    """``MIMETIC_ERROR_INVALID_ARGUMENT``: NULL/closed handle, bad size, out-of-range value, bad array."""

    default_status = Status.INVALID_ARGUMENT


class MimeticIOError(MimeticError):
    """``MIMETIC_ERROR_IO``: a file cannot be opened or read."""

    default_status = Status.IO


class InvalidModelError(MimeticError):
    """``MIMETIC_ERROR_INVALID_MODEL``: corrupt, truncated or inconsistent model file."""

    default_status = Status.INVALID_MODEL


class UnsupportedError(MimeticError):
    """``MIMETIC_ERROR_UNSUPPORTED``: a valid request for something not implemented (or not in this library build)."""

    default_status = Status.UNSUPPORTED


class InvalidAudioError(MimeticError, ValueError):
    """``MIMETIC_ERROR_INVALID_AUDIO``: empty, NaN/Inf or too-short audio."""

    default_status = Status.INVALID_AUDIO


class BufferTooSmallError(MimeticError):
    """``MIMETIC_ERROR_BUFFER_TOO_SMALL``: an output, queue or state buffer is too small; the message names the size needed."""

    default_status = Status.BUFFER_TOO_SMALL


class InternalError(MimeticError):
    """``MIMETIC_ERROR_INTERNAL``: a bug in the library; please report it with the message."""

    default_status = Status.INTERNAL


class NotReadyError(MimeticError):
    """``MIMETIC_ERROR_NOT_READY``: no frame to pull yet. ``Stream.pull`` returns ``None`` instead of raising it."""

    default_status = Status.NOT_READY


class WrongStateError(MimeticError):
    """``MIMETIC_ERROR_WRONG_STATE``: a call out of order, e.g. push after flush, or use after close."""

    default_status = Status.WRONG_STATE


class CancelledError(MimeticError):
    """``MIMETIC_ERROR_CANCELLED``: a progress callback asked the operation to stop."""

    default_status = Status.CANCELLED


class LibraryNotFoundError(MimeticError, ImportError):
    """``libMimetic.so`` could not be loaded (raised by ``import mimetic``); ``tried`` lists where it looked."""

    default_status = Status.IO

    def __init__(self, message: str = "", tried: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.tried: List[str] = list(tried)


#: The exception class raised for each status.
ERRORS: Dict[Status, Type[MimeticError]] = {
    Status.INVALID_ARGUMENT: InvalidArgumentError,
    Status.IO: MimeticIOError,
    Status.INVALID_MODEL: InvalidModelError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.INVALID_AUDIO: InvalidAudioError,
    Status.BUFFER_TOO_SMALL: BufferTooSmallError,
    Status.INTERNAL: InternalError,
    Status.NOT_READY: NotReadyError,
    Status.CANCELLED: CancelledError,
    Status.WRONG_STATE: WrongStateError,
}


def error_for(status: int, message: str) -> MimeticError:
    """The exception for a non-OK status code (unknown codes become ``InternalError``)."""
    try:
        st = Status(status)
    except ValueError:
        return InternalError(f"{message} (unknown status {status})")
    return ERRORS.get(st, MimeticError)(message, st)
