"""The school import from the national directory ("Annuaire de l'éducation") CSV."""

from __future__ import annotations

import io
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cartable.organisation.importers import UnknownAcademy, school_kind, schools_import
from cartable.organisation.models import Department, School

from .annuaire import API_FIELDS, GOOD_ROWS, LABELS, make_csv, school_row, uai

pytestmark = pytest.mark.usefixtures("academies")

Kind = School.Kind


def import_text(text: str, *, encoding: str = "utf-8", academies=None):
    return schools_import(file=io.BytesIO(text.encode(encoding)), academies=academies)


def errors_of(result) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in result.errors]


def test_a_good_file_with_labels_creates_every_school():
    result = import_text(make_csv(GOOD_ROWS))
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (7, 0, 0)
    college = School.objects.get(uai="0783774D")
    assert college.name == "Nouveau collège André Chénier"
    assert college.kind == Kind.COLLEGE
    assert college.postcode == "78200"
    assert college.commune == "Mantes-la-Jolie"
    assert college.department.code == "78"
    assert college.department.academy.name == "Versailles"
    assert college.is_open
    assert college.updated_on == date(2024, 12, 31)
    ain = School.objects.get(uai="0010005A")
    assert ain.postcode == "01380"  # the leading zero is kept
    assert ain.department.code == "01"
    assert School.objects.get(uai="0301674G").kind == Kind.PRIMAIRE
    assert School.objects.get(uai="0400193T").kind == Kind.MATERNELLE
    assert School.objects.get(uai="0400193T").is_open  # A FERMER: still open
    closed = School.objects.get(uai="0400219W")
    assert (closed.kind, closed.is_open) == (Kind.LYCEE_PRO, False)
    corse = School.objects.get(uai=uai("6200001"))
    assert (corse.department.code, corse.kind) == ("2A", Kind.LYCEE_GT)
    reunion = School.objects.get(uai=uai("9740001"))
    assert (reunion.department.code, reunion.department.academy.code) == ("974", "28")
    assert reunion.kind == Kind.EREA


def test_a_file_with_api_field_names_and_commas():
    text = make_csv(GOOD_ROWS, header=API_FIELDS, delimiter=",")
    assert text.startswith("identifiant_de_l_etablissement,nom_etablissement,")
    result = import_text(text)
    assert result.ok, result.errors
    assert result.created == 7
    assert School.objects.get(uai="0010005A").department.code == "01"


def test_a_2020_file_with_a_bom_code_postal_and_stripped_codes():
    header = [("Code postal" if label == "Code_postal" else label) for label in LABELS]
    rows = [
        school_row(Code_departement="78", Code_academie="25"),
        school_row(
            Identifiant_de_l_etablissement="400026L",  # the leading zero was lost
            Nom_etablissement="Collège des Landes",
            Code_postal="40000",
            Code_departement="40",
            Code_academie="4",  # Bordeaux, read as a number
        ),
        school_row(
            Identifiant_de_l_etablissement=uai("7200001"),
            Nom_etablissement="Collège de Haute-Corse",
            Code_postal="20200",
            Code_departement="2B",
            Code_academie="27",
        ),
    ]
    data = "\ufeff" + make_csv(rows, header=header)
    result = schools_import(file=io.BytesIO(data.encode("utf-8")))
    assert result.ok, result.errors
    assert result.created == 3
    landes = School.objects.get(uai="0400026L")
    assert (landes.postcode, landes.department.code) == ("40000", "40")
    assert School.objects.get(uai=uai("7200001")).department.code == "2B"


def test_it_reads_a_path_and_a_text_stream(tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_bytes(make_csv(GOOD_ROWS[:2]).encode("utf-8-sig"))
    assert schools_import(file=path).created == 2
    assert schools_import(file=str(path)).unchanged == 2
    assert schools_import(file=StringIO(make_csv(GOOD_ROWS[:2]))).unchanged == 2


def test_spacing_blank_lines_and_quoted_separators():
    rows = [school_row(Nom_etablissement="  Collège  « Le Parc ; les Arbres »  ")]
    text = make_csv(rows) + "\n\n"
    result = import_text(text)
    assert result.ok, result.errors
    assert School.objects.get().name == "Collège « Le Parc ; les Arbres »"


def test_it_fills_in_departement_names_but_never_overwrites_them():
    Department.objects.filter(code="01").update(name="Ain (nom choisi)")
    import_text(make_csv(GOOD_ROWS))
    assert Department.objects.get(code="78").name == "Yvelines"
    assert Department.objects.get(code="974").name == "La Réunion"
    assert Department.objects.get(code="01").name == "Ain (nom choisi)"


# Errors ---------------------------------------------------------------------------------


def test_every_bad_line_is_reported_and_nothing_is_imported():
    School.objects.create(uai="0781977A", name="Nom d'avant", commune="Avant")
    rows = [
        school_row(),  # line 2: good
        school_row(Identifiant_de_l_etablissement="0400229H", Nom_etablissement="A"),  # 3
        school_row(Identifiant_de_l_etablissement="04002X9G", Nom_etablissement="B"),  # 4
        school_row(Identifiant_de_l_etablissement="", Nom_etablissement="C"),  # 5
        school_row(Identifiant_de_l_etablissement="0400236P", Nom_etablissement=""),  # 6
        school_row(Identifiant_de_l_etablissement="0400241V", Code_departement="099"),  # 7
        school_row(Identifiant_de_l_etablissement="0400105X", Code_academie="04"),  # 8
        school_row(Nom_etablissement="Un autre collège"),  # 9: same UAI as line 2
        school_row(Code_departement="091"),  # 10: same UAI and name, other département
        school_row(Identifiant_de_l_etablissement="0480680D", Code_postal="7820"),  # 11: ok
        school_row(Identifiant_de_l_etablissement="0400026L", Code_postal="7820A"),  # 12
        school_row(Identifiant_de_l_etablissement="0781977A", etat="EN TRAVAUX"),  # 13
        school_row(Identifiant_de_l_etablissement=uai("0780001"), date_maj_ligne="hier"),  # 14
        school_row(Identifiant_de_l_etablissement=uai("0780002"), Code_departement=""),  # 15
        school_row(Identifiant_de_l_etablissement=uai("0780003"), Code_academie="99"),  # 16
    ]
    text = make_csv(rows) + "0780004X;trop;court\n"  # line 17
    result = import_text(text)
    assert errors_of(result) == [
        (3, "Le code UAI 0400229H n'est pas valide : la lettre de contrôle devrait être G."),
        (4, "Le code UAI doit comporter 7 chiffres suivis d'une lettre (par exemple 0783774D)."),
        (5, "code UAI manquant."),
        (6, "nom de l'établissement manquant."),
        (7, "département inconnu : 099."),
        (
            8,
            "le département 78 appartient à l'académie 25 (Versailles), pas à l'académie 04 "
            "(Bordeaux).",
        ),
        (
            9,
            "le code UAI 0783774D figure déjà ligne 2 sous un autre nom : une même école peut "
            "avoir plusieurs lignes, mais pas deux noms.",
        ),
        (10, "le code UAI 0783774D figure déjà ligne 2 dans un autre département."),
        (12, "code postal invalide : 7820A."),
        (13, "état inconnu : EN TRAVAUX (attendu : OUVERT, A FERMER, A OUVRIR ou FERME)."),
        (14, "date de mise à jour invalide : hier (attendu : AAAA-MM-JJ)."),
        (15, "code département manquant."),
        (16, "académie inconnue : 99."),
        (17, "la ligne a 3 colonnes au lieu de 12."),
    ]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert list(School.objects.values_list("uai", "name", "commune")) == [
        ("0781977A", "Nom d'avant", "Avant")
    ]
    assert not School.objects.filter(uai="0783774D").exists()


def test_line_numbers_count_physical_lines():
    # A quoted name over two lines: the next record starts on line 4, not 3.
    text = make_csv([school_row(Nom_etablissement="Collège\nsur deux lignes")])
    text += make_csv([school_row(Identifiant_de_l_etablissement="0400229H")]).split("\n", 1)[1]
    result = import_text(text)
    assert [error.line for error in result.errors] == [4]


def test_a_multi_site_school_is_kept_once_without_error():
    rows = [
        school_row(),
        school_row(Nom_etablissement="NOUVEAU COLLEGE ANDRE  CHENIER", Code_postal="78201"),
        school_row(Identifiant_de_l_etablissement="783774D", Code_departement="78"),
    ]
    result = import_text(make_csv(rows))
    assert result.ok, result.errors
    assert (result.created, result.duplicates) == (1, 2)
    assert School.objects.get().postcode == "78200"  # the first row wins


def test_a_missing_required_column_is_reported_on_line_1():
    header = [label for label in LABELS if label != "Code_departement"]
    result = import_text(make_csv(GOOD_ROWS, header=header))
    assert errors_of(result) == [
        (
            1,
            "colonne obligatoire absente : Code_departement (ou code_departement). Est-ce "
            "bien l'export CSV de l'Annuaire de l'éducation ?",
        )
    ]
    assert not School.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_its_line():
    text = make_csv([school_row(), school_row(Identifiant_de_l_etablissement="0010005A")])
    result = import_text(text, encoding="latin-1")
    assert [error.line for error in result.errors] == [2]
    assert "UTF-8" in result.errors[0].message
    assert not School.objects.exists()


def test_an_empty_file_is_refused():
    assert errors_of(import_text("")) == [(1, "le fichier est vide.")]


# Upsert ---------------------------------------------------------------------------------


def test_a_second_import_updates_in_place_and_counts_what_changed(loan):
    # ``loan`` brings a school created by hand, with a class: it is left alone.
    import_text(make_csv(GOOD_ROWS))
    college = School.objects.get(uai="0783774D")
    rows = list(GOOD_ROWS)
    rows[0] = school_row(Nom_etablissement="Collège André Chénier", date_maj_ligne="2025-09-01")
    rows[1] = {**rows[1], "etat": "FERME"}
    rows.append(
        school_row(
            Identifiant_de_l_etablissement="0400229G",
            Nom_etablissement="Collège nouveau",
            Code_departement="040",
            Code_academie="04",
        )
    )
    result = import_text(make_csv(rows))
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (1, 2, 5)
    college.refresh_from_db()
    assert college.name == "Collège André Chénier"
    assert college.updated_on == date(2025, 9, 1)
    assert not School.objects.get(uai="0010005A").is_open
    assert School.objects.filter(pk=loan.school_class.school_id).exists()
    again = import_text(make_csv(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)


def test_a_school_made_by_hand_gets_its_directory_data(loan):
    school = loan.school_class.school
    row = school_row(
        Identifiant_de_l_etablissement=school.uai,
        Nom_etablissement="École élémentaire Jean Jaurès",
        Code_departement="075",
        Code_academie="01",
        code_nature="151",
        libelle_nature="ECOLE DE NIVEAU ELEMENTAIRE",
        Type_etablissement="Ecole",
    )
    result = import_text(make_csv([row]))
    assert (result.created, result.updated) == (0, 1)
    school.refresh_from_db()
    assert school.department.code == "75"
    assert school.classes.count() == 1


def test_columns_absent_from_the_file_are_not_erased():
    import_text(make_csv(GOOD_ROWS[:1]))
    header = ["Identifiant_de_l_etablissement", "Nom_etablissement", "Code_departement"]
    result = import_text(make_csv(GOOD_ROWS[:1], header=header))
    assert (result.updated, result.unchanged) == (0, 1)
    college = School.objects.get()
    assert (college.postcode, college.commune, college.kind) == (
        "78200",
        "Mantes-la-Jolie",
        Kind.COLLEGE,
    )


# Académie filter ------------------------------------------------------------------------


def test_the_academie_filter_imports_only_those_academies():
    bad = school_row(
        Identifiant_de_l_etablissement="0400229H", Code_departement="040", Code_academie="04"
    )
    rows = [*GOOD_ROWS, bad]
    # Line 9 is wrong, but it belongs to Bordeaux: filtered out, it does not block Versailles.
    result = import_text(make_csv(rows), academies=["25", "28"])
    assert result.ok, result.errors
    assert (result.created, result.skipped) == (2, 6)
    assert set(School.objects.values_list("department__academy__code", flat=True)) == {
        "25",
        "28",
    }
    bordeaux = import_text(make_csv(rows), academies=["4"])
    assert [error.line for error in bordeaux.errors] == [9]


def test_the_filter_uses_the_departement_when_the_academie_column_is_absent():
    header = [label for label in LABELS if label != "Code_academie"]
    result = import_text(make_csv(GOOD_ROWS, header=header), academies=["27"])
    assert result.ok, result.errors
    assert (result.created, result.skipped) == (1, 6)
    assert School.objects.get().department.code == "2A"


def test_an_unknown_academie_in_the_filter_is_refused():
    with pytest.raises(UnknownAcademy, match="Académie inconnue : 99"):
        import_text(make_csv(GOOD_ROWS), academies=["25", "99"])


# Command --------------------------------------------------------------------------------


def test_the_command_imports_and_says_how_many(tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_text(make_csv(GOOD_ROWS), encoding="utf-8")
    out = StringIO()
    call_command("import_schools", str(path), "--academie", "25", "04", stdout=out)
    assert "3 créés, 0 mis à jour, 0 inchangés" in out.getvalue()
    assert "4 ligne(s) d'autres académies ignorée(s)" in out.getvalue()
    out = StringIO()
    call_command("import_schools", str(path), stdout=out)
    assert "4 créés, 0 mis à jour, 3 inchangés" in out.getvalue()


def test_the_command_lists_errors_and_fails(tmp_path):
    path = tmp_path / "annuaire.csv"
    path.write_text(make_csv([school_row(Code_departement="099")]), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="1 erreur"):
        call_command("import_schools", str(path), stderr=err)
    assert "ligne 2 : département inconnu : 099." in err.getvalue()
    with pytest.raises(CommandError, match="Académie inconnue"):
        call_command("import_schools", str(path), "--academie", "99")
    with pytest.raises(CommandError, match="Fichier illisible"):
        call_command("import_schools", str(tmp_path / "absent.csv"))


# Kinds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        ({"nature_code": "101", "nature_label": "ECOLE MATERNELLE"}, Kind.MATERNELLE),
        ({"nature_code": "151", "nature_label": "ECOLE DE NIVEAU ELEMENTAIRE"}, Kind.ELEMENTAIRE),
        (
            {"nature_code": "151", "maternelle": "1", "elementaire": "1"},
            Kind.PRIMAIRE,
        ),
        ({"nature_code": "151", "name": "École primaire Jules Ferry"}, Kind.PRIMAIRE),
        ({"nature_code": "340", "nature_label": "COLLEGE"}, Kind.COLLEGE),
        ({"nature_code": "300"}, Kind.LYCEE_GT),
        ({"nature_code": "306", "nature_label": "LYCEE POLYVALENT"}, Kind.LYCEE_GT),
        ({"nature_code": "320", "nature_label": "LYCEE PROFESSIONNEL"}, Kind.LYCEE_PRO),
        ({"nature_code": "307"}, Kind.LYCEE_AGRICOLE),
        (
            {"nature_code": "300", "ministry": "MINISTERE DE L'AGRICULTURE"},
            Kind.LYCEE_AGRICOLE,
        ),
        ({"nature_code": "370"}, Kind.EREA),
        ({"nature_code": "340.0"}, Kind.COLLEGE),
        ({"nature_label": "LYCEE D ENSEIGNEMENT GENERAL ET TECHNOLOGIQUE"}, Kind.LYCEE_GT),
        ({"nature_label": "LYCEE PROFESSIONNEL"}, Kind.LYCEE_PRO),
        ({"nature_label": "LYCEE AGRICOLE"}, Kind.LYCEE_AGRICOLE),
        ({"nature_label": "ETAB REGIONAL/LYCEE ENSEIGNEMENT ADAPTE"}, Kind.EREA),
        ({"nature_label": "École maternelle"}, Kind.MATERNELLE),
        ({"type_label": "Collège"}, Kind.COLLEGE),
        ({"type_label": "Lycée"}, Kind.LYCEE_GT),
        ({"type_label": "EREA"}, Kind.EREA),
        ({"type_label": "Ecole", "maternelle": "1", "elementaire": "0"}, Kind.MATERNELLE),
        ({"type_label": "Ecole", "maternelle": "1", "elementaire": "1"}, Kind.PRIMAIRE),
        (
            {"nature_code": "830", "nature_label": "CENTRE D INFORMATION ET D ORIENTATION"},
            Kind.OTHER,
        ),
        ({"type_label": "Information et orientation"}, Kind.OTHER),
        ({"type_label": "Service Administratif"}, Kind.OTHER),
        ({}, Kind.OTHER),
    ],
)
def test_school_kind(row, kind):
    assert school_kind(**row) == kind
