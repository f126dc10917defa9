"""Late-shipment escalation from order data: a case once the promised day is over, "contact the
supplier" at 2 days late, "switch supplier" at 4 (calendar days from the marketplace's
midnight). Amazon.fr, Paris time; the order was due to ship on Monday 15 September 2025."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail

from cases.choices import Door, EventType
from cases.models import Case, CaseEvent
from cases.services import case_assign, case_transition
from jobs.escalation import late_shipments_escalate
from jobs.models import LateShipmentNotice
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DUE = dt.date(2025, 9, 15)


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def team(settings):
    settings.TEAM_EMAILS = ["team@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def late_order(**fields):
    return make_order(
        "amazon_fr", **{"placed_at": paris(2025, 9, 10, 9), "promised_ship_date": DUE, **fields}
    )


def test_case_opened_once_the_promised_day_is_over_then_supplier_steps(agent, system_actor):
    agent.email = "agent@example.com"
    agent.save()
    order = late_order()

    # the promised day is not over yet: nothing
    assert late_shipments_escalate(at=paris(2025, 9, 15, 23, 59)).cases_opened == 0
    assert not Case.objects.exists()

    # 1 day late: a case, no supplier step yet
    result = late_shipments_escalate(at=paris(2025, 9, 16, 9))
    case = Case.objects.get()
    assert (result.cases_opened, result.notices_created) == (1, 0)
    assert (case.kind, case.order_id, case.external_id) == (
        "late_shipment",
        order.pk,
        f"late-shipment:{order.pk}",
    )
    assert case.supplier_contact_due_at == paris(2025, 9, 17)
    assert case.supplier_switch_due_at == paris(2025, 9, 19)
    assert late_shipments_escalate(at=paris(2025, 9, 16, 10)).cases_opened == 0  # idempotent
    case_assign(case=case, assignee=agent, actor=system_actor, door=Door.COMMAND)

    # one second before 2 days late: still nothing to do
    assert late_shipments_escalate(at=paris(2025, 9, 16, 23, 59, 59)).notices_created == 0
    # at 2 days late exactly: contact the supplier, told to the assignee, noted on the case
    result = late_shipments_escalate(at=paris(2025, 9, 17))
    assert (result.notices_created, result.emails_sent) == (1, 1)
    assert mail.outbox[-1].to == ["agent@example.com"]
    assert "contact the supplier" in mail.outbox[-1].body
    assert case.reference in mail.outbox[-1].body
    note = CaseEvent.objects.filter(case=case, event_type=EventType.SUPPLIER_ESCALATION).get()
    assert note.data["step"] == "contact_supplier"
    # the case is not moved by the job
    case.refresh_from_db()
    assert case.state == "new"
    # a re-run tells nobody again
    assert late_shipments_escalate(at=paris(2025, 9, 18)).emails_sent == 0

    # the agent contacts the supplier; at 4 days late: switch supplier
    case_transition(
        case=case,
        transition="contact_supplier",
        actor=system_actor,
        door=Door.COMMAND,
        occurred_at=paris(2025, 9, 17, 10),
    )
    assert late_shipments_escalate(at=paris(2025, 9, 18, 23)).notices_created == 0
    result = late_shipments_escalate(at=paris(2025, 9, 19))
    assert (result.notices_created, result.emails_sent) == (1, 1)
    assert "switch to another supplier" in mail.outbox[-1].body
    assert set(LateShipmentNotice.objects.values_list("step", flat=True)) == {
        "contact_supplier",
        "switch_supplier",
    }
    assert len(mail.outbox) == 2


def test_a_case_first_seen_4_days_late_gets_only_the_switch_step():
    late_order()
    result = late_shipments_escalate(at=paris(2025, 9, 19, 8))
    assert (result.cases_opened, result.notices_created, result.emails_sent) == (1, 1, 1)
    assert LateShipmentNotice.objects.get().step == "switch_supplier"
    assert mail.outbox[0].to == ["team@example.com"]  # unassigned: the team hears


def test_orders_that_are_not_late_shipments(system_actor):
    late_order(shipped_at=paris(2025, 9, 16, 9))  # shipped (late, but shipped)
    late_order(
        cancelled_at=paris(2025, 9, 12),
        cancelled_by="customer",
        cancellation_reason="customer_request",
    )
    late_order(fulfilled_by="marketplace")
    make_order(
        "amazon_fr",
        placed_at=paris(2025, 7, 1),
        promised_ship_date=dt.date(2025, 7, 3),
        shipped_at=None,
    )  # due more than 30 days ago: old history, left alone
    stock = late_order()
    open_case(
        "out_of_stock",
        actor=system_actor,
        marketplace="amazon_fr",
        order=stock,
        opened_at=paris(2025, 9, 14),
    )  # already worked as a stock problem

    result = late_shipments_escalate(at=paris(2025, 9, 20))

    assert result.cases_opened == 0
    assert not Case.objects.filter(kind="late_shipment").exists()
