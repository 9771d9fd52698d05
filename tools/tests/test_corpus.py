"""Tests of the synthetic talking-face corpus generator (mimetic_tools/corpus, docs/corpus.md).

Fast (a few seconds). The espeak-ng tests are skipped when the C library is not installed
(Debian: apt-get install -y libespeak-ng-dev espeak-ng).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest


from mimetic_tools.corpus import Corpus, build_rig, load_rig, save_rig
from mimetic_tools.corpus import espeak as E
from mimetic_tools.corpus import generate as G
from mimetic_tools.corpus import visemes as VS
from mimetic_tools.corpus.sentences import SENTENCES, sentence_table
from mimetic_tools.corpus.styles import NEUTRAL_STYLE, STYLE_RANGES, sample_speakers

HAVE_ESPEAK = E.available()
needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="libespeak-ng not installed")

SPEAKER = {"voice": "en-us", "rate": 160, "pitch": 50, "range": 50, "style": NEUTRAL_STYLE}


@pytest.fixture(scope="module")
def rig():
    return build_rig()


# ----------------------------------------------------------------------------------------------
# rig
# ----------------------------------------------------------------------------------------------
def test_rig_sanity(rig):
    V, F, K = rig.V, rig.triangles.shape[0], rig.K
    assert 2000 <= V <= 5000
    assert rig.template.shape == (V, 3) and rig.template.dtype == np.float32
    assert rig.triangles.dtype == np.int32 and rig.triangles.min() >= 0 and rig.triangles.max() < V
    assert F > V
    a, b, c = (rig.template[rig.triangles[:, k]].astype(np.float64) for k in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    assert (area > 0).all(), "degenerate triangles"
    assert len(set(map(tuple, np.sort(rig.triangles, 1)))) == F, "duplicate triangles"
    assert rig.basis.shape == (K, 3 * V) and np.isfinite(rig.basis).all()
    for n in ["jaw_open", "lips_close", "lips_press", "lip_pucker", "mouth_round", "lip_spread_left",
              "lip_spread_right", "upper_lip_raise", "lower_lip_drop", "cheek_puff"]:
        assert n in rig.names
    # size of a human face
    w = np.ptp(rig.template[:, 0])
    h = np.ptp(rig.template[:, 1])
    assert 0.13 < w < 0.17 and 0.18 < h < 0.26
    mouth_w = np.ptp(rig.template[rig.lip_upper, 0])
    assert 0.04 < mouth_w < 0.06
    # regions
    assert len(rig.lip_upper) == len(rig.lip_lower) >= 20
    assert np.allclose(rig.template[rig.lip_upper, 0], rig.template[rig.lip_lower, 0], atol=1e-7)
    assert (rig.template[rig.lip_upper, 1] > rig.template[rig.lip_lower, 1]).all()
    assert set(rig.lip_upper) <= set(rig.lip_vertices) and set(rig.lip_lower) <= set(rig.lip_vertices)
    assert rig.template[rig.upper_face, 1].min() > rig.template[rig.lip_vertices, 1].max()
    # every control moves something, and the upper face only moves with brow_raise (and smiles)
    B = rig.basis.reshape(K, V, 3)
    assert (np.abs(B).max(axis=(1, 2)) > 1e-3).all()
    for k, n in enumerate(rig.names):
        if n not in ("brow_raise", "smile_left", "smile_right", "cheek_puff"):
            assert np.abs(B[k, rig.upper_face]).max() < 2e-4, n


def test_rig_lips_close_exactly(rig):
    """The pair vectors are s * G(w) * n for every control but lower_lip_tuck, so lips_close solved as
    G(other) / g0 closes the inner lips exactly for any jaw opening."""
    g0, gains, n, s = rig.gap_model()
    rng = np.random.default_rng(0)
    k_close, k_tuck = rig.index("lips_close"), rig.index("lower_lip_tuck")
    neutral = rig.lip_opening(rig.template)
    assert 1e-3 < neutral < 2e-3
    for _ in range(20):
        w = rng.uniform(0, 1, rig.K)
        w[k_tuck] = 0
        w[k_close] = 0
        v = rig.vertices(w[None])[0].astype(np.float64)
        rel = v[rig.lip_upper] - v[rig.lip_lower]
        G = g0 + gains @ w
        assert np.allclose(rel, (s * G)[:, None] * n[None, :], atol=2e-6)
        w[k_close] = G / g0
        closed = rig.lip_opening(rig.vertices(w[None])[0])
        assert closed < 5e-6, closed
    # jaw alone opens the mouth by centimetres; closure with a slightly open jaw still closes
    w = np.zeros(rig.K)
    w[rig.index("jaw_open")] = 0.8
    assert rig.lip_opening(rig.vertices(w[None])[0]) > 0.01
    w[rig.index("jaw_open")] = 0.1
    w[k_close] = (g0 + gains @ w) / g0
    assert rig.lip_opening(rig.vertices(w[None])[0]) < 5e-6


def test_rig_file_round_trip(rig, tmp_path):
    p = tmp_path / "rig.safetensors"
    save_rig(rig, p)
    r2 = load_rig(p)
    assert r2.names == rig.names
    for k in ["template", "triangles", "basis", "lip_vertices", "lip_upper", "lip_lower", "upper_face"]:
        assert np.array_equal(getattr(r2, k), getattr(rig, k)), k
    from safetensors import safe_open

    with safe_open(str(p), framework="numpy") as f:
        meta = json.loads(f.metadata()["corpus.rig"])
        assert meta == {"basis": rig.names, "version": 1}
        assert f.get_tensor("basis").dtype == np.float32 and f.get_tensor("triangles").dtype == np.int32


# ----------------------------------------------------------------------------------------------
# frame counts, styles, sentences, splits
# ----------------------------------------------------------------------------------------------
def test_frame_count_rule():
    N = np.arange(400, 200000, 37)
    L = np.array([G.cnn_frames(n) for n in N])
    assert np.array_equal(L, (N - 400) // 320 + 1)
    for n in [400, 16000, 16001, 48000, 123457]:
        l = (n - 400) // 320 + 1
        assert G.num_frames(n) == int((l / 50.0) * 30)


def test_sentences():
    assert 250 <= len(SENTENCES) and len(set(SENTENCES)) == len(SENTENCES)
    tab = sentence_table()
    held = [s for s in tab if s["split"] == "heldout"]
    assert 0.12 < len(held) / len(tab) < 0.18
    rich = sum(1 for s in SENTENCES if sum(ch in "mbpMBP" for ch in s) >= 3)
    assert rich / len(SENTENCES) > 0.95


def test_speaker_split_and_styles():
    sp = sample_speakers(40, seed=7)
    assert sp == sample_speakers(40, seed=7)
    assert sp != sample_speakers(40, seed=8)
    ids = {s["split"]: set() for s in sp}
    for s in sp:
        ids[s["split"]].add(s["id"])
    assert set(ids) == {"train", "val", "test"}
    assert not (ids["train"] & ids["test"]) and not (ids["train"] & ids["val"]) and not (ids["val"] & ids["test"])
    assert len(ids["test"]) == 6 and len(ids["val"]) == 6 and len(ids["train"]) == 28
    assert len({s["voice"] for s in sp}) == 40
    # styles spread over their ranges (Latin hypercube: one speaker per stratum)
    for k, (lo, hi) in STYLE_RANGES.items():
        v = np.array([s["style"][k] for s in sp])
        assert lo - 1e-6 <= v.min() and v.max() <= hi + 1e-6
        strata = np.floor((v - lo) / (hi - lo) * 40 - 1e-9).clip(0, 39)
        assert len(set(strata)) >= 38, k
    for n in (1, 2, 3, 5):
        s = sample_speakers(n, 0)
        assert sum(x["split"] == "train" for x in s) >= 1


# ----------------------------------------------------------------------------------------------
# espeak
# ----------------------------------------------------------------------------------------------
@needs_espeak
def test_espeak_events_monotonic_and_inside():
    for voice, rate in [("en-us", 175), ("en-gb-x-rp+f3", 140), ("en+klatt2", 210)]:
        s = E.synthesize("Bob bought a big blue balloon at the market.", voice, rate)
        assert s.sample_rate == 22050 and s.audio.dtype == np.int16 and len(s.audio) > 22050
        starts = [a for (_, a, _) in s.phonemes]
        assert starts == sorted(starts)
        assert all(0 <= a <= b <= len(s.audio) for (_, a, b) in s.phonemes)
        names = [n for (n, _, _) in s.phonemes]
        assert names.count("b") >= 4 and "m" in names
        audio, ph, dur = E.to_16k(s)
        assert abs(len(audio) - len(s.audio) * 16000 / 22050) < 2
        assert all(0 <= a <= b <= dur + 1e-9 for (_, a, b) in ph)
        assert np.abs(audio).max() > 0.05
        # the stop closure before a 'p'/'b' release is quiet, a vowel is loud
        i = names.index("a#") if "a#" in names else names.index("@")
        a, b = ph[i][1], ph[i][2]
        seg = audio[int(a * 16000):int(b * 16000)]
        assert np.sqrt(np.mean(seg ** 2)) > 0.02


@needs_espeak
def test_espeak_deterministic_across_calls():
    a = E.synthesize("Please pass me the maple syrup.", "en-us+m3", 170)
    E.synthesize("Something else first, with another voice.", "en-gb-x-rp+f2", 200)
    b = E.synthesize("Please pass me the maple syrup.", "en-us+m3", 170)
    assert np.array_equal(a.audio, b.audio) and a.phonemes == b.phonemes


@needs_espeak
def test_all_phonemes_known():
    seen = set()
    for v in ["en-us", "en-gb-x-rp", "en-029"]:
        for s in SENTENCES[::9]:
            seen |= {n for (n, _, _) in E.synthesize(s, v, 175).phonemes}
    unknown = sorted(n for n in seen if not VS.known(n))
    assert not unknown, unknown


# ----------------------------------------------------------------------------------------------
# clips
# ----------------------------------------------------------------------------------------------
@needs_espeak
def test_mama_lips_close_on_bilabials_and_open_on_vowels(rig):
    tensors, meta = G.synth_clip("Mama may pay a bobby a pound.", SPEAKER, seed=1)
    W = tensors["weights"]
    T = W.shape[0]
    N = len(tensors["audio"])
    assert T == int((((N - 400) // 320 + 1) / 50.0) * 30)
    events = tensors["bilabial_frames"]
    ph = meta["phonemes"]
    n_bil = sum(1 for p in ph if p[0] in ("m", "b", "p"))
    assert n_bil >= 7 and len(events) >= 6
    opening = rig.lip_opening(rig.vertices(W))
    assert (opening[events] < 1e-5).all(), opening[events]
    # every event is the frame nearest the centre of an m/b/p closure
    for e in events:
        t = e / 30.0
        assert any(p[0] in ("m", "b", "p") and p[1] - 0.06 <= t <= p[2] + 0.03 for p in ph)
    # open on the vowels between: the widest frame between consecutive events
    for a, b in zip(events[:-1], events[1:]):
        if b - a >= 3:
            assert opening[a:b].max() > 3e-3, (a, b, opening[a:b])
    # open vowels open the mouth clearly, silence is neutral
    first_a = next(p for p in ph if p[0] in ("A:", "a", "aa"))
    mid = int(round(0.5 * (first_a[1] + first_a[2]) * 30))
    assert opening[mid - 1:mid + 2].max() > 5e-3
    assert abs(opening[0] - rig.lip_opening(rig.template)) < 2e-4
    # frame weights: exp(-k^2/2) around each event (later windows overwrite), 0 elsewhere
    fw = np.zeros(T, np.float32)
    for e in events:
        for k in range(-2, 3):
            if 0 <= e + k < T:
                fw[e + k] = math.exp(-0.5 * k * k)
    assert np.array_equal(fw, tensors["frame_weights"])
    assert (tensors["frame_weights"][events] == 1).all()


@needs_espeak
def test_styles_change_the_motion(rig):
    text = "Bob opened the map and pointed to the pub."
    big = dict(NEUTRAL_STYLE, amplitude=1.4, protrusion=1.5)
    small = dict(NEUTRAL_STYLE, amplitude=0.6, protrusion=0.5)
    wb = G.synth_clip(text, dict(SPEAKER, style=big), 0)[0]["weights"]
    ws = G.synth_clip(text, dict(SPEAKER, style=small), 0)[0]["weights"]
    ob = rig.lip_opening(rig.vertices(wb))
    os_ = rig.lip_opening(rig.vertices(ws))
    assert ob.mean() > 1.5 * os_.mean()
    k = rig.index("lip_pucker")
    assert wb[:, k].max() > 2 * ws[:, k].max()


@needs_espeak
def test_corpus_determinism_split_and_api(tmp_path, rig):
    a, b = tmp_path / "a", tmp_path / "b"
    sa = G.make_corpus(str(a), 4, 3, seed=11, workers=2, progress=False)
    G.make_corpus(str(b), 4, 3, seed=11, workers=1, progress=False)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 4 + 12
    for f in files_a:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert sa["clips"] == 12

    c = Corpus(str(a))
    assert np.array_equal(c.rig.basis, rig.basis)
    splits = {s["id"]: s["split"] for s in c.speakers()}
    assert set(splits.values()) == {"train", "val", "test"}
    train = c.clips("train")
    assert all(splits[x.speaker] == "train" for x in train)
    assert all(c.sentence(x.sentence)["split"] == "train" for x in train)
    test = c.clips("test")
    assert test and not ({x.speaker for x in test} & {x.speaker for x in train})
    assert len(c.clips()) == 12
    clip = c.clips()[0]
    T, K, V = clip.weights.shape[0], c.rig.K, c.rig.V
    assert clip.weights.dtype == np.float32 and clip.weights.shape == (T, K)
    assert clip.audio.dtype == np.float32 and clip.audio.ndim == 1
    assert clip.bilabial_frames.dtype == np.int32 and clip.frame_weights.shape == (T,)
    off = clip.offsets(c.rig)
    assert off.shape == (T, 3 * V) and off.dtype == np.float32
    assert np.allclose(off, clip.weights @ c.rig.basis, atol=1e-7)
    assert T == G.num_frames(len(clip.audio))
    m = clip.meta
    assert m["speaker"] == clip.speaker and m["sentence"] == clip.sentence and m["text"] == SENTENCES[clip.sentence]
    assert m["fps"] == 30 and m["sample_rate"] == 16000
    ph = clip.phonemes
    assert ph[0][1] == 0.0 and abs(ph[-1][2] - len(clip.audio) / 16000) < 1e-5
    assert all(abs(a[2] - b[1]) < 1e-5 and a[1] < a[2] for a, b in zip(ph[:-1], ph[1:])), "timeline has gaps"
    assert c.clip(clip.speaker, clip.sentence).name == clip.name


@needs_espeak
def test_corpus_on_another_rig(tmp_path, rig):
    """`rig_path`: the clips are driven on that rig (copied as the corpus rig); its lips meet exactly at
    the m/b/p frames, and a rig with other blendshapes is refused."""
    other = Path(__file__).resolve().parents[2] / "models" / "rig.safetensors"   # the shipped models' rig
    assert load_rig(other).V != rig.V
    G.make_corpus(str(tmp_path / "c"), 4, 2, seed=5, workers=1, progress=False, rig_path=str(other))
    assert (tmp_path / "c" / "rig.safetensors").read_bytes() == other.read_bytes()
    c = Corpus(str(tmp_path / "c"))
    gaps = []
    for clip in c.clips():
        v = clip.vertices(c.rig)
        gaps += list(np.linalg.norm(v[:, c.rig.lip_upper] - v[:, c.rig.lip_lower], axis=-1).mean(1)[clip.bilabial_frames])
    assert gaps and max(gaps) < 1e-7, max(gaps)                    # metres
    assert G.corpus_rig().V == rig.V                  # the process's own rig is back
    bad = build_rig()
    bad.names = list(bad.names[::-1])
    save_rig(bad, tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match="blendshapes"):
        G.make_corpus(str(tmp_path / "d"), 4, 1, seed=5, workers=1, progress=False, rig_path=str(tmp_path / "bad.safetensors"))


def test_flite_segments_map_onto_the_viseme_rules():
    """flite's ARPAbet phones all have an espeak mnemonic the viseme rules know; -psdur's end times
    become [start, end) segments; an unmapped phone is an error, not a silent rest pose."""
    from mimetic_tools.corpus import flite as F
    for arpabet, mnemonic in F.ARPABET.items():
        assert VS.known(mnemonic), (arpabet, mnemonic)
    assert F.parse_segments("pau:0.222 ax:0.275 p:0.397 ah:0.500 m:0.574\n") == [
        ("_", 0.0, 0.222), ("@", 0.222, 0.275), ("p", 0.275, 0.397), ("V", 0.397, 0.5), ("m", 0.5, 0.574)]
    with pytest.raises(ValueError, match="'qq'"):
        F.parse_segments("pau:0.1 qq:0.2")


def test_espeak_alone_gives_the_speakers_it_always_did():
    assert sample_speakers(12, 7) == sample_speakers(12, 7, engines=("espeak",))
    mixed = sample_speakers(12, 7, engines=("espeak", "flite"))
    assert [s["engine"] for s in mixed].count("flite") == 6
    from mimetic_tools.corpus.flite import VOICES
    assert {s["voice"] for s in mixed if s["engine"] == "flite"} <= set(VOICES)
    for a, b in zip(sample_speakers(12, 7), mixed):
        assert a["style"] == b["style"] and a["split"] == b["split"]     # only the voices change
    with pytest.raises(ValueError, match="unknown speech engines"):
        sample_speakers(4, 1, engines=("espeak", "festival"))


def test_mixed_engine_corpus(tmp_path):
    """Speakers shared between espeak-ng and flite: every flite clip has its voice, monotonic phone
    timing covering the audio, and lip closures at its m/b/p."""
    from mimetic_tools.corpus import flite as F
    if not F.available():
        pytest.skip("flite is not installed (scripts/setup.sh train installs it)")
    out = tmp_path / "mixed"
    G.make_corpus(str(out), 4, 3, seed=5, workers=1, progress=False, engines=("espeak", "flite"))
    c = Corpus(str(out))
    engines = {s["id"]: s["engine"] for s in c.speakers()}
    assert sorted(engines.values()) == ["espeak", "espeak", "flite", "flite"]
    flite_clips = [clip for clip in c.clips() if engines[clip.meta["speaker"]] == "flite"]
    assert len(flite_clips) == 6
    for clip in flite_clips:
        assert clip.meta["engine"] == "flite" and clip.meta["voice"] in F.VOICES
        ph = clip.meta["phonemes"]
        assert all(a <= b for (_, a, b) in ph) and all(p[2] <= q[1] + 1e-6 for p, q in zip(ph, ph[1:]))
        assert abs(ph[-1][2] - len(clip.audio) / 16000) < 0.01
        if any(n in ("m", "b", "p") for (n, _, _) in ph):
            assert len(clip.bilabial_frames) > 0, clip.meta["text"]
