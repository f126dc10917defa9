"""The shipped customs clearance reminder texts in English, French and Simplified Chinese
(staff edit them in the admin; this never overwrites an edit)."""

from django.db import migrations


def install(apps, schema_editor):
    from jobs.clearance_texts import TEMPLATES

    template_model = apps.get_model("jobs", "ClearanceReminderTemplate")
    for language, (subject, body) in TEMPLATES.items():
        template_model.objects.get_or_create(
            language=language, marketplace=None, defaults={"subject": subject, "body": body}
        )


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
