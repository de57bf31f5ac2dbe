"""Engines and migrations: one place that knows SQLite from PostgreSQL.

SQLite is the embedded default, so it must be as durable as a server: WAL journal (readers never
block the writer) and ``synchronous=FULL`` (a committed transaction survives power loss), set on
*every* connection because SQLite pragmas are per connection. Foreign keys are off by default in
SQLite and switched on here too.

Schema changes only ever happen through Alembic (``store/migrations``), run programmatically by
:func:`upgrade` when a workspace is created or opened, so an old workspace is brought up to date
before any code touches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from palermo.errors import ConfigurationError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Start SQLite transactions ourselves: ``BEGIN IMMEDIATE`` for writers, plain ``BEGIN`` for readers.

    A writer that starts as a reader (the default ``BEGIN DEFERRED``) and later writes fails with
    SQLITE_BUSY if another process committed in between; taking the write lock up front makes
    concurrent writers queue (``busy_timeout``) instead, so hash chains never see a stale head.
    """
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('palermo_begin', 'DEFERRED')}")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite connections get the durability pragmas on connect."""
    try:
        if url.startswith("sqlite"):
            # isolation_level=None stops pysqlite from issuing its own BEGIN; _sqlite_begin does it.
            engine = create_engine(url, connect_args={"timeout": 10, "isolation_level": None})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise ConfigurationError(f"cannot use database: {exc}", location="database_url") from exc
    return engine


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise ConfigurationError(
            f"cannot migrate the database: {exc.orig}", location=str(engine.url)
        ) from exc


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` drops every table)."""
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped in the package."""
    return ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()


class Database:
    """An engine plus a session factory; :meth:`transaction` is the unit of work of every service."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writes = sessionmaker(
            self.engine.execution_options(palermo_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._reads = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One writing session, committed on success and rolled back on any error (audit included)."""
        session = self._writes()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read-only unit of work (never commits; SQLite readers do not take the write lock)."""
        session = self._reads()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
