"""Named model configurations: the originals' full-size models and the small fixture models."""
from __future__ import annotations

import copy

from .wav2vec2 import Wav2Vec2Config

# facebook/wav2vec2-base-960h (HF defaults)
WAV2VEC2_BASE = Wav2Vec2Config()

# wav2vec2-large-lv60 layout ("layer" CNN norm with conv bias, stable/pre-LN encoder); none of the
# three originals ships such a model, it is here for the encoder variant only
WAV2VEC2_LARGE_LV60 = Wav2Vec2Config(
    conv_bias=True,
    feat_extract_norm="layer",
    hidden_size=1024,
    num_layers=24,
    num_heads=16,
    intermediate_size=4096,
    stable_layer_norm=True,
)

# ----------------------------------------------------------------------------------------------
# Full-size configurations of the released models: (family, constructor kwargs)
# ----------------------------------------------------------------------------------------------
FULL_SIZE: dict[str, tuple[str, dict]] = {
    "faceformer_vocaset": (
        "faceformer",
        dict(d_model=64, num_heads=4, ffn_dim=128, vertex_dim=5023 * 3, n_styles=8, period=30,
             dataset="vocaset", fps=30, input_norm_eps=1e-5),
    ),
    "faceformer_biwi": (
        "faceformer",
        dict(d_model=128, num_heads=4, ffn_dim=256, vertex_dim=23370 * 3, n_styles=6, period=25,
             dataset="BIWI", fps=25, input_norm_eps=1e-5),
    ),
    "imitator": (
        "imitator",
        dict(d_model=64, num_heads=4, ffn_dim=128, vertex_dim=5023 * 3, n_styles=8, mlp_layers=4,
             start_token="zeros", fps=30, input_norm_eps=1e-7),
    ),
    "imitator_style": (
        "imitator",
        dict(d_model=64, num_heads=4, ffn_dim=128, vertex_dim=5023 * 3, n_styles=8, mlp_layers=4,
             start_token="style", fps=30, input_norm_eps=1e-7),
    ),
    "mimic": (
        "mimic",
        dict(d_model=128, num_heads=4, ffn_dim=256, num_layers=1, vertex_dim=5023 * 3, align="conv",
             fps=25, period=30, style_conv_layers=5, style_layers=4, style_heads=4, style_ffn_dim=256,
             input_norm_eps=1e-5),
    ),
    "mimic_interp": (
        "mimic",
        dict(d_model=128, num_heads=4, ffn_dim=256, num_layers=1, vertex_dim=5023 * 3,
             align="interpolation", fps=25, period=30, style_conv_layers=5, style_layers=4,
             style_heads=4, style_ffn_dim=256, input_norm_eps=1e-5),
    ),
}

# ----------------------------------------------------------------------------------------------
# Small fixture configurations (every parameter randomised in make_fixtures.py)
# ----------------------------------------------------------------------------------------------
SMALL_WAV2VEC2 = Wav2Vec2Config(
    conv_dim=[32] * 7,
    conv_kernel=[10, 3, 3, 3, 3, 2, 2],
    conv_stride=[5, 2, 2, 2, 2, 2, 2],
    hidden_size=64,
    num_layers=2,
    num_heads=2,
    intermediate_size=128,
    pos_conv_kernel=16,
    pos_conv_groups=4,
)
SMALL_WAV2VEC2_LAYER = Wav2Vec2Config(
    **{**SMALL_WAV2VEC2.to_dict(), "conv_bias": True, "feat_extract_norm": "layer", "stable_layer_norm": True}
)
SMALL_VERTICES = 40
SMALL_STYLES = 3
_SMALL_DEC = dict(d_model=32, num_heads=4, ffn_dim=64, vertex_dim=3 * SMALL_VERTICES)

SMALL: dict[str, tuple[str, dict]] = {
    "faceformer_vocaset": ("faceformer", dict(_SMALL_DEC, n_styles=SMALL_STYLES, period=30, dataset="vocaset", fps=30)),
    "faceformer_biwi": ("faceformer", dict(_SMALL_DEC, n_styles=SMALL_STYLES, period=25, dataset="BIWI", fps=25)),
    "imitator_zeros": ("imitator", dict(_SMALL_DEC, n_styles=SMALL_STYLES, start_token="zeros", input_norm_eps=1e-7)),
    "imitator_style": ("imitator", dict(_SMALL_DEC, n_styles=SMALL_STYLES, start_token="style", input_norm_eps=1e-7)),
    "mimic_conv": ("mimic", dict(_SMALL_DEC, align="conv", fps=25, period=30, style_ffn_dim=64)),
    "mimic_interp": ("mimic", dict(_SMALL_DEC, align="interpolation", fps=25, period=30, style_ffn_dim=64)),
}


def get_config(name: str, small: bool = False) -> tuple[str, Wav2Vec2Config, dict]:
    table = SMALL if small else FULL_SIZE
    if name not in table:
        raise KeyError(f"unknown {'small' if small else 'full-size'} config {name!r}; known: {sorted(table)}")
    family, kwargs = table[name]
    w2v = copy.deepcopy(SMALL_WAV2VEC2 if small else WAV2VEC2_BASE)
    return family, w2v, dict(kwargs)
