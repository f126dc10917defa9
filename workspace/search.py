"""The case list's search box: one term, matched against what agents paste in.

A case reference, a marketplace claim id, an order id or an e-mail match exactly; any other
term is also looked for inside customer names. Each is found through its own index, in two
queries whatever the size of the tables: the matching orders, then the matching cases (a UNION
of one indexed lookup per identifier). The list then shows those cases. One query with an OR
across the case and order tables would make the database read both tables (seconds at a
million cases).
"""

from __future__ import annotations

import re

from django.db.models import Q

from cases.models import Case, Order

REFERENCE = re.compile(r"^AS-\d{4}-\d{1,9}$", re.IGNORECASE)
# A search is for finding a case; past this many matches the agent narrows it down.
MAX_MATCHES = 1000


def case_search_q(term: str) -> Q | None:
    """The condition a search for ``term`` adds to the case list, or None for no search."""
    term = " ".join(term.split())
    if not term:
        return None
    if REFERENCE.match(term):
        return Q(reference=term.upper())
    order_match = Q(external_id=term)
    if "@" in term:
        order_match |= Q(customer_email__iexact=term)
    else:
        order_match |= Q(customer_name__icontains=term)
    orders = list(
        Order.objects.filter(order_match).order_by().values_list("pk", flat=True)[:MAX_MATCHES]
    )
    lookups = [
        Case.objects.filter(reference=term.upper()),
        Case.objects.filter(external_claim_id=term),
    ]
    if orders:
        lookups.append(Case.objects.filter(order_id__in=orders))
    first, *rest = (lookup.order_by().values_list("pk", flat=True) for lookup in lookups)
    cases = list(first.union(*rest)[:MAX_MATCHES])
    return Q(pk__in=cases)
