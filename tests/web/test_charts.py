"""The SVG chart helpers are pure functions: numbers in, markup out. Checked by reading the SVG back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from inboxcrm.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ET.Element:
    root = ET.fromstring(str(svg))  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("class") == "chart" and root.get("role") == "img"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (-3, 1), (1, 1), (3, 5), (7, 10), (11, 20), (24, 25), (26, 50), (100, 100), (101, 200), (0.3, 0.5)],
)
def test_nice_ceiling(value: float, top: float) -> None:
    assert charts.nice_ceiling(value) == pytest.approx(top)


def test_bar_heights_are_proportional_to_the_values_on_a_round_scale() -> None:
    root = parse(charts.bar_chart([("Mon", 4), ("Tue", 8), ("Wed", 0)], label="Tickets", width=640, height=240))
    heights = [float(b.get("height", "")) for b in bars(root)]
    assert heights[0] > 0 and heights[1] == pytest.approx(2 * heights[0]) and heights[2] == 0
    # the scale's top is 10 (8 → 10), so the bar for 8 fills 80 % of the plot: 240 - 16 - 34 = 190 px high
    assert heights[1] == pytest.approx(0.8 * 190, abs=0.1)
    # every bar stands on the same baseline
    assert len({round(float(b.get("y", "")) + float(b.get("height", "")), 1) for b in bars(root)}) == 1
    assert root.get("aria-label") == "Tickets"
    assert [b.find(f"{SVG}title").text for b in bars(root)] == ["Mon: 4", "Tue: 8", "Wed: 0"]  # type: ignore[union-attr]


def test_labels_are_escaped_and_the_result_is_markup() -> None:
    svg = charts.bar_chart([("<script>alert(1)</script>", 1)], label='a "quoted" & <label>')
    assert isinstance(svg, Markup)
    assert "<script>" not in str(svg)
    root = parse(svg)
    assert root.get("aria-label") == 'a "quoted" & <label>'
    assert "<script>alert(1)</script>" in texts(root)


def test_many_bars_get_thinned_labels_and_no_value_labels() -> None:
    points = [(f"d{i}", float(i % 5)) for i in range(90)]
    root = parse(charts.bar_chart(points, label="90 days", width=640))
    assert len(bars(root)) == 90
    shown = [t for t in texts(root) if t.startswith("d")]
    every = charts.label_every(90, 640 - 44 - 8)
    assert every > 1 and shown == [f"d{i}" for i in range(0, 90, every)]
    assert [t for t in texts(root) if not t.startswith("d")] == ["0", "2.5", "5"]  # the scale only, no values


def test_an_empty_or_all_zero_chart_is_still_valid() -> None:
    assert bars(parse(charts.bar_chart([], label="nothing"))) == []
    root = parse(charts.bar_chart([("a", 0), ("b", 0)], label="zeros"))
    assert [float(b.get("height", "")) for b in bars(root)] == [0, 0]
    assert bars(parse(charts.funnel_chart([], label="no stages"))) == []
    assert bars(parse(charts.horizontal_bars([], label="no deals"))) == []


def test_negative_values_are_drawn_as_nothing() -> None:
    root = parse(charts.bar_chart([("a", -5), ("b", 5)], label="x"))
    assert [float(b.get("height", "")) > 0 for b in bars(root)] == [False, True]


def test_histogram_bars_touch() -> None:
    root = parse(charts.histogram([("0-10", 3), ("10-20", 6), ("20-30", 1)], label="Scores"))
    rects = bars(root)
    gap = float(rects[1].get("x", "")) - (float(rects[0].get("x", "")) + float(rects[0].get("width", "")))
    assert gap == pytest.approx(1.5, abs=0.1)


def test_the_funnel_narrows_with_each_stage_and_says_the_conversion() -> None:
    root = parse(charts.funnel_chart([("lead", 200), ("qualified", 50), ("customer", 10)], label="Funnel"))
    widths = [float(b.get("width", "")) for b in bars(root)]
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[1] == pytest.approx(widths[0] / 4)
    centres = {round(float(b.get("x", "")) + float(b.get("width", "")) / 2, 1) for b in bars(root)}
    assert len(centres) == 1  # centred
    assert "qualified: 50 (25% of lead)" in texts(root)
    assert "customer: 10 (20% of qualified)" in texts(root)


def test_horizontal_bars_show_label_and_value() -> None:
    root = parse(charts.horizontal_bars([("won (3)", 12500.0), ("proposal (1)", 2500.5)], label="Pipeline"))
    widths = [float(b.get("width", "")) for b in bars(root)]
    assert widths[0] == pytest.approx(5 * widths[1], rel=0.01)
    assert {"won (3)", "12,500", "proposal (1)", "2,500.5"} <= set(texts(root))


def test_charts_scale_to_their_container() -> None:
    root = parse(charts.bar_chart([("a", 1)], label="x", width=500, height=200))
    assert root.get("viewBox") == "0 0 500 200"
