"""The I/O manager between the yearly job's steps: each output written once, its tables as Arrow.

An output is one file under `Settings.dagster_io_dir` (the private area: respondent-level data is personal
data): a pickle of the value's structure in which every large table that Arrow holds exactly is stored as
a compressed Arrow IPC stream instead (columnar, a third of the pickle's size for the respondent frames),
read back without a Python object per cell. A table Arrow would change (object columns, say) stays in
the pickle.

The respondent-level outputs are also handed to the later steps of the same run in this process (the
in-process executor) without reading their file back, and their files are written while those steps run:
each is held until every step that consumes it has loaded it (the last one also waits for the file), so
memory is not held longer than the run needs it, and a step run on its own, a retry or a later run reads
the file.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import threading
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
from dagster import ConfigurableIOManager, InputContext, OutputContext

MAGIC = b"BPIO\x01"
COMPRESSION = "lz4"  # fast both ways; zstd would halve the files again at about twice the write time
ARROW_FROM_BYTES = 1 << 20  # smaller tables stay in the pickle: converting costs more than it saves
_NUMERIC_KINDS = set("biufcmM")  # bool, int, uint, float, complex, timedelta, datetime


def _exact_in_arrow(frame: pd.DataFrame) -> bool:
    """Whether every column has a dtype Arrow keeps as it is (the round trip is then checked on an empty
    slice, which settles dtypes, categories, column names and the index)."""
    if frame.attrs or not all(isinstance(c, str) for c in frame.columns) or not frame.columns.is_unique:
        return False
    for dtype in frame.dtypes:
        if isinstance(dtype, pd.CategoricalDtype):
            if dtype.categories.dtype.kind not in _NUMERIC_KINDS and not isinstance(dtype.categories.dtype,
                                                                                     pd.StringDtype):
                return False
        elif not (isinstance(dtype, (pd.StringDtype, pd.BooleanDtype))
                  or isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iuf"
                  or getattr(dtype, "kind", "O") in _NUMERIC_KINDS):
            return False
    return True


def _arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """The frame as an Arrow table, or None when it is small (a pickle is cheaper: a year's published
    tables) or Arrow would not give the same frame back."""
    if frame.memory_usage(index=False, deep=False).sum() < ARROW_FROM_BYTES or not _exact_in_arrow(frame):
        return None
    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    back = table.slice(0, 0).to_pandas()
    if (list(back.columns) != list(frame.columns) or not back.dtypes.equals(frame.dtypes)
            or type(back.index) is not type(frame.index) or back.index.dtype != frame.index.dtype
            or back.index.names != frame.index.names):
        return None
    return table


def frame_to_arrow(frame: pd.DataFrame) -> bool:
    """Whether the frame is stored as Arrow (else it stays in the pickle)."""
    return _arrow_table(frame) is not None


class _Pickler(pickle.Pickler):
    """Pickles the value's structure; each table Arrow holds exactly goes to `sink` as an IPC stream."""

    def __init__(self, body, sink: pa.NativeFile, extents: list[tuple[int, int]]):
        super().__init__(body, protocol=5)
        self.sink, self.extents = sink, extents

    def persistent_id(self, obj):
        if type(obj) is pd.DataFrame:
            table = _arrow_table(obj)
            if table is not None:
                start = self.sink.tell()
                options = pa.ipc.IpcWriteOptions(compression=COMPRESSION)
                with pa.ipc.new_stream(self.sink, table.schema, options=options) as writer:
                    writer.write_table(table)
                self.extents.append((start, self.sink.tell() - start))
                return ("arrow", len(self.extents) - 1)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, body, data: pa.Buffer, extents):
        super().__init__(body)
        self.data, self.extents = data, extents

    def persistent_load(self, pid):
        kind, index = pid
        if kind != "arrow":
            raise pickle.UnpicklingError(f"unknown stored table kind {kind!r}")
        start, size = self.extents[index]
        return pa.ipc.open_stream(self.data.slice(start, size)).read_all().to_pandas()


# A file: MAGIC, the tables' IPC streams, the pickle, then the index (the tables' extents, the pickle's)
# and the index's length.
def dump_value(value, path: Path) -> None:
    """Write `value` to `path` (atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    extents: list[tuple[int, int]] = []
    body = io.BytesIO()
    try:
        with pa.OSFile(str(tmp), "wb") as sink:
            sink.write(MAGIC)
            _Pickler(body, sink, extents).dump(value)
            body_at = sink.tell()
            sink.write(body.getbuffer())
            index = struct.pack(f"<QQI{2 * len(extents)}Q", body_at, body.tell(), len(extents),
                                *(n for extent in extents for n in extent))
            sink.write(index + struct.pack("<I", len(index)))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_value(path: Path):
    data = pa.py_buffer(Path(path).read_bytes())
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC or len(view) < len(MAGIC) + 4:
        raise pickle.UnpicklingError(f"{path} is not a stored step output")
    (index_len,) = struct.unpack_from("<I", view, len(view) - 4)
    index_at = len(view) - 4 - index_len
    body_at, body_len, n = struct.unpack_from("<QQI", view, index_at)
    flat = struct.unpack_from(f"<{2 * n}Q", view, index_at + 20)
    extents = list(zip(flat[0::2], flat[1::2]))
    return _Unpickler(io.BytesIO(view[body_at: body_at + body_len]), data, extents).load()


class _Writer:
    """`dump_value` in a thread of its own, so the next step starts while the file is written (Arrow's
    conversion, compression and the write release the GIL). Not a daemon: the process ends only after the
    file is complete, and a failed write is raised where the value is next needed from this process."""

    def __init__(self, value, path: Path):
        self.path, self.error = path, None
        self.thread = threading.Thread(target=self._run, args=(value,), name=f"write {path.name}")
        self.thread.start()

    def _run(self, value) -> None:
        try:
            dump_value(value, self.path)
        except BaseException as exc:  # noqa: BLE001 (re-raised by `wait`, in the step that needs the file)
            self.error = exc

    def wait(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise self.error


# One process's hand-off, whichever instance of the I/O manager a step gets (Dagster may build resources
# more than once per run): (base dir, run id, path) -> [value, loads left], and the files being written.
_HELD: dict[tuple[str, str, str], list] = {}
_WRITING: dict[str, _Writer] = {}
_LOCK = threading.Lock()


def _wait_for(path: Path) -> None:
    with _LOCK:
        writer = _WRITING.pop(str(path), None)
    if writer is not None:
        writer.wait()


class StepOutputIOManager(ConfigurableIOManager):
    """Step outputs as files in `base_dir` (one per asset and partition), written once; the respondent-level
    ones (`handed_on`: asset key -> how many steps load it) also passed in memory within a run, their
    files written while the next steps run."""

    base_dir: str
    handed_on: Mapping[str, int] = {}

    def _path(self, context: OutputContext | InputContext) -> Path:
        """<base_dir>/<asset key>/<partition> (an input's context names its upstream asset and partition)."""
        parts = list(context.asset_key.path)
        if context.has_asset_partitions:
            parts.append(context.asset_partition_key)
        return Path(self.base_dir, *parts)

    def handle_output(self, context: OutputContext, obj) -> None:
        path = self._path(context)
        loads = self.handed_on.get(context.asset_key.to_user_string(), 0)
        with _LOCK:
            # Only this run's values are held: whatever an earlier run left (a consumer that never ran) goes.
            stale = [k for k in _HELD if k[1] != context.run_id]
            for key in stale:
                del _HELD[key]
        _wait_for(path)  # a retried step writes its file again: one writer per file at a time
        if loads <= 0:
            dump_value(obj, path)
            return
        with _LOCK:
            _WRITING[str(path)] = _Writer(obj, path)
            _HELD[(self.base_dir, context.run_id, str(path))] = [obj, loads]

    def load_input(self, context: InputContext):
        path = self._path(context)
        try:
            run_id = context.upstream_output.run_id
        except Exception:  # an output of no run in this process (the UI loads a stored one): read the file
            run_id = None
        key = (self.base_dir, run_id, str(path))
        with _LOCK:
            held = _HELD.get(key)
            if held is not None:
                held[1] -= 1
                last = held[1] <= 0
                if last:
                    del _HELD[key]
        if held is None:
            _wait_for(path)
            return load_value(path)
        if last:  # the run needs it no more: from here on only the file holds it, so it must be complete
            _wait_for(path)
        return held[0]


def held_values() -> int:
    """How many values this process holds for later steps (tests: none once a run is over)."""
    with _LOCK:
        return len(_HELD)


def wait_for_writes() -> None:
    """Every file still being written, complete (tests; the process itself waits for them at exit)."""
    with _LOCK:
        paths = list(_WRITING)
    for path in paths:
        _wait_for(Path(path))
