"""The PDF summary of a dispute pack, drawn with ReportLab in Debian's fonts (DejaVu Sans for
Latin scripts, WenQuanYi Zen Hei for Chinese: runs of CJK text use it in every language, so a
Chinese customer name reads in an English pack too). Nothing is fetched at run time: the font
files are read from the paths of ``settings.PACK_FONTS``."""

from __future__ import annotations

import io
import re
import threading
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cases.choices import MediaType

from .contents import PackContents

DEFAULT_FONTS = {
    "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "cjk": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
}
_CJK = re.compile(r"([\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]+)")
_registered = threading.Lock()
_fonts_ready = False
THUMB_WIDTH = 40 * mm


class FontMissing(RuntimeError):
    """A font file of ``PACK_FONTS`` is not installed (Debian: fonts-dejavu-core,
    fonts-wqy-zenhei)."""


def _register_fonts() -> None:
    """Register the fonts once per process (reading the CJK collection takes a second)."""
    global _fonts_ready
    with _registered:
        if _fonts_ready:
            return
        paths = {**DEFAULT_FONTS, **getattr(settings, "PACK_FONTS", {})}
        try:
            pdfmetrics.registerFont(TTFont("PackSans", paths["regular"]))
            pdfmetrics.registerFont(TTFont("PackSans-Bold", paths["bold"]))
            pdfmetrics.registerFont(TTFont("PackCJK", paths["cjk"], subfontIndex=0))
        except OSError as exc:  # a missing file: say which package provides it
            raise FontMissing(
                f"A font of the dispute pack is missing ({exc}); install the Debian packages "
                "fonts-dejavu-core and fonts-wqy-zenhei or set PACK_FONTS."
            ) from exc
        _fonts_ready = True


def _text(value: Any) -> str:
    """``value`` as Paragraph markup: escaped, CJK runs in the CJK font, new lines kept."""
    text = escape(str(value or ""))
    text = _CJK.sub(r'<font name="PackCJK">\1</font>', text)
    return text.replace("\n", "<br/>")


class _Styles:
    def __init__(self, language: str) -> None:
        cjk = language.startswith("zh")
        base = "PackCJK" if cjk else "PackSans"
        bold = "PackCJK" if cjk else "PackSans-Bold"
        wrap = "CJK" if cjk else None
        self.body = ParagraphStyle("body", fontName=base, fontSize=8.5, leading=11, wordWrap=wrap)
        self.small = ParagraphStyle(
            "small", parent=self.body, fontSize=7, leading=9, textColor=colors.HexColor("#444444")
        )
        self.mono = ParagraphStyle("mono", parent=self.small, fontName="PackSans", fontSize=6.5)
        self.h1 = ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=6)
        self.h2 = ParagraphStyle(
            "h2", fontName=bold, fontSize=11.5, leading=15, spaceBefore=10, spaceAfter=4
        )
        self.cell_bold = ParagraphStyle("cellb", parent=self.body, fontName=bold)


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef3")))
    table.setStyle(TableStyle(style))
    return table


def summary_pdf(  # noqa: C901, PLR0912, PLR0915
    contents: PackContents,
    *,
    pack_id: str,
    evidence_entries: list[dict[str, Any]],
    thumbnails: dict[int, bytes],
) -> bytes:
    """The PDF (bytes) of ``contents``, in the active language. ``evidence_entries`` are the
    manifest's evidence lines (to print their hashes and whether each file is included)."""
    _register_fonts()
    s = _Styles(contents.language)
    case, order = contents.case, contents.case.order
    width = A4[0] - 30 * mm
    p = lambda value, style=s.body: Paragraph(_text(value), style)  # noqa: E731
    story: list[Any] = [
        p(_("Dispute pack: case %(ref)s") % {"ref": case.reference}, s.h1),
        p(
            _(
                "Produced %(at)s (%(tz)s) by the after-sales system. Pack %(id)s. Internal "
                "notes: %(internal)s. Every file of this pack and every original upload is "
                "listed with its SHA-256 in manifest.json; the pack's own SHA-256 is kept in "
                "the case's audit trail."
            )
            % {
                "at": contents.when(contents.produced_at),
                "tz": case.marketplace.time_zone,
                "id": pack_id,
                "internal": _("included") if contents.include_internal else _("left out"),
            },
            s.small,
        ),
    ]

    def pairs(title: str, values: list[tuple[str, Any]]) -> None:
        story.append(p(title, s.h2))
        rows = [[p(label, s.cell_bold), p(value)] for label, value in values]
        story.append(_table(rows, [45 * mm, width - 45 * mm], header=False))

    pairs(
        _("Case"),
        [
            (_("Reference"), case.reference),
            (_("Marketplace"), case.marketplace.name),
            (_("Kind"), case.get_kind_display()),
            (_("State"), case.get_state_display()),
            (_("Opened at"), contents.when(case.opened_at)),
            (_("Marketplace claim id"), case.external_claim_id or "—"),
            (_("Escalated to the platform"), _("yes") if case.escalated else _("no")),
            (_("Outcome"), case.get_resolution_outcome_display() or "—"),
            (_("Description"), case.description or "—"),
        ],
    )
    shipments = ", ".join(f"{carrier} {number}" for carrier, number in contents.shipments)
    pairs(
        _("Order and customer (as the platform knows them)"),
        [
            (_("Order"), order.external_id),
            (_("Customer"), order.customer_name or "—"),
            (_("Customer e-mail"), order.customer_email or "—"),
            (_("Customer language"), order.get_customer_language_display()),
            (_("Placed at"), contents.when(order.placed_at)),
            (_("Total"), f"{order.total} {order.currency}"),
            (
                _("Destination"),
                f"{order.destination_country or '—'} · {order.get_shipping_scope_display()}",
            ),
            (_("Shipped at"), contents.when(order.shipped_at)),
            (_("Picked up by the carrier at"), contents.when(order.picked_up_at)),
            (_("Delivered at"), contents.when(order.delivered_at)),
            (
                _("Shipments"),
                shipments or f"{order.carrier} {order.tracking_number}".strip() or "—",
            ),
        ],
    )

    story.append(p(_("Transitions"), s.h2))
    rows = [
        [
            p(_("When"), s.cell_bold),
            p(_("Change"), s.cell_bold),
            p(_("By"), s.cell_bold),
            p(_("Note or reason"), s.cell_bold),
        ]
    ]
    for line in contents.transitions:
        rows.append(
            [
                p(contents.when(line.at)),
                p(f"{line.title}\n{line.detail}"),
                p(line.actor),
                p(line.text),
            ]
        )
    if len(rows) == 1:
        rows.append([p("—"), p(_("No transition yet.")), p(""), p("")])
    story.append(_table(rows, [28 * mm, 62 * mm, 35 * mm, width - 125 * mm]))

    story.append(p(_("Deadlines"), s.h2))
    rows = [
        [
            p(_("Deadline"), s.cell_bold),
            p(_("Due"), s.cell_bold),
            p(_("Done at"), s.cell_bold),
            p(_("Met"), s.cell_bold),
        ]
    ]
    for deadline in contents.deadlines:
        rows.append(
            [
                p(deadline.label),
                p(contents.when(deadline.due_at)),
                p(contents.when(deadline.done_at)),
                p(deadline.verdict),
            ]
        )
    if len(rows) == 1:
        rows.append([p(_("No deadline ran on this case.")), p(""), p(""), p("")])
    story.append(_table(rows, [60 * mm, 35 * mm, 35 * mm, width - 130 * mm]))

    story.append(p(_("Refund requests and decisions"), s.h2))
    rows = [
        [
            p(_("Requested"), s.cell_bold),
            p(_("Amount"), s.cell_bold),
            p(_("Decision"), s.cell_bold),
            p(_("Decided"), s.cell_bold),
        ]
    ]
    for refund in contents.refunds:
        decision = refund.get_decision_display() if refund.decision else _("awaiting decision")
        if refund.rejection_reason:
            decision = f"{decision}: {refund.get_rejection_reason_display()}"
        if refund.rejection_note:
            decision = f"{decision}\n{refund.rejection_note}"
        if refund.overturned_at:
            decision = f"{decision}\n" + _("overturned by the platform %(at)s") % {
                "at": contents.when(refund.overturned_at)
            }
        approved = f" ({refund.approved_amount})" if refund.approved_amount is not None else ""
        rows.append(
            [
                p(contents.when(refund.requested_at)),
                p(f"{refund.amount} {refund.currency}{approved}"),
                p(decision),
                p(f"{contents.when(refund.decided_at)} {refund.decided_by_name}".strip()),
            ]
        )
    if len(rows) == 1:
        rows.append([p("—"), p(_("No refund request.")), p(""), p("")])
    story.append(_table(rows, [30 * mm, 35 * mm, width - 100 * mm, 35 * mm]))

    story.append(p(_("Evidence"), s.h2))
    by_id = {entry["id"]: entry for entry in evidence_entries}
    if not contents.evidence:
        story.append(p(_("No photo or video was received.")))
    for evidence in contents.evidence:
        entry = by_id.get(evidence.pk, {})
        if entry.get("path"):
            where = _("In this pack: %(path)s") % {"path": entry["path"]}
        elif entry.get("erased"):
            where = _("The file was erased with the customer's personal data.")
        else:
            where = _(
                "Not included (larger than %(mb)s MB, what the marketplace accepts): ask for it "
                "by its SHA-256."
            ) % {"mb": case.marketplace.pack_max_embedded_video_mb}
        facts = "\n".join(
            [
                f"{evidence.get_media_type_display()} · {evidence.original_name}",
                _("Uploaded %(at)s by %(source)s; review: %(review)s")
                % {
                    "at": contents.when(evidence.uploaded_at),
                    "source": evidence.get_source_display(),
                    "review": evidence.get_review_status_display(),
                },
                where,
            ]
        )
        hashes = (
            _("SHA-256 of the original upload: %(sha)s") % {"sha": evidence.sha256}
            + "\n"
            + _("SHA-256 of the stored file (metadata removed): %(sha)s")
            % {"sha": entry.get("sha256_stored", "—")}
        )
        thumb = thumbnails.get(evidence.pk)
        image: Any = p("—")
        if thumb:
            try:
                image = Image(
                    io.BytesIO(thumb), width=THUMB_WIDTH, height=THUMB_WIDTH, kind="proportional"
                )
            except Exception:  # an unreadable thumbnail: the hashes still say what it was
                image = p("—")
        if evidence.media_type == MediaType.VIDEO and evidence.duration_seconds:
            facts += "\n" + _("%(seconds)s s of video") % {
                "seconds": f"{evidence.duration_seconds:.0f}"
            }
        story.append(
            KeepTogether(
                _table(
                    [[image, [p(facts), Spacer(1, 2), p(hashes, s.mono)]]],
                    [THUMB_WIDTH + 6 * mm, width - THUMB_WIDTH - 6 * mm],
                    header=False,
                )
            )
        )

    story.append(p(_("Messages and notes"), s.h2))
    if not contents.messages:
        story.append(p(_("No message.")))
    for line in contents.messages:
        mark = (
            _("INTERNAL NOTE (not shown to the customer)")
            if line.internal
            else _("exchanged with the customer or the platform")
        )
        header = f"{contents.when(line.at)} · {line.title} · {line.actor} · {mark}"
        story.append(p(header, s.cell_bold))
        if line.detail:
            story.append(p(line.detail, s.small))
        if line.text:
            story.append(p(line.text))
        story.append(Spacer(1, 3))

    story.append(p(_("Other events of the audit trail"), s.h2))
    rows = [[p(_("When"), s.cell_bold), p(_("What"), s.cell_bold), p(_("By"), s.cell_bold)]]
    for line in contents.history:
        rows.append(
            [p(contents.when(line.at)), p(f"{line.title}\n{line.detail}".strip()), p(line.actor)]
        )
    story.append(_table(rows, [28 * mm, width - 68 * mm, 40 * mm]))

    footer = _("Case %(ref)s · pack %(id)s · page %%(page)s") % {
        "ref": case.reference,
        "id": pack_id[:8],
    }

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("PackCJK" if contents.language.startswith("zh") else "PackSans", 7)
        canvas.drawString(15 * mm, 10 * mm, footer % {"page": doc.page})
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=_("Dispute pack %(ref)s") % {"ref": case.reference},
        author="aftersales",
        # A fixed document id: the PDF's bytes depend on its contents only.
        invariant=True,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
