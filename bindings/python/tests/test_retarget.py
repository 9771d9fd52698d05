"""Retargeting to blendshape weights: the fit equals scipy's bounded least squares, the shipped ARKit
basis explains the default model's motion, streams pull weights, the controls and the errors."""
from __future__ import annotations

import numpy as np
import pytest

from mimetic_testutil import REPO, fixture_path

import mimetic

scipy_optimize = pytest.importorskip("scipy.optimize")

ARKIT = REPO / "models" / "arkit52.safetensors"
DEFAULT = REPO / "models" / "default.safetensors"
SAMPLE = REPO / "models" / "samples" / "bumblebees.wav"


def ridge_lsq(basis: np.ndarray, x: np.ndarray, lam: float, lo, hi) -> np.ndarray:
    """min ||B^T w - x||^2 + lam ||w||^2 with bounds, by scipy on the augmented system."""
    k = basis.shape[0]
    a = np.vstack([basis.T.astype(np.float64), np.sqrt(lam) * np.eye(k)])
    b = np.concatenate([x.astype(np.float64), np.zeros(k)])
    return scipy_optimize.lsq_linear(a, b, bounds=(lo, hi), tol=1e-12, method="bvls").x


@pytest.mark.parametrize("seed", range(6))
def test_fit_equals_scipy_bounded_least_squares(vocaset, seed):
    rng = np.random.default_rng(seed)
    k, n = 5 + 7 * seed, vocaset.info.output_size
    basis = rng.standard_normal((k, n)).astype(np.float32)
    lower = np.where(np.arange(k) % 4 == 0, -0.5, 0.0).astype(np.float32)
    upper = np.where(np.arange(k) % 3 == 0, 0.4, 1.0).astype(np.float32)
    x = (basis.T @ rng.uniform(-0.8, 1.5, k) + 0.3 * rng.standard_normal(n)).astype(np.float32)
    ridge = 1e-6
    with mimetic.Retarget(vocaset, basis=basis.reshape(k, -1, 3), names=[f"s{i}" for i in range(k)], lower=lower,
                          upper=upper, ridge=ridge) as r:
        w, residual = r.apply(x.reshape(-1, 3))
        lam = ridge * float(np.mean(np.sum(basis.astype(np.float64) ** 2, axis=1)))
        ref = ridge_lsq(basis, x, lam, lower, upper)
        np.testing.assert_allclose(w, ref, atol=2e-5)
        fitted = r.offsets(w).reshape(-1)
        assert residual == pytest.approx(np.linalg.norm(fitted - x) / np.linalg.norm(x), rel=1e-3)
        np.testing.assert_allclose(fitted, basis.T @ w, rtol=1e-4, atol=1e-4)
        assert ((w >= lower - 1e-6) & (w <= upper + 1e-6)).all()


def test_arkit_basis_on_the_default_model_and_streams():
    with mimetic.Model(DEFAULT) as model, mimetic.Retarget(model, ARKIT) as arkit:
        assert arkit.count == 52 and arkit.names[arkit.index("jawOpen")] == "jawOpen"
        speech = mimetic.load_wav(SAMPLE)
        frames = model.animate(speech)
        weights, residuals = arkit.apply(frames)
        assert weights.shape == (frames.shape[0], 52) and residuals.shape == (frames.shape[0],)
        energy = np.sum(frames.reshape(len(frames), -1).astype(np.float64) ** 2, axis=1)
        overall = float(np.sqrt(np.sum(residuals.astype(np.float64) ** 2 * energy) / energy.sum()))
        assert overall < 0.05, overall
        assert weights[:, arkit.index("jawOpen")].max() > 0.1
        for zero in ("eyeBlinkLeft", "tongueOut", "noseSneerRight"):
            assert np.all(weights[:, arkit.index(zero)] == 0), zero
        # Streaming: pull_weights gives what apply gives on the same frames, frame by frame.
        per_character = arkit.clone()
        with mimetic.Stream(model, sample_rate=speech.sample_rate) as stream:
            stream.push(speech.samples)
            stream.flush()
            streamed = []
            while (got := stream.pull_weights(per_character)) is not None:
                w, info, res = got
                assert w.shape == (52,) and 0 <= res < 1
                streamed.append(w)
        np.testing.assert_allclose(np.stack(streamed), weights, atol=1e-5)


def test_controls_and_smoothing(vocaset):
    rng = np.random.default_rng(3)
    n = vocaset.info.output_size
    basis = rng.standard_normal((3, n)).astype(np.float32)
    x = (basis.T @ np.array([0.5, 0.2, 0.9])).astype(np.float32)
    r = mimetic.Retarget(vocaset, basis=basis, names=["a", "b", "c"], strength=2.0, ridge=0.0)
    r.set_channel("b", gain=0.5, offset=0.1)
    r.set_channel(2, maximum=1.0)
    w, _ = r.apply(x)
    np.testing.assert_allclose(w, [1.0, 2 * 0.5 * 0.2 + 0.1, 1.0], atol=1e-4)
    smooth = mimetic.Retarget(vocaset, basis=basis, names=["a", "b", "c"], smoothing_ms=100, ridge=0.0)
    smooth.apply(np.zeros(n, np.float32))
    seq, _ = smooth.apply(np.stack([x] * 3))
    alpha = 1 - np.exp(-(1000 / vocaset.info.fps) / 100)
    np.testing.assert_allclose(seq[:, 0], 0.5 * (1 - (1 - alpha) ** np.arange(1, 4)), atol=1e-4)
    smooth.reset()
    np.testing.assert_allclose(smooth.apply(x)[0], [0.5, 0.2, 0.9], atol=1e-4)
    r.close()
    smooth.close()


@pytest.mark.parametrize("kwargs,fragment", [
    ({"strength": 5.0}, "strength"), ({"smoothing_ms": -1.0}, "smoothing"), ({"ridge": 2.0}, "ridge")])
def test_bad_params_are_refused(vocaset, kwargs, fragment):
    with pytest.raises(mimetic.InvalidArgumentError, match=fragment):
        mimetic.Retarget(vocaset, basis=np.ones((1, vocaset.info.output_size), np.float32), names=["a"], **kwargs)


def test_errors(vocaset, tmp_path):
    n = vocaset.info.output_size
    with pytest.raises(mimetic.InvalidModelError, match="topology"):
        mimetic.Retarget(vocaset, ARKIT)                      # a 4 570-vertex basis for a 40-vertex model
    with pytest.raises(mimetic.MimeticIOError):
        mimetic.Retarget(vocaset, tmp_path / "missing.safetensors")
    with pytest.raises(mimetic.InvalidArgumentError, match="distinct"):
        mimetic.Retarget(vocaset, basis=np.ones((2, n), np.float32), names=["a", "a"])
    with pytest.raises(mimetic.InvalidArgumentError, match="need"):
        mimetic.Retarget(vocaset, basis=np.ones((2, n), np.float32), names=["a"])
    with pytest.raises(mimetic.InvalidArgumentError, match="lower <= upper"):
        mimetic.Retarget(vocaset, basis=np.ones((1, n), np.float32), names=["a"], lower=[1.0], upper=[0.0])
    r = mimetic.Retarget(vocaset, basis=np.eye(2, n, dtype=np.float32), names=["a", "b"])
    bad = np.zeros(n, np.float32)
    bad[7] = np.nan
    with pytest.raises(mimetic.InvalidArgumentError, match=r"offsets\[7\]"):
        r.apply(bad)
    with pytest.raises(mimetic.InvalidArgumentError, match="shape"):
        r.apply(np.zeros(n + 1, np.float32))
    with pytest.raises(mimetic.InvalidArgumentError, match="min <= max"):
        r.set_channel("a", minimum=1.0, maximum=0.0)
    with pytest.raises(mimetic.InvalidArgumentError, match="no shape named"):
        r.set_channel("zzz")
    with pytest.raises(mimetic.InvalidArgumentError, match="out of range"):
        r.set_channel(5)
    r.close()
    with pytest.raises(mimetic.InvalidArgumentError, match="closed"):
        r.apply(np.zeros(n, np.float32))


@pytest.mark.parametrize("name,count", [("visemes-ovr", 14), ("visemes-vrm", 5)])
def test_viseme_bases(name, count):
    """The viseme bases are ordinary basis files: the same fit gives viseme weights; on a sentence
    with seven m/b/p closures, PP leads somewhere and the vowels open somewhere."""
    with mimetic.Model(DEFAULT) as model, mimetic.Retarget(model, REPO / "models" / f"{name}.safetensors") as r:
        assert r.count == count
        w, res = r.apply(model.animate(mimetic.load_wav(SAMPLE)))
        assert ((w >= 0) & (w <= 1)).all() and (res < 1).all()
        if name == "visemes-ovr":
            assert (w.argmax(1) == r.index("PP")).sum() >= 7
        assert w[:, r.index("aa")].max() > 0.1


def test_closure_boost_firms_closures_only():
    with mimetic.Model(DEFAULT) as model:
        frames = model.animate(mimetic.load_wav(SAMPLE))
        plain = mimetic.Retarget(model, ARKIT)
        boosted = mimetic.Retarget(model, ARKIT, closure_boost=0.8)
        w0, _ = plain.apply(frames)
        w1, _ = boosted.apply(frames)
        close, jaw = plain.index("mouthClose"), plain.index("jawOpen")
        s = np.max(w0[:, [close, plain.index("mouthPressLeft"), plain.index("mouthPressRight")]], axis=1)
        expected = w0[:, close] + 0.8 * s ** 2 * (1 - w0[:, close])
        np.testing.assert_allclose(w1[:, close], expected, atol=1e-5)
        np.testing.assert_array_equal(w1[:, jaw], w0[:, jaw])          # other channels untouched
        assert (w1[:, close] >= w0[:, close] - 1e-7).all()
        with pytest.raises(mimetic.InvalidArgumentError, match="closure boost"):
            mimetic.Retarget(model, ARKIT, closure_boost=2.0)


def _take_from(weights: np.ndarray, names, path, fps: int = 30, drop_rows: int = 0) -> None:
    """A Live Link CSV of `weights` (the first `drop_rows` rows left out: the take starts late)."""
    header = ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in names]
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for t in range(drop_rows, len(weights)):
            s, fr = divmod(t, fps)
            f.write(",".join([f"00:00:{s:02d}:{fr:02d}.000", str(len(names))] + [f"{v:.6f}" for v in weights[t]]) + "\n")


def test_reference_from_a_live_link_take(tmp_path):
    """A take of the model's own ARKit weights: the clip's offsets are those weights through the basis,
    and a take that starts 4 frames late is found 133 ms late."""
    with mimetic.Model(DEFAULT) as model, mimetic.Retarget(model, ARKIT) as arkit:
        speech = mimetic.load_wav(SAMPLE)
        weights, _ = arkit.apply(model.animate(speech))
        _take_from(weights, arkit.names, tmp_path / "take.csv")
        clip = mimetic.ReferenceClip.from_livelink(model, tmp_path / "take.csv", speech, arkit)
        assert abs(clip.take_offset_s) < 0.004
        np.testing.assert_allclose(clip.offsets[5:-5], arkit.offsets(weights)[5:-5], atol=2e-5)
        late = tmp_path / "late.csv"
        _take_from(weights, arkit.names, late, drop_rows=4)          # its first row is audio frame 4
        clip = mimetic.ReferenceClip.from_livelink(model, late, speech, arkit)
        assert clip.take_offset_s == pytest.approx(-4 / 30, abs=0.006)
        given = mimetic.ReferenceClip.from_livelink(model, late, speech, arkit, offset_s=-4 / 30)
        np.testing.assert_allclose(given.offsets[8:-5], arkit.offsets(weights)[8:-5], atol=2e-4)
        persona = mimetic.Persona.personalize(model, [given], style_steps=5, basis_steps=0)
        assert np.isfinite(persona.style).all()
        bad = tmp_path / "bad.csv"
        bad.write_text("Timecode,JawOpen\n00:00:00:00.000,0.1\n00:00:00:01.000,nan\n00:00:00:02.000,0.1\n")
        with pytest.raises(mimetic.InvalidArgumentError, match="row 2"):
            mimetic.ReferenceClip.from_livelink(model, bad, speech, arkit)
        missing = tmp_path / "missing.csv"
        _take_from(weights[:, :10], arkit.names[:10], missing)
        with pytest.raises(mimetic.InvalidArgumentError, match="no column for jawOpen"):
            mimetic.ReferenceClip.from_livelink(model, missing, speech, arkit)


def _glb_parts(data: bytes):
    """A GLB's JSON (as a dict) and BIN chunk."""
    import json
    import struct
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    n, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A
    doc = json.loads(data[20:20 + n])
    m, kind = struct.unpack_from("<II", data, 20 + n)
    assert kind == 0x004E4942
    return doc, data[28 + n:28 + n + m]


def test_export_writes_what_the_cli_writes(tmp_path):
    """Retarget.export (mimetic_export_weights) and `mimetic animate --format glb|arkit-csv` share one
    writer: the same weights give the same CSV bytes and the same GLB buffer and document."""
    from test_animate import cli
    import subprocess
    model = mimetic.Model(DEFAULT)
    frames = model.animate(mimetic.load_wav(SAMPLE))
    with mimetic.Retarget(model, ARKIT) as arkit:
        weights, _ = arkit.apply(frames)
        arkit.export(weights, tmp_path / "py.csv")
        arkit.export(weights, tmp_path / "py.glb")
        arkit.export(weights, tmp_path / "py.gltf")
        arkit.export(weights, tmp_path / "named", format="glb")
    for ext in ("csv", "glb"):
        r = subprocess.run([cli(), "animate", "--quiet", "--model", str(DEFAULT), "--audio", str(SAMPLE), "--out",
                            str(tmp_path / f"cli.{ext}")], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    py_doc, py_bin = _glb_parts((tmp_path / "py.glb").read_bytes())
    cli_doc, cli_bin = _glb_parts((tmp_path / "cli.glb").read_bytes())
    assert py_bin == cli_bin and len(py_bin) > 4 * weights.size
    py_doc["asset"].pop("generator"), cli_doc["asset"].pop("generator")
    assert py_doc == cli_doc
    assert (tmp_path / "named").read_bytes()[:4] == b"glTF"
    gltf = __import__("json").loads((tmp_path / "py.gltf").read_text())
    import base64
    assert base64.b64decode(gltf["buffers"][0]["uri"].split(",", 1)[1]) == py_bin
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]   # atomic: no temporary left behind


def test_export_errors(tmp_path, vocaset):
    model = mimetic.Model(DEFAULT)
    with mimetic.Retarget(model, ARKIT) as arkit:
        w = np.full((3, 52), 0.2, dtype=np.float32)
        with pytest.raises(mimetic.InvalidArgumentError, match="cannot tell the format"):
            arkit.export(w, tmp_path / "x.fbx")
        with pytest.raises(mimetic.InvalidArgumentError, match="not one of"):
            arkit.export(w, tmp_path / "x.glb", format="fbx")
        with pytest.raises(mimetic.InvalidArgumentError, match=r"\[T, 52\]"):
            arkit.export(w[:, :51], tmp_path / "x.glb")
        with pytest.raises(mimetic.InvalidArgumentError, match="at least one frame"):
            arkit.export(w[:0], tmp_path / "x.glb")
        bad = w.copy()
        bad[1, 17] = np.nan
        with pytest.raises(mimetic.InvalidArgumentError, match="weight 17 of frame 1 is nan"):
            arkit.export(bad, tmp_path / "x.csv")
        with pytest.raises(mimetic.MimeticIOError, match="cannot write"):
            arkit.export(w, tmp_path / "no" / "such" / "dir.glb")
        assert not (tmp_path / "x.glb").exists() and not (tmp_path / "x.csv").exists()
    # A basis without the ARKit names cannot make a Live Link CSV; the glTF needs no names.
    k = 3
    basis = np.random.default_rng(0).standard_normal((k, vocaset.info.output_size)).astype(np.float32)
    with mimetic.Retarget(vocaset, basis=basis, names=["a", "b", "c"]) as r:
        with pytest.raises(mimetic.InvalidArgumentError, match="52 ARKit"):
            r.export(np.zeros((2, k), np.float32), tmp_path / "y.csv")
        # This fixture has a template but no triangles: a glTF needs both.
        with pytest.raises(mimetic.InvalidArgumentError, match="template mesh and triangles"):
            r.export(np.zeros((2, k), np.float32), tmp_path / "y.glb")
