"""Directory ("Annuaire de l'éducation") CSV rows and files for the import tests."""

from __future__ import annotations

import csv
import io

from cartable.organisation.validators import uai_check_letter

LABELS = [
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Code_postal",
    "Nom_commune",
    "Code_departement",
    "Libelle_departement",
    "Code_academie",
    "etat",
    "date_maj_ligne",
    "code_nature",
    "libelle_nature",
]
API_FIELDS = [label.lower() for label in LABELS]


def uai(digits: str) -> str:
    """A valid UAI from its seven digits."""
    return digits + uai_check_letter(digits)


def school_row(**overrides) -> dict[str, str]:
    """One directory row, as a dict keyed by label: a collège in Mantes-la-Jolie."""
    row = {
        "Identifiant_de_l_etablissement": "0783774D",
        "Nom_etablissement": "Nouveau collège André Chénier",
        "Type_etablissement": "Collège",
        "Code_postal": "78200",
        "Nom_commune": "Mantes-la-Jolie",
        "Code_departement": "078",
        "Libelle_departement": "Yvelines",
        "Code_academie": "25",
        "etat": "OUVERT",
        "date_maj_ligne": "2024-12-31",
        "code_nature": "340",
        "libelle_nature": "COLLEGE",
    }
    row.update(overrides)
    return row


def make_csv(
    rows: list[dict[str, str]], *, header: list[str] = LABELS, delimiter: str = ";"
) -> str:
    """A CSV text with ``header`` (labels, field names, or a mix); rows are keyed by label and
    written in header order, a column missing from the header is left out."""

    def key(name: str) -> str:
        return name.lower().replace(" ", "_")

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        keyed = {key(label): value for label, value in row.items()}
        writer.writerow([keyed.get(key(column), "") for column in header])
    return out.getvalue()


# Real schools (UAIs from REFERENCE.md, all with a correct check letter). The three first
# are described as in the directory; the Landes schools' names are placeholders.
GOOD_ROWS = [
    school_row(),
    school_row(
        Identifiant_de_l_etablissement="0010005A",
        Nom_etablissement="Collège Roger Poulnard",
        Code_postal="01380",
        Nom_commune="Bâgé-Dommartin",
        Code_departement="001",
        Libelle_departement="Ain",
        Code_academie="10",
    ),
    school_row(
        Identifiant_de_l_etablissement="0301674G",
        Nom_etablissement="Ecole primaire",
        Type_etablissement="Ecole",
        Code_postal="30460",
        Nom_commune="Lasalle",
        Code_departement="030",
        Libelle_departement="Gard",
        Code_academie="11",
        code_nature="151",
        libelle_nature="ECOLE DE NIVEAU ELEMENTAIRE",
    ),
    school_row(
        Identifiant_de_l_etablissement="0400193T",
        Nom_etablissement="École maternelle des Pins",
        Type_etablissement="Ecole",
        Code_postal="40000",
        Nom_commune="Mont-de-Marsan",
        Code_departement="040",
        Libelle_departement="Landes",
        Code_academie="04",
        etat="A FERMER",
        code_nature="101",
        libelle_nature="ECOLE MATERNELLE",
    ),
    school_row(
        Identifiant_de_l_etablissement="0400219W",
        Nom_etablissement="Lycée professionnel des Landes",
        Type_etablissement="Lycée",
        Code_postal="40100",
        Nom_commune="Dax",
        Code_departement="040",
        Libelle_departement="Landes",
        Code_academie="04",
        etat="FERME",
        code_nature="320",
        libelle_nature="LYCEE PROFESSIONNEL",
    ),
    school_row(
        Identifiant_de_l_etablissement=uai("6200001"),
        Nom_etablissement="Lycée de Corse-du-Sud",
        Type_etablissement="Lycée",
        Code_postal="20000",
        Nom_commune="Ajaccio",
        Code_departement="02A",
        Libelle_departement="Corse-du-Sud",
        Code_academie="27",
        code_nature="300",
        libelle_nature="LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE",
    ),
    school_row(
        Identifiant_de_l_etablissement=uai("9740001"),
        Nom_etablissement="EREA de La Réunion",
        Type_etablissement="EREA",
        Code_postal="97400",
        Nom_commune="Saint-Denis",
        Code_departement="974",
        Libelle_departement="La Réunion",
        Code_academie="28",
        code_nature="370",
        libelle_nature="ETAB REGIONAL/LYCEE ENSEIGNEMENT ADAPTE",
    ),
]
