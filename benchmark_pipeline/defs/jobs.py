"""The yearly job: every asset and check of one survey year, in one process on purpose.

The steps are few and fast and hand each other in-memory-sized frames; the multiprocess executor adds
about 3 s of process start per step (measured in `make bench`), so the in-process executor is the default.
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

yearly_benchmark_job = define_asset_job(
    name="yearly_benchmark",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest, validate, compute, report and publish one survey year.",
)
