"""One error shape everywhere under /api/: RFC 9457 problems, never HTML or a traceback."""

import pytest

from tests.api.test_auth import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/", "/api/v1/", "/api/v2/cases/", "/api/v1/cases/x/y/z/"])
def test_unknown_addresses_are_404_problems(api, path):
    for method in ("get", "post", "delete"):
        response = getattr(api, method)(path)
        body = assert_problem(response, 404, "not_found")
        assert "/api/docs/" in body["detail"]


def test_an_address_without_its_slash_reaches_the_endpoint(api):
    assert api.get("/api/v1/marketplaces").status_code == 200
    response = api.post(
        "/api/v1/orders",
        [{"marketplace": "tmall", "external_id": "A", "placed_at": "2026-01-01T00:00:00Z"}],
        format="json",
    )
    assert response.status_code == 200 and response.json()["created"] == 1


def test_method_not_allowed(api):
    assert_problem(api.put("/api/v1/cases/", {}, format="json"), 405, "method_not_allowed")
    assert_problem(api.delete("/api/v1/orders/"), 405, "method_not_allowed")


def test_wrong_content_type_and_malformed_json(api):
    assert_problem(
        api.post("/api/v1/orders/", "a,b", content_type="text/csv"), 415, "unsupported_media_type"
    )
    body = assert_problem(
        api.post("/api/v1/orders/", '[{"marketplace": ', content_type="application/json"),
        400,
        "parse_error",
    )
    assert "JSON" in body["detail"]


def test_json_only(api):
    assert_problem(api.get("/api/v1/marketplaces/", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_a_bug_is_a_500_problem_without_traceback(api, monkeypatch):
    def crash(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr("api.views.marketplaces.scorecard", crash)
    response = api.get("/api/v1/marketplaces/tmall/scorecard/")
    body = assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["instance"] == "/api/v1/marketplaces/tmall/scorecard/"


def test_problem_types_are_listed(client):
    listed = client.get("/api/problems/").json()
    codes = {entry["code"] for entry in listed}
    assert {"transition_not_available", "case_changed", "invalid", "throttled"} <= codes
    one = client.get("/api/problems/case_changed").json()
    assert one["type"] == "/api/problems/case_changed"
    assert client.get("/api/problems/nope").status_code == 404


def test_every_problem_code_is_a_member_of_the_one_enum():
    """Problem codes come from ``cases.errors.ErrorCode`` only: the HTTP layer's, the API
    exceptions' and every literal code given to ``Problem`` or ``problem_response``."""
    import ast
    from pathlib import Path

    from api.problems import _API_EXCEPTION_CODES, HTTP_CODES
    from cases.errors import ErrorCode

    vocabulary = {code.value for code in ErrorCode}
    used = {str(code) for code in HTTP_CODES} | set(_API_EXCEPTION_CODES.values())
    root = Path(__file__).resolve().parents[2]
    for path in [*(root / "api").rglob("*.py"), *(root / "intake").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", "") or getattr(node.func, "attr", "")
            if name == "Problem" and len(node.args) >= 2:
                code = node.args[1]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    used.add(code.value)
            for keyword in node.keywords:
                if (
                    name in {"Problem", "problem_response", "problem_data", "_django_problem"}
                    and keyword.arg == "code"
                    and isinstance(keyword.value, ast.Constant)
                ):
                    used.add(keyword.value.value)
    assert used - vocabulary == set()
