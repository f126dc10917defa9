"""Every kind: every allowed transition walked to the end of its workflow, and every other
transition refused with a clear message and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from cases import workflows
from cases.choices import TERMINAL_STATES, CaseKind, CaseState
from cases.errors import ErrorCode, TransitionRefused
from cases.models import Case, CaseEvent
from cases.services import case_transition
from tests.factories import open_case, run, shortest_paths

pytestmark = pytest.mark.django_db


def edges(kind):
    graph = workflows.kind_transitions(kind)
    return sorted((source.value, name) for name, sources in graph.items() for source in sources)


def path_to_end(kind: str, state: str) -> list[str]:
    """Shortest transitions from ``state`` to a terminal state (closed or withdrawn)."""
    graph = workflows.kind_transitions(kind)
    paths = {state: []}
    queue = [state]
    while queue:
        current = queue.pop(0)
        if current in TERMINAL_STATES:
            return paths[current]
        for name in sorted(graph, key=lambda n: (n == "withdraw", n)):  # prefer real endings
            target = workflows.TRANSITIONS[name].target.value
            if current in graph[name] and target not in paths:
                paths[target] = [*paths[current], name]
                queue.append(target)
    raise AssertionError(f"{kind}: no way to an end from {state}")


ALL_EDGES = [(kind.value, source, name) for kind in CaseKind for source, name in edges(kind)]


@pytest.mark.parametrize(("kind", "source", "transition"), ALL_EDGES)
def test_every_transition_of_every_kind_walks_to_the_end(
    kind, source, transition, supervisor_actor
):
    case = open_case(kind, actor=supervisor_actor)
    to_source = shortest_paths(kind)[source]
    target = workflows.TRANSITIONS[transition].target.value
    path = [*to_source, transition, *path_to_end(kind, target)]
    case = run(case, path, supervisor_actor)
    assert case.state in TERMINAL_STATES
    transitions = list(
        case.events.filter(event_type="transition")
        .order_by("occurred_at", "pk")
        .values_list("transition", "from_state", "to_state")
    )
    assert [t[0] for t in transitions] == path
    # every record chains: each starts where the previous ended
    state = "new"
    for name, from_state, to_state in transitions:
        assert from_state == state
        assert to_state == workflows.TRANSITIONS[name].target
        state = to_state


@pytest.mark.parametrize("kind", [k.value for k in CaseKind])
def test_every_transition_outside_the_graph_is_refused_in_every_state(kind, supervisor_actor):
    graph = workflows.kind_transitions(kind)
    for state, path in shortest_paths(kind).items():
        case = run(open_case(kind, actor=supervisor_actor), path, supervisor_actor)
        assert case.state == state
        allowed = {name for name, sources in graph.items() if state in sources}
        before = (case.version, CaseEvent.objects.filter(case=case).count())
        for name in sorted(set(workflows.TRANSITIONS) - allowed):
            with pytest.raises(TransitionRefused) as refused:
                case_transition(
                    case=case, transition=name, actor=supervisor_actor, door="command", reason="r"
                )
            error = refused.value
            expected = (
                ErrorCode.TRANSITION_NOT_AVAILABLE
                if name in graph
                else ErrorCode.TRANSITION_UNKNOWN
            )
            assert error.code == expected, (kind, state, name)
            assert error.is_conflict is (expected == ErrorCode.TRANSITION_NOT_AVAILABLE)
            assert str(CaseState(state).label) in error.message or name in error.message
            assert {o.name for o in error.available} <= allowed
            if state not in TERMINAL_STATES:
                assert "Available now:" in str(error)
        case.refresh_from_db()
        assert case.state == state
        assert (case.version, CaseEvent.objects.filter(case=case).count()) == before


def test_refusal_message_names_the_state_and_lists_what_is_possible(supervisor_actor):
    case = open_case("damaged_item", actor=supervisor_actor)
    with pytest.raises(TransitionRefused) as refused:
        case_transition(case=case, transition="confirm", actor=supervisor_actor, door="admin")
    assert str(refused.value) == (
        f"'Confirm claim' cannot be done on case {case.reference} while it is New. "
        "Available now: request_evidence, escalate, withdraw."
    )


def test_review_needs_valid_evidence(supervisor_actor):
    case = run(
        open_case("wrong_item", actor=supervisor_actor), ["request_evidence"], supervisor_actor
    )
    with pytest.raises(TransitionRefused) as refused:
        case_transition(case=case, transition="start_review", actor=supervisor_actor, door="admin")
    assert refused.value.code == ErrorCode.CONDITION_FAILED
    assert "At least one valid photo or video" in refused.value.message
    assert Case.objects.get(pk=case.pk).state == "awaiting_evidence"


def test_rejected_evidence_does_not_count(supervisor_actor):
    from cases.services import evidence_review
    from tests.factories import add_photo

    case = run(
        open_case("wrong_item", actor=supervisor_actor), ["request_evidence"], supervisor_actor
    )
    photo = add_photo(case, supervisor_actor)
    evidence_review(
        evidence=photo, status="rejected", reason="blurred", actor=supervisor_actor, door="admin"
    )
    with pytest.raises(TransitionRefused, match="At least one valid photo"):
        case_transition(case=case, transition="start_review", actor=supervisor_actor, door="admin")


def test_international_orders_cannot_be_intercepted(supervisor_actor):
    from tests.factories import make_order

    order = make_order("amazon_fr", shipping_scope="international", destination_country="US")
    case = open_case("interception", actor=supervisor_actor, order=order)
    with pytest.raises(TransitionRefused) as refused:
        case_transition(
            case=case, transition="request_interception", actor=supervisor_actor, door="api"
        )
    assert refused.value.code == ErrorCode.CONDITION_FAILED
    assert "International orders cannot be intercepted" in refused.value.message
    assert "request_interception" not in {o.name for o in refused.value.available}


@pytest.mark.parametrize(
    ("late_days", "contact", "switch"),
    [(1, False, False), (2, True, False), (3, True, False), (4, True, True)],
)
def test_late_shipment_steps_open_at_two_and_four_days(
    late_days, contact, switch, supervisor_actor, frozen_now
):
    from tests.factories import make_order

    # A fixed noon in Paris: "late by N days" counts from the marketplace's local midnight, and
    # the step must be open one minute after it whatever the real time of day.
    now = frozen_now
    promised = (now - dt.timedelta(days=late_days)).date()
    order = make_order(
        "amazon_fr", promised_ship_date=promised, placed_at=now - dt.timedelta(days=10)
    )
    case = open_case(
        "late_shipment",
        actor=supervisor_actor,
        order=order,
        opened_at=now - dt.timedelta(days=1, hours=1),
    )
    # "now" in Paris: late by N days from the marketplace's midnight of promised + N.
    late_since = order.late_since(late_days)
    at = max(late_since, case.opened_at) + dt.timedelta(minutes=1)
    assert at <= now
    if contact:
        case = case_transition(
            case=case,
            transition="contact_supplier",
            actor=supervisor_actor,
            door="job",
            occurred_at=at,
        )
        assert case.state == "supplier_contacted"
        if switch:
            case = case_transition(
                case=case,
                transition="switch_supplier",
                actor=supervisor_actor,
                door="job",
                occurred_at=at,
            )
            assert case.state == "supplier_switched"
        else:
            with pytest.raises(TransitionRefused, match="from 4 days after"):
                case_transition(
                    case=case,
                    transition="switch_supplier",
                    actor=supervisor_actor,
                    door="job",
                    occurred_at=at,
                )
    else:
        with pytest.raises(TransitionRefused, match="from 2 days after"):
            case_transition(
                case=case,
                transition="contact_supplier",
                actor=supervisor_actor,
                door="job",
                occurred_at=at,
            )


def test_supervisor_only_transitions_are_refused_to_agents(agent_actor, supervisor_actor):
    case = run(
        open_case("damaged_item", actor=supervisor_actor),
        ["request_evidence", "start_review"],
        supervisor_actor,
    )
    for name in ("reject", "withdraw"):
        with pytest.raises(TransitionRefused) as refused:
            case_transition(
                case=case, transition=name, actor=agent_actor, door="admin", reason="not convinced"
            )
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
        assert "needs a supervisor" in refused.value.message
    from cases.services import case_available_transitions

    names = {o.name for o in case_available_transitions(case, agent_actor)}
    assert names == {"request_evidence", "confirm", "escalate"}
    names = {o.name for o in case_available_transitions(case, supervisor_actor)}
    assert names == {"request_evidence", "confirm", "escalate", "reject", "withdraw"}


@pytest.mark.parametrize("name", ["reject", "withdraw"])
def test_reason_is_required(name, supervisor_actor):
    case = run(
        open_case("damaged_item", actor=supervisor_actor),
        ["request_evidence", "start_review"],
        supervisor_actor,
    )
    with pytest.raises(TransitionRefused) as refused:
        case_transition(
            case=case, transition=name, actor=supervisor_actor, door="admin", reason="   "
        )
    assert refused.value.code == ErrorCode.REASON_REQUIRED
    assert refused.value.field == "reason"
    assert Case.objects.get(pk=case.pk).state == "under_review"


def test_mermaid_diagram_is_generated_from_the_table():
    diagram = workflows.mermaid("interception")
    assert "new --> interception_requested: request_interception" in diagram
    assert "interception_requested --> interception_failed: mark_interception_failed" in diagram
    assert "closed --> [*]" in diagram
