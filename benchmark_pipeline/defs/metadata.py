"""Asset metadata the UI shows: schemas, row counts and previews of publishable tables only."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 20


def table_schema(frame: pd.DataFrame) -> TableSchema:
    return TableSchema(columns=[TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def schema_and_rows(frame: pd.DataFrame) -> dict:
    """Schema and row count: all the UI may show of a respondent-level frame."""
    return {"dagster/column_schema": table_schema(frame), "dagster/row_count": len(frame)}


def table_preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> MetadataValue:
    """A markdown preview; call it only for published (disclosure-controlled) tables."""
    return MetadataValue.md(frame.head(rows).to_markdown(index=False) if len(frame) else "_(no rows)_")
