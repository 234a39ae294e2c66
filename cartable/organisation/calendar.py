"""School days of a holiday zone, and the loading of the national school calendar.

A school day is a weekday (Monday to Friday) that falls in no school holiday
(``SchoolHoliday``) of the school's zone. A school whose académie is unknown (no
département, as for a school entered by hand) counts plain weekdays. Public holidays that
fall on a weekday outside the school holidays (11 November, 1 and 8 May, Easter and Whit
Mondays, Ascension) are not in the calendar and count as school days.

The zone of an académie is its holiday zone (``A``, ``B``, ``C``, ``Corse``); each overseas
académie has its own calendar, kept under the académie's name (``La Réunion``,
``Guadeloupe``…), since the ``outre-mer`` zone groups territories whose holidays differ.

``calendar_import`` loads the ministry's calendar, dataset ``fr-en-calendrier-scolaire`` of
data.education.gouv.fr, as its CSV export with labelled headers
(``Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire``) or
with field names, or as its JSON export or API answer. Per the dataset's description, « le
départ en vacances a lieu après la classe des jours indiqués ; la reprise des cours
s'effectue le matin des jours indiqués »: the start date is the last day with class (the
first day of holidays is the next day: a Wednesday's « pont de l'Ascension » has class
that morning), the end date the morning classes resume.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import transaction

from cartable.core.spreadsheet import FileRefused, csv_records, json_load, read_text

from .models import Academy, SchoolHoliday

# School days --------------------------------------------------------------------------------


def academy_zone(zone: str | None, name: str = "") -> str | None:
    """The calendar key of an académie, from its holiday zone and name."""
    if not zone:
        return None
    if zone == Academy.Zone.OVERSEAS:
        return name or None
    return zone


def school_zone(school) -> str | None:
    """The calendar key of a school's zone; None when its académie is unknown."""
    department = getattr(school, "department", None)
    if department is None:
        return None
    academy = department.academy
    return academy_zone(academy.zone, academy.name)


class SchoolCalendar:
    """The school days of one zone, with its holidays read once (``zone`` None: weekdays).

    For answering many questions about one zone without a query each."""

    def __init__(self, zone: str | None, spans: list[tuple[date, date]] | None = None):
        self.zone = zone
        self._spans = [] if zone is None else spans

    def _holidays(self) -> list[tuple[date, date]]:
        if self._spans is None:
            self._spans = (
                []
                if self.zone is None
                else list(
                    SchoolHoliday.objects.filter(zone=self.zone)
                    .order_by("first_day")
                    .values_list("first_day", "resumes_on")
                )
            )
        return self._spans

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        return not any(first <= day < resumes for first, resumes in self._holidays())

    def days_between(self, start: date, end: date) -> int:
        """School days ``d`` with ``start <= d < end`` (0 when ``end <= start``)."""
        if end <= start:
            return 0
        total = _weekdays(start, end)
        off: set[date] = set()
        for first, resumes in self._holidays():
            if resumes <= start or first >= end:
                continue
            day = max(first, start)
            stop = min(resumes, end)
            while day < stop:
                if day.weekday() < 5:
                    off.add(day)  # a set: overlapping holidays count once
                day += timedelta(days=1)
        return total - len(off)

    def nth_day_before(self, day: date, n: int) -> date:
        """The ``n``-th school day before ``day`` (``day`` itself not counted): the date
        ``d`` such that ``days_between(d, day) == n`` and ``d`` is a school day."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        # Bounded: a school year has about 180 school days; ten years of holidays cannot
        # hide n school days unless n is absurd.
        for _ in range(n * 7 + 3660):
            current -= timedelta(days=1)
            if self.is_school_day(current):
                n -= 1
                if n == 0:
                    return current
        raise ValueError("no school day found: is the calendar made only of holidays?")


def _weekdays(start: date, end: date) -> int:
    """Weekdays ``d`` with ``start <= d < end``."""
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    total = weeks * 5
    weekday = start.weekday()
    for offset in range(rest):
        if (weekday + offset) % 7 < 5:
            total += 1
    return total


def school_days_between(zone: str | None, start: date, end: date) -> int:
    """School days of ``zone`` from ``start`` included to ``end`` excluded."""
    return SchoolCalendar(zone).days_between(start, end)


def nth_school_day_before(zone: str | None, day: date, n: int) -> date:
    """The ``n``-th school day of ``zone`` before ``day`` (``day`` excluded)."""
    return SchoolCalendar(zone).nth_day_before(day, n)


# Loading the national calendar ----------------------------------------------------------------

# Our key -> accepted header names, compared lower-case, without accents, spaces as "_".
COLUMNS: dict[str, tuple[str, ...]] = {
    "description": ("description",),
    "population": ("population",),
    "start": ("date_de_debut", "start_date"),
    "end": ("date_de_fin", "end_date"),
    "location": ("academies", "location"),
    "zones": ("zones", "zone"),
    "year": ("annee_scolaire",),
}
REQUIRED = ("description", "start", "end", "zones")
LABELS = {
    "description": "Description",
    "start": "Date de début",
    "end": "Date de fin",
    "zones": "Zones",
}
# Populations whose holidays are the pupils': "-" (everyone) and "Élèves"; "Enseignants"
# rows (teachers' pre-term days) are skipped.
PUPIL_POPULATIONS = {"", "-", "eleves"}
# Territories in the calendar without an académie here (vice-rectorats, collectivities).
OTHER_TERRITORIES = {
    "polynesie",
    "polynesie francaise",
    "nouvelle caledonie",
    "wallis et futuna",
    "saint pierre et miquelon",
}


def _plain(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-_']", " ", stripped).lower().split())


def _header_key(name: str) -> str:
    return _plain(name.lstrip("\ufeff")).replace(" ", "_")


@dataclass(frozen=True)
class CalendarError:
    line: int  # CSV: as in the file (the header is line 1); JSON: the record's rank, from 1
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


@dataclass
class CalendarImportResult:
    loaded: int = 0  # holiday periods written
    duplicates: int = 0  # the same period of the same zone, from another académie's row
    other_populations: int = 0  # "Enseignants" rows
    other_territories: int = 0  # territories without an académie here
    zones: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    errors: list[CalendarError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rejected(Exception):
    def __init__(self, error: CalendarError):
        super().__init__(str(error))
        self.error = error


def calendar_day(value) -> date:
    """The local date of a calendar value: an ISO date, an ISO timestamp of local midnight
    (with its offset, as the API gives it: ``2025-12-19T23:00:00+00:00`` is 20 December in
    Paris) or a French date ``20/12/2025``. Raises ValueError otherwise.

    A timestamp with an offset is local midnight somewhere between UTC−11 and UTC+12
    (metropolitan France, the overseas académies): adding 12 hours to it in UTC lands on
    the local date whatever the territory, so no time zone table is needed."""
    text = str(value or "").strip()
    if not text:
        raise ValueError("date manquante")
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        return datetime.strptime(text, "%d/%m/%Y").date()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        return stamp.date()
    return (stamp.astimezone(UTC) + timedelta(hours=12)).date()


def _school_year(value: str, first_day: date) -> str:
    text = value.strip()
    if not text:
        year = first_day.year if first_day.month >= 8 else first_day.year - 1
        return f"{year}-{year + 1}"
    match = re.fullmatch(r"(\d{4})\s*[-/]\s*(\d{4})", text)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValueError(f"année scolaire illisible : « {text} » (attendu : 2025-2026)")
    return f"{match.group(1)}-{match.group(2)}"


def _records(text: str) -> tuple[list[tuple[int, dict[str, str]]], bool]:
    """(line, {key: value}) for each record, and whether the file is JSON."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return _json_records(stripped), True
    return _csv_records(text), False


def _json_records(text: str) -> list[tuple[int, dict[str, str]]]:
    data = json_load(text)  # FileRefused when it does not parse or is nested too deep
    if isinstance(data, dict):
        data = data.get("results", data.get("records"))
    if not isinstance(data, list):
        raise _Rejected(
            CalendarError(1, "JSON inattendu : une liste d'enregistrements est attendue.")
        )
    rows = []
    for rank, record in enumerate(data, start=1):
        if isinstance(record, dict) and isinstance(record.get("fields"), dict):
            record = record["fields"]  # the older API (v1): {"fields": {...}}
        if not isinstance(record, dict):
            rows.append((rank, {"_bad": "enregistrement qui n'est pas un objet JSON"}))
            continue
        rows.append((rank, _keyed({_header_key(k): v for k, v in record.items()})))
    return rows


def _keyed(raw: dict) -> dict[str, str]:
    values = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in raw:
                value = raw[alias]
                values[column] = "" if value is None else str(value).strip()
                break
    return values


def _csv_records(text: str) -> list[tuple[int, dict[str, str]]]:
    records = csv_records(text)  # FileRefused on an endless field
    header = next(records, (1, None))[1]
    if not header or not any(cell.strip() for cell in header):
        raise _Rejected(CalendarError(1, "le fichier est vide."))
    keys = [_header_key(cell) for cell in header]
    missing = [column for column in REQUIRED if not any(alias in keys for alias in COLUMNS[column])]
    if missing:
        names = ", ".join(LABELS[column] for column in missing)
        raise _Rejected(
            CalendarError(
                1,
                f"colonne(s) absente(s) : {names}. Est-ce bien l'export du calendrier "
                "scolaire (fr-en-calendrier-scolaire) ?",
            )
        )
    rows = []
    for line, record in records:
        if not record or not any(cell.strip() for cell in record):
            continue
        if len(record) != len(keys):
            rows.append(
                (line, {"_bad": f"la ligne a {len(record)} colonnes au lieu de {len(keys)}"})
            )
            continue
        rows.append((line, _keyed(dict(zip(keys, record, strict=True)))))
    return rows


def _zone_resolver():
    """A function from (zones, location) values to a calendar key, "" for a territory
    without an académie, or None when unknown."""
    overseas = {
        _plain(name): name
        for name in Academy.objects.filter(zone=Academy.Zone.OVERSEAS).values_list(
            "name", flat=True
        )
    }
    for name in list(overseas):
        if name.startswith("la "):
            overseas[name[3:]] = overseas[name]  # "Réunion" as well as "La Réunion"

    def resolve(zones: str, location: str) -> str | None:
        plain = _plain(zones)
        match = re.fullmatch(r"zone ([abc])", plain)
        if match:
            return match.group(1).upper()
        if plain == "corse":
            return Academy.Zone.CORSE
        for value in (plain, _plain(location)):
            if value in overseas:
                return overseas[value]
            if value in OTHER_TERRITORIES:
                return ""
        return None

    return resolve


def calendar_import(*, file) -> CalendarImportResult:
    """Load the school holidays from a calendar export ``file`` (a path, or a file object
    in binary or text mode). All or nothing: every bad line is listed and nothing is
    written if there is one. Otherwise, for each zone and school year in the file, its
    holidays replace those already loaded (a corrected calendar replaces the old one)."""
    result = CalendarImportResult()
    try:
        # The shared reader refuses other encodings, NUL characters, endless CSV fields and
        # JSON nested too deep, with their line (cartable.core.spreadsheet).
        records, is_json = _records(read_text(file))
    except _Rejected as rejected:
        result.errors.append(rejected.error)
        return result
    except FileRefused as refused:
        result.errors.append(CalendarError(refused.line, refused.message))
        return result

    resolve = _zone_resolver()
    periods: dict[tuple[str, str, date], tuple[int, date, str]] = {}
    for line, values in records:
        if "_bad" in values:
            result.errors.append(CalendarError(line, values["_bad"] + "."))
            continue
        if is_json:
            absent = [LABELS[column] for column in REQUIRED if column not in values]
            if absent:
                result.errors.append(
                    CalendarError(line, f"champ(s) absent(s) : {', '.join(absent)}.")
                )
                continue
        if _plain(values.get("population", "")) not in PUPIL_POPULATIONS:
            result.other_populations += 1
            continue
        problems = []
        description = " ".join(values.get("description", "").split())
        if not description:
            problems.append("description manquante")
        elif len(description) > 120:
            problems.append("description trop longue (120 caractères au plus)")
        zone = resolve(values.get("zones", ""), values.get("location", ""))
        if zone is None:
            problems.append(f"zone inconnue : « {values.get('zones', '')} »")
        elif zone == "":
            result.other_territories += 1
            continue
        try:
            start = calendar_day(values.get("start"))
        except ValueError:
            problems.append(f"date de début illisible : « {values.get('start', '')} »")
            start = None
        try:
            resumes_on = calendar_day(values.get("end"))
        except ValueError:
            problems.append(f"date de fin illisible : « {values.get('end', '')} »")
            resumes_on = None
        first_day = start + timedelta(days=1) if start else None
        if first_day and resumes_on and resumes_on <= first_day:
            problems.append("la reprise des cours doit suivre le début des vacances")
        year = ""
        if first_day:
            try:
                year = _school_year(values.get("year", ""), first_day)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            result.errors.append(CalendarError(line, " ; ".join(problems) + "."))
            continue
        key = (zone, description, first_day)
        seen = periods.get(key)
        if seen is not None:
            seen_line, seen_resumes, _ = seen
            if seen_resumes != resumes_on:
                result.errors.append(
                    CalendarError(
                        line,
                        f"« {description} » ({zone}) commence le même jour que ligne "
                        f"{seen_line} mais avec une autre date de reprise.",
                    )
                )
            else:
                result.duplicates += 1
            continue
        periods[key] = (line, resumes_on, year)

    if result.errors:
        return result
    result.loaded = len(periods)
    result.zones = sorted({zone for zone, _, _ in periods})
    result.years = sorted({year for _, _, year in periods.values()})
    _write(periods)
    return result


@transaction.atomic
def _write(periods: dict[tuple[str, str, date], tuple[int, date, str]]) -> None:
    replaced = {(zone, year) for (zone, _, _), (_, _, year) in periods.items()}
    for zone, year in replaced:
        SchoolHoliday.objects.filter(zone=zone, school_year=year).delete()
    for zone, description, first_day in periods:  # the same period filed under another year
        SchoolHoliday.objects.filter(
            zone=zone, description=description, first_day=first_day
        ).delete()
    SchoolHoliday.objects.bulk_create(
        [
            SchoolHoliday(
                zone=zone,
                description=description,
                school_year=year,
                first_day=first_day,
                resumes_on=resumes_on,
            )
            for (zone, description, first_day), (_, resumes_on, year) in periods.items()
        ]
    )


def holidays_of(zones: Iterable[str]) -> dict[str, list[tuple[date, date]]]:
    """zone -> its holidays (first day, resumption), for several zones in one query."""
    spans: dict[str, list[tuple[date, date]]] = {zone: [] for zone in zones}
    for zone, first, resumes in (
        SchoolHoliday.objects.filter(zone__in=list(spans))
        .order_by("first_day")
        .values_list("zone", "first_day", "resumes_on")
    ):
        spans[zone].append((first, resumes))
    return spans
