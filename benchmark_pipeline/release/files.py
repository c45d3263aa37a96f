"""Byte-reproducible table files and atomic small-file writes."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmark_pipeline.release import schema

_ARROW_TYPES = {schema.STR: pa.string(), schema.INT: pa.int64(), schema.FLOAT: pa.float64(), schema.BOOL: pa.bool_()}


def arrow_schema(name: str) -> pa.Schema:
    table = schema.spec(name)
    return pa.schema(
        [pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in table.columns],
        metadata={b"benchmark_pipeline.table": name.encode()},
    )


def write_parquet(name: str, frame: pd.DataFrame, path: Path) -> None:
    """Parquet with an explicit schema; the bytes depend on the rows and the library pins only.

    The pandas metadata is kept (pandas readers get Int64/boolean/str back); it and the writer's
    `created_by` name the pandas and pyarrow versions, fixed by the pins. No timestamps are written.
    """
    table = pa.Table.from_pandas(frame, schema=arrow_schema(name), preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"benchmark_pipeline.table"] = name.encode()
    table = table.replace_schema_metadata(metadata)
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
    )


def read_parquet(name: str, path: Path) -> pd.DataFrame:
    return schema.coerce(name, pq.read_table(path).to_pandas())


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (Danish Excel shows æ, ø, å), comma, '.' decimals, '\\n' line ends, empty = missing."""
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(text)


def read_csv(name: str, path: Path) -> pd.DataFrame:
    """Read a published CSV back with the documented types (codes stay text)."""
    table = schema.spec(name)
    text_columns = {c.name: "str" for c in table.columns if c.type == schema.STR}
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=text_columns, keep_default_na=False, na_values=[""])
    return schema.coerce(name, frame)


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def atomic_write(path: Path, write) -> Path:
    """`write(tmp)` a file next to `path`, flush it to disk, then rename it over `path`: readers see the old
    file or the new one, never half of one, and a failed write leaves no temporary file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_json(path: Path, value) -> None:
    """`value` as JSON, written atomically (`atomic_write`)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

