"""Adaptation settings compared on unseen speakers, quickly (the personalization-baseline issue).

    python -m mimetic_tools.dev.adaptation_sweep --corpus out/corpus7 --model models/default.safetensors \\
        --config "start=mean" --config "start=best,basis_learning_rate=0.0003" [--seconds 10] [--workers 2]

Each --config is comma-separated keyword=value pairs for ``mimetic.Persona.personalize`` (start= is its
initial_style_slot: slot0, mean, best or a slot). Per speaker of the corpus (all of them: make it with
a seed other than the model's), its clips sorted by sentence: the last third are evaluation clips, the
reference is its first clips up to --seconds. Reports the mean held-out vertex error and bilabial
lip-distance error (mm) of each config against the generalized model's mean style, and the speakers
where the adaptation did not beat the mean style. `mimetic-measure-personalization` is the full report.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Dict

import numpy as np


def _parse(config: str) -> Dict[str, object]:
    out: Dict[str, object] = {}
    for part in filter(None, config.split(",")):
        key, value = part.split("=")
        if key == "start":
            out["initial_style_slot"] = 0 if value == "slot0" else value if value in ("mean", "best") else int(value)
        elif key in ("style_steps", "basis_steps", "held_out_clip", "held_out_folds"):
            out[key] = int(value)
        else:
            out[key] = float(value)
    return out


def _speaker(job):
    corpus_dir, model_path, speaker, seconds, configs = job
    import mimetic
    from ..cli.measure_personalization import errors as measure, split_speaker, take_reference
    from ..corpus import Corpus
    mimetic.set_threads(1)
    corpus = Corpus(corpus_dir)
    rig = corpus.rig
    model = mimetic.Model(model_path)
    evals, pool = split_speaker(corpus, speaker)
    targets = [(c.audio, c.offsets(rig), c.bilabial_frames) for c in evals]

    def errors(**kw):
        return measure(targets, lambda audio: model.animate(audio, 16000, **kw), rig, model.template)

    n = model.info.num_styles
    row = {"speaker": speaker, "slot0": errors(style=0), "mean": errors(style=[1.0 / n] * n)}
    for secs in seconds:
        ref, _ = take_reference(pool, secs)
        refs = [mimetic.ReferenceClip(offsets=c.offsets(rig), audio=c.audio, bilabial_frames=c.bilabial_frames) for c in ref]
        for i, config in enumerate(configs):
            t0 = time.perf_counter()
            persona = mimetic.Persona.personalize(model, refs, **_parse(config))
            row[f"t{secs:g}/{i}"] = time.perf_counter() - t0
            row[f"{secs:g}/{i}"] = errors(persona=persona)
            persona.close()
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", default="models/default.safetensors")
    ap.add_argument("--config", action="append", default=[], help="keyword=value,... for Persona.personalize (repeatable)")
    ap.add_argument("--seconds", default="10")
    ap.add_argument("--speakers", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    configs = a.config or [""]
    seconds = [float(s) for s in a.seconds.split(",")]
    speakers = [s["id"] for s in json.load(open(os.path.join(a.corpus, "speakers.json")))][: a.speakers]
    jobs = [(a.corpus, a.model, s, seconds, configs) for s in speakers]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = list(pool.map(_speaker, jobs))
    mean_style = np.mean([r["mean"][0] for r in rows])
    print(f"{len(rows)} speakers; generalized slot 0 {np.mean([r['slot0'][0] for r in rows]):.3f} mm "
          f"(lips {np.mean([r['slot0'][1] for r in rows]):.3f}), mean style {mean_style:.3f} mm "
          f"(lips {np.mean([r['mean'][1] for r in rows]):.3f})")
    for secs in seconds:
        for i, config in enumerate(configs):
            k = f"{secs:g}/{i}"
            v = np.mean([r[k][0] for r in rows])
            worse = [r["speaker"] for r in rows if r[k][0] >= r["mean"][0]]
            print(f"{secs:g} s [{config or 'defaults'}]: {v:.3f} mm ({100 * (v / mean_style - 1):+.1f} % vs mean style), "
                  f"lips {np.mean([r[k][1] for r in rows]):.3f} mm, {np.mean([r['t' + k] for r in rows]):.1f} s; "
                  f"not better than the mean style: {', '.join(worse) or 'none'}", flush=True)
    if a.json:
        json.dump({"configs": configs, "rows": rows}, open(a.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
