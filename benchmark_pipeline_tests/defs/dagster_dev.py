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

    def __init__(self, tmp_path: Path, environment: dict[str, str] | None = None):
        self.home = tmp_path / "dagster_home"
        self.home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.output_dir = tmp_path / "output"
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
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like `set -m` in a shell
        )

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
