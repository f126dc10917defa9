"""What every API view shares: the calling client, its actor and marketplaces, idempotent POSTs.

Other apps' endpoints (e.g. the message log) subclass ``ApiViewMixin`` (or ``ApiGenericViewSet``)
to get the same authentication, permissions, throttling, problem answers and idempotency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from cases.actors import Actor
from cases.choices import Door
from marketplaces.models import Marketplace

from .. import idempotency
from ..models import ApiClient
from ..serializers.base import EmptyBodySerializer

DOOR = Door.API


def refuse_body_fields(request: Request) -> None:
    """For writes that take no body (rotate a secret, replay, revoke, delete): a field sent
    there would be ignored, so it is refused as unknown, like everywhere else."""
    EmptyBodySerializer(data=request.data).is_valid(raise_exception=True)


if TYPE_CHECKING:
    # The mixin goes on DRF views; type-checked as one, so that ``super()`` and ``request`` are.
    from rest_framework.generics import GenericAPIView as _ViewBase
else:
    _ViewBase = object


class ApiViewMixin(_ViewBase):
    """Client, actor and marketplaces of the request; ``Idempotency-Key`` on every POST."""

    # Keyset pagination: names a client may sort by, and the default ("-name" descending).
    ordering_fields: tuple[str, ...] = ()
    default_ordering: str = ""

    @property
    def client(self) -> ApiClient:
        return self.request.user  # type: ignore[return-value]

    @property
    def actor(self) -> Actor:
        cached = self.__dict__.get("_actor")
        if cached is None:
            client = self.client
            cached = Actor.for_api_client(
                ref=client.pk, name=client.name, permissions=client.permissions
            )
            self.__dict__["_actor"] = cached
        return cached

    @property
    def marketplaces(self) -> dict[str, Marketplace]:
        return self.client.marketplaces_by_code()

    @property
    def marketplace_ids(self) -> frozenset[int]:
        return self.client.marketplace_ids()

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if isinstance(getattr(self.request, "user", None), ApiClient):
            context["marketplaces"] = self.marketplaces
            context["marketplace_codes"] = {m.pk: m.code for m in self.marketplaces.values()}
            context["actor"] = self.actor
        return context

    # -- idempotency ----------------------------------------------------------------------

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and idempotency.HEADER in request.headers:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                return response
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        if request.method == "POST":
            key = idempotency.key_of(request)
            if key is not None:
                self._idempotency_record = idempotency.begin(request, self.client, key)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None and response.status_code < 500:
            idempotency.finish(record, response)
        return response


class ApiGenericViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """A viewset of the API (authentication, permissions, throttles from ``REST_FRAMEWORK``)."""
