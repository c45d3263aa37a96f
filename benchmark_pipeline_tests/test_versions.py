"""Code versions: a step whose code changed under an unchanged version is caught, and only then."""

from __future__ import annotations

import shutil

import pytest

from benchmark_pipeline import versions


def test_every_steps_code_matches_its_recorded_version():
    assert versions.unversioned_changes() == []


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """The package's sources in a scratch folder, so a test can edit a step's code."""
    copy = tmp_path / "benchmark_pipeline"
    shutil.copytree(versions.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(versions, "PACKAGE", copy)
    monkeypatch.setattr(versions, "RECORD", copy / "code_versions.json")
    return copy


def test_a_changed_step_under_its_old_version_is_caught_and_a_bump_with_a_record_clears_it(package_copy, monkeypatch):
    yoy = package_copy / "stats" / "yoy.py"
    yoy.write_text(yoy.read_text(encoding="utf-8") + "\nEXTRA_CONSTANT = 1\n", encoding="utf-8")
    [problem] = versions.unversioned_changes()
    version = versions.CODE_VERSIONS["year_over_year_growth"]
    assert problem.startswith(f"year_over_year_growth: its code changed under code version {version}")
    bumped = str(int(version) + 1)
    monkeypatch.setitem(versions.CODE_VERSIONS, "year_over_year_growth", bumped)
    assert versions.unversioned_changes() == []  # bumped: the version says it changed
    assert versions.main(["--record"]) == 0
    assert versions.recorded()["year_over_year_growth"]["version"] == bumped


def test_comments_docstrings_and_layout_are_not_code_changes(package_copy):
    yoy = package_copy / "stats" / "yoy.py"
    text = yoy.read_text(encoding="utf-8")
    edited = text.replace('"""', '"""Reworded. ', 1) + "\n# a note for the next maintainer\n\n\n"
    yoy.write_text(edited, encoding="utf-8")
    assert versions.unversioned_changes() == []
