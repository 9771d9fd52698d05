"""The style arguments that ``Stream`` and ``Model.animate`` share: one reading of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from ._core import check_int32, float_vector
from ._errors import InvalidArgumentError

StyleArg = Union[None, int, Sequence[float], np.ndarray]
StyleCodeArg = Union[None, Sequence[float], np.ndarray]


@dataclass
class StyleFields:
    """The C struct fields a style choice sets, and the arrays/objects they point into (keep alive)."""

    slot: Optional[int] = None          # None: leave the library default
    weights: Optional[np.ndarray] = None
    code: Optional[np.ndarray] = None
    persona_handle: Optional[int] = None
    keep: List[Any] = field(default_factory=list)


def style_fields(num_styles: int, style_dim: int, style: StyleArg = None, style_code: StyleCodeArg = None,
                 persona: Any = None) -> StyleFields:
    """Reads ``style`` (a slot index, or ``num_styles`` weights), ``style_code`` (``style_dim`` floats)
    and ``persona`` (a ``mimetic.Persona``); at most one of ``style`` and ``style_code``."""
    out = StyleFields()
    if style is not None and style_code is not None:
        raise InvalidArgumentError("give style (a slot or weights) or style_code, not both")
    if style is not None:
        if isinstance(style, (int, np.integer)) and not isinstance(style, bool):
            out.slot = check_int32("style", style)
        else:
            out.weights = float_vector("style weights", style, num_styles)
            out.slot = -1
            out.keep.append(out.weights)
    if style_code is not None:
        out.code = float_vector("style_code", style_code, style_dim)
        out.slot = -1
        out.keep.append(out.code)
    if persona is not None:
        from ._persona import Persona
        if not isinstance(persona, Persona):
            raise InvalidArgumentError(f"persona must be a mimetic.Persona, not {type(persona).__name__}")
        out.persona_handle = persona._require_open()
        out.keep.append(persona)
    return out
