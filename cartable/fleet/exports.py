"""The registers of kits and of loans as spreadsheet files: CSV (tablib), ODS and XLSX.

CSV is written for French spreadsheets: UTF-8 with a byte-order mark (without it, Excel
reads UTF-8 as Windows-1252 and garbles « Établissement »), ``;`` between fields and a
decimal comma (a French Excel or LibreOffice opens such a file by a double click into
columns, and reads ``1,5`` as a number where ``1.5`` could become a date). Dates are ISO
(``2026-01-05``, ``2026-01-05 08:30``), which spreadsheets recognise in every locale. ODS
and XLSX keep dates and numbers typed.

A text cell that begins with ``=``, ``+``, ``-`` or ``@`` is prefixed with ``'`` so that a
spreadsheet shows it rather than running it as a formula.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

import tablib
from django.utils import timezone

from .reports import KIT_COLUMNS, LOAN_COLUMNS, Scope, kit_register, loan_register


@dataclass(frozen=True)
class Register:
    title: str  # the sheet's name (31 characters at most for XLSX)
    columns: list[str]
    rows: object  # (scope, now) -> iterable of rows


REGISTERS: dict[str, Register] = {
    "cartables": Register("Cartables", KIT_COLUMNS, kit_register),
    "prets": Register("Mises à disposition", LOAN_COLUMNS, loan_register),
}

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def dataset(kind: str, scope: Scope, now: datetime | None = None):
    """The register ``kind`` of ``scope`` as a tablib Dataset of CSV cells."""
    register = REGISTERS[kind]
    data = tablib.Dataset(headers=register.columns, title=register.title)
    for row in register.rows(scope, now or timezone.now()):
        data.append([_csv_cell(_safe_text(value)) for value in row])
    return data


def render(kind: str, fmt: str, scope: Scope, now: datetime | None = None) -> bytes:
    """The file's bytes."""
    if fmt == "csv":
        return ("\ufeff" + dataset(kind, scope, now).export("csv", delimiter=";")).encode("utf-8")
    register = REGISTERS[kind]
    rows = (
        [_safe_text(value) for value in row] for row in register.rows(scope, now or timezone.now())
    )
    writer = write_xlsx if fmt == "xlsx" else write_ods
    return writer(register.title, register.columns, rows)


def filename(kind: str, fmt: str, scope: Scope, today: date) -> str:
    return f"registre-{kind}-{scope.slug}-{today.isoformat()}.{fmt}"


# Spreadsheet files ----------------------------------------------------------------------------
# Written directly as XML into their zip containers: tablib's ODS (odfpy) and XLSX
# (openpyxl) writers build an object per cell and took 30 s and 10 s for 5,000 loans, minutes
# for the national register of 50,000; these stream the rows in a second or two. Cells are
# typed: text, numbers, dates and date-times (with a display format), empty cells for None.

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(value: str) -> str:
    return escape(_CONTROL.sub("", value), {'"': "&quot;"})


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_EPOCH = datetime(1899, 12, 30)

XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # Cell formats: 0 default, 1 date, 2 date and time, 3 bold (the header row).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def _xlsx_cell(ref: str, value, header: bool = False) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, datetime):
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="1"><v>{(value - _EPOCH.date()).days}</v></c>'
    style = ' s="3"' if header else ""
    text = _xml(str(value))
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def write_xlsx(title: str, columns: list[str], rows) -> bytes:
    letters = [_column_letters(i + 1) for i in range(len(columns))]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>',
        '<row r="1">'
        + "".join(_xlsx_cell(f"{letters[i]}1", name, True) for i, name in enumerate(columns))
        + "</row>",
    ]
    for number, row in enumerate(rows, start=2):
        cells = "".join(_xlsx_cell(f"{letters[i]}{number}", value) for i, value in enumerate(row))
        parts.append(f'<row r="{number}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_xml(title[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in XLSX_STATIC.items():
            archive.writestr(name, content)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return buffer.getvalue()


ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}" '
    'manifest:version="1.2"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    "<office:document-content "
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'office:version="1.2"><office:automatic-styles>'
    '<number:date-style style:name="N1"><number:year number:style="long"/>'
    "<number:text>-</number:text>"
    '<number:month number:style="long"/><number:text>-</number:text>'
    '<number:day number:style="long"/></number:date-style>'
    '<number:date-style style:name="N2"><number:year number:style="long"/>'
    "<number:text>-</number:text>"
    '<number:month number:style="long"/><number:text>-</number:text>'
    '<number:day number:style="long"/><number:text> </number:text>'
    '<number:hours number:style="long"/><number:text>:</number:text>'
    '<number:minutes number:style="long"/></number:date-style>'
    '<style:style style:name="date" style:family="table-cell" style:data-style-name="N1"/>'
    '<style:style style:name="datetime" style:family="table-cell" '
    'style:data-style-name="N2"/>'
    '<style:style style:name="header" style:family="table-cell">'
    '<style:text-properties fo:font-weight="bold"/></style:style>'
    "</office:automatic-styles><office:body><office:spreadsheet>"
)


def _ods_cell(value, header: bool = False) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, bool):
        text = "oui" if value else "non"
        return (
            f'<table:table-cell office:value-type="boolean" '
            f'office:boolean-value="{str(value).lower()}"><text:p>{text}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value!r}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime):
        return (
            '<table:table-cell office:value-type="date" table:style-name="datetime" '
            f'office:date-value="{value:%Y-%m-%dT%H:%M:%S}">'
            f"<text:p>{value:%Y-%m-%d %H:%M}</text:p></table:table-cell>"
        )
    if isinstance(value, date):
        return (
            '<table:table-cell office:value-type="date" table:style-name="date" '
            f'office:date-value="{value.isoformat()}"><text:p>{value.isoformat()}</text:p>'
            "</table:table-cell>"
        )
    style = ' table:style-name="header"' if header else ""
    return (
        f'<table:table-cell office:value-type="string"{style}>'
        f"<text:p>{_xml(str(value))}</text:p></table:table-cell>"
    )


def write_ods(title: str, columns: list[str], rows) -> bytes:
    parts = [
        ODS_HEAD,
        f'<table:table table:name="{_xml(title)}">',
        f'<table:table-column table:number-columns-repeated="{len(columns)}"/>',
        "<table:table-row>" + "".join(_ods_cell(name, True) for name in columns),
        "</table:table-row>",
    ]
    for row in rows:
        parts.append("<table:table-row>" + "".join(_ods_cell(v) for v in row))
        parts.append("</table:table-row>")
    parts.append("</table:table></office:spreadsheet></office:body></office:document-content>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The mimetype first and stored uncompressed, as OpenDocument requires.
        archive.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", "".join(parts), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
