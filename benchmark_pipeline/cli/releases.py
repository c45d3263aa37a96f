"""`releases`, `export` and `withdraw`: the hand-run commands around published releases.

Exit codes: 0 ok; 2 misuse, unknown release or table; 3 environment failure (warehouse unreachable,
permission denied, disk full). Expected failures print one plain sentence, never a traceback.
"""

from __future__ import annotations

import errno
import functools
import json
from pathlib import Path

import click

from benchmark_pipeline.release import schema
from benchmark_pipeline.release.errors import ReleaseError
from benchmark_pipeline.release.files import atomic_write, write_csv, write_parquet
from benchmark_pipeline.release.store import ReleaseStore
from benchmark_pipeline.settings import Settings, SettingsError

FORMATS = ("csv", "parquet", "xlsx")
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO}


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


def _store_options(command):
    """--output-dir and --warehouse-url, defaulting through Settings.from_env (the environment)."""

    @click.option(
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Output folder holding releases/ (default: BENCHMARK_OUTPUT_DIR or ./output).",
    )
    @click.option(
        "--warehouse-url",
        default=None,
        help="SQLAlchemy URL of the warehouse (default: BENCHMARK_WAREHOUSE_URL or SQLite in the output folder).",
    )
    @functools.wraps(command)
    def wrapper(output_dir, warehouse_url, **kwargs):
        try:
            settings = Settings.from_env(output_dir=output_dir, warehouse_url=warehouse_url)
        except SettingsError as error:
            _fail(str(error), 2)
        store = None
        try:
            store = ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)
            return command(store, **kwargs)
        except ReleaseError as error:
            _fail(str(error), error.exit_code)
        except OSError as error:
            code = 3 if error.errno in _ENVIRONMENT_ERRNOS else 2
            _fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), code)
        finally:
            if store is not None:
                store.close()

    return wrapper


@click.command("releases")
@click.option("--year", type=int, default=None, help="Only this survey year.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_store_options
def releases(store: ReleaseStore, year: int | None, as_json: bool) -> None:
    """List published releases (withdrawn ones included) and which one is latest per year."""
    found = store.releases(year)
    latest: dict[int, str] = {}
    for r in found:  # ordered by revision: the last live one per year is latest
        if not r.withdrawn:
            latest[r.survey_year] = r.release_id
    rows = []
    for r in found:
        status = "withdrawn" if r.withdrawn else ("latest" if latest.get(r.survey_year) == r.release_id else "superseded")
        rows.append({**r.as_dict(), "status": status})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No published releases" + (f" for {year}." if year else "."))
        return
    click.echo(f"{'release':<24} {'year':>4} {'rev':>3}  {'created (UTC)':<20}  status")
    for row in rows:
        line = f"{row['release_id']:<24} {row['survey_year']:>4} {row['revision']:>3}  {row['created_at']:<20}  {row['status']}"
        if row["withdrawn"]:
            line += f": {row['withdrawn_reason']}"
        click.echo(line)


@click.command("export")
@click.option("--year", type=int, required=True, help="Survey year.")
@click.option("--table", "table", required=True, help=f"One of: {', '.join(schema.TABLE_NAMES)}.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="File format.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="File to write (or an existing folder).")
@click.option("--release", "release_id", default=None, help="A release id (default: the year's latest release).")
@_store_options
def export(store: ReleaseStore, year: int, table: str, fmt: str, out: Path, release_id: str | None) -> None:
    """Export one published table of one year as CSV (UTF-8 with BOM), Parquet or Excel."""
    schema.spec(table)
    if release_id is None:
        release = store.latest(year)
        if release is None:
            _fail(f"no published release for {year}", 2)
    else:
        release = store.get(release_id)
        if release.survey_year != year:
            _fail(f"release {release.release_id} is of {release.survey_year}, not {year}", 2)
    frame = store.read_table(table, year=year, release=release)
    if out.is_dir():
        out = out / f"{table}_{release.release_id}.{fmt}"
    _write_atomically(frame, table, fmt, out)
    withdrawn = " (WITHDRAWN)" if release.withdrawn else ""
    click.echo(f"Wrote {len(frame)} rows of {table} from {release.release_id}{withdrawn} to {out}")


def _write_atomically(frame, table: str, fmt: str, out: Path) -> None:
    def write(tmp: Path) -> None:
        if fmt == "csv":
            write_csv(frame, tmp)
        elif fmt == "parquet":
            write_parquet(table, frame, tmp)
        else:
            frame.to_excel(tmp, sheet_name=table[:31], index=False, engine="openpyxl")

    atomic_write(out, write)


@click.command("withdraw")
@click.argument("release_id", metavar="RELEASE")
@click.option("--reason", required=True, help="Why the release is withdrawn (kept with the release).")
@_store_options
def withdraw(store: ReleaseStore, release_id: str, reason: str) -> None:
    """Withdraw a release: it stays on disk, marked withdrawn; latest_* falls back to the previous one."""
    release = store.withdraw(release_id, reason)
    latest = store.latest(release.survey_year)
    fallback = latest.release_id if latest else "none (no other release of that year)"
    click.echo(f"Withdrew {release.release_id}. Latest release of {release.survey_year} is now {fallback}.")

