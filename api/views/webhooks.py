"""Webhook subscriptions of the calling client, their deliveries and replays."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription, new_webhook_secret
from ..pagination import KeysetPagination
from ..parsers import LimitedJSONParser
from ..problems import Problem
from ..serializers.webhooks import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from ..webhooks.delivery import delivery_replay
from ..webhooks.subscriptions import SubscriptionLimitReached, webhook_subscription_create
from .base import ApiGenericViewSet, refuse_body_fields


class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiGenericViewSet,
):
    """URLs of the client that receive events of its marketplaces, signed (Standard Webhooks)."""

    serializer_class = WebhookSubscriptionSerializer
    pagination_class = None
    parser_classes = [LimitedJSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d{1,18}"
    # Problem answers beyond the usual ones, by action (``api.schema.ProblemAutoSchema``).
    extra_problem_statuses = {"create": (409,)}

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.filter(client=self.client).order_by("pk")

    def get_object(self) -> WebhookSubscription:
        subscription = self.get_queryset().filter(pk=int(self.kwargs["pk"])).first()
        if subscription is None:
            raise NotFound(
                _("You have no webhook subscription %(id)s.") % {"id": self.kwargs["pk"]}
            )
        return subscription

    @extend_schema(summary="Your webhook subscriptions")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe a URL to events",
        description="Answers the signing secret once. Each request carries `webhook-id` (the "
        "event id: the same on retries), `webhook-timestamp` and `webhook-signature` (`v1,` + "
        "base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the secret's base64 part). "
        "A client may hold at most `API_WEBHOOK_MAX_SUBSCRIPTIONS` subscriptions (20 unless the "
        "deployment says otherwise): one more answers 409 `too_many_subscriptions`.",
        request=WebhookSubscriptionSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            subscription = webhook_subscription_create(
                client=self.client, **serializer.validated_data
            )
        except SubscriptionLimitReached as refused:
            raise Problem(409, refused.code, refused.message) from refused
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(summary="A webhook subscription")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Change a subscription (URL, events, active)")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(exclude=True)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)

    @extend_schema(summary="Delete a subscription (its pending deliveries are dropped)")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_body_fields(request)
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        summary="Give the subscription a new signing secret",
        request=None,
        responses=WebhookSubscriptionCreatedSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        refuse_body_fields(request)
        subscription.secret = new_webhook_secret()
        subscription.save(update_fields=["secret"])
        return Response(WebhookSubscriptionCreatedSerializer(subscription).data)

    @extend_schema(
        summary="Recent deliveries of the subscription, with every attempt",
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=KeysetPagination,
        ordering_fields=("created_at",),
        default_ordering="-created_at",
        filter_backends=[],
    )
    def deliveries(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        queryset = (
            WebhookDelivery.objects.filter(subscription=subscription)
            .select_related("event")
            .prefetch_related(
                Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number"))
            )
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again (same event id)",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d{1,18})/replay",
        url_name="delivery-replay",
    )
    def replay(self, request: Request, pk: str, delivery_id: str) -> Response:
        subscription = self.get_object()
        delivery = WebhookDelivery.objects.filter(
            subscription=subscription, pk=int(delivery_id)
        ).first()
        if delivery is None:
            raise NotFound(_("This subscription has no delivery %(id)s.") % {"id": delivery_id})
        refuse_body_fields(request)
        delivery_replay(delivery)
        delivery = (
            WebhookDelivery.objects.select_related("event")
            .prefetch_related("attempts")
            .get(pk=delivery.pk)
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
