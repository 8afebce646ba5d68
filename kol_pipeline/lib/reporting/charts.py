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


def finite_values(values: Sequence[float | None]) -> list[float]:
    """Nulls (None, NaN, pd.NA) as NaN floats: drawn as gaps, never as zeros."""
    out = []
    for v in values:
        try:
            out.append(float(v) if v is not None and v == v else float("nan"))
        except (TypeError, ValueError):  # pd.NA and other missing markers
            out.append(float("nan"))
    return out


def _figure(kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str, ylabel: str):
    series = {k: finite_values(v) for k, v in series.items()}
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


def png_markdown(
    kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str, ylabel: str = ""
) -> str:
    """A chart as markdown with an embedded PNG (shown by the Dagster UI's markdown metadata)."""
    fig = _figure(kind, series, labels, title, ylabel)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def scatter_points(
    series: Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]],
) -> dict[str, tuple[list[float], list[float]]]:
    """Each series' (x, y) points with both values known: a point missing either is left out, never drawn at 0."""
    out = {}
    for name, (xs, ys) in series.items():
        pts = [(x, y) for x, y in zip(finite_values(xs), finite_values(ys)) if x == x and y == y]
        out[name] = ([x for x, _ in pts], [y for _, y in pts])
    return out


def scatter_png_markdown(
    series: Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]], title: str, xlabel: str, ylabel: str
) -> str:
    """A scatter plot (one colour per series, e.g. per brand) as markdown with an embedded PNG."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=90)
    for name, (xs, ys) in scatter_points(series).items():
        ax.scatter(xs, ys, s=18, alpha=0.75, label=f"{name} ({len(xs)})")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


def _nice_max(v: float) -> float:
    if not v > 0:
        return 1.0
    import math

    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def svg(
    kind: str, series: Mapping[str, Sequence[float | None]], labels: Sequence[str], title: str, ylabel: str = ""
) -> str:
    """A chart as an inline <svg> element written directly (no matplotlib: ~1 ms instead of ~0.3 s), for
    self-contained HTML. Nulls are gaps (lines) or missing bars; text is escaped."""
    from html import escape

    data = {k: finite_values(v) for k, v in series.items()}
    w, h, left, right, top, bottom = 640, 300, 64, 16, 36, 64
    pw, ph = w - left - right, h - top - bottom
    finite = [v for vals in data.values() for v in vals if v == v]
    vmax = _nice_max(max(finite)) if finite else 1.0
    n = max(len(labels), 1)

    def y(v: float) -> float:
        return top + ph - (v / vmax) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for i in range(5):
        tv = vmax * i / 4
        out.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y(tv):.1f}" y2="{y(tv):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(tv) + 4:.1f}" text-anchor="end">{_fmt_tick(tv)}</text>'
        )
    if ylabel:
        out.append(
            f'<text transform="translate(14,{top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}</text>'
        )
    step = max(1, n // 12)
    slot = pw / n
    for i, lab in enumerate(labels):
        if i % step == 0:
            x = left + slot * (i + 0.5)
            out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{escape(str(lab))}</text>')
    k = max(len(data), 1)
    for j, (name, vals) in enumerate(data.items()):
        color = PALETTE[j % len(PALETTE)]
        if kind == "bar":
            bw = slot * 0.8 / k
            for i, v in enumerate(vals):
                if v == v:
                    x = left + slot * i + slot * 0.1 + j * bw
                    out.append(
                        f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bw:.1f}" height="{top + ph - y(v):.1f}" '
                        f'fill="{color}"><title>{escape(str(name))} {escape(str(labels[i]))}: {_fmt_tick(v)}</title></rect>'
                    )
        else:
            pts, segs = [], []
            for i, v in enumerate(vals):
                if v == v:
                    pts.append(f"{left + slot * (i + 0.5):.1f},{y(v):.1f}")
                elif pts:
                    segs.append(pts)
                    pts = []
            if pts:
                segs.append(pts)
            for seg in segs:
                out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>')
        if len(data) > 1:
            lx = left + 8 + j * 150
            out.append(
                f'<rect x="{lx}" y="{h - 22}" width="10" height="10" fill="{color}"/>'
                f'<text x="{lx + 14}" y="{h - 13}">{escape(str(name))}</text>'
            )
    out.append("</svg>")
    return "".join(out)
