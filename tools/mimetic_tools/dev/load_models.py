"""The full-size models `make bench-load` times (Tests/C/bench_load.c): the FaceFormer-VOCASET model
of `mimetic-bench` (wav2vec2-base encoder, 5023 vertices, random weights, float32; built and cached by
`mimetic_tools.dev.parity_full.prepare_case`) and the same weights stored as float16 (what
`mimetic-convert --f16` writes: every float32 tensor but the template as F16, the metadata kept).

    python -m mimetic_tools.dev.load_models [--workdir DIR]     # prints the two paths
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from .parity_full import CASES_BY_NAME, DEFAULT_WORKDIR, prepare_case


def float16_copy(src: str, dst: str) -> None:
    """`src` with its float32 tensors (the template excepted) stored as float16, metadata kept."""
    tensors = {}
    with safe_open(src, framework="np") as f:
        metadata = f.metadata()
        for name in f.keys():
            t = f.get_tensor(name)
            tensors[name] = t.astype(np.float16) if t.dtype == np.float32 and name != "template" else t
    save_file(tensors, dst + ".tmp", metadata=metadata)
    os.replace(dst + ".tmp", dst)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR, help=f"model cache (default {DEFAULT_WORKDIR})")
    args = ap.parse_args(argv)
    workdir = os.path.abspath(os.path.expanduser(args.workdir))
    _, f32, _, _ = prepare_case(CASES_BY_NAME["faceformer_vocaset"], workdir)
    f16 = f32.replace(".model.safetensors", ".f16.model.safetensors")
    if not os.path.exists(f16) or os.path.getmtime(f16) < os.path.getmtime(f32):
        float16_copy(f32, f16)
    print(f32)
    print(f16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
