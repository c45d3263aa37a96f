"""Privacy audit of a release folder: nothing published may identify a respondent.

`audit_release(release_dir, forbidden_texts=..., min_respondents=5)` reads every file of a (staged or
published) release and returns an `AuditReport`; any finding fails it. Rules:

- Free text: any of `forbidden_texts` (the survey's free-text answers) anywhere, compared after NFKC,
  removal of zero-width characters, casefolding and collapsing whitespace; a match may run across inline
  HTML elements and line breaks but not across table cells, attribute values or JSON strings. Texts
  shorter than 12 characters (after normalisation) are not compared: they are ordinary words ("ved ikke",
  "ingen kommentar") that also appear in labels; the report counts how many were skipped.
- CPR-number-like strings: ddmmyy-xxxx or ddmmyyxxxx (also with an en dash) with a plausible day and
  month, as a whole token: not inside a longer number, word or hex string (so SHA-256 digests, years,
  codes, decimals such as "1234567890,5" and "59,9 %" never match). Integers in tables, JSON and workbooks
  are checked too (a CPR without its dash); floats are not.
- E-mail addresses (except `allowed_emails`; "name@2x.png" style file names are not addresses).
- Disclosure control (SURVEY.md section 4), in release tables and in tables shown in workbooks and HTML:
  a non-suppressed value with 0 < n < min_respondents at any geography level; a suppressed row that still
  carries a value (n included); a count/numerator column (`count`, `antal`, ...) with a value at kommune
  level; a kommune row of yoy_changes, trends or kommune_benchmarks with values where indicator_values
  suppresses that kommune's value; release tables lacking the columns this is verified on; "n = 3" in
  prose, alt texts and charts; release tables with respondent-level columns (respondent_id, kommentar, mail, ...).
- Files: Parquet, CSV/TSV, HTML, SVG (visible text, every attribute value, inline SVG <title>/<desc>,
  scripts, styles, comments, data: URIs), workbooks (cells, formulas, comments, sheet names, properties,
  headers/footers, charts and other package parts), JSON (every key and string), other text files line by
  line. PNG images pass with a note: their text chunks are scanned, their pixels cannot be (a chart's
  numbers are checked in the page's alt text and tables). Any other binary file is a finding: it cannot
  be audited.

Messages never repeat a leaked value: they show a masked hint at most (the free text's number in
`forbidden_texts` and its first three characters; "******-****"; "j***@***.dk").
"""

from benchmark_pipeline.audit.detect import MIN_FREE_TEXT_LENGTH, is_cpr_like
from benchmark_pipeline.audit.model import KIND_DESCRIPTIONS, KINDS, AuditReport, Finding
from benchmark_pipeline.audit.scanner import audit_release

__all__ = [
    "AuditReport",
    "Finding",
    "KINDS",
    "KIND_DESCRIPTIONS",
    "MIN_FREE_TEXT_LENGTH",
    "audit_release",
    "is_cpr_like",
]
