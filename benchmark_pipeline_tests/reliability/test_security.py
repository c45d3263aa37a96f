"""Security basics: the UI on localhost, credentials only from the environment, SQL with bound parameters,
and report HTML that no input value can inject markup into (free text never reaches it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark_pipeline.cli.main import cli
from benchmark_pipeline.sample import texts
from benchmark_pipeline.settings import REPO_ROOT
from benchmark_pipeline_tests.reliability.helpers import published_snapshot, sqlite_url, warehouse_rows


def test_the_ui_binds_to_localhost_by_default():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    dev = re.search(r"^dev:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert dev and "dagster dev" in dev.group(1)
    assert re.search(r"(-h|--host)\s+127\.0\.0\.1\b", dev.group(1)), dev.group(1)
    for name in ("Makefile", "workspace.yaml", "dagster.yaml", "pyproject.toml"):
        path = REPO_ROOT / name
        if path.exists():
            assert "0.0.0.0" not in path.read_text(encoding="utf-8"), name


def _repo_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    skip = (".xlsx", ".parquet", ".png", ".sqlite", ".ico")
    return [REPO_ROOT / p for p in listed.stdout.splitlines() if not p.endswith(skip) and (REPO_ROOT / p).is_file()]


URL_WITH_PASSWORD = re.compile(r"\b[a-z][a-z0-9+]*://[^/\s:@'\"]+:([^@\s/'\"]+)@", re.IGNORECASE)
PASSWORD_SETTING = re.compile(r"\b(password|passwd|pwd|secret|api_key|token)\b\s*[:=]\s*['\"]?([^\s'\"#,)]+)", re.IGNORECASE)
PLACEHOLDERS = {"", "xxx", "...", "…", "changeme", "password", "secret", "<password>", "${password}"}


def test_database_credentials_come_only_from_the_environment():
    findings = []
    for path in _repo_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for match in URL_WITH_PASSWORD.finditer(text):
            secret = match.group(1)
            if not (secret.startswith(("$", "{", "<")) or secret.lower() in PLACEHOLDERS):
                findings.append(f"{path.relative_to(REPO_ROOT)}: {match.group(0)}")
        if path.suffix in (".yaml", ".yml", ".toml", ".ini", ".cfg", ".env", ".json"):
            for match in PASSWORD_SETTING.finditer(text):
                value = match.group(2)
                if not (value.startswith(("$", "{", "<", "env:")) or value.lower() in PLACEHOLDERS
                        or value.lower() in ("null", "none", "true", "false")):
                    findings.append(f"{path.relative_to(REPO_ROOT)}: {match.group(0)}")
    assert findings == [], findings


def test_sql_is_built_with_sqlalchemy_and_bound_parameters():
    """Statements with interpolated text exist only where identifiers cannot be bound, and are quoted there."""
    package = REPO_ROOT / "benchmark_pipeline"
    interpolated = re.compile(r"(text|execute|exec_driver_sql)\(\s*f[\"']")
    # DDL: view and table names are identifiers (never bound); in migrations they come from the revision's
    # own constant tuples, never from input
    allowed = {"release/roles.py"}
    migrations = "release/migrations/versions/"
    found = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if interpolated.search(p.read_text(encoding="utf-8"))
    }
    assert {f for f in found if not f.startswith(migrations)} <= allowed, found - allowed
    for revision in (package / migrations).glob("0*.py"):
        for names in re.findall(r"f[\"']([^\"']*)[\"']", revision.read_text(encoding="utf-8")):
            assert set(re.findall(r"\{([^}:!]+)", names)) <= {"name", "select_list"}, (revision, names)
    roles = (package / "release" / "roles.py").read_text(encoding="utf-8")
    for line in roles.splitlines():
        literal = re.search(r'sa\.text\(f"([^"]*)"', line)
        if literal:
            names = re.findall(r"\{([^}]+)\}", literal.group(1))
            assert all(n.startswith(("q_", "quote(", "options", "views")) for n in names), line


HOSTILE = [
    ["withdraw", "2023-r1-x'; DROP TABLE releases; --", "--reason", "test"],
    ["withdraw", "' OR '1'='1", "--reason", "x'); DELETE FROM releases; --"],
    ["export", "--year", "2023", "--table", "indicator_values; DROP TABLE releases", "--format", "csv", "--out", "{tmp}/x.csv"],
    ["export", "--year", "2023", "--table", "indicator_values", "--format", "csv", "--out", "{tmp}/x.csv",
     "--release", "2023-r1' OR '1'='1"],
    ["export", "--year", "2023", "--table", 'latest_"indicator_values"', "--format", "csv", "--out", "{tmp}/x.csv"],
    ["releases", "--year", "2023 OR 1=1"],
]


@pytest.mark.parametrize("args", HOSTILE, ids=[f"{a[0]}-{i}" for i, a in enumerate(HOSTILE)])
def test_names_with_quotes_are_rejected_cleanly(args, output_with_2023, tmp_path):
    before = (published_snapshot(output_with_2023), warehouse_rows(sqlite_url(output_with_2023)))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(cli, [*args, "--output-dir", str(output_with_2023)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].lower().startswith(("error", "usage", "try"))
    assert (published_snapshot(output_with_2023), warehouse_rows(sqlite_url(output_with_2023))) == before
    assert not (tmp_path / "x.csv").exists()


def test_free_text_never_reaches_a_release(published_2023):
    """The 2023 sample carries free-text comments (with CPR-like numbers and e-mails): none is in any
    published file, so no respondent's words can inject markup into the reports."""
    release_files = published_snapshot(published_2023)
    assert any(name.endswith("national.html") for name in release_files)
    andet = [t for values in texts.ANDET_TEXTS.values() for t in values]
    needles = [t for t in (*texts.COMMENTS, *texts.PII_COMMENTS, *andet) if len(t) > 12]
    needles += ["010203-1234", "@example.com", "@example.dk"]
    for name, data in release_files.items():
        text = data.decode("utf-8", errors="ignore")
        for needle in needles:
            assert needle not in text, f"{needle!r} in {name}"


def test_report_templates_escape_every_value():
    """Autoescape is on for the report templates and their macros: a value with markup renders as text."""
    from benchmark_pipeline.reports import environment

    env = environment()
    rendered = env.from_string("<p>{{ v }}</p>").render(v="<script>alert(1)</script>")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    templates = env.list_templates(extensions=["j2"])
    assert templates
    for name in templates:  # select_autoescape decides by the template's name
        assert env.autoescape(name) is True if callable(env.autoescape) else env.autoescape is True, name
