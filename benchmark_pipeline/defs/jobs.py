"""The yearly job: every asset and check of one survey year.

Its executor is the code location's (`Definitions(executor=...)`, chosen by `BENCHMARK_EXECUTOR` in
defs/executors.py): in process by default, since the steps are few and fast and the multiprocess executor
made the 2023 yearly run about 7 times slower here (process start per step; docs/performance.md), or on
Celery workers when years are many and large.
"""

from dagster import AssetSelection, define_asset_job

YEARLY_JOB_NAME = "yearly_benchmark"

yearly_benchmark_job = define_asset_job(
    name=YEARLY_JOB_NAME,
    selection=AssetSelection.all(),
    description="Ingest, validate, compute, report and publish one survey year.",
)
