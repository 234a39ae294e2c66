"""School days of a zone, and the loading of the national school calendar
(``cartable import_calendar``)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from cartable.organisation.calendar import (
    calendar_day,
    calendar_import,
    nth_school_day_before,
    school_days_between,
    school_zone,
)
from cartable.organisation.models import Academy, SchoolHoliday
from cartable.organisation.services import academies_load

from .reporting_data import school_in, toussaint_zone_c

# School days ----------------------------------------------------------------------------------


@pytest.fixture
def toussaint(db):
    return toussaint_zone_c()


def test_without_a_calendar_school_days_are_weekdays(db):
    # Monday 5 to Monday 19 October 2026: two full weeks.
    assert school_days_between("C", date(2026, 10, 5), date(2026, 10, 19)) == 10
    assert school_days_between(None, date(2026, 10, 5), date(2026, 10, 19)) == 10
    # Start counted, end not: Friday to Monday is one school day (the Friday).
    assert school_days_between(None, date(2026, 10, 9), date(2026, 10, 12)) == 1
    assert school_days_between(None, date(2026, 10, 10), date(2026, 10, 12)) == 0  # weekend
    assert school_days_between(None, date(2026, 10, 12), date(2026, 10, 12)) == 0
    assert school_days_between(None, date(2026, 10, 12), date(2026, 10, 1)) == 0


def test_holidays_of_the_zone_are_not_school_days(toussaint):
    # Thursday 15 October to Thursday 12 November 2026, zone C: Thu 15, Fri 16, then the
    # Toussaint (19-30 October), then 2-6 and 9-11 November: 10 school days.
    assert school_days_between("C", date(2026, 10, 15), date(2026, 11, 12)) == 10
    # Zone B has no holiday loaded here: 20 weekdays.
    assert school_days_between("B", date(2026, 10, 15), date(2026, 11, 12)) == 20
    assert school_days_between("C", date(2026, 10, 19), date(2026, 11, 2)) == 0


def test_the_nth_school_day_before_skips_weekends_and_holidays(toussaint):
    assert nth_school_day_before(None, date(2026, 10, 16), 1) == date(2026, 10, 15)
    assert nth_school_day_before(None, date(2026, 10, 19), 1) == date(2026, 10, 16)  # Monday
    assert nth_school_day_before("C", date(2026, 11, 12), 10) == date(2026, 10, 15)
    assert nth_school_day_before("C", date(2026, 11, 2), 1) == date(2026, 10, 16)
    assert nth_school_day_before("B", date(2026, 11, 12), 10) == date(2026, 10, 29)
    # The two agree: n school days from the nth school day before a day up to that day.
    for n in (1, 5, 10, 15):
        start = nth_school_day_before("C", date(2026, 11, 12), n)
        assert school_days_between("C", start, date(2026, 11, 12)) == n
    with pytest.raises(ValueError):
        nth_school_day_before("C", date(2026, 11, 12), 0)


def test_overlapping_holidays_count_once(toussaint):
    SchoolHoliday.objects.create(
        zone="C",
        description="Fermeture exceptionnelle",
        school_year="2026-2027",
        first_day=date(2026, 10, 29),
        resumes_on=date(2026, 11, 4),
    )
    # 2 and 3 November are now off too; 29 and 30 October were already.
    assert school_days_between("C", date(2026, 10, 15), date(2026, 11, 12)) == 8


def test_a_school_has_the_zone_of_its_academie(db):
    academies_load()
    assert school_zone(school_in("78")) == "C"  # Versailles
    assert school_zone(school_in("06")) == "B"  # Nice
    assert school_zone(school_in("2A")) == "Corse"
    assert school_zone(school_in("974")) == "La Réunion"  # each overseas académie its own
    school = school_in("78")
    school.department = None
    assert school_zone(school) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-19T23:00:00+00:00", date(2025, 12, 20)),  # Paris midnight, in UTC
        ("2025-12-20T00:00:00+01:00", date(2025, 12, 20)),  # with the local offset
        ("2026-04-03T22:00:00+00:00", date(2026, 4, 4)),  # summer time
        ("2025-12-19T20:00:00+00:00", date(2025, 12, 20)),  # La Réunion's midnight
        ("2025-12-20T04:00:00+00:00", date(2025, 12, 20)),  # Guadeloupe's midnight
        ("2025-12-20", date(2025, 12, 20)),
        ("20/12/2025", date(2025, 12, 20)),
        ("2025-12-20T00:00:00", date(2025, 12, 20)),
    ],
)
def test_calendar_dates_are_local_midnights(value, expected):
    assert calendar_day(value) == expected


# import_calendar ------------------------------------------------------------------------------

HEADER = "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire"
GOOD_LINES = [
    # Toussaint 2026, zone C, for two académies: one period.
    "Vacances de la Toussaint;-;2026-10-17T00:00:00+02:00;2026-11-02T00:00:00+01:00;"
    "Versailles;Zone C;2026-2027",
    "Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Paris;Zone C;2026-2027",
    # Zone B, Noël.
    "Vacances de Noël;-;2026-12-19T00:00:00+01:00;2027-01-04T00:00:00+01:00;Nice;Zone B;2026-2027",
    # The teachers' line: not the pupils' holidays.
    "Début des Vacances d'Été;Enseignants;2027-07-03T00:00:00+02:00;2027-09-01T00:00:00+02:00;"
    "Nice;Zone B;2026-2027",
    "Vacances d'Été;Élèves;2027-07-03T00:00:00+02:00;2027-09-01T00:00:00+02:00;"
    "Nice;Zone B;2026-2027",
    # A Wednesday's « pont »: class on Wednesday morning, off Thursday and Friday.
    "Pont de l'Ascension;-;2027-05-05T00:00:00+02:00;2027-05-10T00:00:00+02:00;"
    "Nice;Zone B;2026-2027",
    # Corse, an overseas académie, a territory without académie here.
    "Vacances de Noël;-;2026-12-19T00:00:00+01:00;2027-01-04T00:00:00+01:00;Corse;Corse;2026-2027",
    "Vacances de Noël;-;2026-12-18T20:00:00+00:00;2027-01-03T20:00:00+00:00;"
    "La Réunion;Réunion;2026-2027",
    "Vacances de Noël;-;2026-12-19T00:00:00-10:00;2027-01-04T00:00:00-10:00;"
    "Polynésie;Polynésie;2026-2027",
]


def write(tmp_path, lines, name="calendrier.csv", bom=True) -> str:
    path = tmp_path / name
    text = "\n".join([HEADER, *lines]) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return str(path)


def holidays() -> list[tuple[str, str, str, date, date]]:
    return list(
        SchoolHoliday.objects.order_by("zone", "first_day").values_list(
            "zone", "description", "school_year", "first_day", "resumes_on"
        )
    )


EXPECTED = [
    ("B", "Vacances de Noël", "2026-2027", date(2026, 12, 20), date(2027, 1, 4)),
    ("B", "Pont de l'Ascension", "2026-2027", date(2027, 5, 6), date(2027, 5, 10)),
    ("B", "Vacances d'Été", "2026-2027", date(2027, 7, 4), date(2027, 9, 1)),
    ("C", "Vacances de la Toussaint", "2026-2027", date(2026, 10, 18), date(2026, 11, 2)),
    ("Corse", "Vacances de Noël", "2026-2027", date(2026, 12, 20), date(2027, 1, 4)),
    ("La Réunion", "Vacances de Noël", "2026-2027", date(2026, 12, 20), date(2027, 1, 4)),
]


def test_import_calendar_loads_the_pupils_holidays_once_per_zone(db, tmp_path, capsys):
    academies_load()
    call_command("import_calendar", write(tmp_path, GOOD_LINES))
    assert holidays() == EXPECTED
    out = capsys.readouterr().out
    assert "6 période(s) chargée(s)" in out
    assert "1 ligne(s) d'autres académies de la même zone" in out
    assert "1 ligne(s) « Enseignants » ignorée(s)" in out
    assert "1 ligne(s) de territoires sans académie ici ignorée(s)" in out
    # The Wednesday of the « pont » is a school day; Thursday and Friday are not.
    assert school_days_between("B", date(2027, 5, 5), date(2027, 5, 10)) == 1


def test_importing_again_replaces_the_zone_and_year(db, tmp_path):
    academies_load()
    call_command("import_calendar", write(tmp_path, GOOD_LINES))
    corrected = [
        line.replace("2026-11-02T00:00:00+01:00", "2026-11-03T00:00:00+01:00")
        for line in GOOD_LINES[:1]
    ]
    call_command("import_calendar", write(tmp_path, corrected, name="corrige.csv"))
    zone_c = [row for row in holidays() if row[0] == "C"]
    assert zone_c == [
        ("C", "Vacances de la Toussaint", "2026-2027", date(2026, 10, 18), date(2026, 11, 3))
    ]
    assert len(holidays()) == len(EXPECTED)  # the other zones are left alone


def test_the_api_json_is_read_too(db, tmp_path):
    academies_load()
    records = {
        "total_count": 2,
        "results": [
            {
                "description": "Vacances de Noël",
                "population": "-",
                "start_date": "2025-12-19T23:00:00+00:00",
                "end_date": "2026-01-04T23:00:00+00:00",
                "location": "Bordeaux",
                "zones": "Zone A",
                "annee_scolaire": "2025-2026",
            },
            {
                "description": "Vacances de Noël",
                "population": "-",
                "start_date": "2025-12-19T23:00:00+00:00",
                "end_date": "2026-01-04T23:00:00+00:00",
                "location": "Lyon",
                "zones": "Zone A",
                "annee_scolaire": "2025-2026",
            },
        ],
    }
    path = tmp_path / "calendrier.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = calendar_import(file=str(path))
    assert result.ok and result.loaded == 1 and result.duplicates == 1
    assert holidays() == [
        ("A", "Vacances de Noël", "2025-2026", date(2025, 12, 21), date(2026, 1, 5))
    ]


def test_a_bad_file_imports_nothing_and_lists_every_bad_line(db, tmp_path, capsys):
    academies_load()
    SchoolHoliday.objects.create(
        zone="A",
        description="Déjà là",
        school_year="2026-2027",
        first_day=date(2026, 10, 18),
        resumes_on=date(2026, 11, 2),
    )
    lines = [
        GOOD_LINES[0],
        "Vacances de Noël;-;le 19 décembre;2027-01-04T00:00:00+01:00;Nice;Zone B;2026-2027",
        "Vacances de Noël;-;2026-12-19T00:00:00+01:00;2027-01-04T00:00:00+01:00;Nice;Zone Q;"
        "2026-2027",
        "Vacances d'Hiver;-;2027-02-20T00:00:00+01:00;2027-02-10T00:00:00+01:00;Nice;Zone B;"
        "2026-2027",
        "Vacances de Printemps;-;2027-04-17T00:00:00+02:00",
        ";-;2027-04-17T00:00:00+02:00;2027-05-03T00:00:00+02:00;Nice;Zone B;2026/27",
        # Same period and zone as line 2, with another resumption day.
        "Vacances de la Toussaint;-;2026-10-17T00:00:00+02:00;2026-11-03T00:00:00+01:00;"
        "Créteil;Zone C;2026-2027",
    ]
    with pytest.raises(CommandError, match="aucune période de vacances n'a été chargée"):
        call_command("import_calendar", write(tmp_path, lines))
    err = capsys.readouterr().err
    assert "ligne 3 : date de début illisible : « le 19 décembre »" in err
    assert "ligne 4 : zone inconnue : « Zone Q »" in err
    assert "ligne 5 : la reprise des cours doit suivre le début des vacances" in err
    assert "ligne 6 : la ligne a 3 colonnes au lieu de 7" in err
    assert "ligne 7 : description manquante ; année scolaire illisible" in err
    assert "ligne 8 : « Vacances de la Toussaint » (C) commence le même jour que ligne 2" in err
    assert not any(line.startswith("ligne 2 ") for line in err.splitlines())
    # Nothing written, nothing removed.
    assert [row[1] for row in holidays()] == ["Déjà là"]


def test_a_file_that_is_not_the_calendar_is_refused(db, tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_text("Identifiant_de_l_etablissement;Nom_etablissement\n0750001A;École\n")
    result = calendar_import(file=str(path))
    assert not result.ok
    assert "colonne(s) absente(s) : Description, Date de début, Date de fin, Zones" in str(
        result.errors[0]
    )
    path.write_bytes(b"Description;Zones\n\xe9t\xe9;Zone A\n")
    assert "pas encodé en UTF-8" in str(calendar_import(file=str(path)).errors[0])
    path.write_text("{ pas du json")
    assert "JSON illisible" in str(calendar_import(file=str(path)).errors[0])
    assert SchoolHoliday.objects.count() == 0
    assert Academy.objects.exists()  # the reference data is untouched
