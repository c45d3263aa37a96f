"""Share indicators and barrier scores at every geography, with disclosure control applied.

Everything is computed from per-kommune sufficient statistics (bincounts over respondents), which are
then summed up the geography hierarchy, so the work over respondents is a handful of vectorised passes.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from benchmark_pipeline.instrument import Question, YearInstrument
from benchmark_pipeline.reference import Kommuner
from benchmark_pipeline.stats.disclosure import decide_suppression_geo
from benchmark_pipeline.stats.geography import Geography
from benchmark_pipeline.stats.tables import (
    BARRIER_SCORES_COLUMNS,
    BARRIER_VALUE_FIELDS,
    CONFIDENCE,
    INDICATOR_VALUE_FIELDS,
    INDICATOR_VALUES_COLUMNS,
    LEVELS,
    check_min_respondents,
)


def wilson_interval(count, n, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval (statsmodels); NaN where n is 0."""
    count, n = np.broadcast_arrays(np.asarray(count, dtype=float), np.asarray(n, dtype=float))
    low = np.full(count.shape, np.nan)
    high = low.copy()
    ok = n > 0
    if ok.any():
        lo, hi = proportion_confint(count[ok], n[ok], alpha=1 - confidence, method="wilson")
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
        # exact bounds at the edges (the closed form is exactly 0 at 0/n and 1 at n/n; floats drift by 1e-17)
        low[ok & (count == 0)] = 0.0
        high[ok & (count == n)] = 1.0
    return low, high


def barrier_score(first, second, third, n, confidence: float = CONFIDENCE):
    """Weighted score (3·first + 2·second + 1·third) / (3·n) × 100 with a normal interval of the mean.

    Each respondent who ranked at least one barrier gets 3, 2, 1 or 0 points for the option; the score
    is the mean points scaled to 0–100. The interval is mean ± z·s/√n (s: sample standard deviation of
    the points, ddof=1), scaled the same way and clipped to [0, 100]. NaN where n is 0 (interval: n < 2).
    """
    f, s, t, n = (np.asarray(x, dtype=float) for x in (first, second, third, n))
    total = 3 * f + 2 * s + t
    total_sq = 9 * f + 4 * s + t
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        var = np.where(n > 1, (total_sq - n * mean**2) / (n - 1), np.nan)
        se = np.sqrt(np.clip(var, 0.0, None) / n)
    z = norm.ppf(0.5 + confidence / 2)
    score = mean / 3 * 100
    low = np.clip((mean - z * se) / 3 * 100, 0.0, 100.0)
    high = np.clip((mean + z * se) / 3 * 100, 0.0, 100.0)
    return score, low, high


# --------------------------------------------------------------------------------------------------
# respondent-level decoding


def _option_codes(series: pd.Series, options: tuple[str, ...], column: str) -> np.ndarray:
    """Index of each respondent's option in `options`; -1 where not answered. Raises on unknown values."""
    pos = {o: i for i, o in enumerate(options)}
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in series.cat.categories]
        lut = np.array([pos.get(c, -2) for c in cats] + [-1], dtype=np.intp)
        codes = lut[series.cat.codes.to_numpy()]  # code -1 (NA) picks the trailing -1
    else:
        cat = pd.Categorical(series.astype("str"), categories=list(options))
        codes = np.asarray(cat.codes, dtype=np.intp)
        codes = np.where((codes < 0) & series.notna().to_numpy(), -2, codes)
    if (codes == -2).any():
        bad = sorted(set(series[codes == -2].astype("str")))[:5]
        raise ValueError(f"column {column!r} holds values that are not options of this year: {bad}")
    return codes


def _require(validated: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in validated.columns]
    if missing:
        raise ValueError(f"validated frame lacks columns of this year's instrument: {missing}")


def _count_by_kommune(kidx: np.ndarray, codes: np.ndarray, n_kommuner: int, n_options: int) -> np.ndarray:
    """(kommuner × options) counts of respondents per kommune and option; codes < 0 are skipped."""
    ok = codes >= 0
    flat = np.bincount(kidx[ok] * n_options + codes[ok], minlength=n_kommuner * n_options)
    return flat.reshape(n_kommuner, n_options).astype(np.int64)


def _single_stats(validated, q: Question, kidx, nk):
    _require(validated, [q.id])
    codes = _option_codes(validated[q.id], q.option_ids, q.id)
    counts = _count_by_kommune(kidx, codes, nk, len(q.options))
    n = np.bincount(kidx[codes >= 0], minlength=nk).astype(np.int64)
    return n, counts


def _multi_stats(validated, q: Question, kidx, nk):
    cols = list(q.canonical_columns())
    _require(validated, cols)
    block = validated[cols]
    x = np.column_stack([pd.to_numeric(block[c], errors="raise").fillna(0).to_numpy(dtype=float) for c in cols])
    if not np.isin(x, (0, 1)).all():
        raise ValueError(f"multi-select columns of {q.id!r} must hold 0/1")
    x = x.astype(np.int64)
    counts = np.column_stack([np.bincount(kidx, weights=x[:, j], minlength=nk) for j in range(x.shape[1])])
    answered = x.any(axis=1)
    n = np.bincount(kidx[answered], minlength=nk).astype(np.int64)
    return n, counts.astype(np.int64)


def _ranked_stats(validated, q: Question, kidx, nk):
    cols = list(q.canonical_columns())
    _require(validated, cols)
    m = len(q.options)
    codes = [_option_codes(validated[c], q.option_ids, c) for c in cols]
    # An option counts once per respondent, at its best rank (validation quarantines repeats anyway).
    dedup = []
    for r, c in enumerate(codes):
        keep = c.copy()
        for prev in codes[:r]:
            keep = np.where(keep == prev, -1, keep)
        dedup.append(keep)
    by_rank = [_count_by_kommune(kidx, c, nk, m) for c in dedup]  # first, second, third
    ranked_any = np.zeros(len(validated), dtype=bool)
    for c in codes:
        ranked_any |= c >= 0
    n = np.bincount(kidx[ranked_any], minlength=nk).astype(np.int64)
    return n, by_rank


# --------------------------------------------------------------------------------------------------
# table assembly


def _decision_frame(n_kommune: np.ndarray, geo: Geography, minimum: int) -> pd.DataFrame:
    return decide_suppression_geo(n_kommune, geo, minimum).set_index(["geography_level", "geography_code"])


def _long_rows(geo, n_kommune, counts_kommune, question_id, option_ids, indicator_ids, measure):
    """One row per geography × option, with n and count (internal, before disclosure control)."""
    frames = []
    m = len(option_ids)
    n_levels = geo.levels(n_kommune)
    c_levels = geo.levels(counts_kommune)
    for (level, codes, n_arr), (_, _, c_arr) in zip(n_levels, c_levels):
        size = len(codes)
        frames.append(
            pd.DataFrame(
                {
                    "geography_level": np.repeat(level, size * m),
                    "geography_code": np.repeat(np.array(codes, dtype=object), m),
                    "indicator_id": np.tile(np.array(indicator_ids, dtype=object), size),
                    "question_id": question_id,
                    "option_id": np.tile(np.array(option_ids, dtype=object), size),
                    "measure": measure,
                    "n": np.repeat(n_arr, m).astype(np.int64),
                    "count": np.asarray(c_arr).reshape(-1).astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _apply_decision(rows: pd.DataFrame, decision: pd.DataFrame) -> pd.DataFrame:
    keys = pd.MultiIndex.from_frame(rows[["geography_level", "geography_code"]])
    dec = decision.reindex(keys)
    rows = rows.assign(
        suppressed=dec["suppressed"].to_numpy(dtype=bool),
        suppression_reason=pd.array(dec["suppression_reason"].to_numpy(), dtype="str"),
    )
    return rows


def _finish_indicators(rows: pd.DataFrame, survey_year: int) -> pd.DataFrame:
    n = rows["n"].to_numpy(dtype=float)
    count = rows["count"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, count / n, np.nan)
    low, high = wilson_interval(count, n)
    out = pd.DataFrame(
        {
            "survey_year": np.full(len(rows), survey_year, dtype=np.int64),
            "geography_level": pd.array(rows["geography_level"], dtype="str"),
            "geography_code": pd.array(rows["geography_code"], dtype="str"),
            "indicator_id": pd.array(rows["indicator_id"], dtype="str"),
            "question_id": pd.array(rows["question_id"], dtype="str"),
            "option_id": pd.array(rows["option_id"], dtype="str"),
            "measure": pd.array(rows["measure"], dtype="str"),
            "n": pd.array(rows["n"], dtype="Int64"),
            "count": pd.array(rows["count"], dtype="Int64"),
            "share": share,
            "ci_low": low,
            "ci_high": high,
            "suppressed": rows["suppressed"].to_numpy(dtype=bool),
            "suppression_reason": rows["suppression_reason"],
        }
    )
    return blank_suppressed(out, INDICATOR_VALUE_FIELDS, kommune_counts=True)


def blank_suppressed(frame: pd.DataFrame, value_fields, kommune_counts: bool = False) -> pd.DataFrame:
    """Empty every value of suppressed rows (n included) and, optionally, counts at kommune level."""
    frame = frame.copy()
    supp = frame["suppressed"].to_numpy(dtype=bool)
    for col in value_fields:
        frame.loc[supp, col] = pd.NA if str(frame[col].dtype) == "Int64" else np.nan
    if kommune_counts and "count" in frame.columns:
        frame.loc[(frame["geography_level"] == "kommune").to_numpy(), "count"] = pd.NA
    return frame


def _level_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable order: level (national, region, kommunegruppe, kommune), then code, then build order."""
    level_rank = frame["geography_level"].map({lvl: i for i, lvl in enumerate(LEVELS)}).to_numpy()
    code_num = pd.to_numeric(frame["geography_code"], errors="coerce").fillna(-1).to_numpy()
    order = np.lexsort((np.arange(len(frame)), code_num, level_rank))
    return frame.iloc[order].reset_index(drop=True)


def compute_indicators(
    validated: pd.DataFrame, instrument: YearInstrument, kommuner: Kommuner, min_respondents: int = 5
) -> dict[str, pd.DataFrame]:
    """`indicator_values` and `barrier_scores` for one survey year, disclosure control applied."""
    minimum = check_min_respondents(min_respondents)
    geo = Geography.from_kommuner(kommuner)
    nk = len(geo.kommune_codes)
    _require(validated, ["kommune"])
    kidx = geo.kommune_index(validated["kommune"])
    year = int(instrument.survey_year)

    indicator_parts: list[pd.DataFrame] = []
    barrier_parts: list[pd.DataFrame] = []
    for q in instrument.questions:
        if q.kind in ("single", "multi"):
            n, counts = (_single_stats if q.kind == "single" else _multi_stats)(validated, q, kidx, nk)
            decision = _decision_frame(n, geo, minimum)
            ids = [f"{q.id}.{o}" for o in q.option_ids]
            rows = _long_rows(geo, n, counts, q.id, q.option_ids, ids, "share")
            indicator_parts.append(_apply_decision(rows, decision))
        elif q.kind == "ranked":
            n, (first, second, third) = _ranked_stats(validated, q, kidx, nk)
            decision = _decision_frame(n, geo, minimum)
            opts = q.option_ids
            top3 = first + second + third
            per_option = []
            for i, o in enumerate(opts):
                per_option.append(
                    _long_rows(geo, n, top3[:, [i]], q.id, (o,), (f"{q.id}.{o}.top3",), "top3")
                )
                per_option.append(
                    _long_rows(geo, n, first[:, [i]], q.id, (o,), (f"{q.id}.{o}.first",), "first")
                )
            rows = _level_order(pd.concat(per_option, ignore_index=True))
            indicator_parts.append(_apply_decision(rows, decision))
            barrier_parts.append(_barrier_rows(geo, n, first, second, third, opts, decision))

    if indicator_parts:
        rows = _level_order(pd.concat(indicator_parts, ignore_index=True))
        indicator_values = _finish_indicators(rows, year)
    else:
        indicator_values = empty_frame(INDICATOR_VALUES_COLUMNS)
    if barrier_parts:
        b = _level_order(pd.concat(barrier_parts, ignore_index=True))
        barrier_scores = _finish_barriers(b, year)
    else:
        barrier_scores = empty_frame(BARRIER_SCORES_COLUMNS)
    return {"indicator_values": indicator_values, "barrier_scores": barrier_scores}


def _barrier_rows(geo, n, first, second, third, opts, decision) -> pd.DataFrame:
    m = len(opts)
    parts = []
    for (level, codes, n_arr), (_, _, f), (_, _, s), (_, _, t) in zip(
        geo.levels(n), geo.levels(first), geo.levels(second), geo.levels(third)
    ):
        size = len(codes)
        nn = np.repeat(n_arr, m)
        parts.append(
            pd.DataFrame(
                {
                    "geography_level": np.repeat(level, size * m),
                    "geography_code": np.repeat(np.array(codes, dtype=object), m),
                    "barrier_id": np.tile(np.array(opts, dtype=object), size),
                    "n": nn.astype(np.int64),
                    "first": f.reshape(-1),
                    "second": s.reshape(-1),
                    "third": t.reshape(-1),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    return _apply_decision(rows, decision)


def _finish_barriers(rows: pd.DataFrame, survey_year: int) -> pd.DataFrame:
    n = rows["n"].to_numpy(dtype=float)
    f, s, t = (rows[c].to_numpy(dtype=float) for c in ("first", "second", "third"))
    score, low, high = barrier_score(f, s, t, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        top3 = np.where(n > 0, (f + s + t) / n, np.nan)
        first = np.where(n > 0, f / n, np.nan)
    out = pd.DataFrame(
        {
            "survey_year": np.full(len(rows), survey_year, dtype=np.int64),
            "geography_level": pd.array(rows["geography_level"], dtype="str"),
            "geography_code": pd.array(rows["geography_code"], dtype="str"),
            "barrier_id": pd.array(rows["barrier_id"], dtype="str"),
            "n": pd.array(rows["n"], dtype="Int64"),
            "score": score,
            "score_ci_low": low,
            "score_ci_high": high,
            "top3_share": top3,
            "first_share": first,
            "suppressed": rows["suppressed"].to_numpy(dtype=bool),
            "suppression_reason": rows["suppression_reason"],
        }
    )
    return blank_suppressed(out, BARRIER_VALUE_FIELDS)


_EMPTY_DTYPES = {
    "survey_year": "int64", "base_year": "int64", "n": "Int64", "count": "Int64", "suppressed": "bool",
    "significant": "bool", "respondents": "Int64", "responding_kommuner": "Int64", "non_responses": "Int64",
    "quarantined_rows": "Int64", "respondents_change": "Int64", "responding_kommuner_change": "Int64",
    "non_responses_change": "Int64", "quarantined_rows_change": "Int64",
}
_STR_COLUMNS = {
    "geography_level", "geography_code", "indicator_id", "question_id", "option_id", "measure",
    "suppression_reason", "barrier_id", "kommune_kode",
}


def empty_frame(columns) -> pd.DataFrame:
    """A zero-row table with the contract's columns and dtypes."""
    data = {}
    for c in columns:
        if c in _EMPTY_DTYPES:
            data[c] = pd.Series([], dtype=_EMPTY_DTYPES[c])
        elif c in _STR_COLUMNS:
            data[c] = pd.Series([], dtype="str")
        else:
            data[c] = pd.Series([], dtype="float64")
    return pd.DataFrame(data)
