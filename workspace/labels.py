"""Labels of choices, resolved once per language instead of once per cell.

A list page of 50 cases asked the translation catalogue for each row's kind, state and deadline
labels (``get_FOO_display`` also rebuilds the field's choice dict each time): 2,000 look-ups a
page. Choice labels do not change while the process runs, so each language's table is built
on first use and kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils.translation import get_language

# (id of the choices object, language) -> value -> label. Keyed by identity: hashing the lazy
# labels themselves would translate each of them, the cost this module is here to avoid.
_tables: dict[tuple[int, str | None], dict[Any, str]] = {}


def choice_labels(
    choices: type[models.Choices] | Mapping[Any, Any] | Iterable[tuple[Any, Any]],
) -> Mapping[Any, str]:
    """value -> label in the active language, for a ``TextChoices``/``IntegerChoices`` class, a
    mapping of value -> label, or a sequence of (value, label) pairs kept at module level."""
    key = (id(choices), get_language())
    table = _tables.get(key)
    if table is None:
        if isinstance(choices, type):
            pairs: Iterable[tuple[Any, Any]] = choices.choices
        elif isinstance(choices, Mapping):
            pairs = choices.items()
        else:
            pairs = choices
        table = _tables[key] = {value: str(label) for value, label in pairs}
    return table
