"""Row validation (SURVEY.md section 3): every row read ends valid, quarantined, collapsed or empty.

`rows_read = rows_valid + rows_quarantined + duplicates_collapsed + rows_empty` holds by construction:
each row is put in exactly one of these four sets, in that order of precedence:
empty (no substantive answer) > collapsed exact duplicate > quarantined (any rule) > valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import Kommuner

from .errors import ContentError, NoValidRowsError, TooManyQuarantinedError
from .layouts import BY_NAME
from .mapping import Mapped, map_to_canonical
from .raw import RawExport, header_key
from .readers import check_layout
from .schema import canonical_schema
from .values import option_lookup, repeated, shown, value_key

ENTRY_COLUMNS = ["row", "respondent_id", "column", "rule", "message"]
FREE_TEXT_SHOWN = "[fritekst]"
COUNT_KEYS = ("rows_read", "rows_valid", "rows_quarantined", "duplicates_collapsed", "rows_empty", "pii_masked")


def _empty_entries() -> pd.DataFrame:
    return pd.DataFrame({
        "row": pd.Series([], dtype="int64"),
        **{c: pd.Series([], dtype="str") for c in ENTRY_COLUMNS[1:]},
    })


@dataclass
class ValidationResult:
    """The validated canonical frame, the quarantine with reasons, warnings and the row counts."""

    valid: pd.DataFrame
    quarantine: pd.DataFrame  # row, respondent_id, column, rule, message (one line per problem)
    warnings: pd.DataFrame  # same columns, for rows kept
    counts: dict[str, int]
    status: str  # "ok" | "quarantine"
    survey_year: int | None = None
    file: Path | None = None
    layout: str | None = None
    quarantined_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # raw non-free-text values

    @property
    def quarantine_share(self) -> float:
        denominator = self.counts["rows_valid"] + self.counts["rows_quarantined"]
        return self.counts["rows_quarantined"] / denominator if denominator else 0.0

    def quarantine_summary(self) -> pd.DataFrame:
        """Quarantined rows counted by rule and column (no values, no free text)."""
        if self.quarantine.empty:
            return pd.DataFrame({"rule": pd.Series([], dtype="str"), "column": pd.Series([], dtype="str"),
                                 "rows": pd.Series([], dtype="int64")})
        out = (self.quarantine.groupby(["rule", "column"], sort=True)["row"].nunique()
               .rename("rows").reset_index())
        return out.astype({"rule": "str", "column": "str", "rows": "int64"})


# --------------------------------------------------------------------------- validation


def _entries(mapped: Mapped, positions: np.ndarray, parts: pd.DataFrame) -> pd.DataFrame:
    if parts.empty:
        return _empty_entries()
    frame = mapped.frame
    pos = parts["pos"].to_numpy()
    out = pd.DataFrame({
        "row": frame["source_row"].to_numpy()[pos],
        "respondent_id": frame["respondent_id"].iloc[pos].to_numpy(),
        "column": parts["column"].to_numpy(),
        "rule": parts["rule"].to_numpy(),
        "message": parts["message"].to_numpy(),
    })
    out = out.astype({"row": "int64", "respondent_id": "str", "column": "str", "rule": "str", "message": "str"})
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def _quarantined_rows(raw: RawExport, mapped: Mapped, positions: np.ndarray, instrument: YearInstrument,
                      entries: pd.DataFrame) -> pd.DataFrame:
    """The quarantined rows' raw values for the people who fix the export; free text never included."""
    text_cols = {c for c in mapped.free_text_columns}
    choice_cols = {}  # choice cells that also hold own "Andet" texts: the labels shown, the texts hidden
    layout = BY_NAME[raw.layout]
    if layout.own_text_in_choice:
        for q in instrument.of_kind("single", "multi", "ranked"):
            col = _find(raw, layout.column_of(q))
            if col is not None and q.has_andet:
                choice_cols[col] = option_lookup(q, layout, instrument)
    shown_cols = [c for c in mapped.source_columns if c not in text_cols or c in choice_cols]
    sub = raw.frame.iloc[positions][["source_row"] + shown_cols].reset_index(drop=True)
    sub = sub.astype({c: "str" for c in shown_cols if isinstance(sub[c].dtype, pd.CategoricalDtype)})
    for col, lookup in choice_cols.items():
        sub[col] = sub[col].map(lambda v, lk=lookup: _hide_unknown(v, lk), na_action="ignore").astype("str")
    reasons = entries.groupby("row", sort=False)["rule"].agg(lambda r: ", ".join(dict.fromkeys(r)))
    sub.insert(1, "rules", sub["source_row"].map(reasons).astype("str"))
    return sub.rename(columns={"source_row": "row"})


def _find(raw: RawExport, name: str) -> str | None:
    key = header_key(name)
    return next((c for c in raw.frame.columns if header_key(c) == key), None)


def _hide_unknown(value: str, lookup: dict[str, int]) -> str:
    parts = [p.strip() for p in str(value).split(";")]
    return ";".join(p if (not p or value_key(p) in lookup) else FREE_TEXT_SHOWN for p in parts)


def validate_export(
    raw: RawExport,
    instrument: YearInstrument,
    kommuner: Kommuner,
    max_quarantine_share: float = 0.20,
    *,
    schema_check: bool = True,
) -> ValidationResult:
    """Map and validate one export; raise an IngestError (with `.result` where rows were judged) to stop the year."""
    if not 0 <= max_quarantine_share <= 1:
        raise ValueError(f"max_quarantine_share must be between 0 and 1, not {max_quarantine_share}")
    check_layout(raw.layout, instrument, raw.path)
    BY_NAME[raw.layout].check_beside(raw, instrument, kommuner)
    mapped = map_to_canonical(raw, instrument, kommuner)
    frame = mapped.frame
    n = len(frame)
    answered = mapped.answered
    has_id = frame["respondent_id"].notna().to_numpy()

    # Exact duplicates share their id: compare whole rows only where an id repeats.
    duplicate = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(answered & has_id)
    ids = frame["respondent_id"].iloc[candidates]
    repeated_id = repeated(ids)
    if repeated_id.any():
        positions = candidates[repeated_id]
        sub = raw.frame.iloc[positions][mapped.source_columns]
        duplicate[positions[sub.duplicated(keep="first").to_numpy()]] = True

    judged = answered & ~duplicate
    parts = [mapped.problems]
    missing = np.flatnonzero(judged & ~has_id)
    if len(missing):
        parts.append(pd.DataFrame({"pos": missing, "column": mapped.id_column, "rule": "missing_id",
                                   "message": "the respondent id is missing"}))
    if repeated_id.any():
        remaining = np.flatnonzero(judged & has_id)
        ids = frame["respondent_id"].iloc[remaining]
        conflicting = repeated(ids)
        if conflicting.any():
            pos = remaining[conflicting]
            rep_ids = ids.iloc[np.flatnonzero(conflicting)].to_numpy()
            rows = frame["source_row"].to_numpy()[pos]
            rows_by_id = (pd.DataFrame({"id": rep_ids, "row": rows})
                          .groupby("id")["row"].agg(lambda r: ", ".join(str(x) for x in sorted(r))))
            msgs = [f"respondent id {shown(i)} occurs in rows {rows_by_id[i]} with different answers" for i in rep_ids]
            parts.append(pd.DataFrame({"pos": pos, "column": mapped.id_column, "rule": "conflicting_duplicate",
                                       "message": msgs}))
    problems = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else mapped.problems
    problems = problems[judged[problems["pos"].to_numpy()]] if not problems.empty else problems
    quarantined = np.zeros(n, dtype=bool)
    quarantined[problems["pos"].to_numpy(dtype=np.int64)] = True
    valid_mask = judged & ~quarantined

    quarantine = _entries(mapped, np.flatnonzero(quarantined), problems)
    warn = mapped.warnings
    warn = warn[valid_mask[warn["pos"].to_numpy()]] if not warn.empty else warn
    warnings = _entries(mapped, np.flatnonzero(valid_mask), warn)
    valid = frame[valid_mask].reset_index(drop=True)
    counts = {
        "rows_read": int(n),
        "rows_valid": int(valid_mask.sum()),
        "rows_quarantined": int(quarantined.sum()),
        "duplicates_collapsed": int(duplicate.sum()),
        "rows_empty": int((~answered).sum()),
        "pii_masked": int(raw.pii_masked + mapped.pii_masked),
    }
    assert counts["rows_read"] == sum(counts[k] for k in COUNT_KEYS[1:5])
    result = ValidationResult(
        valid=valid,
        quarantine=quarantine,
        warnings=warnings,
        counts=counts,
        status="quarantine" if counts["rows_quarantined"] else "ok",
        survey_year=instrument.survey_year,
        file=raw.path,
        layout=raw.layout,
        quarantined_rows=_quarantined_rows(raw, mapped, np.flatnonzero(quarantined), instrument, quarantine),
    )
    if schema_check:
        try:
            canonical_schema(instrument, kommuner).validate(valid, lazy=True)
        except pa.errors.SchemaErrors as exc:  # a broken contract is a bug here, but never publish on it
            cases = exc.failure_cases[["column", "check"]].drop_duplicates().head(5).to_dict("records")
            raise ContentError(f"the validated frame breaks the canonical schema: {cases}", file=raw.path,
                               result=result) from None
    if counts["rows_valid"] == 0:
        detail = (f"{counts['rows_read']} rows read: {counts['rows_quarantined']} quarantined, "
                  f"{counts['duplicates_collapsed']} duplicates, {counts['rows_empty']} without answers")
        raise NoValidRowsError(f"no valid rows ({detail})", file=raw.path, result=result)
    if result.quarantine_share > max_quarantine_share:
        raise TooManyQuarantinedError(
            f"{counts['rows_quarantined']} of {counts['rows_valid'] + counts['rows_quarantined']} responses "
            f"({result.quarantine_share:.1%}) are quarantined, above the allowed {max_quarantine_share:.0%}",
            file=raw.path, result=result,
        )
    return result


def write_quarantine(result: ValidationResult, directory: Path) -> list[Path]:
    """Write the quarantine (reasons, and the rows' non-free-text values) as CSV for whoever fixes the export.

    These files are personal data: `directory` belongs outside every release (`quarantine/<year>/`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    reasons = directory / "quarantine_reasons.csv"
    rows = directory / "quarantine_rows.csv"
    result.quarantine.to_csv(reasons, index=False, encoding="utf-8-sig")
    result.quarantined_rows.to_csv(rows, index=False, encoding="utf-8-sig")
    return [reasons, rows]
