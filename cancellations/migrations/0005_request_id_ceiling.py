from datetime import UTC

import django.db.models.deletion
from django.db import migrations, models
from django.db.models.functions import TruncDate

# The trigger that keeps cancellations_requestidceiling (see RequestIdCeiling): after every insert into the request
# table, each (channel, UTC day of date_placed) the new rows touch gets an id ceiling at least as high as their ids,
# rounded up to the end of the id's block of 1024 (`| 1023`). A ceiling that already covers the id is only read,
# so the row is locked once a block, not once a request. PostgreSQL runs it once a statement over the inserted
# rows (a bulk insert upserts each ceiling once, in a fixed order); SQLite, which has only row triggers, once a row.
POSTGRESQL_TRIGGER = """
CREATE FUNCTION cancellations_request_id_ceiling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cancellations_requestidceiling (channel_id, day, id_ceiling)
    SELECT touched.channel_id, touched.day, touched.top | 1023
    FROM (
        SELECT channel_id, (date_placed AT TIME ZONE 'UTC')::date AS day, max(id) AS top
        FROM inserted GROUP BY 1, 2
    ) touched
    WHERE NOT EXISTS (
        SELECT FROM cancellations_requestidceiling ceiling
        WHERE ceiling.channel_id = touched.channel_id AND ceiling.day = touched.day
        AND ceiling.id_ceiling >= touched.top
    )
    ORDER BY touched.channel_id, touched.day
    ON CONFLICT (channel_id, day) DO UPDATE
    SET id_ceiling = GREATEST(cancellations_requestidceiling.id_ceiling, EXCLUDED.id_ceiling);
    RETURN NULL;
END
$$;
CREATE TRIGGER cancellations_request_id_ceiling AFTER INSERT ON cancellations_cancellationrequest
REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION cancellations_request_id_ceiling();
"""
POSTGRESQL_DROP = """
DROP TRIGGER cancellations_request_id_ceiling ON cancellations_cancellationrequest;
DROP FUNCTION cancellations_request_id_ceiling();
"""
# Django stores a datetime on SQLite as UTC text ('2026-11-24 16:30:00.000000'), a date as '2026-11-24'.
SQLITE_TRIGGER = """
CREATE TRIGGER cancellations_request_id_ceiling AFTER INSERT ON cancellations_cancellationrequest
BEGIN
    INSERT INTO cancellations_requestidceiling (channel_id, day, id_ceiling)
    SELECT NEW.channel_id, date(NEW.date_placed), NEW.id | 1023
    WHERE NOT EXISTS (
        SELECT 1 FROM cancellations_requestidceiling
        WHERE channel_id = NEW.channel_id AND day = date(NEW.date_placed) AND id_ceiling >= NEW.id
    )
    ON CONFLICT (channel_id, day) DO UPDATE SET id_ceiling = max(id_ceiling, excluded.id_ceiling);
END;
"""
SQLITE_DROP = "DROP TRIGGER cancellations_request_id_ceiling;"


def run_for_vendor(schema_editor, statements: dict[str, str]) -> None:
    statement = statements.get(schema_editor.connection.vendor)
    if statement is None:
        raise NotImplementedError(f"no request id ceiling trigger for {schema_editor.connection.vendor}")
    schema_editor.execute(statement, params=None)


def trigger_create(apps, schema_editor):
    run_for_vendor(schema_editor, {"postgresql": POSTGRESQL_TRIGGER, "sqlite": SQLITE_TRIGGER})


def trigger_drop(apps, schema_editor):
    run_for_vendor(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


def ceilings_backfill(apps, schema_editor):
    """The exact ceilings of the requests already there. The trigger, made first in this transaction, covers any
    request inserted after; none is inserted meanwhile (creating a trigger locks the table against writes)."""
    Request = apps.get_model("cancellations", "CancellationRequest")
    RequestIdCeiling = apps.get_model("cancellations", "RequestIdCeiling")
    days = (
        Request.objects.annotate(day=TruncDate("date_placed", tzinfo=UTC))
        .values("channel_id", "day")
        .annotate(top=models.Max("id"))
        .order_by()
    )
    RequestIdCeiling.objects.bulk_create(
        (RequestIdCeiling(channel_id=row["channel_id"], day=row["day"], id_ceiling=row["top"]) for row in days),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0004_request_date_placed"),
        ("channels", "0004_channel_webhook_events_db_default"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestIdCeiling",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("id_ceiling", models.BigIntegerField()),
                (
                    "channel",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="channels.channel",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("channel", "day"), name="request_ceiling_channel_day")],
            },
        ),
        migrations.RunPython(trigger_create, trigger_drop),
        migrations.RunPython(ceilings_backfill, migrations.RunPython.noop),
    ]
