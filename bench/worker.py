"""One measurement per process: `python -m bench.worker TASK JSON-ARGS`; prints one JSON line (last line).

Tasks run in their own process so that peak RSS (ru_maxrss) belongs to one measurement and imports are
warm before the clock starts. Each floor is taken in the same process as the figure it anchors, interleaved
with it (floor, figure, floor, figure, ...), best of `repeat` each.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def timed(fn) -> float:
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def best_of(n: int, fn) -> tuple[float, list[float]]:
    times = [timed(fn) for _ in range(n)]
    return min(times), times


def year_data_dir(work: Path, export: Path, year: int) -> Path:
    """A data folder whose only export is `export` (as survey year `year`, so the year has no earlier year to
    compare with), sharing the repo's instrument and reference folders."""
    from benchmark_pipeline.settings import DEFAULT_DATA_DIR

    data = Path(tempfile.mkdtemp(prefix="data-", dir=work))
    (data / "raw" / str(year)).mkdir(parents=True)
    for name in ("instrument", "reference"):
        (data / name).symlink_to(DEFAULT_DATA_DIR / name)
    (data / "raw" / str(year) / f"export{export.suffix}").symlink_to(export.resolve())
    return data


# -- the core stage (domain functions only) ------------------------------------------------------

def core_stage(path: Path, year: int, data_dir: Path, tables_out: dict | None = None) -> dict:
    """read + validate (pandera schema included) + indicators (disclosure control inside) + changes, trends
    and the year summary (no earlier year) + kommune benchmarks, timed stage by stage."""
    from benchmark_pipeline.ingest import read_export, validate_export
    from benchmark_pipeline.instrument import load_year
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.stats import (
        compute_indicators, compute_kommune_benchmarks, compute_trends, compute_year_summary, compute_yoy,
    )

    kommuner, instrument = load_kommuner(data_dir), load_year(data_dir, year)
    stages: dict[str, float] = {}
    t0 = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[name] = now - t
        t = now

    raw = read_export(path, instrument, kommuner)
    lap("read_export")
    result = validate_export(raw, instrument, kommuner)
    lap("validate_export")
    tables = compute_indicators(result.valid, instrument, kommuner, min_respondents=5)
    lap("compute_indicators")
    growth = {"yoy_changes": compute_yoy(tables["indicator_values"], None),
              "trends": compute_trends(tables["indicator_values"], None),
              "year_summary": compute_year_summary(year, result.counts, result.valid, None)}
    lap("compute_yoy_trends_summary")
    benchmarks = compute_kommune_benchmarks(tables["indicator_values"], kommuner)
    lap("compute_kommune_benchmarks")
    if tables_out is not None:
        tables_out.update(indicators=tables, growth=growth, benchmarks=benchmarks, validation=result, raw=raw,
                          instrument=instrument, kommuner=kommuner)
    return {"core_s": t - t0, "stages_s": stages, "respondents": int(result.counts["rows_valid"])}


# -- the whole yearly job at scale ---------------------------------------------------------------

def _step_seconds(instance) -> dict[str, float]:
    """Seconds per step of the instance's latest run, from its Dagster events."""
    run = instance.get_runs(limit=1)[0]
    stats = instance.get_run_step_stats(run.run_id)
    return {s.step_key: round(s.end_time - s.start_time, 3) for s in stats if s.start_time and s.end_time}


def _year_run(work: Path, data_dir: Path, year: int, label: str) -> tuple[float, dict]:
    """`run_year` (the CLI's path: every asset and check, the configured executor) on a fresh output folder."""
    from dagster import DagsterInstance

    from benchmark_pipeline.defs.runner import run_year
    from benchmark_pipeline.settings import Settings

    settings = Settings(data_dir=data_dir, output_dir=Path(tempfile.mkdtemp(prefix=f"out-{label}-", dir=work)))
    instance = DagsterInstance.ephemeral()
    gc.collect()
    t = time.perf_counter()
    outcome = run_year(settings, year, instance)
    elapsed = time.perf_counter() - t
    info = {"steps_s": _step_seconds(instance), "release_id": outcome.release_id,
            "private_mb": _folder_mb(settings.private_dir)}
    if outcome.exit_code != 0:
        info["error"] = f"the yearly job failed after {elapsed:.1f} s (exit {outcome.exit_code}): " + "; ".join(
            outcome.messages)
    shutil.rmtree(settings.output_dir, ignore_errors=True)
    return elapsed, info


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6 if Path(path).exists() else 0.0


def task_year(args: dict) -> dict:
    """The yearly job on one export, best of `repeat`; with `core`, the core stage and the pyarrow read of the
    same file are interleaved with it (year run, floor, core, ...) in this process.

    The process's peak RSS is taken right after its first year run: imports and one whole run."""
    import pyarrow.csv as pacsv

    import benchmark_pipeline.defs.build  # noqa: F401  (imports before the clock)

    work, path, year = Path(args["work"]), Path(args["path"]), int(args["year"])
    data_dir = year_data_dir(work, path, year)
    out: dict = {"year_run_times_s": [], "core_times_s": [], "io_floor_times_s": []}
    best_steps, cores = None, []
    for i in range(args.get("repeat", 3)):
        if "error" not in out:  # a failed year run is not repeated; the core stage still is
            elapsed, info = _year_run(work, data_dir, year, str(i))
            if "error" in info:
                out["error"] = info["error"]
            else:
                if i == 0:
                    out["peak_rss_mb_after_first_run"] = peak_rss_mb()
                    out["private_mb"] = info["private_mb"]
                out["release_ids"] = sorted({*out.get("release_ids", []), info["release_id"]})
                if not out["year_run_times_s"] or elapsed < min(out["year_run_times_s"]):
                    best_steps = info["steps_s"]
                out["year_run_times_s"].append(elapsed)
        if args.get("core"):
            out["io_floor_times_s"].append(timed(lambda: pacsv.read_csv(path)))
            gc.collect()
            cores.append(core_stage(path, year, data_dir))
            out["core_times_s"].append(cores[-1]["core_s"])
    if out["year_run_times_s"]:
        out["year_run_s"] = min(out["year_run_times_s"])
        out["year_run_steps_s"] = dict(sorted(best_steps.items(), key=lambda kv: -kv[1]))
    if cores:
        best = min(cores, key=lambda r: r["core_s"])
        out.update(core_s=best["core_s"], core_stages_s=best["stages_s"], respondents=best["respondents"],
                   io_floor_s=min(out["io_floor_times_s"]))
    return out


# -- reports and the privacy audit of an all-published year --------------------------------------

def task_reports_audit(args: dict) -> dict:
    """Render every report of the year computed from `path` (all 98 kommuner published at 1M respondents),
    then audit its staged release (tables and reports), each best of `repeat`."""
    import benchmark_pipeline.audit.workbook  # noqa: F401  (imported lazily by the audit; warm it)
    from benchmark_pipeline.audit import audit_release
    from benchmark_pipeline.candidate import free_texts, publishable_tables
    from benchmark_pipeline.release import ReleaseStore
    from benchmark_pipeline.reports import render_reports
    from benchmark_pipeline.settings import Settings
    from benchmark_pipeline.versions import CODE_VERSIONS

    work, path, year, repeat = Path(args["work"]), Path(args["path"]), int(args["year"]), args.get("repeat", 3)
    data_dir = year_data_dir(work, path, year)
    computed: dict = {}
    core_stage(path, year, data_dir, computed)
    tables = publishable_tables(year, computed["indicators"], computed["growth"], computed["benchmarks"],
                                computed["validation"])
    texts = free_texts(computed["validation"].valid)
    instrument, kommuner = computed["instrument"], computed["kommuner"]
    published = tables["indicator_values"]
    published = published[published["geography_level"].eq("kommune") & ~published["suppressed"].astype(bool)]
    out: dict = {"kommuner_published": int(published["geography_code"].nunique()), "free_texts": len(texts)}
    out.update(_exact_audit(computed["indicators"], kommuner, repeat))
    del computed

    settings = Settings(data_dir=data_dir, output_dir=Path(tempfile.mkdtemp(prefix="staged-", dir=work)))
    store = ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)
    staged = store.stage(year, "bench", tables, inputs=[path], code_versions=CODE_VERSIONS,
                         settings=settings.result_settings())
    rdir = work / "reports"
    # the staged release's id in its reports, where the renderer takes one (not at older commits)
    stamp = ({"release_id": staged.release_id}
             if "release_id" in inspect.signature(render_reports).parameters else {})

    def render():
        shutil.rmtree(rdir, ignore_errors=True)
        render_reports(rdir, year, tables, {}, instrument, kommuner, **stamp)

    out["reports_s"], out["reports_times_s"] = best_of(repeat, render)
    shutil.copytree(rdir, staged.reports_dir, dirs_exist_ok=True)
    holder = {}

    def audit():
        holder["r"] = audit_release(Path(staged.path), forbidden_texts=texts, min_respondents=5)

    out["audit_s"], out["audit_times_s"] = best_of(repeat, audit)
    report = holder["r"]
    out["audit_files"] = report.files_scanned if isinstance(report.files_scanned, int) else len(report.files_scanned)
    out["audit_passed"] = bool(report.passed)
    out["audit_findings"] = [f"{f.file}: {f.location}: {f.kind}" for f in report.findings[:5]]
    return out


# -- Excel: `benchmark-pipeline check` against python-calamine -----------------------------------

def task_xlsx(args: dict) -> dict:
    """`benchmark-pipeline check PATH --year YEAR` in this process (the CLI command, output discarded)
    interleaved with reading every sheet of the same workbook with python-calamine (the floor).

    Best of `repeat`, but a check slower than `budget_s` is not repeated (bench wall time)."""
    import python_calamine

    from benchmark_pipeline.cli.check import check

    path, year = Path(args["path"]), int(args["year"])

    def floor():
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            workbook.get_sheet_by_name(name).to_python()

    def run_check():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            check.main([str(path), "--year", str(year)], standalone_mode=False)

    floors, checks = [], []
    for _ in range(args.get("repeat", 3)):
        floors.append(timed(floor))
        checks.append(timed(run_check))
        if checks[-1] > args.get("budget_s", 60):
            break
    return {"check_s": min(checks), "check_times_s": checks, "calamine_floor_s": min(floors),
            "calamine_floor_times_s": floors, "ratio": min(checks) / min(floors), "mb": path.stat().st_size / 1e6}


# -- seed scale: the yearly job against Dagster's own cost for its shape -------------------------

def _trivial_floor(repeat: int) -> tuple[float, list[float]]:
    from dagster import DagsterInstance, asset, materialize

    @asset
    def trivial() -> int:
        return 1

    def once():
        result = materialize([trivial], instance=DagsterInstance.ephemeral())
        assert result.success

    once()  # warm: first call pays lazy imports inside dagster
    return best_of(repeat, once)


def _job_shape_floor(repeat: int) -> tuple[float, list[float]]:
    """The yearly job's shape (the same asset keys, dependencies and checks) with trivial bodies, materialized
    like the floor: Dagster's own cost for a job of this shape, so the year run's own work can be told apart."""
    from dagster import AssetCheckResult, DagsterInstance, asset, asset_check, materialize

    from benchmark_pipeline.defs.assets import ALL_ASSETS
    from benchmark_pipeline.defs.checks import ALL_CHECKS

    def trivial_asset(key, deps):
        @asset(key=key, deps=deps)
        def body():  # no annotations: this module's `from __future__ import annotations` makes them strings
            return 1

        return body

    def trivial_check(spec):
        @asset_check(asset=spec.asset_key, name=spec.name, blocking=spec.blocking)
        def body():
            return AssetCheckResult(passed=True)

        return body

    shape = [trivial_asset(key, sorted(a.asset_deps[key])) for a in ALL_ASSETS for key in a.keys]
    shape += [trivial_check(spec) for c in ALL_CHECKS for spec in c.check_specs]

    def once():
        result = materialize(shape, instance=DagsterInstance.ephemeral())
        assert result.success

    once()
    return best_of(repeat, once)


def task_dagster(args: dict) -> dict:
    """The Dagster floors, then the yearly job of a shipped sample year (same process), best of `repeat`,
    the job-shape floor interleaved with the year runs."""
    from benchmark_pipeline.settings import DEFAULT_DATA_DIR

    year, repeat, work = int(args.get("year", 2023)), args.get("repeat", 3), Path(args["work"])
    out: dict = {}
    out["dagster_floor_s"], out["dagster_floor_times_s"] = _trivial_floor(repeat)
    shapes, runs, best_steps = [], [], None
    for i in range(repeat):
        shapes.append(_job_shape_floor(1)[0])
        elapsed, info = _year_run(work, DEFAULT_DATA_DIR, year, f"seed{i}")
        if "error" in info:
            out["year_run_error"] = info["error"]
            break
        if not runs or elapsed < min(runs):
            best_steps = info["steps_s"]
        runs.append(elapsed)
    out.update(dagster_job_shape_floor_s=min(shapes), dagster_job_shape_floor_times_s=shapes)
    if runs:
        out.update(year_run_s=min(runs), year_run_times_s=runs,
                   year_run_steps_s=dict(sorted(best_steps.items(), key=lambda kv: -kv[1])))
    return out


# -- earlier targets: the exact disclosure audit --------------------------------------------------

def _exact_audit(tables: dict, kommuner, repeat: int) -> dict:
    """Best-of-`repeat` seconds of the exact disclosure audit of one year's tables, and its figures."""
    from benchmark_pipeline.stats.attack import audit_tables
    from benchmark_pipeline.stats.geography import Geography

    geo = Geography.from_kommuner(kommuner)
    holder = {}

    def once():
        holder["r"] = audit_tables(tables, geo, 5)

    seconds, times = best_of(repeat, once)
    if not holder["r"].passed:
        raise SystemExit(f"the exact disclosure audit finds leaks in the benchmark tables: {holder['r'].leaks[0]}")
    return {"exact_audit_s": seconds, "exact_audit_times_s": times}


def task_exact_audit(args: dict) -> dict:
    """The exact disclosure audit of every shipped sample year (seed scale: most kommuner suppressed, the
    integer programs at their largest)."""
    from benchmark_pipeline.ingest import find_export, read_export, validate_export
    from benchmark_pipeline.instrument import load_year
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.settings import Settings
    from benchmark_pipeline.stats import compute_indicators

    settings = Settings()
    kommuner = load_kommuner(settings.data_dir)
    out: dict = {"by_year": {}}
    for year in args["years"]:
        instrument = load_year(settings.data_dir, year)
        t = time.perf_counter()
        raw = read_export(find_export(settings.raw_dir(year)), instrument, kommuner)
        valid = validate_export(raw, instrument, kommuner).valid
        tables = compute_indicators(valid, instrument, kommuner, min_respondents=settings.min_respondents)
        tables_s = time.perf_counter() - t
        out["by_year"][str(year)] = {"tables_with_suppression_s": tables_s,
                                     **_exact_audit(tables, kommuner, args.get("repeat", 3))}
    return out


def task_executors(args: dict) -> dict:
    """The yearly job on the same Definitions with the in-process and the multiprocess executor."""
    from dagster import DagsterInstance, execute_job, reconstructable

    from bench import executors

    out = {}
    work = Path(args["work"])
    for name, factory in (("in_process", executors.in_process_job), ("multiprocess", executors.multiprocess_job)):
        out_dir = Path(tempfile.mkdtemp(prefix=f"exec-{name}-", dir=work))
        os.environ["BENCHMARK_OUTPUT_DIR"] = str(out_dir)
        home = Path(tempfile.mkdtemp(prefix="dagster-home-", dir=work))
        with DagsterInstance.local_temp(str(home)) as instance:
            t = time.perf_counter()
            with execute_job(reconstructable(factory), instance=instance, raise_on_error=False,
                             tags={"dagster/partition": str(args.get("year", 2023))},
                             run_config=executors.QUIET) as result:
                elapsed = time.perf_counter() - t
                ok = result.success
        out[f"year_run_{name}_s"] = elapsed
        out[f"year_run_{name}_ok"] = ok
    return out


TASKS = {"year": task_year, "reports_audit": task_reports_audit, "xlsx": task_xlsx, "dagster": task_dagster,
         "exact_audit": task_exact_audit, "executors": task_executors}


def main(argv: list[str]) -> int:
    task, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = TASKS[task](args)
    result["worker_peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
