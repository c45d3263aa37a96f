"""The narrative claims only what the published numbers support."""

from __future__ import annotations

import pandas as pd

from benchmark_pipeline.reports.narrative import (
    change_sentence,
    compare_to_national,
    headline_sentence,
)


def test_over_and_under_only_when_the_interval_excludes_the_national_share():
    assert compare_to_national(0.70, 0.61, 0.78, 0.60).direction == "over"
    assert compare_to_national(0.40, 0.30, 0.55, 0.60).direction == "under"
    assert compare_to_national(0.70, 0.55, 0.82, 0.60).direction == "usikker"
    assert compare_to_national(0.70, 0.60, 0.82, 0.60).direction == "usikker"  # touching is not excluding


def test_headline_sentence_reads_like_the_example():
    text = headline_sentence("Københavns Kommune", 0.70, 0.61, 0.78, 0.60,
                             "bruger data mere end for et år siden")
    assert text.startswith("I Københavns Kommune svarer 70\u00a0%, at de bruger data mere end for et år siden")
    assert "10,0\u00a0procentpoint over landsgennemsnittet" in text
    uncertain = headline_sentence("Aarhus Kommune", 0.70, 0.50, 0.85, 0.60, "bruger data mere")
    assert "over landsgennemsnittet" not in uncertain and "under landsgennemsnittet" not in uncertain
    assert "statistiske usikkerhed" in uncertain


def test_change_is_called_a_rise_or_fall_only_when_significant():
    rise = {"diff_pp": 12.0, "significant": True, "base_year": 2023}
    fall = {"diff_pp": -8.0, "significant": True, "base_year": 2023}
    not_sig = {"diff_pp": 12.0, "significant": False, "base_year": 2023}
    unknown = {"diff_pp": 12.0, "significant": pd.NA, "base_year": 2023}
    assert "steget med 12,0" in change_sentence(rise, 2023)
    assert "faldet med 8,0" in change_sentence(fall, 2023)
    for row in (not_sig, unknown):
        text = change_sentence(row, 2023)
        assert "steget" not in text and "faldet" not in text
        assert "ikke statistisk signifikant" in text
    assert "ikke et offentliggjort tal fra 2023" in change_sentence(None, 2023)
    assert change_sentence(None, None) == ""


def test_rank_is_stated_plainly_and_the_way_round_the_option_needs():
    from benchmark_pipeline.reports.narrative import rank_sentence

    assert rank_sentence(100.0, 17, "data_use_change.mere") == (
        "Målt på den udjævnede andel er kommunen nr. 1 af 17 offentliggjorte kommuner, hvor 1 er den højeste andel.")
    low = rank_sentence(100 / 17, 17, "barriers.ledelse.top3")
    assert "nr. 1 af 17" in low and "hvor 1 er den laveste andel" in low
    assert "bedst" not in low
    assert rank_sentence(None, 17, "data_use_change.mere") == "" and rank_sentence(50.0, None, "x.y") == ""


def test_what_it_takes_to_be_shown_names_the_minimum():
    from benchmark_pipeline.reports.narrative import requirement_sentence

    assert "mindst 7 fra kommunen har besvaret" in requirement_sentence(7)
    assert "beskytt" not in requirement_sentence(7)
