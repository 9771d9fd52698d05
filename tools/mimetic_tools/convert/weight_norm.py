"""wav2vec 2.0's positional conv is weight-normed over the kernel axis (dim=2); model files hold
the folded weight, the training modules (and the originals) the (g, v) pair."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from .checkpoint import as_numpy
from .errors import ConversionError


def fold_weight_norm(g, v) -> np.ndarray:
    """Fold a dim=2 weight norm: ``W[:, :, k] = g[k] * v[:, :, k] / ||v[:, :, k]||`` (torch layout)."""
    g = np.asarray(as_numpy(g), dtype=np.float64)
    v = np.asarray(as_numpy(v), dtype=np.float64)
    if v.ndim != 3:
        raise ConversionError(f"weight norm: expected a 3-d weight_v, got shape {list(v.shape)}")
    K = v.shape[2]
    if g.size != K:
        raise ConversionError(f"weight norm: weight_g has {g.size} values, expected one per kernel tap ({K})")
    norm = np.sqrt((v * v).sum(axis=(0, 1)))  # [K]
    w = v * (g.reshape(K) / norm)[None, None, :]
    return w.astype(np.float32)


def unfold_weight_norm(w: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """A folded weight [out, in, K] (torch layout) as ``(weight_g [1, 1, K], weight_v)``: v = W, g = ||W||
    per tap, so folding it again gives W back."""
    g = np.sqrt((w.astype(np.float64) ** 2).sum(axis=(0, 1), keepdims=True)).astype(np.float32)
    return g, w
