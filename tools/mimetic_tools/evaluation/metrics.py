"""Evaluation metrics on vertex sequences (metres in, the units named in each function out).

Arrays: offsets / vertices as [T, V, 3] or [T, 3V] (xyz interleaved). Prediction and ground truth
are cropped to the shorter length first (the runtime's frame count from the audio can differ from the
corpus's by a frame or two; CodeTalker crops the prediction to the ground-truth length).

* LVE (FaceFormer / CodeTalker, `cal_metric.py`): mean over frames of max over lip vertices of the
  SQUARED L2 error; pooled over all frames of all clips. Reported in mm^2 (m^2 x 1e6).
* MVE: mean L2 vertex error over all vertices and frames, mm (Imitator's `full_reconstruction_mm`).
* FDD (CodeTalker): per sequence, mean over upper-face vertices of std_t(||offset||^2) for the ground
  truth minus the same for the prediction (signed); mean over sequences. mm^2.
* Lip opening: mean over the rig's inner-lip pairs of ||v_upper - v_lower|| (vertices, not offsets), mm.
* Lip distance at bilabial frames: the lip opening at the clips' `bilabial_frames` (pooled), for the
  prediction and the ground truth.
* Lip-sync DTW (Imitator / 3DiFACE): DTW between the predicted and ground-truth lip-opening curves,
  L1 local cost, no window, total cost divided by the ground-truth length; mean over clips. mm.
"""
from __future__ import annotations

import numpy as np


def as_tv3(x, num_vertices: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 3:
        return a
    if a.ndim != 2 or a.shape[1] % 3:
        raise ValueError(f"expected [T, V, 3] or [T, 3V], got {list(a.shape)}")
    return a.reshape(a.shape[0], -1, 3)


def crop_pair(pred, gt):
    p, g = as_tv3(pred), as_tv3(gt)
    if p.shape[1:] != g.shape[1:]:
        raise ValueError(f"vertex layouts differ: {list(p.shape)} vs {list(g.shape)}")
    T = min(p.shape[0], g.shape[0])
    return p[:T], g[:T]


def lve_frames(pred, gt, lip_vertices) -> np.ndarray:
    """[T]: max over lip vertices of the squared L2 error (m^2)."""
    p, g = crop_pair(pred, gt)
    idx = np.asarray(lip_vertices, np.int64)
    return ((p[:, idx] - g[:, idx]) ** 2).sum(-1).max(-1)


def lve(pred, gt, lip_vertices) -> float:
    return float(lve_frames(pred, gt, lip_vertices).mean())


def vertex_errors(pred, gt) -> np.ndarray:
    """[T, V] L2 errors (m)."""
    p, g = crop_pair(pred, gt)
    return np.sqrt(((p - g) ** 2).sum(-1))


def mve_mm(pred, gt) -> float:
    return float(vertex_errors(pred, gt).mean() * 1000.0)


def fdd(pred_offsets, gt_offsets, upper_face) -> float:
    """One sequence: mean_v std_t(||gt_off||^2) - mean_v std_t(||pred_off||^2), m^2 (signed: > 0 when
    the prediction moves the upper face less than the ground truth)."""
    p, g = crop_pair(pred_offsets, gt_offsets)
    idx = np.asarray(upper_face, np.int64)
    sg = np.std((g[:, idx] ** 2).sum(-1), axis=0).mean()
    sp = np.std((p[:, idx] ** 2).sum(-1), axis=0).mean()
    return float(sg - sp)


def lip_opening(vertices, upper, lower) -> np.ndarray:
    """[T]: mean inner-lip opening (m) of vertex positions [T, V, 3] / [T, 3V]."""
    v = as_tv3(vertices)
    u = np.asarray(upper, np.int64)
    l = np.asarray(lower, np.int64)
    return np.sqrt(((v[:, u] - v[:, l]) ** 2).sum(-1)).mean(-1)


def dtw(a, b) -> float:
    """Classic DTW total cost between 1-D sequences, L1 local cost, steps (1,0), (0,1), (1,1), no window."""
    x = np.asarray(a, np.float64).reshape(-1)
    y = np.asarray(b, np.float64).reshape(-1)
    n, m = len(x), len(y)
    if n == 0 or m == 0:
        raise ValueError("dtw of an empty sequence")
    c = np.abs(x[:, None] - y[None, :])
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        ci = c[i - 1]
        prev = D[i - 1]
        row = D[i]
        # row[j] = ci[j-1] + min(prev[j], prev[j-1], row[j-1]); the row[j-1] term is sequential
        best_diag_up = np.minimum(prev[1:], prev[:-1])
        for j in range(1, m + 1):
            r = row[j - 1]
            b_ = best_diag_up[j - 1]
            row[j] = ci[j - 1] + (r if r < b_ else b_)
    return float(D[n, m])


def lip_sync_dtw(pred_open, gt_open) -> float:
    """DTW(pred, gt) / len(gt), in the curves' units."""
    g = np.asarray(gt_open, np.float64).reshape(-1)
    return dtw(pred_open, g) / len(g)


# ----------------------------------------------------------------------------------------------
# Per clip and summary
# ----------------------------------------------------------------------------------------------
def clip_metrics(pred_offsets, gt_offsets, template, lip_vertices, upper_face, lip_upper, lip_lower,
                 bilabial_frames) -> dict:
    """All metrics of one clip from offsets in metres; returns plain floats / lists (JSON-able),
    including what `summarize` needs to pool over frames."""
    p, g = crop_pair(pred_offsets, gt_offsets)
    T = p.shape[0]
    tmpl = np.asarray(template, np.float64).reshape(1, -1, 3)
    lf = lve_frames(p, g, lip_vertices)
    ve = vertex_errors(p, g)
    po = lip_opening(p + tmpl, lip_upper, lip_lower)
    go = lip_opening(g + tmpl, lip_upper, lip_lower)
    bf = np.asarray(bilabial_frames, np.int64).reshape(-1)
    bf = bf[(bf >= 0) & (bf < T)]
    return {
        "frames": int(T),
        "lve_sum_m2": float(lf.sum()),
        "ve_sum_m": float(ve.mean(axis=1).sum()),
        "fdd_m2": fdd(p, g, upper_face),
        "lip_bilabial_pred_m": [float(x) for x in po[bf]],
        "lip_bilabial_gt_m": [float(x) for x in go[bf]],
        "lip_dtw_m": lip_sync_dtw(po, go),
        "lip_open_pred_m": [float(x) for x in po],
        "lip_open_gt_m": [float(x) for x in go],
        "bilabial_frames": [int(x) for x in bf],
    }


def summarize(clips: list) -> dict:
    """Pool per-clip results: LVE / MVE over all frames, FDD / DTW over clips, lip distance over all
    bilabial frames."""
    if not clips:
        return {}
    frames = sum(c["frames"] for c in clips)
    bp = np.array([x for c in clips for x in c["lip_bilabial_pred_m"]], np.float64)
    bg = np.array([x for c in clips for x in c["lip_bilabial_gt_m"]], np.float64)
    allp = np.array([x for c in clips for x in c["lip_open_pred_m"]], np.float64)
    allg = np.array([x for c in clips for x in c["lip_open_gt_m"]], np.float64)
    out = {
        "clips": len(clips),
        "frames": int(frames),
        "lve_mm2": sum(c["lve_sum_m2"] for c in clips) / frames * 1e6,
        "mve_mm": sum(c["ve_sum_m"] for c in clips) / frames * 1e3,
        "fdd_mm2": float(np.mean([c["fdd_m2"] for c in clips])) * 1e6,
        "lip_dtw_mm": float(np.mean([c["lip_dtw_m"] for c in clips])) * 1e3,
        "bilabial_frames": int(bp.size),
        "lip_bilabial_pred_mm": float(bp.mean() * 1e3) if bp.size else float("nan"),
        "lip_bilabial_gt_mm": float(bg.mean() * 1e3) if bg.size else float("nan"),
        "lip_bilabial_abs_err_mm": float(np.abs(bp - bg).mean() * 1e3) if bp.size else float("nan"),
        "lip_open_mean_pred_mm": float(allp.mean() * 1e3),
        "lip_open_mean_gt_mm": float(allg.mean() * 1e3),
    }
    return out
