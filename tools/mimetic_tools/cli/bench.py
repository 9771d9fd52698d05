"""Mimetic against the PyTorch reference on a full-size FaceFormer-VOCASET-shaped model.

One run, same machine conditions for both sides:

  * model: the full-size FaceFormer VOCASET reference (wav2vec2-base encoder, 5023 vertices), every
    parameter randomised (`randomize_`, --seed), written in the original `.pth` layout and converted
    with `convert_checkpoint` (cached by seed in --workdir, default ~/.cache/mimetic-bench; the cache
    is shared with mimetic_tools/dev/parity_full.py);
  * audio: --seconds of deterministic speech-like signal, written as a 16 kHz float32 WAV (exact
    samples on both sides);
  * --repeats rounds, alternating: `mimetic bench --repeats 1 --json` (one warm-up run and one timed
    run in a fresh process; it also measures the sgemm peak), then the PyTorch encoder path, then
    ONNX Runtime (if `onnxruntime` imports), then the full PyTorch `predict`; medians over rounds.
    PyTorch runs with `torch.set_num_threads(--threads)` under `torch.inference_mode()`, after one
    warm-up of each path:
      - encoder path: exactly the reference's `audio_stages` (z-normalised audio -> CNN -> linear
        interpolation to 30 fps -> feature projection -> 12-layer transformer -> audio_feature_map);
      - full predict: the originals' decoding loop as users run it today, which re-runs the decoder
        and the 15069-wide output head over the whole prefix at every frame (O(T^2));
  * parity in the same run: `mimetic stages` on the same samples against the reference `predict`
    (max|a-b| / max|ref| per stage, as the Swift parity tests; this is the full-size FaceFormer
    parity check).

    mimetic-bench [--threads 2] [--seconds 10] [--repeats 5] [--json OUT] [--skip-predict]

Build the CLI first: `swift build -c release`.
"""
from __future__ import annotations

import argparse
import sys

from ..dev.checkout import MODEL_CACHE as DEFAULT_WORKDIR  # no PyTorch before the run: --help works without it


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="threads for Mimetic (OpenBLAS) and PyTorch (default 2)")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of audio (default 10)")
    ap.add_argument("--repeats", type=int, default=5, help="alternating timed rounds; medians are reported (default 5)")
    ap.add_argument("--json", default=None, metavar="OUT", help="write every measurement as JSON")
    ap.add_argument("--skip-predict", action="store_true",
                    help="skip the full PyTorch predict (O(T^2) loop); parity then stops at audio_features")
    ap.add_argument("--no-onnx", action="store_true", help="skip ONNX Runtime even if it imports")
    ap.add_argument("--seed", type=int, default=None, help="weights seed (default: parity_full's faceformer_vocaset case)")
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR, help=f"model cache (default {DEFAULT_WORKDIR})")
    ap.add_argument("--bin", default=None, help="mimetic binary (default .build/release/mimetic)")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.seconds <= 0:
        ap.error("--repeats and --threads must be >= 1 and --seconds > 0")
    from ..benchmark import run  # PyTorch from here on

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
