"""Every view reached by an upload link goes through the one link guard (``intake.views.guard``);
what the guard answers is tested through the views (test_links.py, test_ratelimit.py...)."""

from intake import urls
from intake.views.guard import link_guard

# The code of the function link_guard wraps a view in, whatever the view.
GUARDED = link_guard()(lambda request, visit: None).__code__


def behind_the_guard(view) -> bool:
    """Unwrap Django's decorators (csrf_exempt, require_safe) looking for the guard."""
    while view is not None:
        if view.__code__ is GUARDED:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_every_view_reached_by_a_link_is_behind_the_guard():
    by_link = {p.name: p.callback for p in urls.urlpatterns if "<str:token>" in str(p.pattern)}

    assert sorted(by_link) == ["link-file", "link-thumbnail", "upload"]
    assert [name for name, view in by_link.items() if not behind_the_guard(view)] == []


def test_staff_file_views_are_not_link_views():
    staff = {p.name: p.callback for p in urls.urlpatterns if "<str:token>" not in str(p.pattern)}

    assert sorted(staff) == ["evidence-file", "evidence-thumbnail"]
    assert [name for name, view in staff.items() if behind_the_guard(view)] == []
