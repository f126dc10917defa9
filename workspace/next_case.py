""" "Next case": the case after this one in the list the agent came from, with that list's
filters, search and order.

The list is the one in ``_changelist_filters`` (the admin adds it to every link of the list),
else the last case list this user opened (remembered in the session, so that the link still
works after an action on the case page redirected without it). Only the agent's page of the
list and the next one are read: never the whole list.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

SESSION_KEY = "workspace_case_list"
FILTERS_VAR = "_changelist_filters"


def remember_list(request: Any) -> None:
    """Called by the case list: its query string is the list "next case" walks."""
    query = request.GET.urlencode()
    if request.session.get(SESSION_KEY) != query:  # a session write only when it changes
        request.session[SESSION_KEY] = query


def list_query(request: Any) -> str:
    """The query string of the list the agent came from ("" for the default list)."""
    if FILTERS_VAR in request.GET:
        return request.GET[FILTERS_VAR]
    return request.session.get(SESSION_KEY, "")


@dataclass(frozen=True)
class NextCase:
    pk: int
    # The list's query string, its page moved on when the next case is on the next page.
    query: str


def next_case(model_admin: Any, request: Any, current_pk: int) -> NextCase | None:
    """The case after ``current_pk`` in the agent's list, or None at the end of the list.

    When the current case has left the list (closed by the agent's action, say), the next one
    is the first case of the agent's page still in it."""
    query = QueryDict(list_query(request), mutable=True)
    listing = copy.copy(request)
    listing.GET = query
    changelist = model_admin.get_changelist_instance(listing)
    size = changelist.list_per_page
    page = changelist.page_num if changelist.page_num >= 1 else 1
    start = (page - 1) * size
    # This page and the next, in the list's order.
    window = list(changelist.queryset.values_list("pk", flat=True)[start : start + 2 * size])
    index = window.index(current_pk) + 1 if current_pk in window else 0
    candidates = [pk for pk in window[index:] if pk != current_pk]
    if not candidates:
        return None
    found = candidates[0]
    if window.index(found) >= size:
        query["p"] = str(page + 1)
    return NextCase(found, query.urlencode())
