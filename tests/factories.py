"""Test data made through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import workflows
from cases.actors import Actor
from cases.choices import Door
from cases.demo_media import make_photo
from cases.models import Case
from cases.services import case_open, case_transition, evidence_add, order_upsert
from marketplaces.models import Marketplace

_numbers = itertools.count(1)


def make_order(marketplace: str | Marketplace = "tmall", **fields) -> object:
    if isinstance(marketplace, str):
        marketplace = Marketplace.objects.get(code=marketplace)
    number = next(_numbers)
    external_id = fields.pop("external_id", f"O-{number}")
    defaults = {
        "customer_name": "Li Wei",
        "customer_email": f"customer{number}@example.com",
        "customer_language": "en",
        "placed_at": timezone.now() - dt.timedelta(days=60),
        "promised_ship_date": (timezone.now() - dt.timedelta(days=50)).date(),
        "shipping_scope": "domestic",
        "total": Decimal("120.00"),
        "currency": "CNY",
    }
    defaults.update(fields)
    order, _ = order_upsert(marketplace=marketplace, external_id=external_id, **defaults)
    return order


def open_case(
    kind: str,
    *,
    actor: Actor,
    marketplace: str = "tmall",
    opened_at: dt.datetime | None = None,
    order=None,
    **kwargs,
) -> Case:
    order = order or make_order(marketplace)
    case, _ = case_open(
        marketplace=order.marketplace,
        order=order,
        kind=kind,
        actor=actor,
        door=Door.COMMAND,
        opened_at=opened_at or timezone.now() - dt.timedelta(days=40),
        **kwargs,
    )
    return case


def add_photo(case: Case, actor: Actor, *, seed: int | None = None, at=None) -> object:
    seed = next(_numbers) if seed is None else seed
    data = make_photo(f"{case.reference}-{seed}", seed=seed, size=(64, 48))
    return evidence_add(
        case=case,
        upload=SimpleUploadedFile(f"photo{seed}.jpg", data),
        source="customer",
        actor=actor,
        door=Door.FORM,
        uploaded_at=at,
    ).evidence


def shortest_paths(kind: str) -> dict[str, list[str]]:
    """For every state of the kind, the shortest list of transitions from ``new``."""
    graph = workflows.kind_transitions(kind)
    paths: dict[str, list[str]] = {"new": []}
    queue = ["new"]
    while queue:
        state = queue.pop(0)
        for name in sorted(graph):
            target = workflows.TRANSITIONS[name].target.value
            if state in graph[name] and target not in paths:
                paths[target] = [*paths[state], name]
                queue.append(target)
    return paths


def run(
    case: Case,
    names: list[str],
    actor: Actor,
    *,
    start: dt.datetime | None = None,
    step=dt.timedelta(hours=1),
) -> Case:
    """Run transitions one after the other, adding a photo before a review."""
    at = start or (case.last_transition_at or case.opened_at)
    for name in names:
        at = at + step
        if name == "start_review" and not case.has_valid_evidence():
            add_photo(case, actor, at=at)
        reason = "because the test says so" if workflows.TRANSITIONS[name].requires_reason else ""
        case = case_transition(
            case=case,
            transition=name,
            actor=actor,
            door=Door.COMMAND,
            occurred_at=at,
            reason=reason,
        )
    return case
