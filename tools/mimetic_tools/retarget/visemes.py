"""Viseme bases on the shipped rig, from ARKit prototypes: the 14 visemes of Meta/Oculus OVRLipSync
(its 15th, `sil`, is the rest: 1 - the sum of the others, clamped at 0) and VRM's five vowels.

    python -m mimetic_tools.retarget.visemes --arkit models/arkit52.safetensors --out-dir models

Each viseme is an ARKit weight prototype (`OVR_PROTOTYPES`, `VRM_PROTOTYPES`) taken through the ARKit
basis to a vertex offset field, so a viseme basis is an ordinary blendshape basis file: the same
bounded fit (`mimetic_retarget_load`, `mimetic animate --weights models/visemes-vrm.safetensors`)
turns a frame's offsets into viseme weights. The prototypes are judgement, not measurement: the
consonants that differ only inside the mouth (DD, kk, nn, TH) look alike on a face, and the fit
shares their weight.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from .arkit import write_basis

#: OVRLipSync's visemes (without sil) as ARKit weights.
OVR_PROTOTYPES: Dict[str, Dict[str, float]] = {
    "PP": {"mouthClose": 0.25, "jawOpen": 0.1, "mouthPressLeft": 0.6, "mouthPressRight": 0.6},
    "FF": {"mouthRollLower": 0.8, "mouthUpperUpLeft": 0.25, "mouthUpperUpRight": 0.25, "jawOpen": 0.08},
    "TH": {"jawOpen": 0.18, "mouthStretchLeft": 0.1, "mouthStretchRight": 0.1},
    "DD": {"jawOpen": 0.22, "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15},
    "kk": {"jawOpen": 0.3, "mouthStretchLeft": 0.15, "mouthStretchRight": 0.15},
    "CH": {"mouthFunnel": 0.6, "mouthPucker": 0.3, "jawOpen": 0.15},
    "SS": {"mouthStretchLeft": 0.45, "mouthStretchRight": 0.45, "jawOpen": 0.06, "mouthSmileLeft": 0.1, "mouthSmileRight": 0.1},
    "nn": {"jawOpen": 0.14, "mouthLowerDownLeft": 0.15, "mouthLowerDownRight": 0.15},
    "RR": {"mouthPucker": 0.5, "mouthFunnel": 0.2, "jawOpen": 0.12},
    "aa": {"jawOpen": 0.7, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
    "E": {"jawOpen": 0.35, "mouthStretchLeft": 0.4, "mouthStretchRight": 0.4},
    "ih": {"jawOpen": 0.2, "mouthStretchLeft": 0.5, "mouthStretchRight": 0.5, "mouthSmileLeft": 0.25, "mouthSmileRight": 0.25},
    "oh": {"jawOpen": 0.45, "mouthFunnel": 0.7},
    "ou": {"mouthPucker": 0.85, "mouthFunnel": 0.45, "jawOpen": 0.15},
}

#: VRM 1.0 expression presets for speech (aa, ih, ou, ee, oh) as ARKit weights.
VRM_PROTOTYPES: Dict[str, Dict[str, float]] = {
    "aa": OVR_PROTOTYPES["aa"], "ih": OVR_PROTOTYPES["ih"], "ou": OVR_PROTOTYPES["ou"],
    "ee": OVR_PROTOTYPES["E"], "oh": OVR_PROTOTYPES["oh"],
}


def viseme_basis(arkit_path: str, prototypes: Dict[str, Dict[str, float]]) -> np.ndarray:
    """[len(prototypes), V, 3]: each prototype's ARKit weights through the ARKit basis."""
    basis = load_file(arkit_path)["basis"].astype(np.float64)
    with safe_open(arkit_path, "np") as f:
        names: List[str] = json.loads(f.metadata()["mimetic.blendshapes"])["names"]
    out = np.zeros((len(prototypes),) + basis.shape[1:], np.float64)
    for i, weights in enumerate(prototypes.values()):
        for name, w in weights.items():
            out[i] += w * basis[names.index(name)]
    return out.astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arkit", default="models/arkit52.safetensors")
    ap.add_argument("--out-dir", default="models")
    a = ap.parse_args(argv)
    for file, protos, what in [("visemes-ovr.safetensors", OVR_PROTOTYPES, "OVRLipSync visemes (sil = 1 - the sum)"),
                               ("visemes-vrm.safetensors", VRM_PROTOTYPES, "VRM vowels")]:
        path = os.path.join(a.out_dir, file)
        write_basis(path, viseme_basis(a.arkit, protos), list(protos),
                    f"{what} from ARKit prototypes on {a.arkit} by mimetic_tools.retarget.visemes")
        print(f"{path}: {len(protos)} shapes ({', '.join(protos)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
