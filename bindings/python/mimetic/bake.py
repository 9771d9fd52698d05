"""``mimetic-bake`` / ``python -m mimetic.bake``: a whole game's dialogue, baked offline into animation
files, on this machine's cores or on a Ray cluster; resumable, and a bad line never stops the batch.

    mimetic-bake lines.csv --report report.jsonl                 # local process pool, one per core
    mimetic-bake lines.jsonl --engine ray --address auto         # an existing Ray cluster
    mimetic-bake lines.csv --engine ray --workers 2 --gather     # a local Ray; outputs written by the driver

The manifest is CSV (a header row) or JSON Lines (one object per line). Columns / keys:

    audio    WAV file (any PCM/float WAV: load_wav)                                        required
    model    model file (.safetensors)                                                     required
    out      output path; its extension gives the format unless ``format`` is set          required
    format   npy (offsets [frames, V, 3], float32, what Model.animate returns),
             weights-npy ([frames, K] blendshape weights), glb, gltf (mesh + morph targets + animation),
             arkit-csv (Live Link Face CSV)                                               optional
    persona  persona file of that model (mimetic personalize)                              optional
    style    a style slot (an integer) or comma-separated slot weights                     optional
    basis    blendshape basis for weights/glb/gltf/arkit-csv (default: arkit52.safetensors
             beside the model, as ``mimetic animate`` finds it)                             optional
    strength, smoothing_ms, closure_boost   the artist's controls of the weights          optional
    id       the line's name in the report (default: its number)                          optional

Relative paths are taken from the manifest's folder. Every output is written atomically (a
temporary file, then a rename) with a sidecar ``OUT.bake.json`` holding the line's fingerprint
(the model's, the persona's and the audio's contents, the settings, the library version); a rerun
skips a line whose output and sidecar exist and whose fingerprint matches, so an interrupted run
picks up where it stopped and gives the same files as an uninterrupted one. The report (JSON Lines)
has one record per line: ``line``, ``id``, ``status`` (ok, skipped, error), ``frames``,
``audio_s``, ``seconds`` (time spent on it), ``out`` and ``error``. The exit status is 1 when any line
failed, 0 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

import mimetic

#: Formats, with the extension each is recognised by: two NPY ones here, and the library's exports.
FORMATS = {"npy": ".npy", "weights-npy": None, **{name: ext for name, (_, ext) in mimetic.Retarget.EXPORT_FORMATS.items()}}
#: Manifest fields (anything else in a line is an error, so a misspelt column is not silently ignored).
FIELDS = ("audio", "model", "out", "format", "persona", "style", "basis", "strength", "smoothing_ms", "closure_boost", "id")
SIDECAR = ".bake.json"


class ManifestError(ValueError):
    """A manifest that cannot be read at all (not a bad line: those are reported and skipped)."""


@dataclass
class Line:
    """One manifest line, its paths resolved; ``problem`` says why it cannot run (reported, skipped)."""
    number: int
    id: str
    fields: Dict[str, str]
    problem: Optional[str] = None
    format: str = ""
    paths: Dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.fields.get(key, "") or ""


def read_manifest(path: Path) -> List[Line]:
    """Lines of a CSV or JSON Lines manifest (by extension: .jsonl/.json/.ndjson, otherwise CSV)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"cannot read the manifest {path}: {e}") from None
    rows: List[Tuple[int, Any]] = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for n, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                rows.append((n, json.loads(raw)))
            except json.JSONDecodeError as e:
                rows.append((n, f"not JSON: {e}"))
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not {"audio", "model", "out"} <= set(reader.fieldnames):
            raise ManifestError(f"{path}: a CSV manifest needs a header row with audio, model and out columns "
                                f"(got {reader.fieldnames})")
        for row in reader:
            rows.append((reader.line_num, row))
    base = path.resolve().parent
    return [_line(n, row, base) for n, row in rows]


def _line(number: int, row: Any, base: Path) -> Line:
    if not isinstance(row, dict):
        return Line(number, str(number), {}, problem=row if isinstance(row, str) else "a line must be an object")
    fields = {str(k): ("" if v is None else str(v)).strip() for k, v in row.items() if k is not None}
    line = Line(number, fields.get("id") or str(number), fields)
    unknown = sorted(set(fields) - set(FIELDS))
    missing = [k for k in ("audio", "model", "out") if not fields.get(k)]
    if unknown:
        line.problem = f"unknown field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})"
    elif missing:
        line.problem = f"missing {', '.join(missing)}"
    if line.problem:
        return line
    for key in ("audio", "model", "out", "persona", "basis"):
        if fields.get(key):
            p = Path(fields[key]).expanduser()
            line.paths[key] = str(p if p.is_absolute() else base / p)
    fmt = fields.get("format") or ""
    if not fmt:
        ext = Path(line.paths["out"]).suffix.lower()
        matches = [f for f, e in FORMATS.items() if e == ext]
        if not matches:
            line.problem = f"cannot tell the format of {fields['out']!r}: give a format ({', '.join(FORMATS)})"
            return line
        fmt = matches[0]
    if fmt not in FORMATS:
        line.problem = f"format {fmt!r} is not one of {', '.join(FORMATS)}"
        return line
    line.format = fmt
    if fmt not in ("npy",) and not line.paths.get("basis"):
        line.paths["basis"] = str(Path(line.paths["model"]).parent / "arkit52.safetensors")
    return line


# -- fingerprints ------------------------------------------------------------------------------

_file_digests: Dict[Tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-256 of a file's contents, cached per (path, size, mtime) within a process."""
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _file_digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _file_digests[key] = h.hexdigest()
    return _file_digests[key]


def fingerprint(line: Line) -> str:
    """What the output depends on: the contents of every input file, the settings, the library."""
    parts = {"library": mimetic.version(), "format": line.format,
             "settings": {k: line.get(k) for k in ("style", "strength", "smoothing_ms", "closure_boost")}}
    for key in ("model", "audio", "persona", "basis"):
        if key in line.paths and (key != "basis" or line.format != "npy"):
            parts[key] = file_digest(line.paths[key])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def is_done(line: Line, digest: str) -> bool:
    """The output exists and its sidecar says it was made from exactly these inputs."""
    out = line.paths["out"]
    try:
        with open(out + SIDECAR, encoding="utf-8") as f:
            return os.path.isfile(out) and json.load(f).get("fingerprint") == digest
    except (OSError, ValueError):
        return False


# -- the work of one line (in a worker) ---------------------------------------------------------

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _atomic_write(path: str, write: Callable[[str], object]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)   # mkstemp makes 0600; an asset is read by others (other nodes, the build)
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Baker:
    """One worker's state: models, bases and personas loaded once and reused for every line."""

    def __init__(self, threads: int = 1) -> None:
        mimetic.set_threads(threads)
        self._models: Dict[str, mimetic.Model] = {}
        self._personas: Dict[Tuple[str, str], mimetic.Persona] = {}
        self._retargets: Dict[Tuple[str, ...], mimetic.Retarget] = {}

    def _model(self, path: str) -> mimetic.Model:
        if path not in self._models:
            self._models[path] = mimetic.Model(path)
        return self._models[path]

    def _style(self, line: Line) -> Dict[str, Any]:
        model = self._model(line.paths["model"])
        if line.paths.get("persona"):
            if line.get("style"):
                raise mimetic.InvalidArgumentError("give a persona or a style, not both")
            key = (line.paths["model"], line.paths["persona"])
            if key not in self._personas:
                self._personas[key] = mimetic.Persona.load(model, line.paths["persona"])
            return {"persona": self._personas[key]}
        style = line.get("style")
        if not style:
            return {}
        try:
            values = [float(v) for v in style.split(",")]
        except ValueError:
            raise mimetic.InvalidArgumentError(f"style {style!r} is not a slot number or a list of weights") from None
        if len(values) == 1 and "," not in style:
            if not values[0].is_integer():
                raise mimetic.InvalidArgumentError(f"style {style!r}: a slot is an integer")
            return {"style": int(values[0])}
        return {"style": values}

    def _retarget(self, line: Line) -> mimetic.Retarget:
        model = self._model(line.paths["model"])
        controls = {"strength": 1.0, "smoothing_ms": 0.0, "closure_boost": 0.0}
        for name in controls:
            if line.get(name):
                try:
                    controls[name] = float(line.get(name))
                except ValueError:
                    raise mimetic.InvalidArgumentError(f"{name} {line.get(name)!r} is not a number") from None
        key = (line.paths["model"], line.paths["basis"], *(f"{k}={v}" for k, v in sorted(controls.items())))
        if key not in self._retargets:
            self._retargets[key] = mimetic.Retarget(model, line.paths["basis"], strength=controls["strength"],
                                                    smoothing_ms=controls["smoothing_ms"],
                                                    closure_boost=controls["closure_boost"])
        # A clone shares the basis and has a fresh fit state: the warm start and the smoothing must
        # not carry over from the previous line.
        return self._retargets[key].clone()

    def bake(self, line: Line, digest: str, gather: bool = False) -> Dict[str, Any]:
        """Animates one line and writes its output (or, with ``gather``, returns its bytes)."""
        start = time.perf_counter()
        record: Dict[str, Any] = {"line": line.number, "id": line.id, "out": line.paths.get("out")}
        try:
            model = self._model(line.paths["model"])
            audio = mimetic.load_wav(line.paths["audio"])
            frames = model.animate(audio, **self._style(line))
            out = line.paths["out"]
            if gather:
                folder = tempfile.mkdtemp(prefix="mimetic-bake-")
                target = os.path.join(folder, "out" + (FORMATS[line.format] or ".npy"))
            else:
                target = out
                os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
                for stale in glob.glob(glob.escape(out) + ".tmp-*"):   # left by a run that was killed mid-write
                    os.unlink(stale)
            if line.format == "npy":
                _atomic_write(target, lambda tmp: _save_npy(tmp, frames))
            else:
                with self._retarget(line) as retarget:
                    weights, _ = retarget.apply(frames)
                    if line.format == "weights-npy":
                        _atomic_write(target, lambda tmp: _save_npy(tmp, weights))
                    else:
                        retarget.export(weights, target, format=line.format)   # atomic in the library
            if gather:
                with open(target, "rb") as f:
                    record["data"] = f.read()
                os.unlink(target)
                os.rmdir(folder)
            else:
                _write_sidecar(out, digest, line)
            record.update(status="ok", frames=int(frames.shape[0]),
                          audio_s=round(len(audio.samples) / audio.sample_rate, 3))
        except Exception as e:   # any failure is this line's, reported; the batch goes on
            record.update(status="error", error=f"{type(e).__name__}: {e}")
        record["seconds"] = round(time.perf_counter() - start, 4)
        return record


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32))


def _write_sidecar(out: str, digest: str, line: Line) -> None:
    note = {"fingerprint": digest, "line": line.number, "id": line.id, "format": line.format}
    _atomic_write(out + SIDECAR, lambda tmp: Path(tmp).write_text(json.dumps(note, sort_keys=True) + "\n"))


# -- engines ----------------------------------------------------------------------------------

_worker: Optional[Baker] = None


def _local_init() -> None:
    global _worker
    _worker = Baker(threads=1)


def _local_bake(line: Line, digest: str) -> Dict[str, Any]:
    assert _worker is not None
    return _worker.bake(line, digest)


def run_local(jobs: Sequence[Tuple[Line, str]], workers: int) -> Iterator[Dict[str, Any]]:
    """A process pool, one Baker per process (each loads a model once)."""
    import concurrent.futures as cf
    import multiprocessing
    if workers == 1:   # in-process: no pool to start (and simpler to debug)
        baker = Baker(threads=1)
        for line, digest in jobs:
            yield baker.bake(line, digest)
        return
    context = multiprocessing.get_context("spawn")   # no fork of a process holding OpenBLAS threads
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_local_init) as pool:
        futures = [pool.submit(_local_bake, line, digest) for line, digest in jobs]
        for future in cf.as_completed(futures):
            yield future.result()


def run_ray(jobs: Sequence[Tuple[Line, str]], workers: int, address: Optional[str], gather: bool) -> Iterator[Dict[str, Any]]:
    """Ray actors, each a Baker (models loaded once per actor); outputs written where the actors run
    (paths every node sees) or, with ``gather``, returned to the driver and written here."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise SystemExit("mimetic-bake --engine ray needs Ray: pip install 'ray>=2'") from None
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # The workers import this very binding (and find the same library), wherever it lives.
            package_parent = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH", "")) if p)
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        actor = ray.remote(num_cpus=1)(Baker)
        pool = ActorPool([actor.remote(1) for _ in range(workers)])
        results = pool.map_unordered(lambda a, job: a.bake.remote(job[0], job[1], gather), list(jobs))
        by_number = {line.number: (line, digest) for line, digest in jobs}
        for record in results:
            if gather and record.get("status") == "ok":
                line, digest = by_number[record["line"]]
                data = record.pop("data")
                out = line.paths["out"]
                os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
                _atomic_write(out, lambda tmp: Path(tmp).write_bytes(data))
                _write_sidecar(out, digest, line)
            yield record
    finally:
        if started:
            ray.shutdown()


# -- the command --------------------------------------------------------------------------------

@dataclass
class Summary:
    ok: int = 0
    skipped: int = 0
    errors: int = 0
    frames: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0

    def line(self) -> str:
        rate = (self.ok / self.wall_s) if self.wall_s > 0 else 0.0
        return (f"baked {self.ok}, skipped {self.skipped} (already done), failed {self.errors}; "
                f"{self.frames} frames, {self.audio_s:.1f} s of audio in {self.wall_s:.1f} s ({rate:.2f} lines/s)")


def bake(manifest: Path, report: Optional[Path] = None, engine: str = "local", workers: Optional[int] = None,
         address: Optional[str] = None, gather: bool = False, force: bool = False, progress: bool = True) -> Summary:
    """Bakes every line of ``manifest``; returns the summary (the report, if asked, is written as it goes)."""
    lines = read_manifest(manifest)
    workers = max(1, workers or os.cpu_count() or 1)
    summary = Summary()
    start = time.perf_counter()
    out_file = open(report, "w", encoding="utf-8") if report else None
    seen_outputs: Dict[str, int] = {}
    try:
        def emit(record: Dict[str, Any]) -> None:
            status = record["status"]
            if status == "ok":
                summary.ok += 1
                summary.frames += record.get("frames", 0)
                summary.audio_s += record.get("audio_s", 0.0)
            elif status == "skipped":
                summary.skipped += 1
            else:
                summary.errors += 1
            if out_file:
                out_file.write(json.dumps(record, sort_keys=True) + "\n")
                out_file.flush()

        jobs: List[Tuple[Line, str]] = []
        for line in lines:
            if line.problem is None:
                out = os.path.abspath(line.paths["out"])
                if out in seen_outputs:
                    line.problem = f"out {line.get('out')!r} is also line {seen_outputs[out]}'s output"
                seen_outputs.setdefault(out, line.number)
            if line.problem is None:
                missing = [k for k in ("audio", "model", "persona", "basis") if k in line.paths and not os.path.isfile(line.paths[k])]
                if missing:
                    line.problem = "; ".join(f"no {k} file {line.paths[k]}" for k in missing)
            if line.problem is not None:
                emit({"line": line.number, "id": line.id, "status": "error", "error": line.problem,
                      "out": line.paths.get("out"), "seconds": 0.0})
                continue
            digest = fingerprint(line)
            if not force and is_done(line, digest):
                emit({"line": line.number, "id": line.id, "status": "skipped", "out": line.paths["out"], "seconds": 0.0})
                continue
            jobs.append((line, digest))

        bar = _progress(len(jobs), progress)
        results = run_ray(jobs, workers, address, gather) if engine == "ray" else run_local(jobs, workers)
        for record in results:
            emit(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=summary.errors, refresh=False)
        if bar is not None:
            bar.close()
    finally:
        if out_file:
            out_file.close()
    summary.wall_s = time.perf_counter() - start
    return summary


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        print("mimetic-bake: no progress bar without tqdm (pip install tqdm)", file=sys.stderr)
        return None
    return tqdm(total=total, unit="line", desc="baking", dynamic_ncols=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="mimetic-bake", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Manifest fields: " + ", ".join(FIELDS) + ". See `pydoc mimetic.bake`.")
    parser.add_argument("manifest", type=Path, help="CSV (header row) or JSON Lines (.jsonl) manifest")
    parser.add_argument("--report", type=Path, help="JSON Lines report, one record per line (default: MANIFEST.report.jsonl)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local", help="local: a process pool (default); ray: Ray actors")
    parser.add_argument("--workers", type=int, help="processes or actors (default: the cores)")
    parser.add_argument("--address", help="Ray: an existing cluster's address ('auto' for the local one); default: start a local Ray")
    parser.add_argument("--gather", action="store_true", help="Ray: return outputs to the driver, which writes them")
    parser.add_argument("--force", action="store_true", help="bake every line, even those already done")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if (args.address or args.gather) and args.engine != "ray":
        parser.error("--address and --gather are for --engine ray")
    report = args.report or args.manifest.with_name(args.manifest.name + ".report.jsonl")
    try:
        summary = bake(args.manifest, report, args.engine, args.workers, args.address, args.gather, args.force,
                       progress=not args.quiet)
    except ManifestError as e:
        print(f"mimetic-bake: {e}", file=sys.stderr)
        return 2
    print(f"mimetic-bake: {summary.line()}; report: {report}", file=sys.stderr)
    return 1 if summary.errors else 0


if __name__ == "__main__":
    # Through the package's module, so that pool workers find the same functions by name.
    from mimetic.bake import main as package_main
    sys.exit(package_main())
