"""Evidence requests (the source of upload links) and the photos and videos received."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from ..choices import Audience, EvidenceSource, MediaType, ReviewStatus
from .cases import Case


class EvidenceStorage(LazyObject):
    """The private storage of evidence files (``STORAGES["evidence"]``), never served by URL."""

    # The Storage once set up, or the ``empty`` marker until then (LazyObject's protocol).
    _wrapped: object

    def _setup(self) -> None:
        self._wrapped = storages["evidence"]


evidence_storage = EvidenceStorage()


@receiver(setting_changed)
def _reset_evidence_storage(*, setting: str, **kwargs: Any) -> None:
    if setting in {"STORAGES", "MEDIA_ROOT"}:
        evidence_storage._wrapped = empty


def _evidence_storage() -> Any:
    return evidence_storage


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Random names: the customer's file name is kept only as data, never used on disk.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    now = timezone.now()
    return f"cases/{now:%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class EvidenceRequest(models.Model):
    """What is asked of whom, by when: the source of one upload link."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence_requests")
    audience = models.CharField(
        _("for"), max_length=16, choices=Audience.choices, default=Audience.CUSTOMER
    )
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    due_at = models.DateTimeField(_("due at"))
    # The secret part of the link; rotating it invalidates every link given out.
    token_nonce = models.CharField(max_length=32, default="", editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    link_emailed_at = models.DateTimeField(_("link e-mailed at"), null=True, blank=True)
    # Claims of a worker sending an e-mail now (``evidence_requests.messages``).
    link_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence request")
        verbose_name_plural = _("evidence requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case.reference} / {self.get_audience_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.due_at >= timezone.now()


class Evidence(models.Model):
    """A photo or video that passed validation, stored without its metadata."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    request = models.ForeignKey(
        EvidenceRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence"
    )
    checklist_item = models.CharField(_("checklist item"), max_length=64, blank=True)
    media_type = models.CharField(_("type"), max_length=8, choices=MediaType.choices)
    file = models.FileField(storage=_evidence_storage, upload_to=evidence_upload_to, max_length=200)
    thumbnail = models.FileField(
        storage=_evidence_storage, upload_to=evidence_upload_to, max_length=200, blank=True
    )
    original_name = models.CharField(_("original file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the original"), max_length=64)
    # The original is not kept (its metadata is stripped), so integrity checks and restores
    # (``manage.py evidence_verify``) compare the stored copy with this digest. Empty on files
    # stored before it was recorded: ``evidence_verify --record-missing`` fills it.
    stored_sha256 = models.CharField(_("SHA-256 of the stored copy"), max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("original size"))
    stored_size_bytes = models.PositiveBigIntegerField(_("stored size"))
    content_type = models.CharField(_("content type"), max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=32, blank=True)
    container = models.CharField(max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=EvidenceSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    review_status = models.CharField(
        _("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set when the customer's personal data was erased: the files are gone, the row stays
    # (with its SHA-256) so that the audit trail still points at something.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sha256"], name="evidence_unique_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.get_media_type_display()} {self.original_name}"
