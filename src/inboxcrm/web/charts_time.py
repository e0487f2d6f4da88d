"""Charts over time as inline SVG (see charts.py for the conventions): lines, one per series, over weeks.

Each series is a `<polyline class="line">` with a dot (`<circle class="point">`, its value in a `<title>`)
per week that has a value; a week without one (no ticket that week) breaks the line rather than dropping to
zero. A legend names the series above the plot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from inboxcrm.web.charts import _FONT, GRID, INK, MUTED, WIDTH, _svg, label_every, nice_ceiling

PALETTE = ("#2f6aa3", "#c2572b", "#3c8a5a", "#8a5a9e")


def hours(seconds: float) -> str:
    """A duration for people: "45 min", "3.5 h", "2.1 d"."""
    if seconds < 3600:
        return f"{round(seconds / 60):d} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    label: str,
    width: int = WIDTH,
    height: int = 240,
    value_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    top: float | None = None,
) -> Markup:
    """One line per (name, values) over `labels` (values aligned with the labels; None = no value). The scale
    runs from 0 to a round top (or `top`, e.g. 100 for percentages)."""
    left, right, top_pad, bottom = 56.0, 10.0, 30.0, 34.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    scale = top if top is not None else nice_ceiling(max(values, default=0.0))
    parts: list[str] = []
    for fraction in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{MUTED}" {_FONT}>'
            f"{escape(value_format(scale * fraction))}</text>"
        )
    count = max(len(labels), 1)
    step = plot_w / count

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    every = label_every(len(labels), plot_w, 56.0)
    for i, name in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x_of(i):.1f}" y="{top_pad + plot_h + 16:.1f}" text-anchor="middle" font-size="12" '
                f'fill="{MUTED}" {_FONT}>{escape(name)}</text>'
            )
    legend_x = left
    for n, (name, points) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        parts.append(
            f'<rect x="{legend_x:.1f}" y="6" width="12" height="12" fill="{color}"/>'
            f'<text x="{legend_x + 16:.1f}" y="16" font-size="12" fill="{INK}" {_FONT}>{escape(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
        run: list[str] = []
        for i, value in enumerate([*points, None]):
            if value is None:
                if run:
                    parts.append(
                        f'<polyline class="line" points="{" ".join(run)}" fill="none" stroke="{color}" '
                        'stroke-width="2"/>'
                    )
                run = []
                continue
            y = top_pad + plot_h * (1 - min(max(value, 0.0) / scale, 1.0))
            run.append(f"{x_of(i):.1f},{y:.1f}")
            parts.append(
                f'<circle class="point" cx="{x_of(i):.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(f'{name}, {labels[i]}: {value_format(value)}')}</title></circle>"
            )
    return _svg(width, height, label, "".join(parts))
