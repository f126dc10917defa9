"""E-mails to the customer about an evidence request, in the customer's language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cases.models import EvidenceRequest
from cases.services.evidence_requests import MESSAGE_REMINDER, checklist_progress

from .links import upload_url


def public_url(path: str) -> str:
    """An absolute URL for a path, from ``INTAKE_PUBLIC_URL`` (e-mails have no request)."""
    return settings.INTAKE_PUBLIC_URL.rstrip("/") + path


def compose(evidence_request: EvidenceRequest, kind: str) -> EmailMessage:
    """The message of ``kind`` (link or reminder) for the request's customer."""
    case = evidence_request.case
    order = case.order
    language = order.customer_language
    with translation.override(language):
        missing = [
            translation.gettext(entry.label)
            for entry in checklist_progress(evidence_request)
            if entry.required and not entry.done
        ]
        context = {
            "case_reference": case.reference,
            "order_number": order.external_id,
            "marketplace_name": case.marketplace.name,
            "customer_name": order.customer_name,
            "url": public_url(upload_url(evidence_request)) + f"?lang={language}",
            "due_local": timezone.localtime(evidence_request.due_at, case.marketplace.tz),
            "due_tz": case.marketplace.tz,
            "message": evidence_request.message,
            "items": [
                translation.gettext(item.get("label", "")) for item in evidence_request.checklist
            ],
            "missing": missing,
        }
        name = "reminder" if kind == MESSAGE_REMINDER else "link"
        subject = render_to_string(f"intake/email/{name}_subject.txt", context)
        body = render_to_string(f"intake/email/{name}.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer_email],
        headers={"Content-Language": language, "Auto-Submitted": "auto-generated"},
    )


def sender(kind: str) -> Callable[[EvidenceRequest], str]:
    """The ``send`` callable ``evidence_request_send_message`` expects."""

    def send(evidence_request: EvidenceRequest) -> str:
        message = compose(evidence_request, kind)
        message.send(fail_silently=False)
        return message.to[0]

    return send
