"""Turn domain errors into Dagster failures that carry the CLI exit code and a plain message."""

from __future__ import annotations

from contextlib import contextmanager

from dagster import Failure, MetadataValue

from benchmark_pipeline.errors import EXIT_ENVIRONMENT, exit_code_of, is_expected


def _transient() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return (OSError, OperationalError, InterfaceError)


@contextmanager
def user_facing_failures():
    """Re-raise errors as `Failure` with the message and exit code as metadata.

    Retries (the assets' retry policies) happen only where trying again can help: environment failures
    and transient OS or database errors, which pass through unchanged. Bad content and programming
    errors fail at once.
    """
    try:
        yield
    except _transient():
        raise
    except Exception as exc:
        expected = is_expected(exc)
        code = exit_code_of(exc)
        description = str(exc) if expected else f"unexpected error ({type(exc).__name__}: {exc}); report it with the run id"
        raise Failure(
            description=description,
            metadata={"exit_code": MetadataValue.int(code)},
            allow_retries=expected and code == EXIT_ENVIRONMENT,
        ) from (None if expected else exc)
