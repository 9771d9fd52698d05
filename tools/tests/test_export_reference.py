"""mimetic-export-reference (mimetic_tools/cli/export_reference.py): a corpus speaker's clips as `mimetic personalize --ref` files."""
from __future__ import annotations

import wave

import numpy as np

from mimetic_tools.cli.export_reference import export
from mimetic_tools.corpus import Corpus
from mimetic_tools.training.fake_corpus import write_fake_corpus


def test_export_writes_matching_audio_motion_and_events(tmp_path):
    corpus_dir = write_fake_corpus(tmp_path / "corpus", num_vertices=30, speakers=(2, 1, 1), sentences=(4, 1), seed=2)
    corpus = Corpus(corpus_dir)
    speaker = corpus.speakers("test")[0]["id"]
    clips = sorted((c for c in corpus.clips(None) if c.meta["speaker"] == speaker), key=lambda c: c.meta["sentence"])
    refs = export(corpus_dir, speaker, seconds=1e9, out_dir=tmp_path / "ref", skip=1)
    assert len(refs) == len(clips) - 1                    # all but the skipped first clip
    assert (tmp_path / "ref" / "refs.txt").read_text().split() == " ".join(refs).split()
    for ref, clip in zip(refs, clips[1:]):
        wav, motion, events = ref.split(" ", 1)[1].split(":")
        with wave.open(wav) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            assert w.getnframes() == len(clip.audio)
        m = np.load(motion)
        assert m.dtype == np.float32 and m.shape == (clip.offsets(corpus.rig).shape[0], 30, 3)
        np.testing.assert_allclose(m.reshape(m.shape[0], -1), clip.offsets(corpus.rig), atol=1e-7)
        np.testing.assert_array_equal(np.load(events), clip.bilabial_frames)
    # The length limit stops after the clip that reaches it.
    assert len(export(corpus_dir, speaker, seconds=0.1, out_dir=tmp_path / "one")) == 1
