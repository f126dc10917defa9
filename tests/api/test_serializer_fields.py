"""A model serializer's fields are built once per class and copied for each instance
(``api.fields.fresh_field``): the copies must be what DRF's own deep copy would give, and
share nothing that a request binds or changes."""

from __future__ import annotations

import copy

from rest_framework import serializers

from api.fields import fresh_field
from api.serializers.cases import CaseDetailSerializer, CaseEventSerializer


def test_fresh_fields_are_the_fields_drf_would_copy():
    built = CaseDetailSerializer().get_fields()
    for name, field in built.items():
        assert repr(fresh_field(field)) == repr(copy.deepcopy(field)), name


def test_two_serializers_share_no_field_nor_nested_child():
    first, second = CaseDetailSerializer(), CaseDetailSerializer()
    for name in first.fields:
        assert first.fields[name] is not second.fields[name], name
        assert first.fields[name].parent is first
    history = first.fields["history"], second.fields["history"]
    assert history[0].child is not history[1].child
    assert history[0].child.parent is history[0]
    assert isinstance(history[0].child, CaseEventSerializer)


def test_a_mutable_argument_is_copied_not_shared():
    field = serializers.ListField(default=[], read_only=True)
    copied = fresh_field(field)
    assert copied is not field
    assert copied.default == [] and copied.default is not field.default
