from django.contrib import admin
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView

from api.problems import handler_for
from workspace.errors import bad_request

from .outage import unless_database_down

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("intake.urls")),
]

# Under /api/ errors raised outside the API's views (a body too large, a crash in a middleware)
# answer a problem document too; elsewhere Django's pages.
handler400 = handler_for(bad_request, 400, "invalid")
handler404 = handler_for(defaults.page_not_found, 404, "not_found")
# A database outage raised outside a view (a middleware reading the session or the user) is a
# 503 with Retry-After, not a 500 (aftersales.outage).
handler500 = unless_database_down(handler_for(defaults.server_error, 500, "server_error"))
