"""A release publisher run in child processes (forkserver) so the fault tests can SIGKILL it anywhere.

It publishes the way the Dagster layer does (fingerprint, reuse check, stage, reports, publish) with the
small hand-built tables of the release tests, so one publish takes a fraction of a second and dozens of
kill points fit in the test budget. The real `benchmark-pipeline run` is killed in test_faults.py too.
"""

from __future__ import annotations

from pathlib import Path

from benchmark_pipeline.release import ReleaseStore, release_fingerprint
from benchmark_pipeline_tests.release.tables import make_tables
from benchmark_pipeline_tests.reliability import faults

CODE = {"stats": "1"}
SETTINGS = {"min_respondents": 5, "max_quarantine_share": 0.2}


def input_file(folder: Path, year: int, variant: int) -> Path:
    path = folder / "inputs" / f"{year}-{variant}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(f"respondent_id,kommune\nr{variant},101\n", encoding="utf-8")
    return path


def publish(output_dir: str, warehouse_url: str, year: int, variant: int, fault: str | None = None) -> str:
    """Publish `variant` of the year (each variant is a distinct input, so a distinct fingerprint)."""
    if fault:
        faults.install(fault)  # a forkserver child: the patch dies with it
    out = Path(output_dir)
    source = input_file(out.parent, year, variant)
    fingerprint = release_fingerprint(year, [source], "m" * 64, "r" * 64, CODE, SETTINGS, [])
    with ReleaseStore(out, warehouse_url, lock_timeout=60) as store:
        reused = store.reusable(year, fingerprint)
        if reused is not None:
            return reused.release_id
        staged = store.stage(year, fingerprint, make_tables(year, variant / 1000), [source], CODE, SETTINGS)
        (staged.reports_dir / "national.html").write_text(
            f"<!doctype html><html lang=da><h1>Rapport {year}</h1><p>{staged.release_id}</p></html>", encoding="utf-8"
        )
        return store.publish(staged).release_id
