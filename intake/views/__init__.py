"""Views of the evidence intake: the upload form reached by a link (``form``) and the file views
(``files``). Every view reached by a link goes through the one link guard (``guard``); what the
pages share (language, headers, refusals) is in ``pages``."""

from .files import evidence_file, evidence_thumbnail, link_file, link_thumbnail
from .form import upload
from .guard import LinkVisit, link_guard
from .pages import choose_language, link_error_page

__all__ = [
    "LinkVisit",
    "choose_language",
    "evidence_file",
    "evidence_thumbnail",
    "link_error_page",
    "link_file",
    "link_guard",
    "link_thumbnail",
    "upload",
]
