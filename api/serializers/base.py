"""What every serializer that reads a request body shares: a field it does not know is refused.

DRF drops keys it has no field for. For an integration that is a silent misunderstanding: a
connector sending ``"domestic": false`` to the order import (the field is ``shipping_scope``)
would get a domestic order, one the workflow lets it intercept. So every body the API reads
goes through ``RejectUnknownFieldsMixin`` (``InputSerializer`` and ``api.fields.
ApiModelSerializer`` carry it; nested serializers and the items of list bodies are serializers
too), and an unknown key is a 400 naming it, with the fields accepted at that place::

    {"field": "domestic", "pointer": "/3/domestic", "index": 3, "code": "unknown_field",
     "detail": "Unknown field “domestic”. The fields accepted here: marketplace, ..."}

The OpenAPI components of request bodies say the same (``additionalProperties: false``,
``api.schema``). Query parameters are not bodies: unknown ones are ignored (``api/overview.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

# What ``str.strip()`` removes (DRF's ``trim_whitespace``, the services' ``strip()``), spelled
# out for the schema's patterns: ECMAScript's ``\s`` and Python's differ (U+001C to U+001F,
# U+0085, U+FEFF), and a client's validator must not have to guess.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text without NUL characters (DRF's ``ProhibitNullCharactersValidator``; PostgreSQL stores none).
NO_NUL = r"^[^\x00]*$"
# ... and not only spaces (refused as blank once trimmed).
NOT_ONLY_SPACES = rf"^[^\x00]*[^\x00{SPACE}][^\x00]*$"

UNKNOWN_FIELD = "unknown_field"

# A key is echoed in the message and the pointer; one of megabytes is cut (and marked so).
_MAX_KEY_SHOWN = 100


def _shown(key: Any) -> str:
    text = str(key)
    return text if len(text) <= _MAX_KEY_SHOWN else text[:_MAX_KEY_SHOWN] + "…"


def unknown_field_errors(
    data: Any, *, accepted: Sequence[str], read_only: Sequence[str] = ()
) -> dict[str, list[ErrorDetail]]:
    """The errors of the keys of ``data`` (a body object) that are not in ``accepted``, keyed
    by the key: DRF's error shape, so that they join the other field errors."""
    if not isinstance(data, Mapping):
        return {}  # not an object: the serializer says so in its own words
    unknown = [key for key in data if key not in accepted]
    if not unknown:
        return {}
    choices = ", ".join(accepted)
    errors: dict[str, list[ErrorDetail]] = {}
    for key in unknown:
        name = _shown(key)
        if key in read_only:
            message = _(
                "“%(name)s” is read-only: it is shown in answers and cannot be set. "
                "The fields accepted here: %(accepted)s."
            )
        elif accepted:
            message = _("Unknown field “%(name)s”. The fields accepted here: %(accepted)s.")
        else:
            message = _("Unknown field “%(name)s”: this request takes no fields.")
        text = message % {"name": name, "accepted": choices}
        errors[name] = [ErrorDetail(text, code=UNKNOWN_FIELD)]
    return errors


class RejectUnknownFieldsMixin:
    """A serializer that refuses the keys of its input that none of its writable fields reads.

    Every error of the object is reported at once: unknown keys next to invalid values.
    """

    fields: Any

    def accepted_fields(self) -> list[str]:
        """The names this serializer reads from a body, in the order it declares them."""
        return [name for name, field in self.fields.items() if not field.read_only]

    def unknown_fields(self, data: Any) -> dict[str, list[ErrorDetail]]:
        # Worked out once per serializer: a list body runs one child over thousands of items.
        names = self.__dict__.get("_body_field_names")
        if names is None:
            read_only = [name for name, field in self.fields.items() if field.read_only]
            names = self.__dict__["_body_field_names"] = (self.accepted_fields(), read_only)
        accepted, read_only = names
        return unknown_field_errors(data, accepted=accepted, read_only=read_only)

    def to_internal_value(self, data: Any) -> Any:
        unknown = self.unknown_fields(data)
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise ValidationError(unknown)
        return value


class InputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The base of every serializer of a request body that is not a model's."""


class EmptyBodySerializer(InputSerializer):
    """The body of a request that takes none (rotate a secret, replay, delete): a field sent
    there would be ignored, so it is refused."""


def refuse_unknown_fields_in_list(items: Any, serializer: RejectUnknownFieldsMixin) -> None:
    """For list bodies read by a service rather than a serializer (the message import): refuse
    the unknown keys of every item, with the item's index in each pointer (``/3/domestic``)."""
    if not isinstance(items, list):
        return
    errors = [serializer.unknown_fields(item) for item in items]
    if any(errors):
        raise ValidationError(errors)
