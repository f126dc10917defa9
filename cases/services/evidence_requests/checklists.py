"""Checklists: what an evidence request asks for, item by item (key, label, hint, required)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ...choices import CaseKind
from ...errors import CaseRefused, ErrorCode

# What is asked by default, per kind: (item key, label, hint, required). Labels and hints are
# English msgids: the upload form shows them translated (``gettext(label)``); a checklist written
# by staff or an integration is shown as written.
DEFAULT_CHECKLISTS: dict[str, list[dict[str, Any]]] = {
    CaseKind.DAMAGED_ITEM: [
        {
            "key": "outer_box",
            "label": gettext_noop("The outer box"),
            "hint": gettext_noop("All sides of the parcel as it arrived, with any dents or tears."),
            "required": True,
        },
        {
            "key": "item",
            "label": gettext_noop("The damaged item"),
            "hint": gettext_noop(
                "Close enough to see the damage, and one photo of the whole item."
            ),
            "required": True,
        },
        {
            "key": "shipping_label",
            "label": gettext_noop("The shipping label"),
            "hint": gettext_noop("The sticker with the address and the tracking number."),
            "required": True,
        },
        {
            "key": "unboxing_video",
            "label": gettext_noop("An unboxing video"),
            "hint": gettext_noop("If you filmed opening the parcel, send the video."),
            "required": False,
        },
    ],
    CaseKind.WRONG_ITEM: [
        {
            "key": "item_received",
            "label": gettext_noop("The item you received"),
            "hint": gettext_noop("The whole item, so that we can see what it is."),
            "required": True,
        },
        {
            "key": "item_label",
            "label": gettext_noop("Its label"),
            "hint": gettext_noop("The product label or tag, with its reference or barcode."),
            "required": True,
        },
    ],
    CaseKind.MISSING_ITEM: [
        {
            "key": "opened_parcel",
            "label": gettext_noop("The opened parcel and its contents"),
            "hint": gettext_noop("Everything that was in the parcel, laid out next to it."),
            "required": True,
        },
        {
            "key": "shipping_label",
            "label": gettext_noop("The shipping label"),
            "hint": gettext_noop("The sticker with the address and the tracking number."),
            "required": True,
        },
    ],
}
GENERIC_CHECKLIST = [
    {
        "key": "photos",
        "label": gettext_noop("Photos or a video of the problem"),
        "hint": "",
        "required": True,
    }
]


def default_checklist(kind: str) -> list[dict[str, Any]]:
    return [dict(item) for item in DEFAULT_CHECKLISTS.get(kind, GENERIC_CHECKLIST)]


MAX_CHECKLIST_ITEMS = 20
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def normalise_checklist(checklist: list[Any]) -> list[dict[str, Any]]:
    """Check a checklist given by staff or an integration and put it in the stored shape
    (``key``, ``label``, ``hint``, ``required``). Items may be plain labels (strings): their key
    is made from the label. Raises ``CaseRefused`` (field ``checklist``)."""

    def refuse(message: str) -> CaseRefused:
        return CaseRefused(ErrorCode.INVALID_VALUE, message, field="checklist")

    if not isinstance(checklist, list) or not checklist:
        raise refuse(_("The checklist must list at least one thing to send."))
    if len(checklist) > MAX_CHECKLIST_ITEMS:
        raise refuse(
            _("The checklist can have at most %(max)d items.") % {"max": MAX_CHECKLIST_ITEMS}
        )
    items: list[dict[str, Any]] = []
    for position, raw in enumerate(checklist, start=1):
        entry = {"label": raw} if isinstance(raw, str) else raw
        if not isinstance(entry, dict):
            raise refuse(_("Item %(n)d of the checklist is not understood.") % {"n": position})
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 200 or "\x00" in label:
            raise refuse(
                _("Item %(n)d of the checklist needs a label of 1 to 200 characters.")
                % {"n": position}
            )
        key = entry.get("key") or slugify(label).replace("-", "_")[:64] or f"item_{position}"
        if not isinstance(key, str) or not _KEY.match(key):
            raise refuse(
                _(
                    "Item %(n)d of the checklist has an invalid key: use lower-case letters, "
                    "digits, - and _ (at most 64)."
                )
                % {"n": position}
            )
        required = entry.get("required", True)
        hint = entry.get("hint", "")
        if not isinstance(required, bool):
            raise refuse(_("Item %(n)d: “required” must be true or false.") % {"n": position})
        if not isinstance(hint, str) or len(hint) > 500 or "\x00" in hint:
            raise refuse(_("Item %(n)d: the hint must be text (at most 500).") % {"n": position})
        if any(item["key"] == key for item in items):
            # Keys are made from labels ("Box!" and "box" both give box): no schema can say it.
            raise CaseRefused(
                ErrorCode.DUPLICATE,
                _("Two checklist items have the key “%(key)s”.") % {"key": key},
                field="checklist",
            )
        items.append(
            {"key": key, "label": label.strip(), "hint": hint.strip(), "required": required}
        )
    return items
