"""Devices imported from a CSV file: all or nothing, every bad line named with its reason."""

from __future__ import annotations

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cartable.fleet import services
from cartable.fleet.importers import devices_import
from cartable.fleet.models import Device, Kit

from ..conftest import force_login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def kits(db):
    g3 = services.kit_create(code="CC-G3-0142")
    v5 = services.kit_create(code="CC-V5-0007", generation=Kit.Generation.V5)
    retired = services.kit_create(code="CC-OLD")
    services.kit_set_status(kit=retired, to=Kit.Status.RETIRED)
    return {"g3": g3, "v5": v5, "retired": retired}


def run(content: str | bytes):
    data = content.encode() if isinstance(content, str) else content
    return devices_import(file=io.BytesIO(data))


def lines(result) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in result.errors]


GOOD = (
    "numero_serie;type;cartable;version_logicielle\n"
    "BOX-1;Boîtier de classe;CC-G3-0142;5.2.1\n"
    "TAB-1;tablette de l’élève;cc-g3-0142;\n"  # label without case, typographic apostrophe
    "CAM-1;board_camera;CC-V5-0007;1.0\n"
    "\n"  # a blank line is skipped
    "R-1;ROUTEUR 4G;;\n"  # no kit: in stock on its own
)


def test_a_good_file_creates_every_device(kits):
    result = run("\ufeff" + GOOD)  # with a byte-order mark, as spreadsheets save it
    assert result.ok, lines(result)
    assert result.created == 4
    got = {
        d.serial: (d.kind, d.kit.code if d.kit else None, d.software_version)
        for d in Device.objects.select_related("kit")
    }
    assert got == {
        "BOX-1": ("class_box", "CC-G3-0142", "5.2.1"),
        "TAB-1": ("pupil_tablet", "CC-G3-0142", ""),
        "CAM-1": ("board_camera", "CC-V5-0007", "1.0"),
        "R-1": ("router_4g", None, ""),
    }


def test_commas_columns_in_another_order_and_headers_with_accents(kits):
    content = (
        "Type,Numéro série,Version logicielle,Cartable\r\n"
        "Caméra de la classe,CAM-2,2.0,CC-V5-0007\r\n"
        "other,X-1,,\r\n"
    )
    result = run(content)
    assert result.ok, lines(result)
    assert Device.objects.get(serial="CAM-2").kind == "class_camera"
    assert Device.objects.get(serial="X-1").kind == "other"


def test_only_serial_and_type_columns_are_needed(kits):
    result = run("numero_serie;type\nT-9;Tablette de l'enseignant\n")
    assert result.ok and result.created == 1
    assert Device.objects.get(serial="T-9").kit is None


def test_every_bad_line_is_listed_and_nothing_is_imported(kits):
    services.device_create(kind="class_box", serial="TAKEN-1")
    content = (
        "numero_serie;type;cartable;version_logicielle\n"
        "OK-1;class_box;CC-G3-0142;1\n"  # 2: good
        "OK-2;drone;CC-G3-0142;1\n"  # 3: unknown type
        ";class_box;CC-G3-0142;1\n"  # 4: no serial
        "OK-3;pupil_tablet;CC-9999;1\n"  # 5: unknown kit
        "ok-1;router_4g;;\n"  # 6: serial already in the file (other case)
        "taken-1;router_4g;;\n"  # 7: serial already in the register
        "OK-4;class_box;CC-OLD;\n"  # 8: retired kit
        "OK-5;class_box\n"  # 9: a column short
        "OK 6;;;\n"  # 10: space in the serial, no type
        f"OK-7;class_box;;{'9' * 41}\n"  # 11: version too long
    )
    result = run(content)
    assert not result.ok
    got = lines(result)
    assert [line for line, _ in got] == [3, 4, 5, 6, 7, 8, 9, 10, 10, 11]
    messages = dict(got)
    assert messages[3].startswith("type d'appareil inconnu : drone (attendu : Boîtier de classe,")
    assert messages[4] == "numéro de série manquant."
    assert messages[5] == "cartable inconnu : CC-9999 (créez-le d'abord dans le registre)."
    assert messages[6] == "le numéro de série ok-1 figure déjà ligne 2."
    assert messages[7] == "un appareil du registre porte déjà le numéro de série TAKEN-1."
    assert messages[8] == "le cartable CC-OLD est réformé."
    assert messages[9] == "la ligne a 2 colonnes au lieu de 4."
    assert [m for line, m in got if line == 10] == [
        "le numéro de série ne peut contenir que des lettres sans accent, des chiffres et les "
        "signes - _ . / (sans espace).",
        "type d'appareil manquant.",
    ]
    assert messages[11] == "version logicielle trop longue (40 caractères au plus)."
    assert list(Device.objects.values_list("serial", flat=True)) == ["TAKEN-1"]


def test_a_file_without_the_required_columns_is_refused(kits):
    result = run("serial,kind\nA,class_box\n")
    assert [line for line, _ in lines(result)] == [1, 1]
    assert "colonne obligatoire absente : numero_serie." in result.errors[0].message
    assert "colonne obligatoire absente : type." in result.errors[1].message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", (1, "le fichier est vide.")),
        (b"numero_serie;type\n", (2, "le fichier ne contient aucun appareil.")),
        (
            "numero_serie;type\nBOÎTE-1;class_box\n".encode("latin-1"),
            (
                2,
                "le fichier n'est pas encodé en UTF-8 (caractère illisible) : enregistrez-le "
                "au format « CSV UTF-8 ».",
            ),
        ),
    ],
)
def test_empty_and_unreadable_files_are_refused(kits, content, expected):
    result = run(content)
    assert lines(result) == [expected]
    assert not Device.objects.exists()


# Through the page ---------------------------------------------------------------------------


def upload(client, content: str):
    file = SimpleUploadedFile("appareils.csv", content.encode(), content_type="text/csv")
    return client.post("/parc/appareils/import/", {"file": file})


def test_the_fleet_team_imports_a_file_and_sees_every_bad_line(fleet, kits):
    client = Client()
    force_login(client, fleet)
    assert "numero_serie;type;cartable;version_logicielle" in html.unescape(
        client.get("/parc/appareils/import/").content.decode()
    )
    bad = "numero_serie;type;cartable\nA-1;class_box;CC-X\nA-2;boat;CC-G3-0142\n"
    response = upload(client, bad)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Rien n'a été importé : 2 problèmes à corriger dans le fichier." in page
    assert "Ligne 2 : cartable inconnu : CC-X" in page
    assert "Ligne 3 : type d'appareil inconnu : boat" in page
    assert not Device.objects.exists()

    response = upload(client, GOOD)
    assert response.status_code == 200
    assert "Import terminé : 4 appareils ajoutés au registre." in html.unescape(
        response.content.decode()
    )
    assert Device.objects.count() == 4


def test_posting_no_file_says_so(fleet, kits):
    client = Client()
    force_login(client, fleet)
    response = client.post("/parc/appareils/import/", {})
    assert response.status_code == 400
    assert "Choisissez le fichier à importer." in html.unescape(response.content.decode())
