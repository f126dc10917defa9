"""Serializer fields shared by the API's serializers."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import MutableMapping
from typing import Any

from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import PLAUSIBLE_DATES
from marketplaces.models import Marketplace

from .serializers.base import RejectUnknownFieldsMixin

# (serializer class, language) -> its fields as ModelSerializer.get_fields builds them.
_MODEL_SERIALIZER_FIELDS: dict[tuple[type, str | None], dict[str, serializers.Field]] = {}
# Arguments a field keeps as given and never changes (``choices`` is read into the field's own
# dicts, validators are shared by DRF's own copy too): a new field may hold the same objects.
_SHARED_ARGUMENTS = frozenset({"choices", "validators", "regex"})
_IMMUTABLE = (str, bytes, int, float, bool, type(None), Promise, type, tuple, frozenset)


def fresh_field(field: serializers.Field) -> serializers.Field:
    """A new, unbound copy of ``field``, as DRF's ``Field.__deepcopy__`` makes one (a new
    instance from the same arguments), without deep-copying the arguments no field changes:
    labels, help texts, choice lists. That deep copy of a case detail's 150 fields cost more
    than one of its queries. Nested fields (a serializer, a list's child) are copied the same
    way; any other mutable argument (a default list) is deep-copied as DRF does."""
    if not hasattr(field, "_args"):  # not made through ``Field.__new__``: DRF's way
        return copy.deepcopy(field)
    if _is_plain(field):
        # Nothing beneath it and nothing it was given that a field changes: a shallow copy
        # of the unbound template is the new instance its arguments would make (binding sets
        # the copy's own name, parent, label and source).
        return copy.copy(field)

    def argument(name: str | None, value: Any) -> Any:
        if isinstance(value, serializers.Field):
            return fresh_field(value)
        if name in _SHARED_ARGUMENTS or isinstance(value, _IMMUTABLE) or callable(value):
            return value
        return copy.deepcopy(value)

    given: dict[str, Any] = field._kwargs  # type: ignore[attr-defined]  # set by Field.__new__
    args = [argument(None, value) for value in field._args]
    kwargs = {name: argument(name, value) for name, value in given.items()}
    return field.__class__(*args, **kwargs)


_PLAIN: dict[type, bool] = {}


def _is_plain(field: serializers.Field) -> bool:
    """A field with no field beneath it (not a serializer, a list's or a relation's holder)
    whose arguments are all immutable or shared: copying its instance copies it."""
    kind = type(field)
    plain = _PLAIN.get(kind)
    if plain is None:
        plain = _PLAIN[kind] = not isinstance(
            field,
            serializers.BaseSerializer
            | serializers.ListField
            | serializers.DictField
            | serializers.HStoreField
            | serializers.ManyRelatedField
            | serializers.SerializerMethodField
            | serializers.HiddenField,
        )
    if not plain or getattr(field, "parent", None) is not None:
        return False
    given: dict[str, Any] = field._kwargs  # type: ignore[attr-defined]  # set by Field.__new__
    return all(
        name in _SHARED_ARGUMENTS or isinstance(value, _IMMUTABLE)
        for name, value in (*((None, v) for v in field._args), *given.items())  # type: ignore[attr-defined]
    )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time WITH its offset. A time without one is refused: the API cannot guess
    whether "10:00" was Shanghai's or Paris's."""

    default_error_messages = {
        "naive": _(
            "Give the time with its offset, for example 2026-03-01T10:00:00+08:00 or "
            "2026-03-01T02:00:00Z."
        ),
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
            if parsed is not None:
                return self.enforce_timezone(parsed)  # parsed once, not again by DRF
        elif isinstance(value, dt.datetime) and value.tzinfo is None:
            self.fail("naive")
        return super().to_internal_value(value)


class ApiChoiceField(serializers.ChoiceField):
    """A choice whose refusal lists the valid values: "“parcel” is not a valid choice; use one
    of: out_of_stock, oversized, ..." (DRF only says that it is not one)."""

    default_error_messages = {
        "invalid_choice": _("“{input}” is not a valid choice; use one of: {valid}."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            self.fail(
                "invalid_choice",
                input=str(data)[:40],
                valid=", ".join(str(value) for value in self.choices),
            )


class ApiModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """ModelSerializer that refuses unknown fields in a body (``serializers.base``), whose
    times must carry an offset, whose invalid choices list the valid ones, and whose read-only
    choice fields document the empty value they can hold (DRF drops ``allow_blank`` on read-only
    fields, and the schema would then promise a value that is sometimes "")."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: AwareDateTimeField,
    }
    serializer_choice_field = ApiChoiceField

    def get_fields(self) -> dict[str, serializers.Field]:
        # DRF builds a model serializer's fields from the model's meta on every instance: 75
        # fields and 200 translation look-ups for one case detail, more than its queries cost.
        # They depend only on the class (and the language of their labels): built once, then
        # copied (a field's copy is a new instance from its arguments, as DRF's own are).
        key = (type(self), get_language())
        built = _MODEL_SERIALIZER_FIELDS.get(key)
        if built is None:
            built = _MODEL_SERIALIZER_FIELDS[key] = super().get_fields()
        return {name: fresh_field(field) for name, field in built.items()}

    def include_extra_kwargs(
        self, kwargs: MutableMapping[str, Any], extra_kwargs: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        blank = kwargs.get("allow_blank")
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank and kwargs.get("read_only") and "choices" in kwargs:
            kwargs["allow_blank"] = True
        return kwargs


@extend_schema_field(
    {"type": "string", "description": "A marketplace code, e.g. tmall", "example": "tmall"}
)
class MarketplaceCodeField(serializers.Field):
    """A marketplace of the calling client, given by its code (``tmall``).

    The client's marketplaces come from the serializer context (``marketplaces``: code ->
    Marketplace), so a list of 10,000 items costs no query per item.
    """

    default_error_messages = {
        "not_yours": _("“%(code)s” is not one of your marketplaces (%(yours)s)."),
        "invalid": _("Give a marketplace code, such as tmall."),
    }

    def _marketplaces(self) -> dict[str, Marketplace]:
        marketplaces: dict[str, Marketplace] = self.context.get("marketplaces", {})
        return marketplaces

    def to_internal_value(self, data: Any) -> Marketplace:
        if not isinstance(data, str) or not data:
            self.fail("invalid")
        marketplace = self._marketplaces().get(data)
        if marketplace is None:
            yours = ", ".join(sorted(self._marketplaces())) or "-"
            raise serializers.ValidationError(
                self.error_messages["not_yours"] % {"code": data[:40], "yours": yours},
                code="not_yours",
            )
        return marketplace

    def get_attribute(self, instance: Any) -> Any:
        # Read the id, not the related row: the client's marketplaces are in the context, so
        # a list of cases or orders needs no join to show their marketplace's code.
        marketplace_id = getattr(instance, f"{self.source}_id", None)
        if marketplace_id is not None and marketplace_id in self.context.get(
            "marketplace_codes", {}
        ):
            return marketplace_id
        return super().get_attribute(instance)

    def to_representation(self, value: Any) -> str:
        if isinstance(value, Marketplace):
            return value.code
        return str(self.context["marketplace_codes"][value])


# The years 1970 to 2100 of PLAUSIBLE_DATES, as the schema can say it (OpenAPI has no minimum or
# maximum for dates).
PLAUSIBLE_DATE_PATTERN = (
    r"^(19[7-9][0-9]|20[0-9][0-9]|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
)


# A time whose day in UTC is within PLAUSIBLE_DATES: its own day from 1970-01-02 to 2100-12-30
# (an offset moves it less than a day), as a pattern on the date part of a date-time.
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
PLAUSIBLE_TIME_PATTERN = (
    rf"^((197[1-9]|19[89][0-9]|20[0-9][0-9])-(0[1-9]|1[0-2])-{_DAY}"
    rf"|1970-(01-(0[2-9]|[12][0-9]|3[01])|(0[2-9]|1[0-2])-{_DAY})"
    rf"|2100-((0[1-9]|1[01])-{_DAY}|12-(0[1-9]|[12][0-9]|30)))[Tt]"
)


@extend_schema_field(
    {"type": "string", "format": "date", "pattern": PLAUSIBLE_DATE_PATTERN, "minLength": 10}
)
class PlausibleDateField(serializers.DateField):
    """A date within ``cases.models.PLAUSIBLE_DATES`` (1970 to 2100): calendars and windows
    are counted from it, and dates near the ends of the calendar would overflow."""

    default_error_messages = {
        "implausible": _("Give a date between {first} and {last}."),
    }

    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not PLAUSIBLE_DATES[0] <= day <= PLAUSIBLE_DATES[1]:
            self.fail("implausible", first=PLAUSIBLE_DATES[0], last=PLAUSIBLE_DATES[1])
        return day


class ChoiceNameField(ApiChoiceField):
    """An integer choice shown and given by its name: ``"urgent"``, not ``40`` (a number that
    says nothing without the table of ``cases.choices.Priority``)."""

    def __init__(self, *, choices_enum: type[models.IntegerChoices], **kwargs: Any) -> None:
        self.by_name = {member.name.lower(): member for member in choices_enum}
        self.names = {member.value: name for name, member in self.by_name.items()}
        super().__init__(choices=[(name, m.label) for name, m in self.by_name.items()], **kwargs)

    def to_internal_value(self, data: Any) -> int:  # type: ignore[override]  # a choice by name, stored as its number
        return int(self.by_name[super().to_internal_value(data)])

    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]  # None stays null
        if value is None:
            return None
        return self.names.get(int(value), str(value))
