"""Names of evidence stored before ``cases.filenames`` existed are cleaned the same way (path
parts, invisible and direction-changing characters, length). Event rows are append-only: their
old copies of a name are cleaned when rendered."""

from django.db import migrations


def clean_stored_names(apps, schema_editor):
    from cases.filenames import clean_name

    Evidence = apps.get_model("cases", "Evidence")
    for pk, name in Evidence.objects.values_list("pk", "original_name").iterator():
        cleaned = clean_name(name) or "evidence"
        if cleaned != name:
            Evidence.objects.filter(pk=pk).update(original_name=cleaned)


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_events_typed_and_email_claims")]

    operations = [migrations.RunPython(clean_stored_names, migrations.RunPython.noop)]
