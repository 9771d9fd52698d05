"""Frames on a labelled grid (the contact sheet), text on pictures and PNG files, with Pillow."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font (Pillow >= 10.1); older Pillow: its fixed bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def frame_labels(phonemes, T: int, fps: float = 30.0, marks=()) -> list:
    """'t.tt phoneme' per frame (the phoneme under the frame time); '*' for frames in `marks`."""
    marks = set(int(m) for m in marks)
    out = []
    for i in range(T):
        t = i / fps
        name = next((p for (p, a, b) in phonemes if a <= t < b), "")
        out.append(f"{t:4.2f} {name}{' *' if i in marks else ''}")
    return out


def contact_sheet(images: Sequence[np.ndarray], labels: Optional[Sequence[str]] = None, cols: int = 8,
                  pad: int = 6, title: Optional[str] = None, footer: Optional[np.ndarray] = None,
                  background=(255, 255, 255)) -> np.ndarray:
    """Images of one size on a grid, a label line under each, an optional title line above and an
    optional picture (e.g. a colour-bar legend) below: uint8 [H, W, 3]."""
    h, w = images[0].shape[:2]
    cols = max(1, min(cols, len(images)))
    rows = (len(images) + cols - 1) // cols
    text = font(max(10, min(16, w // 12)))
    line = text.getbbox("0.00 Ag*")[3] + 4
    top = line + pad if title else 0
    cell_h = h + (line if labels is not None else 0)
    extra = footer.shape[0] + pad if footer is not None else 0
    sheet = Image.new("RGB", (cols * (w + pad) + pad, top + rows * (cell_h + pad) + pad + extra), background)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, pad), title, fill=(0, 0, 0), font=font(max(12, min(18, w // 9))))
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        x, y = pad + c * (w + pad), top + pad + r * (cell_h + pad)
        sheet.paste(Image.fromarray(np.ascontiguousarray(im)), (x, y))
        if labels is not None:
            draw.text((x + 2, y + h + 2), str(labels[i]), fill=(20, 20, 20), font=text)
    if footer is not None:
        sheet.paste(Image.fromarray(np.ascontiguousarray(footer)), (pad, sheet.height - footer.shape[0] - pad))
    return np.asarray(sheet)


def legend(bar: np.ndarray, top_label: str, bottom_label: str, caption: str, size: int = 14) -> np.ndarray:
    """A colour bar with its end values and a caption to its right: uint8 [H, W, 3] on white."""
    f = font(size)
    h, bw = bar.shape[:2]
    texts = (top_label, bottom_label, caption)
    tw = max(int(f.getlength(s)) for s in texts) + 8
    im = Image.new("RGB", (bw + tw + 8, h), (255, 255, 255))
    im.paste(Image.fromarray(bar), (0, 0))
    d = ImageDraw.Draw(im)
    d.text((bw + 6, 0), top_label, fill=(0, 0, 0), font=f)
    d.text((bw + 6, h - size - 2), bottom_label, fill=(0, 0, 0), font=f)
    d.text((bw + 6, h // 2 - size // 2), caption, fill=(60, 60, 60), font=f)
    return np.asarray(im)


def write_png(path, img: np.ndarray, palette_colors: int = 0, optimize: bool = False) -> None:
    """Write a PNG; palette_colors > 0 quantises it to that many colours first (a much smaller file);
    optimize: Pillow's smallest encoding (several times slower: for the sheet, not every frame)."""
    im = Image.fromarray(np.ascontiguousarray(img))
    if palette_colors:
        im = im.quantize(colors=int(palette_colors), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    im.save(str(path), optimize=optimize)


def read_png(path) -> np.ndarray:
    return np.asarray(Image.open(str(path)).convert("RGB"))
