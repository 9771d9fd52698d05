"""Personas from Python: personalize, files, streams, errors."""
from __future__ import annotations

import numpy as np
import pytest

import mimetic
from mimetic_testutil import FIXTURES

IMITATOR = FIXTURES / "imitator_zeros.model.safetensors"
OTHER = FIXTURES / "imitator_style.model.safetensors"
MIMIC = FIXTURES / "mimic_conv.model.safetensors"
FACEFORMER = FIXTURES / "faceformer_vocaset.model.safetensors"


def _audio(n=25600):
    t = np.arange(n)
    return (0.3 * np.sin(t * 0.03) * np.sin(t * 0.0011) + 0.05 * np.sin(t * 0.17)).astype(np.float32)


def _run(stream, audio):
    stream.push(audio)
    stream.flush()
    offsets, _ = stream.pull_all()
    return offsets


@pytest.fixture
def imitator():
    with mimetic.Model(IMITATOR) as m:
        yield m


def _reference(model, audio):
    # The "person": the model itself in slot 2, with whole-utterance context.
    with mimetic.Stream(model, style=2, lookahead_ms=2000, left_context_ms=10000) as s:
        return _run(s, audio)


def test_personalize_then_stream_moves_toward_the_person(imitator, tmp_path):
    audio = _audio()
    ref = _reference(imitator, audio)
    calls = []
    clips = [mimetic.ReferenceClip(offsets=ref, audio=audio, bilabial_frames=[5, 20]),
             mimetic.ReferenceClip(offsets=ref, audio=audio)]
    p = mimetic.Persona.personalize(imitator, clips, style_steps=30, basis_steps=30,
                                    progress=lambda *a: calls.append(a) or True)
    assert calls and p.has_basis and p.style.shape == (imitator.info.style_dim,)
    kw = dict(lookahead_ms=2000, left_context_ms=10000)
    with mimetic.Stream(imitator, style=0, **kw) as s:
        generalized = _run(s, audio)
    with mimetic.Stream(imitator, persona=p, **kw) as s:
        adapted = _run(s, audio)
    before, after = ((generalized - ref) ** 2).mean(), ((adapted - ref) ** 2).mean()
    assert after < 0.3 * before, (before, after)
    # Files round trip; switching at run time needs room for the basis.
    path = tmp_path / "p.safetensors"
    p.save(path)
    with mimetic.Persona.load(imitator, path) as q:
        np.testing.assert_array_equal(q.style, p.style)
        with mimetic.Stream(imitator, style=0, **kw) as s:
            with pytest.raises(mimetic.InvalidArgumentError, match="room"):
                s.set_persona(q)
        with mimetic.Stream(imitator, style=0, reserve_persona_basis=True, **kw) as s:
            s.set_persona(q)
            np.testing.assert_allclose(_run(s, audio), adapted, rtol=0, atol=1e-6)
    with mimetic.Model(OTHER) as other:
        with pytest.raises(mimetic.InvalidArgumentError, match="made for the model"):
            mimetic.Persona.load(other, path)


def test_where_the_adaptation_starts_and_folds(imitator):
    """initial_style_slot: a slot, "mean" (the default), "best"; held_out_folds averages runs stopped on
    different clips: with 2 folds, exactly the mean of the runs held out on clips 0 and 1."""
    audio = _audio()
    ref = _reference(imitator, audio)
    half = len(audio) // 2
    frames = len(ref) // 2
    clips = [mimetic.ReferenceClip(offsets=ref[:frames], audio=audio[:half]),
             mimetic.ReferenceClip(offsets=ref, audio=audio)]
    steps = dict(style_steps=10, basis_steps=0)
    default = mimetic.Persona.personalize(imitator, clips, **steps)
    mean = mimetic.Persona.personalize(imitator, clips, initial_style_slot="mean", **steps)
    np.testing.assert_array_equal(default.style, mean.style)
    for start in ("best", 1):
        assert np.isfinite(mimetic.Persona.personalize(imitator, clips, initial_style_slot=start, **steps).style).all()
    with pytest.raises(mimetic.InvalidArgumentError, match="not a slot"):
        mimetic.Persona.personalize(imitator, clips, initial_style_slot="worst", **steps)
    with pytest.raises(mimetic.InvalidArgumentError, match="out of range"):
        mimetic.Persona.personalize(imitator, clips, initial_style_slot=1000, **steps)
    folded = mimetic.Persona.personalize(imitator, clips, held_out_folds=2, **steps)
    runs = [mimetic.Persona.personalize(imitator, clips, held_out_clip=i, **steps) for i in (0, 1)]
    np.testing.assert_allclose(folded.style, (runs[0].style + runs[1].style) / 2, atol=1e-6)
    with pytest.raises(mimetic.InvalidArgumentError, match="held_out_folds"):
        mimetic.Persona.personalize(imitator, clips, held_out_folds=100, **steps)


def test_cancel_and_errors(imitator, tmp_path):
    audio = _audio()
    ref = _reference(imitator, audio)
    with pytest.raises(mimetic.CancelledError):
        mimetic.Persona.personalize(imitator, [mimetic.ReferenceClip(offsets=ref, audio=audio)], progress=lambda *a: False)
    with pytest.raises(mimetic.InvalidArgumentError, match="frames"):
        mimetic.Persona.personalize(imitator, [mimetic.ReferenceClip(offsets=ref[:5], audio=audio)])
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Persona.personalize(imitator, [])
    with pytest.raises(mimetic.InvalidArgumentError, match="audio"):
        mimetic.Persona.personalize(imitator, [mimetic.ReferenceClip(offsets=ref)])
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Persona.personalize(imitator, [mimetic.ReferenceClip(offsets=ref, audio=audio, sample_rate=4000)])
    with pytest.raises(mimetic.InvalidModelError):
        mimetic.Persona.load(imitator, IMITATOR)
    with pytest.raises(mimetic.MimeticIOError):
        mimetic.Persona.load(imitator, tmp_path / "missing.safetensors")
    with mimetic.Model(FACEFORMER) as ff:
        with pytest.raises(mimetic.InvalidArgumentError, match="slot"):
            mimetic.Persona.personalize(ff, [mimetic.ReferenceClip(offsets=np.zeros((10, ff.info.output_size), np.float32), audio=audio)])
        blend = mimetic.Persona.from_style(ff, np.full(ff.info.style_dim, 0.1, np.float32))
        assert not blend.has_basis
        zero = mimetic.Persona.from_style(ff, np.zeros(ff.info.style_dim, np.float32))
        np.testing.assert_allclose(blend.blend(zero, 0.25).style, np.full(ff.info.style_dim, 0.075, np.float32), rtol=1e-6)
        with mimetic.Stream(ff, persona=blend) as s:
            assert np.isfinite(_run(s, audio)).all()
        blend.close()
        with pytest.raises(mimetic.InvalidArgumentError, match="closed"):
            blend.style


def test_mimic_persona_from_motion():
    with mimetic.Model(MIMIC) as m:
        rng = np.random.default_rng(0)
        motion = (0.01 * rng.standard_normal((30, m.info.output_size))).astype(np.float32)
        p = mimetic.Persona.personalize(m, [mimetic.ReferenceClip(offsets=motion)])
        np.testing.assert_allclose(p.style, m.style_from_motion(motion), rtol=1e-6, atol=1e-7)
        with mimetic.Stream(m, persona=p) as s:
            assert np.isfinite(_run(s, _audio())).all()
