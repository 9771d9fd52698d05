"""`mimetic animate` exports opened with real loaders: the glTF/GLB (pygltflib, trimesh) carries the
template mesh, the ARKit basis as morph targets and the weights as their animation, exactly; the
Live Link Face CSV has its columns and the same weights; weights as NPY."""
from __future__ import annotations

import base64
import csv
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from test_cli import BIN, WHY_NOT

pygltflib = pytest.importorskip("pygltflib")
trimesh = pytest.importorskip("trimesh")

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "default.safetensors"
ARKIT = ROOT / "models" / "arkit52.safetensors"
SAMPLE = ROOT / "models" / "samples" / "bumblebees.wav"
pytestmark = pytest.mark.skipif(BIN is None, reason=WHY_NOT)


def animate(*args) -> subprocess.CompletedProcess:
    r = subprocess.run([BIN, "animate", "--quiet", "--model", str(MODEL), "--audio", str(SAMPLE), *map(str, args)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> np.ndarray:
    out = tmp_path_factory.mktemp("w") / "weights.npy"
    r = animate("--weights", "arkit", "--out", out)
    assert "fit residual" in r.stderr
    w = np.load(out)
    assert w.dtype == np.float32 and w.shape[1] == 52 and ((w >= 0) & (w <= 1)).all()
    return w


def accessor(gltf, blob: bytes, index: int) -> np.ndarray:
    a = gltf.accessors[index]
    view = gltf.bufferViews[a.bufferView]
    width = {"SCALAR": 1, "VEC3": 3}[a.type]
    dtype = {5126: np.float32, 5125: np.uint32}[a.componentType]
    start = view.byteOffset + (a.byteOffset or 0)
    return np.frombuffer(blob, dtype, a.count * width, start).reshape(a.count, width)


@pytest.mark.parametrize("ext", ["glb", "gltf"])
def test_gltf_morph_targets_and_animation(tmp_path, weights, ext):
    out = tmp_path / f"face.{ext}"
    animate("--out", out)                               # glb/gltf default to the ARKit basis next to the model
    gltf = pygltflib.GLTF2().load(str(out))
    blob = gltf.binary_blob() if ext == "glb" else base64.b64decode(gltf.buffers[0].uri.split(",", 1)[1])
    assert gltf.asset.version == "2.0" and len(gltf.meshes) == 1
    prim = gltf.meshes[0].primitives[0]
    names = gltf.meshes[0].extras["targetNames"]
    assert len(prim.targets) == 52 and names[17] == "jawOpen"
    model = load_file(MODEL)
    template = model["template"].reshape(-1, 3) if "template" in model else None
    positions = accessor(gltf, blob, prim.attributes.POSITION)
    if template is not None:
        np.testing.assert_array_equal(positions, template)
    normals = accessor(gltf, blob, prim.attributes.NORMAL)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-5)
    basis = load_file(ARKIT)["basis"].reshape(52, -1, 3)
    for k in (17, 18, 0):
        np.testing.assert_array_equal(accessor(gltf, blob, prim.targets[k]["POSITION"]), basis[k])
    anim = gltf.animations[0]
    assert anim.channels[0].target.path == "weights" and anim.samplers[0].interpolation == "LINEAR"
    times = accessor(gltf, blob, anim.samplers[0].input)[:, 0]
    np.testing.assert_allclose(times, np.arange(len(weights)) / 30, atol=1e-6)
    np.testing.assert_array_equal(accessor(gltf, blob, anim.samplers[0].output).reshape(-1, 52), weights)
    mesh = trimesh.load(str(out), force="mesh")            # a second loader: the mesh itself
    assert mesh.vertices.shape == positions.shape and len(mesh.faces) == gltf.accessors[prim.indices].count // 3


def test_live_link_face_csv(tmp_path, weights):
    out = tmp_path / "take.csv"
    animate("--out", out)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"] and header[-9:][0] == "HeadYaw" and len(header) == 63
    assert len(body) == len(weights) and all(r[1] == "61" for r in body)
    assert body[31][0] == "00:00:01:01.000"          # frame 31 at 30 fps
    jaw = header.index("JawOpen") - 2
    np.testing.assert_allclose(np.array([[float(v) for v in r[2:54]] for r in body])[:, jaw], weights[:, 17], atol=1e-6)
    assert all(float(v) == 0 for r in body for v in r[54:])   # no head or eye motion


def test_export_errors(tmp_path):
    bad = subprocess.run([BIN, "animate", "--quiet", "--model", str(ROOT / "Tests" / "Fixtures" / "faceformer_vocaset.model.safetensors"),
                          "--audio", str(SAMPLE), "--weights", str(ARKIT), "--out", str(tmp_path / "w.npy")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "topology" in bad.stderr
    r = subprocess.run([BIN, "animate", "--quiet", "--model", str(MODEL), "--audio", str(SAMPLE), "--weights", "arkit",
                        "--out", str(tmp_path / "frames")], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "obj writes meshes" in r.stderr
    r = subprocess.run([BIN, "animate", "--quiet", "--model", str(MODEL), "--audio", str(SAMPLE), "--strength", "9",
                        "--out", str(tmp_path / "x.csv")], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "strength" in r.stderr
