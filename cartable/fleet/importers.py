"""Import devices into the register from a CSV file.

The file has a header line and one device per line:

- columns ``numero_serie`` and ``type`` (required), ``cartable`` and ``version_logicielle``
  (optional columns, and optional values: a device may be in no kit yet); headers are
  compared without case or accents, spaces and hyphens read as underscores, in any order;
- separator ``;`` or ``,`` (sniffed from the header); UTF-8, with or without a byte-order
  mark (read by ``cartable.core.spreadsheet``, shared by every import: other encodings,
  NUL characters and fields over 131,072 characters are refused with their line);
- ``type``: the code (``class_box``, ``pupil_tablet``…) or the French label (« Tablette de
  l'élève »), without regard to case or accents;
- ``cartable``: the reference of a kit that exists and is not retired (kits are not created
  by the import: a typo would otherwise make a new kit).

All or nothing: every line is checked first; if any is wrong, the result lists every
problem with its line number (the header is line 1) and a reason in French, and nothing is
written. A serial number already in the register, or twice in the file (compared without
case), is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper

from cartable.core.spreadsheet import FileRefused, csv_records, read_text
from cartable.organisation.importers import RowError, _header_key, _plain

from .models import Device, Kit

BATCH_SIZE = 1000

# Our column key -> header names accepted for it, after ``_column_key``.
COLUMNS: dict[str, tuple[str, ...]] = {
    "serial": ("numero_serie", "numero_de_serie", "serie"),
    "kind": ("type", "type_appareil", "type_d_appareil"),
    "kit": ("cartable", "reference_cartable"),
    "version": ("version_logicielle", "version"),
}
REQUIRED = ("serial", "kind")
LABELS = {"serial": "numero_serie", "kind": "type"}

SERIAL_MAX, VERSION_MAX = 60, 40
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def code_problem(value: str, *, what: str) -> str:
    """Why ``value`` is not a valid serial number or kit reference ("" when it is): letters
    without accents, digits and ``- _ . /``, no spaces (they are typed from labels and
    scanned from barcodes)."""
    if _CODE.fullmatch(value):
        return ""
    return (
        f"{what} ne peut contenir que des lettres sans accent, des chiffres et les signes "
        "- _ . / (sans espace)."
    )


def _text_key(value: str) -> str:
    return _plain(value.replace("’", "'"))


# What the type column may say -> the Device.Kind code.
KINDS: dict[str, str] = {
    **{_text_key(code): code for code in Device.Kind.values},
    **{_text_key(label): code for code, label in Device.Kind.choices},
}


def kind_from_text(value: str) -> str | None:
    return KINDS.get(_text_key(value))


def find_kit(code: str) -> Kit | None:
    """The kit of this reference, compared without case (as ``services.kit_create`` does)."""
    return Kit.objects.filter(code__iexact=code.strip()).first()


@dataclass
class DeviceImportResult:
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _column_key(cell: str) -> str:
    return _plain(_header_key(cell)).lower()


def devices_import(*, file) -> DeviceImportResult:
    """Create the devices of a CSV ``file`` (a path, or a file object in binary or text
    mode), all or none; see the module docstring for the rules."""
    result = DeviceImportResult()
    try:
        text = read_text(file)
        devices = _check(text, result.errors)
    except FileRefused as refused:  # the file itself (encoding, NUL, an endless field)
        result.errors.append(RowError(refused.line, refused.message))
        return result
    if result.errors:
        return result
    try:
        with transaction.atomic():
            Device.objects.bulk_create(devices, batch_size=BATCH_SIZE)
    except IntegrityError:
        # A serial number was recorded by someone else between the check and the write:
        # check again to name its line.
        _check(text, result.errors)
        if not result.errors:
            result.errors.append(
                RowError(
                    1, "le registre a changé pendant l'import : importez à nouveau le fichier."
                )
            )
        return result
    result.created = len(devices)
    return result


def _check(text: str, errors: list[RowError]) -> list[Device]:
    """Parse and check every line; the devices to create, or problems in ``errors``."""
    records = csv_records(text)
    header = next(records, (1, None))[1]
    if not header or not any(cell.strip() for cell in header):
        errors.append(RowError(1, "le fichier est vide."))
        return []
    keys = [_column_key(cell) for cell in header]
    position: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        found = next((alias for alias in aliases if alias in keys), None)
        if found is not None:
            position[column] = keys.index(found)
    for column in REQUIRED:
        if column not in position:
            errors.append(
                RowError(
                    1,
                    f"colonne obligatoire absente : {LABELS[column]}. La première ligne doit "
                    "nommer les colonnes numero_serie;type;cartable;version_logicielle.",
                )
            )
    if errors:
        return []

    kits = {
        code.upper(): (pk, code, status)
        for pk, code, status in Kit.objects.values_list("pk", "code", "status")
    }
    width = len(header)
    rows: list[tuple[int, dict]] = []
    first_seen: dict[str, int] = {}  # upper-cased serial -> its line
    for line, record in records:
        if not record or not any(cell.strip() for cell in record):
            continue  # blank lines, often at the end of a hand-edited file
        if len(record) != width:
            errors.append(RowError(line, f"la ligne a {len(record)} colonnes au lieu de {width}."))
            continue
        raw = {column: record[index].strip() for column, index in position.items()}
        problems: list[str] = []

        serial = raw["serial"]
        if not serial:
            problems.append("numéro de série manquant.")
        elif len(serial) > SERIAL_MAX:
            problems.append(f"numéro de série trop long ({SERIAL_MAX} caractères au plus).")
        elif problem := code_problem(serial, what="le numéro de série"):
            problems.append(problem)
        elif serial.upper() in first_seen:
            problems.append(
                f"le numéro de série {serial} figure déjà ligne {first_seen[serial.upper()]}."
            )
        else:
            first_seen[serial.upper()] = line

        kind = kind_from_text(raw["kind"]) if raw["kind"] else None
        if not raw["kind"]:
            problems.append("type d'appareil manquant.")
        elif kind is None:
            known = ", ".join(label for _, label in Device.Kind.choices)
            problems.append(f"type d'appareil inconnu : {raw['kind']} (attendu : {known}).")

        kit_id = None
        kit_code = raw.get("kit", "")
        if kit_code:
            kit = kits.get(kit_code.upper())
            if kit is None:
                problems.append(
                    f"cartable inconnu : {kit_code} (créez-le d'abord dans le registre)."
                )
            elif kit[2] == Kit.Status.RETIRED:
                problems.append(f"le cartable {kit[1]} est réformé.")
            else:
                kit_id = kit[0]

        version = raw.get("version", "")
        if len(version) > VERSION_MAX:
            problems.append(f"version logicielle trop longue ({VERSION_MAX} caractères au plus).")

        errors.extend(RowError(line, problem) for problem in problems)
        if not problems:
            values = {"serial": serial, "kind": kind, "kit_id": kit_id, "software_version": version}
            rows.append((line, values))

    if not rows and not errors:
        errors.append(RowError(2, "le fichier ne contient aucun appareil."))
    # Serial numbers already in the register, found with one query per batch.
    wanted = list(first_seen)
    taken: dict[str, str] = {}
    for start in range(0, len(wanted), BATCH_SIZE):
        batch = wanted[start : start + BATCH_SIZE]
        taken.update(
            (serial.upper(), serial)
            for serial in Device.objects.annotate(upper=Upper("serial"))
            .filter(upper__in=batch)
            .values_list("serial", flat=True)
        )
    for upper, line in first_seen.items():
        if upper in taken:
            errors.append(
                RowError(
                    line, f"un appareil du registre porte déjà le numéro de série {taken[upper]}."
                )
            )
    if errors:
        errors.sort(key=lambda error: error.line)
        return []
    return [Device(**values) for _, values in rows]
