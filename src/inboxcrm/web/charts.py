"""Charts as inline SVG, drawn on the server: pure functions from numbers to markup.

Every chart is one `<svg class="chart">` with a `viewBox` (it scales to the width of its container, so the
same markup fits a phone and a desktop), `role="img"` and an `aria-label`, and one `<rect class="bar">` per
value with a `<title>` (the browser's own tooltip: no script). Colours are SVG attributes rather than
`style`, so the charts need nothing from the Content-Security-Policy. Labels are escaped here; the result
is `Markup`, safe to put into an autoescaping template as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

BAR = "#2f6aa3"
FUNNEL = "#3c8a5a"
HISTOGRAM = "#8a5a9e"
INK = "#27313b"
MUTED = "#66717d"
GRID = "#d7dde3"
_FONT = 'font-family="system-ui,sans-serif"'
# Charts scale to their container, text with them: drawn about as wide as they are shown (a column of the
# reports page on a desktop, the whole width of a phone) so that 12-unit text stays near 12 px.
WIDTH = 440


def _number(value: float) -> str:
    """12, 3.5, 1,250: integers without a decimal point, others with at most one decimal."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5, 10 × 10^k that is at least `value` (1 for 0 or less): a scale top
    that reads well."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value * (1 - 1e-9):
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def label_every(count: int, width: float, min_spacing: float = 50.0) -> int:
    """Show every n-th label so labels at least `min_spacing` apart never overlap (1 = all)."""
    if count <= 0:
        return 1
    return max(1, math.ceil(count * min_spacing / width))


def _svg(width: int, height: int, label: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-label="{escape(label)}">{body}</svg>'
    )


def bar_chart(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = WIDTH,
    height: int = 240,
    color: str = BAR,
    gap: float = 0.2,
    gap_px: float | None = None,
    value_format: Callable[[float], str] = _number,
    ticks: Sequence[str] | None = None,
    integer: bool = False,
    min_spacing: float = 50.0,
) -> Markup:
    """Vertical bars, one per (label, value), in the given order, over a scale from 0 to a round top.

        Bar heights are proportional to the values (negative values are drawn as 0); `gap` is the share of each
        slot left empty, or `gap_px` the space between bars in user units. Labels under the bars are thinned so
        they never overlap (`ticks`, when given, are shorter labels for under the bars, `min_spacing` apart at
    least); each bar's exact value is in its tooltip, and above the bar when there are few. `integer` keeps
    the scale on whole numbers (counts: no "2.5 contacts")."""
    left, right, top, bottom = 44.0, 8.0, 16.0, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((v for _, v in points), default=0.0))
    if integer and not (top_value / 2).is_integer():
        top_value = 2.0 * math.ceil(top_value / 2)  # the half-way line on a whole number too
    parts: list[str] = []
    for fraction in (0.0, 0.5, 1.0):  # grid lines and scale labels at 0, half and the top
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{MUTED}" {_FONT}>'
            f"{escape(value_format(top_value * fraction))}</text>"
        )
    slot = plot_w / max(len(points), 1)
    if gap_px is not None:
        gap = min(gap_px / slot, 0.5)
    every = label_every(len(points), plot_w, min_spacing)
    for i, (name, value) in enumerate(points):
        bar_h = plot_h * max(value, 0.0) / top_value
        x = left + i * slot + slot * gap / 2
        y = top + plot_h - bar_h
        bar_w = max(slot * (1 - gap), 1.0)
        tip = f"{name}: {value_format(value)}"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{color}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if len(points) <= 16 and value > 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="12" '
                f'fill="{INK}" {_FONT}>{escape(value_format(value))}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="middle" font-size="12" '
                f'fill="{MUTED}" {_FONT}>{escape(ticks[i] if ticks else name)}</text>'
            )
    return _svg(width, height, label, "".join(parts))


def histogram(
    buckets: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = WIDTH,
    height: int = 240,
    color: str = HISTOGRAM,
    ticks: Sequence[str] | None = None,
) -> Markup:
    """Adjacent bars (1.5 units apart, enough to tell them apart), one per bucket in the given order, on a
    whole-number scale; `ticks` (short labels such as the buckets' lower edges) label every bar."""
    return bar_chart(
        buckets,
        label=label,
        width=width,
        height=height,
        color=color,
        gap_px=1.5,
        ticks=ticks,
        integer=True,
        min_spacing=28.0 if ticks else 50.0,
    )


def funnel_chart(
    stages: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = WIDTH,
    row_height: int = 40,
    color: str = FUNNEL,
) -> Markup:
    """One centred horizontal bar per stage, in order, its width proportional to the stage's count (of the
    largest); each row says the count and, from the second stage on, its share of the stage before."""
    pad = 6.0
    height = max(len(stages), 1) * row_height + 2 * int(pad)
    largest = max((v for _, v in stages), default=0.0)
    parts: list[str] = []
    for i, (name, value) in enumerate(stages):
        share = max(value, 0.0) / largest if largest > 0 else 0.0
        bar_w = max((width - 2 * pad) * share, 0.0)
        x = (width - bar_w) / 2
        y = pad + i * row_height
        text = f"{name}: {_number(value)}"
        if i > 0 and stages[i - 1][1] > 0:
            text += f" ({value / stages[i - 1][1]:.0%} of {stages[i - 1][0]})"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y + 3:.1f}" width="{bar_w:.1f}" height="{row_height - 6}" '
            f'rx="3" fill="{color}" fill-opacity="{0.95 - 0.5 * i / max(len(stages), 1):.2f}">'
            f"<title>{escape(text)}</title></rect>"
        )
        parts.append(
            # a white halo keeps the label readable where it crosses the edge of a narrow bar
            f'<text x="{width / 2:.1f}" y="{y + row_height / 2 + 5:.1f}" text-anchor="middle" font-size="14" '
            f'fill="{INK}" stroke="#fff" stroke-width="3" stroke-opacity="0.8" paint-order="stroke" {_FONT}>'
            f"{escape(text)}</text>"
        )
    return _svg(width, height, label, "".join(parts))


def horizontal_bars(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = WIDTH,
    row_height: int = 30,
    color: str = BAR,
    value_format: Callable[[float], str] = _number,
) -> Markup:
    """One bar per (label, value) from the left, its label before it and its value after it."""
    name_w, value_w, pad = 130.0, 70.0, 4.0
    plot_w = width - name_w - value_w
    height = max(len(rows), 1) * row_height + 2 * int(pad)
    largest = max((v for _, v in rows), default=0.0)
    parts: list[str] = []
    for i, (name, value) in enumerate(rows):
        bar_w = plot_w * max(value, 0.0) / largest if largest > 0 else 0.0
        y = pad + i * row_height
        parts.append(
            f'<text x="{name_w - 8}" y="{y + row_height / 2 + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="{INK}" {_FONT}>{escape(name)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{name_w}" y="{y + 4:.1f}" width="{bar_w:.1f}" height="{row_height - 8}" '
            f'fill="{color}"><title>{escape(f"{name}: {value_format(value)}")}</title></rect>'
        )
        parts.append(
            f'<text x="{name_w + bar_w + 6:.1f}" y="{y + row_height / 2 + 4:.1f}" font-size="13" fill="{MUTED}" '
            f"{_FONT}>{escape(value_format(value))}</text>"
        )
    return _svg(width, height, label, "".join(parts))
