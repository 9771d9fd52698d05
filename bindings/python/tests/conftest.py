"""Shared fixtures: the package under test, the repository's fixture models and audio."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np
import pytest

from mimetic_testutil import FIXTURES, HAS_STREAMING, fixture_path, load_safetensors

import mimetic  # noqa: E402  (mimetic_testutil put the source tree on sys.path)


def pytest_report_header(config):
    return [f"mimetic: package {Path(mimetic.__file__).parent}, library {mimetic.library_path} "
            f"(version {mimetic.version()}, streaming: {HAS_STREAMING})"]


@pytest.fixture(scope="session")
def vocaset_path() -> Path:
    return fixture_path("faceformer_vocaset")


@pytest.fixture(scope="session")
def mimic_path() -> Path:
    return fixture_path("mimic_conv")


@pytest.fixture()
def vocaset(vocaset_path):
    with mimetic.Model(vocaset_path) as m:
        yield m
        # tests that leave streams open must close them; make failures obvious rather than leaky
        if m.live_streams:
            m.close(defer=True)


@pytest.fixture()
def mimic(mimic_path):
    with mimetic.Model(mimic_path) as m:
        yield m
        if m.live_streams:
            m.close(defer=True)


@pytest.fixture(scope="session")
def expected():
    cache: Dict[str, Dict[str, np.ndarray]] = {}

    def get(name: str) -> Dict[str, np.ndarray]:
        if name not in cache:
            p = FIXTURES / f"{name}.expected.safetensors"
            if not p.is_file():
                pytest.skip(f"fixture {p} missing")
            cache[name] = load_safetensors(p)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def audio(expected) -> np.ndarray:
    """The 16 kHz float32 input of the golden fixtures (1.6 s)."""
    return expected("faceformer_vocaset")["audio"].astype(np.float32)
