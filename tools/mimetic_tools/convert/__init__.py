"""Converters from the original FaceFormer / Imitator / Mimic checkpoints to the Mimetic model format.

The target format is described in ``docs/model-format.md``: one safetensors file whose
``__metadata__`` carries the architecture config (JSON) and whose tensors use canonical names and
layouts (conv weights ``[out, kernel, in_per_group]``, attention split into q/k/v/o, weight norm
folded).

Library API::

    load_checkpoint(path) -> (state_dict, extra)
    detect_family(state_dict) -> "faceformer" | "imitator" | "mimic"
    infer_config(state_dict, family=None, extra=None, overrides=None) -> dict
    convert_state_dict(state_dict, config) -> dict[str, np.ndarray]
    write_model(dst_path, tensors, config, template=None, triangles=None, lip_vertices=None,
                dtype="f32", provenance=None)
    convert_checkpoint(src_path, dst_path, overrides=None, template=None, triangles=None,
                       lip_vertices=None, dtype="f32") -> dict

The package, one module per concern: `checkpoint` (reading the originals' files), `families`
(which original), `config_inference` / `config_schema` (the config and the tensors it implies),
`layout` (the one checkpoint <-> model-file name table, shared with training/export.py),
`conversion` (applying it), `weight_norm`, `assets` (mesh files), `model_file` (writing).
The command line is `mimetic-convert` (mimetic_tools/cli/convert.py).

Errors are raised as :class:`ConversionError` (a ``ValueError``); recoverable oddities (unknown
keys that are not converted) are reported with :class:`ConversionWarning`.

Only CPU torch, numpy and safetensors are needed; the original projects' packages (transformers,
pytorch_lightning, ...) are not: classes they pickled into a checkpoint are replaced by inert stubs.
"""

from .assets import ASSET_NAMES, load_lip_pairs, load_lip_vertices, load_template, load_triangles
from .checkpoint import load_checkpoint
from .config_inference import faceformer_period, infer_config
from .config_schema import (ENCODER_KEYS, check_tensors, expected_tensors, realtime_encoder_errors,
                            realtime_encoder_tensors, validate_config)
from .constants import (BIWI_TRAIN_SUBJECTS, CONVERTER_NAME, CONVERTER_VERSION, FAMILIES, FORMAT_VERSION,
                        VOCASET_TRAIN_SUBJECTS)
from .conversion import convert_state_dict
from .errors import ConversionError, ConversionWarning
from .families import detect_family
from .model_file import convert_checkpoint, write_model
from .weight_norm import fold_weight_norm

__all__ = [
    "ASSET_NAMES", "BIWI_TRAIN_SUBJECTS", "CONVERTER_NAME", "CONVERTER_VERSION", "ENCODER_KEYS", "FAMILIES",
    "FORMAT_VERSION", "VOCASET_TRAIN_SUBJECTS", "ConversionError", "ConversionWarning", "check_tensors",
    "convert_checkpoint", "convert_state_dict", "detect_family", "expected_tensors", "faceformer_period",
    "fold_weight_norm", "infer_config", "load_checkpoint", "load_lip_pairs", "load_lip_vertices", "load_template",
    "load_triangles", "realtime_encoder_errors", "realtime_encoder_tensors", "validate_config", "write_model",
]
