"""Random transition sequences keep the invariants: the state is always in the kind's graph,
one audit row per transition, refusals change nothing, deadlines match the calendar."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import workflows
from cases.choices import CaseKind
from cases.errors import DomainError
from cases.models import Case, CaseEvent
from cases.services import case_transition
from cases.services.deadlines import compute_deadlines
from tests.factories import add_photo, open_case

pytestmark = pytest.mark.django_db

TRANSITION_NAMES = sorted(workflows.TRANSITIONS)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([k.value for k in CaseKind]),
    marketplace=st.sampled_from(["tmall", "amazon_fr", "cdiscount", "faire"]),
    steps=st.lists(
        st.tuples(
            st.sampled_from(TRANSITION_NAMES),
            st.integers(min_value=0, max_value=4000),
            st.booleans(),
        ),
        max_size=14,
    ),
)
def test_random_sequences_keep_the_invariants(kind, marketplace, steps, supervisor_actor):
    case = open_case(kind, actor=supervisor_actor, marketplace=marketplace)
    states = workflows.kind_states(kind)
    at = case.opened_at
    transitions = 0
    for name, minutes, with_photo in steps:
        at = at + dt.timedelta(minutes=minutes)
        if with_photo and case.is_open:
            add_photo(case, supervisor_actor, at=at)
        before = Case.objects.get(pk=case.pk)
        events_before = CaseEvent.objects.filter(case=case, event_type="transition").count()
        try:
            case = case_transition(
                case=case,
                transition=name,
                actor=supervisor_actor,
                door="command",
                occurred_at=at,
                reason="property test",
            )
        except DomainError as refused:
            after = Case.objects.get(pk=case.pk)
            assert (after.state, after.version) == (before.state, before.version)
            assert refused.message
            assert (
                CaseEvent.objects.filter(case=case, event_type="transition").count()
                == events_before
            )
            continue
        transitions += 1
        assert before.state in workflows.kind_transitions(kind)[name]
        assert case.state == workflows.TRANSITIONS[name].target
        assert case.state in states
        fresh = compute_deadlines(case, case.marketplace)
        for field, value in fresh.items():
            assert getattr(case, field) == value, field
    assert CaseEvent.objects.filter(case=case, event_type="transition").count() == transitions
