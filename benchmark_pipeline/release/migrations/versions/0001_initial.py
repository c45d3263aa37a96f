"""Initial warehouse: the releases register, the six published tables and their latest_* views.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01

Frozen: later schema changes get their own revision; never edit this one after it shipped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Columns each latest_<table> view exposes, in the published order (release_id first).
VIEW_COLUMNS = {
    "indicator_values": (
        "release_id", "survey_year", "geography_level", "geography_code", "indicator_id", "question_id",
        "option_id", "measure", "n", "count", "share", "ci_low", "ci_high", "suppressed",
        "suppression_reason"
    ),
    "barrier_scores": (
        "release_id", "survey_year", "geography_level", "geography_code", "barrier_id", "n", "score",
        "score_ci_low", "score_ci_high", "top3_share", "first_share", "suppressed", "suppression_reason"
    ),
    "yoy_changes": (
        "release_id", "survey_year", "base_year", "geography_level", "geography_code", "indicator_id",
        "share", "share_base", "diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value", "q_value",
        "significant", "relative_growth"
    ),
    "kommune_benchmarks": (
        "release_id", "survey_year", "kommune_kode", "indicator_id", "n", "share", "share_shrunk",
        "national_share", "region_share", "group_share", "diff_national_pp", "diff_region_pp",
        "diff_group_pp", "percentile", "suppressed", "suppression_reason"
    ),
    "year_summary": (
        "release_id", "survey_year", "respondents", "responding_kommuner", "non_responses",
        "quarantined_rows", "respondents_change", "responding_kommuner_change", "non_responses_change",
        "quarantined_rows_change"
    ),
    "quarantine_summary": (
        "release_id", "survey_year", "rule", "column", "rows"
    ),
}

# A year's latest release: its highest revision that is not withdrawn.
LATEST_RELEASES = """
SELECT r.release_id, r.survey_year, r.revision, r.created_at, r.fingerprint, r.manifest_path, r.package_version,
       r.code_version, r.input_sha256, r.previous_release_id
FROM releases r
WHERE NOT r.withdrawn
  AND r.revision = (
    SELECT MAX(r2.revision) FROM releases r2 WHERE r2.survey_year = r.survey_year AND NOT r2.withdrawn
  )
"""


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("release_id", sa.String(64), primary_key=True),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("code_version", sa.Text(), nullable=False),
        sa.Column("package_version", sa.String(64), nullable=False),
        sa.Column("manifest_path", sa.String(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("previous_release_id", sa.String(64), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        # the database-side guard for one publish per year and revision
        sa.UniqueConstraint("survey_year", "revision", name="uq_releases_year_revision"),
    )
    op.create_index("ix_releases_year_fingerprint", "releases", ["survey_year", "fingerprint"])
    op.create_table(
        "indicator_values",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("geography_level", sa.String(), nullable=False),
        sa.Column("geography_code", sa.String(), nullable=False),
        sa.Column("indicator_id", sa.String(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("option_id", sa.String(), nullable=False),
        sa.Column("measure", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("suppression_reason", sa.String(), nullable=True),
    )
    op.create_index("ix_indicator_values_release_id", "indicator_values", ["release_id"])
    op.create_table(
        "barrier_scores",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("geography_level", sa.String(), nullable=False),
        sa.Column("geography_code", sa.String(), nullable=False),
        sa.Column("barrier_id", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("score_ci_low", sa.Float(), nullable=True),
        sa.Column("score_ci_high", sa.Float(), nullable=True),
        sa.Column("top3_share", sa.Float(), nullable=True),
        sa.Column("first_share", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("suppression_reason", sa.String(), nullable=True),
    )
    op.create_index("ix_barrier_scores_release_id", "barrier_scores", ["release_id"])
    op.create_table(
        "yoy_changes",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("base_year", sa.Integer(), nullable=False),
        sa.Column("geography_level", sa.String(), nullable=False),
        sa.Column("geography_code", sa.String(), nullable=False),
        sa.Column("indicator_id", sa.String(), nullable=False),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("share_base", sa.Float(), nullable=True),
        sa.Column("diff_pp", sa.Float(), nullable=True),
        sa.Column("diff_ci_low_pp", sa.Float(), nullable=True),
        sa.Column("diff_ci_high_pp", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("q_value", sa.Float(), nullable=True),
        sa.Column("significant", sa.Boolean(), nullable=True),
        sa.Column("relative_growth", sa.Float(), nullable=True),
    )
    op.create_index("ix_yoy_changes_release_id", "yoy_changes", ["release_id"])
    op.create_table(
        "kommune_benchmarks",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("kommune_kode", sa.String(), nullable=False),
        sa.Column("indicator_id", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("share_shrunk", sa.Float(), nullable=True),
        sa.Column("national_share", sa.Float(), nullable=True),
        sa.Column("region_share", sa.Float(), nullable=True),
        sa.Column("group_share", sa.Float(), nullable=True),
        sa.Column("diff_national_pp", sa.Float(), nullable=True),
        sa.Column("diff_region_pp", sa.Float(), nullable=True),
        sa.Column("diff_group_pp", sa.Float(), nullable=True),
        sa.Column("percentile", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("suppression_reason", sa.String(), nullable=True),
    )
    op.create_index("ix_kommune_benchmarks_release_id", "kommune_benchmarks", ["release_id"])
    op.create_table(
        "year_summary",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("responding_kommuner", sa.Integer(), nullable=True),
        sa.Column("non_responses", sa.Integer(), nullable=True),
        sa.Column("quarantined_rows", sa.Integer(), nullable=True),
        sa.Column("respondents_change", sa.Integer(), nullable=True),
        sa.Column("responding_kommuner_change", sa.Integer(), nullable=True),
        sa.Column("non_responses_change", sa.Integer(), nullable=True),
        sa.Column("quarantined_rows_change", sa.Integer(), nullable=True),
    )
    op.create_index("ix_year_summary_release_id", "year_summary", ["release_id"])
    op.create_table(
        "quarantine_summary",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("column", sa.String(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
    )
    op.create_index("ix_quarantine_summary_release_id", "quarantine_summary", ["release_id"])

    op.execute("CREATE VIEW latest_releases AS " + LATEST_RELEASES)
    for name, columns in VIEW_COLUMNS.items():
        select_list = ", ".join(f't."{column}"' for column in columns)
        op.execute(
            f"CREATE VIEW latest_{name} AS SELECT {select_list} FROM {name} t "
            "JOIN latest_releases l ON l.release_id = t.release_id"
        )


def downgrade() -> None:
    for name in reversed(list(VIEW_COLUMNS)):
        op.execute(f"DROP VIEW latest_{name}")
    op.execute("DROP VIEW latest_releases")
    for name in reversed(list(VIEW_COLUMNS)):
        op.drop_index(f"ix_{name}_release_id", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_releases_year_fingerprint", table_name="releases")
    op.drop_table("releases")
