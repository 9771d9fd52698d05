"""Tests of the PyTorch reference models, the original-layout checkpoint writers and the fixtures.

    python -m pytest tools/tests/test_reference.py -q
"""
from __future__ import annotations

import math
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest
import torch

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from mimetic_tools import checkpoints as ck
from mimetic_tools.reference import (
    FaceFormer, Imitator, Mimic, build_model, load_original_checkpoint, randomize_, round_to_float16_, run_reference,
)
from mimetic_tools.reference.common import (
    alibi_slopes, alignment_mask, biased_self_mask, cnn_length, interpolated_frames, normalize_audio, periodic_table,
)
from mimetic_tools.reference.configs import SMALL_WAV2VEC2, SMALL_WAV2VEC2_LAYER
from mimetic_tools.reference.wav2vec2 import Wav2Vec2

torch.set_num_threads(1)

KW = dict(d_model=32, num_heads=4, ffn_dim=64, vertex_dim=120)
REPO = os.path.dirname(TOOLS)
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")


def _audio(n=25600, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n) / 16000.0
    return (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.randn(n)).astype(np.float32)


def _ff(seed=1, **kw):
    return randomize_(FaceFormer(SMALL_WAV2VEC2, **{**KW, "n_styles": 3, **kw}), seed).eval()


def _imi(seed=2, **kw):
    return randomize_(Imitator(SMALL_WAV2VEC2, **{**KW, "n_styles": 3, **kw}), seed).eval()


def _mimic(seed=3, **kw):
    return randomize_(Mimic(SMALL_WAV2VEC2, **{**KW, "style_ffn_dim": 64, **kw}), seed).eval()


ONE_HOT = np.array([0, 1, 0], np.float32)
TEMPLATE = np.linspace(-0.1, 0.1, 120).astype(np.float32)
RNG = np.random.RandomState(42)
STYLE_OFFSETS = (0.5 * RNG.randn(30, 120)).astype(np.float32)
INIT_STATE = (0.5 * RNG.randn(120)).astype(np.float32)


def _predict(model, audio):
    if isinstance(model, Mimic):
        return model.predict(audio, STYLE_OFFSETS, INIT_STATE, TEMPLATE)
    return model.predict(audio, ONE_HOT, TEMPLATE)


# ----------------------------------------------------------------------------------------------
# masks, tables, frame counts
# ----------------------------------------------------------------------------------------------
def test_alibi_slopes():
    assert alibi_slopes(4) == [0.25, 0.0625, 0.015625, 0.00390625]
    assert alibi_slopes(8)[0] == 0.5 and len(alibi_slopes(6)) == 6 and len(alibi_slopes(12)) == 12


@pytest.mark.parametrize("period", [25, 30])
def test_biased_mask_matches_literal_definition(period):
    T = 70
    m = biased_self_mask(4, T, period).numpy()
    slopes = alibi_slopes(4)
    ref = np.full((4, T, T), -np.inf, np.float32)
    for h in range(4):
        for i in range(T):
            for j in range(i + 1):
                ref[h, i, j] = -np.float32(slopes[h]) * np.float32((i - j) // period)
    assert np.array_equal(m, ref)
    # the window only removes keys (identity while window >= T)
    assert np.array_equal(biased_self_mask(4, T, period, window=T).numpy(), m)
    w = biased_self_mask(4, T, period, window=16).numpy()
    i, j = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    band = (i - j >= 0) & (i - j < 16)
    assert np.all(np.isneginf(w[:, ~band])) and np.array_equal(w[:, band], m[:, band])


def test_plain_causal_mask_and_alignment():
    m = biased_self_mask(4, 5, None).numpy()
    assert np.all(m[:, np.tril_indices(5)[0], np.tril_indices(5)[1]] == 0)
    assert np.all(np.isneginf(m[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]]))
    pairs = alignment_mask(3, 6, "pairs").numpy()
    assert [list(np.where(~r)[0]) for r in pairs] == [[0, 1], [2, 3], [4, 5]]
    diag = alignment_mask(3, 3, "diagonal").numpy()
    assert np.array_equal(~diag, np.eye(3, dtype=bool))


def test_periodic_table():
    t = periodic_table(30, 8, 65).numpy()
    assert np.array_equal(t[0], t[30]) and np.array_equal(t[7], t[37]) and np.array_equal(t[64], t[4])
    assert np.array_equal(t[0], np.array([0, 1] * 4, np.float32))


def test_frame_count_quirks():
    assert interpolated_frames(205, 30) == 122  # exact arithmetic would give 123
    assert interpolated_frames(845, 30) == 506
    assert interpolated_frames(205, 25, 1) == 103
    assert cnn_length(400 + 320 * 204, SMALL_WAV2VEC2.conv_kernel, SMALL_WAV2VEC2.conv_stride) == 205


@pytest.mark.parametrize("L,T_voca", [(205, 122), (845, 506)])
def test_frame_counts_through_models(L, T_voca):
    n = 400 + 320 * (L - 1)
    audio = _audio(n)
    ff = _ff()
    st, feats = ff.audio_stages(audio)
    assert st["cnn"].shape[0] == L and st["aligned"].shape[0] == T_voca and feats.shape[1] == T_voca
    biwi = _ff(dataset="BIWI", period=25, fps=25)
    st, _ = biwi.audio_stages(audio)
    assert st["aligned"].shape[0] == L - (L % 2)  # odd L: last CNN frame dropped
    mimic_i = _mimic(align="interpolation")
    st, feats = mimic_i.audio_stages(audio)
    assert feats.shape[1] == int(L / 50 * 25) + 1
    mimic_c = _mimic(align="conv")
    st, feats = mimic_c.audio_stages(audio)
    assert st["encoder"].shape[0] == L and feats.shape[1] == math.ceil(L / 2)


def test_normalisation_float64():
    x = _audio(1000)
    y = normalize_audio(x, 1e-5)
    x64 = x.astype(np.float64)
    assert y.dtype == np.float32
    assert np.array_equal(y, ((x64 - x64.mean()) / np.sqrt(x64.var() + 1e-5)).astype(np.float32))


# ----------------------------------------------------------------------------------------------
# sliding window
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_ff, _imi, lambda: _imi(start_token="style"), _mimic])
def test_window_is_original_loop_when_T_le_max_seq_len(make):
    audio = _audio(400 + 320 * 39)  # L = 40 -> T = 24 (vocaset) / 21 (Mimic conv)
    model = make()
    full = _predict(model, audio)
    T = full["vertices"].shape[0]
    model.max_seq_len = T  # window exactly T: same mask as the original's 600-frame one
    exact = _predict(model, audio)
    for k in full:
        assert np.array_equal(full[k], exact[k]), k
    model.max_seq_len = T - 3  # a smaller window changes the last frames only
    win = _predict(model, audio)
    assert np.array_equal(win["vertices"][: T - 3], full["vertices"][: T - 3])
    assert not np.allclose(win["vertices"][T - 3:], full["vertices"][T - 3:], atol=1e-6)


def _sliced_faceformer(model: FaceFormer, audio, M):
    """Frame t decoded from the token slice E[t-M+1..t] only (PE index t mod p, relative bias)."""
    _, A = model.audio_stages(audio)
    T = A.shape[1]
    style = model.obj_vector(torch.from_numpy(ONE_HOT)[None])
    pe = model.PPE.table(T)
    tokens, outs = [style[0]], []
    for t in range(T):
        idx = torch.arange(max(0, t - M + 1), t + 1)
        n = len(idx)
        x = torch.stack([tokens[i] for i in idx.tolist()])[None] + pe[idx][None]
        H = model.transformer_decoder(x, A[:, idx], tgt_mask=biased_self_mask(4, n, model.period),
                                      memory_mask=alignment_mask(n, n, "diagonal"))
        y = model.vertice_map_r(H[:, -1])
        outs.append(y[0])
        tokens.append(model.vertice_map(y)[0] + style[0])
    return torch.stack(outs).numpy()


def _sliced_mimic(model: Mimic, audio, M):
    s = model.style_code(STYLE_OFFSETS)
    _, A = model.audio_stages(audio)
    T = A.shape[1]
    dec = model.decoder
    pe = dec.PPE.table(T)
    tokens, outs = [dec.motion_map(torch.from_numpy(INIT_STATE))], []
    for t in range(T):
        idx = torch.arange(max(0, t - M + 1), t + 1)
        n = len(idx)
        x = torch.stack([tokens[i] for i in idx.tolist()])[None] + pe[idx][None]
        H = dec.transformer_decoder(x, A[:, idx], s, biased_self_mask(4, n, model.period),
                                    alignment_mask(n, n, "diagonal"))
        y = dec.motion_map_r(H[:, -1])
        outs.append(y[0])
        tokens.append(dec.motion_map(y)[0])
    return torch.stack(outs).numpy()


@torch.no_grad()
@pytest.mark.parametrize("family", ["faceformer", "mimic"])
def test_window_rule_equals_token_slicing(family):
    audio = _audio(25600)
    M = 16
    model = _ff(max_seq_len=M) if family == "faceformer" else _mimic(max_seq_len=M, align="interpolation")
    got = _predict(model, audio)["offsets"]
    assert got.shape[0] > 30  # crosses the period of 30
    ref = _sliced_faceformer(model, audio, M) if family == "faceformer" else _sliced_mimic(model, audio, M)
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5 * max(1.0, float(np.abs(ref).max())))


# ----------------------------------------------------------------------------------------------
# Imitator start token
# ----------------------------------------------------------------------------------------------
def test_imitator_start_token_variants():
    audio = _audio(25600)
    zeros = _imi(seed=5, start_token="zeros")
    style = _imi(seed=5, start_token="style")
    a, b = _predict(zeros, audio), _predict(style, audio)
    assert np.array_equal(a["audio_features"], b["audio_features"])
    assert not np.allclose(a["decoder"], b["decoder"], atol=1e-4)
    assert not np.allclose(a["decoder"][0], b["decoder"][0], atol=1e-4)  # frame 0 recomputed with token s
    # T == 1 (L = 2 CNN frames -> int(2/50*30) = 1): both variants return the step-0 feature
    short = _audio(400 + 320)
    a1, b1 = _predict(zeros, short), _predict(style, short)
    assert a1["vertices"].shape == (1, 120)
    assert np.array_equal(a1["decoder"], b1["decoder"]) and np.array_equal(a1["vertices"], b1["vertices"])


def test_imitator_style_variant_semantics():
    """Style variant: output j>=1 equals decoding [s, v0, ...] where v0 came from the zero token."""
    audio = _audio(400 + 320 * 9)  # L = 10 -> T = 6
    m = _imi(seed=6, start_token="style")
    st = _predict(m, audio)
    with torch.no_grad():
        _, A = m.audio_stages(audio)
        s = m.obj_vector(torch.from_numpy(ONE_HOT)[None])[:, None]
        c = m.PPE.vector()
        T = A.shape[1]
        mask, cross = biased_self_mask(4, T, None), alignment_mask(T, T, "diagonal")
        v0 = m.transformer_decoder(torch.zeros_like(s) + c, A, tgt_mask=mask[:, :1, :1], memory_mask=cross[:1])
        toks = torch.cat([s, v0], 1)
        for t in range(1, T):
            V = m.transformer_decoder(toks + c, A, tgt_mask=mask[:, :t + 1, :t + 1], memory_mask=cross[:t + 1])
            toks = torch.cat([toks, V[:, -1:]], 1)
    np.testing.assert_allclose(st["decoder"], V[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(st["decoder"][1], toks[0, 2].numpy(), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# wav2vec 2.0 vs HF transformers
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("w2v", [SMALL_WAV2VEC2, SMALL_WAV2VEC2_LAYER], ids=["group_postln", "layer_stable"])
def test_wav2vec2_matches_transformers(w2v):
    transformers = pytest.importorskip("transformers")
    ours = randomize_(Wav2Vec2(w2v), 7).eval()
    cfg = transformers.Wav2Vec2Config(
        conv_dim=w2v.conv_dim, conv_kernel=w2v.conv_kernel, conv_stride=w2v.conv_stride, conv_bias=w2v.conv_bias,
        feat_extract_norm=w2v.feat_extract_norm, do_stable_layer_norm=w2v.stable_layer_norm,
        hidden_size=w2v.hidden_size, num_hidden_layers=w2v.num_layers, num_attention_heads=w2v.num_heads,
        intermediate_size=w2v.intermediate_size, num_conv_pos_embeddings=w2v.pos_conv_kernel,
        num_conv_pos_embedding_groups=w2v.pos_conv_groups, layer_norm_eps=w2v.layer_norm_eps,
    )
    hf = transformers.Wav2Vec2Model(cfg).eval()
    hf_keys = set(hf.state_dict())
    sd = ck._rename_weight_norm(ours.state_dict(), "new" if any("parametrizations" in k for k in hf_keys) else "old")
    hf.load_state_dict(sd, strict=True)
    x = torch.from_numpy(normalize_audio(_audio(16000), 1e-5))[None]
    with torch.no_grad():
        a = ours(x)
        b = hf(x).last_hidden_state
    assert a.shape == b.shape
    assert float((a - b).abs().max()) < 1e-5 * max(1.0, float(b.abs().max()))


# ----------------------------------------------------------------------------------------------
# checkpoint writers
# ----------------------------------------------------------------------------------------------
def test_faceformer_pth_layouts(tmp_path):
    m = _ff(period=30)
    old = ck.save_faceformer(m, tmp_path / "old.pth", weight_norm="old")
    new = ck.save_faceformer(m, tmp_path / "new.pth", weight_norm="new", zip_root="archive")
    a = torch.load(old, weights_only=True)
    b = torch.load(new, weights_only=True)
    assert "audio_encoder.encoder.pos_conv_embed.conv.weight_g" in a
    assert "audio_encoder.encoder.pos_conv_embed.conv.parametrizations.weight.original1" in b
    assert not any("weight_g" in k for k in b)
    assert a["PPE.pe"].shape == (1, 630, 32) and _ff(period=25, dataset="BIWI").state_dict()["PPE.pe"].shape == (1, 625, 32)
    for k in ["audio_encoder.feature_extractor.conv_layers.0.conv.weight", "audio_encoder.masked_spec_embed",
              "vertice_map.weight", "transformer_decoder.layers.0.self_attn.in_proj_weight",
              "transformer_decoder.layers.0.multihead_attn.out_proj.bias", "obj_vector.weight", "vertice_map_r.bias"]:
        assert k in a and k in b
    assert zipfile.ZipFile(new).namelist()[0].startswith("archive/")
    assert zipfile.ZipFile(old).namelist()[0].startswith("old/")
    # round trip through the loader
    fresh = FaceFormer(SMALL_WAV2VEC2, **KW, n_styles=3)
    load_original_checkpoint(fresh, new)
    audio = _audio(400 + 320 * 20)
    assert np.array_equal(_predict(fresh, audio)["vertices"], _predict(m, audio)["vertices"])


@pytest.mark.parametrize("variant", ["generalized", "personalized"])
def test_imitator_lightning_ckpt(tmp_path, variant):
    m = _imi()
    if variant == "personalized":
        p = ck.personalize_imitator(m)
        assert not torch.equal(p.obj_vector.weight[:, 2], m.obj_vector.weight[:, 2])
        assert torch.equal(p.obj_vector.weight[:, 1], m.obj_vector.weight[:, 1])
        assert not torch.equal(p.vertice_map_r.decoder.final_out_layer.weight, m.vertice_map_r.decoder.final_out_layer.weight)
        assert torch.equal(p.vertice_map_r.decoder[0].weight, m.vertice_map_r.decoder[0].weight)
        m = p
    before = set(sys.modules)
    path = ck.save_imitator_ckpt(m, tmp_path / "last.ckpt", variant=variant)
    assert not any(n.startswith("pytorch_lightning") for n in set(sys.modules) - before)
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)
    if "pytorch_lightning" not in sys.modules:
        with pytest.raises(ModuleNotFoundError):
            torch.load(path, weights_only=False)
    c = ck.load_lightning_checkpoint(path)
    assert c["pytorch-lightning_version"] == "1.0.8"
    assert {"epoch", "global_step", "callbacks", "optimizer_states", "lr_schedulers", "state_dict"} <= set(c)
    cb = {f"{k.__module__}.{k.__qualname__}" for k in c["callbacks"]}
    assert "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint" in cb
    assert ("pytorch_lightning.callbacks.early_stopping.EarlyStopping" in cb) == (variant == "personalized")
    sd = c["state_dict"]
    assert all(k.startswith("nn_model.") for k in sd)
    assert sd["nn_model.PPE.pe"].shape == (600, 1, 32)
    for k in ["nn_model.audio_encoder.encoder.pos_conv_embed.conv.weight_g", "nn_model.obj_vector.weight",
              "nn_model.vertice_map_r.decoder.6.weight", "nn_model.vertice_map_r.decoder.final_out_layer.bias",
              "nn_model.transformer_decoder.layers.0.norm3.weight"]:
        assert k in sd
    assert "nn_model.vertice_map_r.decoder.8.weight" not in sd
    fresh = Imitator(SMALL_WAV2VEC2, **KW, n_styles=3)
    load_original_checkpoint(fresh, path)
    audio = _audio(400 + 320 * 20)
    assert np.array_equal(_predict(fresh, audio)["vertices"], _predict(m, audio)["vertices"])


def test_mimic_epoch_pth(tmp_path):
    m = _mimic(align="conv")
    path = ck.save_mimic(m, str(tmp_path), epoch=125, train_ids=5)
    assert os.path.basename(path) == "Epoch_125.pth"
    c = torch.load(path, weights_only=True)
    assert set(c) == {"params", "model", "optimizer", "start_epoch"} and c["start_epoch"] == 125
    net = c["params"]["NETWORK"]
    assert net["audio_feature_align"] == "conv" and net["feature_dim"] == 32 and net["decoder"]["nhead"] == 4
    assert c["params"]["DATA"]["video_fps"] == 25
    sd = c["model"]
    assert "logit_scale" in sd and sd["logit_scale"].shape == ()
    for k in ["audio_encoder.audio_encoder.feature_extractor.conv_layers.0.layer_norm.weight",
              "audio_encoder.down_sample.weight", "audio_encoder.audio_feature_map.weight",
              "style_encoder.conv_layers.4.layer_norm.bias", "style_encoder.PE.pe",
              "style_encoder.transformer_encoder.layers.3.linear1.weight", "style_encoder.feature_map.weight",
              "decoder.PPE.pe", "decoder.transformer_decoder.layers.0.norm2.style.affine.weight",
              "decoder.transformer_decoder.layers.0.self_attn.in_proj_bias",
              "decoder.transformer_decoder.layers.0.linear1.bias",
              "decoder.transformer_decoder.encoder.layers.0.self_attn.in_proj_weight",
              "decoder.transformer_decoder.decoder.layers.0.multihead_attn.in_proj_weight",
              "decoder.transformer_decoder.decoder.norm.weight",
              "content_encoder.conv_layers.0.conv.weight", "content_encoder.feature_projection.projection.weight",
              "content_grl_head.class_head.weight", "style_class_head.class_head.bias",
              "decoder.motion_map.weight", "decoder.motion_map_r.bias"]:
        assert k in sd, k
    assert "content_encoder.conv_layers.0.layer_norm.weight" not in sd
    assert sd["decoder.PPE.pe"].shape == (1, 630, 32) and sd["style_encoder.PE.pe"].shape == (5000, 1, 32)
    interp = _mimic(align="interpolation")
    sd2 = torch.load(ck.save_mimic(interp, str(tmp_path / "i.pth"), epoch=5, weight_norm="new"), weights_only=True)
    assert "audio_encoder.down_sample.weight" not in sd2["model"]
    assert sd2["params"]["NETWORK"]["audio_feature_align"] == "interpolation"
    fresh = Mimic(SMALL_WAV2VEC2, **KW, style_ffn_dim=64, align="conv")
    load_original_checkpoint(fresh, path)
    audio = _audio(400 + 320 * 20)
    assert np.array_equal(_predict(fresh, audio)["vertices"], _predict(m, audio)["vertices"])


def test_random_init_covers_everything():
    for m in (_ff(), _imi(), _mimic()):
        for name, p in m.named_parameters():
            assert float(p.detach().abs().max()) > 0, name
            assert not torch.all(p == p.flatten()[0]), name  # nothing left constant (zero-init heads)
    a, b = _ff(seed=9), _ff(seed=9)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    saln = _mimic().decoder.transformer_decoder.layers[0].norm1.style.affine.bias.detach()[:32]
    assert 0.6 < float(saln.mean()) < 1.4


def test_round_to_float16():
    m = round_to_float16_(_ff())
    for name, p in m.named_parameters():
        if not name.endswith("weight_g"):
            assert torch.equal(p, p.half().float()), name
    w = m.audio_encoder.encoder.pos_conv_embed.conv.folded_weight().detach()
    assert float((w - w.half().float()).abs().max()) < 1e-6


def test_run_reference_by_name():
    audio = _audio(400 + 320 * 10)  # L = 11
    st = run_reference("faceformer_vocaset", audio, small=True, seed=3, style=2)
    assert st["cnn"].shape == (11, 32) and st["vertices"].shape == (int(11 / 50 * 30), 120)
    st = run_reference("mimic_conv", audio, small=True, seed=3)
    assert st["vertices"].shape == (6, 120) and st["style_code"].shape == (32,)
    full = build_model("faceformer_vocaset")
    assert full.vertex_dim == 15069 and full.d_model == 64 and full.audio_encoder.config.hidden_size == 768


# ----------------------------------------------------------------------------------------------
# fixtures are up to date (no converter needed: the reference is recomputed from its seed)
# ----------------------------------------------------------------------------------------------
def _fixture_cases():
    from mimetic_tools.dev import make_fixtures

    return make_fixtures


@pytest.mark.skipif(not os.path.isdir(FIXTURES) or not any(f.endswith(".expected.safetensors") for f in os.listdir(FIXTURES)),
                    reason="no fixtures generated")
def test_fixtures_match_reference():
    from safetensors.numpy import load_file
    from safetensors import safe_open

    mf = _fixture_cases()
    audio = mf.speech_like_audio()
    for case in mf.CASES:
        path = os.path.join(FIXTURES, f"{case.name}.expected.safetensors")
        if not os.path.exists(path):
            continue
        exp = load_file(path)
        with safe_open(path, "np") as f:
            meta = f.metadata()
        assert meta["case"] == case.name
        assert np.array_equal(exp["audio"], audio)
        model = mf.build_reference(case)
        if mf.SMALL[case.base][0] == "imitator" and case.writer.get("variant") == "personalized":
            model = ck.personalize_imitator(model, seed=case.seed + 1000)
        if "style_offsets" in exp:
            st = model.predict(audio, exp["style_offsets"], exp["init_state"], exp["template"])
        else:
            st = model.predict(audio, exp["style_one_hot"], exp["template"])
        for k, v in st.items():
            np.testing.assert_allclose(exp[k], v, rtol=0, atol=1e-5 * max(1.0, float(np.abs(v).max())), err_msg=f"{case.name}:{k}")
