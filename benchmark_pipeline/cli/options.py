"""Options shared by the commands that touch data, outputs or the warehouse."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from benchmark_pipeline.errors import EXIT_INPUT
from benchmark_pipeline.settings import Settings, SettingsError


def location_options(func):
    """--data-dir, --output-dir and --warehouse-url, falling back to BENCHMARK_* and the defaults."""

    @click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                  help="Data folder with instrument/, reference/ and raw/ [env BENCHMARK_DATA_DIR; default: the repo's data/].")
    @click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                  help="Where releases, quarantine and the SQLite warehouse go [env BENCHMARK_OUTPUT_DIR; default: output/].")
    @click.option("--warehouse-url", default=None,
                  help="SQLAlchemy URL of the warehouse [env BENCHMARK_WAREHOUSE_URL; default: SQLite in the output folder].")
    @functools.wraps(func)
    def wrapper(*args, data_dir, output_dir, warehouse_url, **kwargs):
        try:
            settings = Settings.from_env(data_dir=data_dir, output_dir=output_dir, warehouse_url=warehouse_url)
        except SettingsError as exc:
            raise click.exceptions.Exit(fail(str(exc), EXIT_INPUT))
        return func(*args, settings=settings, **kwargs)

    return wrapper


def fail(message: str, exit_code: int) -> int:
    click.echo(f"error: {message}", err=True)
    return exit_code
