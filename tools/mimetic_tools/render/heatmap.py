"""Per-vertex error against a reference motion, shown as vertex colours: 0 mm is the skin colour's
dark-blue end of the scale, `vmax` and above its red end."""
from __future__ import annotations

import numpy as np

# A perceptually ordered scale (dark blue -> teal -> yellow -> red), linear between the stops.
_STOPS = np.array([[0.23, 0.30, 0.55], [0.20, 0.60, 0.62], [0.55, 0.78, 0.40], [0.98, 0.82, 0.25],
                   [0.85, 0.20, 0.15]], np.float64)


def colormap(x: np.ndarray) -> np.ndarray:
    """x in [0, 1] (clipped) -> RGB in 0..1, shape x.shape + (3,)."""
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0) * (len(_STOPS) - 1)
    i = np.minimum(np.floor(x).astype(int), len(_STOPS) - 2)
    f = (x - i)[..., None]
    return (1 - f) * _STOPS[i] + f * _STOPS[i + 1]


def vertex_errors_mm(vertices: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance per frame and vertex, in mm (vertices in metres): [T, V]. The shorter of
    the two sequences sets T."""
    T = min(len(vertices), len(reference))
    return np.linalg.norm(np.asarray(vertices[:T], np.float64) - np.asarray(reference[:T], np.float64), axis=-1) * 1000


def error_scale_mm(errors: np.ndarray) -> float:
    """The top of the colour scale: the 99th percentile of all errors, so a few outliers do not wash
    the picture out (at least 0.1 mm)."""
    return max(float(np.percentile(errors, 99)), 0.1)


def colour_bar(height: int, width: int = 14) -> np.ndarray:
    """A vertical bar, top = vmax: uint8 [height, width, 3]."""
    col = colormap(np.linspace(1.0, 0.0, height))
    return np.repeat((col * 255).round().astype(np.uint8)[:, None], width, axis=1)
