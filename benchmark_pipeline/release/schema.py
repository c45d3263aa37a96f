"""The published tables: columns, types, row order and descriptions (the data dictionary).

One place defines what a release contains. The stats functions return frames with exactly these
columns minus `release_id`; the release store adds `release_id` as the first column, coerces every
column to its declared type and sorts the rows by the table's key, so the same figures always give
the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from benchmark_pipeline.release.errors import TableContractError, UnknownTableError

# Logical column types, mapped to pandas dtypes (files, reader) and SQL types (warehouse migrations).
STR, INT, FLOAT, BOOL = "string", "integer", "float", "boolean"
PANDAS_DTYPES = {STR: "str", INT: "Int64", FLOAT: "float64", BOOL: "boolean"}

GEOGRAPHY_ORDER = {"national": 0, "region": 1, "kommunegruppe": 2, "kommune": 3}
_P_VALUE_UNIT, _PP = "probability", "percentage points"


ADDED_IN_0002 = "0002_trends_and_spread"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = True
    unit: str | None = None
    # The warehouse revision that added the column, and the value releases published before it hold
    # instead (the value that revision gave their warehouse rows): their files stay as published.
    added_in: str | None = None
    older_value: object = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # row order (and natural key within one release)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def input_columns(self) -> list[str]:
        """The columns the stats layer delivers (everything except `release_id`)."""
        return [c.name for c in self.columns if c.name != "release_id"]


_RELEASE_ID = Column(
    "release_id", STR, "The release this row belongs to: `<year>-r<revision>-<fingerprint[:12]>`.", nullable=False
)
_YEAR = Column("survey_year", INT, "The survey year the figures describe.", nullable=False)
_LEVEL = Column(
    "geography_level", STR, "Geography level: `national`, `region`, `kommunegruppe` or `kommune`.", nullable=False
)
_CODE = Column(
    "geography_code",
    STR,
    "Geography code as text: kommune `101` (3 digits), region `1081`-`1085`, kommunegruppe `1`-`5`, "
    "national `DK`.",
    nullable=False,
)
_INDICATOR = Column(
    "indicator_id",
    STR,
    "Indicator id: `<question>.<option>` for single and multi-select questions, `barriers.<option>.top3` "
    "and `barriers.<option>.first` for the barrier ranking.",
    nullable=False,
)
_SUPPRESSED = Column(
    "suppressed",
    BOOL,
    "True when disclosure control withheld the row: the keys stay, every value (n included) is empty.",
    nullable=False,
)
_REASON = Column("suppression_reason", STR, "Why the row was suppressed: no_respondents (n = 0) or confidential "
                 "(fewer than the minimum, or withheld so that no confidential value can be solved for); "
                 "empty when published.")

TABLES: dict[str, TableSpec] = {}


def _table(name: str, description: str, key: tuple[str, ...], *columns: Column) -> None:
    TABLES[name] = TableSpec(name, description, (_RELEASE_ID, *columns), key)


_table(
    "indicator_values",
    "Share of respondents choosing each answer option, per geography, with 95% Wilson intervals.",
    ("geography_level", "geography_code", "indicator_id"),
    _YEAR,
    _LEVEL,
    _CODE,
    _INDICATOR,
    Column("question_id", STR, "The question the indicator belongs to.", nullable=False),
    Column("option_id", STR, "The answer option the indicator counts.", nullable=False),
    Column(
        "measure",
        STR,
        "`share` (share choosing the option), `top3` (ranked among the top three barriers) or `first` "
        "(ranked first).",
        nullable=False,
    ),
    Column("n", INT, "Respondents who answered the question in this geography (the denominator).", unit="persons"),
    Column(
        "count",
        INT,
        "Respondents choosing the option (the numerator); published only above kommune level, empty for "
        "kommuner.",
        unit="persons",
    ),
    Column("share", FLOAT, "count / n, between 0 and 1.", unit="proportion"),
    Column("ci_low", FLOAT, "Lower bound of the 95% Wilson score interval for `share`.", unit="proportion"),
    Column("ci_high", FLOAT, "Upper bound of the 95% Wilson score interval for `share`.", unit="proportion"),
    _SUPPRESSED,
    _REASON,
)
_table(
    "barrier_scores",
    "Ranked barriers per geography: a weighted score plus top-three and first-place shares.",
    ("geography_level", "geography_code", "barrier_id"),
    _YEAR,
    _LEVEL,
    _CODE,
    Column("barrier_id", STR, "The barrier (answer option of the ranking question).", nullable=False),
    Column("n", INT, "Respondents who ranked at least one barrier in this geography.", unit="persons"),
    Column("score", FLOAT, "Weighted rank score: the mean of 3 points for a first place, 2 for a second, 1 for a "
           "third and 0 otherwise, scaled to 0-100.", unit="score"),
    Column("score_ci_low", FLOAT, "Lower bound of the 95% score-type (Wilson) interval for `score`, within 0-100.",
           unit="score"),
    Column("score_ci_high", FLOAT, "Upper bound of the 95% score-type (Wilson) interval for `score`, within 0-100.",
           unit="score"),
    Column("top3_share", FLOAT, "Share ranking the barrier among their top three.", unit="proportion"),
    Column("first_share", FLOAT, "Share ranking the barrier first.", unit="proportion"),
    _SUPPRESSED,
    _REASON,
)
_table(
    "yoy_changes",
    "Change of each indicator against an earlier year's published release: the previous survey year, and "
    "(from a series' third year on) the series' first year.",
    ("geography_level", "geography_code", "indicator_id", "comparison"),
    _YEAR,
    Column(
        "comparison",
        STR,
        "`previous_year` (against the previous survey year) or `first_year` (against the first survey year "
        "whose release holds the indicator at this geography; from that year + 2 on).",
        nullable=False,
        added_in=ADDED_IN_0002,
        older_value="previous_year",
    ),
    Column("base_year", INT, "The earlier survey year compared with.", nullable=False),
    _LEVEL,
    _CODE,
    _INDICATOR,
    Column("share", FLOAT, "Share in `survey_year`.", unit="proportion"),
    Column("share_base", FLOAT, "Share in `base_year`.", unit="proportion"),
    Column("diff_pp", FLOAT, "share - share_base, in percentage points.", unit=_PP),
    Column("diff_ci_low_pp", FLOAT, "Lower bound of the 95% Newcombe interval for `diff_pp`.", unit=_PP),
    Column("diff_ci_high_pp", FLOAT, "Upper bound of the 95% Newcombe interval for `diff_pp`.", unit=_PP),
    Column("p_value", FLOAT, "Two-sided score-test p-value of the difference in proportions.", unit=_P_VALUE_UNIT),
    Column(
        "q_value",
        FLOAT,
        "Benjamini-Hochberg adjusted p-value (false discovery rate) within the test's family: one survey year, "
        "comparison, geography level and question (a barrier's top-3 and first-place shares are two families).",
        unit=_P_VALUE_UNIT,
    ),
    Column("significant", BOOL, "True when q_value < 0.05: only then do reports say risen or fallen."),
    Column("relative_growth", FLOAT, "share / share_base - 1 (empty when share_base is 0).", unit="proportion"),
)
_table(
    "trends",
    "Trend of each indicator over all its published years (three or more): a binomial GLM of the share on the "
    "year. Only indicators published at the geography in every year used.",
    ("geography_level", "geography_code", "indicator_id"),
    _YEAR,
    _LEVEL,
    _CODE,
    _INDICATOR,
    Column("first_year", INT, "The first survey year of the trend (the first release holding the indicator at "
           "this geography).", nullable=False),
    Column("years", INT, "Published survey years the trend is fitted to, `first_year` to `survey_year`.",
           nullable=False, unit="years"),
    Column("share_first", FLOAT, "Share in `first_year`.", unit="proportion"),
    Column("share", FLOAT, "Share in `survey_year`.", unit="proportion"),
    Column(
        "slope_pp_per_year",
        FLOAT,
        "Average change per year of the fitted share from `first_year` to `survey_year`, in percentage points.",
        unit="percentage points per year",
    ),
    Column("slope_ci_low_pp", FLOAT, "Lower bound of the 95% interval for `slope_pp_per_year` (delta method).",
           unit="percentage points per year"),
    Column("slope_ci_high_pp", FLOAT, "Upper bound of the 95% interval for `slope_pp_per_year` (delta method).",
           unit="percentage points per year"),
    Column("p_value", FLOAT, "Likelihood-ratio test p-value of a zero slope.", unit=_P_VALUE_UNIT),
    Column(
        "q_value",
        FLOAT,
        "Benjamini-Hochberg adjusted p-value within the test's family: one survey year, geography level and "
        "question (a barrier's top-3 and first-place shares are two families).",
        unit=_P_VALUE_UNIT,
    ),
    Column("significant", BOOL, "True when q_value < 0.05: only then do reports call it a rising or falling trend."),
)
_table(
    "kommune_benchmarks",
    "Each kommune's share per indicator against the national, regional and kommunegruppe shares, with its "
    "percentile and the spread of published kommune shares nationally and in its kommunegruppe.",
    ("kommune_kode", "indicator_id"),
    _YEAR,
    Column("kommune_kode", STR, "3-digit kommune code as text (`101` = Københavns Kommune).", nullable=False),
    _INDICATOR,
    Column("n", INT, "Respondents in the kommune who answered the question.", unit="persons"),
    Column("share", FLOAT, "The kommune's share.", unit="proportion"),
    Column(
        "share_shrunk",
        FLOAT,
        "The share shrunk towards the kommunegruppe share (empirical Bayes), stabler for small n.",
        unit="proportion",
    ),
    Column("national_share", FLOAT, "The national share.", unit="proportion"),
    Column("region_share", FLOAT, "The share in the kommune's region.", unit="proportion"),
    Column("group_share", FLOAT, "The share in the kommune's DST kommunegruppe.", unit="proportion"),
    Column("diff_national_pp", FLOAT, "share - national_share, in percentage points.", unit=_PP),
    Column("diff_region_pp", FLOAT, "share - region_share, in percentage points.", unit=_PP),
    Column("diff_group_pp", FLOAT, "share - group_share, in percentage points.", unit=_PP),
    Column("percentile", FLOAT, "The kommune's percentile rank (0-100) of `share_shrunk` among the "
           "`percentile_of` published kommuner.", unit="percentile"),
    *(
        Column(name, kind, description, unit=unit, added_in=ADDED_IN_0002)
        for name, kind, description, unit in (
            ("percentile_of", INT, "How many published kommuner the percentile ranks among.", "kommuner"),
            ("national_min", FLOAT, "Lowest published kommune share of the indicator in the country.", "proportion"),
            ("national_median", FLOAT, "Median published kommune share of the indicator in the country.",
             "proportion"),
            ("national_max", FLOAT, "Highest published kommune share of the indicator in the country.",
             "proportion"),
            ("national_published", INT, "Kommuner whose share of the indicator is published.", "kommuner"),
            ("group_min", FLOAT, "Lowest published kommune share of the indicator in the kommune's kommunegruppe.",
             "proportion"),
            ("group_median", FLOAT, "Median published kommune share of the indicator in the kommune's "
             "kommunegruppe.", "proportion"),
            ("group_max", FLOAT, "Highest published kommune share of the indicator in the kommune's "
             "kommunegruppe.", "proportion"),
            ("group_published", INT, "Kommuner of the kommunegruppe whose share of the indicator is published.",
             "kommuner"),
        )
    ),
    _SUPPRESSED,
    _REASON,
)
_table(
    "year_summary",
    "One row per survey year: response counts and their change from the previous year.",
    ("survey_year",),
    _YEAR,
    Column("respondents", INT, "Valid respondents.", unit="persons"),
    Column("responding_kommuner", INT, "Kommuner with at least one valid respondent.", unit="kommuner"),
    Column("non_responses", INT, "Kommuner without any valid respondent.", unit="kommuner"),
    Column("quarantined_rows", INT, "Rows set aside by validation.", unit="rows"),
    Column("respondents_change", INT, "Change in respondents from the previous year.", unit="persons"),
    Column("responding_kommuner_change", INT, "Change in responding kommuner.", unit="kommuner"),
    Column("non_responses_change", INT, "Change in non-responding kommuner.", unit="kommuner"),
    Column("quarantined_rows_change", INT, "Change in quarantined rows.", unit="rows"),
)
_table(
    "quarantine_summary",
    "Counts of quarantined rows per validation rule and column (counts only; no values, no free text).",
    ("rule", "column"),
    _YEAR,
    Column("rule", STR, "The validation rule that failed.", nullable=False),
    Column("column", STR, "The canonical column the rule checks (empty for whole-row rules)."),
    Column("rows", INT, "Rows quarantined by the rule.", nullable=False, unit="rows"),
)

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)


def spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise UnknownTableError(f"unknown table {name!r}; the published tables are: {', '.join(TABLE_NAMES)}") from None


def coerce(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with exactly the table's columns, in order, each with its declared dtype.

    A column added by a later warehouse revision may be absent (a release published before it): it gets
    the value those releases' warehouse rows got. New releases are held to every column by `prepare`."""
    table = spec(name)
    missing = [c.name for c in table.columns if c.name not in frame.columns and c.added_in is None]
    if missing:
        raise TableContractError(f"{name}: missing columns {missing}")
    out = {}
    for col in table.columns:
        if col.name not in frame.columns:
            values = pd.Series([col.older_value] * len(frame), index=frame.index, dtype=object)
        else:
            values = frame[col.name]
        dtype = PANDAS_DTYPES[col.type]
        if values.dtype != dtype:
            values = values.astype(dtype)
        out[col.name] = values.reset_index(drop=True)
    return pd.DataFrame(out, columns=table.column_names)


def prepare(name: str, frame: pd.DataFrame, release_id: str) -> pd.DataFrame:
    """A stats frame (without `release_id`) -> the published frame: typed, keyed, in a fixed row order."""
    table = spec(name)
    if len(frame) == 0 and len(frame.columns) == 0:  # e.g. no comparison year: a bare empty frame
        frame = empty_frame(name).drop(columns=["release_id"])
    if "release_id" in frame.columns:
        raise TableContractError(f"{name}: frames come without release_id; the release store adds it")
    extra = [c for c in frame.columns if c not in table.input_columns]
    missing = [c for c in table.input_columns if c not in frame.columns]
    if extra or missing:
        raise TableContractError(
            f"{name}: columns do not match the contract (missing: {missing or 'none'}, unexpected: {extra or 'none'})"
        )
    for col in table.columns:
        if not col.nullable and col.name != "release_id" and frame[col.name].isna().any():
            raise TableContractError(f"{name}: column {col.name} must not be empty")
    frame = frame.reset_index(drop=True).copy()
    frame.insert(0, "release_id", release_id)
    return sort_rows(name, coerce(name, frame))


def sort_rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed row order: the table key (geography levels from national down), then every other column."""
    table = spec(name)
    order = list(table.key) + [c for c in table.column_names if c not in table.key]

    def sort_key(values: pd.Series) -> pd.Series:
        if values.name == "geography_level":
            return values.map(lambda v: GEOGRAPHY_ORDER.get(v, 99) if isinstance(v, str) else 100)
        return values

    keys = pd.DataFrame({c: sort_key(frame[c]) for c in table.key})
    if table.key and not keys.duplicated().any():
        order = list(table.key)  # no two rows tie on the key, so the other columns never decide the order

    return frame.sort_values(order, key=sort_key, kind="mergesort", na_position="last").reset_index(drop=True)


def empty_frame(name: str) -> pd.DataFrame:
    return coerce(name, pd.DataFrame({c: [] for c in spec(name).column_names}))


def data_dictionary(names=None) -> dict:
    """The machine-readable description of every published table and column."""
    names = TABLE_NAMES if names is None else [n for n in TABLE_NAMES if n in set(names)]
    return {
        "format": "benchmark_pipeline data dictionary",
        "version": 1,
        "conventions": {
            "codes": "Kommune, region and kommunegruppe codes are text; keep leading zeros as given.",
            "suppression": "Suppressed rows keep their keys, suppressed=true, a suppression_reason, and every "
            "value (n included) empty.",
            "files": "tables/<name>.parquet and tables/<name>.csv hold the same rows; CSV is UTF-8 with BOM, "
            "comma-separated, '.' as decimal separator, empty field = missing value.",
            "proportions": "Shares are proportions between 0 and 1; differences named *_pp are percentage points.",
        },
        "tables": {
            n: {
                "description": TABLES[n].description,
                "key": ["release_id", *TABLES[n].key],
                "files": [f"tables/{n}.parquet", f"tables/{n}.csv"],
                "warehouse_table": n,
                "warehouse_latest_view": f"latest_{n}",
                "columns": [
                    {
                        "name": c.name,
                        "type": c.type,
                        "nullable": c.nullable,
                        "unit": c.unit,
                        "description": c.description,
                    }
                    for c in TABLES[n].columns
                ],
            }
            for n in names
        },
    }
