"""The yearly job with either executor, on the same Definitions the pipeline builds (reconstructable, so the
multiprocess executor's step processes can load it; settings come from BENCHMARK_* environment variables)."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor, multiprocess_executor

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _defs_with(job_name: str, executor) -> Definitions:
    from benchmark_pipeline.defs.build import build_definitions
    from benchmark_pipeline.settings import Settings

    defs = build_definitions(Settings.from_env())
    job = define_asset_job(name=job_name, selection=AssetSelection.all(), executor_def=executor)
    return Definitions.merge(defs, Definitions(jobs=[job]))


def in_process_job():
    return _defs_with("yearly_benchmark_in_process", in_process_executor).resolve_job_def("yearly_benchmark_in_process")


def multiprocess_job():
    return _defs_with("yearly_benchmark_multiprocess", multiprocess_executor).resolve_job_def(
        "yearly_benchmark_multiprocess")
