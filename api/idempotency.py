"""``Idempotency-Key``: any POST sent again with the same key gets the first answer back instead
of being done twice (a client that lost the answer to a timeout can simply retry).

A POST with a key runs in one transaction that also holds the key's row: the first request
inserts the row (a second request with the same key waits on the row's unique index until the
first commits), does the work and stores its answer in the row; the transaction commits both
together, so a key is never recorded without its work or the other way round. A server error
(5xx) rolls everything back, key included, so the retry runs afresh.

The same key with a different request (another body, path or method) is refused with 422.
Keys are kept ``API_IDEMPOTENCY_SECONDS`` (24 h by default) and are scoped per client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from rest_framework.response import Response

from .models import ApiClient, IdempotencyKey
from .problems import Problem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_PROGRESS = 0
KEPT_HEADERS = ("Location", "ETag")


class Replay(Exception):
    """Raised to answer a retried request with the stored response."""

    def __init__(self, response: Response) -> None:
        super().__init__("idempotent replay")
        self.response = response


def key_of(request: Any) -> str | None:
    key: str | None = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise Problem(
            400,
            "invalid",
            _("The Idempotency-Key header must be 1 to 255 printable characters."),
            errors=[
                {"field": HEADER, "pointer": None, "detail": _("Invalid key."), "code": "invalid"}
            ],
        )
    return key


def fingerprint(request: Any) -> str:
    """A digest of what the request asks: method, path, query and body (files by content)."""
    digest = hashlib.sha256()
    digest.update(
        f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}".encode()
    )
    data = request.data
    files = getattr(request, "FILES", None) or {}
    if hasattr(data, "lists"):  # form data
        body = {key: values for key, values in data.lists() if key not in files}
    else:
        body = data
    files = files if hasattr(files, "getlist") else MultiValueDict()
    digest.update(json.dumps(body, sort_keys=True, default=str).encode())
    for name in sorted(files):
        for upload in files.getlist(name):
            digest.update(f"\0file:{name}:{upload.name}:".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def _stored_response(record: IdempotencyKey) -> Response:
    headers = dict(record.response_headers or {})
    content_type = headers.pop("Content-Type", None)
    headers[REPLAYED_HEADER] = "true"
    return Response(
        record.response_body,
        status=record.response_status,
        headers=headers,
        content_type=content_type,
    )


def _check_same(record: IdempotencyKey, request: Any, digest: str) -> Response:
    if record.request_hash != digest:
        raise Problem(
            422,
            "idempotency_key_reused",
            _(
                "The Idempotency-Key “%(key)s” was used on %(when)s for a different request "
                "(%(method)s %(path)s). Use a new key for a new request."
            )
            % {
                "key": record.key,
                "when": record.created_at.isoformat(),
                "method": record.method,
                "path": record.path,
            },
        )
    if record.response_status == IN_PROGRESS:  # pragma: no cover - only visible uncommitted
        raise Problem(
            409, "conflict", _("A request with this Idempotency-Key is still being processed.")
        )
    return _stored_response(record)


def begin(request: Any, client: ApiClient, key: str) -> IdempotencyKey:
    """Claim ``key`` for this request, or raise ``Replay`` with the answer it already got.

    Must run inside the request's transaction (see ``ApiViewMixin.dispatch``).
    """
    digest = fingerprint(request)
    now = timezone.now()
    live = IdempotencyKey.objects.filter(client=client, key=key)
    record = live.filter(expires_at__gt=now).first()
    if record is not None:
        raise Replay(_check_same(record, request, digest))
    live.filter(expires_at__lte=now).delete()
    record = IdempotencyKey(
        client=client,
        key=key,
        method=request.method,
        path=request.path[:500].replace("\x00", "\ufffd"),
        request_hash=digest,
        response_status=IN_PROGRESS,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.API_IDEMPOTENCY_SECONDS),
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        # Another request with this key committed meanwhile: answer what it answered.
        record = IdempotencyKey.objects.get(client=client, key=key)
        raise Replay(_check_same(record, request, digest)) from None
    return record


def _storable(value: Any) -> Any:
    """A JSON copy PostgreSQL can store: it refuses NUL characters, which a problem may echo
    from the request (replaced by U+FFFD)."""
    from django.core.serializers.json import DjangoJSONEncoder

    text = json.dumps(value, cls=DjangoJSONEncoder).replace("\\u0000", "\\ufffd")
    return json.loads(text)


def finish(record: IdempotencyKey, response: Any) -> None:
    """Store the answer with the key (same transaction as the work)."""
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    # The header is set when the response is rendered, after this; problems set it up front.
    if getattr(response, "content_type", None):
        headers["Content-Type"] = response.content_type
    record.response_status = response.status_code
    record.response_body = _storable(getattr(response, "data", None))
    record.response_headers = headers
    record.save(update_fields=["response_status", "response_body", "response_headers"])


def purge_expired(*, at: dt.datetime | None = None) -> int:
    """Forget keys past their retention; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=at or timezone.now()).delete()
    return deleted
