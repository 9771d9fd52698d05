"""Reading a corpus (docs/corpus.md).

    from mimetic_tools.corpus import Corpus
    c = Corpus("out/corpus")
    rig = c.rig                              # Rig: template, triangles, basis, names, lip_* ...
    for clip in c.clips("train"):            # train speakers x train sentences
        clip.audio, clip.weights, clip.offsets(rig), clip.bilabial_frames, clip.frame_weights, clip.phonemes

`clips(split)`: split is the speakers' split ("train", "val", "test", or None for all). Held-out
sentences are never used for training, so `clips("train")` leaves them out by default; for "val",
"test" and None every sentence is included. Pass `sentences="train" | "heldout" | "all"` to choose.
"""
from __future__ import annotations

import json
import os
from functools import cached_property

import numpy as np

from .rig import Rig, load_rig


def _read_meta(path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return json.loads((f.metadata() or {})["corpus.clip"])


class Clip:
    """One clip; tensors are loaded on first access."""

    def __init__(self, path, speaker_id: str | None = None, sentence_id: int | None = None):
        self.path = str(path)
        self.name = os.path.basename(self.path).rsplit(".safetensors", 1)[0]
        sp, _, se = self.name.rpartition("_")
        self.speaker = speaker_id if speaker_id is not None else sp
        self.sentence = sentence_id if sentence_id is not None else int(se)
        self._t = None

    def __repr__(self):
        return f"Clip({self.name!r})"

    def _tensors(self) -> dict:
        if self._t is None:
            from safetensors.numpy import load_file

            self._t = load_file(self.path)
        return self._t

    def unload(self) -> None:
        self._t = None

    @cached_property
    def meta(self) -> dict:
        return _read_meta(self.path)

    @property
    def audio(self) -> np.ndarray:
        return self._tensors()["audio"]

    @property
    def weights(self) -> np.ndarray:
        return self._tensors()["weights"]

    @property
    def bilabial_frames(self) -> np.ndarray:
        return self._tensors()["bilabial_frames"]

    @property
    def frame_weights(self) -> np.ndarray:
        return self._tensors()["frame_weights"]

    @property
    def phonemes(self) -> list:
        return [(p[0], float(p[1]), float(p[2])) for p in self.meta["phonemes"]]

    @property
    def text(self) -> str:
        return self.meta["text"]

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    @property
    def sample_rate(self) -> int:
        return int(self.meta["sample_rate"])

    @property
    def T(self) -> int:
        return int(self.weights.shape[0])

    def offsets(self, rig: Rig) -> np.ndarray:
        """Vertex offsets [T, 3V] = weights @ basis (float32)."""
        return rig.offsets(self.weights)

    def vertices(self, rig: Rig) -> np.ndarray:
        """Vertices [T, V, 3]."""
        return rig.vertices(self.weights)


class Corpus:
    def __init__(self, path):
        self.path = str(path)
        if not os.path.isfile(os.path.join(self.path, "speakers.json")):
            raise FileNotFoundError(f"{self.path} is not a corpus (no speakers.json)")
        with open(os.path.join(self.path, "speakers.json")) as f:
            self._speakers = json.load(f)
        with open(os.path.join(self.path, "sentences.json")) as f:
            self._sentences = json.load(f)
        self._speaker_by_id = {s["id"]: s for s in self._speakers}
        self._sentence_by_id = {s["id"]: s for s in self._sentences}

    def __repr__(self):
        return f"Corpus({self.path!r}: {len(self._speakers)} speakers)"

    @cached_property
    def rig(self) -> Rig:
        return load_rig(os.path.join(self.path, "rig.safetensors"))

    @cached_property
    def manifest(self) -> dict:
        p = os.path.join(self.path, "manifest.json")
        return json.load(open(p)) if os.path.isfile(p) else {}

    def speakers(self, split: str | None = None) -> list[dict]:
        return [s for s in self._speakers if split is None or s["split"] == split]

    def speaker(self, speaker_id: str) -> dict:
        return self._speaker_by_id[speaker_id]

    def speaker_index(self, speaker_id: str, split: str | None = "train") -> int:
        """Position of a speaker among the speakers of `split` (e.g. a one-hot index)."""
        return [s["id"] for s in self.speakers(split)].index(speaker_id)

    def sentences(self, split: str | None = None) -> list[dict]:
        return [s for s in self._sentences if split is None or s["split"] == split]

    def sentence(self, sentence_id: int) -> dict:
        return self._sentence_by_id[int(sentence_id)]

    @cached_property
    def _all_clips(self) -> list:
        d = os.path.join(self.path, "clips")
        names = sorted(n for n in os.listdir(d) if n.endswith(".safetensors")) if os.path.isdir(d) else []
        return [Clip(os.path.join(d, n)) for n in names]

    def clips(self, split: str | None = None, sentences: str | None = None) -> list[Clip]:
        if sentences is None:
            sentences = "train" if split == "train" else "all"
        if sentences not in ("train", "heldout", "all"):
            raise ValueError(f"sentences must be 'train', 'heldout' or 'all', not {sentences!r}")
        out = []
        for c in self._all_clips:
            sp = self._speaker_by_id.get(c.speaker)
            if sp is None or (split is not None and sp["split"] != split):
                continue
            if sentences != "all" and self._sentence_by_id[c.sentence]["split"] != sentences:
                continue
            out.append(c)
        return out

    def clip(self, speaker_id: str, sentence_id: int) -> Clip:
        from .generate import clip_name

        p = os.path.join(self.path, "clips", clip_name(speaker_id, int(sentence_id)) + ".safetensors")
        if not os.path.isfile(p):
            raise KeyError(f"no clip {speaker_id} / {sentence_id}")
        return Clip(p)
