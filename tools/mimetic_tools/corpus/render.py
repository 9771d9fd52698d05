"""A small numpy software rasteriser for face meshes: orthographic front view, z-buffer, Gouraud-
interpolated Lambert shading, 2x2 supersampling; PNG writer (zlib), contact sheets, optional MP4
through ffmpeg.

    img = render_frame(vertices, triangles, colors)            # uint8 [H, W, 3]
    write_png("face.png", img)
    sheet = contact_sheet(rig, weights, labels=...)            # frames over time on a grid
    write_mp4("clip.mp4", rig, weights, audio=..., fps=30)     # None when ffmpeg is not installed
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import wave
import zlib

import numpy as np

from .font5x7 import draw_text

BACKGROUND = (236, 238, 242)
LIGHT = np.array([-0.35, 0.45, 0.82])


# ----------------------------------------------------------------------------------------------
# PNG
# ----------------------------------------------------------------------------------------------
def _filtered_rows(raw: np.ndarray, bpp: int) -> np.ndarray:
    """PNG filtering (None, Sub, Up, Average, Paeth), the best per row by the minimum sum of
    absolute differences heuristic. raw [h, w*c] uint8 -> [h, 1 + w*c] uint8."""
    x = raw.astype(np.int16)
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    ul = np.zeros_like(x)
    ul[1:, bpp:] = x[:-1, :-bpp]
    p = left + up - ul
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - ul)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
    cands = [x, x - left, x - up, x - ((left + up) >> 1), x - paeth]
    cands = [(c & 255).astype(np.uint8) for c in cands]
    cost = np.stack([np.minimum(c, 256 - c.astype(np.int16)).sum(1) for c in cands])   # [5, h]
    best = cost.argmin(0)
    out = np.empty((x.shape[0], 1 + x.shape[1]), np.uint8)
    out[:, 0] = best
    for f in range(5):
        rows = best == f
        out[rows, 1:] = cands[f][rows]
    return out


def quantize(img: np.ndarray, colors: int = 256, iters: int = 8):
    """Palette quantisation by k-means in RGB (deterministic): (indices [H, W] uint8, palette [n, 3])."""
    px = img.reshape(-1, 3).astype(np.float32)
    uniq = np.unique(px.astype(np.uint8), axis=0)
    if len(uniq) <= colors:
        pal = uniq.astype(np.float32)
    else:
        sample = px[:: max(1, px.shape[0] // 60000)]
        lum = sample @ np.array([0.3, 0.59, 0.11], np.float32)
        order = np.argsort(lum, kind="stable")
        pal = sample[order[np.linspace(0, len(order) - 1, colors).astype(int)]].copy()
        for _ in range(iters):
            d = ((sample[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
            lab = d.argmin(1)
            for k in range(colors):
                m = lab == k
                if m.any():
                    pal[k] = sample[m].mean(0)
    idx = np.empty(px.shape[0], np.int64)
    for a in range(0, px.shape[0], 100000):
        d = ((px[a:a + 100000, None, :] - pal[None, :, :]) ** 2).sum(-1)
        idx[a:a + 100000] = d.argmin(1)
    return idx.reshape(img.shape[:2]).astype(np.uint8), np.clip(np.round(pal), 0, 255).astype(np.uint8)


def png_bytes(img: np.ndarray, palette: np.ndarray | None = None, level: int = 6) -> bytes:
    """PNG of an RGB(A)/grey image, or of palette indices [H, W] with `palette` [n, 3]."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    if palette is not None:
        h, w = img.shape
        raw = np.concatenate([np.zeros((h, 1), np.uint8), img], axis=1).tobytes()

        def chunk(tag, data):
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
                + chunk(b"PLTE", np.ascontiguousarray(palette, np.uint8).tobytes())
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))  # small: always level 9
    if img.ndim == 2:
        img = img[:, :, None]
    h, w, c = img.shape
    color_type = {1: 0, 3: 2, 4: 6}[c]
    raw = _filtered_rows(img.reshape(h, w * c), c).tobytes()

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))


def write_png(path, img: np.ndarray, palette_colors: int = 0) -> None:
    """Write an RGB image; palette_colors > 0 quantises it to that many colours (smaller file)."""
    with open(path, "wb") as f:
        if palette_colors:
            f.write(png_bytes(*quantize(img, palette_colors)))
        else:
            f.write(png_bytes(img))


def read_png(path) -> np.ndarray:
    """Reads the PNGs written by `write_png` (8-bit, filter 0 or any standard filter)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w, h, c = 8, b"", 0, 0, 3
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            c = {0: 1, 2: 3, 6: 4}[ctype]
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    out = np.zeros((h, w * c), np.int32)
    for r in range(h):
        f, line = raw[r, 0], raw[r, 1:].astype(np.int32)
        prev = out[r - 1] if r else np.zeros(w * c, np.int32)
        if f == 0:
            out[r] = line
        elif f == 2:
            out[r] = (line + prev) & 255
        else:  # sub / average / paeth: rarely needed here; decode sequentially
            cur = np.zeros(w * c, np.int32)
            for i in range(w * c):
                a = cur[i - c] if i >= c else 0
                b = prev[i]
                cc = prev[i - c] if i >= c else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
                cur[i] = (line[i] + pred) & 255
            out[r] = cur
    return out.reshape(h, w, c).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# rasteriser
# ----------------------------------------------------------------------------------------------
def vertex_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    fn = np.cross(b - a, c - a)
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, f[:, k], fn)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n


def default_bounds(template: np.ndarray, margin: float = 0.06):
    lo, hi = template[:, :2].min(0), template[:, :2].max(0)
    span = hi - lo
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def render_frame(vertices, triangles, colors=None, width: int = 240, bounds=None, ss: int = 2,
                 background=BACKGROUND, light=LIGHT, ambient: float = 0.32, crop=None) -> np.ndarray:
    """Orthographic front view of a mesh: uint8 [H, W, 3]; the height follows the aspect of `bounds`
    (xmin, xmax, ymin, ymax in mesh units). colors: [V, 3] in 0..1 (default: skin grey)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(triangles, np.int64)
    if colors is None:
        colors = np.tile([0.80, 0.72, 0.68], (v.shape[0], 1))
    xmin, xmax, ymin, ymax = bounds if bounds is not None else default_bounds(v)
    height = int(round(width * (ymax - ymin) / (xmax - xmin)))
    W, H = width * ss, height * ss
    sx = W / (xmax - xmin)
    px = (v[:, 0] - xmin) * sx
    py = (ymax - v[:, 1]) * sx
    pz = v[:, 2]

    L = np.asarray(light, np.float64)
    L = L / np.linalg.norm(L)
    n = vertex_normals(v, f)
    n[n[:, 2] < 0] *= -1.0
    diff = np.clip(n @ L, 0, None)
    half = L + np.array([0, 0, 1.0])
    half /= np.linalg.norm(half)
    spec = np.clip(n @ half, 0, None) ** 40
    shade = np.asarray(colors, np.float64) * (ambient + (1 - ambient) * diff)[:, None] + 0.10 * spec[:, None]

    x0, y0 = px[f], py[f]                                   # [F, 3]
    bx0 = np.clip(np.floor(x0.min(1) - 0.5).astype(np.int64), 0, W - 1)
    bx1 = np.clip(np.ceil(x0.max(1) - 0.5).astype(np.int64), 0, W - 1)
    by0 = np.clip(np.floor(y0.min(1) - 0.5).astype(np.int64), 0, H - 1)
    by1 = np.clip(np.ceil(y0.max(1) - 0.5).astype(np.int64), 0, H - 1)
    bw = bx1 - bx0 + 1
    bh = by1 - by0 + 1
    ok = (x0.max(1) >= 0) & (x0.min(1) < W) & (y0.max(1) >= 0) & (y0.min(1) < H)

    pix_all, z_all, tri_all, b_all = [], [], [], []
    # bins of triangles by bounding-box size (powers of two in x and y): a candidate grid per bin
    kx = np.ceil(np.log2(np.maximum(bw, 1))).astype(np.int64)
    ky = np.ceil(np.log2(np.maximum(bh, 1))).astype(np.int64)
    key = kx * 64 + ky
    key[~ok] = -1
    x0f, y0f = x0.astype(np.float32), y0.astype(np.float32)
    for kk in np.unique(key):
        if kk < 0:
            continue
        sel = np.where(key == kk)[0]
        mx, my = int(min(1 << int(kk // 64), W)), int(min(1 << int(kk % 64), H))
        chunk = max(1, int(3_000_000 // (mx * my)))
        oy, ox = np.meshgrid(np.arange(my), np.arange(mx), indexing="ij")
        ox, oy = ox.ravel(), oy.ravel()
        for c0 in range(0, sel.size, chunk):
            s = sel[c0:c0 + chunk]
            X = bx0[s, None] + ox[None, :]
            Y = by0[s, None] + oy[None, :]
            valid = (X <= bx1[s, None]) & (Y <= by1[s, None])
            cx = X.astype(np.float32) + 0.5
            cy = Y.astype(np.float32) + 0.5
            ax, ay = x0f[s, 0:1], y0f[s, 0:1]
            bxx, byy = x0f[s, 1:2], y0f[s, 1:2]
            cxx, cyy = x0f[s, 2:3], y0f[s, 2:3]
            den = (byy - cyy) * (ax - cxx) + (cxx - bxx) * (ay - cyy)
            den = np.where(np.abs(den) < 1e-9, np.float32(np.nan), den)
            dx, dy = cx - cxx, cy - cyy
            l0 = ((byy - cyy) * dx + (cxx - bxx) * dy) / den
            l1 = ((cyy - ay) * dx + (ax - cxx) * dy) / den
            l2 = 1.0 - l0 - l1
            eps = np.float32(-1e-6)
            inside = valid & (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
            ti, pi = np.nonzero(inside)
            if ti.size == 0:
                continue
            tri = s[ti]
            bary = np.stack([l0[ti, pi], l1[ti, pi], l2[ti, pi]], 1).astype(np.float64)
            z = (bary * pz[f[tri]]).sum(1)
            pix_all.append(Y[ti, pi] * W + X[ti, pi])
            z_all.append(z)
            tri_all.append(tri)
            b_all.append(bary)
    img = np.empty((H * W, 3), np.float64)
    img[:] = np.asarray(background, np.float64) / 255.0
    if pix_all:
        pix = np.concatenate(pix_all)
        z = np.concatenate(z_all)
        tri = np.concatenate(tri_all)
        bary = np.concatenate(b_all)
        order = np.lexsort((-z, pix))
        pix_s = pix[order]
        first = np.ones(pix_s.size, bool)
        first[1:] = pix_s[1:] != pix_s[:-1]
        win = order[first]
        col = (bary[win, :, None] * shade[f[tri[win]]]).sum(1)
        img[pix[win]] = col
    img = img.reshape(H, W, 3)
    if ss > 1:
        img = img.reshape(height, ss, width, ss, 3).mean((1, 3))
    out = np.clip(np.round(img ** (1 / 1.15) * 255.0), 0, 255).astype(np.uint8)
    if crop is not None:
        out = out[crop[0]:crop[1], crop[2]:crop[3]]
    return out


# ----------------------------------------------------------------------------------------------
# rig helpers
# ----------------------------------------------------------------------------------------------
def mouth_bounds(rig, pad: float = 0.018):
    """Bounds of a close-up on the mouth (mesh units)."""
    t = rig.template
    lip = t[rig.lip_vertices]
    lo, hi = lip[:, :2].min(0) - pad, lip[:, :2].max(0) + pad
    return float(lo[0]), float(hi[0]), float(lo[1]) - 0.006, float(hi[1])


def render_weights(rig, weights, width: int = 240, bounds=None, ss: int = 2) -> list:
    """weights [T, K] -> list of T uint8 images of the rig."""
    w = np.atleast_2d(np.asarray(weights, np.float32))
    verts = rig.vertices(w)
    bounds = bounds or default_bounds(rig.template, 0.04)
    return [render_frame(v, rig.triangles, rig.vertex_colors, width=width, bounds=bounds, ss=ss) for v in verts]


def contact_sheet(images: list, labels=None, cols: int = 8, pad: int = 4, label_h: int = 12,
                  title: str | None = None, background=(255, 255, 255)) -> np.ndarray:
    """Images (same size) on a grid, each with a label line under it, and an optional title."""
    h, w = images[0].shape[:2]
    rows = (len(images) + cols - 1) // cols
    top = 14 if title else 0
    cell_h = h + (label_h if labels is not None else 0)
    sheet = np.empty((top + rows * (cell_h + pad) + pad, cols * (w + pad) + pad, 3), np.uint8)
    sheet[:] = background
    if title:
        draw_text(sheet, title, pad, 4, (0, 0, 0))
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        y = top + pad + r * (cell_h + pad)
        x = pad + c * (w + pad)
        sheet[y:y + h, x:x + w] = im
        if labels is not None:
            draw_text(sheet, str(labels[i])[: max(1, w // 6)], x + 1, y + h + 3, (20, 20, 20))
    return sheet


def frame_labels(phonemes, T: int, fps: float = 30.0, marks=()) -> list:
    """'t.tt phoneme' per frame (the phoneme under the frame time); '*' for frames in `marks`."""
    marks = set(int(m) for m in marks)
    out = []
    for i in range(T):
        t = i / fps
        name = ""
        for (p, a, b) in phonemes:
            if a <= t < b:
                name = p
                break
        out.append(f"{t:4.2f} {name}{' *' if i in marks else ''}")
    return out


def write_wav(path, audio: np.ndarray, sample_rate: int = 16000) -> None:
    a = np.clip(np.asarray(audio, np.float64), -1, 1)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(int(sample_rate))
        wf.writeframes((a * 32767).astype("<i2").tobytes())


def write_mp4(path, frames: list, fps: float = 30.0, audio=None, sample_rate: int = 16000):
    """Encode uint8 frames (same size) to an H.264 MP4 with ffmpeg; returns the path, or None when
    ffmpeg is not installed (nothing is written then)."""
    ff = shutil.which("ffmpeg")
    if ff is None:
        return None
    h, w = frames[0].shape[:2]
    H2, W2 = h - h % 2, w - w % 2
    with tempfile.TemporaryDirectory() as td:
        cmd = [ff, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W2}x{H2}",
               "-r", str(fps), "-i", "-"]
        if audio is not None:
            wav = os.path.join(td, "a.wav")
            write_wav(wav, audio, sample_rate)
            cmd += ["-i", wav, "-c:a", "aac", "-shortest"]
        cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "20", str(path)]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        for fr in frames:
            p.stdin.write(np.ascontiguousarray(fr[:H2, :W2]).tobytes())
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError(f"ffmpeg failed ({' '.join(cmd)})")
    return str(path)


# ----------------------------------------------------------------------------------------------
# clips
# ----------------------------------------------------------------------------------------------
def face_bounds(template: np.ndarray):
    return default_bounds(template, 0.03)


def mouth_box(template: np.ndarray, lip_vertices=None, aspect: float = 1.2):
    """A close-up box around the mouth with width / height = aspect (mesh units)."""
    pts = template[lip_vertices] if lip_vertices is not None and len(lip_vertices) else template
    lo, hi = pts[:, :2].min(0), pts[:, :2].max(0)
    cx, cy = 0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]) - 0.004
    w = (hi[0] - lo[0]) * 1.6
    h = w / aspect
    return float(cx - w / 2), float(cx + w / 2), float(cy - h / 2), float(cy + h / 2)


def render_views(template, triangles, colors, vertices, view: str = "both", width: int = 120,
                 lip_vertices=None) -> list:
    """Images of a vertex sequence [T, V, 3]: view 'face', 'mouth' or 'both' (side by side)."""
    fb = face_bounds(template)
    mb = mouth_box(template, lip_vertices)
    out = []
    for v in vertices:
        tiles = []
        if view in ("face", "both"):
            tiles.append(render_frame(v, triangles, colors, width=width, bounds=fb))
        if view in ("mouth", "both"):
            if tiles:
                h = tiles[0].shape[0]
                mw = int(round(h * (mb[1] - mb[0]) / (mb[3] - mb[2])))
            else:
                mw = width
            m = render_frame(v, triangles, colors, width=mw, bounds=mb)
            if tiles and m.shape[0] != tiles[0].shape[0]:
                hh = min(m.shape[0], tiles[0].shape[0])
                m, tiles[0] = m[:hh], tiles[0][:hh]
            tiles.append(m)
        out.append(np.concatenate(tiles, axis=1) if len(tiles) > 1 else tiles[0])
    return out


def clip_sheet(rig, vertices, phonemes=None, bilabial_frames=(), fps: float = 30.0, title=None,
               frames=None, cols: int = 8, view: str = "both", width: int = 120, images=None) -> np.ndarray:
    """Contact sheet of a clip: the selected frames (default all) labelled 'time phoneme', '*' on
    bilabial event frames. images: already rendered frames (all T) to reuse."""
    T = len(vertices)
    idx = list(range(T)) if frames is None else [i for i in frames if 0 <= i < T]
    labels_all = frame_labels(phonemes or [], T, fps, marks=bilabial_frames)
    if images is not None:
        ims = [images[i] for i in idx]
    else:
        ims = render_views(rig.template, rig.triangles, rig.vertex_colors, [vertices[i] for i in idx], view,
                           width, rig.lip_vertices)
    return contact_sheet(ims, [labels_all[i] for i in idx], cols=cols, title=title)
