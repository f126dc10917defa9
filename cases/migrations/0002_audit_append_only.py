"""The audit trail is append-only in the database itself, not only in Python: an UPDATE of a
case event fails whatever the client. (DELETE is left to PROTECT foreign keys and the ORM
guards, so that test databases can still be flushed.)"""

from django.db import migrations

SQLITE_UP = """
CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS cases_caseevent_no_update;"

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION cases_caseevent_no_update() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'case events are append-only' USING ERRCODE = 'restrict_violation'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
FOR EACH ROW EXECUTE FUNCTION cases_caseevent_no_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_no_update();
"""


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(up, down)]
