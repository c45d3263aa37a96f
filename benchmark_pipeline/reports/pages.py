"""Page contexts for the national report, the kommune pages and the kommune index.

Builders turn published rows into display-ready strings (Danish formatting) and chart specs; templates
only lay them out. A suppressed row contributes a notice, never a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from benchmark_pipeline import findings as fnd
from benchmark_pipeline.instrument import YearInstrument
from benchmark_pipeline.reference import NATIONAL_CODE, Kommuner
from benchmark_pipeline.settings import MIN_RESPONDENTS_FLOOR

from . import charts as ch
from .formatting import (
    NBSP,
    as_float,
    danish_key,
    fmt_int,
    fmt_pct,
    fmt_pct_interval,
    fmt_pp,
    fmt_score,
    fmt_score_interval,
    fmt_signed_int,
)
from .model import (
    BACKGROUND_QUESTIONS,
    HEADLINE_INDICATORS,
    HEADLINE_SHORT,
    HEADLINE_TEXT,
    Labels,
    YearData,
    geography_names,
    is_true,
    suppression_text,
)
from .narrative import (
    INTERVAL_SENTENCE,
    change_direction,
    compare_to_national,
    kommune_narrative,
    rank_sentence,
    requirement_sentence,
)

LAST_OPTIONS = ("andet", "ingen", "ved_ikke")  # kept last when a chart is sorted by size
SUBSTANTIVE_ORDER = ("data_use_change", "further_potential", "use_contexts", "anchoring_levels", "data_sources",
                     "ai_use")
RULE_TEXT = {
    "missing_id": "Manglende respondent-id",
    "conflicting_duplicate": "Samme respondent-id med forskellige svar",
    "unknown_kommune": "Kommunen kunne ikke genkendes",
    "invalid_value": "Ugyldig svarværdi",
    "invalid_rank": "Ugyldig rangering af barrierer",
}
HIDDEN_NA = "ikke offentliggjort"


def cell(text: str = "", cls: str = "num", hidden: str = "") -> dict:
    """A table cell; `hidden` is read by screen readers where the visible text is a dash."""
    return {"text": text, "cls": cls, "hidden": hidden}


def na_cell() -> dict:
    return cell("\u2013", "num na", HIDDEN_NA)


def table(caption: str, head: str, columns: list[str], sections: list[dict], note: str = "") -> dict:
    return {"caption": caption, "head": head, "columns": columns, "sections": sections, "note": note}


def change_cells(yoy: dict | None) -> list[dict]:
    """'Ændring (procentpoint)' and 'Signifikant' cells for one indicator."""
    if yoy is None:
        return [na_cell(), na_cell()]
    sig = change_direction(yoy) in ("steget", "faldet")
    return [cell(fmt_pp(yoy["diff_pp"])), cell("Ja" if sig else "Nej", "center")]


def change_columns(ctx: "Context", what: str = "Ændring", significant: str = "Signifikant ændring") -> list[str]:
    """A table's change columns; none in the first published year, which has nothing to compare with."""
    if not ctx.base_year:
        return []
    return [f"{what} siden {ctx.base_year} (procentpoint)", significant]


def year_change_cells(ctx: "Context", yoy: dict | None) -> list[dict]:
    """The cells under `change_columns`: none in the first published year."""
    return change_cells(yoy) if ctx.base_year else []


@dataclass
class Context:
    survey_year: int
    year: YearData
    labels: Labels
    kommuner: Kommuner
    history: list[YearData]
    min_respondents: int = MIN_RESPONDENTS_FLOOR
    names: dict = field(default_factory=dict)

    @cached_property
    def kommune_rows(self) -> dict[str, dict]:
        """Each kommune's reference row by code, looked up once per page instead of indexing the table."""
        return {str(r["kommune_kode"]): r for r in self.kommuner.table.to_dict("records")}

    @property
    def base_year(self) -> int | None:
        return self.year.base_year or (self.history[-1].survey_year if self.history else None)

    @property
    def first_year(self) -> int:
        """The first published survey year the report knows of (this year when it has no history)."""
        return self.history[0].survey_year if self.history else self.survey_year

    def warm(self) -> None:
        """Compute what every page reads (the findings, the reference rows and the tables' lookups) once, so
        that processes forked to write the pages share it instead of each computing it again."""
        self.findings, self.kommune_rows  # noqa: B018  (cached properties)
        for yd in (*self.history, self.year):
            yd.warm()

    @cached_property
    def findings(self) -> dict[str, list[fnd.Finding]]:
        """The year's findings by geography code (the same list the workbook and the UI can read)."""
        return fnd.findings_for_year(self.year.raw_tables, self.labels.instrument, self.kommuner, self.survey_year)

    def finding_items(self, findings: list[fnd.Finding]) -> list[dict]:
        """Findings as the templates show them: the sentence, with the label-change footnote mark."""
        out = []
        for f in findings:
            note = self.labels.footnote(f.question_id, f.option_id) if f.indicator_id else None
            out.append({"text": f.sentence, "kind": f.kind, "tone": f.tone, "mark": superscript(note) if note else "",
                        "note": note})
        return out

    def option_label(self, question: str, option: str, mark: bool = True) -> str:
        label = self.labels.option(question, option)
        note = self.labels.footnote(question, option)
        return f"{label} {superscript(note)}" if (mark and note) else label


def superscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def option_ids(ctx: Context, question: str) -> list[str]:
    q = ctx.labels.question(question)
    return list(q.option_ids) if q else []


# -- national -------------------------------------------------------------------------------------

def headline_cards(ctx: Context) -> list[dict]:
    cards = []
    for ind in HEADLINE_INDICATORS:
        row = ctx.year.national(ind)
        if row is None:
            continue
        card = {"label": HEADLINE_SHORT[ind], "question": ctx.labels.question_text(ind.split(".")[0])}
        if is_true(row.get("suppressed")):
            card.update(value="\u2013", interval="", change="Tallet offentliggøres ikke.", significant=False)
        else:
            card.update(value=fmt_pct(row["share"]), interval=fmt_pct_interval(row["ci_low"], row["ci_high"]),
                        n=fmt_int(row.get("n")), count=fmt_int(row.get("count")))
            yoy = ctx.year.yoy("national", NATIONAL_CODE, ind)
            direction = change_direction(yoy)
            if direction in ("steget", "faldet"):
                card.update(change=f"{direction.capitalize()} med {fmt_pp(abs(as_float(yoy['diff_pp'])), signed=False)}"
                                   f"{NBSP}procentpoint siden {int(yoy['base_year'])}", significant=True,
                            change_detail="Ændringen er statistisk signifikant.")
            elif direction == "uændret":
                card.update(change=f"{fmt_pp(yoy['diff_pp'])}{NBSP}procentpoint siden {int(yoy['base_year'])}",
                            significant=False, change_detail="Ændringen er ikke statistisk signifikant.")
            elif ctx.base_year:
                card.update(change=f"Ingen sammenligning med {ctx.base_year}", significant=False)
            else:
                card.update(change="Første år i serien", significant=False)
        cards.append(card)
    return cards


def _share_bars(ctx: Context, question: str, level: str, code: str, sort: bool, role: str = "national"):
    bars, notes, rows = [], [], []
    opts = option_ids(ctx, question)
    for opt in opts:
        ind = f"{question}.{opt}" if question != "barriers" else f"{question}.{opt}.top3"
        row = ctx.year.value(level, code, ind)
        if row is None:
            continue
        rows.append((opt, ind, row))
    if sort:
        rows.sort(key=lambda r: (r[0] in LAST_OPTIONS, -(as_float(r[2].get("share")) or -1)))
    for opt, ind, row in rows:
        label = ctx.option_label(question, opt)
        if is_true(row.get("suppressed")):
            notes.append(f"{label}: {HIDDEN_NA}")
            continue
        bars.append(ch.Bar(label, as_float(row["share"]), as_float(row.get("ci_low")), as_float(row.get("ci_high")),
                           role=role))
    return bars, notes, rows


def question_figure(ctx: Context, question: str, figure_label: str = "") -> dict | None:
    """Chart + table of a share question at national level (all options, intervals, change)."""
    if not ctx.year.has_question(question):
        return None
    sort = ctx.labels.question(question).kind == "multi"
    bars, notes, rows = _share_bars(ctx, question, "national", NATIONAL_CODE, sort)
    text = ctx.labels.question_text(question)
    n = next((fmt_int(r.get("n")) for _, _, r in rows if not is_true(r.get("suppressed"))), "")
    alt = ch.describe_bars(f"Vandret søjlediagram. {text} Andel af besvarelserne i hele landet {ctx.survey_year}",
                           [ch.Panel("", bars, notes)], "share")
    spec = ch.BarChart(key=f"fig-{question}", alt=alt, panels=[ch.Panel("", bars, notes)],
                       xlabel="Andel af besvarelserne (vandrette streger: 95\u00a0%-konfidensinterval)")
    cols = ["Andel", "95\u00a0%-interval", "Antal", *change_columns(ctx)]
    trows = []
    for opt, ind, row in rows:
        label = ctx.option_label(question, opt)
        if is_true(row.get("suppressed")):
            trows.append({"head": label, "cells": [na_cell()] * len(cols)})
            continue
        trows.append({"head": label, "cells": [
            cell(fmt_pct(row["share"])), cell(fmt_pct_interval(row["ci_low"], row["ci_high"])),
            cell(fmt_int(row.get("count"))), *year_change_cells(ctx, ctx.year.yoy("national", NATIONAL_CODE, ind))]})
    caption = f"{figure_label + ': ' if figure_label else ''}{text} Hele landet {ctx.survey_year}"
    if n:
        caption += f", {n} besvarelser"
    return {
        "id": f"sektion-{question.replace('_', '-')}",
        "heading": ctx.labels.question_text(question),
        "figure_label": figure_label,
        "svg": ch.LazySVG(spec),
        "spec": spec,
        "table": table(caption, "Svarmulighed", cols, [{"title": None, "rows": trows}]),
        "footnotes": footnotes_for(ctx, question),
    }


def footnotes_for(ctx: Context, question: str) -> list[dict]:
    return [c for c in ctx.labels.changes if c["question"] == question]


def barrier_figure(ctx: Context, level: str = "national", code: str = NATIONAL_CODE, key: str = "fig-barriers",
                   figure_label: str = "Figur 3") -> dict | None:
    ids = [b for b in option_ids(ctx, "barriers") if ctx.year.barrier(level, code, b) is not None]
    if not ids:
        return None
    rows = [(b, ctx.year.barrier(level, code, b)) for b in ids]
    rows.sort(key=lambda r: (r[0] == "andet", -(as_float(r[1].get("score")) or -1)))
    bars, notes, trows = [], [], []
    n = ""
    for b, row in rows:
        label = ctx.option_label("barriers", b)
        if is_true(row.get("suppressed")):
            notes.append(f"{label}: {HIDDEN_NA}")
            trows.append({"head": label, "cells": [na_cell()] * (4 + len(change_columns(ctx)))})
            continue
        n = n or fmt_int(row.get("n"))
        bars.append(ch.Bar(label, as_float(row["score"]), as_float(row.get("score_ci_low")),
                           as_float(row.get("score_ci_high")), role=level))
        yoy = ctx.year.yoy(level, code, f"barriers.{b}.top3")
        trows.append({"head": label, "cells": [
            cell(fmt_score(row["score"])), cell(fmt_score_interval(row.get("score_ci_low"), row.get("score_ci_high"))),
            cell(fmt_pct(row.get("top3_share"))), cell(fmt_pct(row.get("first_share"))), *year_change_cells(ctx, yoy)]})
    place = ctx.names.get((level, code), "")
    title = ctx.labels.question_text("barriers")
    alt = ch.describe_bars(f"Vandret søjlediagram. {title} Vægtet resultat (0-100), {place} {ctx.survey_year}",
                           [ch.Panel("", bars, notes)], "score")
    spec = ch.BarChart(key=key, alt=alt, panels=[ch.Panel("", bars, notes)], scale="score",
                       xlabel="Vægtet score, 0-100 (3 point for 1. plads, 2 for 2., 1 for 3.)")
    cols = ["Vægtet score", "95\u00a0%-interval", "Andel med barrieren i top 3", "Andel med barrieren som nr. 1",
            *change_columns(ctx, "Ændring i top 3-andel")]
    caption = f"{figure_label + ': ' if figure_label else ''}{title} Vægtet resultat, {place} {ctx.survey_year}"
    if n and level != "kommune":
        caption += f", {n} besvarelser"
    return {
        "id": "sektion-barrierer",
        "heading": "Barrierer for at bruge data mere",
        "figure_label": figure_label,
        "svg": ch.LazySVG(spec) if bars else None,
        "spec": spec,
        "table": table(caption, "Barriere", cols, [{"title": None, "rows": trows}]),
        "footnotes": footnotes_for(ctx, "barriers"),
        "intro": title,
    }


def headline_series(years: list[YearData], level: str, code: str) -> list[ch.Series]:
    """One line per headline indicator through the years it is published in; an indicator published in
    fewer than two years gets no line (a one-point "trend" says nothing)."""
    series = []
    for ind in HEADLINE_INDICATORS:
        rows = [(yd.survey_year, yd.value(level, code, ind)) for yd in years]
        rows = [(y, r) for y, r in rows if _published_share(r)]
        if len(rows) < 2:
            continue
        series.append(ch.Series(HEADLINE_SHORT[ind], [y for y, _ in rows], [as_float(r["share"]) for _, r in rows],
                                [as_float(r.get("ci_low")) for _, r in rows],
                                [as_float(r.get("ci_high")) for _, r in rows],
                                role=level))  # one colour per geography; the indicators by marker and line style
    return series


def trend_alt(place: str, series: list[ch.Series]) -> str:
    """The line chart's text alternative: every point with its interval."""
    parts = [f"{s.label}: " + "; ".join(
        f"{y}: {fmt_pct(v)} (95{NBSP}%-interval {fmt_pct_interval(lw, h)})"
        for y, v, lw, h in zip(s.years, s.values, s.lows, s.highs)) + "." for s in series]
    return " ".join([f"Linjediagram over udviklingen i {place}.", *parts])


def _published_share(row: dict | None) -> bool:
    return row is not None and not is_true(row.get("suppressed")) and as_float(row.get("share")) is not None


def trend_section(ctx: Context) -> dict:
    years = [*ctx.history, ctx.year]
    series, trows = headline_series(years, "national", NATIONAL_CODE), []
    for yd in years:
        cells = []
        for ind in HEADLINE_INDICATORS:
            row = yd.national(ind)
            if row is None or is_true(row.get("suppressed")):
                cells += [na_cell(), na_cell()]
            else:
                cells += [cell(fmt_pct(row["share"])), cell(fmt_pct_interval(row["ci_low"], row["ci_high"]))]
        summary = yd.summary or {}
        cells.append(cell(fmt_int(summary.get("respondents"))))
        trows.append({"head": str(yd.survey_year), "cells": cells})
    cols = []
    for ind in HEADLINE_INDICATORS:
        cols += [HEADLINE_SHORT[ind], "95\u00a0%-interval"]
    cols.append("Respondenter")
    spec = ch.TrendChart(key="fig-trend", alt=trend_alt("hele landet", series), series=series)
    # barrier scores by year
    brows = []
    for b in option_ids(ctx, "barriers"):
        cells, any_value = [], False
        for yd in years:
            row = yd.barrier("national", NATIONAL_CODE, b)
            if row is None or is_true(row.get("suppressed")) or as_float(row.get("score")) is None:
                cells.append(na_cell())
            else:
                any_value = True
                cells.append(cell(fmt_score(row["score"])))
        if any_value:
            brows.append({"head": ctx.option_label("barriers", b), "cells": cells})
    since_table = since_first_table(ctx, years)
    since = [f for f in ctx.findings.get(NATIONAL_CODE, []) if f.kind in ("change_first_year", "trend")
             or (f.kind == "change_previous_year" and f.get("base_year") == ctx.first_year)]
    since_items = ctx.finding_items(fnd.highlights(since, limit=len(since)))  # the strongest of each option
    if (not since_items and since_table["rows"] and since_table["compared"] == len(since_table["rows"])
            and not since_table["significant"]):
        text = "Ingen af ændringerne i tabellen siden første år er statistisk signifikante"
        text += ", og ingen af udviklingerne pr. år er det heller." if since_table["trended"] else "."
        since_items = [{"text": text, "mark": "", "note": None, "kind": "", "tone": "neutral"}]
    return {
        "single_year": len(years) == 1,
        "first_year": years[0].survey_year,
        "since": since_table["table"] if since_table["rows"] else None,
        "since_items": since_items,
        "svg": ch.LazySVG(spec) if series else None,
        "spec": spec,
        "table": table(f"Udviklingen i hele landet, {years[0].survey_year}-{years[-1].survey_year}", "År", cols,
                       [{"title": None, "rows": trows}]),
        "barrier_table": table("Barrierernes vægtede score i hele landet efter år", "Barriere",
                               [str(yd.survey_year) for yd in years], [{"title": None, "rows": brows}]),
        "footnotes": footnotes_for(ctx, "barriers"),
    }


def since_first_table(ctx: Context, years: list[YearData]) -> dict:
    """The change since each series' first published year and the trend over all years, in hele landet, for
    the headline indicators and the barriers (share with the barrier in their top 3)."""
    year = ctx.survey_year
    cols = ["Første år", "Andel første år", f"Andel {year}", "Ændring siden første år (procentpoint)",
            "Signifikant ændring", "Udvikling pr. år (procentpoint)", "Signifikant udvikling"]
    rows, compared, trended, significant = [], 0, 0, 0
    if len(years) > 1:
        barriers = [f"barriers.{b}.top3" for b in option_ids(ctx, "barriers") if b != "andet"]
        indicators = [*HEADLINE_INDICATORS, *barriers]
        for ind in indicators:
            first = next((yd for yd in years if _published_share(yd.national(ind))), None)
            now = ctx.year.national(ind)
            if first is None or first.survey_year == year or not _published_share(now):
                continue
            change = ctx.year.since_first("national", NATIONAL_CODE, ind, first.survey_year)
            trend = ctx.year.trend("national", NATIONAL_CODE, ind)
            compared += change is not None
            trended += trend is not None
            significant += (change_direction(change) in ("steget", "faldet")
                            or is_true((trend or {}).get("significant")))
            question, option, _ = fnd.split_indicator(ind)
            label = HEADLINE_SHORT.get(ind) or f"Barriere: {ctx.option_label(question, option)}"
            none = cell("\u2013", "num na", "ingen sammenligning")
            change_part = [none, none] if change is None else change_cells(change)
            trend_part = [none, none] if trend is None else [
                cell(fmt_pp(trend["slope_pp_per_year"])),
                cell("Ja" if is_true(trend.get("significant")) else "Nej", "center")]
            rows.append({"head": label, "cells": [
                cell(str(first.survey_year), "center"), cell(fmt_pct(first.national(ind)["share"])),
                cell(fmt_pct(now["share"])), *change_part, *trend_part]})
    caption = f"Ændringen i hele landet siden første år og udviklingen pr. år, {years[0].survey_year}-{year}"
    note = ("Barrierer: andelen, der har barrieren blandt deres tre væsentligste. Udviklingen pr. år vises, når "
            "der er tal fra mindst tre år.")
    return {"rows": rows, "compared": compared, "trended": trended, "significant": significant,
            "table": table(caption, "Tal", cols, [{"title": None, "rows": rows}], note=note)}


def geography_section(ctx: Context, level: str) -> dict:
    t = ctx.kommuner.table
    col = "region_kode" if level == "region" else "kommunegruppe_kode"
    codes = ch.geography_order(ctx.names, level, {str(c) for c in t[col]})  # the chart's order, and the table's
    panels = []
    for ind in HEADLINE_INDICATORS:
        nat = ctx.year.national(ind)
        nat_share = None if nat is None or is_true(nat.get("suppressed")) else as_float(nat.get("share"))
        bars, notes = [], []
        for code in codes:
            row = ctx.year.value(level, code, ind)
            if row is None:
                continue
            name = ctx.names.get((level, code), code)
            if is_true(row.get("suppressed")):
                notes.append(f"{name}: {HIDDEN_NA}")
                continue
            bars.append(ch.Bar(name, as_float(row["share"]), as_float(row.get("ci_low")), as_float(row.get("ci_high")),
                               role=level))
        if nat_share is not None:
            notes.append(f"landsgennemsnit {fmt_pct(nat_share)}")
        panels.append(ch.Panel(HEADLINE_SHORT[ind], bars, notes, reference=nat_share))
    what = "regioner" if level == "region" else "kommunegrupper"
    alt = ch.describe_bars(f"Vandret søjlediagram, der sammenligner {what} {ctx.survey_year}", panels, "share")
    spec = ch.BarChart(key=f"fig-{level}", alt=alt, panels=panels, reference_label="Landsgennemsnit")
    cols = ["Besvarelser"]
    for ind in HEADLINE_INDICATORS:
        cols += [HEADLINE_SHORT[ind], "95\u00a0%-interval", *change_columns(ctx, "Ændring", "Signifikant")]
    trows = []
    for code in [*codes, NATIONAL_CODE]:
        lvl = "national" if code == NATIONAL_CODE else level
        cells = []
        n_row = ctx.year.value(lvl, code, HEADLINE_INDICATORS[0])
        cells.append(na_cell() if n_row is None or is_true(n_row.get("suppressed")) else cell(fmt_int(n_row.get("n"))))
        for ind in HEADLINE_INDICATORS:
            row = ctx.year.value(lvl, code, ind)
            if row is None or is_true(row.get("suppressed")):
                cells += [na_cell()] * (2 + len(change_columns(ctx)))
                continue
            cells += [cell(fmt_pct(row["share"])), cell(fmt_pct_interval(row["ci_low"], row["ci_high"])),
                      *year_change_cells(ctx, ctx.year.yoy(lvl, code, ind))]
        trows.append({"head": ctx.names.get((lvl, code), code), "cells": cells, "total": code == NATIONAL_CODE})
    heading = "Regionerne" if level == "region" else "Kommunegrupperne"
    return {
        "id": f"sektion-{level}",
        "heading": heading,
        "svg": ch.LazySVG(spec),
        "spec": spec,
        "table": table(f"{heading} sammenlignet med hele landet {ctx.survey_year}",
                       "Region" if level == "region" else "Kommunegruppe", cols, [{"title": None, "rows": trows}],
                       note="Besvarelser er antallet, der har svaret på spørgsmålet om databrug."),
    }


def method_section(ctx: Context) -> dict:
    s = ctx.year.summary or {}
    items = [
        ("Respondenter (gyldige besvarelser)", "respondents"),
        ("Kommuner med mindst én besvarelse", "responding_kommuner"),
        ("Tomme besvarelser (ingen svar på indholdsspørgsmålene)", "non_responses"),
        ("Rækker frasorteret ved validering (karantæne)", "quarantined_rows"),
    ]
    base = ctx.base_year
    srows = [{"head": label, "cells": [cell(fmt_int(s.get(key))),
                                       *([cell(fmt_signed_int(s.get(f"{key}_change"), "\u2013"))] if base else [])]}
             for label, key in items]
    qs = ctx.year.tables["quarantine_summary"]
    qrows = []
    if not qs.empty:
        for r in qs.to_dict("records"):
            qrows.append({"head": RULE_TEXT.get(str(r.get("rule")), str(r.get("rule"))),
                          "cells": [cell(str(r.get("column") or ""), "text"), cell(fmt_int(r.get("rows")))]})
    # how many kommuner are published for the headline question (counts of kommuner, not of people)
    reasons = {"published": 0, "no_respondents": 0, "confidential": 0}
    for kode in ctx.kommuner.codes:
        row = ctx.year.value("kommune", kode, HEADLINE_INDICATORS[0])
        if row is None:
            continue
        if is_true(row.get("suppressed")):
            key = str(row.get("suppression_reason"))
            reasons[key] = reasons.get(key, 0) + 1
        else:
            reasons["published"] += 1
    return {
        "summary": table(f"Datagrundlaget {ctx.survey_year}", "Opgørelse",
                         ["Antal", *([f"Ændring siden {base}"] if base else [])], [{"title": None, "rows": srows}]),
        "quarantine": table(f"Frasorterede rækker efter årsag {ctx.survey_year}", "Årsag", ["Spørgsmål/kolonne", "Rækker"],
                            [{"title": None, "rows": qrows}]) if qrows else None,
        "reasons": reasons,
        "min": ctx.min_respondents,
    }


def national_context(ctx: Context) -> dict:
    figures = [f for f in (
        question_figure(ctx, "use_contexts", "Figur 1"),
        question_figure(ctx, "anchoring_levels", "Figur 2"),
        barrier_figure(ctx),
    ) if f]
    more = [f for f in (question_figure(ctx, q) for q in ("data_use_change", "further_potential")) if f]
    sources = [f for f in (question_figure(ctx, q) for q in ("data_sources", "ai_use")) if f]
    top = ctx.finding_items(fnd.highlights(ctx.findings.get(NATIONAL_CODE, []), limit=6))
    return {
        "highlights": top,
        "highlight_notes": [c for c in ctx.labels.changes if any(i["note"] == c["number"] for i in top)],
        "interval_sentence": INTERVAL_SENTENCE,
        "cards": headline_cards(ctx),
        "figures": figures,
        "headline_details": more,
        "sources": sources,
        "trend": trend_section(ctx),
        "geographies": [geography_section(ctx, "region"), geography_section(ctx, "kommunegruppe")],
        "method": method_section(ctx),
        "has_ai": ctx.year.has_question("ai_use"),
    }


# -- kommune pages --------------------------------------------------------------------------------

class KommuneCharts:
    """Kommune comparison charts, drawn on reused figures (one per chart shape)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.pool = ch.FigurePool()
        self.trends = ch.TrendPool()  # the kommune trend charts, one figure per shape too

    def spec(self, kode: str, region: str, group: str, published: dict[str, dict]) -> ch.BarChart:
        ctx = self.ctx
        panels = []
        name = ctx.names[("kommune", kode)]
        for ind in HEADLINE_INDICATORS:
            bars, notes = [], []
            entries = [("kommune", kode), ("region", region), ("kommunegruppe", group), ("national", NATIONAL_CODE)]
            for level, code in entries:
                if level == "kommune" and ind not in published:
                    continue
                row = ctx.year.value(level, code, ind)
                label = ctx.names.get((level, code), code)
                if level == "kommunegruppe":
                    label = f"{label} (kommunegruppe)"
                if row is None or is_true(row.get("suppressed")):
                    if level != "kommune":
                        notes.append(f"{label}: {HIDDEN_NA}")
                    continue
                bars.append(ch.Bar(label, as_float(row["share"]), as_float(row.get("ci_low")),
                                   as_float(row.get("ci_high")), role=level))
            panels.append(ch.Panel(HEADLINE_SHORT[ind], bars, notes))
        if published:
            who = name
        else:  # shared by every suppressed kommune with the same region and group: no kommune name
            who = f"{ctx.names[('region', region)]} og kommunegruppen {ctx.names[('kommunegruppe', group)]}"
        alt = ch.describe_bars(f"Vandret søjlediagram, der sammenligner {who} med hele landet {ctx.survey_year}",
                               panels, "share")
        return ch.BarChart(key="fig-kommune", alt=alt, panels=panels,
                           xlabel="Andel (vandrette streger: 95\u00a0%-konfidensinterval)")

    def svg(self, kode: str, region: str, group: str, published: dict[str, dict]):
        """The chart of a kommune with published headline values; None for a suppressed kommune (its page
        shows the notice and a comparison table instead of a chart)."""
        spec = self.spec(kode, region, group, published)
        if not published:
            return spec, None
        return spec, ch.to_svg(spec, self.pool.figure(spec))


def spec_table(spec: ch.BarChart, caption: str, head: str) -> dict:
    """The numbers of a bar chart as a table (shown beside the chart)."""
    sections = []
    for panel in spec.panels:
        rows = [{"head": b.label, "cells": [cell(ch.bar_text(b.value, spec.scale)),
                                            cell(ch.interval_text(b.low, b.high, spec.scale))]}
                for b in panel.bars]
        rows += [{"head": note.split(": ")[0], "cells": [na_cell(), na_cell()]}
                 for note in panel.notes if note.endswith(HIDDEN_NA)]
        sections.append({"title": panel.title or None, "rows": rows})
    return table(caption, head, ["Andel" if spec.scale == "share" else "Score", "95\u00a0%-interval"], sections)


def kommune_table(ctx: Context, kode: str, questions: tuple[str, ...], caption: str, kb: dict[str, dict]) -> dict:
    changes = change_columns(ctx)
    cols = ["Kommunen", "95\u00a0%-interval", *changes, "Regionen", "Kommunegruppen", "Hele landet", "Forskel til landet (procentpoint)",
            "Placering (1 = højeste andel)"]
    row = ctx.kommune_rows[kode]
    region, group = row["region_kode"], row["kommunegruppe_kode"]
    sections = []
    for q in questions:
        if not ctx.year.has_question(q):
            continue
        rows, note, n = [], "", ""
        suffix = ".top3" if q == "barriers" else ""
        for opt in option_ids(ctx, q):
            ind = f"{q}.{opt}{suffix}"
            row = ctx.year.value("kommune", kode, ind)
            if row is None:
                continue
            refs = [ctx.year.share(level, code, ind) for level, code in
                    (("region", region), ("kommunegruppe", group), ("national", NATIONAL_CODE))]
            ref_cells = [cell(fmt_pct(v)) if v is not None else na_cell() for v in refs]
            label = ctx.option_label(q, opt)
            if is_true(row.get("suppressed")):
                note = suppression_text(row.get("suppression_reason"), ctx.min_respondents)
                rows.append({"head": label, "cells": [na_cell()] * (2 + len(changes)) + [*ref_cells, na_cell(),
                                                                                        na_cell()]})
                continue
            b = kb.get(ind, {})
            n = n or fmt_int(row.get("n"))
            place = fnd.rank_position(b.get("percentile"), b.get("percentile_of"), None)
            rows.append({"head": label, "cells": [
                cell(fmt_pct(row["share"])), cell(fmt_pct_interval(row["ci_low"], row["ci_high"])),
                *year_change_cells(ctx, ctx.year.yoy("kommune", kode, ind)), *ref_cells,
                cell(fmt_pp(b.get("diff_national_pp"), "\u2013")),
                cell(f"{place[0]} af {place[1]}") if place else na_cell()]})
        if rows:
            title = ctx.labels.question_text(q)
            if q == "barriers":
                title += " (andel med barrieren i top 3)"
            if n:
                title += f" \u2013 {n} besvarelser"
            sections.append({"title": title, "note": f"Kommunens tal offentliggøres ikke: {note}." if note else "",
                             "rows": rows})
    return table(caption, "Svarmulighed", cols, sections)


def group_table(ctx: Context, kode: str, group_name: str, kb: dict[str, dict]) -> dict | None:
    """The kommune beside the lowest, median and highest published kommune of its kommunegruppe, and its
    place among all published kommuner, for the headline indicators."""
    rows = []
    for ind in HEADLINE_INDICATORS:
        b = kb.get(ind, {})
        if as_float(b.get("share")) is None or as_float(b.get("group_published")) is None:
            continue
        place = fnd.rank_phrase(b.get("percentile"), b.get("percentile_of"), ind)
        rows.append({"head": HEADLINE_SHORT[ind], "cells": [
            cell(fmt_pct(b["share"])), cell(fmt_pct(b.get("group_min"))), cell(fmt_pct(b.get("group_median"))),
            cell(fmt_pct(b.get("group_max"))), cell(fmt_int(b.get("group_published"))),
            cell(place[0].upper() + place[1:], "text") if place else na_cell()]})
    if not rows:
        return None
    return table(f"Kommunen i kommunegruppen {group_name} {ctx.survey_year}", "Tal",
                 ["Kommunen", "Gruppens laveste", "Gruppens median", "Gruppens højeste",
                  "Kommuner i gruppen med offentliggjorte tal", "Placering i hele landet (udjævnet andel)"],
                 [{"title": None, "rows": rows}])


def other_year_href(survey_year: int, release_id: str, kode: str) -> str:
    """The kommune's page in another year's release, relative to this page: releases sit side by side as
    releases/<year>/<release_id>/reports/kommuner/<kode>.html."""
    return f"../../../../{survey_year}/{release_id}/reports/kommuner/{kode}.html"


def kommune_trend(ctx: Context, kode: str, name: str, published: bool, charts: KommuneCharts | None = None) -> dict:
    """The kommune's headline indicators in every published year (a table, and a line chart when an
    indicator is published in two years or more), and links to its pages in the earlier years' releases
    (a release never changes, so a page cannot link to a later year). A kommune without published headline
    values this year gets the links only."""
    years = [*ctx.history, ctx.year]
    links = [{"year": yd.survey_year, "href": other_year_href(yd.survey_year, yd.release_id, kode),
              "text": f"{name} {yd.survey_year}"} for yd in ctx.history if yd.release_id]
    out = {"links": links, "table": None, "svg": None, "first_year": years[0].survey_year}
    if not published or len(years) < 2:
        return out
    cols, rows = [], []
    for ind in HEADLINE_INDICATORS:
        cols += [HEADLINE_SHORT[ind], "95\u00a0%-interval", "Besvarelser"]
    for yd in years:
        cells = []
        for ind in HEADLINE_INDICATORS:
            row = yd.value("kommune", kode, ind)
            if not _published_share(row):
                cells += [na_cell()] * 3
                continue
            cells += [cell(fmt_pct(row["share"])), cell(fmt_pct_interval(row.get("ci_low"), row.get("ci_high"))),
                      cell(fmt_int(row.get("n")))]
        rows.append({"head": str(yd.survey_year), "cells": cells})
    out["table"] = table(f"Udviklingen i {name}, {years[0].survey_year}-{ctx.survey_year}", "År", cols,
                         [{"title": None, "rows": rows}])
    series = headline_series(years, "kommune", kode)
    if series:
        spec = ch.TrendChart(key="fig-kommune-trend", alt=trend_alt(name, series), series=series)
        out["svg"] = ch.to_svg(spec, charts.trends.figure(spec) if charts is not None else None)
    return out


def kommune_context(ctx: Context, kode: str, charts: KommuneCharts) -> dict:
    t = ctx.kommune_rows[kode]
    name = t["officielt_navn"]
    region, group = str(t["region_kode"]), str(t["kommunegruppe_kode"])
    kb = ctx.year.benchmarks(kode)
    published, items, notices = {}, [], []
    for ind in HEADLINE_INDICATORS:
        row = ctx.year.value("kommune", kode, ind)
        if row is None:
            continue
        if is_true(row.get("suppressed")):
            notices.append(suppression_text(row.get("suppression_reason"), ctx.min_respondents))
            continue
        published[ind] = row
        nat = ctx.year.share("national", NATIONAL_CODE, ind)
        b = kb.get(ind, {})
        nat_b = as_float(b.get("national_share"))
        items.append({"indicator_id": ind, "what": HEADLINE_TEXT[ind], "share": as_float(row["share"]),
                      "ci_low": as_float(row.get("ci_low")), "ci_high": as_float(row.get("ci_high")),
                      "national": nat_b if nat_b is not None else nat,
                      "yoy": ctx.year.yoy("kommune", kode, ind), "percentile": b.get("percentile")})
    paragraphs = kommune_narrative(name, items, ctx.base_year)
    for p, it in zip(range(len(paragraphs)), items):
        b = kb.get(it["indicator_id"], {})
        extra = rank_sentence(b.get("percentile"), b.get("percentile_of"), it["indicator_id"])
        if extra:
            paragraphs[p] += " " + extra
    facts = []
    for it in items:
        cmp = compare_to_national(it["share"], it["ci_low"], it["ci_high"], it["national"]) if it["national"] is not None else None
        facts.append({"indicator_id": it["indicator_id"], "comparison": cmp.direction if cmp else None,
                      "change": change_direction(it["yoy"])})
    spec, svg = charts.svg(kode, region, group, published)
    any_published = any(not is_true(r.get("suppressed")) for r in
                        (ctx.year.value("kommune", kode, i) or {"suppressed": True} for i in ctx.year.indicator_ids))
    barrier_rows = []
    for b in option_ids(ctx, "barriers"):
        row = ctx.year.barrier("kommune", kode, b)
        nat = ctx.year.barrier("national", NATIONAL_CODE, b)
        if row is None:
            continue
        label = ctx.option_label("barriers", b)
        nat_cell = (cell(fmt_score(nat["score"])) if nat is not None and not is_true(nat.get("suppressed"))
                    else na_cell())
        if is_true(row.get("suppressed")):
            barrier_rows.append({"head": label, "cells": [na_cell(), na_cell(), nat_cell]})
        else:
            barrier_rows.append({"head": label, "sort": -(as_float(row.get("score")) or 0), "cells": [
                cell(fmt_score(row["score"])), cell(fmt_score_interval(row.get("score_ci_low"), row.get("score_ci_high"))),
                nat_cell]})
    barrier_rows.sort(key=lambda r: r.get("sort", 0))
    barriers_published = any("sort" in r for r in barrier_rows)
    answers = [as_float((ctx.year.value("kommune", kode, i) or {}).get("n")) for i in ctx.year.indicator_ids]
    answers = [a for a in answers if a is not None]
    standout = ctx.finding_items(fnd.highlights(ctx.findings.get(kode, []), limit=6))
    return {
        "answers": fmt_int(max(answers)) if answers else "",
        "standout": standout,
        "standout_notes": [c for c in ctx.labels.changes if any(i["note"] == c["number"] for i in standout)],
        "requirement": requirement_sentence(ctx.min_respondents),
        "interval_sentence": INTERVAL_SENTENCE,
        "group_table": group_table(ctx, kode, t["kommunegruppe_navn"], kb),
        "kode": kode,
        "name": name,
        "region": t["region_navn"],
        "group": t["kommunegruppe_navn"],
        "paragraphs": paragraphs,
        "facts": facts,
        "notice": notices[0] if notices and not published else "",
        "partial_notice": notices[0] if notices and published else "",
        "any_published": any_published,
        "svg": svg,
        "spec": spec,
        "chart_is_comparison_only": not published,
        "chart_table": spec_table(spec, f"Tallene i diagrammet: {name} sammenlignet med region, kommunegruppe og "
                                  f"hele landet {ctx.survey_year}" if published else
                                  f"{t['region_navn']}, {t['kommunegruppe_navn']} og hele landet {ctx.survey_year}",
                                  "Geografi"),
        "table": kommune_table(ctx, kode, SUBSTANTIVE_ORDER + ("barriers",),
                               f"Resultater for {name} {ctx.survey_year} sammenlignet med region, kommunegruppe og "
                               "hele landet", kb) if any_published else None,
        "background": kommune_table(ctx, kode, BACKGROUND_QUESTIONS, f"Respondenternes baggrund i {name} "
                                    f"{ctx.survey_year}", kb) if any_published else None,
        "barriers": table(f"Barrierer i {name} {ctx.survey_year}: vægtet score (0-100)", "Barriere",
                          ["Kommunen", "95\u00a0%-interval", "Hele landet"], [{"title": None, "rows": barrier_rows}])
        if barriers_published else None,
        "footnotes": footnotes_for(ctx, "barriers"),
        "trend": kommune_trend(ctx, kode, name, bool(published), charts),
    }


def index_context(ctx: Context) -> dict:
    """The kommuner with published headline values first (each value with its number of answers), then the
    others with the reason; both in Danish alphabetical order of the official names."""
    published, others = [], []
    for r in sorted(ctx.kommuner.table.to_dict("records"), key=lambda r: danish_key(r["officielt_navn"])):
        kode = str(r["kommune_kode"])
        entry = {"kode": kode, "name": r["officielt_navn"], "region": r["region_navn"],
                 "group": r["kommunegruppe_navn"]}
        cells = []
        for ind in HEADLINE_INDICATORS:
            row = ctx.year.value("kommune", kode, ind)
            cells += ([cell(fmt_pct(row["share"])), cell(fmt_int(row.get("n")))] if _published_share(row)
                      else [na_cell(), na_cell()])
        if any(not c["hidden"] for c in cells):
            published.append({**entry, "cells": cells})
            continue
        row = ctx.year.value("kommune", kode, HEADLINE_INDICATORS[0])
        status = (suppression_text(row.get("suppression_reason"), ctx.min_respondents) if row else "ingen data")
        others.append({**entry, "status": status[0].upper() + status[1:]})
    columns = []
    for ind in HEADLINE_INDICATORS:
        columns += [HEADLINE_SHORT[ind], "Besvarelser"]
    return {"published_rows": published, "other_rows": others, "published": len(published),
            "total": len(published) + len(others), "columns": columns}


def make_context(survey_year: int, tables: dict, history: dict, instrument: YearInstrument, kommuner: Kommuner,
                 min_respondents: int = MIN_RESPONDENTS_FLOOR) -> Context:
    hist = [YearData(y, history[y], kommuner) for y in sorted(history or {}) if int(y) < survey_year]
    return Context(survey_year=survey_year, year=YearData(survey_year, tables, kommuner), labels=Labels(instrument),
                   kommuner=kommuner, history=hist, min_respondents=min_respondents,
                   names=geography_names(kommuner))
