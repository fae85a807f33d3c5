"""Random IDs a person may type, paste into a shell or put in a URL: letters and digits only."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def letters_and_digits(length: int) -> str:
    """``length`` random letters and digits (about 5.95 bits each): nothing to escape or quote, and never a
    leading ``-`` that a command line reads as an option."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
