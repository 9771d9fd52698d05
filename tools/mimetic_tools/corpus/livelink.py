"""Live Link Face takes made from the synthetic corpus, to prove personalisation from a phone take
(`mimetic personalize --ref-livelink take.csv:take.wav`) on data whose exact meshes we know.

    mimetic-make-takes --corpus out/corpus --out out/takes --speakers s004,s009 --seed 1

Each clip's rig controls map exactly onto the ARKit-52 basis of the shipped rig
(`mimetic_tools.retarget.arkit`: every ARKit shape is a control times a factor and a region mask,
so the ARKit weights reproduce the rig's offsets); the take is then written as a tracker would:
at 60 fps (linear interpolation of the 30 fps motion), with a timecode that starts `offset` seconds
after the audio, per-value jitter, 8-bit quantisation and the odd dropped frame (the previous row
repeated).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Sequence

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from ..retarget.arkit import ARKIT_52, AUTHORING, JAW_SEAL, jaw_seal_weight
from ..wav import write_wav

HEAD_AND_EYES = ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                 "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]


def rig_to_arkit(weights: np.ndarray, controls: Sequence[str], seal: float) -> np.ndarray:
    """[T, K] rig controls -> [T, 52] ARKit weights with the same offsets through the ARKit basis."""
    out = np.zeros((weights.shape[0], len(ARKIT_52)), np.float64)
    for i, name in enumerate(ARKIT_52):
        if name not in AUTHORING:
            continue
        control, factor, _ = AUTHORING[name]
        if factor == JAW_SEAL:
            factor = seal
        w = weights[:, list(controls).index(control)] / factor
        # A control with both signs maps its positive part to the shape with a positive factor and
        # its negative part to the reversed one (smile / frown, brow up / down).
        out[:, i] = np.where(w > 0, w, 0.0)
    return out


def timecode(t: float, rate: int = 60) -> str:
    total_frames = int(round(t * rate))
    s, f = divmod(total_frames, rate)
    return f"{s // 3600:02d}:{(s // 60) % 60:02d}:{s % 60:02d}:{f:02d}.000"


def write_take(path: str, arkit_30: np.ndarray, offset: float, rng: np.random.Generator, jitter: float = 0.01,
               dropout: float = 0.01, rate: int = 60, start: float = 3600.0) -> None:
    """Writes 30 fps ARKit weights as a Live Link Face CSV at `rate` fps whose first row is `offset`
    seconds into the audio (timecodes count from `start` seconds)."""
    t_end = (arkit_30.shape[0] - 1) / 30
    times = np.arange(offset, t_end, 1 / rate)
    src = np.arange(arkit_30.shape[0]) / 30
    rows = np.stack([np.interp(times, src, arkit_30[:, k]) for k in range(arkit_30.shape[1])], 1)
    rows += jitter * rng.standard_normal(rows.shape) * (rows > 0)
    rows = np.clip(np.round(np.clip(rows, 0, 1) * 255) / 255, 0, 1)
    for i in range(1, len(rows)):
        if rng.random() < dropout:
            rows[i] = rows[i - 1]
    header = ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in ARKIT_52] + HEAD_AND_EYES
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for t, r in zip(times, rows):
            f.write(",".join([timecode(start + t - offset, rate), "61"] + [f"{v:.4f}" for v in r] + ["0"] * 9) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--speakers", default="", help="comma-separated speaker ids (default: the test split)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-offset-ms", type=float, default=150)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    rig_path = os.path.join(a.corpus, "rig.safetensors")
    rig = load_file(rig_path)
    with safe_open(rig_path, "np") as f:
        controls = json.loads(f.metadata()["corpus.rig"])["basis"]
    seal = jaw_seal_weight(rig, rig["basis"].astype(np.float64).reshape(len(controls), -1, 3), controls)
    speakers = json.load(open(os.path.join(a.corpus, "speakers.json")))
    wanted = set(a.speakers.split(",")) if a.speakers else {s["id"] for s in speakers if s["split"] == "test"}
    os.makedirs(a.out, exist_ok=True)
    offsets: Dict[str, float] = {}
    for name in sorted(os.listdir(os.path.join(a.corpus, "clips"))):
        if not name.endswith(".safetensors") or name.split("_")[0] not in wanted:
            continue
        clip = load_file(os.path.join(a.corpus, "clips", name))
        stem = name[:-len(".safetensors")]
        offset = float(rng.uniform(0, a.max_offset_ms / 1000))
        write_take(os.path.join(a.out, stem + ".csv"), rig_to_arkit(clip["weights"].astype(np.float64), controls, seal), offset, rng)
        write_wav(os.path.join(a.out, stem + ".wav"), clip["audio"], 16000)
        offsets[stem] = offset
    json.dump(offsets, open(os.path.join(a.out, "offsets.json"), "w"), indent=1)
    print(f"{a.out}: {len(offsets)} takes (60 fps, offsets up to {a.max_offset_ms:.0f} ms, jitter, 8-bit, dropouts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
