"""flite (Debian `flite`) as a second speech engine of the corpus: its voices are statistical (HTS-like
clustergen / diphone) voices built from recordings of real speakers, so they sound unlike espeak-ng's
formant synthesis, and flite reports the exact end time of every segment it spoke (`-psdur`).

Its phones are the CMU/ARPAbet set; `ARPABET` maps them onto the espeak-ng mnemonics the viseme
rules (visemes.py) are written for, so one set of rules animates both engines.

    audio, phonemes = synthesize("A pump and a bucket.", "slt", rate_wpm=175)
    # audio: float32 16 kHz; phonemes: [("_", 0.0, 0.222), ("@", 0.222, 0.275), ("p", 0.275, 0.397), ...]
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import List, Tuple

import numpy as np

from ..wav import read_wav, resample

#: flite's built-in voices (Debian's package): awb, rms, slt are voices of real speakers (Scottish
#: English male, US male, US female); kal and kal16 are the diphone voices of another US male.
VOICES = ("awb", "rms", "slt", "kal", "kal16")

#: CMU/ARPAbet phones (flite, the CMU dictionary) -> espeak-ng mnemonics (visemes.PHONEMES).
ARPABET = {
    "pau": "_", "aa": "A:", "ae": "a", "ah": "V", "ax": "@", "ao": "O:", "aw": "aU", "ay": "aI",
    "b": "b", "ch": "tS", "d": "d", "dh": "D", "eh": "E", "er": "3:", "axr": "3", "ey": "eI", "f": "f",
    "g": "g", "hh": "h", "ih": "I", "iy": "i:", "jh": "dZ", "k": "k", "l": "l", "m": "m", "n": "n",
    "ng": "N", "ow": "oU", "oy": "OI", "p": "p", "r": "r", "s": "s", "sh": "S", "t": "t", "th": "T",
    "uh": "U", "uw": "u:", "v": "v", "w": "w", "y": "j", "z": "z", "zh": "Z",
}


def available() -> bool:
    """Whether the `flite` program is installed."""
    return shutil.which("flite") is not None


def parse_segments(text: str) -> List[Tuple[str, float, float]]:
    """`flite -psdur` output ("pau:0.222 ax:0.275 ...", each phone with its end time) as
    [(espeak mnemonic, start s, end s)]. Raises ValueError for a phone the map lacks."""
    out: List[Tuple[str, float, float]] = []
    start = 0.0
    for token in text.split():
        name, _, end = token.rpartition(":")
        if not name:
            continue
        if name not in ARPABET:
            raise ValueError(f"flite phone '{name}' has no viseme mapping")
        t = float(end)
        out.append((ARPABET[name], start, t))
        start = t
    return out


def synthesize(text: str, voice: str, rate_wpm: int = 175) -> Tuple[np.ndarray, List[Tuple[str, float, float]]]:
    """Speak `text` with a flite voice: (audio float32 at 16 kHz, phonemes [(mnemonic, start, end)] in
    seconds). rate_wpm: speaking rate (175 is flite's own; slower stretches every duration). The
    pitch stays the voice's own: flite's F0 settings are absolute and differ between its voices."""
    if voice not in VOICES:
        raise ValueError(f"unknown flite voice '{voice}' (one of {', '.join(VOICES)})")
    stretch = 175.0 / max(float(rate_wpm), 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        args = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.4f}", "-t", text, "-o", path, "-psdur"]
        run = subprocess.run(args, capture_output=True, text=True, check=True)
        samples, rate = read_wav(path)
    audio = resample(samples.astype(np.float64), rate, 16000)
    # flite's times are rounded to the millisecond: its last end can pass the last sample by one.
    duration = len(audio) / 16000.0
    segments = [(name, min(a, duration), min(b, duration)) for (name, a, b) in parse_segments(run.stdout)]
    return np.clip(audio, -1, 1).astype(np.float32), segments
