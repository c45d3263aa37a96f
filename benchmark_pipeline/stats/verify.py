"""An independent re-check of published statistics tables before they are released.

It reads only what would be published (never the respondents) and reports every way the tables break
disclosure control:
- a published value resting on fewer than the minimum respondents (any level; kommune level above all);
- a count (numerator) at kommune level;
- a suppressed row that still carries a value (n included), or lacks a valid reason;
- one question at one geography published for some indicators and suppressed for others, or with
  different n;
- a suppressed n recoverable by subtraction: for every total and its members (region = its kommuner,
  kommunegruppe = its kommuner, national = the regions = the kommunegrupper = the kommuner), the total's
  n minus its known members' n is the combined n of its suppressed members, which must be 0 or at least
  the minimum. A suppressed cell whose n follows from a single-unknown sum (e.g. a suppressed region
  whose kommuner are all published) counts as known, and the check repeats until nothing new follows.
- yoy, trend and benchmark rows carrying values for a geography suppressed in indicator_values.
"""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR
from benchmark_pipeline.stats.tables import (
    BARRIER_VALUE_FIELDS,
    BENCHMARK_VALUE_FIELDS,
    INDICATOR_VALUE_FIELDS,
    REASON_NO_RESPONDENTS,
    ROW_RULE_REASONS,
    as_bool,
    check_min_respondents,
)

_MAX_LISTED = 50  # a bad table could yield thousands of messages; list the first ones per check


def _rows_label(frame: pd.DataFrame, mask, cols) -> str:
    sample = frame.loc[mask, [c for c in cols if c in frame.columns]].head(3).astype(str)
    return "; ".join(", ".join(r) for r in sample.itertuples(index=False, name=None))


def _check_row_rules(name: str, frame: pd.DataFrame, value_fields, minimum: int, key_cols) -> list[str]:
    problems = []
    if "suppressed" not in frame.columns:
        return [f"{name}: no 'suppressed' column"]
    supp = as_bool(frame["suppressed"])
    if frame["suppressed"].isna().any():
        problems.append(f"{name}: {int(frame['suppressed'].isna().sum())} rows without a suppressed flag")
    reason = frame["suppression_reason"]
    bad_reason = supp & ~reason.isin(ROW_RULE_REASONS).to_numpy()
    if bad_reason.any():
        problems.append(f"{name}: {int(bad_reason.sum())} suppressed rows without a valid reason "
                        f"({_rows_label(frame, bad_reason, key_cols)})")
    stray_reason = ~supp & reason.notna().to_numpy()
    if stray_reason.any():
        problems.append(f"{name}: {int(stray_reason.sum())} published rows carry a suppression reason")
    for col in value_fields:
        if col not in frame.columns:
            continue
        leak = supp & frame[col].notna().to_numpy()
        if leak.any():
            problems.append(f"{name}: {int(leak.sum())} suppressed rows carry a value in {col!r} "
                            f"({_rows_label(frame, leak, key_cols)})")
    if "n" in frame.columns:
        n = frame["n"].astype("Float64")
        small = ~supp & (n.isna() | (n < minimum)).to_numpy(dtype=bool, na_value=True)
        if small.any():
            problems.append(f"{name}: {int(small.sum())} published rows rest on fewer than {minimum} respondents "
                            f"or have no n ({_rows_label(frame, small, key_cols)})")
    return problems


def _hierarchy(kommuner: Kommuner):
    t = kommuner.table.astype(str)
    region = dict(zip(t["kommune_kode"], t["region_kode"]))
    group = dict(zip(t["kommune_kode"], t["kommunegruppe_kode"]))
    equations = []  # (total cell, member cells)
    for r in sorted(set(region.values())):
        equations.append((("region", r), [("kommune", k) for k, v in region.items() if v == r]))
    for g in sorted(set(group.values())):
        equations.append((("kommunegruppe", g), [("kommune", k) for k, v in group.items() if v == g]))
    nat = ("national", NATIONAL_CODE)
    equations.append((nat, [("region", r) for r in sorted(set(region.values()))]))
    equations.append((nat, [("kommunegruppe", g) for g in sorted(set(group.values()))]))
    equations.append((nat, [("kommune", k) for k in region]))
    return equations


def audit_subtraction(cells: dict, equations, minimum: int, label: str) -> list[str]:
    """`cells`: (level, code) -> n (published), 0 (no_respondents) or None (suppressed, n unknown)."""
    problems = []
    known = {c: v for c, v in cells.items() if v is not None}
    derived: set = set()
    progress = True
    while progress:
        progress = False
        for total, members in equations:
            unknown = [m for m in members if m not in known]
            if total not in known:
                if not unknown and total in cells:
                    known[total] = sum(known[m] for m in members)  # a suppressed total = sum of its members
                    derived.add(total)
                    progress = True
                continue
            if len(unknown) == 1:
                known[unknown[0]] = known[total] - sum(known[m] for m in members if m in known)
                derived.add(unknown[0])
                progress = True
    for cell in sorted(derived):
        problems.append(f"{label}: suppressed {cell[0]} {cell[1]} is recoverable by subtraction "
                        f"(n = {known[cell]})")
    for total, members in equations:
        if total not in known:
            continue
        unknown = [m for m in members if m not in known]
        residual = known[total] - sum(known[m] for m in members if m in known)
        if unknown and 0 < residual < minimum:
            problems.append(f"{label}: {total[0]} {total[1]} minus its published members leaves {residual} "
                            f"respondents (fewer than {minimum}) in {len(unknown)} suppressed {unknown[0][0]}")
        if not unknown and residual != 0:
            problems.append(f"{label}: {total[0]} {total[1]} n does not equal the sum of its members")
    return problems


def _check_indicator_values(iv: pd.DataFrame, kommuner: Kommuner, minimum: int) -> list[str]:
    keys = ["geography_level", "geography_code", "indicator_id"]
    problems = _check_row_rules("indicator_values", iv, INDICATOR_VALUE_FIELDS, minimum, keys)
    iv = iv.assign(suppressed=as_bool(iv["suppressed"]), geography_code=iv["geography_code"].astype("str"))
    kom = (iv["geography_level"] == "kommune").to_numpy()
    counted = kom & iv["count"].notna().to_numpy()
    if counted.any():
        problems.append(f"indicator_values: {int(counted.sum())} kommune-level rows publish a count")
    equations = _hierarchy(kommuner)
    keys = ["survey_year", "question_id", "geography_level", "geography_code"]
    g = iv.assign(n=iv["n"].astype("Float64")).groupby(keys, sort=True)
    per_geo = pd.DataFrame(
        {
            "supp_min": g["suppressed"].min(),
            "supp_max": g["suppressed"].max(),
            "n_min": g["n"].min(),
            "n_max": g["n"].max(),
            "reason": g["suppression_reason"].first(),
        }
    )
    mixed = (per_geo["supp_min"] != per_geo["supp_max"]).to_numpy()
    if mixed.any():
        problems.append(f"indicator_values: suppression differs between indicators of one question at "
                        f"{list(per_geo.index[mixed])[:3]}")
    differing = (per_geo["n_min"] != per_geo["n_max"]).fillna(False).to_numpy(dtype=bool)
    if differing.any():
        problems.append(f"indicator_values: n differs between indicators of one question at "
                        f"{list(per_geo.index[differing])[:3]}")
    cells_by_question: dict[tuple, dict] = {}
    for (year, question, level, code), supp, n_max, reason in zip(
        per_geo.index, per_geo["supp_max"], per_geo["n_max"], per_geo["reason"]
    ):
        cells = cells_by_question.setdefault((year, question), {})
        if bool(supp):
            cells[(level, code)] = 0 if reason == REASON_NO_RESPONDENTS else None
        else:
            cells[(level, code)] = int(n_max) if pd.notna(n_max) else None
    for (year, question), cells in cells_by_question.items():
        problems.extend(audit_subtraction(cells, equations, minimum, f"indicator_values {year} {question}"))
    return problems


def _normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Tables read back from CSV or a warehouse: flags as bool, codes as text."""
    changes = {}
    if "suppressed" in frame.columns:
        changes["suppressed"] = as_bool(frame["suppressed"])
    for col in ("geography_code", "kommune_kode"):
        if col in frame.columns:
            changes[col] = frame[col].astype("str")
    return frame.assign(**changes) if changes else frame


def verify_disclosure(tables: dict, kommuner: Kommuner, min_respondents: int = MIN_RESPONDENTS_FLOOR) -> list[str]:
    """Every disclosure-control violation found in `tables` (by table name); [] when safe to publish."""
    minimum = check_min_respondents(min_respondents)
    problems: list[str] = []
    tables = {name: _normalised(t) for name, t in tables.items() if isinstance(t, pd.DataFrame)}
    iv = tables.get("indicator_values")
    if iv is not None and len(iv):
        problems += _check_indicator_values(iv, kommuner, minimum)
    bs = tables.get("barrier_scores")
    if bs is not None and len(bs):
        keys = ["geography_level", "geography_code", "barrier_id"]
        problems += _check_row_rules("barrier_scores", bs, BARRIER_VALUE_FIELDS, minimum, keys)
        if iv is not None and len(iv):
            ranked = iv[iv["question_id"] == "barriers"]
            ref = ranked.groupby(["survey_year", "geography_level", "geography_code"])["suppressed"].max()
            mine = bs.groupby(["survey_year", "geography_level", "geography_code"])["suppressed"].max()
            both = pd.concat([ref.rename("iv"), mine.rename("bs")], axis=1).dropna()
            differ = both["iv"].astype(bool) != both["bs"].astype(bool)
            if differ.any():
                problems.append(f"barrier_scores: suppression differs from indicator_values at "
                                f"{list(both.index[differ])[:3]}")
    kb = tables.get("kommune_benchmarks")
    if kb is not None and len(kb):
        problems += _check_row_rules("kommune_benchmarks", kb, BENCHMARK_VALUE_FIELDS, minimum,
                                     ["kommune_kode", "indicator_id"])
        if iv is not None and len(iv):
            k = iv[iv["geography_level"] == "kommune"].rename(columns={"geography_code": "kommune_kode"})
            merged = kb.merge(k[["survey_year", "kommune_kode", "indicator_id", "suppressed"]],
                              on=["survey_year", "kommune_kode", "indicator_id"], how="left",
                              suffixes=("", "_iv"))
            leak = ~as_bool(merged["suppressed"]) & as_bool(merged["suppressed_iv"])
            if leak.any():
                problems.append(f"kommune_benchmarks: {int(leak.sum())} rows published for kommuner suppressed "
                                f"or absent in indicator_values")
    for name in ("yoy_changes", "trends"):  # rows only where this year's value is published
        rows = tables.get(name)
        if rows is not None and len(rows) and iv is not None and len(iv):
            keys = ["survey_year", "geography_level", "geography_code", "indicator_id"]
            merged = rows.merge(iv[keys + ["suppressed"]], on=keys, how="left")
            leak = as_bool(merged["suppressed"])
            if leak.any():
                problems.append(f"{name}: {int(leak.sum())} rows for indicators suppressed or absent in "
                                f"indicator_values")
    return problems[:_MAX_LISTED] + (
        [f"... and {len(problems) - _MAX_LISTED} more"] if len(problems) > _MAX_LISTED else []
    )
