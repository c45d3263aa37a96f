"""Code versions of the pipeline steps.

Bump a step's version when its change alters what it produces: Dagster marks downstream assets stale,
and the release fingerprint changes, so the next publish becomes a new revision.
"""

CODE_VERSIONS: dict[str, str] = {
    "raw_survey_responses": "1",
    "validated_responses": "1",
    "indicators": "3",  # 2: exact disclosure audit, one public reason; 3: suppression rings, nearest first
    "comparison_base": "1",
    "year_over_year_growth": "1",
    "kommune_benchmarks": "1",
    "report_artefacts": "1",
    "staged_release": "1",
    "published_release": "1",
}
