"""The fleet register in real Chromium: a fleet team member records a kit, adds a device,
imports a CSV file (first with an error, then a good one), changes a kit's status and
prints an enrolment label. Each page is checked with axe-core, and its actions are
reached with the keyboard."""

from __future__ import annotations

import re

import pytest

from cartable.fleet.models import Device, EnrolmentCode, Kit, KitStatusChange
from cartable.fleet.services import enrolment_code_hash

from .conftest import assert_accessible
from .helpers import sign_in

pytestmark = pytest.mark.e2e

BAD_CSV = (
    "numero_serie;type;cartable;version_logicielle\n"
    "E2E-TAB-1;Tablette de l'élève;CC-E2E-1;1.0\n"
    "E2E-CAM-1;Caméra volante;CC-E2E-1;1.0\n"
    "E2E-BOX-9;class_box;CC-INCONNU;\n"
).encode()
GOOD_CSV = (
    "\ufeffnumero_serie;type;cartable;version_logicielle\n"
    "E2E-TAB-1;Tablette de l'élève;CC-E2E-1;1.0\n"
    "E2E-CAM-1;Caméra du tableau;CC-E2E-1;1.0\n"
).encode()


def press_tab_until_focused(page, locator, limit: int = 60) -> None:
    """Press Tab from the top of the page until ``locator`` has the focus: it is reachable
    with the keyboard alone."""
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"not reached with Tab: {locator}")


def activate(page, locator) -> None:
    press_tab_until_focused(page, locator)
    page.keyboard.press("Enter")


def upload(page, name: str, content: bytes) -> None:
    page.get_by_label("Fichier CSV des appareils").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    activate(page, page.get_by_role("button", name="Importer"))


def test_a_fleet_team_member_runs_the_register(asgi_server, new_page, fleet):
    url = asgi_server.url
    page = new_page()
    sign_in(page, asgi_server, fleet)
    page.wait_for_url(f"{url}/")
    activate(page, page.get_by_role("link", name="Registre du parc"))
    page.wait_for_url(f"{url}/parc/cartables/")
    assert_accessible(page)

    # A new kit: first without anything, so the errors are checked too.
    activate(page, page.get_by_role("link", name="Enregistrer un cartable"))
    page.wait_for_url(f"{url}/parc/cartables/nouveau/")
    assert_accessible(page)
    activate(page, page.get_by_role("button", name="Enregistrer le cartable"))
    assert "Indiquez la référence du cartable." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Génération").select_option("G3")
    page.get_by_label("Référence du cartable").fill("CC-E2E-1")
    page.get_by_label("Référence du cartable").press("Enter")
    page.wait_for_url(re.compile(r".*/parc/cartables/\d+/$"))
    kit = Kit.objects.get(code="CC-E2E-1")
    assert page.url == f"{url}/parc/cartables/{kit.pk}/"
    assert "Le cartable CC-E2E-1 est enregistré" in page.locator("#page-status").inner_text()
    assert_accessible(page)

    # A device, from the kit page: the kit is already filled in.
    activate(page, page.get_by_role("link", name="Ajouter un appareil à ce cartable"))
    assert page.get_by_label("Référence du cartable").input_value() == "CC-E2E-1"
    assert_accessible(page)
    page.get_by_label("Type d'appareil").select_option(label="Boîtier de classe")
    page.get_by_label("Numéro de série").fill("E2E-BOX-1")
    page.get_by_label("Version logicielle").fill("5.2.1")
    activate(page, page.get_by_role("button", name="Ajouter l'appareil"))
    page.wait_for_url(f"{url}/parc/cartables/{kit.pk}/")
    manage = page.get_by_role("region", name="Gestion du cartable CC-E2E-1")
    assert manage.get_by_role("row", name=re.compile("E2E-BOX-1")).is_visible()
    assert_accessible(page)

    # A CSV file with errors imports nothing and names each bad line; the fixed one imports.
    page.goto(f"{url}/parc/cartables/")
    activate(page, page.get_by_role("link", name="Importer des appareils (CSV)"))
    page.wait_for_url(f"{url}/parc/appareils/import/")
    assert_accessible(page)
    upload(page, "appareils.csv", BAD_CSV)
    alert = page.get_by_role("alert").inner_text()
    assert "Rien n'a été importé : 2 problèmes" in alert
    assert "Ligne 3 : type d'appareil inconnu : Caméra volante" in alert
    assert "Ligne 4 : cartable inconnu : CC-INCONNU" in alert
    assert not Device.objects.filter(serial__startswith="E2E-TAB").exists()
    assert_accessible(page)
    upload(page, "appareils.csv", GOOD_CSV)
    assert "2 appareils ajoutés" in page.locator("#import-status").inner_text()
    assert Device.objects.filter(kit=kit).count() == 3
    assert_accessible(page)

    # A change of status by hand, from the kit page.
    page.goto(f"{url}/parc/cartables/{kit.pk}/")
    options = page.get_by_label("Nouveau statut").locator("option").all_inner_texts()
    # Reserved comes only with a loan: by hand, repair or retirement.
    assert options == ["Choisissez le statut", "En réparation", "Réformé"]
    page.get_by_label("Nouveau statut").select_option(label="En réparation")
    page.get_by_label("Remarque").fill("Caméra à changer")
    activate(page, page.get_by_role("button", name="Changer le statut"))
    page.wait_for_url(f"{url}/parc/cartables/{kit.pk}/")
    assert "maintenant « En réparation »" in page.locator("#page-status").inner_text()
    change = KitStatusChange.objects.filter(kit=kit).last()
    assert (change.to_status, change.note, change.by) == ("in_repair", "Caméra à changer", fleet)
    assert_accessible(page)

    # The register lists the kit with its new status and its three devices.
    page.goto(f"{url}/parc/cartables/?statut=in_repair")
    row = page.get_by_role("row", name=re.compile("CC-E2E-1"))
    assert "En réparation" in row.inner_text() and "3" in row.inner_text()
    assert_accessible(page)

    # The enrolment label of the box: the code, once, with its QR code, ready to print.
    page.goto(f"{url}/parc/cartables/{kit.pk}/")
    activate(page, page.get_by_role("link", name="Étiquette d'enrôlement de l'appareil E2E-BOX-1"))
    assert "Aucun code d'enrôlement en attente" in page.locator("main").inner_text()
    assert_accessible(page)
    activate(page, page.get_by_role("button", name="Créer l'étiquette"))
    code = page.locator("#enrolment-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    assert page.locator("#label svg").is_visible()
    label = page.locator("#label").inner_text()
    assert "E2E-BOX-1" in label and "CC-E2E-1" in label
    device = Device.objects.get(serial="E2E-BOX-1")
    assert EnrolmentCode.objects.get(device=device).code_hash == enrolment_code_hash(code)
    print_button = page.get_by_role("button", name="Imprimer l'étiquette")
    assert print_button.is_visible()  # shown by the page's script
    press_tab_until_focused(page, print_button)
    assert_accessible(page)
    page.emulate_media(media="print")
    assert page.locator("#label").is_visible()
    assert page.locator(".site-header").is_hidden()
    assert page.get_by_role("button", name="Créer une nouvelle étiquette").is_hidden()
    page.emulate_media(media="screen")

    # Shown once: opened again, the page keeps the code to itself.
    page.goto(f"{url}/parc/appareils/{device.pk}/etiquette/")
    assert code not in page.content()
    assert "n'a pas encore servi" in page.locator("main").inner_text()
