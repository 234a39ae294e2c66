"""Charts of the review report, drawn on the server as SVG from plain data.

The same markup goes into the page and into the PDF (WeasyPrint draws inline SVG). Each
chart is an image for assistive technologies (``role="img"``, named by its ``<title>`` and
described by its ``<desc>``) and always comes with its data table (``Table``): the table is
what a screen reader reads and what the spreadsheets hold, the chart only shows it.

Under the strict CSP no ``style`` attribute is used: everything the drawing needs is in
presentation attributes (``fill``, ``stroke``, ``font-size``…), so the SVG looks the same
where no stylesheet reaches it (WeasyPrint does not apply the page's CSS inside an SVG);
``evaluation/report.css`` only sizes the figure. Colours have at least 4.5:1 contrast on
white and never carry meaning alone: the shares have patterns (plain, stripes, cross-hatch,
dots), a legend, and their values written out under each bar.

A value may be a number, ``None`` (not known) or a string such as « < 5 » (a small count
hidden by ``displayed``): a hidden value is drawn as no bar, with its text, so a chart can
never tell more than its table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Column kinds: how a value is written out (and typed in the spreadsheets).
TEXT, COUNT, SHARE, NUMBER = "text", "count", "share", "number"

INK = "#161616"
MUTED = "#3a3a3a"  # 11.4:1 on white
FONT = "DejaVu Sans, Verdana, sans-serif"

# The bars' colour, then (colour, pattern) for the series of a share chart, in order.
# Contrast on white: blue 14.9:1, green 5.4:1, brown 5.7:1, red 5.6:1, grey 11.4:1.
BAR = "#000091"
SERIES = [
    ("#18753c", "plain"),
    ("#b34000", "stripes"),
    ("#c9191e", "cross"),
    ("#3a3a3a", "dots"),
    ("#000091", "plain"),
]


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = COUNT  # TEXT, COUNT, SHARE (a percentage, 0–100) or NUMBER (one decimal)


@dataclass(frozen=True)
class Table:
    """A data table: the first column names the rows (row headers)."""

    key: str  # a short slug, used for ids and sheet names
    caption: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    sheet: str = ""  # the spreadsheet's sheet name (31 characters at most)

    @property
    def formatted_rows(self) -> list[list[str]]:
        return [
            [
                format_value(value, column.kind)
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    @property
    def sheet_name(self) -> str:
        return (self.sheet or self.caption)[:31]


def format_value(value, kind: str = COUNT) -> str:
    """A value as the page and the PDF write it, in French (« 1 234 », « 62,5 % »)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if kind == SHARE:
        return _french(f"{value:,.1f}") + "\u00a0%"
    if kind == NUMBER and not isinstance(value, int):
        return _french(f"{value:,.1f}")
    if isinstance(value, float):
        return _french(f"{value:,.1f}")
    if isinstance(value, int):
        return _french(f"{value:,d}")
    return str(value)


def _french(text: str) -> str:
    """``1,234.5`` → ``1 234,5`` (no-break space between thousands)."""
    return text.replace(",", "\u00a0").replace(".", ",")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    svg: SafeString
    table: Table


def _numeric(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(x, y, content: str, *, size: int = 13, anchor: str = "start", weight: str = "") -> str:
    bold = ' font-weight="bold"' if weight else ""
    return (
        f'<text x="{x:g}" y="{y:g}" font-family="{FONT}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}"{bold}>{escape(content)}</text>'
    )


def _wrap(label: str, width: int) -> list[str]:
    """A label cut into lines of at most ``width`` characters (two lines at most)."""
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])[: width - 1] + "…"]
    return lines


def _open(key: str, title: str, description: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{key}-title {key}-desc">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(description)}</desc>'
    )


def _patterns(key: str, series: list[int]) -> str:
    """The patterned fills of ``series``: a colour with white stripes, cross-hatch or dots."""
    defs = []
    for index in sorted(set(series)):
        colour, kind = SERIES[index % len(SERIES)]
        if kind == "plain":
            continue
        marks = {
            "stripes": '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#ffffff" '
            'stroke-width="1.5"/>',
            "cross": '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#ffffff" stroke-width="1.25"/>',
            "dots": '<circle cx="4" cy="4" r="1.5" fill="#ffffff"/>',
        }[kind]
        defs.append(
            f'<pattern id="{key}-fill-{index}" width="8" height="8" '
            f'patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{colour}"/>'
            f"{marks}</pattern>"
        )
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _fill(key: str, index: int) -> str:
    colour, kind = SERIES[index % len(SERIES)]
    return colour if kind == "plain" else f"url(#{key}-fill-{index})"


def bar_chart(key: str, title: str, description: str, table: Table, column: int = 1) -> Chart:
    """Horizontal bars, one per row of ``table``, of the values in ``column``."""
    kind = table.columns[column].kind
    values = [row[column] for row in table.rows]
    numbers = [v for v in values if _numeric(v)]
    top = max(numbers, default=0) or 1
    if kind == SHARE:
        top = max(top, 100)
    width, label_width, value_width, row_height = 640, 230, 80, 34
    bar_space = width - label_width - value_width
    height = max(1, len(values)) * row_height + 8
    parts = [_open(key, title, description, width, height)]
    for index, (row, value) in enumerate(zip(table.rows, values, strict=True)):
        y = 4 + index * row_height
        lines = _wrap(str(row[0]), 30)
        first = y + row_height / 2 + 4 - (len(lines) - 1) * 7
        for n, line in enumerate(lines):
            parts.append(_text(label_width - 8, first + n * 14, line, anchor="end"))
        bar = (value / top) * bar_space if _numeric(value) else 0
        if bar:
            parts.append(
                f'<rect x="{label_width}" y="{y + 7}" width="{max(bar, 1):.1f}" '
                f'height="{row_height - 14}" fill="{BAR}"/>'
            )
        parts.append(
            _text(
                label_width + bar + 6,
                y + row_height / 2 + 5,
                format_value(value, kind),
                weight="bold",
            )
        )
    parts.append(
        f'<line x1="{label_width}" y1="2" x2="{label_width}" y2="{height - 2}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Chart(key, title, description, mark_safe("".join(parts)), table)  # noqa: S308


def share_chart(
    key: str,
    title: str,
    description: str,
    table: Table,
    columns: list[int] | None = None,
    palette: list[int] | None = None,
) -> Chart:
    """One bar per row of ``table``, split into the shares of ``columns`` (counts or
    percentages) of the row's total. ``palette`` picks the fills of the series in
    ``SERIES`` (in order by default)."""
    columns = columns or list(range(1, len(table.columns)))
    names = [table.columns[c].label for c in columns]
    bars = [(str(row[0]), [row[c] for c in columns]) for row in table.rows]
    svg = _share_svg(key, title, description, names, bars, palette)
    return Chart(key, title, description, svg, table)


def share_bar(
    key: str,
    title: str,
    description: str,
    table: Table,
    label: str,
    column: int = 1,
    rows: list[int] | None = None,
    palette: list[int] | None = None,
) -> Chart:
    """A single bar named ``label``, split into the shares of ``rows`` of ``table`` (their
    values in ``column``): the table lists the parts one per row."""
    rows = rows if rows is not None else list(range(len(table.rows)))
    names = [str(table.rows[r][0]) for r in rows]
    bars = [(label, [table.rows[r][column] for r in rows])]
    svg = _share_svg(key, title, description, names, bars, palette)
    return Chart(key, title, description, svg, table)


def _share_svg(key, title, description, names, bars, palette) -> SafeString:
    """Bars split into shares. A bar with a hidden value is not drawn (its shares would
    tell the hidden count), nor one with nothing; the shares are written under each bar."""
    palette = palette or list(range(len(SERIES)))
    series = [palette[i % len(palette)] for i in range(len(names))]
    width, label_width, bar_width, bar_height = 640, 180, 440, 22
    row_height = bar_height + 30
    legend_rows, x, legend = 1, label_width, []
    for index, name in enumerate(names):
        step = 22 + 7 * len(name) + 20
        if x + step > width and x > label_width:
            legend_rows, x = legend_rows + 1, label_width
        y = 6 + (legend_rows - 1) * 22
        legend.append(
            f'<rect x="{x}" y="{y}" width="16" height="16" fill="{_fill(key, series[index])}" '
            f'stroke="{INK}" stroke-width="1"/>'
        )
        legend.append(_text(x + 22, y + 13, name))
        x += step
    legend_height = 8 + legend_rows * 22
    height = legend_height + max(1, len(bars)) * row_height + 4
    parts = [_open(key, title, description, width, height), _patterns(key, series), *legend]
    for number, (label, values) in enumerate(bars):
        y = legend_height + number * row_height
        for n, line in enumerate(_wrap(label, 24)):
            parts.append(_text(label_width - 8, y + 16 + n * 14, line, anchor="end"))
        if not all(_numeric(v) or v is None for v in values):
            parts.append(_text(label_width, y + 16, "Effectifs trop petits pour être montrés."))
            continue
        total = sum(v for v in values if v is not None)
        if not total:
            parts.append(_text(label_width, y + 16, "Aucune donnée."))
            continue
        left, words = float(label_width), []
        for index, value in enumerate(values):
            share = (value or 0) / total
            if share > 0:
                parts.append(
                    f'<rect x="{left:.1f}" y="{y + 4}" width="{share * bar_width:.1f}" '
                    f'height="{bar_height}" fill="{_fill(key, series[index])}" '
                    'stroke="#ffffff" stroke-width="1"/>'
                )
            left += share * bar_width
            words.append(f"{names[index]} {format_value(share * 100, SHARE)}")
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="{bar_height}" '
            f'fill="none" stroke="{INK}" stroke-width="1"/>'
        )
        parts.append(_text(label_width, y + bar_height + 19, " · ".join(words), size=12))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308
