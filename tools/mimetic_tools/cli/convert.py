"""mimetic-convert: a FaceFormer / Imitator / Mimic checkpoint -> a Mimetic .safetensors model.

    mimetic-convert SRC --out M.safetensors [--family ...] [--dataset vocaset|biwi] [--f16] ...

See `mimetic-convert --help` and docs/model-format.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Dict, Iterable, List, Optional

from ..convert import FAMILIES, ConversionError, ConversionWarning, convert_checkpoint
from ..convert.config_inference import deep_merge


def _parse_set(items: Iterable[str]) -> dict:
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConversionError(f"--set expects KEY.PATH=VALUE, got {item!r}")
        key, val = item.split("=", 1)
        try:
            value = json.loads(val)
        except json.JSONDecodeError:
            value = val
        node = out
        parts = key.strip().split(".")
        if not all(parts):
            raise ConversionError(f"--set: bad key {key!r}")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mimetic-convert",
        description="Convert a FaceFormer / Imitator / Mimic checkpoint to a Mimetic .safetensors model.")
    p.add_argument("src", metavar="SRC", help="checkpoint: FaceFormer .pth, Imitator .ckpt, Mimic Epoch_N.pth "
                   "or a .safetensors state dict")
    p.add_argument("--out", required=True, metavar="M.safetensors", help="output model file")
    p.add_argument("--family", choices=FAMILIES, help="force the family (default: detected from the keys)")
    p.add_argument("--dataset", choices=("vocaset", "biwi"),
                   help="FaceFormer dataset defaults (fps, alignment, style names)")
    p.add_argument("--fps", type=int, help="motion frame rate (frames per second)")
    p.add_argument("--encoder-heads", type=int, help="wav2vec 2.0 attention heads (default hidden/64)")
    p.add_argument("--decoder-heads", type=int, help="decoder attention heads (default 4)")
    p.add_argument("--start-token", choices=("zeros", "style"), help="Imitator start token (default zeros)")
    p.add_argument("--align", choices=("conv", "interpolate", "pairs"), help="audio/motion alignment mode")
    p.add_argument("--max-seq-len", type=int, help="decoder attention window (default 600)")
    p.add_argument("--conv-stride", help="comma-separated CNN strides (default 5,2,2,2,2,2,2)")
    p.add_argument("--stable-layer-norm", choices=("yes", "no"),
                   help="pre-LN wav2vec 2.0 (default: yes iff feat_extract_norm is 'layer')")
    p.add_argument("--template", metavar="T.npy|T.pkl", help="neutral mesh, [V,3] or [3V] .npy, or a pickled dict")
    p.add_argument("--template-key", metavar="KEY", help="entry of a pickled template dict (e.g. a subject name)")
    p.add_argument("--triangles", metavar="F.npy", help="triangle indices [F,3] (.npy, .obj or text)")
    p.add_argument("--lip-vertices", metavar="L.npy|L.txt", help="lip vertex indices (.npy or text)")
    p.add_argument("--lip-pairs", metavar="P.npy|P.txt", help="inner-lip vertex pairs, [2, k] or [k, 2] (upper, lower): "
                   "the lip-closure term of personalization")
    p.add_argument("--style-names", metavar="a,b,c", help="comma-separated style names (one per one-hot slot)")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=JSON",
                   help="set any config field, e.g. --set decoder.period=30 (repeatable)")
    p.add_argument("--f16", action="store_true", help="store weights as float16 (template stays float32)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return p


def overrides_from_args(args) -> dict:
    o: dict = {}

    def put(path, value):
        node = o
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = value

    if args.family:
        put(["family"], args.family)
    if args.dataset:
        put(["dataset"], args.dataset)
    if args.fps is not None:
        if args.fps <= 0:
            raise ConversionError(f"--fps must be positive, got {args.fps}")
        put(["fps"], args.fps)
    if args.encoder_heads is not None:
        put(["encoder", "num_heads"], args.encoder_heads)
    if args.decoder_heads is not None:
        put(["decoder", "num_heads"], args.decoder_heads)
    if args.start_token:
        put(["imitator", "start_token"], args.start_token)
    if args.align:
        put(["alignment", "mode"], args.align)
    if args.max_seq_len is not None:
        put(["decoder", "max_seq_len"], args.max_seq_len)
    if args.conv_stride:
        try:
            put(["encoder", "conv_stride"], [int(x) for x in args.conv_stride.split(",")])
        except ValueError:
            raise ConversionError(f"--conv-stride expects comma-separated integers, got {args.conv_stride!r}")
    if args.stable_layer_norm:
        put(["encoder", "stable_layer_norm"], args.stable_layer_norm == "yes")
    if args.style_names:
        put(["styles", "names"], [s.strip() for s in args.style_names.split(",")])
    deep_merge(o, _parse_set(args.set))
    return o


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = overrides_from_args(args)
        report: dict = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConversionWarning)
            config = convert_checkpoint(args.src, args.out, overrides=overrides, template=args.template,
                                        triangles=args.triangles, lip_vertices=args.lip_vertices, lip_pairs=args.lip_pairs,
                                        dtype="f16" if args.f16 else "f32", template_key=args.template_key,
                                        report=report)
        for w in caught:
            if issubclass(w.category, ConversionWarning):
                print(f"convert: warning: {w.message}", file=sys.stderr)
        if not args.quiet:
            extra = report.get("extra", {})
            enc, dec = config["encoder"], config["decoder"]
            print(f"{args.src}: {config['family']} ({extra.get('layout', '?')} layout)")
            if extra.get("stubbed_classes"):
                print(f"  pickled classes not imported (stubbed): {', '.join(extra['stubbed_classes'])}")
            print(f"  encoder: wav2vec2 H={enc['hidden_size']} layers={enc['num_layers']} heads={enc['num_heads']} "
                  f"ffn={enc['intermediate_size']} conv={len(enc['conv_dim'])}x{enc['feat_extract_norm']}")
            print(f"  decoder: d={dec['d_model']} heads={dec['num_heads']} ffn={dec['ffn_dim']} "
                  f"layers={dec['num_layers']} norm={dec['norm']} bias={dec['attention_bias']} "
                  f"period={dec['period']} max_seq_len={dec['max_seq_len']}")
            print(f"  V={config['num_vertices']} fps={config['fps']} alignment={config['alignment']['mode']} "
                  f"styles={len(config['styles']['names'])}")
            skipped = report.get("skipped", [])
            if skipped:
                groups: Dict[str, List[str]] = {}
                for k in skipped:
                    parts = k.split(".")
                    depth = 3 if "transformer_decoder" in k or parts[0] == "nn_model" else 2
                    groups.setdefault(".".join(parts[:depth]), []).append(k)
                print(f"  skipped {len(skipped)} keys not used at inference: " +
                      ", ".join(ks[0] if len(ks) == 1 else f"{g}.* ({len(ks)})" for g, ks in sorted(groups.items())))
            if report.get("filled"):
                print(f"  synthesised {len(report['filled'])} zero biases")
            print(f"  wrote {args.out}: {report.get('num_tensors')} tensors, {report.get('num_parameters'):,} "
                  f"parameters, {'f16' if args.f16 else 'f32'}")
        return 0
    except ConversionError as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
