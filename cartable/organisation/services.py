"""Writes on the administrative tree (académies and départements) and on schools.

The school import lives in ``importers.py`` (it is mostly parsing); this module holds the
writes on reference data.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from .models import Academy, Department

ACADEMIES_CSV = Path(__file__).resolve().parent / "data" / "academies.csv"

_ACADEMY_CODE = re.compile(r"^[0-9]{2}$")
_DEPARTMENT_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|9[78][0-9])$")
_ACADEMY_COLUMNS = ("academy_code", "academy_name", "zone", "department_codes")


class ReferenceDataError(ValueError):
    """A reference file that cannot be loaded; the message says where and why, in French."""


@dataclass(frozen=True)
class AcademyRow:
    code: str
    name: str
    zone: str
    department_codes: tuple[str, ...]


@dataclass
class AcademiesLoadResult:
    academies_created: int = 0
    academies_updated: int = 0
    departments_created: int = 0
    departments_updated: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.academies_created,
                self.academies_updated,
                self.departments_created,
                self.departments_updated,
            )
        )


def normalise_academy_code(value: str) -> str:
    """``"4"`` (a spreadsheet that read the code as a number) becomes ``"04"``."""
    code = value.strip()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def normalise_department_code(value: str) -> str:
    """The INSEE code from any of the directory's spellings: ``078``/``78``, ``02A``/``2A``,
    ``974``, or ``1`` for ``01``."""
    code = value.strip().upper()
    if len(code) == 3 and code[0] == "0":
        code = code[1:]
    elif len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def read_content(file) -> bytes | str:
    """The content of ``file``: a path, or a file object opened in binary or text mode (an
    uploaded file, a StringIO)."""
    return Path(file).read_bytes() if isinstance(file, str | os.PathLike) else file.read()


def _read_text(file) -> str:
    data = read_content(file)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReferenceDataError("Le fichier n'est pas encodé en UTF-8.") from exc
    return data.removeprefix("\ufeff")


def academies_read(file=None) -> list[AcademyRow]:
    """Parse and check an académies file (``academy_code,academy_name,zone,department_codes``).

    Every département must appear once in the whole file: a département listed under two
    académies would make the tree ambiguous.
    """
    reader = csv.DictReader(io.StringIO(_read_text(file or ACADEMIES_CSV), newline=""))
    missing = [name for name in _ACADEMY_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ReferenceDataError(f"ligne 1 : colonnes absentes : {', '.join(missing)}")
    zones = set(Academy.Zone.values)
    rows: list[AcademyRow] = []
    seen_academies: dict[str, int] = {}
    seen_departments: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        code = normalise_academy_code(record["academy_code"] or "")
        name = " ".join((record["academy_name"] or "").split())
        zone = (record["zone"] or "").strip()
        departments = tuple(
            normalise_department_code(c) for c in (record["department_codes"] or "").split()
        )
        if not _ACADEMY_CODE.match(code):
            raise ReferenceDataError(f"ligne {line} : code d'académie invalide : {code!r}")
        if code in seen_academies:
            raise ReferenceDataError(
                f"ligne {line} : académie {code} déjà décrite ligne {seen_academies[code]}"
            )
        if not name:
            raise ReferenceDataError(f"ligne {line} : nom d'académie manquant")
        if zone not in zones:
            raise ReferenceDataError(
                f"ligne {line} : zone inconnue : {zone!r} (attendu : {', '.join(sorted(zones))})"
            )
        if not departments:
            raise ReferenceDataError(f"ligne {line} : aucun département pour l'académie {code}")
        for department in departments:
            if not _DEPARTMENT_CODE.match(department):
                raise ReferenceDataError(
                    f"ligne {line} : code de département invalide : {department!r}"
                )
            if department in seen_departments:
                raise ReferenceDataError(
                    f"ligne {line} : département {department} déjà rattaché ligne "
                    f"{seen_departments[department]}"
                )
            seen_departments[department] = line
        seen_academies[code] = line
        rows.append(AcademyRow(code=code, name=name, zone=zone, department_codes=departments))
    if not rows:
        raise ReferenceDataError("le fichier ne contient aucune académie")
    return rows


@transaction.atomic
def academies_load(*, file=None) -> AcademiesLoadResult:
    """Create or update the académies and their départements from ``file`` (default: the
    shipped ``data/academies.csv``). Idempotent; nothing is deleted, since schools and
    reports point at départements (an académie or département missing from the file is
    left as it is)."""
    rows = academies_read(file)
    result = AcademiesLoadResult()
    academies = {academy.code: academy for academy in Academy.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    for row in rows:
        academy = academies.get(row.code)
        if academy is None:
            academy = Academy.objects.create(code=row.code, name=row.name, zone=row.zone)
            academies[row.code] = academy
            result.academies_created += 1
        elif (academy.name, academy.zone) != (row.name, row.zone):
            academy.name, academy.zone = row.name, row.zone
            academy.save(update_fields=["name", "zone"])
            result.academies_updated += 1
        for code in row.department_codes:
            department = departments.get(code)
            if department is None:
                departments[code] = Department.objects.create(code=code, academy=academy)
                result.departments_created += 1
            elif department.academy_id != academy.pk:
                department.academy = academy
                department.save(update_fields=["academy"])
                result.departments_updated += 1
    return result
