"""Code versions of the pipeline steps, and the record that keeps them honest.

Bump a step's version when its change alters what it produces: Dagster marks downstream assets stale,
and the release fingerprint changes, so the next publish becomes a new revision. A change that alters
nothing a reader sees (a refactor) keeps the version.

Which is which is a person's call, so the call is asked for: `STEP_SOURCES` names the modules behind each
step, and `code_versions.json` records, per step, the version and a hash of those modules' code (comments,
docstrings and layout left out). A test fails when a step's code changed while its version and record did
not. Then decide: bump the version if outputs change; either way record with
`python -m benchmark_pipeline.versions --record` (or `make code-versions`).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
RECORD = PACKAGE / "code_versions.json"

CODE_VERSIONS: dict[str, str] = {
    "raw_survey_responses": "2",  # 2: only the columns the mapping uses are kept; formula cells without a value refused
    "validated_responses": "1",
    "indicators": "4",  # 2: exact disclosure audit, one public reason; 3: suppression rings, nearest first; 4: bounded barrier intervals
    "comparison_base": "2",  # 2: every earlier year's published values, not only t-1's
    "year_over_year_growth": "2",  # 2: BH within families, change since the first year, trends
    "kommune_benchmarks": "2",  # 2: percentile_of, comparison-group spread
    "report_artefacts": "4",  # 2: findings ("Det vigtigste i år", "Det skiller sig ud"), ranks with their denominator; 3: the release id on every page and in the workbook; 4: the kommune index in Danish order (Aabenraa, Aalborg, Aarhus with the Å's)
    "staged_release": "2",  # 2: the trends table; every compared release in the fingerprint
    "published_release": "2",  # 2: a re-stamped release re-stamps its reports too
}

# The code each step runs, relative to the package (a folder means every module in it).
STEP_SOURCES: dict[str, tuple[str, ...]] = {
    "raw_survey_responses": ("defs/assets/ingestion.py", "ingest/readers.py", "ingest/raw.py", "ingest/encoding.py",
                             "ingest/textfile.py", "ingest/workbook.py", "ingest/layouts/"),
    "validated_responses": ("defs/assets/ingestion.py", "ingest/validate.py", "ingest/mapping.py", "ingest/values.py",
                            "ingest/schema.py", "ingest/pii.py", "ingest/layouts/", "instrument.py", "reference.py"),
    "indicators": ("stats/indicators.py", "stats/disclosure.py", "stats/attack.py", "stats/tables.py",
                   "stats/geography.py", "stats/verify.py"),
    "comparison_base": ("defs/assets/statistics.py", "publication.py"),
    "year_over_year_growth": ("stats/yoy.py", "stats/trends.py", "stats/summary.py", "stats/tables.py"),
    "kommune_benchmarks": ("stats/benchmarks.py",),
    "report_artefacts": ("reports/", "findings.py"),
    "staged_release": ("candidate.py", "release/fingerprint.py", "release/manifest.py", "release/model.py",
                       "release/schema.py", "release/files.py"),
    "published_release": ("defs/assets/publishing.py", "release/publishing.py", "release/store.py",
                          "release/warehouse.py", "release/pointer.py"),
}


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _modules(step: str) -> list[Path]:
    paths: list[Path] = []
    for entry in STEP_SOURCES[step]:
        path = PACKAGE / entry
        paths += sorted(path.rglob("*.py")) if entry.endswith("/") else [path]
    return paths


def source_sha256(step: str) -> str:
    """A hash of the step's code as Python sees it: editing a comment, a docstring or the layout keeps it."""
    digest = hashlib.sha256()
    for path in _modules(step):
        tree = _without_docstrings(ast.parse(path.read_text(encoding="utf-8")))
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(ast.dump(tree, include_attributes=False).encode())
    return digest.hexdigest()


def current() -> dict[str, dict[str, str]]:
    return {step: {"version": CODE_VERSIONS[step], "source_sha256": source_sha256(step)} for step in CODE_VERSIONS}


def recorded() -> dict[str, dict[str, str]]:
    return json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {}


def unversioned_changes() -> list[str]:
    """What changed without a decision: steps whose code differs from the record under the recorded version."""
    record, problems = recorded(), []
    for step, now in current().items():
        then = record.get(step)
        if then is None:
            problems.append(f"{step}: not in {RECORD.name}; record it")
        elif now["source_sha256"] != then["source_sha256"] and now["version"] == then["version"]:
            problems.append(
                f"{step}: its code changed under code version {now['version']}: bump CODE_VERSIONS['{step}'] if "
                "what it produces changes, then record (python -m benchmark_pipeline.versions --record)"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or record the code versions of the pipeline steps.")
    parser.add_argument("--record", action="store_true", help=f"write the current versions and hashes to {RECORD.name}")
    args = parser.parse_args(argv)
    if args.record:
        RECORD.write_text(json.dumps(current(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {len(CODE_VERSIONS)} steps in {RECORD}")
        return 0
    problems = unversioned_changes()
    print("\n".join(problems) if problems else "every step's code matches its recorded version")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
