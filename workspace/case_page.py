"""What the case page shows: deadlines, the transitions this user can run now, the evidence
gallery, the evidence requests and their links, the refund requests, and the timeline.

A fixed number of queries whatever the number of files, requests, refunds and events
(asserted in ``tests/admin/test_queries.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from cases import workflows
from cases.actors import Actor
from cases.choices import ReviewStatus
from cases.errors import TransitionOption
from cases.models import CUSTOMER_LANGUAGES, Case, Evidence, EvidenceRequest, RefundRequest
from cases.services import case_available_transitions

from .forms import RefundRequestForm
from .timeline import case_timeline
from .urgency import running_deadline_badges
from .whatif import approval_what_if, rejection_what_if

# Transitions that count against the seller or end a dispute: drawn apart, in red.
GRAVE_TRANSITIONS = {"reject", "withdraw", "platform_upholds", "platform_orders_refund"}


@dataclass(frozen=True)
class TransitionButton:
    option: TransitionOption
    permission: str | None

    @property
    def name(self) -> str:
        return self.option.name

    @property
    def grave(self) -> bool:
        return self.option.name in GRAVE_TRANSITIONS

    @property
    def asks_reason_code(self) -> bool:
        # Rejecting a claim rejects its open refund requests, which need a reason code.
        return self.option.name == "reject"

    @property
    def supervisor_only(self) -> bool:
        return self.permission is not None


@dataclass
class EvidenceRequestRow:
    request: EvidenceRequest
    link: str
    status: str
    status_label: str
    files: int


@dataclass
class RefundRow:
    refund: RefundRequest
    can_decide: bool
    can_reject: bool
    what_if: Any = None
    # Approving: the rate before and after, where the marketplace scores it.
    approve_what_if: Any = None


@dataclass
class CasePage:
    case: Case
    badges: list[Any]
    transitions: list[TransitionButton]
    evidence: list[Evidence]
    evidence_requests: list[EvidenceRequestRow]
    refunds: list[RefundRow]
    timeline: list[Any]
    perms: dict[str, bool]
    refund_form: Any = None
    stats: dict[str, int] = field(default_factory=dict)
    # Rejecting the claim rejects its undecided refund requests: the rate before and after.
    claim_what_if: Any = None
    # Now in the marketplace's time zone, as a datetime-local value (the forms' upper bound).
    local_now: str = ""
    # The dispute pack's languages, the customer's first chosen (what the platform reads best
    # is the agent's call).
    pack_languages: list[tuple[str, str]] = field(default_factory=list)
    pack_language: str = "en"


def _request_status(request: EvidenceRequest, now: Any) -> tuple[str, str]:
    """(status, label): revoked, fulfilled, expired (the link no longer opens), overdue (past
    its deadline, the link still open for the intake's grace period) or active."""
    from django.utils.translation import gettext as _

    from intake.links import link_expires_at

    if request.revoked_at is not None:
        return "revoked", _("Revoked")
    if request.fulfilled_at is not None:
        return "fulfilled", _("Received")
    if link_expires_at(request) < now:
        return "expired", _("Link expired")
    if request.due_at < now:
        return "overdue", _("Past due")
    return "active", _("Waiting")


def user_case_perms(user: Any) -> dict[str, bool]:
    """What the user may do on a case page (an agent never sees a button it cannot use)."""
    return {
        "change_case": user.has_perm("cases.change_case"),
        "add_evidence": user.has_perm("cases.add_evidence"),
        "review_evidence": user.has_perm("cases.change_evidence"),
        "request_evidence": user.has_perm("cases.add_evidencerequest"),
        "revoke_request": user.has_perm("cases.change_evidencerequest"),
        "add_refund": user.has_perm("cases.add_refundrequest"),
        "decide_refund": user.has_perm("cases.change_refundrequest"),
        "reject_refund": user.has_perm(workflows.SUPERVISE_REJECT_REFUND),
        "view_events": user.has_perm("cases.view_caseevent"),
    }


def case_page(request: Any, case: Case) -> CasePage:
    """Everything the case page shows for ``request.user``."""
    from intake.links import upload_url

    now = timezone.now()
    user = request.user
    perms = user_case_perms(user)
    transitions: list[TransitionButton] = []
    if perms["change_case"]:
        for option in case_available_transitions(case, Actor.for_user(user), at=now):
            spec = workflows.TRANSITIONS[option.name]
            transitions.append(TransitionButton(option, spec.permission))

    evidence = list(
        Evidence.objects.filter(case=case)
        .select_related("uploaded_by", "reviewed_by", "request")
        .order_by("uploaded_at", "pk")
    )
    requests = []
    for item in (
        EvidenceRequest.objects.filter(case=case)
        .select_related("created_by")
        .annotate(files=Count("evidence"))
        .order_by("-created_at", "-pk")
    ):
        status, label = _request_status(item, now)
        link = request.build_absolute_uri(upload_url(item)) if item.token_nonce else ""
        requests.append(EvidenceRequestRow(item, link, status, label, item.files))

    refunds = list(RefundRequest.objects.filter(case=case).order_by("requested_at", "pk"))
    undecided = [refund for refund in refunds if not refund.decision]
    # One figure serves every undecided request: rejecting any one of them adds one rejection.
    what_if = None
    if undecided and perms["reject_refund"]:
        what_if = rejection_what_if(refund_request=undecided[0], at=now)
    claim_what_if = None
    if undecided and any(button.asks_reason_code for button in transitions):
        claim_what_if = rejection_what_if(case=case, at=now)
    # One figure serves every undecided request too: approving any one adds one decision.
    approve_what_if = None
    if undecided and perms["decide_refund"]:
        approve_what_if = approval_what_if(refund_request=undecided[0], at=now)
    refund_rows = [
        RefundRow(
            refund,
            can_decide=perms["decide_refund"] and not refund.decision,
            can_reject=perms["reject_refund"] and not refund.decision,
            what_if=what_if if not refund.decision else None,
            approve_what_if=approve_what_if if not refund.decision else None,
        )
        for refund in refunds
    ]
    timeline = case_timeline(
        case,
        evidence_names={item.pk: item.original_name for item in evidence},
        refunds={refund.pk: refund for refund in refunds},
    )
    stats = {
        "evidence_pending": sum(1 for e in evidence if e.review_status == ReviewStatus.PENDING),
        "evidence_accepted": sum(1 for e in evidence if e.review_status == ReviewStatus.ACCEPTED),
        "evidence_rejected": sum(1 for e in evidence if e.review_status == ReviewStatus.REJECTED),
        "refunds_undecided": len(undecided),
    }
    return CasePage(
        case=case,
        badges=running_deadline_badges(case, at=now),
        transitions=transitions,
        evidence=evidence,
        evidence_requests=requests,
        refunds=refund_rows,
        timeline=timeline,
        perms=perms,
        refund_form=RefundRequestForm(initial={"currency": case.order.currency}),
        stats=stats,
        claim_what_if=claim_what_if,
        local_now=timezone.localtime(now, case.marketplace.tz).strftime("%Y-%m-%dT%H:%M"),
        pack_languages=list(CUSTOMER_LANGUAGES),
        pack_language=case.order.customer_language or "en",
    )
