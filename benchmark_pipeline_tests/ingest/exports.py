"""Test-only writers: the same answers in every export layout, encoding and separator.

Independent of benchmark_pipeline.sample on purpose (built in parallel); follows SURVEY.md section 2.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

from benchmark_pipeline.instrument import MAX_RANK, YearInstrument

KOMMUNE_NAMES = {"101": "København", "147": "Frederiksberg", "492": "Ærø", "825": "Læsø", "751": "Aarhus",
                 "400": "Bornholm", "851": "Aalborg"}
KOMMUNE_OFFICIAL = {"101": "Københavns Kommune", "400": "Bornholms Regionskommune", "751": "Aarhus Kommune"}


def make_answers(instrument: YearInstrument, n: int = 12, seed: int = 7) -> list[dict]:
    """Answers keyed by stable ids (no free "Andet" texts, so every layout can carry them)."""
    rng = random.Random(seed)
    codes = list(KOMMUNE_NAMES)
    out = []
    for i in range(n):
        a: dict = {"respondent_id": str(1000 + i), "kommune": codes[i % len(codes)]}
        for q in instrument.questions:
            ids = list(q.option_ids)
            if q.kind == "single":
                a[q.id] = None if rng.random() < 0.1 else rng.choice(ids)
            elif q.kind == "multi":
                chosen = set(rng.sample(ids, rng.randint(1, 3)))
                if q.id == "anchoring_levels":
                    chosen.discard("ingen")
                    chosen = chosen or {"teams"}
                a[q.id] = chosen
            elif q.kind == "ranked":
                a[q.id] = rng.sample(ids, MAX_RANK)
            elif q.kind == "text":
                a[q.id] = rng.choice([None, "Æbler og øl på Ærø", "Godt; men \"svært\", ikke?"])
        out.append(a)
    return out


def _single_value(q, option_id, how: str) -> str | None:
    if option_id is None:
        return None
    o = next(o for o in q.options if o.id == option_id)
    return {"id": o.id, "label": o.label, "code": str(o.code)}[how]


def _kommune_value(code: str, i: int, how: str) -> str:
    if how == "mixed":
        how = ("code", "code4", "name", "official")[i % 4]
    if how == "code4":
        return code.zfill(4)
    if how == "name":
        return KOMMUNE_NAMES[code]
    if how == "official":
        return KOMMUNE_OFFICIAL.get(code, KOMMUNE_NAMES[code] + " Kommune")
    return code


def canonical_table(answers, instrument, values: str = "id", kommune: str = "code") -> pd.DataFrame:
    rows = []
    for i, a in enumerate(answers):
        r = {"respondent_id": a["respondent_id"], "kommune": _kommune_value(a["kommune"], i, kommune)}
        for q in instrument.questions:
            if q.kind == "single":
                r[q.id] = _single_value(q, a[q.id], values)
            elif q.kind == "multi":
                for o in q.options:
                    r[f"{q.id}__{o.id}"] = "1" if o.id in a[q.id] else "0"
            elif q.kind == "ranked":
                for rank in range(1, MAX_RANK + 1):
                    chosen = a[q.id][rank - 1] if rank <= len(a[q.id]) else None
                    r[f"{q.id}__{rank}"] = _single_value(q, chosen, values)
            elif q.kind == "text":
                r[q.id] = a[q.id]
        rows.append(r)
    return pd.DataFrame(rows, dtype=object)


def surveyxact_tables(answers, instrument, kommune: str = "code") -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for i, a in enumerate(answers):
        r = {instrument.respondent_id: a["respondent_id"], "statoverall_1": "1"}
        for q in instrument.questions:
            if q.kind == "kommune":
                r[q.variable] = _kommune_value(a["kommune"], i, kommune)
            elif q.kind == "single":
                r[q.variable] = _single_value(q, a[q.id], "code")
            elif q.kind == "multi":
                for o in q.options:
                    r[o.variable] = "1" if o.id in a[q.id] else "0"
            elif q.kind == "ranked":
                for o in q.options:
                    r[o.variable] = str(a[q.id].index(o.id) + 1) if o.id in a[q.id] else None
            elif q.kind == "text":
                r[q.variable] = a[q.id]
        rows.append(r)
    labels = []
    for q in instrument.questions:
        if q.kind == "single":
            labels += [{"variable": q.variable, "value": str(o.code), "label": o.label} for o in q.options]
        elif q.kind in ("multi", "ranked"):
            labels += [{"variable": o.variable, "value": "1", "label": o.label} for o in q.options]
    return pd.DataFrame(rows, dtype=object), pd.DataFrame(labels, dtype=object)


def forms_table(answers, instrument) -> pd.DataFrame:
    rows = []
    for i, a in enumerate(answers):
        r = {"ID": a["respondent_id"], "Starttidspunkt": "2025-03-01 10:00:00",
             "Fuldførelsestidspunkt": "2025-03-01 10:12:00", "Mail": f"person{i}@kommune.dk", "Navn": f"Person {i}"}
        for q in instrument.questions:
            col = q.column or q.text
            labels = {o.id: o.label for o in q.options}
            if q.kind == "kommune":
                r[col] = KOMMUNE_NAMES[a["kommune"]]
            elif q.kind == "single":
                r[col] = labels.get(a[q.id]) if a[q.id] else None
            elif q.kind == "multi":
                r[col] = "".join(labels[o] + ";" for o in q.option_ids if o in a[q.id]) or None
            elif q.kind == "ranked":
                order = list(a[q.id]) + [o for o in q.option_ids if o not in a[q.id]]
                r[col] = ";".join(labels[o] for o in order) + ";" if a[q.id] else None
            elif q.kind == "text":
                r[col] = a[q.id]
        rows.append(r)
    return pd.DataFrame(rows, dtype=object)


def write_text(table: pd.DataFrame, path: Path, encoding: str = "utf-8", sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = table.to_csv(index=False, sep=sep, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))  # "utf-16" writes a BOM, "utf-8-sig" too
    return path


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path, numeric: bool = True) -> Path:
    """Write sheets with openpyxl; numeric-looking cells become numbers, as survey tools write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, table in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(list(table.columns))
        for row in table.itertuples(index=False):
            ws.append([_cell(v, numeric) for v in row])
    wb.save(path)
    return path


def _cell(v, numeric: bool):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if numeric and isinstance(v, str) and v.isdigit() and not v.startswith("0"):
        return int(v)
    return v


def write_export(layout: str, answers, instrument, directory: Path, encoding: str = "utf-8", sep: str = ",",
                 **kw) -> Path:
    """Write the answers in `layout`; returns the path to hand to read_export."""
    directory.mkdir(parents=True, exist_ok=True)
    if layout == "canonical_csv":
        return write_text(canonical_table(answers, instrument, **kw), directory / "answers.csv", encoding, sep)
    if layout == "surveyxact_csv":
        data, labels = surveyxact_tables(answers, instrument, **kw)
        write_text(labels, directory / "labels.csv", encoding, sep)
        return write_text(data, directory / "dataset.csv", encoding, sep)
    if layout == "surveyxact_xlsx":
        data, labels = surveyxact_tables(answers, instrument, **kw)
        return write_xlsx({"Dataset": data, "Labels": labels}, directory / "export.xlsx")
    if layout == "msforms_xlsx":
        return write_xlsx({"Form1": forms_table(answers, instrument)}, directory / "forms.xlsx")
    raise ValueError(layout)


def rewrite_part(path, part: str, change) -> None:
    """Replace the zip member `part` of the workbook at `path` by `change(its bytes)`."""
    with zipfile.ZipFile(path) as zin:
        parts = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts:
            zout.writestr(info.filename, change(data) if info.filename == part else data)
