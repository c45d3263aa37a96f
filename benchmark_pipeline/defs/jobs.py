"""The yearly job: every asset and check of one survey year, in one process on purpose.

The steps are few and fast and hand each other in-memory-sized frames; the multiprocess executor made
the 2023 yearly run about 7 times slower here (process start per step; `make bench`, docs/performance.md),
so the in-process executor is the default.
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

yearly_benchmark_job = define_asset_job(
    name="yearly_benchmark",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest, validate, compute, report and publish one survey year.",
)
