"""Run tags the pipeline sets and reads: one name each."""

TRIGGER_TAG = "benchmark/trigger"  # what started a run: "schedule", "raw_export_sensor", a CLI command
HASH_TAG = "benchmark/inputs_sha256"  # the inputs (export, mapping, reference) a sensor run was requested for
