"""Users' saved case lists: each user manages their own and sees the ones shared with the
team."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    """Each user manages the case lists they saved, and sees those shared with the team."""

    list_display = ("name", "open_link", "shared", "owner_name", "created_at")
    list_filter = ("shared",)
    fields = ("name", "query", "shared")

    def get_queryset(self, request: Any) -> Any:
        return (
            super()
            .get_queryset(request)
            .filter(Q(owner=request.user) | Q(shared=True))
            .select_related("owner")
        )

    @admin.display(description=gettext_lazy("owner"), ordering="owner__username")
    def owner_name(self, obj: SavedView) -> str:
        return obj.owner.get_full_name() or obj.owner.get_username()

    @admin.display(description=gettext_lazy("list"))
    def open_link(self, obj: SavedView) -> str:
        base = reverse("admin:cases_case_changelist")
        return format_html('<a href="{}?{}">{}</a>', base, obj.query, _("Open the list"))

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        owner = request.user

        class OwnedSavedViewForm(base):  # type: ignore[misc,valid-type]
            # The owner is not a form field, so Django cannot check (owner, name) itself.
            def clean_name(self) -> str:
                name = self.cleaned_data["name"]
                taken = SavedView.objects.filter(owner=owner, name=name).exclude(
                    pk=self.instance.pk
                )
                if taken.exists():
                    raise ValidationError(
                        _("You already have a list named “%(name)s”."), params={"name": name}
                    )
                return name

        return OwnedSavedViewForm

    def save_model(self, request: Any, obj: SavedView, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def _own(self, request: Any, obj: Any) -> bool:
        return obj is None or obj.owner_id == request.user.pk

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._own(request, obj)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._own(request, obj)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (self._own(request, obj) or obj.shared)
