"""Charts drawn on the server as SVG, each with its data table beside it (pure: no I/O).

A chart is an image to look at; the table is the same figures to read, for a screen reader, a
keyboard and a person who would rather read. A withheld figure (a small count, or one hidden so
that it cannot be recovered from totals) is drawn and written as withheld, never as 0. Series are
told apart by shape and line pattern as well as by colour, and every colour has at least 4.5:1
contrast against the white background.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from markupsafe import Markup

from services.web.formatting import as_number

WITHHELD_TEXT = "ukryte"
NO_DATA_TEXT = "brak danych"
WITHHELD_NOTE = (
    "„ukryte” — liczba zbyt mała, by ją pokazać, albo ukryta, aby nie dało się jej odtworzyć"
    " z sum; nie oznacza zera."
)
# Dark enough for text and lines on white (contrast at least 4.5:1, see the tests).
PALETTE = ("#1d4f91", "#a63b00", "#2b6b2f", "#6a3d9a", "#8a1c4a", "#3d3d3d")
# Told apart without colour: each series has its own marker and line pattern.
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "10 4", "4 4")
INK = "#1b1b1b"
GRID = "#c8c8c8"  # decorative gridlines; the values are written out
REFERENCE = "#8a1c4a"
FONT = 14  # px, in the SVG's own units
CHAR = 8.2  # an estimate of a character's width at FONT, for laying out labels


class Gap(Enum):
    """A figure that is not there to draw: withheld from this reader, or with nothing to count
    (a share of zero cases). Neither is a zero."""

    WITHHELD = WITHHELD_TEXT
    NO_DATA = NO_DATA_TEXT


WITHHELD, NO_DATA = Gap.WITHHELD, Gap.NO_DATA
Value = float | Gap


class Kind(StrEnum):
    LINE = "line"
    BAR = "bar"  # horizontal bars: long Polish labels stay readable


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Value, ...]  # one per category


@dataclass(frozen=True)
class Reference:
    """A line drawn across the chart for comparison, e.g. the model's 81.4 %."""

    label: str
    value: float


@dataclass(frozen=True)
class Chart:
    slug: str  # unique on its page: the ids of the title, description and table derive from it
    title: str
    kind: Kind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    category_header: str = "kategoria"
    unit: str = ""  # e.g. "%": written after every value
    decimals: int = 0
    reference: Reference | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(
                    f"series {s.name!r} has {len(s.values)} values for "
                    f"{len(self.categories)} categories"
                )

    @property
    def withheld(self) -> bool:
        return any(v is WITHHELD for s in self.series for v in s.values)


def value_text(chart: Chart, value: Value, decimals: int | None = None) -> str:
    if isinstance(value, Gap):
        return value.value
    unit = f"\u00a0{chart.unit}" if chart.unit else ""
    return as_number(value, chart.decimals if decimals is None else decimals) + unit


def tick_text(chart: Chart, value: float) -> str:
    """An axis tick: whole ticks without decimals (0 %, 20 %, not 0,0 %)."""
    return value_text(chart, value, 0 if value == int(value) else None)


# --- the page fragment ------------------------------------------------------------------------


def figure(chart: Chart) -> Markup:
    """The chart and its data table, as one <figure> (the caption names both)."""
    return Markup(
        '<figure class="chart" id="{slug}"><figcaption>{title}</figcaption>{svg}{table}</figure>'
    ).format(slug=chart.slug, title=chart.title, svg=svg(chart), table=data_table(chart))


def data_table(chart: Chart) -> Markup:
    """The figures of the chart as a table with headers for rows and columns."""
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(s.name) for s in chart.series)
    rows = []
    for i, category in enumerate(chart.categories):
        cells = Markup("").join(_cell(chart, s.values[i]) for s in chart.series)
        rows.append(Markup('<tr><th scope="row">{}</th>{}</tr>').format(category, cells))
    notes = list(chart.notes)
    if chart.reference is not None:
        notes.insert(0, f"{chart.reference.label}: {value_text(chart, chart.reference.value)}")
    if chart.withheld:
        notes.append(WITHHELD_NOTE)
    foot = Markup("").join(Markup('<p class="chart-note">{}</p>').format(n) for n in notes)
    return Markup(
        '<div class="chart-data"><table id="{slug}-table">'
        "<caption>Dane wykresu: {title}</caption>"
        '<thead><tr><th scope="col">{category}</th>{head}</tr></thead>'
        "<tbody>{rows}</tbody></table>{foot}</div>"
    ).format(
        slug=chart.slug,
        title=chart.title,
        category=chart.category_header,
        head=head,
        rows=Markup("").join(rows),
        foot=foot,
    )


def _cell(chart: Chart, value: Value) -> Markup:
    if value is WITHHELD:
        return Markup('<td class="num withheld">{}</td>').format(WITHHELD_TEXT)
    if value is NO_DATA:
        return Markup('<td class="num no-data">{}</td>').format(NO_DATA_TEXT)
    return Markup('<td class="num">{}</td>').format(value_text(chart, value))


# --- the image ----------------------------------------------------------------------------------


def svg(chart: Chart) -> Markup:
    """The image: role="img", named by its <title>, summarised by its <desc>; the drawing
    inside is hidden from assistive technology, which reads the summary and the table."""
    draw = _bars if chart.kind is Kind.BAR else _lines
    width, height, body = draw(chart)
    return Markup(
        '<svg class="chart-image" role="img" viewBox="0 0 {w} {h}" width="100%"'
        ' preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"'
        ' aria-labelledby="{slug}-title {slug}-desc" font-size="{font}"'
        ' font-family="system-ui, sans-serif">'
        '<title id="{slug}-title">{title}</title><desc id="{slug}-desc">{desc}</desc>'
        "{body}</svg>"
    ).format(
        w=width,
        h=height,
        slug=chart.slug,
        font=FONT,
        title=chart.title,
        desc=describe(chart),
        body=body,
    )


def describe(chart: Chart) -> str:
    """A sentence a screen reader says for the image: what it shows and where the figures are."""
    kind = "Wykres liniowy" if chart.kind is Kind.LINE else "Wykres słupkowy"
    parts = [f"{kind}, {len(chart.categories)} pozycji"]
    if len(chart.series) > 1:
        parts.append("serie: " + ", ".join(s.name for s in chart.series))
    visible = [
        (v, chart.categories[i], s.name)
        for s in chart.series
        for i, v in enumerate(s.values)
        if not isinstance(v, Gap)
    ]
    if visible:
        top = max(visible, key=lambda x: x[0])
        parts.append(f"największa wartość {value_text(chart, top[0])} ({top[1]})")
    if chart.reference is not None:
        parts.append(f"{chart.reference.label}: {value_text(chart, chart.reference.value)}")
    withheld = sum(1 for s in chart.series for v in s.values if v is WITHHELD)
    if withheld:
        parts.append(f"ukrytych wartości: {withheld}")
    return "; ".join(parts) + ". Wszystkie dane są w tabeli pod wykresem."


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _scale_top(chart: Chart) -> float:
    values = [v for s in chart.series for v in s.values if not isinstance(v, Gap)]
    if chart.reference is not None:
        values.append(chart.reference.value)
    return max(values, default=0.0)


def _text(x: float, y: float, content: str, anchor: str = "start", **attrs: str) -> Markup:
    extra = Markup("").join(
        Markup(' {}="{}"').format(k.replace("_", "-"), v) for k, v in attrs.items()
    )
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" fill="{}"{}>{}</text>').format(
        x, y, anchor, INK, extra, content
    )


def _bars(chart: Chart) -> tuple[int, int, Markup]:
    row, bar, top_pad, axis_pad = 30, 18, 12, 34
    label_w = min(360, int(max((len(c) for c in chart.categories), default=4) * CHAR) + 12)
    value_w = 90
    plot_w = 360
    width = label_w + plot_w + value_w
    height = top_pad + row * len(chart.categories) + axis_pad
    ticks = nice_ticks(_scale_top(chart))
    top = ticks[-1]

    def x_of(v: float) -> float:
        return label_w + plot_w * v / top

    parts: list[Markup] = [Markup('<g aria-hidden="true">')]
    plot_bottom = top_pad + row * len(chart.categories)
    for t in ticks:
        x = x_of(t)
        parts.append(
            Markup('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="{3}"/>').format(
                x, top_pad, plot_bottom, GRID
            )
        )
        parts.append(_text(x, plot_bottom + 18, tick_text(chart, t), "middle"))
    series = chart.series[0]  # one value per bar; several series belong on a line chart
    for i, (category, value) in enumerate(zip(chart.categories, series.values, strict=True)):
        y = top_pad + row * i
        parts.append(_text(label_w - 8, y + bar - 3, category, "end"))
        if value is WITHHELD:
            # An outline with the word: withheld is not a short bar and not zero.
            parts.append(
                Markup(
                    '<rect class="withheld" x="{:.1f}" y="{}" width="{}" height="{}" fill="none"'
                    ' stroke="{}" stroke-dasharray="4 3"/>'
                ).format(label_w, y + 2, 64, bar, INK)
            )
            parts.append(_text(label_w + 6, y + bar - 3, WITHHELD_TEXT, font_style="italic"))
            continue
        if value is NO_DATA:
            parts.append(_text(label_w + 6, y + bar - 3, NO_DATA_TEXT, font_style="italic"))
            continue
        parts.append(
            Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"/>').format(
                label_w, y + 2, x_of(value) - label_w, bar, PALETTE[0]
            )
        )
        parts.append(_text(x_of(value) + 6, y + bar - 3, value_text(chart, value)))
    parts.append(
        Markup('<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="{3}"/>').format(
            label_w, top_pad, plot_bottom, INK
        )
    )
    if chart.reference is not None:
        x = x_of(chart.reference.value)
        parts.append(_reference_line(x, top_pad - 8, x, plot_bottom))
        parts.append(
            _text(x, plot_bottom + 32, f"{chart.reference.label}", "middle", font_weight="bold")
        )
        height += 14
    parts.append(Markup("</g>"))
    return width, height, Markup("").join(parts)


def _reference_line(x1: float, y1: float, x2: float, y2: float) -> Markup:
    return Markup(
        '<line class="reference" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}"'
        ' stroke-width="2" stroke-dasharray="8 4"/>'
    ).format(x1, y1, x2, y2, REFERENCE)


def _lines(chart: Chart) -> tuple[int, int, Markup]:
    left, right, top_pad, bottom = 70, 24, 16, 64
    legend_row = 22
    plot_w, plot_h = 560, 220
    width = left + plot_w + right
    legend_h = legend_row * len(chart.series) + 8
    height = top_pad + plot_h + bottom + legend_h
    ticks = nice_ticks(_scale_top(chart))
    top = ticks[-1]
    n = len(chart.categories)

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y_of(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    parts: list[Markup] = [Markup('<g aria-hidden="true">')]
    for t in ticks:
        y = y_of(t)
        parts.append(
            Markup('<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="{3}"/>').format(
                left, left + plot_w, y, GRID
            )
        )
        parts.append(_text(left - 8, y + 5, tick_text(chart, t), "end"))
    step = max(1, math.ceil(n * 7 * CHAR / plot_w))  # thin the axis labels when crowded
    for i, category in enumerate(chart.categories):
        if i % step == 0:
            parts.append(_text(x_of(i), top_pad + plot_h + 20, category, "middle"))
    parts.append(
        Markup('<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}"/>').format(
            left, left + plot_w, top_pad + plot_h, INK
        )
    )
    for k, s in enumerate(chart.series):
        colour, dash, marker = PALETTE[k % 6], DASHES[k % 6], MARKERS[k % 6]
        for run in _runs(s.values):
            points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in run)
            parts.append(
                Markup(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"{}/>'
                ).format(points, colour, _dash(dash))
            )
        for i, v in enumerate(s.values):
            if v is WITHHELD:
                # below the axis labels, off the value scale: never read as a zero
                parts.append(_withheld_mark(x_of(i), top_pad + plot_h + 38))
            elif not isinstance(v, Gap):
                parts.append(_marker(marker, x_of(i), y_of(v), colour))
    if chart.reference is not None:
        y = y_of(chart.reference.value)
        parts.append(_reference_line(left, y, left + plot_w, y))
        parts.append(_text(left + plot_w, y - 6, chart.reference.label, "end", font_weight="bold"))
    legend_top = top_pad + plot_h + bottom
    for k, s in enumerate(chart.series):
        y = legend_top + legend_row * k
        colour = PALETTE[k % 6]
        parts.append(
            Markup(
                '<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}" stroke-width="2.5"{4}/>'
            ).format(left, left + 36, y, colour, _dash(DASHES[k % 6]))
        )
        parts.append(_marker(MARKERS[k % 6], left + 18, y, colour))
        parts.append(_text(left + 46, y + 5, s.name))
    if chart.withheld:
        y = legend_top + legend_row * len(chart.series)
        parts.append(_withheld_mark(left + 18, y))
        parts.append(_text(left + 46, y + 5, f"{WITHHELD_TEXT} (wartość niepokazana)"))
        height += legend_row
    parts.append(Markup("</g>"))
    return width, height, Markup("").join(parts)


def _dash(pattern: str) -> Markup:
    return Markup(' stroke-dasharray="{}"').format(pattern) if pattern else Markup("")


def _runs(values: Sequence[Value]) -> list[list[tuple[int, float]]]:
    """Consecutive shown values: a line never bridges a withheld one."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if isinstance(v, Gap):
            runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if len(r) > 1]


def _withheld_mark(x: float, y: float) -> Markup:
    """A hollow, dashed ring: drawn where a withheld value would be, off the value scale."""
    return Markup(
        '<circle class="withheld" cx="{:.1f}" cy="{:.1f}" r="6" fill="white" stroke="{}"'
        ' stroke-dasharray="2 2" stroke-width="1.5"/>'
    ).format(x, y, INK)


def _marker(shape: str, x: float, y: float, colour: str) -> Markup:
    shapes: dict[str, Callable[[], str]] = {
        "circle": lambda: f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5"',
        "square": lambda: f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10"',
        "triangle": lambda: (
            f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y + 5:.1f} {x - 6:.1f},{y + 5:.1f}"'
        ),
        "diamond": lambda: (
            f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f}'
            f' {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"'
        ),
        "cross": lambda: (
            f'<path d="M{x - 5:.1f},{y - 5:.1f}L{x + 5:.1f},{y + 5:.1f}'
            f'M{x - 5:.1f},{y + 5:.1f}L{x + 5:.1f},{y - 5:.1f}" stroke-width="2.5"'
        ),
        "bar": lambda: f'<rect x="{x - 2:.1f}" y="{y - 7:.1f}" width="4" height="14"',
    }
    return Markup(shapes[shape]() + f' fill="{colour}" stroke="{colour}"/>')
