"""The published tables of one year, indexed for the report pages.

Reports only ever read what is published: a suppressed row is skipped or shown as a notice; nothing is
derived for it (no subtraction from totals, no recomputed shares, no counts at kommune level).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from benchmark_pipeline import findings as fnd
from benchmark_pipeline.instrument import Question, YearInstrument
from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.release.schema import TABLE_NAMES

from .formatting import as_float, is_missing

CODE_COLUMNS = ("geography_code", "kommune_kode")
# The headline indicators, in the order the article presents them.
HEADLINE_INDICATORS = ("data_use_change.mere", "further_potential.ja")
HEADLINE_TEXT = {
    "data_use_change.mere": "bruger borgerrelaterede data mere end for et år siden",
    "further_potential.ja": "ser potentiale for yderligere brug af borgerrelaterede data i kommunen",
}
HEADLINE_SHORT = {
    "data_use_change.mere": "Bruger data mere end for et år siden",
    "further_potential.ja": "Ser potentiale for yderligere brug",
}
BACKGROUND_QUESTIONS = ("fagomraade", "stilling")
SUPPRESSION_TEXT = {
    "confidential": "fortroligt: færre end {m} besvarelser, eller skjult så andre tal ikke kan regnes ud",
    "no_respondents": "ingen besvarelser",
}


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts (much faster than DataFrame.to_dict("records") for wide object frames)."""
    cols = list(df.columns)
    return [dict(zip(cols, row)) for row in zip(*(df[c].tolist() for c in cols))]


def suppression_text(reason: object, minimum: int) -> str:
    if is_missing(reason):
        return "ikke offentliggjort"
    return SUPPRESSION_TEXT.get(str(reason), "ikke offentliggjort").format(m=minimum)


def is_true(value: object) -> bool:
    """Only an explicit true counts (NA, None and False are not true)."""
    if is_missing(value):
        return False
    return bool(value) is True


KEY_COLUMNS = frozenset({
    "release_id", "survey_year", "base_year", "geography_level", "geography_code", "kommune_kode", "indicator_id",
    "question_id", "option_id", "measure", "barrier_id", "suppressed", "suppression_reason",
})


def _suppressed_mask(df: pd.DataFrame) -> pd.Series:
    col = df["suppressed"]
    return col.map(is_true).astype(bool)


def normalise_table(df: pd.DataFrame | None) -> pd.DataFrame:
    """A published table without `release_id`, with string codes.

    Defence in depth for disclosure control: whatever an upstream table holds, a suppressed row keeps only
    its keys here (every value, n included, is emptied) and no count is kept at kommune level, so no
    report or workbook can show a suppressed value even if one leaked into the table."""
    if df is None:
        return pd.DataFrame()
    out = df.drop(columns=["release_id"], errors="ignore").copy()
    for col in CODE_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype("string").astype(object)
    if "suppressed" in out.columns and len(out):
        mask = _suppressed_mask(out)
        if mask.any():
            for col in out.columns:
                if col not in KEY_COLUMNS:
                    out[col] = out[col].astype(object).where(~mask, None)
    if "count" in out.columns and "geography_level" in out.columns and len(out):
        kommune = (out["geography_level"] == "kommune").to_numpy()
        if kommune.any():
            out["count"] = out["count"].astype(object).where(~kommune, None)
    return out


def normalise_tables(tables: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    tables = tables or {}
    return {name: normalise_table(tables.get(name)) for name in TABLE_NAMES}


def split_indicator(indicator_id: str) -> tuple[str, str, str]:
    """'barriers.ledelse.top3' -> ('barriers', 'ledelse', 'top3'); 'ai_use.nej' -> ('ai_use', 'nej', 'share')."""
    parts = indicator_id.split(".")
    question, option = parts[0], parts[1] if len(parts) > 1 else ""
    measure = parts[2] if len(parts) > 2 else "share"
    return question, option, measure


@dataclass(frozen=True)
class Labels:
    """Danish labels for this year's questions and options, and the label-change footnotes."""

    instrument: YearInstrument

    @cached_property
    def _options(self) -> dict[tuple[str, str], str]:
        return {(q.id, o.id): o.label for q in self.instrument.questions for o in q.options}

    def question(self, question_id: str) -> Question | None:
        return self.instrument.by_id.get(question_id)

    def question_text(self, question_id: str) -> str:
        q = self.question(question_id)
        return q.text if q else question_id

    def option(self, question_id: str, option_id: str) -> str:
        return self._options.get((question_id, option_id), option_id)

    def indicator(self, indicator_id: str, with_measure: bool = True) -> str:
        question, option, measure = split_indicator(indicator_id)
        label = self.option(question, option)
        if with_measure and measure == "top3":
            return f"{label} (blandt top 3)"
        if with_measure and measure == "first":
            return f"{label} (største barriere)"
        return label

    @cached_property
    def changes(self) -> list[dict]:
        """Label changes that apply up to this survey year, with a footnote number each."""
        out = []
        for i, ch in enumerate(
            (c for c in self.instrument.label_changes if c.since <= self.instrument.survey_year), start=1
        ):
            out.append(
                {
                    "number": i,
                    "question": ch.question,
                    "option": ch.option,
                    "since": ch.since,
                    "before": ch.before,
                    "after": ch.after,
                    "text": (
                        f"Svarmuligheden hed før {ch.since} \u00bb{ch.before}\u00ab og fra {ch.since} "
                        f"\u00bb{ch.after}\u00ab. Det er samme svarmulighed, og tallene kan sammenlignes "
                        "på tværs af årene."
                    ),
                }
            )
        return out

    def footnote(self, question_id: str, option_id: str) -> int | None:
        for ch in self.changes:
            if ch["question"] == question_id and ch["option"] == option_id:
                return ch["number"]
        return None


class YearData:
    """Fast lookups into one year's published tables.

    `tables` are the published tables as the workbook writes them (`normalise_tables`); `published` are the
    same tables as findings read them (`findings.read_tables`: every column present, the `trends` table and
    the new kommune_benchmarks and yoy_changes columns empty where a release lacks them)."""

    def __init__(self, survey_year: int, tables: dict[str, pd.DataFrame], kommuner: Kommuner | None = None):
        self.survey_year = survey_year
        self.raw_tables = tables or {}
        self.tables = normalise_tables(tables)
        self.published = fnd.read_tables(tables, kommuner)
        iv = self.tables["indicator_values"]
        if not iv.empty and "survey_year" in iv.columns:
            iv = iv[iv["survey_year"].astype(int) == survey_year] if (iv["survey_year"].nunique() > 1) else iv
        self.indicator_values = iv

    def warm(self) -> None:
        """Build every lookup now (see `Context.warm`)."""
        self.indicator_ids, self.barrier_ids, self.base_year, self.summary  # noqa: B018  (cached properties)
        self._iv_index, self._bs_index, self._yoy_index, self._trend_index, self._kb_by_kommune  # noqa: B018

    @cached_property
    def release_id(self) -> str:
        """The release the tables come from ("" for tables not read from a release, as in tests)."""
        for df in self.raw_tables.values():
            if df is not None and "release_id" in df.columns and len(df):
                return str(df["release_id"].iloc[0])
        return ""

    # -- indicator values -------------------------------------------------------------------------
    @cached_property
    def _iv_index(self) -> dict[tuple[str, str, str], dict]:
        iv = self.indicator_values
        if iv.empty:
            return {}
        return {(r["geography_level"], str(r["geography_code"]), r["indicator_id"]): r for r in records(iv)}

    def value(self, level: str, code: str, indicator_id: str) -> dict | None:
        """The published row (dict) for a geography and indicator, or None when absent."""
        return self._iv_index.get((level, str(code), indicator_id))

    def share(self, level: str, code: str, indicator_id: str) -> float | None:
        row = self.value(level, code, indicator_id)
        if row is None or is_true(row.get("suppressed")):
            return None
        return as_float(row.get("share"))

    def national(self, indicator_id: str) -> dict | None:
        return self.value("national", NATIONAL_CODE, indicator_id)

    @cached_property
    def indicator_ids(self) -> list[str]:
        iv = self.indicator_values
        return [] if iv.empty else list(dict.fromkeys(iv["indicator_id"]))

    def has_question(self, question_id: str) -> bool:
        return any(i.split(".")[0] == question_id for i in self.indicator_ids)

    # -- barrier scores ---------------------------------------------------------------------------
    @cached_property
    def _bs_index(self) -> dict[tuple[str, str, str], dict]:
        bs = self.tables["barrier_scores"]
        if bs.empty:
            return {}
        return {(r["geography_level"], str(r["geography_code"]), r["barrier_id"]): r for r in records(bs)}

    def barrier(self, level: str, code: str, barrier_id: str) -> dict | None:
        return self._bs_index.get((level, str(code), barrier_id))

    @cached_property
    def barrier_ids(self) -> list[str]:
        bs = self.tables["barrier_scores"]
        return [] if bs.empty else list(dict.fromkeys(bs["barrier_id"]))

    # -- year over year ---------------------------------------------------------------------------
    @cached_property
    def _yoy_index(self) -> dict[tuple[str, str, str, str], dict]:
        yoy = self.published["yoy_changes"]
        return {(str(r["comparison"]), r["geography_level"], str(r["geography_code"]), r["indicator_id"]): r
                for r in records(yoy)}

    def yoy(self, level: str, code: str, indicator_id: str, comparison: str = fnd.PREVIOUS_YEAR) -> dict | None:
        """The change since the previous year (or, with comparison="first_year", since the series' first
        year) when both years are published (diff_pp present); otherwise None."""
        row = self._yoy_index.get((comparison, level, str(code), indicator_id))
        if row is None or as_float(row.get("diff_pp")) is None:
            return None
        return row

    def since_first(self, level: str, code: str, indicator_id: str, first_year: int | None) -> dict | None:
        """The change since `first_year`: the first-year comparison, or the previous-year one when the previous
        year is the first (the table has no separate first-year row then)."""
        row = self.yoy(level, code, indicator_id, fnd.FIRST_YEAR)
        if row is not None:
            return row
        row = self.yoy(level, code, indicator_id)
        if row is not None and first_year is not None and as_float(row.get("base_year")) == first_year:
            return row
        return None

    @cached_property
    def _trend_index(self) -> dict[tuple[str, str, str], dict]:
        return {(r["geography_level"], str(r["geography_code"]), r["indicator_id"]): r
                for r in records(self.published["trends"])}

    def trend(self, level: str, code: str, indicator_id: str) -> dict | None:
        row = self._trend_index.get((level, str(code), indicator_id))
        if row is None or as_float(row.get("slope_pp_per_year")) is None:
            return None
        return row

    @cached_property
    def base_year(self) -> int | None:
        yoy = self.published["yoy_changes"]
        years = [int(y) for y, c in zip(yoy["base_year"], yoy["comparison"])
                 if str(c) == fnd.PREVIOUS_YEAR and as_float(y) is not None]
        return max(years) if years else None

    # -- kommune benchmarks -----------------------------------------------------------------------
    @cached_property
    def _kb_by_kommune(self) -> dict[str, dict[str, dict]]:
        kb = self.published["kommune_benchmarks"]
        out: dict[str, dict[str, dict]] = {}
        for r in records(kb):
            out.setdefault(str(r["kommune_kode"]), {})[r["indicator_id"]] = r
        return out

    def benchmarks(self, kode: str) -> dict[str, dict]:
        return self._kb_by_kommune.get(str(kode), {})

    # -- summary ----------------------------------------------------------------------------------
    @cached_property
    def summary(self) -> dict | None:
        ys = self.tables["year_summary"]
        if ys.empty:
            return None
        rows = ys[ys["survey_year"].astype(int) == self.survey_year] if "survey_year" in ys.columns else ys
        return rows.iloc[-1].to_dict() if len(rows) else None


def geography_names(kommuner: Kommuner) -> dict[tuple[str, str], str]:
    """(level, code) -> Danish name for national, regions, kommunegrupper and kommuner."""
    t = kommuner.table
    names = {("national", NATIONAL_CODE): "Hele landet"}
    for code, name in zip(t["region_kode"], t["region_navn"]):
        names[("region", str(code))] = name
    for code, name in zip(t["kommunegruppe_kode"], t["kommunegruppe_navn"]):
        names[("kommunegruppe", str(code))] = name
    for code, name in zip(t["kommune_kode"], t["officielt_navn"]):
        names[("kommune", str(code))] = name
    return names
