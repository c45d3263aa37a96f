"""The disclosure gate, called directly as the anchors do: a table that passes every per-sum rule but lets an
attacker solve for a suppressed kommune is blocked by the exact audit, and so is a revision that leaks
together with an earlier revision of the same export."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmark_pipeline.candidate import ExportIdentity, ReleaseCandidate
from benchmark_pipeline.defs.assets.publishing import StagedOutcome
from benchmark_pipeline.defs.checks import disclosure_control
from benchmark_pipeline.defs.resources import BenchmarkSettings
from benchmark_pipeline.instrument import load_year
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.release.store import StagedRelease
from benchmark_pipeline.sample import generate_answers
from benchmark_pipeline.settings import Settings
from benchmark_pipeline.stats import compute_indicators, compute_kommune_benchmarks, compute_trends, compute_yoy
from benchmark_pipeline.stats.attack import published_question
from benchmark_pipeline.stats.disclosure import protect_question
from benchmark_pipeline_tests.release.tables import make_tables
from benchmark_pipeline_tests.stats.helpers import hillerod_case, rules_only

YEAR = 2023
OPTIONS = ("ja", "nej")


def indicator_table(geo, view) -> pd.DataFrame:
    """`indicator_values` as a release publishes this view (counts only above kommune level)."""
    level, code = geo.cells
    rows = []
    for c in range(len(level)):
        hidden = bool(view.suppressed[c])
        for j, option in enumerate(OPTIONS):
            n, count = view.n[c], view.counts[c, j]
            share = None if hidden else count / n
            rows.append(dict(
                survey_year=YEAR, geography_level=level[c], geography_code=code[c],
                indicator_id=f"further_potential.{option}", question_id="further_potential", option_id=option,
                measure="share", n=None if hidden else int(n),
                count=None if hidden or level[c] == "kommune" else int(count),
                share=share, ci_low=share, ci_high=share, suppressed=hidden, suppression_reason=view.reason[c],
            ))
    table = pd.DataFrame(rows)
    return table.astype({"n": "Int64", "count": "Int64"})


def candidate(year: int, fingerprint: str) -> ReleaseCandidate:
    """The candidate fields the gate reads (its year); its tables are the staged ones."""
    return ReleaseCandidate(year, ExportIdentity((), ()), fingerprint, {}, (), None, {}, {})


def staged(tmp_path, table: pd.DataFrame) -> StagedOutcome:
    release_id = f"{YEAR}-r1-000000000000"
    (tmp_path / "tables").mkdir(parents=True)
    table.insert(0, "release_id", release_id)
    table.to_parquet(tmp_path / "tables" / "indicator_values.parquet")
    release = StagedRelease(release_id, YEAR, 1, "0" * 64, tmp_path, [], {}, {}, None,
                            row_counts={"indicator_values": len(table)})
    return StagedOutcome(candidate(YEAR, release.fingerprint), release, None)


def run_gate(tmp_path, data_dir, suppressed, reason, geo, n, counts):
    view = published_question(geo, YEAR, "further_potential", "single", OPTIONS, n, counts, suppressed, reason)
    benchmark = BenchmarkSettings.from_settings(Settings.from_env(environ={}, data_dir=data_dir, output_dir=tmp_path / "out"))
    return disclosure_control(benchmark=benchmark, staged_release=staged(tmp_path / "release", indicator_table(geo, view)))


def test_the_exact_audit_blocks_a_table_the_rules_pass(tmp_path, data_dir, kommuner):
    geo, n, counts = hillerod_case(kommuner)
    suppressed, reason = rules_only(geo, n)
    result = run_gate(tmp_path, data_dir, suppressed, reason, geo, n, counts)
    assert not result.passed
    assert result.metadata["violations"].value == 0  # every per-sum rule holds
    assert result.metadata["leaks"].value > 0
    leaks = " ".join(result.metadata["first_leaks"].value)
    assert "kommune 219 further_potential" in leaks
    assert "= 3" not in leaks  # the leaked value is never shown


def test_the_gate_passes_what_the_suppression_publishes(tmp_path, data_dir, kommuner):
    geo, n, counts = hillerod_case(kommuner)
    decision = protect_question(geo, YEAR, "further_potential", "single", OPTIONS, n, counts, 5)
    result = run_gate(tmp_path, data_dir, decision.suppressed, decision.reason, geo, n, counts)
    assert result.passed
    hidden = decision.suppressed & (decision.reason != "no_respondents")
    assert result.metadata["suppressed_n_cells"].value == int(hidden.sum())


@pytest.mark.slow
def test_the_gate_blocks_a_revision_that_leaks_together_with_an_earlier_one(tmp_path, data_dir, kommuner):
    """Two revisions of one export (same input files), suppressed at minimum 5 and then 7 without
    withholding what the first withheld: each passes alone, the pair does not."""
    year = 2024
    instrument = load_year(data_dir, year)
    answers = generate_answers(instrument, 1500, seed=3)
    export = tmp_path / "export.csv"
    export.write_text("the same export both times\n", encoding="utf-8")
    store = ReleaseStore(tmp_path / "out")

    def stage(min_respondents, withheld=None):
        tables = make_tables(year)
        computed = compute_indicators(answers, instrument, kommuner, min_respondents=min_respondents,
                                      withheld_before=withheld)
        tables.update({name: computed[name] for name in ("indicator_values", "barrier_scores")})
        tables["yoy_changes"] = compute_yoy(computed["indicator_values"], None)
        tables["trends"] = compute_trends(computed["indicator_values"], None)
        tables["kommune_benchmarks"] = compute_kommune_benchmarks(computed["indicator_values"], kommuner)
        fingerprint = f"{min_respondents:064d}"
        return store.stage(year, fingerprint, tables, inputs=[export], code_versions={}, settings={}), computed

    def gate(staged):
        benchmark = BenchmarkSettings.from_settings(Settings.from_env(environ={}, data_dir=data_dir, output_dir=tmp_path / "out"))
        return disclosure_control(benchmark=benchmark,
                                  staged_release=StagedOutcome(candidate(year, staged.fingerprint), staged, None))

    first, computed = stage(5)
    assert gate(first).passed
    store.publish(first)
    unaware, _ = stage(7)
    result = gate(unaware)
    assert not result.passed and result.metadata["earlier_revisions_audited_with_it"].value == 1
    assert "with an earlier revision of the same export" in result.metadata["first_leaks"].value[0]
    store.discard(unaware)

    values = computed["indicator_values"]
    withheld = values.loc[values["suppressed"], ["question_id", "geography_level", "geography_code"]]
    assert gate(stage(7, withheld)[0]).passed
