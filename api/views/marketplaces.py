"""Marketplaces of the client: profiles and rules, business calendars, scorecards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from scorecards.services import scorecard

from ..problems import QueryParametersInvalid
from ..serializers.marketplaces import (
    CalendarDeadlineSerializer,
    CalendarQuerySerializer,
    CalendarYearSerializer,
    MarketplaceSerializer,
    ScorecardQuerySerializer,
    ScorecardSerializer,
)
from .base import ApiGenericViewSet


class MarketplaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    """The client's marketplaces (any other code answers 404)."""

    serializer_class = MarketplaceSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,32}"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Marketplace]:
        return Marketplace.objects.filter(pk__in=self.marketplace_ids).order_by("code")

    def get_object(self) -> Marketplace:
        marketplace = self.marketplaces.get(self.kwargs["code"])
        if marketplace is None:
            raise NotFound(
                _("%(code)s is not one of your marketplaces.") % {"code": self.kwargs["code"][:32]}
            )
        return marketplace

    @extend_schema(summary="The client's marketplaces")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A marketplace's profile and rules")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Business calendar: a deadline, or a year's exceptions",
        description="`?start=YYYY-MM-DD&add_business_days=N`: the day N business days after "
        "start (start does not count) and its end in UTC. `?year=YYYY`: the weekdays not worked "
        "and the weekend days worked (China's adjusted working days) that year.",
        parameters=[CalendarQuerySerializer],
        responses=PolymorphicProxySerializer(
            component_name="CalendarAnswer",
            serializers=[CalendarDeadlineSerializer, CalendarYearSerializer],
            resource_type_field_name=None,
        ),
    )
    @action(detail=True, methods=["get"])
    def calendar(self, request: Request, code: str) -> Response:
        marketplace = self.get_object()
        query = CalendarQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise QueryParametersInvalid(query.errors)
        params = query.validated_data
        calendar = calendar_for(marketplace)
        today = calendar.local_date(dt.datetime.now(dt.UTC))
        params = {**params}
        if "add_business_days" not in params:  # a year's exceptions; by default this year's
            params.setdefault("year", today.year)
            rows = calendar.year_exceptions(params["year"])
            data = {
                "marketplace": marketplace.code,
                "time_zone": marketplace.time_zone,
                "country": calendar.country,
                "subdivision": calendar.subdivision,
                "year": params["year"],
                "exceptions": [
                    {"date": day, "working": working, "label": label}
                    for day, working, label in rows
                ],
            }
            return Response(CalendarYearSerializer(data).data)
        start, count = params.get("start", today), params["add_business_days"]
        due = calendar.add_business_days(start, count)
        days_off = [
            start + dt.timedelta(days=offset)
            for offset in range(1, (due - start).days)
            if not calendar.is_working_day(start + dt.timedelta(days=offset))
        ]
        data = {
            "marketplace": marketplace.code,
            "time_zone": marketplace.time_zone,
            "start": start,
            "add_business_days": count,
            "due_date": due,
            "due_at": calendar.end_of_day(due),
            "days_off": days_off,
        }
        return Response(CalendarDeadlineSerializer(data).data)

    @extend_schema(
        summary="Scorecard: the metrics the engine computes",
        description="Each metric with numerator, denominator and `value` (numerator / "
        "denominator, null when nothing was counted) in its `unit`: `ratio` (0 to 1), "
        "`seconds` (an average duration) or `score` (points); `display` is the value as text "
        "(`1.25 %`, `2 d 3 h`). Over the `window_days` local days ending on `as_of`, unless "
        "the metric's rule fixes its own window (its `window_days` says). Metrics may carry "
        "more attributes: clients should ignore what they do not know.",
        parameters=[ScorecardQuerySerializer],
        responses=ScorecardSerializer,
    )
    @action(detail=True, methods=["get"])
    def scorecard(self, request: Request, code: str) -> Response:
        marketplace = self.get_object()
        query = ScorecardQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise QueryParametersInvalid(query.errors)
        params = query.validated_data
        as_of = params.get("as_of") or calendar_for(marketplace).local_date(dt.datetime.now(dt.UTC))
        window = params["window_days"]
        metrics = scorecard(marketplace=marketplace, as_of=as_of, window_days=window)
        data = {
            "marketplace": marketplace.code,
            "as_of": as_of,
            "window_days": window,
            "metrics": metrics,
        }
        return Response(ScorecardSerializer(data).data)
