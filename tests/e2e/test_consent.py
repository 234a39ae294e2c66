"""Authorisations before the first lesson, in real Chromium: the class station says what is
missing and cannot start; the coordinator records the four authorisations; then it starts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cartable.fleet.models import Loan
from cartable.live.models import LiveSession

from .conftest import assert_accessible
from .helpers import open_station, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loan(make_loan) -> Loan:
    """A running loan whose authorisations are not recorded yet."""
    return make_loan(authorised=False)


def test_station_waits_for_the_authorisations_the_coordinator_records(
    asgi_server, new_page, loan, teacher, coordinator
):
    station = open_station(new_page(), asgi_server, teacher, loan)
    missing = station.locator("#consent-missing")
    for label in ("l'autorisation des représentants légaux", "l'information des familles"):
        assert label in missing.inner_text()
    assert_accessible(station)

    # The teacher tries anyway: the server refuses and the station says what is missing.
    station.get_by_role("button", name="Démarrer la séance").click()
    status = station.locator("#live-status")
    status.filter(has_text="La séance ne peut pas démarrer : il manque").wait_for()
    assert "l'accord de l'élève" in status.inner_text()
    assert status.get_attribute("role") == "status"
    assert not LiveSession.objects.filter(loan=loan).exists()
    assert_accessible(station)

    # The coordinator records them, from their home page.
    coordo = new_page()
    sign_in(coordo, asgi_server, coordinator)
    coordo.get_by_role("link", name=f"Autorisations pour {loan.pupil.display_name}").click()
    coordo.get_by_role("heading", name="Autorisation des représentants légaux").wait_for()
    assert_accessible(coordo)

    today = timezone.localdate().isoformat()
    # A wrong answer first: a French message, tied to its field, and nothing written.
    coordo.get_by_label("Date de la signature").fill(today)
    coordo.get_by_role("button", name="Enregistrer l'autorisation").click()
    coordo.get_by_role("alert").filter(has_text="Choisissez qui a signé.").wait_for()
    assert coordo.get_by_label("Signée par").get_attribute("aria-invalid") == "true"
    assert_accessible(coordo)

    coordo.get_by_label("Date de la signature").fill(today)
    coordo.get_by_label("Signée par").select_option(label="Mère")
    coordo.get_by_label("Forme de la signature").select_option(label="Sur papier")
    coordo.get_by_role("button", name="Enregistrer l'autorisation").click()
    coordo.locator("#page-status").filter(has_text="Autorisation des représentants").wait_for()

    coordo.get_by_label("Date de l'accord de l'élève").fill(today)
    coordo.get_by_label("Recueilli").select_option(label="À l'oral")
    coordo.get_by_label("Le texte ci-dessus a été présenté").check()
    coordo.get_by_role("button", name="Enregistrer l'accord de l'élève").click()
    coordo.locator("#page-status").filter(has_text="Accord de l'élève enregistré.").wait_for()

    coordo.get_by_label("Date de l'accord de l'enseignant·e").fill(today)
    coordo.get_by_role("button", name="Enregistrer l'accord de l'enseignant·e").click()
    coordo.locator("#page-status").filter(has_text="Accord de l'enseignant·e").wait_for()

    coordo.get_by_label("Date de l'information des familles").fill(today)
    coordo.get_by_label("Informées par").select_option(label="Cahier de liaison")
    coordo.get_by_role("button", name="Enregistrer l'information des familles").click()
    coordo.locator("#consent-complete").wait_for()

    coordo.get_by_label("Des élèves de la classe doivent-ils rester").select_option(label="Oui")
    coordo.get_by_label("Combien d'élèves (facultatif)").fill("2")
    coordo.get_by_role("button", name="Enregistrer la réponse").click()
    coordo.locator("#page-status").filter(has_text="cadrage").wait_for()
    assert "Oui : 2 élèves hors du champ" in coordo.locator("#current-frame").inner_text()
    assert_accessible(coordo)

    # The station, reloaded: nothing missing, the frame reminder, and the lesson starts.
    station.reload()  # the cameras chosen are remembered on this tablet
    station.wait_for_function("() => window.cartableLink && window.cartableLink.ws")
    assert station.locator("#consent-missing").count() == 0
    assert (
        "Certains élèves ne doivent pas apparaître à l'image : cadrez la caméra de la classe "
        "en conséquence." in station.locator("#frame-reminder").inner_text()
    )
    assert_accessible(station)
    station.get_by_role("button", name="Démarrer la séance").click()
    station.locator("#live-status").filter(has_text="Séance démarrée.").wait_for()
    assert LiveSession.objects.filter(loan=loan, ended_at__isnull=True).count() == 1
    assert_accessible(station)
