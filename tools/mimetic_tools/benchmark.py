"""The work of `mimetic-bench` (mimetic_tools/cli/bench.py, whose docstring describes the run)."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import warnings

import numpy as np
import torch

from .dev.make_fixtures import speech_like_audio
from .reference.common import cnn_length, interpolate_features, interpolated_frames, normalize_audio
from .dev.parity_full import (
    CASES_BY_NAME, FullCase, TOLERANCE, compare_stages, find_binary, log, prepare_case,
    run_stages, write_float32_wav,
)

STAGE_ORDER = ["cnn", "transformer", "audio_map", "decoder", "motion_out"]
ENCODER_STAGES = ("cnn", "transformer", "audio_map")
STYLE = 0  # `mimetic bench` animates slot 0


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ----------------------------------------------------------------------------------------------
# PyTorch sides
# ----------------------------------------------------------------------------------------------
class EncoderPath(torch.nn.Module):
    """The reference's encoder path on normalised audio of a fixed length, as one module (for ONNX
    export): CNN -> interpolation to T frames -> projection -> transformer -> audio_feature_map."""

    def __init__(self, model, frames: int):
        super().__init__()
        self.wav2vec = model.audio_encoder
        self.feature_map = model.audio_feature_map
        self.frames = frames

    def forward(self, x):
        cnn = self.wav2vec.extract(x)
        return self.feature_map(self.wav2vec.encode(interpolate_features(cnn, self.frames)))


def torch_encoder(model, audio):
    """Exactly the reference's path (FaceFormer.audio_stages)."""
    with torch.inference_mode():
        _, feats = model.audio_stages(audio)
    return feats


def torch_predict(model, audio, template):
    one_hot = np.zeros(model.n_styles, np.float32)
    one_hot[STYLE] = 1.0
    with torch.inference_mode():
        return model.predict(audio, one_hot, template)


def make_onnx_runner(model, audio, workdir: str, threads: int):
    """(run, note): run() executes the encoder path in ONNX Runtime (normalisation in numpy, as the
    reference); run is None with the reason in note when onnxruntime is missing or export fails."""
    try:
        import onnxruntime as ort
    except Exception as e:  # noqa: BLE001 - any import problem means "skip"
        return None, f"skipped: onnxruntime does not import ({type(e).__name__})"
    x = normalize_audio(audio, model.input_norm_eps)
    cfg = model.audio_encoder.config
    L = cnn_length(len(x), cfg.conv_kernel, cfg.conv_stride)
    wrapper = EncoderPath(model, interpolated_frames(L, model.fps)).eval()
    path = os.path.join(workdir, f"encoder-{len(audio)}.onnx")
    errors = []
    for dynamo in (False, True):
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
                torch.onnx.export(wrapper, (torch.from_numpy(x)[None],), path, input_names=["audio"],
                                  output_names=["features"], opset_version=17, dynamo=dynamo)
            break
        except Exception as e:  # noqa: BLE001
            errors.append(f"dynamo={dynamo}: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}")
    else:
        return None, "skipped: ONNX export failed (" + "; ".join(errors) + ")"
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        # idle ORT workers otherwise spin for a while after each run, stealing the cores from the
        # PyTorch and Mimetic runs that follow it
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        eps = model.input_norm_eps

        def run():
            return sess.run(None, {"audio": normalize_audio(audio, eps)[None]})[0]

        out = run()
        ref = torch_encoder(model, audio).numpy()
        err = float(np.max(np.abs(out - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
        return run, f"onnxruntime {ort.__version__}, max rel. diff. from PyTorch {err:.1e}"
    except Exception as e:  # noqa: BLE001
        return None, f"skipped: ONNX Runtime session failed ({type(e).__name__}: {str(e)[:160]})"


def openblas_core(binary: str, model_path: str) -> str:
    """The OpenBLAS kernel set the CLI runs with (OPENBLAS_VERBOSE=2 prints it), and whether
    OPENBLAS_CORETYPE forces it: the sgemm peak, hence every GFLOP/s figure, depends on it."""
    env = dict(os.environ, OPENBLAS_VERBOSE="2")
    try:
        r = subprocess.run([binary, "info", model_path], capture_output=True, text=True, env=env, timeout=60)
        core = next((l.split(":", 1)[1].strip() for l in (r.stdout + r.stderr).splitlines() if l.startswith("Core:")), "?")
    except (OSError, subprocess.SubprocessError):
        core = "?"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return core + (f" (forced by OPENBLAS_CORETYPE={forced})" if forced else " (auto-detected)")


def _busy_cpu_seconds() -> float | None:
    """Machine-wide busy CPU time (all cores) from /proc/stat, in seconds; None off Linux."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")  # user nice system irq softirq
    except (OSError, ValueError, IndexError):
        return None


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class BackgroundLoad:
    """CPU used by OTHER processes while a block runs (cores on average): the machine-wide busy time
    minus this process's and its (waited-for) children's. Timings are only comparable when ~0."""

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.perf_counter(), _busy_cpu_seconds(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc):
        busy1 = _busy_cpu_seconds()
        wall = time.perf_counter() - self.t0
        if self.busy0 is None or busy1 is None or wall <= 0:
            self.cores = None
        else:
            self.cores = max(0.0, ((busy1 - self.busy0) - (_own_cpu_seconds() - self.own0)) / wall)
        return False


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# ----------------------------------------------------------------------------------------------
def mimetic_bench(binary, model_path, wav, threads) -> dict:
    cmd = [binary, "bench", "--model", model_path, "--audio", wav, "--threads", str(threads),
           "--repeats", "1", "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(args) -> int:
    """The benchmark with parsed arguments (mimetic_tools/cli/bench.py); exit status 1 if parity fails."""
    if args.seed is None:
        args.seed = CASES_BY_NAME["faceformer_vocaset"].seed

    binary = find_binary(args.bin)
    if os.sep + "debug" + os.sep in binary:
        log(f"WARNING: timing a debug build ({binary}); build with `swift build -c release`")
    torch.set_num_threads(args.threads)
    workdir = os.path.abspath(os.path.expanduser(args.workdir))
    base = CASES_BY_NAME["faceformer_vocaset"]
    case = FullCase(base.name, base.config, args.seed, base.writer, base.overrides, base.note)
    model, model_path, template, _ = prepare_case(case, workdir)
    blas_core = openblas_core(binary, model_path)
    audio = speech_like_audio(args.seconds, seed=case.seed)
    V = model.vertex_dim // 3

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        wav = os.path.join(tmp, "speech.wav")
        write_float32_wav(wav, audio)

        # --- parity, and the PyTorch warm-ups ---------------------------------------------------
        log("parity: mimetic stages vs the reference on the same audio")
        got = run_stages(binary, model_path, audio, os.path.join(tmp, "parity"), style=STYLE, threads=args.threads)
        torch_encoder(model, audio)  # warm-up
        if args.skip_predict:
            with torch.inference_mode():
                ref, _ = model.audio_stages(audio)
        else:
            ref = torch_predict(model, audio, template)  # warm-up, and the reference stages
        parity = compare_stages(got, ref)
        frames = int(got["offsets"].shape[0]) if "offsets" in got else 0
        del got

        ort_run, ort_note = (None, "skipped (--no-onnx)") if args.no_onnx else make_onnx_runner(model, audio, tmp, args.threads)
        if ort_run is not None:
            ort_run()  # warm-up

        # --- alternating rounds -------------------------------------------------------------------
        rounds = []
        for i in range(args.repeats):
            with BackgroundLoad() as load:
                rec = {"mimetic": mimetic_bench(binary, model_path, wav, args.threads)}
                rec["torch_encoder"], _ = timed(lambda: torch_encoder(model, audio))
                if ort_run is not None:
                    rec["ort_encoder"], _ = timed(ort_run)
                if not args.skip_predict:
                    rec["torch_predict"], _ = timed(lambda: torch_predict(model, audio, template))
            rec["background_cores"] = load.cores
            rounds.append(rec)
            log(f"round {i + 1}/{args.repeats}: mimetic {rec['mimetic']['seconds']:.3f} s, torch encoder "
                f"{rec['torch_encoder']:.3f} s"
                + (f", ort encoder {rec['ort_encoder']:.3f} s" if "ort_encoder" in rec else "")
                + (f", torch predict {rec['torch_predict']:.3f} s" if "torch_predict" in rec else "")
                + (f"; other processes used {load.cores:.2f} cores" if load.cores is not None else ""))

    # --- summary ------------------------------------------------------------------------------
    mj = [r["mimetic"] for r in rounds]
    m_total = median([m["seconds"] for m in mj])
    m_stage = {s: median([m["stages"].get(s, 0.0) for m in mj]) for s in STAGE_ORDER}
    m_enc = median([sum(m["stages"].get(s, 0.0) for s in ENCODER_STAGES) for m in mj])
    gflop = mj[0]["gflop"]
    sg = mj[0]["stage_gflop"]
    stage_gflop = {"cnn": sg["cnn"], "transformer": sg["transformer"], "audio_map": 0.0,
                   "decoder": sg["decoder"], "motion_out": sg["motion_out"]}
    enc_gflop = sg["cnn"] + sg["transformer"]
    peak = median([m["sgemm_peak_gflops"] for m in mj])
    m_gflops = gflop / m_total
    t_enc = median([r["torch_encoder"] for r in rounds])
    o_enc = median([r["ort_encoder"] for r in rounds]) if ort_run is not None else None
    t_pred = median([r["torch_predict"] for r in rounds]) if not args.skip_predict else None
    vert = next((p for p in parity if p["stage"] == "vertices"), None)
    worst = max(parity, key=lambda p: -1 if p["error"] is None else p["error"]) if parity else None
    parity_ok = bool(parity) and all(p["ok"] for p in parity)

    bg = [r["background_cores"] for r in rounds if r["background_cores"] is not None]
    W = 64
    print(f"Mimetic vs PyTorch reference: FaceFormer VOCASET full size (wav2vec2-base, {V} vertices), random weights")
    print(f"{args.seconds:g} s of audio ({len(audio)} samples, {frames} frames at 30 fps), {args.threads} threads, "
          f"median of {args.repeats} alternating rounds")
    if bg:
        quiet = max(bg) < 0.1
        print(f"other processes during the rounds: {median(bg):.2f} cores on average (max {max(bg):.2f})"
              + ("" if quiet else "  WARNING: the machine was not quiet, timings are unreliable"))
    print(f"{cpu_name()}, {os.cpu_count()} CPUs; OpenBLAS core {blas_core}; torch {torch.__version__}; mimetic {binary}")
    print()
    print(f"{'Mimetic stage':14s} {'seconds':>9s} {'share':>7s} {'GFLOP':>8s} {'GFLOP/s':>8s}")
    for s in STAGE_ORDER:
        t = m_stage[s]
        g = stage_gflop[s]
        print(f"{s:14s} {t:9.4f} {100 * t / m_total:6.1f}% {g:8.2f} {(g / t if t > 0 and g > 0 else 0):8.1f}")
    print(f"{'total':14s} {m_total:9.4f} {100.0:6.1f}% {gflop:8.2f} {m_gflops:8.1f}")
    print()
    print(f"{'':{W}s} {'seconds':>8s} {'x Mimetic':>10s} {'GFLOP/s*':>9s}")

    def row(name, t, ref_t, work):
        if t is None:
            return
        ratio = f"{t / ref_t:9.2f}x" if ref_t else ""
        print(f"{name:{W}s} {t:8.3f} {ratio:>10s} {work / t:9.1f}")

    row("Mimetic encoder (cnn + transformer + audio_map)", m_enc, m_enc, enc_gflop)
    row("PyTorch encoder path (eager, inference_mode)", t_enc, m_enc, enc_gflop)
    if o_enc is not None:
        row("ONNX Runtime encoder path", o_enc, m_enc, enc_gflop)
    else:
        print(f"{'ONNX Runtime encoder path':{W}s} {ort_note}")
    row("Mimetic total (encoder + incremental decoder + output head)", m_total, m_total, gflop)
    if t_pred is not None:
        row("PyTorch full predict (originals' O(T^2) loop)", t_pred, m_total, gflop)
    else:
        print(f"{'PyTorch full predict':{W}s} skipped (--skip-predict)")
    print("* the work Mimetic counts (its `gflop`) divided by the time; the O(T^2) predict loop does more arithmetic")
    print()
    print(f"ratios: PyTorch encoder / Mimetic encoder+audio_map = {t_enc / m_enc:.2f}"
          + (f"; ONNX Runtime encoder / Mimetic = {o_enc / m_enc:.2f}" if o_enc is not None else "")
          + (f"; PyTorch predict / Mimetic total = {t_pred / m_total:.2f}" if t_pred is not None else ""))
    print(f"Mimetic: {gflop:.1f} GFLOP in {m_total:.3f} s = {m_gflops:.1f} GFLOP/s = {100 * m_gflops / peak:.0f}% of "
          f"the measured sgemm peak ({peak:.1f} GFLOP/s, 768^3, {args.threads} threads)")
    if o_enc is not None:
        print(f"ONNX Runtime: {ort_note}")
    if parity:
        print(f"parity (mimetic stages vs reference {'audio_stages' if args.skip_predict else 'predict'}, "
              f"max|a-b|/max|ref|, tolerance {TOLERANCE:g}): "
              + (f"vertices {vert['error']:.2e}, " if vert and vert["error"] is not None else "")
              + (f"worst stage {worst['stage']} {worst['error']:.2e} " if worst and worst["error"] is not None else "")
              + ("PASS" if parity_ok else "FAIL: " + "; ".join(f"{p['stage']} {p['problem']}" for p in parity if not p["ok"])))
        print("  " + ", ".join(f"{p['stage']} {p['error']:.1e}" if p["error"] is not None else f"{p['stage']} -" for p in parity))

    if args.json:
        result = {
            "model": "faceformer_vocaset full size", "seed": case.seed, "vertices": V, "audio_seconds": args.seconds,
            "samples": len(audio), "frames": frames, "threads": args.threads, "repeats": args.repeats,
            "cpu": cpu_name(), "openblas_core": blas_core, "torch": torch.__version__, "mimetic_binary": binary,
            "mimetic": {"seconds": m_total, "stages": m_stage, "encoder_seconds": m_enc, "gflop": gflop,
                        "stage_gflop": stage_gflop, "gflops": m_gflops, "sgemm_peak_gflops": peak,
                        "fraction_of_peak": m_gflops / peak},
            "torch_encoder_seconds": t_enc, "torch_predict_seconds": t_pred, "ort_encoder_seconds": o_enc,
            "ort_note": ort_note,
            "ratios": {"torch_encoder_over_mimetic_encoder": t_enc / m_enc,
                       "ort_encoder_over_mimetic_encoder": (o_enc / m_enc) if o_enc is not None else None,
                       "torch_predict_over_mimetic_total": (t_pred / m_total) if t_pred is not None else None},
            "parity": parity, "parity_ok": parity_ok, "rounds": rounds,
            "background_cores": {"median": median(bg), "max": max(bg)} if bg else None,
        }
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
        log(f"wrote {args.json}")
    return 0 if parity_ok else 1

