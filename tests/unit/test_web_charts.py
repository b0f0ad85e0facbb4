"""Server-side SVG charts: accessible, withheld figures never drawn or written as zero."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.web.charts import (
    DASHES,
    INK,
    MARKERS,
    NO_DATA,
    PALETTE,
    REFERENCE,
    WITHHELD,
    WITHHELD_TEXT,
    Chart,
    Kind,
    Reference,
    Series,
    Value,
    data_table,
    figure,
    nice_ticks,
    svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def supports(values: tuple[Value, ...] = (12, WITHHELD, 7)) -> Chart:
    return Chart(
        slug="supports",
        title="Wsparcie według rodzaju",
        kind=Kind.BAR,
        categories=("asystent rodziny", "psycholog", "terapia uzależnień"),
        series=(Series("skierowania", values),),
        category_header="rodzaj wsparcia",
    )


def over_time(*series: Series) -> Chart:
    return Chart(
        slug="cases",
        title="Sprawy w czasie",
        kind=Kind.LINE,
        categories=("01.2026", "02.2026", "03.2026", "04.2026"),
        series=series,
    )


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_on_white(colour: str) -> float:
    return 1.05 / (luminance(colour) + 0.05)


def test_the_image_is_named_by_its_title_and_summarised_by_its_description() -> None:
    image = parse(svg(supports()))
    assert image.get("role") == "img"
    title_id, desc_id = image.get("aria-labelledby", "").split()
    title = image.find(f"{SVG}title")
    desc = image.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id == "supports-title"
    assert desc is not None and desc.get("id") == desc_id == "supports-desc"
    assert title.text == "Wsparcie według rodzaju"
    assert desc.text == (
        "Wykres słupkowy, 3 pozycji; największa wartość 12 (asystent rodziny); "
        "ukrytych wartości: 1. Wszystkie dane są w tabeli pod wykresem."
    )
    # the drawing is decoration for assistive technology, which reads the table instead
    assert [g.get("aria-hidden") for g in image.findall(f"{SVG}g")] == ["true"]


def test_the_table_beside_the_chart_has_every_figure_with_row_and_column_headers() -> None:
    table = parse(data_table(supports())).find("table")
    assert table is not None
    caption = table.find("caption")
    assert caption is not None and caption.text == "Dane wykresu: Wsparcie według rodzaju"
    header = [(th.get("scope"), th.text) for th in table.iter("th")][:2]
    assert header == [("col", "rodzaj wsparcia"), ("col", "skierowania")]
    body = table.find("tbody")
    assert body is not None
    rows = [
        (tr.find("th").text, [td.text for td in tr.findall("td")])  # type: ignore[union-attr]
        for tr in body.findall("tr")
    ]
    assert rows == [
        ("asystent rodziny", ["12"]),
        ("psycholog", [WITHHELD_TEXT]),
        ("terapia uzależnień", ["7"]),
    ]
    assert all(tr.find("th").get("scope") == "row" for tr in body.findall("tr"))  # type: ignore[union-attr]


def test_a_withheld_figure_is_written_and_drawn_as_withheld_never_as_zero() -> None:
    chart = supports()
    fragment = parse(data_table(chart))
    withheld = [td for td in fragment.iter("td") if "withheld" in (td.get("class") or "")]
    assert [td.text for td in withheld] == [WITHHELD_TEXT]
    notes = [p.text or "" for p in fragment.iter("p")]
    assert any("nie oznacza zera" in n for n in notes)
    assert all(td.text != "0" for td in fragment.iter("td"))
    image = parse(svg(chart))
    bars = [r for r in image.iter(f"{SVG}rect") if r.get("class") != "withheld"]
    assert len(bars) == 2  # no bar at all, not a bar of width 0, for the withheld figure
    outline = [r for r in image.iter(f"{SVG}rect") if r.get("class") == "withheld"]
    assert len(outline) == 1 and outline[0].get("fill") == "none"
    assert outline[0].get("stroke-dasharray")
    texts = [t.text for t in image.iter(f"{SVG}text")]
    assert WITHHELD_TEXT in texts


def test_a_table_without_withheld_figures_does_not_explain_them() -> None:
    fragment = parse(data_table(supports((12, 3, 7))))
    assert not any("nie oznacza zera" in (p.text or "") for p in fragment.iter("p"))


def test_bars_are_proportional_and_carry_their_value_written_out() -> None:
    image = parse(svg(supports((8, 4, 2))))
    widths = [float(r.get("width", 0)) for r in image.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[1] == pytest.approx(2 * widths[2])
    texts = [t.text for t in image.iter(f"{SVG}text")]
    assert {"asystent rodziny", "8", "4", "2"} <= set(texts)


def test_a_line_never_bridges_a_withheld_value_and_marks_it_off_the_scale() -> None:
    chart = over_time(Series("otwarte", (4, 9, WITHHELD, 8)))
    image = parse(svg(chart))
    lines = image.findall(f".//{SVG}polyline")
    assert len(lines) == 1  # 4 → 9; the 8 after the gap stands alone
    assert len(lines[0].get("points", "").split()) == 2
    rings = [c for c in image.iter(f"{SVG}circle") if c.get("class") == "withheld"]
    axis_y = max(
        float(line.get("y1", 0))
        for line in image.iter(f"{SVG}line")
        if line.get("stroke") == INK and line.get("y1") == line.get("y2")
    )
    # one in the plot below the axis, one in the legend that explains it
    assert len(rings) == 2 and all(float(c.get("cy", 0)) > axis_y for c in rings)
    assert f"{WITHHELD_TEXT} (wartość niepokazana)" in [t.text for t in image.iter(f"{SVG}text")]


def test_series_differ_in_marker_and_line_pattern_not_only_in_colour() -> None:
    assert len(set(MARKERS)) == len(MARKERS) == len(PALETTE)
    assert len(set(DASHES)) == len(DASHES) == len(PALETTE)
    chart = over_time(Series("otwarte", (1, 2, 3, 4)), Series("zamknięte", (0, 1, 1, 2)))
    image = parse(svg(chart))
    dashes = [p.get("stroke-dasharray") for p in image.iter(f"{SVG}polyline")]
    assert dashes == [None, "6 3"]
    legend = [t.text for t in image.iter(f"{SVG}text")]
    assert "otwarte" in legend and "zamknięte" in legend
    assert any(p.tag == f"{SVG}rect" for p in image.iter() if p.get("fill") == PALETTE[1])


@pytest.mark.parametrize("colour", [*PALETTE, INK, REFERENCE])
def test_every_colour_that_carries_meaning_has_at_least_4_5_to_1_contrast_on_white(
    colour: str,
) -> None:
    assert contrast_on_white(colour) >= 4.5


def test_the_reference_line_is_drawn_labelled_and_written_in_the_table() -> None:
    chart = Chart(
        slug="success",
        title="Odsetek zakończonych sukcesem",
        kind=Kind.BAR,
        categories=("Biała Podlaska", "Janów Podlaski"),
        series=(Series("odsetek", (77.5, WITHHELD)),),
        unit="%",
        decimals=1,
        reference=Reference("model (2018–2021)", 81.4),
    )
    image = parse(svg(chart))
    reference = [line for line in image.iter(f"{SVG}line") if line.get("class") == "reference"]
    assert len(reference) == 1 and reference[0].get("stroke-dasharray") == "8 4"
    assert "model (2018–2021)" in [t.text for t in image.iter(f"{SVG}text")]
    notes = [p.text for p in parse(data_table(chart)).iter("p")]
    assert notes[0] == "model (2018–2021): 81,4\u00a0%"
    cells = [td.text for td in parse(data_table(chart)).iter("td")]
    assert cells == ["77,5\u00a0%", WITHHELD_TEXT]


def test_text_from_data_is_escaped() -> None:
    chart = supports()
    hostile = Chart(
        slug="x",
        title="<script>alert(1)</script>",
        kind=Kind.BAR,
        categories=('"><img src=x onerror=alert(1)>',),
        series=(Series("n", (1,)),),
    )
    markup = str(figure(hostile))
    assert "<script>" not in markup and "<img" not in markup
    assert "&lt;script&gt;" in markup
    assert str(figure(chart)).startswith('<figure class="chart" id="supports">')


def test_values_must_match_the_categories() -> None:
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        supports((1, 2))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0.0, 1.0]),
        (7, [0.0, 2.0, 4.0, 6.0, 8.0]),
        (81.4, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]),
        (1234, [0.0, 500.0, 1000.0, 1500.0]),
    ],
)
def test_axis_ticks_are_round_and_reach_the_largest_value(top: float, ticks: list[float]) -> None:
    assert nice_ticks(top) == ticks


def test_numbers_are_written_the_polish_way() -> None:
    chart = supports((1234567, 3, 2))
    assert next(td.text for td in parse(data_table(chart)).iter("td")) == "1\u00a0234\u00a0567"


def test_nothing_to_count_is_written_as_no_data_not_as_zero_nor_as_withheld() -> None:
    chart = supports((12, NO_DATA, 7))
    cells = [td.text for td in parse(data_table(chart)).iter("td")]
    assert cells == ["12", "brak danych", "7"]
    assert not chart.withheld
    image = parse(svg(chart))
    assert len(list(image.iter(f"{SVG}rect"))) == 2
    assert "brak danych" in [t.text for t in image.iter(f"{SVG}text")]
