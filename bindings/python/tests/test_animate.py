"""Whole utterances: ``Model.animate`` gives what ``mimetic animate --offsets`` writes, bit for bit, on
every fixture family; ``load_wav`` / ``decode_wav``; shapes, styles, personas and errors."""
from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from mimetic_testutil import FIXTURES, REPO, fixture_path

import mimetic

SPEECH = REPO / "examples" / "audio" / "hello.wav"   # real speech, 22 050 Hz mono


def cli() -> str:
    path = os.environ.get("MIMETIC_BIN") or shutil.which("mimetic") or str(REPO / ".build" / "debug" / "mimetic")
    if not Path(path).is_file():
        if os.environ.get("MIMETIC_REQUIRE_STREAMING"):
            pytest.fail(f"the mimetic CLI is needed for the comparison and is not at {path} (set MIMETIC_BIN)")
        pytest.skip("no mimetic CLI to compare with (set MIMETIC_BIN)")
    return path


def cli_offsets(model: Path, wav: Path, tmp_path: Path, *extra: str) -> np.ndarray:
    out = tmp_path / "cli.npy"
    subprocess.run([cli(), "animate", "--quiet", "--offsets", "--model", str(model), "--audio", str(wav),
                    "--out", str(out), *extra], check=True)
    return np.load(out)


FAMILIES = ["faceformer_vocaset", "faceformer_biwi", "imitator_style", "mimic_conv", "realtime_imitator"]


@pytest.mark.parametrize("name", FAMILIES + ["default"])
def test_animate_equals_the_cli_bit_for_bit(name, tmp_path):
    path = REPO / "models" / "default.safetensors" if name == "default" else fixture_path(name)
    with mimetic.Model(path) as m:
        extra, kwargs = [], {}
        if m.info.family == mimetic.Family.MIMIC and m.info.num_styles == 0:
            motion = (0.002 * np.sin(0.37 * np.arange(60 * m.info.output_size))).astype(np.float32).reshape(60, -1)
            np.save(tmp_path / "ref.npy", motion)
            extra = ["--style-ref", str(tmp_path / "ref.npy"), "--style-ref-kind", "offsets"]
            kwargs = {"style_code": m.style_from_motion(motion)}
        reference = cli_offsets(path, SPEECH, tmp_path, *extra)
        speech = mimetic.load_wav(SPEECH)
        frames = m.animate(speech, **kwargs)
        assert frames.dtype == np.float32 and frames.shape == reference.shape == (frames.shape[0], m.info.num_vertices, 3)
        assert frames.shape[0] == m.frame_count(len(speech.samples), speech.sample_rate) > 0
        np.testing.assert_array_equal(frames, reference)
        # Resampled by load_wav to the model's rate first: the same numbers.
        at_model_rate = mimetic.load_wav(SPEECH, sample_rate=m.info.sample_rate)
        np.testing.assert_array_equal(m.animate(at_model_rate.samples, at_model_rate.sample_rate, **kwargs), reference)


def test_styles_and_personas_match_the_cli(tmp_path):
    path = fixture_path("imitator_style")
    with mimetic.Model(path) as m:
        n = m.info.num_styles
        weights = np.zeros(n, np.float32)
        weights[0], weights[-1] = 0.25, 0.75
        blend = cli_offsets(path, SPEECH, tmp_path, "--style-weights", ",".join(str(w) for w in weights))
        np.testing.assert_array_equal(m.animate(mimetic.load_wav(SPEECH), style=weights), blend)
        slot = cli_offsets(path, SPEECH, tmp_path, "--style", str(n - 1))
        np.testing.assert_array_equal(m.animate(mimetic.load_wav(SPEECH), style=n - 1), slot)
        style = (0.03 * np.cos(np.arange(m.info.style_dim))).astype(np.float32)
        with mimetic.Persona.from_style(m, style) as persona:
            persona.save(tmp_path / "p.persona.safetensors")
            by_file = cli_offsets(path, SPEECH, tmp_path, "--persona", str(tmp_path / "p.persona.safetensors"))
            np.testing.assert_array_equal(m.animate(mimetic.load_wav(SPEECH), persona=persona), by_file)


def test_animate_inputs_and_errors(vocaset):
    speech = mimetic.load_wav(SPEECH, sample_rate=16000)
    as_int16 = np.round(speech.samples * 32767).astype(np.int16)
    frames = vocaset.animate(as_int16, 16000)
    assert frames.shape[1:] == (vocaset.info.num_vertices, 3) and np.isfinite(frames).all()
    assert vocaset.frame_count(10) == 0
    with pytest.raises(mimetic.InvalidAudioError, match="too short"):
        vocaset.animate(np.zeros(10, np.float32))
    bad = speech.samples.copy()
    bad[5] = np.inf
    with pytest.raises(mimetic.InvalidAudioError, match="sample 5"):
        vocaset.animate(bad)
    with pytest.raises(mimetic.InvalidArgumentError, match="1-D"):
        vocaset.animate(np.zeros((2, 16000), np.float32))
    with pytest.raises(mimetic.InvalidArgumentError, match="contradicts"):
        vocaset.animate(speech, 44100)
    with pytest.raises(mimetic.InvalidArgumentError):
        vocaset.animate(speech, style=99)
    with pytest.raises(mimetic.InvalidArgumentError, match="not both"):
        vocaset.animate(speech, style=0, style_code=np.zeros(vocaset.info.style_dim, np.float32))
    with pytest.raises(mimetic.InvalidAudioError):
        vocaset.animate(speech.samples, 100)


def test_load_wav_formats_and_errors(tmp_path):
    rate, n = 44100, 4410
    t = np.arange(n) / rate
    left = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    right = (left // 2).astype(np.int16)
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([left, right], 1).tobytes())
    a = mimetic.load_wav(path)
    assert (a.sample_rate, a.channels, a.file_sample_rate, a.samples.shape, a.samples.dtype) == (rate, 2, rate, (n,), np.float32)
    np.testing.assert_allclose(a.samples, (left.astype(np.float64) + right) / 2 / 32768, atol=1e-7)
    assert abs(a.duration - 0.1) < 1e-9
    b = mimetic.decode_wav(path.read_bytes(), sample_rate=16000)
    assert b.sample_rate == 16000 and b.file_sample_rate == rate and b.samples.shape == (1600,)
    with pytest.raises(mimetic.MimeticIOError, match="No such file"):
        mimetic.load_wav(tmp_path / "missing.wav")
    with pytest.raises(mimetic.InvalidAudioError, match="RIFF"):
        mimetic.decode_wav(b"ID3\x03" + bytes(40))
    with pytest.raises(mimetic.InvalidAudioError, match="truncated|declares"):
        mimetic.decode_wav(path.read_bytes()[:100])
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.load_wav(path, sample_rate=100)
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.load_wav(None)


def test_real_time_streams_report_their_fixed_lookahead():
    with mimetic.Model(fixture_path("realtime_imitator")) as m:
        assert not m.info.latency_tunable and m.info.encoder_lookahead_ms > 0
        with mimetic.Stream(m) as s:
            assert s.params.lookahead_ms == m.info.encoder_lookahead_ms
            assert s.params.left_context_ms is None and s.params.hop_ms is None and not s.params.latency_tunable
            assert (m.info.encoder_lookahead_ms - 1) / 1000 < s.latency <= m.info.encoder_lookahead_ms / 1000  # ms rounded up
        with pytest.warns(UserWarning, match="do not apply"):
            mimetic.Stream(m, lookahead_ms=100).close()
    with mimetic.Model(fixture_path("faceformer_vocaset")) as m:
        assert m.info.latency_tunable and m.info.encoder_lookahead_ms == 0
        with mimetic.Stream(m, lookahead_ms=100) as s:
            assert s.params.lookahead_ms == 100 and s.params.hop_ms is not None
