"""The analyst's path in the real Dagster UI: asset graph -> Materialize one year -> run succeeds -> release metadata.

Starts `dagster dev` (webserver + daemon) in its own process group with a temporary DAGSTER_HOME and output
folder, drives Debian's headless Chromium through Playwright, and always stops the whole process group.
Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from benchmark_pipeline_tests.conftest import require_or_skip
from benchmark_pipeline_tests.defs.dagster_dev import DagsterDev, graphql

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SURVEY_YEAR = "2023"  # the first year: it needs no earlier release
RUN_SECONDS = 480
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


RUNS_QUERY = """
query Runs($year: String!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $year}]}) {
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""


@pytest.fixture
def dagster_dev(tmp_path):
    require_or_skip(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install -y --no-install-recommends chromium)")
    server = DagsterDev(tmp_path)
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        # A fresh profile shows a "Join the Dagster community" modal over the page; this keeps it closed.
        context.add_init_script("localStorage.setItem('communityNux','\"1\"')")
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            browser.close()


def _wait_for_run(server: DagsterDev, year: str) -> dict:
    deadline = time.monotonic() + RUN_SECONDS
    runs: list = []
    while time.monotonic() < deadline:
        runs = graphql(server.base, RUNS_QUERY, {"year": year})["runsOrError"]["results"]
        if runs and all(run["status"] in TERMINAL for run in runs):
            return runs[0]
        time.sleep(2)
    pytest.fail(f"no finished run for partition {year} in {RUN_SECONDS} s: {runs}\n{server.log_tail()}")


def test_analyst_materialises_one_year_and_sees_the_release(dagster_dev, page, tmp_path):
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()

    # 1. The asset graph, with its groups, once the UI has loaded the code location.
    page.goto(f"{dagster_dev.base}/asset-groups")
    materialize_all = page.get_by_role("button", name="Materialize all…")
    expect(materialize_all).to_be_visible(timeout=120_000)
    for group in ("ingestion", "statistics", "reports", "publishing"):
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    expect(page.get_by_text("Loading...")).to_have_count(0)
    page.screenshot(path=shots / "01_asset_graph.png")

    # 2. Jobs -> yearly_benchmark (its runs use the job's in-process executor) -> Materialize all ->
    #    choose one survey year in the partition dialog -> Launch 1 run.
    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("link", name="yearly_benchmark").first.click()
    expect(page).to_have_url(re.compile(r"/jobs/yearly_benchmark"))
    materialize_all = page.get_by_role("button", name="Materialize all…")
    expect(materialize_all).to_be_visible()
    materialize_all.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Partition selection")).to_be_visible()
    partitions = dialog.get_by_placeholder("ex: 2023, 2024, [2025...2026]", exact=False)
    partitions.fill(SURVEY_YEAR)
    partitions.press("Enter")
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    page.screenshot(path=shots / "02_partition_dialog.png")
    dialog.get_by_role("button", name="Launch 1 run").click()
    try:
        expect(page.get_by_text("Launch runs to materialize")).to_have_count(0, timeout=60_000)
    finally:
        page.screenshot(path=shots / "02b_after_launch.png")

    # 3. The run (queued, launched by the daemon) succeeds; the run page says so.
    run = _wait_for_run(dagster_dev, SURVEY_YEAR)
    assert run["status"] == "SUCCESS", f"run {run['runId']} ended {run['status']}:\n{dagster_dev.log_tail()}"
    assert run["jobName"] == "yearly_benchmark"
    assert {"key": "dagster/partition", "value": SURVEY_YEAR} in run["tags"]
    page.goto(f"{dagster_dev.base}/runs/{run['runId']}")
    expect(page.get_by_text("Success").first).to_be_visible()
    page.screenshot(path=shots / "03_run.png")

    # 4. The published_release asset shows the release the run published, with its release_id.
    from benchmark_pipeline.release import ReleaseStore

    store = ReleaseStore(dagster_dev.output_dir, f"sqlite:///{dagster_dev.output_dir / 'warehouse.sqlite'}")
    release_id = store.latest(int(SURVEY_YEAR)).release_id
    page.goto(f"{dagster_dev.base}/assets/published_release?view=partitions&partition={SURVEY_YEAR}")
    expect(page.get_by_text("release_id").first).to_be_visible()
    expect(page.get_by_text(release_id).first).to_be_visible()
    page.screenshot(path=shots / "04_published_release.png", full_page=True)


LATEST_BACKFILL = "{ partitionBackfillsOrError(limit: 1) { ... on PartitionBackfills { results { id } } } }"


def test_ops_backfill_every_partition_from_the_ui_publishes_each_year_as_make_run_does(
    dagster_dev, page, tmp_path, published_samples
):
    """Fresh storage -> Materialize all -> All partitions -> Launch backfill -> every year with an export
    published, oldest first, with no failed run; the year without a mapping skipped; `make run`'s ids."""
    from playwright.sync_api import expect

    from benchmark_pipeline.defs.partitions import survey_years
    from benchmark_pipeline.release import ReleaseStore

    shots = tmp_path / "screenshots"
    shots.mkdir()
    page.goto(f"{dagster_dev.base}/asset-groups")
    materialize_all = page.get_by_role("button", name="Materialize all…")
    expect(materialize_all).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Loading...")).to_have_count(0)
    materialize_all.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Partition selection")).to_be_visible()
    dialog.get_by_role("button", name="All", exact=True).click()
    partitions = survey_years.get_partition_keys()
    expect(dialog.get_by_text(f"{len(partitions)} partitions", exact=True)).to_be_visible()
    page.screenshot(path=shots / "01_backfill_dialog.png")
    dialog.get_by_role("button", name="Launch backfill").click()
    expect(page.get_by_text("Launch runs to materialize")).to_have_count(0, timeout=60_000)

    [latest] = graphql(dagster_dev.base, LATEST_BACKFILL)["partitionBackfillsOrError"]["results"]
    backfill = dagster_dev.wait_for_backfill(latest["id"])
    runs = {next(t["value"] for t in run["tags"] if t["key"] == "dagster/partition"): run for run in backfill["runs"]}
    assert sorted(runs) == partitions
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}, f"{runs}\n{dagster_dev.log_tail()}"

    store = ReleaseStore(dagster_dev.output_dir, f"sqlite:///{dagster_dev.output_dir / 'warehouse.sqlite'}")
    for year, release_id in published_samples.release_ids.items():
        assert store.latest(year).release_id == release_id
        page.goto(f"{dagster_dev.base}/assets/published_release?view=partitions&partition={year}")
        expect(page.get_by_text(release_id).first).to_be_visible()
        page.screenshot(path=shots / f"02_published_release_{year}.png", full_page=True)
    skipped = partitions[3]
    assert store.latest(int(skipped)) is None
    assert any(f"skipped: survey year {skipped} has no mapping" in m for m in dagster_dev.run_messages(runs[skipped]["runId"]))
