"""The export's hash is computed once per file state, and again after any change to the file."""

from __future__ import annotations

import hashlib
import os

from benchmark_pipeline.candidate import ExportIdentity


def test_an_unchanged_file_is_hashed_once_and_a_changed_one_again(tmp_path, monkeypatch):
    import benchmark_pipeline.candidate as candidate

    export = tmp_path / "export.csv"
    export.write_bytes(b"id,kommune\n1,101\n")
    hashed = []
    real = candidate.sha256_file
    monkeypatch.setattr(candidate, "sha256_file", lambda path: hashed.append(path) or real(path))

    first = ExportIdentity.of([export])
    assert ExportIdentity.of([export]) == first and len(hashed) == 1
    assert first.file_sha256 == (hashlib.sha256(export.read_bytes()).hexdigest(),)

    # same size, and the modification time set back: the change of ctime still shows
    stat = export.stat()
    export.write_bytes(b"id,kommune\n2,101\n")
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = ExportIdentity.of([export])
    assert len(hashed) == 2 and changed.sha256 != first.sha256
    assert changed.file_sha256 == (hashlib.sha256(export.read_bytes()).hexdigest(),)
