"""Simulated Live Link takes (mimetic-make-takes): the rig-to-ARKit mapping reproduces the rig's
offsets exactly through the shipped ARKit basis, and the CSV is a 60 fps take starting late."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from mimetic_tools.corpus.livelink import main as make_takes, rig_to_arkit
from mimetic_tools.retarget.arkit import build_arkit_basis, jaw_seal_weight

ROOT = Path(__file__).resolve().parents[2]
RIG = ROOT / "models" / "rig.safetensors"


def controls():
    from safetensors import safe_open
    with safe_open(str(RIG), "np") as f:
        return json.loads(f.metadata()["corpus.rig"])["basis"]


def test_rig_weights_map_exactly_onto_arkit():
    rig = load_file(str(RIG))
    names = controls()
    basis = rig["basis"].astype(np.float64)
    arkit, _ = build_arkit_basis(str(RIG))
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (20, len(names)))
    w[:, names.index("smile_left")] *= np.where(rng.random(20) < 0.5, -0.5, 1)  # frowns too (a frown of 1 is a smile of -0.6)
    w[:, names.index("brow_raise")] *= np.where(rng.random(20) < 0.5, -0.5, 1)
    w[:, names.index("lips_close")] *= 4                                      # closures over an open jaw
    seal = jaw_seal_weight(rig, basis.reshape(len(names), -1, 3), names)
    a = rig_to_arkit(w, names, seal)
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_allclose(a @ arkit.reshape(52, -1).astype(np.float64), w @ basis, atol=2e-6)


def test_takes_are_60_fps_and_start_late(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "clips").mkdir(parents=True)
    shutil.copy(RIG, corpus / "rig.safetensors")
    json.dump([{"id": "s001", "split": "test"}], open(corpus / "speakers.json", "w"))
    t = np.arange(60) / 30
    w = np.zeros((60, 14), np.float32)
    w[:, 0] = 0.3 * (1 + np.sin(2 * np.pi * t))
    save_file({"weights": w, "audio": np.zeros(32000, np.float32)}, str(corpus / "clips" / "s001_0001.safetensors"))
    assert make_takes(["--corpus", str(corpus), "--out", str(tmp_path / "takes"), "--seed", "3"]) == 0
    offset = json.load(open(tmp_path / "takes" / "offsets.json"))["s001_0001"]
    assert 0 <= offset <= 0.15
    rows = list(csv.reader(open(tmp_path / "takes" / "s001_0001.csv")))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Timecode", "BlendShapeCount"] and "JawOpen" in header and len(header) == 63
    assert abs(len(body) - (59 / 30 - offset) * 60) <= 1
    jaw = np.array([float(r[header.index("JawOpen")]) for r in body])
    expected = np.interp(offset + np.arange(len(body)) / 60, t, w[:, 0])
    assert np.abs(jaw - expected).max() < 0.06                               # jitter, 8 bits, dropouts
    assert (tmp_path / "takes" / "s001_0001.wav").exists()


def test_personalize_cli_from_takes_imitator_and_mimic(tmp_path):
    """`mimetic personalize --ref-livelink` on both families that personalise: a take of random weights
    over a random basis in the fixture models' topology; malformed takes are refused by name."""
    import subprocess
    from test_cli import BIN
    if BIN is None:
        pytest.skip("no mimetic CLI")
    fixtures = ROOT / "Tests" / "Fixtures"
    hello = ROOT / "examples" / "audio" / "hello.wav"
    rng = np.random.default_rng(5)
    k, v = 5, 40
    np.save(tmp_path / "basis.npy", (0.01 * rng.standard_normal((k, v, 3))).astype(np.float32))
    header = ["Timecode", "BlendShapeCount"] + [f"Shape_{i}" for i in range(k)]
    lines = [",".join(header)]
    for r in range(int(6.2 * 60)):
        s, f = divmod(r, 60)
        lines.append(",".join([f"00:00:{s:02d}:{f:02d}.000", str(k)] + [f"{x:.4f}" for x in rng.uniform(0, 1, k)]))
    (tmp_path / "take.csv").write_text("\n".join(lines) + "\n")
    for model in ("imitator_style", "mimic_conv"):
        out = tmp_path / f"{model}.persona.safetensors"
        r = subprocess.run([BIN, "personalize", "--quiet", "--model", str(fixtures / f"{model}.model.safetensors"),
                            "--ref-livelink", f"{tmp_path / 'take.csv'}:{hello}", "--basis", str(tmp_path / "basis.npy"),
                            "--take-offset-ms", "0", "--style-steps", "3", "--basis-steps", "2", "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and out.exists(), r.stderr
        assert "audio-to-take offset 0 ms" in r.stderr
    (tmp_path / "bad.csv").write_text("\n".join(lines[:3] + [lines[1]] + lines[4:]) + "\n")   # time goes back
    r = subprocess.run([BIN, "personalize", "--quiet", "--model", str(fixtures / "imitator_style.model.safetensors"),
                        "--ref-livelink", f"{tmp_path / 'bad.csv'}:{hello}", "--basis", str(tmp_path / "basis.npy"),
                        "--out", str(tmp_path / "x.safetensors")], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "not increasing at row 3" in r.stderr
    short = "\n".join(lines[:60]) + "\n"                                                     # 1 s of a 5.9 s recording
    (tmp_path / "short.csv").write_text(short)
    r = subprocess.run([BIN, "personalize", "--quiet", "--model", str(fixtures / "imitator_style.model.safetensors"),
                        "--ref-livelink", f"{tmp_path / 'short.csv'}:{hello}", "--basis", str(tmp_path / "basis.npy"),
                        "--take-offset-ms", "0", "--out", str(tmp_path / "x.safetensors")], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "covers" in r.stderr
