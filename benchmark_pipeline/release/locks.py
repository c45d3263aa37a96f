"""File locks: the one way the code base takes a lock (per-year publish, per-year run, schema upgrade).

Every lock is a `FileLock` on a file under `releases/.locks/` (see `paths`), held across processes, with a
timeout, and failing with an error that says who holds it and what to do.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from benchmark_pipeline.release.errors import LockTimeoutError, storage_error


class Lock:
    """`with Lock(...)`: waits up to `timeout` seconds for the lock file, then `LockTimeoutError` (exit 3)."""

    def __init__(self, path: Path, timeout: float, holder: str):
        """`holder` names what holds the lock when it is taken, e.g. "another publish or withdrawal of 2024"."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise storage_error(f"cannot create {path.parent}", error) from None
        self._lock, self._holder = FileLock(path, timeout=timeout), holder

    def __enter__(self) -> "Lock":
        try:
            self._lock.acquire()
        except Timeout:
            raise LockTimeoutError(
                f"{self._holder} is running (lock {self._lock.lock_file}); wait for it to finish, then run again"
            ) from None
        except OSError as error:
            raise storage_error(f"cannot take the lock {self._lock.lock_file}", error) from None
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()
