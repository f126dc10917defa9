"""Scorecards: each metric of a marketplace with its figures, level and the rows behind it.

Plain functions for the API, the admin dashboard, the jobs and the commands, by sub-domain:

* ``evaluation``: ``scorecard(marketplace=, as_of=, window_days=30)``, every metric of the
  marketplace; ``metric_evaluate(...)`` one metric; ``metric_records(...)`` the rows behind it;
* ``policies``: the marketplace's policies and the level a value reaches (``level_of``);
* ``formatting``: how values and levels read;
* ``what_if``: ``refund_rejection_rate_if_rejected(case= | refund_request=)``, the "what if"
  shown before a supervisor rejects;
* ``trends``: ``scorecard_trend(...)``, a metric's weekly values (snapshots, computed where
  missing); ``scorecard_dashboard(...)``, every active marketplace's scorecard and trend;
* ``snapshots``: ``snapshot_take(...)`` / ``snapshots_take_all(...)``, the daily snapshots;
* ``rates``: ``refund_rejection_rate(...)`` and ``platform_assistance_rate(...)`` over a plain
  window (the support dashboard's figures), ``window_bounds(...)``.
"""

from .evaluation import (
    DEFAULT_WINDOW_DAYS,
    ScorecardMetric,
    metric_evaluate,
    metric_records,
    scorecard,
    today_for,
)
from .formatting import band_text, format_duration, format_value
from .policies import level_of, policies_for, policies_install_defaults, policy_for
from .rates import Metric, platform_assistance_rate, refund_rejection_rate, window_bounds
from .snapshots import snapshot_take, snapshots_take_all
from .trends import (
    MarketplaceScorecard,
    TrendPoint,
    scorecard_dashboard,
    scorecard_trend,
    trend_dates,
)
from .what_if import (
    RefundRejectionWhatIf,
    refund_rejection_rate_applies,
    refund_rejection_rate_if_approved,
    refund_rejection_rate_if_rejected,
)

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "MarketplaceScorecard",
    "Metric",
    "RefundRejectionWhatIf",
    "ScorecardMetric",
    "TrendPoint",
    "band_text",
    "format_duration",
    "format_value",
    "level_of",
    "metric_evaluate",
    "metric_records",
    "platform_assistance_rate",
    "policies_for",
    "policies_install_defaults",
    "policy_for",
    "refund_rejection_rate",
    "refund_rejection_rate_applies",
    "refund_rejection_rate_if_approved",
    "refund_rejection_rate_if_rejected",
    "scorecard",
    "scorecard_dashboard",
    "scorecard_trend",
    "snapshot_take",
    "snapshots_take_all",
    "today_for",
    "trend_dates",
    "window_bounds",
]
