"""Scaling out (`make bench-scale`): synthetic survey years of 100,000 respondents, backfilled in process one
year after another, and on the Celery profile with two workers (every year launched at once).

Both sides use the same PostgreSQL Dagster instance configuration (docs/dagster-postgres.yaml) and a
PostgreSQL warehouse, each in a database of its own made here and dropped afterwards, so what differs is
the executor and the launching:
- in process: `benchmark-pipeline run --all` (the years one after another, each run in the CLI process);
- Celery: two `dagster-celery worker start` processes (concurrency 3 each, as `make workers`), the daemon
  (`dagster-daemon run`: run queue, backfills) and `dagster job backfill` of every year, as the ops team
  would launch it; the runs are launched by the instance's run launcher and their steps run on the workers.
The wall times, their ratio and where the time went (from the runs' event logs) are printed and written
to bench/work/scale/results.json. Synthetic exports are generated beforehand in separate processes and
reused. Needs RabbitMQ, Redis and PostgreSQL on this machine (docs/operations.md).

Years: as many as asked (--years, default 10), starting with the first survey year; both sides run with
`BENCHMARK_LAST_SURVEY_YEAR` set to the last of them, so the yearly partitions reach it (they otherwise end
with the current year).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "scale"
BIN = Path(sys.executable).parent
RESPONDENTS = 100_000
SEED = 15
PG_ADMIN_URL = os.environ.get("BENCHMARK_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def synthetic_years(wanted: int) -> list[int]:
    from benchmark_pipeline.settings import FIRST_SURVEY_YEAR

    return list(range(FIRST_SURVEY_YEAR, FIRST_SURVEY_YEAR + wanted))


def prepare_data(years: list[int], respondents: int) -> Path:
    """A data folder with the shipped reference and mappings, a mapping for each later synthetic year (the
    2025 one, renamed), and one seeded canonical CSV export per year, generated in its own process."""
    data = WORK / "data"
    for folder in ("reference", "instrument"):
        if not (data / folder).exists():
            shutil.copytree(ROOT / "data" / folder, data / folder)
    newest = max(int(p.stem) for p in (ROOT / "data" / "instrument").glob("[0-9]*.yaml"))
    template = (ROOT / "data" / "instrument" / f"{newest}.yaml").read_text()
    for year in years:
        mapping = data / "instrument" / f"{year}.yaml"
        if not mapping.exists():
            mapping.write_text(
                f"# Synthetic benchmark year: the {newest} mapping under another year (bench/scale.py).\n"
                + template.replace(f"survey_year: {newest}", f"survey_year: {year}")
            )
        raw = data / "raw" / str(year)
        stamp = WORK / "generated" / f"{year}_{respondents}_seed{SEED + year}.done"
        if not stamp.exists():
            scratch = WORK / "generating" / str(year)  # moved into raw/ only when complete
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            subprocess.run(
                [str(BIN / "benchmark-pipeline"), "generate-sample", "--data-dir", str(data), "--year", str(year),
                 "--respondents", str(respondents), "--layout", "canonical_csv", "--seed", str(SEED + year),
                 "--out", str(scratch / f"synthetic_{year}.csv")],
                check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(raw, ignore_errors=True)
            raw.parent.mkdir(parents=True, exist_ok=True)
            scratch.rename(raw)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
    return data


@contextmanager
def pg_database(prefix: str):
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def environment(tag: str, data: Path, years: list[int]):
    """DAGSTER_HOME on a fresh PostgreSQL instance, a fresh PostgreSQL warehouse and output folder, and
    yearly partitions reaching the last synthetic year."""
    with pg_database(f"bp_scale_{tag}_instance") as instance, pg_database(f"bp_scale_{tag}_warehouse") as warehouse:
        home = WORK / tag / "dagster_home"
        out = WORK / tag / "output"
        shutil.rmtree(WORK / tag, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(ROOT / "docs" / "dagster-postgres.yaml", home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHMARK_", "DAGSTER_"))}
        env.update({
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_HOST": instance.host or "127.0.0.1",
            "DAGSTER_PG_PORT": str(instance.port or 5432),
            "DAGSTER_PG_DB": instance.database,
            "DAGSTER_PG_USER": instance.username or "postgres",
            "BENCHMARK_DATA_DIR": str(data),
            "BENCHMARK_OUTPUT_DIR": str(out),
            "BENCHMARK_WAREHOUSE_URL": warehouse.render_as_string(hide_password=False),
            "BENCHMARK_LAST_SURVEY_YEAR": str(max(years)),
        })
        yield env


@contextmanager
def instance_of(env: dict):
    from dagster import DagsterInstance

    saved = {k: os.environ.get(k) for k in env if k.startswith("DAGSTER_PG_")}
    os.environ.update({k: env[k] for k in saved})
    try:
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            yield instance
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def in_process(env: dict, years: list[int]) -> dict:
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "benchmark-pipeline"), "run", "--all"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"in-process run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    published = dict(line.split(": published ") for line in result.stdout.splitlines() if ": published " in line)
    with instance_of(env) as instance:
        runs = [run.run_id for run in instance.get_runs()]
        breakdown = time_breakdown(instance, runs)
    return {"wall_s": round(wall, 1), "releases": dict(sorted(published.items())), **breakdown}


def start_workers(env: dict, log_dir: Path, count: int = 2, concurrency: int = 3) -> list[subprocess.Popen]:
    workers = []
    for index in range(count):
        log = open(log_dir / f"worker{index + 1}.log", "wb")
        workers.append(subprocess.Popen(
            [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", "celery.yaml",
             "-q", env["BENCHMARK_CELERY_QUEUE"], "-n", f"scale{index + 1}", "--", "--concurrency", str(concurrency)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        logs = [(log_dir / f"worker{i + 1}.log").read_text(errors="replace") for i in range(count)]
        if all(" ready." in text for text in logs):
            return workers
        time.sleep(0.5)
    raise SystemExit("the Celery workers did not start in 120 s; see " + str(log_dir))


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        try:
            os.killpg(os.getpgid(process.pid), signal.SIGTERM)
        except ProcessLookupError:
            continue
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)


def on_celery(env: dict, years: list[int]) -> dict:
    queue = f"bench_scale_{uuid.uuid4().hex[:8]}"
    env = {**env, "BENCHMARK_EXECUTOR": "celery", "BENCHMARK_CELERY_QUEUE": queue,
           "BENCHMARK_CELERY_BROKER_URL": os.environ.get("BENCHMARK_CELERY_BROKER_URL", "amqp://127.0.0.1:5672//"),
           "BENCHMARK_CELERY_BACKEND_URL": os.environ.get("BENCHMARK_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/0")}
    log_dir = Path(env["DAGSTER_HOME"]).parent
    processes = start_workers(env, log_dir)
    try:
        daemon_log = open(log_dir / "daemon.log", "wb")
        processes.append(subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=ROOT,
                                          env=env, stdout=daemon_log, stderr=subprocess.STDOUT, start_new_session=True))
        time.sleep(5)  # the daemon's first heartbeat; its start is not part of a backfill
        started = time.perf_counter()
        subprocess.run([str(BIN / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", "yearly_benchmark",
                        "--partitions", ",".join(map(str, years)), "--noprompt"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
        with instance_of(env) as instance:
            while True:
                runs = instance.get_runs()
                if len(runs) >= len(years) and all(run.is_finished for run in runs):
                    break
                if time.perf_counter() - started > 3600:
                    raise SystemExit(f"the Celery backfill did not finish in an hour; logs in {log_dir}")
                time.sleep(1)
            wall = time.perf_counter() - started
            failed = [run.run_id for run in runs if run.status.value != "SUCCESS"]
            if failed:
                raise SystemExit(f"Celery runs failed: {failed}; logs in {log_dir}")
            breakdown = time_breakdown(instance, [run.run_id for run in runs])
    finally:
        stop(processes)
        _delete_queue(env["BENCHMARK_CELERY_BROKER_URL"], queue)
    from benchmark_pipeline.release import ReleaseStore

    with ReleaseStore(Path(env["BENCHMARK_OUTPUT_DIR"]), env["BENCHMARK_WAREHOUSE_URL"]) as store:
        releases = {str(year): store.latest(year).release_id for year in years}
    return {"wall_s": round(wall, 1), "releases": releases, **breakdown}


def _delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker, connect_timeout=5) as connection:
        channel = connection.channel()
        channel.queue_delete(queue)
        channel.close()


def time_breakdown(instance, run_ids: list[str]) -> dict:
    """Where the runs' time went, from their event logs: the steps' own time (the wait for the previous
    year inside comparison_base apart), the time tasks sat in the Celery queue, and per run its wall time."""
    from dagster import DagsterEventType

    steps: dict[str, float] = defaultdict(float)
    waiting = queued = 0.0
    runs = {}
    for run_id in run_ids:
        started: dict[str, float] = {}
        submitted: dict[str, float] = {}
        first = last = None
        for record in instance.all_logs(run_id):
            event, stamp = record.dagster_event, record.timestamp
            if event is None:
                continue
            first = stamp if first is None else min(first, stamp)
            last = stamp if last is None else max(last, stamp)
            kind, key = event.event_type, event.step_key
            if kind == DagsterEventType.STEP_START:
                started[key] = stamp
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE) and key in started:
                took = stamp - started.pop(key)
                if key == "comparison_base":
                    waiting += took
                else:
                    steps[key] += took
            elif kind == DagsterEventType.ENGINE_EVENT and key:
                message = event.message or ""
                if message.startswith("Submitting celery task"):
                    submitted[key] = stamp
                elif "in celery worker" in message and key in submitted:
                    queued += stamp - submitted.pop(key)
        run = instance.get_run_by_id(run_id)
        runs[run.tags.get("dagster/partition", run_id)] = round((last or 0) - (first or 0), 1)
    return {
        "run_wall_s": dict(sorted(runs.items())),
        "step_s": {k: round(v, 1) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])},
        "steps_total_s": round(sum(steps.values()), 1),
        "comparison_base_s": round(waiting, 1),  # mostly waiting for the previous year's run to end
        "celery_queue_s": round(queued, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10, help="synthetic years wanted (default 10)")
    parser.add_argument("--respondents", type=int, default=RESPONDENTS)
    args = parser.parse_args(argv)
    years = synthetic_years(args.years)
    WORK.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    data = prepare_data(years, args.respondents)
    print(f"data: {len(years)} years x {args.respondents:,} respondents in {data} ({time.perf_counter() - t:.0f} s)")
    with environment("in_process", data, years) as env:
        sequential = in_process(env, years)
    print(f"in process, one year after another: {sequential['wall_s']:.1f} s")
    with environment("celery", data, years) as env:
        celery = on_celery(env, years)
    print(f"Celery, two workers, every year at once: {celery['wall_s']:.1f} s")
    same = sequential["releases"] == celery["releases"]
    ratio = celery["wall_s"] / sequential["wall_s"]
    print(f"ratio Celery / in process: {ratio:.2f}; same release ids: {same}")
    for name, figures in (("in process", sequential), ("Celery", celery)):
        print(f"  {name}: steps {figures['steps_total_s']} s, comparison_base (waits) {figures['comparison_base_s']} s, "
              f"Celery queue {figures['celery_queue_s']} s, runs {figures['run_wall_s']}")
        print(f"    largest steps: {dict(list(figures['step_s'].items())[:5])}")
    results = {"years": years, "respondents": args.respondents, "in_process": sequential, "celery": celery,
               "ratio_celery_vs_in_process": round(ratio, 2), "same_release_ids": same,
               "load_average": os.getloadavg()}
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figures: {WORK / 'results.json'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
