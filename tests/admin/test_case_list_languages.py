"""The new words of the case list, the case page and the return requests in French and
Chinese."""

from __future__ import annotations

import pytest

from tests.factories import open_case

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["priorité", "client", "prochaine échéance", "ouvert entre", "Par page :"]),
        ("zh-hans", ["优先级", "客户", "下一截止时间", "创建时间范围", "每页："]),
    ],
)
def test_case_list_in_each_language(agent_client, language, expected):
    open_case("cancellation", actor=SYSTEM)
    html = agent_client.get("/admin/cases/case/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in expected:  # column headers are capitalised
        assert text.lower() in html.lower(), text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Dossier suivant", "Réponses attendues", "Demandes de retour en attente"]),
        ("zh-hans", ["下一个工单", "待答复", "待答复的退货请求"]),
    ],
)
def test_case_page_and_home_in_each_language(agent_client, language, expected):
    case = open_case("cancellation", actor=SYSTEM)
    page = agent_client.get(f"/admin/cases/case/{case.pk}/change/", HTTP_ACCEPT_LANGUAGE=language)
    home = agent_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode() + home.content.decode()
    for text in expected:
        assert text in html, text
