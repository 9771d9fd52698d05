"""Train a FaceFormer / Imitator / Mimic model on the synthetic corpus and export a Mimetic model file.

  mimetic-train --corpus corpus/ --family imitator --out runs/imitator
  mimetic-train --corpus corpus/ --family imitator --out runs/imitator_nolip --no-lip-contact
  mimetic-train --corpus corpus/ --family faceformer --out runs/faceformer
  mimetic-train --corpus corpus/ --family mimic --out runs/mimic --mimic-weight style_cycle=5
  mimetic-train --resume runs/imitator/checkpoint.pt --steps 6000      # continue
  mimetic-train --resume runs/imitator/best.pt --export-only --export models/x.safetensors

Writes OUT/checkpoint.pt (every --ckpt-every steps and at the end), OUT/best.pt (best validation MVE),
OUT/log.jsonl (one record per --log-every steps, and the validation metrics) and, at the end,
OUT/model.safetensors (or --export) through the converter. See docs/training.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--corpus", help="corpus directory (docs/corpus.md)")
    a("--out", help="run directory (checkpoints, log.jsonl, model.safetensors)")
    a("--family", choices=["faceformer", "imitator", "mimic"])
    a("--resume", help="checkpoint to continue from (its configuration is used; flags given here override)")
    a("--fake-corpus", action="store_true", help="write a tiny fake corpus into --corpus first (smoke runs)")
    g = p.add_argument_group("model")
    g.add_argument("--encoder", choices=["wav2vec2", "realtime"], help="audio encoder (default wav2vec2)")
    g.add_argument("--encoder-size", choices=["tiny", "small", "base"], help="wav2vec2 preset (default small)")
    g.add_argument("--encoder-config", help="explicit encoder config, JSON (overrides --encoder/--encoder-size)")
    g.add_argument("--decoder-size", choices=["tiny", "small", "base"], help="decoder preset (default small)")
    g.add_argument("--dropout", type=float)
    g = p.add_argument_group("optimisation")
    g.add_argument("--steps", type=int, help="total steps (default 3000)")
    g.add_argument("--batch-size", type=int, help="clips per step (default 8)")
    g.add_argument("--window", type=int, help="frames per training window (default 90 = 3 s)")
    g.add_argument("--lr", type=float, help="Adam learning rate (default 3e-4)")
    g.add_argument("--warmup", type=int, help="linear warm-up steps (default 100)")
    g.add_argument("--grad-clip", type=float, help="gradient norm clip, 0 = off (default 1)")
    g.add_argument("--seed", type=int)
    g.add_argument("--decoding", choices=["ar", "teacher", "scheduled"],
                   help="ar: autoregressive (the originals); teacher: teacher forcing; scheduled (default): "
                        "teacher forcing, then a linear switch to autoregressive between --ss-start and --ss-end")
    g.add_argument("--ss-start", type=float, help="fraction of training where the switch starts (default 0.3)")
    g.add_argument("--ss-end", type=float, help="fraction where training is fully autoregressive (default 0.7)")
    g.add_argument("--threads", type=int, help="torch CPU threads (default 2)")
    g.add_argument("--device", help="torch device: cpu (default) or cuda")
    g.add_argument("--max-train-clips", type=int)
    g = p.add_argument_group("losses")
    g.add_argument("--velocity-weight", type=float, help="velocity loss weight (Imitator default 10, else 0)")
    g.add_argument("--mbp", dest="mbp", action="store_true", default=None,
                   help="Imitator's frame-weighted MSE around bilabials (Imitator default on)")
    g.add_argument("--no-mbp", dest="mbp", action="store_false")
    g.add_argument("--mbp-lambda", type=float, help="its weight lambda (default 5)")
    g.add_argument("--lip-closure", dest="lip_closure", action="store_true", default=None,
                   help="lip-distance closure term at bilabial frames (Imitator default on)")
    g.add_argument("--no-lip-closure", dest="lip_closure", action="store_false")
    g.add_argument("--lip-weight", type=float, help="closure term weight (default 1)")
    g.add_argument("--no-lip-contact", action="store_true",
                   help="ablation: neither the frame-weighted MSE nor the closure term")
    g.add_argument("--mimic-weight", action="append", default=[], metavar="NAME=VALUE",
                   help="Mimic loss weight (rec_audio, rec_content, clip, grl, style_cls, style_cycle, "
                        "content_cycle); defaults: the original's x 5e5 (see losses.py)")
    g = p.add_argument_group("logging and output")
    g.add_argument("--log-every", type=int, help="progress line + JSONL record every N steps (default 10)")
    g.add_argument("--eval-every", type=int, help="validation (PyTorch predictions) every N steps, 0 = off (default 500)")
    g.add_argument("--eval-clips", type=int, help="validation clips (default 8)")
    g.add_argument("--ckpt-every", type=int, help="checkpoint every N steps (default 500)")
    g.add_argument("--quiet", action="store_true", default=None)
    g.add_argument("--export", help="model file to write at the end (default OUT/model.safetensors)")
    g.add_argument("--no-export", action="store_true")
    g.add_argument("--export-only", action="store_true", help="with --resume: export the checkpoint, no training")
    g.add_argument("--dtype", choices=["f32", "f16"], default="f32", help="exported weight dtype")
    return p


def config_from_args(args):
    """The TrainConfig the flags ask for (over the checkpoint's with --resume)."""
    import torch

    from ..training.trainer import TrainConfig

    known = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if k in known and v is not None}
    if args.encoder_config:
        given["encoder_config"] = json.loads(args.encoder_config)
    if args.no_lip_contact:
        given["mbp"] = False
        given["lip_closure"] = False
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu", weights_only=False)
        base = dict(ck["train_config"])
        base.update(given)
        tc = TrainConfig(**base)
    else:
        for need in ("corpus", "out", "family"):
            if need not in given:
                raise SystemExit(f"mimetic-train: --{need} is required (or --resume)")
        tc = TrainConfig(**given)
    if args.mimic_weight:
        w = dict(tc.mimic_weights or {})
        for item in args.mimic_weight:
            k, _, v = item.partition("=")
            w[k.strip()] = float(v)
        tc.mimic_weights = w
    return tc


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from ..training.trainer import Trainer  # PyTorch from here on (--help works without it)

    tc = config_from_args(args)
    if args.fake_corpus:
        from ..training.fake_corpus import write_fake_corpus

        write_fake_corpus(tc.corpus)
    tr = Trainer(tc, resume=args.resume)
    n_par = sum(p.numel() for p in tr.model.parameters())
    print(f"mimetic-train: {tc.family}, {len(tr.train_keys)} training clips of {len(tr.train_speakers)} speakers, "
          f"{tr.rig.num_vertices} vertices, {n_par / 1e6:.2f} M parameters, offset scale {tr.scale:.4g} / m, "
          f"step {tr.step} -> {tc.steps}", file=sys.stderr)
    if not args.export_only:
        tr.fit()
    if not args.no_export:
        path = args.export or str(Path(tc.out) / "model.safetensors")
        cfg = tr.export(path, dtype=args.dtype)
        print(f"mimetic-train: wrote {path} ({cfg['family']}, {cfg['num_vertices']} vertices, "
              f"styles {cfg['styles']['names'][:4]}{'...' if len(cfg['styles']['names']) > 4 else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
