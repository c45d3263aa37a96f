"""The 98 kommuner with region and DST kommunegruppe, and resolution of how exports name them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

NATIONAL_CODE = "DK"
NOT_KOMMUNER = {"411": "Christiansø"}  # administered by the state, not a kommune


def reference_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "reference"


def kommuner_path(data_dir: Path) -> Path:
    return reference_dir(data_dir) / "kommuner.csv"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


@dataclass(frozen=True)
class Kommuner:
    """The reference table; codes are 3-digit strings ("101"), as are region and group codes."""

    table: pd.DataFrame
    sha256: str

    @cached_property
    def codes(self) -> list[str]:
        return list(self.table["kommune_kode"])

    @cached_property
    def _lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for row in self.table.itertuples(index=False):
            code = row.kommune_kode
            for key in (code, code.zfill(4), row.kommune_navn, row.officielt_navn, f"{row.kommune_navn} kommune"):
                lookup[_norm(key)] = code
        return lookup

    def resolve(self, value: object) -> str | None:
        """The 3-digit code for a code ("101", "0101", 101), name or official name; None if not a kommune."""
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return self._lookup.get(_norm(str(value)))

    def region_of(self) -> dict[str, str]:
        return dict(zip(self.table["kommune_kode"], self.table["region_kode"]))

    def group_of(self) -> dict[str, str]:
        return dict(zip(self.table["kommune_kode"], self.table["kommunegruppe_kode"]))

    def official_name(self) -> dict[str, str]:
        return dict(zip(self.table["kommune_kode"], self.table["officielt_navn"]))


def load_kommuner(data_dir: Path) -> Kommuner:
    path = kommuner_path(data_dir)
    raw = path.read_bytes()
    table = pd.read_csv(path, dtype=str, encoding="utf-8")
    expected = {"kommune_kode", "kommune_navn", "officielt_navn", "region_kode", "region_navn",
                "kommunegruppe_kode", "kommunegruppe_navn"}
    missing = expected - set(table.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if len(table) != 98 or table["kommune_kode"].duplicated().any():
        raise ValueError(f"{path}: expected 98 distinct kommuner, found {table['kommune_kode'].nunique()}")
    return Kommuner(table=table, sha256=hashlib.sha256(raw).hexdigest())
