"""Issue 5's measurement: held-out vertex error and bilabial lip-distance error on the corpus's unseen
test speakers, for the generalized model (its default style, slot 0, and the mean of its training
styles) vs personalised from 10 s and 30 s of reference (Imitator two-stage adaptation in the Swift
library, through the Python binding), and the adaptation wall time on this machine.

  python tools/measure_personalization.py --corpus CORPUS --model MODEL.safetensors [--out docs/personalization.md]

Per test speaker: its clips are split into reference clips (first ones, up to the reference length)
and evaluation clips (the rest, never seen by the adaptation). Errors are on vertex offsets.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

from mimetic_tools.corpus import Corpus  # noqa: E402


def lip_opening(offsets, rig, template):
    v = (template.reshape(-1) + offsets).reshape(offsets.shape[0], -1, 3)
    return np.linalg.norm(v[:, rig.lip_upper] - v[:, rig.lip_lower], axis=-1).mean(axis=1)


def animate(mimetic, model, audio, persona=None, style=None):
    kw = dict(lookahead_ms=2000, left_context_ms=10000) if model.info.family != mimetic.Family.IMITATOR or True else {}
    with mimetic.Stream(model, persona=persona, style=style, reserve_persona_basis=persona is not None and persona.has_basis, **kw) as s:
        s.push(audio)
        s.flush()
        offsets, _ = s.pull_all()
    return offsets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seconds", default="10,30", help="reference lengths (s), comma-separated")
    ap.add_argument("--speakers", type=int, default=6, help="test speakers to use (at most)")
    ap.add_argument("--out", default=None, help="write a Markdown report here")
    args = ap.parse_args(argv)
    import mimetic
    mimetic.set_threads(2)
    corpus = Corpus(args.corpus)
    rig = corpus.rig
    lengths = [float(x) for x in args.seconds.split(",")]
    rows = []
    with mimetic.Model(args.model) as model:
        info = model.info
        template = model.template
        n_styles = info.num_styles
        mean_style = [1.0 / n_styles] * n_styles
        for spk in corpus.speakers("test")[: args.speakers]:
            clips = [c for c in corpus.clips("test") if c.meta["speaker"] == spk["id"]]
            clips.sort(key=lambda c: c.meta["sentence"])
            # Evaluation clips: the last third; references come from the rest.
            n_eval = max(2, len(clips) // 3)
            eval_clips, pool = clips[-n_eval:], clips[:-n_eval]
            targets = [(c.audio, c.offsets(rig), c.bilabial_frames) for c in eval_clips]

            def errors(fn):
                ve, lip = [], []
                for audio, gt, events in targets:
                    pred = fn(audio)
                    t = min(len(pred), len(gt))
                    ve.append(np.linalg.norm((pred[:t] - gt[:t]).reshape(t, -1, 3), axis=-1).mean() * 1000)
                    ev = events[events < t]
                    if len(ev):
                        lip.append(np.abs(lip_opening(pred[:t], rig, template)[ev] - lip_opening(gt[:t], rig, template)[ev]).mean() * 1000)
                return float(np.mean(ve)), float(np.mean(lip)) if lip else float("nan")

            row = {"speaker": spk["id"]}
            row["slot0"] = errors(lambda a: animate(mimetic, model, a, style=0))
            row["mean"] = errors(lambda a: animate(mimetic, model, a, style=mean_style))
            for seconds in lengths:
                ref, total = [], 0.0
                for c in pool:
                    if total >= seconds:
                        break
                    ref.append(mimetic.ReferenceClip(offsets=c.offsets(rig), audio=c.audio, bilabial_frames=c.bilabial_frames))
                    total += len(c.audio) / 16000
                t0 = time.perf_counter()
                persona = mimetic.Persona.personalize(model, ref)
                took = time.perf_counter() - t0
                row[f"p{seconds:g}"] = errors(lambda a: animate(mimetic, model, a, persona=persona))
                row[f"t{seconds:g}"] = (took, total)
                persona.close()
            rows.append(row)
            print(spk["id"], {k: v for k, v in row.items() if k != "speaker"}, flush=True)

    def mean(key, i):
        return float(np.nanmean([r[key][i] for r in rows]))

    lines = ["| | held-out vertex error (mm) | vs default style | bilabial lip-distance error (mm) | adaptation (s) for (s of reference) |",
             "|---|---|---|---|---|"]
    base = mean("slot0", 0)
    lines.append(f"| generalized, default style (slot 0) | {base:.3f} | — | {mean('slot0', 1):.3f} | |")
    lines.append(f"| generalized, mean of training styles | {mean('mean', 0):.3f} | {100 * (1 - mean('mean', 0) / base):+.1f} % | {mean('mean', 1):.3f} | |")
    for s in lengths:
        k = f"p{s:g}"
        lines.append(f"| personalized from {s:g} s | {mean(k, 0):.3f} | {100 * (1 - mean(k, 0) / base):+.1f} % lower | {mean(k, 1):.3f} | "
                     f"{mean(f't{s:g}', 0):.1f} for {mean(f't{s:g}', 1):.1f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# Personalization: measured on unseen speakers\n\n")
            f.write(f"Model `{os.path.basename(args.model)}`, corpus `{args.corpus}`, {len(rows)} test speakers (never seen in training); "
                    f"per speaker the last third of its clips is held out for evaluation and the reference is taken from the rest. "
                    f"Streaming with whole-utterance context; 2 BLAS threads. `python tools/measure_personalization.py`.\n\n")
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
