"""Run tags the pipeline sets and reads: one name each."""

TRIGGER_TAG = "benchmark/trigger"  # what started a run: "schedule", "raw_export_sensor", a CLI command
HASH_TAG = "benchmark/inputs_sha256"  # the inputs (export, mapping, reference) a sensor run was requested for
# Dagster's own tags, read by the pipeline
PARTITION_TAG = "dagster/partition"  # the survey year of a partitioned run
BACKFILL_TAG = "dagster/backfill"  # the backfill that launched a run
