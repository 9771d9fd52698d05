"""Speech and phoneme timing from the espeak-ng C library (ctypes, no command-line tool).

`synthesize(text, voice, rate, pitch, pitch_range)` returns espeak's own int16 samples (22 050 Hz)
and its `espeakEVENT_PHONEME` events, each with the sample position espeak reports for it;
`to_16k` resamples exactly to 16 kHz (`scipy.signal.resample_poly`, 320/441) and converts the
event positions to seconds.

Determinism: espeak-ng keeps synthesis state between messages (pitch flutter phase, filter
memories, the C library's `rand()` for noise sources), so the same text synthesized twice in one
process can differ by a few samples. Each synthesis therefore runs in a child process forked from a
process that has initialised espeak but never synthesized (`os.fork`, results back through a pipe):
every clip starts from the same state and the same inputs give byte-identical audio whatever ran
before it. Where `fork` does not exist the synthesis runs in-process (not bit-reproducible).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
from dataclasses import dataclass, field

import numpy as np

from ..wav import resample

# speak_lib.h (ESPEAK_API_REVISION 12)
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakINITIALIZE_PHONEME_EVENTS = 0x0001
espeakCHARS_UTF8 = 1
POS_CHARACTER = 1
EE_OK = 0
espeakEVENT_LIST_TERMINATED = 0
espeakEVENT_WORD = 1
espeakEVENT_SENTENCE = 2
espeakEVENT_END = 5
espeakEVENT_MSG_TERMINATED = 6
espeakEVENT_PHONEME = 7
espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE, espeakWORDGAP = 1, 2, 3, 4, 7

ESPEAK_SAMPLE_RATE = 22050
TARGET_SAMPLE_RATE = 16000


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class espeak_EVENT(ctypes.Structure):
    """typedef struct { espeak_EVENT_TYPE type; unsigned int unique_identifier; int text_position;
    int length; int audio_position; int sample; void* user_data; union {int number; const char *name;
    char string[8];} id; } espeak_EVENT;   (x86-64 / arm64: 40 bytes, id at offset 32)"""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class espeak_VOICE(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(espeak_EVENT))


class EspeakError(RuntimeError):
    pass


@dataclass
class Synthesis:
    """espeak-ng output for one message at espeak's own sample rate."""

    audio: np.ndarray                 # int16 [n]
    sample_rate: int                  # 22050
    phonemes: list = field(default_factory=list)  # [(mnemonic, start_sample, end_sample)]
    words: list = field(default_factory=list)     # [(text_position, length, sample)]


# ----------------------------------------------------------------------------------------------
# library state (per process)
# ----------------------------------------------------------------------------------------------
_lib = None
_rate = None
_collect = None      # (chunks, events) of the synthesis in progress
_callback = None     # keep the ctypes callback alive


def _load():
    global _lib
    if _lib is not None:
        return _lib
    names = ["libespeak-ng.so.1", "libespeak-ng.so", ctypes.util.find_library("espeak-ng")]
    err = None
    for n in names:
        if not n:
            continue
        try:
            _lib = ctypes.CDLL(n)
            break
        except OSError as e:  # pragma: no cover - depends on the machine
            err = e
    if _lib is None:
        raise EspeakError(f"libespeak-ng not found ({err}); on Debian: apt-get install -y libespeak-ng1 espeak-ng-data")
    _lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    _lib.espeak_Initialize.restype = ctypes.c_int
    _lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    _lib.espeak_SetSynthCallback.restype = None
    _lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    _lib.espeak_SetVoiceByName.restype = ctypes.c_int
    _lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(espeak_VOICE)]
    _lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
    _lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    _lib.espeak_SetParameter.restype = ctypes.c_int
    _lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                  ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
    _lib.espeak_Synth.restype = ctypes.c_int
    _lib.espeak_Synchronize.restype = ctypes.c_int
    return _lib


def available() -> bool:
    try:
        initialize()
        return True
    except EspeakError:
        return False


def _on_synth(wav, numsamples, events):
    if _collect is None:
        return 0
    chunks, evs = _collect
    if wav and numsamples > 0:
        chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
    i = 0
    while events[i].type != espeakEVENT_LIST_TERMINATED:
        e = events[i]
        if e.type == espeakEVENT_PHONEME:
            evs.append((e.type, int(e.sample), e.id.string.decode("utf-8", "replace"), 0, 0))
        elif e.type == espeakEVENT_WORD:
            evs.append((e.type, int(e.sample), "", int(e.text_position), int(e.length)))
        elif e.type in (espeakEVENT_END, espeakEVENT_MSG_TERMINATED):
            evs.append((e.type, int(e.sample), "", 0, 0))
        i += 1
    return 0


def initialize() -> int:
    """Load and initialise espeak-ng in this process (synchronous mode, phoneme events); returns its
    sample rate. Idempotent."""
    global _rate, _callback
    if _rate is not None:
        return _rate
    lib = _load()
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 100, None, espeakINITIALIZE_PHONEME_EVENTS)
    if rate <= 0:
        raise EspeakError("espeak_Initialize failed (is espeak-ng-data installed?)")
    _callback = _SynthCallback(_on_synth)
    lib.espeak_SetSynthCallback(_callback)
    _rate = int(rate)
    return _rate


def _set_voice(voice: str):
    lib = _lib
    if lib.espeak_SetVoiceByName(voice.encode()) == EE_OK:
        return
    # fall back on the language part (espeak_SetVoiceByProperties), e.g. "en-gb" of "en-gb+m3"
    v = espeak_VOICE()
    v.languages = voice.split("+")[0].encode()
    if lib.espeak_SetVoiceByProperties(ctypes.byref(v)) != EE_OK:
        raise EspeakError(f"espeak-ng has no voice {voice!r}")


def _synthesize_here(text: str, voice: str, rate: int, pitch: int, pitch_range: int, word_gap: int,
                     srand: int | None) -> Synthesis:
    global _collect
    sr = initialize()
    lib = _lib
    if srand is not None:
        ctypes.CDLL(None).srand(ctypes.c_uint(srand & 0xFFFFFFFF))
    _set_voice(voice)
    for p, v in ((espeakRATE, rate), (espeakPITCH, pitch), (espeakRANGE, pitch_range),
                 (espeakWORDGAP, word_gap), (espeakVOLUME, 100)):
        if lib.espeak_SetParameter(p, int(v), 0) != EE_OK:
            raise EspeakError(f"espeak_SetParameter({p}, {v}) failed")
    data = text.encode("utf-8") + b"\0"
    chunks, evs = [], []
    _collect = (chunks, evs)
    try:
        r = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
        if r != EE_OK:
            raise EspeakError(f"espeak_Synth returned {r}")
        lib.espeak_Synchronize()
    finally:
        _collect = None
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    n = len(audio)
    ph = [(name, min(s, n)) for (t, s, name, _, _) in evs if t == espeakEVENT_PHONEME]
    phonemes = []
    for i, (name, s) in enumerate(ph):
        e = ph[i + 1][1] if i + 1 < len(ph) else n
        phonemes.append((name, s, max(s, e)))
    words = [(tp, ln, min(s, n)) for (t, s, _, tp, ln) in evs if t == espeakEVENT_WORD]
    return Synthesis(audio=audio.astype(np.int16), sample_rate=sr, phonemes=phonemes, words=words)


def _read_all(fd) -> bytes:
    parts = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        parts.append(b)
    return b"".join(parts)


def synthesize(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, pitch_range: int = 50,
               word_gap: int = 0, isolate: bool = True, srand: int = 1) -> Synthesis:
    """Speak `text` with espeak-ng; returns int16 samples at espeak's rate and the phoneme events.

    voice: an espeak-ng voice name, optionally with a variant ("en-us", "en-gb-x-rp", "en-us+f3",
    "en+klatt2"); rate: words per minute (80..450); pitch, pitch_range: 0..100 (50 = voice default).
    isolate: synthesize in a forked child (bit-reproducible, see the module docstring)."""
    initialize()  # in the parent: children start from "initialised, never synthesized"
    if not isolate or not hasattr(os, "fork"):
        return _synthesize_here(text, voice, rate, pitch, pitch_range, word_gap, srand)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            try:
                res = ("ok", _synthesize_here(text, voice, rate, pitch, pitch_range, word_gap, srand))
            except BaseException as e:  # noqa: BLE001 - report any failure to the parent
                res, code = ("err", f"{type(e).__name__}: {e}"), 1
            payload = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(payload)
            while view:
                k = os.write(w, view)
                view = view[k:]
            os.close(w)
        finally:
            os._exit(code)
    os.close(w)
    try:
        payload = _read_all(r)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    if not payload:
        raise EspeakError("espeak-ng child process died without a result")
    status, res = pickle.loads(payload)
    if status != "ok":
        raise EspeakError(res)
    return res


# ----------------------------------------------------------------------------------------------
# 16 kHz
# ----------------------------------------------------------------------------------------------
def to_16k(s: Synthesis, target_rate: int = TARGET_SAMPLE_RATE):
    """Resample to `target_rate` (polyphase, exact rational ratio) and express the phoneme events in
    seconds. Returns (audio float32 [n] in [-1, 1], [(mnemonic, start_s, end_s)], duration_s)."""
    y = resample(s.audio.astype(np.float64) / 32768.0, s.sample_rate, target_rate)
    y = np.clip(y, -1.0, 1.0).astype(np.float32)
    sr = float(s.sample_rate)
    phonemes = [(name, a / sr, b / sr) for (name, a, b) in s.phonemes]
    return y, phonemes, len(y) / float(target_rate)
