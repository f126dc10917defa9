"""Upload links for replies: the ``{{ upload_link }}`` placeholder of the answer templates
(``messaging.templates``).

Messaging and intake are siblings and do not import each other: the layer above (the
workspace composer, the API) passes ``upload_link_maker(actor=..., door=...)`` to
``messaging.services.template_fill`` as its ``upload_link``. The link is the customer's open
evidence request on the case, or a new one (``cases.services.evidence_request_create``, through
the kernel); a case that no longer takes evidence gives none (the placeholder then has no value
and blocks sending, saying so)."""

from __future__ import annotations

from collections.abc import Callable

from cases.actors import Actor
from cases.choices import Door
from cases.models import Case
from cases.services import evidence_request_create
from cases.services.evidence_requests.requests import active_customer_request

from .emails import public_url
from .links import upload_url


def customer_upload_link(case: Case, *, actor: Actor, door: Door) -> str | None:
    """The absolute link where the case's customer sends photos or videos."""
    if not case.is_open:
        return None
    request = active_customer_request(case) or evidence_request_create(
        case=case.pk, actor=actor, door=door
    )
    return public_url(upload_url(request))


def upload_link_maker(*, actor: Actor, door: Door) -> Callable[[Case], str | None]:
    def make(case: Case) -> str | None:
        return customer_upload_link(case, actor=actor, door=door)

    return make
