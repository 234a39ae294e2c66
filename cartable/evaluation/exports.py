"""The review report's data as files, with tablib: ODS and XLSX with one sheet per table
(indicators, level groups, places, connection quality, surveys…), CSV with the main
indicators table.

The cells are those of the page and the PDF (``report.build``): counts under 5 are already
« < 5 » outside a single school. CSV follows the registers' conventions
(cartable/fleet/exports.py): UTF-8 with a byte-order mark, ``;`` between fields, decimal
comma; in every format a text cell beginning with ``=``, ``+``, ``-`` or ``@`` is shown, not
run as a formula.
"""

from __future__ import annotations

import tablib

from cartable.fleet.exports import CONTENT_TYPES, _csv_cell, _safe_text

from .charts import Table
from .scope import Period, Scope

__all__ = ["CONTENT_TYPES", "dataset", "filename", "render"]


def _typed(value):
    """A cell for ODS and XLSX: numbers stay numbers, nothing stays empty."""
    if value is None:
        return ""
    return _safe_text(value)


def dataset(table: Table, *, csv: bool = False) -> tablib.Dataset:
    data = tablib.Dataset(headers=[c.label for c in table.columns], title=table.sheet_name)
    for row in table.rows:
        data.append([_csv_cell(_safe_text(v)) if csv else _typed(v) for v in row])
    return data


def render(built, fmt: str) -> bytes:
    """The file's bytes for a built report (``report.build``)."""
    if fmt == "csv":
        text = dataset(built.main_table, csv=True).export("csv", delimiter=";")
        return ("\ufeff" + text).encode("utf-8")
    book = tablib.Databook([dataset(table) for table in built.tables])
    return book.export(fmt)


def period_slug(period: Period) -> str:
    if (period.start.month, period.start.day, period.end.month, period.end.day) == (9, 1, 8, 31):
        return f"{period.start.year}-{period.end.year}"
    return period.slug


def filename(period: Period, scope: Scope, fmt: str) -> str:
    return f"rapport-evaluation-{period_slug(period)}-{scope.slug}.{fmt}"
