#!/usr/bin/env python3
"""Render face animation to PNG (a contact sheet of frames over time, optionally every frame) and,
when ffmpeg is installed, an MP4 with the audio.

  a corpus clip:        python3 tools/render.py --corpus out/corpus --clip s000_0017 --out out/render
  any text (espeak):    python3 tools/render.py --text "My mama made a bumpy map." --out out/render
  vertex data (.npy):   python3 tools/render.py --rig out/corpus/rig.safetensors --npy out/hello.npy \
                            [--audio examples/audio/hello.wav] --out out/render

Options: --frames (one PNG per frame), --mp4, --view face|mouth|both, --width PX (face tile width),
--cols N, --every K (every K-th frame on the sheet), --start/--end seconds, --palette N (quantise the
sheet to N colours: a much smaller PNG).
The .npy may hold vertex offsets [T, 3V] or vertices [T, V, 3] / [T, 3V] (detected against the template).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ..corpus import render as R


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


def _read_wav(path):
    import wave

    with wave.open(path, "rb") as w:
        sr, n, ch, sw = w.getframerate(), w.getnframes(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(n)
    if sw != 2:
        raise SystemExit("error: only 16-bit PCM WAV is supported for --audio")
    x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    return x.reshape(-1, ch).mean(1), sr


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
    ap.add_argument("--view", choices=["face", "mouth", "both"], default="both")
    ap.add_argument("--width", type=int, default=110)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--start", type=float, default=None, help="first second on the sheet")
    ap.add_argument("--end", type=float, default=None, help="last second on the sheet")
    ap.add_argument("--frames", action="store_true", help="also write one PNG per frame")
    ap.add_argument("--mp4", action="store_true", help="also write an MP4 (needs ffmpeg)")
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
            audio, sr = _read_wav(a.audio)
        title = os.path.basename(a.npy)
        name = a.name or os.path.splitext(os.path.basename(a.npy))[0]

    os.makedirs(a.out, exist_ok=True)
    T = len(verts)
    lo = 0 if a.start is None else max(0, int(round(a.start * a.fps)))
    hi = T if a.end is None else min(T, int(round(a.end * a.fps)) + 1)
    idx = list(range(lo, hi, max(1, a.every)))
    frames = None
    if a.frames or a.mp4:
        frames = R.render_views(rig.template, rig.triangles, rig.vertex_colors, verts, a.view, a.width,
                                rig.lip_vertices)
    sheet = R.clip_sheet(rig, verts, phonemes, events, a.fps, title=title, frames=idx, cols=a.cols,
                         view=a.view, width=a.width, images=frames)
    p = os.path.join(a.out, f"{name}_sheet.png")
    R.write_png(p, sheet, palette_colors=a.palette)
    print(f"{p}: {len(idx)} of {T} frames")
    if a.frames:
        d = os.path.join(a.out, f"{name}_frames")
        os.makedirs(d, exist_ok=True)
        for i, im in enumerate(frames):
            R.write_png(os.path.join(d, f"{i:04d}.png"), im)
        print(f"{d}/: {T} PNGs")
    if a.mp4:
        m = R.write_mp4(os.path.join(a.out, f"{name}.mp4"), frames, a.fps, audio, sr)
        print(m if m else "ffmpeg not found: MP4 skipped (apt-get install -y --no-install-recommends ffmpeg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
