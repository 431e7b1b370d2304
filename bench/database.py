import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.test.utils import setup_test_environment, teardown_test_environment


@contextmanager
def throwaway_database():
    """Run inside a database made for this run and dropped after it, never the developer's.

    Django's test-database machinery only ever connects to the new database (PostgreSQL's CREATE and DROP DATABASE
    go through the `postgres` maintenance database), so db.sqlite3 or the DATABASE_URL database is never opened.
    """
    setup_test_environment(debug=False)
    original_name = connection.settings_dict["NAME"]
    with tempfile.TemporaryDirectory(prefix="omnitron-bench-") as directory:
        if connection.vendor == "sqlite":
            # A file rather than memory, so the figures include the disk the development server uses too.
            connection.settings_dict["TEST"]["NAME"] = str(Path(directory) / "bench.sqlite3")
        else:
            # Beside, not over, the test_ database a pytest run may be using at the same time.
            connection.settings_dict["TEST"]["NAME"] = f"{original_name}_bench"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            yield
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)
            teardown_test_environment()
