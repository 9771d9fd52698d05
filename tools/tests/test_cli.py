"""End-to-end tests of the `mimetic` command line (build it first: `swift build`).

Runs the CLI on the converted fixture models (Tests/Fixtures/*.model.safetensors, small random-weight
models) and examples/audio/hello.wav, then feeds it every kind of bad input: each must exit with
status 1 and a one-line message on stderr that names the problem.

The binary: $MIMETIC_BIN, else `swift build --show-bin-path`/mimetic, else .build/{debug,release}/mimetic;
the tests are skipped (with the reason) when none is built.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"
FACEFORMER = FIXTURES / "faceformer_vocaset.model.safetensors"
MIMIC = FIXTURES / "mimic_conv.model.safetensors"
HELLO = ROOT / "examples" / "audio" / "hello.wav"


# ----------------------------------------------------------------------------------------------
# the binary
# ----------------------------------------------------------------------------------------------
def _find_binary() -> tuple[str | None, str]:
    env = os.environ.get("MIMETIC_BIN")
    if env:
        return (env, "") if os.access(env, os.X_OK) else (None, f"MIMETIC_BIN={env} is not an executable")
    candidates = []
    if shutil.which("swift"):
        try:
            r = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                               timeout=120)
            if r.returncode == 0 and r.stdout.strip():
                candidates.append(Path(r.stdout.strip().splitlines()[-1]) / "mimetic")
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += [ROOT / ".build" / "debug" / "mimetic", ROOT / ".build" / "release" / "mimetic"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c), ""
    return None, "the mimetic CLI is not built (run `swift build` in the repository root, or set MIMETIC_BIN)"


BIN, WHY_NOT = _find_binary()
pytestmark = pytest.mark.skipif(BIN is None, reason=WHY_NOT)


def mimetic(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def fails(*args, expect: list[str]) -> str:
    """Run, require exit status 1 and a stderr message containing every string of `expect`
    (case-insensitive); return the message."""
    r = mimetic(*args)
    msg = r.stderr.strip()
    assert r.returncode == 1, f"exit {r.returncode} (expected 1) for {args}\nstdout: {r.stdout}\nstderr: {msg}"
    assert msg.startswith("mimetic: "), f"no 'mimetic: ' message on stderr: {msg!r}"
    assert "\n" not in msg, f"expected one line, got: {msg!r}"
    for e in expect:
        assert e.lower() in msg.lower(), f"message lacks {e!r}: {msg}"
    assert "Fatal error" not in msg and "Stack dump" not in msg
    return msg


# ----------------------------------------------------------------------------------------------
# fixtures' facts
# ----------------------------------------------------------------------------------------------
def model_meta(path: Path) -> tuple[dict, np.ndarray]:
    """(config, template [V, 3]) read from the safetensors file directly."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        info = header["template"]
        start, end = info["data_offsets"]
        f.seek(8 + n + start)
        tpl = np.frombuffer(f.read(end - start), dtype="<f4").reshape(info["shape"])
    return json.loads(header["__metadata__"]["mimetic.config"]), tpl


def wav_info(path: Path) -> tuple[int, int]:
    import wave

    with wave.open(str(path)) as w:
        return w.getframerate(), w.getnframes()


def expected_frames(cfg: dict, samples_in: int, rate_in: int) -> int:
    """Frame count of the originals' rules on the resampled length (the resampler yields
    ceil(n * 16000 / rate) samples)."""
    n = -(-samples_in * cfg["sample_rate"] // rate_in)
    enc = cfg["encoder"]
    L = n
    for k, s in zip(enc["conv_kernel"], enc["conv_stride"]):
        L = (L - k) // s + 1
    mode = cfg["alignment"]["mode"]
    if mode == "interpolate":
        return int((L / 50.0) * cfg["fps"]) + cfg["alignment"].get("frames_offset", 0)
    if mode == "pairs":
        return L // 2
    return math.ceil(L / 2)


# ----------------------------------------------------------------------------------------------
# WAV byte builder
# ----------------------------------------------------------------------------------------------
def chunk(cid: bytes, body: bytes, declared: int | None = None) -> bytes:
    size = len(body) if declared is None else declared
    return cid + struct.pack("<I", size) + body + (b"\0" if len(body) % 2 else b"")


def fmt_body(tag=1, channels=1, rate=16000, bits=16, block_align=None) -> bytes:
    ba = block_align if block_align is not None else channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * ba, ba, bits)


def riff(*chunks: bytes, form: bytes = b"WAVE", magic: bytes = b"RIFF") -> bytes:
    body = form + b"".join(chunks)
    return magic + struct.pack("<I", len(body)) + body


def pcm16(n: int, rate: int = 16000) -> bytes:
    t = np.arange(n) / rate
    return (np.sin(2 * np.pi * 220 * t) * 12000).astype("<i2").tobytes()


def wav_file(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def good_wav(n=16000, rate=16000) -> bytes:
    return riff(chunk(b"fmt ", fmt_body(rate=rate)), chunk(b"data", pcm16(n, rate)))


# ----------------------------------------------------------------------------------------------
# happy paths
# ----------------------------------------------------------------------------------------------
def test_info_faceformer():
    r = mimetic("info", FACEFORMER)
    assert r.returncode == 0, r.stderr
    assert "faceformer" in r.stdout
    assert "40 vertices" in r.stdout
    r = mimetic("info", "--json", FACEFORMER)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["num_vertices"] == 40


def test_info_mimic():
    r = mimetic("info", MIMIC)
    assert r.returncode == 0, r.stderr
    assert "mimic" in r.stdout and "40 vertices" in r.stdout
    assert "reference motion" in r.stdout


def test_animate_faceformer_npy_and_offsets(tmp_path):
    cfg, tpl = model_meta(FACEFORMER)
    V = cfg["num_vertices"]
    rate, n = wav_info(HELLO)
    assert rate == 22050  # the example exercises the resampler
    out = tmp_path / "hello.npy"
    r = mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    a = np.load(out)
    frames = expected_frames(cfg, n, rate)
    assert a.dtype == np.float32
    assert a.shape == (frames, V, 3)
    assert abs(frames - n / rate * cfg["fps"]) <= 1.5  # consistent with the audio's duration
    assert np.all(np.isfinite(a))
    assert f"{frames} frames at {cfg['fps']} fps" in r.stderr

    off = tmp_path / "offsets.npy"
    r = mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", off, "--offsets", "--quiet")
    assert r.returncode == 0, r.stderr
    b = np.load(off)
    assert b.shape == a.shape and np.all(np.isfinite(b))
    np.testing.assert_allclose(b + tpl[None], a, rtol=0, atol=1e-5)  # vertices = template + offsets
    assert np.max(np.abs(b)) > 0  # random weights move the mesh


def test_animate_faceformer_styles(tmp_path):
    cfg, _ = model_meta(FACEFORMER)
    n = len(cfg["styles"]["names"])
    outs = {}
    for name, args in {"slot1": ["--style", "1"],
                       "weights1": ["--style-weights", ",".join("1" if i == 1 else "0" for i in range(n))],
                       "slot0": ["--style", "0"]}.items():
        p = tmp_path / f"{name}.npy"
        r = mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", p, "--quiet", *args)
        assert r.returncode == 0, r.stderr
        outs[name] = np.load(p)
    np.testing.assert_allclose(outs["weights1"], outs["slot1"], rtol=0, atol=1e-5)  # one-hot blend == slot
    assert np.max(np.abs(outs["slot0"] - outs["slot1"])) > 1e-4  # the style matters


def test_animate_obj(tmp_path):
    cfg, tpl = model_meta(FACEFORMER)
    V = cfg["num_vertices"]
    npy = tmp_path / "a.npy"
    assert mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", npy, "--quiet").returncode == 0
    a = np.load(npy)
    d = tmp_path / "frames"
    r = mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", d, "--format", "obj", "--quiet")
    assert r.returncode == 0, r.stderr
    files = sorted(d.glob("*.obj"))
    assert len(files) == a.shape[0]
    assert files[0].name == "frame_00000.obj"
    for f in (files[0], files[-1]):
        v = [l for l in f.read_text().splitlines() if l.startswith("v ")]
        assert len(v) == V
        xyz = np.array([[float(x) for x in l.split()[1:4]] for l in v], np.float32)
        i = int(f.stem.split("_")[1])
        np.testing.assert_allclose(xyz, a[i], rtol=0, atol=1e-4)


def _reference_motion(tpl: np.ndarray, frames: int, seed: int = 3) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return (0.01 * rng.randn(frames, *tpl.shape)).astype(np.float32)


def test_animate_mimic_style_ref(tmp_path):
    cfg, tpl = model_meta(MIMIC)
    V = cfg["num_vertices"]
    rate, n = wav_info(HELLO)
    noise = _reference_motion(tpl, 60)
    verts = tmp_path / "ref_vertices.npy"
    np.save(verts, tpl[None] + noise)
    offs = tmp_path / "ref_offsets.npy"
    np.save(offs, noise)
    flat = tmp_path / "ref_flat.npy"
    np.save(flat, (tpl[None] + noise).reshape(60, 3 * V))

    out = {}
    for name, args in {"vertices": ["--style-ref", verts],
                       "offsets": ["--style-ref", offs, "--style-ref-kind", "offsets"],
                       "flat": ["--style-ref", flat]}.items():
        p = tmp_path / f"{name}.npy"
        r = mimetic("animate", "--model", MIMIC, "--audio", HELLO, "--out", p, "--quiet", *args)
        assert r.returncode == 0, r.stderr
        out[name] = np.load(p)
    a = out["vertices"]
    frames = expected_frames(cfg, n, rate)
    assert a.shape == (frames, V, 3)
    assert abs(frames - n / rate * cfg["fps"]) <= 1.5
    assert np.all(np.isfinite(a))
    # the same motion given as vertices, as offsets or flattened gives the same style
    np.testing.assert_allclose(out["offsets"], a, rtol=0, atol=1e-4)
    np.testing.assert_allclose(out["flat"], a, rtol=0, atol=1e-6)

    # a different reference motion changes the output
    other = tmp_path / "other.npy"
    np.save(other, tpl[None] + 5 * _reference_motion(tpl, 60, seed=11))
    p = tmp_path / "other_out.npy"
    assert mimetic("animate", "--model", MIMIC, "--audio", HELLO, "--out", p, "--quiet", "--style-ref", other).returncode == 0
    assert np.max(np.abs(np.load(p) - a)) > 1e-5


def test_animate_float32_wav_and_stereo(tmp_path):
    """A float32 stereo WAV at 16 kHz with identical channels equals the mono 16-bit-free path."""
    cfg, _ = model_meta(FACEFORMER)
    x = (0.3 * np.sin(2 * np.pi * 180 * np.arange(24000) / 16000)).astype("<f4")
    mono = wav_file(tmp_path, "mono.wav", riff(chunk(b"fmt ", fmt_body(tag=3, bits=32)), chunk(b"data", x.tobytes())))
    st = np.stack([x, x], 1).astype("<f4")
    stereo = wav_file(tmp_path, "stereo.wav",
                      riff(chunk(b"fmt ", fmt_body(tag=3, channels=2, bits=32)), chunk(b"data", st.tobytes())))
    res = []
    for w in (mono, stereo):
        p = tmp_path / (w.stem + ".npy")
        r = mimetic("animate", "--model", FACEFORMER, "--audio", w, "--out", p, "--quiet")
        assert r.returncode == 0, r.stderr
        res.append(np.load(p))
    assert res[0].shape[0] == expected_frames(cfg, 24000, 16000)
    np.testing.assert_allclose(res[0], res[1], rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# bad WAV files
# ----------------------------------------------------------------------------------------------
BAD_WAVS = {
    # name: (bytes, key facts the message must contain)
    "not_riff": (b"OggS" + b"\0" * 60, ["not a WAV file", "RIFF", "OggS"]),
    "too_short_header": (b"RIFF\0\0", ["not a WAV file", "6 bytes"]),
    "riff_not_wave": (riff(chunk(b"fmt ", fmt_body()), chunk(b"data", pcm16(800)), form=b"AVI "),
                      ["RIFF file", "AVI", "WAVE"]),
    "missing_fmt": (riff(chunk(b"data", pcm16(800))), ["fmt", "chunk"]),
    "missing_data": (riff(chunk(b"fmt ", fmt_body()), chunk(b"LIST", b"INFOxxxx")), ["no \"data\" chunk"]),
    "adpcm": (riff(chunk(b"fmt ", fmt_body(tag=2, bits=4, block_align=1)), chunk(b"data", b"\0" * 800)),
              ["unsupported", "ADPCM", "(2)"]),
    "mulaw": (riff(chunk(b"fmt ", fmt_body(tag=7, bits=8)), chunk(b"data", b"\0" * 800)),
              ["unsupported", "law", "(7)"]),
    "bits12": (riff(chunk(b"fmt ", fmt_body(bits=12, block_align=2)), chunk(b"data", b"\0" * 800)),
               ["12 bits"]),
    "float16": (riff(chunk(b"fmt ", fmt_body(tag=3, bits=16)), chunk(b"data", b"\0" * 800)),
                ["16 bits", "float"]),
    "zero_channels": (riff(chunk(b"fmt ", fmt_body(channels=0, block_align=0)), chunk(b"data", pcm16(800))),
                      ["0 channels"]),
    "zero_rate": (riff(chunk(b"fmt ", fmt_body(rate=0)), chunk(b"data", pcm16(800))), ["0 Hz"]),
    "bad_block_align": (riff(chunk(b"fmt ", fmt_body(block_align=3)), chunk(b"data", pcm16(800))),
                        ["block align"]),
    "short_fmt": (riff(chunk(b"fmt ", fmt_body()[:12]), chunk(b"data", pcm16(800))), ["fmt", "12 bytes"]),
    "truncated_data": (riff(chunk(b"fmt ", fmt_body()), b"data" + struct.pack("<I", 32000) + pcm16(4000)),
                       ["truncated", "32000", "8000"]),
    "partial_frame": (riff(chunk(b"fmt ", fmt_body(channels=2)), chunk(b"data", pcm16(8001))),
                      ["whole number"]),
    "empty": (riff(chunk(b"fmt ", fmt_body()), chunk(b"data", b"")), ["no audio", "0 frames"]),
    "nan_float": (riff(chunk(b"fmt ", fmt_body(tag=3, bits=32)),
                       chunk(b"data", np.where(np.arange(8000) == 123, np.nan, 0.1).astype("<f4").tobytes())),
                  ["nan", "frame 123", "finite"]),
    "inf_float64": (riff(chunk(b"fmt ", fmt_body(tag=3, bits=64)),
                         chunk(b"data", np.where(np.arange(8000) == 7, np.inf, 0.1).astype("<f8").tobytes())),
                    ["inf", "frame 7", "finite"]),
    "rate_too_low": (good_wav(n=800, rate=500), ["500 Hz", "supported"]),
    "rate_too_high": (good_wav(n=16000, rate=1_000_000), ["1000000 Hz", "supported"]),
    "too_short_audio": (good_wav(n=100), ["6.2 ms", "too short", "25.0 ms"]),
}


@pytest.mark.parametrize("name", sorted(BAD_WAVS))
def test_bad_wav(tmp_path, name):
    data, expect = BAD_WAVS[name]
    path = wav_file(tmp_path, f"{name}.wav", data)
    msg = fails("animate", "--model", FACEFORMER, "--audio", path, "--out", tmp_path / "o.npy", "--quiet",
                expect=expect)
    assert str(path) in msg  # every audio error names the file
    assert not (tmp_path / "o.npy").exists()


def test_missing_wav(tmp_path):
    p = tmp_path / "nope.wav"
    msg = fails("animate", "--model", FACEFORMER, "--audio", p, "--out", tmp_path / "o.npy", expect=["cannot read"])
    assert str(p) in msg


def test_wav_is_directory(tmp_path):
    fails("animate", "--model", FACEFORMER, "--audio", tmp_path, "--out", tmp_path / "o.npy", expect=[str(tmp_path)])


# ----------------------------------------------------------------------------------------------
# bad model files
# ----------------------------------------------------------------------------------------------
def _safetensors_bytes(metadata: dict | None) -> bytes:
    from safetensors.numpy import save

    return save({"w": np.zeros((2, 2), np.float32)}, metadata=metadata)


def _bad_models(tmp_path: Path) -> dict:
    good = FACEFORMER.read_bytes()
    meta_cfg = json.loads(json.loads(good[8:8 + struct.unpack("<Q", good[:8])[0]])["__metadata__"]["mimetic.config"])
    cases = {
        "missing": (tmp_path / "missing.safetensors", None, ["missing.safetensors"]),
        "directory": (tmp_path / "a_dir.safetensors", "dir", ["a_dir.safetensors"]),
        "empty": (tmp_path / "empty.safetensors", b"", ["empty.safetensors"]),
        "random": (tmp_path / "random.safetensors", np.random.RandomState(0).bytes(4096), ["random.safetensors"]),
        "truncated": (tmp_path / "truncated.safetensors", good[: len(good) // 2], ["truncated.safetensors"]),
        "header_only": (tmp_path / "header.safetensors", good[:8], ["header.safetensors"]),
        "no_metadata": (tmp_path / "plain.safetensors", _safetensors_bytes(None), ["mimetic.format", "convert"]),
        "other_metadata": (tmp_path / "other.safetensors", _safetensors_bytes({"format": "pt"}), ["mimetic.format"]),
        "version_2": (tmp_path / "v2.safetensors",
                      _safetensors_bytes({"mimetic.format": "2", "mimetic.config": json.dumps(meta_cfg)}),
                      ["version 2", "version 1"]),
        "no_config": (tmp_path / "nocfg.safetensors", _safetensors_bytes({"mimetic.format": "1"}), ["mimetic.config"]),
        "config_not_json": (tmp_path / "badcfg.safetensors",
                            _safetensors_bytes({"mimetic.format": "1", "mimetic.config": "{not json"}),
                            ["badcfg.safetensors", "config"]),
        "weights_missing": (tmp_path / "noweights.safetensors",
                            _safetensors_bytes({"mimetic.format": "1", "mimetic.config": json.dumps(meta_cfg)}),
                            ["noweights.safetensors", "encoder."]),
    }
    for path, data, _ in cases.values():
        if data == "dir":
            path.mkdir()
        elif data is not None:
            path.write_bytes(data)
    return {k: (p, e) for k, (p, _, e) in cases.items()}


BAD_MODEL_NAMES = ["missing", "directory", "empty", "random", "truncated", "header_only", "no_metadata",
                   "other_metadata", "version_2", "no_config", "config_not_json", "weights_missing"]


@pytest.mark.parametrize("name", BAD_MODEL_NAMES)
def test_bad_model_info(tmp_path, name):
    path, expect = _bad_models(tmp_path)[name]
    fails("info", path, expect=expect)


@pytest.mark.parametrize("name", ["missing", "truncated", "no_metadata", "version_2"])
def test_bad_model_animate(tmp_path, name):
    path, expect = _bad_models(tmp_path)[name]
    out = tmp_path / "o.npy"
    fails("animate", "--model", path, "--audio", HELLO, "--out", out, "--quiet", expect=expect)
    assert not out.exists()


# ----------------------------------------------------------------------------------------------
# bad arguments
# ----------------------------------------------------------------------------------------------
def _animate_fails(tmp_path, model, *args, expect):
    out = tmp_path / "o.npy"
    msg = fails("animate", "--model", model, "--audio", HELLO, "--out", out, "--quiet", *args, expect=expect)
    assert not out.exists()
    return msg


def test_style_slot_out_of_range(tmp_path):
    _animate_fails(tmp_path, FACEFORMER, "--style", "3", expect=["style slot 3", "out of range", "3 style slots"])


def test_style_slot_negative(tmp_path):
    _animate_fails(tmp_path, FACEFORMER, "--style=-1", expect=["style slot -1", "out of range"])


def test_style_weights_wrong_length(tmp_path):
    _animate_fails(tmp_path, FACEFORMER, "--style-weights", "0.5,0.5", expect=["2 entries", "3 style slots"])


def test_style_weights_not_numbers(tmp_path):
    _animate_fails(tmp_path, FACEFORMER, "--style-weights", "0.5,x,0", expect=["--style-weights", "not a list of numbers"])


def test_style_ref_on_faceformer(tmp_path):
    _, tpl = model_meta(FACEFORMER)
    ref = tmp_path / "ref.npy"
    np.save(ref, tpl[None] + _reference_motion(tpl, 10))
    _animate_fails(tmp_path, FACEFORMER, "--style-ref", ref, expect=["needs a Mimic model", "faceformer"])


def test_style_ref_wrong_shape(tmp_path):
    ref = tmp_path / "ref.npy"
    np.save(ref, np.zeros((10, 39, 3), np.float32))
    _animate_fails(tmp_path, MIMIC, "--style-ref", ref, expect=["--style-ref", "[10, 39, 3]", "40, 3]"])


def test_style_ref_empty(tmp_path):
    ref = tmp_path / "ref.npy"
    np.save(ref, np.zeros((0, 40, 3), np.float32))
    _animate_fails(tmp_path, MIMIC, "--style-ref", ref, expect=["--style-ref", "[0, 40, 3]"])


def test_style_ref_not_npy(tmp_path):
    ref = tmp_path / "ref.npy"
    ref.write_bytes(b"not an npy file at all")
    _animate_fails(tmp_path, MIMIC, "--style-ref", ref, expect=["ref.npy", "not a .npy file"])


def test_style_ref_missing(tmp_path):
    _animate_fails(tmp_path, MIMIC, "--style-ref", tmp_path / "nope.npy", expect=["nope.npy"])


def test_mimic_without_style_ref(tmp_path):
    _animate_fails(tmp_path, MIMIC, expect=["--style-ref"])


def test_two_style_options(tmp_path):
    _, tpl = model_meta(MIMIC)
    ref = tmp_path / "ref.npy"
    np.save(ref, tpl[None] + _reference_motion(tpl, 10))
    _animate_fails(tmp_path, FACEFORMER, "--style", "0", "--style-weights", "1,0,0", expect=["at most one"])
    _animate_fails(tmp_path, MIMIC, "--style", "0", "--style-ref", ref, expect=["at most one"])


def test_output_directory_missing(tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "o.npy"
    r = mimetic("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", out, "--quiet")
    assert r.returncode == 1, r.stderr
    assert str(out) in r.stderr


def test_obj_output_is_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    fails("animate", "--model", FACEFORMER, "--audio", HELLO, "--out", f, "--format", "obj", "--quiet",
          expect=[str(f)])


# ----------------------------------------------------------------------------------------------
# once crashes (found by these tests), now clear errors
# ----------------------------------------------------------------------------------------------
def test_threads_out_of_range(tmp_path):
    _animate_fails(tmp_path, FACEFORMER, "--threads=10000000000", expect=["threads"])


def test_stages_scalar_style_offsets(tmp_path):
    a = tmp_path / "a.npy"
    np.save(a, (0.1 * np.random.RandomState(0).randn(16000)).astype(np.float32))
    s = tmp_path / "s.npy"
    np.save(s, np.float32(1.0))
    fails("stages", "--model", MIMIC, "--audio-npy", a, "--out", tmp_path / "st", "--style-offsets", s,
          expect=["style"])
