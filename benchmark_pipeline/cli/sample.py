"""`benchmark-pipeline generate-sample`: regenerate the shipped synthetic samples, or write one synthetic
export of any size and seed (for benchmarks).

Registered by `cli/main.py` as `generate_sample`. Exit codes: 0 written; 2 misuse or no mapping for the
year; 3 the environment failed (disk full, permission denied).
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmark_pipeline.ingest.layouts import BY_NAME
from benchmark_pipeline.instrument import InstrumentError
from benchmark_pipeline.sample import DEFAULT_SEED, ENCODINGS, SAMPLE_YEARS, ExportError
from benchmark_pipeline.sample.shipped import generate_export, write_sample_years

SEPARATOR_NAMES = {",": ",", ";": ";", "tab": "\t", "\\t": "\t"}


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


@click.command("generate-sample")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder (instrument, reference, raw/); default: BENCHMARK_DATA_DIR or the repo's data/.")
@click.option("--seed", type=int, default=None, show_default=False,
              help=f"Random seed (default {DEFAULT_SEED} for the shipped samples, 0 for --out exports).")
@click.option("--year", "years", type=int, multiple=True,
              help="Survey year. Without --out: only regenerate these sample years.")
@click.option("--respondents", type=click.IntRange(min=0), default=None,
              help="With --out: number of synthetic respondents.")
@click.option("--layout", type=click.Choice(sorted(BY_NAME)), default=None,
              help="With --out: export layout (default canonical_csv).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write one synthetic export here instead of regenerating the shipped samples.")
@click.option("--encoding", type=click.Choice(ENCODINGS), default="utf-8", show_default=True,
              help="With --out, text layouts: file encoding.")
@click.option("--separator", type=click.Choice(sorted(SEPARATOR_NAMES)), default=",", show_default=True,
              help="With --out, text layouts: field separator.")
def generate_sample(data_dir, seed, years, respondents, layout, out, encoding, separator):
    """Write synthetic survey exports (never real data).

    Without --out: regenerate the shipped sample years into <data-dir>/raw/<year>/.
    With --out: write one export for --year with --respondents rows, e.g.
    `generate-sample --year 2024 --respondents 1000000 --layout canonical_csv --out big.csv`.
    """
    from benchmark_pipeline.settings import Settings

    data_dir = Settings.from_env(data_dir=data_dir).data_dir
    try:
        if out is None:
            if respondents is not None or layout is not None:
                raise click.UsageError("--respondents and --layout need --out")
            unknown = [y for y in years if y not in SAMPLE_YEARS]
            if unknown:
                raise click.UsageError(f"no shipped sample for {unknown}; sample years: {sorted(SAMPLE_YEARS)}")
            written = write_sample_years(data_dir, DEFAULT_SEED if seed is None else seed, tuple(years) or None)
        else:
            if len(years) != 1 or respondents is None:
                raise click.UsageError("--out needs exactly one --year and --respondents")
            written = generate_export(years[0], respondents, out, layout or "canonical_csv",
                                      seed=0 if seed is None else seed, data_dir=data_dir, encoding=encoding,
                                      separator=SEPARATOR_NAMES[separator])
    except (InstrumentError, ExportError) as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from exc
    except OSError as exc:
        click.echo(f"Error: could not write: {exc}", err=True)
        raise SystemExit(3) from exc
    for path in written:
        click.echo(f"wrote {path} ({_size(path)})")
