"""Upload links: signed, unguessable, bound to one case and one evidence request, expiring,
revocable.

A link is ``/e/<token>/``. The token is the request's id, its case's id and the request's random
``token_nonce``, signed with ``SECRET_KEY`` and a salt used for nothing else. Nothing in it can be
changed without breaking the signature, and the nonce makes a link unguessable even for someone
who knows the ids. Everything that can change after the link is given out (revocation, deadline,
case closed) is read from the database on every visit, so:

* revoking the request (``evidence_request_revoke``) kills the link at once (410);
* the link expires ``INTAKE_LINK_GRACE`` (default 3 days) after the request's ``due_at``: a
  customer who answers a little late is still heard (staff see the deadline as missed), but a link
  found in an old e-mail months later shows "expired" (410); moving ``due_at`` moves the expiry;
* a closed or withdrawn case no longer takes evidence (410);
* a tampered token, or one whose request or case does not match, is "not found" (404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import Audience
from cases.models import EvidenceRequest

SALT = "aftersales.intake.upload-link.v1"


class LinkError(Exception):
    """The link cannot be used. ``status`` is the HTTP status the visitor gets (404 or 410);
    ``code`` is for programs, ``message`` for the visitor (translated lazily)."""

    status = 404
    code = "link_invalid"
    message: Any = _("This link is not valid. Check that you copied all of it.")
    # The language to explain it in when known (the customer's, for a real but gone link).
    language: str | None = None

    def __init__(self, message: Any = None, *, language: str | None = None) -> None:
        if message is not None:
            self.message = message
        self.language = language
        super().__init__(str(self.message))


class LinkInvalid(LinkError):
    """Tampered, truncated or unknown: we do not say which (404)."""


class LinkGone(LinkError):
    """The link was real but can no longer be used (410)."""

    status = 410
    code = "link_gone"


class LinkExpired(LinkGone):
    code = "link_expired"
    message = _(
        "This link has expired. If you still need to send photos or videos, reply to the "
        "message that gave you the link and ask for a new one."
    )


class LinkRevoked(LinkGone):
    code = "link_revoked"
    message = _(
        "This link has been withdrawn by our support team. If you still need to send photos or "
        "videos, reply to the message that gave you the link."
    )


class LinkCaseClosed(LinkGone):
    code = "link_case_closed"
    message = _("This request is closed and no longer takes photos or videos. Thank you.")


def link_grace() -> dt.timedelta:
    grace: dt.timedelta = settings.INTAKE_LINK_GRACE
    return grace


def link_expires_at(evidence_request: EvidenceRequest) -> dt.datetime:
    """When the request's link stops working."""
    return evidence_request.due_at + link_grace()


def make_token(evidence_request: EvidenceRequest) -> str:
    """The signed token of the request's link."""
    if not evidence_request.token_nonce:
        # Requests are always made with a nonce by ``evidence_request_create``; refusing here
        # keeps a hand-made row from yielding a guessable link.
        raise ValueError("This evidence request has no token nonce; create it with the service.")
    payload = [evidence_request.pk, evidence_request.case_id, evidence_request.token_nonce]
    return signing.Signer(salt=SALT).sign_object(payload, compress=False)


def upload_url(evidence_request: EvidenceRequest) -> str:
    """The path of the request's upload form (``/e/<token>/``); prefix it with the site's
    origin (``request.build_absolute_uri``) for an absolute link."""
    return reverse("intake:upload", args=[make_token(evidence_request)])


def _unsign(token: str) -> tuple[int, int, str]:
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise LinkInvalid() from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], int)
        or not isinstance(payload[2], str)
    ):
        raise LinkInvalid()
    return payload[0], payload[1], payload[2]


def resolve_token(token: str, *, at: dt.datetime | None = None) -> EvidenceRequest:
    """The evidence request a token opens, with its case, order and marketplace loaded.

    Raises ``LinkInvalid`` (404: tampered, unknown, wrong case, rotated nonce), ``LinkRevoked``,
    ``LinkExpired`` or ``LinkCaseClosed`` (410).
    """
    request_id, case_id, nonce = _unsign(token)
    evidence_request = (
        EvidenceRequest.objects.select_related("case__order", "case__marketplace")
        .filter(pk=request_id, case_id=case_id)
        .first()
    )
    if evidence_request is None or not _same(evidence_request.token_nonce, nonce):
        raise LinkInvalid()
    language = (
        evidence_request.case.order.customer_language
        if evidence_request.audience == Audience.CUSTOMER
        else None
    )
    if evidence_request.revoked_at is not None:
        raise LinkRevoked(language=language)
    if (at or timezone.now()) > link_expires_at(evidence_request):
        raise LinkExpired(language=language)
    if not evidence_request.case.is_open:
        raise LinkCaseClosed(language=language)
    return evidence_request


def _same(a: str, b: str) -> bool:
    from django.utils.crypto import constant_time_compare

    return bool(a) and constant_time_compare(a, b)
