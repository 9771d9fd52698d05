"""Reference models with the real-time encoder in place of wav2vec 2.0 (parity fixtures).

`with_realtime_encoder(model, encoder)` puts a `RealtimeEncoder` where the family keeps its
wav2vec 2.0 (`audio_encoder` for FaceFormer / Imitator, `audio_encoder.audio_encoder` for Mimic)
and makes `predict` use it: the audio features are `audio_feature_map(encoder(audio))`, one row per
motion frame (the "diagonal" alignment of FaceFormer-VOCASET, Imitator and Mimic-interpolate), and
the stages recorded are `mel`, `downsampled`, `encoder`, `audio_features` and the decoder's.
"""
from __future__ import annotations

import types

import torch

from .common import to_numpy


def with_realtime_encoder(model: torch.nn.Module, encoder) -> torch.nn.Module:
    from . import family_of

    family = family_of(model)
    if int(model.fps) != encoder.config.fps:
        raise ValueError(f"model fps {model.fps} differs from the encoder's {encoder.config.fps}")
    if family == "faceformer":
        if model.dataset == "BIWI":
            raise ValueError("a realtime encoder emits one row per frame: use FaceFormer's vocaset layout")
        model.audio_encoder = encoder
        audio_map = model.audio_feature_map
    elif family == "imitator":
        model.audio_encoder = encoder
        audio_map = model.audio_feature_map
    else:
        if model.align != "interpolation":
            raise ValueError("a realtime encoder replaces Mimic's alignment: build it with align='interpolation'")
        model.audio_encoder.audio_encoder = encoder
        audio_map = model.audio_encoder.audio_feature_map
    if audio_map.in_features != encoder.config.hidden_size:
        raise ValueError(f"audio map input {audio_map.in_features} != encoder hidden size {encoder.config.hidden_size}")

    def audio_stages(self, audio):
        x = torch.as_tensor(audio, dtype=torch.float32).reshape(1, -1)
        st = encoder.run(x)
        feats = audio_map(st["encoder"])
        stages = {k: to_numpy(v[0]) for k, v in st.items()}
        stages["audio_features"] = to_numpy(feats[0])
        return stages, feats

    model.audio_stages = types.MethodType(audio_stages, model)
    return model
