"""Signing webhook requests, following the Standard Webhooks specification
(https://www.standardwebhooks.com), so receivers can verify them with its libraries or in a few
lines of any language.

Each request carries::

    webhook-id: <event id>             the same on every retry of the event: drop duplicates
    webhook-timestamp: <unix seconds>  refuse old timestamps (replays), e.g. older than 5 min
    webhook-signature: v1,<base64>     HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>"

The HMAC key is the subscription's secret ``whsec_<base64>`` with the prefix removed and the rest
base64-decoded. ``webhook-signature`` may hold several space-separated signatures (during a secret
rotation): accept the request if any one matches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 (the marker of a secret, not one)
TOLERANCE_SECONDS = 5 * 60


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, *, msg_id: str, body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        given = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, msg_id=msg_id, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in given)
