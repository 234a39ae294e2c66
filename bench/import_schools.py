"""School import: a national-size directory CSV into a fresh database. Prints figures;
asserts nothing.

    cd /work/main && .venv/bin/python bench/import_schools.py [--rows 60000]
        [--database-url postgres://…]   (a throwaway database: it is migrated and filled)

It writes a realistic "Annuaire de l'éducation" export (the 72 labelled columns, `;`, a
BOM, three-character département codes, valid UAIs with their check letter spread over the
101 départements in proportions close to the real ones, about 1 % of multi-site rows) into
a temporary directory, migrates a fresh SQLite database there (CARTABLE_VAR_DIR is set
before Django starts), and times three imports of the same file: the first (every school
created), the same file again (every school unchanged), and a file where every name has
changed (every school updated).

Target to compare against: 30 s for the first import on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 30.0

# The 72 column labels of the current export, in the API record's order.
LABELS = [
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Statut_public_prive",
    "Adresse_1",
    "Adresse_2",
    "Adresse_3",
    "Code_postal",
    "Code_commune",
    "Nom_commune",
    "Code_departement",
    "Code_academie",
    "Code_region",
    "Ecole_maternelle",
    "Ecole_elementaire",
    "Voie_generale",
    "Voie_technologique",
    "Voie_professionnelle",
    "Telephone",
    "Fax",
    "Web",
    "Mail",
    "Restauration",
    "Hebergement",
    "ULIS",
    "Apprentissage",
    "Segpa",
    "Section_arts",
    "Section_cinema",
    "Section_theatre",
    "Section_sport",
    "Section_internationale",
    "Section_europeenne",
    "Lycee_Agricole",
    "Lycee_militaire",
    "Lycee_des_metiers",
    "Post_BAC",
    "Appartenance_Education_Prioritaire",
    "GRETA",
    "SIREN_SIRET",
    "Nombre_d_eleves",
    "Fiche_onisep",
    "position",
    "Type_contrat_prive",
    "Libelle_departement",
    "Libelle_academie",
    "Libelle_region",
    "coordX_origine",
    "coordY_origine",
    "epsg_origine",
    "nom_circonscription",
    "latitude",
    "longitude",
    "precision_localisation",
    "date_ouverture",
    "date_maj_ligne",
    "etat",
    "ministere_tutelle",
    "multi_uai",
    "rpi_concentre",
    "rpi_disperse",
    "code_nature",
    "libelle_nature",
    "Code_type_contrat_prive",
    "PIAL",
    "etablissement_mere",
    "type_rattachement_etablissement_mere",
    "code_circonscription",
    "code_zone_animation_pedagogique",
    "libelle_zone_animation_pedagogique",
    "code_bassin_formation",
    "libelle_bassin_formation",
]
assert len(LABELS) == 72

# (code_nature, libelle_nature, type_etablissement, share of the directory), roughly as in
# the real file: about 65,000 rows, most of them schools.
NATURES = [
    ("101", "ECOLE MATERNELLE", "Ecole", 0.22),
    ("151", "ECOLE DE NIVEAU ELEMENTAIRE", "Ecole", 0.52),
    ("340", "COLLEGE", "Collège", 0.11),
    ("300", "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE", "Lycée", 0.025),
    ("306", "LYCEE POLYVALENT", "Lycée", 0.02),
    ("320", "LYCEE PROFESSIONNEL", "Lycée", 0.02),
    ("307", "LYCEE ENS GENERAL TECHNO PROF AGRICOLE", "Lycée", 0.004),
    ("370", "ETAB REGIONAL/LYCEE ENSEIGNEMENT ADAPTE", "EREA", 0.001),
    ("830", "CENTRE D INFORMATION ET D ORIENTATION", "Information et orientation", 0.008),
    ("410", "INSTITUT MEDICO-EDUCATIF", "Médico-social", 0.02),
    ("550", "CIRCONSCRIPTIONS INSPECTION EDUC NAT", "Service Administratif", 0.02),
]
BIG = {"59": 4, "75": 3, "13": 3, "69": 3, "62": 3, "93": 2.5, "92": 2.5, "33": 2.5, "78": 2.5}
SMALL = {"48": 0.3, "23": 0.4, "90": 0.4, "2A": 0.5, "2B": 0.5, "976": 0.8, "973": 0.8}
STREETS = ["rue Jean Jaurès", "avenue de la République", "place de l'Église", "rue Victor Hugo"]
PATRONS = ["Jules Ferry", "Jean Moulin", "Louise Michel", "Victor Hugo", "Marie Curie", "du Parc"]


def uai_prefix(department: str) -> str:
    if department == "2A":
        return "620"
    if department == "2B":
        return "720"
    return department if len(department) == 3 else "0" + department


def directory_code(department: str) -> str:
    return department if len(department) == 3 else "0" + department  # 078, 02A, 974


def write_directory(
    path: Path, rows: int, *, seed: int = 2026, rename: bool = False
) -> tuple[int, int]:
    """Write a directory CSV of about ``rows`` rows; returns (schools, rows written)."""
    from cartable.organisation.services import academies_read
    from cartable.organisation.validators import uai_check_letter

    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    departments = [
        (department, academy)
        for academy in academies_read()
        for department in academy.department_codes
    ]
    weights = [BIG.get(d, SMALL.get(d, 1.0)) for d, _ in departments]
    natures = [n[:3] for n in NATURES]
    nature_weights = [n[3] for n in NATURES]
    distinct = int(rows / 1.01)
    numbers: dict[str, int] = {}
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(LABELS)
        for (department, academy), (code, label, kind) in zip(
            rng.choices(departments, weights, k=distinct),
            rng.choices(natures, nature_weights, k=distinct),
            strict=True,
        ):
            prefix = uai_prefix(department)
            numbers[prefix] = numbers.get(prefix, 0) + 1 + rng.randrange(3)
            digits = f"{prefix}{numbers[prefix]:04d}"
            uai = digits + uai_check_letter(digits)
            name = f"{label.title()} {rng.choice(PATRONS)}{' (2)' if rename else ''}"
            postcode = (
                "20" + f"{rng.randrange(1000):03d}"
                if department in ("2A", "2B")
                else f"{department}{rng.randrange(1000):03d}"[:5].ljust(5, "0")
            )
            commune_code = postcode if department not in ("2A", "2B") else department + "004"
            values = dict.fromkeys(LABELS, "")
            values.update(
                {
                    "Identifiant_de_l_etablissement": uai,
                    "Nom_etablissement": name,
                    "Type_etablissement": kind,
                    "Statut_public_prive": rng.choice(["Public"] * 4 + ["Privé"]),
                    "Adresse_1": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                    "Code_postal": postcode,
                    "Code_commune": commune_code,
                    "Nom_commune": f"Commune {commune_code}",
                    "Code_departement": directory_code(department),
                    "Code_academie": academy.code,
                    "Ecole_maternelle": "1" if code in ("101", "151") else "",
                    "Ecole_elementaire": "1" if code == "151" else "",
                    "Telephone": f"01{rng.randrange(10**8):08d}",
                    "Mail": f"ce.{uai.lower()}@ac-exemple.fr",
                    "Restauration": str(rng.randrange(2)),
                    "Nombre_d_eleves": str(rng.randrange(40, 1200)),
                    "Type_contrat_prive": "SANS OBJET",
                    "Libelle_departement": f"Département {department}",
                    "Libelle_academie": academy.name,
                    "latitude": f"{rng.uniform(42, 51):.6f}",
                    "longitude": f"{rng.uniform(-4, 8):.6f}",
                    "position": "",
                    "epsg_origine": "EPSG:2154",
                    "date_ouverture": "1965-09-01",
                    "date_maj_ligne": "2026-06-30",
                    "etat": rng.choice(["OUVERT"] * 60 + ["A FERMER", "FERME"]),
                    "ministere_tutelle": "MINISTERE DE L'EDUCATION NATIONALE",
                    "multi_uai": "0",
                    "code_nature": code,
                    "libelle_nature": label,
                    "Code_type_contrat_prive": "99",
                }
            )
            line = [values[label] for label in LABELS]
            writer.writerow(line)
            written += 1
            if rng.random() < 0.01:  # a multi-site school: the same school, another site
                values["multi_uai"] = "1"
                values["Adresse_1"] = f"{rng.randrange(1, 120)} {rng.choice(STREETS)}"
                writer.writerow([values[label] for label in LABELS])
                written += 1
    return distinct, written


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument(
        "--database-url", help="a throwaway database instead of a fresh SQLite file"
    )
    parser.add_argument("--keep", action="store_true", help="keep the files and database")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cartable-bench-import-"))
    # Before Django starts: a fresh SQLite database in the temporary directory.
    os.environ["CARTABLE_VAR_DIR"] = str(work)
    os.environ.pop("SQLITE_PATH", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cartable.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cartable.organisation.importers import schools_import
    from cartable.organisation.models import School

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started

    first, renamed = work / "annuaire.csv", work / "annuaire-renamed.csv"
    started = time.perf_counter()
    distinct, written = write_directory(first, args.rows)
    write_directory(renamed, args.rows, rename=True)
    generate_seconds = time.perf_counter() - started
    size_mb = first.stat().st_size / 1e6

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        database = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = getattr(connection, "pg_version", None)
        database = f"{connection.display_name} {version or ''}".strip()
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu_model()}")
    print(f"python {platform.python_version()}, django {django.get_version()}, {database}")
    print(
        f"file: {written} rows ({distinct} schools, {written - distinct} multi-site rows), "
        f"{size_mb:.1f} MB, generated twice in {generate_seconds:.1f} s; "
        f"migrate {migrate_seconds:.1f} s"
    )

    runs = [
        ("first import (all created)", first),
        ("same file again (all unchanged)", first),
        ("every name changed (all updated)", renamed),
    ]
    first_seconds = None
    for label, path in runs:
        started = time.perf_counter()
        result = schools_import(file=path)
        seconds = time.perf_counter() - started
        if not result.ok:
            print(f"{label}: REFUSED, {len(result.errors)} errors, first: {result.errors[0]}")
            sys.exit(1)
        first_seconds = first_seconds or seconds
        print(
            f"{label:34} {seconds:6.2f} s  {written / seconds:8.0f} rows/s  "
            f"created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, duplicates {result.duplicates}"
        )
    print(f"schools in the database: {School.objects.count()}")
    if connection.vendor == "sqlite":
        verdict = "within" if first_seconds <= TARGET_SECONDS else "OVER"
        print(f"target: first import ≤ {TARGET_SECONDS:.0f} s on SQLite: {verdict}")
    connection.close()
    if args.keep:
        print(f"(files and database kept in {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
