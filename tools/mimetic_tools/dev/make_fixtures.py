"""Generate the golden parity fixtures in Tests/Fixtures (deterministic).

The `realtime_*` cases put the real-time encoder (mimetic_tools.realtime_encoder) in front of a
family head and are written with its `export_model`; their stages are `mel`, `downsampled`,
`encoder`, `audio_features`, `decoder`, `offsets`, `vertices`.

For each case: build the small reference model, randomise every parameter, write the checkpoint in
the ORIGINAL layout to a temporary directory, convert it with
`mimetic_tools.convert.convert_checkpoint` to `<case>.model.safetensors`, and write the reference's
stage outputs to `<case>.expected.safetensors`.

    python -m mimetic_tools.dev.make_fixtures [--out Tests/Fixtures] [--only case1,case2]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import checkpoints as ckpt
from .checkout import repository_root
from ..reference import FAMILIES, randomize_, round_to_float16_
from ..reference.configs import SMALL, SMALL_STYLES, SMALL_VERTICES, SMALL_WAV2VEC2, SMALL_WAV2VEC2_LAYER

SAMPLE_RATE = 16000
AUDIO_SECONDS = 1.6
STYLE_INDEX = 1
MIMIC_STYLE_FRAMES = 30
WINDOW = 16

TOL_F32 = (
    "float32 reference (torch CPU, literal O(T^2) loop). A correct float32 port lands near 1e-6 "
    "relative; suggested check: max|a-b| <= 1e-4 * max(1, max|b|) per stage."
)
TOL_F16 = (
    "weights rounded to float16 in the reference (weight-normed pos conv folded first), compute in "
    "float32; same tolerance as the float32 cases."
)


@dataclass
class Case:
    name: str
    base: str  # key of configs.SMALL
    seed: int
    writer: dict = field(default_factory=dict)  # layout options
    model_kwargs: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)  # converter overrides (besides encoder heads)
    wav2vec: object = None
    dtype: str = "f32"
    note: str = ""


CASES = [
    Case("faceformer_vocaset", "faceformer_vocaset", 101, dict(weight_norm="old"),
         note="FaceFormer VOCASET: fps 30, period 30, interpolate; .pth with weight_g/weight_v"),
    Case("faceformer_biwi", "faceformer_biwi", 102, dict(weight_norm="new"),
         note="FaceFormer BIWI: fps 25, period 25, pairs; .pth with parametrizations names"),
    Case("imitator_zeros", "imitator_zeros", 103, dict(variant="generalized"),
         note="Imitator HEAD (start token zeros); Lightning .ckpt (generalized)"),
    Case("imitator_style", "imitator_style", 104, dict(variant="personalized", weight_norm="new"),
         overrides={"imitator": {"start_token": "style"}},
         note="Imitator cd06b05 (start token style); Lightning .ckpt (personalized layout)"),
    Case("mimic_conv", "mimic_conv", 105, dict(epoch=125),
         note="Mimic, conv alignment (Conv1d(H,H,15,2,7) after the encoder); Epoch_125.pth"),
    Case("mimic_interp", "mimic_interp", 106, dict(epoch=50, weight_norm="new"),
         note="Mimic, interpolation to int(L/50*25)+1 frames, fps 25, period 30; Epoch_50.pth"),
    Case("wav2vec2_layer", "faceformer_vocaset", 107, dict(weight_norm="new"), wav2vec=SMALL_WAV2VEC2_LAYER,
         note="wav2vec2 layer-norm/stable variant (conv bias, pre-LN layers) under a FaceFormer-vocaset head"),
    Case("faceformer_window", "faceformer_vocaset", 108, dict(weight_norm="old", zip_root="archive"),
         model_kwargs={"max_seq_len": WINDOW}, overrides={"decoder": {"max_seq_len": WINDOW}},
         note=f"FaceFormer vocaset, max_seq_len {WINDOW} < T (sliding window); zip records under archive/"),
    Case("imitator_window", "imitator_zeros", 109, dict(variant="generalized", weight_norm="new"),
         model_kwargs={"max_seq_len": WINDOW}, overrides={"decoder": {"max_seq_len": WINDOW}},
         note=f"Imitator (zeros), max_seq_len {WINDOW} < T (sliding window)"),
    Case("mimic_window", "mimic_interp", 110, dict(epoch=5, zip_root="archive"),
         model_kwargs={"max_seq_len": WINDOW}, overrides={"decoder": {"max_seq_len": WINDOW}},
         note=f"Mimic interpolation, max_seq_len {WINDOW} < T (sliding window); zip records under archive/"),
    Case("faceformer_vocaset_f16", "faceformer_vocaset", 101, dict(weight_norm="old"), dtype="f16",
         note="faceformer_vocaset converted with dtype f16; reference weights rounded to float16"),
]



@dataclass
class RealtimeCase:
    """A model with the real-time encoder (mimetic_tools.realtime_encoder) and a family head,
    exported with `export_model` from the reference head's original-layout state dict."""
    name: str
    family: str
    seed: int
    fps: int
    encoder: dict
    head: dict
    note: str = ""


REALTIME_AUDIO_SECONDS = 0.75
_RT_HEAD = dict(d_model=16, num_heads=2, ffn_dim=32, vertex_dim=3 * SMALL_VERTICES, n_styles=SMALL_STYLES)
REALTIME_CASES = [
    RealtimeCase("realtime_imitator", "imitator", 201, 30,
                 dict(n_mels=16, hidden_size=16, mel_kernel=[3, 3], mel_dilation=[1, 1], mel_lookahead=[1, 1],
                      kernel=[3, 3, 3], dilation=[1, 2, 4], lookahead=[0, 0, 0]),
                 dict(_RT_HEAD, start_token="zeros", input_norm_eps=1e-7),
                 note="realtime encoder (30 fps, 3 mel frames per frame, the default layout in small) + Imitator head"),
    RealtimeCase("realtime_faceformer", "faceformer", 202, 25,
                 dict(n_mels=16, hidden_size=16, mel_kernel=[3, 3], mel_dilation=[1, 2], mel_lookahead=[1, 1],
                      down_lookahead=1, kernel=[3, 2, 3], dilation=[1, 2, 4], lookahead=[0, 1, 0]),
                 dict(_RT_HEAD, period=25, dataset="vocaset"),
                 note="realtime encoder (25 fps, 4 mel frames per frame, dilated mel layer, lookahead in the "
                      "stride layer and a motion-rate layer) + FaceFormer head"),
]


# ----------------------------------------------------------------------------------------------
def speech_like_audio(seconds: float = AUDIO_SECONDS, sr: int = SAMPLE_RATE, seed: int = 7) -> np.ndarray:
    """Deterministic speech-like signal: glottal harmonics with a gliding pitch shaped by moving
    formants, a syllabic amplitude envelope, fricative noise bursts and a little background noise."""
    rng = np.random.RandomState(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    f0 = 125.0 + 35.0 * np.sin(2 * np.pi * 1.1 * t) + 12.0 * np.sin(2 * np.pi * 3.7 * t + 0.4)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    f1 = 550.0 + 200.0 * np.sin(2 * np.pi * 2.3 * t + 1.0)
    f2 = 1500.0 + 450.0 * np.sin(2 * np.pi * 1.7 * t + 2.0)
    voiced = np.zeros(n)
    for k in range(1, 31):
        fk = k * f0
        gain = (np.exp(-0.5 * ((fk - f1) / 120.0) ** 2) + 0.6 * np.exp(-0.5 * ((fk - f2) / 180.0) ** 2)
                + 0.05 / k)
        voiced += gain * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    syll = np.clip(np.sin(2 * np.pi * 3.9 * t + 0.3), 0.0, None) ** 1.5
    syll *= 0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t) ** 2
    noise = rng.randn(n)
    fric = np.convolve(noise, [1.0, -0.95], mode="same")  # crude high-pass
    burst = np.clip(np.sin(2 * np.pi * 3.9 * t + 0.3 + np.pi), 0.0, None) ** 4
    x = voiced * syll + 0.25 * fric * burst + 0.01 * noise
    x = 0.5 * x / np.max(np.abs(x))
    return x.astype(np.float32)


def build_reference(case: Case) -> torch.nn.Module:
    family, kwargs = SMALL[case.base]
    kwargs = dict(kwargs, **case.model_kwargs)
    w2v = copy.deepcopy(case.wav2vec or SMALL_WAV2VEC2)
    model = FAMILIES[family](w2v, **kwargs)
    randomize_(model, case.seed)
    if case.dtype == "f16":
        round_to_float16_(model)
    return model.eval()


def write_original(case: Case, model: torch.nn.Module, tmp: str) -> str:
    family = SMALL[case.base][0]
    w = dict(case.writer)
    if family == "faceformer":
        return ckpt.save_faceformer(model, os.path.join(tmp, f"{case.name}.pth"), **w)
    if family == "imitator":
        if w.get("variant") == "personalized":
            model = ckpt.personalize_imitator(model, seed=case.seed + 1000)
        return ckpt.save_imitator_ckpt(model, os.path.join(tmp, f"{case.name}.ckpt"), seed=case.seed, **w), model
    epoch = w.pop("epoch", 125)
    os.makedirs(os.path.join(tmp, case.name), exist_ok=True)
    return ckpt.save_mimic(model, os.path.join(tmp, case.name, f"Epoch_{epoch}.pth"), epoch=epoch,
                           train_ids=5, seed=case.seed, **w)


def expected_config(case: Case, model) -> dict:
    """Fields of the converted config that must agree with the reference model."""
    family = SMALL[case.base][0]
    w2v = model.audio_encoder.audio_encoder.config if family == "mimic" else model.audio_encoder.config
    exp = {
        "family": family,
        "num_vertices": SMALL_VERTICES,
        "encoder.conv_dim": w2v.conv_dim,
        "encoder.conv_kernel": w2v.conv_kernel,
        "encoder.conv_stride": w2v.conv_stride,
        "encoder.conv_bias": w2v.conv_bias,
        "encoder.feat_extract_norm": w2v.feat_extract_norm,
        "encoder.stable_layer_norm": w2v.stable_layer_norm,
        "encoder.hidden_size": w2v.hidden_size,
        "encoder.num_layers": w2v.num_layers,
        "encoder.num_heads": w2v.num_heads,
        "encoder.intermediate_size": w2v.intermediate_size,
        "encoder.pos_conv_kernel": w2v.pos_conv_kernel,
        "encoder.pos_conv_groups": w2v.pos_conv_groups,
        "encoder.input_norm_eps": model.input_norm_eps,
        "decoder.d_model": model.d_model,
        "decoder.num_heads": model.num_heads,
        "decoder.max_seq_len": model.max_seq_len,
    }
    if family == "faceformer":
        biwi = model.dataset == "BIWI"
        exp.update({"fps": model.fps, "alignment.mode": "pairs" if biwi else "interpolate",
                    "alignment.frames_offset": 0, "decoder.period": model.period,
                    "decoder.attention_bias": "alibi", "decoder.positional": "periodic", "decoder.norm": "layer"})
    elif family == "imitator":
        exp.update({"fps": model.fps, "alignment.mode": "interpolate", "alignment.frames_offset": 0,
                    "decoder.attention_bias": "causal", "decoder.positional": "constant",
                    "decoder.norm": "layer", "imitator.start_token": model.start_token, "imitator.mlp_layers": 4})
    else:
        conv = model.align == "conv"
        exp.update({"fps": model.fps, "alignment.mode": "conv" if conv else "interpolate",
                    "alignment.frames_offset": 0 if conv else 1, "decoder.period": model.period,
                    "decoder.attention_bias": "alibi", "decoder.positional": "periodic", "decoder.norm": "saln",
                    "mimic.style_conv_layers": 5, "mimic.style_layers": 4, "mimic.style_heads": 4,
                    "mimic.style_ffn_dim": 64})
    return exp


def _get(cfg: dict, dotted: str):
    node = cfg
    for p in dotted.split("."):
        if not isinstance(node, dict) or p not in node:
            return "<missing>"
        node = node[p]
    return node


def check_config(case: Case, cfg: dict, model) -> list[str]:
    errs = []
    for k, v in expected_config(case, model).items():
        got = _get(cfg, k)
        if isinstance(v, float) or isinstance(got, float):
            ok = isinstance(got, (int, float)) and abs(float(got) - float(v)) <= 1e-12 * max(1.0, abs(float(v)))
        else:
            ok = got == v
        if not ok:
            errs.append(f"config {k}: converter wrote {got!r}, reference uses {v!r}")
    return errs


def spot_check_tensors(case: Case, model, tensors: dict) -> list[str]:
    """Compare a few converted tensors with the reference parameters (the mapping of docs/model-format.md)."""
    family = SMALL[case.base][0]
    tol = 2e-3 if case.dtype == "f16" else 1e-6
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    w = "audio_encoder.audio_encoder." if family == "mimic" else "audio_encoder."
    dec = "decoder.transformer_decoder.layers.0." if family == "mimic" else "transformer_decoder.layers.0."
    d = model.d_model
    wn = (model.audio_encoder.audio_encoder if family == "mimic" else model.audio_encoder).encoder.pos_conv_embed.conv
    checks = {
        "encoder.conv.0.weight": np.transpose(sd[w + "feature_extractor.conv_layers.0.conv.weight"], (0, 2, 1)),
        "encoder.conv.6.weight": np.transpose(sd[w + "feature_extractor.conv_layers.6.conv.weight"], (0, 2, 1)),
        "encoder.pos_conv.weight": np.transpose(wn.folded_weight().detach().numpy(), (0, 2, 1)),
        "encoder.layers.1.attention.q.weight": sd[w + "encoder.layers.1.attention.q_proj.weight"],
        "encoder.layers.1.norm2.bias": sd[w + "encoder.layers.1.final_layer_norm.bias"],
        "decoder.layers.0.self_attn.k.weight": sd[dec + "self_attn.in_proj_weight"][d:2 * d],
        "decoder.layers.0.cross_attn.v.bias": sd[dec + "multihead_attn.in_proj_bias"][2 * d:],
        "decoder.layers.0.ffn.down.weight": sd[dec + "linear2.weight"],
    }
    if family == "faceformer":
        checks.update({"motion_in.weight": sd["vertice_map.weight"], "motion_out.bias": sd["vertice_map_r.bias"],
                       "style.weight": sd["obj_vector.weight"], "audio_map.weight": sd["audio_feature_map.weight"],
                       "decoder.layers.0.norm3.weight": sd[dec + "norm3.weight"]})
    elif family == "imitator":
        checks.update({"style.weight": sd["obj_vector.weight"],
                       "motion_decoder.3.weight": sd["vertice_map_r.decoder.6.weight"],
                       "motion_out.weight": sd["vertice_map_r.decoder.final_out_layer.weight"]})
    else:
        checks.update({"motion_in.weight": sd["decoder.motion_map.weight"],
                       "motion_out.bias": sd["decoder.motion_map_r.bias"],
                       "audio_map.weight": sd["audio_encoder.audio_feature_map.weight"],
                       "decoder.layers.0.norm2.style.weight": sd[dec + "norm2.style.affine.weight"],
                       "style_encoder.conv.4.weight": np.transpose(sd["style_encoder.conv_layers.4.conv.weight"], (0, 2, 1)),
                       "style_encoder.layers.3.attention.v.weight":
                           sd["style_encoder.transformer_encoder.layers.3.self_attn.in_proj_weight"][2 * d:],
                       "style_encoder.output.bias": sd["style_encoder.feature_map.bias"]})
        if model.align == "conv":
            checks["encoder.downsample.weight"] = np.transpose(sd["audio_encoder.down_sample.weight"], (0, 2, 1))
    errs = []
    for name, ref in checks.items():
        if name not in tensors:
            errs.append(f"tensor {name}: missing in the converted file")
            continue
        got = np.asarray(tensors[name], dtype=np.float32)
        if got.shape != ref.shape:
            errs.append(f"tensor {name}: shape {list(got.shape)}, expected {list(ref.shape)}")
            continue
        err = float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))
        if err > tol:
            errs.append(f"tensor {name}: max rel. difference {err:.3g} from the reference parameter")
    return errs


# ----------------------------------------------------------------------------------------------
_ST_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32",
              np.dtype(np.int64): "I64", np.dtype(np.float64): "F64"}


def write_safetensors(path: str, arrays: dict, metadata: dict) -> None:
    """Byte-reproducible safetensors writer (the Rust writer emits `__metadata__` in hash order).
    Same layout rules as safetensors: tensors ordered by descending dtype size, then name, so every
    tensor's data stays aligned to its element size; header padded with spaces to 8 bytes."""
    import struct

    items = sorted(arrays.items(), key=lambda kv: (-np.asarray(kv[1]).dtype.itemsize, kv[0]))
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, offset = [], 0
    for name, arr in items:
        a = np.ascontiguousarray(arr)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = a.tobytes()
        header[name] = {"dtype": _ST_DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def canonicalize_safetensors(path: str) -> None:
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    write_safetensors(path, arrays, meta)


def make_case(case: Case, audio: np.ndarray, out_dir: str, convert_checkpoint) -> dict:
    from safetensors.numpy import load_file
    from safetensors import safe_open

    family = SMALL[case.base][0]
    model = build_reference(case)
    rng = np.random.RandomState(case.seed + 5000)
    template = (0.1 * rng.randn(SMALL_VERTICES, 3)).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        res = write_original(case, model, tmp)
        src, model = res if isinstance(res, tuple) else (res, model)  # personalised copy for Imitator
        overrides = {"encoder": {"num_heads": SMALL_WAV2VEC2.num_heads}}
        for k, v in case.overrides.items():
            overrides[k] = {**overrides.get(k, {}), **v} if isinstance(v, dict) else v
        model_path = os.path.join(out_dir, f"{case.name}.model.safetensors")
        cfg = convert_checkpoint(src, model_path, overrides=overrides, template=template, dtype=case.dtype)
    canonicalize_safetensors(model_path)  # same tensors and metadata, reproducible bytes

    errs = check_config(case, cfg, model)
    tensors = load_file(model_path)
    errs += spot_check_tensors(case, model, tensors)
    if "template" not in tensors:
        errs.append("converted file has no `template`")
        tmpl = template.reshape(-1)
    else:
        tmpl = np.asarray(tensors["template"], np.float32).reshape(-1)
        if not np.allclose(tmpl, template.reshape(-1), rtol=0, atol=1e-3):
            errs.append("converted `template` differs from the template passed in")
    if errs:
        raise RuntimeError(f"{case.name}: converter output disagrees with the reference:\n  " + "\n  ".join(errs))

    extra = {}
    if family == "mimic":
        style_offsets = (0.5 * rng.randn(MIMIC_STYLE_FRAMES, 3 * SMALL_VERTICES)).astype(np.float32)
        init_state = (0.5 * rng.randn(3 * SMALL_VERTICES)).astype(np.float32)
        stages = model.predict(audio, style_offsets, init_state, tmpl)
        extra = {"style_offsets": style_offsets, "init_state": init_state}
    else:
        one_hot = np.zeros(SMALL_STYLES, np.float32)
        one_hot[STYLE_INDEX] = 1.0
        stages = model.predict(audio, one_hot, tmpl)
        extra = {"style_one_hot": one_hot}

    out = {"audio": audio.astype(np.float32), "template": tmpl.astype(np.float32)}
    out.update({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in stages.items()})
    out.update(extra)
    meta = {
        "case": case.name,
        "family": family,
        "tolerance_note": TOL_F16 if case.dtype == "f16" else TOL_F32,
        "description": case.note,
        "num_frames": str(stages["vertices"].shape[0]),
        "max_seq_len": str(model.max_seq_len),
        "model_dtype": case.dtype,
    }
    if family != "mimic":
        meta["style_index"] = str(STYLE_INDEX)
    exp_path = os.path.join(out_dir, f"{case.name}.expected.safetensors")
    write_safetensors(exp_path, out, meta)
    with safe_open(exp_path, "np") as f:  # read back with the reference implementation
        assert set(f.keys()) == set(out) and f.metadata() == meta
        for k, v in out.items():
            assert np.array_equal(f.get_tensor(k), v), k
    return {"model": model_path, "expected": exp_path, "shapes": {k: list(v.shape) for k, v in out.items()}}


def make_realtime_case(case: RealtimeCase, audio: np.ndarray, out_dir: str) -> dict:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    from ..realtime_encoder import RealtimeEncoder, RealtimeEncoderConfig, export_model, randomize_realtime_
    from ..reference.realtime import with_realtime_encoder

    enc_cfg = RealtimeEncoderConfig(fps=case.fps, **case.encoder)
    encoder = randomize_realtime_(RealtimeEncoder(enc_cfg), case.seed)
    w2v = copy.deepcopy(SMALL_WAV2VEC2)
    w2v.hidden_size = enc_cfg.hidden_size  # only its audio map's width survives: the encoder is replaced
    model = FAMILIES[case.family](w2v, fps=case.fps, **case.head)
    randomize_(model, case.seed + 1)
    model = with_realtime_encoder(model, encoder).eval()
    rng = np.random.RandomState(case.seed + 5000)
    template = (0.1 * rng.randn(SMALL_VERTICES, 3)).astype(np.float32)
    names = [f"style{i}" for i in range(SMALL_STYLES)]

    model_path = os.path.join(out_dir, f"{case.name}.model.safetensors")
    cfg = export_model(encoder, model, {"styles": {"names": names}}, model_path, template=template)
    canonicalize_safetensors(model_path)
    errs = []
    if cfg["encoder"] != json.loads(json.dumps(enc_cfg.to_config())):
        errs.append(f"encoder section {cfg['encoder']} differs from {enc_cfg.to_config()}")
    if cfg["alignment"] != {"mode": "native", "frames_offset": 0} or cfg["fps"] != case.fps:
        errs.append(f"alignment / fps: {cfg['alignment']}, {cfg['fps']}")
    if cfg["family"] != case.family or cfg["decoder"]["d_model"] != case.head["d_model"]:
        errs.append(f"family / decoder: {cfg['family']}, {cfg['decoder']}")
    tensors = load_file(model_path)
    for k, v in encoder.canonical_tensors().items():
        if not np.array_equal(tensors.get(k), v):
            errs.append(f"tensor {k} differs from the encoder's")
    if not np.array_equal(tensors["audio_map.weight"], model.audio_feature_map.weight.detach().numpy()):
        errs.append("audio_map.weight differs from the head's")
    if errs:
        raise RuntimeError(f"{case.name}: exported model disagrees with the reference:\n  " + "\n  ".join(errs))

    tmpl = template.reshape(-1)
    one_hot = np.zeros(SMALL_STYLES, np.float32)
    one_hot[STYLE_INDEX] = 1.0
    stages = model.predict(audio, one_hot, tmpl)
    T = enc_cfg.num_frames(audio.size)
    assert stages["offsets"].shape[0] == T and stages["mel"].shape[0] == enc_cfg.needed_counts(T)[0]
    out = {"audio": audio.astype(np.float32), "template": tmpl.astype(np.float32), "style_one_hot": one_hot}
    out.update({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in stages.items()})
    meta = {
        "case": case.name,
        "family": case.family,
        "encoder": "realtime",
        "tolerance_note": TOL_F32,
        "description": case.note,
        "num_frames": str(T),
        "max_seq_len": str(model.max_seq_len),
        "model_dtype": "f32",
        "style_index": str(STYLE_INDEX),
        "lookahead_ms": f"{enc_cfg.lookahead_ms:.3f}",
    }
    exp_path = os.path.join(out_dir, f"{case.name}.expected.safetensors")
    write_safetensors(exp_path, out, meta)
    with safe_open(exp_path, "np") as f:
        assert set(f.keys()) == set(out) and f.metadata() == meta
    return {"model": model_path, "expected": exp_path, "shapes": {k: list(v.shape) for k, v in out.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(repository_root(), "Tests", "Fixtures"))
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    torch.set_num_threads(1)  # bitwise-reproducible CPU reductions
    from ..convert import convert_checkpoint

    os.makedirs(args.out, exist_ok=True)
    only = {c for c in args.only.split(",") if c}
    unknown = only - {c.name for c in CASES} - {c.name for c in REALTIME_CASES}
    if unknown:
        ap.error(f"unknown cases: {sorted(unknown)}")
    audio = speech_like_audio()
    total = 0
    for case in CASES:
        if only and case.name not in only:
            continue
        info = make_case(case, audio, args.out, convert_checkpoint)
        sizes = [os.path.getsize(info["model"]), os.path.getsize(info["expected"])]
        total += sum(sizes)
        print(f"{case.name:24s} model {sizes[0] / 1024:7.1f} KiB  expected {sizes[1] / 1024:7.1f} KiB")
        if args.verbose:
            print("   ", json.dumps(info["shapes"]))
    rt_audio = speech_like_audio(REALTIME_AUDIO_SECONDS)
    for case in REALTIME_CASES:
        if only and case.name not in only:
            continue
        info = make_realtime_case(case, rt_audio, args.out)
        sizes = [os.path.getsize(info["model"]), os.path.getsize(info["expected"])]
        total += sum(sizes)
        print(f"{case.name:24s} model {sizes[0] / 1024:7.1f} KiB  expected {sizes[1] / 1024:7.1f} KiB")
        if args.verbose:
            print("   ", json.dumps(info["shapes"]))
    print(f"total {total / 1024 / 1024:.2f} MiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
