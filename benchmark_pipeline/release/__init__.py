"""Releases: fingerprint, staged + atomic publish, the release store, the warehouse and the consumer API.

Consumers: `read_table(name, year=None, release=None, warehouse_url=None)` (docs/consumers.md).
Pipeline: `release_fingerprint(...)`, `ReleaseStore(output_dir, warehouse_url)`.
"""

from benchmark_pipeline.release.consumer import latest_releases, read_table, table_names
from benchmark_pipeline.release.errors import (
    AlreadyWithdrawnError,
    EnvironmentFailure,
    LockTimeoutError,
    PublishConflictError,
    ReleaseError,
    ReleaseNotFoundError,
    StorageError,
    TableContractError,
    UnknownTableError,
    WarehouseNotWritableError,
    WarehouseUnavailableError,
    WarehouseURLError,
)
from benchmark_pipeline.release.fingerprint import make_release_id, release_fingerprint, sha256_file
from benchmark_pipeline.release.roles import grant_read_only_role
from benchmark_pipeline.release.schema import TABLE_NAMES, TABLES, data_dictionary
from benchmark_pipeline.release.store import Release, ReleaseStore, StagedRelease

__all__ = [
    "TABLES",
    "TABLE_NAMES",
    "AlreadyWithdrawnError",
    "EnvironmentFailure",
    "LockTimeoutError",
    "PublishConflictError",
    "Release",
    "ReleaseError",
    "ReleaseNotFoundError",
    "ReleaseStore",
    "StagedRelease",
    "StorageError",
    "TableContractError",
    "UnknownTableError",
    "WarehouseURLError",
    "WarehouseNotWritableError",
    "WarehouseUnavailableError",
    "data_dictionary",
    "grant_read_only_role",
    "latest_releases",
    "make_release_id",
    "read_table",
    "release_fingerprint",
    "sha256_file",
    "table_names",
]
