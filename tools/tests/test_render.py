"""The preview renderer (mimetic_tools.render, the `render` extra): lit offscreen frames of the rig,
the three views, the error heat map, the contact sheet, the MP4 with audio. Skipped only where the
extra is not installed (scripts/setup.sh installs it)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("moderngl", reason="the render extra is not installed: pip install './tools[render]'")
pytest.importorskip("PIL", reason="the render extra is not installed: pip install './tools[render]'")

from mimetic_tools.corpus import build_rig
from mimetic_tools.render.frames import ErrorHeatMap, FacePreview, clip_sheet, with_legend
from mimetic_tools.render.offscreen import BACKGROUND
from mimetic_tools.render.sheet import read_png, write_png
from mimetic_tools.render.views import view_size


@pytest.fixture(scope="module")
def rig():
    return build_rig()


def _poses(rig):
    """Lips closed, then the jaw open."""
    w = np.zeros((2, rig.K), np.float32)
    w[0, rig.index("lips_close")] = 1.0
    w[1, rig.index("jaw_open")] = 0.6
    return rig.vertices(w)


def _not_background(im):
    return np.abs(im.astype(int) - np.array(BACKGROUND)).sum(2) > 30


def test_views_are_lit_framed_and_distinct(rig):
    p = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, "face", 96)
    im = p.frame(rig.template)
    p.release()
    front_w = view_size("front", 96)[0]
    assert im.shape == (96, 2 * front_w, 3) and im.dtype == np.uint8
    front, three_quarter = im[:, :front_w], im[:, front_w:]
    for v in (front, three_quarter):
        face = _not_background(v)
        assert 0.25 < face.mean() < 0.9                       # the face fills the view, with a margin
        assert not face[0].any() and not face[-1].any()        # not cut at the top or bottom
        lum = v[face].astype(float).mean(1)
        assert lum.std() > 10 and lum.mean() > 60              # shaded, not flat, not black
    # the front view is left-right symmetric (the rig is), the turned one is not
    asym = lambda v: np.abs(_not_background(v).astype(int) - _not_background(v[:, ::-1]).astype(int)).mean()  # noqa: E731
    assert asym(front) < 0.03 < asym(three_quarter)


def test_mouth_view_shows_the_mouth_open(rig):
    p = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, "mouth", 80)
    ims = p.frames(_poses(rig))
    p.release()
    dark = [(im.astype(int).sum(2) < 200).sum() for im in ims]
    assert dark[1] > 100 and dark[1] > 4 * dark[0], dark


def test_heat_map_colours_the_error(rig):
    seq = _poses(rig)
    ref = np.stack([seq[0], seq[0]])                           # frame 1 differs from its reference
    heat = ErrorHeatMap(seq, ref)
    assert heat.errors.shape == (2, rig.V) and heat.errors[0].max() == 0 and heat.errors[1].max() > 1
    c = heat.colours()
    p = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, "mouth", 64)
    same, moved = p.frames(seq, c)
    p.release()
    red = lambda im: ((im[..., 0].astype(int) - im[..., 2]) > 80).sum()  # noqa: E731
    assert red(moved) > 50 and red(same) == 0
    framed = with_legend(moved, heat.legend(48))
    assert framed.shape[0] == moved.shape[0] and framed.shape[1] % 2 == 0


def test_contact_sheet_png(rig, tmp_path):
    p = FacePreview(rig.template, rig.triangles, rig.vertex_colors, rig.lip_vertices, "both", 48)
    seq = _poses(rig)
    sheet = clip_sheet(p, seq, [0, 1], phonemes=[("m", 0.0, 0.02), ("a", 0.02, 1.0)], bilabial_frames=[0],
                       title="closed, open", cols=2)
    frame_w = p.frame(seq[0]).shape[1]
    p.release()
    assert sheet.shape[1] > 2 * frame_w and sheet.shape[0] > 48
    path = tmp_path / "s.png"
    write_png(path, sheet, palette_colors=64, optimize=True)
    back = read_png(path)
    assert back.shape == sheet.shape and len(np.unique(back.reshape(-1, 3), axis=0)) <= 64


def test_cli_writes_sheet_frames_and_mp4_with_audio(rig, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    from mimetic_tools.corpus import save_rig
    from mimetic_tools.wav import write_wav

    save_rig(rig, tmp_path / "rig.safetensors")
    seq = np.repeat(_poses(rig), 15, axis=0)                   # 1 s at 30 fps
    np.save(tmp_path / "a.npy", seq)
    np.save(tmp_path / "ref.npy", seq[::-1])
    t = np.arange(16000) / 16000
    write_wav(tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 220 * t))
    r = subprocess.run([sys.executable, "-m", "mimetic_tools.cli.render", "--rig", tmp_path / "rig.safetensors",
                        "--npy", tmp_path / "a.npy", "--ref", tmp_path / "ref.npy", "--audio", tmp_path / "a.wav",
                        "--mp4", "--frames", "--size", "128", "--width", "48", "--every", "10", "--palette", "64",
                        "--out", tmp_path / "out"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    assert read_png(out / "a_sheet.png").shape[0] > 48
    frame = read_png(out / "a_frames" / "0000.png")
    assert frame.shape[0] == 128 and len(list((out / "a_frames").glob("*.png"))) == 30
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out / "a.mp4")],
                           capture_output=True, text=True)
    info = probe.stderr                                        # ffmpeg -i describes the streams, exits 1
    assert "Video: h264" in info and f"{frame.shape[1]}x128" in info and "Audio: aac" in info, info
    assert "Duration: 00:00:01.0" in info, info
