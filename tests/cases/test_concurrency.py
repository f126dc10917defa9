"""Two agents acting on one case at the same moment: the row lock lets exactly one win."""

import threading

import pytest
from django.db import connection

from cases.errors import DomainError, ErrorCode
from cases.models import Case, CaseEvent
from cases.services import case_transition
from tests.factories import open_case


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_of_the_same_version_one_wins_one_gets_a_conflict(supervisor_actor):
    # Both agents loaded version 1 and act on it (as the admin form and the API do).
    case = open_case("cancellation", actor=supervisor_actor)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def act(name: str) -> None:
        barrier.wait()
        try:
            results[name] = case_transition(
                case=case.pk,
                transition=name,
                actor=supervisor_actor,
                door="api",
                expected_version=case.version,
            )
        except DomainError as error:
            results[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(name,)) for name in ("request_refund", "escalate")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [name for name, result in results.items() if isinstance(result, Case)]
    losers = [result for result in results.values() if isinstance(result, DomainError)]
    assert len(winners) == 1 and len(losers) == 1
    final = Case.objects.get(pk=case.pk)
    assert final.version == 2
    assert CaseEvent.objects.filter(case=case, event_type="transition").count() == 1
    assert losers[0].code == ErrorCode.CASE_CHANGED
    assert losers[0].is_conflict


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_transitions_run_once(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    barrier = threading.Barrier(4)
    outcomes = []

    def act() -> None:
        barrier.wait()
        try:
            case_transition(
                case=case.pk, transition="request_refund", actor=supervisor_actor, door="api"
            )
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=act) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count(ErrorCode.TRANSITION_NOT_AVAILABLE) == 3
    assert CaseEvent.objects.filter(case=case, event_type="transition").count() == 1
