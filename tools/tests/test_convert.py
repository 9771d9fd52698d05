"""Tests for mimetic_tools.convert (checkpoint -> Mimetic safetensors).

Random state dicts are built in each original layout (small sizes), written with torch.save, converted,
and every canonical tensor is compared with an independently computed transform of its source.
"""

import json
import math
import os
import pickle
import struct
import subprocess
import sys
import types
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn


from mimetic_tools import convert as C
from mimetic_tools.cli import convert as convert_cli

VOCA = C.VOCASET_TRAIN_SUBJECTS
BIWI = ["F2", "F3", "F4", "M3", "M4", "M5"]

# Small architecture used throughout.
CONV = [(16, 10), (16, 3), (16, 2)]
H, FF, NL = 64, 48, 2
POS_K, POS_G = 4, 4
D, DFF = 16, 32
V = 10  # vertices -> 3V = 30


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)


def rnd(*shape):
    return torch.randn(*shape)


# -------------------------------------------------------------------------------------------------
# Builders in the originals' layouts. `exp` collects the expected canonical tensors.
# -------------------------------------------------------------------------------------------------

def weight_normed_pos_conv(hidden, k, groups, naming):
    conv = nn.Conv1d(hidden, hidden, k, padding=k // 2, groups=groups)
    if naming == "old":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conv = torch.nn.utils.weight_norm(conv, name="weight", dim=2)
        with torch.no_grad():
            conv.weight_g.copy_(torch.rand_like(conv.weight_g) + 0.5)
            conv.weight_v.copy_(torch.randn_like(conv.weight_v))
            conv.bias.copy_(torch.randn_like(conv.bias))
        conv(torch.zeros(1, hidden, 2 * k))  # the forward pre-hook recomputes .weight
        weight = conv.weight.detach().clone()
    else:
        conv = torch.nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        with torch.no_grad():
            conv.parametrizations.weight.original0.copy_(torch.rand_like(conv.parametrizations.weight.original0) + 0.5)
            conv.parametrizations.weight.original1.copy_(torch.randn_like(conv.parametrizations.weight.original1))
            conv.bias.copy_(torch.randn_like(conv.bias))
        weight = conv.weight.detach().clone()
    sd = {k: v.detach().clone() for k, v in conv.state_dict().items()}
    return sd, weight


def wav2vec_sd(prefix, exp, naming="old", hidden=H, conv=CONV, layer_norm_variant=False):
    sd = OrderedDict()
    fe = prefix + "feature_extractor.conv_layers."
    c_in = 1
    for i, (c, k) in enumerate(conv):
        w = rnd(c, c_in, k)
        sd[f"{fe}{i}.conv.weight"] = w
        exp[f"encoder.conv.{i}.weight"] = w.permute(0, 2, 1)
        if layer_norm_variant:
            b = rnd(c)
            sd[f"{fe}{i}.conv.bias"] = b
            exp[f"encoder.conv.{i}.bias"] = b
        if i == 0 or layer_norm_variant:
            for p in ("weight", "bias"):
                t = rnd(c)
                sd[f"{fe}{i}.layer_norm.{p}"] = t
                exp[f"encoder.conv.{i}.norm.{p}"] = t
        c_in = c
    for p in ("weight", "bias"):
        t = rnd(c_in)
        sd[prefix + f"feature_projection.layer_norm.{p}"] = t
        exp[f"encoder.projection.norm.{p}"] = t
    sd[prefix + "feature_projection.projection.weight"] = t = rnd(hidden, c_in)
    exp["encoder.projection.weight"] = t
    sd[prefix + "feature_projection.projection.bias"] = t = rnd(hidden)
    exp["encoder.projection.bias"] = t
    pos, folded = weight_normed_pos_conv(hidden, POS_K, POS_G, naming)
    for k, v in pos.items():
        sd[prefix + "encoder.pos_conv_embed.conv." + k] = v
    exp["encoder.pos_conv.weight"] = folded.permute(0, 2, 1)
    exp["encoder.pos_conv.bias"] = pos["bias"]
    for p in ("weight", "bias"):
        sd[prefix + f"encoder.layer_norm.{p}"] = t = rnd(hidden)
        exp[f"encoder.norm.{p}"] = t
    for i in range(NL):
        s = f"{prefix}encoder.layers.{i}."
        for src, dst in (("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"), ("out_proj", "o")):
            sd[f"{s}attention.{src}.weight"] = t = rnd(hidden, hidden)
            exp[f"encoder.layers.{i}.attention.{dst}.weight"] = t
            sd[f"{s}attention.{src}.bias"] = t = rnd(hidden)
            exp[f"encoder.layers.{i}.attention.{dst}.bias"] = t
        for src, dst, shp in (("layer_norm", "norm1", (hidden,)), ("final_layer_norm", "norm2", (hidden,))):
            for p in ("weight", "bias"):
                sd[f"{s}{src}.{p}"] = t = rnd(*shp)
                exp[f"encoder.layers.{i}.{dst}.{p}"] = t
        sd[f"{s}feed_forward.intermediate_dense.weight"] = t = rnd(FF, hidden)
        exp[f"encoder.layers.{i}.ffn.up.weight"] = t
        sd[f"{s}feed_forward.intermediate_dense.bias"] = t = rnd(FF)
        exp[f"encoder.layers.{i}.ffn.up.bias"] = t
        sd[f"{s}feed_forward.output_dense.weight"] = t = rnd(hidden, FF)
        exp[f"encoder.layers.{i}.ffn.down.weight"] = t
        sd[f"{s}feed_forward.output_dense.bias"] = t = rnd(hidden)
        exp[f"encoder.layers.{i}.ffn.down.bias"] = t
    sd[prefix + "masked_spec_embed"] = rnd(hidden).uniform_()
    return sd


def randomised(module):
    return OrderedDict((k, torch.randn_like(v)) for k, v in module.state_dict().items())


def attn_exp(exp, dst, src_sd, s):
    w, b = src_sd[f"{s}.in_proj_weight"], src_sd[f"{s}.in_proj_bias"]
    for (q, wq), bq in zip(zip("qkv", w.chunk(3, 0)), b.chunk(3, 0)):
        exp[f"{dst}.{q}.weight"] = wq
        exp[f"{dst}.{q}.bias"] = bq
    exp[f"{dst}.o.weight"] = src_sd[f"{s}.out_proj.weight"]
    exp[f"{dst}.o.bias"] = src_sd[f"{s}.out_proj.bias"]


def decoder_sd(prefix, exp, d=D, ffn=DFF, saln=False, layers=1):
    sd = OrderedDict()
    for l in range(layers):
        layer = randomised(nn.TransformerDecoderLayer(d, 4, ffn, batch_first=True))
        if saln:
            for j in (1, 2, 3):
                del layer[f"norm{j}.weight"], layer[f"norm{j}.bias"]
                layer[f"norm{j}.style.affine.weight"] = rnd(2 * d, d)
                layer[f"norm{j}.style.affine.bias"] = rnd(2 * d)
        dst = f"decoder.layers.{l}"
        attn_exp(exp, f"{dst}.self_attn", layer, "self_attn")
        attn_exp(exp, f"{dst}.cross_attn", layer, "multihead_attn")
        for src, dd in (("linear1", "ffn.up"), ("linear2", "ffn.down")):
            exp[f"{dst}.{dd}.weight"] = layer[f"{src}.weight"]
            exp[f"{dst}.{dd}.bias"] = layer[f"{src}.bias"]
        for j in (1, 2, 3):
            for p in ("weight", "bias"):
                if saln:
                    exp[f"{dst}.norm{j}.style.{p}"] = layer[f"norm{j}.style.affine.{p}"]
                else:
                    exp[f"{dst}.norm{j}.{p}"] = layer[f"norm{j}.{p}"]
        for k, v in layer.items():
            sd[f"{prefix}{l}.{k}"] = v
    return sd


def ppe_table(d, period, max_seq_len=600):
    pe = torch.zeros(period, d)
    position = torch.arange(0, period, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    repeat = max_seq_len // period + 1
    return pe.unsqueeze(0).repeat(1, repeat, 1)


def faceformer_sd(dataset="vocaset", naming="old", n_styles=None, with_ppe=True, v3=3 * V):
    exp = OrderedDict()
    sd = wav2vec_sd("audio_encoder.", exp, naming)
    sd["audio_feature_map.weight"] = t = rnd(D, H)
    exp["audio_map.weight"] = t
    sd["audio_feature_map.bias"] = t = rnd(D)
    exp["audio_map.bias"] = t
    sd["vertice_map.weight"] = t = rnd(D, v3)
    exp["motion_in.weight"] = t
    sd["vertice_map.bias"] = t = rnd(D)
    exp["motion_in.bias"] = t
    period = 30 if dataset == "vocaset" else 25
    if with_ppe:
        sd["PPE.pe"] = ppe_table(D, period)
    sd.update(decoder_sd("transformer_decoder.layers.", exp))
    sd["vertice_map_r.weight"] = t = rnd(v3, D)
    exp["motion_out.weight"] = t
    sd["vertice_map_r.bias"] = t = rnd(v3)
    exp["motion_out.bias"] = t
    n = n_styles or (8 if dataset == "vocaset" else 6)
    sd["obj_vector.weight"] = t = rnd(D, n)
    exp["style.weight"] = t
    return sd, exp


def imitator_sd(mlp=4):
    exp = OrderedDict()
    sd = wav2vec_sd("audio_encoder.", exp, "old")
    sd["audio_feature_map.weight"] = t = rnd(D, H)
    exp["audio_map.weight"] = t
    sd["audio_feature_map.bias"] = t = rnd(D)
    exp["audio_map.bias"] = t
    sd["PPE.pe"] = torch.zeros(600, 1, D)
    sd.update(decoder_sd("transformer_decoder.layers.", exp))
    sd["obj_vector.weight"] = t = rnd(D, 8)
    exp["style.weight"] = t
    for i in range(mlp):
        sd[f"vertice_map_r.decoder.{2 * i}.weight"] = t = rnd(D, D)
        exp[f"motion_decoder.{i}.weight"] = t
        sd[f"vertice_map_r.decoder.{2 * i}.bias"] = t = rnd(D)
        exp[f"motion_decoder.{i}.bias"] = t
    sd["vertice_map_r.decoder.final_out_layer.weight"] = t = rnd(3 * V, D)
    exp["motion_out.weight"] = t
    sd["vertice_map_r.decoder.final_out_layer.bias"] = t = rnd(3 * V)
    exp["motion_out.bias"] = t
    return OrderedDict(("nn_model." + k, v) for k, v in sd.items()), exp


SCONV, SLAYERS, SFFN = 2, 2, 24


def mimic_sd(conv_align=True, dead=True, biases=True):
    exp = OrderedDict()
    sd = OrderedDict()
    # style encoder
    sd["style_encoder.motion_map.weight"] = t = rnd(D, 3 * V)
    exp["style_encoder.motion_map.weight"] = t
    sd["style_encoder.motion_map.bias"] = t = rnd(D)
    exp["style_encoder.motion_map.bias"] = t
    for i in range(SCONV):
        sd[f"style_encoder.conv_layers.{i}.conv.weight"] = t = rnd(D, D, 3)
        exp[f"style_encoder.conv.{i}.weight"] = t.permute(0, 2, 1)
        for p in ("weight", "bias"):
            sd[f"style_encoder.conv_layers.{i}.layer_norm.{p}"] = t = rnd(D)
            exp[f"style_encoder.conv.{i}.norm.{p}"] = t
    for p in ("weight", "bias"):
        sd[f"style_encoder.feature_projection.layer_norm.{p}"] = t = rnd(D)
        exp[f"style_encoder.projection.norm.{p}"] = t
    sd["style_encoder.feature_projection.projection.weight"] = t = rnd(D, D)
    exp["style_encoder.projection.weight"] = t
    sd["style_encoder.feature_projection.projection.bias"] = t = rnd(D)
    exp["style_encoder.projection.bias"] = t
    sd["style_encoder.PE.pe"] = torch.zeros(5000, 1, D)
    for i in range(SLAYERS):
        layer = randomised(nn.TransformerEncoderLayer(D, 4, SFFN, batch_first=True))
        dst = f"style_encoder.layers.{i}"
        attn_exp(exp, f"{dst}.attention", layer, "self_attn")
        for src, dd in (("linear1", "ffn.up"), ("linear2", "ffn.down"), ("norm1", "norm1"), ("norm2", "norm2")):
            exp[f"{dst}.{dd}.weight"] = layer[f"{src}.weight"]
            exp[f"{dst}.{dd}.bias"] = layer[f"{src}.bias"]
        for k, v in layer.items():
            sd[f"style_encoder.transformer_encoder.layers.{i}.{k}"] = v
    sd["style_encoder.feature_map.weight"] = t = rnd(D, D)
    exp["style_encoder.output.weight"] = t
    sd["style_encoder.feature_map.bias"] = t = rnd(D)
    exp["style_encoder.output.bias"] = t
    # content encoder (not converted)
    sd["content_encoder.motion_map.weight"] = rnd(D, 3 * V)
    sd["content_encoder.conv_layers.0.conv.weight"] = rnd(D, D, 3)
    sd["content_encoder.feature_projection.projection.weight"] = rnd(D, D)
    # audio encoder
    sd.update(wav2vec_sd("audio_encoder.audio_encoder.", exp, "old"))
    if conv_align:
        sd["audio_encoder.down_sample.weight"] = t = rnd(H, H, 15)
        exp["encoder.downsample.weight"] = t.permute(0, 2, 1)
        sd["audio_encoder.down_sample.bias"] = t = rnd(H)
        exp["encoder.downsample.bias"] = t
    sd["audio_encoder.audio_feature_map.weight"] = t = rnd(D, H)
    exp["audio_map.weight"] = t
    sd["audio_encoder.audio_feature_map.bias"] = t = rnd(D)
    exp["audio_map.bias"] = t
    # decoder
    sd["decoder.PPE.pe"] = ppe_table(D, 30)
    sd["decoder.motion_map.weight"] = t = rnd(D, 3 * V)
    exp["motion_in.weight"] = t
    sd["decoder.motion_map.bias"] = t = rnd(D)
    exp["motion_in.bias"] = t
    sd["decoder.motion_map_r.weight"] = t = rnd(3 * V, D)
    exp["motion_out.weight"] = t
    sd["decoder.motion_map_r.bias"] = t = rnd(3 * V)
    exp["motion_out.bias"] = t
    sd.update(decoder_sd("decoder.transformer_decoder.layers.", exp, saln=True))
    if not biases:
        for k in [k for k in sd if k.startswith("decoder.transformer_decoder.layers.") and
                  (k.endswith("in_proj_bias") or k.endswith("out_proj.bias") or k.endswith("linear1.bias")
                   or k.endswith("linear2.bias"))]:
            del sd[k]
        for k in list(exp):
            if k.startswith("decoder.layers.") and k.endswith(".bias") and ".norm" not in k:
                exp[k] = torch.zeros_like(exp[k])
    if dead:  # the never-used nn.Transformer registered by Mimic's TransformerDecoder(nn.Transformer)
        dead_t = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8,
                                batch_first=True)
        for k, v in dead_t.state_dict().items():
            sd["decoder.transformer_decoder." + k] = v.clone()
    # heads
    sd["content_grl_head.class_head.weight"] = rnd(150, D)
    sd["content_grl_head.class_head.bias"] = rnd(150)
    sd["style_class_head.class_head.weight"] = rnd(150, D)
    sd["style_class_head.class_head.bias"] = rnd(150)
    sd["logit_scale"] = torch.tensor(2.6593)
    return sd, exp


def mimic_params(align="conv"):
    return {
        "DATA": {"dataset": "HDTF", "video_fps": 25, "audio_fps": 50, "window": 150},
        "NETWORK": {"motion_dim": 3 * V, "feature_dim": D, "hidden_size": D, "nhead_encoder": 4,
                    "dim_feedforward": SFFN, "encoder_layers": SLAYERS, "audio_feature_align": align,
                    "style_fuse": "SALN", "decoder": {"nhead": 4, "dim_feedforward": DFF, "num_layers": 1}},
        "TRAIN": {"epochs": 150},
    }


# --- fake pytorch_lightning, removed from sys.modules before loading ----------------------------------

FAKE_PL = ["pytorch_lightning", "pytorch_lightning.callbacks", "pytorch_lightning.callbacks.model_checkpoint",
           "pytorch_lightning.callbacks.early_stopping", "pytorch_lightning.utilities",
           "pytorch_lightning.utilities.parsing"]


def _install_fake_pl():
    mods = {name: types.ModuleType(name) for name in FAKE_PL}
    for name, mod in mods.items():
        sys.modules[name] = mod

    def cls(modname, name, bases=(object,), body=None):
        c = type(name, bases, dict(body or {}))
        c.__module__ = modname
        c.__qualname__ = name
        setattr(mods[modname], name, c)
        return c

    return {
        "ModelCheckpoint": cls("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"),
        "EarlyStopping": cls("pytorch_lightning.callbacks.early_stopping", "EarlyStopping"),
        "AttributeDict": cls("pytorch_lightning.utilities.parsing", "AttributeDict", (dict,)),
    }


def _remove_fake_pl():
    for name in FAKE_PL:
        sys.modules.pop(name, None)


def save_lightning_ckpt(path, sd, personalized=False):
    classes = _install_fake_pl()
    try:
        callbacks = {classes["ModelCheckpoint"]: {"monitor": "val/net_loss", "best_model_score": torch.tensor(0.1),
                                                  "best_model_path": "/x/epoch=1.ckpt"}}
        ckpt = {
            "epoch": 1, "global_step": 10, "pytorch-lightning_version": "1.0.8",
            "callbacks": callbacks,
            "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}],
            "lr_schedulers": [{"best": 0.1}],
            "state_dict": sd,
        }
        if personalized:
            es = classes["EarlyStopping"]()
            es.patience, es.wait_count = 50, 3
            callbacks[classes["EarlyStopping"]] = {"wait_count": 3}
            ckpt["early_stopping_obj"] = es
            ckpt["hparams_name"] = "kwargs"
            ckpt["hyper_parameters"] = classes["AttributeDict"](monitor="val/net_loss", lr=1e-4)
        torch.save(ckpt, path)
    finally:
        _remove_fake_pl()


# -------------------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------------------

def read_model(path):
    from safetensors import safe_open
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    dtypes = {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}
    return tensors, meta, dtypes


def assert_tensors_equal(got, exp, atol=0.0):
    assert set(got) == set(exp), (sorted(set(got) - set(exp)), sorted(set(exp) - set(got)))
    for k, e in exp.items():
        e = e.detach().numpy() if isinstance(e, torch.Tensor) else np.asarray(e)
        g = got[k]
        assert g.shape == e.shape, (k, g.shape, e.shape)
        assert g.dtype == np.float32, (k, g.dtype)
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=max(atol, 1e-6), err_msg=k)


def convert_ok(src, dst, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.ConversionWarning)
        return C.convert_checkpoint(src, dst, **kw)


# -------------------------------------------------------------------------------------------------
# Weight norm
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("naming", ["old", "new"])
@pytest.mark.parametrize("groups", [1, 4])
def test_weight_norm_fold_matches_torch(naming, groups):
    sd, weight = weight_normed_pos_conv(32, 5, groups, naming)
    if naming == "old":
        g, v = sd["weight_g"], sd["weight_v"]
        assert g.shape == (1, 1, 5)
    else:
        g, v = sd["parametrizations.weight.original0"], sd["parametrizations.weight.original1"]
    folded = C.fold_weight_norm(g, v)
    np.testing.assert_allclose(folded, weight.numpy(), rtol=1e-5, atol=1e-6)
    # and not a norm over the wrong axes
    wrong = (v / v.norm(dim=(1, 2), keepdim=True) * g.reshape(1, 1, -1)).numpy()
    assert not np.allclose(folded, wrong, atol=1e-4)


# -------------------------------------------------------------------------------------------------
# FaceFormer
# -------------------------------------------------------------------------------------------------

def test_faceformer_vocaset(tmp_path):
    sd, exp = faceformer_sd("vocaset", "old")
    src = tmp_path / "vocaset.pth"
    torch.save(sd, src)
    loaded, extra = C.load_checkpoint(src)
    assert extra["layout"] == "state_dict"
    assert C.detect_family(loaded) == "faceformer"
    cfg = C.infer_config(loaded, extra=extra)
    assert cfg["family"] == "faceformer" and cfg["fps"] == 30 and cfg["num_vertices"] == V
    e = cfg["encoder"]
    assert e["conv_dim"] == [16, 16, 16] and e["conv_kernel"] == [10, 3, 2] and e["conv_stride"] == [5, 2, 2]
    assert e["conv_bias"] is False and e["feat_extract_norm"] == "group" and e["stable_layer_norm"] is False
    assert (e["hidden_size"], e["num_layers"], e["num_heads"], e["intermediate_size"]) == (H, NL, 1, FF)
    assert (e["pos_conv_kernel"], e["pos_conv_groups"]) == (POS_K, POS_G)
    assert e["input_norm_eps"] == 1e-5 and e["layer_norm_eps"] == 1e-5
    assert cfg["alignment"] == {"mode": "interpolate", "frames_offset": 0}
    assert cfg["decoder"] == {"d_model": D, "num_heads": 4, "ffn_dim": DFF, "num_layers": 1, "norm": "layer",
                              "norm_eps": 1e-5, "attention_bias": "alibi", "positional": "periodic",
                              "period": 30, "max_seq_len": 600}
    assert cfg["styles"]["names"] == VOCA
    assert "imitator" not in cfg and "mimic" not in cfg

    report = {}
    tensors = C.convert_state_dict(loaded, cfg, report=report)
    assert_tensors_equal(tensors, exp)
    assert sorted(report["skipped"]) == ["PPE.pe", "audio_encoder.masked_spec_embed"]
    assert report["unexpected"] == []

    dst = tmp_path / "ff.safetensors"
    cfg2 = convert_ok(src, dst)
    assert cfg2 == cfg
    got, meta, dtypes = read_model(dst)
    assert_tensors_equal(got, exp)
    assert set(dtypes.values()) == {"F32"}
    assert meta["mimetic.format"] == "1"
    assert json.loads(meta["mimetic.config"]) == cfg
    prov = json.loads(meta["mimetic.provenance"])
    assert prov["source"] == "vocaset.pth" and prov["family"] == "faceformer"
    import hashlib
    assert prov["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert prov["converter"].startswith("mimetic_tools.convert")
    assert not any("masked_spec" in k or "PPE" in k for k in got)


def test_faceformer_biwi_parametrizations(tmp_path):
    sd, exp = faceformer_sd("biwi", "new")
    assert "audio_encoder.encoder.pos_conv_embed.conv.parametrizations.weight.original0" in sd
    src = tmp_path / "biwi.pth"
    torch.save(sd, src)
    dst = tmp_path / "biwi.safetensors"
    cfg = convert_ok(src, dst)
    assert cfg["fps"] == 25 and cfg["alignment"] == {"mode": "pairs", "frames_offset": 0}
    assert cfg["decoder"]["period"] == 25 and cfg["styles"]["names"] == BIWI
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)


def test_faceformer_dataset_rules():
    # no PPE table: 3V = 70110 -> BIWI
    sd, _ = faceformer_sd("biwi", with_ppe=False, v3=70110)
    cfg = C.infer_config(sd)
    assert cfg["num_vertices"] == 23370 and cfg["fps"] == 25 and cfg["alignment"]["mode"] == "pairs"
    assert cfg["decoder"]["period"] == 25 and cfg["styles"]["names"] == BIWI
    # no PPE table, other sizes -> VOCASET defaults; unknown style count -> style0..
    sd, _ = faceformer_sd("vocaset", with_ppe=False, n_styles=3)
    cfg = C.infer_config(sd)
    assert cfg["fps"] == 30 and cfg["decoder"]["period"] == 30 and cfg["styles"]["names"] == ["style0", "style1", "style2"]
    # the dataset flag wins for fps / alignment / names
    sd, _ = faceformer_sd("vocaset", n_styles=6)
    cfg = C.infer_config(sd, overrides={"dataset": "biwi"})
    assert cfg["fps"] == 25 and cfg["alignment"]["mode"] == "pairs" and cfg["styles"]["names"] == BIWI
    # period from the table's content, not only its length (630 = 30*21 = 35*18 = ...)
    assert C.faceformer_period(ppe_table(8, 30)) == 30
    assert C.faceformer_period(ppe_table(8, 35)) == 35
    assert C.faceformer_period(ppe_table(8, 25)) == 25
    assert C.faceformer_period(torch.randn(1, 630, 8)) == 30


def test_safetensors_input(tmp_path):
    from safetensors.torch import save_file
    sd, exp = faceformer_sd("vocaset", "new")
    src = tmp_path / "ff_state.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(src))
    loaded, extra = C.load_checkpoint(src)
    assert extra["layout"] == "safetensors"
    dst = tmp_path / "out.safetensors"
    convert_ok(src, dst)
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)
    # a Mimetic model is not accepted as a source
    with pytest.raises(C.ConversionError, match="already a Mimetic model"):
        C.load_checkpoint(dst)


def test_layer_norm_variant_and_overrides(tmp_path):
    exp = OrderedDict()
    sd, _ = faceformer_sd("vocaset")
    w2v = wav2vec_sd("audio_encoder.", exp, "old", layer_norm_variant=True)
    sd = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("audio_encoder."))
    sd.update(w2v)
    cfg = C.infer_config(sd)
    assert cfg["encoder"]["feat_extract_norm"] == "layer" and cfg["encoder"]["conv_bias"] is True
    assert cfg["encoder"]["stable_layer_norm"] is True
    tensors = C.convert_state_dict(sd, cfg)
    for k, v in exp.items():
        np.testing.assert_allclose(tensors[k], v.numpy(), rtol=1e-6, atol=1e-6)
    cfg = C.infer_config(sd, overrides={"encoder": {"stable_layer_norm": False, "conv_stride": [4, 2, 2]},
                                        "decoder": {"max_seq_len": 16}, "fps": 60})
    assert cfg["encoder"]["stable_layer_norm"] is False and cfg["encoder"]["conv_stride"] == [4, 2, 2]
    assert cfg["decoder"]["max_seq_len"] == 16 and cfg["fps"] == 60
    with pytest.raises(C.ConversionError, match="unknown config field 'decoder.max_len'"):
        C.infer_config(sd, overrides={"decoder": {"max_len": 16}})
    with pytest.raises(C.ConversionError, match="lengths differ"):
        C.infer_config(sd, overrides={"encoder": {"conv_stride": [5, 2]}})
    with pytest.raises(C.ConversionError, match="styles.names"):
        C.convert_state_dict(sd, C.infer_config(sd, overrides={"styles": {"names": ["a", "b"]}}))


def test_encoder_heads_needed_when_not_inferable():
    exp = OrderedDict()
    sd, _ = faceformer_sd("vocaset")
    sd = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("audio_encoder."))
    sd.update(wav2vec_sd("audio_encoder.", exp, "old", hidden=32))
    sd["audio_feature_map.weight"] = rnd(D, 32)
    with pytest.raises(C.ConversionError, match="encoder-heads"):
        C.infer_config(sd)
    cfg = C.infer_config(sd, overrides={"encoder": {"num_heads": 2}})
    assert cfg["encoder"]["num_heads"] == 2
    tensors = C.convert_state_dict(sd, cfg)
    for k, v in exp.items():
        np.testing.assert_allclose(tensors[k], v.numpy(), rtol=1e-6, atol=1e-6)


def test_unknown_keys_warn_and_missing_key_errors(tmp_path):
    sd, exp = faceformer_sd("vocaset")
    sd["some_new_head.weight"] = rnd(3, 3)
    cfg = C.infer_config(sd)
    report = {}
    with pytest.warns(C.ConversionWarning, match="some_new_head.weight"):
        tensors = C.convert_state_dict(sd, cfg, report=report)
    assert report["unexpected"] == ["some_new_head.weight"]
    assert_tensors_equal(tensors, exp)
    del sd["transformer_decoder.layers.0.linear2.bias"]
    with pytest.raises(C.ConversionError, match=r"missing required key 'transformer_decoder\.layers\.0\.linear2\.bias'"):
        C.convert_state_dict(sd, cfg)


# -------------------------------------------------------------------------------------------------
# Imitator
# -------------------------------------------------------------------------------------------------

def test_imitator_generalized_lightning(tmp_path):
    sd, exp = imitator_sd()
    src = tmp_path / "epoch=99.ckpt"
    save_lightning_ckpt(src, sd)
    assert "pytorch_lightning" not in sys.modules
    with pytest.raises(Exception):
        torch.load(src, weights_only=True)
    with pytest.raises(ModuleNotFoundError):
        torch.load(src, weights_only=False)
    loaded, extra = C.load_checkpoint(src)
    assert extra["layout"] == "lightning" and extra["lightning_version"] == "1.0.8"
    assert "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint" in extra["stubbed_classes"]
    assert "pytorch_lightning" not in sys.modules
    assert all(k.startswith("nn_model.") for k in loaded)
    assert C.detect_family(loaded) == "imitator"
    cfg = C.infer_config(loaded, extra=extra)
    assert cfg["family"] == "imitator" and cfg["fps"] == 30 and cfg["num_vertices"] == V
    assert cfg["alignment"] == {"mode": "interpolate", "frames_offset": 0}
    assert cfg["decoder"]["attention_bias"] == "causal" and cfg["decoder"]["positional"] == "constant"
    assert cfg["decoder"]["period"] == 30 and cfg["decoder"]["num_heads"] == 4
    assert cfg["encoder"]["input_norm_eps"] == 1e-7
    assert cfg["imitator"] == {"start_token": "zeros", "mlp_layers": 4, "leaky_slope": 0.01}
    assert cfg["styles"]["names"] == VOCA
    dst = tmp_path / "imitator.safetensors"
    report = {}
    convert_ok(src, dst, report=report)
    assert sorted(report["skipped"]) == ["nn_model.PPE.pe", "nn_model.audio_encoder.masked_spec_embed"]
    got, meta, _ = read_model(dst)
    assert_tensors_equal(got, exp)


def test_imitator_personalized_and_start_token(tmp_path):
    sd, exp = imitator_sd()
    src = tmp_path / "subj0024_stg02.ckpt"
    save_lightning_ckpt(src, sd, personalized=True)
    loaded, extra = C.load_checkpoint(src)
    assert extra["hyper_parameters"]["lr"] == 1e-4  # dict subclass stub kept its items
    dst = tmp_path / "p.safetensors"
    cfg = convert_ok(src, dst, overrides={"imitator": {"start_token": "style"}})
    assert cfg["imitator"]["start_token"] == "style"
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)
    with pytest.raises(C.ConversionError, match="start_token"):
        C.infer_config(loaded, overrides={"imitator": {"start_token": "nope"}})
    # an Imitator state dict without the Lightning prefix is recognised too
    bare = OrderedDict((k[len("nn_model."):], v) for k, v in sd.items())
    assert C.detect_family(bare) == "imitator"
    assert_tensors_equal(C.convert_state_dict(bare, C.infer_config(bare)), exp)


def test_stub_unpickler_never_runs_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    sd, _ = faceformer_sd("vocaset")
    src = tmp_path / "evil.pth"
    torch.save({"state_dict": sd, "payload": Evil()}, src)
    loaded, extra = C.load_checkpoint(src)
    assert not marker.exists()
    assert any(s.endswith(".system") for s in extra["stubbed_classes"])
    assert C.detect_family(loaded) == "faceformer"


# -------------------------------------------------------------------------------------------------
# Mimic
# -------------------------------------------------------------------------------------------------

def test_mimic_conv(tmp_path):
    sd, exp = mimic_sd(conv_align=True)
    src = tmp_path / "Epoch_125.pth"
    torch.save({"params": mimic_params("conv"), "model": sd, "optimizer": {"state": {}, "param_groups": []},
                "start_epoch": 125}, src)
    loaded, extra = C.load_checkpoint(src)
    assert extra["layout"] == "mimic" and extra["params"]["NETWORK"]["audio_feature_align"] == "conv"
    assert C.detect_family(loaded) == "mimic"
    cfg = C.infer_config(loaded, extra=extra)
    assert cfg["fps"] == 25 and cfg["num_vertices"] == V
    assert cfg["alignment"] == {"mode": "conv", "frames_offset": 0}
    assert cfg["decoder"]["norm"] == "saln" and cfg["decoder"]["period"] == 30
    assert cfg["decoder"]["attention_bias"] == "alibi" and cfg["decoder"]["positional"] == "periodic"
    assert cfg["encoder"]["input_norm_eps"] == 1e-5
    assert cfg["mimic"] == {"style_conv_layers": SCONV, "style_layers": SLAYERS, "style_heads": 4,
                            "style_ffn_dim": SFFN, "style_window": 150, "style_norm_eps": 1e-5}
    assert cfg["styles"]["names"] == [] and "imitator" not in cfg
    dst = tmp_path / "mimic.safetensors"
    report = {}
    convert_ok(src, dst, report=report)
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)
    skipped = set(report["skipped"])
    assert {"logit_scale", "decoder.PPE.pe", "style_encoder.PE.pe", "audio_encoder.audio_encoder.masked_spec_embed",
            "content_encoder.motion_map.weight", "style_class_head.class_head.weight"} <= skipped
    dead = [k for k in sd if k.startswith("decoder.transformer_decoder.encoder.")
            or k.startswith("decoder.transformer_decoder.decoder.")]
    assert len(dead) > 20 and set(dead) <= skipped
    assert report["unexpected"] == []
    assert not any("content" in k or "class_head" in k or "logit" in k for k in got)


def test_mimic_interpolation(tmp_path):
    sd, exp = mimic_sd(conv_align=False, dead=False)
    src = tmp_path / "Epoch_5.pth"
    torch.save({"params": mimic_params("interpolation"), "model": sd, "optimizer": {}, "start_epoch": 5}, src)
    dst = tmp_path / "m.safetensors"
    cfg = convert_ok(src, dst)
    assert cfg["alignment"] == {"mode": "interpolate", "frames_offset": 1}
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)
    assert "encoder.downsample.weight" not in got
    # asking for conv alignment without the conv weights is an error naming the key
    with pytest.raises(C.ConversionError, match="audio_encoder.down_sample.weight"):
        C.convert_checkpoint(src, tmp_path / "bad.safetensors", overrides={"alignment": {"mode": "conv"}})


def test_mimic_without_decoder_biases(tmp_path):
    sd, exp = mimic_sd(conv_align=True, biases=False)
    cfg = C.infer_config(sd, extra={"params": mimic_params("conv")})
    report = {}
    with pytest.warns(C.ConversionWarning, match="zero biases"):
        tensors = C.convert_state_dict(sd, cfg, report=report)
    assert len(report["filled"]) == 6
    assert_tensors_equal(tensors, exp)


# -------------------------------------------------------------------------------------------------
# Writing: f16, assets
# -------------------------------------------------------------------------------------------------

def test_f16_and_assets(tmp_path):
    sd, exp = faceformer_sd("vocaset")
    src = tmp_path / "ff.pth"
    torch.save(sd, src)
    template = np.random.rand(V, 3).astype(np.float64)
    np.save(tmp_path / "t.npy", template)
    tris = np.array([[0, 1, 2], [2, 3, 4], [7, 8, 9]], dtype=np.int64)
    np.save(tmp_path / "f.npy", tris)
    (tmp_path / "lips.txt").write_text("1 2 3\n5\n")
    dst = tmp_path / "h.safetensors"
    convert_ok(src, dst, dtype="f16", template=tmp_path / "t.npy", triangles=tmp_path / "f.npy",
               lip_vertices=tmp_path / "lips.txt")
    got, meta, dtypes = read_model(dst)
    assert dtypes.pop("template") == "F32"
    assert dtypes.pop("triangles") == "I32" and dtypes.pop("lip_vertices") == "I32"
    assert set(dtypes.values()) == {"F16"}
    np.testing.assert_array_equal(got["template"], template.astype(np.float32))
    np.testing.assert_array_equal(got["triangles"], tris.astype(np.int32))
    np.testing.assert_array_equal(got["lip_vertices"], np.array([1, 2, 3, 5], np.int32))
    f32 = tmp_path / "f.safetensors"
    convert_ok(src, f32)
    ref, _, _ = read_model(f32)
    assert set(ref) == set(exp) and set(got) == set(exp) | {"template", "triangles", "lip_vertices"}
    for k, e in exp.items():
        np.testing.assert_array_equal(got[k], ref[k].astype(np.float16), err_msg=k)
        np.testing.assert_allclose(got[k].astype(np.float32), e.detach().numpy(), rtol=1e-3, atol=1e-3)


def test_lip_pairs(tmp_path):
    """`lip_pairs` is written as I32 [2, k] (a [k, 2] list is transposed); bad shapes and indices are refused."""
    sd, _ = faceformer_sd("vocaset")
    src = tmp_path / "ff.pth"
    torch.save(sd, src)
    pairs = np.array([[1, 6], [2, 7], [3, 8]], dtype=np.int64)             # [k, 2]
    np.save(tmp_path / "p.npy", pairs)
    dst = tmp_path / "p.safetensors"
    convert_ok(src, dst, lip_pairs=tmp_path / "p.npy")
    got, _, dtypes = read_model(dst)
    assert dtypes["lip_pairs"] == "I32"
    np.testing.assert_array_equal(got["lip_pairs"], pairs.T.astype(np.int32))
    for bad, msg in [(np.arange(6).reshape(3, 2, 1), r"\[2, k\]"), (np.array([[0], [V]]), "lip_pairs")]:
        np.save(tmp_path / "bad.npy", bad)
        with pytest.raises(C.ConversionError, match=msg):
            convert_ok(src, tmp_path / "bad.safetensors", lip_pairs=tmp_path / "bad.npy")


def test_template_forms(tmp_path):
    t = np.random.rand(V, 3).astype(np.float32)
    np.testing.assert_array_equal(C.load_template(t.reshape(-1), num_vertices=V), t)
    np.save(tmp_path / "flat.npy", t.reshape(1, -1))
    np.testing.assert_array_equal(C.load_template(tmp_path / "flat.npy", num_vertices=V), t)
    with open(tmp_path / "templates.pkl", "wb") as f:
        pickle.dump({"FaceTalk_a": t, "FaceTalk_b": t + 1}, f, protocol=2)
    np.testing.assert_array_equal(C.load_template(tmp_path / "templates.pkl", "FaceTalk_b", V), t + 1)
    with pytest.raises(C.ConversionError, match="--template-key"):
        C.load_template(tmp_path / "templates.pkl", None, V)
    with pytest.raises(C.ConversionError, match="no template named"):
        C.load_template(tmp_path / "templates.pkl", "nope", V)
    with pytest.raises(C.ConversionError, match="has 10 vertices, the model has 11"):
        C.load_template(t, num_vertices=11)
    with pytest.raises(C.ConversionError, match=r"\[V, 3\] or \[3V\]"):
        C.load_template(np.zeros((4, 4)), num_vertices=None)
    with pytest.raises(C.ConversionError, match="vertex indices"):
        C.load_triangles(np.array([[0, 1, V]]), V)


# -------------------------------------------------------------------------------------------------
# CLI
# -------------------------------------------------------------------------------------------------

def run_cli(argv, capsys):
    rc = convert_cli.main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_cli_success_with_flags(tmp_path, capsys):
    sd, exp = imitator_sd()
    src = tmp_path / "gen.ckpt"
    save_lightning_ckpt(src, sd)
    template = tmp_path / "templates.pkl"
    with open(template, "wb") as f:
        pickle.dump({"FaceTalk_170725_00137_TA": np.random.rand(V * 3)}, f, protocol=2)
    dst = tmp_path / "out.safetensors"
    rc, out, err = run_cli([src, "--out", dst, "--start-token", "style", "--max-seq-len", "32", "--fps", "30",
                            "--decoder-heads", "2", "--template", template, "--template-key",
                            "FaceTalk_170725_00137_TA", "--style-names", ",".join(f"s{i}" for i in range(8)),
                            "--set", "decoder.period=40", "--f16"], capsys)
    assert rc == 0, err
    assert "imitator" in out and "skipped" in out
    got, meta, dtypes = read_model(dst)
    cfg = json.loads(meta["mimetic.config"])
    assert cfg["imitator"]["start_token"] == "style" and cfg["decoder"]["max_seq_len"] == 32
    assert cfg["decoder"]["num_heads"] == 2 and cfg["decoder"]["period"] == 40
    assert cfg["styles"]["names"][0] == "s0" and dtypes["template"] == "F32" and got["template"].shape == (V, 3)


def test_cli_errors(tmp_path, capsys):
    dst = tmp_path / "o.safetensors"
    rc, _, err = run_cli([tmp_path / "missing.pth", "--out", dst], capsys)
    assert rc == 1 and "no such file" in err

    junk = tmp_path / "notes.pth"
    junk.write_text("this is not a checkpoint\n")
    rc, _, err = run_cli([junk, "--out", dst], capsys)
    assert rc == 1 and "not a PyTorch checkpoint" in err

    unknown = tmp_path / "unknown.pth"
    torch.save({"encoder.weight": torch.zeros(2, 2), "head.bias": torch.zeros(2)}, unknown)
    rc, _, err = run_cli([unknown, "--out", dst], capsys)
    assert rc == 1 and "unknown checkpoint layout" in err and "encoder (1)" in err

    nothing = tmp_path / "nothing.pth"
    torch.save({"epoch": 3, "note": "x"}, nothing)
    rc, _, err = run_cli([nothing, "--out", dst], capsys)
    assert rc == 1 and "no tensors" in err

    sd, _ = faceformer_sd("vocaset")
    del sd["vertice_map_r.bias"]
    missing = tmp_path / "missing_key.pth"
    torch.save(sd, missing)
    rc, _, err = run_cli([missing, "--out", dst], capsys)
    assert rc == 1 and "missing required key 'vertice_map_r.bias'" in err

    sd, _ = faceformer_sd("vocaset")
    good = tmp_path / "good.pth"
    torch.save(sd, good)
    np.save(tmp_path / "t.npy", np.zeros((V + 1, 3)))
    rc, _, err = run_cli([good, "--out", dst, "--template", tmp_path / "t.npy"], capsys)
    assert rc == 1 and "11 vertices, the model has 10" in err
    assert not dst.exists()

    rc, _, err = run_cli([good, "--out", dst, "--family", "mimic"], capsys)
    assert rc == 1 and "look like" in err

    with pytest.raises(SystemExit) as e:
        convert_cli.main([str(good), "--out", str(dst), "--align", "sideways"])
    assert e.value.code == 2
    capsys.readouterr()


def test_cli_wrapper_subprocess(tmp_path):
    sd, exp = faceformer_sd("biwi", "new")
    src = tmp_path / "biwi.pth"
    torch.save(sd, src)
    dst = tmp_path / "biwi.safetensors"
    script = ["-m", "mimetic_tools.cli.convert"]
    r = subprocess.run([sys.executable, *script, str(src), "--out", str(dst), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got, _, _ = read_model(dst)
    assert_tensors_equal(got, exp)
    r = subprocess.run([sys.executable, *script, str(tmp_path / "nope.pth"), "--out", str(dst)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "no such file" in r.stderr


def test_imitator_errors_name_original_keys():
    sd, _ = imitator_sd()
    del sd["nn_model.vertice_map_r.decoder.final_out_layer.bias"]
    cfg = C.infer_config(sd)
    with pytest.raises(C.ConversionError, match=r"missing required key 'nn_model\.vertice_map_r\.decoder\.final_out_layer\.bias'"):
        C.convert_state_dict(sd, cfg)
    del sd["nn_model.audio_feature_map.weight"]
    with pytest.raises(C.ConversionError, match=r"missing required key 'nn_model\.audio_feature_map\.weight'"):
        C.infer_config(sd)


def _rewrite_zip_prefix(src, dst, prefix):
    import zipfile
    zin = zipfile.ZipFile(src)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(prefix + info.filename.split("/", 1)[1], zin.read(info.filename))


def test_old_file_layouts(tmp_path):
    sd, exp = faceformer_sd("vocaset")
    new = tmp_path / "new.pth"
    torch.save(sd, new)
    arch = tmp_path / "arch.pth"  # records under archive/ as written by old torch
    _rewrite_zip_prefix(new, arch, "archive/")
    legacy = tmp_path / "legacy.pth"  # pre-1.6 non-zip serialisation
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    for src in (arch, legacy):
        dst = tmp_path / (src.stem + ".safetensors")
        convert_ok(src, dst)
        got, _, _ = read_model(dst)
        assert_tensors_equal(got, exp)
    # a Lightning checkpoint in the legacy format still gets its classes stubbed
    isd, iexp = imitator_sd()
    classes = _install_fake_pl()
    try:
        torch.save({"callbacks": {classes["ModelCheckpoint"]: {}}, "state_dict": isd,
                    "pytorch-lightning_version": "1.0.8"}, tmp_path / "old.ckpt", _use_new_zipfile_serialization=False)
    finally:
        _remove_fake_pl()
    loaded, extra = C.load_checkpoint(tmp_path / "old.ckpt")
    assert extra["stubbed_classes"] == ["pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint"]
    assert_tensors_equal(C.convert_state_dict(loaded, C.infer_config(loaded)), iexp)


# -------------------------------------------------------------------------------------------------
# End to end with the original-layout writers of mimetic_tools.checkpoints (written in parallel;
# skipped when they are not there)
# -------------------------------------------------------------------------------------------------

E2E_CASES = [
    # (small config, writer options, expected family / fps / alignment / offset)
    ("faceformer_vocaset", {"weight_norm": "old"}, ("faceformer", 30, "interpolate", 0)),
    ("faceformer_biwi", {"weight_norm": "new", "zip_root": "archive"}, ("faceformer", 25, "pairs", 0)),
    ("imitator_zeros", {"variant": "generalized"}, ("imitator", 30, "interpolate", 0)),
    ("imitator_style", {"variant": "personalized", "weight_norm": "new"}, ("imitator", 30, "interpolate", 0)),
    ("mimic_conv", {"epoch": 125}, ("mimic", 25, "conv", 0)),
    ("mimic_interp", {"epoch": 50, "weight_norm": "new"}, ("mimic", 25, "interpolate", 1)),
]


@pytest.mark.parametrize("name,writer,expect", E2E_CASES, ids=[c[0] for c in E2E_CASES])
def test_end_to_end_with_checkpoint_writers(tmp_path, name, writer, expect):
    ckpt = pytest.importorskip("mimetic_tools.checkpoints")
    ref = pytest.importorskip("mimetic_tools.reference")
    model = ref.build_model(name, small=True)
    ref.randomize_(model, 17)
    family = expect[0]
    writer = dict(writer)
    if family == "faceformer":
        src = ckpt.save_faceformer(model, str(tmp_path / f"{name}.pth"), **writer)
    elif family == "imitator":
        if writer.get("variant") == "personalized":
            model = ckpt.personalize_imitator(model, seed=5)
        src = ckpt.save_imitator_ckpt(model, str(tmp_path / f"{name}.ckpt"), **writer)
    else:
        epoch = writer.pop("epoch")
        src = ckpt.save_mimic(model, str(tmp_path / f"Epoch_{epoch}.pth"), epoch=epoch, **writer)
    assert "pytorch_lightning" not in sys.modules
    w2v = model.audio_encoder.audio_encoder.config if family == "mimic" else model.audio_encoder.config
    dst = tmp_path / "m.safetensors"
    report = {}
    cfg = convert_ok(src, dst, overrides={"encoder": {"num_heads": w2v.num_heads}}, report=report)
    assert (cfg["family"], cfg["fps"], cfg["alignment"]["mode"], cfg["alignment"]["frames_offset"]) == expect
    e = cfg["encoder"]
    assert e["conv_dim"] == list(w2v.conv_dim) and e["conv_kernel"] == list(w2v.conv_kernel)
    assert e["conv_stride"] == list(w2v.conv_stride) and e["feat_extract_norm"] == w2v.feat_extract_norm
    assert (e["hidden_size"], e["num_layers"], e["intermediate_size"]) == \
        (w2v.hidden_size, w2v.num_layers, w2v.intermediate_size)
    assert (e["pos_conv_kernel"], e["pos_conv_groups"]) == (w2v.pos_conv_kernel, w2v.pos_conv_groups)
    assert cfg["decoder"]["d_model"] == model.d_model and cfg["decoder"]["num_heads"] == model.num_heads
    if family != "imitator":
        assert cfg["decoder"]["period"] == model.period
    assert report["unexpected"] == []
    got, _, _ = read_model(dst)
    # every inference parameter is there once (weight norm g/v folded into one tensor)
    params = dict(model.named_parameters())
    n_ref = sum(p.numel() for k, p in params.items() if not k.endswith("masked_spec_embed")
                and not k.endswith("weight_g"))
    assert sum(v.size for v in got.values()) == n_ref
    pos = model.audio_encoder.audio_encoder.encoder.pos_conv_embed.conv if family == "mimic" else \
        model.audio_encoder.encoder.pos_conv_embed.conv
    np.testing.assert_allclose(got["encoder.pos_conv.weight"], pos.folded_weight().detach().permute(0, 2, 1).numpy(),
                               rtol=1e-5, atol=1e-6)
    dp = "decoder.transformer_decoder.layers.0." if family == "mimic" else "transformer_decoder.layers.0."
    w = params[dp + "multihead_attn.in_proj_weight"].detach().numpy()
    d = model.d_model
    np.testing.assert_array_equal(got["decoder.layers.0.cross_attn.v.weight"], w[2 * d:])
    np.testing.assert_array_equal(got["decoder.layers.0.self_attn.k.bias"],
                                  params[dp + "self_attn.in_proj_bias"].detach().numpy()[d:2 * d])
