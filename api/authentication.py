"""``Authorization: Token <key>``: the key identifies one API client.

An address that sent ``API_INVALID_KEY_LIMIT`` invalid keys (30) within
``API_INVALID_KEY_WINDOW_SECONDS`` (10 minutes) gets 429 with ``Retry-After`` for every keyed
request until the window ends, even with a valid key: guessing keys is not worth it, and a
guess cannot be confirmed. Other addresses are not affected."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from intake.ratelimit import client_address

from . import keys
from .models import ApiClient
from .throttling import invalid_key_sent, invalid_keys_wait

# Writing "last used" on every request would add a write per call; once a minute is enough.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
KEYWORDS = (b"token", b"bearer")


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates an API client by its key; ``request.user`` and ``request.auth`` are the
    ``ApiClient``."""

    def authenticate(self, request: Any) -> tuple[ApiClient, ApiClient] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the key as “Authorization: Token <key>”, with no spaces in the key.")
            )
        address = client_address(request)
        wait = invalid_keys_wait(address)
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait,
                detail=_(
                    "Too many invalid API keys were sent from your address; try again in "
                    "%(seconds)s seconds."
                )
                % {"seconds": wait},
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            invalid_key_sent(address)
            raise exceptions.AuthenticationFailed(_("This API key is not valid.")) from exc
        prefix = keys.prefix_of(key)
        client = ApiClient.objects.with_marketplaces(key_prefix=prefix) if prefix else None
        if client is None or not constant_time_compare(client.key_hash, keys.digest(key)):
            invalid_key_sent(address)
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                _("This API key was revoked on %(date)s; ask for a new one.")
                % {"date": client.revoked_at.date().isoformat()}
            )
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_PRECISION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return client, client

    def authenticate_header(self, request: Any) -> str:
        return 'Token realm="api"'
