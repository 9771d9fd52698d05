"""A vertex sequence as pictures: each frame's views side by side (front, three-quarter, mouth), the
optional error heat map against a reference motion, and the clip's contact sheet."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from . import heatmap
from .offscreen import MeshRenderer
from .sheet import contact_sheet, frame_labels, legend
from .views import VIEW_SETS, cameras, view_size


class FacePreview:
    """Renders a rig's vertex sequences: `view` is "face" (front + three-quarter), "mouth" or "both";
    `size` the height of each view in pixels (views.ASPECT sets the widths)."""

    def __init__(self, template, triangles, vertex_colors=None, lip_vertices=None, view: str = "both",
                 size: int = 512):
        self.names = VIEW_SETS[view]
        self.size = int(size)
        self.cameras = cameras(template, lip_vertices, self.names)
        self.colors = vertex_colors
        self.renderer = MeshRenderer(triangles, len(np.asarray(template).reshape(-1, 3)))

    def frame(self, vertices, colors=None) -> np.ndarray:
        c = self.colors if colors is None else colors
        tiles = [self.renderer.render(vertices, cam.view, cam.projection, view_size(name, self.size), c)
                 for name, cam in self.cameras.items()]
        return np.concatenate(tiles, axis=1)

    def frames(self, sequence, colors: Optional[Sequence[np.ndarray]] = None) -> List[np.ndarray]:
        return [self.frame(v, None if colors is None else colors[i]) for i, v in enumerate(sequence)]

    def release(self) -> None:
        self.renderer.release()


class ErrorHeatMap:
    """Per-vertex error of a sequence against a reference motion, as vertex colours per frame and a
    legend; `vmax_mm` (default: the 99th percentile of the errors) is the top of the scale."""

    def __init__(self, vertices, reference, vmax_mm: Optional[float] = None):
        self.errors = heatmap.vertex_errors_mm(vertices, reference)      # [T, V]
        self.vmax = float(vmax_mm) if vmax_mm else heatmap.error_scale_mm(self.errors)

    def colours(self) -> np.ndarray:
        return heatmap.colormap(self.errors / self.vmax)

    def legend(self, height: int) -> np.ndarray:
        bar = heatmap.colour_bar(height, width=max(10, height // 24))
        return legend(bar, f"{self.vmax:.2g} mm", "0 mm", "vertex error", size=max(10, min(18, height // 20)))


def with_legend(frame: np.ndarray, legend_image: np.ndarray) -> np.ndarray:
    """The legend in a white column right of the frame, vertically centred; the width stays even
    (H.264 needs it)."""
    h, w = frame.shape[:2]
    lh, lw = legend_image.shape[:2]
    col = np.full((h, lw + 12 + (w + lw + 12) % 2, 3), 255, np.uint8)
    y = max(0, (h - lh) // 2)
    col[y:y + min(lh, h), 6:6 + lw] = legend_image[:h]
    return np.concatenate([frame, col], axis=1)


def clip_sheet(preview: FacePreview, vertices, indices: Sequence[int], phonemes=None, bilabial_frames=(),
               fps: float = 30.0, title: Optional[str] = None, cols: int = 8, heat: Optional[ErrorHeatMap] = None
               ) -> np.ndarray:
    """Contact sheet of the frames `indices`, labelled 'time phoneme' ('*' on bilabial closures), with
    the heat map's legend under the grid when there is one."""
    T = len(vertices)
    idx = [i for i in indices if 0 <= i < T]
    colours = heat.colours() if heat is not None else None
    ims = [preview.frame(vertices[i], None if colours is None else colours[i]) for i in idx]
    labels = frame_labels(phonemes or [], T, fps, marks=bilabial_frames)
    footer = heat.legend(max(80, min(160, preview.size))) if heat is not None else None
    return contact_sheet(ims, [labels[i] for i in idx], cols=cols, title=title, footer=footer)
