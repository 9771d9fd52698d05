"""Synthetic talking-face corpus (docs/corpus.md): espeak-ng speech with exact phoneme timing, a
procedural face rig, phoneme -> viseme targets with coarticulation, per-speaker speaking styles.

    from mimetic_tools.corpus import Corpus, make_corpus, build_rig
"""
from .dataset import Clip, Corpus
from .rig import CONTROLS, Rig, build_rig, load_rig, save_rig

__all__ = ["Clip", "Corpus", "CONTROLS", "Rig", "build_rig", "load_rig", "save_rig", "make_corpus", "synth_clip"]


def make_corpus(*args, **kwargs):
    from .generate import make_corpus as _m

    return _m(*args, **kwargs)


def synth_clip(*args, **kwargs):
    from .generate import synth_clip as _s

    return _s(*args, **kwargs)
