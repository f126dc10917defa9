"""The seed metrics' policies (Tmall's abnormal logistics, shipping and response times; Amazon's
Perfect Order Percentage, Customer Service Dissatisfaction Rate and feedback) for marketplaces
that already have saved policies, after their own; and the average delivery time's note made
to agree with its levels (only where staff did not change it)."""

from django.db import migrations

NEW = {
    "abnormal_logistics_rate",
    "average_shipping_time",
    "average_service_response_time",
    "perfect_order_percentage",
    "customer_service_dissatisfaction_rate",
    "seller_feedback_rating",
}
OLD_TMALL_NOTE = (
    "Tmall store-rating levels 3.8 / 4.2 / 4.6 / 5. The 5 and 3.8 edges are published; the "
    "4.6 / 4.2 edge is a configurable default halfway between them."
)


def install(apps, schema_editor):
    from scorecards.defaults import DELIVERY_NOTE, default_policies

    marketplace_model = apps.get_model("marketplaces", "Marketplace")
    policy_model = apps.get_model("scorecards", "MetricPolicy")
    band_model = apps.get_model("scorecards", "MetricBand")
    for marketplace in marketplace_model.objects.all():
        saved = policy_model.objects.filter(marketplace=marketplace)
        if not saved.exists():
            continue  # the shipped defaults apply, new metrics included
        saved.filter(metric="average_delivery_time", notes=OLD_TMALL_NOTE).update(
            notes=DELIVERY_NOTE
        )
        existing = set(saved.values_list("metric", flat=True))
        position = max(saved.values_list("position", flat=True), default=0)
        for spec in default_policies(marketplace.code):
            if spec["metric"] not in NEW or spec["metric"] in existing:
                continue
            position += 1
            policy = policy_model.objects.create(
                marketplace=marketplace,
                metric=spec["metric"],
                position=position,
                window_days=spec.get("window_days"),
                parameters=spec.get("parameters", {}),
                notes=spec.get("notes", ""),
            )
            band_model.objects.bulk_create(
                band_model(policy=policy, position=n, level=level, bound=bound, inclusive=inclusive)
                for n, (level, bound, inclusive) in enumerate(spec["bands"])
            )


class Migration(migrations.Migration):
    dependencies = [("scorecards", "0005_fact_mark_triggers")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
