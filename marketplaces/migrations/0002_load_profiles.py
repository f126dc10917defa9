from django.db import migrations


def load(apps, schema_editor):
    from marketplaces.profiles import load_profiles

    load_profiles(apps.get_model("marketplaces", "Marketplace"))


class Migration(migrations.Migration):
    dependencies = [("marketplaces", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
