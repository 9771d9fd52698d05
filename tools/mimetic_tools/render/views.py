"""The views of a face preview, framed once on the rig's template so a whole clip keeps one camera:

    front          the face from straight ahead
    three_quarter  turned 40 degrees about the vertical axis (the face's left side towards the camera)
    mouth          a front close-up of the lips
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from .camera import Camera, framing

THREE_QUARTER_YAW_DEG = 40.0
# width / height of each view: the face is an upright oval, the mouth a wide one
ASPECT = {"front": 0.8, "three_quarter": 0.8, "mouth": 1.25}
VIEW_SETS = {"face": ("front", "three_quarter"), "mouth": ("mouth",),
             "both": ("front", "three_quarter", "mouth")}


def view_size(name: str, height: int):
    """(width, height) in pixels of a view `height` pixels tall; the width even (H.264 needs it)."""
    return 2 * max(1, round(ASPECT[name] * height / 2)), int(height)


def cameras(template: np.ndarray, lip_vertices: Sequence[int] | None, names: Sequence[str]) -> Dict[str, Camera]:
    t = np.asarray(template, np.float64).reshape(-1, 3)
    out = {}
    for name in names:
        if name == "front":
            out[name] = framing(t, ASPECT[name], 0.0, margin=1.06)
        elif name == "three_quarter":
            out[name] = framing(t, ASPECT[name], THREE_QUARTER_YAW_DEG, margin=1.06)
        elif name == "mouth":
            lips = t[np.asarray(lip_vertices)] if lip_vertices is not None and len(lip_vertices) else t
            out[name] = framing(lips, ASPECT[name], 0.0, margin=1.5)
        else:
            raise ValueError(f"unknown view {name!r}; expected front, three_quarter or mouth")
    return out
