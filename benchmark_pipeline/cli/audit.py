"""`benchmark-pipeline audit`: the privacy audit of one release, or of every release in the output folder.

Each release gets both audits: its files (free text, CPR numbers, e-mail addresses, small cells) and the
exact disclosure audit of its tables (what an attacker can solve for); two releases of the same export
(revisions of one year with the same input hashes) are also audited together.

Exit codes: 0 every audited release is clean; 1 findings; 2 misuse, or the release or folder not found;
3 the environment failed (e.g. permission denied).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmark_pipeline.errors import EXIT_CONTENT, EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_OK


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(code)


def _read_forbidden_texts(path: Path) -> list[str]:
    """A JSON list of strings, or one text per line."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except ValueError:
        return [line for line in text.splitlines() if line.strip()]
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return data
    _fail(f"{path}: expected a JSON list of strings or one text per line", EXIT_INPUT)
    return []


def _disclosure_summary(audit) -> str:
    figures = (f"{audit.n_cells} suppressed n cells and {audit.count_cells} count cells tested "
               f"in {audit.seconds:.1f} s")
    if audit.passed:
        return f"  exact disclosure audit: passed ({figures}; no suppressed value can be solved for)"
    lines = [f"  exact disclosure audit: FAILED, {len(audit.leaks)} suppressed values can be solved for ({figures}):"]
    lines += [f"    {leak}" for leak in audit.leaks[:10]]
    if len(audit.leaks) > 10:
        lines.append(f"    ... and {len(audit.leaks) - 10} more")
    return "\n".join(lines)


@click.command("audit")
@click.option("--release", "release_id", metavar="ID", help="Release id, e.g. 2024-r1-0a1b2c3d4e5f.")
@click.option("--path", "path", type=click.Path(path_type=Path, file_okay=False),
              help="Audit this folder (e.g. a staged release) instead of a release in the output folder.")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder holding releases/ (default: BENCHMARK_OUTPUT_DIR or ./output).")
@click.option("--forbidden-texts", "forbidden_file", type=click.Path(path_type=Path, dir_okay=False),
              help="File of free-text answers that must not appear (a JSON list, or one per line).")
@click.option("--min-respondents", type=int, default=None,
              help="Minimum respondents behind a published value (default: the setting; never below 5).")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def audit(release_id, path, output_dir, forbidden_file, min_respondents, as_json):
    """Check release folders for personal data: free text, CPR numbers, e-mail addresses and values
    resting on too few respondents, in every table, report, chart, workbook and metadata file."""
    from benchmark_pipeline.audit import audit_release
    from benchmark_pipeline.audit.disclosure import audit_release_disclosure, audit_revisions_together
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.release.paths import ReleasePaths
    from benchmark_pipeline.settings import Settings, SettingsError
    from benchmark_pipeline.stats.geography import Geography

    if release_id and path:
        _fail("give either --release or --path, not both", EXIT_INPUT)
    try:
        settings = Settings.from_env(output_dir=output_dir, min_respondents=min_respondents)
    except SettingsError as exc:
        _fail(str(exc), EXIT_INPUT)
    release_paths = ReleasePaths(settings.output_dir)
    forbidden: list[str] = []
    if forbidden_file is not None:
        if not forbidden_file.is_file():
            _fail(f"forbidden-texts file not found: {forbidden_file}", EXIT_INPUT)
        try:
            forbidden = _read_forbidden_texts(forbidden_file)
        except OSError as exc:
            _fail(f"cannot read {forbidden_file}: {exc.strerror or exc}", EXIT_ENVIRONMENT)

    if path is not None:
        if not path.is_dir():
            _fail(f"folder not found: {path}", EXIT_INPUT)
        folders = [path]
    elif release_id:
        try:
            folder = release_paths.release_dir_of(release_id)
        except ValueError as exc:
            _fail(str(exc), EXIT_INPUT)
        if not folder.is_dir():
            _fail(f"release {release_id} not found (looked in {folder})", EXIT_INPUT)
        folders = [folder]
    else:
        folders = release_paths.release_dirs()
        if not folders:
            _fail(f"no releases found under {release_paths.releases_dir}", EXIT_INPUT)

    try:
        geo = Geography.from_kommuner(load_kommuner(settings.data_dir))
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the kommune reference in {settings.data_dir}: {exc}", EXIT_INPUT)
    reports, exact = [], []
    for folder in folders:
        try:
            reports.append(audit_release(folder, forbidden_texts=forbidden,
                                         min_respondents=settings.min_respondents))
            exact.append(audit_release_disclosure(folder, geo, settings.min_respondents))
        except FileNotFoundError as exc:
            _fail(str(exc), EXIT_INPUT)
        except ValueError as exc:  # tables that contradict each other
            _fail(f"{folder}: {exc}", EXIT_INPUT)
        except OSError as exc:
            _fail(f"cannot read {exc.filename or folder}: {exc.strerror or exc}", EXIT_ENVIRONMENT)

    together = audit_revisions_together(folders, geo, settings.min_respondents)
    passed = all(r.passed for r in reports) and all(e.passed for e in exact) and all(
        a.passed for a in together.values())
    if as_json:
        releases = [{**r.to_dict(), "disclosure": {**e.metadata(), "first_leaks": [str(x) for x in e.leaks[:20]]}}
                    for r, e in zip(reports, exact)]
        pairs = [{"releases": list(ids), "passed": a.passed, "first_leaks": [str(x) for x in a.leaks[:20]]}
                 for ids, a in together.items()]
        click.echo(json.dumps({"passed": passed, "releases": releases, "revisions_of_one_export": pairs},
                              ensure_ascii=False, indent=2))
    else:
        for r, e in zip(reports, exact):
            click.echo(r.summary())
            click.echo(_disclosure_summary(e))
        for (first, second), a in together.items():
            click.echo(f"{first} and {second} (same export) together:")
            click.echo(_disclosure_summary(a))
        if len(reports) > 1:
            bad = sum(not (r.passed and e.passed) for r, e in zip(reports, exact))
            click.echo(f"{len(reports)} releases audited: "
                       + ("all passed." if passed else f"{bad} failed."))
    raise click.exceptions.Exit(EXIT_OK if passed else EXIT_CONTENT)
