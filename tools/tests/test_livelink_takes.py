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
