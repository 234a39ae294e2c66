"""The administrative tree: académies and départements, loaded from the shipped CSV."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cartable.organisation.models import Academy, Department
from cartable.organisation.services import (
    ACADEMIES_CSV,
    ReferenceDataError,
    academies_load,
    academies_read,
)


def run(*args) -> str:
    out = StringIO()
    call_command("load_academies", *args, stdout=out)
    return out.getvalue()


def test_the_shipped_file_is_read_not_hard_coded():
    rows = academies_read()
    assert len(rows) == 30
    assert sum(len(row.department_codes) for row in rows) == 101
    assert ACADEMIES_CSV.name == "academies.csv"


def test_it_loads_30_academies_and_101_departements(db):
    Department.objects.all().delete()
    Academy.objects.all().delete()
    output = run()
    assert "30 créées" in output
    assert "101 créés" in output
    assert Academy.objects.count() == 30
    assert Department.objects.count() == 101


def test_a_fresh_database_already_has_them(academies):
    assert Academy.objects.count() == 30
    assert Department.objects.count() == 101


def test_loading_twice_changes_nothing(academies):
    result = academies_load()
    assert not result.changed
    assert "0 créées, 0 modifiées ; départements : 0 créés, 0 modifiés" in run()
    assert Academy.objects.count() == 30
    assert Department.objects.count() == 101


def test_overseas_and_corsica(academies):
    reunion = Department.objects.get(code="974").academy
    assert (reunion.code, reunion.name, reunion.zone) == ("28", "La Réunion", "outre-mer")
    corse = Academy.objects.get(code="27")
    assert corse.zone == Academy.Zone.CORSE
    assert sorted(corse.departments.values_list("code", flat=True)) == ["2A", "2B"]
    assert Department.objects.get(code="976").academy.name == "Mayotte"


def test_codes_keep_their_leading_zeros(academies):
    assert Department.objects.get(code="01").academy.code == "10"  # Ain, Lyon
    assert Academy.objects.get(code="04").name == "Bordeaux"
    normandie = Academy.objects.get(code="70")
    assert normandie.zone == "B"
    assert sorted(normandie.departments.values_list("code", flat=True)) == [
        "14",
        "27",
        "50",
        "61",
        "76",
    ]
    versailles = Academy.objects.get(code="25")
    assert versailles.zone == "C"
    assert sorted(versailles.departments.values_list("code", flat=True)) == [
        "78",
        "91",
        "92",
        "95",
    ]


def test_a_changed_file_updates_in_place(academies, tmp_path):
    text = ACADEMIES_CSV.read_text(encoding="utf-8")
    # Rename an académie and move a département to another one.
    text = text.replace("25,Versailles,C,78 91 92 95", "25,Versailles (test),C,78 91 92")
    text = text.replace("24,Créteil,C,77 93 94", "24,Créteil,C,77 93 94 95")
    path = tmp_path / "academies.csv"
    path.write_text(text, encoding="utf-8")
    versailles_id = Academy.objects.get(code="25").pk
    result = academies_load(file=path)
    assert result.academies_created == result.departments_created == 0
    assert result.academies_updated == 1
    assert result.departments_updated == 1
    assert Academy.objects.get(code="25").pk == versailles_id
    assert Academy.objects.get(code="25").name == "Versailles (test)"
    assert Department.objects.get(code="95").academy.code == "24"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("25,Versailles,C,78 91 92 95 75", "département 75 déjà rattaché ligne 2"),
        ("25,Versailles,Z,78", "zone inconnue"),
        ("2X,Versailles,C,78", "code d'académie invalide"),
        ("25,Versailles,C,99", "code de département invalide"),
        ("25,,C,78", "nom d'académie manquant"),
    ],
)
def test_a_bad_file_is_refused_with_its_line(db, tmp_path, line, message):
    path = tmp_path / "academies.csv"
    path.write_text(
        "academy_code,academy_name,zone,department_codes\n01,Paris,C,75\n" + line + "\n",
        encoding="utf-8",
    )
    before = (Academy.objects.count(), Department.objects.count())
    with pytest.raises(ReferenceDataError, match=message):
        academies_load(file=path)
    with pytest.raises(CommandError, match=message):
        run(str(path))
    assert (Academy.objects.count(), Department.objects.count()) == before


def test_a_missing_column_is_refused(db, tmp_path):
    path = tmp_path / "academies.csv"
    path.write_text("academy_code,academy_name\n01,Paris\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="colonnes absentes : zone, department_codes"):
        academies_load(file=path)


def test_an_overseas_collectivity_is_added_as_data(academies, tmp_path):
    # Saint-Barthélemy (977) and Saint-Martin (978) are attached to Guadeloupe, but are not
    # in the shipped file: adding them is a data change, not a code change.
    text = ACADEMIES_CSV.read_text(encoding="utf-8").replace(
        "32,Guadeloupe,outre-mer,971", "32,Guadeloupe,outre-mer,971 977 978"
    )
    path = tmp_path / "academies.csv"
    path.write_text(text, encoding="utf-8")
    result = academies_load(file=path)
    assert (result.departments_created, result.academies_updated) == (2, 0)
    assert Department.objects.get(code="978").academy.name == "Guadeloupe"
