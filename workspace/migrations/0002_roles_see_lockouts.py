"""Supervisors see failed logins and lockouts (django-axes) and may lift a lockout."""

from django.db import migrations


def grant(apps, schema_editor):
    from workspace.roles import roles_install

    roles_install(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0001_initial"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
