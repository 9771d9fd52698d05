"""PyTorch reference implementations of FaceFormer, Imitator and Mimic inference.

Each model's `predict(...)` runs the original's decoding loop literally (O(T^2)) and returns a dict
of numpy float32 stages:

  audio_normalized [N]     z-normalised input
  cnn              [L, C]  wav2vec2 CNN output, time-major
  aligned          [Ta, C] after interpolation / BIWI odd-frame drop / identity (Mimic conv)
  encoder          [Ta, H] wav2vec2 last_hidden_state
  audio_features   [Tf, d] after audio_feature_map (Mimic conv: after down_sample, then the map)
  decoder          [T, d]  FaceFormer/Mimic: decoder output fed to the output head;
                           Imitator: viseme features feeding the motion decoder
  offsets          [T, 3V] output minus template
  vertices         [T, 3V] output
  style_code       [d]     Mimic only
"""
from __future__ import annotations

import numpy as np
import torch

from .configs import FULL_SIZE, SMALL, get_config
from .faceformer import FaceFormer
from .imitator import Imitator
from .mimic import Mimic
from .random_init import randomize_, round_to_float16_
from .wav2vec2 import Wav2Vec2, Wav2Vec2Config

FAMILIES = {"faceformer": FaceFormer, "imitator": Imitator, "mimic": Mimic}

__all__ = [
    "FaceFormer", "Imitator", "Mimic", "Wav2Vec2", "Wav2Vec2Config", "FAMILIES", "FULL_SIZE", "SMALL",
    "build_model", "load_original_checkpoint", "run_reference", "randomize_", "round_to_float16_",
]


def family_of(model: torch.nn.Module) -> str:
    for name, cls in FAMILIES.items():
        if isinstance(model, cls):
            return name
    raise TypeError(f"not a reference model: {type(model).__name__}")


def build_model(name: str, small: bool = False, wav2vec: Wav2Vec2Config | None = None, **overrides) -> torch.nn.Module:
    """Build a named configuration (configs.FULL_SIZE or, with small=True, configs.SMALL);
    `overrides` replace constructor arguments (e.g. max_seq_len=6000)."""
    family, w2v, kwargs = get_config(name, small)
    kwargs.update(overrides)
    return FAMILIES[family](wav2vec or w2v, **kwargs).eval()


def _strip_weight_norm_names(sd: dict) -> dict:
    out = {}
    for k, v in sd.items():
        k = k.replace("conv.parametrizations.weight.original0", "conv.weight_g")
        k = k.replace("conv.parametrizations.weight.original1", "conv.weight_v")
        out[k] = v
    return out


def load_original_checkpoint(model: torch.nn.Module, path: str) -> torch.nn.Module:
    """Load an original checkpoint (FaceFormer .pth, Imitator Lightning .ckpt, Mimic Epoch_N.pth)
    into a reference model. Keys the reference does not have (Mimic's content encoder, heads,
    dead transformer, logit_scale) are ignored; every reference parameter must be present."""
    family = family_of(model)
    if family == "imitator":
        from ..checkpoints import load_lightning_checkpoint

        ck = load_lightning_checkpoint(path)
        sd = {k[len("nn_model."):]: v for k, v in ck["state_dict"].items() if k.startswith("nn_model.")}
    else:
        ck = torch.load(path, map_location="cpu", weights_only=True)
        sd = ck["model"] if family == "mimic" else ck
    sd = _strip_weight_norm_names(sd)
    own = model.state_dict()
    missing = [k for k in own if k not in sd and not k.endswith(".pe")]
    if missing:
        raise KeyError(f"checkpoint lacks {len(missing)} keys, e.g. {missing[:5]}")
    model.load_state_dict({k: sd[k] for k in own if k in sd}, strict=False)
    return model.eval()


def run_reference(
    family_case_or_model,
    audio,
    *,
    style=1,
    template=None,
    style_offsets=None,
    init_state=None,
    checkpoint: str | None = None,
    small: bool = False,
    seed: int | None = None,
    **overrides,
) -> dict:
    """Run a reference model on raw 16 kHz audio and return its stages (numpy float32).

    family_case_or_model: a reference nn.Module, or a config name from configs.FULL_SIZE
      (small=True: configs.SMALL), built with `overrides` as constructor arguments.
    checkpoint: original checkpoint to load (name mode); seed: randomise instead (name mode).
    style: FaceFormer/Imitator style, an index or a one-hot vector.
    template: [3V] or [V, 3] (default zeros).
    style_offsets ([Ls, 3V], default zeros of 150 frames) / init_state ([3V], default zeros): Mimic.
    """
    if isinstance(family_case_or_model, torch.nn.Module):
        model = family_case_or_model
    else:
        model = build_model(family_case_or_model, small=small, **overrides)
        if checkpoint is not None:
            load_original_checkpoint(model, checkpoint)
        elif seed is not None:
            randomize_(model, seed)
    family = family_of(model)
    V3 = model.vertex_dim
    template = np.zeros(V3, np.float32) if template is None else np.asarray(template, np.float32).reshape(-1)
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if family == "mimic":
        if style_offsets is None:
            style_offsets = np.zeros((150, V3), np.float32)
        if init_state is None:
            init_state = np.zeros(V3, np.float32)
        return model.predict(audio, style_offsets, init_state, template)
    if np.ndim(style) == 0:
        one_hot = np.zeros(model.n_styles, np.float32)
        one_hot[int(style)] = 1.0
    else:
        one_hot = np.asarray(style, np.float32).reshape(-1)
    return model.predict(audio, one_hot, template)
