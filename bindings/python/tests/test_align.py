"""Forced alignment (mimetic.align, pocketsphinx) and the lip closures it places (Model.closure_events)."""
from __future__ import annotations

import numpy as np
import pytest

from mimetic_testutil import REPO

import mimetic

pocketsphinx = pytest.importorskip("pocketsphinx")
from mimetic import align as aligner  # noqa: E402  (after the skip: it needs pocketsphinx at call time only)

DEFAULT = str(REPO / "models" / "default.safetensors")
ARKIT = str(REPO / "models" / "arkit52.safetensors")
PAPER_MAPS = str(REPO / "models" / "samples" / "paper_maps.wav")
PAPER_MAPS_TEXT = "Paper maps may become a museum piece."


def test_align_a_sample_and_its_bilabials():
    """Every phone of the transcript, in order, inside the audio; the m/b/p phones are the ones the
    dictionary spells ("paper maps may become a museum piece": P P M P M B M M M P = 10)."""
    speech = mimetic.load_wav(PAPER_MAPS)
    phones = aligner.align(speech, PAPER_MAPS_TEXT)
    spoken = [p for p in phones if p.name != "SIL"]
    assert [p.word for p in spoken][:2] == ["paper", "paper"] and spoken[-1].word == "piece"
    for a, b in zip(phones, phones[1:]):
        assert a.end <= b.start + 1e-9 and a.start < a.end
    assert phones[-1].end <= speech.duration + 0.011
    spans = aligner.bilabial_spans(phones)
    assert [p.name for p in phones if p.name in aligner.BILABIALS] == ["P", "P", "M", "P", "M", "B", "M", "M", "M", "P"]
    assert len(spans) == 10
    # The same file at 48 kHz (resampled by the library) and as a path align to within a frame.
    again = aligner.bilabial_spans(aligner.align(mimetic.load_wav(PAPER_MAPS, sample_rate=48000), PAPER_MAPS_TEXT))
    np.testing.assert_allclose(np.array(again), np.array(spans), atol=0.011)
    assert aligner.bilabial_spans(aligner.align(PAPER_MAPS, PAPER_MAPS_TEXT)) == spans


def test_aligned_closures_agree_with_the_models_own():
    """The default model closes its lips at every m/b/p of this espeak-ng sample: at each closure placed
    from the acoustic alignment its lips are shut (within 0.5 mm, a one-frame clip has a motion
    closure), and the motion's closures at rest (before and after the sentence, where no m/b/p is
    spoken) are not among them."""
    with mimetic.Model(DEFAULT) as model:
        speech = mimetic.load_wav(PAPER_MAPS)
        offsets = model.animate(speech)
        spans = aligner.bilabial_spans(aligner.align(speech, PAPER_MAPS_TEXT))
        aligned = model.closure_events(offsets, phones=spans)
        motion = model.closure_events(offsets)
        assert 6 <= len(aligned) <= 10
        for e in aligned:
            assert len(model.closure_events(offsets[e:e + 1])) == 1, f"lips open at aligned closure {e}"
        at_rest = [e for e in motion if e < spans[0][0] * model.info.fps - 2 or e > spans[-1][1] * model.info.fps + 2]
        assert at_rest, motion              # the sample starts and ends with the mouth at rest, closed
        assert not set(at_rest) & set(aligned)
        with pytest.raises(mimetic.InvalidArgumentError, match="start <= end"):
            model.closure_events(offsets, phones=[(0.5, 0.4)])
        far = model.closure_events(offsets, phones=[(2.0, 9.5e50), (1e300, 1e308)])   # clamped to the clip
        assert len(far) == 1 and 0 <= far[0] < len(offsets)
        with pytest.raises(mimetic.InvalidArgumentError, match="offsets must be"):
            model.closure_events(offsets[:, :10])


def test_transcript_places_a_takes_closures(tmp_path):
    """A take of the model's own ARKit weights with its transcript: the clip's closures are the aligned
    ones; without a transcript, the motion's."""
    from test_retarget import _take_from
    with mimetic.Model(DEFAULT) as model, mimetic.Retarget(model, ARKIT) as arkit:
        speech = mimetic.load_wav(PAPER_MAPS)
        weights, _ = arkit.apply(model.animate(speech))
        _take_from(weights, arkit.names, tmp_path / "take.csv")
        by_text = mimetic.ReferenceClip.from_livelink(model, tmp_path / "take.csv", speech, arkit, transcript=PAPER_MAPS_TEXT)
        by_motion = mimetic.ReferenceClip.from_livelink(model, tmp_path / "take.csv", speech, arkit)
        spans = aligner.bilabial_spans(aligner.align(speech, PAPER_MAPS_TEXT))
        assert list(by_text.bilabial_frames) == list(model.closure_events(by_text.offsets, phones=spans))
        assert list(by_motion.bilabial_frames) == list(model.closure_events(by_motion.offsets))
        assert by_text.bilabial_frames and by_text.bilabial_frames != by_motion.bilabial_frames
        persona = mimetic.Persona.personalize(model, [by_text], style_steps=5, basis_steps=0)
        assert np.isfinite(persona.style).all()
        with pytest.raises(mimetic.InvalidArgumentError, match="not both"):
            mimetic.ReferenceClip.from_livelink(model, tmp_path / "take.csv", speech, arkit, transcript="x", phones=[])


def test_alignment_errors_are_clear():
    speech = mimetic.load_wav(PAPER_MAPS)
    with pytest.raises(mimetic.InvalidArgumentError, match="not in the aligner's dictionary: qwzxv"):
        aligner.align(speech, "Paper maps qwzxv.")
    with pytest.raises(mimetic.InvalidArgumentError, match="no words"):
        aligner.align(speech, " ...!? ")
    with pytest.raises(mimetic.InvalidArgumentError, match="NaN"):
        aligner.align(np.full(16000, np.nan, np.float32), "paper", sample_rate=16000)
    with pytest.raises(mimetic.InvalidArgumentError, match="sample_rate"):
        aligner.align(np.zeros(16000, np.float32), "paper")


def test_mimetic_align_command_writes_labels_the_cli_reads(tmp_path):
    """mimetic-align writes Audacity labels; `mimetic personalize --ref-livelink TAKE:WAV:PHONES` reads
    them and says its closures are at the aligned m/b/p."""
    import os
    import subprocess
    out = tmp_path / "paper_maps.phones.txt"
    assert aligner.main([PAPER_MAPS, "--text", PAPER_MAPS_TEXT, "-o", str(out)]) == 0
    lines = [line.split("\t") for line in out.read_text().splitlines() if not line.startswith("#")]
    assert all(len(cells) == 3 and float(cells[0]) <= float(cells[1]) for cells in lines)
    assert sum(1 for cells in lines if cells[2] in ("M", "B", "P")) == 10
    assert aligner.main([PAPER_MAPS, "--text", "qwzxv", "-o", str(tmp_path / "x.txt")]) == 1
    cli = os.environ.get("MIMETIC_BIN")
    if not cli:
        pytest.skip("MIMETIC_BIN is not set (the CLI half of this test)")
    from test_retarget import _take_from
    with mimetic.Model(DEFAULT) as model, mimetic.Retarget(model, ARKIT) as arkit:
        weights, _ = arkit.apply(model.animate(mimetic.load_wav(PAPER_MAPS)))
        _take_from(weights, arkit.names, tmp_path / "take.csv")
    r = subprocess.run([cli, "personalize", "--quiet", "--model", DEFAULT, "--ref-livelink",
                        f"{tmp_path / 'take.csv'}:{PAPER_MAPS}:{out}", "--style-steps", "3", "--basis-steps", "0",
                        "--out", str(tmp_path / "p.safetensors")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "lip closures (at the aligned m/b/p)" in r.stderr, r.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("0.1 0.2\n")
    r = subprocess.run([cli, "personalize", "--quiet", "--model", DEFAULT, "--ref-livelink",
                        f"{tmp_path / 'take.csv'}:{PAPER_MAPS}:{bad}", "--out", str(tmp_path / "q.safetensors")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "line 1 has 2 fields" in r.stderr, r.stderr


def test_possessives_missing_from_the_dictionary_are_spelled_from_their_word():
    decoder = aligner._decoder_class()(samprate=16000, loglevel="FATAL")
    for word, ending in (("puppy's", "Z"), ("pablo's", "Z"), ("map's", "S"), ("bus's", "IH Z")):
        if decoder.lookup_word(word) is None:
            aligner._add_possessive(decoder, word)
            assert decoder.lookup_word(word) == f"{decoder.lookup_word(word[:-2])} {ending}"
    aligner._add_possessive(decoder, "qwzxv's")          # no base word: left out, align() names it
    assert decoder.lookup_word("qwzxv's") is None
