"""mimetic-bake: good and bad lines on the local engine and on Ray, outputs equal to Model.animate /
Retarget, resuming (fingerprints), and a run killed part-way then rerun gives what one run gives."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from mimetic_testutil import PACKAGE_ROOT, REPO, fixture_path

import mimetic
from mimetic import bake

DEFAULT = REPO / "models" / "default.safetensors"
ARKIT = REPO / "models" / "arkit52.safetensors"
HELLO = REPO / "examples" / "audio" / "hello.wav"
BUMBLEBEES = REPO / "models" / "samples" / "bumblebees.wav"


def write_csv(path: Path, rows: List[Dict[str, object]]) -> Path:
    keys = sorted({k for r in rows for k in r})
    with open(path, "w", newline="") as f:
        import csv
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def report(path: Path) -> Dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def model() -> mimetic.Model:
    return mimetic.Model(DEFAULT)


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    """Good lines of every format and a bad line of every kind."""
    other = mimetic.Model(fixture_path("faceformer_vocaset"))
    mimetic.Persona.from_style(other, np.full(other.info.style_dim, 0.1, dtype=np.float32)).save(tmp_path / "other.persona")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk")
    rows: List[Dict[str, object]] = [
        {"id": "offsets", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/offsets.npy"},
        {"id": "slot1", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/slot1.npy", "style": "1"},
        {"id": "weights", "audio": str(BUMBLEBEES), "model": str(DEFAULT), "out": "out/w.npy", "format": "weights-npy",
         "smoothing_ms": "30"},
        {"id": "glb", "audio": str(BUMBLEBEES), "model": str(DEFAULT), "out": "out/face.glb"},
        {"id": "csv", "audio": str(BUMBLEBEES), "model": str(DEFAULT), "out": "out/take.csv", "strength": "0.5"},
        {"id": "missing", "audio": "nope.wav", "model": str(DEFAULT), "out": "out/missing.npy"},
        {"id": "corrupt", "audio": "corrupt.wav", "model": str(DEFAULT), "out": "out/corrupt.npy"},
        {"id": "persona", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/persona.npy", "persona": "other.persona"},
        {"id": "format", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/x.fbx"},
        {"id": "style", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/style.npy", "style": "99"},
        {"id": "controls", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/c.glb", "strength": "9"},
        {"id": "twice", "audio": str(HELLO), "model": str(DEFAULT), "out": "out/offsets.npy"},
    ]
    return write_csv(tmp_path / "lines.csv", rows)


def check_outputs(root: Path, model: mimetic.Model, records: Dict[str, dict]) -> None:
    assert {k for k, r in records.items() if r["status"] == "ok"} == {"offsets", "slot1", "weights", "glb", "csv"}
    hello, bees = mimetic.load_wav(HELLO), mimetic.load_wav(BUMBLEBEES)
    np.testing.assert_array_equal(np.load(root / "out" / "offsets.npy"), model.animate(hello))
    np.testing.assert_array_equal(np.load(root / "out" / "slot1.npy"), model.animate(hello, style=1))
    frames = model.animate(bees)
    with mimetic.Retarget(model, ARKIT, smoothing_ms=30) as r:
        np.testing.assert_array_equal(np.load(root / "out" / "w.npy"), r.apply(frames)[0])
    with mimetic.Retarget(model, ARKIT) as r:
        r.export(r.apply(frames)[0], root / "ref.glb")
    with mimetic.Retarget(model, ARKIT, strength=0.5) as r:
        r.export(r.apply(frames)[0], root / "ref.csv")
    assert (root / "out" / "face.glb").read_bytes() == (root / "ref.glb").read_bytes()
    assert (root / "out" / "take.csv").read_bytes() == (root / "ref.csv").read_bytes()
    assert records["offsets"]["frames"] == 177 and records["glb"]["frames"] == 103
    errors = {k: r["error"] for k, r in records.items() if r["status"] == "error"}
    assert "no audio file" in errors["missing"]
    assert "InvalidAudioError" in errors["corrupt"]
    assert "persona" in errors["persona"].lower() and "model" in errors["persona"]
    assert "cannot tell the format" in errors["format"]
    assert "style" in errors["style"]
    assert "strength" in errors["controls"]
    assert "also line 2's output" in errors["twice"]
    assert not list((root / "out").glob("*.tmp-*"))


def test_local_engine_good_and_bad_lines_then_resume(tmp_path, manifest, model):
    summary = bake.bake(manifest, tmp_path / "r1.jsonl", workers=2, progress=False)
    records = report(tmp_path / "r1.jsonl")
    assert len(records) == 12 and (summary.ok, summary.errors, summary.skipped) == (5, 7, 0)
    check_outputs(tmp_path, model, records)
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("offsets.npy", "offsets.npy.bake.json", "face.glb"):   # plain files, not mkstemp's 0600
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    sidecar = json.loads((tmp_path / "out" / "face.glb.bake.json").read_text())
    assert sidecar["id"] == "glb" and len(sidecar["fingerprint"]) == 64
    # A rerun skips what is done; a changed input (the audio of one line) is baked again.
    before = (tmp_path / "out" / "slot1.npy").stat().st_mtime_ns
    summary = bake.bake(manifest, tmp_path / "r2.jsonl", workers=1, progress=False)
    assert (summary.ok, summary.skipped, summary.errors) == (0, 5, 7)
    assert (tmp_path / "out" / "slot1.npy").stat().st_mtime_ns == before
    quiet = mimetic.load_wav(HELLO)
    write_wav(tmp_path / "hello2.wav", quiet.samples * 0.5, quiet.sample_rate)
    rows = (tmp_path / "lines.csv").read_text().replace(str(HELLO) + ",", str(tmp_path / "hello2.wav") + ",", 1)
    (tmp_path / "lines.csv").write_text(rows)
    summary = bake.bake(manifest, tmp_path / "r3.jsonl", workers=1, progress=False)
    assert summary.ok == 1 and summary.skipped == 4
    # The command: exit 1 when a line failed, the summary on stderr, the report beside the manifest.
    r = subprocess.run([sys.executable, "-m", "mimetic.bake", str(manifest), "--quiet"], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}, timeout=300)
    assert r.returncode == 1 and "skipped 5" in r.stderr and "failed 7" in r.stderr, r.stderr
    assert (tmp_path / "lines.csv.report.jsonl").is_file()


def test_manifest_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("audio,out\nx.wav,y.npy\n")
    r = subprocess.run([sys.executable, "-m", "mimetic.bake", str(tmp_path / "bad.csv")], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}, timeout=120)
    assert r.returncode == 2 and "audio, model and out" in r.stderr
    (tmp_path / "lines.jsonl").write_text('{"audio": "a.wav", "model": "m", "out": "o.npy", "colour": "red"}\nnot json\n[1]\n')
    lines = bake.read_manifest(tmp_path / "lines.jsonl")
    assert "unknown field(s) colour" in lines[0].problem and "not JSON" in lines[1].problem and "object" in lines[2].problem


def test_killed_run_resumes_to_the_same_outputs(tmp_path, model):
    """SIGKILL part-way (no clean-up runs), rerun: the outputs equal an uninterrupted run's, byte for
    byte, and the lines finished before the kill are skipped, not redone."""
    hello = mimetic.load_wav(HELLO)
    long = np.tile(hello.samples, 2)
    rows = []
    for i in range(10):
        wav = write_wav(tmp_path / f"line{i}.wav", long * (0.5 + 0.05 * i), hello.sample_rate)
        rows.append({"id": f"l{i}", "audio": str(wav), "model": str(DEFAULT), "out": f"out/l{i}.{'glb' if i % 2 else 'npy'}"})
    manifest = write_csv(tmp_path / "lines.csv", rows)
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    cmd = [sys.executable, "-m", "mimetic.bake", str(manifest), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while len(list((tmp_path / "out").glob("*.bake.json"))) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((tmp_path / "out").glob("*.bake.json")))
    assert 3 <= done < 10, f"{done} lines finished before the kill: make the lines longer"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and f"skipped {done}" in r.stderr, r.stderr
    # The same manifest baked in one go elsewhere.
    clean = tmp_path / "clean"
    clean.mkdir()
    write_csv(clean / "lines.csv", rows)
    assert bake.bake(clean / "lines.csv", None, workers=2, progress=False).ok == 10
    for row in rows:
        assert (tmp_path / row["out"]).read_bytes() == (clean / row["out"]).read_bytes(), row["out"]
    assert not list((tmp_path / "out").glob("*.tmp-*"))


def test_ray_engine(tmp_path, manifest, model):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install ray): the Ray engine is untested here")
    assert ray is not None
    summary = bake.bake(manifest, tmp_path / "r.jsonl", engine="ray", workers=2, progress=False)
    assert (summary.ok, summary.errors) == (5, 7)
    check_outputs(tmp_path, model, report(tmp_path / "r.jsonl"))
    # --gather: the actors return the bytes and the driver writes them; the same files.
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    for p in (tmp_path / "out").iterdir():
        p.unlink()
    summary = bake.bake(manifest, tmp_path / "g.jsonl", engine="ray", workers=2, gather=True, progress=False)
    assert summary.ok == 5
    second = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert first == second
