"""MP4 (H.264, yuv420p) with the audio muxed in (AAC), through the ffmpeg binary imageio-ffmpeg
ships (or the one $IMAGEIO_FFMPEG_EXE names)."""
from __future__ import annotations

import os
import tempfile
from typing import Optional, Sequence

import numpy as np

from ..wav import write_wav


def write_mp4(path, frames: Sequence[np.ndarray], fps: float = 30.0, audio: Optional[np.ndarray] = None,
              sample_rate: int = 16000) -> str:
    """Encode uint8 [H, W, 3] frames (one size; H and W even) and optional mono float audio."""
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"H.264 in yuv420p needs an even frame size, got {w}x{h}")
    with tempfile.TemporaryDirectory() as td:
        wav = None
        if audio is not None:
            wav = os.path.join(td, "audio.wav")
            write_wav(wav, audio, sample_rate)
        writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                             macro_block_size=2, quality=None, ffmpeg_log_level="error",
                                             output_params=["-crf", "20"] + (["-shortest"] if wav else []),
                                             audio_path=wav, audio_codec="aac" if wav else None)
        writer.send(None)  # start the encoder
        for fr in frames:
            writer.send(np.ascontiguousarray(fr))
        writer.close()
    return str(path)
