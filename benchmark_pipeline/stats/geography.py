"""The geography hierarchy (national > region / kommunegruppe > kommune) as index arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.stats.tables import NATIONAL_CODE


def code_key(code: str) -> tuple[int, str]:
    """Sort key for codes: numerically where possible ("101" < "147", "1" < "5"), then as text."""
    try:
        return (int(code), code)
    except (TypeError, ValueError):
        return (10**9, str(code))


@dataclass(frozen=True)
class Geography:
    kommune_codes: tuple[str, ...]  # sorted by code
    region_codes: tuple[str, ...]
    group_codes: tuple[str, ...]
    region_idx: np.ndarray  # per kommune: index into region_codes
    group_idx: np.ndarray  # per kommune: index into group_codes

    @classmethod
    def from_kommuner(cls, kommuner: Kommuner) -> "Geography":
        table = kommuner.table
        kommune = np.asarray(table["kommune_kode"], dtype=object).astype(str)
        region = np.asarray(table["region_kode"], dtype=object).astype(str)
        group = np.asarray(table["kommunegruppe_kode"], dtype=object).astype(str)
        order = sorted(range(len(kommune)), key=lambda i: code_key(kommune[i]))
        kommune, region, group = kommune[order], region[order], group[order]
        codes = tuple(kommune.tolist())
        regions = tuple(sorted(set(region.tolist()), key=code_key))
        groups = tuple(sorted(set(group.tolist()), key=code_key))
        r_pos = {c: i for i, c in enumerate(regions)}
        g_pos = {c: i for i, c in enumerate(groups)}
        return cls(
            kommune_codes=codes,
            region_codes=regions,
            group_codes=groups,
            region_idx=np.array([r_pos[c] for c in region], dtype=np.intp),
            group_idx=np.array([g_pos[c] for c in group], dtype=np.intp),
        )

    @property
    def region_of(self) -> dict[str, str]:
        return {k: self.region_codes[i] for k, i in zip(self.kommune_codes, self.region_idx)}

    @property
    def group_of(self) -> dict[str, str]:
        return {k: self.group_codes[i] for k, i in zip(self.kommune_codes, self.group_idx)}

    def kommune_index(self, kommune: pd.Series) -> np.ndarray:
        """Position of each respondent's kommune in `kommune_codes`; raises on a code outside the 98."""
        cat = pd.Categorical(kommune.astype("str"), categories=list(self.kommune_codes))
        idx = np.asarray(cat.codes, dtype=np.intp)
        if (idx < 0).any():
            bad = sorted(set(kommune[idx < 0].astype("str")))[:5]
            raise ValueError(f"validated frame holds kommune codes that are not one of the 98 kommuner: {bad}")
        return idx

    def levels(self, by_kommune: np.ndarray) -> list[tuple[str, tuple[str, ...], np.ndarray]]:
        """Sum per-kommune values (rows = kommuner, any trailing shape) up to every geography level."""
        by_kommune = np.asarray(by_kommune)
        tail = by_kommune.shape[1:]
        region = np.zeros((len(self.region_codes), *tail), dtype=by_kommune.dtype)
        np.add.at(region, self.region_idx, by_kommune)
        group = np.zeros((len(self.group_codes), *tail), dtype=by_kommune.dtype)
        np.add.at(group, self.group_idx, by_kommune)
        national = by_kommune.sum(axis=0, keepdims=True)
        return [
            ("national", (NATIONAL_CODE,), national),
            ("region", self.region_codes, region),
            ("kommunegruppe", self.group_codes, group),
            ("kommune", self.kommune_codes, by_kommune),
        ]
