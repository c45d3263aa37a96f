"""First-year changes, trends and the kommune benchmarks' spread.

- `yoy_changes.comparison`: `previous_year` or `first_year`. Every row published before this revision
  compares with the previous year, so existing rows get `previous_year`.
- `kommune_benchmarks`: `percentile_of` and the spread of published kommune shares nationally and in the
  kommunegruppe (`national_min` ... `group_published`); empty in rows published before this revision.
- The new table `trends` and its `latest_trends` view.
The `latest_*` views list their columns, so the two changed tables' views are made again.

Revision ID: 0002_trends_and_spread
Revises: 0001_initial
Create Date: 2026-02-01

Frozen: later schema changes get their own revision; never edit this one after it shipped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_trends_and_spread"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Columns each new or changed latest_<table> view exposes, in the published order (release_id first).
VIEW_COLUMNS = {
    "yoy_changes": (
        "release_id", "survey_year", "comparison", "base_year", "geography_level", "geography_code",
        "indicator_id", "share", "share_base", "diff_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value",
        "q_value", "significant", "relative_growth"
    ),
    "trends": (
        "release_id", "survey_year", "geography_level", "geography_code", "indicator_id", "first_year", "years",
        "share_first", "share", "slope_pp_per_year", "slope_ci_low_pp", "slope_ci_high_pp", "p_value", "q_value",
        "significant"
    ),
    "kommune_benchmarks": (
        "release_id", "survey_year", "kommune_kode", "indicator_id", "n", "share", "share_shrunk",
        "national_share", "region_share", "group_share", "diff_national_pp", "diff_region_pp",
        "diff_group_pp", "percentile", "percentile_of", "national_min", "national_median", "national_max",
        "national_published", "group_min", "group_median", "group_max", "group_published", "suppressed",
        "suppression_reason"
    ),
}
# The views of revision 0001 for the two changed tables (what a downgrade makes again).
VIEW_COLUMNS_0001 = {
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
}
BENCHMARK_COLUMNS = (
    ("percentile_of", sa.Integer),
    ("national_min", sa.Float),
    ("national_median", sa.Float),
    ("national_max", sa.Float),
    ("national_published", sa.Integer),
    ("group_min", sa.Float),
    ("group_median", sa.Float),
    ("group_max", sa.Float),
    ("group_published", sa.Integer),
)


def _create_view(name: str, columns: tuple[str, ...]) -> None:
    select_list = ", ".join(f't."{column}"' for column in columns)
    op.execute(
        f"CREATE VIEW latest_{name} AS SELECT {select_list} FROM {name} t "
        "JOIN latest_releases l ON l.release_id = t.release_id"
    )


def upgrade() -> None:
    for name in VIEW_COLUMNS_0001:
        op.execute(f"DROP VIEW latest_{name}")
    op.add_column(
        "yoy_changes",
        sa.Column("comparison", sa.String(), nullable=False, server_default="previous_year"),
    )
    for column, kind in BENCHMARK_COLUMNS:
        op.add_column("kommune_benchmarks", sa.Column(column, kind(), nullable=True))
    op.create_table(
        "trends",
        sa.Column("release_id", sa.String(64), sa.ForeignKey("releases.release_id"), nullable=False),
        sa.Column("survey_year", sa.Integer(), nullable=False),
        sa.Column("geography_level", sa.String(), nullable=False),
        sa.Column("geography_code", sa.String(), nullable=False),
        sa.Column("indicator_id", sa.String(), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("share_first", sa.Float(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("slope_pp_per_year", sa.Float(), nullable=True),
        sa.Column("slope_ci_low_pp", sa.Float(), nullable=True),
        sa.Column("slope_ci_high_pp", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("q_value", sa.Float(), nullable=True),
        sa.Column("significant", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_trends_release_id", "trends", ["release_id"])
    for name, columns in VIEW_COLUMNS.items():
        _create_view(name, columns)


def downgrade() -> None:
    for name in VIEW_COLUMNS:
        op.execute(f"DROP VIEW latest_{name}")
    op.drop_index("ix_trends_release_id", table_name="trends")
    op.drop_table("trends")
    # first-year comparisons have no place in the earlier schema
    op.execute("DELETE FROM yoy_changes WHERE comparison <> 'previous_year'")
    with op.batch_alter_table("yoy_changes") as batch:
        batch.drop_column("comparison")
    with op.batch_alter_table("kommune_benchmarks") as batch:
        for column, _ in BENCHMARK_COLUMNS:
            batch.drop_column(column)
    for name, columns in VIEW_COLUMNS_0001.items():
        _create_view(name, columns)
