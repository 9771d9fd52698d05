"""mimetic-render: face animation as pictures. A contact sheet of frames over time (front view,
three-quarter view and a mouth close-up per frame), optionally every frame as a PNG, an MP4 with the
audio, and a heat map of the per-vertex error against a reference motion.

  a corpus clip:        mimetic-render --corpus out/corpus --clip s000_0017 --out out/render
  any text (espeak):    mimetic-render --text "My mama made a bumpy map." --out out/render
  vertex data (.npy):   mimetic-render --rig models/rig.safetensors --npy out/hello.npy \
                            [--audio examples/audio/hello.wav --mp4] [--ref truth.npy] --out out/render

Writes OUT/NAME_sheet.png; --frames: OUT/NAME_frames/0000.png...; --mp4: OUT/NAME.mp4 (the audio of
the clip, or --audio). Options: --view face|mouth|both (front + three-quarter | mouth | all three),
--size PX (each view of a frame and the MP4, default 512), --width PX (each view on the sheet),
--cols N, --every K (every K-th frame on the sheet), --start/--end seconds, --palette N (quantise the
sheet to N colours: a much smaller PNG), --ref R.npy (colour by |vertex - reference| in mm; --error-max
sets the top of the scale).
The .npy files may hold vertex offsets [T, 3V] / [T, V, 3] or vertices [T, V, 3] / [T, 3V] (detected
against the template). Needs the render extra: pip install './tools[render]'.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ..wav import read_wav


def _load_npy_vertices(path, rig):
    a = np.load(path).astype(np.float32)
    V = rig.V
    if a.ndim == 3 and a.shape[1:] == (V, 3):
        arr = a
    elif a.ndim == 2 and a.shape[1] == 3 * V:
        arr = a.reshape(a.shape[0], V, 3)
    else:
        raise SystemExit(f"error: {path} has shape {a.shape}; expected [T, {3 * V}] or [T, {V}, 3] for this rig")
    # offsets or vertices? compare with the template
    d_off = np.abs(arr.mean(0)).mean()
    d_ver = np.abs(arr.mean(0) - rig.template).mean()
    return arr + rig.template if d_off < d_ver else arr


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_argument_group("source (one of)")
    src.add_argument("--corpus")
    src.add_argument("--clip", help="clip name, e.g. s000_0017 (with --corpus; default: the first test clip)")
    src.add_argument("--text")
    src.add_argument("--npy")
    ap.add_argument("--rig", help="rig.safetensors (with --npy; default: the built-in rig)")
    ap.add_argument("--audio", help="16-bit WAV for the MP4 (with --npy)")
    ap.add_argument("--voice", default="en-us")
    ap.add_argument("--rate", type=int, default=160)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--view", choices=["face", "mouth", "both"], default="both",
                    help="face: front + three-quarter; mouth: close-up; both: all three (default)")
    ap.add_argument("--size", type=int, default=512, help="pixels per view in frames and the MP4 (default 512)")
    ap.add_argument("--width", type=int, default=160, help="pixels per view on the sheet (default 160)")
    ap.add_argument("--cols", type=int, default=None, help="frames per sheet row (default: 12 views per row)")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--start", type=float, default=None, help="first second on the sheet")
    ap.add_argument("--end", type=float, default=None, help="last second on the sheet")
    ap.add_argument("--frames", action="store_true", help="also write one PNG per frame")
    ap.add_argument("--mp4", action="store_true", help="also write an MP4 with the audio")
    ap.add_argument("--ref", help="reference motion .npy (same rig): colour by the per-vertex error")
    ap.add_argument("--error-max", type=float, default=None, help="top of the error scale in mm "
                    "(default: the 99th percentile)")
    ap.add_argument("--palette", type=int, default=0, help="quantise the sheet to N colours (smaller PNG)")
    a = ap.parse_args(argv)
    if sum(x is not None for x in (a.corpus, a.text, a.npy)) != 1:
        ap.error("give exactly one of --corpus, --text, --npy")

    phonemes, events, audio, sr, title = None, (), None, 16000, None
    if a.corpus:
        from ..corpus import Corpus

        c = Corpus(a.corpus)
        rig = c.rig
        if a.clip:
            sp, _, se = a.clip.rpartition("_")
            clip = c.clip(sp, int(se))
        else:
            cl = c.clips("test") or c.clips()
            if not cl:
                raise SystemExit(f"error: {a.corpus} has no clips")
            clip = cl[0]
        verts = clip.vertices(rig)
        phonemes, events, audio, sr = clip.phonemes, clip.bilabial_frames, clip.audio, clip.sample_rate
        title = f"{clip.name}: {clip.text}"
        name = a.name or clip.name
    elif a.text:
        from ..corpus.generate import corpus_rig, synth_clip
        from ..corpus.styles import NEUTRAL_STYLE

        rig = corpus_rig()
        sp = {"voice": a.voice, "rate": a.rate, "pitch": 50, "range": 50, "style": NEUTRAL_STYLE}
        tensors, meta = synth_clip(a.text, sp, 0)
        verts = rig.vertices(tensors["weights"])
        phonemes, events, audio = [tuple(p) for p in meta["phonemes"]], tensors["bilabial_frames"], tensors["audio"]
        title = a.text
        name = a.name or "text"
    else:
        if a.rig:
            from ..corpus import load_rig

            rig = load_rig(a.rig)
        else:
            from ..corpus.generate import corpus_rig

            rig = corpus_rig()
        verts = _load_npy_vertices(a.npy, rig)
        if a.audio:
            audio, sr = read_wav(a.audio)
        title = os.path.basename(a.npy)
        name = a.name or os.path.splitext(os.path.basename(a.npy))[0]

    try:
        from ..render.frames import ErrorHeatMap, FacePreview, clip_sheet, with_legend
        from ..render.sheet import write_png
        from ..render.video import write_mp4
        from ..render.views import VIEW_SETS
    except ImportError as e:
        raise SystemExit(f"error: {e.name} is missing: the renderer needs pip install './tools[render]'")

    heat = None
    if a.ref:
        ref = _load_npy_vertices(a.ref, rig)
        if len(ref) != len(verts):
            print(f"--ref has {len(ref)} frames, the animation {len(verts)}: both cropped to "
                  f"{min(len(ref), len(verts))}", file=sys.stderr)
            verts = verts[:len(ref)]
        heat = ErrorHeatMap(verts, ref, a.error_max)
    os.makedirs(a.out, exist_ok=True)
    T = len(verts)
    lo = 0 if a.start is None else max(0, int(round(a.start * a.fps)))
    hi = T if a.end is None else min(T, int(round(a.end * a.fps)) + 1)
    idx = list(range(lo, hi, max(1, a.every)))
    cols = a.cols or max(1, 12 // len(VIEW_SETS[a.view]))
    tiles = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, a.view, a.width)
    sheet = clip_sheet(tiles, verts, idx, phonemes, events, a.fps, title=title, cols=cols, heat=heat)
    tiles.release()
    p = os.path.join(a.out, f"{name}_sheet.png")
    write_png(p, sheet, palette_colors=a.palette, optimize=True)
    print(f"{p}: {len(idx)} of {T} frames")
    if a.frames or a.mp4:
        preview = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, a.view, a.size)
        frames = preview.frames(verts, None if heat is None else heat.colours())
        preview.release()
        if heat is not None:
            key = heat.legend(int(a.size * 0.6))
            frames = [with_legend(f, key) for f in frames]
        if a.frames:
            d = os.path.join(a.out, f"{name}_frames")
            os.makedirs(d, exist_ok=True)
            for i, im in enumerate(frames):
                write_png(os.path.join(d, f"{i:04d}.png"), im)
            print(f"{d}/: {T} PNGs, {frames[0].shape[1]}x{frames[0].shape[0]}")
        if a.mp4:
            m = write_mp4(os.path.join(a.out, f"{name}.mp4"), frames, a.fps, audio, sr)
            print(f"{m}: {T} frames, {frames[0].shape[1]}x{frames[0].shape[0]}"
                  f"{', with audio' if audio is not None else ', no audio'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
