"""Issue 5's measurement: held-out vertex error and bilabial lip-distance error on the corpus's unseen
test speakers, for the generalized model (its default style, slot 0, and the mean of its training
styles) vs personalised from 10 s and 30 s of reference (Imitator two-stage adaptation in the Swift
library, through the Python binding) vs a Mimic model's style code from the same reference motion
(forward only), and the adaptation wall time on this machine.

  mimetic-measure-personalization --corpus CORPUS --model IMITATOR.safetensors \
      [--mimic MIMIC.safetensors] [--weights 5:0,20:0.3] [--out docs/personalization.md] [--json results.json]

Per test speaker: its clips are sorted by sentence and split into evaluation clips (the last third,
never seen by the adaptation) and a pool the reference is taken from (its first clips, up to the
reference length; the adaptation holds the last reference clip out for early stopping). Errors are on
vertex offsets: mean L2 vertex error (mm), and |predicted - true| inner-lip opening at the m/b/p
closure frames (mm). Animation goes through a stream with the whole utterance as context (for the
real-time encoder that is exactly the offline result).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from ..corpus import Corpus
from ..evaluation import metrics as M

CONTEXT = dict(lookahead_ms=2000, left_context_ms=10000)   # the most a wav2vec 2.0 stream sees


def animate(mimetic, model, audio, persona=None, style=None, style_code=None):
    basis = persona is not None and persona.has_basis
    with mimetic.Stream(model, persona=persona, style=style, style_code=style_code, reserve_persona_basis=basis, **CONTEXT) as s:
        s.push(audio)
        s.flush()
        offsets, _ = s.pull_all()
    return offsets


def errors(targets, predict, rig, template):
    """(mean vertex error, mean bilabial lip-distance error) in mm over the evaluation clips."""
    ve, lip = [], []
    for audio, gt, events in targets:
        pred, gt = M.crop_pair(predict(audio), gt)
        ve.append(M.mve_mm(pred, gt))
        ev = events[events < len(gt)]
        if len(ev):
            opening = [M.lip_opening(x + template.reshape(-1, 3), rig.lip_upper, rig.lip_lower)[ev] for x in (pred, gt)]
            lip.append(np.abs(opening[0] - opening[1]).mean() * 1000)
    return float(np.mean(ve)), float(np.mean(lip)) if lip else float("nan")


def split_speaker(corpus, speaker_id):
    """A speaker's clips sorted by sentence: (evaluation clips, the last third and at least 2; the
    pool the reference is taken from, the rest)."""
    clips = sorted((c for c in corpus.clips(None, sentences="all") if c.meta["speaker"] == speaker_id),
                   key=lambda c: c.meta["sentence"])
    n_eval = max(2, len(clips) // 3)
    return clips[-n_eval:], clips[:-n_eval]


def take_reference(pool, seconds):
    """The first clips of `pool` until they hold `seconds` of audio (the last one may overshoot), and their length."""
    ref, total = [], 0.0
    for c in pool:
        if total >= seconds:
            break
        ref.append(c)
        total += len(c.audio) / 16000
    return ref, total


def provenance(mimetic, persona):
    """The persona's provenance (what the library recorded about the run), through a saved file."""
    import tempfile
    from safetensors import safe_open
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.safetensors")
        persona.save(path)
        with safe_open(path, "np") as f:
            return json.loads(f.metadata()["mimetic.persona"]).get("provenance", {})


def window_mean_code(model, offsets, window=150):
    """Mean of the style codes of consecutive `window`-frame pieces of the reference (all of it)."""
    starts = list(range(0, max(1, len(offsets) - window + 1), window))
    return np.mean([model.style_from_motion(offsets[s:s + window]) for s in starts], axis=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", required=True, help="Imitator-family model file (the generalized model)")
    ap.add_argument("--mimic", default=None, help="Mimic model file: its style code from the same reference")
    ap.add_argument("--seconds", default="10,30", help="reference lengths (s), comma-separated")
    ap.add_argument("--weights", default="20:0.3", help="adaptation settings to compare, comma-separated "
                    "LAMBDA:MU pairs (lip-contact weight : lip-closure weight)")
    ap.add_argument("--speakers", type=int, default=6, help="speakers to use (at most)")
    ap.add_argument("--split", choices=("test", "all"), default="test",
                    help="the corpus's test speakers (a corpus the model was trained from), or all its speakers "
                         "(a corpus made with another seed, none of whose speakers the model saw)")
    ap.add_argument("--starts", default="default", help="where stage 1 starts, comma-separated: default (the "
                    "library's), slot0, mean, best")
    ap.add_argument("--oracle", action="store_true", help="also the best single slot per speaker, chosen on its "
                    "evaluation clips (an oracle no user has)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write a Markdown report here")
    ap.add_argument("--json", default=None, help="write the per-speaker figures here")
    args = ap.parse_args(argv)
    try:
        import mimetic  # the Python binding of the Swift library
    except ImportError:
        raise SystemExit("error: the Mimetic Python binding is not installed: pip install ./bindings/python "
                         "(and MIMETIC_LIBRARY=path/to/libMimetic.so if the library is not next to it)")
    mimetic.set_threads(args.threads)
    corpus = Corpus(args.corpus)
    rig = corpus.rig
    lengths = [float(x) for x in args.seconds.split(",")]
    settings = [tuple(float(v) for v in x.split(":")) for x in args.weights.split(",")]
    model = mimetic.Model(args.model)
    mimic = mimetic.Model(args.mimic) if args.mimic else None
    template = model.template
    n_styles = model.info.num_styles
    rows = []
    starts = args.starts.split(",")
    for spk in corpus.speakers(None if args.split == "all" else "test")[: args.speakers]:
        eval_clips, pool = split_speaker(corpus, spk["id"])
        targets = [(c.audio, c.offsets(rig), c.bilabial_frames) for c in eval_clips]
        row = {"speaker": spk["id"], "eval_clips": len(eval_clips)}
        row["slot0"] = errors(targets, lambda a: animate(mimetic, model, a, style=0), rig, template)
        row["mean"] = errors(targets, lambda a: animate(mimetic, model, a, style=[1.0 / n_styles] * n_styles), rig, template)
        if args.oracle:
            per_slot = [errors(targets, lambda a: animate(mimetic, model, a, style=k), rig, template) for k in range(n_styles)]
            row["oracle"] = min(per_slot, key=lambda e: e[0])
        for seconds in lengths:
            ref, total = take_reference(pool, seconds)
            row[f"ref{seconds:g}"] = total
            clips_in = [mimetic.ReferenceClip(offsets=c.offsets(rig), audio=c.audio, bilabial_frames=c.bilabial_frames) for c in ref]
            for lam, mu in settings:
                for start in starts:
                    key = f"{seconds:g}_{lam:g}_{mu:g}" + ("" if start == "default" else f"_{start}")
                    t0 = time.perf_counter()
                    persona = mimetic.Persona.personalize(model, clips_in, lip_contact_weight=lam, lip_closure_weight=mu,
                                                          initial_style_slot=None if start == "default" else
                                                          0 if start == "slot0" else start)
                    row[f"t{key}"] = time.perf_counter() - t0
                    row[f"p{key}"] = errors(targets, lambda a: animate(mimetic, model, a, persona=persona), rig, template)
                    row[f"prov{key}"] = provenance(mimetic, persona)
                    persona.close()
            if mimic is not None:
                motion = np.concatenate([c.offsets(rig) for c in ref])
                t0 = time.perf_counter()
                code = mimic.style_from_motion(motion)
                row[f"tm{seconds:g}"] = time.perf_counter() - t0
                row[f"m{seconds:g}"] = errors(targets, lambda a: animate(mimetic, mimic, a, style_code=code), rig, template)
                code = window_mean_code(mimic, motion)
                row[f"mw{seconds:g}"] = errors(targets, lambda a: animate(mimetic, mimic, a, style_code=code), rig, template)
        rows.append(row)
        print(json.dumps(row), flush=True)

    def mean(key, i=None):
        return float(np.nanmean([r[key] if i is None else r[key][i] for r in rows]))

    base = mean("mean", 0)

    def line(label, key, extra=""):
        v = mean(key, 0)
        beats = sum(1 for r in rows if r[key][0] < r["mean"][0])
        return (f"| {label} | {v:.3f} | {100 * (v / base - 1):+.1f} % | {beats} of {len(rows)} | {mean(key, 1):.3f} | {extra} |")

    lines = ["| | held-out vertex error (mm) | vs the mean style | speakers better than the mean style | "
             "bilabial lip-distance error (mm) | time (s) for (s of reference) |",
             "|---|---|---|---|---|---|",
             line("generalized, slot 0", "slot0"),
             line("generalized, mean of the training styles", "mean")]
    if args.oracle:
        lines.append(line("generalized, best slot per speaker (oracle: chosen on the evaluation clips)", "oracle"))
    for s in lengths:
        for lam, mu in settings:
            for start in starts:
                key = f"{s:g}_{lam:g}_{mu:g}" + ("" if start == "default" else f"_{start}")
                still = sum(1 for r in rows if r[f"prov{key}"].get("held_out_change", "").startswith("none"))
                lines.append(line(f"adapted, {s:g} s, λ = {lam:g}, μ = {mu:g}, start {start}", f"p{key}",
                                  f"{mean(f't{key}'):.1f} for {mean(f'ref{s:g}'):.1f}"
                                  + (f"; {still} did not move" if still else "")))
    if mimic is not None:
        for s in lengths:
            lines.append(line(f"Mimic style code, last 5 s of the {s:g} s", f"m{s:g}", f"{mean(f'tm{s:g}'):.3f} for {mean(f'ref{s:g}'):.1f}"))
            lines.append(line(f"Mimic style code, mean over 5 s windows of the {s:g} s", f"mw{s:g}", ""))
    table = "\n".join(lines)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "mimic": args.mimic, "corpus": args.corpus, "rows": rows}, f, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(f"Model `{os.path.basename(args.model)}`" + (f", Mimic `{os.path.basename(args.mimic)}`" if args.mimic else "")
                    + f"; {len(rows)} speakers ({args.split} of `{args.corpus}`, never seen in training), "
                    f"{sum(r['eval_clips'] for r in rows)} evaluation clips; "
                    f"{args.threads} BLAS threads. `mimetic-measure-personalization`.\n\n")
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
