"""Write a corpus speaker's clips as the reference files `mimetic personalize` takes: per clip an
AUDIO.wav (16 kHz, 16-bit), a MOTION.npy (vertex offsets [frames, V, 3], float32) and an EVENTS.npy
(the m/b/p closure frames, int32), plus `refs.txt` with the matching `--ref` arguments.

  mimetic-export-reference --corpus out/corpus --speaker s004 --seconds 20 --out out/ref
  .build/release/mimetic personalize --model models/default.safetensors --ref-kind offsets \\
      $(cat out/ref/refs.txt) --out out/s004.persona.safetensors

Clips are taken in sentence order until `--seconds` of audio; `--skip N` leaves the first N out (so a
later run can evaluate on sentences the reference never had).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..corpus import Corpus
from ..wav import write_wav


def export(corpus_dir, speaker: str, seconds: float, out_dir, skip: int = 0) -> list:
    corpus = Corpus(corpus_dir)
    clips = sorted((c for c in corpus.clips(None) if c.meta["speaker"] == speaker), key=lambda c: c.meta["sentence"])
    if not clips:
        raise SystemExit(f"export_reference: speaker {speaker!r} has no clips in {corpus_dir}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    refs, total = [], 0.0
    for c in clips[skip:]:
        if total >= seconds:
            break
        stem = out / f"{c.meta['speaker']}_{c.meta['sentence']:04d}"
        write_wav(f"{stem}.wav", c.audio)
        np.save(f"{stem}.npy", c.offsets(corpus.rig).reshape(-1, corpus.rig.V, 3).astype(np.float32))
        np.save(f"{stem}_events.npy", np.asarray(c.bilabial_frames, np.int32))
        refs.append(f"--ref {stem}.wav:{stem}.npy:{stem}_events.npy")
        total += len(c.audio) / 16000
    (out / "refs.txt").write_text(" ".join(refs) + "\n")
    return refs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--speaker", required=True, help="speaker id, e.g. s004 (a test speaker: never seen in training)")
    ap.add_argument("--seconds", type=float, default=20.0, help="reference length (default 20 s)")
    ap.add_argument("--skip", type=int, default=0, help="clips to leave out at the start")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    refs = export(args.corpus, args.speaker, args.seconds, args.out, args.skip)
    print(f"export_reference: {len(refs)} clips -> {args.out}/refs.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
