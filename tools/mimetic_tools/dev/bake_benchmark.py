"""Throughput of ``mimetic-bake`` (docs/baking.md): N dialogue lines spoken by espeak-ng (the corpus's
sentences and voices), baked to GLB with the default model by the local engine and by Ray, with 1
and 2 workers; lines per second, per core, and the scaling efficiency.

    python -m mimetic_tools.dev.bake_benchmark --lines 1000 --out /tmp/bake-bench

Needs the ``train`` set-up (espeak-ng), the binding (``bindings/python`` on the path or installed),
tqdm, and Ray for the Ray rows. The lines' WAVs are made once and reused by later runs.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import time
import wave
from pathlib import Path

import numpy as np

from ..corpus import espeak
from ..corpus.sentences import SENTENCES

REPO = Path(__file__).resolve().parents[3]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-us+m3", "en-gb-x-rp", "en-us+f2"]


def make_lines(folder: Path, n: int) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"line{i:05d}.wav"
        if not path.exists():
            s = espeak.synthesize(SENTENCES[i % len(SENTENCES)], voice=VOICES[i % len(VOICES)], rate=150 + (i * 7) % 60)
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(s.sample_rate)
                w.writeframes(np.asarray(s.audio, dtype="<i2").tobytes())
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/mimetic-bake-bench"))
    ap.add_argument("--engines", default="local,ray")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--format", default="glb")
    args = ap.parse_args()
    from mimetic import bake
    import mimetic

    wavs = make_lines(args.out / "wav", args.lines)
    audio_s = sum(wave.open(str(p)).getnframes() / wave.open(str(p)).getframerate() for p in wavs)
    print(f"{len(wavs)} lines, {audio_s:.0f} s of speech ({audio_s / len(wavs):.2f} s a line); library {mimetic.library_path}")
    rows = []
    for engine in args.engines.split(","):
        for workers in map(int, args.workers.split(",")):
            run = args.out / f"{engine}-{workers}"
            shutil.rmtree(run, ignore_errors=True)
            run.mkdir(parents=True)
            manifest = run / "lines.csv"
            with open(manifest, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["audio", "model", "out"])
                for p in wavs:
                    w.writerow([p, REPO / "models" / "default.safetensors", f"out/{p.stem}.{args.format}"])
            start = time.perf_counter()
            s = bake.bake(manifest, run / "report.jsonl", engine=engine, workers=workers, progress=False)
            wall = time.perf_counter() - start
            assert s.ok == len(wavs), s.line()
            busy = sum(json.loads(r)["seconds"] for r in (run / "report.jsonl").read_text().splitlines())
            rows.append({"engine": engine, "workers": workers, "wall_s": round(wall, 2), "lines_per_s": round(len(wavs) / wall, 1),
                         "lines_per_s_per_worker": round(len(wavs) / wall / workers, 1),
                         "busy_s_per_line_ms": round(1000 * busy / len(wavs), 1)})
            print(json.dumps(rows[-1]), flush=True)
    for engine in args.engines.split(","):
        r = {x["workers"]: x for x in rows if x["engine"] == engine}
        if 1 in r and 2 in r:
            print(f"{engine}: scaling efficiency 1 -> 2 workers {r[2]['lines_per_s'] / (2 * r[1]['lines_per_s']):.2f}")
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
