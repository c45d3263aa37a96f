"""Disclosure control (SURVEY.md section 4): primary and complementary suppression.

Decided per geography and question from n = the respondents who answered that question. Every
indicator of one question at one geography shares the decision.

- Primary: a geography (any level) with 0 < n < min is suppressed (`below_minimum`); n = 0 is
  `no_respondents`.
- Complementary: every aggregate must have either no suppressed member with respondents, or suppressed
  members whose combined n is at least the minimum. Aggregates and their members: each region -> its
  kommuner, each kommunegruppe -> its kommuner, the national total -> the regions, and separately the
  national total -> the kommunegrupper (and, because the national total is also the sum of all kommuner,
  the national total -> the kommuner). Otherwise the smallest published member (by n, ties: lowest code)
  is suppressed (`complementary`); where no published member is left, the aggregate itself is suppressed.
- No value recoverable by subtraction (the purpose SURVEY.md states for the rule above): the one-level
  rule alone can leave a suppressed cell that is the *only* unknown in some sum, e.g. a kommune
  suppressed to protect its region that is the only suppressed kommune of its kommunegruppe, or a region
  suppressed to protect the national total whose kommuner are all published. Its n (and, with the
  published shares, its counts) then follows by subtraction, and from it the cell it was meant to
  protect. So every sum (aggregate = its members) must hold either no suppressed cell with respondents
  or at least two; where exactly one is left, the smallest published member of that sum (ties: lowest
  code) is suppressed too (`complementary`), or the aggregate when no member is published.

- The exact audit decides (`protect_question`): the rules above are the first pass; then the attacker's
  integer program (`stats/attack.py`) is solved over what that decision would publish, and while it
  pins a suppressed value, one more cell is suppressed per leaked cell: the smallest published cell (by
  n, ties: lowest code) of the nearest ring around it (`_next_suppression`: for a kommune, the kommuner
  in both its region and its kommunegruppe first), the aggregates last.
- Earlier revisions: a cell an earlier revision of the year withheld stays withheld
  (`earlier_revision`), so that two revisions of one export together publish no more than the first.
- Published reasons: `no_respondents`, or `confidential` for every other suppression. Which rule
  suppressed a cell (`below_minimum`, `complementary`, `disclosure_audit`) is the private trail: the
  labels told an attacker which hidden kommune was the small one.

Order: the SURVEY.md rule runs to a fixed point (passes over regions, kommunegrupper, national, each in
code order); then the first sum (same order, national -> kommuner last) that still leaves something
recoverable gets one more suppression, and the SURVEY.md rule runs again; until nothing is left to fix.
Where the SURVEY.md rule alone leaves nothing recoverable, the result is exactly that of the SURVEY.md rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR
from benchmark_pipeline.stats.attack import audit_question, for_each_question, published_question
from benchmark_pipeline.stats.geography import Geography, code_key
from benchmark_pipeline.stats.tables import (
    LEVELS,
    REASON_BELOW_MINIMUM,
    REASON_COMPLEMENTARY,
    REASON_CONFIDENTIAL,
    REASON_DISCLOSURE_AUDIT,
    REASON_EARLIER_REVISION,
    REASON_NO_RESPONDENTS,
    check_min_respondents,
)

Cell = tuple[str, str]  # (geography_level, geography_code)


def _primary(n: int, minimum: int) -> str | None:
    if n <= 0:
        return REASON_NO_RESPONDENTS
    if n < minimum:
        return REASON_BELOW_MINIMUM
    return None


def aggregate_partitions(geo: Geography) -> list[tuple[Cell, list[Cell]]]:
    """Every (aggregate, members) relation that complementary suppression protects, in processing order."""
    parts: list[tuple[Cell, list[Cell]]] = []
    for i, region in enumerate(geo.region_codes):
        members = [("kommune", k) for k, r in zip(geo.kommune_codes, geo.region_idx) if r == i]
        parts.append((("region", region), members))
    for i, group in enumerate(geo.group_codes):
        members = [("kommune", k) for k, g in zip(geo.kommune_codes, geo.group_idx) if g == i]
        parts.append((("kommunegruppe", group), members))
    parts.append((("national", NATIONAL_CODE), [("region", r) for r in geo.region_codes]))
    parts.append((("national", NATIONAL_CODE), [("kommunegruppe", g) for g in geo.group_codes]))
    parts.append((("national", NATIONAL_CODE), [("kommune", k) for k in geo.kommune_codes]))
    return parts


def decide_suppression_geo(n_kommune: np.ndarray, geo: Geography, minimum: int) -> pd.DataFrame:
    """Suppression decision for one question, given n per kommune in `geo.kommune_codes` order."""
    n, reason = _decide(n_kommune, geo, minimum)
    cells = list(n)
    return pd.DataFrame(
        {
            "geography_level": [c[0] for c in cells],
            "geography_code": [c[1] for c in cells],
            "n": np.array([n[c] for c in cells], dtype=np.int64),
            "suppressed": np.array([reason[c] is not None for c in cells], dtype=bool),
            "suppression_reason": pd.array([reason[c] for c in cells], dtype="str"),
        }
    )


def public_reasons(detail: np.ndarray) -> np.ndarray:
    """The reasons a release shows: `no_respondents`, or `confidential` for every other suppression."""
    return np.array([r if r is None or r == REASON_NO_RESPONDENTS else REASON_CONFIDENTIAL for r in detail],
                    dtype=object)


@dataclass(frozen=True)
class QuestionDecision:
    """The suppression of one question at every cell (`geo.cells` order)."""

    detail: np.ndarray  # the rule that suppressed each cell (the private trail), or None where published
    audit_rounds: int  # exact audits it took (1: the rules alone were enough)

    @property
    def suppressed(self) -> np.ndarray:
        return np.array([r is not None for r in self.detail], dtype=bool)

    @property
    def reason(self) -> np.ndarray:
        """The reasons a release shows."""
        return public_reasons(self.detail)


def protect_question(
    geo: Geography, survey_year: int, question_id: str, kind: str, options, n_kommune: np.ndarray,
    base_kommune: np.ndarray, minimum: int, withheld: np.ndarray | None = None,
) -> QuestionDecision:
    """The rules' decision, extended until the exact audit finds nothing to solve for.

    `base_kommune` holds the true counts per kommune (single/multi: per option; ranked: first, second,
    third per option), which the audit uses as a known solution. `withheld` marks the cells (`geo.cells`
    order) an earlier revision of the year withheld: they start withheld."""
    _, reason = _decide(n_kommune, geo, minimum, withheld)
    decision = QuestionDecision(np.array(list(reason.values()), dtype=object), 0)
    n_cells = geo.stack(np.asarray(n_kommune, dtype=np.int64))
    free: frozenset = frozenset()
    while True:
        decision = QuestionDecision(decision.detail, decision.audit_rounds + 1)
        view = published_question(geo, survey_year, question_id, kind, options, n_kommune, base_kommune,
                                  decision.suppressed, decision.reason)
        audit = audit_question(geo, view, minimum, truth=(n_kommune, base_kommune),
                               known_free=free, suppressing=True)
        if not audit.leaks:
            return decision
        free = frozenset(audit.free)
        # One more suppression per leaked cell, in cell order; each choice sees the ones before it, so a
        # later leak may find its sums already suppressed (the next round tells whether it is mended).
        added = 0
        for cell in dict.fromkeys(geo.cell_index(leak.geography_level, leak.geography_code)
                                  for leak in audit.leaks):
            target = _next_suppression(geo, cell, decision.suppressed, n_cells)
            if target is not None:
                decision.detail[target] = REASON_DISCLOSURE_AUDIT
                added += 1
        if not added:
            raise RuntimeError(f"{survey_year} {question_id}: disclosure control found no cell left to suppress "
                               f"for {audit.leaks[0]}")


def protect_questions(
    geo: Geography, survey_year: int, questions: list[tuple], minimum: int,
    withheld: Mapping[str, np.ndarray] | None = None,
) -> list[QuestionDecision]:
    """`protect_question` for each (question_id, kind, options, n_kommune, base_kommune), in parallel
    (questions are independent, and HiGHS leaves Python while it solves); `withheld` by question id."""
    withheld = withheld or {}
    return for_each_question(
        lambda q: protect_question(geo, survey_year, *q, minimum=minimum, withheld=withheld.get(q[0])), questions)


def _next_suppression(geo: Geography, cell: int, suppressed: np.ndarray, n: np.ndarray) -> int | None:
    """The cell to suppress for a leak at `cell`: the smallest published cell of the nearest ring around it
    that has one. For a kommune: the kommuner in both its region and its kommunegruppe (the two can trade
    respondents without changing any published sum), those in either, every kommune, then its region and
    kommunegruppe. For a region or kommunegruppe: its kommuner and its siblings. For the national total:
    the regions and kommunegrupper. Last, any cell, so the national total (the largest) is the last resort."""
    levels, codes = geo.cells
    kommune_cells = geo.first_kommune_cell + np.arange(len(geo.kommune_codes))
    if levels[cell] == "kommune":
        parents = geo.parent_cells(cell - geo.first_kommune_cell)
        region, group = (kommune_cells[geo.members[p]] for p in parents)
        rings = [np.intersect1d(region, group), np.union1d(region, group), kommune_cells, parents]
    elif levels[cell] == "national":
        rings = [range(1, geo.first_kommune_cell)]
    else:
        rings = [np.concatenate([kommune_cells[geo.members[cell]], np.flatnonzero(levels == levels[cell])])]
    rings.append(range(len(levels)))

    by_size = lambda c: (n[c], LEVELS.index(levels[c]), code_key(codes[c]))  # noqa: E731
    for ring in rings:
        published = [int(c) for c in ring if c != cell and not suppressed[c]]
        if published:
            return min(published, key=by_size)
    return None


def _decide(
    n_kommune: np.ndarray, geo: Geography, minimum: int, withheld: np.ndarray | None = None,
) -> tuple[dict[Cell, int], dict[Cell, str | None]]:
    """n and the suppression reason (None: published) of every cell, in `geo.levels` order; `withheld`
    (`geo.cells` order) marks cells that start withheld."""
    n_kommune = np.asarray(n_kommune, dtype=np.int64)
    if n_kommune.shape != (len(geo.kommune_codes),):
        raise ValueError("n_kommune must hold one count per kommune")
    if (n_kommune < 0).any():
        raise ValueError("respondent counts cannot be negative")
    n: dict[Cell, int] = {}
    for level, codes, values in geo.levels(n_kommune):
        for code, value in zip(codes, values):
            n[(level, code)] = int(value)
    reason: dict[Cell, str | None] = {cell: _primary(value, minimum) for cell, value in n.items()}
    if withheld is not None:
        for cell, before in zip(n, withheld):
            if before and reason[cell] is None:
                reason[cell] = REASON_EARLIER_REVISION

    partitions = aggregate_partitions(geo)

    def hidden(cell: Cell) -> bool:
        return reason[cell] is not None and n[cell] > 0

    def suppress_smallest_member(aggregate: Cell, members: list[Cell]) -> bool:
        published = [m for m in members if reason[m] is None]
        if published:
            smallest = min(published, key=lambda m: (n[m], code_key(m[1])))
            reason[smallest] = REASON_COMPLEMENTARY
            return True
        if reason[aggregate] is None:
            reason[aggregate] = REASON_COMPLEMENTARY
            return True
        return False

    def too_few_hidden(members: list[Cell]) -> bool:
        hidden_n = [n[m] for m in members if hidden(m)]
        return bool(hidden_n) and sum(hidden_n) < minimum

    spec_partitions = partitions[:-1]  # SURVEY.md's aggregates (without national -> kommuner)
    while True:
        # 1. the SURVEY.md rule, to a fixed point
        changed = True
        while changed:
            changed = False
            for aggregate, members in spec_partitions:
                if too_few_hidden(members):
                    changed |= suppress_smallest_member(aggregate, members)
        # 2. what the SURVEY.md rule can leave recoverable: the national total minus all published kommuner,
        #    and any sum with exactly one unknown. One fix, then back to 1; done when there is nothing to fix.
        fixed = False
        for aggregate, members in partitions:
            single_unknown = sum(hidden(c) for c in (aggregate, *members)) == 1
            if (too_few_hidden(members) or single_unknown) and suppress_smallest_member(aggregate, members):
                fixed = True
                break
        if not fixed:
            break
    return n, reason


def decide_suppression(
    n_by_kommune: Mapping[str, int] | pd.Series, kommuner: Kommuner, min_respondents: int = MIN_RESPONDENTS_FLOOR
) -> pd.DataFrame:
    """Suppression decision for one question at every geography.

    `n_by_kommune` maps kommune code -> respondents who answered the question (missing kommuner: 0).
    Returns one row per geography: geography_level, geography_code, n (the true n, internal only),
    suppressed, suppression_reason.
    """
    minimum = check_min_respondents(min_respondents)
    geo = Geography.from_kommuner(kommuner)
    lookup = dict(n_by_kommune.items()) if isinstance(n_by_kommune, pd.Series) else dict(n_by_kommune)
    unknown = set(map(str, lookup)) - set(geo.kommune_codes)
    if unknown:
        raise ValueError(f"not kommune codes: {sorted(unknown)[:5]}")
    values = np.array([int(lookup.get(k, 0)) for k in geo.kommune_codes], dtype=np.int64)
    return decide_suppression_geo(values, geo, minimum)
