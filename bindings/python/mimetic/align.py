"""Forced alignment of a recording with its transcript: when each phone was spoken.

Personalising from a take (``mimetic personalize --ref-livelink TAKE.csv:AUDIO.wav:PHONES.txt``,
``ReferenceClip.from_livelink(..., transcript=...)``) uses the m/b/p phones to place the lip
closures that weight the adaptation's lip terms. The aligner is pocketsphinx (PyPI ``pocketsphinx``
5.x, its bundled US-English acoustic model and CMU dictionary; ``pip install 'mimetic[align]'``):
nothing is downloaded at run time.

    import mimetic, mimetic.align
    phones = mimetic.align.align(mimetic.load_wav("take.wav"), "Put the bag by the map")
    mimetic.align.write_labels(phones, "take.phones.txt")     # what the CLI reads
    spans = mimetic.align.bilabial_spans(phones)              # for Model.closure_events

Command line: ``mimetic-align AUDIO.wav --text "..." [-o PHONES.txt]`` (or ``--text-file``).

The label file is Audacity's label-track format, one phone a line: ``start<TAB>end<TAB>phone``
(seconds, ARPAbet phone names; ``SIL`` for silence), so it can be opened, checked and corrected in
Audacity over the waveform.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import wave
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ._audio import Audio, decode_wav, load_wav
from ._errors import InvalidArgumentError, MimeticError

#: The aligner's rate: its acoustic model is 16 kHz.
ALIGN_RATE = 16000
#: Phones whose lips close (ARPAbet, as the CMU dictionary names them).
BILABIALS = frozenset({"M", "B", "P", "EM"})
#: pocketsphinx frames per second (10 ms frames).
_FRAME_RATE = 100


@dataclass(frozen=True)
class Phone:
    """One aligned phone: ``[start, end)`` in seconds of the audio, its ARPAbet name and its word."""
    start: float
    end: float
    name: str
    word: str


def _decoder_class() -> Any:
    try:
        from pocketsphinx import Decoder  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError("mimetic.align needs pocketsphinx 5 (PyPI): pip install 'mimetic[align]'") from None
    return Decoder


def words(transcript: str) -> List[str]:
    """The transcript as the aligner's words: lower case, punctuation dropped (apostrophes kept)."""
    return [w.strip("'") for w in re.sub(r"[^a-z0-9']+", " ", transcript.lower()).split() if w.strip("'")]


def _add_possessive(decoder: Any, word: str) -> None:
    """A possessive the dictionary lacks ("puppy's", "pablo's") from its base word: + IH Z after a
    sibilant, + S after another voiceless consonant, + Z otherwise (the English rule)."""
    if not word.endswith("'s") or decoder.lookup_word(word) is not None:
        return
    base = decoder.lookup_word(word[:-2])
    if base is None:
        return
    last = base.split()[-1]
    ending = "IH Z" if last in ("S", "Z", "SH", "ZH", "CH", "JH") else "S" if last in ("P", "T", "K", "F", "TH") else "Z"
    decoder.add_word(word, f"{base} {ending}", True)


def _audio16k(audio: Any, sample_rate: Optional[int]) -> np.ndarray:
    """Mono float32 at 16 kHz, through the library's resampler when the rate differs."""
    if isinstance(audio, Audio):
        samples, rate = audio.samples, audio.sample_rate
    elif isinstance(audio, (str, bytes)) or hasattr(audio, "__fspath__"):
        return load_wav(audio, sample_rate=ALIGN_RATE).samples
    else:
        if sample_rate is None:
            raise InvalidArgumentError("align: give sample_rate with a sample array (or pass a mimetic.Audio or a WAV path)")
        samples, rate = np.asarray(audio, dtype=np.float32), int(sample_rate)
    if samples.ndim != 1 or samples.size == 0:
        raise InvalidArgumentError(f"align: audio must be 1-D and non-empty, got shape {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise InvalidArgumentError("align: audio holds NaN or Inf")
    if rate == ALIGN_RATE:
        return samples.astype(np.float32, copy=False)
    # Through an in-memory 16-bit WAV so that the library's resampler does the conversion.
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return decode_wav(buf.getvalue(), sample_rate=ALIGN_RATE).samples


def align(audio: Any, transcript: str, sample_rate: Optional[int] = None) -> List[Phone]:
    """Every phone of ``transcript`` in ``audio`` (a ``mimetic.Audio``, a WAV path, or samples with
    ``sample_rate``), in order, silences included (``SIL``).

    Raises:
        InvalidArgumentError: an empty transcript, words missing from the dictionary (the message
            lists them: spell numbers and names as dictionary words), or audio the transcript cannot
            be aligned to (wrong transcript, too short).
        ImportError: pocketsphinx is not installed.
    """
    tokens = words(transcript)
    if not tokens:
        raise InvalidArgumentError("align: the transcript has no words")
    # Beams far wider than decoding's defaults (1e-48): alignment follows one fixed word sequence, so
    # pruning buys little, and narrower ones lost the grammar's end on synthetic voices (1e-80 failed
    # 3 of 48 espeak-ng takes, e.g. "Maybe the map maker made a mistake." in en-us-nyc; 1e-200 none).
    decoder = _decoder_class()(samprate=ALIGN_RATE, bestpath=False, beam=1e-200, wbeam=1e-200, pbeam=1e-200, loglevel="FATAL")
    for word in set(tokens):
        _add_possessive(decoder, word)
    missing = sorted({w for w in tokens if decoder.lookup_word(w) is None})
    if missing:
        raise InvalidArgumentError(f"align: not in the aligner's dictionary: {', '.join(missing)} "
                                   "(spell numbers, names and acronyms as dictionary words)")
    pcm = (np.clip(_audio16k(audio, sample_rate), -1, 1) * 32767).astype("<i2").tobytes()
    try:
        decoder.set_align_text(" ".join(tokens))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        decoder.set_alignment()          # second pass: phone (and state) level
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        alignment = decoder.get_alignment()
    except RuntimeError as e:
        raise InvalidArgumentError(f"align: the audio could not be aligned with the transcript ({e}); "
                                   "is it the transcript of this recording?") from None
    if alignment is None:
        raise InvalidArgumentError("align: the audio could not be aligned with the transcript; is it the transcript of this recording?")
    phones: List[Phone] = []
    for word in alignment:
        name = re.sub(r"\(\d+\)$", "", word.name)          # "and(2)": the dictionary's second pronunciation
        for p in word:
            phones.append(Phone(start=p.start / _FRAME_RATE, end=(p.start + p.duration) / _FRAME_RATE, name=p.name, word=name))
    return phones


def bilabial_spans(phones: Sequence[Phone]) -> List[Tuple[float, float]]:
    """``(start, end)`` of the m/b/p phones: the ``phones`` of ``Model.closure_events``."""
    return [(p.start, p.end) for p in phones if p.name.upper() in BILABIALS]


def write_labels(phones: Sequence[Phone], path: str) -> None:
    """Writes the phones as an Audacity label file (``start<TAB>end<TAB>phone``), what
    ``mimetic personalize --ref-livelink TAKE.csv:AUDIO.wav:PHONES.txt`` reads."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("# start\tend\tphone (seconds; written by mimetic-align)\n")
        for p in phones:
            f.write(f"{p.start:.3f}\t{p.end:.3f}\t{p.name}\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="mimetic-align", description="Forced alignment of a recording with its transcript "
                                 "(pocketsphinx): writes the phones as 'start end phone' lines (Audacity labels).")
    ap.add_argument("audio", help="WAV file")
    text = ap.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the transcript")
    text.add_argument("--text-file", help="a file holding the transcript")
    ap.add_argument("-o", "--out", help="label file to write (default: AUDIO with .phones.txt)")
    a = ap.parse_args(argv)
    try:
        transcript = a.text if a.text is not None else open(a.text_file, encoding="utf-8").read()
        phones = align(a.audio, transcript)
        out = a.out or re.sub(r"\.wav$", "", a.audio, flags=re.IGNORECASE) + ".phones.txt"
        write_labels(phones, out)
    except (MimeticError, OSError, ImportError) as e:
        print(f"mimetic-align: {e}", file=sys.stderr)
        return 1
    closures = len(bilabial_spans(phones))
    spoken = sum(1 for p in phones if p.name != "SIL")
    print(f"{out}: {spoken} phones, {closures} of them m/b/p, over {phones[-1].end:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
