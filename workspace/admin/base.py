"""What the workspace's admin classes share: change forms that save through the services, read-only
lists, the link to a case."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from cases.errors import DomainError
from cases.models import Case

from ..counting import EstimatedCountPaginator


class ServiceRefused(Exception):
    """A service refused what a change form asked; the form is shown again with the reason."""

    def __init__(self, form: forms.ModelForm, error: DomainError) -> None:
        super().__init__(error.message)
        self.form = form
        self.error = error


class ServiceFormAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``save_model`` calls services. A refusal (``ServiceRefused``) rolls
    back everything the save did and shows the form again, with what was typed and the
    service's message on the field it concerns."""

    def changeform_view(
        self,
        request: Any,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            return self._render_refused(request, object_id, form_url, refused, extra_context)

    def _render_refused(
        self,
        request: Any,
        object_id: str | None,
        form_url: str,
        refused: ServiceRefused,
        extra_context: dict[str, Any] | None,
    ) -> Any:
        form, error = refused.form, refused.error
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        add = object_id is None
        obj = None if object_id is None else self.get_object(request, object_id)
        fieldsets = self.get_fieldsets(request, obj)
        admin_form = helpers.AdminForm(
            form,
            # The stubs type fieldsets two ways (ModelAdmin's and AdminForm's): the same value.
            list(fieldsets),  # type: ignore[arg-type]
            self.get_prepopulated_fields(request, obj),
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        title = gettext("Add %s") if add else gettext("Change %s")
        context = {
            **self.admin_site.each_context(request),
            "title": title % self.opts.verbose_name,
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(
            request, context, add=add, change=not add, obj=obj, form_url=form_url
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists that only show: changes happen on the case page, through the services."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


def case_link(case: Case) -> str:
    url = reverse("admin:cases_case_change", args=[case.pk])
    return format_html('<a href="{}">{}</a>', url, case.reference)
