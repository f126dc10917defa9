"""The OpenAPI schema is valid and documents every error answer; the docs are served with no
CDN; Schemathesis drives the live server from the schema: no 5xx, answers match the schema."""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import make_client

SCHEMA_URL = "/api/schema/?format=json"


@pytest.fixture
def openapi(client, db) -> dict:
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def test_schema_validates(openapi):
    from drf_spectacular.validation import validate_schema

    validate_schema(openapi)
    assert openapi["openapi"].startswith("3.")
    assert "Idempotency-Key" in openapi["info"]["description"]
    assert openapi["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"


def test_every_operation_documents_its_problems(openapi):
    operations = [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]
    assert len(operations) >= 25
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("401", "404", "429", "500"):
            content = responses[status]["content"]
            assert list(content) == ["application/problem+json"], (path, method, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
        if method == "post":
            assert "422" in responses and "400" in responses, (path, method)
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "Idempotency-Key" in names, path
        if method != "get" and path.startswith("/api/v1/cases/{reference}/"):
            assert "409" in responses, (path, method)
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])


def test_case_detail_documents_what_integrations_rely_on(openapi):
    detail = openapi["components"]["schemas"]["CaseDetail"]["properties"]
    for name in (
        "state",
        "version",
        "available_transitions",
        "resolution_due_at",
        "evidence_due_at",
        "response_due_at",
        "evidence",
        "refund_requests",
        "history",
    ):
        assert name in detail


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_nothing_from_elsewhere(client, db, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "fonts.googleapis" not in html and "cdn." not in html
    assets = re.findall(r"""(?:src|href)="(/[^"]+)""", html)
    assert assets, "the readers are served from this server (drf-spectacular-sidecar)"
    from django.contrib.staticfiles import finders

    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
        else:  # ReDoc's bundle, served without its CDN logo
            assert asset == "/api/redoc/redoc.standalone.js", asset
            bundle = client.get(asset)
            assert bundle.status_code == 200
            assert b"Redoc" in bundle.content and b"cdn.redoc.ly" not in bundle.content


# -- Schemathesis against the live server ---------------------------------------------------------


CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def seed_data() -> dict[str, list]:
    """Cases in several states, evidence, requests, refunds, a webhook subscription: so that the
    generated requests reach real rows, not only 404s."""
    from cases.actors import Actor
    from cases.models import Evidence, EvidenceRequest
    from tests.factories import add_photo, open_case, run

    actor = Actor.system("seed")
    claim = run(open_case("damaged_item", actor=actor), ["request_evidence"], actor)
    add_photo(claim, actor)
    review = run(open_case("wrong_item", actor=actor), ["request_evidence", "start_review"], actor)
    refund = open_case(
        "cancellation", actor=actor, refund_request={"amount": "12.00", "currency": "CNY"}
    )
    closed = run(
        open_case("oversized", actor=actor), ["request_refund", "mark_refunded", "close"], actor
    )
    amazon = open_case("late_shipment", actor=actor, marketplace="amazon_fr")
    cases = [claim, review, refund, closed, amazon]
    return {
        "reference": [c.reference for c in cases] + ["AS-2026-999999"],
        "code": ["tmall", "amazon_fr", "jd"],
        "evidence_id": [*list(Evidence.objects.values_list("pk", flat=True)), 999999],
        "request_id": [*list(EvidenceRequest.objects.values_list("pk", flat=True)), 999999],
    }


# Generated requests per operation and mode: about 50 operations and two modes, more than 2,000
# requests in all (the test asserts the count; AFTERSALES_SCHEMATHESIS_EXAMPLES for a quick look).
EXAMPLES = int(os.environ.get("AFTERSALES_SCHEMATHESIS_EXAMPLES", "25"))
MIN_REQUESTS = 2000 if EXAMPLES >= 25 else 0

# Refusals that depend on the data, the clock or the client, which no schema can state: a
# schema-valid request may get them (a reference to a row that is not there, a transition the
# case's kind lacks, a file whose bytes are not a photo...). Any other 400/422 answer to a
# schema-valid request means the schema hides a rule of the server.
DATA_RULE_CODES = {
    "not_found",
    "does_not_exist",
    "not_yours",
    "transition_unknown",
    "transition_not_available",
    "condition_failed",
    "reason_required",
    "rejection_reason_required",
    "occurred_in_future",
    "occurred_before_previous",
    "order_of_other_marketplace",
    "opened_before_order",
    "duplicate",
    "case_closed",
    "case_changed",
    "refund_already_decided",
    "invalid_amount",
    "return_already_answered",
    "placeholder_missing",
    "attachments_refused",
    "seller_may_not_write_first",
    "outbound_already_sent",
    "outbound_not_failed",
    "idempotency_key_reused",
    "conflict",
    # the file's bytes (generated as random binary)
    "empty_file",
    "file_too_large",
    "unsupported_type",
    "type_mismatch",
    "corrupt_image",
    "too_many_pixels",
    "corrupt_video",
    "no_video_stream",
    "video_too_long",
}
# An opaque token the server issued ("use the next link as it is").
DATA_RULE_PARAMETERS = {"cursor"}
# Bounds relative to the clock (an evidence deadline: in the future, at most a year ahead).
DATA_RULE_FIELDS = {("due_at", "invalid_value")}


@schemathesis.check
def schema_valid_request_accepted(ctx, response, case):
    """Schemathesis's ``positive_data_acceptance``, less the refusals of ``DATA_RULE_CODES``."""
    from schemathesis.specs.openapi import checks as openapi_checks

    if response.status_code in {400, 422}:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = {}
        errors = body.get("errors") or [{"code": body.get("code")}]
        if all(
            e.get("code") in DATA_RULE_CODES
            or e.get("parameter") in DATA_RULE_PARAMETERS
            or (e.get("field"), e.get("code")) in DATA_RULE_FIELDS
            for e in errors
        ):
            return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


def hypothesis_test(operation, mode, real_values, headers, checks, statuses, sent):
    """One Hypothesis test of one operation: call it, run the checks, note the status."""
    from hypothesis import given

    @given(case=operation.as_strategy(generation_mode=mode), chosen=real_values)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, chosen) -> None:
        for name, value in chosen.items():
            if value is not None:
                case.path_parameters[name] = value
        # the client's key, not a generated value for the Authorization header
        case.headers = {**(case.headers or {}), **headers}
        sent.append(1)
        response = case.call_and_validate(checks=checks)
        statuses.setdefault(operation.label, set()).add(response.status_code)

    return run


@pytest.mark.slow
def test_api_conforms_to_its_schema(db):
    """Schemathesis drives every operation through the WSGI application (the same code as the
    server, without a socket), with the client's key: valid requests (path parameters drawn
    from real rows, and one unknown each) must be accepted and schema-violating ones refused,
    every answer documented, never a 5xx."""
    # Schemathesis's pytest loader does not run under pytest 9 (it sets a private node id), so
    # the operations are driven here, each by Hypothesis, with the same checks.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from aftersales.wsgi import application
    from api.models import WebhookSubscription

    # With every right, so that the generated bodies reach the personal-data services too.
    client, key = make_client(
        "schemathesis",
        ["tmall", "amazon_fr"],
        throttle_rate="100000/min",
        may_handle_personal_data=True,
    )
    real = seed_data()
    subscription = WebhookSubscription.objects.create(
        client=client, url="http://127.0.0.1:9/hook", event_types=["*"]
    )
    real["id"] = [subscription.pk, 999999]
    real["delivery_id"] = [999999]
    # The WSGI application closes the database connection at the end of each request (Django's
    # close_old_connections), which would close the test's transaction on PostgreSQL: Django's
    # test client keeps it open the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        failures, statuses, sent = drive(application, key, real)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    print(
        f"schemathesis: {len(sent)} requests, {len(statuses)} operations, {len(failures)} failures"
    )
    assert len(statuses) >= 25
    assert not failures, "\n\n".join(failures)
    assert len(sent) >= MIN_REQUESTS
    # the real rows were reached, not only 404s
    assert 200 in statuses["GET /api/v1/cases/{reference}/"]
    assert 200 in statuses["GET /api/v1/cases/{reference}/evidence/{evidence_id}/file/"]
    assert 200 in statuses["GET /api/v1/marketplaces/{code}/scorecard/"]


def drive(application, key, real):
    """Every operation in both modes: the failures, the statuses met, one item per request."""
    from hypothesis import strategies as st
    from schemathesis import checks as core_checks
    from schemathesis.specs.openapi import checks as openapi_checks

    loaded = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
    selected = [getattr(core_checks, n, None) or getattr(openapi_checks, n) for n in CHECKS]
    # A request the schema calls valid must not be refused as malformed (400/422): every
    # format, bound and rule the server checks on the shape of a request is in the schema.
    accepting = [*selected, schema_valid_request_accepted]
    headers = {"Authorization": f"Token {key}"}
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    sent: list[int] = []
    # (Schemathesis's negative_data_rejection is not used: it counts unknown query parameters,
    # which the API ignores on purpose so that clients can send later versions' parameters.)
    passes = [
        (schemathesis.GenerationMode.POSITIVE, True, accepting),
        (schemathesis.GenerationMode.NEGATIVE, False, selected),
    ]
    for mode, use_real, checks in passes:
        for result in loaded.get_all_operations():
            operation = result.ok()
            names = [p.name for p in operation.path_parameters] if use_real else []
            real_values = st.fixed_dictionaries(
                {name: st.sampled_from(real[name]) for name in names}
            )

            run = hypothesis_test(operation, mode, real_values, headers, checks, statuses, sent)
            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # collect every failure, report all
                failures.append(f"{mode.value} {operation.label}: {error}"[:3000])
    return failures, statuses, sent
