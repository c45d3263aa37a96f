"""Generated plain-Danish sentences that state only what the published numbers support.

- "over/under landsgennemsnittet" only when the kommune's 95 % Wilson interval (ci_low..ci_high)
  excludes the national share; otherwise the difference is called uncertain.
- "steget/faldet" only when the year-over-year change is significant (q < 0.05, `significant` true).
- Nothing is said about a suppressed value: the caller passes no row, and gets a notice instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmark_pipeline import findings as fnd

from .formatting import NBSP, as_float, fmt_int, fmt_pct, fmt_pp, pp_phrase
from .model import is_true

# What a 95 % interval means, in one plain sentence (shown wherever intervals are).
INTERVAL_SENTENCE = (
    "Et 95\u00a0%-interval er beregnet, så det i 95 ud af 100 undersøgelser som denne vil indeholde den sande "
    "andel, hvis de, der har svaret, er et tilfældigt udsnit; det viser usikkerheden ved, at kun nogle har "
    "svaret, men ikke, om de, der svarede, adskiller sig fra dem, der ikke gjorde."
)


@dataclass(frozen=True)
class Comparison:
    """'over', 'under' or 'inden for' the national share, decided on the kommune's interval."""

    direction: str  # "over" | "under" | "usikker"
    diff_pp: float


def compare_to_national(share: float, ci_low: float | None, ci_high: float | None, national: float) -> Comparison:
    diff = (share - national) * 100
    if ci_low is not None and ci_low > national:
        return Comparison("over", diff)
    if ci_high is not None and ci_high < national:
        return Comparison("under", diff)
    return Comparison("usikker", diff)


def change_direction(yoy: dict | None) -> str | None:
    """'steget' / 'faldet' for a significant change, 'uændret' for a non-significant one, None if absent."""
    if yoy is None:
        return None
    diff = as_float(yoy.get("diff_pp"))
    if diff is None:
        return None
    if is_true(yoy.get("significant")) and diff != 0:
        return "steget" if diff > 0 else "faldet"
    return "uændret"


def headline_sentence(place: str, share: float, ci_low: float | None, ci_high: float | None,
                      national: float | None, what: str) -> str:
    """'I Københavns Kommune svarer 70 %, at de bruger ... – 10,0 procentpoint over landsgennemsnittet.'"""
    text = f"I {place} svarer {fmt_pct(share)}, at de {what}"
    if national is None:
        return text + "."
    cmp = compare_to_national(share, ci_low, ci_high, national)
    if cmp.direction in ("over", "under"):
        return (f"{text} \u2013 {pp_phrase(cmp.diff_pp)} {cmp.direction} landsgennemsnittet "
                f"({fmt_pct(national)}).")
    return (f"{text}. Landsgennemsnittet er {fmt_pct(national)}; forskellen er inden for den statistiske "
            "usikkerhed, så kommunen ligger ikke sikkert over eller under.")


def change_sentence(yoy: dict | None, base_year: int | None) -> str:
    """The change since the base year in words, claiming a rise or fall only when it is significant."""
    direction = change_direction(yoy)
    if direction is None:
        if base_year is None:
            return ""
        return f"Der er ikke et offentliggjort tal fra {base_year} at sammenligne med."
    diff = as_float(yoy["diff_pp"])
    year = int(yoy.get("base_year") or base_year)
    if direction in ("steget", "faldet"):
        return f"Andelen er {direction} med {pp_phrase(diff)} siden {year} (statistisk signifikant)."
    return (f"Ændringen siden {year} ({fmt_pp(diff)}{NBSP}procentpoint) er ikke statistisk signifikant, "
            "så tallene viser ikke en sikker stigning eller et sikkert fald.")


def rank_sentence(percentile: object, percentile_of: object, indicator_id: str) -> str:
    """'Målt på den udjævnede andel er kommunen nr. 2 af 6 offentliggjorte kommuner, hvor 1 er den højeste
    andel.' (counted from the lowest for an option where less is better; never 'bedst')."""
    phrase = fnd.rank_phrase(percentile, percentile_of, indicator_id)
    return f"Målt på den udjævnede andel er kommunen {phrase}." if phrase else ""


def requirement_sentence(minimum: int) -> str:
    """What it takes for a kommune's figures to be shown (the release's minimum, not a literal)."""
    return (f"En kommunes tal vises, når mindst {fmt_int(minimum)} fra kommunen har besvaret spørgsmålet, og "
            "tallet ikke kan bruges til at regne et andet skjult tal ud.")


def kommune_narrative(place: str, items: list[dict], base_year: int | None) -> list[str]:
    """Paragraphs for a kommune page. Each item: indicator_id, what, share, ci_low, ci_high, national, yoy.

    Items whose kommune value is suppressed must not be passed (the page shows a notice instead)."""
    out = []
    for it in items:
        sentences = [headline_sentence(place, it["share"], it.get("ci_low"), it.get("ci_high"),
                                       it.get("national"), it["what"])]
        change = change_sentence(it.get("yoy"), base_year)
        if change:
            sentences.append(change)
        out.append(" ".join(sentences))
    return out
