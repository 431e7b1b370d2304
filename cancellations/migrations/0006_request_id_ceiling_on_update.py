import importlib

from django.db import migrations

# A request whose channel or date_placed changes (neither ever does in the services; an operator's correction
# might) gets the ceiling of its new (channel, day), so it stays in the date-bounded lists. Row by row, and only
# for such rows: an update that leaves both columns as they were does not run it.
POSTGRESQL_TRIGGER = """
CREATE FUNCTION cancellations_request_id_ceiling_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cancellations_requestidceiling (channel_id, day, id_ceiling)
    VALUES (NEW.channel_id, (NEW.date_placed AT TIME ZONE 'UTC')::date, NEW.id | 1023)
    ON CONFLICT (channel_id, day) DO UPDATE
    SET id_ceiling = GREATEST(cancellations_requestidceiling.id_ceiling, EXCLUDED.id_ceiling);
    RETURN NULL;
END
$$;
CREATE TRIGGER cancellations_request_id_ceiling_moved
AFTER UPDATE OF channel_id, date_placed ON cancellations_cancellationrequest FOR EACH ROW
WHEN (OLD.channel_id IS DISTINCT FROM NEW.channel_id OR OLD.date_placed IS DISTINCT FROM NEW.date_placed)
EXECUTE FUNCTION cancellations_request_id_ceiling_moved();
"""
POSTGRESQL_DROP = """
DROP TRIGGER cancellations_request_id_ceiling_moved ON cancellations_cancellationrequest;
DROP FUNCTION cancellations_request_id_ceiling_moved();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER cancellations_request_id_ceiling_moved
AFTER UPDATE OF channel_id, date_placed ON cancellations_cancellationrequest
WHEN OLD.channel_id IS NOT NEW.channel_id OR OLD.date_placed IS NOT NEW.date_placed
BEGIN
    INSERT INTO cancellations_requestidceiling (channel_id, day, id_ceiling)
    SELECT NEW.channel_id, date(NEW.date_placed), NEW.id | 1023 WHERE true
    ON CONFLICT (channel_id, day) DO UPDATE SET id_ceiling = max(id_ceiling, excluded.id_ceiling);
END;
"""
SQLITE_DROP = "DROP TRIGGER cancellations_request_id_ceiling_moved;"

ceiling = importlib.import_module("cancellations.migrations.0005_request_id_ceiling")


def trigger_create(apps, schema_editor):
    ceiling.run_for_vendor(schema_editor, {"postgresql": POSTGRESQL_TRIGGER, "sqlite": SQLITE_TRIGGER})


def trigger_drop(apps, schema_editor):
    ceiling.run_for_vendor(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [("cancellations", "0005_request_id_ceiling")]

    operations = [migrations.RunPython(trigger_create, trigger_drop)]
