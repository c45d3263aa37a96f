"""Build canonical frames (docs/architecture.md, "The canonical frame") for the stats tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, YearInstrument
from benchmark_pipeline.stats.disclosure import _decide, public_reasons
from benchmark_pipeline.stats.geography import Geography


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


def hillerod_case(kommuner):
    """(geography, n, counts) per kommune where the first version's rules publish region 1084 and
    kommunegruppe 1, whose difference leaves Hillerød (3 respondents) alone. Counts: "ja", "nej"."""
    geo = Geography.from_kommuner(kommuner)
    region = dict(zip(kommuner.table["kommune_kode"], kommuner.table["region_kode"]))
    group = dict(zip(kommuner.table["kommune_kode"], kommuner.table["kommunegruppe_kode"]))
    n = np.zeros(len(geo.kommune_codes), dtype=np.int64)
    both = [k for k in geo.kommune_codes if region[k] == "1084" and group[k] == "1"]
    small, big = both[:8], both[8:10]
    for i, k in enumerate(geo.kommune_codes):
        if k in small:
            n[i] = 2 + (i % 2)  # 2 or 3: hidden, sums over 5
        elif k in big:
            n[i] = 7  # published
    assert region["219"] == "1084" and group["219"] != "1"
    n[geo.kommune_codes.index("219")] = 3
    others_in_group = [i for i, k in enumerate(geo.kommune_codes) if group[k] == group["219"] and region[k] != "1084"]
    n[others_in_group[:2]] = 4  # hidden with Hillerød in its kommunegruppe, so that sum passes the rule
    n[others_in_group[2:4]] = 9
    return geo, n, np.stack([n - n // 3, n // 3], axis=1)


def rules_only(geo: Geography, n: np.ndarray, labels: bool = False):
    """The first version's decision (the per-sum rules alone), with its labels or with one public reason."""
    _, reason = _decide(n, geo, 5)
    detail = np.array(list(reason.values()), dtype=object)
    return detail != None, (detail if labels else public_reasons(detail))  # noqa: E711
