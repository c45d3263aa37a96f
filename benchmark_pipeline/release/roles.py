"""A PostgreSQL role for consumers that can SELECT the `latest_*` views and nothing else.

The views belong to the schema owner, so reading them needs no privilege on the base tables. Run
`grant_read_only_role` as the warehouse owner after the schema is created or migrated (a migration that
adds a view needs a re-run; the function is idempotent).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from benchmark_pipeline.release import schema
from benchmark_pipeline.release.errors import ReleaseError, WarehouseURLError
from benchmark_pipeline.release.warehouse import Warehouse, translate_errors

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
READ_ONLY_VIEWS = ("latest_releases", *(f"latest_{name}" for name in schema.TABLE_NAMES))


def grant_read_only_role(
    warehouse_url: str, role: str, password: str | None = None, login: bool = True, db_schema: str = "public"
) -> list[str]:
    """Create (if needed) `role` and give it SELECT on the latest_* views only. Returns the views granted.

    The role also gets `default_transaction_read_only`; every other privilege on the schema's tables,
    sequences and functions it may have had is revoked. Identifiers cannot be bound parameters, so the
    role and schema names are checked against a strict pattern and quoted by SQLAlchemy; the password
    is a bound parameter.
    """
    if not _ROLE_NAME.match(role) or not _ROLE_NAME.match(db_schema):
        raise ReleaseError(f"role and schema names must match {_ROLE_NAME.pattern}")
    warehouse = Warehouse(warehouse_url)
    if warehouse.is_sqlite or warehouse.engine.dialect.name != "postgresql":
        raise WarehouseURLError("read-only roles exist on PostgreSQL only; SQLite has no users")
    quote = warehouse.engine.dialect.identifier_preparer.quote
    q_role, q_schema = quote(role), quote(db_schema)
    try:
        with translate_errors(warehouse_url), warehouse.engine.begin() as conn:
            database = conn.execute(sa.select(sa.func.current_database())).scalar_one()
            exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
            options = "LOGIN" if login else "NOLOGIN"
            if not exists:
                conn.execute(sa.text(f"CREATE ROLE {q_role} {options} NOSUPERUSER NOCREATEDB NOCREATEROLE"))
            if password is not None:
                conn.execute(sa.text(f"ALTER ROLE {q_role} PASSWORD :password"), {"password": password})
            conn.execute(sa.text(f"ALTER ROLE {q_role} SET default_transaction_read_only = on"))
            conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {quote(database)} TO {q_role}"))
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {q_schema} TO {q_role}"))
            conn.execute(sa.text(f"REVOKE CREATE ON SCHEMA {q_schema} FROM {q_role}"))
            conn.execute(sa.text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q_schema} FROM {q_role}"))
            conn.execute(sa.text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q_schema} FROM {q_role}"))
            views = ", ".join(f"{q_schema}.{quote(view)}" for view in READ_ONLY_VIEWS)
            conn.execute(sa.text(f"GRANT SELECT ON {views} TO {q_role}"))
    finally:
        warehouse.dispose()
    return list(READ_ONLY_VIEWS)
