"""Generate the synthetic talking-face corpus (format: docs/corpus.md).

    mimetic-make-corpus --out out/corpus --speakers 40 --sentences-per-speaker 60 --seed 0 --workers 2
    mimetic-make-corpus ... --rig models/rig.safetensors    # the shipped models' rig (evaluation corpus)

Needs the espeak-ng C library and its data (Debian: apt-get install -y libespeak-ng1 espeak-ng-data,
or libespeak-ng-dev espeak-ng), numpy, safetensors and scipy (the `corpus` extra). Same seed -> byte-identical files.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..corpus import espeak
from ..corpus.generate import make_corpus


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--speakers", type=int, default=40)
    ap.add_argument("--sentences-per-speaker", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--rig", default=None, help="drive this rig file instead of the built-in procedural rig "
                    "(4 778 vertices); models/rig.safetensors is the 4 570-vertex rig of the shipped models: a corpus "
                    "made with it is in their topology (docs/corpus.md)")
    ap.add_argument("--engines", default="espeak", help="speech engines the speakers are shared between, comma-separated: "
                    "espeak (espeak-ng, every English voice and variant), flite (its voices awb, rms, slt, kal, kal16: "
                    "statistical and diphone voices of real speakers; apt-get install flite)")
    ap.add_argument("--quiet", action="store_true", help="no progress line")
    a = ap.parse_args(argv)
    if a.speakers < 1 or a.sentences_per_speaker < 1 or a.workers < 1:
        ap.error("--speakers, --sentences-per-speaker and --workers must be >= 1")
    try:
        import scipy.signal  # noqa: F401  (the corpus resamples espeak-ng's 22 050 Hz to 16 kHz with it)
    except ImportError:
        print("error: the corpus needs scipy: pip install 'mimetic-tools[corpus]' (or scripts/setup.sh train)",
              file=sys.stderr)
        return 1
    if not espeak.available():
        print("error: the espeak-ng C library is not available (apt-get install -y libespeak-ng-dev espeak-ng)",
              file=sys.stderr)
        return 1
    s = make_corpus(a.out, a.speakers, a.sentences_per_speaker, a.seed, a.workers, progress=not a.quiet, rig_path=a.rig,
                    engines=tuple(e.strip() for e in a.engines.split(",") if e.strip()))
    print(f"{a.out}: {s['clips']} clips, {s['speakers']} speakers, {s['audio_seconds'] / 60:.1f} min of audio, "
          f"{s['frames']} frames, {s['bilabial_events']} bilabial events; "
          f"{s['elapsed_s']:.1f} s ({s['clips_per_s']:.1f} clips/s, {a.workers} workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
