"""`benchmark-pipeline audit` (benchmark_pipeline/cli/audit.py): finding releases, output and exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.audit import audit
from benchmark_pipeline_tests.audit.conftest import FREE_TEXTS, RELEASE_ID, YEAR

LEAKY_ID = f"{YEAR}-r2-ffffffffffff"


@pytest.fixture
def output_dir(release):
    """releases/2024/<clean>, releases/2024/<leaky>, a latest pointer, and a leaky staging folder."""
    out = release.parents[2]
    leaky = release.parent / LEAKY_ID
    shutil.copytree(release, leaky)
    page = leaky / "reports/kommuner/101.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", "<p>jens.hansen@kk.dk</p></body>"),
                    encoding="utf-8")
    staging = out / "releases" / ".staging" / "tmp-123"
    shutil.copytree(leaky, staging)
    (release.parent / "latest").write_text(RELEASE_ID, encoding="utf-8")
    return out


def invoke(*args, env=None):
    return CliRunner().invoke(audit, list(args), env=env or {"BENCHMARK_OUTPUT_DIR": ""}, catch_exceptions=False)


def test_clean_release_by_id_exits_0(output_dir):
    result = invoke("--release", RELEASE_ID, "--output-dir", str(output_dir))
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_output_dir_from_environment(output_dir):
    result = invoke("--release", RELEASE_ID, env={"BENCHMARK_OUTPUT_DIR": str(output_dir)})
    assert result.exit_code == 0, result.output


def test_leaky_release_exits_1_without_repeating_the_value(output_dir):
    result = invoke("--release", LEAKY_ID, "--output-dir", str(output_dir))
    assert result.exit_code == 1
    assert "FAILED" in result.output and "email_address" in result.output
    assert "jens.hansen" not in result.output and "Traceback" not in result.output


def test_all_releases_are_audited_and_staging_is_skipped(output_dir):
    result = invoke("--output-dir", str(output_dir), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["passed"] is False
    names = sorted(r["release_dir"].rsplit("/", 1)[-1] for r in data["releases"])
    assert names == sorted([RELEASE_ID, LEAKY_ID])


def test_path_and_forbidden_texts(output_dir, tmp_path):
    release = output_dir / "releases" / str(YEAR) / RELEASE_ID
    page = release / "reports/national.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<p>{FREE_TEXTS[1]}</p></body>"),
                    encoding="utf-8")
    texts = tmp_path / "free.json"
    texts.write_text(json.dumps(FREE_TEXTS), encoding="utf-8")
    assert invoke("--path", str(release)).exit_code == 0  # without the free texts, nothing to compare with
    result = invoke("--path", str(release), "--forbidden-texts", str(texts), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)["releases"][0]
    assert report["counts_by_kind"] == {"free_text": 1}
    assert FREE_TEXTS[1] not in result.output


@pytest.mark.parametrize("args", [
    ["--release", "2024-r9-000000000000"],
    ["--release", "nonsense"],
    ["--path", "/no/such/folder"],
    ["--release", RELEASE_ID, "--path", "."],
    ["--release", RELEASE_ID, "--min-respondents", "3"],
])
def test_misuse_and_not_found_exit_2(output_dir, args):
    result = invoke(*args, "--output-dir", str(output_dir))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_no_releases_exits_2(tmp_path):
    result = invoke("--output-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "no releases found" in result.output
