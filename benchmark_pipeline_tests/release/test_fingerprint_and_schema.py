"""Release identity and the table contract (no database needed)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmark_pipeline.release import make_release_id, release_fingerprint, schema
from benchmark_pipeline.release.errors import TableContractError
from benchmark_pipeline_tests.release.tables import make_tables

BASE = dict(
    survey_year=2025,
    mapping_sha256="a" * 64,
    reference_sha256="b" * 64,
    code_versions={"stats": "1", "ingest": "2"},
    settings={"min_respondents": 5, "max_quarantine_share": 0.2},
    compared_release_ids=["2024-r1-0123456789ab"],
)


@pytest.fixture
def inputs(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("x\n2\n")
    return a, b


def test_fingerprint_is_stable_and_order_free(inputs):
    a, b = inputs
    first = release_fingerprint(input_files=[a, b], **BASE)
    assert first == release_fingerprint(input_files=[b, a], **{**BASE, "code_versions": {"ingest": "2", "stats": "1"}})
    assert len(first) == 64 and make_release_id(2025, 3, first) == f"2025-r3-{first[:12]}"


@pytest.mark.parametrize(
    "change",
    [
        {"survey_year": 2026},
        {"mapping_sha256": "c" * 64},
        {"reference_sha256": "c" * 64},
        {"code_versions": {"stats": "2", "ingest": "2"}},
        {"settings": {"min_respondents": 6, "max_quarantine_share": 0.2}},
        {"compared_release_ids": ["2024-r2-0123456789ab"]},
    ],
)
def test_every_component_changes_the_fingerprint(inputs, change):
    assert release_fingerprint(input_files=list(inputs), **BASE) != release_fingerprint(
        input_files=list(inputs), **{**BASE, **change}
    )


def test_input_content_changes_the_fingerprint(inputs):
    a, b = inputs
    before = release_fingerprint(input_files=[a, b], **BASE)
    b.write_text("x\n3\n")
    assert release_fingerprint(input_files=[a, b], **BASE) != before


def test_prepare_adds_release_id_types_and_sorts():
    tables = make_tables(2024)
    shuffled = tables["indicator_values"]
    prepared = schema.prepare("indicator_values", shuffled, "2024-r1-abc")
    assert list(prepared.columns) == schema.spec("indicator_values").column_names
    assert prepared.iloc[0]["geography_level"] == "national" and prepared.iloc[-1]["geography_level"] == "kommune"
    again = schema.prepare("indicator_values", shuffled.sample(frac=1, random_state=9), "2024-r1-abc")
    pd.testing.assert_frame_equal(prepared, again)
    assert str(prepared["n"].dtype) == "Int64" and str(prepared["suppressed"].dtype) == "boolean"
    with pytest.raises(TableContractError, match="without release_id"):
        schema.prepare("indicator_values", prepared, "x")
    broken = shuffled.copy()
    broken.loc[broken.index[0], "indicator_id"] = None
    with pytest.raises(TableContractError, match="indicator_id must not be empty"):
        schema.prepare("indicator_values", broken, "x")


def test_data_dictionary_describes_every_documented_column():
    dictionary = json.loads(json.dumps(schema.data_dictionary()))
    assert set(dictionary["tables"]) == set(schema.TABLE_NAMES)
    documented = {
        "indicator_values": "survey_year, geography_level, geography_code, indicator_id, question_id, option_id, "
        "measure, n, count, share, ci_low, ci_high, suppressed, suppression_reason",
        "barrier_scores": "survey_year, geography_level, geography_code, barrier_id, n, score, score_ci_low, "
        "score_ci_high, top3_share, first_share, suppressed, suppression_reason",
        "yoy_changes": "survey_year, comparison, base_year, geography_level, geography_code, indicator_id, share, "
        "share_base, diff_pp, diff_ci_low_pp, diff_ci_high_pp, p_value, q_value, significant, relative_growth",
        "trends": "survey_year, geography_level, geography_code, indicator_id, first_year, years, share_first, share, "
        "slope_pp_per_year, slope_ci_low_pp, slope_ci_high_pp, p_value, q_value, significant",
        "kommune_benchmarks": "survey_year, kommune_kode, indicator_id, n, share, share_shrunk, national_share, "
        "region_share, group_share, diff_national_pp, diff_region_pp, diff_group_pp, percentile, percentile_of, "
        "national_min, national_median, national_max, national_published, group_min, group_median, group_max, "
        "group_published, suppressed, suppression_reason",
        "year_summary": "survey_year, respondents, responding_kommuner, non_responses, quarantined_rows, "
        "respondents_change, responding_kommuner_change, non_responses_change, quarantined_rows_change",
        "quarantine_summary": "survey_year, rule, column, rows",
    }
    assert set(documented) == set(schema.TABLE_NAMES)
    for name, columns in documented.items():
        described = dictionary["tables"][name]["columns"]
        assert [c["name"] for c in described] == ["release_id", *columns.split(", ")]
        assert all(c["description"] and c["type"] in {"string", "integer", "float", "boolean"} for c in described)


def test_consumer_docs_list_every_table_and_column():
    from benchmark_pipeline.settings import REPO_ROOT

    text = (REPO_ROOT / "docs" / "consumers.md").read_text(encoding="utf-8")
    for name, spec in schema.TABLES.items():
        assert f"### `{name}`" in text
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for column in spec.columns:
            assert f"| `{column.name}` |" in section, (name, column.name)


def test_files_of_a_release_published_before_a_column_existed_read_as_its_warehouse_rows():
    """Releases published before revision 0002 keep their files; read back, a column added since holds
    what the migration gave their warehouse rows (`previous_year`, or empty), so they still verify."""
    tables = make_tables(2024)
    old_yoy = schema.prepare("yoy_changes", tables["yoy_changes"], "2024-r1-abc").drop(columns=["comparison"])
    read = schema.coerce("yoy_changes", old_yoy)
    assert list(read.columns) == schema.spec("yoy_changes").column_names
    assert (read["comparison"] == "previous_year").all()
    added = [c.name for c in schema.spec("kommune_benchmarks").columns if c.added_in]
    assert added[0] == "percentile_of" and added[-1] == "group_published"
    old_kb = schema.prepare("kommune_benchmarks", tables["kommune_benchmarks"], "2024-r1-abc").drop(columns=added)
    read = schema.coerce("kommune_benchmarks", old_kb)
    assert read[added].isna().all().all() and str(read["percentile_of"].dtype) == "Int64"
    with pytest.raises(TableContractError, match="missing columns"):  # a column every release has
        schema.coerce("kommune_benchmarks", old_kb.drop(columns=["percentile"]))
    with pytest.raises(TableContractError, match="missing"):  # a new release holds every column
        schema.prepare("yoy_changes", tables["yoy_changes"].drop(columns=["comparison"]), "2025-r1-abc")
