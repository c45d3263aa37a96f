"""Alembic migrations for the release warehouse (run in code by `benchmark_pipeline.release.warehouse`)."""
