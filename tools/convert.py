#!/usr/bin/env python3
"""Convert a FaceFormer / Imitator / Mimic checkpoint to a Mimetic .safetensors model.

    python tools/convert.py SRC --out M.safetensors [--family ...] [--dataset vocaset|biwi] [--f16] ...

See `python tools/convert.py --help` and docs/model-format.md.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mimetic_tools.convert import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
