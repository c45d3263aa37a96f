"""Expected failures and the exit codes the CLI gives them (DESIGN.md "Interfaces people touch")."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CONTENT = 1  # rows quarantined, or the year stopped on its content
EXIT_INPUT = 2  # input cannot be used at all, or the command is misused
EXIT_ENVIRONMENT = 3  # database unreachable, disk full, permission denied


class PipelineError(Exception):
    """A failure a user can act on: its message says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_CONTENT):
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_of(exc: BaseException) -> int:
    """The exit code for any exception: domain errors carry one; anything else is the environment's."""
    code = getattr(exc, "exit_code", None)
    return code if isinstance(code, int) else EXIT_ENVIRONMENT


def is_expected(exc: BaseException) -> bool:
    """Domain errors (every package's carry an exit code) say what happened and what to do."""
    return isinstance(getattr(exc, "exit_code", None), int)
