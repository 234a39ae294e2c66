"""The one reader of imported files (``cartable.core.spreadsheet``), through every import that
uses it: the school directory (web and command line), the devices (web) and the school
calendar (command line). A field over 131,072 characters, a NUL character, another encoding
or JSON nested too deep is refused in French with its line, and nothing is written, on SQLite
as on PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from cartable.core.spreadsheet import MAX_FIELD, FileRefused, csv_records, json_load, read_text
from cartable.fleet.models import Device
from cartable.organisation.models import School, SchoolHoliday

from ..conftest import force_login
from ..organisation.annuaire import make_csv, school_row

DEVICES_HEADER = "numero_serie;type;cartable;version_logicielle\n"


def directory(**overrides) -> bytes:
    return make_csv(
        [school_row(), school_row(Identifiant_de_l_etablissement="0780001M", **overrides)]
    ).encode()


# What each bad file is, the line the refusal names, and words of its message.
BAD_DIRECTORY = {
    "oversize": (directory(Nom_etablissement="x" * (MAX_FIELD + 1)), 3, "champ trop long"),
    "nul": (directory(Nom_etablissement="Collège\x00"), 3, "caractère nul"),
    "latin-1": (directory(Nom_etablissement="Collège").decode().encode("latin-1"), 2, "UTF-8"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), 1, "UTF-8"),
}
BAD_DEVICES = {
    "oversize": (
        DEVICES_HEADER + "A-1;class_box;;" + "9" * (MAX_FIELD + 1) + "\n",
        2,
        "champ trop long",
    ),
    "unclosed quote": (
        DEVICES_HEADER + 'A-1;class_box;;"' + "9" * (MAX_FIELD + 5),
        2,
        "champ trop long",
    ),
    "nul": (DEVICES_HEADER + "A-1;class_box;;\nA-2\x00;class_box;;\n", 3, "caractère nul"),
    "latin-1": ((DEVICES_HEADER + "A-1;Boîtier de classe;;\n").encode("latin-1"), 2, "UTF-8"),
}


def as_bytes(content) -> bytes:
    return content if isinstance(content, bytes) else content.encode()


@pytest.mark.parametrize("case", BAD_DIRECTORY)
def test_the_directory_import_on_the_web_refuses_with_the_line(db, administrator, case):
    content, line, words = BAD_DIRECTORY[case]
    client = force_login(Client(), administrator)
    upload = SimpleUploadedFile("annuaire.csv", content, content_type="text/csv")
    before = School.objects.count()
    response = client.post("/organisation/annuaire/", {"file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert f"ligne {line}" in text or f"Ligne {line}" in text, text[-3000:]
    assert words.lower() in text.lower()
    assert School.objects.count() == before


@pytest.mark.parametrize("case", BAD_DIRECTORY)
def test_the_directory_import_command_refuses_with_the_line(db, tmp_path, case, capsys):
    content, line, words = BAD_DIRECTORY[case]
    path = tmp_path / "annuaire.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="aucun établissement"):
        call_command("import_schools", str(path))
    err = capsys.readouterr().err
    assert f"ligne {line} :" in err and words.lower() in err.lower()
    assert School.objects.count() == 0


@pytest.mark.parametrize("case", BAD_DEVICES)
def test_the_device_import_refuses_with_the_line(db, fleet, case):
    content, line, words = BAD_DEVICES[case]
    client = force_login(Client(), fleet)
    upload = SimpleUploadedFile("appareils.csv", as_bytes(content), content_type="text/csv")
    response = client.post("/parc/appareils/import/", {"file": upload})
    assert response.status_code == 400
    text = response.content.decode().lower()
    assert f"ligne {line}" in text and words.lower() in text
    assert Device.objects.count() == 0


CALENDAR_HEADER = (
    "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\n"
)
CALENDAR_ROW = "Vacances de Noël;Élèves;2025-12-19;2026-01-05;Versailles;Zone C;2025-2026\n"


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, 1, "JSON trop imbriqué"),
        (
            json.dumps(
                [
                    {
                        "description": {
                            "a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
                        }
                    }
                ]
            ),
            1,
            "JSON trop imbriqué",
        ),
        (json.dumps([{"description": "Noël\x00", "population": "Élèves"}]), 1, "caractère nul"),
        (CALENDAR_HEADER + CALENDAR_ROW.replace("Noël", "Noël\x00"), 2, "caractère nul"),
        (
            CALENDAR_HEADER + CALENDAR_ROW.replace("Noël", "N" * (MAX_FIELD + 1)),
            2,
            "champ trop long",
        ),
    ],
    ids=["deep", "deep inside a record", "nul in json", "nul in csv", "oversize"],
)
def test_the_calendar_import_refuses_with_the_line(db, tmp_path, content, line, words, capsys):
    path = tmp_path / "calendrier.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match="aucune période"):
        call_command("import_calendar", str(path))
    err = capsys.readouterr().err
    assert f"ligne {line} :" in err and words.lower() in err.lower()
    assert SchoolHoliday.objects.count() == 0


def test_the_reader_itself():
    assert read_text(io.BytesIO("\ufeffa;b\n".encode())) == "a;b\n"
    assert list(csv_records("a;b\n1;2\n")) == [(1, ["a", "b"]), (2, ["1", "2"])]
    assert list(csv_records('a;b\n"1\n2";3\n4;5\n')) == [
        (1, ["a", "b"]),
        (2, ["1\n2", "3"]),
        (4, ["4", "5"]),
    ]
    with pytest.raises(FileRefused) as refused:
        read_text(io.BytesIO(b"a\nb\n\xff\n"))
    assert refused.value.line == 3
    assert json_load('{"a": [1, {"b": "[[[[["}]}') == {"a": [1, {"b": "[[[[["}]}
    with pytest.raises(FileRefused):
        json_load("[" * 33 + "]" * 33)
    assert json_load("[" * 32 + "]" * 32) is not None
