"""16-bit PCM WAV files (mono float audio in -1..1), with the standard library's wave module."""
from __future__ import annotations

import wave
from fractions import Fraction

import numpy as np


def write_wav(path, audio: np.ndarray, sample_rate: int = 16000) -> None:
    a = np.clip(np.asarray(audio, np.float64), -1, 1)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(int(sample_rate))
        wf.writeframes((a * 32767).astype("<i2").tobytes())


def read_wav(path):
    """(mono float32 samples, sample rate); channels are averaged."""
    with wave.open(str(path), "rb") as w:
        sr, n, ch, sw = w.getframerate(), w.getnframes(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(n)
    if sw != 2:
        raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
    x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    return x.reshape(-1, ch).mean(1), sr


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """`x` (float64) from `rate` to `target` Hz: polyphase at the exact rational ratio
    (`scipy.signal.resample_poly`); `x` itself when the rates are equal."""
    ratio = Fraction(int(target), int(rate))
    if ratio == 1:
        return x
    from scipy.signal import resample_poly
    return resample_poly(x, ratio.numerator, ratio.denominator)
