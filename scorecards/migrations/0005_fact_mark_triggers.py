"""Database triggers that mark the days whose scorecard facts may have changed.

Every insert, update and delete of a row a metric reads marks the row's local days (before and
after the change) in ``scorecards_scorecardfactmark``, whatever wrote it: a service, a bulk
import, ``QuerySet.update()``, the admin or SQL. On PostgreSQL one statement-level trigger per
operation writes each distinct (marketplace, local day) of the statement once, converted with
the marketplace's time zone; SQLite has no statement triggers, so a row trigger writes the
moments and the facts job turns them into local days.
"""

from django.db import migrations

# table -> (moment columns, date columns, extra moments as SQL over the row alias "r")
SOURCES = {
    "cases_order": (
        ["placed_at", "shipped_at", "picked_up_at", "delivered_at"],
        ["promised_ship_date"],
        [],
    ),
    # A case also moves the missing/damaged figure of its order's shipping day (Faire).
    "cases_case": (
        ["opened_at"],
        [],
        ["(SELECT o.shipped_at FROM cases_order o WHERE o.id = {r}.order_id)"],
    ),
    "cases_refundrequest": (["decided_at"], [], []),
    "cases_returnrequest": (["requested_at"], [], []),
    "messaging_message": (["received_at"], [], []),
    "scorecards_customerservicesurvey": (["answered_at"], [], []),
    "scorecards_sellerfeedback": (["left_at"], [], []),
}
MARKS = "scorecards_scorecardfactmark"


def _pg_select(table: str, rows: str) -> str:
    moments, dates, extra = SOURCES[table]
    values = [f"(({rows}.{c} AT TIME ZONE m.time_zone)::date)" for c in moments]
    values += [f"(({e.format(r=rows)} AT TIME ZONE m.time_zone)::date)" for e in extra]
    values += [f"({rows}.{c})" for c in dates]
    return (
        f"INSERT INTO {MARKS} (marketplace_id, day) "
        f"SELECT DISTINCT {rows}.marketplace_id, v.day FROM {rows} "
        f"JOIN marketplaces_marketplace m ON m.id = {rows}.marketplace_id "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) AS v(day) WHERE v.day IS NOT NULL;"
    )


def postgres_up(table: str) -> str:
    name = f"scorecards_mark_{table}"
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN {_pg_select(table, "new_rows")} END IF;
  IF TG_OP <> 'INSERT' THEN {_pg_select(table, "old_rows")} END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER {name}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {name}();
CREATE TRIGGER {name}_upd AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {name}();
CREATE TRIGGER {name}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


def postgres_down(table: str) -> str:
    name = f"scorecards_mark_{table}"
    return (
        "".join(f"DROP TRIGGER IF EXISTS {name}_{op} ON {table};" for op in ("ins", "upd", "del"))
        + f"DROP FUNCTION IF EXISTS {name}();"
    )


def _sqlite_body(table: str, row: str) -> str:
    moments, dates, extra = SOURCES[table]
    parts = [
        f"SELECT {row}.marketplace_id, NULL, {row}.{c} WHERE {row}.{c} IS NOT NULL" for c in moments
    ]
    parts += [
        f"SELECT {row}.marketplace_id, NULL, {e.format(r=row)} WHERE {e.format(r=row)} IS NOT NULL"
        for e in extra
    ]
    parts += [
        f"SELECT {row}.marketplace_id, {row}.{c}, NULL WHERE {row}.{c} IS NOT NULL" for c in dates
    ]
    return f"INSERT INTO {MARKS} (marketplace_id, day, moment) {' UNION ALL '.join(parts)};"


def sqlite_up(table: str) -> list[str]:
    name = f"scorecards_mark_{table}"
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} BEGIN "
        f"{_sqlite_body(table, 'NEW')} END;",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} BEGIN "
        f"{_sqlite_body(table, 'OLD')} {_sqlite_body(table, 'NEW')} END;",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} BEGIN "
        f"{_sqlite_body(table, 'OLD')} END;",
    ]


def sqlite_down(table: str) -> list[str]:
    name = f"scorecards_mark_{table}"
    return [f"DROP TRIGGER IF EXISTS {name}_{op};" for op in ("ins", "upd", "del")]


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in SOURCES:
        if vendor == "postgresql":
            schema_editor.execute(postgres_up(table))
        elif vendor == "sqlite":
            for statement in sqlite_up(table):
                schema_editor.execute(statement)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in SOURCES:
        if vendor == "postgresql":
            schema_editor.execute(postgres_down(table))
        elif vendor == "sqlite":
            for statement in sqlite_down(table):
                schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0004_daily_facts_surveys_feedback"),
        ("cases", "0011_order_last_tracking_event_at"),
        ("messaging", "0007_inbox_order_indexes"),
    ]

    operations = [migrations.RunPython(up, down)]
