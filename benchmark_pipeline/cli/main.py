"""`benchmark-pipeline`: one command group assembled from one module per command family."""

from __future__ import annotations

import importlib

import click

from benchmark_pipeline import __version__
from benchmark_pipeline.errors import exit_code_of, is_expected


class BenchmarkGroup(click.Group):
    """Every command's expected failures (the domain errors, which carry an exit code) end as one plain
    line and that code, wherever in the command they are raised; anything else is a bug and shows it."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click's own: already worded, with their exit codes
        except Exception as exc:
            if not is_expected(exc):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exit_code_of(exc))


@click.group(cls=BenchmarkGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="benchmark-pipeline")
def cli() -> None:
    """Yearly benchmark of Danish kommuner's use of citizen-related data."""


# Each module owns one command family; its click commands are registered here by name.
COMMANDS = {
    "benchmark_pipeline.cli.run": ["run"],
    "benchmark_pipeline.cli.check": ["check"],
    "benchmark_pipeline.cli.sample": ["generate_sample"],
    "benchmark_pipeline.cli.releases": ["releases", "export", "withdraw"],
    "benchmark_pipeline.cli.audit": ["audit"],
}


def _register() -> None:
    for module_name, names in COMMANDS.items():
        module = importlib.import_module(module_name)
        for name in names:
            cli.add_command(getattr(module, name))


_register()


def main() -> None:
    cli(prog_name="benchmark-pipeline")
