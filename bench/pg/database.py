"""The throwaway PostgreSQL database of `make bench-pg`: made by the harness, marked as such, dropped after.

The harness refuses a database that exists and holds tables unless it made it: it never drops anyone's data.
"""

import environ
import psycopg
from psycopg import sql

MARKER = "omnitron make bench-pg: throwaway database, dropped by the harness"


class RefusedDatabase(Exception):
    pass


def _settings(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise RefusedDatabase(f"DATABASE_URL must name a PostgreSQL database, not {config['ENGINE']}")
    return config


def _connect(config: dict, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        dbname=dbname,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        autocommit=True,
    )


def _user_tables(config: dict) -> int:
    with _connect(config, config["NAME"]) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()[0]


def database_name(url: str) -> str:
    return _settings(url)["NAME"]


def holds_data_set(url: str) -> bool:
    """Whether the database is one the harness made and holds a data set it built (kept by BENCH_KEEP_DB or
    BENCH_REUSE_DB). The data set is built in one transaction: either all of it is there or none."""
    config = _settings(url)
    with _connect(config, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
    if row is None or row[0] != MARKER:
        return False
    with _connect(config, config["NAME"]) as conn:
        built = conn.execute("SELECT to_regclass('cancellations_cancellationrequest') IS NOT NULL").fetchone()[0]
        return built and conn.execute("SELECT EXISTS (SELECT FROM cancellations_cancellationrequest)").fetchone()[0]


def recreate(url: str) -> str:
    """Drop the database if the harness made it (or it is empty), create it afresh and mark it; return its name."""
    config = _settings(url)
    name = config["NAME"]
    with _connect(config, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None:
            if row[0] != MARKER and _user_tables(config):
                raise RefusedDatabase(
                    f"database {name!r} exists, holds tables and was not made by the benchmark: refusing to drop it. "
                    "Point DATABASE_URL at a database of its own (the default is omnitron_bench)."
                )
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARKER)))
    return name


def drop(url: str) -> None:
    """Drop the database, only if it carries the harness's mark."""
    config = _settings(url)
    with _connect(config, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if row is not None and row[0] == MARKER:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
