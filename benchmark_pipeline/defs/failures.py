"""Turn domain errors into Dagster failures that carry the CLI exit code and a plain message, and read the
exit code back from a failed step: the one rule the CLI runner and the run-failure alerts share."""

from __future__ import annotations

from contextlib import contextmanager

from dagster import Failure, MetadataValue

from benchmark_pipeline.errors import EXIT_CONTENT, EXIT_ENVIRONMENT, EXIT_INPUT, exit_code_of, is_expected

CHECK_FAILED = "DagsterAssetCheckFailedError"  # what Dagster raises when a blocking check fails
# A step's stored input is missing: an analyst materialised a step without the steps before it.
INPUT_MISSING = "DagsterExecutionLoadInputError"


def _transient() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return (OSError, OperationalError, InterfaceError)


@contextmanager
def user_facing_failures():
    """Re-raise errors as `Failure` with the message and exit code as metadata.

    Retries (the assets' retry policies) happen only where trying again can help: environment failures
    that are not marked `transient = False` (a read-only warehouse is not), and transient OS or database
    errors, which pass through unchanged. Bad content and programming errors fail at once.
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
            allow_retries=expected and code == EXIT_ENVIRONMENT and getattr(exc, "transient", True),
        ) from (None if expected else exc)


def step_exit_code(step_failure_data) -> int:
    """A failed step's exit code: the one a `Failure` from `user_facing_failures` carries; a failed blocking
    check stops the year on its content (1); a missing stored input is a misuse (2: materialise the whole
    year); anything else is the environment's (3)."""
    user = step_failure_data.user_failure_data if step_failure_data is not None else None
    if user is not None:
        entry = user.metadata.get("exit_code")
        return int(entry.value) if entry is not None else EXIT_CONTENT
    error = step_failure_data.error if step_failure_data is not None else None
    name = error.cls_name if error is not None else None
    return {CHECK_FAILED: EXIT_CONTENT, INPUT_MISSING: EXIT_INPUT}.get(name, EXIT_ENVIRONMENT)
