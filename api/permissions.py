"""Who may call the API: an authenticated API client (reusable by other apps' endpoints)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from .models import ApiClient


class IsApiClient(BasePermission):
    """The request was authenticated with the key of an active API client."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, ApiClient) and request.user.is_active
