"""`benchmark-pipeline check PATH --year YYYY`: validate an export before dropping it in; publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmark_pipeline.ingest import check_export
from benchmark_pipeline.settings import Settings, SettingsError


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--year", "survey_year", type=int, required=True, help="Survey year whose mapping to use.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder with instrument/ and reference/ (default: BENCHMARK_DATA_DIR or the repo's data/).")
@click.option("--max-quarantine-share", type=float, default=None,
              help="Largest share of responses that may be quarantined (default: settings, 0.20).")
def check(path: Path, survey_year: int, as_json: bool, data_dir: Path | None, max_quarantine_share: float | None):
    """Validate the export at PATH (a file, or a folder holding one) for survey year --year.

    Exit codes: 0 every answered row valid; 1 rows quarantined, or the year stopped on its content;
    2 the input cannot be used (unreadable, unknown layout, no mapping) or the command is misused.
    """
    try:
        settings = Settings.from_env(data_dir=data_dir, max_quarantine_share=max_quarantine_share)
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    report = check_export(path, survey_year, settings.data_dir, settings.max_quarantine_share)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())
    raise SystemExit(report.exit_code)
