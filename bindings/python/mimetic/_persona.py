"""Personas: a person's speaking style learned for one model (``mimetic_personalize``, persona files)."""
from __future__ import annotations

import ctypes
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib
from ._core import check, float_ptr, fs_path, function
from ._errors import InternalError, InvalidArgumentError
from ._model import Model


@dataclass
class ReferenceClip:
    """One recording of the person.

    Attributes:
        audio: mono samples (float array; not needed for Mimic models).
        offsets: ``[frames, output_size]`` or ``[frames, num_vertices, 3]`` vertex offsets from the
            model's template, at the model's frame rate.
        sample_rate: rate of ``audio`` (8000..48000; resampled inside).
        bilabial_frames: frames of m/b/p closures (optional; they weight Imitator's lip-contact term).
    """
    offsets: Any
    audio: Any = None
    sample_rate: int = 16000
    bilabial_frames: Optional[Sequence[int]] = None
    #: For a clip made from a Live Link take: the take's time at the audio's start, in seconds.
    take_offset_s: Optional[float] = None

    @classmethod
    def from_livelink(cls, model: Model, take: Any, audio: Any, basis: Any, offset_s: Optional[float] = None,
                      transcript: Optional[str] = None,
                      phones: Optional[Sequence[Tuple[float, float]]] = None) -> "ReferenceClip":
        """A clip from a Live Link Face take (its CSV path) and its audio (a ``mimetic.Audio``):
        the take's ARKit weights at the model's frames, through ``basis`` (a ``mimetic.Retarget``
        of an ARKit basis in the model's topology) to offsets (``mimetic_reference_from_take``).
        ``offset_s`` None: estimated by aligning the take with the model's own animation of the audio.

        Lip closures (``bilabial_frames``): with ``transcript``, at the m/b/p phones of its forced
        alignment with the audio (``mimetic.align``, needs pocketsphinx); with ``phones``, at those
        ``(start, end)`` spans in seconds; otherwise found in the take's motion."""
        from ._audio import Audio
        from ._retarget import Retarget
        if not isinstance(audio, Audio):
            raise InvalidArgumentError("from_livelink: audio must be a mimetic.Audio (mimetic.load_wav)")
        if not isinstance(basis, Retarget):
            raise InvalidArgumentError("from_livelink: basis must be a mimetic.Retarget")
        if transcript is not None and phones is not None:
            raise InvalidArgumentError("from_livelink: give transcript or phones, not both")
        a32 = np.ascontiguousarray(audio.samples, dtype=np.float32)
        frames = model.frame_count(a32.shape[0], audio.sample_rate)
        out = np.empty((max(frames, 1), model.info.num_vertices, 3), dtype=np.float32)
        made = ctypes.c_size_t()
        used = ctypes.c_double()
        given = None if offset_s is None else ctypes.byref(ctypes.c_double(float(offset_s)))
        with basis._lock:
            check(function("mimetic_reference_from_take")(model._require_open(), basis._require_open(), fs_path("from_livelink", take),
                                                          float_ptr(a32), a32.shape[0], audio.sample_rate, given, float_ptr(out),
                                                          frames * model.info.output_size, ctypes.byref(made), ctypes.byref(used)),
                  "mimetic_reference_from_take")
        offsets = out[:made.value]
        if transcript is not None:
            from .align import align, bilabial_spans
            phones = bilabial_spans(align(audio, transcript))
        events = model.closure_events(offsets, phones=phones)
        return cls(offsets=offsets, audio=a32, sample_rate=audio.sample_rate, take_offset_s=used.value,
                   bilabial_frames=[int(e) for e in events])


#: ``progress(stage, step, total_steps, training_loss, held_out_loss_or_None) -> bool`` (False cancels).
ProgressFn = Callable[[int, int, int, float, Optional[float]], bool]


class Persona:
    """A learned style: a style vector and, for an adapted Imitator persona, a motion-basis change.

    Make one with ``Persona.personalize`` (Imitator: two-stage adaptation; Mimic: style encoder),
    ``Persona.from_style`` or ``Persona.load``; use it with ``Stream(persona=...)``,
    ``Stream.set_persona`` or save it with ``save``. A persona belongs to the model it was made for.
    """

    def __init__(self, handle: Optional[int], model: Model) -> None:
        if not handle:
            raise InternalError("the library returned OK but no persona")
        self._handle: Optional[int] = handle
        self._model = model

    # -- making one ---------------------------------------------------------------------------------

    @classmethod
    def personalize(cls, model: Model, clips: Sequence[ReferenceClip], style_steps: Optional[int] = None,
                    basis_steps: Optional[int] = None, style_learning_rate: Optional[float] = None,
                    basis_learning_rate: Optional[float] = None, lip_contact_weight: Optional[float] = None,
                    lip_closure_weight: Optional[float] = None,
                    held_out_clip: Optional[int] = None, initial_style_slot: Union[int, str, None] = None,
                    held_out_folds: Optional[int] = None, progress: Optional[ProgressFn] = None) -> "Persona":
        """Learns a persona from reference clips (``mimetic_personalize``); raises ``CancelledError`` when
        ``progress`` returns False. Runs on the calling thread and allocates.

        ``initial_style_slot``: where stage 1 starts: a slot index, ``"mean"`` (the mean of the
        slots), ``"best"`` (the mean or the slot that fits the reference best), or None (the
        library's default, ``mimetic_personalize_params_init``)."""
        mh = model._require_open()
        if not clips:
            raise InvalidArgumentError("personalize: no reference clips")
        keep: List[Any] = []
        arr = (_lib.ReferenceClipC * len(clips))()
        for i, clip in enumerate(clips):
            off = model._motion(f"personalize: clip {i}", clip.offsets)
            keep.append(off)
            arr[i].offsets = float_ptr(off)
            arr[i].frames = off.shape[0]
            arr[i].sample_rate = int(clip.sample_rate)
            if clip.audio is not None:
                a = np.ascontiguousarray(np.asarray(clip.audio, dtype=np.float32))
                if a.ndim != 1:
                    raise InvalidArgumentError(f"personalize: clip {i} audio must be 1-D, got {a.shape}")
                keep.append(a)
                arr[i].audio = float_ptr(a)
                arr[i].audio_samples = a.shape[0]
            if clip.bilabial_frames is not None:
                ev = np.ascontiguousarray(np.asarray(clip.bilabial_frames, dtype=np.int32))
                keep.append(ev)
                arr[i].bilabial_frames = ev.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
                arr[i].bilabial_count = ev.shape[0]
        p = _lib.sized(_lib.PersonalizeParamsC)
        function("mimetic_personalize_params_init")(ctypes.byref(p))
        for name, value in [("style_steps", style_steps), ("basis_steps", basis_steps),
                            ("style_learning_rate", style_learning_rate), ("basis_learning_rate", basis_learning_rate),
                            ("lip_contact_weight", lip_contact_weight), ("lip_closure_weight", lip_closure_weight),
                            ("held_out_clip", held_out_clip), ("held_out_folds", held_out_folds)]:
            if value is not None:
                setattr(p, name, value)
        if initial_style_slot is not None:
            starts = {"mean": _lib.START_MEAN, "best": _lib.START_BEST}
            if isinstance(initial_style_slot, str) and initial_style_slot not in starts:
                raise InvalidArgumentError(f"personalize: initial_style_slot '{initial_style_slot}' is not a slot, 'mean' or 'best'")
            p.initial_style_slot = starts[initial_style_slot] if isinstance(initial_style_slot, str) else int(initial_style_slot)

        def trampoline(stage: int, step: int, total: int, loss: float, held: float, user: Any) -> int:
            try:
                return 1 if progress is None or progress(stage, step, total, loss, None if math.isnan(held) else held) else 0
            except Exception:  # an exception in the callback cancels rather than crossing the C frame
                return 0

        cb = _lib.PROGRESS_CALLBACK(trampoline)
        out = _lib.c_persona_p()
        check(function("mimetic_personalize")(mh, arr, len(clips), ctypes.byref(p), cb, None, ctypes.byref(out)),
              "mimetic_personalize")
        del keep
        return cls(out.value, model)

    @classmethod
    def from_style(cls, model: Model, style: Any) -> "Persona":
        """A persona holding only a style vector (``style_dim`` floats: a slot blend, a Mimic code)."""
        s = np.ascontiguousarray(np.asarray(style, dtype=np.float32))
        if s.ndim != 1:
            raise InvalidArgumentError(f"from_style: style must be 1-D, got {s.shape}")
        out = _lib.c_persona_p()
        check(function("mimetic_persona_from_style")(model._require_open(), float_ptr(s), s.shape[0], ctypes.byref(out)),
              "mimetic_persona_from_style")
        return cls(out.value, model)

    @classmethod
    def load(cls, model: Model, path: "os.PathLike[str] | str") -> "Persona":
        """Loads a persona file; it must have been made for ``model``."""
        out = _lib.c_persona_p()
        check(function("mimetic_persona_load")(model._require_open(), os.fsencode(path), ctypes.byref(out)),
              "mimetic_persona_load")
        return cls(out.value, model)

    def blend(self, other: "Persona", t: float) -> "Persona":
        """(1 − t)·self + t·other (styles and basis changes), a new persona of the same model."""
        out = _lib.c_persona_p()
        check(function("mimetic_persona_blend")(self._require_open(), other._require_open(), float(t), ctypes.byref(out)),
              "mimetic_persona_blend")
        return Persona(out.value, self._model)

    # -- using one ----------------------------------------------------------------------------------

    def save(self, path: "os.PathLike[str] | str") -> None:
        """Writes the persona file (``.safetensors``)."""
        check(function("mimetic_persona_save")(self._require_open(), os.fsencode(path)), "mimetic_persona_save")

    @property
    def style(self) -> np.ndarray:
        """The style vector (float32 ``[style_dim]``)."""
        out = np.empty(self._model.info.style_dim, dtype=np.float32)
        check(function("mimetic_persona_get_style")(self._require_open(), float_ptr(out), out.shape[0]),
              "mimetic_persona_get_style")
        return out

    @property
    def has_basis(self) -> bool:
        """Whether the persona changes the motion basis (adapted Imitator personas)."""
        return bool(function("mimetic_persona_has_basis")(self._require_open()))

    def _require_open(self) -> int:
        if self._handle is None:
            raise InvalidArgumentError("persona is closed")
        return self._handle

    def close(self) -> None:
        """Frees the persona (streams created with it keep what they copied)."""
        h, self._handle = self._handle, None
        if h is not None:
            function("mimetic_persona_free")(h)

    def __enter__(self) -> "Persona":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
