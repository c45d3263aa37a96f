"""The stable question registry and each survey year's mapping onto it.

Exports rename variables, codes and labels from year to year; indicators are keyed on the stable ids
of `data/instrument/questions.yaml`, and `data/instrument/<year>.yaml` says how one year's export
spells them. Adding a survey year is adding a mapping file.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

QUESTION_KINDS = ("kommune", "single", "multi", "ranked", "text")
# Questions whose answers make a row a response; a row answering none of them is a non-response.
SUBSTANTIVE_QUESTIONS = (
    "data_use_change",
    "further_potential",
    "use_contexts",
    "anchoring_levels",
    "barriers",
    "data_sources",
    "ai_use",
)
MAX_RANK = 3


class InstrumentError(ValueError):
    """A registry or mapping file is missing or malformed: the year's input cannot be used."""

    exit_code = 2


@dataclass(frozen=True)
class Option:
    id: str
    code: int
    label: str
    variable: str | None = None  # SurveyXact column of a multi-select or ranked option


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str  # the Danish question text; also the column header in Microsoft Forms exports
    options: tuple[Option, ...] = ()
    variable: str | None = None  # SurveyXact variable of a single-choice, kommune or text question
    column: str | None = None  # Microsoft Forms column header

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    @property
    def has_andet(self) -> bool:
        return "andet" in self.option_ids

    def canonical_columns(self) -> tuple[str, ...]:
        """Columns this question occupies in the canonical frame."""
        if self.kind == "multi":
            return tuple(f"{self.id}__{o}" for o in self.option_ids)
        if self.kind == "ranked":
            return tuple(f"{self.id}__{r}" for r in range(1, MAX_RANK + 1))
        return (self.id,)


@dataclass(frozen=True)
class LabelChange:
    question: str
    option: str
    since: int
    before: str
    after: str


@dataclass(frozen=True)
class YearInstrument:
    """One survey year's questions (with that year's codes, labels and variable names)."""

    survey_year: int
    layout: str
    respondent_id: str
    questions: tuple[Question, ...]
    personal_columns: tuple[str, ...] = ()
    ignore_columns: tuple[str, ...] = ()
    ignore_prefix: str | None = None
    label_changes: tuple[LabelChange, ...] = ()
    path: Path | None = None
    sha256: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    def has(self, question_id: str) -> bool:
        return question_id in self.by_id

    def of_kind(self, *kinds: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.kind in kinds)

    @property
    def substantive_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.id in SUBSTANTIVE_QUESTIONS)

    def canonical_columns(self) -> list[str]:
        """Column order of the canonical frame for this year (without bookkeeping columns)."""
        cols = ["respondent_id"]
        for q in self.questions:
            cols.extend(q.canonical_columns())
        return cols


@dataclass(frozen=True)
class Registry:
    questions: tuple[Question, ...]
    since: dict[str, int]  # question id or "question.option" -> first survey year

    @cached_property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}


def instrument_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "instrument"


def mapping_path(data_dir: Path, survey_year: int) -> Path:
    """The year's mapping: how its export spells the registry's questions."""
    return instrument_dir(data_dir) / f"{survey_year}.yaml"


def registry_path(data_dir: Path) -> Path:
    """The question registry every year's mapping refers to."""
    return instrument_dir(data_dir) / "questions.yaml"


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InstrumentError(f"{path}: file not found") from exc


def _parse_yaml(path: Path, raw: bytes) -> dict:
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InstrumentError(f"{path}: not a readable YAML file ({exc})") from exc
    if not isinstance(doc, dict):
        raise InstrumentError(f"{path}: expected a mapping at the top level")
    return doc


def _parse_registry(path: Path, raw: bytes) -> Registry:
    doc = _parse_yaml(path, raw)
    questions, since = [], {}
    for q in doc.get("questions", []):
        if q.get("kind") not in QUESTION_KINDS:
            raise InstrumentError(f"{path}: question {q.get('id')!r} has unknown kind {q.get('kind')!r}")
        if "since" in q:
            since[q["id"]] = int(q["since"])
        opts = []
        for code, o in enumerate(q.get("options", []), start=1):
            if "since" in o:
                since[f"{q['id']}.{o['id']}"] = int(o["since"])
            opts.append(Option(id=o["id"], code=code, label=o["label"]))
        questions.append(Question(id=q["id"], kind=q["kind"], text=q["text"], options=tuple(opts)))
    return Registry(questions=tuple(questions), since=since)


def mapped_years(data_dir: Path) -> list[int]:
    """Survey years that have a mapping file."""
    return sorted(int(p.stem) for p in instrument_dir(data_dir).glob("[0-9][0-9][0-9][0-9].yaml"))


def load_year(data_dir: Path, survey_year: int) -> YearInstrument:
    """The registry's questions as the given year's export spells them."""
    path = mapping_path(data_dir, survey_year)
    if not path.exists():
        known = ", ".join(str(y) for y in mapped_years(data_dir)) or "none"
        raise InstrumentError(
            f"no mapping for survey year {survey_year}: expected {path} (years with a mapping: {known})"
        )
    registry = registry_path(data_dir)
    return _parse_year(registry, _file_bytes(registry), path, _file_bytes(path), survey_year)


@functools.lru_cache(maxsize=16)
def _parse_year(registry_path: Path, registry_raw: bytes, path: Path, raw: bytes, survey_year: int) -> YearInstrument:
    """A year's instrument, parsed once per content of its two files: most steps of a run ask for it, and
    parsing the YAML takes ~20 ms. An edited file is parsed again; an error is raised every time (not cached).
    The result is immutable, so callers can share it."""
    registry = _parse_registry(registry_path, registry_raw)
    doc = _parse_yaml(path, raw)
    if int(doc.get("survey_year", -1)) != survey_year:
        raise InstrumentError(f"{path}: survey_year is {doc.get('survey_year')!r}, expected {survey_year}")
    from benchmark_pipeline.ingest.layouts import BY_NAME  # the layouts know their names (they import this module)

    layout = doc.get("layout")
    if layout not in BY_NAME:
        raise InstrumentError(f"{path}: layout {layout!r} is not one of {', '.join(sorted(BY_NAME))}")
    questions = []
    for qid, spec in (doc.get("questions") or {}).items():
        if qid not in registry.by_id:
            raise InstrumentError(f"{path}: question {qid!r} is not in the registry (questions.yaml)")
        base = registry.by_id[qid]
        known_options = set(base.option_ids)
        opts = []
        for o in spec.get("options", []) or []:
            if o["id"] not in known_options:
                raise InstrumentError(f"{path}: option {qid}.{o['id']} is not in the registry")
            opts.append(Option(id=o["id"], code=int(o["code"]), label=str(o["label"]), variable=o.get("variable")))
        if base.kind in ("single", "multi", "ranked") and not opts:
            raise InstrumentError(f"{path}: question {qid!r} lists no options")
        questions.append(
            Question(
                id=qid,
                kind=base.kind,
                text=base.text,
                options=tuple(opts),
                variable=spec.get("variable"),
                column=spec.get("column"),
            )
        )
    changes = tuple(LabelChange(**c) for c in doc.get("label_changes", []) or [])
    return YearInstrument(
        survey_year=survey_year,
        layout=layout,
        respondent_id=str(doc.get("respondent_id", "respondent_id")),
        questions=tuple(questions),
        personal_columns=tuple(doc.get("personal_columns", []) or []),
        ignore_columns=tuple(doc.get("ignore_columns", []) or []),
        ignore_prefix=doc.get("ignore_prefix"),
        label_changes=changes,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
