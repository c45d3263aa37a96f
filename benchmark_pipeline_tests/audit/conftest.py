"""A small, clean release folder built from scratch (the layout of docs/architecture.md), and helpers that
plant one leak at a time into its artefacts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

RELEASE_ID = "2024-r1-0a1b2c3d4e5f"
YEAR = 2024
MIN = 5

# Free-text answers of the (synthetic) survey: what the pipeline passes as forbidden_texts.
FREE_TEXTS = [
    "Vi mangler tid til at arbejde med data i vores afdeling",
    "Ledelsen prioriterer ikke datadrevet styring hos os",
    "Ok",  # too short to compare: ignored
]

# A 1x1 PNG.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

KOMMUNE_ROWS = [  # code, n, suppression reason (None: published)
    ("101", 40, None),
    ("147", None, "below_minimum"),
    ("151", None, "complementary"),
    ("153", None, "no_respondents"),
    ("157", 12, None),
]


def _indicator_values() -> pd.DataFrame:
    rows = []
    # national share, and the share of the published kommuner: sums an attacker can check must add up
    for indicator, share, kommune_share in (("data_use_change.mere", 0.599, 0.625),
                                            ("further_potential.ja", 0.782, 0.8)):
        q, o = indicator.split(".")
        for level, code, n in (("national", "DK", 142), ("region", "1084", 61), ("kommunegruppe", "1", 61)):
            rows.append(dict(survey_year=YEAR, geography_level=level, geography_code=code, indicator_id=indicator,
                             question_id=q, option_id=o, measure="share", n=n, count=round(n * share),
                             share=share, ci_low=share - 0.08, ci_high=share + 0.07, suppressed=False,
                             suppression_reason=None))
        for code, n, reason in KOMMUNE_ROWS:
            rows.append(dict(survey_year=YEAR, geography_level="kommune", geography_code=code, indicator_id=indicator,
                             question_id=q, option_id=o, measure="share", n=n, count=None,
                             share=None if reason else kommune_share, ci_low=None if reason else 0.47,
                             ci_high=None if reason else 0.76, suppressed=reason is not None,
                             suppression_reason=reason))
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype("Int64")
    df["count"] = df["count"].astype("Int64")
    return df


def _barrier_scores() -> pd.DataFrame:
    rows = []
    for level, code, n, reason in (("national", "DK", 140, None), ("kommune", "101", 39, None),
                                   ("kommune", "147", None, "below_minimum")):
        rows.append(dict(survey_year=YEAR, geography_level=level, geography_code=code, barrier_id="ledelse", n=n,
                         score=None if reason else 41.2, score_ci_low=None if reason else 35.0,
                         score_ci_high=None if reason else 47.5, top3_share=None if reason else 0.71,
                         first_share=None if reason else 0.33, suppressed=reason is not None,
                         suppression_reason=reason))
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype("Int64")
    return df


def _yoy_changes() -> pd.DataFrame:
    rows = [
        dict(survey_year=YEAR, base_year=YEAR - 1, geography_level="national", geography_code="DK",
             indicator_id="data_use_change.mere", share=0.599, share_base=0.55, diff_pp=4.9, diff_ci_low_pp=-6.5,
             diff_ci_high_pp=16.1, p_value=0.41, q_value=0.62, significant=False, relative_growth=0.089),
        dict(survey_year=YEAR, base_year=YEAR - 1, geography_level="kommune", geography_code="101",
             indicator_id="data_use_change.mere", share=0.625, share_base=0.5, diff_pp=12.5, diff_ci_low_pp=-8.0,
             diff_ci_high_pp=31.0, p_value=0.2, q_value=0.4, significant=False, relative_growth=0.25),
    ]
    return pd.DataFrame(rows)


def _kommune_benchmarks() -> pd.DataFrame:
    rows = []
    for code, n, reason in KOMMUNE_ROWS:
        pub = reason is None
        rows.append(dict(survey_year=YEAR, kommune_kode=code, indicator_id="data_use_change.mere",
                         n=n, share=0.625 if pub else None, share_shrunk=0.61 if pub else None,
                         national_share=0.599 if pub else None, region_share=0.58 if pub else None,
                         group_share=0.6 if pub else None, diff_national_pp=2.6 if pub else None,
                         diff_region_pp=4.5 if pub else None, diff_group_pp=2.5 if pub else None,
                         percentile=62.5 if pub else None, suppressed=not pub, suppression_reason=reason))
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype("Int64")
    return df


def tables() -> dict[str, pd.DataFrame]:
    out = {
        "indicator_values": _indicator_values(),
        "barrier_scores": _barrier_scores(),
        "yoy_changes": _yoy_changes(),
        "kommune_benchmarks": _kommune_benchmarks(),
        "year_summary": pd.DataFrame([dict(survey_year=YEAR, respondents=142, responding_kommuner=61,
                                           non_responses=318, quarantined_rows=3, respondents_change=12,
                                           responding_kommuner_change=4, non_responses_change=-20,
                                           quarantined_rows_change=1)]),
        "quarantine_summary": pd.DataFrame([dict(survey_year=YEAR, rule="unknown_kommune", column="kommune", rows=2),
                                            dict(survey_year=YEAR, rule="invalid_rank", column="barriers", rows=1)]),
    }
    for name, df in out.items():
        df.insert(0, "release_id", RELEASE_ID)
    return out


def write_table(release: Path, name: str, df: pd.DataFrame, *, parquet: bool = True, csv: bool = True) -> None:
    folder = release / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    if parquet:
        df.to_parquet(folder / f"{name}.parquet", index=False)
    if csv:
        df.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def chart_svg() -> str:
    """A real matplotlib SVG (with its metadata, clip-path ids and path data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2))
    ax.barh(["Manglende tid", "Manglende ledelsesmæssig prioritering"], [38.5, 41.2])
    ax.set_title("Vægtet resultat 2024 (n = 140)")
    for y, v in enumerate([38.5, 41.2]):
        ax.text(v, y, f"{v:.1f}".replace(".", ","))
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    chart_svg.png = png.getvalue()
    return buf.getvalue()


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="da">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            '<style>body{font-family:sans-serif} .bar{fill:#1f77b4}</style>\n</head>\n<body>\n'
            f"{body}\n</body>\n</html>\n")


INLINE_SVG = """<figure>
<svg role="img" aria-label="Andel der bruger data mere: 60 % på landsplan" viewBox="0 0 200 40" width="200">
<title>Bruger data mere end for ét år siden</title>
<desc>Søjlediagram: landsplan 59,9 %, Region Hovedstaden 58,0 %</desc>
<rect class="bar" x="0" y="5" width="119.8" height="12"/>
<text x="122" y="15">60 %</text>
</svg>
<figcaption>Figur 1. Kilde: LIFA-undersøgelsen 2024.</figcaption>
</figure>"""

NATIONAL_TABLE = """<table>
<caption>Andel der bruger data mere</caption>
<thead><tr><th>Niveau</th><th>Kode</th><th>Andel</th><th>Antal svar</th></tr></thead>
<tbody>
<tr><td>national</td><td>DK</td><td>59,9 %</td><td>142</td></tr>
<tr><td>region</td><td>1084</td><td>58,0 %</td><td>61</td></tr>
<tr><td>kommune</td><td>101</td><td>62,5 %</td><td>40</td></tr>
<tr><td>kommune</td><td>147</td><td>–</td><td>–</td></tr>
</tbody>
</table>"""


def build_release(root: Path) -> Path:
    release = root / "releases" / str(YEAR) / RELEASE_ID
    reports = release / "reports"
    (reports / "kommuner").mkdir(parents=True)
    (reports / "charts").mkdir()
    for name, df in tables().items():
        write_table(release, name, df)

    svg = chart_svg()
    (reports / "charts" / "barriers.svg").write_text(svg, encoding="utf-8")
    (reports / "charts" / "barriers.png").write_bytes(chart_svg.png)
    png_uri = "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()
    national = _page("Dataunderstøttelse i kommunerne 2024", f"""<h1>Dataunderstøttelse i kommunerne 2024</h1>
<p>142 svar fra 61 kommuner. <strong>59,9 %</strong> bruger data mere end for ét år siden (n = 142);
78,2 % ser potentiale. Forskellen til 2023 er 4,9 procentpoint [−6,5; 16,1], p = 0,41.</p>
<p>Rapporten er dannet 2024-11-03T10:15:00+01:00 af release {RELEASE_ID}.</p>
{INLINE_SVG}
<img src="{png_uri}" alt="Vægtet resultat: ledelse 41,2, tid 38,5 (n = 140)">
{NATIONAL_TABLE}
<p>Værdier med færre end 5 svar vises ikke.</p>""")
    (reports / "national.html").write_text(national, encoding="utf-8")
    (reports / "kommuner" / "index.html").write_text(_page("Kommuner", """<h1>Kommuner</h1>
<ul><li><a href="101.html">Københavns Kommune</a></li><li><a href="147.html">Frederiksberg Kommune</a></li></ul>"""),
        encoding="utf-8")
    (reports / "kommuner" / "101.html").write_text(_page("Københavns Kommune", f"""<h1>Københavns Kommune</h1>
<p>62,5 % bruger data mere (n = 40), over landsgennemsnittet på 59,9 %.</p>
{INLINE_SVG}"""), encoding="utf-8")
    (reports / "kommuner" / "147.html").write_text(_page("Frederiksberg Kommune", """<h1>Frederiksberg Kommune</h1>
<p>Færre end 5 har svaret fra kommunen, så tallene vises ikke.</p>"""), encoding="utf-8")
    build_workbook(reports / "workbook.xlsx", tables()["indicator_values"])

    dictionary = {
        "tables": {
            "indicator_values": {
                "description": "Andele pr. geografi og indikator; værdier med færre end 5 svar er undertrykt.",
                "columns": {c: {"type": str(t)} for c, t in tables()["indicator_values"].dtypes.items()},
            }
        },
        "min_respondents": MIN,
    }
    (release / "data_dictionary.json").write_text(json.dumps(dictionary, ensure_ascii=False, indent=2),
                                                  encoding="utf-8")
    write_manifest(release)
    return release


def build_workbook(path: Path, indicator_values: pd.DataFrame, *, extra=None) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "Om data"
    ws["A1"] = "Dataunderstøttelse i kommunerne 2024"
    ws["A2"] = "Værdier med færre end 5 svar er undertrykt. Release " + RELEASE_ID
    ws["A3"] = 142
    data = wb.create_sheet("Indikatorer")
    data.append(list(indicator_values.columns))
    for row in indicator_values.itertuples(index=False):
        data.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    chart = BarChart()
    chart.title = "Andel 2024"
    chart.add_data(Reference(data, min_col=10, min_row=1, max_row=4), titles_from_data=True)
    data.add_chart(chart, "R2")
    if extra is not None:
        extra(wb)
    wb.save(path)


def write_manifest(release: Path) -> None:
    files = []
    for p in sorted(release.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            files.append({"path": p.relative_to(release).as_posix(),
                          "sha256": hashlib.sha256(p.read_bytes()).hexdigest()})
    manifest = {
        "release_id": RELEASE_ID, "survey_year": YEAR, "revision": 1,
        "created_at": "2024-11-03T10:15:00+01:00", "package_version": "0.1.0",
        "code_versions": {"stats": "3", "reports": "2"},
        "fingerprint": hashlib.sha256(b"inputs").hexdigest(),
        "inputs": [{"path": "raw/2024/LIFA_2024_synthetic.xlsx", "sha256": hashlib.sha256(b"x").hexdigest(),
                    "bytes": 183211}],
        "outputs": files, "previous_release": "2023-r2-9f8e7d6c5b4a",
        "settings": {"min_respondents": MIN, "max_quarantine_share": 0.2},
    }
    (release / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="session")
def release_template(tmp_path_factory) -> Path:
    return build_release(tmp_path_factory.mktemp("template"))


@pytest.fixture
def release(release_template, tmp_path) -> Path:
    """A fresh copy of the clean release, to plant a leak in."""
    target = tmp_path / "releases" / str(YEAR) / RELEASE_ID
    shutil.copytree(release_template, target)
    return target
