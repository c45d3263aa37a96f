"""`benchmark-pipeline`: one command group assembled from one module per command family."""

from __future__ import annotations

import importlib

import click

from benchmark_pipeline import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
