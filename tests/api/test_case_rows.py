"""The case list: rows written without DRF's per-field machinery say what DRF would say, the
marketplace scope is one condition, and a page costs the same queries whatever its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from api.fields import ApiModelSerializer
from api.serializers.cases import CaseSerializer
from cases.choices import Door
from cases.models import Case
from cases.selectors import case_list
from cases.services import case_assign
from tests.factories import add_photo, open_case, run

pytestmark = pytest.mark.django_db


def drf_row(case: Case, context: dict) -> dict:
    """The row as DRF's fields write it (``ModelSerializer.to_representation``)."""
    serializer = CaseSerializer(context=context)
    return ApiModelSerializer.to_representation(serializer, case)


def drf_context(client, *, host: str) -> dict:
    """What the list's serializer context holds for ``client`` (request, codes, now)."""
    request = APIRequestFactory().get("/api/v1/cases/", HTTP_HOST=host)
    return {
        "request": request,
        "marketplace_codes": {m.pk: m.code for m in client.marketplaces.all()},
        "now": timezone.now(),
    }


def test_list_rows_equal_drf_rows(tmall_client, system_actor, agent):
    # given cases with and without assignee, deadlines, escalation, on two marketplaces
    plain = open_case("cancellation", actor=system_actor)
    claim = run(
        open_case("damaged_item", actor=system_actor, marketplace="amazon_fr"),
        ["request_evidence", "start_review"],
        system_actor,
    )
    case_assign(case=claim, assignee=agent, actor=system_actor, door=Door.COMMAND)
    escalated = run(open_case("wrong_item", actor=system_actor), ["escalate"], system_actor)
    client = tmall_client[0]
    context = drf_context(client, host="localhost")
    rows = list(case_list(marketplace_ids=client.marketplace_ids()).order_by("pk"))
    assert [c.pk for c in rows] == sorted([plain.pk, claim.pk, escalated.pk])
    # when
    fast = CaseSerializer(rows, many=True, context=context).data
    # then: the same keys in the same order, the same values
    for case, row in zip(rows, fast, strict=True):
        expected = drf_row(case, context)
        assert list(row) == list(expected)
        assert row == expected
    assert fast[0]["url"] == f"http://localhost/api/v1/cases/{rows[0].reference}/"
    assert any(row["assignee"] == agent.username for row in fast)
    assert any(row["escalated_at"] and row["escalated_at"].endswith("Z") for row in fast)


def test_marketplace_parameter_is_the_only_marketplace_condition(api, system_actor):
    open_case("cancellation", actor=system_actor)
    open_case("cancellation", actor=system_actor, marketplace="amazon_fr")
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/cases/?marketplace=tmall&state=new")
    assert response.status_code == 200, response.content
    assert [row["marketplace"] for row in response.json()["results"]] == ["tmall"]
    (page,) = [q["sql"] for q in captured if 'FROM "cases_case"' in q["sql"]]
    assert page.count('"marketplace_id" IN') == 1


def test_marketplace_parameter_outside_scope_is_refused(api, system_actor):
    response = api.get("/api/v1/cases/?marketplace=jd")
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "marketplace"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?marketplace=tmall&state=new&ordering=resolution_due_at",
        "?overdue=true&ordering=next_due_at",
        "?assignee={user}&ordering=next_due_at",
    ],
)
def test_list_queries_do_not_grow_with_page_size(api, system_actor, agent, query):
    for index in range(12):
        case = open_case("cancellation", actor=system_actor)
        if index % 2:
            case_assign(case=case, assignee=agent, actor=system_actor, door=Door.COMMAND)
    path = "/api/v1/cases/" + query.format(user=agent.username)
    joiner = "&" if "?" in path else "?"
    api.get(path)  # warm up: "last used" is written at most once a minute
    counts = []
    for size in (1, 10):
        with CaptureQueriesContext(connection) as captured:
            response = api.get(f"{path}{joiner}page_size={size}")
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) >= 1
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert counts[0] <= 3


def test_the_list_endpoint_writes_what_drf_would(api, tmall_client, system_actor, agent):
    # The list reads its page as plain values (CaseRowWriter.values_row): each row must still
    # be the one DRF's fields write from the case itself.
    plain = open_case("cancellation", actor=system_actor)
    claim = run(
        open_case("damaged_item", actor=system_actor, marketplace="amazon_fr"),
        ["request_evidence", "start_review"],
        system_actor,
    )
    case_assign(case=claim, assignee=agent, actor=system_actor, door=Door.COMMAND)
    escalated = run(open_case("wrong_item", actor=system_actor), ["escalate"], system_actor)

    response = api.get("/api/v1/cases/?ordering=opened_at")

    assert response.status_code == 200, response.content
    listed = response.json()["results"]
    client = tmall_client[0]
    context = drf_context(client, host="testserver")
    cases = {c.reference: c for c in case_list(marketplace_ids=client.marketplace_ids())}
    assert [row["reference"] for row in listed] == [
        c.reference for c in sorted((plain, claim, escalated), key=lambda c: (c.opened_at, c.pk))
    ]
    for row in listed:
        expected = drf_row(cases[row["reference"]], context)
        assert list(row) == list(expected)
        assert row == expected


def test_a_case_detail_written_by_the_kept_tree_equals_a_new_serializers(
    tmall_client, system_actor, agent
):
    # given cases with different parts: evidence requested and reviewed, a refund, none
    from concurrent.futures import ThreadPoolExecutor

    from django.utils import translation

    from api.serializers.cases import _KEPT as kept_serializers
    from api.serializers.cases import CaseDetailSerializer, case_detail_data
    from cases.events import RenderContext
    from cases.selectors import case_detail

    plain = open_case("cancellation", actor=system_actor)
    refunded = open_case(
        "cancellation", actor=system_actor, refund_request={"amount": "12.30", "currency": "CNY"}
    )
    claim = run(
        open_case("damaged_item", actor=system_actor, marketplace="amazon_fr"),
        ["request_evidence", "start_review"],
        system_actor,
    )
    case_assign(case=claim, assignee=agent, actor=system_actor, door=Door.COMMAND)
    add_photo(claim, system_actor)
    client = tmall_client[0]
    ids = client.marketplace_ids()

    cases = {
        r: case_detail(reference=r, marketplace_ids=ids)
        for r in (plain.reference, refunded.reference, claim.reference)
    }

    base = drf_context(client, host="localhost")  # read here: the thread below has no database

    def both(reference: str) -> tuple[dict, dict]:
        case = cases[reference]
        context = {
            **base,
            "actor": system_actor,
            "render_context": RenderContext(tz=case.marketplace.tz),
        }
        kept = case_detail_data(case, dict(context))
        # a new serializer, its nested ones (evidence, deadlines, transitions) new as well
        trees = kept_serializers.__dict__.get("trees", {})
        kept_serializers.__dict__["trees"] = {}
        try:
            new = dict(CaseDetailSerializer(case, context=dict(context)).data)
        finally:
            kept_serializers.__dict__["trees"] = trees
        return kept, new

    # when each is written in turn, again, in another thread and another language
    references = [plain.reference, refunded.reference, claim.reference, plain.reference]
    written = [both(reference) for reference in references]
    with ThreadPoolExecutor(max_workers=1) as pool:
        written += list(pool.map(both, references))
    with translation.override("zh-hans"):
        written += [both(reference) for reference in references]
    # then: what the kept tree writes is what a new serializer writes, case by case
    for kept, new in written:
        assert kept == new
        assert list(kept) == list(new)
    assert [kept["reference"] for kept, _new in written[:4]] == references
    assert written[1][0]["refund_requests"] and not written[0][0]["refund_requests"]
    assert written[2][0]["evidence_requests"] and written[2][0]["assignee"] == agent.username
    assert written[2][0]["evidence"] and written[2][0]["deadlines"]
    assert written[0][0]["available_transitions"] != written[2][0]["available_transitions"]
