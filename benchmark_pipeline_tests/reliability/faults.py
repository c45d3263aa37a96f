"""Crash and disk-full injection for the fault tests, from outside the production code.

`install("<point>[:kill|:enospc]")` wraps the production function at that point of a publish (see `POINTS`)
so that the process SIGKILLs itself there (the default: no handler, no cleanup runs) or raises
OSError(ENOSPC). Only ever installed in a child process: a forkserver child running `publisher.publish`,
or a real CLI run started as

    python -m benchmark_pipeline_tests.reliability.faults <point>[:action] run --year 2023 ...
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

from benchmark_pipeline.release import files, manifest, publishing
from benchmark_pipeline.release.paths import DATA_DICTIONARY, LATEST_POINTER
from benchmark_pipeline.release.warehouse import Warehouse

POINTS = {
    "staged": "tables written under .staging/, data dictionary not yet",
    "manifest": "manifest written, folder not yet read-only nor renamed",
    "renamed": "folder renamed into <year>/, warehouse rows not yet committed",
    "inserting": "inside the warehouse transaction: releases row and one table's rows sent, not committed",
    "committed": "transaction committed, latest pointer not yet moved",
    "pointer": "latest pointer written to its temporary file, not yet renamed over latest.json",
}


def _strike(action: str) -> None:
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.kill(os.getpid(), signal.SIGKILL)


def _before(owner, name: str, action: str, when) -> None:
    """Strike when `owner.name` is called with arguments that `when` accepts, before it runs."""
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if when(*args, **kwargs):
            _strike(action)
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)


def _after(owner, name: str, action: str) -> None:
    """Strike as soon as the first call of `owner.name` has returned."""
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        _strike(action)
        return result

    setattr(owner, name, wrapper)


_INSTALL = {
    "staged": lambda action: _before(files, "write_json", action, lambda path, value: Path(path).name == DATA_DICTIONARY),
    "manifest": lambda action: _after(manifest, "write", action),
    "renamed": lambda action: _after(publishing, "move_into_place", action),
    "inserting": lambda action: _after(Warehouse, "_insert_rows", action),
    "committed": lambda action: _after(Warehouse, "insert_release", action),
    "pointer": lambda action: _before(os, "replace", action, lambda src, dst, **_: Path(dst).name == LATEST_POINTER),
}
assert _INSTALL.keys() == POINTS.keys()


def install(fault: str) -> None:
    """`fault` is `<point>`, `<point>:kill` or `<point>:enospc`."""
    point, _, action = fault.partition(":")
    if point not in POINTS or action not in ("", "kill", "enospc"):
        raise ValueError(f"unknown fault {fault!r} (points: {', '.join(POINTS)}; actions: kill, enospc)")
    _INSTALL[point](action or "kill")


def main() -> None:
    """`<fault> <benchmark-pipeline arguments...>`: the real CLI with the fault installed."""
    install(sys.argv[1])
    sys.argv = ["benchmark-pipeline", *sys.argv[2:]]
    from benchmark_pipeline.cli.main import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
