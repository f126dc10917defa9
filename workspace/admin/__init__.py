"""The support workspace in the Django admin: every admin class of the cases models (the case
list and the case page, orders, evidence and evidence requests, refund requests, the audit
trail) and the workspace's own pages (dashboard, saved lists), one module per screen.

The models stay in ``cases`` (so the admin URLs keep their names, ``admin:cases_case_changelist``
and so on); the screens live here, above the apps whose data they show.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import (
    answer_templates,
    cases,
    dashboard,
    events,
    evidence,
    inbox,
    orders,
    privacy,
    refunds,
    returns,
    saved_views,
)

__all__ = [
    "answer_templates",
    "cases",
    "dashboard",
    "events",
    "evidence",
    "inbox",
    "orders",
    "privacy",
    "refunds",
    "returns",
    "saved_views",
]

admin.site.site_header = _("aftersales · support workspace")
admin.site.site_title = _("aftersales")
admin.site.index_title = _("Work queues")
# The case list needs the width: its filters are on the right, the header links to the rest.
admin.site.enable_nav_sidebar = False
