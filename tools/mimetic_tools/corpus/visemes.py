"""espeak-ng phonemes -> viseme targets in rig-control space, coarticulation, bilabial closures.

Articulatory parameters (each mapped onto rig controls, scaled by the speaker's style):

  jaw    -> jaw_open            (x amplitude)
  round  -> mouth_round         (x protrusion)
  pucker -> lip_pucker          (x protrusion)
  spread -> lip_spread_left/right (x spread, x (1 +- asymmetry))
  uplift -> upper_lip_raise     (x amplitude)
  drop   -> lower_lip_drop      (x amplitude)
  tuck   -> lower_lip_tuck      (labiodental f/v)

Coarticulation: Cohen-Massaro dominance blending. Every phoneme segment s (diphthongs are split in
two) has a target T_s,p for each parameter p and a dominance
    D_s,p(t) = alpha_s,group(p) * exp(-(d / tau)^1.5),
d = the distance from t to the segment (0 inside it), tau = the speaker's anticipation time constant
before the segment and its smoothing (carry-over) constant after it, scaled per phoneme class. The
value at time t is sum_s D T / sum_s D (plus a weak rest target). Consonants that do not use the lips
(t, d, k, g, h, n, l) have low lip dominance, so the rounding of a following vowel spreads into them
("two": rounded t), and bilabials have low lip-shape dominance but full jaw dominance.

Bilabial closure is not blended: it is a hard constraint. Each m/b/p has a closure interval
  m  the whole segment;
  b  the segment without its release (the last min(15 ms, 25 %));
  p  espeak attributes the silent stop closure to the preceding phoneme and starts "p" at the burst:
     the closure is the low-energy stretch of audio just before the p event (30..90 ms; 60 ms after a
     pause) up to 10 ms into it.
Intervals shorter than 50 ms are widened to 50 ms about their centre, overlapping or nearly touching
ones (< 30 ms apart) are merged. The closure track c(t) is 1 inside, with raised-cosine ramps before
(the speaker's anticipation) and after (smoothing), each at most 45 % of the gap to the neighbouring
closure. The generator then sets
lips_close = c * G(other controls) / g0 (see rig.py), which makes the inner lips meet exactly at c = 1,
lips_press and cheek_puff follow c, and lower_lip_tuck is scaled by 1 - c.
The bilabial event of a closure is the frame nearest its centre (before widening).
"""
from __future__ import annotations

import numpy as np

PARAMS = ["jaw", "round", "pucker", "spread", "uplift", "drop", "tuck"]
_P = {p: i for i, p in enumerate(PARAMS)}
JAW_GROUP = {"jaw", "uplift", "drop"}


def _t(jaw=0.0, round=0.0, pucker=0.0, spread=0.0, uplift=0.0, drop=0.0, tuck=0.0):  # noqa: A002
    return np.array([jaw, round, pucker, spread, uplift, drop, tuck], np.float64)


# --- targets ---------------------------------------------------------------------------------
REST = _t()
V_I = _t(jaw=0.14, spread=0.75, uplift=0.15)          # i:
V_i = _t(jaw=0.16, spread=0.55, uplift=0.10)          # i (happy)
V_II = _t(jaw=0.20, spread=0.45, uplift=0.08)         # I
V_I2 = _t(jaw=0.19, spread=0.30)                      # I2 (reduced)
V_E = _t(jaw=0.38, spread=0.45, uplift=0.10)          # e, E
V_ae = _t(jaw=0.56, spread=0.35, drop=0.20, uplift=0.05)  # a (trap)
V_aa = _t(jaw=0.62, spread=0.20, drop=0.20)           # aa (bath)
V_ash = _t(jaw=0.38, spread=0.12)                     # a# (reduced a)
V_A = _t(jaw=0.70, drop=0.15)                         # A: (father)
V_V = _t(jaw=0.48, drop=0.08)                         # V (strut)
V_0 = _t(jaw=0.58, round=0.35, pucker=0.10)           # 0 (lot)
V_O = _t(jaw=0.48, round=0.62, pucker=0.35)           # O: (thought)
V_o = _t(jaw=0.40, round=0.55, pucker=0.30)           # o (start of oU)
V_U = _t(jaw=0.20, round=0.60, pucker=0.45)           # U (foot)
V_u = _t(jaw=0.14, round=0.90, pucker=0.85)           # u: (goose)
V_schwa = _t(jaw=0.30)                                # @
V_3 = _t(jaw=0.30, round=0.30, pucker=0.20)           # 3, 3: (nurse, r-coloured)

C_bilabial = _t(jaw=0.05)
C_f = _t(jaw=0.10, tuck=1.0, uplift=0.25, spread=0.10)
C_th = _t(jaw=0.18, drop=0.15, spread=0.15)
C_s = _t(jaw=0.07, spread=0.45, uplift=0.10)
C_sh = _t(jaw=0.12, pucker=0.65, round=0.25, uplift=0.15)
C_alv = _t(jaw=0.20)
C_vel = _t(jaw=0.22)
C_r = _t(jaw=0.15, round=0.45, pucker=0.35)
C_w = _t(jaw=0.08, round=0.85, pucker=0.85)
C_j = _t(jaw=0.10, spread=0.45)
C_h = _t(jaw=0.25)
C_glottal = _t(jaw=0.15)

# dominance classes: (alpha_jaw_group, alpha_lip_group, time scale)
DOM = {
    "silence": (0.55, 0.55, 1.0),
    "vowel": (1.0, 1.0, 1.0),
    "reduced": (0.6, 0.5, 0.9),
    "bilabial": (1.0, 0.3, 0.8),
    "labiodental": (0.9, 1.0, 0.8),
    "sibilant": (1.0, 0.4, 0.8),
    "postalveolar": (0.9, 0.9, 0.9),
    "dental": (0.7, 0.3, 0.8),
    "alveolar": (0.6, 0.15, 0.8),
    "velar": (0.5, 0.15, 0.8),
    "rhotic": (0.4, 0.8, 1.0),
    "w": (0.5, 1.0, 1.0),
    "j": (0.5, 0.6, 0.9),
    "h": (0.15, 0.1, 0.8),
}

# espeak-ng (English) mnemonics -> list of (target, fraction of the segment) and a class
PHONEMES = {
    "_": ([(REST, 1)], "silence"), "_:": ([(REST, 1)], "silence"), "_!": ([(REST, 1)], "silence"),
    "_|": ([(REST, 1)], "silence"), "": ([(REST, 1)], "silence"),
    "m": ([(C_bilabial, 1)], "bilabial"), "b": ([(C_bilabial, 1)], "bilabial"),
    "p": ([(C_bilabial, 1)], "bilabial"),
    "f": ([(C_f, 1)], "labiodental"), "v": ([(C_f, 1)], "labiodental"),
    "T": ([(C_th, 1)], "dental"), "D": ([(C_th, 1)], "dental"),
    "s": ([(C_s, 1)], "sibilant"), "z": ([(C_s, 1)], "sibilant"),
    "S": ([(C_sh, 1)], "postalveolar"), "Z": ([(C_sh, 1)], "postalveolar"),
    "tS": ([(C_sh, 1)], "postalveolar"), "dZ": ([(C_sh, 1)], "postalveolar"),
    "t": ([(C_alv, 1)], "alveolar"), "d": ([(C_alv, 1)], "alveolar"), "n": ([(C_alv, 1)], "alveolar"),
    "l": ([(C_alv, 1)], "alveolar"), "t#": ([(C_alv, 1)], "alveolar"), "d#": ([(C_alv, 1)], "alveolar"),
    "t2": ([(C_alv, 1)], "alveolar"), "t[": ([(C_alv, 1)], "alveolar"), "n-": ([(C_alv, 1)], "alveolar"),
    "l/": ([(C_alv, 1)], "alveolar"), "l/2": ([(C_alv, 1)], "alveolar"),
    "k": ([(C_vel, 1)], "velar"), "g": ([(C_vel, 1)], "velar"), "N": ([(C_vel, 1)], "velar"),
    "x": ([(C_vel, 1)], "velar"),
    "r": ([(C_r, 1)], "rhotic"), "r-": ([(C_r, 1)], "rhotic"), "*": ([(C_alv, 1)], "alveolar"),
    "w": ([(C_w, 1)], "w"), "W": ([(C_w, 1)], "w"), "w#": ([(C_w, 1)], "w"),
    "j": ([(C_j, 1)], "j"), ";": ([(C_j, 1)], "j"),
    "h": ([(C_h, 1)], "h"), "?": ([(C_glottal, 1)], "h"),
    # vowels
    "i:": ([(V_I, 1)], "vowel"), "i": ([(V_i, 1)], "vowel"), "I": ([(V_II, 1)], "vowel"),
    "I2": ([(V_I2, 1)], "reduced"), "I#": ([(V_I2, 1)], "reduced"),
    "e": ([(V_E, 1)], "vowel"), "E": ([(V_E, 1)], "vowel"),
    "a": ([(V_ae, 1)], "vowel"), "aa": ([(V_aa, 1)], "vowel"), "a#": ([(V_ash, 1)], "reduced"),
    "A:": ([(V_A, 1)], "vowel"), "A@": ([(V_A, 0.7), (V_schwa, 0.3)], "vowel"),
    "V": ([(V_V, 1)], "vowel"), "VR": ([(V_V, 0.6), (C_r, 0.4)], "vowel"),
    "0": ([(V_0, 1)], "vowel"), "O:": ([(V_O, 1)], "vowel"), "O2": ([(V_O, 1)], "vowel"),
    "O@": ([(V_O, 0.7), (V_schwa, 0.3)], "vowel"), "o@": ([(V_O, 0.7), (V_schwa, 0.3)], "vowel"),
    "oU": ([(V_o, 0.55), (V_U, 0.45)], "vowel"), "OI": ([(V_O, 0.55), (V_II, 0.45)], "vowel"),
    "U": ([(V_U, 1)], "vowel"), "u:": ([(V_u, 1)], "vowel"), "U@": ([(V_U, 0.6), (V_schwa, 0.4)], "vowel"),
    "@": ([(V_schwa, 1)], "reduced"), "@2": ([(V_schwa, 1)], "reduced"), "@5": ([(V_schwa, 1)], "reduced"),
    "@L": ([(V_schwa, 0.5), (C_alv, 0.5)], "reduced"), "3": ([(V_3, 1)], "reduced"), "3:": ([(V_3, 1)], "vowel"),
    "eI": ([(V_E, 0.55), (V_II, 0.45)], "vowel"), "e@": ([(V_E, 0.6), (V_schwa, 0.4)], "vowel"),
    "aI": ([(V_ae, 0.55), (V_II, 0.45)], "vowel"), "aI2": ([(V_ae, 0.55), (V_II, 0.45)], "vowel"),
    "aI@": ([(V_ae, 0.4), (V_II, 0.3), (V_schwa, 0.3)], "vowel"),
    "aI3": ([(V_ae, 0.4), (V_II, 0.3), (V_3, 0.3)], "vowel"),
    "aU": ([(V_ae, 0.55), (V_U, 0.45)], "vowel"), "aU@": ([(V_ae, 0.4), (V_U, 0.3), (V_schwa, 0.3)], "vowel"),
    "i@": ([(V_i, 0.6), (V_schwa, 0.4)], "vowel"), "i@3": ([(V_i, 0.5), (V_3, 0.5)], "vowel"),
    "IR": ([(V_II, 0.6), (C_r, 0.4)], "vowel"), "0@": ([(V_0, 0.7), (V_schwa, 0.3)], "vowel"),
}

BILABIALS = {"m", "b", "p"}
_VOWEL_START = set("aeiouAEIOUV@03")


def lookup(name: str):
    """(segments [(target, fraction)], class) for an espeak mnemonic; unknown names fall back on a
    stripped name ("t#" -> "t") and then on vowel / consonant defaults."""
    if name in PHONEMES:
        return PHONEMES[name]
    n = name
    while n and n[-1] in "0123456789#[]-!/';,.^":
        n = n[:-1]
        if n in PHONEMES:
            return PHONEMES[n]
    if name and name[0] in _VOWEL_START:
        return ([(V_schwa, 1)], "reduced")
    return ([(C_alv, 1)], "alveolar")


def known(name: str) -> bool:
    return name in PHONEMES


# ----------------------------------------------------------------------------------------------
# coarticulation
# ----------------------------------------------------------------------------------------------
def build_segments(phonemes):
    """[(start, end, target[P], alpha[P], time_scale)] from [(name, start, end)]."""
    segs = []
    for name, a, b in phonemes:
        if b <= a:
            continue
        parts, cls = lookup(name)
        aj, al, ts = DOM[cls]
        alpha = np.array([aj if p in JAW_GROUP else al for p in PARAMS])
        t0 = a
        for k, (target, frac) in enumerate(parts):
            t1 = b if k == len(parts) - 1 else t0 + frac * (b - a)
            segs.append((t0, t1, target, alpha, ts))
            t0 = t1
    return segs


def coarticulate(phonemes, times, anticipation_s: float, smoothing_s: float, rest_alpha: float = 0.02,
                 shape: float = 1.5) -> np.ndarray:
    """Articulatory parameters [T, P] at `times` (s) by dominance blending."""
    t = np.asarray(times, np.float64)[:, None]
    segs = build_segments(phonemes)
    num = np.zeros((t.shape[0], len(PARAMS)))
    den = np.full((t.shape[0], len(PARAMS)), rest_alpha)
    num += rest_alpha * REST
    for a, b, target, alpha, ts in segs:
        before = np.clip(a - t, 0, None) / (anticipation_s * ts)
        after = np.clip(t - b, 0, None) / (smoothing_s * ts)
        d = np.exp(-((before + after) ** shape))             # [T, 1] (one of the two is 0)
        D = d * alpha[None, :]
        num += D * target[None, :]
        den += D
    return num / den


# ----------------------------------------------------------------------------------------------
# bilabial closures
# ----------------------------------------------------------------------------------------------
def _silence_before(audio, sr, t_event, t_limit, thresh):
    """Length (s) of the low-energy stretch of audio that ends at t_event (2.5 ms windows)."""
    if audio is None:
        return None
    hop = max(1, int(round(0.0025 * sr)))
    end = int(round(t_event * sr))
    lim = max(0, int(round(t_limit * sr)))
    n = 0
    pos = end
    while pos - hop >= lim:
        seg = audio[pos - hop:pos]
        if np.sqrt(np.mean(seg.astype(np.float64) ** 2)) >= thresh:
            break
        n += 1
        pos -= hop
    return n * hop / sr


def closures(phonemes, audio=None, sample_rate: int = 16000, min_len: float = 0.05, merge_gap: float = 0.03):
    """Bilabial closure intervals [(start, end, centre, kind_press, kind_puff)] (seconds), merged.

    centre: the centre of the (merged, not widened) closure; press/puff: 1 for p/b, 0.6/0 for m."""
    thresh = None
    if audio is not None and len(audio):
        hop = max(1, int(round(0.0025 * sample_rate)))
        n = len(audio) // hop
        rms = np.sqrt(np.mean(audio[:n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
        thresh = 0.04 * float(np.percentile(rms, 95)) if n else 0.0
    raw = []
    for i, (name, a, b) in enumerate(phonemes):
        if name not in BILABIALS or b <= a:
            continue
        dur = b - a
        if name == "m":
            c0, c1, press, puff = a, b, 0.6, 0.0
        elif name == "b":
            c0, c1, press, puff = a, b - min(0.015, 0.25 * dur), 1.0, 1.0
        else:  # p: closure precedes the event
            prev = phonemes[i - 1] if i > 0 else None
            if prev is None or prev[0].startswith("_"):
                pre = 0.06
            else:
                s = _silence_before(audio, sample_rate, a, max(prev[1] + 0.01, a - 0.09), thresh) \
                    if thresh is not None else None
                pre = 0.05 if s is None else float(np.clip(s, 0.03, 0.09))
                if prev[0] in BILABIALS:
                    pre = max(pre, min(0.09, a - prev[1]))
            c0, c1, press, puff = a - pre, a + min(0.010, 0.3 * dur), 1.0, 1.0
        raw.append([c0, c1, press, puff])
    raw.sort(key=lambda r: r[0])
    merged = []
    for r in raw:
        if merged and r[0] - merged[-1][1] < merge_gap:
            m = merged[-1]
            m[1] = max(m[1], r[1])
            m[2] = max(m[2], r[2])
            m[3] = max(m[3], r[3])
        else:
            merged.append(list(r))
    out = []
    for c0, c1, press, puff in merged:
        centre = 0.5 * (c0 + c1)
        if c1 - c0 < min_len:
            c0, c1 = centre - 0.5 * min_len, centre + 0.5 * min_len
        out.append((c0, c1, centre, press, puff))
    return out


def closure_track(intervals, times, ramp_in: float, ramp_out: float):
    """c(t) [T], press(t) [T], puff(t) [T]: 1 inside each interval, raised-cosine ramps outside. A ramp
    never takes more than 45 % of the gap to the neighbouring closure, so the lips always open between
    two closures (as they must, to produce the vowel)."""
    t = np.asarray(times, np.float64)
    c = np.zeros_like(t)
    press = np.zeros_like(t)
    puff = np.zeros_like(t)
    iv = sorted(intervals, key=lambda r: r[0])
    for i, (c0, c1, _, pr, pf) in enumerate(iv):
        rin, rout = ramp_in, ramp_out
        if i > 0:
            rin = min(rin, 0.45 * max(c0 - iv[i - 1][1], 0.0))
        if i + 1 < len(iv):
            rout = min(rout, 0.45 * max(iv[i + 1][0] - c1, 0.0))
        v = np.zeros_like(t)
        v[(t >= c0) & (t <= c1)] = 1.0
        if rin > 0:
            pre = (t < c0) & (t > c0 - rin)
            v[pre] = 0.5 * (1 + np.cos(np.pi * (c0 - t[pre]) / rin))
        if rout > 0:
            post = (t > c1) & (t < c1 + rout)
            v[post] = 0.5 * (1 + np.cos(np.pi * (t[post] - c1) / rout))
        c = np.maximum(c, v)
        press = np.maximum(press, v * pr)
        puff = np.maximum(puff, v * pf)
    return c, press, puff
