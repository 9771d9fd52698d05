"""`mimetic personalize` and `mimetic animate --persona`, end to end through the CLI."""
from __future__ import annotations

import numpy as np
import pytest

from test_cli import BIN, FACEFORMER, FIXTURES, HELLO, MIMIC, fails, mimetic

IMITATOR = FIXTURES / "imitator_zeros.model.safetensors"
pytestmark = pytest.mark.skipif(BIN is None, reason="mimetic CLI not built")


def _animate(tmp_path, name, *args):
    out = tmp_path / f"{name}.npy"
    r = mimetic("animate", "--model", IMITATOR, "--audio", HELLO, "--out", out, "--offsets", "--quiet", *args)
    assert r.returncode == 0, r.stderr
    return np.load(out)


def test_imitator_persona_lowers_error_on_a_known_speaker(tmp_path):
    # The reference "person" is the model itself in another style: personalising from slot 0 must
    # move the output much closer to it.
    ref = _animate(tmp_path, "ref", "--style", "2")
    np.save(tmp_path / "events.npy", np.array([10, 40, 80], np.int32))
    persona = tmp_path / "p.safetensors"
    r = mimetic("personalize", "--model", IMITATOR, "--ref", f"{HELLO}:{tmp_path / 'ref.npy'}:{tmp_path / 'events.npy'}",
                "--ref", f"{HELLO}:{tmp_path / 'ref.npy'}", "--ref-kind", "offsets", "--out", persona,
                "--style-steps", "60", "--basis-steps", "60", "--quiet")
    assert r.returncode == 0, r.stderr
    adapted = _animate(tmp_path, "adapted", "--persona", persona)
    generalized = _animate(tmp_path, "gen", "--style", "0")
    before, after = ((generalized - ref) ** 2).mean(), ((adapted - ref) ** 2).mean()
    assert after < 0.3 * before, (before, after)


def test_mimic_persona_from_motion(tmp_path):
    rng = np.random.default_rng(0)
    motion = (0.01 * rng.standard_normal((40, 40, 3))).astype(np.float32)
    np.save(tmp_path / "m.npy", motion)
    persona = tmp_path / "mimic.safetensors"
    r = mimetic("personalize", "--model", MIMIC, "--ref", str(tmp_path / "m.npy"), "--ref-kind", "offsets", "--out", persona)
    assert r.returncode == 0, r.stderr
    r = mimetic("animate", "--model", MIMIC, "--audio", HELLO, "--persona", persona, "--out", tmp_path / "a.npy", "--quiet")
    assert r.returncode == 0, r.stderr
    assert np.isfinite(np.load(tmp_path / "a.npy")).all()


def test_persona_errors(tmp_path):
    ref = _animate(tmp_path, "ref", "--style", "1")
    fails("personalize", "--model", FACEFORMER, "--ref", f"{HELLO}:{tmp_path / 'ref.npy'}", "--out", tmp_path / "x.safetensors",
          expect=["FaceFormer", "--style"])
    np.save(tmp_path / "short.npy", ref[:20])
    fails("personalize", "--model", IMITATOR, "--ref", f"{HELLO}:{tmp_path / 'short.npy'}", "--ref-kind", "offsets",
          "--out", tmp_path / "x.safetensors", expect=["frames"])
    fails("personalize", "--model", IMITATOR, "--ref", str(tmp_path / "ref.npy"), "--out", tmp_path / "x.safetensors",
          expect=["AUDIO.wav:MOTION.npy"])
    # A persona belongs to the model it was made for.
    persona = tmp_path / "p.safetensors"
    assert mimetic("personalize", "--model", IMITATOR, "--ref", f"{HELLO}:{tmp_path / 'ref.npy'}", "--ref-kind", "offsets",
                   "--out", persona, "--style-steps", "5", "--basis-steps", "0", "--quiet").returncode == 0
    fails("animate", "--model", FIXTURES / "imitator_style.model.safetensors", "--audio", HELLO, "--persona", persona,
          "--out", tmp_path / "o.npy", expect=["made for the model"])
    fails("animate", "--model", IMITATOR, "--audio", HELLO, "--persona", persona, "--style", "1",
          "--out", tmp_path / "o.npy", expect=["--persona carries the style"])
    fails("animate", "--model", IMITATOR, "--audio", HELLO, "--persona", HELLO, "--out", tmp_path / "o.npy",
          expect=["persona"])
