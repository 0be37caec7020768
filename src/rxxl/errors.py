"""rxxl's own exception types.

Structurally invalid input (wrong lengths, text where a number belongs, an unknown line type)
raises one of these, with a message that names the offending argument and says what would be
valid. Mathematically undefined results (IRR with no sign change, a zero budget) are *not*
errors: metrics return NaN for them.
"""


class RxxlError(Exception):
    """Base class of every error rxxl raises on purpose."""


class InputError(RxxlError, ValueError):
    """An input has the right type but an unusable value or shape."""


class InputTypeError(RxxlError, TypeError):
    """An input has a type rxxl cannot use (text where a number belongs, ...)."""
