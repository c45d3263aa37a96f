"""Whether this process may fork helpers, and how many cores it may use: one answer for the reports and the
audit, which both spread their files over forked processes."""

from __future__ import annotations

import multiprocessing
import os


def can_fork() -> bool:
    """The platform forks and this process may have children (a Celery pool process is daemonic: it may not)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
