"""Reading the files people import (CSV and JSON): one reader for every import.

The school directory (``organisation.importers``), the devices (``fleet.importers``) and the
school calendar (``organisation.calendar``) read their files through here, on the web and
on the command line. Whatever is wrong with the file itself raises ``FileRefused`` with the
line it is on and a French message, before anything is written:

- an encoding other than UTF-8 (with or without a byte-order mark);
- a NUL character (PostgreSQL cannot store one; SQLite would store it silently);
- a CSV field longer than ``MAX_FIELD`` characters (the ``csv`` module's own limit, which
  otherwise crashes the import), or a CSV the module cannot read;
- JSON that does not parse, holds a NUL (even written ``\\u0000``), or is nested deeper
  than ``MAX_JSON_DEPTH`` (Python's parser would otherwise exhaust its recursion limit).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import has_nul

MAX_FIELD = csv.field_size_limit()  # 131,072 characters: no real cell comes near it
MAX_JSON_DEPTH = 32


NUL_IN_FILE = (
    "caractère nul (U+0000) dans le fichier : ce n'est pas un fichier texte, ou il est abîmé."
)


class FileRefused(ValueError):
    """The file cannot be read: ``line`` (as in the file, from 1) and a French ``message``."""

    def __init__(self, line: int, message: str):
        super().__init__(f"ligne {line} : {message}")
        self.line = line
        self.message = message


def read_content(file) -> bytes | str:
    """The content of ``file``: a path, or a file object opened in binary or text mode (an
    uploaded file, a StringIO)."""
    return Path(file).read_bytes() if isinstance(file, str | os.PathLike) else file.read()


def read_text(file) -> str:
    """The whole file as text, without its byte-order mark. Raises ``FileRefused`` when it
    is not UTF-8 or holds a NUL character."""
    data = read_content(file)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise FileRefused(
                line,
                "le fichier n'est pas encodé en UTF-8 (caractère illisible) : "
                "enregistrez-le au format « CSV UTF-8 ».",
            ) from exc
    text = data.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        raise FileRefused(text.count("\n", 0, nul) + 1, NUL_IN_FILE)
    return text


def sniff_delimiter(text: str) -> str:
    """``;``, ``,`` or a tab: the one the header line holds most of (``;`` by default)."""
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ";"


def csv_records(text: str, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its cells) for each record of a CSV text, the header
    first (line 1). Raises ``FileRefused`` on a field over ``MAX_FIELD`` characters or a
    record the ``csv`` module cannot read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or sniff_delimiter(text))
    line_end = 0
    while True:
        line = line_end + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                message = (
                    f"champ trop long (plus de {MAX_FIELD:,} caractères)".replace(",", "\u202f")
                    + " : un guillemet n'est-il pas refermé ?"
                )
            else:
                message = f"ligne CSV illisible ({exc})."
            raise FileRefused(line, message) from exc
        line_end = reader.line_num
        yield line, record


def _depth_exceeded(text: str, limit: int) -> int | None:
    """The line where nesting first goes deeper than ``limit``, or None (strings skipped)."""
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth -= 1
    return None


def json_load(text: str):
    """The data of a JSON text. Raises ``FileRefused`` when it does not parse or is nested
    deeper than ``MAX_JSON_DEPTH``."""
    too_deep = _depth_exceeded(text, MAX_JSON_DEPTH)
    if too_deep is not None:
        raise FileRefused(
            too_deep,
            f"JSON trop imbriqué (plus de {MAX_JSON_DEPTH} niveaux de listes ou d'objets).",
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRefused(exc.lineno, f"JSON illisible ({exc.msg}).") from exc
    except RecursionError as exc:  # not reached after the depth check; kept as a guard
        raise FileRefused(1, "JSON trop imbriqué.") from exc
    if has_nul(data):  # written \u0000 in the text, which read_text cannot see
        escaped = text.lower().find("\\u0000")
        raise FileRefused(text.count("\n", 0, max(escaped, 0)) + 1, NUL_IN_FILE)
    return data
