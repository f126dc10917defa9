"""Who acts on a case: a staff user, an API client, the holder of an upload link, or the system.

Every service takes an ``Actor``; it answers ``has_perm`` like a user, so django-fsm's
``permission=`` checks work for all four.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .choices import ActorType


@dataclass(frozen=True)
class Actor:
    type: ActorType
    name: str
    user: Any = None
    ref: str = ""
    # What the actor is to the case when its name does not say it (a link's audience).
    role: str = ""
    # Permissions held by a non-user actor ("cases.reject_claim"...); the system holds all.
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(type=ActorType.USER, name=user.get_username(), user=user)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(type=ActorType.SYSTEM, name=name)

    @classmethod
    def for_api_client(
        cls, *, ref: str | int, name: str, permissions: frozenset[str] | set[str] = frozenset()
    ) -> Actor:
        return cls(
            type=ActorType.API_CLIENT, name=name, ref=str(ref), permissions=frozenset(permissions)
        )

    @classmethod
    def for_link(cls, *, ref: str | int, role: str, name: str = "") -> Actor:
        """The holder of an upload link; ``role`` is the link's audience (customer...)."""
        return cls(
            type=ActorType.LINK, name=name or f"{role} (upload link {ref})", ref=str(ref), role=role
        )

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        if self.type == ActorType.SYSTEM:
            return True
        if self.type == ActorType.USER:
            return bool(self.user.is_active and self.user.has_perm(perm))
        return perm in self.permissions

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None
