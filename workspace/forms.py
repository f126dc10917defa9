"""Forms of the case page and the bulk actions. They check the shape of what was sent; the
rules are the services' (``cases.services``), which every form's data is handed to."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cases.choices import Audience, RefundDecision, RefundRejectionReason, ReviewStatus
from cases.models import Case

LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def parse_local_time(value: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A ``datetime-local`` value read in ``tz``; None when empty; ValueError when malformed."""
    value = (value or "").strip()
    if not value:
        return None
    for pattern in LOCAL_INPUT_FORMATS:
        try:
            naive = dt.datetime.strptime(value, pattern)  # noqa: DTZ007 - made aware below
        except ValueError:
            continue
        return naive.replace(tzinfo=tz)
    raise ValueError(value)


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's field ``name``, declared a ChoiceField (``form.fields`` types it as a Field)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    return field


class LocalDateTimeField(forms.CharField):
    """A moment typed in the marketplace's time zone (``<input type=datetime-local>``); the
    form gives the zone (``tz``) and gets back an aware datetime."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.tz: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo("UTC")

    def clean(self, value: Any) -> dt.datetime | None:
        text = super().clean(value)
        try:
            return parse_local_time(text, self.tz)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Enter a date and time such as 2026-03-14 16:30."), code="invalid"
            ) from exc


class CaseBoundForm(forms.Form):
    """A form acting on one case; moments are read in the case's marketplace time zone."""

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.tz = case.marketplace.tz


class TransitionForm(CaseBoundForm):
    transition = forms.CharField(max_length=32)
    version = forms.IntegerField(min_value=1)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason_code = forms.ChoiceField(
        label=_("Refund rejection reason"),
        required=False,
        choices=[("", "—"), *RefundRejectionReason.choices],
    )
    occurred_at = LocalDateTimeField(
        label=_("When it happened"),
        help_text=_("Leave empty for now."),
    )


REVIEW_CHOICES = [(ReviewStatus.ACCEPTED, _("Accept")), (ReviewStatus.REJECTED, _("Reject"))]


class EvidenceReviewForm(forms.Form):
    status = forms.ChoiceField(choices=REVIEW_CHOICES)
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,video/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class EvidenceUploadForm(forms.Form):
    # A declared field, not BaseForm.files (the form's metaclass moves it to base_fields).
    files = MultipleFileField(label=_("Photos or videos"))  # type: ignore[assignment]


class EvidenceRequestForm(CaseBoundForm):
    audience = forms.ChoiceField(label=_("Ask"), choices=Audience.choices)
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_at = LocalDateTimeField(
        label=_("Due"),
        help_text=_("Leave empty for the marketplace's evidence wait (business days)."),
    )


class RefundDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=RefundDecision.choices)
    version = forms.IntegerField(min_value=1)
    approved_amount = forms.DecimalField(
        label=_("Approved amount"), required=False, min_value=0, decimal_places=2, max_digits=12
    )
    reason_code = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", "—"), *RefundRejectionReason.choices],
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RefundRequestForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), decimal_places=2, max_digits=12)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)


def staff_users() -> Any:
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


class BulkAssignForm(forms.Form):
    assignee = StaffChoiceField(
        label=_("Assign to"),
        queryset=staff_users(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )


class BulkTransitionForm(forms.Form):
    transition = forms.ChoiceField(label=_("Transition"))
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed by some transitions (reject, withdraw)."),
    )
    reason_code = forms.ChoiceField(
        label=_("Refund rejection reason"),
        required=False,
        choices=[("", "—"), *RefundRejectionReason.choices],
    )

    def __init__(self, *args: Any, transitions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "transition").choices = transitions


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    query = forms.CharField(required=False, max_length=1000)
    shared = forms.BooleanField(label=_("Share with the team"), required=False)
