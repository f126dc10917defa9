"""Load a living demo: orders and cases of every kind in many states, with real evidence.

Idempotent: every demo order and case has a fixed external id; what exists is left alone, what
is missing is created. Everything goes through the services, as real work would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone

from cases import workflows
from cases.actors import Actor
from cases.choices import CLAIM_KINDS, CaseKind, Door, RefundDecision, RefundRejectionReason
from cases.demo_media import make_photo, make_video
from cases.errors import DomainError
from cases.models import Case
from cases.services import (
    case_available_transitions,
    case_open,
    case_transition,
    evidence_add,
    order_upsert,
    refund_decide,
)
from marketplaces.models import Marketplace

FIRST_NAMES = [
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Wang Fang",
    "Li Wei",
    "Zhang Min",
    "Emma",
    "Lucas",
    "Inès",
    "Chen Jing",
    "Nathan",
    "Camille",
    "Liu Yang",
    "Manon",
    "Sofia",
]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy"]
DESCRIPTIONS = {
    CaseKind.OUT_OF_STOCK: "Item out of stock at the supplier.",
    CaseKind.OVERSIZED: "Item too large for the carrier's limits.",
    CaseKind.LATE_SHIPMENT: "Order not shipped on the promised date.",
    CaseKind.CANCELLATION: "Customer cancelled before shipment.",
    CaseKind.CUSTOMS_DELAY: "Parcel held at customs.",
    CaseKind.WRONG_ITEM: "Customer received a different colour.",
    CaseKind.MISSING_ITEM: "One item missing from the parcel.",
    CaseKind.DAMAGED_ITEM: "Box crushed, item broken.",
    CaseKind.INTERCEPTION: "Wrong delivery address given.",
}
CURRENCY = {"tmall": "CNY", "tmall_global": "CNY", "jd": "CNY", "faire": "USD"}
LANGUAGE = {"tmall": "zh-hans", "tmall_global": "zh-hans", "jd": "zh-hans"}
# Transitions the walk takes rarely, so that most cases follow the main paths.
RARE = {
    "withdraw",
    "escalate",
    "supplier_unresponsive",
    "mark_returned",
    "reject",
    "mark_interception_failed",
    "platform_orders_refund",
}


def shortest_path(kind: str, target: str) -> list[str]:
    """Transition names leading from ``new`` to ``target`` in the kind's workflow (BFS)."""
    graph = workflows.kind_transitions(kind)
    paths: dict[str, list[str]] = {"new": []}
    queue = ["new"]
    while queue:
        state = queue.pop(0)
        for name, sources in graph.items():
            nxt = workflows.TRANSITIONS[name].target
            if state in sources and nxt not in paths:
                paths[nxt] = [*paths[state], name]
                queue.append(nxt)
    return paths[target]


class Command(BaseCommand):
    help = "Load demo orders and cases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        # One "Enqueued" line per background task would bury the summary.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        rng = random.Random(options["seed"])
        now = timezone.now()
        marketplaces = list(Marketplace.objects.filter(is_active=True).order_by("code"))
        agent, supervisor = self._staff()
        created = 0
        # The first cases take the shortest path to each state of each kind, so that every
        # state of every workflow can be seen; the rest take random walks.
        targets = [
            (kind, state) for kind in CaseKind for state in sorted(workflows.kind_states(kind))
        ]
        for index in range(options["cases"]):
            # Draw everything from the generator first so that a re-run sees the same values.
            marketplace = marketplaces[index % len(marketplaces)]
            kind = list(CaseKind)[rng.randrange(len(CaseKind))]
            opened_at = now - dt.timedelta(minutes=rng.randint(30, 60 * 24 * 45))
            path = None
            if index < len(targets):
                kind, target = targets[index]
                path = shortest_path(kind, target)
                opened_at = now - dt.timedelta(days=10 + index % 20, hours=index % 7)
            steps = rng.randint(0, 6)
            walk_seed = rng.random()
            external_id = f"DEMO-{index:05d}"
            if Case.objects.filter(marketplace=marketplace, external_id=external_id).exists():
                continue
            order = self._order(
                marketplace, index, kind, opened_at, random.Random(walk_seed), path is not None
            )
            actor = Actor.for_user(supervisor if index % 3 == 0 or path else agent)
            case, _ = case_open(
                marketplace=marketplace,
                order=order,
                kind=kind,
                opened_at=opened_at,
                external_id=external_id,
                description=DESCRIPTIONS[kind],
                assignee=agent if index % 4 else None,
                actor=actor,
                door=Door.COMMAND,
                refund_request=self._refund(kind, order, opened_at),
            )
            if path is not None:
                self._follow(case, path, actor, now, index)
            else:
                self._walk(case, steps, random.Random(walk_seed), actor, now, index)
            created += 1
        total = Case.objects.filter(external_id__startswith="DEMO-").count()
        self.stdout.write(f"Demo data: {created} cases created, {total} demo cases in all.")

    def _staff(self):
        users = get_user_model()
        agent, _ = users.objects.get_or_create(
            username="lea.martin",
            defaults={
                "first_name": "Léa",
                "last_name": "Martin",
                "is_staff": True,
                "email": "lea.martin@example.com",
            },
        )
        supervisor, made = users.objects.get_or_create(
            username="wang.fang",
            defaults={
                "first_name": "Fang",
                "last_name": "Wang",
                "is_staff": True,
                "email": "wang.fang@example.com",
            },
        )
        if made:
            supervisor.set_unusable_password()
            supervisor.save()
            codenames = [
                p.split(".")[1]
                for p in (
                    workflows.SUPERVISE_REJECT_CLAIM,
                    workflows.SUPERVISE_WITHDRAW,
                    workflows.SUPERVISE_PLATFORM_RULING,
                    workflows.SUPERVISE_REJECT_REFUND,
                )
            ]
            supervisor.user_permissions.add(
                *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
            )
        return agent, users.objects.get(pk=supervisor.pk)

    def _order(self, marketplace, index, kind, opened_at, rng, scripted):
        placed_at = opened_at - dt.timedelta(hours=rng.randint(2, 24 * 6))
        promised = (placed_at + dt.timedelta(days=2)).date()
        shipped = kind in {CaseKind.CUSTOMS_DELAY, CaseKind.INTERCEPTION} | CLAIM_KINDS
        if kind == CaseKind.LATE_SHIPMENT:
            promised = (opened_at - dt.timedelta(days=rng.randint(1, 3))).date()
        international = kind == CaseKind.CUSTOMS_DELAY or (
            kind == CaseKind.INTERCEPTION and not scripted and rng.random() < 0.25
        )
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        return order_upsert(
            marketplace=marketplace,
            external_id=f"DEMO-{marketplace.code.upper()}-{index:05d}",
            customer_name=name,
            customer_email=f"customer{index}@example.com",
            customer_language=LANGUAGE.get(marketplace.code, "fr"),
            placed_at=placed_at,
            promised_ship_date=promised,
            shipped_at=placed_at + dt.timedelta(days=1) if shipped else None,
            destination_country="US" if international else marketplace.calendar_country,
            shipping_scope="international" if international else "domestic",
            total=Decimal(rng.randint(1500, 45000)) / 100,
            currency=CURRENCY.get(marketplace.code, "EUR"),
        )[0]

    def _refund(self, kind, order, opened_at):
        if kind not in CLAIM_KINDS | {CaseKind.CANCELLATION, CaseKind.OUT_OF_STOCK}:
            return None
        return {"amount": order.total, "currency": order.currency, "requested_at": opened_at}

    def _walk(self, case, steps, rng, actor, now, index):
        at = case.opened_at
        for step in range(steps):
            at = at + dt.timedelta(minutes=rng.randint(20, 60 * 30))
            if at >= now:
                return
            if case.state == "awaiting_evidence" and not case.evidence.exists():
                self._evidence(case, rng, actor, at, index)
            options = case_available_transitions(case, actor, at=at)
            if not options:
                return
            common = [o for o in options if o.name not in RARE]
            pool = options if (not common or rng.random() < 0.12) else common
            choice = rng.choice(pool)
            if (
                case.state == "under_review"
                and case.refund_requests.filter(decision="").exists()
                and rng.random() < 0.3
            ):
                refund = case.refund_requests.filter(decision="").first()
                with contextlib.suppress(DomainError):  # e.g. an agent may not reject
                    refund_decide(
                        refund_request=refund,
                        decision=RefundDecision.REJECTED,
                        reason_code=rng.choice(RefundRejectionReason.values[:4]),
                        actor=actor,
                        door=Door.COMMAND,
                        decided_at=at,
                    )
                continue
            try:
                case = case_transition(
                    case=case,
                    transition=choice.name,
                    actor=actor,
                    door=Door.COMMAND,
                    occurred_at=at,
                    reason="Demo: reason given by the agent." if choice.requires_reason else "",
                    note=f"Demo step {step + 1}.",
                )
            except DomainError:
                return

    def _follow(self, case, path, actor, now, index):
        at = case.opened_at
        for name in path:
            at = at + dt.timedelta(hours=5)
            if name == "contact_supplier":
                at = max(at, case.order.late_since(2) + dt.timedelta(hours=1))
            elif name == "switch_supplier":
                at = max(at, case.order.late_since(4) + dt.timedelta(hours=1))
            if at >= now:
                return
            if name == "start_review" and not case.evidence.exists():
                self._evidence(case, random.Random(index), actor, at, index)
            try:
                case = case_transition(
                    case=case,
                    transition=name,
                    actor=actor,
                    door=Door.COMMAND,
                    occurred_at=at,
                    reason="Demo: reason given by the supervisor."
                    if workflows.TRANSITIONS[name].requires_reason
                    else "",
                )
            except DomainError as error:
                self.stderr.write(f"{case.reference}: {error}")
                return

    def _evidence(self, case, rng, actor, at, index):
        photo = make_photo(f"{case.reference} #{index}", seed=index, size=(480, 360))
        evidence_add(
            case=case,
            upload=SimpleUploadedFile(f"photo_{index}.jpg", photo),
            source="customer",
            actor=actor,
            door=Door.COMMAND,
            uploaded_at=at,
        )
        if rng.random() < 0.3:
            video = make_video(seconds=1.5, seed=index)
            evidence_add(
                case=case,
                upload=SimpleUploadedFile(f"unboxing_{index}.mp4", video),
                source="customer",
                actor=actor,
                door=Door.COMMAND,
                uploaded_at=at,
            )
