"""The converter's two ways of saying something is wrong."""


class ConversionError(ValueError):
    """A checkpoint cannot be converted (bad input, missing key, inconsistent config...)."""


class ConversionWarning(UserWarning):
    """Something was ignored during conversion (e.g. unknown keys)."""
