"""Small charts for asset metadata (PNG as a markdown data URI) and the HTML report (inline SVG). matplotlib, Agg."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams["svg.fonttype"] = "none"  # text stays text in SVG (searchable, selectable)
plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]


def _clean(values: Sequence[float | None]) -> list[float]:
    """Nulls (None, NaN, pd.NA) as NaN floats: drawn as gaps, never as zeros."""
    out = []
    for v in values:
        try:
            out.append(float(v) if v is not None and v == v else float("nan"))
        except (TypeError, ValueError):  # pd.NA and other missing markers
            out.append(float("nan"))
    return out


def _figure(kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str, ylabel: str):
    series = {k: _clean(v) for k, v in series.items()}
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=90)
    if kind == "bar":
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series.items()):
            xs = [x + i * width - 0.4 + width / 2 for x in range(len(labels))]
            ax.bar(xs, [0.0 if v != v else v for v in values], width=width, label=name)
        ax.set_xticks(range(len(labels)), labels)
    else:
        for name, values in series.items():
            ax.plot(list(labels), values, marker="o", label=name)
        if len(labels) > 8:
            step = max(1, len(labels) // 8)
            ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)], rotation=30)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def png_markdown(kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str,
                 ylabel: str = "") -> str:
    """A chart as markdown with an embedded PNG (shown by the Dagster UI's markdown metadata)."""
    fig = _figure(kind, series, labels, title, ylabel)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def svg(kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str, ylabel: str = "") -> str:
    """A chart as an inline <svg> element (for self-contained HTML)."""
    fig = _figure(kind, series, labels, title, ylabel)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]
