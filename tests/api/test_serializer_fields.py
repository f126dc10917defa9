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


def test_a_plain_field_is_copied_unbound_and_binds_on_its_own():
    # given a field template (unbound), copied for two serializers
    template = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")], read_only=True)
    first, second = fresh_field(template), fresh_field(template)
    first.bind("kind", serializers.Serializer())
    second.bind("state", serializers.Serializer())
    # then each copy has its own name, label and source; the template stays unbound
    assert (first.field_name, first.source, first.label) == ("kind", "kind", "Kind")
    assert (second.field_name, second.source, second.label) == ("state", "state", "State")
    assert template.field_name is None and template.parent is None and template.label is None
    assert first.to_representation("a") == "a" and repr(first) == repr(copy.deepcopy(template))
    # and a bound field is copied from its arguments, as DRF does, never shallowly
    assert fresh_field(first).label is None
