"""Each marketplace's metric policies (saved, or its family's shipped defaults) and the level a
value reaches in them."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from marketplaces.models import Marketplace

from ..defaults import default_policies
from ..definitions import METRICS
from ..models import MetricBand, MetricPolicy


def _unsaved_policies(marketplace: Marketplace) -> list[MetricPolicy]:
    policies = []
    for position, spec in enumerate(default_policies(marketplace.code)):
        policy = MetricPolicy(
            marketplace=marketplace,
            metric=spec["metric"],
            position=position,
            window_days=spec.get("window_days"),
            parameters=spec.get("parameters", {}),
            notes=spec.get("notes", ""),
        )
        policy.band_list = [
            MetricBand(position=n, level=level, bound=bound, inclusive=inclusive)
            for n, (level, bound, inclusive) in enumerate(spec["bands"])
        ]
        policies.append(policy)
    return policies


def policies_for(marketplace: Marketplace, *, include_disabled: bool = False) -> list[MetricPolicy]:
    """The marketplace's metric policies with their bands (``band_list``), in order; the
    shipped defaults of its family when none were saved."""
    saved = list(MetricPolicy.objects.filter(marketplace=marketplace).prefetch_related("bands"))
    if not saved:
        return _unsaved_policies(marketplace)
    for policy in saved:
        policy.band_list = list(policy.bands.all())
    return [p for p in saved if include_disabled or p.is_enabled]


def policy_for(marketplace: Marketplace, metric: str) -> MetricPolicy:
    """The marketplace's policy for one metric (unsaved, without bands, if it has none)."""
    for policy in policies_for(marketplace, include_disabled=True):
        if policy.metric == metric:
            return policy
    if metric not in METRICS:
        raise KeyError(f"Unknown metric {metric!r}")
    policy = MetricPolicy(marketplace=marketplace, metric=metric)
    policy.band_list = []
    return policy


def policies_install_defaults(*, marketplace: Marketplace) -> int:
    """Save the shipped policies of the marketplace's family that it does not have yet;
    returns how many were created. Never changes a saved policy."""
    created = 0
    with transaction.atomic():
        existing = set(
            MetricPolicy.objects.filter(marketplace=marketplace).values_list("metric", flat=True)
        )
        for policy in _unsaved_policies(marketplace):
            if policy.metric in existing:
                continue
            policy.save()
            for band in policy.band_list:
                band.policy = policy
            MetricBand.objects.bulk_create(policy.band_list)
            created += 1
    return created


def level_of(
    value: Decimal | None, bands: list[MetricBand], *, lower_is_better: bool
) -> tuple[str | None, str | None]:
    """(level, status) of a value: the first band, best first, that admits it. Status is
    ``good`` for the best band, ``bad`` for the worst, ``warning`` between."""
    if value is None or not bands:
        return None, None
    for index, band in enumerate(bands):
        if band.admits(value, lower_is_better=lower_is_better):
            if index == 0:
                return band.level, "good"
            return band.level, "bad" if index == len(bands) - 1 else "warning"
    return None, None
