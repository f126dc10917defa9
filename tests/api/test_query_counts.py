"""Every list answer costs a fixed number of queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import WebhookSubscription
from cases.services import evidence_request_create, refund_request_create
from tests.factories import add_photo, open_case, run

pytestmark = pytest.mark.django_db


def queries(api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


def grow(case, client, actor, rows: int) -> None:
    for seed in range(rows):
        add_photo(case, actor, seed=1000 + seed + 100 * case.pk)
        evidence_request_create(case=case, actor=actor, door="command")
        refund_request_create(case=case, amount="5", currency="CNY", actor=actor, door="command")
        WebhookSubscription.objects.create(
            client=client, url=f"https://example.com/{seed}", event_types=["*"]
        )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/{ref}/evidence/",
        "/api/v1/cases/{ref}/evidence-requests/",
        "/api/v1/cases/{ref}/refund-requests/",
        "/api/v1/cases/{ref}/transitions/",
        "/api/v1/marketplaces/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{hook}/deliveries/",
    ],
)
def test_list_endpoints_do_not_grow_with_rows(api, tmall_client, system_actor, path):
    few = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    many = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    grow(few, tmall_client[0], system_actor, 1)
    hook = WebhookSubscription.objects.filter(client=tmall_client[0]).first()
    open_case("cancellation", actor=system_actor)  # an event: a delivery per subscription
    api.get("/api/v1/marketplaces/")  # warm up: "last used" is written at most once a minute
    first = queries(api, path.format(ref=few.reference, hook=hook.pk))
    grow(many, tmall_client[0], system_actor, 5)
    for _ in range(3):
        open_case("cancellation", actor=system_actor)  # more deliveries
    second = queries(api, path.format(ref=many.reference, hook=hook.pk))
    assert first == second
    assert first <= 6
