"""Training losses (all in training units: offsets scaled by 1 / RMS, see data.offset_scale).

Imitator (docs/reference-notes.md, "Training losses"):  L = L_rec + L_mbp + 10 L_vel (+ our lip-closure term)
  L_rec = MSE(y_hat, y)
  L_vel = MSE(y_hat[1:] - y_hat[:-1], y[1:] - y[:-1])
  L_mbp = mean_{t,k} lambda * w_t * (y_hat - y)^2,  lambda = 5, w_t = the clip's frame_weights
  L_lip = mean over bilabial frames of mean_p ||v_upper,p - v_lower,p||^2   (vertices = template + offsets;
          penalised toward 0: the lips meet at m/b/p)
FaceFormer: L_rec only. Mimic (the same section): see `mimic_losses`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred, target)


def velocity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if pred.shape[1] < 2:
        return pred.new_zeros(())
    return F.mse_loss(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1])


def mbp_loss(pred: torch.Tensor, target: torch.Tensor, frame_weights: torch.Tensor, lam: float = 5.0) -> torch.Tensor:
    """Imitator's frame-weighted reconstruction: mean_{t,k} lambda * w_t * (pred - target)^2."""
    return (lam * frame_weights.unsqueeze(-1) * (pred - target) ** 2).mean()


def lip_gap_sq(offsets: torch.Tensor, template: torch.Tensor, upper: torch.Tensor, lower: torch.Tensor) -> torch.Tensor:
    """[B, T, 3V] offsets (+ template [3V], same units) -> [B, T] mean squared inner-lip distance."""
    B, T, V3 = offsets.shape
    v = (offsets + template).view(B, T, V3 // 3, 3)
    return ((v[:, :, upper] - v[:, :, lower]) ** 2).sum(-1).mean(-1)


def lip_closure_loss(offsets, template, upper, lower, bilabial: torch.Tensor) -> torch.Tensor:
    """Mean squared inner-lip distance at the bilabial frames (0 when a batch has none)."""
    n = bilabial.sum()
    if float(n) == 0.0:
        return offsets.new_zeros(())
    return (lip_gap_sq(offsets, template, upper, lower) * bilabial).sum() / n


# ----------------------------------------------------------------------------------------------
# Mimic
# ----------------------------------------------------------------------------------------------
def clip_loss(c: torch.Tensor, a: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Frame-level CLIP / InfoNCE between content codes and audio features (B*T frames, negatives are
    all other frames of the batch): 1/2 [CE(logits, I) + CE(logits^T, I)], logits = exp(s) c_hat a_hat^T."""
    ch = F.normalize(c.reshape(-1, c.shape[-1]), dim=-1)
    ah = F.normalize(a.reshape(-1, a.shape[-1]), dim=-1)
    logits = logit_scale.exp() * ch @ ah.t()
    labels = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


def content_contrastive_loss(c_cyc: torch.Tensor, c: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Mimic's ContentContrastiveLoss: each sample flattened and L2-normalised; d_ij = ||c_cyc,i - c_j||;
    L = [sum_{i != j} max(0, m - d_ij)^2 + sum_i d_ii^2] / (2B)."""
    B = c.shape[0]
    x = F.normalize(c_cyc.reshape(B, -1), dim=-1)
    y = F.normalize(c.reshape(B, -1), dim=-1)
    d = torch.cdist(x, y)
    eye = torch.eye(B, dtype=torch.bool, device=d.device)
    pos = (d[eye] ** 2).sum()
    neg = (F.relu(margin - d[~eye]) ** 2).sum()
    return (pos + neg) / (2 * B)


def style_cycle_loss(s_target: torch.Tensor, s_cyc: torch.Tensor) -> torch.Tensor:
    """cosine_embedding_loss(s_tilde.detach(), s_cyc, +1) = mean(1 - cos)."""
    return (1.0 - F.cosine_similarity(s_target.detach(), s_cyc, dim=-1)).mean()


# Mimic's weights (config/HDTF/config.yaml) are for reconstruction MSE in metres^2 on FLAME, which
# converges near 2e-7 per coordinate (FVE 0.55e-6); ours is in units of the offsets' RMS and converges
# near 0.1. Keeping each term's share of the total the same multiplies every weight by about
# 0.1 / 2e-7 = 5e5 (`MIMIC_WEIGHT_SCALE`). Exposed per term on the command line.
MIMIC_ORIGINAL_WEIGHTS = {
    "rec_audio": 1.0, "rec_content": 1.0,
    "clip": 5e-7, "grl": 5e-7, "style_cls": 2.5e-7, "style_cycle": 2e-5, "content_cycle": 5e-6,
}
MIMIC_WEIGHT_SCALE = 5e5


def mimic_default_weights(scale: float = MIMIC_WEIGHT_SCALE) -> dict:
    return {k: (v if k.startswith("rec") else v * scale) for k, v in MIMIC_ORIGINAL_WEIGHTS.items()}


def grl_schedule(progress: float) -> float:
    """The original multiplies the GRL weight by 0.1 after epoch 20 and by a further 0.5 after epoch 40
    (of 150): the same at 20/150 and 40/150 of training."""
    if progress >= 40 / 150:
        return 0.05
    if progress >= 20 / 150:
        return 0.1
    return 1.0
