"""Turn expected domain errors into Dagster failures that carry the CLI exit code and no traceback noise."""

from __future__ import annotations

from contextlib import contextmanager

from dagster import Failure, MetadataValue

from benchmark_pipeline.errors import EXIT_ENVIRONMENT, exit_code_of

def _expected() -> tuple[type[BaseException], ...]:
    from benchmark_pipeline.errors import PipelineError
    from benchmark_pipeline.ingest import IngestError
    from benchmark_pipeline.instrument import InstrumentError
    from benchmark_pipeline.settings import SettingsError

    return (PipelineError, IngestError, InstrumentError, SettingsError)


@contextmanager
def user_facing_failures():
    """Re-raise expected errors as `Failure` with the message and exit code as metadata."""
    try:
        yield
    except _expected() as exc:
        code = exit_code_of(exc)
        raise Failure(
            description=str(exc),
            metadata={"exit_code": MetadataValue.int(code)},
            # Only the environment (database, disk) can get better by trying again; bad content cannot.
            allow_retries=code == EXIT_ENVIRONMENT,
        ) from None
