"""Engine creation and schema migration for any SQLAlchemy URL."""

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
DEFAULT_DATABASE_URL = "sqlite:///var/dale-cloud.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Key of the Postgres advisory lock that serializes migrations of several processes.
MIGRATION_LOCK_KEY = 0x44414C45


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL on every commit, so a record acked after its commit
    # survives a power loss; NORMAL could lose the last commits.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """Create an engine; pooled connections are checked before each use.

    Raises ``ArgumentError`` for a backend other than SQLite or Postgres, because
    the migrations and the ingest SQL are written for those two.
    """
    url = make_url(database_url)
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ArgumentError(
            f"unsupported database backend {url.get_backend_name()!r}: use a "
            "sqlite:/// or postgresql+psycopg2:// URL"
        )
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's ini interpolation treats % specially.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def display_url(database_url: str) -> str:
    """Return the URL with its password masked, for logs and messages."""
    return make_url(database_url).render_as_string(hide_password=True)


def is_schema_current(engine: Engine) -> bool:
    """Return whether the database is at the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def migrate(database_url: str) -> None:
    """Apply every pending migration.

    On Postgres an advisory lock makes processes that start together migrate one
    after the other; the later ones then find nothing to do.
    """
    log.info("migration_started", database=display_url(database_url))
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        command.upgrade(alembic_config(database_url), "head")
        log.info("migration_finished")
        return

    lock_engine = create_engine(url, poolclass=NullPool)
    try:
        with lock_engine.connect() as connection:
            connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            try:
                command.upgrade(alembic_config(database_url), "head")
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"),
                    {"key": MIGRATION_LOCK_KEY},
                )
    finally:
        lock_engine.dispose()
    log.info("migration_finished")
