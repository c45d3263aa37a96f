"""Answer propensities of the synthetic respondents, one profile per survey year.

A profile is data, keyed on the stable question and option ids (SURVEY.md section 1), so the generator
works for any year's instrument: options a profile does not name get a small default weight.

The years tell one story, so that year-over-year changes have something to find: Danish kommuner slowly
use more data. `mere` rises (60 % -> 66 % -> 74 %, `samme` falls), data is used more in implementation and
evaluation, anchored a little more with managers, the leadership barrier (`ledelse`) eases while lack of
time (`tid`) stays, AI moves from plans to pilots and production, and uncertainty about new technology
(`ny_teknologi`) grows as a barrier. Between 2023 and 2025 the big moves are clearly significant
nationally; between neighbouring years most are not. The large kommuner (`LARGE_KOMMUNER`) answer in every
year with enough respondents to be published, so their pages show a trend.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DEFAULT_OPTION_WEIGHT = 0.02


@dataclass(frozen=True)
class YearProfile:
    """Propensities for one survey year.

    - `single`: relative weights per option of each single-choice question.
    - `multi`: probability that each option of a multi-select question is chosen.
    - `exclusive`: per multi-select, an option chosen alone (`ingen`), with its probability; a small share
      of those also tick another option (`exclusive_mixed`, a validation warning, never an error).
    - `barrier_weights`: Plackett-Luce weights of the ranked question (higher = ranked earlier).
    - `ranked_counts`: probabilities of ranking 0 (question skipped), 1, 2 or 3 barriers.
    - `skip`: probability that a respondent leaves a question blank (item non-response).
    - `kommune_effect_sd`: spread of a per-kommune "data maturity" effect on the log-odds of the first
      option of `data_use_change`/`further_potential` and on every `use_contexts` option.
    - `comment_share`: share of respondents writing a free-text comment; `pii_comment_share` of those
      comments hold a CPR-like number and an e-mail address (for the masking to catch).
    - `andet_text_share`: of the respondents choosing `andet`, the share who typed their own text.
    - `kommune_respondents`: kommuner whose number of respondents a designed sample fixes, as an inclusive
      range per kommune code (the shipped samples draw each count from its range); the other kommuner are
      drawn around them.
    - `kommune_multi`: a kommune's own story in a shipped sample: per kommune code, multi-select question
      and option, the share of its respondents who tick it (the national count stays the profile's).
    """

    single: dict[str, dict[str, float]]
    multi: dict[str, dict[str, float]]
    barrier_weights: dict[str, float]
    exclusive: dict[str, tuple[str, float]] = field(default_factory=lambda: {"anchoring_levels": ("ingen", 0.08)})
    exclusive_mixed: float = 0.08
    ranked_counts: tuple[float, float, float, float] = (0.02, 0.02, 0.04, 0.92)
    skip: dict[str, float] = field(default_factory=dict)
    kommune_effect_sd: float = 0.35
    comment_share: float = 0.06
    pii_comment_share: float = 0.05
    andet_text_share: float = 0.6
    kommune_respondents: dict[str, tuple[int, int]] = field(default_factory=dict)
    kommune_multi: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def with_(self, **changes) -> "YearProfile":
        return replace(self, **changes)


_FAGOMRAADE = {
    "okonomi": 0.12, "social": 0.12, "sundhed_aeldre": 0.11, "boern_unge": 0.12, "beskaeftigelse": 0.10,
    "teknik_miljoe": 0.10, "digitalisering": 0.12, "analyse": 0.16, "andet": 0.05,
}
_STILLING = {
    "medarbejder": 0.34, "analytiker": 0.30, "teamleder": 0.12, "mellemleder": 0.16, "topleder": 0.04,
    "andet": 0.04,
}
# København, Aarhus, Odense, Aalborg, Frederiksberg: comfortably above the disclosure minimum every year (and
# above every other kommune, which the shipped samples keep below the smallest of these ranges).
LARGE_KOMMUNER_2023 = {"101": (11, 13), "751": (10, 12), "461": (9, 11), "851": (9, 11), "147": (9, 10)}
LARGE_KOMMUNER = {"101": (13, 16), "751": (12, 15), "461": (11, 14), "851": (11, 13), "147": (10, 12)}
# Fagsystemer and CPR the most used, but not by nearly everyone (a share near 100 % in a few hidden kommuner
# is what disclosure control must then protect by suppressing more).
_DATA_SOURCES = {"cpr": 0.68, "bbr": 0.50, "flis": 0.40, "fagsystemer": 0.72, "cvr": 0.33, "dst": 0.62, "andet": 0.07}

PROFILE_2023 = YearProfile(
    single={
        "fagomraade": _FAGOMRAADE,
        "stilling": _STILLING,
        "data_use_change": {"mere": 0.60, "samme": 0.31, "mindre": 0.04, "ved_ikke": 0.05},
        "further_potential": {"ja": 0.78, "nej": 0.12, "ved_ikke": 0.10},
    },
    multi={
        "use_contexts": {
            "monitorering": 0.70, "foranalyse": 0.62, "implementering": 0.29, "evaluering": 0.25,
            "ressourcer": 0.42, "politik": 0.37, "andet": 0.06,
        },
        "anchoring_levels": {
            "medarbejdere": 0.68, "teams": 0.56, "mellemledelse": 0.33, "topledelse": 0.04, "politisk": 0.12,
        },
        "data_sources": _DATA_SOURCES,
    },
    exclusive={"anchoring_levels": ("ingen", 0.10)},
    barrier_weights={
        "ledelse": 10.0, "tid": 8.0, "kompetencer": 4.0, "adgang": 3.4, "samarbejde": 3.0, "datakvalitet": 1.6,
        "it": 1.4, "okonomi": 1.2, "jura": 1.0, "andet": 0.35, "ny_teknologi": 1.0,
    },
    skip={"fagomraade": 0.01, "stilling": 0.01, "use_contexts": 0.02, "anchoring_levels": 0.03,
          "data_sources": 0.04},
    kommune_respondents=LARGE_KOMMUNER_2023,
)

# 2024: a little more of everything, nothing dramatic (most changes against 2023 are within the noise).
PROFILE_2024 = PROFILE_2023.with_(
    single={
        **PROFILE_2023.single,
        "data_use_change": {"mere": 0.66, "samme": 0.27, "mindre": 0.03, "ved_ikke": 0.04},
        "further_potential": {"ja": 0.79, "nej": 0.12, "ved_ikke": 0.09},
        "ai_use": {"drift": 0.06, "forsoeg": 0.17, "planlagt": 0.24, "nej": 0.41, "ved_ikke": 0.12},
    },
    multi={
        **PROFILE_2023.multi,
        "use_contexts": {**PROFILE_2023.multi["use_contexts"], "implementering": 0.36, "evaluering": 0.33},
        "anchoring_levels": {**PROFILE_2023.multi["anchoring_levels"], "topledelse": 0.07, "mellemledelse": 0.36},
    },
    barrier_weights={**PROFILE_2023.barrier_weights, "ledelse": 9.0, "ny_teknologi": 2.0, "kompetencer": 4.2},
    skip={**PROFILE_2023.skip, "data_use_change": 0.01, "further_potential": 0.01, "ai_use": 0.03},
    kommune_respondents=LARGE_KOMMUNER,
)

# 2025: data use has clearly grown since 2023 (`mere`, implementation, evaluation), leadership is less of a
# barrier while time is not, and AI has taken off since 2024 (production and pilots; uncertainty about it).
PROFILE_2025 = PROFILE_2024.with_(
    single={
        **PROFILE_2024.single,
        "data_use_change": {"mere": 0.74, "samme": 0.20, "mindre": 0.02, "ved_ikke": 0.04},
        "further_potential": {"ja": 0.81, "nej": 0.11, "ved_ikke": 0.08},
        "ai_use": {"drift": 0.14, "forsoeg": 0.29, "planlagt": 0.22, "nej": 0.26, "ved_ikke": 0.09},
    },
    multi={
        **PROFILE_2024.multi,
        "use_contexts": {**PROFILE_2024.multi["use_contexts"], "implementering": 0.44, "evaluering": 0.42,
                         "politik": 0.40},
        "anchoring_levels": {**PROFILE_2024.multi["anchoring_levels"], "topledelse": 0.11, "mellemledelse": 0.40,
                             "teams": 0.60},
    },
    barrier_weights={**PROFILE_2024.barrier_weights, "ledelse": 7.5, "tid": 8.0, "ny_teknologi": 4.2},
    # København has taken data into its implementation work: a change since 2023 its page can call a rise
    # (significant within its family), where the other kommuner's changes are within the noise.
    kommune_multi={"101": {"use_contexts": {"implementering": 0.88}}},
    # Microsoft Forms makes the respondent order every option, so a partial ranking cannot occur.
    ranked_counts=(0.02, 0.0, 0.0, 0.98),
)

PROFILES = {2023: PROFILE_2023, 2024: PROFILE_2024, 2025: PROFILE_2025}


def profile_for(survey_year: int) -> YearProfile:
    """The profile of the year, or of the nearest earlier year that has one (the 2023 one before 2023)."""
    earlier = [y for y in PROFILES if y <= survey_year]
    return PROFILES[max(earlier)] if earlier else PROFILES[min(PROFILES)]
