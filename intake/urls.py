"""URLs of the evidence intake: the upload form reached by a link, and the file views.

``intake:upload`` (token): the form; ``intake:link-file`` / ``intake:link-thumbnail`` (token,
evidence id): a file the link holder sent through that same link; ``intake:evidence-file`` /
``intake:evidence-thumbnail`` (evidence id): any evidence, for staff with ``cases.view_case``.
"""

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("e/<str:token>/", views.upload, name="upload"),
    path("e/<str:token>/files/<int:pk>/", views.link_file, name="link-file"),
    path("e/<str:token>/files/<int:pk>/preview/", views.link_thumbnail, name="link-thumbnail"),
    path("evidence/<int:pk>/file/", views.evidence_file, name="evidence-file"),
    path("evidence/<int:pk>/preview/", views.evidence_thumbnail, name="evidence-thumbnail"),
]
