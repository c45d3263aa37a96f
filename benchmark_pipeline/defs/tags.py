"""Run tags the pipeline sets and reads: one name each."""

TRIGGER_TAG = "benchmark/trigger"  # what started a run: "schedule", "raw_export_sensor", a CLI command
HASH_TAG = "benchmark/export_sha256"  # the export content a sensor run was requested for
