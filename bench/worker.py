"""One measurement per process: `python -m bench.worker TASK JSON-ARGS`; prints one JSON line (last line).

Tasks run in their own process so that peak RSS (ru_maxrss) belongs to one stage and imports are warm
before the clock starts.
"""

from __future__ import annotations

import gc
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def best_of(n: int, fn) -> tuple[float, list[float]]:
    times = []
    for _ in range(n):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), times


# -- core stage ----------------------------------------------------------------------------------

def _previous_year(data_dir: Path, year: int):
    """The year before `year`, from the shipped sample: the base of growth and the summary change."""
    from benchmark_pipeline.ingest import find_export, read_export, validate_export
    from benchmark_pipeline.instrument import load_year
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.stats import compute_indicators, compute_year_summary

    kommuner = load_kommuner(data_dir)
    instrument = load_year(data_dir, year)
    raw = read_export(find_export(data_dir / "raw" / str(year)), instrument, kommuner)
    result = validate_export(raw, instrument, kommuner)
    tables = compute_indicators(result.valid, instrument, kommuner, min_respondents=5)
    summary = compute_year_summary(year, result.counts, result.valid, None)
    return tables["indicator_values"], summary


def task_core(args: dict) -> dict:
    """ingest + validate + indicators + growth + benchmarks + year summary (disclosure control inside).

    Best of `repeat` runs; with `io_floor`, each run is preceded by one pyarrow read of the same file, so
    the floor is a best of `repeat` in the same process as the figure it anchors, interleaved with it.
    """
    import pyarrow.csv as pacsv

    from benchmark_pipeline.ingest import read_export, validate_export
    from benchmark_pipeline.instrument import load_year
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.settings import Settings
    from benchmark_pipeline.stats import (
        compute_indicators, compute_kommune_benchmarks, compute_year_summary, compute_yoy,
    )

    data_dir = Settings().data_dir
    path = Path(args["path"])
    year = int(args["year"])
    kommuner = load_kommuner(data_dir)
    instrument = load_year(data_dir, year)
    prev_iv, prev_summary = _previous_year(data_dir, year - 1)
    rss_before = peak_rss_mb()

    def core_once() -> dict:
        stages: dict[str, float] = {}
        t0 = time.perf_counter()

        def lap(name: str, start: float) -> float:
            now = time.perf_counter()
            stages[name] = now - start
            return now

        t = t0
        raw = read_export(path, instrument, kommuner)
        t = lap("read_export", t)
        result = validate_export(raw, instrument, kommuner)
        t = lap("validate_export", t)
        tables = compute_indicators(result.valid, instrument, kommuner, min_respondents=5)
        t = lap("compute_indicators", t)
        last_tables.update(tables)
        yoy = compute_yoy(tables["indicator_values"], prev_iv)
        t = lap("compute_yoy", t)
        kb = compute_kommune_benchmarks(tables["indicator_values"], kommuner)
        t = lap("compute_kommune_benchmarks", t)
        summary = compute_year_summary(year, result.counts, result.valid, prev_summary)
        t = lap("compute_year_summary", t)
        return {
            "core_s": t - t0,
            "stages_s": stages,
            "respondents": int(result.counts.get("rows_valid", len(result.valid))),
            "rows": {"indicator_values": len(tables["indicator_values"]), "yoy_changes": len(yoy),
                     "kommune_benchmarks": len(kb), "year_summary": len(summary)},
        }

    floor_times, runs, last_tables = [], [], {}
    for _ in range(args.get("repeat", 3)):
        if args.get("io_floor"):
            gc.collect()
            t = time.perf_counter()
            pacsv.read_csv(path)
            floor_times.append(time.perf_counter() - t)
        gc.collect()
        runs.append(core_once())
    best = min(runs, key=lambda r: r["core_s"])
    out = {**best, "core_times_s": [r["core_s"] for r in runs], "peak_rss_mb": peak_rss_mb(),
           "rss_before_core_mb": rss_before}
    if floor_times:
        out.update(io_floor_s=min(floor_times), io_floor_times_s=floor_times)
    if args.get("exact_audit"):  # the disclosure_control gate's exact audit of these tables
        out.update(_exact_audit(last_tables, kommuner, args.get("repeat", 3)))
    return out


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
    return {"exact_audit_s": seconds, "exact_audit_times_s": times, "exact_audit": holder["r"].metadata()}


# -- Dagster: floor, the yearly job, reports and audit ------------------------------------------

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
    from benchmark_pipeline.defs.build import ALL_CHECKS

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


def _step_seconds(instance) -> dict[str, float]:
    """Seconds per step of the instance's latest run (where the year run's time goes)."""
    run = instance.get_runs(limit=1)[0]
    stats = instance.get_run_step_stats(run.run_id)
    return {s.step_key: round(s.end_time - s.start_time, 3) for s in stats if s.start_time and s.end_time}


def _year_tables(settings, year: int) -> dict:
    """The year's tables computed by the domain functions, without Dagster, and what they came from."""
    from benchmark_pipeline.ingest import find_export, read_export, validate_export
    from benchmark_pipeline.instrument import load_year
    from benchmark_pipeline.candidate import publishable_tables
    from benchmark_pipeline.reference import load_kommuner
    from benchmark_pipeline.stats import (
        compute_indicators, compute_kommune_benchmarks, compute_trends, compute_year_summary, compute_yoy,
    )

    instrument, kommuner = load_year(settings.data_dir, year), load_kommuner(settings.data_dir)
    raw = read_export(find_export(settings.raw_dir(year)), instrument, kommuner)
    validation = validate_export(raw, instrument, kommuner)
    indicators = compute_indicators(validation.valid, instrument, kommuner, min_respondents=settings.min_respondents)
    growth = {"yoy_changes": compute_yoy(indicators["indicator_values"], None),
              "trends": compute_trends(indicators["indicator_values"], None),
              "year_summary": compute_year_summary(year, validation.counts, validation.valid, None)}
    benchmarks = compute_kommune_benchmarks(indicators["indicator_values"], kommuner)
    tables = publishable_tables(year, indicators, growth, benchmarks, validation)
    return {"tables": tables, "instrument": instrument, "kommuner": kommuner, "raw": raw, "validation": validation}


def _staged_year(work: Path, year: int):
    """The year's tables staged as a release (as the pipeline stages it before the privacy audit), without
    Dagster: reports and audit are measured on their own."""
    from benchmark_pipeline.candidate import free_texts
    from benchmark_pipeline.release import ReleaseStore
    from benchmark_pipeline.settings import Settings
    from benchmark_pipeline.versions import CODE_VERSIONS

    settings = Settings(output_dir=Path(tempfile.mkdtemp(prefix="staged-", dir=work)))
    computed = _year_tables(settings, year)
    tables = computed["tables"]
    store = ReleaseStore(settings.output_dir, settings.resolved_warehouse_url)
    staged = store.stage(year, "bench", tables, inputs=list(computed["raw"].files),
                         code_versions=CODE_VERSIONS, settings=settings.result_settings())
    return staged, tables, computed["instrument"], computed["kommuner"], free_texts(computed["validation"].valid)


def task_exact_audit(args: dict) -> dict:
    """The exact disclosure audit of every shipped sample year (seed scale: most kommuner suppressed, the
    integer programs at their largest), and the suppression that makes each year pass it."""
    from benchmark_pipeline.settings import Settings

    settings = Settings()
    out: dict = {"by_year": {}}
    for year in args["years"]:
        gc.collect()
        t = time.perf_counter()
        computed = _year_tables(settings, year)
        tables_s = time.perf_counter() - t
        out["by_year"][str(year)] = {"tables_with_suppression_s": tables_s,
                                     **_exact_audit(computed["tables"], computed["kommuner"], args.get("repeat", 3))}
    return out


def task_dagster(args: dict) -> dict:
    """The Dagster floor and the yearly job (same process), then reports and the privacy audit of one year."""
    from dagster import DagsterInstance

    import benchmark_pipeline.audit.workbook  # noqa: F401  (imported lazily by the audit; warm it)
    from benchmark_pipeline.audit import audit_release
    from benchmark_pipeline.defs.runner import run_year
    from benchmark_pipeline.reports import render_reports
    from benchmark_pipeline.settings import Settings

    year = int(args.get("year", 2023))
    repeat = args.get("repeat", 3)
    work = Path(args["work"])
    out: dict = {}
    floor, floor_times = _trivial_floor(repeat)
    out.update(dagster_floor_s=floor, dagster_floor_times_s=floor_times)
    shape, shape_times = _job_shape_floor(repeat)
    out.update(dagster_job_shape_floor_s=shape, dagster_job_shape_floor_times_s=shape_times)

    runs = []
    for i in range(args.get("year_runs", 2)):
        settings = Settings(output_dir=Path(tempfile.mkdtemp(prefix=f"year{i}-", dir=work)))
        instance = DagsterInstance.ephemeral()
        gc.collect()
        t = time.perf_counter()
        outcome = run_year(settings, year, instance)
        elapsed = time.perf_counter() - t
        if outcome.exit_code != 0:
            out["year_run_error"] = (f"the yearly job failed after {elapsed:.1f} s (exit {outcome.exit_code}): "
                                     + "; ".join(outcome.messages))
            break
        if not runs or elapsed < min(runs):
            out["year_run_steps_s"] = _step_seconds(instance)
        runs.append(elapsed)
    if runs:
        out.update(year_run_s=min(runs), year_run_times_s=runs)

    staged, tables, instrument, kommuner, texts = _staged_year(work, year)
    rdir = work / "reports"

    def render():
        shutil.rmtree(rdir, ignore_errors=True)
        render_reports(rdir, year, tables, {}, instrument, kommuner)

    out["reports_s"], out["reports_times_s"] = best_of(repeat, render)
    render_reports(staged.reports_dir, year, tables, {}, instrument, kommuner)
    holder = {}

    def audit():
        holder["r"] = audit_release(Path(staged.path), forbidden_texts=texts, min_respondents=5)

    out["audit_s"], out["audit_times_s"] = best_of(repeat, audit)
    if not holder["r"].passed:
        raise SystemExit("audit of the benchmark release failed: " + holder["r"].summary())
    out["audit_files"] = len(holder["r"].files_scanned)

    return out


def task_executors(args: dict) -> dict:
    """The yearly job on the same Definitions with the in-process and the multiprocess executor."""
    import os

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


TASKS = {"core": task_core, "dagster": task_dagster, "executors": task_executors, "exact_audit": task_exact_audit}


def main(argv: list[str]) -> int:
    task, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = TASKS[task](args)
    result["worker_peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
