"""The 52 ARKit blendshapes authored on the shipped rig (`models/rig.safetensors`), as a Mimetic
blendshape basis file (`models/arkit52.safetensors`; format in `Sources/MimeticCore/Retarget/Retarget+File.swift`).

    python -m mimetic_tools.retarget.arkit --rig models/rig.safetensors --out models/arkit52.safetensors

The rig has 14 controls; each ARKit shape is made from them where the rig can express it:
one-sided ARKit shapes split a symmetric control with a smooth left/right mask (left and right sum
exactly to the control), the brow control splits into inner and outer parts, mouthFrown is the
smile control reversed, browDown the brow control reversed on one side. The shapes the rig cannot express (the eyes, the jaw's sideways and
forward motion, the nose, the tongue, ...) are all-zero rows: they stay at 0 in every fit.
`AUTHORING` below is the whole mapping; docs/retargeting.md prints it as a table.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, List, Tuple

import numpy as np
from safetensors.numpy import load_file, save_file

#: Apple's 52 ARKit blendshape names (ARFaceAnchor.BlendShapeLocation), in Live Link Face's column order.
ARKIT_52: List[str] = [
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel",
    "mouthPucker", "mouthRight", "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
    "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
]

#: ARKit's mouthClose is relative to jawOpen: at mouthClose = jawOpen = 1 the lips are sealed over a
#: fully open jaw. The rig's lips_close closes the neutral gap at 1, so mouthClose is lips_close
#: scaled by the weight that seals the lips at jaw_open = 1 (14.1 on the shipped rig; computed from
#: the rig's inner-lip pairs). Unscaled, a [0, 1]-bounded fit of the default model leaves 10.6 % of
#: the motion unexplained (its closures need lips_close up to 4.6); scaled, 2.0 %.
JAW_SEAL = -1.0   # placeholder factor: replaced by the computed seal weight

#: ARKit shape -> (rig control, factor, region). Regions: "all", "left"/"right" (the character's
#: left is +x), "inner" (near the midline), "outer-left"/"outer-right". Missing: all zero.
AUTHORING: Dict[str, Tuple[str, float, str]] = {
    "jawOpen": ("jaw_open", 1.0, "all"),
    "mouthClose": ("lips_close", JAW_SEAL, "all"),
    "mouthFunnel": ("mouth_round", 1.0, "all"),
    "mouthPucker": ("lip_pucker", 1.0, "all"),
    "mouthSmileLeft": ("smile_left", 1.0, "all"),
    "mouthSmileRight": ("smile_right", 1.0, "all"),
    "mouthFrownLeft": ("smile_left", -0.6, "all"),
    "mouthFrownRight": ("smile_right", -0.6, "all"),
    "mouthStretchLeft": ("lip_spread_left", 1.0, "all"),
    "mouthStretchRight": ("lip_spread_right", 1.0, "all"),
    "mouthRollLower": ("lower_lip_tuck", 1.0, "all"),
    "mouthPressLeft": ("lips_press", 1.0, "left"),
    "mouthPressRight": ("lips_press", 1.0, "right"),
    "mouthLowerDownLeft": ("lower_lip_drop", 1.0, "left"),
    "mouthLowerDownRight": ("lower_lip_drop", 1.0, "right"),
    "mouthUpperUpLeft": ("upper_lip_raise", 1.0, "left"),
    "mouthUpperUpRight": ("upper_lip_raise", 1.0, "right"),
    "browInnerUp": ("brow_raise", 1.0, "inner"),
    "browOuterUpLeft": ("brow_raise", 1.0, "outer-left"),
    "browOuterUpRight": ("brow_raise", 1.0, "outer-right"),
    "browDownLeft": ("brow_raise", -0.6, "left"),
    "browDownRight": ("brow_raise", -0.6, "right"),
    "cheekPuff": ("cheek_puff", 1.0, "all"),
}

SIDE_BLEND_M = 0.008          # the left/right masks cross over within ±8 mm of the midline
INNER_BROW_M = (0.02, 0.035)  # inner brow up to 20 mm from the midline, outer from 35 mm, blended between


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def region_weights(x: np.ndarray, region: str) -> np.ndarray:
    """Per-vertex weights in [0, 1] of a region, from the template's x (the character's left is +x)."""
    left = _smoothstep(-SIDE_BLEND_M, SIDE_BLEND_M, x)
    inner = 1.0 - _smoothstep(INNER_BROW_M[0], INNER_BROW_M[1], np.abs(x))
    return {"all": np.ones_like(x), "left": left, "right": 1.0 - left, "inner": inner,
            "outer-left": (1.0 - inner) * left, "outer-right": (1.0 - inner) * (1.0 - left)}[region]


def jaw_seal_weight(rig: Dict[str, np.ndarray], basis: np.ndarray, controls: List[str]) -> float:
    """The lips_close weight that seals the inner lips at jaw_open = 1 (mean opening of the lip pairs)."""
    template = rig["template"].astype(np.float64)
    up, lo = rig["lip_upper"], rig["lip_lower"]

    def opening(v: np.ndarray) -> float:
        return float((v[up, 1] - v[lo, 1]).mean())
    g0 = opening(template)
    per_close = opening(template + basis[controls.index("lips_close")]) - g0
    jaw = opening(template + basis[controls.index("jaw_open")]) - g0
    return (g0 + jaw) / -per_close


def build_arkit_basis(rig_path: str) -> Tuple[np.ndarray, List[str]]:
    """The [52, V, 3] ARKit basis on the rig's topology, and its names."""
    rig = load_file(rig_path)
    from safetensors import safe_open
    with safe_open(rig_path, "np") as f:
        controls = json.loads(f.metadata()["corpus.rig"])["basis"]
    template = rig["template"].astype(np.float64)
    basis = rig["basis"].astype(np.float64).reshape(len(controls), -1, 3)
    out = np.zeros((len(ARKIT_52),) + basis.shape[1:], np.float64)
    seal = jaw_seal_weight(rig, basis, controls)
    for i, name in enumerate(ARKIT_52):
        if name not in AUTHORING:
            continue
        control, factor, region = AUTHORING[name]
        if factor == JAW_SEAL:
            factor = seal
        out[i] = factor * basis[controls.index(control)] * region_weights(template[:, 0], region)[:, None]
    return out.astype(np.float32), list(ARKIT_52)


def write_basis(path: str, basis: np.ndarray, names: List[str], source: str) -> None:
    """Writes a Mimetic blendshape basis file (bounds default to [0, 1])."""
    meta = {"mimetic.blendshapes": json.dumps({"names": names, "version": 1, "source": source})}
    save_file({"basis": np.ascontiguousarray(basis, np.float32)}, path, metadata=meta)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rig", default="models/rig.safetensors")
    ap.add_argument("--out", default="models/arkit52.safetensors")
    a = ap.parse_args(argv)
    basis, names = build_arkit_basis(a.rig)
    write_basis(a.out, basis, names, f"ARKit-52 authored on {a.rig} by mimetic_tools.retarget.arkit")
    zero = [n for n, s in zip(names, basis) if not np.any(s)]
    print(f"{a.out}: {len(names)} shapes on {basis.shape[1]} vertices; {len(zero)} stay zero: {', '.join(zero)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
