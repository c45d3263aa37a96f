"""Alembic environment: always driven in code with a connection passed in `config.attributes`."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic command line
    raise RuntimeError(
        "run the warehouse migrations through benchmark_pipeline.release.warehouse.upgrade(url), "
        "not the alembic command line"
    )

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
