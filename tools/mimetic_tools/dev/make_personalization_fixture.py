"""Golden gradients for Imitator adaptation, computed with PyTorch autograd (independent of the
Swift closed-form backward pass) on the imitator_zeros fixture model.

Objective (docs: Sources/MimeticCore/Personalization/AdaptationObjective.swift), over clips c:
  L = sum_c sum_t,k (1 + lam*w_t) (y - g)^2 / (sum_c T_c * D)
    + vel * sum_c sum_{t>=1},k ((y_t - y_{t-1}) - (g_t - g_{t-1}))^2 / (sum_c (T_c - 1) * D)
    + mu * sum_c sum_t w_t mean_p |(y_t,up - y_t,lp) - (g_t,up - g_t,lp)|^2 / sum_c sum_t w_t   (lip closure)
  y = basis(MLP(v + s)),  MLP = LeakyReLU(slope) after each hidden Linear; (up, lp) inner-lip vertex
  pairs, each vertex 3 consecutive values of y.
Writes Tests/Fixtures/personalization_gradients.safetensors.
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from .checkout import repository_root

FIX = os.path.join(repository_root(), "Tests", "Fixtures")


def imitator_frame_weights(frames, T):
    """Imitator's lip-contact weights: exp(-k^2/2) for |k| <= 2 around each event, later windows overwrite."""
    w = np.zeros(T, np.float32)
    for e in frames:
        for k in range(-2, 3):
            if 0 <= e + k < T:
                w[e + k] = np.exp(-k * k / 2.0)
    return w


def main():
    model_path = os.path.join(FIX, "imitator_zeros.model.safetensors")
    tensors = load_file(model_path)
    from safetensors import safe_open
    with safe_open(model_path, "np") as f:
        config = json.loads(f.metadata()["mimetic.config"])
    slope = config["imitator"]["leaky_slope"]
    layers = config["imitator"]["mlp_layers"]
    expected = load_file(os.path.join(FIX, "imitator_zeros.expected.safetensors"))
    visemes = expected["decoder"]                       # [T, d] viseme features
    T, d = visemes.shape
    D = tensors["motion_out.weight"].shape[0]
    rng = np.random.default_rng(7)
    split = 30
    clips = [visemes[:split], visemes[split:]]
    targets = [0.5 * rng.standard_normal((c.shape[0], D)).astype(np.float32) for c in clips]
    events = [[5, 7, 20], [3]]
    weights = [imitator_frame_weights(e, c.shape[0]) for e, c in zip(events, clips)]
    style0 = (tensors["style.weight"][:, 1] + 0.1 * rng.standard_normal(d)).astype(np.float32)
    lam, vel, mu = 5.0, 10.0, 2.0
    V = D // 3
    pairs = rng.choice(V, size=(2, 6), replace=False).astype(np.int32)   # [2, k]: upper row, lower row
    up = torch.tensor(np.stack([3 * pairs[0] + c for c in range(3)], -1).reshape(-1), dtype=torch.long)
    lo = torch.tensor(np.stack([3 * pairs[1] + c for c in range(3)], -1).reshape(-1), dtype=torch.long)
    closure_frames = sum(float(w.sum()) for w in weights)

    s = torch.tensor(style0, dtype=torch.float64, requires_grad=True)
    W = torch.tensor(tensors["motion_out.weight"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(tensors["motion_out.bias"], dtype=torch.float64, requires_grad=True)
    mlp = [(torch.tensor(tensors[f"motion_decoder.{i}.weight"], dtype=torch.float64),
            torch.tensor(tensors[f"motion_decoder.{i}.bias"], dtype=torch.float64)) for i in range(layers)]
    total = sum(c.shape[0] for c in clips) * D
    total_vel = sum(c.shape[0] - 1 for c in clips) * D
    loss = torch.zeros((), dtype=torch.float64)
    for v, g, w in zip(clips, targets, weights):
        h = torch.tensor(v, dtype=torch.float64) + s
        for (wi, bi) in mlp:
            h = torch.nn.functional.leaky_relu(h @ wi.T + bi, slope)
        y = h @ W.T + b
        g = torch.tensor(g, dtype=torch.float64)
        e = y - g
        loss = loss + ((1 + lam * torch.tensor(w, dtype=torch.float64)[:, None]) * e * e).sum() / total
        dv = (y[1:] - y[:-1]) - (g[1:] - g[:-1])
        loss = loss + vel * (dv * dv).sum() / total_vel
        gap = (y[:, up] - y[:, lo]) - (g[:, up] - g[:, lo])           # [T, 3k]
        loss = loss + mu * (torch.tensor(w, dtype=torch.float64)[:, None] * gap * gap).sum() / (closure_frames * pairs.shape[1])
    loss.backward()
    out = {
        "clip0_features": clips[0], "clip1_features": clips[1],
        "clip0_target": targets[0], "clip1_target": targets[1],
        "clip0_frame_weights": weights[0], "clip1_frame_weights": weights[1],
        "style": style0,
        "lip_pairs": pairs.astype(np.float32),
        "loss": np.array([loss.item()], np.float32),
        "grad_style": s.grad.numpy().astype(np.float32),
        "grad_weight": W.grad.numpy().astype(np.float32),
        "grad_bias": b.grad.numpy().astype(np.float32),
    }
    path = os.path.join(FIX, "personalization_gradients.safetensors")
    save_file(out, path, metadata={"model": "imitator_zeros", "lip_contact_weight": str(lam), "velocity_weight": str(vel),
                                   "lip_closure_weight": str(mu),
                                   "note": "autograd in float64 on the fixture model's motion decoder"})
    print(f"wrote {path}: loss {loss.item():.6g}, |grad s| {s.grad.norm():.4g}, |grad W| {W.grad.norm():.4g}")


if __name__ == "__main__":
    sys.exit(main())
