"""Evaluate models on the corpus's unseen (test-split) speakers.

  mimetic-evaluate --corpus corpus/ --model imitator=runs/imitator/model.safetensors \\
      --model faceformer=runs/faceformer/model.safetensors --backend both --out docs/eval/results.json
  mimetic-evaluate --corpus corpus/ --checkpoint runs/mimic/best.pt --out mimic.json

--model NAME=PATH (or just PATH: the name is the file stem) is a Mimetic model file; --checkpoint a
training checkpoint (PyTorch only). Back ends: torch (the model file loaded into PyTorch), swift (the
`mimetic animate --offsets` CLI; $MIMETIC_BIN or the built binary), both (metrics from Swift, plus the
Swift-vs-PyTorch agreement; exit status 1 if they disagree beyond --tolerance).
Metrics: LVE (mm^2), MVE (mm), FDD (mm^2), lip opening at bilabial frames (mm, prediction and ground
truth), lip-sync DTW (mm); see mimetic_tools/evaluation/metrics.py. Tables and plots: mimetic-report.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path



def _named(spec: str):
    if "=" in spec and not Path(spec).exists():
        name, _, path = spec.partition("=")
        return name, path
    return Path(spec).stem, spec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True)
    p.add_argument("--model", action="append", default=[], metavar="[NAME=]PATH")
    p.add_argument("--checkpoint", action="append", default=[], metavar="[NAME=]PATH")
    p.add_argument("--backend", choices=["torch", "swift", "both"], default="torch")
    p.add_argument("--split", default="test", help="speaker split (default test: never seen in training)")
    p.add_argument("--sentences", choices=["all", "train", "heldout"], default="all")
    p.add_argument("--max-clips", type=int, help="at most N clips (round-robin over speakers)")
    p.add_argument("--style", default="mean", help="FaceFormer/Imitator: 'mean' (uniform blend of the training "
                                                   "styles) or a slot index")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max |swift - torch| / RMS for --backend both")
    p.add_argument("--keep-curves", type=int, default=3, help="clips whose lip-opening curves are stored")
    p.add_argument("--save-predictions", help="directory for the predicted offsets (.npy per clip and model)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, help="results JSON")
    args = p.parse_args(argv)
    if not args.model and not args.checkpoint:
        p.error("give --model and/or --checkpoint")
    import torch  # PyTorch from here on (--help works without it)

    from ..evaluation.evaluate import eval_keys, evaluate_model_file, evaluate_torch
    from ..training.data import CorpusData

    torch.set_num_threads(args.threads)
    corpus = CorpusData(args.corpus)
    keys = eval_keys(corpus, args.split, None if args.sentences == "all" else args.sentences, args.max_clips)
    if not keys:
        p.error(f"no clips for split {args.split!r} / sentences {args.sentences!r}")
    style = args.style if args.style == "mean" else int(args.style)
    results = {"corpus": str(Path(args.corpus).resolve()), "split": args.split, "sentences": args.sentences,
               "style": args.style, "keys": keys, "models": []}
    status = 0
    for spec in args.model:
        name, path = _named(spec)
        t = time.time()
        save = str(Path(args.save_predictions) / name) if args.save_predictions else None
        r = evaluate_model_file(path, corpus, keys, backend=args.backend, style=style, keep_curves=args.keep_curves,
                                tolerance_rel=args.tolerance, save_predictions=save)
        from safetensors import safe_open

        with safe_open(path, "np") as f:
            meta = f.metadata()
        cfg = json.loads(meta["mimetic.config"])
        prov = json.loads(meta.get("mimetic.provenance", "{}"))
        r.update(name=name, path=str(path), family=cfg["family"], provenance=prov, seconds=round(time.time() - t, 2))
        results["models"].append(r)
        s = r["summary"]
        line = (f"{name:>16} [{r['backend']}] LVE {s['lve_mm2']:.4g} mm^2 | MVE {s['mve_mm']:.4g} mm | "
                f"FDD {s['fdd_mm2']:.3g} mm^2 | lip@bilabial {s['lip_bilabial_pred_mm']:.3g} mm "
                f"(gt {s['lip_bilabial_gt_mm']:.3g}) | DTW {s['lip_dtw_mm']:.4g} mm")
        if "agreement" in r:
            a = r["agreement"]
            line += f" | swift-vs-torch max {a['max_abs_mm']:.2e} mm ({'ok' if a['ok'] else 'DISAGREE'})"
            if not a["ok"]:
                status = 1
        print(line, file=sys.stderr)
    for spec in args.checkpoint:
        name, path = _named(spec)
        from ..training.models import ModelConfig, TrainModel

        ck = torch.load(path, map_location="cpu", weights_only=False)
        model = TrainModel(ModelConfig.from_dict(ck["model_config"]))
        model.load_state_dict(ck["model"])
        model.eval()
        r = evaluate_torch(model, corpus, keys, scale=float(ck["scale"]), style=style, keep_curves=args.keep_curves)
        tc = ck.get("train_config", {})
        r.update(name=name, path=str(path), family=model.family, backend="torch-checkpoint", step=ck.get("step"),
                 provenance={"lip_contact": bool(tc.get("mbp") or tc.get("lip_closure")),
                             "encoder": ck["model_config"]["encoder"].get("type")})
        results["models"].append(r)
        s = r["summary"]
        print(f"{name:>16} [torch] LVE {s['lve_mm2']:.4g} mm^2 | MVE {s['mve_mm']:.4g} mm | DTW {s['lip_dtw_mm']:.4g} mm",
              file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"mimetic-evaluate: {len(keys)} clips, wrote {args.out}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
