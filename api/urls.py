"""``/api/``: the v1 endpoints (one router), the schema and its readers, problem types, and a
problem answer for every other address under /api/.

An endpoint joins with one ``router.register`` line here, its viewset subclassing
``api.views.base.ApiGenericViewSet`` (key authentication, client scope, throttling, problem
answers and Idempotency-Key come with it).
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from .problems import api_not_found
from .views.cases import CaseViewSet
from .views.docs import ProblemTypesView, RedocView, SwaggerView, redoc_bundle
from .views.marketplaces import MarketplaceViewSet
from .views.messages import MessageViewSet
from .views.orders import OrderViewSet
from .views.outbox import OutboxViewSet
from .views.personal_data import PersonalDataViewSet
from .views.returns import ReturnRequestViewSet
from .views.scorecards import SellerFeedbackViewSet, SurveyAnswerViewSet
from .views.tracking import ShipmentViewSet, TrackingEventViewSet
from .views.webhooks import WebhookSubscriptionViewSet

app_name = "api"

# Addresses end with a slash; one without it reaches the same endpoint (see api_not_found).
router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("cases", CaseViewSet, basename="case")
router.register("marketplaces", MarketplaceViewSet, basename="marketplace")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
router.register("messages", MessageViewSet, basename="message")
router.register("outbox", OutboxViewSet, basename="outbox")
router.register("return-requests", ReturnRequestViewSet, basename="return-request")
router.register("personal-data", PersonalDataViewSet, basename="personal-data")
router.register("survey-answers", SurveyAnswerViewSet, basename="survey-answer")
router.register("seller-feedback", SellerFeedbackViewSet, basename="seller-feedback")
router.register("tracking-events", TrackingEventViewSet, basename="tracking-event")
router.register("shipments", ShipmentViewSet, basename="shipment")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
    path("problems/", ProblemTypesView.as_view(), name="problem-types"),
    path("problems/<str:code>", ProblemTypesView.as_view(), name="problem-type"),
    re_path(r"^[\s\S]*$", api_not_found),  # any path, new lines included
]
