"""Release identity: content hashes of everything that decides a release's numbers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value) -> str:
    """JSON with sorted keys and no whitespace: equal values always give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _input_hashes(input_files) -> list[str]:
    """Content hashes of the inputs, sorted: file names and order do not change the identity."""
    if isinstance(input_files, Mapping):  # {name: sha256} already computed
        return sorted(str(v) for v in input_files.values())
    return sorted(sha256_file(p) for p in input_files)


def combined_input_sha256(input_files) -> str:
    """One SHA-256 over the input files' hashes (the `releases.input_sha256` column)."""
    return sha256_bytes(canonical_json(_input_hashes(input_files)).encode())


def _release_ids(compared_release_ids) -> list | dict:
    if compared_release_ids is None:
        return []
    if isinstance(compared_release_ids, Mapping):
        return {str(k): v for k, v in compared_release_ids.items()}
    return sorted(str(r) for r in compared_release_ids if r is not None)


def release_fingerprint(
    survey_year: int,
    input_files: Iterable[str | Path] | Mapping[str, str],
    mapping_sha256: str,
    reference_sha256: str,
    code_versions: Mapping[str, str],
    settings: Mapping[str, object],
    compared_release_ids: Iterable[str] | Mapping[int | str, str] | None = (),
) -> str:
    """SHA-256 (hex) over everything that changes a year's published numbers.

    `input_files` are paths (hashed here) or an already computed `{name: sha256}`; only the content
    hashes count. `compared_release_ids` are the release ids of the earlier years the year is compared
    with (a list, or `{year: release_id}`), so a new release of 2024 gives 2025 a new fingerprint.
    """
    payload = {
        "survey_year": int(survey_year),
        "inputs": _input_hashes(input_files),
        "mapping_sha256": mapping_sha256,
        "reference_sha256": reference_sha256,
        "code_versions": {str(k): str(v) for k, v in dict(code_versions).items()},
        "settings": {str(k): v for k, v in dict(settings).items()},
        "compared_release_ids": _release_ids(compared_release_ids),
    }
    return sha256_bytes(canonical_json(payload).encode())


def make_release_id(survey_year: int, revision: int, fingerprint: str) -> str:
    return f"{int(survey_year)}-r{int(revision)}-{fingerprint[:12]}"
