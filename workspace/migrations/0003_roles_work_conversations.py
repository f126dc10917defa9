"""Agents work conversations in the inbox; supervisors also edit the answer templates."""

from django.db import migrations


def grant(apps, schema_editor):
    from workspace.roles import roles_install

    roles_install(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0002_roles_see_lockouts"),
        ("messaging", "0007_inbox_order_indexes"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
