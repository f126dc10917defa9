"""``Authorization: Token <key>``: the key identifies one API client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import keys
from .models import ApiClient

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
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("This API key is not valid.")) from exc
        prefix = keys.prefix_of(key)
        client = ApiClient.objects.filter(key_prefix=prefix).first() if prefix else None
        if client is None or not constant_time_compare(client.key_hash, keys.digest(key)):
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
