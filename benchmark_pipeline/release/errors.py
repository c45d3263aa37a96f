"""What can go wrong with releases, split by who must act: the caller (exit 2) or the environment (exit 3)."""

from __future__ import annotations


class ReleaseError(Exception):
    """Base class. `exit_code` follows the CLI contract: 2 misuse, 3 environment failure."""

    exit_code = 2


class ReleaseNotFoundError(ReleaseError):
    """No release with that id (or no published release for that year)."""


class UnknownTableError(ReleaseError, KeyError):
    """A table name that is not part of the published contract."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown table"


class TableContractError(ReleaseError, ValueError):
    """A frame handed to the release store does not match its documented columns."""


class AlreadyWithdrawnError(ReleaseError):
    """The release was withdrawn before."""


class WarehouseURLError(ReleaseError):
    """The warehouse URL cannot be used (malformed, unknown driver)."""


class EnvironmentFailure(ReleaseError):
    """The environment failed: database unreachable, permission denied, disk full, lock not obtained."""

    exit_code = 3
    transient = True  # trying again may help (a restarting server, a lock released); the steps retry these


class WarehouseUnavailableError(EnvironmentFailure):
    """The warehouse cannot be reached or refused the operation."""


class WarehouseNotWritableError(WarehouseUnavailableError):
    """The warehouse can be read but not written (a read-only file or database, no write grant): trying
    again cannot help until someone changes it."""

    transient = False


class StorageError(EnvironmentFailure):
    """Release files cannot be written or read (disk full, permission denied)."""


class LockTimeoutError(EnvironmentFailure):
    """Another publish or withdrawal of the same year holds the year's lock."""


class PublishConflictError(EnvironmentFailure):
    """Another writer committed the same year and revision first (seen by the database guard)."""


_ADVICE_STORAGE = "free disk space or fix the folder's permissions (or choose another --output-dir), then run again"


def storage_error(message: str, error: OSError) -> StorageError:
    """An environment failure (exit 3) naming what failed and what to do; one line, no traceback needed."""
    reason = error.strerror or str(error)
    if error.filename and str(error.filename) not in message:
        reason = f"{reason} ({error.filename})"
    return StorageError(f"{message}: {reason}; {_ADVICE_STORAGE}")
