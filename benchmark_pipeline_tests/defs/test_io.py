"""The step-output I/O manager: values come back exactly as they were, tables stored as Arrow, and the
respondent-level outputs handed on in memory within a run, then let go."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from dagster import AssetIn, AssetKey, DagsterInstance, Definitions, asset, define_asset_job, in_process_executor

from benchmark_pipeline.defs import io as step_io
from benchmark_pipeline.defs.io import (
    StepOutputIOManager, dump_value, frame_to_arrow, held_values, load_value, wait_for_writes,
)
from benchmark_pipeline.defs.resources import HANDED_ON, consumers


def frames(repeat: int = 1) -> dict[str, pd.DataFrame]:
    """Small frames of every kind; `repeat` makes each big enough to be stored as Arrow."""
    n = 7
    small = {
        "mixed": pd.DataFrame({
            "id": pd.Series([f"r{i}" for i in range(n)], dtype="str"),
            "code": pd.Categorical(["a", "b", None, "a", "c", "b", "a"], categories=["c", "b", "a"]),
            "ordered": pd.Categorical([1, 2, 3, 1, 2, 3, 1], ordered=True),
            "small": np.arange(n, dtype="int8"),
            "share": [0.1, np.nan, -0.0, 1e-300, 2.5, np.inf, 0.3],
            "flag": [True, False] * 3 + [True],
            "nullable": pd.array([1, None, 3, 4, None, 6, 7], dtype="Int64"),
            "maybe": pd.array([True, None, False, True, None, False, True], dtype="boolean"),
            "text": pd.Series(["æøå", None, "", "x", "y", "z", "w"], dtype="str"),
        }),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="str"), "b": pd.Series([], dtype="int64")}),
        "indexed": pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["x", "y"], name="k", dtype="str")),
        "sliced": pd.DataFrame({"v": range(10)}).iloc[3:6],
        "objects": pd.DataFrame({"o": pd.Series([[1], {"a": 2}, "s"], dtype=object)}),
        "int_names": pd.DataFrame({0: [1, 2], 1: [3, 4]}),
    }
    if repeat == 1:
        return small
    def repeated(frame: pd.DataFrame) -> pd.DataFrame:  # the frame `repeat` times over, a fresh RangeIndex
        return frame.iloc[np.tile(np.arange(len(frame)), repeat)].reset_index(drop=True)

    big = {name: repeated(frame) if name not in ("indexed", "sliced") else frame for name, frame in small.items()}
    big["text_index"] = big["mixed"].set_index("id")
    big["offset_range"] = big["mixed"].iloc[5:]
    return big


@dataclass
class Holder:
    tables: dict
    counts: dict
    note: str


@pytest.mark.parametrize("repeat", [1, 40_000])
def test_every_value_comes_back_exactly(tmp_path, repeat):
    value = Holder(frames(repeat), {"rows": 3}, "n")
    path = tmp_path / "out" / "2024"
    dump_value(value, path)
    back = load_value(path)
    assert isinstance(back, Holder) and back.counts == value.counts and back.note == value.note
    for name, frame in value.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], frame, check_exact=True)
        assert back.tables[name].dtypes.equals(frame.dtypes), name
        assert type(back.tables[name].index) is type(frame.index), name


def test_large_tables_arrow_holds_exactly_go_as_arrow_and_others_stay_in_the_pickle():
    stored = {name: frame_to_arrow(frame) for name, frame in frames(40_000).items()}
    assert stored == {"mixed": True, "empty": False, "indexed": False, "sliced": False, "objects": False,
                      "int_names": False, "text_index": True, "offset_range": True}


def test_the_file_is_smaller_than_a_pickle_for_a_respondent_like_frame(tmp_path):
    rng = np.random.default_rng(0)
    n = 50_000
    frame = pd.DataFrame({f"q{i}": rng.integers(0, 2, n).astype("int8") for i in range(20)})
    frame["kommune"] = pd.Categorical(rng.choice([f"k{i}" for i in range(98)], n))
    dump_value({"valid": frame}, tmp_path / "v")
    assert (tmp_path / "v").stat().st_size < 0.8 * len(pickle.dumps(frame, protocol=5))
    pd.testing.assert_frame_equal(load_value(tmp_path / "v")["valid"], frame, check_exact=True)


def test_a_file_that_is_not_a_step_output_is_refused(tmp_path):
    (tmp_path / "x").write_bytes(pickle.dumps(1))
    with pytest.raises(pickle.UnpicklingError):
        load_value(tmp_path / "x")


def test_the_respondent_level_outputs_are_handed_on_to_each_of_their_consumers():
    from benchmark_pipeline.defs.assets import ALL_ASSETS
    from benchmark_pipeline.defs.checks import ALL_CHECKS

    assert consumers([*ALL_ASSETS, *ALL_CHECKS], HANDED_ON) == {
        "raw_survey_responses": 2,  # validated_responses, release_candidate
        "validated_responses": 6,  # its three checks, indicators, year_over_year_growth, release_candidate
    }


def _job(base_dir, handed_on, make=lambda: frames()["mixed"]):
    @asset
    def big():
        return make()

    @asset(ins={"big": AssetIn()})
    def first(big) -> int:
        return len(big)

    @asset(ins={"big": AssetIn()})
    def second(big) -> int:
        return len(big)

    defs = Definitions(
        assets=[big, first, second],
        jobs=[define_asset_job("j", executor_def=in_process_executor)],
        resources={"io_manager": StepOutputIOManager(base_dir=str(base_dir), handed_on=handed_on)},
    )
    return defs.resolve_job_def("j")


def test_within_a_run_the_value_is_handed_on_then_let_go(tmp_path, monkeypatch):
    reads = []
    real = step_io.load_value
    monkeypatch.setattr(step_io, "load_value", lambda path: reads.append(path.name) or real(path))
    result = _job(tmp_path, {"big": 2}).execute_in_process(instance=DagsterInstance.ephemeral())
    assert result.success and reads == [] and held_values() == 0
    # written once (while the consumers ran), complete by the time the last consumer has it
    pd.testing.assert_frame_equal(load_value(tmp_path / "big"), frames()["mixed"], check_exact=True)
    # without a hand-off every consumer reads the file
    result = _job(tmp_path, {}).execute_in_process(instance=DagsterInstance.ephemeral())
    assert result.success and reads == ["big", "big"] and held_values() == 0


def test_a_value_whose_consumers_did_not_run_is_let_go_by_the_next_run(tmp_path):
    job = _job(tmp_path, {"big": 2})
    result = job.execute_in_process(instance=DagsterInstance.ephemeral(), asset_selection=[AssetKey("big")])
    assert result.success and held_values() == 1  # held for consumers that are not in this run
    job.execute_in_process(instance=DagsterInstance.ephemeral())
    assert held_values() == 0


def test_a_failed_background_write_fails_the_step_that_needs_the_file(tmp_path):
    def unpicklable():
        return {"frame": frames()["mixed"], "function": lambda: 1}  # a lambda cannot be pickled

    result = _job(tmp_path, {"big": 2}, make=unpicklable).execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False)
    failed = [event.step_key for event in result.get_step_failure_events()]
    assert failed in (["first"], ["second"])  # the consumer that had the value last, and needed the file
    assert not (tmp_path / "big").exists() and held_values() == 0
    wait_for_writes()
