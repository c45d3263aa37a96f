"""Reading a release's files in more than one process, with the report exactly as one process makes it.

Each file is scanned on its own into a `FileOutcome`: what was reported for it, in the order it was
reported (before the per-file de-duplication and cap), its notes, and whether it counts as scanned. The
outcomes are replayed into the run's context in file order, so the findings, their order, the caps and
the notes do not depend on which process read which file, nor on how many there were.

Other processes are forked once the tables are read (a fork shares them, so nothing large is sent), claim
files largest first from a shared counter, and send back only their outcomes. A process that dies leaves
its files to this one. Where the platform cannot fork, and for small releases, one process reads all.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmark_pipeline.audit.context import AuditContext
from benchmark_pipeline.forking import can_fork, usable_cores

# Below this many bytes of files, starting a process costs more than it saves (a fork is ~10-30 ms).
MIN_PARALLEL_BYTES = 2_000_000
MAX_PROCESSES = 8

Scan = Callable[[AuditContext, Path, str, dict], None]


@dataclass
class FileOutcome:
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def replay(self, ctx: AuditContext) -> None:
        """Apply this file's outcome to the run, as if it had been scanned into `ctx` directly."""
        for call in self.calls:
            ctx.report(*call)
        for note in self.notes:
            if note not in ctx.notes:
                ctx.notes.append(note)
        ctx.files_scanned.extend(self.scanned)
        if self.error is not None:
            raise self.error


def scan_files(ctx: AuditContext, files: list[tuple[Path, str]], grids: dict, processes: int | None,
               scan: Scan) -> list[FileOutcome]:
    """Every file's outcome, in file order."""
    count = process_count(files, processes)
    if count <= 1:
        return [_scan_one(ctx, path, rel, grids, scan) for path, rel in files]
    order = sorted(range(len(files)), key=lambda i: -_cost(files[i], grids))
    fork = multiprocessing.get_context("fork")
    counter = fork.Value("q", 0)

    def claimed():
        while True:
            with counter.get_lock():
                k = counter.value
                counter.value = k + 1
            if k >= len(order):
                return
            yield order[k]

    def child(conn) -> None:
        gc.disable()  # short-lived: nothing it allocates needs collecting before it exits
        done = {i: _scan_one(ctx, *files[i], grids, scan) for i in claimed()}
        try:
            conn.send(done)
        except Exception:  # noqa: BLE001 - e.g. an error that cannot be pickled: the parent rescans these
            pass
        conn.close()

    for stream in (sys.stdout, sys.stderr):  # a child must not write out the parent's buffered output again
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    children = []
    for _ in range(count - 1):
        receive, send = fork.Pipe(duplex=False)
        proc = fork.Process(target=child, args=(send,), daemon=True)
        proc.start()
        send.close()
        children.append((proc, receive))
    outcomes = {i: _scan_one(ctx, *files[i], grids, scan) for i in claimed()}
    for proc, receive in children:
        try:
            outcomes.update(receive.recv())
        except (EOFError, OSError):
            pass  # the child died or could not send: its files are scanned below
        receive.close()
        proc.join()
    for i, (path, rel) in enumerate(files):
        if i not in outcomes:
            outcomes[i] = _scan_one(ctx, path, rel, grids, scan)
    return [outcomes[i] for i in range(len(files))]


def process_count(files: list[tuple[Path, str]], processes: int | None) -> int:
    """How many processes read the files: `processes` if given (where forking is possible), else one per
    core for a release of at least `MIN_PARALLEL_BYTES`."""
    if processes is not None and processes < 1:
        raise ValueError(f"processes is {processes}; at least one process reads the files")
    if not can_fork() or len(files) < 2:
        return 1
    if processes is not None:
        return min(processes, len(files))
    cores = usable_cores()
    if cores < 2 or sum(_size(path) for path, _ in files) < MIN_PARALLEL_BYTES:
        return 1
    return min(cores, MAX_PROCESSES, len(files))


def _scan_one(ctx: AuditContext, path: Path, rel: str, grids: dict, scan: Scan) -> FileOutcome:
    recorder = ctx.recorder()
    outcome = FileOutcome()
    try:
        scan(recorder, path, rel, grids)
    except Exception as exc:  # noqa: BLE001 - raised again, in file order, when the outcome is replayed
        outcome.error = exc
    outcome.calls, outcome.notes, outcome.scanned = recorder.calls, recorder.notes, recorder.files_scanned
    return outcome


def _cost(file: tuple[Path, str], grids: dict) -> int:
    """A rough, deterministic estimate of the time a file takes, to read the longest first."""
    path, rel = file
    grid = grids.get(rel)
    if grid is not None:
        return 8 * len(grid.rows) * max(len(grid.columns), 1)
    size = _size(path)
    return 2 * size if path.suffix.lower() in (".xlsx", ".xlsm") else size


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
