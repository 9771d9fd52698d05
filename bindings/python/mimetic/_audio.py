"""WAV files in (``mimetic_wav_read``): what ``Model.animate`` and ``Stream.push`` take."""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._core import check, check_int32, fs_path, function, readable_bytes
from ._errors import InvalidArgumentError

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


@dataclass(frozen=True)
class Audio:
    """Decoded speech, mono.

    Attributes:
        samples: float32 ``[n]``, the mean of the file's channels, nominally in [-1, 1].
        sample_rate: rate of ``samples`` in Hz (the file's, or the one asked for).
        channels: channels in the file, before mixing down.
        file_sample_rate: the file's own rate.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int
    channels: int
    file_sample_rate: int

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return float(self.samples.shape[0]) / self.sample_rate


def _take(c: _lib.AudioC) -> Audio:
    try:
        samples = np.ctypeslib.as_array(c.samples, shape=(c.n_samples,)).copy() if c.n_samples else \
            np.empty(0, dtype=np.float32)
        return Audio(samples=samples, sample_rate=c.sample_rate, channels=c.channels, file_sample_rate=c.file_sample_rate)
    finally:
        function("mimetic_audio_free")(ctypes.byref(c))


def _rate(sample_rate: Optional[int]) -> int:
    return 0 if sample_rate is None else check_int32("sample_rate", sample_rate)


def load_wav(path: PathLike, sample_rate: Optional[int] = None) -> Audio:
    """Reads a WAV file: 8/16/24/32-bit PCM or 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, any channel
    count (mixed to mono) and rate; what ``mimetic animate`` reads.

    ``sample_rate``: None keeps the file's rate; otherwise the audio is resampled to it (the library's
    offline resampler, the same one ``Model.animate`` uses).

    Raises:
        MimeticIOError: the file cannot be opened.
        InvalidAudioError: not a WAV file, or malformed, truncated or empty (the message says which).
        InvalidArgumentError: a bad path or sample rate.
    """
    fspath = fs_path("load_wav", path)
    c = _lib.sized(_lib.AudioC)
    check(function("mimetic_wav_read")(fspath, _rate(sample_rate), ctypes.byref(c)), "mimetic_wav_read")
    return _take(c)


def decode_wav(data: Any, sample_rate: Optional[int] = None) -> Audio:
    """``load_wav`` for WAV bytes already in memory (bytes, bytearray, memoryview, numpy uint8)."""
    arr = readable_bytes("data", data)
    c = _lib.sized(_lib.AudioC)
    ptr = ctypes.c_void_p(arr.ctypes.data if arr.size else None)
    check(function("mimetic_wav_read_memory")(ptr, arr.size, _rate(sample_rate), ctypes.byref(c)), "mimetic_wav_read_memory")
    return _take(c)
