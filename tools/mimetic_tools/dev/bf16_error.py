"""What bfloat16 products in the wav2vec 2.0 encoder would do to the animation: the full-size
FaceFormer-VOCASET model of `mimetic-bench` (random weights, cached by `parity_full.prepare_case`)
animates the same speech with the PyTorch reference in float32, and with the encoder's CNN, its
transformer, or both under CPU autocast to bfloat16 (their linear and convolution products in bf16,
float32 accumulation), the decoder in float32; prints the vertex offsets' difference relative to
the float32 offsets. The speed side is `Tests/C/bench_bf16.c` (docs/performance.md).

    python -m mimetic_tools.dev.bf16_error [--seconds 10] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

from ..benchmark import STYLE
from .make_fixtures import speech_like_audio
from .parity_full import CASES_BY_NAME, DEFAULT_WORKDIR, prepare_case


def offsets(model, audio, template, bf16: bool, parts=("cnn", "transformer")) -> np.ndarray:
    one_hot = np.zeros(model.n_styles, np.float32)
    one_hot[STYLE] = 1.0
    encoder = model.audio_encoder
    with torch.inference_mode():
        if not bf16:
            return model.predict(audio, one_hot, template)["offsets"]
        # Only the encoder's products in bf16: wrap the encoder's stages in autocast.
        extract, encode = encoder.extract, encoder.encode

        def extract16(x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return extract(x).float()

        def encode16(x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return encode(x).float()

        # Instance attributes shadow the methods.
        if "cnn" in parts:
            encoder.extract = extract16
        if "transformer" in parts:
            encoder.encode = encode16
        try:
            return model.predict(audio, one_hot, template)["offsets"]
        finally:
            for name in ("extract", "encode"):   # the class's methods again
                encoder.__dict__.pop(name, None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR)
    args = ap.parse_args(argv)
    case = CASES_BY_NAME["faceformer_vocaset"]
    model, _, template, _ = prepare_case(case, os.path.abspath(os.path.expanduser(args.workdir)))
    audio = speech_like_audio(args.seconds, seed=case.seed)
    f32 = np.asarray(offsets(model, audio, template, False), np.float64).reshape(-1)
    for parts in [("cnn", "transformer"), ("cnn",), ("transformer",)]:
        b16 = np.asarray(offsets(model, audio, template, True, parts), np.float64).reshape(-1)
        d = np.abs(b16 - f32)
        print(f"bf16 in the {' and the '.join(parts)}: max |bf16 - f32| / max |f32| = {d.max() / np.abs(f32).max():.2e}, "
              f"RMS ratio = {np.sqrt((d ** 2).mean() / (f32 ** 2).mean()):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
