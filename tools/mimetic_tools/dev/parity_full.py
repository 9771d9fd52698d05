"""Full-size stage-by-stage parity: Mimetic (the `mimetic stages` command) against the PyTorch
reference, at the released models' sizes (wav2vec2-base encoder; 5023 vertices, BIWI 23370).

The Swift parity tests (Tests/MimeticCoreTests/ParityTests.swift) run the same comparison on small
fixture models in CI; this script is the out-of-CI check at full size. For every case:

  1. build the full-size reference (`mimetic_tools.reference.configs.FULL_SIZE`) and randomise
     every parameter (`randomize_`, fixed seed);
  2. write it in the ORIGINAL checkpoint layout (`mimetic_tools.checkpoints`) and convert it with
     `convert_checkpoint` (with a random template so the `vertices` stage exists). The converted
     model is cached in the work directory, keyed by case and seed, together with a SHA-256 of the
     reference parameters: a later run rebuilds the reference from the seed, checks the hash and
     reuses the file (the original-layout checkpoint is deleted unless --keep-checkpoints);
  3. write deterministic speech-like audio (float32, 16 kHz) as .npy and run
     `mimetic stages --model M --audio-npy A.npy --out DIR [--style 1]` (Mimic:
     `--style-offsets S.npy --init-state I.npy`);
  4. compare every stage with the reference's `predict` stages, with the metric of the Swift
     tests: max|a - b| / max|ref| <= 1e-4 (reference 1-D stages are compared flattened).

    python -m mimetic_tools.dev.parity_full [--seconds 3.5] [--only faceformer_vocaset,mimic_conv] [--workdir DIR]

Exits 1 if any stage of any case is missing, mis-shaped or over the tolerance.
Build the CLI first: `swift build -c release`.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import checkpoints as ckpt
from ..convert import CONVERTER_VERSION, convert_checkpoint
from .checkout import MODEL_CACHE, repository_root
from .make_fixtures import speech_like_audio
from ..reference import build_model, family_of, randomize_

ROOT = repository_root()
SAMPLE_RATE = 16000
TOLERANCE = 1e-4
STAGES = ["audio_normalized", "cnn", "aligned", "encoder", "audio_features", "style_code", "decoder",
          "offsets", "vertices"]
STYLE_INDEX = 1
MIMIC_STYLE_FRAMES = 150
DEFAULT_WORKDIR = MODEL_CACHE
CACHE_VERSION = 1


@dataclass
class FullCase:
    name: str
    config: str  # key of configs.FULL_SIZE
    seed: int
    writer: dict = field(default_factory=dict)  # checkpoint layout options
    overrides: dict = field(default_factory=dict)  # converter overrides
    note: str = ""


CASES = [
    FullCase("faceformer_vocaset", "faceformer_vocaset", 201, dict(weight_norm="old"),
             note="FaceFormer VOCASET: 5023 vertices, d 64, 30 fps, interpolate; vocaset.pth layout"),
    FullCase("faceformer_biwi", "faceformer_biwi", 202, dict(weight_norm="new"),
             note="FaceFormer BIWI: 23370 vertices, d 128, 25 fps, pairs; biwi.pth layout (parametrizations)"),
    FullCase("imitator_zeros", "imitator", 203, dict(variant="generalized"),
             note="Imitator, start token zeros; Lightning .ckpt"),
    FullCase("imitator_style", "imitator_style", 204, dict(variant="generalized", weight_norm="new"),
             overrides={"imitator": {"start_token": "style"}},
             note="Imitator, start token style (converter flag); Lightning .ckpt"),
    FullCase("mimic_conv", "mimic", 205, dict(epoch=125),
             note="Mimic, conv alignment; Epoch_125.pth"),
    FullCase("mimic_interp", "mimic_interp", 206, dict(epoch=50, weight_norm="new"),
             note="Mimic, interpolation alignment; Epoch_50.pth"),
]
CASES_BY_NAME = {c.name: c for c in CASES}


# ----------------------------------------------------------------------------------------------
# shared with mimetic-bench
# ----------------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def find_binary(explicit: str | None = None, prefer: str = "release") -> str:
    """The `mimetic` CLI: --bin, $MIMETIC_BIN, .build/<prefer>/mimetic, then the other configuration."""
    cands = [explicit, os.environ.get("MIMETIC_BIN")]
    order = [prefer] + [c for c in ("release", "debug") if c != prefer]
    cands += [os.path.join(ROOT, ".build", c, "mimetic") for c in order]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise SystemExit("the mimetic CLI is not built: run `swift build -c release` in " + ROOT)


def state_fingerprint(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(np.ascontiguousarray(v.detach().cpu().numpy()).tobytes())
    return h.hexdigest()


def random_template(num_vertices: int, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed + 5000)
    return (0.1 * rng.randn(num_vertices, 3)).astype(np.float32)


def write_original(case: FullCase, model: torch.nn.Module, tmp: str) -> str:
    family = family_of(model)
    w = dict(case.writer)
    if family == "faceformer":
        return ckpt.save_faceformer(model, os.path.join(tmp, f"{case.name}.pth"), **w)
    if family == "imitator":
        return ckpt.save_imitator_ckpt(model, os.path.join(tmp, f"{case.name}.ckpt"), seed=case.seed, **w)
    epoch = w.pop("epoch", 125)
    d = os.path.join(tmp, case.name)
    os.makedirs(d, exist_ok=True)
    return ckpt.save_mimic(model, os.path.join(d, f"Epoch_{epoch}.pth"), epoch=epoch, seed=case.seed, **w)


def prepare_case(case: FullCase, workdir: str, keep_checkpoints: bool = False, force: bool = False):
    """Reference model (randomised, eval) and the converted Mimetic model for `case`, converting
    only when the cache is missing or stale. Returns (model, model_path, template [3V], seconds spent
    preparing)."""
    t0 = time.perf_counter()
    os.makedirs(workdir, exist_ok=True)
    stem = os.path.join(workdir, f"{case.name}-seed{case.seed}")
    model_path, meta_path = stem + ".model.safetensors", stem + ".json"
    model = build_model(case.config)
    randomize_(model, case.seed)
    model.eval()
    fp = state_fingerprint(model)
    V = model.vertex_dim // 3
    template = random_template(V, case.seed)
    want = {"cache_version": CACHE_VERSION, "case": case.name, "config": case.config, "seed": case.seed,
            "writer": case.writer, "overrides": case.overrides, "converter": CONVERTER_VERSION,
            "reference_sha256": fp}
    cached = None
    if not force and os.path.exists(model_path) and os.path.exists(meta_path):
        try:
            with open(meta_path) as f:
                cached = json.load(f)
        except (OSError, ValueError):
            cached = None
    if cached != want:
        log(f"[{case.name}] writing the original-layout checkpoint and converting (cache: {workdir})")
        ck_dir = stem + ".original"
        shutil.rmtree(ck_dir, ignore_errors=True)
        os.makedirs(ck_dir)
        try:
            src = write_original(case, model, ck_dir)
            convert_checkpoint(src, model_path + ".tmp", overrides=case.overrides or None, template=template)
            os.replace(model_path + ".tmp", model_path)
        finally:
            if not keep_checkpoints:
                shutil.rmtree(ck_dir, ignore_errors=True)
        with open(meta_path, "w") as f:
            json.dump(want, f, indent=1)
    else:
        log(f"[{case.name}] using cached {os.path.basename(model_path)}")
    return model, model_path, template.reshape(-1), time.perf_counter() - t0


def write_float32_wav(path: str, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Mono IEEE-float (format tag 3) WAV: the exact float32 samples, no quantisation."""
    import struct

    data = np.ascontiguousarray(samples, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def run_stages(binary: str, model_path: str, audio: np.ndarray, out_dir: str, *, style: int | None = None,
               style_offsets: np.ndarray | None = None, init_state: np.ndarray | None = None,
               threads: int | None = None) -> dict:
    """Run `mimetic stages` and load every stage it wrote: {name: array [rows, cols]}."""
    os.makedirs(out_dir, exist_ok=True)
    a = os.path.join(out_dir, "input_audio.npy")
    np.save(a, np.ascontiguousarray(audio, dtype=np.float32))
    stage_dir = os.path.join(out_dir, "stages")
    shutil.rmtree(stage_dir, ignore_errors=True)
    cmd = [binary, "stages", "--model", model_path, "--audio-npy", a, "--out", stage_dir]
    if style is not None:
        cmd += ["--style", str(style)]
    if style_offsets is not None:
        p = os.path.join(out_dir, "style_offsets.npy")
        np.save(p, np.ascontiguousarray(style_offsets, dtype=np.float32))
        cmd += ["--style-offsets", p]
    if init_state is not None:
        p = os.path.join(out_dir, "init_state.npy")
        np.save(p, np.ascontiguousarray(init_state, dtype=np.float32))
        cmd += ["--init-state", p]
    if threads:
        cmd += ["--threads", str(threads)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}")
    return {f[:-4]: np.load(os.path.join(stage_dir, f)) for f in os.listdir(stage_dir) if f.endswith(".npy")}


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """The Swift tests' metric: max|a - b| / max|ref|."""
    a = np.asarray(got, np.float64).reshape(-1)
    b = np.asarray(ref, np.float64).reshape(-1)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def compare_stages(got: dict, ref: dict, stages=STAGES, tolerance: float = TOLERANCE) -> list[dict]:
    """One row per reference stage: {stage, shape, error, ok, problem}."""
    rows = []
    for s in stages:
        if s not in ref:
            continue
        r = np.asarray(ref[s])
        row = {"stage": s, "shape": list(r.shape), "error": None, "ok": False, "problem": ""}
        if s not in got:
            row["problem"] = "not produced by mimetic"
        else:
            g = np.asarray(got[s])
            same = g.size == r.size if r.ndim == 1 else g.shape == r.shape
            if not same:
                row["problem"] = f"shape {list(g.shape)} vs reference {list(r.shape)}"
            elif not np.all(np.isfinite(g)):
                row["problem"] = "non-finite values"
            else:
                row["error"] = relative_error(g, r)
                row["ok"] = row["error"] <= tolerance
                if not row["ok"]:
                    row["problem"] = f"over {tolerance:g}"
        rows.append(row)
    return rows


def reference_inputs(model, case_seed: int):
    """Mimic style offsets [150, 3V] and initial state [3V] (FaceFormer/Imitator: None, None)."""
    if family_of(model) != "mimic":
        return None, None
    rng = np.random.RandomState(case_seed + 7000)
    V3 = model.vertex_dim
    style_offsets = (0.5 * rng.randn(MIMIC_STYLE_FRAMES, V3)).astype(np.float32)
    init_state = (0.5 * rng.randn(V3)).astype(np.float32)
    return style_offsets, init_state


def reference_predict(model, audio, template, style_offsets=None, init_state=None, style=STYLE_INDEX) -> dict:
    if family_of(model) == "mimic":
        return model.predict(audio, style_offsets, init_state, template)
    one_hot = np.zeros(model.n_styles, np.float32)
    one_hot[style] = 1.0
    return model.predict(audio, one_hot, template)


# ----------------------------------------------------------------------------------------------
def run_case(case: FullCase, args, binary: str) -> dict:
    model, model_path, template, prep_s = prepare_case(case, args.workdir, args.keep_checkpoints, args.force)
    family = family_of(model)
    seconds = args.seconds
    audio = speech_like_audio(seconds, seed=case.seed)
    style_offsets, init_state = reference_inputs(model, case.seed)

    t0 = time.perf_counter()
    with torch.inference_mode():
        ref = reference_predict(model, audio, template, style_offsets, init_state)
    ref_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        t0 = time.perf_counter()
        got = run_stages(binary, model_path, audio, tmp,
                         style=None if family == "mimic" else STYLE_INDEX,
                         style_offsets=style_offsets, init_state=init_state, threads=args.threads)
        mim_s = time.perf_counter() - t0
    rows = compare_stages(got, ref)
    frames = int(ref["offsets"].shape[0])
    del model
    gc.collect()
    return {"case": case.name, "note": case.note, "frames": frames, "vertices": int(template.size // 3),
            "audio_seconds": seconds, "rows": rows, "ok": bool(rows) and all(r["ok"] for r in rows),
            "prepare_seconds": prep_s, "reference_seconds": ref_s, "mimetic_seconds": mim_s}


def print_table(results: list[dict]) -> None:
    print(f"{'case':20s} {'stage':17s} {'shape':>14s} {'rel. error':>11s}  result")
    for res in results:
        for r in res["rows"]:
            err = "-" if r["error"] is None else f"{r['error']:.2e}"
            shape = "x".join(str(x) for x in r["shape"])
            print(f"{res['case']:20s} {r['stage']:17s} {shape:>14s} {err:>11s}  "
                  f"{'ok' if r['ok'] else 'FAIL ' + r['problem']}")
        worst = max((r["error"] or 0.0) for r in res["rows"]) if res["rows"] else float("nan")
        print(f"{res['case']:20s} {'-> ' + ('PASS' if res['ok'] else 'FAIL'):17s} "
              f"{res['frames']:>5d} frames, {res['vertices']} vertices, worst {worst:.2e}; "
              f"reference predict {res['reference_seconds']:.1f} s, mimetic stages {res['mimetic_seconds']:.1f} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=4.0, help="audio length per case (default 4; 4 s gives an odd CNN frame count, exercising the BIWI odd-frame drop)")
    ap.add_argument("--only", default="", help=f"comma-separated cases of: {', '.join(CASES_BY_NAME)}")
    ap.add_argument("--workdir", default=DEFAULT_WORKDIR, help=f"cache of converted models (default {DEFAULT_WORKDIR})")
    ap.add_argument("--threads", type=int, default=2, help="threads for both torch and mimetic (default 2)")
    ap.add_argument("--bin", default=None, help="mimetic binary (default .build/release/mimetic)")
    ap.add_argument("--keep-checkpoints", action="store_true", help="keep the original-layout checkpoints")
    ap.add_argument("--force", action="store_true", help="re-convert even if cached")
    ap.add_argument("--json", default=None, help="also write the results as JSON")
    args = ap.parse_args(argv)

    only = [c for c in args.only.split(",") if c]
    unknown = [c for c in only if c not in CASES_BY_NAME]
    if unknown:
        ap.error(f"unknown cases {unknown}; known: {list(CASES_BY_NAME)}")
    cases = [CASES_BY_NAME[c] for c in only] if only else CASES
    binary = find_binary(args.bin)
    torch.set_num_threads(args.threads)
    args.workdir = os.path.abspath(os.path.expanduser(args.workdir))

    t0 = time.perf_counter()
    results = []
    for case in cases:
        try:
            results.append(run_case(case, args, binary))
        except Exception as e:  # report and carry on with the other cases
            log(f"[{case.name}] ERROR: {e}")
            results.append({"case": case.name, "note": case.note, "frames": 0, "vertices": 0, "rows": [],
                            "ok": False, "error": str(e), "reference_seconds": 0.0, "mimetic_seconds": 0.0})
        log(f"[{case.name}] done ({time.perf_counter() - t0:.0f} s so far)")
    print(f"full-size parity: {len(cases)} case(s), {args.seconds:g} s of audio each, tolerance "
          f"max|a-b|/max|ref| <= {TOLERANCE:g}, {args.threads} thread(s)")
    print_table(results)
    failed = [r["case"] for r in results if not r["ok"]]
    print(f"{len(results) - len(failed)}/{len(results)} cases pass"
          + (f"; FAILED: {', '.join(failed)}" if failed else "") + f" ({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
