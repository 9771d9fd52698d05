"""The enums of ``include/mimetic.h``."""
from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """``mimetic_status``: 0 is success, every other value names a class of failure."""

    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    INVALID_MODEL = 3
    UNSUPPORTED = 4
    INVALID_AUDIO = 5
    BUFFER_TOO_SMALL = 6
    INTERNAL = 7
    NOT_READY = 8
    WRONG_STATE = 9
    CANCELLED = 10


class Family(enum.IntEnum):
    """``mimetic_family``: the architecture a model file holds."""

    FACEFORMER = 0
    IMITATOR = 1
    MIMIC = 2


class LogLevel(enum.IntEnum):
    """``mimetic_log_level``."""

    ERROR = 0
    WARNING = 1
    INFO = 2


class SamplePolicy(enum.IntEnum):
    """``mimetic_sample_policy``: what a stream does with NaN, +-Inf and out-of-range samples."""

    SANITIZE = 0
    REJECT = 1
