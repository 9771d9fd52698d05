"""Per-speaker speaking style (the factors Mimic calls speaking style) and voices.

A style scales and shapes the viseme targets and the coarticulation of one speaker:

  amplitude        mouth opening (jaw_open, lower_lip_drop, upper_lip_raise targets)   0.60 .. 1.45
  protrusion       lip protrusion / rounding (lip_pucker, mouth_round targets)         0.45 .. 1.55
  spread           lip spreading (lip_spread_left/right targets)                       0.45 .. 1.55
  asymmetry        left/right imbalance: spread_left = spread (1 + a),
                   spread_right = spread (1 - a), and a resting one-sided smile |a|    -0.35 .. 0.35
  anticipation_ms  anticipatory coarticulation: time constant of the dominance
                   functions before a segment, and of the lips' closing ramp           20 .. 95
  smoothing_ms     carry-over coarticulation: time constant after a segment, and of
                   the lips' opening ramp (larger = smoother, lazier articulation)     25 .. 110
  press            lip pressure during bilabial closures (lips_press)                  0.2 .. 1.0
  puff             cheek puff during p/b closures (cheek_puff)                          0.0 .. 0.6
  brow             eyebrow raise on loud syllables (brow_raise)                         0.0 .. 1.0

Speakers are sampled by Latin-hypercube sampling (each factor's range cut into N strata, one
speaker per stratum, strata shuffled independently per factor), so N speakers spread over the whole
style space and no two share a stratum in any factor.
"""
from __future__ import annotations

import numpy as np

STYLE_RANGES = {
    "amplitude": (0.60, 1.45),
    "protrusion": (0.45, 1.55),
    "spread": (0.45, 1.55),
    "asymmetry": (-0.35, 0.35),
    "anticipation_ms": (20.0, 95.0),
    "smoothing_ms": (25.0, 110.0),
    "press": (0.2, 1.0),
    "puff": (0.0, 0.6),
    "brow": (0.0, 1.0),
}

NEUTRAL_STYLE = {"amplitude": 1.0, "protrusion": 1.0, "spread": 1.0, "asymmetry": 0.0, "anticipation_ms": 50.0,
                 "smoothing_ms": 60.0, "press": 0.6, "puff": 0.25, "brow": 0.5}

# espeak-ng English voices and voice variants (all ship with espeak-ng-data)
LANGUAGES = ["en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan",
             "en-gb-x-gbcwmd"]
VARIANTS = ["", "f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "klatt", "klatt2",
            "klatt3", "klatt4", "Alex", "Andy", "Annie", "belinda", "benjamin", "edward", "grandma", "john",
            "linda", "max", "michel", "norbert", "paul", "rob", "steph", "travis", "victor", "aunty", "david"]
RATE_RANGE = (135, 205)     # words per minute
PITCH_RANGE = (30, 70)      # espeakPITCH 0..100 (50 = the voice's default)
RANGE_RANGE = (30, 80)      # espeakRANGE (intonation range)


def _lhs(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    strata = (rng.permutation(n) + rng.random(n)) / n
    return lo + strata * (hi - lo)


def sample_speakers(n: int, seed: int, val_frac: float = 0.15, test_frac: float = 0.15,
                    engines=("espeak",)) -> list[dict]:
    """n speakers: id, split, voice, rate, pitch, range, style (and engine). Deterministic from seed.
    With several `engines` the speakers are dealt out among them in a shuffled round robin (from a
    random stream of its own, so that espeak alone gives exactly the speakers it always did); a
    flite speaker gets one of flite's voices, in turn."""
    rng = np.random.default_rng([int(seed), 0x5BEA])
    cols = {k: _lhs(rng, n, lo, hi) for k, (lo, hi) in STYLE_RANGES.items()}
    rates = _lhs(rng, n, *RATE_RANGE)
    pitches = _lhs(rng, n, *PITCH_RANGE)
    ranges = _lhs(rng, n, *RANGE_RANGE)
    # voices: distinct (language, variant) pairs, variants spread before they repeat
    combos = []
    var_order = rng.permutation(len(VARIANTS))
    lang_order = rng.permutation(len(LANGUAGES))
    for i in range(n):
        v = VARIANTS[var_order[i % len(VARIANTS)]]
        lang = LANGUAGES[lang_order[(i + i // len(VARIANTS)) % len(LANGUAGES)]]
        combos.append(lang + ("+" + v if v else ""))
    # split: test and val speakers never in train
    n_test = int(round(test_frac * n)) if n >= 3 else 0
    n_val = int(round(val_frac * n)) if n >= 3 else 0
    if n >= 3:
        n_test, n_val = max(n_test, 1), max(n_val, 1)
    perm = rng.permutation(n)
    split = np.array(["train"] * n, dtype=object)
    split[perm[:n_test]] = "test"
    split[perm[n_test:n_test + n_val]] = "val"
    speakers = []
    for i in range(n):
        style = {}
        for k in STYLE_RANGES:
            v = float(cols[k][i])
            style[k] = round(v, 1) if k.endswith("_ms") else round(v, 3)
        speakers.append({
            "id": f"s{i:03d}",
            "split": str(split[i]),
            "voice": combos[i],
            "rate": int(round(rates[i])),
            "pitch": int(round(pitches[i])),
            "range": int(round(ranges[i])),
            "style": style,
        })
    if tuple(engines) != ("espeak",):
        from .flite import VOICES as FLITE_VOICES
        unknown = set(engines) - {"espeak", "flite"}
        if unknown:
            raise ValueError(f"unknown speech engines {sorted(unknown)} (espeak, flite)")
        erng = np.random.default_rng([int(seed), 0xF117E])
        order = erng.permutation(n)
        flite_voices = [FLITE_VOICES[k] for k in erng.permutation(len(FLITE_VOICES))]
        used = 0
        for rank, i in enumerate(order):
            engine = engines[rank % len(engines)]
            speakers[i]["engine"] = engine
            if engine == "flite":
                speakers[i]["voice"] = flite_voices[used % len(flite_voices)]
                used += 1
    return speakers
