"""The case list's own ChangeList: the page size an agent chooses (``?per_page=``), and the
words of its total (exact, estimated, or "more than")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.utils.formats import number_format
from django.utils.translation import gettext as _

PER_PAGE_VAR = "per_page"
PAGE_SIZES = (25, 50, 100, 200)


def chosen_page_size(request: Any, default: int) -> int:
    """The page size asked for, when it is one of ``PAGE_SIZES``; else ``default``."""
    asked = request.GET.get(PER_PAGE_VAR, "")
    return int(asked) if asked in {str(size) for size in PAGE_SIZES} else default


class CaseChangeList(ChangeList):
    """Reads ``per_page`` itself (it is no filter) and keeps it in every link of the list."""

    def __init__(self, request: Any, *args: Any, **kwargs: Any) -> None:
        # ChangeList(request, model, list_display, list_display_links, list_filter,
        # date_hierarchy, search_fields, list_select_related, list_per_page, ...)
        given = list(args)
        if len(given) >= 8:
            given[7] = chosen_page_size(request, given[7])
        super().__init__(request, *given, **kwargs)

    def get_filters_params(self, params: Any = None) -> Any:
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(PER_PAGE_VAR, None)
        return lookup_params

    def page_size_links(self) -> list[dict[str, Any]]:
        return [
            {
                "size": size,
                "current": size == self.list_per_page,
                "url": self.get_query_string({PER_PAGE_VAR: size}, remove=["p"]),
            }
            for size in PAGE_SIZES
        ]


@dataclass(frozen=True)
class ListTotal:
    """How many cases a list has, worded truthfully: "1,001", "about 150,000" (the database's
    estimate) or "more than 1,000" (counted up to the limit only)."""

    count: int
    is_estimate: bool
    is_lower_bound: bool
    exact_limit: int

    @property
    def text(self) -> str:
        if self.is_estimate:
            return _("about %(count)s") % {"count": number_format(self.count, force_grouping=True)}
        if self.is_lower_bound:
            return _("more than %(count)s") % {
                "count": number_format(self.exact_limit, force_grouping=True)
            }
        return number_format(self.count, force_grouping=True)


def list_total(changelist: Any) -> ListTotal:
    paginator = changelist.paginator
    return ListTotal(
        count=changelist.result_count,
        is_estimate=bool(getattr(paginator, "is_estimate", False)),
        is_lower_bound=bool(getattr(paginator, "is_lower_bound", False)),
        exact_limit=int(getattr(paginator, "exact_limit", 0)),
    )
