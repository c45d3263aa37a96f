"""can_fork: no forked helpers inside a daemonic process (a Celery pool process), where starting one fails."""

from __future__ import annotations

import multiprocessing

from benchmark_pipeline.forking import can_fork, usable_cores


def _report(queue) -> None:
    queue.put(can_fork())


def test_a_daemonic_process_may_not_fork_helpers():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_report, args=(queue,), daemon=True)
    child.start()
    child.join(30)
    assert queue.get(timeout=5) is False
    assert can_fork() is True  # this test process is not daemonic


def test_usable_cores_is_at_least_one():
    assert usable_cores() >= 1
