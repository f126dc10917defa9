"""Customers' requests about their personal data, in the admin: the record of erasures (read
only) and the page that handles a request, export or erasure, for staff with the permission
``cases.handle_personal_data``. Both call ``cases.personal_data``, as the API and the command do.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.actors import Actor
from cases.choices import Door
from cases.errors import DomainError
from cases.models import PersonalDataErasure
from cases.personal_data import (
    personal_data_erase,
    personal_data_export_zip,
    personal_data_subject,
)
from marketplaces.models import Marketplace

PERMISSION = "cases.handle_personal_data"


class PersonalDataRequestForm(forms.Form):
    """Who the request is about (an e-mail address or an order id) and what to do."""

    email = forms.CharField(
        label=gettext_lazy("Customer's e-mail address"), max_length=254, required=False
    )
    order = forms.CharField(label=gettext_lazy("or an order id"), max_length=100, required=False)
    marketplace = forms.ModelChoiceField(
        label=gettext_lazy("Marketplace"),
        queryset=Marketplace.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All marketplaces"),
        to_field_name="code",
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that erasure cannot be undone"), required=False
    )


@admin.register(PersonalDataErasure)
class PersonalDataErasureAdmin(admin.ModelAdmin):
    """The record of erasures: who, when, how much (never the data). Written by the service
    only; nobody edits or deletes it here."""

    list_display = ("at", "actor_name", "door", "marketplace", "orders", "cases", "evidence")
    list_filter = ("door",)
    readonly_fields = (
        "at",
        "actor_type",
        "actor_name",
        "door",
        "marketplace",
        "subject_hash",
        "orders",
        "cases",
        "evidence",
        "parts",
    )
    change_list_template = "workspace/personal_data_changelist.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(PERMISSION) or super().has_view_permission(request, obj)

    def get_urls(self) -> list[Any]:
        request_view = self.admin_site.admin_view(self.request_view)
        return [
            path("request/", request_view, name="cases_personaldataerasure_request"),
            *super().get_urls(),
        ]

    def request_view(self, request: HttpRequest) -> HttpResponse:
        """Export (a ZIP download) or erase the personal data of one customer."""
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        form = PersonalDataRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                subject = personal_data_subject(
                    email=data["email"],
                    order=data["order"],
                    marketplace=data["marketplace"].code if data["marketplace"] else "",
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                if "erase" in request.POST:
                    if not data["confirm"]:
                        form.add_error("confirm", _("Tick the box to confirm the erasure."))
                    else:
                        erasure = personal_data_erase(
                            subject=subject, actor=Actor.for_user(request.user), door=Door.ADMIN
                        )
                        self.message_user(
                            request,
                            _(
                                "Erased: %(orders)s orders, %(cases)s cases, %(evidence)s "
                                "evidence files (erasure #%(id)s)."
                            )
                            % {
                                "orders": erasure.orders,
                                "cases": erasure.cases,
                                "evidence": erasure.evidence,
                                "id": erasure.pk,
                            },
                            messages.SUCCESS,
                        )
                        return redirect(reverse("admin:cases_personaldataerasure_changelist"))
                else:
                    response = HttpResponse(
                        personal_data_export_zip(subject), content_type="application/zip"
                    )
                    stamp = timezone.now().strftime("%Y%m%d-%H%M")
                    response["Content-Disposition"] = (
                        f'attachment; filename="personal-data-{stamp}.zip"'
                    )
                    return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("A customer's personal data"),
            "form": form,
        }
        return TemplateResponse(request, "workspace/personal_data_request.html", context)
