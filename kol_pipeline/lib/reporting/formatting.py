"""The report's building blocks: numbers and money written for marketers (``fmt_*``: thousands separators, ``¥``,
percentages, ``n/a`` for a null, never a zero) and the HTML pieces every section is made of (escaped text, tables,
hints, "no data" notes, inline SVG charts). No data selection and no section here: the sections are the
``sections_*`` modules, the page kol_pipeline.lib.reporting.report.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from kol_pipeline.lib.reporting import charts

NA = "n/a"
NO_DATA = "no data"


# ----------------------------------------------------------------------------------------------------- formatting


def is_missing(v: object) -> bool:
    """None and what pandas takes for a null (NaN, NaT, pd.NA)."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fmt_cny(v: object, decimals: int = 2) -> str:
    """1234.5 -> '¥1,234.50'; null -> 'n/a'."""
    return NA if is_missing(v) else f"¥{float(v):,.{decimals}f}"


def fmt_pct(v: object, decimals: int = 1, signed: bool = False) -> str:
    """A share as a percentage: 0.42 -> '42.0 %' (signed: '+42.0 %'); null -> 'n/a'."""
    if is_missing(v):
        return NA
    return f"{float(v) * 100:{'+' if signed else ''}.{decimals}f} %"


def fmt_int(v: object) -> str:
    """12345 -> '12,345'; null -> 'n/a'."""
    return NA if is_missing(v) else f"{round(float(v)):,}"


def fmt_num(v: object, decimals: int = 2) -> str:
    return NA if is_missing(v) else f"{float(v):,.{decimals}f}"


def escape(text: object) -> str:
    """Text for HTML (quotes too); a null is the empty text."""
    return html.escape("" if is_missing(text) else str(text), quote=True)


# ------------------------------------------------------------------------------------------------------ helpers


def svg_chart(kind: str, series: dict[str, list], labels: Sequence[str], title: str, ylabel: str = "") -> str:
    """An inline SVG chart (charts.svg: written directly, escaped, no external reference)."""
    return f'<div class="chart">{charts.svg(kind, series, [str(x) for x in labels], title, ylabel)}</div>'


Cell = tuple[str, str]  # (text, css class)


def table(headers: Sequence[str], rows: Sequence[Sequence[str | Cell]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; every text is escaped. A cell is a text or (text, extra css class)."""
    num = set(numeric)
    head = "".join(f"<th{' class=num' if i in num else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text, cls = cell if isinstance(cell, tuple) else (cell, "")
            classes = " ".join(c for c in ("num" if i in num else "", cls, "na" if text.startswith(NA) else "") if c)
            cells.append(f"<td{f' class={chr(34)}{classes}{chr(34)}' if classes else ''}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def nodata(what: str = "") -> str:
    """The "no data" note a section shows instead of its figures (``what``: why)."""
    return f'<p class="nodata">{escape(NO_DATA + (": " + what if what else ""))}</p>'


def hint(text: str) -> str:
    """The grey line telling how to read a section."""
    return f'<p class="hint">{escape(text)}</p>'


def column_values(df: pd.DataFrame, col: str) -> list:
    """A column as floats with None for nulls (a chart's series); all None when the frame has no such column."""
    return [None if is_missing(v) else float(v) for v in df[col]] if col in df.columns else [None] * len(df)
