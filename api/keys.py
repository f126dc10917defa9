"""API keys: ``as_<prefix>_<secret>``. The prefix finds the client; only the SHA-256 of the
whole key is stored. A plain SHA-256 is enough here (unlike passwords): the secret is 32 random
bytes, so there is nothing to guess, and checking a key stays cheap on every request."""

from __future__ import annotations

import hashlib
import secrets
import string

PREFIX_LENGTH = 8
_ALPHABET = string.ascii_lowercase + string.digits


def generate() -> tuple[str, str]:
    """A new key and its lookup prefix."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    return f"as_{prefix}_{secrets.token_urlsafe(32)}", prefix


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    if len(key) < 3 + PREFIX_LENGTH + 2 or not key.startswith("as_"):
        return None
    prefix, separator = key[3 : 3 + PREFIX_LENGTH], key[3 + PREFIX_LENGTH]
    if separator != "_" or any(char not in _ALPHABET for char in prefix):
        return None
    return prefix
