"""Markdown table + PNG plots from mimetic-evaluate results.

  mimetic-report docs/eval/results.json --out docs/evaluation.md --plots docs/eval

Writes OUT (a Markdown section: metric table, relative lip-sync gains, Swift/PyTorch agreement, plot
links) and, in --plots, `lip_opening_<clip>.png` (lip-opening curves, ground truth vs each model,
bilabial closures marked) and `metrics.png` (bars per metric). Plots need matplotlib (a tools-only
dependency: `pip install matplotlib`); without it only the Markdown is written.

--baseline NAME: the model the relative gains are computed against (default: the first FaceFormer).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

METRICS = [
    ("lve_mm2", "LVE (mm²)", "lower"),
    ("mve_mm", "MVE (mm)", "lower"),
    ("fdd_mm2", "FDD (mm²)", "closer to 0"),
    ("lip_bilabial_pred_mm", "lip @ m/b/p (mm)", "closer to GT"),
    ("lip_bilabial_abs_err_mm", "|Δ lip| @ m/b/p (mm)", "lower"),
    ("lip_dtw_mm", "lip-sync DTW (mm)", "lower"),
]


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e4):
        return f"{v:.3e}"
    return f"{v:.4g}"


def load(paths):
    models, meta = [], {}
    for p in paths:
        r = json.loads(Path(p).read_text())
        meta.setdefault("corpus", r.get("corpus"))
        meta.setdefault("split", r.get("split"))
        meta.setdefault("sentences", r.get("sentences"))
        meta.setdefault("keys", r.get("keys"))
        models += r["models"]
    return models, meta


def table(models, baseline: str | None) -> str:
    head = ["model", "family", "backend"] + [m[1] for m in METRICS] + ["DTW gain"]
    base = None
    if baseline:
        base = next((m for m in models if m["name"] == baseline), None)
    else:
        base = next((m for m in models if m.get("family") == "faceformer"), None)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    gt_lip = next((m["summary"].get("lip_bilabial_gt_mm") for m in models), None)
    for m in models:
        s = m["summary"]
        row = [f"`{m['name']}`", m.get("family", "?"), m.get("backend", "?")] + [_fmt(s.get(k)) for k, _, _ in METRICS]
        if base is not None and base is not m and base["summary"]["lip_dtw_mm"] > 0:
            g = 100.0 * (base["summary"]["lip_dtw_mm"] - s["lip_dtw_mm"]) / base["summary"]["lip_dtw_mm"]
            row.append(f"{g:+.1f} %")
        else:
            row.append("(baseline)" if m is base else "–")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    note = f"Ground-truth lip opening at m/b/p frames: {_fmt(gt_lip)} mm."
    if base is not None:
        note += f" DTW gain: reduction of the lip-sync DTW relative to `{base['name']}`."
    lines.append(note)
    return "\n".join(lines)


def agreement_lines(models) -> str:
    out = []
    for m in models:
        a = m.get("agreement")
        if a:
            out.append(f"- `{m['name']}`: Swift CLI vs PyTorch max |Δ| = {a['max_abs_mm']:.2e} mm "
                       f"({a['max_rel']:.1e} of the offsets' RMS; tolerance {a['tolerance_rel']:g}) — "
                       f"{'agree' if a['ok'] else 'DISAGREE'}; frame-count mismatches: {a['frame_count_mismatches']}")
    return "\n".join(out)


def plots(models, outdir: Path, max_clips: int = 2) -> list:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("mimetic-report: matplotlib is not installed (pip install matplotlib): no plots", file=sys.stderr)
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    # lip-opening curves of the first clips that carry curves
    first = models[0]
    keys = [c["key"] for c in first["clips"] if "lip_open_gt_m" in c][:max_clips]
    for key in keys:
        fig, ax = plt.subplots(figsize=(10, 3.2))
        gt = None
        for m in models:
            c = next((c for c in m["clips"] if c["key"] == key and "lip_open_pred_m" in c), None)
            if c is None:
                continue
            if gt is None:
                gt = c
                ax.plot([1e3 * x for x in c["lip_open_gt_m"]], color="black", lw=2.2, label="ground truth")
            ax.plot([1e3 * x for x in c["lip_open_pred_m"]], lw=1.3, label=m["name"])
        if gt is not None:
            for i, f in enumerate(gt["bilabial_frames"]):
                ax.axvline(f, color="tab:red", ls="--", lw=0.8, alpha=0.7, label="m/b/p closure" if i == 0 else None)
        ax.set_xlabel("frame (30 fps)")
        ax.set_ylabel("inner-lip opening (mm)")
        ax.set_title(f"lip opening, clip {key} (unseen speaker)")
        ax.legend(fontsize=8, ncol=3, loc="upper right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        p = outdir / f"lip_opening_{key}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        written.append(p)
    # metric bars
    cols = 3
    rows = (len(METRICS) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.3 * rows), squeeze=False)
    names = [m["name"] for m in models]
    for ax, (k, label, better) in zip(axes.reshape(-1), METRICS):
        vals = [m["summary"].get(k, float("nan")) for m in models]
        ax.bar(range(len(vals)), vals, color=[f"C{i}" for i in range(len(vals))])
        if k == "lip_bilabial_pred_mm":
            g = models[0]["summary"].get("lip_bilabial_gt_mm")
            if g is not None:
                ax.axhline(g, color="black", ls="--", lw=1, label="GT")
                ax.legend(fontsize=7)
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
        ax.set_title(f"{label}\n({better})", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    p = outdir / "metrics.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="mimetic-evaluate JSON files")
    ap.add_argument("--out", required=True, help="Markdown file to write")
    ap.add_argument("--plots", help="directory for the PNGs (default: beside --out)")
    ap.add_argument("--title", default="Evaluation on unseen speakers")
    ap.add_argument("--baseline", help="model name the DTW gains are relative to")
    args = ap.parse_args(argv)
    models, meta = load(args.results)
    if not models:
        ap.error("no models in the results")
    out = Path(args.out)
    pdir = Path(args.plots) if args.plots else out.parent
    pngs = plots(models, pdir)
    md = [f"# {args.title}", ""]
    n_clips = models[0]["summary"].get("clips")
    n_frames = models[0]["summary"].get("frames")
    md.append(f"{n_clips} clips ({n_frames} frames at 30 fps) of the `{meta.get('split')}` speakers (never seen in "
              f"training), sentences: {meta.get('sentences')}. Corpus: `{Path(meta.get('corpus') or '?').name}`.")
    md.append("")
    md.append(table(models, args.baseline))
    md.append("")
    ag = agreement_lines(models)
    if ag:
        md += ["Swift runtime vs PyTorch on the same model files:", "", ag, ""]
    md += ["Metrics (mimetic_tools/evaluation/metrics.py): LVE = mean over frames of the max over lip vertices of "
           "the squared L2 error (FaceFormer/CodeTalker); MVE = mean L2 vertex error; FDD = upper-face dynamics "
           "deviation (GT minus prediction, signed); lip @ m/b/p = mean inner-lip opening at the bilabial closure "
           "frames; lip-sync DTW = DTW (L1) between predicted and GT lip-opening curves / GT length.", ""]
    for p in pngs:
        rel = os.path.relpath(p, out.parent)
        md.append(f"![{p.stem}]({rel})")
        md.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(md))
    print(f"mimetic-report: wrote {out}" + (f" and {len(pngs)} plots in {pdir}" if pngs else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
