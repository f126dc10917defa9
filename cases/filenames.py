"""The names of uploaded files: one rule, applied by ``evidence_add`` whatever the door.

A file's name is only a label: evidence is stored under a random name (``evidence_upload_to``)
and served under a name made from the label. Still, the label is shown to staff (case page,
admin, timeline), put in downloads' ``Content-Disposition`` and sent in webhooks, so it must
read as what it is. ``evidence_file_name`` makes it so, the same way for the upload form (which
passes names as the client sent them), the API and the admin (where Django's parser has already
cut the name down to its last part):

* path parts are dropped, with ``/`` and ``\\`` both taken as separators: ``../../x.jpg`` and
  ``C:\\Users\\me\\x.jpg`` are stored as ``x.jpg`` (nothing is ever written at that path);
* characters that are not printable are removed: NUL and other control characters, the
  bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E, U+2066-U+2069,
  U+200E, U+200F, U+061C) that make ``invoice<RLO>exe.jpg`` read "invoicegpj.exe", zero-width
  and other format characters, line and paragraph separators, and spaces other than the plain
  space (exactly what Django's own multipart parser removes, so every door gives one result);
* the name is normalised (Unicode NFC), and leading dots, trailing dots and outer spaces go;
* a name longer than ``MAX_LENGTH`` characters is shortened, keeping its extension, with "…"
  where it was cut: a long name is no reason to refuse a customer's photo;
* nothing left (a name made only of dots, separators or invisible characters) is refused with
  ``bad_file_name`` and a message that says to give the file a plain name.

A name so long that the request's part headers pass Django's 1 KB limit never reaches this
code: each door answers it with ``too_long_to_read_message`` instead of a parser error.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from .errors import ErrorCode, EvidenceRefused

MAX_LENGTH = 120
ELLIPSIS = "…"
_SEPARATORS = re.compile(r"[\\/]")
_EXTENSION = re.compile(r"^[^\W_]{1,10}$")
# What a door may show of a refused name: printable, short.
_SHOWN = 60


def _printable(text: str) -> str:
    return "".join(char for char in text if char.isprintable())


def shown_name(raw: str) -> str:
    """A raw name made safe to quote in a message (printable, at most 60 characters)."""
    text = _printable(unicodedata.normalize("NFC", raw or ""))
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + ELLIPSIS


def _shorten(name: str) -> str:
    if len(name) <= MAX_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and _EXTENSION.match(extension)):
        stem, extension = name, ""
    keep = MAX_LENGTH - len(ELLIPSIS) - (len(extension) + 1 if extension else 0)
    # Do not cut a letter from its accents.
    while keep > 0 and unicodedata.combining(stem[keep]):
        keep -= 1
    shortened = stem[:keep].rstrip() + ELLIPSIS
    return f"{shortened}.{extension}" if extension else shortened


def clean_name(raw: str) -> str:
    """The cleaned form of ``raw`` (see the module), or "" when nothing usable is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = _SEPARATORS.split(name)[-1]
    name = unicodedata.normalize("NFC", _printable(name))
    name = name.strip().lstrip(".").rstrip(". ").strip()
    return _shorten(name) if name else ""


def evidence_file_name(raw: str) -> str:
    """The name to store and show for a file the client called ``raw``; raises
    ``EvidenceRefused`` (``bad_file_name``) when nothing of it can be used."""
    name = clean_name(raw)
    if not name:
        shown = shown_name(raw)
        raise EvidenceRefused(
            ErrorCode.BAD_FILE_NAME,
            _(
                "The file name “%(name)s” cannot be used: give the file a plain name, such as "
                "photo.jpg."
            )
            % {"name": shown},
            field="file",
            file_name=shown,
        )
    return name


def too_long_to_read_message() -> str:
    """What every door answers when a file's name is too long for the request to be read."""
    return _(
        "A file name is too long to be read (the limit is about 900 letters, fewer in some "
        "scripts). Rename the file to something shorter, such as photo.jpg, and send it again."
    )


def is_too_long_to_read(error: BaseException) -> bool:
    """Whether a multipart parse error is Django's limit on a part's headers (1 KB), which in
    practice only a file name passes."""
    return "header size exceeded" in str(error)
