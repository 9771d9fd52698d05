"""Personalising from simulated Live Link Face takes against personalising from the exact meshes of
the same clips (docs/personalization.md, "From a phone take").

    python -m mimetic_tools.dev.livelink_experiment --corpus out/corpus --takes out/takes --model models/default.safetensors

For each test speaker: the first clips up to `--reference-seconds` are the reference, the rest are
held out. Three personas (none: the generalized model with its default style; exact meshes;
takes) animate the held-out clips, and the mean vertex error against the corpus meshes is reported,
with the audio-to-take offsets the library estimated against the ones the takes were made with.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Dict, List

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def load_metadata(path: str) -> Dict[str, str]:
    with safe_open(path, "np") as f:
        return dict(f.metadata() or {})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--takes", required=True)
    ap.add_argument("--model", default="models/default.safetensors")
    ap.add_argument("--cli", default=".build/release/mimetic")
    ap.add_argument("--reference-seconds", type=float, default=10.0)
    ap.add_argument("--start", default=None, help="passed to mimetic personalize --start (best, mean, slot0)")
    ap.add_argument("--exact-only", action="store_true", help="skip the takes (the personalization baseline alone)")
    ap.add_argument("--events", choices=("motion", "aligned"), default="motion",
                    help="the takes' lip closures: from the take's motion, or at the m/b/p of the clip text's forced "
                         "alignment with the take's audio (mimetic.align, pocketsphinx)")
    a = ap.parse_args(argv)
    import mimetic
    from mimetic.align import align, bilabial_spans, write_labels
    rig = load_file(os.path.join(a.corpus, "rig.safetensors"))
    basis = rig["basis"].astype(np.float32)
    truth_offsets = json.load(open(os.path.join(a.takes, "offsets.json")))
    by_speaker: Dict[str, List[str]] = {}
    for stem in sorted(truth_offsets):
        by_speaker.setdefault(stem.split("_")[0], []).append(stem)
    model = mimetic.Model(a.model)
    rows = []
    offset_errors = []
    event_counts = []
    event_matches = {"motion": [0, 0], "aligned": [0, 0]}     # [events found, of which within 2 frames of a true one]
    truth_total = [0, 0]                                        # [true events, of which some found event is within 2 frames]
    recalled = {"motion": 0, "aligned": 0}
    arkit = mimetic.Retarget(model, os.path.join(os.path.dirname(a.model), "arkit52.safetensors")) if not a.exact_only else None
    with tempfile.TemporaryDirectory() as tmp:
        for speaker, stems in by_speaker.items():
            ref, held, seconds = [], [], 0.0
            for stem in stems:
                clip = load_file(os.path.join(a.corpus, "clips", stem + ".safetensors"))
                if seconds < a.reference_seconds:
                    ref.append(stem)
                    seconds += len(clip["audio"]) / 16000
                else:
                    held.append(stem)
            exact_refs, take_refs = [], []
            for stem in ref:
                clip = load_file(os.path.join(a.corpus, "clips", stem + ".safetensors"))
                npy = os.path.join(tmp, stem + ".npy")
                np.save(npy, (clip["weights"] @ basis).astype(np.float32))
                events = os.path.join(tmp, stem + ".events.npy")
                np.save(events, clip["bilabial_frames"].astype(np.float32))
                exact_refs += ["--ref", f"{a.takes}/{stem}.wav:{npy}:{events}"]
                take = f"{a.takes}/{stem}.csv:{a.takes}/{stem}.wav"
                if arkit is not None:
                    text = json.loads(load_metadata(os.path.join(a.corpus, "clips", stem + ".safetensors"))["corpus.clip"])["text"]
                    speech = mimetic.load_wav(f"{a.takes}/{stem}.wav")
                    phones = align(speech, text)
                    truth_events = clip["bilabial_frames"].astype(int)
                    truth_total[0] += len(truth_events)
                    take_offsets = mimetic.ReferenceClip.from_livelink(model, f"{a.takes}/{stem}.csv", speech, arkit).offsets
                    for kind, spans in (("motion", None), ("aligned", bilabial_spans(phones))):
                        found = model.closure_events(take_offsets, phones=spans)
                        event_matches[kind][0] += len(found)
                        event_matches[kind][1] += sum(1 for e in found if np.min(np.abs(truth_events - e)) <= 2) if len(truth_events) else 0
                        recalled[kind] += sum(1 for e in truth_events if len(found) and np.min(np.abs(found - e)) <= 2)
                    if a.events == "aligned":
                        labels = os.path.join(tmp, stem + ".phones.txt")
                        write_labels(phones, labels)
                        take += ":" + labels
                take_refs += ["--ref-livelink", take]
            personas = {}
            for kind, refs in (("exact", exact_refs),) + ((("take", take_refs),) if not a.exact_only else ()):
                out = os.path.join(tmp, f"{speaker}_{kind}.persona.safetensors")
                extra = ["--start", a.start] if a.start else []
                r = subprocess.run([a.cli, "personalize", "--quiet", "--model", a.model, "--ref-kind", "offsets", *refs,
                                    *extra, "--out", out], capture_output=True, text=True)
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    return 1
                if kind == "take":
                    for line in r.stderr.splitlines():
                        m = re.match(r"(.*/)?(s\d+_\d+)\.csv: \d+ frames, audio-to-take offset (-?\d+) ms.*, (\d+) lip closures", line)
                        if m:
                            offset_errors.append(abs(int(m.group(3)) / 1000 + truth_offsets[m.group(2)]))
                            truth_events = len(load_file(os.path.join(a.corpus, "clips", m.group(2) + ".safetensors"))["bilabial_frames"])
                            event_counts.append((int(m.group(4)), truth_events))
                personas[kind] = mimetic.Persona.load(model, out)
            errors = {"generalized": [], "mean style": [], "exact": []}
            if not a.exact_only:
                errors["take"] = []
            mean_weights = np.full(model.info.num_styles, 1 / model.info.num_styles, np.float32)
            for stem in held:
                clip = load_file(os.path.join(a.corpus, "clips", stem + ".safetensors"))
                truth = (clip["weights"] @ basis).reshape(-1, model.info.num_vertices, 3)
                for kind in errors:
                    if kind == "mean style":
                        frames = model.animate(clip["audio"], 16000, style=mean_weights)
                    else:
                        frames = model.animate(clip["audio"], 16000, persona=personas.get(kind))
                    n = min(len(frames), len(truth))
                    errors[kind].append(float(np.mean(np.linalg.norm(frames[:n] - truth[:n], axis=2))) * 1000)
            row = {k: float(np.mean(v)) for k, v in errors.items()}
            rows.append(row)
            print(f"{speaker}: reference {seconds:.1f} s ({len(ref)} clips), {len(held)} held out: "
                  + ", ".join(f"{k} {v:.3f} mm" for k, v in row.items()), flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    print(f"mean over {len(rows)} speakers: " + ", ".join(f"{k} {v:.3f} mm" for k, v in mean.items())
          + f"; exact vs mean style {100 * (mean['exact'] / mean['mean style'] - 1):+.1f} %"
          + (f"; take vs exact {100 * (mean['take'] / mean['exact'] - 1):+.1f} %, take vs generalized "
             f"{100 * (mean['take'] / mean['generalized'] - 1):+.1f} %" if "take" in mean else ""))
    worse = [i for i, r in enumerate(rows) if r["exact"] >= r["mean style"]]
    print(f"speakers where the adaptation did not beat the mean style: {len(worse)} of {len(rows)}")
    if offset_errors:
        print(f"offset estimate: mean |error| {1000 * np.mean(offset_errors):.1f} ms, worst {1000 * max(offset_errors):.1f} ms "
              f"over {len(offset_errors)} takes (one frame = 33.3 ms)")
    if event_counts:
        found, truth = sum(e[0] for e in event_counts), sum(e[1] for e in event_counts)
        print(f"lip closures the personalization used ({a.events}): {found}, in the corpus's m/b/p events: {truth}")
    if truth_total[0]:
        for kind, (found, right) in event_matches.items():
            print(f"closures {kind}: {found} found, {right} within 2 frames of a true m/b/p event "
                  f"(precision {right / max(found, 1):.3f}); {recalled[kind]} of the {truth_total[0]} true events found "
                  f"(recall {recalled[kind] / truth_total[0]:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
