"""collector_paused: no cyclic collection inside the block, the collector exactly as it was after it."""

from __future__ import annotations

import gc

import pytest

from benchmark_pipeline.gc_pause import collector_paused


def test_pauses_and_resumes_even_when_the_block_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():  # nested: the outer block resumes it, not this one
                assert not gc.isenabled()
            assert not gc.isenabled()
            raise RuntimeError("step failed")
    assert gc.isenabled()


def test_leaves_a_collector_the_caller_disabled_alone():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
