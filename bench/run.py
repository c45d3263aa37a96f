"""Orchestrates `make bench`: data, worker processes, ratios against targets, results.json and a table."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results.json"
YEAR = 2024  # the CSV exports are of this year, run as the first survey year of their own data folder
SEED = 8
SIZES = (100_000, 1_000_000)
MID, BIG = 100_000, 1_000_000
SAMPLE_YEARS = (2023, 2024, 2025)
BUDGET_S = 600
XLSX_CHECK_BUDGET_S = 60  # a check slower than this is not repeated (the bench stays under BUDGET_S)

TARGETS = {  # figure: (limit, description); issue 16's table
    "ratio_year_run_1m_vs_core": (2.0, "the whole yearly job at 1M respondents vs the core stage on the same file"),
    "reports_all_published_s": (3.0, "rendering every report of a year with all 98 kommuner published (s)"),
    "audit_all_published_s": (2.0, "the privacy audit of that year's staged release (s)"),
    "year_run_1m_peak_rss_mb": (1000.0, "peak RSS of the process of the 1M year run (MB)"),
    "ratio_xlsx_check_vs_calamine_floor": (2.0, "check of a 100k Forms / SurveyXact workbook vs python-calamine"),
    "ratio_year_run_vs_job_shape_floor": (6.0, "yearly job of the 2023 sample vs Dagster's cost for its shape"),
    "ratio_core_vs_io_floor": (3.0, "core stage at 1M respondents vs reading the export with pyarrow"),
    "year_run_scaling_exponent": (1.0, "slope of log(year run time) over log(respondents), 100k to 1M"),
}
EARLIER_TARGETS = {  # kept from earlier issues so they cannot regress unseen
    "exact_audit_seed_max_s": (5.0, "exact disclosure audit, slowest shipped sample year (seconds)"),
    "exact_audit_1m_s": (5.0, "exact disclosure audit of the 1M-respondent year (seconds)"),
}
XLSX = {"forms": (2025, "msforms_xlsx"), "surveyxact": (2023, "surveyxact_xlsx")}  # mapping year, layout
XLSX_RESPONDENTS = 100_000


def _python() -> str:
    return sys.executable


def _export_path(n: int, year: int = YEAR, layout: str = "canonical_csv") -> Path:
    suffix = ".xlsx" if layout.endswith("_xlsx") else ".csv"
    tail = "" if layout == "canonical_csv" else f"_{layout}"
    return WORK / "data" / f"export_{year}_{n}_seed{SEED}{tail}{suffix}"


def generate(n: int, year: int = YEAR, layout: str = "canonical_csv") -> tuple[Path, float | None]:
    """The seeded export of n respondents, generated in its own process (reused when already there)."""
    path = _export_path(n, year, layout)
    stamp = path.with_suffix(".done")
    if path.exists() and stamp.exists():
        return path, None
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    subprocess.run([str(Path(_python()).parent / "benchmark-pipeline"), "generate-sample", "--year", str(year),
                    "--respondents", str(n), "--layout", layout, "--seed", str(SEED), "--out", str(path)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    stamp.write_text(json.dumps({"year": year, "respondents": n, "seed": SEED, "layout": layout}))
    return path, time.perf_counter() - t


def worker(task: str, **args) -> dict:
    """Run one measurement in a fresh process; a failure is recorded (figures n/a), not fatal."""
    env = dict(os.environ)
    env.pop("BENCHMARK_OUTPUT_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    t = time.perf_counter()
    proc = subprocess.run([_python(), "-m", "bench.worker", task, json.dumps(args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout[-2000:] + proc.stderr[-4000:]).strip()
        last = tail.splitlines()[-1] if tail else ""
        print(f"  bench worker {task} FAILED (exit {proc.returncode}): {last}", flush=True)
        return {"error": f"exit {proc.returncode}: {last}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["worker_wall_s"] = time.perf_counter() - t
    if "error" in out:
        print(f"  {task}: {out['error']}", flush=True)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def _steps(steps: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1]) if v >= 0.05)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    runs = WORK / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()

    print(f"make bench: seeded exports ({', '.join(f'{n:,}' for n in SIZES)} respondents, canonical CSV; "
          f"{XLSX_RESPONDENTS:,}-respondent Forms and SurveyXact workbooks) ...", flush=True)
    paths, generated = {}, {}
    for n in SIZES:
        paths[n], generated[str(n)] = generate(n)
    for name, (year, layout) in XLSX.items():
        paths[name], generated[name] = generate(XLSX_RESPONDENTS, year, layout)

    print("the yearly job at 1M respondents, with the core stage and the pyarrow read (best of 3) ...", flush=True)
    big = worker("year", work=str(runs), path=str(paths[BIG]), year=YEAR, repeat=3, core=True)
    print("the yearly job at 100k respondents (best of 3) ...", flush=True)
    mid = worker("year", work=str(runs), path=str(paths[MID]), year=YEAR, repeat=3, core=False)
    print("reports and privacy audit of the all-published 1M year (best of 3) ...", flush=True)
    ra = worker("reports_audit", work=str(runs), path=str(paths[BIG]), year=YEAR, repeat=3)
    xlsx = {}
    for name, (year, _layout) in XLSX.items():
        print(f"check of the {XLSX_RESPONDENTS:,}-respondent {name} workbook vs python-calamine ...", flush=True)
        xlsx[name] = worker("xlsx", path=str(paths[name]), year=year, repeat=3, budget_s=XLSX_CHECK_BUDGET_S)
    print("Dagster floors and the 2023 sample's yearly job (best of 3) ...", flush=True)
    dag = worker("dagster", work=str(runs), year=2023, repeat=3)
    print("the exact disclosure audit of each sample year ...", flush=True)
    exact = worker("exact_audit", years=list(SAMPLE_YEARS), repeat=3)
    exact_by_year = exact.get("by_year", {})
    execs = {}
    if "--executors" in argv:
        print("the 2023 yearly job with each executor ...", flush=True)
        execs = worker("executors", work=str(runs), year=2023)

    xlsx_ratios = [x.get("ratio") for x in xlsx.values()]
    figures = {
        "year_run_1m_s": big.get("year_run_s"),
        "core_1m_s": big.get("core_s"),
        "ratio_year_run_1m_vs_core": _ratio(big.get("year_run_s"), big.get("core_s")),
        "reports_all_published_s": ra.get("reports_s"),
        "audit_all_published_s": ra.get("audit_s"),
        "year_run_1m_peak_rss_mb": big.get("peak_rss_mb_after_first_run"),
        "year_run_1m_private_mb": big.get("private_mb"),
        "xlsx_check_forms_s": xlsx["forms"].get("check_s"),
        "xlsx_check_surveyxact_s": xlsx["surveyxact"].get("check_s"),
        "ratio_xlsx_check_vs_calamine_floor": max(xlsx_ratios) if None not in xlsx_ratios else None,
        "year_run_seed_s": dag.get("year_run_s"),
        "dagster_job_shape_floor_s": dag.get("dagster_job_shape_floor_s"),
        "ratio_year_run_vs_job_shape_floor": _ratio(dag.get("year_run_s"), dag.get("dagster_job_shape_floor_s")),
        "dagster_floor_s": dag.get("dagster_floor_s"),
        "io_floor_1m_s": big.get("io_floor_s"),
        "ratio_core_vs_io_floor": _ratio(big.get("core_s"), big.get("io_floor_s")),
        "year_run_100k_s": mid.get("year_run_s"),
        "year_run_scaling_exponent": (math.log(big["year_run_s"] / mid["year_run_s"]) / math.log(BIG / MID)
                                      if big.get("year_run_s") and mid.get("year_run_s") else None),
        "exact_audit_seed_max_s": (max(y["exact_audit_s"] for y in exact_by_year.values())
                                   if len(exact_by_year) == len(SAMPLE_YEARS) else None),
        "exact_audit_1m_s": ra.get("exact_audit_s"),
        "year_run_in_process_executor_s": execs.get("year_run_in_process_s"),
        "year_run_multiprocess_executor_s": execs.get("year_run_multiprocess_s"),
    }
    if not execs:
        del figures["year_run_in_process_executor_s"], figures["year_run_multiprocess_executor_s"]

    def verdicts(targets: dict) -> dict:
        return {name: {"value": figures[name], "target": f"<= {limit:g}",
                       "passed": figures[name] is not None and figures[name] <= limit, "what": what}
                for name, (limit, what) in targets.items()}

    checks, earlier = verdicts(TARGETS), verdicts(EARLIER_TARGETS)
    total = time.perf_counter() - started
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    within = total < BUDGET_S
    results = {
        "command": "make bench",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": load},
        "figures": figures,
        "targets": checks,
        "earlier_targets": earlier,
        "all_targets_passed": all(c["passed"] for c in (*checks.values(), *earlier.values())) and within,
        "year_run_1m": big,
        "year_run_100k": mid,
        "reports_audit_1m": ra,
        "xlsx": xlsx,
        "dagster_seed": dag,
        "exact_audit_by_year": exact,
        "executors": execs,
        "generated_s": generated,
        "bench_wall_s": total,
        "bench_budget_s": BUDGET_S,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    width = 38
    print()
    print(f"{'figure':<{width}} {'value':>12}  target      result")
    print("-" * (width + 36))
    for name, value in figures.items():
        check = checks.get(name) or earlier.get(name)
        target = check["target"] if check else ""
        verdict = ("PASS" if check["passed"] else "FAIL") if check else ""
        print(f"{name:<{width}} {_fmt(value):>12}  {target:<10}  {verdict}")
    print(f"{'bench wall time (s)':<{width}} {total:>12.1f}  <= {BUDGET_S:<7}  {'PASS' if within else 'FAIL'}")
    print("-" * (width + 36))
    print(f"{'core stage at 1M (s)':<{width}} " + ", ".join(
        f"{k} {v:.2f}" for k, v in big.get("core_stages_s", {}).items()))
    for label, part in (("year run 1M by step (s)", big), ("year run 100k by step (s)", mid),
                        ("year run 2023 by step (s)", dag)):
        if part.get("year_run_steps_s"):
            print(f"{label:<{width}} {_steps(part['year_run_steps_s'])}")
    if ra.get("audit_passed") is False:
        print(f"{'privacy audit of the 1M year FAILED':<{width}} " + "; ".join(ra.get("audit_findings", [])))
    if exact_by_year:
        print(f"{'exact audit by sample year (s)':<{width}} " + ", ".join(
            f"{y} {v['exact_audit_s']:.2f}" for y, v in exact_by_year.items()))
    for name, part in (("year 1M", big), ("year 100k", mid), ("reports_audit", ra), ("dagster", dag),
                       ("exact_audit", exact), *((f"xlsx {k}", v) for k, v in xlsx.items())):
        if "error" in part or "year_run_error" in part:
            print(f"{'worker ' + name + ' failed':<{width}} {part.get('error') or part.get('year_run_error')}")
    if load:
        print(f"{'load average (1/5/15 min) at end':<{width}} {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on "
              f"{os.cpu_count()} CPUs")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    print("all targets passed" if results["all_targets_passed"] else "some targets FAILED")
    return 0
