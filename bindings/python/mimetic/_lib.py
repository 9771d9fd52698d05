"""Locating ``libMimetic.so`` and declaring its C ABI (``include/mimetic.h``) with ctypes.

Everything here mirrors the header one to one; the Pythonic layer lives in the other modules.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Optional, Tuple, Type, TypeVar

from ._errors import LibraryNotFoundError
from ._version import VERSION

#: The header version this binding was written against (``MIMETIC_VERSION_*``, generated).
BINDING_VERSION: Tuple[int, int, int] = VERSION

#: Environment variable naming the library file to load (full path); checked first.
LIBRARY_ENV = "MIMETIC_LIBRARY"

_PACKAGE_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------------------------
# Structs (each starts with its own size, which the caller sets)

_enum_t = ctypes.c_int  # C enums are int-sized on every ABI the library targets


class ModelInfoC(ctypes.Structure):
    """``mimetic_model_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("family", _enum_t),
        ("sample_rate", ctypes.c_int32),
        ("fps", ctypes.c_int32),
        ("num_vertices", ctypes.c_int32),
        ("output_size", ctypes.c_int32),
        ("num_styles", ctypes.c_int32),
        ("style_dim", ctypes.c_int32),
        ("has_template", ctypes.c_int32),
        ("num_triangles", ctypes.c_int32),
        ("max_context_frames", ctypes.c_int32),
        ("min_lookahead_ms", ctypes.c_int32),
        ("max_lookahead_ms", ctypes.c_int32),
        ("latency_tunable", ctypes.c_int32),
        ("encoder_lookahead_ms", ctypes.c_int32),
    ]


class StreamParamsC(ctypes.Structure):
    """``mimetic_stream_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("sample_rate", ctypes.c_int32),
        ("lookahead_ms", ctypes.c_int32),
        ("left_context_ms", ctypes.c_int32),
        ("hop_ms", ctypes.c_int32),
        ("max_queued_frames", ctypes.c_int32),
        ("style_slot", ctypes.c_int32),
        ("style_weights", ctypes.POINTER(ctypes.c_float)),
        ("style_code", ctypes.POINTER(ctypes.c_float)),
        ("sample_policy", _enum_t),
        ("style_weights_count", ctypes.c_size_t),
        ("style_code_count", ctypes.c_size_t),
        ("persona", ctypes.c_void_p),
        ("reserve_persona_basis", ctypes.c_int32),
    ]


class ReferenceClipC(ctypes.Structure):
    """``mimetic_reference_clip``."""

    _fields_ = [
        ("audio", ctypes.POINTER(ctypes.c_float)),
        ("audio_samples", ctypes.c_size_t),
        ("sample_rate", ctypes.c_int32),
        ("offsets", ctypes.POINTER(ctypes.c_float)),
        ("frames", ctypes.c_size_t),
        ("bilabial_frames", ctypes.POINTER(ctypes.c_int32)),
        ("bilabial_count", ctypes.c_size_t),
    ]


class PersonalizeParamsC(ctypes.Structure):
    """``mimetic_personalize_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("style_steps", ctypes.c_int32),
        ("basis_steps", ctypes.c_int32),
        ("style_learning_rate", ctypes.c_float),
        ("basis_learning_rate", ctypes.c_float),
        ("velocity_weight", ctypes.c_float),
        ("lip_contact_weight", ctypes.c_float),
        ("held_out_clip", ctypes.c_int32),
        ("initial_style_slot", ctypes.c_int32),
        ("lip_closure_weight", ctypes.c_float),
        ("held_out_folds", ctypes.c_int64),
    ]


#: ``initial_style_slot`` values other than a slot (the header's MIMETIC_START_MEAN, MIMETIC_START_BEST).
START_MEAN = -1
START_BEST = -2


class AudioC(ctypes.Structure):
    """``mimetic_audio``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("samples", ctypes.POINTER(ctypes.c_float)),
        ("n_samples", ctypes.c_size_t),
        ("sample_rate", ctypes.c_int32),
        ("channels", ctypes.c_int32),
        ("file_sample_rate", ctypes.c_int32),
    ]


class AnimateParamsC(ctypes.Structure):
    """``mimetic_animate_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("sample_rate", ctypes.c_int32),
        ("style_slot", ctypes.c_int32),
        ("style_weights", ctypes.POINTER(ctypes.c_float)),
        ("style_weights_count", ctypes.c_size_t),
        ("style_code", ctypes.POINTER(ctypes.c_float)),
        ("style_code_count", ctypes.c_size_t),
        ("persona", ctypes.c_void_p),
    ]


class RetargetParamsC(ctypes.Structure):
    """``mimetic_retarget_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("strength", ctypes.c_float),
        ("smoothing_ms", ctypes.c_float),
        ("ridge", ctypes.c_float),
        ("closure_boost", ctypes.c_float),
    ]


class FrameInfoC(ctypes.Structure):
    """``mimetic_frame_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("frame_index", ctypes.c_int64),
        ("timestamp_s", ctypes.c_double),
        ("timestamp_samples", ctypes.c_int64),
        ("latency_s", ctypes.c_double),
        ("is_final", ctypes.c_int32),
    ]


class StreamStatsC(ctypes.Structure):
    """``mimetic_stream_stats``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("samples_pushed", ctypes.c_int64),
        ("frames_emitted", ctypes.c_int64),
        ("samples_repaired", ctypes.c_int64),
        ("encoder_seconds", ctypes.c_double),
        ("decoder_seconds", ctypes.c_double),
    ]


_S = TypeVar("_S", bound=ctypes.Structure)


def sized(struct_type: Type[_S]) -> _S:
    """A zeroed instance of ``struct_type`` with ``struct_size`` set to its ``ctypes.sizeof``."""
    s = struct_type()
    s.struct_size = ctypes.sizeof(struct_type)
    return s


# --------------------------------------------------------------------------------------------
# Function declarations

c_model_p = ctypes.c_void_p   # mimetic_model * (opaque)
c_stream_p = ctypes.c_void_p  # mimetic_stream * (opaque)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_int16_p = ctypes.POINTER(ctypes.c_int16)

c_persona_p = ctypes.c_void_p  # mimetic_persona * (opaque)
c_retarget_p = ctypes.c_void_p  # mimetic_retarget * (opaque)

#: ``int (*mimetic_progress_callback)(int32_t, int32_t, int32_t, double, double, void *)``
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32, ctypes.c_double,
                                     ctypes.c_double, ctypes.c_void_p)

#: ``void (*mimetic_log_callback)(mimetic_log_level, const char *, void *)``
LOG_CALLBACK = ctypes.CFUNCTYPE(None, _enum_t, ctypes.c_char_p, ctypes.c_void_p)

# name: (restype, argtypes)
_MODEL_FUNCTIONS = {
    "mimetic_version": (ctypes.c_char_p, []),
    "mimetic_status_string": (ctypes.c_char_p, [_enum_t]),
    "mimetic_last_error": (ctypes.c_char_p, []),
    "mimetic_model_load": (_enum_t, [ctypes.c_char_p, ctypes.POINTER(c_model_p)]),
    "mimetic_model_load_from_memory": (_enum_t, [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(c_model_p)]),
    "mimetic_model_free": (_enum_t, [c_model_p]),
    "mimetic_model_get_info": (_enum_t, [c_model_p, ctypes.POINTER(ModelInfoC)]),
    "mimetic_model_style_name": (ctypes.c_char_p, [c_model_p, ctypes.c_int32]),
}

# Declared when present (added with the streaming API).
_OPTIONAL_MODEL_FUNCTIONS = {
    "mimetic_set_threads": (None, [ctypes.c_int32]),
    "mimetic_get_threads": (ctypes.c_int32, []),
    "mimetic_model_get_template": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t]),
    "mimetic_style_from_motion": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t, c_float_p, ctypes.c_size_t]),
}

_STREAM_FUNCTIONS = {
    "mimetic_log_set": (None, [LOG_CALLBACK, ctypes.c_void_p]),
    "mimetic_stream_params_init": (None, [ctypes.POINTER(StreamParamsC)]),
    "mimetic_stream_state_size": (_enum_t, [c_model_p, ctypes.POINTER(StreamParamsC), ctypes.POINTER(ctypes.c_size_t)]),
    "mimetic_stream_create": (_enum_t, [c_model_p, ctypes.POINTER(StreamParamsC), ctypes.c_void_p, ctypes.c_size_t,
                                        ctypes.POINTER(c_stream_p)]),
    "mimetic_stream_free": (None, [c_stream_p]),
    "mimetic_stream_push_audio": (_enum_t, [c_stream_p, c_float_p, ctypes.c_size_t]),
    "mimetic_stream_push_audio_i16": (_enum_t, [c_stream_p, c_int16_p, ctypes.c_size_t]),
    "mimetic_stream_frames_ready": (_enum_t, [c_stream_p, ctypes.POINTER(ctypes.c_size_t)]),
    "mimetic_stream_process_batch": (_enum_t, [ctypes.POINTER(c_stream_p), ctypes.c_size_t]),
    "mimetic_stream_pull_frame": (_enum_t, [c_stream_p, c_float_p, ctypes.c_size_t, ctypes.POINTER(FrameInfoC)]),
    "mimetic_stream_flush": (_enum_t, [c_stream_p]),
    "mimetic_stream_reset": (_enum_t, [c_stream_p]),
    "mimetic_stream_is_complete": (_enum_t, [c_stream_p, ctypes.POINTER(ctypes.c_int32)]),
    "mimetic_stream_snapshot": (_enum_t, [c_stream_p, ctypes.c_void_p, ctypes.c_size_t]),
    "mimetic_stream_restore": (_enum_t, [c_stream_p, ctypes.c_void_p, ctypes.c_size_t]),
    "mimetic_stream_set_style_slot": (_enum_t, [c_stream_p, ctypes.c_int32]),
    "mimetic_stream_set_style_weights": (_enum_t, [c_stream_p, c_float_p, ctypes.c_size_t]),
    "mimetic_stream_set_style_code": (_enum_t, [c_stream_p, c_float_p, ctypes.c_size_t]),
    "mimetic_stream_get_stats": (_enum_t, [c_stream_p, ctypes.POINTER(StreamStatsC)]),
    "mimetic_stream_get_state_size": (_enum_t, [c_stream_p, ctypes.POINTER(ctypes.c_size_t)]),
    "mimetic_stream_get_latency": (_enum_t, [c_stream_p, ctypes.POINTER(ctypes.c_double)]),
    "mimetic_stream_set_persona": (_enum_t, [c_stream_p, c_persona_p]),
    "mimetic_personalize_params_init": (None, [ctypes.POINTER(PersonalizeParamsC)]),
    "mimetic_personalize": (_enum_t, [c_model_p, ctypes.POINTER(ReferenceClipC), ctypes.c_size_t,
                                      ctypes.POINTER(PersonalizeParamsC), PROGRESS_CALLBACK, ctypes.c_void_p,
                                      ctypes.POINTER(c_persona_p)]),
    "mimetic_persona_from_style": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t, ctypes.POINTER(c_persona_p)]),
    "mimetic_persona_load": (_enum_t, [c_model_p, ctypes.c_char_p, ctypes.POINTER(c_persona_p)]),
    "mimetic_persona_save": (_enum_t, [c_persona_p, ctypes.c_char_p]),
    "mimetic_persona_free": (None, [c_persona_p]),
    "mimetic_persona_get_style": (_enum_t, [c_persona_p, c_float_p, ctypes.c_size_t]),
    "mimetic_persona_has_basis": (ctypes.c_int32, [c_persona_p]),
    "mimetic_persona_blend": (_enum_t, [c_persona_p, c_persona_p, ctypes.c_float, ctypes.POINTER(c_persona_p)]),
}

_UTTERANCE_FUNCTIONS = {
    "mimetic_wav_read": (_enum_t, [ctypes.c_char_p, ctypes.c_int32, ctypes.POINTER(AudioC)]),
    "mimetic_wav_read_memory": (_enum_t, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32, ctypes.POINTER(AudioC)]),
    "mimetic_audio_free": (None, [ctypes.POINTER(AudioC)]),
    "mimetic_animate_params_init": (None, [ctypes.POINTER(AnimateParamsC)]),
    "mimetic_animate_frame_count": (_enum_t, [c_model_p, ctypes.c_size_t, ctypes.c_int32, ctypes.POINTER(ctypes.c_size_t)]),
    "mimetic_animate": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t, ctypes.POINTER(AnimateParamsC), c_float_p,
                                  ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
}

#: Every function of the header, with its ctypes ``(restype, argtypes)``.
_RETARGET_FUNCTIONS = {
    "mimetic_retarget_params_init": (None, [ctypes.POINTER(RetargetParamsC)]),
    "mimetic_retarget_load": (_enum_t, [c_model_p, ctypes.c_char_p, ctypes.POINTER(RetargetParamsC), ctypes.POINTER(c_retarget_p)]),
    "mimetic_retarget_create": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p), c_float_p,
                                          c_float_p, ctypes.POINTER(RetargetParamsC), ctypes.POINTER(c_retarget_p)]),
    "mimetic_retarget_clone": (_enum_t, [c_retarget_p, ctypes.POINTER(c_retarget_p)]),
    "mimetic_retarget_free": (None, [c_retarget_p]),
    "mimetic_retarget_count": (ctypes.c_int32, [c_retarget_p]),
    "mimetic_retarget_name": (ctypes.c_char_p, [c_retarget_p, ctypes.c_int32]),
    "mimetic_retarget_set_channel": (_enum_t, [c_retarget_p, ctypes.c_int32, ctypes.c_float, ctypes.c_float, ctypes.c_float,
                                               ctypes.c_float]),
    "mimetic_retarget_apply": (_enum_t, [c_retarget_p, c_float_p, ctypes.c_size_t, c_float_p, ctypes.c_size_t,
                                         ctypes.POINTER(ctypes.c_float)]),
    "mimetic_stream_pull_weights": (_enum_t, [c_stream_p, c_retarget_p, c_float_p, ctypes.c_size_t,
                                              ctypes.POINTER(FrameInfoC), ctypes.POINTER(ctypes.c_float)]),
    "mimetic_retarget_reset": (_enum_t, [c_retarget_p]),
    "mimetic_retarget_offsets": (_enum_t, [c_retarget_p, c_float_p, ctypes.c_size_t, c_float_p, ctypes.c_size_t]),
    "mimetic_export_weights": (_enum_t, [c_model_p, c_retarget_p, c_float_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_char_p]),
    "mimetic_reference_from_take": (_enum_t, [c_model_p, c_retarget_p, ctypes.c_char_p, c_float_p, ctypes.c_size_t, ctypes.c_int32,
                                              ctypes.POINTER(ctypes.c_double), c_float_p, ctypes.c_size_t,
                                              ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_double)]),
    "mimetic_closure_events": (_enum_t, [c_model_p, c_float_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_double), ctypes.c_size_t,
                                         ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
}

FUNCTIONS = {**_MODEL_FUNCTIONS, **_OPTIONAL_MODEL_FUNCTIONS, **_STREAM_FUNCTIONS, **_UTTERANCE_FUNCTIONS,
             **_RETARGET_FUNCTIONS}


def declare(lib: ctypes.CDLL) -> List[str]:
    """Sets ``restype``/``argtypes`` of every header function ``lib`` exports; returns the missing names.

    The original model functions are required (a ``MimeticError`` is raised without them); the newer
    ones (streaming, logging, template, style from motion) are declared when present, so a library
    built before them still loads and raises ``UnsupportedError`` only when they are called.
    """
    missing: List[str] = []
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            if name in _MODEL_FUNCTIONS:
                raise LibraryNotFoundError(f"{lib._name} does not export {name}; is it libMimetic?", []) from None
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return missing


# --------------------------------------------------------------------------------------------
# Discovery


def _checkout_root() -> Optional[Path]:
    """The repository root when this package is imported from a source checkout (bindings/python/mimetic)."""
    root = _PACKAGE_DIR.parent.parent.parent
    if (root / "Package.swift").is_file() and (root / "include" / "mimetic.h").is_file():
        return root
    return None


def candidates() -> List[Tuple[str, str]]:
    """Where the library is looked for, in order, as ``(what, path or soname)`` pairs."""
    out: List[Tuple[str, str]] = []
    env = os.environ.get(LIBRARY_ENV)
    if env:
        out.append((f"${LIBRARY_ENV}", env))
    for name in ("libMimetic.so", "libMimetic.so.0", "libMimetic.dylib"):
        out.append(("bundled with the package", str(_PACKAGE_DIR / name)))
    root = _checkout_root()
    if root is not None:
        for config in ("release", "debug"):
            out.append((f"checkout .build/{config}", str(root / ".build" / config / "libMimetic.so")))
    found = ctypes.util.find_library("Mimetic")
    if found:
        out.append(("ctypes.util.find_library('Mimetic')", found))
    for soname in ("libMimetic.so.0", "libMimetic.so"):
        out.append(("loader path", soname))
    return out


def load_library() -> Tuple[ctypes.CDLL, str, List[str]]:
    """Loads the first library that exists and matches the binding's major version.

    ``$MIMETIC_LIBRARY``, when set, is the only candidate: a wrong path there is an error rather than
    a silent fallback to some other copy.
    """
    tried: List[str] = []
    cands = candidates()
    if os.environ.get(LIBRARY_ENV):
        cands = cands[:1]
    for what, where in cands:
        is_path = os.sep in where
        if is_path and not os.path.exists(where):
            tried.append(f"{where} ({what}): not found")
            continue
        try:
            lib = ctypes.CDLL(where)
        except OSError as e:
            tried.append(f"{where} ({what}): {e}")
            continue
        missing = declare(lib)
        version = lib.mimetic_version().decode("utf-8", "replace")
        try:
            major = int(version.split(".")[0])
        except ValueError:
            major = -1
        if major != BINDING_VERSION[0]:
            tried.append(f"{where} ({what}): version {version}, the binding needs {BINDING_VERSION[0]}.x")
            continue
        return lib, where, missing
    raise LibraryNotFoundError("cannot load libMimetic; looked in:\n  " + "\n  ".join(tried)
                               + f"\nBuild it with `swift build` in the repository, or set ${LIBRARY_ENV} "
                               "to the full path of libMimetic.so.", tried)


#: The loaded library, the path or soname it was loaded from, and the header functions it lacks
#: (the newer ones, in an older build).
lib, library_path, missing_functions = load_library()


def has(name: str) -> bool:
    """Whether the loaded library exports ``name``."""
    return name not in missing_functions and hasattr(lib, name)
