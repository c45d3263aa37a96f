"""`dagster dev` (webserver, daemon, code server) for tests, in its own process group, always stopped whole."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from benchmark_pipeline.settings import REPO_ROOT

SERVER_START_SECONDS = 180
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 100) { runId status tags { key value } } }
  }
}
"""
RUN_LOGS = """
query Logs($runId: ID!) {
  logsForRun(runId: $runId) { ... on EventConnection { events { ... on MessageEvent { message } } } }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{base}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


class DagsterDev:
    """`dagster dev` in its own process group (so SIGINT reaches webserver, daemon and code server)."""

    def __init__(self, tmp_path: Path, environment: dict[str, str] | None = None, instance_config: Path | None = None):
        self.home = tmp_path / "dagster_home"
        self.home.mkdir()
        shutil.copy(instance_config or REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.output_dir = tmp_path / "output"
        self.alerts_file = self.output_dir / "alerts" / "alerts.jsonl"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "dagster_dev.log"
        env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "BENCHMARK_OUTPUT_DIR": str(self.output_dir),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("BENCHMARK_ALERT_WEBHOOK_URL", None)
        env.update(environment or {})
        self.environment = env  # for other Dagster commands against the same instance
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like `set -m` in a shell
        )

    def launch_backfill(self, asset_keys: list[str], partitions: list[str]) -> str:
        """Launch an asset backfill as the UI's Materialize all -> partitions -> Launch backfill does."""
        data = graphql(self.base, LAUNCH_BACKFILL, {"params": {
            "assetSelection": [{"path": [key]} for key in asset_keys],
            "partitionNames": partitions,
            "fromFailure": False,
        }})["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def wait_for_backfill(self, backfill_id: str, seconds: float = 600) -> dict:
        """The backfill once it and every run it launched have finished: {status, runs: [...]}."""
        deadline = time.monotonic() + seconds
        backfill: dict = {}
        while time.monotonic() < deadline:
            backfill = graphql(self.base, BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
            runs_done = all(run["status"] in TERMINAL for run in backfill["runs"])
            if backfill["status"] not in ("REQUESTED", "IN_PROGRESS") and runs_done:
                return backfill
            time.sleep(3)
        pytest.fail(f"backfill {backfill_id} not finished in {seconds} s: {backfill}\n{self.log_tail()}")

    def run_messages(self, run_id: str) -> list[str]:
        events = graphql(self.base, RUN_LOGS, {"runId": run_id})["logsForRun"]["events"]
        return [event.get("message") or "" for event in events]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                get(f"{self.base}/server_info")
                return
            except OSError:
                time.sleep(1)
        pytest.fail(f"dagster dev did not answer /server_info in {SERVER_START_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        try:
            pgid = os.getpgid(self.process.pid)
        except ProcessLookupError:
            pgid = None
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if pgid is None:
                break
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                # the group leader is gone; make sure no child of the group survives it
                os.killpg(pgid, 0)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                break
        self.log.close()
