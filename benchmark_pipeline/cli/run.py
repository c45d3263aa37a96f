"""`benchmark-pipeline run`: publish survey years through Dagster, one after another (in process, or with
their steps on the Celery workers when BENCHMARK_EXECUTOR=celery: defs/runner.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from benchmark_pipeline.cli.options import fail, location_options
from benchmark_pipeline.errors import EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_OK
from benchmark_pipeline.instrument import InstrumentError, load_year, mapped_years
from benchmark_pipeline.publication import has_export
from benchmark_pipeline.release import ReleaseStore
from benchmark_pipeline.release.warehouse import safe_url
from benchmark_pipeline.settings import Settings


def years_to_run(settings: Settings, requested: tuple[int, ...], run_all: bool) -> list[int]:
    """Requested years plus any earlier year they compare with that has an export but no release yet."""
    available = [y for y in mapped_years(settings.data_dir) if has_export(settings, y)]
    if run_all:
        return available
    years = set(requested)
    with ReleaseStore(settings.output_dir, settings.resolved_warehouse_url) as store:
        for year in requested:
            earlier = year - 1
            while earlier in available and store.latest(earlier) is None:
                years.add(earlier)
                earlier -= 1
    return sorted(years)


def ensure_writable(folder: Path) -> None:
    """Fail before any work when the output folder cannot take a release."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise click.exceptions.Exit(
            fail(
                f"the output folder {folder} is not writable ({exc.strerror}); fix its permissions or choose "
                "another with --output-dir / BENCHMARK_OUTPUT_DIR",
                EXIT_ENVIRONMENT,
            )
        )


@click.command()
@click.option("--year", "years", type=int, multiple=True, help="Survey year to publish (repeatable).")
@click.option("--all", "run_all", is_flag=True, help="Publish every survey year that has a mapping and an export.")
@location_options
def run(years: tuple[int, ...], run_all: bool, settings: Settings) -> None:
    """Ingest, validate, compute, report and publish survey years (unchanged years reuse their release).

    Exit codes: 0 published or reused (also with some rows quarantined: they are listed, and alerted as a
    warning), 1 the year stopped on its content, 2 the input cannot be used, 3 the environment failed.
    With several years it goes on after a failed year and exits with the highest code.
    """
    from benchmark_pipeline.defs.runner import open_instance, run_year

    if bool(years) == run_all:
        raise click.exceptions.Exit(fail("give --year YYYY or --all (not both)", EXIT_INPUT))
    for year in years:
        try:
            load_year(settings.data_dir, year)
        except InstrumentError as exc:
            raise click.exceptions.Exit(fail(str(exc), EXIT_INPUT))
    ensure_writable(settings.output_dir)
    plan = years_to_run(settings, years, run_all)
    if not plan:
        raise click.exceptions.Exit(fail(f"no survey year with a mapping and an export in {settings.data_dir}", EXIT_INPUT))
    instance = open_instance()
    worst = EXIT_OK
    for year in plan:
        outcome = run_year(settings, year, instance)
        if outcome.ok:
            verb = "reused unchanged release" if outcome.reused else "published"
            click.echo(f"{year}: {verb} {outcome.release_id}")
            click.echo(f"      {outcome.release_path}")
            click.echo(f"      national report: {outcome.release_path}/reports/national.html")
            if outcome.rows_quarantined:
                where = settings.quarantine_dir(year) / outcome.run_id
                click.echo(f"      warning: {outcome.rows_quarantined} row(s) quarantined and left out; the rows and "
                           f"their reasons are in {where}")
        else:
            click.echo(f"{year}: not published (exit {outcome.exit_code})", err=True)
            for message in outcome.messages:
                click.echo(f"      {message}", err=True)
        worst = max(worst, outcome.exit_code)
    click.echo(f"warehouse: {safe_url(settings.resolved_warehouse_url)}")
    raise click.exceptions.Exit(worst)
