"""The geography hierarchy (national > region / kommunegruppe > kommune) as index arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner


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
        """Position of each respondent's kommune in `kommune_codes`; raises on a code outside the 98.

        The codes are compared as text once per distinct value (see `factorize`), not once per respondent."""
        codes, labels = factorize(kommune)
        known = pd.Index(self.kommune_codes)
        if not known.is_unique:
            raise ValueError("the kommune reference holds a kommune code twice")
        idx = np.append(known.get_indexer(labels), -1)[codes]  # code -1 (missing) picks the trailing -1
        if (idx < 0).any():
            bad = sorted(set(kommune[idx < 0].astype("str")))[:5]
            raise ValueError(f"validated frame holds kommune codes that are not one of the 98 kommuner: {bad}")
        return idx

    @cached_property
    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(level, code) of every geography cell, in the order of `levels` and `stack` (object arrays)."""
        parts = [(level, codes) for level, codes, _ in self.levels(np.zeros(len(self.kommune_codes)))]
        level = np.array([lvl for lvl, codes in parts for _ in codes], dtype=object)
        code = np.array([c for _, codes in parts for c in codes], dtype=object)
        return level, code

    @cached_property
    def first_kommune_cell(self) -> int:
        """Where the kommune cells start in `cells` (they come last: national, regions, groups, kommuner)."""
        return 1 + len(self.region_codes) + len(self.group_codes)

    @cached_property
    def members(self) -> tuple[np.ndarray, ...]:
        """Per cell (in `cells` order), the indices into `kommune_codes` of the kommuner it sums."""
        nk = len(self.kommune_codes)
        return (
            np.arange(nk),
            *(np.flatnonzero(self.region_idx == i) for i in range(len(self.region_codes))),
            *(np.flatnonzero(self.group_idx == i) for i in range(len(self.group_codes))),
            *(np.array([k]) for k in range(nk)),
        )

    def parent_cells(self, kommune: int) -> tuple[int, int]:
        """The cells of a kommune's region and kommunegruppe (by index into `kommune_codes`)."""
        return 1 + int(self.region_idx[kommune]), 1 + len(self.region_codes) + int(self.group_idx[kommune])

    def cell_index(self, level: str, code: str) -> int:
        """The position of a (level, code) cell in `cells`."""
        levels, codes = self.cells
        return int(np.flatnonzero((levels == level) & (codes == code))[0])

    def stack(self, by_kommune: np.ndarray) -> np.ndarray:
        """`levels` as one array: rows = every geography cell, in the order of `cells`."""
        return np.concatenate([values for _, _, values in self.levels(by_kommune)])

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


def factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(codes, labels as text) with values == labels[codes] and code -1 where missing.

    A categorical column gives its own codes and categories; any other column is hashed once by
    `pd.factorize` (pyarrow strings stay in pyarrow). Callers then compare a handful of labels with the
    reference, not a million strings. Labels are `astype("str")`, so a numeric column compares as text."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), values.cat.categories.astype("str")
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques).astype("str")
