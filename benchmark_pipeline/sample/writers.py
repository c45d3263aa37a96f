"""Writing an answers frame as an export of any layout: the layouts' own writers (in `ingest/layouts/`),
behind one entry point, so a test can break an export on purpose between the two steps:

- `build_export(answers, instrument, layout)` returns the export's tables as DataFrames, named as the
  sheets or files they become (`Dataset` + `Labels`; `dataset` + `labels`; `Sheet1`; `canonical`);
- `write_tables(tables, layout, path, ...)` writes such tables; `write_export` does both.

Values in `answers` are the stable option ids (categorical or str). A value that is not an option id of
the question, or a kommune that is not in the reference table, is written through unchanged, so a test
can plant an invalid code by editing the answers or the built tables. Every written file is byte-for-byte
deterministic for the same answers and `seed` (xlsx timestamps are fixed to the survey year).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_pipeline.ingest.errors import ExportError
from benchmark_pipeline.ingest.layouts import BY_NAME, Layout
from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.sample.generate import default_kommuner


def _layout(name: str) -> Layout:
    if name not in BY_NAME:
        raise ExportError(f"unknown layout {name!r}; expected one of {', '.join(sorted(BY_NAME))}")
    return BY_NAME[name]


def build_export(
    answers: pd.DataFrame,
    instrument: YearInstrument,
    layout: str | None = None,
    *,
    kommuner: Kommuner | None = None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The tables of one export of `answers` (names: `Dataset`/`Labels`, `dataset`/`labels`, `Sheet1`,
    `canonical`). `layout` defaults to the instrument's; `seed` drives timestamps and Forms cosmetics."""
    name = layout or instrument.layout
    writer = _layout(name)
    rng = np.random.default_rng([int(seed), instrument.survey_year, writer.sample_seed])
    if writer.writes_kommune:
        kommuner = kommuner or default_kommuner(instrument)
    return writer.tables(answers, instrument, kommuner, rng)


def write_tables(
    tables: dict[str, pd.DataFrame],
    layout: str,
    path: str | Path,
    *,
    encoding: str = "utf-8",
    separator: str = ",",
    newline: str = "\n",
    survey_year: int | None = None,
) -> list[Path]:
    """Write tables made by `build_export` (possibly edited). Returns the written files.

    `path`: the .xlsx file for the xlsx layouts, the .csv file for canonical CSV; for the SurveyXact CSV
    variant a folder that receives `dataset.csv` and `labels.csv` (or a dataset file, with `labels.csv`
    written beside it). `encoding`/`separator`/`newline` apply to the text layouts.
    """
    return _layout(layout).write(tables, Path(path), encoding=encoding, separator=separator, newline=newline,
                                 survey_year=survey_year)


def write_export(
    answers: pd.DataFrame,
    instrument: YearInstrument,
    layout: str | None,
    path: str | Path,
    encoding: str = "utf-8",
    separator: str = ",",
    *,
    newline: str = "\n",
    kommuner: Kommuner | None = None,
    seed: int = 0,
) -> list[Path]:
    """Write `answers` as one export of `layout` (default: the instrument's) at `path`; see `write_tables`."""
    layout = layout or instrument.layout
    tables = build_export(answers, instrument, layout, kommuner=kommuner, seed=seed)
    return write_tables(tables, layout, path, encoding=encoding, separator=separator, newline=newline,
                        survey_year=instrument.survey_year)
