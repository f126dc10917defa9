"""The marketplaces' content rules for a reply (docs/domain.md §8): what it may contain, and
how it arrives where HTML is not taken.

``html_to_text`` converts, it does not escape: paragraphs and line breaks are kept, a link
becomes "text (url)", list items become "- item" (numbered lists "1. item"), headings and
blocks stand on their own lines, entities are decoded, scripts and styles are dropped.

``content_check`` is run when a reply is composed (the preview) and again when it is queued:
attachments where the marketplace takes none, a message over its length limit, a
conversation the seller may not start. Each problem has a code and a sentence saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "pre",
    "hr",
}
_SKIP = {"script", "style", "head", "title"}


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.links: list[tuple[str, int]] = []  # (href, position in out where its text starts)
        self.skip = 0
        self.pre = 0

    def _newlines(self, count: int) -> None:
        text = "".join(self.out)
        trailing = len(text) - len(text.rstrip("\n"))
        if not text.strip():
            return
        if trailing < count:
            self.out.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            self._newlines(1)
            depth = max(len(self.lists) - 1, 0)
            marker = "- "
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}. "
            self.out.append("  " * depth + marker)
        elif tag in _BLOCKS:
            self._newlines(2)
            if tag == "pre":
                self.pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, len(self.out)))
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt:
                self.out.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag in _BLOCKS:
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
            self._newlines(2)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href and not href.lower().startswith(("javascript:", "data:")):
                target = href[7:] if href.lower().startswith("mailto:") else href
                if not label:
                    self.out.append(target)
                elif label != target:
                    self.out.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            # HTML collapses white space; line breaks in the source are not line breaks.
            data = re.sub(r"\s+", " ", data)
            text = "".join(self.out)
            if not text or text.endswith(("\n", " ")):
                data = data.lstrip(" ")
        self.out.append(data)


def html_to_text(html: str) -> str:
    """The plain text a reader sees in ``html`` (see the module's docstring)."""
    maker = _TextMaker()
    maker.feed(html or "")
    maker.close()
    text = "".join(maker.out)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def text_to_html(text: str) -> str:
    """Plain text as HTML for marketplaces that take it: paragraphs and line breaks kept,
    everything escaped."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    return "".join(
        "<p>" + "<br>".join(escape(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
        if paragraph.strip()
    )


@dataclass(frozen=True)
class ContentProblem:
    code: str  # attachments_refused, too_long, seller_may_not_write_first, empty
    field: str
    message: str


@dataclass(frozen=True)
class Rendition:
    """A reply as the marketplace will receive it."""

    text: str
    is_html: bool
    problems: tuple[ContentProblem, ...]

    @property
    def sendable(self) -> bool:
        return not self.problems


def as_marketplace_shows(marketplace: Marketplace, body: str, *, is_html: bool) -> tuple[str, bool]:
    """(text, is_html) of ``body`` on ``marketplace``: converted to plain text where it takes
    no HTML."""
    if is_html and not marketplace.html_allowed:
        return html_to_text(body), False
    if is_html:
        return body.strip(), True
    return (body or "").strip(), False


def content_check(
    marketplace: Marketplace,
    body: str,
    *,
    is_html: bool,
    attachment_count: int = 0,
    starts_conversation: bool = False,
) -> Rendition:
    """The reply as ``marketplace`` shows it, and every rule it breaks there."""
    text, html = as_marketplace_shows(marketplace, body, is_html=is_html)
    problems: list[ContentProblem] = []
    readable = html_to_text(text) if html else text
    if not readable.strip():
        problems.append(ContentProblem("empty", "body", _("Write the reply first.")))
    if attachment_count and not marketplace.attachments_allowed:
        problems.append(
            ContentProblem(
                "attachments_refused",
                "attachments",
                _(
                    "%(marketplace)s takes no attachments in messages: remove the "
                    "%(count)d file(s), or send an upload link instead."
                )
                % {"marketplace": marketplace.name, "count": attachment_count},
            )
        )
    limit = marketplace.max_message_length
    if limit is not None and len(text) > limit:
        problems.append(
            ContentProblem(
                "too_long",
                "body",
                _(
                    "%(marketplace)s takes messages of at most %(limit)s characters; this one "
                    "has %(length)s."
                )
                % {"marketplace": marketplace.name, "limit": limit, "length": len(text)},
            )
        )
    if starts_conversation and not marketplace.seller_may_write_first:
        problems.append(
            ContentProblem(
                "seller_may_not_write_first",
                "conversation",
                _(
                    "%(marketplace)s lets the seller only answer messages: a conversation "
                    "cannot be started from here."
                )
                % {"marketplace": marketplace.name},
            )
        )
    return Rendition(text=text, is_html=html, problems=tuple(problems))
