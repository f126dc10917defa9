"""The shipped metric policies for the marketplaces that exist (editable afterwards)."""

from django.db import migrations


def install(apps, schema_editor):
    from scorecards.defaults import default_policies

    marketplace_model = apps.get_model("marketplaces", "Marketplace")
    policy_model = apps.get_model("scorecards", "MetricPolicy")
    band_model = apps.get_model("scorecards", "MetricBand")
    for marketplace in marketplace_model.objects.all():
        if policy_model.objects.filter(marketplace=marketplace).exists():
            continue
        for position, spec in enumerate(default_policies(marketplace.code)):
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
    dependencies = [
        ("scorecards", "0001_initial"),
        ("marketplaces", "0002_load_profiles"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
