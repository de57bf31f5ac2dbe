"""Spark backend for data that no longer fits on one machine; pyspark is imported lazily.

The DuckDB SQL of the analyses is translated with sqlglot and run on a real ``SparkSession``
(local mode on one machine, a cluster in production). pyspark is an optional extra
(``palermo[spark]``) and needs a Java runtime (17 or 21), so importing this module must not require
either: only starting a session does, and a missing one is a :class:`ConfigurationError` that says
what to install.

A case's ingest tables reach Spark over Arrow, in memory: :meth:`SparkBackend.load_duckdb_tables`
hands one case's rows from the workspace's DuckDB file to a session as views under the same names,
so the indicator catalogue runs unchanged on either engine (tests compare the two hit for hit).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from palermo.analytics.backends.base import Backend, transpile
from palermo.analytics.tables import table_exists
from palermo.errors import ConfigurationError


def java_available() -> bool:
    """Whether a Java runtime is reachable the way pyspark looks for one (``JAVA_HOME``, then PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


#: The process's private Spark scratch folder (shuffle and spill files), created with the session.
_scratch: Path | None = None


def spark_session(*, cores: int | None = None, app_name: str = "palermo") -> Any:
    """A local Spark session configured for Palermo's analyses, or the one already running.

    Victim data first: Spark writes shuffle and spill files of the evidence it reads; they go to a
    private folder (0700) of this process, removed when the process ends, and are encrypted
    (``spark.io.encryption.enabled``, a per-application key), so even a crash leaves no readable
    copy; its internal connections are authenticated and encrypted too (a random secret per
    process), so the IO key never crosses a network in the clear on a cluster.

    Then: UTC session time zone (the hour-of-day indicators must read timestamps as DuckDB does),
    no web UI or console progress (the CLI draws its own), few shuffle partitions (the default 200
    is for clusters), loopback networking unless the caller chose an address, and Splink's
    string-similarity UDF jar, which ships inside the splink wheel, so name matching needs no
    download.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigurationError("the Spark backend needs pyspark: pip install 'palermo[spark]'") from exc
    if not java_available():
        raise ConfigurationError(
            "the Spark backend needs a Java runtime (17 or 21): set JAVA_HOME or install one "
            "(Debian: apt install openjdk-17-jre-headless)"
        )
    from splink.backends.spark import similarity_jar_location

    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="palermo-spark-local-"))  # mode 0700
        atexit.register(_stop, _scratch)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    n = cores or os.cpu_count() or 2
    return (
        SparkSession.builder.master(f"local[{n}]")
        .appName(app_name)
        .config("spark.local.dir", str(_scratch))
        .config("spark.io.encryption.enabled", "true")
        .config("spark.authenticate", "true")
        .config("spark.authenticate.secret", secrets.token_hex(32))
        .config("spark.network.crypto.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(2 * n))
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )


def _stop(scratch: Path) -> None:
    """At exit: stop Spark (it lets go of its files) and delete the scratch folder."""
    try:
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def require_private_io(session: Any) -> None:
    """Refuse a session that would write evidence to disk in the clear (shuffle and spill files).

    A session made by :func:`spark_session` passes; one built elsewhere needs
    ``spark.io.encryption.enabled=true`` (and should have a private ``spark.local.dir``)."""
    conf = session.sparkContext.getConf()
    if conf.get("spark.io.encryption.enabled", "false").lower() != "true":
        raise ConfigurationError(
            "this Spark session writes shuffle and spill files unencrypted: start it with "
            "spark.io.encryption.enabled=true and a private spark.local.dir "
            "(palermo.analytics.backends.spark.spark_session does)",
            location="spark",
        )


@contextmanager
def isolated(session: Any) -> Iterator[Any]:
    """A fresh session on the same Spark context, emptied again on exit.

    Temporary views are per session, so two analyses in one process (two cases, say) cannot read
    each other's ``payments`` or Splink's ``__splink__input_table_0``; on exit every view of the
    session is uncached and dropped, so no copy of the evidence stays in Spark's memory."""
    require_private_io(session)
    own = session.newSession()
    try:
        yield own
    finally:
        release(own)


def release(session: Any) -> None:
    """Uncache and drop every temporary view of ``session`` (Splink persists its working tables).

    Every view is tried even if one fails; the first failure is raised at the end."""
    errors: list[Exception] = []
    for table in session.catalog.listTables():
        if not table.isTemporary:
            continue
        for step in (session.catalog.uncacheTable, session.catalog.dropTempView):
            try:
                step(table.name)
            except Exception as exc:  # collected, raised below once every view was tried
                errors.append(exc)
    if errors:
        raise errors[0]


class SparkBackend(Backend):
    """Runs translated SQL on a ``pyspark.sql.SparkSession``; ``$name`` parameters become ``:name``."""

    dialect = "spark"

    def __init__(self, session: Any | None = None) -> None:
        self.session = session if session is not None else spark_session()
        require_private_io(self.session)
        self._columns: Sequence[str] = ()

    def _sql(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        spark_sql = transpile(sql, self.dialect)  # sqlglot writes DuckDB's $name as Spark's :name
        return self.session.sql(spark_sql, args=dict(params) if params else None)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        frame = self._sql(sql, params)
        self._columns = list(frame.columns)
        return [tuple(r) for r in frame.collect()]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._sql(sql, params).collect()

    def columns(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[str]:
        return self._columns

    def table_exists(self, name: str) -> bool:
        """Whether a table or temporary view of that name is registered in the session."""
        return bool(self.session.catalog.tableExists(name))

    def load_duckdb_tables(
        self, con: Any, tables: Iterable[str], *, case_ref: str | None = None
    ) -> list[str]:
        """Hand tables (one case's rows, when ``case_ref`` is given) from DuckDB to this session as
        views of the same names; returns the tables loaded.

        The rows go over Arrow, in memory: no copy of the evidence is written for Spark to read
        (a Parquet hand-over was twice as fast but left a plain-text copy of the case on disk if the
        process died). With IO encryption on, pyspark sends the batches to the JVM over a local
        socket rather than through a temporary file. Tables the DuckDB file does not have are
        skipped, as the analyses skip indicators whose sources were never imported.
        """
        loaded = []
        for table in tables:
            if not table_exists(con, table):
                continue
            where = "WHERE case_ref = $case_ref" if case_ref is not None else ""
            rows = con.execute(
                f"SELECT * FROM {table} {where}", {"case_ref": case_ref} if case_ref is not None else None
            ).to_arrow_table()
            self.session.createDataFrame(rows).createOrReplaceTempView(table)
            loaded.append(table)
        return loaded
