"""The exact disclosure audit: what an attacker can solve for from one year's published tables.

The attacker knows everything a release publishes of a question — n, counts and shares per geography,
barrier scores, the public suppression reasons, the documented minimum — and the public hierarchy
(national = Σ regions = Σ kommunegrupper = Σ kommuner; each region and each kommunegruppe = Σ its
kommuner). The unknowns are the suppressed kommuner's n and answer counts, whole numbers that obey the
question's own logic (a single-choice question's counts sum to n; a multi-select has each count ≤ n and
their sum ≥ n; a ranking has one first choice per respondent and each option at most once). That is an
integer program; HiGHS (`scipy.optimize.milp`) solves it exactly. An LP relaxation is not enough: its
bounds are wider than an integer attacker's.

A release is safe when, for every suppressed cell,
- its n has more than one feasible value, unless that value is 0 (as `no_respondents` says openly),
- no count is pinned to one non-zero value, and
- no share is proven 100 % (the count equals n in every feasible solution).
Counts proven 0 are allowed and counted (docs/methodology.md, section 4, "Counts proven 0 remain").

Each release is audited on its own. Earlier revisions of a year add nothing: a revision withholds every
cell they withheld (`disclosure.protect_question`), so two revisions of the same answers publish no more
together than the first; and of changed answers no release says how much changed, so their feasible
sets combine as a product (docs/methodology.md, section 4, "Earlier revisions").

Speed: a cell is shown free by any whole-number solution that moves it, and only a proof of "pinned"
needs the exact program. So solutions are searched for in random directions, within a tighter box (no
n above twice the largest published n) and a short time limit each, which spares HiGHS the rare
directions it is slow in; a search that finds nothing falls back to the exact program with no limit.
Timing can change which solutions are found, never the verdict: every leak is an infeasibility proof
of the full program. A feasible point is known (the true values while suppressing; else one search),
most cells move in the first few random directions, and each solution found while testing the rest one
by one retires every cell it moves.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from benchmark_pipeline.stats.geography import Geography
from benchmark_pipeline.stats.tables import (
    REASON_BELOW_MINIMUM,
    REASON_COMPLEMENTARY,
    REASON_NO_RESPONDENTS,
    as_bool,
)

RANK_COLUMNS = ("first", "top3", "points")  # what a release publishes per barrier option
N_CAP = 10**7  # an upper bound on any n, so that no program is unbounded
RANDOM_ROUNDS = 6
RANDOM_MIN_TARGETS = 12  # fewer untested cells than this: solving them one by one is cheaper
SEED = 20231  # random directions are drawn from a fixed seed
SEARCH_TRIES = 3  # random directions tried, each within SEARCH_SECONDS, before the exact program decides
SEARCH_SECONDS = 0.25
SEARCH_LEAN = 5.0  # weight of the tested value in a search's objective, against unit random noise
SEARCH_BOX = 2  # searches keep every n at most this times the largest published n


@dataclass(frozen=True)
class PublishedQuestion:
    """What one release publishes of one question, in `geo.cells` order.

    `n` and `counts` are NaN where suppressed. `columns` names the count columns: option ids for single
    and multi-select questions; `<option>.first`, `<option>.top3` and `<option>.points` (3·first +
    2·second + third, which the weighted score publishes) for the ranking."""

    survey_year: int
    question_id: str
    kind: str
    options: tuple[str, ...]
    n: np.ndarray  # float (cells,)
    suppressed: np.ndarray  # bool (cells,)
    reason: np.ndarray  # object (cells,): public reason or None
    counts: np.ndarray  # float (cells, columns)

    @property
    def columns(self) -> tuple[str, ...]:
        if self.kind == "ranked":
            return tuple(f"{o}.{c}" for o in self.options for c in RANK_COLUMNS)
        return self.options


@dataclass(frozen=True)
class Leak:
    """A suppressed value an attacker can solve for."""

    survey_year: int
    question_id: str
    geography_level: str
    geography_code: str
    what: str  # "n", "count" or "share_100"
    column: str | None  # the option (or ranked column) for counts and shares
    value: int  # the value it is pinned to (100 for a share): for tests, never shown

    def __str__(self) -> str:
        table = "barrier_scores" if self.column and self.column.endswith(".points") else "indicator_values"
        target = f"{self.question_id}" + (f".{self.column}" if self.column else "")
        # The value itself is never shown: a terminal or the UI is an artefact too.
        text = {"n": "its n", "count": "its count (not 0)", "share_100": "a share of 100 %"}[self.what]
        return (f"{table} {self.survey_year} {self.geography_level} {self.geography_code} {target}: "
                f"suppressed, but {text} can be solved for from the published tables")


@dataclass
class QuestionAudit:
    leaks: list[Leak] = field(default_factory=list)
    n_cells: int = 0
    count_cells: int = 0
    zero_proofs: int = 0
    narrowest_n_range: int | None = None  # every suppressed n ranges at least this wide (None: none)
    solves: int = 0
    free: set = field(default_factory=set)  # keys of the targets shown free


@dataclass
class DisclosureAudit:
    """The exact audit of a release: its leaks and the figures shown on the gate."""

    leaks: list[Leak]
    questions: int
    n_cells: int
    count_cells: int
    zero_proofs: int
    narrowest_n_range: int | None
    solves: int
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.leaks

    def metadata(self) -> dict:
        return {
            "questions_audited": self.questions,
            "suppressed_n_cells": self.n_cells,
            "suppressed_count_cells": self.count_cells,
            "narrowest_n_range": -1 if self.narrowest_n_range is None else self.narrowest_n_range,
            "zero_count_proofs": self.zero_proofs,
            "leaks": len(self.leaks),
            "integer_programs_solved": self.solves,
            "audit_seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------------------------------
# the attacker's view of a release


def published_question(
    geo: Geography, survey_year: int, question_id: str, kind: str, options, n_kommune, base_kommune,
    suppressed: np.ndarray, reason: np.ndarray,
) -> PublishedQuestion:
    """What a release built from these true per-kommune values and this decision would publish."""
    counts = geo.stack(_columns_of(kind, len(options), np.asarray(base_kommune, dtype=np.int64))).astype(float)
    n = geo.stack(np.asarray(n_kommune, dtype=np.int64)).astype(float)
    n[suppressed] = np.nan
    counts[suppressed] = np.nan
    return PublishedQuestion(survey_year, question_id, kind, tuple(options), n, np.asarray(suppressed, bool),
                             np.asarray(reason, dtype=object), counts)


def _base_width(kind: str, n_options: int) -> int:
    """Unknowns per kommune besides n: a count per option, or first/second/third per barrier option."""
    return 3 * n_options if kind == "ranked" else n_options


def _column_matrix(kind: str, m: int) -> np.ndarray:
    """(columns × base) map from the unknowns of a kommune to the columns a release publishes."""
    if kind != "ranked":
        return np.eye(m)
    out = np.zeros((3 * m, 3 * m))
    for o in range(m):
        f, s, t = o, m + o, 2 * m + o
        out[3 * o, f] = 1  # first
        out[3 * o + 1, [f, s, t]] = 1  # top3
        out[3 * o + 2, [f, s, t]] = (3, 2, 1)  # points
    return out


def _columns_of(kind: str, m: int, base: np.ndarray) -> np.ndarray:
    return base @ _column_matrix(kind, m).T.astype(np.int64)


def questions_from_tables(tables: dict, geo: Geography) -> list[PublishedQuestion]:
    """The attacker's view of every question in published `indicator_values` (+ `barrier_scores`).

    A question is taken as single-choice when every published cell's counts sum to its n, as a ranking
    when it has top3/first measures, as multi-select when the counts sum to at least n, and otherwise as
    `partial` (a table with only some options): what an attacker reads off the tables. Kommune counts are
    not published; share × n gives them. A geography absent from the table is unknown, 0 included."""
    iv = tables.get("indicator_values")
    if iv is None or not len(iv):
        return []
    iv = iv.assign(suppressed=as_bool(iv["suppressed"]), geography_code=iv["geography_code"].astype("str"))
    bs = tables.get("barrier_scores")
    if bs is not None and len(bs):
        bs = bs.assign(suppressed=as_bool(bs["suppressed"]), geography_code=bs["geography_code"].astype("str"))
    level, code = geo.cells
    cell_pos = {(lv, c): i for i, (lv, c) in enumerate(zip(level, code))}
    out = []
    for (year, question), rows in iv.groupby(["survey_year", "question_id"], sort=True):
        pos = np.array([cell_pos.get(key, -1) for key in zip(rows["geography_level"], rows["geography_code"])])
        if (pos < 0).any():
            raise ValueError(f"indicator_values {year} {question}: geography cells outside the reference")
        ranked = rows["measure"].isin(["top3", "first"]).any()
        options = tuple(dict.fromkeys(rows["option_id"].astype("str")))
        n = np.full(len(level), np.nan)
        supp = np.ones(len(level), dtype=bool)
        reason = np.full(len(level), None, dtype=object)
        share = pd.to_numeric(rows["share"], errors="coerce").to_numpy(dtype=float)
        nvals = pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float)
        n[pos] = nvals
        supp[pos] = rows["suppressed"].to_numpy(dtype=bool)
        reason[pos] = rows["suppression_reason"].astype(object).where(rows["suppression_reason"].notna(), None)
        count_rows = np.rint(share * nvals)  # = count where published (kommune counts follow from share × n)
        opt_idx = {o: i for i, o in enumerate(options)}
        if ranked:
            m = len(options)
            counts = np.full((len(level), 3 * m), np.nan)
            col = np.array([3 * opt_idx[o] + (0 if ms == "first" else 1)
                            for o, ms in zip(rows["option_id"].astype("str"), rows["measure"].astype("str"))])
            counts[pos, col] = count_rows
            if bs is not None and len(bs):
                b = bs[(bs["survey_year"] == year)]
                bpos = np.array([cell_pos.get(k, -1) for k in zip(b["geography_level"], b["geography_code"])])
                keep = (bpos >= 0) & b["barrier_id"].astype("str").isin(opt_idx).to_numpy()
                b, bpos = b[keep], bpos[keep]
                score = pd.to_numeric(b["score"], errors="coerce").to_numpy(dtype=float)
                bn = pd.to_numeric(b["n"], errors="coerce").to_numpy(dtype=float)
                bcol = np.array([3 * opt_idx[o] + 2 for o in b["barrier_id"].astype("str")], dtype=int)
                counts[bpos, bcol] = np.rint(score * 3 * bn / 100)
            kind = "ranked"
        else:
            counts = np.full((len(level), len(options)), np.nan)
            col = np.array([opt_idx[o] for o in rows["option_id"].astype("str")])
            counts[pos, col] = count_rows
            pub = ~supp & (n > 0)
            sums = np.nansum(counts[pub], axis=1)
            if len(sums) and np.allclose(sums, n[pub]):
                kind = "single"
            elif (sums >= n[pub] - 0.5).all():
                kind = "multi"
            else:  # not every option is in the table: only "no count exceeds n" can be relied on
                kind = "partial"
        counts[supp] = np.nan
        n[supp] = np.nan
        out.append(PublishedQuestion(int(year), str(question), kind, options, n, supp, reason, counts))
    return out


# --------------------------------------------------------------------------------------------------
# the integer program


class _Program:
    """The attacker's integer program for one question of one release.

    Unknowns: per hidden kommune (suppressed, not `no_respondents`), n and the base counts.
    Expressions (sparse rows + constant) give every tested quantity of every suppressed cell."""

    def __init__(self, geo: Geography, view: PublishedQuestion, minimum: int):
        self.geo = geo
        self.minimum = minimum
        self.view = view
        self.kind, self.m = view.kind, len(view.options)
        self.width = 1 + _base_width(self.kind, self.m)
        self.colmap = _column_matrix(self.kind, self.m)
        self.n_cells = len(geo.cells[0])
        self.k_offset = geo.first_kommune_cell
        self.var_of: dict[int, int] = {}  # hidden kommune index -> its first unknown (n; base counts follow)
        for k in range(len(geo.kommune_codes)):
            cell = self.k_offset + k
            if view.suppressed[cell] and view.reason[cell] != REASON_NO_RESPONDENTS:
                self.var_of[k] = len(self.var_of) * self.width
        self.nvars = len(self.var_of) * self.width
        self.rows: list[tuple[dict[int, float], float, float]] = []  # ({var: coef}, lb, ub)
        self.lb = np.zeros(self.nvars)
        self.ub = np.full(self.nvars, float(N_CAP))
        self.feasible_fixed = True  # False when the published constants alone contradict each other
        self._add_constraints()

    # expressions --------------------------------------------------------------------------------
    def expr(self, cell: int, what: str, col: int | None = None) -> tuple[dict[int, float], float]:
        """The affine expression (coefs, constant) of a cell's n (`what="n"`), of its count column `col`
        (`what="count"`) or of its base count `col` (`what="base"`)."""
        view = self.view
        coefs: dict[int, float] = {}
        const = 0.0
        for k in self.geo.members[cell]:
            kcell = self.k_offset + k
            if k in self.var_of:
                v = self.var_of[k]
                if what == "n":
                    coefs[v] = coefs.get(v, 0.0) + 1.0
                elif what == "base":
                    coefs[v + 1 + col] = coefs.get(v + 1 + col, 0.0) + 1.0
                else:
                    for b, a in enumerate(self.colmap[col]):
                        if a:
                            coefs[v + 1 + b] = coefs.get(v + 1 + b, 0.0) + a
            elif not view.suppressed[kcell]:
                if what == "n":
                    const += view.n[kcell]
                elif what == "base":
                    const += self._base_of(kcell)[col]
                else:
                    const += view.counts[kcell, col]
            # suppressed no_respondents kommune: 0
        return coefs, const

    def _add_constraints(self) -> None:
        view = self.view
        room = self._room()
        for k, v in self.var_of.items():
            low, high = self._n_bounds(view.reason[self.k_offset + k])
            self.lb[v], self.ub[v] = low, max(low, min(high, room[k]))
            self.ub[v + 1: v + self.width] = self.ub[v]  # no count exceeds n (the solver is faster told so)
            self._kommune_logic(v)
        for cell in range(self.k_offset):  # aggregates
            n_coefs, n_const = self.expr(cell, "n")
            if not view.suppressed[cell]:
                self._fix(n_coefs, view.n[cell] - n_const)
                # In base terms (a ranking's first/second/third: the same facts as its first, top3 and
                # points, but each sum with coefficients 1, which the solver handles far better).
                base = self._base_of(cell)
                for b in range(self.width - 1):
                    if not np.isnan(base[b]):
                        coefs, const = self.expr(cell, "base", b)
                        self._fix(coefs, base[b] - const)
            elif view.reason[cell] == REASON_NO_RESPONDENTS:
                self._fix(n_coefs, -n_const)
            else:
                low, high = self._n_bounds(view.reason[cell])
                self._range(n_coefs, low - n_const, high - n_const)

    def _base_of(self, cell: int) -> np.ndarray:
        """A published cell's base counts (NaN where a column it rests on is not published)."""
        counts = self.view.counts[cell]
        return _ranked_base(counts, self.m) if self.kind == "ranked" else counts

    def _room(self) -> np.ndarray:
        """Per kommune, the most respondents it can have: the least of what each published aggregate it
        is in leaves after its published members. Implied by the sums; as bounds they speed the solver."""
        view = self.view
        room = np.full(len(self.geo.kommune_codes), float(N_CAP))
        for cell in range(self.k_offset):
            if view.suppressed[cell]:
                continue
            members = self.geo.members[cell]
            published = [self.k_offset + k for k in members if not view.suppressed[self.k_offset + k]]
            left = view.n[cell] - float(np.sum(view.n[published]))
            room[members] = np.minimum(room[members], left)
        return room

    def _n_bounds(self, reason) -> tuple[float, float]:
        """What a public reason tells of a suppressed cell's n."""
        if reason == REASON_BELOW_MINIMUM:
            return 1.0, float(self.minimum - 1)
        if reason == REASON_COMPLEMENTARY:  # it would have been published: at least the minimum
            return float(self.minimum), float(N_CAP)
        if reason is None:  # absent from the table: anything, none included
            return 0.0, float(N_CAP)
        return 1.0, float(N_CAP)  # confidential: it has respondents

    def _kommune_logic(self, v: int) -> None:
        """The question's own logic for one hidden kommune whose unknowns start at `v` (its n)."""
        m, n = self.m, v
        base = range(v + 1, v + self.width)
        if self.kind == "single":
            self.rows.append(({**{b: 1.0 for b in base}, n: -1.0}, 0.0, 0.0))
        elif self.kind in ("multi", "partial"):
            for b in base:
                self.rows.append(({b: 1.0, n: -1.0}, -np.inf, 0.0))
            if self.kind == "multi":  # every respondent who answered ticked at least one option
                self.rows.append(({**{b: 1.0 for b in base}, n: -1.0}, 0.0, np.inf))
        else:
            f0, s0, t0 = v + 1, v + 1 + m, v + 1 + 2 * m
            self.rows.append(({**{f0 + o: 1.0 for o in range(m)}, n: -1.0}, 0.0, 0.0))  # one first choice each
            for start in (s0, t0):
                self.rows.append(({**{start + o: 1.0 for o in range(m)}, n: -1.0}, -np.inf, 0.0))
            for o in range(m):
                self.rows.append(({f0 + o: 1.0, s0 + o: 1.0, t0 + o: 1.0, n: -1.0}, -np.inf, 0.0))

    def _fix(self, coefs: dict[int, float], value: float) -> None:
        self._range(coefs, value, value)

    def _range(self, coefs: dict[int, float], low: float, high: float) -> None:
        if coefs:
            self.rows.append((coefs, low, high))
        elif not (low - 1e-9 <= 0 <= high + 1e-9):
            self.feasible_fixed = False

    # solving ------------------------------------------------------------------------------------
    @cached_property
    def matrix(self) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        """The constraints as (A, low, high), built once the rows are complete."""
        a = _sparse_rows([coefs for coefs, _, _ in self.rows], self.nvars)
        return a, np.array([x[1] for x in self.rows]), np.array([x[2] for x in self.rows])

    @cached_property
    def search_ub(self) -> np.ndarray:
        """The tighter box searches work in: a solution inside it is a solution; its absence proves nothing."""
        published = self.view.n[~np.isnan(self.view.n)]
        if not len(published):
            return self.ub
        return np.minimum(self.ub, SEARCH_BOX * max(float(published.max()), float(self.minimum)))

    def find(self, rng: np.random.Generator, cut=None, objective: np.ndarray | None = None,
             exact: bool = True) -> np.ndarray | None:
        """A whole-number solution (meeting `cut` = (row, low, high) if given), or None.

        Searches first: `objective` (else a random direction), then random directions, in the tighter box
        and time-limited. Then, if `exact`, the full program with no limit: None is then the proof that
        no solution exists. Without `exact`, one search only: None then means none was found."""
        if self.nvars == 0:
            return None if cut is not None and not (cut[1] <= 0 <= cut[2]) else np.zeros(0)
        for attempt in range(SEARCH_TRIES if exact else 1):
            direction = objective if attempt == 0 and objective is not None else self._direction(rng, cut)
            x, status = self._milp(direction, cut, self.search_ub, SEARCH_SECONDS)
            if x is not None:
                return x
            if status == 2:  # none in the box: only the full program can tell
                break
        if not exact:
            return None
        x, status = self._milp(self._direction(rng, cut), cut, self.ub, None)
        if x is None and status != 2:
            raise RuntimeError("the disclosure audit's integer program could not be solved")
        return x

    def _direction(self, rng: np.random.Generator, cut) -> np.ndarray:
        """A random objective, leaning towards the side a cut asks for (HiGHS finds such points faster)."""
        noise = rng.normal(size=self.nvars)
        if cut is None:
            return noise
        row, low, _ = cut
        lean = -SEARCH_LEAN if np.isfinite(low) else SEARCH_LEAN
        return noise + lean * np.asarray(row.todense()).ravel()

    def _milp(self, objective: np.ndarray, cut, ub: np.ndarray, seconds: float | None):
        """One HiGHS run that stops at the first whole-number solution: (solution or None, status)."""
        constraints = [LinearConstraint(*self.matrix)] if self.rows else []
        if cut is not None:
            constraints.append(LinearConstraint(cut[0], cut[1], cut[2]))
        options = {"presolve": True, "mip_rel_gap": np.inf}
        if seconds is not None:
            options["time_limit"] = seconds
        result = milp(np.asarray(objective, dtype=float), integrality=np.ones(self.nvars),
                      bounds=Bounds(self.lb, ub), constraints=constraints, options=options)
        return (None if result.x is None else np.rint(result.x)), result.status

    def point(self, n_kommune: np.ndarray, base_kommune: np.ndarray) -> np.ndarray:
        """The unknowns at these per-kommune values."""
        x = np.zeros(self.nvars)
        for k, v in self.var_of.items():
            x[v] = n_kommune[k]
            x[v + 1: v + self.width] = base_kommune[k]
        return x

    def zero_forced(self, t: "_Targets") -> np.ndarray:
        """Targets proven 0 by a published sum whose remainder is 0: every unknown in it is 0, and so is
        every count made of those unknowns alone (the zero proofs docs/methodology.md accepts)."""
        zero = np.zeros(self.nvars, dtype=bool)
        for coefs, low, high in self.rows:
            if low == 0 == high and all(c > 0 for c in coefs.values()):
                zero[list(coefs)] = True
        nonzero_unknown = (t.rows.multiply(t.rows > 0) @ (~zero).astype(float)) > 0
        return np.flatnonzero(~nonzero_unknown & (np.abs(t.const) < 0.5))


def _sparse_rows(rows: list[dict[int, float]], nvars: int) -> csr_matrix:
    """One sparse row per {unknown: coefficient} dict."""
    ri = [i for i, coefs in enumerate(rows) for _ in coefs]
    ci = [var for coefs in rows for var in coefs]
    vi = [coef for coefs in rows for coef in coefs.values()]
    return coo_matrix((vi, (ri, ci)), shape=(len(rows), nvars)).tocsr()


def _ranked_base(columns: np.ndarray, m: int) -> np.ndarray:
    """first/second/third per option of a published kommune, from its first, top3 and points columns."""
    f, top3, points = columns[0::3], columns[1::3], columns[2::3]
    s = points - 3 * f - (top3 - f)  # points - 3f = 2s + t, top3 - f = s + t
    t = top3 - f - s
    return np.concatenate([f, s, t])


# --------------------------------------------------------------------------------------------------
# the audit


def audit_question(
    geo: Geography, view: PublishedQuestion, minimum: int,
    truth: tuple[np.ndarray, np.ndarray] | None = None, known_free: frozenset = frozenset(),
    suppressing: bool = False,
) -> QuestionAudit:
    """The leaks of one question (see the module docstring).

    `truth` = (n, base counts) per kommune, the true values, is a known feasible point: it spares a solve.
    `known_free` holds target keys shown free by an earlier audit of the same data with fewer cells
    suppressed; suppressing more only widens the feasible set, so they stay free and are not solved again.
    `suppressing` (the audit inside suppression): a cell found leaking is not tested further, since
    suppression adds one cell per leaking cell whatever leaks, and the figures (zero proofs, narrowest
    range) are left out."""
    prog = _Program(geo, view, minimum)
    result = QuestionAudit()
    rng = np.random.default_rng(SEED)
    x0 = prog.point(*truth) if truth is not None else None
    if x0 is None and prog.feasible_fixed:
        x0 = prog.find(rng)
        result.solves += 1
    if x0 is None or not prog.feasible_fixed:
        raise ValueError(f"{view.survey_year} {view.question_id}: the published tables contradict each other "
                         f"(no answers fit every sum they state)")
    t = _targets(prog)
    value0 = t.values(x0)
    is_n, is_count, is_gap = t.what == "n", t.what == "count", t.what == "gap"
    result.n_cells, result.count_cells = int(is_n.sum()), int(is_count.sum())
    keys = t.keys()
    untested = np.array([k not in known_free for k in keys], dtype=bool)
    result.free = set(known_free)
    # n or a count pinned to 0 says "nobody", as `no_respondents` does: only other values are tested
    two_sided = np.flatnonzero(untested & (is_n | is_count) & (np.abs(value0) > 0.5))
    gaps = np.flatnonzero(untested & is_gap & (np.abs(value0) < 0.5))
    seen_lo, seen_hi = value0.copy(), value0.copy()

    def find(cut=None, objective=None, exact=True) -> np.ndarray | None:
        """The target values at a solution found (see `_Program.find`), retiring every cell it moves."""
        nonlocal two_sided, gaps
        x = prog.find(rng, cut, objective, exact)
        result.solves += 1
        if x is None:
            return None
        vals = t.values(x)
        np.minimum(seen_lo, vals, out=seen_lo)
        np.maximum(seen_hi, vals, out=seen_hi)
        two_sided, gaps = still(two_sided, vals, False), still(gaps, vals, True)
        return vals

    def still(idx: np.ndarray, vals: np.ndarray, one_sided: bool) -> np.ndarray:
        moved = vals[idx] > 0.5 if one_sided else np.abs(vals[idx] - value0[idx]) > 0.5
        result.free.update(keys[i] for i in idx[moved])
        return idx[~moved]

    for _ in range(RANDOM_ROUNDS):  # random directions: most cells move in the first one or two
        before = len(two_sided) + len(gaps)
        if before < RANDOM_MIN_TARGETS:
            break
        weights = np.zeros(len(value0))
        weights[two_sided] = rng.choice((-1.0, 1.0), size=len(two_sided))
        weights[gaps] = -1.0  # push each gap (n - count) up
        find(objective=np.asarray(t.rows.T @ weights).ravel(), exact=False)
        if len(two_sided) + len(gaps) == before:
            break

    leaked: list[int] = []
    while len(two_sided) or len(gaps):  # one by one, in target order; each solution retires what it moves
        i = int(min([*two_sided[:1], *gaps[:1]]))
        row, rhs = t.rows[i], value0[i] - t.const[i]
        if is_gap[i]:  # can it be below 100 %, i.e. n - count >= 1?
            pinned = find((row, 1 - t.const[i], np.inf)) is None
        else:  # is any solution above, or below, the known value?
            pinned = find((row, rhs + 1, np.inf)) is None and find((row, -np.inf, rhs - 1)) is None
        if pinned:
            leaked.append(i)
            done = t.cell == t.cell[i] if suppressing else np.arange(len(keys)) == i
            two_sided, gaps = two_sided[~done[two_sided]], gaps[~done[gaps]]
    if not suppressing:
        zeros = np.flatnonzero(is_count & (np.abs(value0) < 0.5))
        result.zero_proofs = int(np.isin(zeros, prog.zero_forced(t)).sum())
        result.narrowest_n_range = _narrowest_seen(np.flatnonzero(is_n), seen_lo, seen_hi)
    result.leaks = [_leak(geo, view, t, i, value0[i]) for i in leaked]
    return result


@dataclass(frozen=True)
class _Targets:
    """Every tested quantity of every suppressed cell: a sparse row over the unknowns plus a constant."""

    rows: csr_matrix
    const: np.ndarray
    what: np.ndarray  # "n" | "count" | "gap" (n - count, for shares)
    cell: np.ndarray
    col: np.ndarray  # -1 for n

    def values(self, x: np.ndarray) -> np.ndarray:
        return self.rows @ x + self.const

    def keys(self) -> list[tuple]:
        """What each target is, independent of how the program numbers its unknowns."""
        return list(zip(self.cell.tolist(), self.what.tolist(), self.col.tolist()))


def _targets(prog: _Program) -> _Targets:
    view = prog.view
    rows, const, what, cells, cols = [], [], [], [], []

    def add(expr, kind, cell, col):
        rows.append(expr[0])
        const.append(expr[1])
        what.append(kind)
        cells.append(cell)
        cols.append(col)

    for cell in range(prog.n_cells):
        if not view.suppressed[cell] or view.reason[cell] == REASON_NO_RESPONDENTS:
            continue
        n_expr = prog.expr(cell, "n")
        add(n_expr, "n", cell, -1)
        for col, name in enumerate(view.columns):
            count = prog.expr(cell, "count", col)
            add(count, "count", cell, col)
            if not name.endswith(".points"):  # a share: its gap n - count
                gap = dict(n_expr[0])
                for var, coef in count[0].items():
                    gap[var] = gap.get(var, 0.0) - coef
                add((gap, n_expr[1] - count[1]), "gap", cell, col)
    return _Targets(_sparse_rows(rows, prog.nvars), np.array(const, dtype=float), np.array(what, dtype=object),
                    np.array(cells), np.array(cols))


def _narrowest_seen(n_idx, seen_lo, seen_hi) -> int | None:
    """The smallest max − min of a suppressed n over the solutions the audit found. Each cell's feasible
    range is at least as wide as what was seen of it, so every suppressed n has at least this range."""
    widths = seen_hi[n_idx] - seen_lo[n_idx]
    return int(round(widths.min())) if len(widths) else None


def _leak(geo: Geography, view: PublishedQuestion, t: _Targets, i: int, value: float) -> Leak:
    level, code = geo.cells
    what = {"n": "n", "count": "count", "gap": "share_100"}[t.what[i]]
    column = None if t.col[i] < 0 else view.columns[t.col[i]]
    return Leak(view.survey_year, view.question_id, str(level[t.cell[i]]), str(code[t.cell[i]]), what, column,
                100 if what == "share_100" else int(round(value)))


def for_each_question(fn, questions: list) -> list:
    """`fn` over the questions, in order of the result, on as many threads as there are CPUs: each
    question's program is independent of the others, and HiGHS releases the GIL while it solves."""
    workers = min(len(questions), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(q) for q in questions]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, questions))


def audit_tables(tables: dict, geo: Geography, minimum: int) -> DisclosureAudit:
    """The exact audit of one release's tables."""
    start = time.perf_counter()
    leaks: list[Leak] = []
    totals = QuestionAudit()
    narrowest = None
    views = questions_from_tables(tables, geo)
    results = for_each_question(lambda view: audit_question(geo, view, minimum), views)
    for result in results:
        leaks += result.leaks
        totals.n_cells += result.n_cells
        totals.count_cells += result.count_cells
        totals.zero_proofs += result.zero_proofs
        totals.solves += result.solves
        if result.narrowest_n_range is not None:
            narrowest = result.narrowest_n_range if narrowest is None else min(narrowest, result.narrowest_n_range)
    return DisclosureAudit(leaks, len(views), totals.n_cells, totals.count_cells, totals.zero_proofs, narrowest,
                           totals.solves, time.perf_counter() - start)


# The columns that, with the geography, name one row of a table the audit reads.
ROW_KEYS = {"indicator_values": "indicator_id", "barrier_scores": "barrier_id"}


def tables_seen_together(first: dict, second: dict) -> dict:
    """What a reader holding two releases of the same answers sees: each row as whichever release shows it
    (they agree where both do). Auditing this is auditing the pair."""
    seen = {}
    for name, key in ROW_KEYS.items():
        keys = ["geography_level", "geography_code", key]
        a = first[name].set_index(keys)
        b = second[name].set_index(keys).reindex(a.index)
        shown_in_second_only = a["suppressed"].astype(bool) & b["suppressed"].eq(False)
        a.loc[shown_in_second_only] = b.loc[shown_in_second_only, a.columns]
        seen[name] = a.reset_index()
    return seen
