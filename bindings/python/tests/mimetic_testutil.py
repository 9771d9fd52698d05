"""Helpers shared by the tests (a uniquely named module, so `import` never picks another suite's conftest)."""
from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent                    # bindings/python
REPO = PACKAGE_ROOT.parent.parent             # the checkout

# Test the source tree next to this file unless asked to test an installed copy.
if not os.environ.get("MIMETIC_TEST_INSTALLED"):
    sys.path.insert(0, str(PACKAGE_ROOT))

from mimetic import _lib  # noqa: E402  (after the sys.path insert)

FIXTURES = Path(os.environ.get("MIMETIC_FIXTURES", REPO / "Tests" / "Fixtures"))

HAS_STREAMING = hasattr(_lib.lib, "mimetic_stream_create")
# CI sets MIMETIC_REQUIRE_STREAMING=1 so that a stale library fails the stream tests instead of skipping them.
requires_streaming = pytest.mark.skipif(not HAS_STREAMING and not os.environ.get("MIMETIC_REQUIRE_STREAMING"),
                                        reason="libMimetic has no mimetic_stream_create yet")


_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path: Path) -> Dict[str, np.ndarray]:
    """A minimal safetensors reader (the format: u64 header length, JSON header, raw little-endian data)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=_DTYPES[meta["dtype"]]).reshape(meta["shape"]).copy()
    return out


def fixture_path(name: str) -> Path:
    p = FIXTURES / f"{name}.model.safetensors"
    if not p.is_file():
        pytest.skip(f"fixture {p} missing")
    return p
