"""The SQL warehouse behind SQLAlchemy: schema through Alembic, atomic inserts, typed reads.

SQLite by default, PostgreSQL in production; one URL chooses. Every statement is built with SQLAlchemy
Core and bound parameters. The schema is created and migrated only by the Alembic revisions shipped in
`benchmark_pipeline/release/migrations`, run in code (`upgrade`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc

from benchmark_pipeline.release import schema
from benchmark_pipeline.release.errors import (
    PublishConflictError,
    WarehouseNotWritableError,
    WarehouseUnavailableError,
    WarehouseURLError,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
INSERT_CHUNK_ROWS = 5000
_PG_MIGRATION_LOCK_KEY = 7_351_200_401  # pg_advisory_xact_lock key: one schema upgrade at a time
_ADVICE = (
    "make sure the database server is running and reachable, and that the URL (--warehouse-url or "
    "BENCHMARK_WAREHOUSE_URL) names an existing database and a user allowed to use it; then run again"
)
_WRITE_ADVICE = (
    "give the user that runs the pipeline write access (for SQLite: the warehouse file and its folder; for "
    "PostgreSQL: INSERT/CREATE grants on a primary, not a standby), or point --warehouse-url / "
    "BENCHMARK_WAREHOUSE_URL at a writable warehouse; then run again"
)

_SQL_TYPES = {schema.STR: sa.String, schema.INT: sa.Integer, schema.FLOAT: sa.Float, schema.BOOL: sa.Boolean}

# Runtime mirrors of the migrated schema (used to build statements, never to create anything).
metadata = sa.MetaData()
releases_table = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.String(64), primary_key=True),
    sa.Column("survey_year", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("code_version", sa.Text, nullable=False),
    sa.Column("package_version", sa.String(64), nullable=False),
    sa.Column("manifest_path", sa.String, nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("previous_release_id", sa.String(64)),
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("withdrawn_reason", sa.Text),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
)


def _mirror(name: str, table_name: str, md: sa.MetaData) -> sa.Table:
    return sa.Table(
        table_name,
        md,
        *(sa.Column(c.name, _SQL_TYPES[c.type](), nullable=c.nullable) for c in schema.spec(name).columns),
    )


data_tables = {name: _mirror(name, name, metadata) for name in schema.TABLE_NAMES}
_views = sa.MetaData()
latest_views = {name: _mirror(name, f"latest_{name}", _views) for name in schema.TABLE_NAMES}
latest_releases_view = sa.Table(
    "latest_releases",
    _views,
    *(sa.Column(c.name, c.type) for c in releases_table.columns if not c.name.startswith("withdrawn")
      and c.name != "manifest_sha256"),
)


def safe_url(url: str | sa.URL) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparseable URL>"


def _sqlite_begin_recipe(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not pysqlite, start transactions, so DDL and inserts roll back together."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # pragma: no cover - exercised on every SQLite connect
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover
        conn.exec_driver_sql("BEGIN")


def _first_line(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


@contextlib.contextmanager
def translate_errors(url: str):
    """Turn driver failures into the release errors the CLI maps to exit codes."""
    try:
        yield
    # `from None`: the message is complete; the driver error stays in __context__ for debugging, and
    # callers that unwrap causes (the Dagster runner) show this message rather than the raw driver text.
    except sa_exc.IntegrityError as error:
        raise PublishConflictError(
            f"the warehouse refused a conflicting write ({_first_line(error)}); another publish of the same "
            "year committed first: run again"
        ) from None
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.InternalError) as error:
        if _is_read_only(error):
            raise WarehouseNotWritableError(
                f"the warehouse at {safe_url(url)} cannot be written ({_first_line(error)}); {_WRITE_ADVICE}"
            ) from None
        raise WarehouseUnavailableError(
            f"the warehouse at {safe_url(url)} failed: {_first_line(error)}; {_ADVICE}"
        ) from None
    except sa_exc.ProgrammingError as error:
        code = getattr(getattr(error, "orig", None), "pgcode", None)
        if code == "42501" or "permission denied" in str(error).lower():
            raise WarehouseNotWritableError(
                f"permission denied in the warehouse at {safe_url(url)}: {_first_line(error)}; {_WRITE_ADVICE}"
            ) from None
        raise


# SQLite: a read-only file or folder; PostgreSQL: SQLSTATE 25006, a read-only transaction or standby.
_READ_ONLY_PGCODES = {"25006"}
_READ_ONLY_PHRASES = ("readonly database", "read-only database", "read-only transaction")


def _is_read_only(error: BaseException) -> bool:
    orig = getattr(error, "orig", None)
    if getattr(orig, "pgcode", None) in _READ_ONLY_PGCODES:
        return True
    text = str(orig or error).lower()
    return any(phrase in text for phrase in _READ_ONLY_PHRASES)


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def records(name: str, frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values (no numpy scalars, NA as None) in the table's column order."""
    names = schema.spec(name).column_names
    return [dict(zip(names, row)) for row in _value_columns(name, frame)[1]]


def _value_columns(name: str, frame: pd.DataFrame) -> tuple[list[str], zip]:
    """The table's column names and its rows as tuples of plain Python values: each column converted once
    (str, int, float, bool; None, NA and NaN become None), not value by value."""
    frame = schema.coerce(name, frame)  # every column has its declared dtype (str, Int64, float64, boolean)
    names = schema.spec(name).column_names
    columns = [frame[column].to_numpy(dtype=object, na_value=None).tolist() for column in names]
    return names, zip(*columns)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC


class Warehouse:
    """One warehouse URL. Cheap to create; connects on first use."""

    def __init__(self, url: str):
        self.url = url
        try:
            parsed = sa.make_url(url)
        except sa_exc.ArgumentError as error:
            raise WarehouseURLError(f"the warehouse URL {url!r} is not a database URL") from error
        self._parsed = parsed
        self._engine: sa.Engine | None = None

    # -- connection ------------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self._parsed.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        database = self._parsed.database
        if not self.is_sqlite or not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            kwargs: dict = {}
            if self.is_sqlite:
                kwargs["connect_args"] = {"timeout": 60}
            elif self._parsed.get_driver_name() == "psycopg2":
                # psycopg2's own executemany sends one statement per row (5 s for a 100,000-respondent year's
                # 40,000 rows here); its execute_batch sends them a page at a time (0.9 s), with the same rows.
                kwargs.update(executemany_mode="values_plus_batch", executemany_batch_page_size=INSERT_CHUNK_ROWS)
            try:
                engine = sa.create_engine(self._parsed, **kwargs)
            except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as error:
                raise WarehouseURLError(
                    f"the warehouse URL {safe_url(self.url)} cannot be used: {_first_line(error)}"
                ) from error
            if self.is_sqlite:
                _sqlite_begin_recipe(engine)
            self._engine = engine
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def exists(self) -> bool:
        """True when the warehouse has been created (reads on a fresh warehouse find nothing)."""
        path = self.sqlite_path
        if path is not None and not path.exists():
            return False
        with translate_errors(self.url), self.engine.connect() as conn:
            return sa.inspect(conn).has_table("releases")

    # -- schema ----------------------------------------------------------------------------------
    def current_revision(self) -> str | None:
        path = self.sqlite_path
        if path is not None and not path.exists():
            return None
        with translate_errors(self.url), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> None:
        """Bring the schema to the newest shipped revision (no-op when it is there already)."""
        head = head_revision()
        if self.current_revision() == head:
            return
        path = self.sqlite_path
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise WarehouseUnavailableError(
                    f"cannot create {path.parent} for the SQLite warehouse: {error.strerror}; fix the folder's "
                    "permissions or free disk space (or choose another --output-dir / --warehouse-url)"
                ) from None
        with translate_errors(self.url), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK_KEY)))
            if MigrationContext.configure(conn).get_current_revision() != head:
                command.upgrade(_alembic_config(conn), "head")

    # -- releases register -----------------------------------------------------------------------
    def release_rows(self, survey_year: int | None = None, release_id: str | None = None) -> list[dict]:
        if not self.exists():
            return []
        stmt = sa.select(releases_table)
        if survey_year is not None:
            stmt = stmt.where(releases_table.c.survey_year == int(survey_year))
        if release_id is not None:
            stmt = stmt.where(releases_table.c.release_id == release_id)
        stmt = stmt.order_by(releases_table.c.survey_year, releases_table.c.revision)
        with translate_errors(self.url), self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
            row["withdrawn_at"] = _aware(row["withdrawn_at"])
            row["withdrawn"] = bool(row["withdrawn"])
        return rows

    def insert_release(self, release_row: dict, frames: dict[str, pd.DataFrame]) -> None:
        """The commit point: the `releases` row and every table's rows in one transaction."""
        with translate_errors(self.url), self.engine.begin() as conn:
            conn.execute(sa.insert(releases_table), [release_row])
            for name in schema.TABLE_NAMES:
                if name not in frames:
                    continue
                self._insert_rows(conn, name, frames[name])

    def _insert_rows(self, conn: sa.Connection, name: str, frame: pd.DataFrame) -> None:
        """The rows through the driver's executemany with the statement SQLAlchemy compiles for this
        dialect: the values are plain str/int/float/bool/None already (`_value_columns`), so nothing is
        left for SQLAlchemy's per-row parameter processing, which cost more than the database here."""
        names, rows = _value_columns(name, frame)
        compiled = sa.insert(data_tables[name]).compile(dialect=conn.dialect, column_keys=names)
        order = list(compiled.positiontup) if compiled.positional else None
        if order is not None and order != names:  # positional parameters come in the statement's order
            at = [names.index(key) for key in order]
            rows = (tuple(row[i] for i in at) for row in rows)
        elif order is None:
            rows = (dict(zip(names, row)) for row in rows)
        rows = list(rows)
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            conn.exec_driver_sql(str(compiled), rows[start: start + INSERT_CHUNK_ROWS])

    def mark_withdrawn(self, release_id: str, reason: str, when: datetime) -> bool:
        stmt = (
            sa.update(releases_table)
            .where(releases_table.c.release_id == release_id, releases_table.c.withdrawn == sa.false())
            .values(withdrawn=True, withdrawn_reason=reason, withdrawn_at=when)
        )
        with translate_errors(self.url), self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    # -- tables ----------------------------------------------------------------------------------
    def read_table(
        self, name: str, survey_year: int | None = None, release_id: str | None = None
    ) -> pd.DataFrame:
        """Rows of one table: a given release's, or else each year's latest release (the latest_* view)."""
        schema.spec(name)
        if not self.exists():
            return schema.empty_frame(name)
        source = data_tables[name] if release_id is not None else latest_views[name]
        stmt = sa.select(*source.columns)
        if release_id is not None:
            stmt = stmt.where(source.c.release_id == release_id)
        if survey_year is not None:
            stmt = stmt.where(source.c.survey_year == int(survey_year))
        with translate_errors(self.url), self.engine.connect() as conn:
            result = conn.execute(stmt)
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        if frame.empty:
            return schema.empty_frame(name)
        frame = schema.coerce(name, frame)
        return schema.sort_rows(name, frame).sort_values(
            ["survey_year"], kind="mergesort"
        ).reset_index(drop=True)

    def latest_releases(self) -> pd.DataFrame:
        """The latest_releases view: each year's latest non-withdrawn release."""
        columns = [c.name for c in latest_releases_view.columns]
        if not self.exists():
            return pd.DataFrame({c: [] for c in columns})
        stmt = sa.select(latest_releases_view).order_by(latest_releases_view.c.survey_year)
        with translate_errors(self.url), self.engine.connect() as conn:
            result = conn.execute(stmt)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
