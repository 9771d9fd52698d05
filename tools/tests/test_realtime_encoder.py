"""The real-time encoder (mimetic_tools.realtime_encoder): its definition (frames, lookahead,
causality, streaming = offline), the export to a model file with every family head, and, when
the CLI is built, the Swift runtime against the PyTorch reference on a Mimic head (the committed
fixtures cover Imitator and FaceFormer heads in Swift's ParityTests)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

from mimetic_tools import convert as cv
from mimetic_tools.realtime_encoder import (
    RealtimeEncoder, RealtimeEncoderConfig, export_model, htk_mel_filterbank, load_encoder, randomize_realtime_,
)
from mimetic_tools.reference import FAMILIES, randomize_
from mimetic_tools.reference.configs import SMALL_WAV2VEC2
from mimetic_tools.reference.realtime import with_realtime_encoder

torch.set_num_threads(1)

SMALL = dict(n_mels=16, hidden_size=16)
CONFIGS = {
    "default30": RealtimeEncoderConfig(),
    "default25": RealtimeEncoderConfig(fps=25),
    "general": RealtimeEncoderConfig(fps=25, mel_dilation=[1, 2], down_lookahead=1, kernel=[3, 2, 3],
                                     dilation=[1, 2, 4], lookahead=[0, 1, 0], **SMALL),
    "no_mel_layers": RealtimeEncoderConfig(mel_kernel=[], mel_dilation=[], mel_lookahead=[], window_ahead=0,
                                           kernel=[2], dilation=[1], lookahead=[1], **SMALL),
}


def audio(n, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n) / 16000
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.randn(n)
    return x.astype(np.float32)


def encoder(name, seed=1):
    return randomize_realtime_(RealtimeEncoder(CONFIGS[name]), seed).eval()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_streaming_equals_offline(name):
    enc = encoder(name)
    x = audio(13579)
    with torch.no_grad():
        off = enc(torch.from_numpy(x)[None])[0]
    assert off.shape == (enc.num_frames(x.size), enc.config.hidden_size)
    for sizes in ([1, 7, 333, 1000, 2], [160], [x.size]):
        st = enc.stream()
        rows, i, n = [], 0, 0
        while i < x.size:
            m = sizes[n % len(sizes)]
            rows.append(st.push(x[i:i + m]))
            i, n = i + m, n + 1
        rows.append(st.flush())
        s = torch.cat(rows)
        assert s.shape == off.shape
        assert float((s - off).abs().max() / off.abs().max()) <= 1e-5


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_causal_with_bounded_lookahead(name):
    """Frame t depends on no sample at or after samples_needed(t); its last mel window does reach it."""
    enc = encoder(name)
    cfg = enc.config
    x = audio(16000)
    with torch.no_grad():
        off = enc(torch.from_numpy(x)[None])[0]
    for t in (0, 3, 11, 20):
        need = cfg.samples_needed(t)
        assert need - t * 16000 / cfg.fps <= cfg.lookahead_samples + 1e-9
        y = x.copy()
        y[need:] = np.random.RandomState(t).randn(x.size - need)
        with torch.no_grad():
            other = enc(torch.from_numpy(y)[None])[0]
        assert torch.equal(other[:t + 1], off[:t + 1])
        assert not torch.equal(other[t + 1:], off[t + 1:])
    if name.startswith("default"):
        assert cfg.lookahead_ms <= 50


def test_frame_count_rule():
    cfg = RealtimeEncoderConfig()
    for n in range(400, 40000, 37):
        t = cfg.num_frames(n)
        assert t == n * 30 // 16000
        L = (n - 400) // 320 + 1
        assert int((L / 50.0) * 30) in (t, t - 1)  # the wav2vec VOCASET rule: equal or one frame fewer
    assert cfg.num_frames(cfg.minimum_samples) == 1 and cfg.num_frames(cfg.minimum_samples - 1) == 0
    assert cfg.mel_anchor(3 * 7) == 7 * 16000 // 30  # mel frame k t is anchored at motion frame t


def test_zero_padded_batch_is_exact():
    enc = encoder("general")
    xs = [audio(n, seed=n) for n in (9000, 12345, 4000)]
    width = max(x.size for x in xs)
    batch = torch.stack([torch.from_numpy(np.pad(x, (0, width - x.size))) for x in xs])
    with torch.no_grad():
        out = enc(batch)
        for b, x in enumerate(xs):
            alone = enc(torch.from_numpy(x)[None])[0]
            assert float((out[b, :alone.shape[0]] - alone).abs().max() / alone.abs().max()) <= 1e-5


def test_filterbank():
    fb = htk_mel_filterbank(80, 512, 0.0, 8000.0)
    assert fb.shape == (80, 257) and fb.max() <= 1 and (fb.sum(axis=1) > 0).all()
    try:
        import torchaudio.functional as AF
    except Exception:  # noqa: BLE001 - torchaudio is optional
        return
    ref = AF.melscale_fbanks(257, 0.0, 8000.0, 80, 16000, norm=None, mel_scale="htk").T.double().numpy()
    assert np.abs(fb - ref).max() < 1e-6


def test_config_validation():
    with pytest.raises(ValueError, match="lookahead"):
        RealtimeEncoderConfig(kernel=[3], dilation=[1], lookahead=[3])
    with pytest.raises(ValueError, match="power of two"):
        RealtimeEncoderConfig(n_fft=500)
    with pytest.raises(ValueError, match="equal lengths"):
        RealtimeEncoderConfig(kernel=[3, 3], dilation=[1], lookahead=[0])
    cfg = RealtimeEncoderConfig.from_config(CONFIGS["general"].to_config(), 25)
    assert cfg == CONFIGS["general"]


def _head(family, hidden, fps=30, d=16, seed=5):
    w2v = SMALL_WAV2VEC2.__class__(**{**SMALL_WAV2VEC2.to_dict(), "hidden_size": hidden})
    common = dict(d_model=d, num_heads=2, ffn_dim=2 * d, vertex_dim=3 * 10)
    if family == "faceformer":
        m = FAMILIES[family](w2v, **common, n_styles=2, period=fps, dataset="vocaset", fps=fps)
    elif family == "imitator":
        m = FAMILIES[family](w2v, **common, n_styles=2, fps=fps, start_token="style")
    else:
        m = FAMILIES[family](w2v, **common, align="interpolation", fps=fps, period=30, style_ffn_dim=32)
    return randomize_(m, seed).eval()


@pytest.mark.parametrize("family", ["faceformer", "imitator", "mimic"])
def test_export_with_every_head(tmp_path, family):
    from safetensors import safe_open

    enc = encoder("general")
    head = with_realtime_encoder(_head(family, 16, fps=25), enc)
    path = tmp_path / "m.safetensors"
    names = {"styles": {"names": ["a", "b"]}} if family != "mimic" else {}
    cfg = export_model(enc, head, names, path)
    assert cfg["encoder"]["type"] == "realtime" and cfg["alignment"] == {"mode": "native", "frames_offset": 0}
    assert cfg["fps"] == 25 and cfg["decoder"]["num_heads"] == 2
    if family == "imitator":
        assert cfg["imitator"]["start_token"] == "style"
    with safe_open(str(path), "np") as f:
        written = json.loads(f.metadata()["mimetic.config"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert written == cfg
    cv.check_tensors(cfg, tensors)
    # The file's encoder is the module (round trip through the canonical layout).
    again = load_encoder(str(path))
    x = torch.from_numpy(audio(8000))[None]
    with torch.no_grad():
        assert torch.equal(again(x), enc(x))
    # Canonical head tensors work as well.
    head_only = {k: v for k, v in tensors.items() if not k.startswith("encoder.") and k != "template"}
    cfg2 = export_model(enc, head_only, {k: v for k, v in cfg.items() if k not in ("encoder", "alignment")},
                        tmp_path / "m2.safetensors")
    assert cfg2 == cfg


def test_export_errors(tmp_path):
    enc = encoder("general")
    head = with_realtime_encoder(_head("faceformer", 16, fps=25), enc)
    with pytest.raises(cv.ConversionError, match="fps"):
        export_model(enc, head, {"fps": 30, "styles": {"names": ["a", "b"]}}, tmp_path / "x.safetensors")
    sd = {k: v for k, v in head.state_dict().items() if k != "vertice_map_r.bias"}
    with pytest.raises(cv.ConversionError, match="vertice_map_r.bias"):
        export_model(enc, sd, {"styles": {"names": ["a", "b"]}, "decoder": {"num_heads": 2}}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="hidden size"):
        with_realtime_encoder(_head("imitator", 32, fps=25), enc)
    bad = {"family": "imitator", "sample_rate": 16000, "fps": 25, "num_vertices": 10,
           "encoder": CONFIGS["general"].to_config(), "alignment": {"mode": "interpolate", "frames_offset": 0}}
    with pytest.raises(cv.ConversionError, match="native"):
        cv.validate_config({**bad, "decoder": {}, "styles": {"names": ["a"]}, "imitator": {}})
    # A downsampling kernel shorter than its stride (subframes) skips mel frames: refused, as the runtime does.
    short = {**CONFIGS["general"].to_config(), "down_kernel": 2}
    short["subframes"] = 3
    with pytest.raises(cv.ConversionError, match="down_kernel 2 is less than encoder.subframes 3"):
        cv.validate_config({**bad, "encoder": short, "alignment": {"mode": "native", "frames_offset": 0},
                            "decoder": {}, "styles": {"names": ["a"]}, "imitator": {}})


def _mimetic_binary():
    for env in ("MIMETIC_BIN", "MIMETIC_CLI"):
        if os.environ.get(env) and os.access(os.environ[env], os.X_OK):
            return os.environ[env]
    for c in (ROOT / ".build" / "debug" / "mimetic", ROOT / ".build" / "release" / "mimetic"):
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


@pytest.mark.skipif(_mimetic_binary() is None, reason="the mimetic CLI is not built")
def test_swift_runtime_matches_reference_with_a_mimic_head(tmp_path):
    enc = encoder("general", seed=3)
    model = with_realtime_encoder(_head("mimic", 16, fps=25, seed=9), enc)
    path = tmp_path / "mimic_rt.safetensors"
    export_model(enc, model, {}, path)
    x = audio(12000, seed=4)
    rng = np.random.RandomState(1)
    style = (0.3 * rng.randn(20, 30)).astype(np.float32)
    init = (0.3 * rng.randn(30)).astype(np.float32)
    ref = model.predict(x, style, init, np.zeros(30, np.float32))
    for name, arr in (("a", x), ("s", style), ("i", init)):
        np.save(tmp_path / f"{name}.npy", arr)
    r = subprocess.run([_mimetic_binary(), "stages", "--model", str(path), "--audio-npy", str(tmp_path / "a.npy"),
                        "--out", str(tmp_path / "st"), "--style-offsets", str(tmp_path / "s.npy"),
                        "--init-state", str(tmp_path / "i.npy")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for stage in ("mel", "downsampled", "encoder", "audio_features", "style_code", "decoder", "offsets"):
        got = np.load(tmp_path / "st" / f"{stage}.npy").reshape(ref[stage].shape)
        err = np.abs(got - ref[stage]).max() / max(np.abs(ref[stage]).max(), 1e-30)
        assert err <= 1e-4, (stage, err)
