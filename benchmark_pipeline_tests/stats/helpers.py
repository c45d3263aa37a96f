"""Build canonical frames (docs/architecture.md, "The canonical frame") for the stats tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, YearInstrument


def make_frame(instrument: YearInstrument, records: list[dict]) -> pd.DataFrame:
    """One row per record. A record holds `kommune`, single questions as option ids (None/absent = not
    answered), multi-select questions as lists of option ids, and `barriers` as a list of ranked ids."""
    data: dict[str, object] = {
        "respondent_id": pd.array([str(r.get("respondent_id", i + 1)) for i, r in enumerate(records)], dtype="str"),
        "source_row": np.arange(2, len(records) + 2, dtype=np.int64),
    }
    for q in instrument.questions:
        if q.kind == "kommune":
            data["kommune"] = pd.array([str(r["kommune"]) for r in records], dtype="str")
        elif q.kind == "single":
            data[q.id] = pd.Categorical([r.get(q.id) for r in records], categories=list(q.option_ids))
        elif q.kind == "multi":
            for o in q.option_ids:
                data[f"{q.id}__{o}"] = np.array([int(o in (r.get(q.id) or ())) for r in records], dtype=np.int8)
        elif q.kind == "ranked":
            for rank in range(1, MAX_RANK + 1):
                vals = []
                for r in records:
                    ranked = r.get(q.id) or []
                    vals.append(ranked[rank - 1] if len(ranked) >= rank else None)
                data[f"{q.id}__{rank}"] = pd.Categorical(vals, categories=list(q.option_ids))
        elif q.kind == "text":
            data[q.id] = pd.array([r.get(q.id) for r in records], dtype="str")
    return pd.DataFrame(data)


def random_frame(instrument: YearInstrument, per_kommune: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """Random valid answers, vectorised; `per_kommune` = respondents per kommune code."""
    rng = np.random.default_rng(seed)
    kommune = np.repeat(np.array(list(per_kommune), dtype=object), list(per_kommune.values()))
    size = len(kommune)
    data: dict[str, object] = {
        "respondent_id": pd.array([f"r{i}" for i in range(size)], dtype="str"),
        "source_row": np.arange(2, size + 2, dtype=np.int64),
    }
    for q in instrument.questions:
        if q.kind == "kommune":
            data["kommune"] = pd.array(kommune.astype(str), dtype="str")
        elif q.kind == "single":
            codes = rng.integers(-1, len(q.options), size)  # -1 = not answered
            data[q.id] = pd.Categorical.from_codes(codes, categories=list(q.option_ids))
        elif q.kind == "multi":
            for o in q.option_ids:
                data[f"{q.id}__{o}"] = (rng.random(size) < 0.35).astype(np.int8)
        elif q.kind == "ranked":
            m = len(q.options)
            order = np.argsort(rng.random((size, m)), axis=1)[:, :MAX_RANK]
            how_many = rng.integers(0, MAX_RANK + 1, size)
            for rank in range(MAX_RANK):
                codes = np.where(how_many > rank, order[:, rank], -1)
                data[f"{q.id}__{rank + 1}"] = pd.Categorical.from_codes(codes, categories=list(q.option_ids))
        elif q.kind == "text":
            data[q.id] = pd.array([None] * size, dtype="str")
    return pd.DataFrame(data)


def suppression_rule(tables: dict, level: str, code: str, question: str) -> str | None:
    """Which rule suppressed a cell, from the private trail (a release shows only `confidential`)."""
    trail = tables["suppression_trail"]
    hit = trail[(trail["geography_level"] == level) & (trail["geography_code"] == code)
                & (trail["question_id"] == question)]
    return None if hit.empty else hit["rule"].iloc[0]
