"""Checked by `mypy --strict` in scripts/test-all.sh, never run: the public API's types as a user's
type checker sees them (numpy.typing arrays of float32, Optional where a call may return nothing)."""
from __future__ import annotations

from typing import List, Optional, Tuple, assert_type

import numpy as np
import numpy.typing as npt

import mimetic


def usage(path: str, wav: str) -> None:
    model = mimetic.Model(path)
    info: mimetic.ModelInfo = model.info
    assert_type(info.latency_tunable, bool)
    speech = mimetic.load_wav(wav, sample_rate=16000)
    assert_type(speech, mimetic.Audio)
    assert_type(speech.samples, npt.NDArray[np.float32])
    frames = model.animate(speech, style=0)
    assert_type(frames, npt.NDArray[np.float32])
    assert_type(model.frame_count(len(speech.samples), speech.sample_rate), int)
    assert_type(model.template, Optional[npt.NDArray[np.float32]])
    with mimetic.Stream(model, sample_rate=speech.sample_rate) as stream:
        stream.push(speech.samples)
        frame = stream.pull()
        assert_type(frame, Optional[Tuple[npt.NDArray[np.float32], mimetic.FrameInfo]])
        stream.flush()
        rest, infos = stream.pull_all()
        assert_type(rest, npt.NDArray[np.float32])
        assert_type(infos, List[mimetic.FrameInfo])
        assert_type(stream.params.hop_ms, Optional[int])
        arkit = mimetic.Retarget(model, "models/arkit52.safetensors", smoothing_ms=20)
        got = stream.pull_weights(arkit)
        assert_type(got, Optional[Tuple[npt.NDArray[np.float32], mimetic.FrameInfo, float]])
        weights, residuals = arkit.apply(frames)
        assert_type(weights, npt.NDArray[np.float32])
        assert_type(arkit.names, List[str])
