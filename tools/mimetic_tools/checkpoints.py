"""Checkpoint writers in the ORIGINAL file layouts (for converter tests and parity fixtures).

* FaceFormer `.pth`: a plain `state_dict()` (no prefix) incl. the `PPE.pe` buffer; the pos-conv
  weight norm as `weight_g`/`weight_v` (torch < 2.1, `weight_norm="old"`) or as
  `parametrizations.weight.original0/1` (`weight_norm="new"`).
* Imitator Lightning `.ckpt` (PyTorch Lightning 1.0.8 layout): `epoch`, `global_step`,
  `pytorch-lightning_version`, `callbacks` keyed by pickled CLASSES
  (`pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint`, + `EarlyStopping` for the
  personalised variant), `optimizer_states`, `lr_schedulers`, `state_dict` (every key prefixed
  `nn_model.`, incl. `nn_model.PPE.pe` [600, 1, d]), `hparams_name`, `hyper_parameters` (optimiser
  settings only — no architecture, as in the real files). The class references are produced by
  registering stub modules in `sys.modules` only while saving, so loading needs an unpickler that
  maps them to stubs (`load_lightning_checkpoint`); `torch.load(weights_only=True)` refuses it.
* Mimic `Epoch_N.pth`: `{"params": <nested config as config/HDTF/config.yaml>, "model": state_dict
  incl. content encoder, classifier heads, `logit_scale` and dead
  `decoder.transformer_decoder.{encoder,decoder}.*` tensors, "optimizer": Adam state,
  "start_epoch": N}`.

`zip_root="archive"` writes the records under `archive/` as old torch versions did (docs/reference-notes.md, pitfall 3);
by default torch names the root after the file.
"""
from __future__ import annotations

import copy
import math
import os
import pickle
import shutil
import sys
import tempfile
import types
import warnings
from collections import OrderedDict
from contextlib import contextmanager

import torch
import torch.nn as nn

POS_CONV_OLD = ("pos_conv_embed.conv.weight_g", "pos_conv_embed.conv.weight_v")
POS_CONV_NEW = (
    "pos_conv_embed.conv.parametrizations.weight.original0",
    "pos_conv_embed.conv.parametrizations.weight.original1",
)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _rename_weight_norm(sd: "OrderedDict[str, torch.Tensor]", weight_norm: str) -> OrderedDict:
    if weight_norm not in ("old", "new"):
        raise ValueError(f"weight_norm must be 'old' or 'new', not {weight_norm!r}")
    out = OrderedDict()
    for k, v in sd.items():
        if weight_norm == "new":
            for old, new in zip(POS_CONV_OLD, POS_CONV_NEW):
                if k.endswith(old):
                    k = k[: -len(old)] + new
        out[k] = v.detach().clone()
    return out


def _torch_save(obj, path: str, zip_root: str | None = None) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if zip_root is None:
        torch.save(obj, path)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = os.path.join(tmp, zip_root)
            torch.save(obj, tmp_path)
            shutil.move(tmp_path, path)
    return path


def _adam_state(
    params: list[torch.Tensor],
    step: int,
    seed: int,
    tensor_step: bool,
    max_states: int | None = None,
    has_state: list[bool] | None = None,
) -> dict:
    """A plausible Adam `state_dict()` for `params` (moments are small random tensors); parameters
    that never got a gradient (`has_state` False) have no state entry."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for i, p in enumerate(params):
        if max_states is not None and len(state) >= max_states:
            break
        if has_state is not None and not has_state[i]:
            continue
        state[i] = {
            "step": torch.tensor(float(step)) if tensor_step else step,
            "exp_avg": torch.randn(p.shape, generator=gen) * 1e-4,
            "exp_avg_sq": torch.rand(p.shape, generator=gen) * 1e-8,
        }
    group = {
        "lr": 1e-4,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "amsgrad": False,
        "params": list(range(len(params))),
    }
    if tensor_step:  # torch 1.13 style group
        group.update({"maximize": False, "foreach": None, "capturable": False, "differentiable": False, "fused": None})
    return {"state": state, "param_groups": [group]}


# ----------------------------------------------------------------------------------------------
# FaceFormer
# ----------------------------------------------------------------------------------------------
def faceformer_state_dict(model: nn.Module, weight_norm: str = "old") -> OrderedDict:
    return _rename_weight_norm(model.state_dict(), weight_norm)


def save_faceformer(model: nn.Module, path: str, weight_norm: str = "old", zip_root: str | None = None) -> str:
    """`vocaset.pth` / `biwi.pth` layout: torch.save(model.state_dict())."""
    return _torch_save(faceformer_state_dict(model, weight_norm), path, zip_root)


# ----------------------------------------------------------------------------------------------
# Imitator (PyTorch Lightning 1.0.8)
# ----------------------------------------------------------------------------------------------
_PL_CLASSES = {
    "pytorch_lightning.callbacks.model_checkpoint": "ModelCheckpoint",
    "pytorch_lightning.callbacks.early_stopping": "EarlyStopping",
}


@contextmanager
def _stub_lightning_modules():
    """Temporarily register stub `pytorch_lightning.*` modules whose classes pickle by reference."""
    names = ["pytorch_lightning", "pytorch_lightning.callbacks"] + list(_PL_CLASSES)
    saved = {n: sys.modules.get(n) for n in names}
    real = saved["pytorch_lightning"] is not None
    classes = {}
    try:
        if real:  # the real package is installed: use its classes
            import importlib

            for mod, cls in _PL_CLASSES.items():
                classes[cls] = getattr(importlib.import_module(mod), cls)
        else:
            for n in names:
                sys.modules[n] = types.ModuleType(n)
            sys.modules["pytorch_lightning"].callbacks = sys.modules["pytorch_lightning.callbacks"]
            for mod, cls in _PL_CLASSES.items():
                c = type(cls, (object,), {"__module__": mod, "__qualname__": cls})
                setattr(sys.modules[mod], cls, c)
                setattr(sys.modules["pytorch_lightning.callbacks"], mod.rsplit(".", 1)[-1], sys.modules[mod])
                classes[cls] = c
        yield classes
    finally:
        if not real:
            for n, m in saved.items():
                if m is None:
                    sys.modules.pop(n, None)
                else:
                    sys.modules[n] = m


def imitator_state_dict(model: nn.Module, weight_norm: str = "old") -> OrderedDict:
    sd = _rename_weight_norm(model.state_dict(), weight_norm)
    return OrderedDict(("nn_model." + k, v) for k, v in sd.items())


def personalize_imitator(model: nn.Module, seed: int = 1234, slot: int = 2) -> nn.Module:
    """A copy of `model` as the style adaptation would leave it: style column `slot` and the motion
    decoder's final layer changed, everything else identical."""
    out = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = out.obj_vector.weight
        w[:, slot] = torch.randn(w.shape[0], generator=gen)
        fl = out.vertice_map_r.decoder.final_out_layer
        fl.weight.copy_(torch.randn(fl.weight.shape, generator=gen) / math.sqrt(fl.weight.shape[1]))
        fl.bias.copy_(torch.randn(fl.bias.shape, generator=gen) * 0.1)
    return out


def save_imitator_ckpt(
    model: nn.Module,
    path: str,
    variant: str = "generalized",
    epoch: int | None = None,
    global_step: int | None = None,
    weight_norm: str = "old",
    zip_root: str | None = None,
    seed: int = 0,
) -> str:
    """Lightning 1.0.8 `.ckpt`. variant: "generalized" (all parameters trained, ModelCheckpoint on
    train loss) or "personalized" (stage-2 adaptation: only obj_vector + final_out_layer in the
    optimiser, EarlyStopping callback state)."""
    if variant not in ("generalized", "personalized"):
        raise ValueError(variant)
    sd = imitator_state_dict(model, weight_norm)
    personalized = variant == "personalized"
    epoch = epoch if epoch is not None else (2 if personalized else 97)
    global_step = global_step if global_step is not None else (epoch * (4 if personalized else 314))
    run = "subj0024_stg02_04seq" if personalized else "generalized_model_mbp_vel"

    named = list(model.named_parameters())
    if personalized:
        opt_params = [
            p for n, p in named
            if n == "obj_vector.weight" or n.startswith("vertice_map_r.decoder.final_out_layer.")
        ]
        has_state = None
        monitor = "val/net_loss"
    else:
        # configure_optimizers passes every parameter; the frozen CNN never gets a state
        opt_params = [p for _, p in named]
        has_state = ["feature_extractor" not in n and n != "audio_encoder.masked_spec_embed" for n, _ in named]
        monitor = "train/rec_loss"

    with _stub_lightning_modules() as cls:
        callbacks = {
            cls["ModelCheckpoint"]: {
                "best_model_score": torch.tensor(0.00123),
                "best_model_path": f"/logs/{run}/checkpoints/epoch={epoch - 1}.ckpt",
            }
        }
        if personalized:
            callbacks[cls["EarlyStopping"]] = {
                "wait_count": 0,
                "stopped_epoch": 0,
                "best_score": torch.tensor(0.00123),
                "patience": 50,
            }
        ckpt = {
            "epoch": epoch,
            "global_step": global_step,
            "pytorch-lightning_version": "1.0.8",
            "callbacks": callbacks,
            "optimizer_states": [_adam_state(opt_params, global_step, seed, tensor_step=False, has_state=has_state)],
            "lr_schedulers": [
                {
                    "factor": 0.85,
                    "min_lrs": [1e-9],
                    "patience": 5000,
                    "verbose": False,
                    "cooldown": 0,
                    "cooldown_counter": 0,
                    "mode": "min",
                    "threshold": 1e-4,
                    "threshold_mode": "rel",
                    "best": 0.00123,
                    "num_bad_epochs": 3,
                    "mode_worse": float("inf"),
                    "eps": 1e-8,
                    "last_epoch": epoch,
                    "_last_lr": [1e-4],
                }
            ],
            "state_dict": sd,
            "hparams_name": "kwargs",
            "hyper_parameters": {
                "monitor": monitor,
                "optim_params": {"lr": 1e-4, "weight_decay": 0, "lr_sch_factor": 0.85, "lr_sch_patience": 5000},
            },
        }
        return _torch_save(ckpt, path, zip_root)


class _Stub:
    """Inert stand-in for classes of packages that are not installed."""

    def __init__(self, *a, **k):
        pass

    def __setstate__(self, state):
        self.__dict__["_state"] = state


def _stub_class(module: str, name: str):
    return type(name, (_Stub,), {"__module__": module, "__qualname__": name})


class _StubUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] in ("pytorch_lightning", "omegaconf"):
            return _stub_class(module, name)
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return _stub_class(module, name)


_stub_pickle_module = types.SimpleNamespace(Unpickler=_StubUnpickler, load=pickle.load, __name__="stub_pickle")


def load_lightning_checkpoint(path: str) -> dict:
    """Load a Lightning checkpoint without pytorch_lightning: unknown classes become stubs."""
    return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_stub_pickle_module)


# ----------------------------------------------------------------------------------------------
# Mimic
# ----------------------------------------------------------------------------------------------
def mimic_params(model: nn.Module, train_ids: int = 150, exp_name: str | None = None) -> dict:
    """The `params` entry: the parsed config/HDTF/config.yaml (sections DATA, NETWORK, TRAIN,
    LOSS), with the network section describing `model`."""
    se = model.style_encoder
    layer0 = se.transformer_encoder.layers[0]
    dec_layers = model.decoder.transformer_decoder.layers
    align = model.align
    w2v = model.audio_encoder.audio_encoder.config
    exp_name = exp_name or (
        "exp-AR-dim{}-{}IN-style_cls-grl-clip_loss-cycle_style_content-style_SALN".format(
            model.d_model, "align_conv-" if align == "conv" else ""
        )
    )
    return {
        "DATA": {
            "dataset": "HDTF",
            "data_root": "./3D-HDTF",
            "audio_path": "audio_16000Hz_from_video",
            "text_path": "sentencestext",
            "codedict_path": "spectre_processed_25fps_16kHz",
            "video_list_file": "video_list_id_framenum-train_test.txt",
            "template_file": "templates.pkl",
            "FLAME_templates": "FLAME_templates/FLAME_sample.ply",
            "FLAME_template_HDTF": "FLAME_HDTF_sample.npy",
            "landmark_embedding": "external/spectre/data/landmark_embedding.npy",
            "lip_verts": "FLAME_Regions/lve.txt",
            "id_num_all": 220,
            "train_ids": train_ids,
            "val_ids": 10,
            "val_video_list": "video_list_id_framenum-val.txt",
            "video_fps": int(model.fps) if float(model.fps).is_integer() else model.fps,
            "audio_fps": 50,
            "vocab_size": 32,
            "sentence_num": 40,
            "window": 150,
            "clip_overlap": True,
            "num_workers": 4,
        },
        "NETWORK": {
            "motion_dim": model.vertex_dim,
            "feature_dim": model.d_model,
            "num_conv_layers": len(se.conv_layers),
            "hidden_size": se.feature_projection.projection.out_features,
            "nhead_encoder": layer0.self_attn.num_heads,
            "dim_feedforward": layer0.linear1.out_features,
            "encoder_layers": len(se.transformer_encoder.layers),
            "style_pooling": se.pooling,
            "style_pretrain": None,
            "freeze_style_encoder": False,
            "content_norm": "IN",
            "content_attention": True,
            "wav2vec2model": "facebook/wav2vec2-base-960h",
            "audio_hidden_size": w2v.hidden_size,
            "freeze_TCN": True,
            "freeze_audio_encoder": False,
            "audio_feature_align": align,
            "style_fuse": "SALN",
            "decoder": {
                "nhead": dec_layers[0].self_attn.num_heads,
                "dim_feedforward": dec_layers[0].linear1.out_features,
                "num_layers": len(dec_layers),
            },
            "decoder_NAR": {
                "max_seq_len": 600,
                "decoder_layers": 4,
                "decoder_hidden": 64,
                "decoder_head": 4,
                "fft_conv1d_filter_size": 1024,
                "fft_conv1d_kernel_size": [9, 1],
            },
        },
        "TRAIN": {
            "output": "./experiments",
            "exp_name": exp_name,
            "batch_size": 6,
            "base_lr": 0.0001,
            "lr_sch_gamma": 0.1,
            "lr_sch_epoch": None,
            "start_epoch": 0,
            "epochs": 150,
            "save_freq": 5,
            "print_freq": 100,
            "visual_tsne": True,
            "with_val": True,
            "val_epoch": 5,
            "continue_ckpt": None,
        },
        "LOSS": {
            "recon_loss": {"use": True, "w": 1},
            "content_code_sim_loss": {"use": False, "w": 1.0e-6},
            "content_contrastive_loss": {"use": False, "w": 1.0e-5, "margin": 1.0},
            "content_clip_loss": {"use": True, "w": 5.0e-7},
            "content_ctc_loss": {"use": False, "w": 1.0e-8},
            "content_grl_loss": {"use": True, "use_grl": True, "w": 5.0e-7, "alpha": 1.0, "w_decay": 20},
            "style_class_loss": {"use": True, "use_metrics": False, "w": 2.5e-7},
            "content_class_loss": {"use": False, "w": 1.0e-7},
            "style_cycle_loss": {"use": True, "sim": "cos", "w": 2.0e-5},
            "content_cycle_loss": {"use": True, "w": 5.0e-6},
        },
    }


def _mimic_extras(model: nn.Module, train_ids: int, seed: int, dead_d_model: int = 16):
    """Tensors present in a real Mimic checkpoint but unused at audio inference."""
    from .reference.mimic import StyleEncoder
    from .reference.random_init import randomize_

    se = model.style_encoder
    d = model.d_model
    layer0 = se.transformer_encoder.layers[0]
    content = StyleEncoder(
        model.vertex_dim,
        d,
        se.feature_projection.projection.out_features,
        len(se.conv_layers),
        len(se.transformer_encoder.layers),
        layer0.self_attn.num_heads,
        layer0.linear1.out_features,
    )
    randomize_(content, seed + 1)
    content_sd = OrderedDict(
        ("content_encoder." + k, v)
        for k, v in content.state_dict().items()
        if ".layer_norm." not in k  # InstanceNorm (no affine) instead of LayerNorm
    )
    heads = nn.ModuleDict(
        {
            "content_grl_head": nn.ModuleDict({"class_head": nn.Linear(d, train_ids)}),
            "style_class_head": nn.ModuleDict({"class_head": nn.Linear(d, train_ids)}),
        }
    )
    randomize_(heads, seed + 2)
    # the dead nn.Transformer registered by Mimic's TransformerDecoder(nn.Transformer) (small here)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nested-tensor notice of the default (batch_first=False) layout
        dead = nn.Transformer(
            d_model=dead_d_model,
            nhead=2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=2 * dead_d_model,
        )
    randomize_(dead, seed + 3)
    dead_sd = OrderedDict(("decoder.transformer_decoder." + k, v) for k, v in dead.state_dict().items())
    return content_sd, heads.state_dict(), dead_sd


def mimic_state_dict(model: nn.Module, weight_norm: str = "old", train_ids: int = 150, seed: int = 0) -> OrderedDict:
    sd = _rename_weight_norm(model.state_dict(), weight_norm)
    content_sd, heads_sd, dead_sd = _mimic_extras(model, train_ids, seed)
    out = OrderedDict()
    out["logit_scale"] = torch.tensor(math.log(1 / 0.07) + 0.0123)  # own parameter comes first
    out.update(content_sd)
    dead_inserted = False
    for k, v in sd.items():
        if not dead_inserted and k.startswith("decoder.transformer_decoder."):
            out.update(dead_sd)  # nn.Transformer's submodules are registered before `layers`
            dead_inserted = True
        out[k] = v
    out.update((k, v.detach().clone()) for k, v in heads_sd.items())
    return out


def save_mimic(
    model: nn.Module,
    path: str,
    epoch: int = 125,
    weight_norm: str = "old",
    train_ids: int = 150,
    zip_root: str | None = None,
    seed: int = 0,
) -> str:
    """`Epoch_N.pth` layout. `path` may be a directory (then `Epoch_{epoch}.pth` inside it)."""
    if os.path.isdir(path):
        path = os.path.join(path, f"Epoch_{epoch}.pth")
    sd = mimic_state_dict(model, weight_norm, train_ids, seed)
    trainable = [v for k, v in sd.items() if ".feature_extractor." not in k and not k.endswith(".pe")]
    state = {
        "params": mimic_params(model, train_ids),
        "model": sd,
        "optimizer": _adam_state(trainable, epoch * 100, seed, tensor_step=True, max_states=4),
        "start_epoch": epoch,
    }
    return _torch_save(state, path, zip_root)
