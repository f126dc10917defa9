"""Saved case lists can be shared with the team; agents see and answer return requests."""

from django.db import migrations, models


def grant(apps, schema_editor):
    from workspace.roles import roles_install

    roles_install(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0002_roles_see_lockouts"),
        ("cases", "0010_event_types_returns_and_erasure"),
    ]

    operations = [
        migrations.AddField(
            model_name="savedview",
            name="shared",
            field=models.BooleanField(
                default=False,
                help_text="Every member of the support team sees the list on their home page.",
                verbose_name="shared with the team",
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
